"""``pygluster nbd`` against real NBD clients and the real cluster.

The clients are the references: qemu-io / qemu-img over ``nbd://`` (QEMU's
own NBD driver), nbdinfo (libnbd), and qemu-system-x86_64 booting from the
export; what they write is read back through libgfapi (qemu-io on
``gluster://``) and the other way round.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
from typing import TYPE_CHECKING

import pytest

import pygluster
from pygluster.testing import faults
from tests.integration.conftest import qemu

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

MiB = 1024 * 1024


@contextlib.contextmanager
def nbd_server(uri: str, *args: str) -> Iterator[str]:
    """``pygluster nbd URI`` in the background; yields the URL it prints.

    On exit it gets SIGTERM and must exit 0 (flushed and closed) in time.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "pygluster", "nbd", "--port", "0", *args, uri],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=60):
                raise AssertionError("pygluster nbd printed no URL within 60 s")
        url = proc.stdout.readline().strip()
        assert url.startswith("nbd"), (url, proc.stderr.read() if proc.stderr else "")
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            status = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        errors = proc.stderr.read() if proc.stderr else ""
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        assert status == 0, errors


def image(host: str, volume: str, size: int, prefix: str = "nbd") -> str:
    uri = f"gluster://{host}/{volume}/{prefix}-{uuid.uuid4().hex[:8]}.img"
    pygluster.create(uri, size)
    return uri


def nbdinfo(*args: str) -> str:
    """Run libnbd's nbdinfo; its stdout (a failure fails the test)."""
    return subprocess.run(
        ["nbdinfo", *args], capture_output=True, text=True, check=True, timeout=60
    ).stdout


