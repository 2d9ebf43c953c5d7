"""Tracing: sink formats, the context variable, the driver's hooks, pcap output."""

from __future__ import annotations

import io
import json
import logging
import struct
from collections import defaultdict
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from pygluster import events
from pygluster.capture import trace
from pygluster.capture.pcapwriter import (
    LINKTYPE_RAW,
    MAX_SEGMENT,
    PcapWriter,
    StreamEnds,
)
from pygluster.errors import RemoteProtocolError
from pygluster.rpc import fops, glusterd
from pygluster.rpc.client import client_over_stream
from pygluster.rpc.record import RecordReader
from pygluster.rpc.sunrpc import Credentials
from tests.helpers import FakeServerCore, reply_record, server_call_record

GFID = bytes.fromhex("72d0f62a453a490d914ce4e963ecbf2f")
GFID_TEXT = "72d0f62a-453a-490d-914c-e4e963ecbf2f"
CONN = events.ConnInfo(
    7, "vm:49152", ("127.0.0.1", 40000), ("127.0.0.1", 49152), "vm:/b1"
)
CRED = Credentials(pid=42, uid=0, gid=0, groups=()).auth_v3(3, 1_700_000_000_5)


class Recorder:
    """A tracer keeping every event."""

    def __init__(self) -> None:
        self.events: list[events.TraceEvent] = []

    def handle(self, event: events.TraceEvent) -> None:
        self.events.append(event)

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def iatt(gfid: bytes) -> fops.GfxIattx:
    fields: dict[str, Any] = dict.fromkeys(fops.GfxIattx.__dataclass_fields__, 0)
    return fops.GfxIattx(**{**fields, "ia_gfid": gfid})


def read_call(xid: int = 9) -> events.CallSent:
    args = fops.GfxReadReq(gfid=GFID, fd=3, offset=65536, size=4096, flag=0, xdata=None)
    return events.CallSent(1.5, CONN, xid, fops.READ, args, CRED, 136, 0)


def create_call() -> events.CallSent:
    args = fops.GfxCreateReq(
        pargfid=fops.ROOT_GFID,
        flags=int(
            fops.GfOpenFlags.RDWR | fops.GfOpenFlags.CREAT | fops.GfOpenFlags.EXCL
        ),
        mode=0o100644,
        umask=0o22,
        bname="vm.img",
        xdata={"gfid-req": fops.DictValue.gfuuid(GFID)},
    )
    return events.CallSent(1.5, CONN, 4, fops.CREATE, args, CRED, 188, 0)


def failed_lookup_reply() -> events.ReplyReceived:
    zero = iatt(bytes(16))
    result = fops.GfxCommon2iattRsp(
        op_ret=-1, op_errno=2, prestat=zero, poststat=zero, xdata=None
    )
    return events.ReplyReceived(
        2.0, CONN, 4, fops.LOOKUP, result, None, 1_250_000, 344, 0
    )


# --- summaries and text lines ---------------------------------------------------------


def test_read_call_line_names_key_arguments() -> None:
    line = trace.event_line(read_call())
    assert line is not None
    assert "#7 vm:49152 [vm:/b1] → xid 9 GlusterFS 4.x v1 READ" in line
    assert f"gfid={GFID_TEXT} fd=3 offset=65536 size=4096 (136 B)" in line
    assert "flag=" not in line  # zero flags are noise


def test_create_call_shows_flags_by_name_and_mode_in_octal() -> None:
    args = trace.summarize_args(fops.CREATE, create_call().args)
    assert args == {
        "pargfid": "00000000-0000-0000-0000-000000000001",
        "bname": "vm.img",
        "flags": "RDWR|CREAT|EXCL",
        "mode": "0o100644",
    }


