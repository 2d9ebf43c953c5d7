"""Server-side halves for tests, built from the same codecs as the client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pygluster.rpc import xdr
from pygluster.rpc.record import DivertedRecord, RecordReader, record_mark
from pygluster.rpc.sunrpc import (
    AUTH_NULL,
    AcceptedReply,
    AcceptStat,
    CallBody,
    MismatchInfo,
    MsgType,
    OpaqueAuth,
    RejectStat,
    ReplyStat,
    RpcMsg,
    call_message,
)

if TYPE_CHECKING:
    from pygluster._types import BytesLike


def hexwords(text: str) -> bytes:
    """Bytes from the protocol doc's space-separated hex words."""
    return bytes.fromhex("".join(text.split()))


def reply_record(
    xid: int,
    result: Any = None,
    *,
    codec: xdr.Codec[Any] | None = None,
    accept_stat: int = AcceptStat.SUCCESS,
    payload: bytes = b"",
    trailing: bytes = b"",
) -> bytes:
    """A marked REPLY record, MSG_ACCEPTED, as a gluster server sends it."""
    if accept_stat == AcceptStat.PROG_MISMATCH:
        data = xdr.UnionArm(accept_stat, MismatchInfo(low=0, high=0))
    else:
        data = xdr.UnionArm(accept_stat, None)
    reply = xdr.UnionArm(
        ReplyStat.MSG_ACCEPTED, AcceptedReply(verf=AUTH_NULL, reply_data=data)
    )
    body = xdr.encode(RpcMsg(xid=xid, body=xdr.UnionArm(MsgType.REPLY, reply)))
    if result is not None:
        body += xdr.encode(result, codec)
    body += payload + trailing
    return record_mark(len(body)) + body


def denied_record(xid: int, stat: int, detail: Any) -> bytes:
    """A marked MSG_DENIED REPLY record."""
    if stat == RejectStat.RPC_MISMATCH:
        rejected = xdr.UnionArm(stat, detail)
    else:
        rejected = xdr.UnionArm(stat, detail)
    reply = xdr.UnionArm(ReplyStat.MSG_DENIED, rejected)
    body = xdr.encode(RpcMsg(xid=xid, body=xdr.UnionArm(MsgType.REPLY, reply)))
    return record_mark(len(body)) + body


def server_call_record(
    xid: int, prog: int, vers: int, proc: int, args: bytes = b""
) -> bytes:
    """A marked CALL record from server to client (gluster callbacks)."""
    body = xdr.encode(call_message(xid, prog, vers, proc, AUTH_NULL)) + args
    return record_mark(len(body)) + body


class FakeServerCore:
    """Parses CALL records the client sent: (xid, CallBody, raw args) each."""

    def __init__(self) -> None:
        self.reader = RecordReader()

    def receive(
        self, data: BytesLike
    ) -> list[tuple[int, CallBody, bytes | memoryview]]:
        self.reader.feed(data)
        calls: list[tuple[int, CallBody, bytes | memoryview]] = []
        while (record := self.reader.next_record()) is not None:
            # Only a diverting owner gets a DivertedRecord; this one never diverts.
            assert not isinstance(record, DivertedRecord)
            message, end = xdr.decode_prefix(RpcMsg, record)
            assert message.body.discriminant == MsgType.CALL
            calls.append((message.xid, message.body.value, record[end:]))
        return calls


__all__ = [
    "FakeServerCore",
    "OpaqueAuth",
    "denied_record",
    "hexwords",
    "reply_record",
    "server_call_record",
]
