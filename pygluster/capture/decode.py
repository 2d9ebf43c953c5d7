"""Gluster RPC conversations from packet captures: reassembly, framing, decoding.

Turns the TCP segments of :mod:`pygluster.capture.pcap` into one :class:`Message` per
RPC record, for traffic of any gluster client or server (gfapi, FUSE mounts,
glusterd, bricks): GF-DUMP, the handshake, portmap, fops v330 and v400,
callbacks, with old-style and typed dicts. glusterd's internal programs
(peer, CLI, mgmt) are recognised and reported header-only.

Theory of operation
-------------------
:class:`Decoder` is fed segments in capture order (:meth:`Decoder.feed`) and
returns the messages each one completes; :meth:`Decoder.finish` flushes what
is left at the end of the capture. Per TCP connection (a 4-tuple; a new SYN
with another initial sequence number starts a new one, as tshark's
``tcp.stream`` does) each direction is a separate byte stream:

* **Reassembly by sequence number.** Bytes are delivered in sequence order.
  Retransmitted and overlapping bytes are trimmed, early segments wait in a
  pending table. A direction whose SYN was not captured starts at its first
  data segment. A hole that is never filled (packets the capture dropped, a
  snap length cutting payload) becomes a *gap* as soon as the peer
  acknowledges bytes beyond it (or much later data piles up, or the capture
  ends): reported once, the partial record of that direction abandoned, and
  delivery resumes after the hole.
* **Framing.** A direction is *synced* when its next byte is known to start
  a record (after a SYN). Synced bytes go through
  :class:`~pygluster.rpc.record.RecordReader`. An unsynced direction (no SYN,
  or after a gap or garbage) scans for the first offset that looks like an
  RPC record (last-fragment mark, sane length, a CALL of a gluster program or
  an accepted/denied REPLY) and syncs there; skipped bytes are reported.
* **Decoding.** Each record's ``rpc_msg`` header is decoded with
  :class:`~pygluster.rpc.sunrpc.RpcMsg`; a CALL's procedure comes from the
  program table below, a REPLY's from the CALL with the same xid sent the
  other way on the same connection (callbacks run server to client, with
  their own xid space, so the two directions never mix). WRITE's and PUT's
  call payload and READ's reply payload are reported as lengths only.

Nothing raised by a record escapes: an undecodable record becomes a Message
with ``error`` set, and the decoder goes on. Only the capture file itself can
fail (:class:`~pygluster.capture.pcap.PcapError`), in :func:`decode_capture`.
"""

from __future__ import annotations

import dataclasses
import json
import struct
from typing import TYPE_CHECKING, Any

from pygluster.capture.pcap import ACK, FIN, SYN, PcapError, PcapReader, TcpSegment
from pygluster.capture.render import (
    DECODE,
    credential_fields,
    enum_text,
    errno_name,
    name_enums,
    render,
)
from pygluster.errors import RemoteProtocolError, XdrError
from pygluster.rpc import callback, fops, fops_v3, glusterd, sunrpc, xdr
from pygluster.rpc.programs import (
    Procedure,
    ProgramNumber,
    all_programs,
    find_program,
)
from pygluster.rpc.record import (
    DEFAULT_MAX_RECORD_SIZE,
    DivertedRecord,
    RecordReader,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "Connection",
    "Decoder",
    "Message",
    "PcapError",
    "decode_capture",
    "program_name",
]


# --- what is known about each program -------------------------------------------

# Every declaring module, imported for its programs (rpc/programs.py registry).
_DECLARING_MODULES = (glusterd, callback, fops, fops_v3)

#: Program numbers that make a CALL plausible when resyncing a stream.
_KNOWN_PROGRAMS = frozenset(program.number for program in all_programs())
#: Procedure 0 of every program: no arguments, no results (RFC 5531 §12).
_NULL_PROC = Procedure(glusterd.DUMP_PROGRAM, 0, "NULL", xdr.VOID, xdr.VOID)


