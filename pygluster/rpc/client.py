"""The trio driver for :class:`~pygluster.rpc.connection.RpcConnection`.

The only module in :mod:`pygluster.rpc` that imports trio: it owns the socket,
the reader task, the send lock, deadlines and cancellation.

Theory of operation
-------------------
:func:`open_rpc_client` connects (TCP over IPv4/IPv6, trying every address the
name resolves to, or a unix socket), starts ``_reader_task`` in its own nursery
and yields an :class:`RpcClient`. Leaving the ``async with`` closes the socket
and ends the reader.

:meth:`RpcClient.call` asks the sans-IO core for the record, writes it, and
parks on a per-xid :class:`_Waiter` until the reader reschedules it
(trio-websocket ``ping``, asyncssh ``_requests``). The reader hands each
:class:`Reply` to its waiter; server CALLs (gluster callbacks) go to
:attr:`RpcClient.server_calls`.

Socket path: a connected non-blocking socket is driven with trio's low-level
readiness API, because each call is latency-bound and every scheduler pass
counts. A record goes out in one non-blocking ``send``/``sendmsg`` (header
and WRITE payload as separate buffers, uncopied) with no lock: trio runs one
task at a time, so nothing can interleave with a send that does not block.
Only when the socket takes part of a record does the sender hold the send
lock, and wait for writability, until the rest is out. The reader waits for
readability and then receives straight into the record buffer
(:meth:`~pygluster.rpc.connection.RpcConnection.receive_buffer`), sized from
the record mark, so a 1 MiB READ reply is received in place. Any other trio
``Stream`` (tests use memory streams) goes through ``send_all`` under the
lock and ``receive_some``.

Leader: at low queue depth the reader task's hand-off costs a whole
scheduler pass per call (the reader wakes, reschedules the caller, and the
caller runs one pass later: ~20 us of a ~120 us PING round trip here). So a
caller that finds nobody reading the socket (the reader task parked, no other
leader) reads its own reply: it waits for readability itself, receives and
dispatches everything that arrives (other callers' replies and server calls
too) until its own reply is in, then hands the socket back by waking the
reader. While a leader reads, the reader task stays parked rather than
waiting on the socket (trio allows one waiter per fd); when woken it yields
once before reading, so that a caller about to send again (qd1) gets to lead.
Callers that find someone reading park on their waiter as before.

Deadlines: a call's reply deadline (``call_timeout``, gluster's
frame-timeout) is checked by a periodic sweep, as rpc-clnt.c ``call_bail``
does, instead of a cancel scope per call.

Cancellation: a caller cancelled while waiting abandons its xid; the late
reply is dropped by the core. A caller cancelled while *sending* may have
written part of a record, which leaves the stream unusable, so the connection
is torn down (every other pending call fails with ConnectionLost).

Connection loss: when the reader ends for any reason (EOF, socket error,
protocol error, :meth:`RpcClient.aclose`), every pending waiter fails with
:class:`~pygluster.errors.ConnectionLost` naming the peer and the cause, and
later calls fail at once. trio and OS exceptions are mapped here and only here.
"""

from __future__ import annotations

import errno
import logging
import math
import os
import socket
import ssl
import time
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, TypedDict, TypeVar, Unpack

import trio

from pygluster import events
from pygluster._concurrency import background_nursery
from pygluster.errors import (
    ConnectionLost,
    ProtocolError,
    RpcError,
    RpcTimeout,
    TlsError,
    TransportError,
)
from pygluster.rpc import glusterd
from pygluster.rpc.connection import (
    NEED_DATA,
    ConnectionClosed,
    Reply,
    RpcConnection,
    ServerCall,
)
from pygluster.rpc.sunrpc import Credentials, OpaqueAuth
from pygluster.tls import NOT_TLS_HERE, describe_failure

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from pygluster._types import BytesLike
    from pygluster.rpc.programs import Procedure
    from pygluster.tls import TlsConfig

__all__ = [
    "Address",
    "RpcClient",
    "TcpAddress",
    "UnixAddress",
    "client_over_stream",
    "open_rpc_client",
    "start_tls",
]

log = logging.getLogger("pygluster.rpc")

A = TypeVar("A")
R = TypeVar("R")
_S = TypeVar("_S", bound=trio.abc.Stream)

