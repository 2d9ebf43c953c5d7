"""The trio driver for :class:`~pygluster.rpc.connection.RpcConnection`.

The only module in :mod:`pygluster.rpc` that imports trio: it owns the socket,
the reader task, the send lock, deadlines and cancellation.

Theory of operation
-------------------
:func:`open_rpc_client` connects (TCP over IPv4/IPv6, trying every address the
name resolves to, or a unix socket), starts ``_reader_task`` in its own nursery
and yields an :class:`RpcClient`. Leaving the ``async with`` closes the socket
and ends the reader.

:meth:`RpcClient.call` asks the sans-IO core for the record, writes its
buffers under a ``trio.Lock`` (a stream allows one ``send_all`` at a time), and
waits on a per-xid :class:`_Waiter` (trio-websocket ``ping``, asyncssh
``_requests``). The reader loops ``receive_some`` → ``receive_data`` →
``next_event`` and hands each :class:`Reply` to its waiter; server CALLs
(gluster callbacks) go to :attr:`RpcClient.server_calls`.

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
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import trio

from pygluster import trace
from pygluster._concurrency import background_nursery
from pygluster.errors import (
    ConnectionLost,
    ProtocolError,
    RpcError,
    RpcTimeout,
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

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from pygluster._types import BytesLike
    from pygluster.rpc.programs import Procedure

__all__ = [
    "Address",
    "RpcClient",
    "TcpAddress",
    "UnixAddress",
    "client_over_stream",
    "open_rpc_client",
]

log = logging.getLogger("pygluster.rpc")

A = TypeVar("A")
R = TypeVar("R")

#: Bytes asked of the socket per receive. READ replies are large; a bigger
#: receive means fewer trips through the reader loop.
_RECEIVE_SIZE = 256 * 1024
#: WRITE payloads up to this size are joined to their header into one send;
#: larger ones go out as their own buffer, uncopied (style.md §3.4).
_JOIN_PAYLOAD_BELOW = 64 * 1024
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
    """One outstanding call: the slot its reply (or failure) lands in."""

    __slots__ = ("done", "error", "reply")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.reply: Reply[Any] | None = None
        self.error: BaseException | None = None


class RpcClient:
    """Calls on one RPC connection. Made by :func:`open_rpc_client`.

    Attributes:
        peer: where it is connected, for messages (``vm:24007``).
        credentials: the identity used when a call gives no ``cred``.
        call_timeout: seconds a call may wait for its reply before it fails
            with RpcTimeout (gluster's ``frame-timeout``); None = no limit.
        server_calls: CALL messages the server sent us (callbacks).
    """

    def __init__(
        self,
        stream: trio.abc.Stream,
        peer: str,
        *,
        credentials: Credentials,
        call_timeout: float | None,
        max_record_size: int | None = None,
        ping_timeout: float | None = None,
        trace_label: str | None = None,
    ) -> None:
        self.peer = peer
        # The tracer active where the connection is made (pygluster.trace);
        # None when not tracing, and then each hook below costs one check.
        self._trace = trace.ConnectionTrace.open(peer, stream, trace_label)
        self.ping_timeout = ping_timeout
        self._last_receive = trio.current_time()
        self._closed = trio.Event()
        self.credentials = credentials
        self.call_timeout = call_timeout
        self._stream = stream
        self._conn = (
            RpcConnection()
            if max_record_size is None
            else RpcConnection(max_record_size=max_record_size)
        )
        self._send_lock = trio.Lock()
        self._waiters: dict[int, _Waiter] = {}
        self._closed_error: ConnectionLost | None = None
        send, receive = trio.open_memory_channel[ServerCall](_SERVER_CALL_BACKLOG)
        self._server_call_sender = send
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
        and a server from which nothing arrived for ``ping-timeout`` seconds
        is declared dead, failing every pending call (ENOTCONN in gluster),
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
                silent = trio.current_time() - self._last_receive
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

    async def call(
        self,
        procedure: Procedure[A, R],
        args: A,
        *,
        cred: OpaqueAuth | None = None,
        payload: BytesLike = b"",
    ) -> R:
        """Call ``procedure`` and return its decoded result.

        Args:
            procedure: what to call.
            args: its arguments.
            cred: credential for this call; default AUTH_GLUSTERFS_v2 of
                :attr:`credentials`.
            payload: raw bytes after the arguments (WRITE).

        Raises:
            RpcDenied, RpcNotAccepted: the server did not run the call.
            RemoteProtocolError: the reply did not decode.
            ConnectionLost: the connection is gone or went away meanwhile.
            RpcTimeout: no reply within :attr:`call_timeout`.
        """
        reply = await self.call_reply(procedure, args, cred=cred, payload=payload)
        return reply.result  # type: ignore[return-value]  # error replies raised

    async def call_reply(
        self,
        procedure: Procedure[A, R],
        args: A,
        *,
        cred: OpaqueAuth | None = None,
        payload: BytesLike = b"",
    ) -> Reply[R]:
        """Like :meth:`call`, but return the whole :class:`Reply` (READ payload)."""
        if self._closed_error is not None:
            raise ConnectionLost(
                f"{procedure} to {self.peer}: {self._closed_error}"
            ) from self._closed_error
        timeout = self.call_timeout if self.call_timeout is not None else math.inf
        with trio.move_on_after(timeout) as scope:
            reply = await self._call(procedure, args, cred, payload)
        if scope.cancelled_caught:
            raise RpcTimeout(
                f"{procedure} to {self.peer}: no reply within {timeout:g} s"
            )
        if reply.error is not None:
            raise reply.error
        return reply

    async def _call(
        self,
        procedure: Procedure[A, R],
        args: A,
        cred: OpaqueAuth | None,
        payload: BytesLike,
    ) -> Reply[R]:
        credential = cred if cred is not None else self.credentials.auth_v2()
        waiter = _Waiter()
        async with self._send_lock:
            if self._closed_error is not None:
                raise ConnectionLost(
                    f"{procedure} to {self.peer}: {self._closed_error}"
                )
            xid, buffers = self._conn.send_call(
                procedure, args, cred=credential, payload=payload
            )
            self._waiters[xid] = waiter
            if self._trace is not None:
                self._trace.call_sent(xid, procedure, args, credential, buffers)
            if len(buffers) > 1 and len(buffers[1]) <= _JOIN_PAYLOAD_BELOW:
                # One copy of a small payload costs less than a second send
                # (each send is a syscall; far more under a sandbox).
                buffers = [b"".join(buffers)]
            try:
                for buffer in buffers:
                    await self._stream.send_all(buffer)
            except BaseException as exc:
                # A partly written record leaves the stream unusable for
                # everyone: tear down (module notes, "Cancellation").
                self._waiters.pop(xid, None)
                self._conn.abandon(xid)
                cause = _describe(exc)
                await self._shut(
                    ConnectionLost(
                        f"sending {procedure} to {self.peer} failed: {cause}"
                    )
                )
                if isinstance(exc, trio.Cancelled):
                    raise
                raise ConnectionLost(
                    f"sending {procedure} to {self.peer} failed: {cause}"
                ) from exc
        try:
            await waiter.done.wait()
        finally:
            if not waiter.done.is_set():
                # Cancelled or timed out while waiting: forget the xid.
                self._waiters.pop(xid, None)
                self._conn.abandon(xid)
        if waiter.error is not None:
            raise ConnectionLost(
                f"{procedure} to {self.peer}: {waiter.error}"
            ) from waiter.error
        assert waiter.reply is not None
        return waiter.reply

    async def _reader_task(self) -> None:
        cause: BaseException | None = None
        try:
            while True:
                try:
                    data = await self._stream.receive_some(_RECEIVE_SIZE)
                except (
                    trio.BrokenResourceError,
                    trio.ClosedResourceError,
                    OSError,
                ) as exc:
                    cause = exc
                    return
                self._last_receive = trio.current_time()
                if self._trace is not None:
                    self._trace.received(data)
                self._conn.receive_data(data)
                while True:
                    event = self._conn.next_event()
                    if event is NEED_DATA:
                        break
                    if isinstance(event, ConnectionClosed):
                        return
                    if isinstance(event, ServerCall):
                        if self._trace is not None:
                            self._trace.server_call(event)
                        self._deliver_server_call(event)
                    elif isinstance(event, Reply):
                        if self._trace is not None:
                            self._trace.reply(event)
                        waiter = self._waiters.pop(event.xid, None)
                        if waiter is not None:
                            waiter.reply = event
                            waiter.done.set()
        except ProtocolError as exc:
            cause = exc
            log.warning("protocol error from %s: %s", self.peer, exc)
        finally:
            text = (
                _describe(cause) if cause is not None else "connection closed by peer"
            )
            await self._shut(ConnectionLost(f"connection to {self.peer} lost: {text}"))

    def _deliver_server_call(self, call: ServerCall) -> None:
        try:
            self._server_call_sender.send_nowait(call)
        except trio.BrokenResourceError:
            pass  # nobody listens for callbacks on this connection
        except trio.WouldBlock:
            log.warning(
                "%s: dropped server call prog %d proc %d (backlog full)",
                self.peer,
                call.prog,
                call.proc,
            )

    def _fail_all(self, error: ConnectionLost) -> None:
        if self._closed_error is None:
            self._closed_error = error
            if self._trace is not None:
                self._trace.closed(str(error))
        for waiter in self._waiters.values():
            waiter.error = self._closed_error
            waiter.done.set()
        self._waiters.clear()
        self._server_call_sender.close()
        self._closed.set()

    async def _shut(self, error: ConnectionLost) -> None:
        self._fail_all(error)
        with trio.CancelScope(shield=True):
            await self._stream.aclose()

    async def aclose(self) -> None:
        """Close the connection; pending calls fail with ConnectionLost."""
        await self._shut(ConnectionLost(f"connection to {self.peer} closed by us"))


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown cause"
    if isinstance(exc, trio.Cancelled):
        return "the sending task was cancelled mid-record"
    if isinstance(exc, trio.BrokenResourceError) and exc.__cause__ is not None:
        exc = exc.__cause__
    text = str(exc) or type(exc).__name__
    return text


async def _connect_tcp(address: TcpAddress) -> trio.SocketStream:
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
        sock = trio.socket.socket(family, type_, proto)
        try:
            await sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            failures.append((_sockaddr_text(sockaddr), _os_error_text(exc)))
            continue
        except BaseException:
            sock.close()
            raise
        return trio.SocketStream(sock)
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


async def _connect(address: Address) -> trio.abc.Stream:
    if isinstance(address, UnixAddress):
        try:
            return await trio.open_unix_socket(address.path)
        except OSError as exc:
            hint = ""
            if exc.errno in (errno.ENOENT, errno.ECONNREFUSED):
                hint = " (is glusterd running?)"
            raise TransportError(
                f"cannot connect to {address}: {_os_error_text(exc)}{hint}"
            ) from exc
    return await _connect_tcp(address)


@asynccontextmanager
async def open_rpc_client(
    address: Address,
    *,
    credentials: Credentials | None = None,
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
    call_timeout: float | None = None,
    max_record_size: int | None = None,
    ping_timeout: float | None = None,
    trace_label: str | None = None,
) -> AsyncIterator[RpcClient]:
    """Connect to an RPC server and yield a client for it.

    Args:
        address: a TcpAddress (every resolved IPv4/IPv6 address is tried in
            order) or a UnixAddress.
        credentials: identity for calls; default the caller's pid/uid/gid.
        connect_timeout: seconds for the whole connect; None = no limit.
        call_timeout: default per-call reply deadline; None = no limit.
        max_record_size: largest record accepted from the server.
        ping_timeout: declare the server dead after this many seconds of
            silence while calls are outstanding (gluster's ping-timeout);
            None = never.
        trace_label: what the connection is for (a brick), shown by
            :mod:`pygluster.trace` sinks.

    Raises:
        TransportError: the name did not resolve or no address accepted.
        RpcTimeout: connecting took longer than ``connect_timeout``.
    """
    limit = connect_timeout if connect_timeout is not None else math.inf
    with trio.move_on_after(limit) as scope:
        stream = await _connect(address)
    if scope.cancelled_caught:
        raise RpcTimeout(f"connecting to {address} took longer than {limit:g} s")
    async with client_over_stream(
        stream,
        str(address),
        credentials=credentials,
        call_timeout=call_timeout,
        max_record_size=max_record_size,
        ping_timeout=ping_timeout,
        trace_label=trace_label,
    ) as client:
        yield client


@asynccontextmanager
async def client_over_stream(
    stream: trio.abc.Stream,
    peer: str,
    *,
    credentials: Credentials | None = None,
    call_timeout: float | None = None,
    max_record_size: int | None = None,
    ping_timeout: float | None = None,
    trace_label: str | None = None,
) -> AsyncIterator[RpcClient]:
    """Run an :class:`RpcClient` over an already connected stream.

    :func:`open_rpc_client` uses it after connecting; tests use it with
    ``trio.testing.memory_stream_pair``. The stream is closed on exit.
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
        try:
            yield client
        finally:
            await client.aclose()
