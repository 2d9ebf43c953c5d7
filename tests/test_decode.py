"""pygluster.capture.decode and ``pygluster decode``: reassembly, matching, reporting.

Conversations are built from our own codecs and cut into TCP segments in
every way that captures show them: tiny segments, reordering, retransmission
and overlap, a missing SYN, holes. The real capture in tests/fixtures/pcap
must decode completely, and mutations of it must never raise anything but
PcapError.
"""

from __future__ import annotations

import argparse
import json
import random
from typing import TYPE_CHECKING, Any

import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from pygluster.capture.decode import Decoder, Message, decode_capture
from pygluster.capture.pcap import ACK, FIN, PSH, SYN, PcapError, TcpSegment
from pygluster.cli import decode as cli_decode
from pygluster.rpc import callback, fops, glusterd, sunrpc, xdr
from pygluster.rpc.record import record_mark
from tests.test_pcap import FIXTURE, ipv4, link, pcap, tcp

if TYPE_CHECKING:
    from pathlib import Path

    from pygluster.rpc.programs import Procedure

CLIENT, SERVER = ("127.0.0.1", 40000), ("127.0.0.1", 49152)
GFID = bytes(range(16))
ZERO_IATT = xdr.decode(fops.GfxIattx, bytes(148))


# --- building conversations ---------------------------------------------------------


def call(
    xid: int,
    proc: Procedure[Any, Any],
    args: object,
    payload: bytes = b"",
    cred: sunrpc.OpaqueAuth = sunrpc.AUTH_NULL,
) -> bytes:
    header = xdr.encode(
        sunrpc.call_message(
            xid, proc.program.number, proc.program.version, proc.number, cred
        )
    )
    body = header + xdr.encode(args, proc.args) + payload
    return record_mark(len(body)) + body


def reply(xid: int, result: bytes, status: int = sunrpc.AcceptStat.SUCCESS) -> bytes:
    accepted = sunrpc.AcceptedReply(
        verf=sunrpc.AUTH_NULL, reply_data=xdr.UnionArm(status, None)
    )
    header = sunrpc.RpcMsg(
        xid=xid,
        body=xdr.UnionArm(
            sunrpc.MsgType.REPLY,
            xdr.UnionArm(sunrpc.ReplyStat.MSG_ACCEPTED, accepted),
        ),
    )
    body = xdr.encode(header) + result
    return record_mark(len(body)) + body


def write_call(xid: int, data: bytes) -> bytes:
    args = fops.GfxWriteReq(
        gfid=GFID,
        fd=3,
        offset=4096,
        size=len(data),
        flag=0,
        xdata={"k": fops.DictValue.uint(7)},
    )
    return call(xid, fops.WRITE, args, data, sunrpc.Credentials(pid=42).auth_v3())


def write_reply(xid: int, count: int) -> bytes:
    rsp = fops.GfxCommon2iattRsp(
        op_ret=count, op_errno=0, xdata=None, prestat=ZERO_IATT, poststat=ZERO_IATT
    )
    return reply(xid, xdr.encode(rsp))


def read_reply(xid: int, data: bytes) -> bytes:
    rsp = fops.GfxReadRsp(
        op_ret=len(data), op_errno=0, stat=ZERO_IATT, size=len(data), xdata={}
    )
    return reply(xid, xdr.encode(rsp) + data)


def lookup_call(xid: int, name: str) -> bytes:
    args = fops.GfxLookupReq(
        gfid=bytes(16), pargfid=fops.ROOT_GFID, flags=0, bname=name, xdata=None
    )
    return call(xid, fops.LOOKUP, args)


def lookup_enoent(xid: int) -> bytes:
    rsp = fops.GfxCommon2iattRsp(
        op_ret=-1, op_errno=2, xdata=None, prestat=ZERO_IATT, poststat=ZERO_IATT
    )
    return reply(xid, xdr.encode(rsp))