def program_name(prog: int, vers: int) -> str | None:
    """The name of a known program version (``"GlusterFS 4.x v1"``), or None."""
    program = find_program(prog, vers)
    return program.name if program is not None else None


# --- messages ---------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class Message:
    """One RPC record of a capture, or a stream-level event (gap, garbage).

    Attributes:
        time: capture time of the segment that completed the record (epoch s).
        frame: its frame number (tshark's ``frame.number``).
        conn: connection id, numbered from 0 in order of first appearance
            (like tshark's ``tcp.stream``).
        src, dst: ``ip:port`` of sender and receiver.
        type: ``"call"``, ``"reply"``, ``"stream"`` for events that are not
            a record (a gap in the capture, bytes skipped while resyncing), or
            ``"?"`` for a record whose message type is neither.
        xid: the RPC transaction id (None for stream events and headers too
            short to hold one).
        prog, vers, proc: program, version and procedure numbers; for a reply
            those of its call (None when the call is not in the capture).
        program, name: their names when known (``"GlusterFS 4.x v1"``,
            ``"WRITE"``).
        fields: the decoded arguments or results as JSON-able values: bytes as
            hex, gfids as UUID text, enums by name, dicts as
            ``{key: {"type", "value"}}``; for replies also ``reply_stat`` /
            ``accept_stat`` when not a plain success.
        cred: a CALL's credential (flavor and, for AUTH_GLUSTERFS v2/v3, its
            fields), or None.
        payload_len: raw bytes after the XDR part (WRITE/PUT calls, READ
            replies), else None.
        leftover: bytes after the decoded XDR part that should not be there.
        record_len: length of the record, record marks excluded.
        latency: for a reply, seconds since its call.
        error: why the record is malformed, unknown or undecodable; None if
            it decoded completely.
        note: information that is not an error (header-only program, reply
            whose call is not in the capture, bytes skipped before syncing).
    """

    time: float
    frame: int
    conn: int
    src: str
    dst: str
    type: str
    xid: int | None = None
    prog: int | None = None
    vers: int | None = None
    proc: int | None = None
    program: str | None = None
    name: str | None = None
    fields: dict[str, Any] = dataclasses.field(default_factory=dict)
    cred: dict[str, Any] | None = None
    payload_len: int | None = None
    leftover: int = 0
    record_len: int = 0
    latency: float | None = None
    error: str | None = None
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The message as a JSON-able dict (what :meth:`to_json` prints)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def to_json(self) -> str:
        """One line of JSON, ASCII-only (undecodable name bytes are escaped)."""
        return json.dumps(self.as_dict(), separators=(",", ":"))


@dataclasses.dataclass(slots=True)
class Connection:
    """One TCP connection of the capture.

    Attributes:
        id: its number (from 0, in order of first appearance).
        client, server: ``ip:port`` of each side. Known for sure when the SYN
            was captured; otherwise the side sending non-callback CALLs is the
            client (before any, the lower port is taken as the server).
        syn_seen: the connection's start was captured.
        messages: records decoded on it.
    """

    id: int
    client: str
    server: str
    syn_seen: bool = False
    messages: int = 0


# --- JSON conversion of decoded values (the shared renderer, decode style) -----


def _jsonable(value: object) -> Any:
    """A decoded XDR value as plain JSON types (see :attr:`Message.fields`)."""
    return render(value, DECODE)


def _fields(name: str | None, value: object) -> dict[str, Any]:
    """The top-level fields of a decoded struct, with per-fop enum names."""
    converted = render(value, DECODE)
    if not isinstance(converted, dict):
        return {} if converted is None else {"value": converted}
    name_enums(name, converted)
    op_ret, op_errno = converted.get("op_ret"), converted.get("op_errno")
    if isinstance(op_ret, int) and op_ret < 0 and isinstance(op_errno, int):
        converted["op_errno_name"] = errno_name(op_errno)
    return converted


