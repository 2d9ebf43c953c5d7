"""The sans-IO RpcConnection: xids, out-of-order replies, server calls, errors."""

from __future__ import annotations

import pytest
from hypothesis import given
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


def events(conn: RpcConnection) -> list:
    out = []
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