class Wire:
    """Segments of one connection, with real sequence numbers."""

    def __init__(self, isn_client: int = 1000, isn_server: int = 2**32 - 10) -> None:
        self.seq = {CLIENT: isn_client, SERVER: isn_server}
        self.frame = 0
        self.time = 100.0

    def segment(
        self,
        src: tuple[str, int],
        data: bytes,
        flags: int = PSH | ACK,
        seq: int | None = None,
    ) -> TcpSegment:
        dst = SERVER if src == CLIENT else CLIENT
        self.frame += 1
        self.time += 0.001
        start = self.seq[src] if seq is None else seq
        if seq is None:
            self.seq[src] = (start + len(data) + bool(flags & (SYN | FIN))) % 2**32
        # Acknowledge everything the peer sent so far, as a real stack does.
        ack = self.seq[dst] if flags & ACK else 0
        return TcpSegment(
            self.frame,
            self.time,
            src[0],
            src[1],
            dst[0],
            dst[1],
            start,
            ack,
            flags,
            data,
        )

    def handshake(self) -> list[TcpSegment]:
        return [self.segment(CLIENT, b"", SYN), self.segment(SERVER, b"", SYN | ACK)]

    def chunks(self, src: tuple[str, int], data: bytes, size: int) -> list[TcpSegment]:
        return [
            self.segment(src, data[i : i + size]) for i in range(0, len(data), size)
        ]


def run(segments: list[TcpSegment]) -> list[Message]:
    decoder = Decoder()
    out: list[Message] = []
    for segment in segments:
        out += decoder.feed(segment)
    return out + decoder.finish()


def rpc(messages: list[Message]) -> list[Message]:
    return [m for m in messages if m.type != "stream"]


# --- reassembly ---------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 3, 7, 64, 10_000])
def test_records_across_tiny_segments(size: int) -> None:
    wire = Wire()
    segments = wire.handshake()
    segments += wire.chunks(CLIENT, write_call(17, b"hello world"), size)
    segments += wire.chunks(SERVER, write_reply(17, 11), size)
    messages = run(segments)
    assert [(m.type, m.xid, m.name) for m in messages] == [
        ("call", 17, "WRITE"),
        ("reply", 17, "WRITE"),
    ]
    write, answer = messages
    assert write.error is None
    assert write.leftover == 0
    assert write.payload_len == 11
    assert write.fields["size"] == 11
    assert write.fields["gfid"] == "00010203-0405-0607-0809-0a0b0c0d0e0f"
    assert write.fields["xdata"] == {"k": {"type": "UINT", "value": 7}}
    assert write.cred is not None
    assert write.cred["flavor"] == "GLUSTERFS_V3"
    assert write.cred["pid"] == 42
    assert (answer.prog, answer.vers, answer.proc) == (1298437, 400, 13)
    assert answer.fields["op_ret"] == 11
    assert answer.latency is not None
    assert (write.src, write.dst) == ("127.0.0.1:40000", "127.0.0.1:49152")


def test_out_of_order_and_retransmitted_segments() -> None:
    wire = Wire()
    handshake = wire.handshake()
    data = lookup_call(1, "a") + lookup_call(2, "bb") + write_call(3, b"x" * 300)
    segments = wire.chunks(CLIENT, data, 50)
    rng = random.Random(7)
    shuffled = segments[:]
    rng.shuffle(shuffled)
    # Retransmissions and overlaps: repeats, and segments spanning two others.
    for index in (2, 5):
        shuffled.insert(rng.randrange(len(shuffled)), segments[index])
    overlap = wire.segment(CLIENT, data[25:125], seq=segments[0].seq + 25)
    shuffled.insert(3, overlap)
    messages = run(handshake + shuffled)
    assert [(m.xid, m.name, m.error) for m in rpc(messages)] == [
        (1, "LOOKUP", None),
        (2, "LOOKUP", None),
        (3, "WRITE", None),
    ]
    assert not [m for m in messages if m.type == "stream"]


def test_missing_syn_starting_mid_record() -> None:
    wire = Wire()
    first = lookup_call(5, "partial")
    data = first + lookup_call(6, "whole") + lookup_call(7, "next")
    segments = wire.chunks(CLIENT, data, 40)[1:]  # no SYN, first 40 bytes lost
    messages = run(segments)
    assert [(m.xid, m.fields.get("bname")) for m in rpc(messages)] == [
        (6, "whole"),
        (7, "next"),
    ]
    skipped = [m for m in messages if m.type == "stream"]
    assert skipped
    assert skipped[0].error is None
    assert "skipped" in (skipped[0].note or "")
    assert Decoder().connections == []


def test_sequence_numbers_wrap_around() -> None:
    wire = Wire(isn_client=2**32 - 30)
    segments = wire.handshake() + wire.chunks(CLIENT, lookup_call(1, "wrap") * 3, 16)
    assert [m.xid for m in rpc(run(segments))] == [1, 1, 1]


