"""Sans-IO ONC RPC client connection: xids, calls out, replies and server calls in.

No sockets, no tasks, no clocks: the owner moves bytes (h11's shape). The
trio driver in :mod:`pygluster.rpc.client` is one such owner; tests are
another.

Theory of operation
-------------------
States: ``OPEN`` → ``CLOSED`` (the peer ended the stream cleanly) or ``ERROR``
(the peer sent something that breaks framing or the RPC header).

* :meth:`RpcConnection.send_call` assigns an xid, remembers which
  :class:`~pygluster.rpc.programs.Procedure` it was for, and returns the bytes
  to write as a list of buffers: ``[mark + header + arguments, payload]``. A
  WRITE payload is passed through untouched (h11
  ``send_with_data_passthrough``); the whole record is one fragment.
* The owner feeds received bytes to :meth:`receive_data` (``b""`` = EOF), or
  receives straight into :meth:`receive_buffer` and reports the count with
  :meth:`received` (0 = EOF), and then drains :meth:`next_event` until it
  returns :data:`NEED_DATA`. Events:

  - :class:`Reply` for each answered call, matched by xid. Replies arrive in
    any order (protocol.md §10). A reply that the server did not
    execute (MSG_DENIED, accept_stat != SUCCESS) or whose results do not
    decode carries ``error`` instead of ``result``: that fails one call, not
    the connection, because record framing is intact.
  - :class:`ServerCall` for CALL messages the server sends us (gluster's
    callback program: FETCHSPEC, CHILD_UP, ...). Their xids come from the
    server's own counter and may equal ours, so the message type is checked
    before any xid lookup (§9). Gluster clients never reply to them.
  - :class:`ConnectionClosed` once, after EOF on a record boundary.

* :meth:`abandon` forgets a call whose caller gave up (cancelled, timed out).
  Its late reply is dropped silently: a cancelled call must not turn into a
  protocol error later. A reply to an xid never sent is a protocol error.

Errors: a bad record mark, an oversized record, a truncated stream, an RPC
header that does not decode, or a reply to an unknown xid raise
:class:`~pygluster.errors.RemoteProtocolError` from :meth:`next_event` and put
the connection in ``ERROR``; further :meth:`next_event` calls raise the same
error and :meth:`send_call` raises :class:`~pygluster.errors.LocalProtocolError`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pygluster.errors import (
    GlusterError,
    LocalProtocolError,
    RemoteProtocolError,
    RpcDenied,
    RpcNotAccepted,
    XdrError,
)
from pygluster.rpc import xdr
from pygluster.rpc.record import (
    DEFAULT_MAX_RECORD_SIZE,
    DivertedRecord,
    RecordReader,
    record_mark,
)
from pygluster.rpc.sunrpc import (
    PLAIN_REPLY_HEADER_SIZE,
    AcceptedReply,
    AcceptStat,
    AuthStat,
    CallBody,
    MismatchInfo,
    MsgType,
    OpaqueAuth,
    RejectStat,
    ReplyStat,
    RpcMsg,
    decode_plain_reply_header,
    encode_call_header,
)

if TYPE_CHECKING:
    from pygluster._types import BytesLike
    from pygluster.rpc.programs import Procedure

__all__ = [
    "NEED_DATA",
    "ConnectionClosed",
    "ConnectionState",
    "Event",
    "Reply",
    "RpcConnection",
    "ServerCall",
]

R = TypeVar("R")

_XID_MODULUS = 2**32
#: Replies at least this large are received into the caller's buffer when
#: it offers one (a sink); below, one copy costs less than the bookkeeping.
_DIVERT_FROM = 64 * 1024

# Meanings of accept_stat, for error messages (RFC 5531 §9).
_ACCEPT_TEXT = {
    AcceptStat.PROG_UNAVAIL: "the server does not offer this program",
    AcceptStat.PROG_MISMATCH: "the server does not offer this program version",
    AcceptStat.PROC_UNAVAIL: "the server does not offer this procedure",
    AcceptStat.GARBAGE_ARGS: (
        "the server could not decode the arguments (for fops: no successful "
        "SETVOLUME on this connection yet)"
    ),
    AcceptStat.SYSTEM_ERR: "the server had a system error",
}


class ConnectionState(enum.Enum):
    """Where an :class:`RpcConnection` is in its life."""

    OPEN = "OPEN"
    CLOSED = "CLOSED"
    ERROR = "ERROR"


class _NeedData(enum.Enum):
    NEED_DATA = "NEED_DATA"

    def __repr__(self) -> str:
        return "NEED_DATA"


#: :meth:`RpcConnection.next_event` has nothing more until more bytes arrive.
NEED_DATA = _NeedData.NEED_DATA


@dataclass(frozen=True, slots=True)
class Reply(Generic[R]):
    """The server's answer to one of our calls.

    Exactly one of ``result`` and ``error`` is meaningful: ``error`` is set when
    the server did not execute the call or its results did not decode.
    ``payload`` is the raw data after the results (READ), a view into the
    received record; empty for other procedures.
    """

    xid: int
    procedure: Procedure[Any, R]
    result: R | None
    error: GlusterError | None = None
    payload: memoryview = field(default_factory=lambda: memoryview(b""))


@dataclass(frozen=True, slots=True)
class ServerCall:
    """A CALL message sent to us by the server (callback program).

    ``args`` are the raw XDR arguments; decoding them is up to the program
    that handles callbacks.
    """

    xid: int
    prog: int
    vers: int
    proc: int
    cred: OpaqueAuth
    args: bytes


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The peer closed the stream cleanly between records."""