# --- reassembly -------------------------------------------------------------------

_SEQ_MOD = 1 << 32
#: Out-of-order bytes held while waiting for a hole to fill. The sender cannot
#: run further ahead than the receive window, so a hole still open after this
#: much later data was lost by the capture, not delayed.
_MAX_PENDING_BYTES = 32 * 1024 * 1024
_MAX_PENDING_SEGMENTS = 4096


def _seq_delta(seq: int, base: int) -> int:
    """``seq - base`` in 32-bit sequence space, as a signed number."""
    return (seq - base + (1 << 31)) % _SEQ_MOD - (1 << 31)


@dataclasses.dataclass(slots=True)
class _Call:
    """A CALL waiting for its reply."""

    prog: int
    vers: int
    proc: int
    program: str | None
    name: str | None
    procedure: Procedure[Any, Any] | None
    time: float


class _Direction:
    """One direction of a connection: reassembly state and framing."""

    __slots__ = (
        "calls",
        "dst",
        "fin",
        "next_seq",
        "pending",
        "pending_bytes",
        "reader",
        "scan",
        "src",
        "synced",
    )

    def __init__(self, src: str, dst: str) -> None:
        self.src = src
        self.dst = dst
        self.next_seq: int | None = None
        # Sequence number of this direction's FIN, once seen.
        self.fin: int | None = None
        # seq -> payload, for segments that arrived ahead of a hole.
        self.pending: dict[int, bytes] = {}
        self.pending_bytes = 0
        self.reader = RecordReader()
        # Unsynced bytes being scanned for a record boundary.
        self.scan = bytearray()
        self.synced = False
        # Calls sent this way, by xid, until their reply comes back.
        self.calls: dict[int, _Call] = {}

    def accept(self, seq: int, payload: bytes) -> list[bytes | int]:
        """Take a segment; return in-order chunks: bytes, or an int gap size."""
        out: list[bytes | int] = []
        if self.next_seq is None:
            self.next_seq = seq  # no SYN seen: start here
        delta = _seq_delta(seq, self.next_seq)
        if delta > 0:
            if len(payload) > len(self.pending.get(seq, b"")):
                self.pending_bytes += len(payload) - len(self.pending.get(seq, b""))
                self.pending[seq] = payload
            if (
                self.pending_bytes > _MAX_PENDING_BYTES
                or len(self.pending) > _MAX_PENDING_SEGMENTS
            ):
                self._skip_hole(out)
            return out
        self._take(delta, payload, out)
        self._drain(out)
        return out

    def flush(self) -> list[bytes | int]:
        """End of capture: give up on every hole still open."""
        out: list[bytes | int] = []
        while self.pending:
            self._skip_hole(out)
        return out

    def acked(self, ack: int) -> list[bytes | int]:
        """The peer acknowledged up to ``ack``: bytes before it that the
        capture lacks will never come (tshark's "ACKed unseen segment")."""
        out: list[bytes | int] = []
        if self.next_seq is None or not (
            0 < _seq_delta(ack, self.next_seq) <= _MAX_PENDING_BYTES
        ):
            return out  # nothing new, or too far ahead to be believed
        if self.fin is not None and _seq_delta(ack, self.fin) > 0:
            ack = self.fin  # the FIN takes one sequence number, no byte
        while self.next_seq is not None and _seq_delta(ack, self.next_seq) > 0:
            base = self.next_seq
            if self.pending and min(
                _seq_delta(seq, base) for seq in self.pending
            ) <= _seq_delta(ack, base):
                self._skip_hole(out)
            else:
                out.append(_seq_delta(ack, base))
                self.next_seq = ack
                self._drain(out)
        return out

    def skip(self, count: int) -> list[bytes | int]:
        """``count`` bytes are known lost (snap length): a gap now."""
        out: list[bytes | int] = []
        if count and self.next_seq is not None:
            self.next_seq = (self.next_seq + count) % _SEQ_MOD
            out.append(count)
            self._drain(out)
        return out

    def _take(self, delta: int, payload: bytes, out: list[bytes | int]) -> None:
        # delta <= 0: the segment starts at or before the next byte wanted.
        assert self.next_seq is not None
        fresh = payload[-delta:] if delta else payload
        if len(payload) + delta <= 0 or not fresh:
            return  # a pure retransmission
        out.append(fresh)
        self.next_seq = (self.next_seq + len(fresh)) % _SEQ_MOD

    def _drain(self, out: list[bytes | int]) -> None:
        assert self.next_seq is not None
        progress = True
        while progress and self.pending:
            progress = False
            for seq in list(self.pending):
                delta = _seq_delta(seq, self.next_seq)
                if delta <= 0:
                    payload = self.pending.pop(seq)
                    self.pending_bytes -= len(payload)
                    self._take(delta, payload, out)
                    progress = True

    def _skip_hole(self, out: list[bytes | int]) -> None:
        assert self.next_seq is not None
        base = self.next_seq
        first = min(self.pending, key=lambda seq: _seq_delta(seq, base))
        out.append(_seq_delta(first, base))
        self.next_seq = first
        self._drain(out)


