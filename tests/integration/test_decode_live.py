"""``pygluster decode`` against tshark on a live capture of libgfapi (qemu) traffic.

One capture per session: dumpcap on ``lo`` while ``qemu-img create`` and one
``qemu-io`` run (write, read, discard) work on a fresh image of pyg_single.
Then our decoder and tshark must report the same RPC messages (every xid,
program and procedure, per TCP connection), and every fop v400 record must
decode completely.

Other tests and benchmarks may be using the cluster at the same time, so the
capture holds their connections too. Their bulk data is kept out by the
capture filter (frames above 16 KiB are not captured; qemu's I/O here is 4 KiB)
which leaves holes in *their* streams: the comparison covers every connection
we decoded without a hole, and the test insists that qemu's own connections
(found by the ``process-name`` gfapi sends in SETVOLUME) are among them.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from pygluster.capture.decode import Message, decode_capture
from tests.integration.conftest import qemu, run_cli

if TYPE_CHECKING:
    from pathlib import Path

# tshark's one-line-per-frame field output, with every RPC message of a frame.
_TSHARK_FIELDS = ("tcp.stream", "rpc.xid", "rpc.program", "rpc.procedure", "rpc.msgtyp")
_MAX_CAPTURED_FRAME = 16384
_FOP_PROGRAM = 1298437


def _wait_for(path: Path, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.05)
    raise AssertionError(f"capture did not start: {path.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def capture(host: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Capture qemu-img create + one qemu-io run; return paths and names."""
    capturer = shutil.which("dumpcap") or shutil.which("tshark")
    assert capturer, "dumpcap or tshark is needed to capture"
    assert os.geteuid() == 0, "capturing on lo needs root"
    workdir = tmp_path_factory.mktemp("decode-live")
    pcap = workdir / "qemu.pcapng"
    log = workdir / "capture.log"
    name = f"decode-{uuid.uuid4().hex[:12]}.img"
    uri = f"gluster://{host}/pyg_single/{name}"
    bpf = f"(tcp port 24007 or portrange 49152-60999) and len <= {_MAX_CAPTURED_FRAME}"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            # No "-B 1024": with a 1 GiB buffer dumpcap 4.0 lost every packet
            # of qemu-img's connections here (3 tries of 3), while the default
            # buffer kept them; the size filter keeps the rate low anyway.
            [capturer, "-i", "lo", "-f", bpf, "-w", str(pcap)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(log, "Capturing on", timeout=20)
        time.sleep(2)  # the kernel filter is attached a moment after the line
        created = qemu("qemu-img", "create", "-f", "raw", uri, "1M")
        assert created.returncode == 0, created.stderr
        io = qemu(
            "qemu-io",
            "-f",
            "raw",
            "-c",
            "write -P 0xcd 0 4k",
            "-c",
            "read -P 0xcd 0 4k",
            "-c",
            "discard 0 4k",
            uri,
        )
        assert io.returncode == 0, io.stderr
        assert "Pattern verification failed" not in io.stdout, io.stdout
        time.sleep(1)  # let the last FINs and replies reach the capture
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert pcap.exists(), log.read_text()
    assert pcap.stat().st_size > 0, log.read_text()
    return {"pcap": pcap, "log": log, "name": name, "uri": uri}


@pytest.fixture(scope="module")
def messages(capture: dict[str, Any]) -> list[Message]:
    return list(decode_capture(capture["pcap"].read_bytes()))


def _tshark_messages(pcap: Path) -> dict[int, list[tuple[int, int, int | None, str]]]:
    """Per tcp.stream: (xid, program, procedure, call/reply) as tshark sees them."""
    fields = [arg for field in _TSHARK_FIELDS for arg in ("-e", field)]
    result = subprocess.run(
        [
            "tshark",
            "-n",
            "-r",
            str(pcap),
            "-Y",
            "rpc",
            "-T",
            "fields",
            *fields,
            "-E",
            "occurrence=a",
            "-E",
            "aggregator=,",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    streams: dict[int, list[tuple[int, int, int | None, str]]] = (
        collections.defaultdict(list)
    )
    for line in result.stdout.splitlines():
        stream, xids, progs, procs, types = (line.split("\t") + [""] * 5)[:5]
        xid_list = [int(x, 16) for x in xids.split(",") if x]
        prog_list = [int(p) for p in progs.split(",") if p]
        proc_list = [int(p) for p in procs.split(",") if p]
        type_list = ["call" if t == "0" else "reply" for t in types.split(",") if t]
        # tshark lists rpc.program/rpc.procedure for calls and for the replies
        # whose call it saw; match them up message by message.
        for index, xid in enumerate(xid_list):
            prog = prog_list[index] if index < len(prog_list) else -1
            proc = proc_list[index] if index < len(proc_list) else None
            kind = type_list[index] if index < len(type_list) else "?"
            streams[int(stream)].append((xid, prog, proc, kind))
    return streams


def _connections(pcap: Path) -> list[Any]:
    from pygluster.capture.decode import Decoder
    from pygluster.capture.pcap import read_segments

    decoder = Decoder()
    for segment in read_segments(pcap.read_bytes()):
        decoder.feed(segment)
    return list(decoder.connections)


def _qemu_connections(messages: list[Message]) -> dict[int, str]:
    """Brick connections of our qemu processes: conn id -> process-name."""
    found: dict[int, str] = {}
    for message in messages:
        if message.name != "SETVOLUME" or message.type != "call":
            continue
        values = message.fields.get("dict", {})
        process = values.get("process-name", {}).get("value")
        volume = values.get("volfile-key", {}).get("value")
        if process in ("gfapi.qemu-img", "gfapi.qemu-io") and volume == "pyg_single":
            found[message.conn] = process
    return found


def test_decode_matches_tshark(capture: dict[str, Any], messages: list[Message]):
    ours: dict[int, list[tuple[int, int, int | None, str]]] = collections.defaultdict(
        list
    )
    holes: set[int] = set()
    with_syn = {conn.id for conn in _connections(capture["pcap"]) if conn.syn_seen}
    for message in messages:
        if message.type == "stream":
            if message.error is not None:
                holes.add(message.conn)
            continue
        assert message.xid is not None
        prog = message.prog if message.prog is not None else -1
        ours[message.conn].append((message.xid, prog, message.proc, message.type))
    qemu_conns = _qemu_connections(messages)
    assert sorted(qemu_conns.values()) == ["gfapi.qemu-img", "gfapi.qemu-io"], (
        qemu_conns
    )
    assert not holes & set(qemu_conns), "qemu's own connections have capture holes"
    theirs = _tshark_messages(capture["pcap"])
    compared = 0
    for conn in sorted(set(ours) | set(theirs)):
        # Connections that began before the capture or lost frames to the
        # size filter are not comparable message for message.
        if conn in holes or conn not in with_syn:
            continue
        assert ours[conn] == theirs[conn], f"connection {conn} differs"
        compared += 1
    assert compared >= 4  # qemu: 2 mgmt + 2 portmap + 2 brick connections
    fops = {m.name for m in messages if m.conn in qemu_conns and m.prog == _FOP_PROGRAM}
    assert {"CREATE", "WRITE", "READ", "DISCARD", "LOOKUP", "RELEASE"} <= fops


def test_every_v400_record_decodes_completely(messages: list[Message]) -> None:
    qemu_conns = _qemu_connections(messages)
    checked = 0
    for message in messages:
        if message.conn not in qemu_conns or message.type == "stream":
            continue
        assert message.error is None, message.to_json()
        assert message.leftover == 0, message.to_json()
        if message.prog == _FOP_PROGRAM and message.vers == 400:
            assert message.name is not None
            checked += 1
            if message.name == "WRITE" and message.type == "call":
                assert message.payload_len == message.fields["size"] == 4096
            if message.name == "READ" and message.type == "reply":
                assert message.payload_len == message.fields["size"]
    assert checked >= 20


def test_cli_json_and_filter(capture: dict[str, Any]) -> None:
    result = run_cli(
        "decode",
        "--json",
        str(capture["pcap"]),
        "--filter",
        "proc=WRITE",
        "--filter",
        "type=call",
        "--filter",
        f"fields.size={4096}",
        timeout=300,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    ours = [line for line in lines if line["fields"]["fd"] is not None]
    assert ours, result.stderr
    for line in lines:
        assert line["name"] == "WRITE"
        assert line["type"] == "call"
        assert {"time", "src", "dst", "xid", "prog", "vers", "proc"} <= set(line)
    human = run_cli("decode", str(capture["pcap"]), "--filter", "proc=CREATE")
    text = human.stdout.decode()
    assert capture["name"] in text
    assert "messages" in text.splitlines()[-1]