#: Bytes asked of the socket per receive. READ replies are large; a bigger
#: receive means fewer trips through the reader loop.
_RECEIVE_SIZE = 256 * 1024
#: WRITE payloads up to this size are joined to their header into one send;
#: larger ones go out as their own buffer, uncopied (style.md §3.4).
_JOIN_PAYLOAD_BELOW = 64 * 1024
#: Longest pause between two sweeps for overdue calls (frame-timeout).
_MAX_SWEEP_INTERVAL = 1.0
#: Server calls queued for the owner before new ones are dropped (logged).
_SERVER_CALL_BACKLOG = 64
#: Default connect deadline, seconds. A local glusterd answers in
#: milliseconds; a black-holed address must not hang a command.
DEFAULT_CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class TcpAddress:
    """A TCP endpoint: host name or address literal, and port."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class UnixAddress:
    """A unix-domain stream socket path."""

    path: str

    def __str__(self) -> str:
        return f"unix:{self.path}"


Address = TcpAddress | UnixAddress


class _Waiter:
    """One outstanding call: the slot its reply (or failure) lands in.

    The caller parks with ``trio.lowlevel.wait_task_rescheduled`` and the
    reader reschedules it directly: no Event, no ParkingLot, one wake-up.
    """

    __slots__ = (
        "args",
        "credential",
        "deadline",
        "error",
        "into",
        "payload",
        "procedure",
        "reply",
        "task",
        "timeout",
        "wake",
    )

    def __init__(
        self,
        procedure: Procedure[Any, Any],
        args: Any,
        credential: OpaqueAuth,
        payload: BytesLike,
        into: memoryview | None,
        timeout: float | None,
    ) -> None:
        # What to send: the caller holds these until it returns anyway.
        self.procedure = procedure
        self.args = args
        self.credential = credential
        self.payload = payload
        self.into = into
        self.timeout = timeout
        self.deadline = math.inf if timeout is None else trio.current_time() + timeout
        self.task: trio.lowlevel.Task | None = None
        self.reply: Reply[Any] | None = None
        self.error: BaseException | None = None
        # Set while its caller reads the socket itself (module notes,
        # "Leader"): cancelled when someone else finishes the call.
        self.wake: trio.CancelScope | None = None

    def finish(self) -> None:
        """Wake the caller, parked or leading (it may still be sending)."""
        task = self.task
        if task is not None:
            self.task = None
            trio.lowlevel.reschedule(task)
        elif self.wake is not None:
            # A leader waits on the socket, not on us: the reader (it may
            # have been mid-receive when the leader took over), the deadline
            # sweep or a teardown finished its call for it.
            self.wake.cancel()


class RpcClient:
    """Calls on one RPC connection. Made by :func:`open_rpc_client`.

    Attributes:
        peer: where it is connected, for messages (``vm:24007``).
        credentials: the identity used when a call gives no ``cred``.
        call_timeout: seconds a call may wait for its reply before it fails
            with RpcTimeout (gluster's ``frame-timeout``); None = no limit.
            May be changed while open, but a client opened with None has no
            deadline sweep, so its calls keep having no limit.
        server_calls: CALL messages the server sent us (callbacks).
    """

    def __init__(
        self,
        transport: trio.abc.Stream | socket.socket,
        peer: str,
        *,
        credentials: Credentials,
        call_timeout: float | None,
        max_record_size: int | None = None,
        ping_timeout: float | None = None,
        trace_label: str | None = None,
    ) -> None:
        self.peer = peer
        # The tracer active where the connection is made (pygluster.events);
        # None when not tracing, and then each hook below costs one check.
        self._trace = events.ConnectionTrace.open(peer, transport, trace_label)
        self.ping_timeout = ping_timeout
        # When the server was last heard from: a whole record arrived, or
        # (nothing being owed before) the first call of a busy spell went out.
        # Bytes of a record still arriving do not count (rpc-clnt.c sets
        # last_received per message): a reply trickling in a byte at a time,
        # or stalled mid-body, is an unresponsive server.
        self._last_heard = trio.current_time()
        self._closed = trio.Event()
        self.credentials = credentials
        self.call_timeout = call_timeout
        # A connected non-blocking socket is driven directly (module notes,
        # "Socket path"); any other stream through trio's Stream API.
        self._sock = transport if isinstance(transport, socket.socket) else None
        # A TLS socket (ssl.SSLSocket) takes the socket path too; it cannot
        # sendmsg and says "would block" in its own words (_tls_send,
        # _receive_tls).
        self._tls = isinstance(transport, ssl.SSLSocket)
        self._stream = None if isinstance(transport, socket.socket) else transport
        self._conn = (
            RpcConnection()
            if max_record_size is None
            else RpcConnection(max_record_size=max_record_size)
        )
        # Held only while a record is partly written (the socket was full),
        # or around every send on the Stream path.
        self._send_lock = trio.Lock()
        self._waiters: dict[int, _Waiter] = {}
        # Who reads the socket (module notes, "Leader"): a caller waiting for
        # its own reply, or else the reader task, which is then either in
        # wait_readable (_reader_waiting) or parked (_reader_parked).
        self._leader: _Waiter | None = None
        self._reader_waiting = False
        self._reader_parked: trio.lowlevel.Task | None = None
        self._reader_kicked = False
        self._closed_error: ConnectionLost | None = None
        #: When the connection was lost (trio time), None while it is open.
        self.closed_at: float | None = None
        send, receive = trio.open_memory_channel[ServerCall](_SERVER_CALL_BACKLOG)
        self._server_call_sender = send
        self._dropped_server_calls = 0
        self.server_calls: trio.MemoryReceiveChannel[ServerCall] = receive

    @property
    def is_closed(self) -> bool:
        """True once the connection is gone; calls then fail at once."""
        return self._closed_error is not None

    @property
    def closed_reason(self) -> ConnectionLost | None:
        """Why the connection ended (None while it is open)."""
        return self._closed_error

    async def wait_closed(self) -> None:
        """Return once the connection is gone, for whatever reason."""
        await self._closed.wait()

    async def _watchdog_task(self, ping_timeout: float) -> None:
        """Ping the server while calls are outstanding; drop it when silent.

        rpc-clnt-ping.c: only connections with calls in flight are pinged,
        and a server from which no whole record arrived for ``ping-timeout``
        seconds is declared dead, failing every pending call (ENOTCONN in gluster),
        so that a hung brick (SIGSTOP, a dead host) cannot hang the client.
        """
        ping_in_flight = False

        async def ping() -> None:
            nonlocal ping_in_flight
            try:
                start = time.monotonic_ns()
                await self.call(glusterd.PING, None)
                if self._trace is not None:
                    self._trace.ping(time.monotonic_ns() - start)
            except (ConnectionLost, RpcTimeout, RpcError):
                pass
            finally:
                ping_in_flight = False

        async with trio.open_nursery() as nursery:
            while not self.is_closed:
                await trio.sleep(ping_timeout / 4)
                if not self._waiters:
                    continue
                silent = trio.current_time() - self._last_heard
                if silent >= ping_timeout:
                    log.warning(
                        "%s has not responded in the last %g seconds, disconnecting",
                        self.peer,
                        ping_timeout,
                    )
                    await self._shut(
                        ConnectionLost(
                            f"{self.peer} has not responded in the last "
                            f"{ping_timeout:g} seconds (ping-timeout)"
                        )
                    )
                    break
                if not ping_in_flight:
                    ping_in_flight = True
                    nursery.start_soon(ping)
            nursery.cancel_scope.cancel()

    async def _deadline_task(self) -> None:
        """Fail calls whose reply is overdue (gluster's frame-timeout).

        rpc-clnt.c ``call_bail`` does the same: a periodic sweep over the
        saved frames, not a timer per call, so the hot path arms nothing.
        A call fails at most one sweep interval after its deadline.
        """
        while not self.is_closed:
            timeout = self.call_timeout
            if timeout is None:
                await trio.sleep(_MAX_SWEEP_INTERVAL)
                continue
            await trio.sleep(min(max(timeout / 8, 0.001), _MAX_SWEEP_INTERVAL))
            now = trio.current_time()
            overdue = [
                (xid, waiter)
                for xid, waiter in self._waiters.items()
                if waiter.deadline <= now
            ]
            for xid, waiter in overdue:
                del self._waiters[xid]
                self._conn.abandon(xid)
                waiter.error = RpcTimeout(
                    f"{waiter.procedure} to {self.peer}: no reply within "
                    f"{waiter.timeout:g} s"
                )
                waiter.finish()

    async def call(
        self, procedure: Procedure[A, R], args: A, *, cred: OpaqueAuth | None = None
    ) -> R:
        """Call ``procedure`` and return its decoded result.

        ``cred`` defaults to AUTH_GLUSTERFS_v2 of :attr:`credentials`; calls
        that carry a payload or read one use :meth:`call_reply`.

        Raises:
            RpcDenied, RpcNotAccepted: the server did not run the call.
            RemoteProtocolError: the reply did not decode.
            ConnectionLost: the connection is gone or went away meanwhile.
            RpcTimeout: no reply within :attr:`call_timeout`.
        """
        reply = await self.call_reply(procedure, args, cred=cred)
        return reply.result  # type: ignore[return-value]  # error replies raised

    async def call_reply(
        self,
        procedure: Procedure[A, R],
        args: A,
        *,
        cred: OpaqueAuth | None = None,
        payload: BytesLike = b"",
        into: memoryview | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the reply deadline, swept
    ) -> Reply[R]:
        """Like :meth:`call`, but return the whole :class:`Reply` (READ payload).

        ``payload``: raw bytes sent after the arguments (WRITE).
        ``into``: a buffer the reply's payload may be received into directly
        (a large READ arriving in pieces); ``reply.payload`` is then a view
        of it, which the caller can tell by ``payload.obj is into.obj``.
        It is not written after this call returns or raises.
        ``timeout``: this call's reply deadline in seconds, instead of
        :attr:`call_timeout` (None: that one).
        """
        if self._closed_error is not None:
            raise ConnectionLost(
                f"{procedure} to {self.peer}: {self._closed_error}"
            ) from self._closed_error
        # A caller already cancelled must not put a call on the wire.
        await trio.lowlevel.checkpoint_if_cancelled()
        if timeout is None:
            timeout = self.call_timeout
        credential = cred if cred is not None else self.credentials.auth_v2()
        waiter = _Waiter(procedure, args, credential, payload, into, timeout)
        if self._sock is not None and not self._send_lock.locked():
            xid = await self._send_on_socket(self._sock, waiter)
        else:
            xid = await self._send_locked(waiter)
        sock = self._sock
        if (
            sock is not None
            and waiter.reply is None
            and waiter.error is None
            and self._leader is None
            and (not self._reader_waiting or self._reader_kickable())
        ):
            if self._reader_waiting:
                # The reader waits with nothing else owed (idle until now):
                # take the socket from it (it parks on waking, see
                # _read_socket). At queue depth 1 this happens once; after
                # that the reader is parked whenever the next call goes out.
                self._reader_kicked = True
                trio.lowlevel.notify_closing(sock)
            await self._lead(sock, waiter, xid)
        elif waiter.reply is None and waiter.error is None:
            waiter.task = trio.lowlevel.current_task()

            def abort(_: object) -> trio.lowlevel.Abort:
                # Cancelled while waiting: forget the xid; a late reply is
                # dropped by the core.
                waiter.task = None
                if self._waiters.pop(xid, None) is not None:
                    self._conn.abandon(xid)
                return trio.lowlevel.Abort.SUCCEEDED

            await trio.lowlevel.wait_task_rescheduled(abort)
        error = waiter.error
        if error is not None:
            if isinstance(error, RpcTimeout):
                raise error
            raise ConnectionLost(f"{procedure} to {self.peer}: {error}") from error
        reply = waiter.reply
        assert reply is not None
        if reply.error is not None:
            raise reply.error
        return reply

    def _record(self, waiter: _Waiter) -> tuple[int, list[BytesLike]]:
        """Build the record and register its waiter (no await in between)."""
        procedure = waiter.procedure
        if self._closed_error is not None:
            raise ConnectionLost(f"{procedure} to {self.peer}: {self._closed_error}")
        credential = waiter.credential
        xid, buffers = self._conn.send_call(
            procedure,
            waiter.args,
            cred=credential,
            payload=waiter.payload,
            sink=waiter.into,
        )
        if not self._waiters:
            # Nothing was owed while idle: silence starts counting now.
            self._last_heard = trio.current_time()
        self._waiters[xid] = waiter
        if self._trace is not None:
            self._trace.call_sent(xid, procedure, waiter.args, credential, buffers)
        if len(buffers) > 1 and len(buffers[1]) <= _JOIN_PAYLOAD_BELOW:
            # One copy of a small payload costs less than a second buffer.
            buffers = [b"".join(buffers)]
        return xid, buffers

    async def _send_on_socket(self, sock: socket.socket, waiter: _Waiter) -> int:
        """Write a record straight to the socket; wait only if it is full.

        trio runs one task at a time, so a record written by one
        non-blocking send (the usual case) cannot interleave with another's.
        Only when the socket takes part of it do we hold the send lock until
        the rest is out.
        """
        xid, buffers = self._record(waiter)
        procedure = waiter.procedure
        try:
            if self._tls:
                sent = _tls_send(sock, buffers)
            else:
                # Header and a large payload go in one syscall, uncopied.
                sent = (
                    sock.send(buffers[0])
                    if len(buffers) == 1
                    else sock.sendmsg(buffers)
                )
        except BlockingIOError:
            sent = 0
        except Exception as exc:  # OSError, or a payload the socket refuses
            await self._send_failed(xid, procedure, exc)
        total = sum(len(b) for b in buffers)
        if sent < total:
            self._send_lock.acquire_nowait()
            try:
                await self._send_rest(sock, xid, procedure, buffers, sent, waiter)
            finally:
                self._send_lock.release()
        return xid

    async def _send_rest(
        self,
        sock: socket.socket,
        xid: int,
        procedure: Procedure[Any, Any],
        buffers: list[BytesLike],
        sent: int,
        waiter: _Waiter,
    ) -> None:
        """Finish a partly written record (the socket buffer was full)."""
        views = [memoryview(b).cast("B") for b in buffers]
        try:
            with trio.fail_at(waiter.deadline):
                for view in views:
                    if sent >= len(view):
                        sent -= len(view)
                        continue
                    view = view[sent:]
                    sent = 0
                    while view:
                        await trio.lowlevel.wait_writable(sock)
                        # TLS: a retry after SSLWantWriteError passes the
                        # same bytes again, as SSL_write requires; it then
                        # reports all of them written.
                        with suppress(BlockingIOError, ssl.SSLWantWriteError):
                            view = view[sock.send(view) :]
        except BaseException as exc:
            await self._send_failed(xid, procedure, exc)

    async def _send_locked(self, waiter: _Waiter) -> int:
        """Send under the lock: the Stream path, or behind a partial send."""
        procedure = waiter.procedure
        async with self._send_lock:
            xid, buffers = self._record(waiter)
            if self._sock is not None:
                await self._send_rest(self._sock, xid, procedure, buffers, 0, waiter)
                return xid
            assert self._stream is not None
            try:
                with trio.fail_at(waiter.deadline):
                    for buffer in buffers:
                        await self._stream.send_all(buffer)
            except BaseException as exc:
                await self._send_failed(xid, procedure, exc)
        return xid

    async def _send_failed(
        self, xid: int, procedure: Procedure[Any, Any], exc: BaseException
    ) -> NoReturn:
        """A record was not (wholly) written: the stream is unusable."""
        # A partly written record leaves the stream unusable for everyone:
        # tear down (module notes, "Cancellation").
        if isinstance(exc, trio.TooSlowError):  # the call's deadline passed
            exc = RpcTimeout(
                f"{procedure} to {self.peer}: could not send within "
                f"{self.call_timeout:g} s"
            )
        self._waiters.pop(xid, None)
        self._conn.abandon(xid)
        cause = str(exc) if isinstance(exc, RpcTimeout) else _describe(exc)
        await self._shut(
            ConnectionLost(f"sending {procedure} to {self.peer} failed: {cause}")
        )
        if isinstance(exc, (trio.Cancelled, RpcTimeout)):
            raise exc
        raise ConnectionLost(
            f"sending {procedure} to {self.peer} failed: {cause}"
        ) from exc

    async def _lead(self, sock: socket.socket, waiter: _Waiter, xid: int) -> None:
        """Read the socket until ``waiter`` has its reply (module notes,
        "Leader"); then give the socket back to the reader task."""
        self._leader = waiter
        waiter.wake = wake = trio.CancelScope()
        try:
            with wake:
                await self._read_for(sock, waiter)
        except BaseException:
            # Cancelled: forget the xid; a late reply is dropped by the core.
            if self._waiters.pop(xid, None) is not None:
                self._conn.abandon(xid)
            raise
        finally:
            waiter.wake = None
            self._leader = None
            parked = self._reader_parked
            if parked is not None:
                # Whatever else is owed, or arrives unasked, is read by the
                # reader again (it closes the socket if we saw the end).
                self._reader_parked = None
                trio.lowlevel.reschedule(parked)

    async def _read_for(self, sock: socket.socket, waiter: _Waiter) -> None:
        """The leader's loop: receive until ``waiter`` is finished."""
        while waiter.reply is None and waiter.error is None:
            try:
                await trio.lowlevel.wait_readable(sock)
            except trio.ClosedResourceError:
                # _shut closed the socket: the waiter says what happened.
                if waiter.error is None:  # pragma: no cover - defensive
                    waiter.error = self._closed_error or ConnectionLost(
                        f"connection to {self.peer} closed"
                    )
                return
            # Our own reply, dispatched by us: nothing to wake. Cancelling
            # our own scope would cost more than the rest of the receive.
            wake, waiter.wake = waiter.wake, None
            try:
                ended = self._receive(sock)[0]
            except (OSError, ProtocolError) as exc:
                self._fail_all(self._lost(exc))
                return
            finally:
                waiter.wake = wake
            if ended:
                self._fail_all(self._lost(None))

    def _lost(self, cause: BaseException | None) -> ConnectionLost:
        """The error pending calls fail with when reading ends with ``cause``."""
        if isinstance(cause, ProtocolError):
            log.warning("protocol error from %s: %s", self.peer, cause)
        text = _describe(cause) if cause is not None else "connection closed by peer"
        lost = ConnectionLost(f"connection to {self.peer} lost: {text}")
        # Kept for callers that look deeper (a TLS alert: pygluster.tls).
        lost.__cause__ = cause
        return lost

    async def _reader_task(self) -> None:
        cause: BaseException | None = None
        try:
            if self._sock is not None:
                await self._read_socket(self._sock)
            else:
                await self._read_stream()
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            cause = exc
        except ProtocolError as exc:
            cause = exc
        finally:
            await self._shut(self._lost(cause))

    async def _read_socket(self, sock: socket.socket) -> None:
        """Read whenever no caller leads (module notes, "Leader")."""
        ready = False
        while self._closed_error is None:
            if self._leader is not None:
                self._reader_parked = trio.lowlevel.current_task()
                await trio.lowlevel.wait_task_rescheduled(self._unpark)
                if not self._led():
                    # Yield once: a caller about to send its next call (qd1)
                    # leads it, instead of finding us on the socket.
                    await trio.lowlevel.checkpoint()
                ready = False
                continue
            if not ready:
                # Waiting first saves a failing recv per reply at low queue
                # depth, where the reply is never there yet.
                self._reader_waiting = True
                try:
                    await trio.lowlevel.wait_readable(sock)
                except trio.ClosedResourceError:
                    if not self._reader_kicked:
                        raise
                    self._reader_kicked = False  # a caller leads now
                    continue
                finally:
                    self._reader_waiting = False
                # Readable before a kick could reach us: the kick found
                # nobody waiting, and a leader may now wait beside our
                # receive (its waiter's finish() wakes it if we read its
                # reply).
                self._reader_kicked = False
            ended, ready = self._receive(sock)
            if ended:
                return
            if ready:
                await trio.lowlevel.checkpoint()

    def _reader_kickable(self) -> bool:
        """The reader waits with nothing else owed, and no sender waits for
        the socket to drain (notify_closing would wake that one too)."""
        return len(self._waiters) == 1 and not self._send_lock.locked()

    def _led(self) -> bool:
        # A method, so that type narrowing of _leader does not outlive awaits.
        return self._leader is not None

    def _unpark(self, _: object) -> trio.lowlevel.Abort:
        self._reader_parked = None
        return trio.lowlevel.Abort.SUCCEEDED

    def _receive(self, sock: socket.socket) -> tuple[bool, bool]:
        """Receive once, straight into the record buffer, and dispatch.

        Returns (end of stream, the buffer was filled so more may wait).
        """
        if self._tls:
            return self._receive_tls(sock)
        conn = self._conn
        view = conn.receive_buffer()
        try:
            count = sock.recv_into(view)
            if self._trace is not None:
                self._trace.received(bytes(view[:count]))
        except BlockingIOError:
            return False, False
        finally:
            size = len(view)
            view.release()  # the buffer must not stay exported
        conn.received(count)
        return self._dispatch(), count == size

    def _receive_tls(self, sock: socket.socket) -> tuple[bool, bool]:
        """Receive what TLS has for us, straight into the record buffer.

        One recv_into gives at most one TLS record (16 KiB), so read on until
        OpenSSL wants more from the kernel: a 1 MiB reply is then one trip
        through the reader, not sixty-four. Stop early, after
        ``_RECEIVE_SIZE * 4`` bytes, only when OpenSSL holds nothing
        decrypted (wait_readable cannot see what it holds).

        Returns (end of stream, more may be waiting in the kernel).
        """
        conn = self._conn
        received = 0
        while True:
            view = conn.receive_buffer()
            try:
                count = sock.recv_into(view)
                if self._trace is not None:
                    self._trace.received(bytes(view[:count]))
            except ssl.SSLWantReadError:
                return False, False
            finally:
                view.release()  # the buffer must not stay exported
            conn.received(count)
            if self._dispatch() or count == 0:
                return True, False
            received += count
            if received >= _RECEIVE_SIZE * 4 and not sock.pending():  # type: ignore[attr-defined]
                return False, True

    async def _read_stream(self) -> None:
        assert self._stream is not None
        while True:
            data = await self._stream.receive_some(_RECEIVE_SIZE)
            if self._trace is not None:
                self._trace.received(data)
            self._conn.receive_data(data)
            if self._dispatch():
                return

    def _dispatch(self) -> bool:
        """Hand every complete event to its owner; True at end of stream."""
        conn = self._conn
        while True:
            event = conn.next_event()
            if event is NEED_DATA:
                return False
            self._last_heard = trio.current_time()
            if isinstance(event, Reply):
                if self._trace is not None:
                    self._trace.reply(event, conn.last_record_wire_size)
                waiter = self._waiters.pop(event.xid, None)
                if waiter is not None:
                    waiter.reply = event
                    waiter.finish()
            elif isinstance(event, ServerCall):
                if self._trace is not None:
                    self._trace.server_call(event)
                self._deliver_server_call(event)
            elif isinstance(event, ConnectionClosed):
                return True

    def _deliver_server_call(self, call: ServerCall) -> None:
        try:
            self._server_call_sender.send_nowait(call)
        except trio.BrokenResourceError:
            pass  # nobody listens for callbacks on this connection
        except trio.WouldBlock:
            # Nothing drains brick callbacks (lock-contention notices come in
            # bursts under write-behind on sharded images): say so once per
            # connection, not once per notice.
            level = logging.DEBUG if self._dropped_server_calls else logging.WARNING
            self._dropped_server_calls += 1
            log.log(
                level,
                "%s: dropped server call prog %d proc %d (backlog of %d full; "
                "further drops on this connection are logged at debug level)",
                self.peer,
                call.prog,
                call.proc,
                _SERVER_CALL_BACKLOG,
            )

    def _fail_all(self, error: ConnectionLost) -> None:
        if self._closed_error is None:
            self._closed_error = error
            self.closed_at = trio.current_time()
            if self._trace is not None:
                self._trace.closed(str(error))
        for xid, waiter in self._waiters.items():
            # Abandon too, so that nothing received after this point lands
            # in a caller's buffer (sinks) once the caller has returned.
            self._conn.abandon(xid)
            waiter.error = self._closed_error
            waiter.finish()
        self._waiters.clear()
        self._server_call_sender.close()
        self._closed.set()

    async def _shut(self, error: ConnectionLost) -> None:
        self._fail_all(error)
        if self._sock is not None:
            if self._sock.fileno() != -1:
                # Wake any task waiting on the socket before it goes away.
                trio.lowlevel.notify_closing(self._sock)
                self._sock.close()
            await trio.lowlevel.cancel_shielded_checkpoint()
            return
        assert self._stream is not None
        with trio.CancelScope(shield=True):
            await self._stream.aclose()

    async def aclose(self) -> None:
        """Close the connection; pending calls fail with ConnectionLost."""
        await self._shut(ConnectionLost(f"connection to {self.peer} closed by us"))


def _tls_send(sock: socket.socket, buffers: list[BytesLike]) -> int:
    """Send buffers on a TLS socket until it would block; bytes sent.

    SSLSocket has no sendmsg, and reports a full socket as SSLWantWriteError
    after taking none or part of a buffer (CPython sets no
    SSL_MODE_ENABLE_PARTIAL_WRITE, so a buffer counts as all or nothing);
    _send_rest retries that buffer whole.
    """
    sent = 0
    for buffer in buffers:
        try:
            sent += sock.send(buffer)
        except ssl.SSLWantWriteError:
            break
    return sent


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown cause"
    if isinstance(exc, trio.Cancelled):
        return "the sending task was cancelled mid-record"
    if isinstance(exc, trio.ClosedResourceError):
        return "the connection was closed"
    if isinstance(exc, trio.BrokenResourceError) and exc.__cause__ is not None:
        exc = exc.__cause__
    if isinstance(exc, ssl.SSLError):
        # TLS 1.3 servers judge our certificate after the handshake: their
        # refusal arrives as an alert on the first read.
        return describe_failure(exc, "the server", None)
    text = str(exc) or type(exc).__name__
    return text


async def _connect_socket(
    family: int, type_: int, proto: int, sockaddr: Any
) -> socket.socket:
    """A connected non-blocking socket (raises OSError on failure)."""
    sock = socket.socket(family, type_, proto)
    try:
        sock.setblocking(False)
        if family in (socket.AF_INET, socket.AF_INET6):
            # RPC records are small and latency-bound: never wait for an ACK
            # before sending the next one (trio's SocketStream does the same).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        err = sock.connect_ex(sockaddr)
        while err == errno.EAGAIN and family == socket.AF_UNIX:
            # A unix listener's backlog is full: try again shortly.
            await trio.sleep(0.01)
            err = sock.connect_ex(sockaddr)
        if err == errno.EINPROGRESS:
            await trio.lowlevel.wait_writable(sock)
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            raise OSError(err, os.strerror(err))
    except BaseException:
        sock.close()
        raise
    return sock


async def _connect_tcp(address: TcpAddress) -> socket.socket:
    """Connect to the first reachable address of ``address.host`` (A and AAAA)."""
    try:
        infos = await trio.socket.getaddrinfo(
            address.host, address.port, type=socket.SOCK_STREAM
        )
    except socket.gaierror as exc:
        raise TransportError(
            f"cannot resolve {address.host!r}: {exc.strerror}"
        ) from exc
    failures: list[tuple[str, str]] = []
    for family, type_, proto, _, sockaddr in infos:
        try:
            return await _connect_socket(family, type_, proto, sockaddr)
        except OSError as exc:
            failures.append((_sockaddr_text(sockaddr), _os_error_text(exc)))
    if len(failures) == 1 and failures[0][0] == str(address):
        detail = failures[0][1]
    else:
        detail = "; ".join(f"{where}: {why}" for where, why in failures)
        detail = f"tried {detail}"
    raise TransportError(f"cannot connect to {address}: {detail}")


def _os_error_text(exc: OSError) -> str:
    # trio words its connect errors "Error connecting to (...): <strerror>";
    # the plain strerror reads better next to the address we print ourselves.
    if exc.errno:
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__


def _sockaddr_text(sockaddr: Any) -> str:
    host, port = sockaddr[0], sockaddr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def _connect(address: Address) -> socket.socket:
    if isinstance(address, UnixAddress):
        try:
            return await _connect_socket(
                socket.AF_UNIX, socket.SOCK_STREAM, 0, address.path
            )
        except OSError as exc:
            hint = ""
            if exc.errno in (errno.ENOENT, errno.ECONNREFUSED):
                hint = " (is glusterd running?)"
            raise TransportError(
                f"cannot connect to {address}: {_os_error_text(exc)}{hint}"
            ) from exc
    return await _connect_tcp(address)


async def _start_tls(
    sock: socket.socket, address: TcpAddress, tls: TlsConfig
) -> ssl.SSLSocket:
    """TLS over a connected non-blocking socket, kept on the socket path.

    Gluster starts TLS right after connect (no STARTTLS), so the handshake
    is the first thing on the wire (:mod:`pygluster.tls`). The socket is
    closed when this fails.

    Raises:
        TlsError: our files are unusable, the handshake failed (the message
            says who refused what), or the chain is deeper than allowed.
    """
    peer = str(address)
    try:
        context = tls.context(peer)
        tls_sock = context.wrap_socket(
            sock,
            server_hostname=_tls_name(address.host),
            do_handshake_on_connect=False,
        )
    except BaseException:
        sock.close()
        raise
    try:
        while True:
            try:
                tls_sock.do_handshake()
                break
            except ssl.SSLWantReadError:
                await trio.lowlevel.wait_readable(tls_sock)
            except ssl.SSLWantWriteError:
                await trio.lowlevel.wait_writable(tls_sock)
        tls.check_chain(_verified_chain_length(tls_sock), peer)
    except OSError as exc:
        tls_sock.close()
        raise tls.handshake_error(exc, peer) from exc
    except BaseException:
        tls_sock.close()
        raise
    return tls_sock


async def start_tls(
    transport: _S, host: str, peer: str, tls: TlsConfig
) -> trio.SSLStream[_S]:
    """TLS over a connected stream: handshake, then the depth check.

    Gluster starts TLS right after connect (no STARTTLS), so the handshake
    is the first thing on the wire (:mod:`pygluster.tls`). ``transport`` is
    closed when this fails.

    Raises:
        TlsError: our files are unusable, the handshake failed (the message
            says who refused what), or the chain is deeper than allowed.
    """
    try:
        context = tls.context(peer)
    except BaseException:
        await trio.aclose_forcefully(transport)
        raise
    stream = trio.SSLStream(transport, context, server_hostname=_tls_name(host))
    try:
        await stream.do_handshake()
        tls.check_chain(_verified_chain_length(stream), peer)
    except (trio.BrokenResourceError, OSError) as exc:
        await trio.aclose_forcefully(stream)
        raise tls.handshake_error(exc, peer) from exc
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise
    return stream


def _tls_name(host: str) -> str:
    """The name a server certificate must carry: the host without an IPv6
    zone id (``fe80::1%eth0``), which no certificate names."""
    return host.partition("%")[0]


def _verified_chain_length(connection: object) -> int | None:
    """How many certificates the verified chain holds, if Python says.

    ``get_verified_chain`` is public from Python 3.13; before, CPython's
    ``_sslobj`` has it. trio's SSLStream keeps its SSLObject as
    ``_ssl_object``.
    """
    ssl_object = getattr(connection, "_ssl_object", connection)
    for owner in (ssl_object, getattr(ssl_object, "_sslobj", None)):
        method = getattr(owner, "get_verified_chain", None)
        if method is not None:
            try:
                return len(method())
            except (ValueError, TypeError, AttributeError):
                return None
    return None


class ClientOptions(TypedDict, total=False):
    """:func:`client_over_stream`'s keyword arguments, which
    :func:`open_rpc_client` takes too and passes on as they are."""

    credentials: Credentials | None
    call_timeout: float | None
    max_record_size: int | None
    ping_timeout: float | None
    trace_label: str | None


@asynccontextmanager
async def open_rpc_client(
    address: Address,
    *,
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
    tls: TlsConfig | None = None,
    **options: Unpack[ClientOptions],
) -> AsyncIterator[RpcClient]:
    """Connect to an RPC server and yield a client for it.

    Args:
        address: a TcpAddress (every resolved IPv4/IPv6 address is tried in
            order) or a UnixAddress.
        credentials: identity for calls; default the caller's pid/uid/gid.
        connect_timeout: seconds for the whole connect (TLS handshake
            included); None = no limit.
        tls: run the connection over TLS (TCP only; a unix socket is never
            TLS in gluster); see :mod:`pygluster.tls`.
        call_timeout: default per-call reply deadline; None = no limit.
        max_record_size: largest record accepted from the server.
        ping_timeout: declare the server dead after this many seconds of
            silence while calls are outstanding (gluster's ping-timeout);
            None = never.
        trace_label: what the connection is for (a brick), shown by
            :mod:`pygluster.capture.trace` sinks.

    Raises:
        TransportError: the name did not resolve or no address accepted.
        RpcTimeout: connecting took longer than ``connect_timeout``.
        TlsError: TLS could not be set up, or the server refused it.
    """
    limit = connect_timeout if connect_timeout is not None else math.inf
    transport: trio.abc.Stream | socket.socket | None = None
    with trio.move_on_after(limit) as scope:
        transport = await _connect(address)
        if tls is not None and isinstance(address, TcpAddress):
            transport = await _start_tls(transport, address, tls)
    if scope.cancelled_caught or transport is None:
        if transport is not None and tls is not None:
            # A TLS client's hello to a plain-text gluster server is read as
            # the start of a huge RPC record: the server waits for the rest.
            raise TlsError(
                f"TLS handshake with {address} ({tls.reason}) got no answer in "
                f"{limit:g} s: most likely {NOT_TLS_HERE}"
            )
        raise RpcTimeout(f"connecting to {address} took longer than {limit:g} s")
    async with client_over_stream(transport, str(address), **options) as client:
        yield client


@asynccontextmanager
async def client_over_stream(
    stream: trio.abc.Stream | socket.socket,
    peer: str,
    *,
    credentials: Credentials | None = None,
    call_timeout: float | None = None,
    max_record_size: int | None = None,
    ping_timeout: float | None = None,
    trace_label: str | None = None,
) -> AsyncIterator[RpcClient]:
    """Run an :class:`RpcClient` over an already connected stream or socket.

    :func:`open_rpc_client` uses it with the non-blocking socket it
    connected; tests use it with ``trio.testing.memory_stream_pair``. The
    stream (socket) is closed on exit.
    """
    client = RpcClient(
        stream,
        peer,
        credentials=credentials if credentials is not None else Credentials(),
        call_timeout=call_timeout,
        max_record_size=max_record_size,
        ping_timeout=ping_timeout,
        trace_label=trace_label,
    )
    async with background_nursery() as nursery:
        nursery.start_soon(client._reader_task)
        if ping_timeout:
            nursery.start_soon(client._watchdog_task, ping_timeout)
        if call_timeout is not None:
            nursery.start_soon(client._deadline_task)
        try:
            yield client
        finally:
            await client.aclose()