def qemu_ok(*args: str) -> str:
    result = qemu(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Pattern verification failed" not in result.stdout, result.stdout
    return result.stdout


def test_qemu_io_over_nbd_and_libgfapi_read_each_others_writes(host: str) -> None:
    uri = image(host, "pyg_dist", 32 * MiB)
    try:
        # libgfapi writes first, so the NBD side reads what it wrote.
        qemu_ok("qemu-io", "-f", "raw", "-c", f"write -P 0x11 {20 * MiB} 1M", uri)
        with nbd_server(uri) as url:
            qemu_ok(
                "qemu-io", "-f", "raw",
                "-c", f"read -P 0x11 {20 * MiB} 1M",
                "-c", "write -P 0xab 0 1M",
                "-c", f"write -P 0xcd {5 * MiB + 512} 64k",
                "-c", f"write -z {8 * MiB} 1M",
                "-c", f"read -P 0 {MiB} 1M",
                "-c", "read -P 0xab 0 1M",
                "-c", "flush",
                url,
            )  # fmt: skip
        qemu_ok(
            "qemu-io", "-f", "raw",
            "-c", "read -P 0xab 0 1M",
            "-c", f"read -P 0xcd {5 * MiB + 512} 64k",
            "-c", f"read -P 0 {8 * MiB} 1M",
            uri,
        )  # fmt: skip
    finally:
        pygluster.remove(uri)


def test_maps_over_nbd_agree_with_pygluster_map(host: str) -> None:
    uri = image(host, "pyg_shard", 24 * MiB)
    try:
        with pygluster.open(uri, "r+") as dev:
            dev.pwrite(b"\x01" * MiB, 0)
            dev.pwrite(b"\x02" * (2 * MiB), 9 * MiB)
            dev.flush()
            ours = [(e.offset, e.length, e.data) for e in dev.extents()]
        with nbd_server(uri, "--read-only") as url:
            nbd_map = nbdinfo("--map", "--json", url)
            qemu_map = qemu_ok("qemu-img", "map", "-f", "raw", "--output=json", url)
        libnbd = [
            (e["offset"], e["length"], not e["type"] & 1) for e in json.loads(nbd_map)
        ]
        qemu_runs = [(e["start"], e["length"], e["data"]) for e in json.loads(qemu_map)]
        assert libnbd == ours
        assert qemu_runs == ours
        assert (0, MiB, True) in ours
    finally:
        pygluster.remove(uri)


def test_qemu_img_convert_into_the_export_and_compare(
    host: str, tmp_path: Path
) -> None:
    local = tmp_path / "source.raw"
    with open(local, "wb") as f:
        f.write(os.urandom(3 * MiB))
        f.seek(10 * MiB)
        f.write(os.urandom(MiB))
        f.truncate(16 * MiB)
    uri = image(host, "pyg_rep3", 16 * MiB)
    try:
        with nbd_server(uri) as url:
            qemu_ok(
                "qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", str(local), url
            )
            qemu_ok("qemu-img", "compare", "-f", "raw", "-F", "raw", str(local), url)
        # And through libgfapi, after the server flushed and closed.
        qemu_ok("qemu-img", "compare", "-f", "raw", "-F", "raw", str(local), uri)
    finally:
        pygluster.remove(uri)


def test_nbdinfo_shows_the_flags_and_sizes_advertised(host: str) -> None:
    uri = image(host, "pyg_single", 8 * MiB)
    try:
        with nbd_server(uri, "--export-name", "disk") as url:
            assert url.endswith("/disk")
            shown = json.loads(nbdinfo("--json", url))
        (export,) = shown["exports"]
        assert shown["protocol"] == "newstyle-fixed"
        assert shown["structured"] is True
        assert export["export-size"] == 8 * MiB
        assert export["contexts"] == ["base:allocation"]
        for flag in ("can_flush", "can_fua", "can_trim", "can_zero", "can_fast_zero"):
            assert export[flag] is True, flag
        assert export["is_read_only"] is False
        assert export["can_multi_conn"] is False  # one client at a time
        assert export["block_size_preferred"] == 4096
        assert export["block_size_maximum"] == 32 * MiB
        with nbd_server(uri, "--read-only", "--shared", "2") as url:
            shown = json.loads(nbdinfo("--json", url))
            # qemu sees the read-only flag and will not open it for writing.
            refused = qemu("qemu-io", "-f", "raw", "-c", "write 0 4k", url)
        (export,) = shown["exports"]
        assert export["is_read_only"] is True
        assert export["can_multi_conn"] is True
        assert export["can_trim"] is False
        assert refused.returncode != 0
        assert "Permission denied" in refused.stderr, refused.stderr
    finally:
        pygluster.remove(uri)


#: A boot sector: print a line on COM1 (port 0x3f8), then halt for ever.
BOOT_LINE = b"pygluster-nbd-boot-ok"


def boot_sector() -> bytes:
    code = bytes(
        [
            0xFA,  # cli
            0x31, 0xC0,  # xor ax, ax
            0x8E, 0xD8,  # mov ds, ax
            0xBE, 0x16, 0x7C,  # mov si, 0x7c16 (the message, below)
            0xBA, 0xF8, 0x03,  # mov dx, 0x3f8
            0xAC,  # next: lodsb
            0x84, 0xC0,  # test al, al
            0x74, 0x03,  # jz halt
            0xEE,  # out dx, al
            0xEB, 0xF8,  # jmp next
            0xF4,  # halt: hlt
            0xEB, 0xFD,  # jmp halt
        ]
    )  # fmt: skip
    assert len(code) == 0x16
    sector = code + BOOT_LINE + b"\r\n\0"
    return sector.ljust(510, b"\0") + b"\x55\xaa"


def test_qemu_boots_an_image_on_gluster_through_the_export(host: str) -> None:
    uri = image(host, "pyg_rep3", MiB, prefix="boot")
    try:
        with pygluster.open(uri, "r+") as dev:
            dev.pwrite(boot_sector(), 0)
        with nbd_server(uri) as url:
            vm = subprocess.Popen(
                [
                    "qemu-system-x86_64",
                    "-machine", "accel=tcg",
                    "-m", "32",
                    "-display", "none",
                    "-nodefaults",
                    "-serial", "stdio",
                    "-no-reboot",
                    "-drive", f"file={url},format=raw,if=ide",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )  # fmt: skip
            seen = b""
            try:
                assert vm.stdout is not None
                os.set_blocking(vm.stdout.fileno(), False)
                deadline = time.monotonic() + 90
                while BOOT_LINE not in seen and time.monotonic() < deadline:
                    with contextlib.suppress(BlockingIOError, TypeError):
                        seen += vm.stdout.read() or b""
                    time.sleep(0.1)
            finally:
                vm.kill()
                vm.communicate(timeout=30)
        assert BOOT_LINE in seen, seen[-500:]
    finally:
        pygluster.remove(uri)


@pytest.mark.parametrize("volume", ["pyg_rep3", "pyg_shard"])
def test_a_brick_killed_while_qemu_io_writes_through_the_export_loses_nothing(
    host: str, volume: str
) -> None:
    uri = image(host, volume, 64 * MiB)
    try:
        with nbd_server(uri) as url:
            writes = [
                arg
                for n in range(48)
                for arg in ("-c", f"write -P {0x40 + n % 16} {n * MiB} 1M")
            ]
            writer = subprocess.Popen(
                ["qemu-io", "-f", "raw", *writes, "-c", "flush", url],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                time.sleep(0.5)
                faults.kill_brick(volume, 2)
                out, err = writer.communicate(timeout=300)
                assert writer.returncode == 0, out + err
                assert "failed" not in out.lower(), out
            finally:
                if writer.poll() is None:
                    writer.kill()
                faults.start_volume_force(volume)
            reads = [
                arg
                for n in range(48)
                for arg in ("-c", f"read -P {0x40 + n % 16} {n * MiB} 1M")
            ]
            qemu_ok("qemu-io", "-f", "raw", *reads, url)
        paths = [f"/{uri.rsplit('/', 1)[-1]}"]
        if volume == "pyg_shard":
            with pygluster.open(uri) as dev:
                base = uuid.UUID(bytes=dev.gfid)
            paths += [f"/.shard/{base}.{n}" for n in range(1, 16)]
        # Full-file heal of 4 MB shards (group virt) takes its time.
        faults.wait_healed(volume, timeout=240, paths=paths)
        qemu_ok("qemu-io", "-f", "raw", *reads, uri)  # libgfapi, after heal
    finally:
        pygluster.remove(uri)


def _handshake(sock: socket.socket, name: str) -> None:
    """A minimal fixed-newstyle client: flags, then NBD_OPT_GO for ``name``."""
    greeting = _recv_exactly(sock, 18)
    assert greeting[:8] == b"NBDMAGIC"
    sock.sendall(struct.pack(">I", 3))
    data = struct.pack(">I", len(name)) + name.encode() + struct.pack(">H", 0)
    sock.sendall(struct.pack(">QII", 0x49484156454F5054, 7, len(data)) + data)
    while True:
        _, _, kind, length = struct.unpack(">QIII", _recv_exactly(sock, 20))
        _recv_exactly(sock, length)
        if kind == 1:  # NBD_REP_ACK: transmission starts
            return
        assert kind == 3, kind  # NBD_REP_INFO


def _recv_exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        assert chunk, "the server closed the connection"
        data += chunk
    return data


def _address(url: str) -> tuple[str, int, str]:
    rest = url.removeprefix("nbd://")
    hostport, name = rest.split("/", 1)
    host, port = hostport.rsplit(":", 1)
    return host, int(port), name


def test_a_client_gone_mid_write_changes_nothing_and_others_go_on(host: str) -> None:
    uri = image(host, "pyg_rep3", 4 * MiB)
    try:
        with nbd_server(uri, "--shared", "2") as url:
            address, port, name = _address(url)
            with socket.create_connection((address, port), timeout=30) as sock:
                _handshake(sock, name)
                # WRITE of 64 KiB at 0, but only half of its data, then gone.
                header = struct.pack(">IHHQQI", 0x25609513, 0, 1, 1, 0, 65536)
                sock.sendall(header + b"\xee" * 32768)
            qemu_ok(
                "qemu-io", "-f", "raw",
                "-c", "read -P 0 0 64k",  # the half-sent write did not happen
                "-c", "write -P 0x5c 0 4k",
                "-c", "read -P 0x5c 0 4k",
                url,
            )  # fmt: skip
    finally:
        pygluster.remove(uri)


def test_shared_clients_see_each_others_flushed_writes_over_a_unix_socket(
    host: str, tmp_path: Path
) -> None:
    uri = image(host, "pyg_shard", 8 * MiB)
    path = tmp_path / "export.sock"
    try:
        with nbd_server(uri, "--socket", str(path), "--shared", "2") as url:
            assert url == f"nbd+unix:///{uri.rsplit('/', 1)[-1]}?socket={path}"
            # Two clients at once: qemu-io holds one connection open while a
            # second qemu-io writes and flushes; the first then reads it.
            reader = subprocess.Popen(
                ["qemu-io", "-f", "raw", url],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                time.sleep(1)  # connected and idle
                qemu_ok(
                    "qemu-io", "-f", "raw",
                    "-c", f"write -P 0x3d {5 * MiB} 64k",
                    "-c", "flush",
                    url,
                )  # fmt: skip
                out, err = reader.communicate(
                    f"read -P 0x3d {5 * MiB} 64k\nquit\n", timeout=60
                )
            finally:
                if reader.poll() is None:
                    reader.kill()
            assert reader.returncode == 0, out + err
            assert "Pattern verification failed" not in out, out
            assert "read 65536/65536 bytes" in out, out
    finally:
        pygluster.remove(uri)
