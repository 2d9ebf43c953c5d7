"""The sans-IO RpcConnection: xids, out-of-order replies, server calls, errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pygluster.errors import (
    LocalProtocolError,
    RemoteProtocolError,
    RpcDenied,
    RpcNotAccepted,
)
from pygluster.rpc import glusterd, xdr
from pygluster.rpc.connection import (
    NEED_DATA,
    ConnectionClosed,
    ConnectionState,
    Reply,
    RpcConnection,
    ServerCall,
)
from pygluster.rpc.programs import Program, procedure
from pygluster.rpc.sunrpc import AuthStat, Credentials, MismatchInfo, RejectStat
from tests.helpers import (
    FakeServerCore,
    denied_record,
    reply_record,
    server_call_record,
)

CRED = Credentials(pid=1, uid=2, gid=3, groups=(4,)).auth_v2()
PMAP_OK = glusterd.PmapPortByBrickRsp(op_ret=0, op_errno=0, status=0, port=49152)
PAYLOAD_PROC = procedure(
    Program("test", 99, 1),
    1,
    "READISH",
    xdr.UINT,
    xdr.UINT,
    call_payload=True,
    reply_payload=True,
)


def send_portmap(conn: RpcConnection) -> int:
    xid, _ = conn.send_call(
        glusterd.PORTBYBRICK, glusterd.PmapPortByBrickReq(brick="/b"), cred=CRED
    )
    return xid


def events(conn: RpcConnection) -> list[Any]:
    # Any, not Event: each test knows which kinds of event it gets back.
    out: list[Any] = []
    while (event := conn.next_event()) is not NEED_DATA:
        out.append(event)
        if isinstance(event, ConnectionClosed):
            break
    return out


def test_call_record_is_one_fragment_with_payload_passed_through() -> None:
    conn = RpcConnection()
    payload = memoryview(b"x" * 10)
    xid, buffers = conn.send_call(PAYLOAD_PROC, 7, cred=CRED, payload=payload)
    assert buffers[1] is payload
    server = FakeServerCore()
    [(got_xid, call, args)] = server.receive(b"".join(bytes(b) for b in buffers))
    assert got_xid == xid
    assert (call.prog, call.vers, call.proc) == (99, 1, 1)
    assert call.cred == CRED
    assert args == xdr.encode(7, xdr.UINT) + b"x" * 10


def test_payload_refused_for_plain_procedures() -> None:
    with pytest.raises(LocalProtocolError, match="no raw payload"):
        RpcConnection().send_call(glusterd.PING, None, cred=CRED, payload=b"x")


def test_replies_out_of_order_match_by_xid() -> None:
    conn = RpcConnection()
    first, second = send_portmap(conn), send_portmap(conn)
    conn.receive_data(reply_record(second, PMAP_OK) + reply_record(first, PMAP_OK))
    got = events(conn)
    assert [e.xid for e in got] == [second, first]
    assert all(isinstance(e, Reply) and e.result == PMAP_OK for e in got)
    assert conn.pending == {}


def test_reply_payload_is_sliced_not_decoded() -> None:
    conn = RpcConnection()
    xid, _ = conn.send_call(PAYLOAD_PROC, 1, cred=CRED)
    conn.receive_data(reply_record(xid, 5, codec=xdr.UINT, payload=b"abcde"))
    [reply] = events(conn)
    assert reply.result == 5
    assert bytes(reply.payload) == b"abcde"


def test_server_call_is_an_event_even_when_xid_collides() -> None:
    conn = RpcConnection()
    xid = send_portmap(conn)
    conn.receive_data(
        server_call_record(xid, 52743234, 1, 1) + reply_record(xid, PMAP_OK)
    )
    call, reply = events(conn)
    assert isinstance(call, ServerCall)
    assert (call.prog, call.proc, call.args) == (52743234, 1, b"")
    assert isinstance(reply, Reply)


def test_abandoned_call_reply_is_dropped() -> None:
    conn = RpcConnection()
    xid = send_portmap(conn)
    conn.abandon(xid)
    conn.receive_data(reply_record(xid, PMAP_OK))
    assert events(conn) == []
    assert conn.state is ConnectionState.OPEN


def test_reply_to_unknown_xid_is_remote_error_and_sticks() -> None:
    conn = RpcConnection()
    conn.receive_data(reply_record(1234, PMAP_OK))
    with pytest.raises(RemoteProtocolError, match="xid 1234"):
        conn.next_event()
    assert conn.state is ConnectionState.ERROR
    with pytest.raises(RemoteProtocolError):
        conn.next_event()
    with pytest.raises(LocalProtocolError):
        send_portmap(conn)


@pytest.mark.parametrize(
    ("stat", "message"),
    [
        (1, "PROG_UNAVAIL"),
        (2, "PROG_MISMATCH"),
        (3, "PROC_UNAVAIL"),
        (4, "GARBAGE_ARGS"),
    ],
)
def test_not_accepted_fails_one_call(stat: int, message: str) -> None:
    conn = RpcConnection()
    xid = send_portmap(conn)
    # glusterd appends a body even to GARBAGE_ARGS: it must be ignored.
    conn.receive_data(reply_record(xid, accept_stat=stat, trailing=b"\0" * 8))
    [reply] = events(conn)
    assert isinstance(reply.error, RpcNotAccepted)
    assert reply.error.accept_stat == stat
    assert message in str(reply.error)
    assert conn.state is ConnectionState.OPEN


def test_denied_replies() -> None:
    conn = RpcConnection()
    a, b = send_portmap(conn), send_portmap(conn)
    conn.receive_data(
        denied_record(a, RejectStat.RPC_MISMATCH, MismatchInfo(low=2, high=2))
        + denied_record(b, RejectStat.AUTH_ERROR, AuthStat.AUTH_TOOWEAK)
    )
    first, second = events(conn)
    assert isinstance(first.error, RpcDenied)
    assert first.error.high == 2
    assert isinstance(second.error, RpcDenied)
    assert second.error.auth_stat == AuthStat.AUTH_TOOWEAK
    assert "AUTH_TOOWEAK" in str(second.error)


def test_undecodable_result_fails_only_that_call() -> None:
    conn = RpcConnection()
    xid = send_portmap(conn)
    conn.receive_data(reply_record(xid, 1, codec=xdr.UINT))  # too short
    [reply] = events(conn)
    assert isinstance(reply.error, RemoteProtocolError)
    assert "PORTBYBRICK" in str(reply.error)
    assert conn.state is ConnectionState.OPEN


def test_clean_and_unclean_eof() -> None:
    conn = RpcConnection()
    conn.receive_data(b"")
    assert isinstance(conn.next_event(), ConnectionClosed)
    assert conn.state is ConnectionState.CLOSED
    conn = RpcConnection()
    conn.receive_data(b"\x80\0\0\x10abc")
    conn.receive_data(b"")
    with pytest.raises(RemoteProtocolError, match="middle of a record"):
        conn.next_event()


def test_xids_wrap_and_skip_pending() -> None:
    conn = RpcConnection(first_xid=2**32 - 1)
    assert send_portmap(conn) == 2**32 - 1
    assert send_portmap(conn) == 0


class TestConnectionProperties:
    @given(blob=st.binary(max_size=400), eof=st.booleans())
    def test_garbage_gives_events_or_remote_protocol_error(
        self, blob: bytes, eof: bool
    ) -> None:
        conn = RpcConnection(max_record_size=1024)
        for _ in range(3):
            send_portmap(conn)
        conn.receive_data(blob)
        if eof:
            conn.receive_data(b"")
        try:
            for event in events(conn):
                assert isinstance(event, Reply | ServerCall | ConnectionClosed)
        except RemoteProtocolError:
            assert conn.state is ConnectionState.ERROR

    @given(order=st.permutations(range(6)), split=st.integers(1, 50))
    def test_any_reply_order_and_chunking(self, order: list[int], split: int) -> None:
        conn = RpcConnection()
        xids = [send_portmap(conn) for _ in range(6)]
        wire = b"".join(
            reply_record(
                xids[i],
                glusterd.PmapPortByBrickRsp(op_ret=0, op_errno=0, status=0, port=i),
            )
            for i in order
        )
        got = []
        for pos in range(0, len(wire), split):
            conn.receive_data(wire[pos : pos + split])
            got += events(conn)
        assert [e.result.port for e in got] == order


# --- receiving a READ payload straight into the caller's buffer (a sink) -------


def push(conn: RpcConnection, data: bytes, most: int) -> bytes:
    """Receive up to ``most`` bytes of ``data`` as a socket owner does."""
    target = conn.receive_buffer()
    count = min(len(target), most, len(data))
    target[:count] = data[:count]
    target.release()
    conn.received(count)
    return data[count:]


class TestSink:
    @settings(max_examples=30, deadline=None)
    @given(
        sizes=st.lists(st.integers(0, 300_000), min_size=1, max_size=4),
        sink_for=st.lists(st.booleans(), min_size=4, max_size=4),
        chunks=st.lists(st.integers(1, 200_000), min_size=1, max_size=10),
    )
    def test_payloads_land_in_sinks_or_views_with_the_same_bytes(
        self, sizes: list[int], sink_for: list[bool], chunks: list[int]
    ) -> None:
        conn = RpcConnection()
        sinks: dict[int, bytearray] = {}
        wire = b""
        expected: dict[int, bytes] = {}
        for i, size in enumerate(sizes):
            sink = bytearray(size + 7) if sink_for[i] else None
            xid, _ = conn.send_call(
                PAYLOAD_PROC,
                1,
                cred=CRED,
                sink=memoryview(sink) if sink is not None else None,
            )
            if sink is not None:
                sinks[xid] = sink
            expected[xid] = bytes([i + 1]) * size
            wire += reply_record(xid, size, codec=xdr.UINT, payload=expected[xid])
        got: dict[int, Reply[int]] = {}
        step = 0
        while wire:
            wire = push(conn, wire, chunks[step % len(chunks)])
            step += 1
            for event in events(conn):
                got[event.xid] = event
        assert sorted(got) == sorted(expected)
        for xid, reply in got.items():
            assert reply.result == len(expected[xid])
            assert bytes(reply.payload) == expected[xid]
            if reply.payload.obj is sinks.get(xid):
                # Received in place: the sink holds it, at its start.
                assert bytes(sinks[xid][: len(expected[xid])]) == expected[xid]
        assert conn.pending == {}

    def test_large_reply_in_pieces_is_received_into_the_sink(self) -> None:
        conn = RpcConnection()
        sink = bytearray(1 << 20)
        xid, _ = conn.send_call(PAYLOAD_PROC, 1, cred=CRED, sink=memoryview(sink))
        payload = bytes(range(256)) * 4096
        wire = reply_record(xid, len(payload), codec=xdr.UINT, payload=payload)
        wire = push(conn, wire, 65536)
        assert events(conn) == []
        while wire:
            wire = push(conn, wire, 100_000)
            got = events(conn)
        [reply] = got
        assert reply.payload.obj is sink
        assert sink == payload

    def test_abandoned_call_never_writes_its_sink_again(self) -> None:
        conn = RpcConnection()
        sink = bytearray(1 << 20)
        xid, _ = conn.send_call(PAYLOAD_PROC, 1, cred=CRED, sink=memoryview(sink))
        later = send_portmap(conn)
        payload = b"\xab" * (1 << 20)
        wire = reply_record(xid, len(payload), codec=xdr.UINT, payload=payload)
        wire += reply_record(later, PMAP_OK)
        wire = push(conn, wire, 300_000)
        assert events(conn) == []
        written = sink.count(0xAB)
        assert written > 0  # part of it went straight into the sink
        conn.abandon(xid)  # the caller gave up (cancelled, timed out)
        while wire:
            wire = push(conn, wire, 300_000)
            got = events(conn)
        assert [e.xid for e in got] == [later]  # the READ reply is dropped
        assert sink.count(0xAB) == written  # and its sink untouched since
        assert conn.pending == {}

    @given(chunks=st.lists(st.integers(1, 200_000), min_size=1, max_size=8))
    @settings(max_examples=30, deadline=None)
    def test_sink_works_when_bytes_are_fed_not_received_in_place(
        self, chunks: list[int]
    ) -> None:
        """The Stream path feeds copies (receive_data): a diverted record
        must still complete, and the records after it stay intact."""
        conn = RpcConnection()
        sink = bytearray(1 << 20)
        xid, _ = conn.send_call(PAYLOAD_PROC, 1, cred=CRED, sink=memoryview(sink))
        later = send_portmap(conn)
        payload = bytes(range(256)) * 1024
        wire = reply_record(xid, len(payload), codec=xdr.UINT, payload=payload)
        wire += reply_record(later, PMAP_OK)
        got = []
        step = 0
        while wire:
            size = chunks[step % len(chunks)]
            conn.receive_data(wire[:size])
            wire = wire[size:]
            step += 1
            got += events(conn)
        assert [e.xid for e in got] == [xid, later]
        assert bytes(got[0].payload) == payload
        assert got[1].result == PMAP_OK

    def test_read_only_or_typed_sinks_are_safe(self) -> None:
        conn = RpcConnection()
        frozen = memoryview(bytes(1 << 18))  # read-only: never written
        words = memoryview(bytearray(1 << 18)).cast("I")  # counted in bytes
        first, _ = conn.send_call(PAYLOAD_PROC, 1, cred=CRED, sink=frozen)
        second, _ = conn.send_call(PAYLOAD_PROC, 1, cred=CRED, sink=words)
        payload = b"\x5a" * (1 << 18)
        wire = reply_record(first, len(payload), codec=xdr.UINT, payload=payload)
        wire += reply_record(second, len(payload), codec=xdr.UINT, payload=payload)
        got = []
        while wire:
            wire = push(conn, wire, 50_000)
            got += events(conn)
        assert [bytes(e.payload) == payload for e in got] == [True, True]
        assert got[0].payload.obj is not frozen.obj
        assert got[1].payload.obj is words.obj  # received in place