# --- the decoder ------------------------------------------------------------------

_MARK = struct.Struct(">I")
_XID_MTYPE = struct.Struct(">II")
_WORDS5 = struct.Struct(">IIIII")
_LAST_FRAGMENT = 0x8000_0000
_KNOWN_FLAVORS = frozenset(int(flavor) for flavor in sunrpc.AuthFlavor)


def _plausible_record(buf: bytearray, at: int) -> bool:
    """Do the bytes at ``at`` look like the start of a gluster RPC record?

    Used only to resync a stream: the mark must end a record with a sane
    length, and the header be a CALL to a known program (RPC version 2) or an
    accepted/denied REPLY with a known verifier flavor.
    """
    (mark,) = _MARK.unpack_from(buf, at)
    length = mark & 0x7FFF_FFFF
    if not mark & _LAST_FRAGMENT or not 12 <= length <= DEFAULT_MAX_RECORD_SIZE:
        return False
    _xid, mtype, a, b, c = _WORDS5.unpack_from(buf, at + 4)
    if mtype == sunrpc.MsgType.CALL:
        return a == sunrpc.RPC_VERSION and b in _KNOWN_PROGRAMS and c < 1000
    if mtype == sunrpc.MsgType.REPLY:
        if a == sunrpc.ReplyStat.MSG_DENIED:
            return b in (sunrpc.RejectStat.RPC_MISMATCH, sunrpc.RejectStat.AUTH_ERROR)
        return a == sunrpc.ReplyStat.MSG_ACCEPTED and b in _KNOWN_FLAVORS and c <= 400
    return False


@dataclasses.dataclass(slots=True)
class _Delivery:
    """Bytes of one direction on their way to records: the connection and
    direction they belong to, the segment (time, frame) that brought them, and
    the list the messages they complete go to."""

    conn: Connection
    direction: _Direction
    time: float
    frame: int
    out: list[Message]

    def message(self, type_: str) -> Message:
        """A message of this direction, stamped with the segment's time."""
        return Message(
            time=self.time,
            frame=self.frame,
            conn=self.conn.id,
            src=self.direction.src,
            dst=self.direction.dst,
            type=type_,
        )

    def event(self, *, error: str | None = None, note: str | None = None) -> None:
        """Report something about the stream itself (a gap, skipped bytes)."""
        event = self.message("stream")
        event.error, event.note = error, note
        self.out.append(event)


def _report_skip(delivery: _Delivery, count: int) -> None:
    delivery.event(note=f"skipped {count} bytes that do not start an RPC record")