def test_gap_is_reported_and_the_stream_resyncs() -> None:
    wire = Wire()
    segments = wire.handshake()
    segments += wire.chunks(CLIENT, write_call(1, b"a" * 1000), 200)
    del segments[4]  # a hole inside the WRITE
    segments += wire.chunks(CLIENT, lookup_call(2, "after"), 1000)
    ack = wire.segment(SERVER, b"", ACK)
    segments.append(
        TcpSegment(
            ack.frame,
            ack.time,
            ack.src,
            ack.sport,
            ack.dst,
            ack.dport,
            ack.seq,
            wire.seq[CLIENT],
            ACK,
            b"",
        )
    )
    messages = run(segments)
    gaps = [m for m in messages if m.type == "stream" and m.error]
    assert len(gaps) == 1
    assert "200 bytes missing" in (gaps[0].error or "")
    assert [(m.xid, m.name) for m in rpc(messages)] == [(2, "LOOKUP")]


def test_port_reuse_starts_a_new_connection() -> None:
    first, second = Wire(isn_client=1), Wire(isn_client=99999)
    segments = first.handshake() + first.chunks(CLIENT, lookup_call(1, "a"), 500)
    segments += second.handshake() + second.chunks(CLIENT, lookup_call(1, "b"), 500)
    decoder = Decoder()
    messages = [m for s in segments for m in decoder.feed(s)]
    assert [(m.conn, m.fields["bname"]) for m in messages] == [(0, "a"), (1, "b")]
    assert [c.syn_seen for c in decoder.connections] == [True, True]


# --- matching and decoding ------------------------------------------------------------


def test_replies_match_calls_by_xid_out_of_order() -> None:
    wire = Wire()
    segments = wire.handshake()
    segments += wire.chunks(CLIENT, lookup_call(1, "gone") + write_call(2, b"zz"), 9999)
    segments += wire.chunks(SERVER, write_reply(2, 2) + lookup_enoent(1), 9999)
    calls_and_replies = [(m.type, m.xid, m.name) for m in rpc(run(segments))]
    assert calls_and_replies == [
        ("call", 1, "LOOKUP"),
        ("call", 2, "WRITE"),
        ("reply", 2, "WRITE"),
        ("reply", 1, "LOOKUP"),
    ]
    enoent = rpc(run(segments))[3]
    assert enoent.fields["op_errno_name"] == "ENOENT"


def test_read_reply_payload_length() -> None:
    wire = Wire()
    args = fops.GfxReadReq(gfid=GFID, fd=0, offset=0, size=4096, flag=0, xdata=None)
    segments = [
        *wire.handshake(),
        wire.segment(CLIENT, call(9, fops.READ, args)),
        wire.segment(SERVER, read_reply(9, b"q" * 5)),
    ]
    answer = rpc(run(segments))[1]
    assert answer.payload_len == 5
    assert answer.fields["size"] == 5
    assert answer.error is None
    assert answer.leftover == 0


def test_callbacks_use_their_own_xid_space() -> None:
    wire = Wire()
    cbk = callback.CALLBACK_PROCEDURES[1]  # FETCHSPEC, empty body
    segments = [
        *wire.handshake(),
        wire.segment(CLIENT, lookup_call(1, "x")),
        wire.segment(SERVER, call(1, cbk, None)),
        wire.segment(SERVER, lookup_enoent(1)),
    ]
    messages = rpc(run(segments))
    assert [(m.type, m.xid, m.name, m.src) for m in messages] == [
        ("call", 1, "LOOKUP", "127.0.0.1:40000"),
        ("call", 1, "FETCHSPEC", "127.0.0.1:49152"),
        ("reply", 1, "LOOKUP", "127.0.0.1:49152"),
    ]


def test_handshake_programs_and_old_dicts() -> None:
    wire = Wire()
    getspec = glusterd.GfGetspecReq(flags=1, key="vol", xdata=glusterd.OP_VERSION_XDATA)
    rsp = glusterd.GfGetspecRsp(op_ret=3, op_errno=0, spec="abc", xdata={})
    segments = [
        *wire.handshake(),
        wire.segment(CLIENT, call(2, glusterd.GETSPEC, getspec)),
        wire.segment(SERVER, reply(2, xdr.encode(rsp))),
    ]
    request, answer = rpc(run(segments))
    assert request.program == "GlusterFS Handshake"
    assert request.name == "GETSPEC"
    assert request.fields["xdata"]["max-op-version"] == {
        "type": "str",
        "value": "100000",
    }
    assert answer.fields["spec"] == "abc"