Event = Reply[Any] | ServerCall | ConnectionClosed


class RpcConnection:
    """The client side of one RPC byte stream, with no I/O of its own.

    Args:
        first_xid: the first xid to use (xids then increase, wrapping at 2**32
            and skipping any still in flight).
        max_record_size: the largest record accepted from the peer.
    """

    def __init__(
        self, *, first_xid: int = 1, max_record_size: int = DEFAULT_MAX_RECORD_SIZE
    ) -> None:
        self._next_xid = first_xid % _XID_MODULUS
        self._pending: dict[int, Procedure[Any, Any]] = {}
        self._abandoned: set[int] = set()
        # Caller buffers for READ payloads, by xid, and the xid whose reply
        # is being received into its buffer right now.
        self._sinks: dict[int, memoryview] = {}
        # The xid and decoded results of the reply being received into its
        # caller's buffer right now.
        self._diverted: tuple[int, Any] | None = None
        self._reader = RecordReader(max_record_size)
        self._eof = False
        self._error: RemoteProtocolError | None = None
        self.state = ConnectionState.OPEN

    # --- sending --------------------------------------------------------------

    def send_call(
        self,
        procedure: Procedure[Any, Any],
        args: Any,
        *,
        cred: OpaqueAuth,
        payload: BytesLike = b"",
        sink: memoryview | None = None,
    ) -> tuple[int, list[BytesLike]]:
        """Build a CALL record.

        Args:
            procedure: what to call.
            args: the procedure's argument value.
            cred: the credential for this call (verifier is AUTH_NULL).
            payload: raw bytes to append after the arguments (WRITE only);
                returned as its own buffer, never copied.
            sink: where the reply's raw payload (READ) may be received
                directly, when it arrives in pieces (module notes); the
                reply's ``payload`` is then a view of it.

        Returns:
            The xid, and the buffers to write in order.

        Raises:
            LocalProtocolError: the connection is not OPEN, the payload is not
                allowed for this procedure, or the record is too large.
            XdrError: ``args`` do not fit the procedure's argument codec.
        """
        if self.state is not ConnectionState.OPEN:
            raise LocalProtocolError(
                f"cannot send {procedure}: connection is {self.state.value}"
            )
        if payload and not procedure.call_payload:
            raise LocalProtocolError(f"{procedure} takes no raw payload")
        xid = self._allocate_xid()
        program = procedure.program
        header = encode_call_header(
            xid, program.number, program.version, procedure.number, cred
        )
        body = header + xdr.encode(args, procedure.args)
        # One fragment per record: the brick breaks WRITEs split across
        # fragments (protocol.md §1, gotcha 6).
        mark = record_mark(len(body) + len(payload))
        self._pending[xid] = procedure
        if (
            sink is not None
            and procedure.reply_payload
            and not sink.readonly
            and sink.c_contiguous
        ):
            # Bytes, whatever the caller's item format (memoryview lengths
            # count items).
            self._sinks[xid] = sink if sink.format == "B" else sink.cast("B")
        buffers: list[BytesLike] = [mark + body]
        if payload:
            buffers.append(payload)
        return xid, buffers

    def _allocate_xid(self) -> int:
        for _ in range(len(self._pending) + len(self._abandoned) + 1):
            xid = self._next_xid
            self._next_xid = (xid + 1) % _XID_MODULUS
            if xid not in self._pending and xid not in self._abandoned:
                return xid
        raise LocalProtocolError("no free xid")  # pragma: no cover - 2**32 calls

    def abandon(self, xid: int) -> None:
        """Forget a call: its reply, if it ever comes, is dropped silently.

        Its sink is never written again: a reply being received into it
        goes on into scratch space.
        """
        self._sinks.pop(xid, None)
        if self._diverted is not None and self._diverted[0] == xid:
            self._reader.redirect()
        if self._pending.pop(xid, None) is not None:
            self._abandoned.add(xid)

    @property
    def pending(self) -> dict[int, Procedure[Any, Any]]:
        """Calls sent and not yet answered or abandoned, by xid (a copy)."""
        return dict(self._pending)

    # --- receiving ------------------------------------------------------------

    def receive_data(self, data: BytesLike) -> None:
        """Add bytes received from the peer; ``b""`` means end of stream.

        Raises:
            LocalProtocolError: data after EOF was signalled.
        """
        if self._eof:
            if data:
                raise LocalProtocolError("received data after end of stream")
            return
        if data:
            self._reader.feed(data)
        else:
            self._eof = True

    def receive_buffer(self) -> memoryview:
        """Where to receive the next bytes into, without a copy.

        Write into it, then report the count with :meth:`received`
        (:meth:`~pygluster.rpc.record.RecordReader.receive_buffer`).
        """
        return self._reader.receive_buffer()

    def received(self, count: int) -> None:
        """``count`` bytes were written into :meth:`receive_buffer`; 0 = EOF."""
        if count:
            if self._eof:
                raise LocalProtocolError("received data after end of stream")
            self._reader.received(count)
        else:
            self._eof = True

    @property
    def last_record_wire_size(self) -> int:
        """Wire bytes (record marks included) of the record behind the event
        :meth:`next_event` returned last (for traces)."""
        return self._reader.last_record_wire_size

    def next_event(self) -> Event | _NeedData:
        """Parse the next event from the received bytes.

        Returns:
            A :class:`Reply`, :class:`ServerCall`, :class:`ConnectionClosed`, or
            :data:`NEED_DATA` when more bytes are needed.

        Raises:
            RemoteProtocolError: the stream is broken (see the module notes).
        """
        if self._error is not None:
            raise self._error
        if self.state is ConnectionState.CLOSED:
            return ConnectionClosed()
        try:
            while True:
                record = self._reader.next_record()
                if record is None:
                    if not self._eof:
                        if self._sinks:
                            self._divert()
                        return NEED_DATA
                    self._reader.check_eof()
                    self.state = ConnectionState.CLOSED
                    return ConnectionClosed()
                event = self._process_record(record)
                if event is not None:
                    return event
        except RemoteProtocolError as exc:
            self._error = exc
            self.state = ConnectionState.ERROR
            raise

    def _divert(self) -> None:
        """Receive the rest of an arriving READ reply into its caller's sink.

        Done only for a large single-fragment record whose RPC header is a
        plain success and whose results decode from the bytes already here,
        and whose payload fits the sink; anything else takes the ordinary
        path (which also reports what is wrong with it).
        """
        arriving = self._reader.incomplete()
        if arriving is None:
            return
        length, view = arriving
        with view:
            if length < _DIVERT_FROM or len(view) < PLAIN_REPLY_HEADER_SIZE:
                return
            xid = decode_plain_reply_header(view)
            sink = self._sinks.get(xid) if xid is not None else None
            if xid is None or sink is None:
                return
            procedure = self._pending[xid]
            try:
                result, end = xdr.decode_prefix(
                    procedure.result, view[PLAIN_REPLY_HEADER_SIZE:]
                )
            except XdrError:
                return  # not all of the results yet; try again later
        header_size = PLAIN_REPLY_HEADER_SIZE + end
        payload_size = length - header_size
        if payload_size > len(sink):
            return
        del self._sinks[xid]
        self._reader.divert(header_size, sink[:payload_size])
        self._diverted = (xid, result)

    def _process_diverted(self, record: DivertedRecord) -> Event | None:
        assert self._diverted is not None
        xid, result = self._diverted
        self._diverted = None
        procedure = self._pending.pop(xid, None)
        if procedure is None:
            self._abandoned.discard(xid)  # its caller gave up meanwhile
            return None
        # Its results were decoded when it was diverted (_divert).
        return Reply(xid, procedure, result, payload=record.payload)

    def _process_record(
        self, record: bytes | memoryview | DivertedRecord
    ) -> Event | None:
        if isinstance(record, DivertedRecord):
            return self._process_diverted(record)
        view = memoryview(record)
        xid = decode_plain_reply_header(view)
        if xid is not None and xid in self._pending:
            # The common case on the hot path: one struct, no union walk.
            pending = self._pending.pop(xid)
            if self._sinks:
                self._sinks.pop(xid, None)
            return _decode_results(xid, pending, view[PLAIN_REPLY_HEADER_SIZE:])
        try:
            message, end = xdr.decode_prefix(RpcMsg, view)
        except XdrError as exc:
            raise RemoteProtocolError(f"undecodable RPC header: {exc}") from exc
        body = message.body
        if body.discriminant == MsgType.CALL:
            call: CallBody = body.value
            return ServerCall(
                xid=message.xid,
                prog=call.prog,
                vers=call.vers,
                proc=call.proc,
                cred=call.cred,
                args=bytes(view[end:]),
            )
        procedure = self._pending.pop(message.xid, None)
        self._sinks.pop(message.xid, None)
        if procedure is None:
            if message.xid in self._abandoned:
                self._abandoned.discard(message.xid)
                return None
            raise RemoteProtocolError(
                f"reply to xid {message.xid}, which we never sent or already got"
            )
        reply = body.value
        if reply.discriminant == ReplyStat.MSG_DENIED:
            return Reply(message.xid, procedure, None, _denied(procedure, reply.value))
        accepted: AcceptedReply = reply.value
        stat = accepted.reply_data.discriminant
        if stat != AcceptStat.SUCCESS:
            # A body may follow even so (glusterd appends one to GARBAGE_ARGS;
            # protocol.md §2.2): ignore it.
            return Reply(message.xid, procedure, None, _not_accepted(procedure, stat))
        return _decode_results(message.xid, procedure, view[end:])