@pytest.mark.parametrize(
    ("procedure", "args", "expected"),
    [
        (
            fops.INODELK,
            fops.GfxInodelkReq(
                gfid=GFID,
                cmd=fops.LkCmd.SETLKW,
                type=fops.LkType.WRLCK,
                flock=fops.GfProtoFlock(
                    type=1, whence=0, start=0, len=0, pid=1, lk_owner=b"ab"
                ),
                volume="dom",
                xdata=None,
            ),
            {"cmd": "SETLKW", "type": "WRLCK", "volume": "dom"},
        ),
        (
            fops.SEEK,
            fops.GfxSeekReq(gfid=GFID, fd=1, offset=0, what=1, xdata=None),
            {"what": "HOLE", "offset": 0},
        ),
        (
            fops.SETXATTR,
            fops.GfxSetxattrReq(
                gfid=GFID,
                flags=0,
                dict={
                    "user.b": fops.DictValue.ptr(b"1"),
                    "user.a": fops.DictValue.ptr(b""),
                },
                xdata=None,
            ),
            {"keys": ["user.a", "user.b"]},
        ),
        (
            fops.GETXATTR,
            fops.GfxGetxattrReq(gfid=GFID, namelen=1, name="trusted.x", xdata=None),
            {"name": "trusted.x"},
        ),
        (
            fops.OPEN,
            fops.GfxOpenReq(gfid=GFID, flags=0, xdata=None),
            {"flags": "RDONLY"},
        ),
    ],
)
def test_key_arguments(procedure: Any, args: Any, expected: dict[str, Any]) -> None:
    summary = trace.summarize_args(procedure, args)
    assert summary.items() >= expected.items()


def test_failed_reply_line_has_errno_name_and_latency() -> None:
    line = trace.event_line(failed_lookup_reply())
    assert line is not None
    assert (
        "← xid 4 GlusterFS 4.x v1 LOOKUP op_ret=-1 errno=ENOENT 1.250 ms (344 B)"
        in line
    )
    assert "gfid=" not in line  # an all-zero iatt says nothing


def test_reply_with_error_and_read_payload() -> None:
    event = events.ReplyReceived(
        2.0, CONN, 5, fops.READ, None, RemoteProtocolError("bad"), None, 80, 0
    )
    line = trace.event_line(event)
    assert line is not None
    assert "READ error RemoteProtocolError: bad ? ms (80 B)" in line
    stat = iatt(GFID)
    read = fops.GfxReadRsp(op_ret=4096, op_errno=0, stat=stat, size=4096, xdata=None)
    summary = trace.summarize_result(fops.READ, read)
    assert summary == {"op_ret": 4096, "size": 4096, "gfid": GFID_TEXT, "ia_size": 0}


def test_full_output_has_every_field_the_credential_and_xdata() -> None:
    line = trace.event_line(create_call(), full=True)
    assert line is not None
    first, cred, args = line.split("\n")
    assert "CREATE" in first
    assert '"flavor"="GLUSTERFS_V3"' in cred
    assert '"pid"=42' in cred
    assert '"flags"="CTIME|MTIME"' in cred
    assert '"umask"=18' in args
    assert f'"gfid-req"="GFUUID:{GFID_TEXT}"' in args


def test_full_fields_truncate_long_bytes() -> None:
    value = trace.full_fields(fops.DictValue.ptr(bytes(range(256)) * 2))
    assert value.startswith("PTR:000102")
    assert value.endswith("…(+448 bytes)")


def test_connection_events_as_text() -> None:
    lines = [
        trace.event_line(events.Connected(0.0, CONN)),
        trace.event_line(events.Disconnected(0.0, CONN, "closed by us")),
        trace.event_line(
            events.ServerCallReceived(0.0, CONN, 77, 52743234, 1, 1, "FETCHSPEC", 0)
        ),
        trace.event_line(events.Ping(0.0, CONN, 2_000_000)),
        trace.event_line(
            events.Reconnecting(0.0, "v-client-0", "vm:/b1", "EOF", 0.5, 1)
        ),
        trace.event_line(events.Reconnected(0.0, "v-client-0", "vm:/b1", 49153, 1)),
        trace.event_line(events.BytesSent(0.0, CONN, (b"x",))),
    ]
    assert "connected 127.0.0.1:40000 → 127.0.0.1:49152" in str(lines[0])
    assert "disconnected: closed by us" in str(lines[1])
    assert "volfile changed FETCHSPEC" in str(lines[2])
    assert "ping rtt 2.000 ms" in str(lines[3])
    assert "v-client-0 [vm:/b1] down (EOF); reconnect #1 in 0.5 s" in str(lines[4])
    assert "reconnected (port 49153, attempt #1)" in str(lines[5])
    assert lines[6] is None


# --- sinks ------------------------------------------------------------------------