def test_unknown_program_and_version_are_errors() -> None:
    wire = Wire()
    header = xdr.encode(sunrpc.call_message(1, 100003, 3, 0, sunrpc.AUTH_NULL))
    fop_v2 = xdr.encode(sunrpc.call_message(2, 1298437, 2, 1, sunrpc.AUTH_NULL))
    segments = [
        *wire.handshake(),
        wire.segment(CLIENT, record_mark(len(header) + 4) + header + bytes(4)),
        wire.segment(CLIENT, record_mark(len(fop_v2)) + fop_v2),
    ]
    nfs, fop = rpc(run(segments))
    assert nfs.error == "unknown program 100003 version 3"
    assert nfs.leftover == 4
    assert fop.error == "unknown program 1298437 version 2"


def test_malformed_records_are_reported_and_decoding_goes_on() -> None:
    wire = Wire()
    good = lookup_call(3, "fine")
    truncated_args = lookup_call(1, "x")[:-8]
    truncated_args = record_mark(len(truncated_args) - 4) + truncated_args[4:]
    extra = lookup_call(2, "y") + bytes(4)
    extra = record_mark(len(extra) - 4) + extra[4:]
    bad_header = record_mark(12) + bytes([0, 0, 0, 9, 0, 0, 0, 7]) + bytes(4)
    segments = wire.handshake() + wire.chunks(
        CLIENT, truncated_args + extra + good + bad_header, 9999
    )
    # The rest of a segment after a garbage header is lost with the framing;
    # the next segment starting with a record is found again.
    segments += wire.chunks(CLIENT, good, 9999)
    messages = run(segments)
    kinds = [(m.type, m.xid, m.error is not None) for m in messages]
    assert kinds[:3] == [("call", 1, True), ("call", 2, True), ("call", 3, False)]
    assert messages[1].leftover == 4
    assert "left over" in (messages[1].error or "")
    assert kinds[3] == ("?", 9, True)
    # After a garbage header the stream resyncs on the next record.
    assert ("call", 3, False) in kinds[4:]


def test_undeclared_procedures_are_header_only() -> None:
    wire = Wire()
    header = xdr.encode(sunrpc.call_message(4, 1298437, 330, 49, sunrpc.AUTH_NULL))
    cli = xdr.encode(sunrpc.call_message(5, 1238463, 2, 3, sunrpc.AUTH_NULL))
    segments = [
        *wire.handshake(),
        wire.segment(CLIENT, record_mark(len(header)) + header),
        wire.segment(CLIENT, record_mark(len(cli) + 8) + cli + bytes(8)),
    ]
    compound, cli_call = rpc(run(segments))
    assert compound.name == "COMPOUND"
    assert compound.error is None
    assert "not declared" in (compound.note or "")
    assert cli_call.program == "GlusterD svc cli"
    assert cli_call.error is None


def test_message_json_has_the_promised_keys() -> None:
    wire = Wire()
    segments = [*wire.handshake(), wire.segment(CLIENT, write_call(1, b"abc"))]
    line = json.loads(rpc(run(segments))[0].to_json())
    for key in (
        "time",
        "src",
        "dst",
        "xid",
        "type",
        "prog",
        "vers",
        "proc",
        "name",
        "fields",
        "payload_len",
        "error",
        "leftover",
        "conn",
    ):
        assert key in line
    assert (line["prog"], line["vers"], line["proc"]) == (1298437, 400, 13)


# --- the real capture ----------------------------------------------------------------


def test_fixture_capture_decodes_completely() -> None:
    messages = list(decode_capture(FIXTURE.read_bytes()))
    assert messages
    assert all(m.error is None for m in messages)
    assert all(m.leftover == 0 for m in messages)
    names = {m.name for m in messages if m.prog == 1298437}
    assert {"CREATE", "WRITE", "READ", "DISCARD", "SEEK", "RELEASE"} <= names
    calls = sum(m.type == "call" for m in messages)
    assert calls == sum(m.type == "reply" for m in messages)


def test_fixture_through_a_classic_pcap_too() -> None:
    # Same conversation, rewritten as classic pcap with Ethernet framing.
    wire = Wire()
    frames = []
    for segment in [*wire.handshake(), wire.segment(CLIENT, write_call(1, b"zz"))]:
        packet = ipv4(
            segment.src,
            segment.dst,
            tcp(
                segment.sport,
                segment.dport,
                segment.seq,
                segment.payload,
                segment.flags,
                segment.ack,
            ),
        )
        frames.append((segment.time, link(1, packet)))
    messages = list(decode_capture(pcap(frames)))
    assert [(m.name, m.payload_len) for m in messages] == [("WRITE", 2)]