def _decode_results(
    xid: int, procedure: Procedure[Any, R], data: memoryview
) -> Reply[R]:
    try:
        if procedure.reply_payload:
            result, end = xdr.decode_prefix(procedure.result, data)
            return Reply(xid, procedure, result, payload=data[end:])
        return Reply(xid, procedure, xdr.decode(procedure.result, data))
    except XdrError as exc:
        error = RemoteProtocolError(f"undecodable {procedure} reply (xid {xid}): {exc}")
        error.__cause__ = exc
        return Reply(xid, procedure, None, error)


def _denied(procedure: Procedure[Any, Any], rejected: xdr.UnionArm) -> RpcDenied:
    if rejected.discriminant == RejectStat.RPC_MISMATCH:
        info: MismatchInfo = rejected.value
        return RpcDenied(
            f"{procedure} denied: server speaks RPC versions {info.low}..{info.high}",
            stat=RejectStat.RPC_MISMATCH,
            low=info.low,
            high=info.high,
        )
    auth_stat: int = rejected.value
    try:
        reason = AuthStat(auth_stat).name
    except ValueError:
        reason = f"auth_stat {auth_stat}"
    return RpcDenied(
        f"{procedure} denied: authentication error ({reason})",
        stat=RejectStat.AUTH_ERROR,
        auth_stat=auth_stat,
    )


def _not_accepted(procedure: Procedure[Any, Any], stat: int) -> RpcNotAccepted:
    try:
        name = AcceptStat(stat).name
        text = _ACCEPT_TEXT[AcceptStat(stat)]
    except (ValueError, KeyError):
        name, text = f"accept_stat {stat}", "unknown accept status"
    return RpcNotAccepted(f"{procedure} not accepted: {name}, {text}", accept_stat=stat)