class Decoder:
    """Decodes the gluster RPC traffic of a capture, segment by segment.

    Attributes:
        connections: every TCP connection seen, by id.
    """

    def __init__(self) -> None:
        self.connections: list[Connection] = []
        # (endpoint, endpoint) sorted -> connection id, for the live ones.
        self._by_endpoints: dict[tuple[str, str], int] = {}
        self._directions: dict[tuple[int, str], _Direction] = {}
        self._last_time = 0.0
        self._last_frame = 0

    def feed(self, segment: TcpSegment) -> list[Message]:
        """Take the next segment of the capture; return the messages it completes."""
        self._last_time, self._last_frame = segment.time, segment.frame
        src, dst = segment.source, segment.destination
        conn = self._connection(segment, src, dst)
        direction = self._direction(conn, src, dst)
        out: list[Message] = []
        if segment.flags & ACK:
            # Bytes the peer has acknowledged but the capture lacks are lost.
            peer = self._directions.get((conn.id, dst))
            if peer is not None and peer.next_seq is not None:
                chunks = peer.acked(segment.ack)
                if chunks:
                    self._deliver(
                        _Delivery(conn, peer, segment.time, segment.frame, out), chunks
                    )
        if segment.flags & SYN:
            if direction.next_seq is None:
                direction.next_seq = (segment.seq + 1) % _SEQ_MOD
                direction.synced = True
            return out
        if segment.flags & FIN:
            direction.fin = (
                segment.seq + len(segment.payload) + segment.missing
            ) % _SEQ_MOD
        if not segment.payload and not segment.missing:
            return out
        if direction.next_seq is None:
            direction.next_seq = segment.seq
        chunks = direction.accept(segment.seq, segment.payload)
        if segment.missing:
            chunks += direction.skip(segment.missing)
        self._deliver(
            _Delivery(conn, direction, segment.time, segment.frame, out), chunks
        )
        return out

    def finish(self) -> list[Message]:
        """End of capture: report holes and records cut off, return the rest."""
        out: list[Message] = []
        for (conn_id, _), direction in self._directions.items():
            conn = self.connections[conn_id]
            at_end = _Delivery(conn, direction, self._last_time, self._last_frame, out)
            self._deliver(at_end, direction.flush())
            buffered = direction.reader.buffered if direction.synced else 0
            if buffered:
                at_end.event(
                    error=f"capture ends inside a record ({buffered} bytes of "
                    "it captured)"
                )
        return out

    def unanswered(self) -> int:
        """Calls still waiting for a reply (callbacks are never answered)."""
        return sum(
            1
            for direction in self._directions.values()
            for call in direction.calls.values()
            if call.prog != ProgramNumber.GLUSTER_CBK
        )

    # --- connections ---

    def _connection(self, segment: TcpSegment, src: str, dst: str) -> Connection:
        a, b = sorted((src, dst))
        conn_id = self._by_endpoints.get((a, b))
        opening = bool(segment.flags & SYN) and not segment.flags & ACK
        if conn_id is not None and opening:
            # A SYN on a known 4-tuple: a retransmitted SYN, or port reuse.
            old = self._directions.get((conn_id, src))
            if old is None or old.next_seq != (segment.seq + 1) % _SEQ_MOD:
                conn_id = None
        if conn_id is None:
            conn_id = len(self.connections)
            if opening:
                client, server = src, dst
            else:
                # No SYN: guess that the lower port is the server's.
                client, server = sorted(
                    (src, dst), key=lambda e: int(e.rsplit(":", 1)[1]), reverse=True
                )
            self.connections.append(
                Connection(conn_id, client=client, server=server, syn_seen=opening)
            )
            self._by_endpoints[a, b] = conn_id
        return self.connections[conn_id]

    def _direction(self, conn: Connection, src: str, dst: str) -> _Direction:
        direction = self._directions.get((conn.id, src))
        if direction is None:
            direction = _Direction(src, dst)
            self._directions[conn.id, src] = direction
        return direction

    # --- framing ---

    def _deliver(self, delivery: _Delivery, chunks: list[bytes | int]) -> None:
        direction = delivery.direction
        for chunk in chunks:
            if isinstance(chunk, int):
                delivery.event(
                    error=f"{chunk} bytes missing from the capture; the partial "
                    "record is abandoned and the stream resynced"
                )
                self._unsync(direction)
                continue
            if direction.synced:
                direction.reader.feed(chunk)
            else:
                direction.scan += chunk
                data = self._resync(delivery)
                if data is None:
                    continue
                direction.reader.feed(data)
            self._drain(delivery)

    def _unsync(self, direction: _Direction) -> None:
        direction.synced = False
        direction.reader = RecordReader()
        direction.scan.clear()

    def _resync(self, delivery: _Delivery) -> bytes | None:
        """Find a record start in the scan buffer; return the bytes from there."""
        direction = delivery.direction
        buf = direction.scan
        at = 0
        while True:
            at = buf.find(b"\x80", at)
            if at < 0 or len(buf) - at < 24:
                # Keep only what could still start a record.
                keep = len(buf) - (at if at >= 0 else len(buf))
                dropped = len(buf) - keep
                if dropped:
                    _report_skip(delivery, dropped)
                    del buf[:dropped]
                return None
            if _plausible_record(buf, at):
                break
            at += 1
        if at:
            _report_skip(delivery, at)
        data = bytes(buf[at:])
        buf.clear()
        direction.synced = True
        return data

    def _drain(self, delivery: _Delivery) -> None:
        direction = delivery.direction
        while True:
            try:
                record = direction.reader.next_record()
            except RemoteProtocolError as exc:
                delivery.event(error=str(exc))
                self._unsync(direction)
                return
            if record is None:
                return
            assert not isinstance(record, DivertedRecord)  # we never divert
            message, framed = self._message(delivery, record)
            delivery.conn.messages += 1
            delivery.out.append(message)
            if not framed:
                # The header did not decode: the framing cannot be trusted.
                self._unsync(direction)
                return

    # --- decoding ---

    def _message(
        self, delivery: _Delivery, record: bytes | memoryview
    ) -> tuple[Message, bool]:
        """Decode one record; False if its RPC header is garbage."""
        conn, direction = delivery.conn, delivery.direction
        message = delivery.message("?")
        message.record_len = len(record)
        if len(record) >= 8:
            message.xid, mtype = _XID_MTYPE.unpack_from(record)
            message.type = {0: "call", 1: "reply"}.get(mtype, "?")
        try:
            header, end = xdr.decode_prefix(sunrpc.RpcMsg, record)
        except XdrError as exc:
            message.error = f"not an RPC message: {exc}"
            message.leftover = len(record)
            return message, False
        body = memoryview(record)[end:]
        if header.body.discriminant == sunrpc.MsgType.CALL:
            self._call(conn, direction, header.body.value, body, message)
        else:
            self._reply(conn, direction, header.body.value, body, message)
        return message, True

    def _call(
        self,
        conn: Connection,
        direction: _Direction,
        call: sunrpc.CallBody,
        body: memoryview,
        message: Message,
    ) -> None:
        message.prog, message.vers, message.proc = call.prog, call.vers, call.proc
        try:
            message.cred = credential_fields(call.cred, DECODE)
        except XdrError as exc:
            message.error = f"bad credential: {exc}"
        info = find_program(call.prog, call.vers)
        procedure: Procedure[Any, Any] | None = None
        if info is not None:
            message.program = info.name
            message.name = info.name_of(call.proc)
            procedure = info.procedures.get(call.proc)
            if procedure is None and call.proc == 0:
                procedure = _NULL_PROC
                message.name = "NULL"
        if call.prog != ProgramNumber.GLUSTER_CBK and not conn.syn_seen:
            # Whoever sends ordinary CALLs is the client.
            conn.client, conn.server = direction.src, direction.dst
        assert message.xid is not None
        direction.calls[message.xid] = _Call(
            call.prog,
            call.vers,
            call.proc,
            message.program,
            message.name,
            procedure,
            message.time,
        )
        if call.rpcvers != sunrpc.RPC_VERSION:
            message.error = f"RPC version {call.rpcvers}, not {sunrpc.RPC_VERSION}"
            message.leftover = len(body)
            return
        if info is None:
            message.error = f"unknown program {call.prog} version {call.vers}"
            message.leftover = len(body)
            return
        if procedure is None:
            message.note = (
                "header only: glusterd-internal program"
                if info.header_only
                else f"header only: procedure {call.proc} is not declared"
            )
            return
        self._body(procedure, procedure.args, procedure.call_payload, body, message)

    def _reply(
        self,
        conn: Connection,
        direction: _Direction,
        reply: xdr.UnionArm,
        body: memoryview,
        message: Message,
    ) -> None:
        assert message.xid is not None
        # The call went the other way on this connection.
        peer = self._directions.get((conn.id, direction.dst))
        call = peer.calls.pop(message.xid, None) if peer is not None else None
        if call is not None:
            message.prog, message.vers, message.proc = call.prog, call.vers, call.proc
            message.program, message.name = call.program, call.name
            message.latency = message.time - call.time
        if reply.discriminant == sunrpc.ReplyStat.MSG_DENIED:
            rejected: xdr.UnionArm = reply.value
            message.fields = {
                "reply_stat": "MSG_DENIED",
                "reject_stat": enum_text(sunrpc.RejectStat, rejected.discriminant),
            }
            if isinstance(rejected.value, int):
                message.fields["auth_stat"] = enum_text(sunrpc.AuthStat, rejected.value)
            else:
                message.fields.update(_jsonable(rejected.value))
            message.leftover = len(body)
            if body:
                message.error = f"{len(body)} bytes after a denied reply"
            return
        accepted: sunrpc.AcceptedReply = reply.value
        status = accepted.reply_data.discriminant
        if status != sunrpc.AcceptStat.SUCCESS:
            message.fields = {"accept_stat": enum_text(sunrpc.AcceptStat, status)}
            if accepted.reply_data.value is not None:
                message.fields.update(_jsonable(accepted.reply_data.value))
            message.leftover = len(body)
            if body:
                # glusterd appends a result body after GARBAGE_ARGS; ignore it.
                message.note = f"{len(body)} bytes after accept_stat ignored"
            return
        if call is None:
            message.note = "no call with this xid earlier in the capture"
            message.leftover = len(body)
            return
        if call.procedure is None:
            message.note = "header only"
            return
        procedure = call.procedure
        self._body(procedure, procedure.result, procedure.reply_payload, body, message)

    def _body(
        self,
        procedure: Procedure[Any, Any],
        codec: xdr.Codec[Any],
        payload: bool,
        body: memoryview,
        message: Message,
    ) -> None:
        try:
            value, used = xdr.decode_prefix(codec, body)
        except XdrError as exc:
            message.error = f"{procedure.name}: {exc}"
            message.leftover = len(body)
            return
        message.fields.update(_fields(procedure.name, value))
        rest = len(body) - used
        if payload:
            message.payload_len = rest
            size = getattr(value, "size", None)
            if isinstance(size, int) and size != rest:
                message.error = (
                    f"{procedure.name}: {rest} payload bytes but size says {size}"
                )
        elif rest:
            message.leftover = rest
            message.error = f"{procedure.name}: {rest} bytes left over"


def decode_capture(data: bytes) -> Iterator[Message]:
    """Every message of a capture held in memory, in capture order.

    Raises:
        PcapError: ``data`` is not a capture, or it is damaged; the messages
            before the damage (and the records then cut off) come first.
    """
    decoder = Decoder()
    failure: PcapError | None = None
    try:
        for segment in PcapReader(data).segments():
            yield from decoder.feed(segment)
    except PcapError as exc:
        failure = exc
    yield from decoder.finish()
    if failure is not None:
        raise failure