def test_text_sink_writes_one_line_per_event() -> None:
    out = io.StringIO()
    sink = trace.TextTraceSink(out)
    sink.handle(read_call())
    sink.handle(events.BytesSent(0.0, CONN, (b"abc",)))
    sink.handle(failed_lookup_reply())
    assert out.getvalue().count("\n") == 2


def test_json_sink_records() -> None:
    out = io.StringIO()
    sink = trace.JsonTraceSink(out)
    sink.handle(read_call())
    sink.handle(failed_lookup_reply())
    sink.handle(events.BytesReceived(0.0, CONN, b"abc"))
    sink.handle(events.Connected(0.0, CONN))
    call, reply, connected = (json.loads(line) for line in out.getvalue().splitlines())
    assert call == {
        "time": 1.5,
        "event": "call",
        "conn": 7,
        "peer": "vm:49152",
        "brick": "vm:/b1",
        "xid": 9,
        "program": "GlusterFS 4.x v1",
        "prognum": 1298437,
        "version": 400,
        "procedure": "READ",
        "proc": 12,
        "args": {"gfid": GFID_TEXT, "fd": 3, "offset": 65536, "size": 4096},
        "wire_len": 136,
        "payload_len": 0,
    }
    assert reply["event"] == "reply"
    assert reply["op_ret"] == -1
    assert reply["errno"] == "ENOENT"
    assert reply["latency_ms"] == 1.25
    assert connected["local"] == "127.0.0.1:40000"


def test_json_sink_full_adds_decoded_fields(tmp_path: Any) -> None:
    path = tmp_path / "t.json"
    with trace.JsonTraceSink.open(path, full=True) as sink:
        sink.handle(create_call())
    record = json.loads(path.read_text())
    assert record["args_full"]["xdata"] == {"gfid-req": f"GFUUID:{GFID_TEXT}"}
    assert record["cred"]["uid"] == 0