def test_decode_capture_raises_only_pcap_error() -> None:
    with pytest.raises(PcapError):
        list(decode_capture(b"garbage"))
    cut = FIXTURE.read_bytes()[:-37]
    messages = decode_capture(cut)
    seen = [next(messages) for _ in range(50)]
    assert all(isinstance(message, Message) for message in seen)
    with pytest.raises(PcapError):
        list(messages)


# --- the command ----------------------------------------------------------------------


def _args(path: Path, *filters: str, as_json: bool = False) -> argparse.Namespace:
    return argparse.Namespace(
        file=str(path), json=as_json, filters=[f.split("=", 1) for f in filters]
    )


def test_cli_human_output_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert trio.run(cli_decode.run, _args(FIXTURE)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any("WRITE" in line and "payload=4096" in line for line in lines)
    assert "0 malformed" in lines[-1]
    assert "6 TCP connections" in lines[-1]


def test_cli_json_filter(capsys: pytest.CaptureFixture[str]) -> None:
    args = _args(FIXTURE, "proc=write", "type=reply", as_json=True)
    assert trio.run(cli_decode.run, args) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines
    assert {(m["name"], m["type"]) for m in lines} == {("WRITE", "reply")}
    predicate = cli_decode.parse_filter(["prog=1298437", "fields.fd=0"])
    assert predicate(Message(0, 0, 0, "a", "b", "call", prog=1298437, fields={"fd": 0}))
    with pytest.raises(ValueError, match="KEY=VALUE"):
        cli_decode.parse_filter(["nonsense"])


def test_cli_exit_status_1_on_malformed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wire = Wire()
    broken = lookup_call(1, "x")[:-8]
    broken = record_mark(len(broken) - 4) + broken[4:]
    frames = []
    for segment in [*wire.handshake(), wire.segment(CLIENT, broken)]:
        packet = ipv4(
            segment.src,
            segment.dst,
            tcp(
                segment.sport,
                segment.dport,
                segment.seq,
                segment.payload,
                segment.flags,
                segment.ack,
            ),
        )
        frames.append((segment.time, link(1, packet)))
    path = tmp_path / "broken.pcap"
    path.write_bytes(pcap(frames))
    assert trio.run(cli_decode.run, _args(path, as_json=True)) == 1
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["error"].startswith("LOOKUP:")
    path.write_bytes(b"not a capture")
    with pytest.raises(PcapError):
        trio.run(cli_decode.run, _args(path))


# --- properties ---------------------------------------------------------------------


def _decode_all(data: bytes) -> None:
    try:
        for message in decode_capture(data):
            json.loads(message.to_json())
    except PcapError:
        pass


class TestDecodeProperties:
    @given(st.data())
    def test_mutated_fixture_never_raises_anything_else(self, data: st.DataObject):
        capture = bytearray(FIXTURE.read_bytes())
        for _ in range(data.draw(st.integers(1, 16))):
            at = data.draw(st.integers(0, len(capture) - 1))
            capture[at] = data.draw(st.integers(0, 255))
        _decode_all(bytes(capture))

    @given(st.binary(min_size=1, max_size=2000), st.lists(st.integers(1, 64)))
    def test_random_payloads_on_a_connection(self, payload: bytes, sizes: list[int]):
        wire = Wire()
        segments = wire.handshake()
        at = 0
        for size in sizes or [len(payload)]:
            if at >= len(payload):
                break
            segments.append(wire.segment(CLIENT, payload[at : at + size]))
            at += size
        for message in run(segments):
            json.loads(message.to_json())

    @given(st.lists(st.integers(1, 200), min_size=1), st.randoms())
    def test_any_segmentation_gives_the_same_messages(self, sizes, rng) -> None:
        data = lookup_call(1, "a") + write_call(2, b"w" * 300) + lookup_call(3, "c")
        wire = Wire()
        handshake = wire.handshake()
        segments, at, index = [], 0, 0
        while at < len(data):
            size = sizes[index % len(sizes)]
            segments.append(wire.segment(CLIENT, data[at : at + size]))
            at, index = at + size, index + 1
        rng.shuffle(segments)
        messages = run(handshake + segments)
        assert [(m.xid, m.error) for m in messages] == [(1, None), (2, None), (3, None)]
