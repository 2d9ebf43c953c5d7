"""Trace events: what the RPC driver and the brick connections report.

This is the part of tracing the I/O path needs, and nothing more: the event
types, the :class:`Tracer` protocol, the context variable that activates a
tracer (:func:`tracing`), and the per-connection hook object the trio driver
calls. Rendering events (text lines, JSON, pcap) lives in
:mod:`pygluster.capture.trace`, so that opening an image never loads it.

Theory of operation
-------------------
A tracer is anything with ``handle(event)`` (:class:`Tracer`). It is
activated for a block of code with ``with tracing(sink):``, which sets the
context variable :data:`current_tracer`. trio tasks copy the context of the
task that starts them, so every connection opened below that block sees it;
an :class:`~pygluster.rpc.client.RpcClient` reads the variable once, when it
is created, and keeps a :class:`ConnectionTrace` (or None) for the life of
the connection. With no tracer set, the cost is one ``is not None`` check
per call, per receive and per reply.

:class:`ConnectionTrace` turns the driver's raw facts (buffers sent, bytes
received, Reply / ServerCall events with the wire size of their record, as
the sans-IO core measured it) into :class:`TraceEvent` objects: it numbers
connections and times calls (monotonic clock; wall-clock stamps on each
event).

Sinks never raise into the RPC path: a sink that fails (a closed pipe) is
reported once through the ``pygluster.trace`` logger and then ignored.
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from pygluster.rpc import callback
from pygluster.rpc.programs import ProgramNumber

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from pygluster._types import BytesLike
    from pygluster.rpc.connection import Reply, ServerCall
    from pygluster.rpc.programs import Procedure
    from pygluster.rpc.sunrpc import OpaqueAuth

__all__ = [
    "BrickEvent",
    "BytesReceived",
    "BytesSent",
    "CallSent",
    "ConnEvent",
    "ConnInfo",
    "Connected",
    "ConnectionTrace",
    "Disconnected",
    "MultiSink",
    "Ping",
    "Reconnected",
    "Reconnecting",
    "ReplyReceived",
    "ServerCallReceived",
    "TraceEvent",
    "Tracer",
    "current_tracer",
    "emit",
    "tracing",
]

# The logger keeps the name it had when events and sinks were one module.
_log = logging.getLogger("pygluster.trace")


# --- events ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnInfo:
    """One RPC connection, as trace events name it.

    Attributes:
        id: a number unique in this process (``#3`` in text output).
        peer: the address it was opened to (``vm:49152``, ``unix:/path``).
        local: our (host, port) end of a TCP socket; None for a unix socket
            or a stream without a socket (tests).
        remote: the server's (host, port); None likewise.
        label: what the connection is for, when known: the brick
            (``vm:/bricks/b1``) for brick sessions.
    """

    id: int
    peer: str
    local: tuple[str, int] | None = None
    remote: tuple[str, int] | None = None
    label: str | None = None

    def __str__(self) -> str:
        text = f"#{self.id} {self.peer}"
        return f"{text} [{self.label}]" if self.label else text


@dataclass(frozen=True, slots=True)
class ConnEvent:
    """What every event about one connection carries: when, and which one."""

    time: float
    conn: ConnInfo


@dataclass(frozen=True, slots=True)
class Connected(ConnEvent):
    """A connection was established (before any call on it)."""


@dataclass(frozen=True, slots=True)
class CallSent(ConnEvent):
    """A CALL record is being written.

    ``wire_len`` counts every byte of the record (marks included);
    ``payload_len`` the raw data after the arguments (WRITE).
    """

    xid: int
    procedure: Procedure[Any, Any]
    args: Any
    cred: OpaqueAuth
    wire_len: int
    payload_len: int


@dataclass(frozen=True, slots=True)
class ReplyReceived(ConnEvent):
    """The reply to a call arrived (``result`` decoded, or ``error``)."""

    xid: int
    procedure: Procedure[Any, Any]
    result: Any
    error: BaseException | None
    latency_ns: int | None
    wire_len: int | None
    payload_len: int


@dataclass(frozen=True, slots=True)
class ServerCallReceived(ConnEvent):
    """The server sent us a CALL (gluster callbacks: FETCHSPEC, CHILD_UP...)."""

    xid: int
    prog: int
    vers: int
    proc: int
    name: str
    args_len: int


@dataclass(frozen=True, slots=True)
class Disconnected(ConnEvent):
    """The connection ended; ``reason`` says why."""

    reason: str


@dataclass(frozen=True, slots=True)
class BrickEvent:
    """What every event about a brick's session carries: when, and whose.

    ``xlator`` is the protocol/client translator's name, ``brick`` the brick
    (``host:/path``); the session outlives its connections, so no ConnInfo.
    """

    time: float
    xlator: str
    brick: str


@dataclass(frozen=True, slots=True)
class Reconnecting(BrickEvent):
    """A brick connection is down; the next attempt is in ``delay`` seconds."""

    reason: str
    delay: float
    attempt: int


@dataclass(frozen=True, slots=True)
class Reconnected(BrickEvent):
    """A brick connection is back (SETVOLUME done, fds about to be reopened)."""

    port: int
    attempt: int


@dataclass(frozen=True, slots=True)
class Ping(ConnEvent):
    """The ping watchdog's PING was answered after ``rtt_ns``."""

    rtt_ns: int


@dataclass(frozen=True, slots=True)
class BytesSent(ConnEvent):
    """Bytes written to the connection, in order (for pcap)."""

    buffers: tuple[BytesLike, ...]


@dataclass(frozen=True, slots=True)
class BytesReceived(ConnEvent):
    """Bytes read from the connection; ``b""`` is end of stream (for pcap)."""

    data: bytes


TraceEvent = (
    Connected
    | CallSent
    | ReplyReceived
    | ServerCallReceived
    | Disconnected
    | Reconnecting
    | Reconnected
    | Ping
    | BytesSent
    | BytesReceived
)


class Tracer(Protocol):
    """Anything that takes trace events. ``handle`` must not block."""

    def handle(self, event: TraceEvent) -> None: ...


#: The active tracer, if any (set with :func:`tracing`).
current_tracer: contextvars.ContextVar[Tracer | None] = contextvars.ContextVar(
    "pygluster_tracer", default=None
)


@contextmanager
def tracing(
    sink: Tracer | logging.Logger | None, *more: Tracer | logging.Logger
) -> Iterator[Tracer | None]:
    """Trace every connection opened in this block (and in tasks it starts).

    Args:
        sink: a :class:`Tracer`, or a :class:`logging.Logger` (wrapped in a
            :class:`~pygluster.capture.trace.LoggingTraceSink`); None leaves
            the current tracer as is.
        *more: further sinks; all of them get every event.

    Yields:
        The active tracer. The sinks are not closed on exit; close those that
        own files (``JsonTraceSink``, ``PcapTraceSink``) yourself.
    """
    sinks = [_as_tracer(s) for s in (sink, *more) if s is not None]
    if not sinks:
        yield current_tracer.get()
        return
    tracer = sinks[0] if len(sinks) == 1 else MultiSink(sinks)
    token = current_tracer.set(tracer)
    try:
        yield tracer
    finally:
        current_tracer.reset(token)


def _as_tracer(sink: Tracer | logging.Logger) -> Tracer:
    if isinstance(sink, logging.Logger):
        # Rendering lines is the capture package's job: loaded only when a
        # logger is given, so the I/O path never imports it.
        from pygluster.capture.trace import LoggingTraceSink

        return LoggingTraceSink(sink)
    return sink


def emit(event_factory: type[Any], **fields: Any) -> None:
    """Send an event to the current tracer, if any (for code outside rpc/).

    Cheap when no tracer is set: the event is not even built.
    """
    tracer = current_tracer.get()
    if tracer is not None:
        _deliver(tracer, event_factory(time=time.time(), **fields))


# Sinks that failed once (warned about once). Held by reference, so that an
# id is never reused by a new sink while it is in here.
_failed_sinks: dict[int, object] = {}


def _deliver(tracer: Tracer, event: TraceEvent) -> None:
    try:
        tracer.handle(event)
    except Exception as exc:
        if _failed_sinks.get(id(tracer)) is not tracer:
            _failed_sinks[id(tracer)] = tracer
            _log.warning("trace sink %r failed, events are lost: %s", tracer, exc)


# --- the per-connection hook object used by the trio driver ----------------------

_conn_ids = itertools.count(1)


class ConnectionTrace:
    """The hooks :class:`~pygluster.rpc.client.RpcClient` calls when tracing.

    Made by :meth:`open`, which returns None when no tracer is active, so
    that the driver pays one ``is not None`` check per hook site.
    """

    __slots__ = ("_sent_at", "conn", "tracer")

    def __init__(self, tracer: Tracer, conn: ConnInfo) -> None:
        self.tracer = tracer
        self.conn = conn
        self._sent_at: dict[int, int] = {}

    @classmethod
    def open(
        cls, peer: str, stream: object, label: str | None = None
    ) -> ConnectionTrace | None:
        """Start tracing a new connection if a tracer is active.

        Args:
            peer: the address text the connection was opened to.
            stream: the connected socket or stream; a socket or
                ``trio.SocketStream`` gives the real local and remote
                addresses (for pcap).
            label: what the connection is for (the brick), if known.
        """
        tracer = current_tracer.get()
        if tracer is None:
            return None
        local, remote = _socket_ends(stream)
        conn = ConnInfo(next(_conn_ids), peer, local, remote, label)
        trace = cls(tracer, conn)
        _deliver(tracer, Connected(time.time(), conn))
        return trace

    def call_sent(
        self,
        xid: int,
        procedure: Procedure[Any, Any],
        args: Any,
        cred: OpaqueAuth,
        buffers: list[BytesLike],
    ) -> None:
        """A CALL's buffers are about to be written, in this order."""
        now = time.time()
        self._sent_at[xid] = time.monotonic_ns()
        wire = sum(len(b) for b in buffers)
        payload = len(buffers[1]) if len(buffers) > 1 else 0
        _deliver(
            self.tracer,
            CallSent(now, self.conn, xid, procedure, args, cred, wire, payload),
        )
        _deliver(self.tracer, BytesSent(now, self.conn, tuple(buffers)))

    def received(self, data: BytesLike) -> None:
        """Bytes arrived (``b""``: end of stream)."""
        _deliver(self.tracer, BytesReceived(time.time(), self.conn, bytes(data)))

    def reply(self, reply: Reply[Any], wire_len: int) -> None:
        """The core produced a Reply from a record of ``wire_len`` bytes."""
        sent = self._sent_at.pop(reply.xid, None)
        latency = time.monotonic_ns() - sent if sent is not None else None
        _deliver(
            self.tracer,
            ReplyReceived(
                time.time(),
                self.conn,
                reply.xid,
                reply.procedure,
                reply.result,
                reply.error,
                latency,
                wire_len,
                len(reply.payload),
            ),
        )

    def server_call(self, call: ServerCall) -> None:
        """The core produced a ServerCall (a callback from the server)."""
        _deliver(
            self.tracer,
            ServerCallReceived(
                time.time(),
                self.conn,
                call.xid,
                call.prog,
                call.vers,
                call.proc,
                _server_call_name(call.prog, call.proc),
                len(call.args),
            ),
        )

    def ping(self, rtt_ns: int) -> None:
        """The watchdog's PING came back."""
        _deliver(self.tracer, Ping(time.time(), self.conn, rtt_ns))

    def closed(self, reason: str) -> None:
        """The connection is gone (called once)."""
        _deliver(self.tracer, Disconnected(time.time(), self.conn, reason))


def _socket_ends(
    stream: object,
) -> tuple[tuple[str, int] | None, tuple[str, int] | None]:
    # A plain socket (the RPC driver's own) or a trio.SocketStream.
    sock = (
        stream if isinstance(stream, socket.socket) else getattr(stream, "socket", None)
    )
    if sock is None:
        return None, None
    try:
        local = sock.getsockname()
        remote = sock.getpeername()
    except OSError:
        return None, None
    if not (isinstance(local, tuple) and isinstance(remote, tuple)):
        return None, None  # AF_UNIX: a path (or ""), not (host, port)
    return (str(local[0]), int(local[1])), (str(remote[0]), int(remote[1]))


def _server_call_name(prog: int, proc: int) -> str:
    if prog == ProgramNumber.GLUSTER_CBK:
        try:
            return callback.CbkProc(proc).name
        except ValueError:
            pass
    return f"prog {prog} proc {proc}"


class MultiSink:
    """Every event to each of several sinks, in order."""

    def __init__(self, sinks: Iterable[Tracer]) -> None:
        self.sinks = list(sinks)

    def handle(self, event: TraceEvent) -> None:
        for sink in self.sinks:
            _deliver(sink, event)