def test_logging_sink(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.trace")
    with (
        caplog.at_level(logging.DEBUG, logger="test.trace"),
        events.tracing(logger) as tracer,
    ):
        assert isinstance(tracer, trace.LoggingTraceSink)
        events.emit(events.Ping, conn=CONN, rtt_ns=1000)
    assert "ping rtt 0.001 ms" in caplog.text


def test_tracing_sets_and_resets_the_context_variable() -> None:
    a, b = Recorder(), Recorder()
    assert events.current_tracer.get() is None
    with events.tracing(a):
        assert events.current_tracer.get() is a
        with events.tracing(None):
            assert events.current_tracer.get() is a
        with events.tracing(a, b) as both:
            assert isinstance(both, events.MultiSink)
            events.emit(events.Ping, conn=CONN, rtt_ns=1)
    assert events.current_tracer.get() is None
    assert len(a.events) == len(b.events) == 1


def test_a_failing_sink_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken:
        def handle(self, event: events.TraceEvent) -> None:
            raise OSError("pipe closed")

    good = Recorder()
    caplog.set_level(logging.WARNING, logger="pygluster.trace")
    with events.tracing(Broken(), good):
        events.emit(events.Ping, conn=CONN, rtt_ns=1)
        events.emit(events.Ping, conn=CONN, rtt_ns=2)
    assert len(good.events) == 2
    assert caplog.text.count("trace sink") == 1


def test_emit_without_a_tracer_builds_nothing() -> None:
    events.emit(lambda **kw: pytest.fail("built"))  # type: ignore[arg-type]


# --- the driver's hooks --------------------------------------------------------------


async def test_rpc_client_reports_calls_replies_callbacks_and_close() -> None:
    recorder = Recorder()
    client_stream, server_stream = trio.testing.memory_stream_pair()
    core = FakeServerCore()
    args = glusterd.PmapPortByBrickReq(brick="/b")
    answer = glusterd.PmapPortByBrickRsp(op_ret=0, op_errno=0, status=0, port=49152)
    with events.tracing(recorder):
        async with client_over_stream(client_stream, "fake", trace_label="b") as client:

            async def serve() -> None:
                data = await server_stream.receive_some(65536)
                [(xid, _, _)] = core.receive(bytes(data))
                # A callback first, then the reply split in two sends.
                record = reply_record(xid, answer)
                await server_stream.send_all(
                    server_call_record(xid, 52743234, 1, 1) + record[:10]
                )
                await trio.sleep(0.01)
                await server_stream.send_all(record[10:])

            with trio.fail_after(5):
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(serve)
                    reply = await client.call(glusterd.PORTBYBRICK, args)
            assert reply.port == 49152
    connected, call, sent, *_ = recorder.events
    assert isinstance(connected, events.Connected)
    assert connected.conn.label == "b"
    assert connected.conn.local is None  # a memory stream has no socket
    assert isinstance(call, events.CallSent)
    assert call.procedure is glusterd.PORTBYBRICK
    assert call.args == args
    assert isinstance(sent, events.BytesSent)
    assert sum(len(b) for b in sent.buffers) == call.wire_len
    [callback] = recorder.of(events.ServerCallReceived)
    assert callback.name == "FETCHSPEC"
    [got] = recorder.of(events.ReplyReceived)
    assert got.xid == call.xid
    assert got.result == answer
    assert got.wire_len == len(reply_record(call.xid, answer))
    assert got.latency_ns is not None
    assert got.latency_ns >= 10_000_000
    received = b"".join(e.data for e in recorder.of(events.BytesReceived))
    assert received.endswith(reply_record(call.xid, answer))
    [closed] = recorder.of(events.Disconnected)
    assert "closed by us" in closed.reason


async def test_no_tracer_means_no_hook_object() -> None:
    client_stream, _ = trio.testing.memory_stream_pair()
    async with client_over_stream(client_stream, "fake") as client:
        assert client._trace is None


async def test_tasks_started_in_a_nursery_see_the_tracer() -> None:
    recorder = Recorder()
    seen: list[events.Tracer | None] = []

    async def child() -> None:
        seen.append(events.current_tracer.get())

    async with trio.open_nursery() as outer:
        with events.tracing(recorder):
            # Like the graph's nursery: opened here, tasks spawned later.
            async with trio.open_nursery() as nursery:
                nursery.start_soon(child)
            outer.start_soon(child)
    assert seen == [recorder, recorder]


def test_record_wire_sizes_any_chunking() -> None:
    """The wire size a trace reports comes from the core's record reader
    (marks included, every fragment counted), however the bytes arrive."""
    records = [reply_record(1, None), reply_record(2, None, payload=b"x" * 100)]
    # A two-fragment record for xid 3.
    body = reply_record(3, None)[4:]
    two = (
        struct.pack(">I", 5)
        + body[:5]
        + struct.pack(">I", 0x80000000 | (len(body) - 5))
        + body[5:]
    )
    big = reply_record(4, None, payload=b"y" * 200_000)  # returned as a view
    expected = [len(records[0]), len(records[1]), len(two), len(big)]
    data = b"".join(records) + two + big
    for step in (1, 3, 7, 4096, len(data)):
        reader = RecordReader()
        sizes = []
        for i in range(0, len(data), step):
            reader.feed(data[i : i + step])
            while (record := reader.next_record()) is not None:
                if isinstance(record, memoryview):
                    record.release()
                sizes.append(reader.last_record_wire_size)
        assert sizes == expected


# --- pcap --------------------------------------------------------------------------


def parse_pcap(data: bytes) -> list[tuple[bytes, int, bytes, int, int, int, bytes]]:
    """Packets as (src, sport, dst, dport, seq, flags, payload); checks checksums."""
    magic, major, minor, _, _, snaplen, linktype = struct.unpack_from("=IHHiIII", data)
    assert (magic, major, minor, linktype) == (0xA1B2C3D4, 2, 4, LINKTYPE_RAW)
    packets = []
    offset = 24
    while offset < len(data):
        _, _, caplen, length = struct.unpack_from("=IIII", data, offset)
        assert caplen == length <= snaplen
        packet = data[offset + 16 : offset + 16 + caplen]
        offset += 16 + caplen
        if packet[0] >> 4 == 4:
            assert packet[9] == 6
            assert struct.unpack_from("!H", packet, 2)[0] == len(packet)
            assert inet_checksum(packet[:20]) == 0
            src, dst, tcp = packet[12:16], packet[16:20], packet[20:]
            pseudo = src + dst + struct.pack("!xBH", 6, len(tcp))
        else:
            assert packet[0] >> 4 == 6
            assert packet[6] == 6
            src, dst, tcp = packet[8:24], packet[24:40], packet[40:]
            pseudo = src + dst + struct.pack("!IxxxB", len(tcp), 6)
        assert inet_checksum(pseudo + tcp) == 0
        sport, dport, seq, _ack, hlen, flags = struct.unpack_from("!HHIIBB", tcp)
        packets.append((src, sport, dst, dport, seq, flags, tcp[(hlen >> 4) * 4 :]))
    return packets


def inet_checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def reassemble(data: bytes) -> dict[tuple[bytes, int, bytes, int], bytes]:
    """Each direction's bytes, checking that sequence numbers follow on."""
    streams: dict[tuple[bytes, int, bytes, int], bytearray] = defaultdict(bytearray)
    next_seq: dict[tuple[bytes, int, bytes, int], int] = {}
    for src, sport, dst, dport, seq, flags, payload in parse_pcap(data):
        key = (src, sport, dst, dport)
        if flags & 0x02:  # SYN
            next_seq[key] = seq + 1
            streams[key]
            continue
        assert seq == next_seq[key], "sequence numbers must continue"
        assert len(payload) <= MAX_SEGMENT
        streams[key] += payload
        next_seq[key] = (seq + len(payload) + (flags & 0x01)) & 0xFFFFFFFF
    return {k: bytes(v) for k, v in streams.items()}


ENDS = [
    StreamEnds("127.0.0.1", 40001, "127.0.0.1", 24007),
    StreamEnds("::1", 40002, "::1", 49152),
    StreamEnds("10.0.0.1", 40003, "::ffff:10.0.0.2", 49153),
]


class TestPcapProperties:
    @given(
        st.lists(
            st.tuples(
                st.integers(0, len(ENDS) - 1),
                st.booleans(),
                st.one_of(st.binary(max_size=300), st.integers(65000, 140000)),
            ),
            max_size=20,
        )
    )
    def test_reassembled_streams_equal_the_input(
        self, steps: list[tuple[int, bool, bytes | int]]
    ) -> None:
        out = io.BytesIO()
        writer = PcapWriter(out)
        for key, ends in enumerate(ENDS):
            writer.open_stream(key, ends, 1.0)
        expected: dict[tuple[int, bool], bytes] = defaultdict(bytes)
        for i, (key, from_client, blob) in enumerate(steps):
            data = bytes([i % 256]) * blob if isinstance(blob, int) else blob
            writer.write(key, from_client, memoryview(data), 1.0 + i)
            expected[key, from_client] += data
        for key in range(len(ENDS)):
            writer.close_stream(key, key % 2 == 0, 99.0)
        got = reassemble(out.getvalue())
        assert len(got) == 2 * len(ENDS)
        for key in range(len(ENDS)):
            [(client, server)] = [
                (k, (k[2], k[3], k[0], k[1]))
                for k in got
                if k[1] == ENDS[key].client_port
            ]
            assert got[client] == expected[key, True]
            assert got[server] == expected[key, False]


def test_pcap_sink_writes_traced_bytes_on_real_and_fake_ends(tmp_path: Any) -> None:
    path = tmp_path / "t.pcap"
    unix = events.ConnInfo(8, "unix:/var/run/glusterd.socket")
    with trace.PcapTraceSink(path) as sink:
        for conn in (CONN, unix):
            sink.handle(events.Connected(1.0, conn))
            sink.handle(events.BytesSent(1.1, conn, (b"call", memoryview(b"data"))))
            sink.handle(events.BytesReceived(1.2, conn, b"reply"))
            sink.handle(events.BytesReceived(1.3, conn, b""))
            sink.handle(events.Disconnected(1.4, conn, "EOF"))
    got = reassemble(path.read_bytes())
    lo = bytes([127, 0, 0, 1])
    assert got[lo, 40000, lo, 49152] == b"calldata"
    assert got[lo, 49152, lo, 40000] == b"reply"
    # The unix socket: a fake ephemeral port to glusterd's 24007.
    assert got[lo, 40008, lo, 24007] == b"calldata"
    assert got[lo, 24007, lo, 40008] == b"reply"


def test_pcap_sink_needs_a_path_or_a_file() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        trace.PcapTraceSink()
