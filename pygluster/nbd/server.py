"""Serve one gluster image over NBD (trio): sockets, sessions, requests.

The protocol is :mod:`pygluster.nbd.protocol` (sans-IO); this module moves
its bytes and runs its requests on one :class:`~pygluster.blockdev.
AsyncBlockDevice`. Every client shares that one open image, so a FLUSH on
any connection covers the writes completed on all of them (which is what
NBD_FLAG_CAN_MULTI_CONN promises; it is advertised when ``shared`` > 1).

Requests of one client run concurrently and are answered as they finish
(replies carry the request's cookie), at most ``max_requests`` and
``max_request_bytes`` of payload in flight per client; past that the
client's next request is not read until one finishes.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import stat
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING

import trio

from pygluster import blockdev
from pygluster._version import __version__
from pygluster.errors import FopError, GlusterError, NbdProtocolError
from pygluster.nbd.protocol import (
    MAX_REQUEST_LENGTH,
    NEED_DATA,
    Closed,
    Cmd,
    CmdFlag,
    Errno,
    Export,
    Extent,
    NbdServerConnection,
    Negotiated,
    Request,
    TransmissionFlag,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from pygluster.blockdev import AsyncBlockDevice
    from pygluster.uri import GlusterURI

__all__ = ["DEFAULT_PORT", "Limits", "serve"]

log = logging.getLogger("pygluster.nbd")

#: IANA's NBD port.
DEFAULT_PORT = 10809
_RECEIVE_SIZE = 256 * 1024
#: Replies with payloads up to this size go out in one send.
_JOIN_BELOW = 128 * 1024
#: gluster errnos as NBD error values (the spec's short list); anything
#: else is EIO.
_ERRNO = {
    errno.EPERM: Errno.EPERM,
    errno.EACCES: Errno.EPERM,
    errno.EROFS: Errno.EPERM,
    errno.EIO: Errno.EIO,
    errno.ENOMEM: Errno.ENOMEM,
    errno.EINVAL: Errno.EINVAL,
    errno.ENOSPC: Errno.ENOSPC,
    errno.EDQUOT: Errno.ENOSPC,
    errno.EFBIG: Errno.ENOSPC,
    errno.EOVERFLOW: Errno.EOVERFLOW,
    errno.EOPNOTSUPP: Errno.ENOTSUP,
}


@dataclass(frozen=True, slots=True)
class Limits:
    """How much one client may have in flight, and how long it may dawdle.

    Attributes:
        max_requests: requests of one client running at once.
        max_request_bytes: their READ/WRITE payload at once (one request
            larger than the rest of the budget waits until it is free).
        handshake_timeout: seconds from connect to the end of the handshake.
        drain_timeout: seconds a stopping server gives requests in flight.
    """

    max_requests: int = 32
    max_request_bytes: int = 128 * 1024 * 1024
    handshake_timeout: float = 30.0
    drain_timeout: float = 30.0


class _ByteBudget:
    """Payload bytes one client has in flight, bounded.

    Taking bytes that fit costs nothing (no checkpoint): the request's own
    I/O is the checkpoint. Only a full budget makes the reader wait.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._used = 0
        self._freed: trio.Event | None = None

    async def acquire(self, count: int) -> None:
        count = min(count, self._limit)  # a lone large one still runs
        while self._used and self._used + count > self._limit:
            if self._freed is None:
                self._freed = trio.Event()
            await self._freed.wait()
        self._used += count

    def release(self, count: int) -> None:
        self._used -= min(count, self._limit)
        if self._freed is not None:
            self._freed.set()
            self._freed = None


class _Wire:
    """A client's socket, used directly (as the RPC driver does its own).

    trio's SocketStream costs a conflict check, a checkpoint and a method
    wrapper per call; at tens of thousands of small replies a second that
    is most of the send path. A reply normally goes out in one non-blocking
    ``send`` with no await; only a full socket buffer waits, under a lock so
    that replies never interleave. Failures raise BrokenResourceError.
    """

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self._partial = trio.Lock()

    async def send(self, *pieces: bytes) -> None:
        """Send ``pieces`` back to back (one reply: never interleaved)."""
        sent = 0
        total = sum(len(p) for p in pieces)
        if not self._partial.locked():
            try:
                sent = self.sock.sendmsg(pieces)
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                raise trio.BrokenResourceError(str(exc)) from exc
            if sent == total:
                await trio.lowlevel.checkpoint_if_cancelled()
                return
        async with self._partial:
            for piece in pieces:
                view = memoryview(piece)
                if sent >= len(view):
                    sent -= len(view)
                    continue
                view, sent = view[sent:], 0
                while view:
                    await trio.lowlevel.wait_writable(self.sock)
                    try:
                        view = view[self.sock.send(view) :]
                    except BlockingIOError:
                        continue
                    except OSError as exc:
                        raise trio.BrokenResourceError(str(exc)) from exc

    async def receive(self) -> bytes:
        """The next bytes from the client; b"" at end of stream."""
        while True:
            await trio.lowlevel.wait_readable(self.sock)
            try:
                return self.sock.recv(_RECEIVE_SIZE)
            except BlockingIOError:
                continue
            except OSError as exc:
                raise trio.BrokenResourceError(str(exc)) from exc

    def close(self) -> None:
        self.sock.close()


def nbd_errno(exc: BaseException) -> Errno:
    """The NBD error value for a failed request."""
    if isinstance(exc, FopError) and exc.errno is not None:
        return _ERRNO.get(exc.errno, Errno.EIO)
    return Errno.EIO


@dataclass(eq=False)
class _Session:
    """One client: the handshake, then its requests until it goes."""

    wire: _Wire
    peer: str
    export: Export
    device: AsyncBlockDevice
    limits: Limits
    stopping: trio.Event

    def __post_init__(self) -> None:
        self.conn = NbdServerConnection(self.export)
        self._requests = trio.Semaphore(self.limits.max_requests)
        self._bytes = _ByteBudget(self.limits.max_request_bytes)

    async def run(self) -> None:
        try:
            await self._run()
        except NbdProtocolError as exc:
            log.warning("%s: disconnected: %s", self.peer, exc)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            log.info("%s: connection lost: %s", self.peer, exc or "closed")
        finally:
            self.wire.close()

    async def _receive(self) -> bool:
        """Read more from the client; False at end of stream."""
        data = await self.wire.receive()
        if not data:
            return False
        self.conn.receive_data(data)
        return True

    async def _run(self) -> None:
        conn = self.conn
        await self.wire.send(conn.greeting())
        with trio.move_on_after(self.limits.handshake_timeout) as handshake:
            negotiated = await self._handshake()
        if handshake.cancelled_caught:
            log.warning(
                "%s: no handshake within %g s; disconnected",
                self.peer,
                self.limits.handshake_timeout,
            )
            return
        if negotiated is None:
            return
        log.info(
            "%s: transmission (structured replies %s, base:allocation %s)",
            self.peer,
            "on" if negotiated.structured else "off",
            "on" if negotiated.base_allocation else "off",
        )
        async with trio.open_nursery() as requests:
            with trio.CancelScope() as reading:
                async with trio.open_nursery() as watch:
                    watch.start_soon(_cancel_when, self.stopping, reading)
                    await self._transmission(requests)
                    watch.cancel_scope.cancel()
            # Reading is over (DISC, end of stream, or a stop): the requests
            # in flight finish and are answered, within the drain timeout.
            requests.cancel_scope.deadline = (
                trio.current_time() + self.limits.drain_timeout
            )

    async def _handshake(self) -> Negotiated | None:
        conn = self.conn
        while True:
            event = conn.next_event()
            out = conn.data_to_send()
            if out:
                await self.wire.send(out)
            if isinstance(event, Negotiated):
                return event
            if isinstance(event, Closed):
                log.info("%s: %s", self.peer, event.reason)
                return None
            if event is NEED_DATA and not await self._receive():
                log.info("%s: went away during the handshake", self.peer)
                return None

    async def _transmission(self, requests: trio.Nursery) -> None:
        conn = self.conn
        while True:
            event = conn.next_event()
            if event is NEED_DATA:
                if not await self._receive():
                    log.info("%s: disconnected", self.peer)
                    return
                continue
            if isinstance(event, Closed):
                log.info("%s: %s", self.peer, event.reason)
                return
            assert isinstance(event, Request)
            payload = event.length if event.command in (Cmd.READ, Cmd.WRITE) else 0
            try:
                # A free slot costs no scheduler pass; a full one waits.
                self._requests.acquire_nowait()
            except trio.WouldBlock:
                await self._requests.acquire()
            await self._bytes.acquire(payload)
            requests.start_soon(self._answer, event, payload)

    async def _answer(self, request: Request, payload: int) -> None:
        try:
            pieces = await self._reply_to(request)
            if len(pieces) > 1 and len(pieces[1]) <= _JOIN_BELOW:
                # One send: a small payload costs less to copy than to send
                # apart (and the client gets the reply in one segment).
                pieces = [b"".join(pieces)]
            await self.wire.send(*pieces)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the client is gone; the reader sees it too
        finally:
            self._requests.release()
            self._bytes.release(payload)

    async def _reply_to(self, request: Request) -> list[bytes]:
        conn = self.conn
        cookie = request.cookie
        if request.error:
            log.info(
                "%s: %s at %d+%d refused: %s",
                self.peer,
                request.command.name,
                request.offset,
                request.length,
                request.error.name,
            )
            return [conn.error_reply(cookie, request.error, request.error.name)]
        try:
            if request.command == Cmd.READ:
                data = await self.device.pread(request.length, request.offset)
                return conn.read_reply(cookie, request.offset, data)
            if request.command == Cmd.BLOCK_STATUS:
                return [conn.block_status_reply(cookie, await self._extents(request))]
            error = await self._modify(request)
            return [conn.simple_reply(cookie, error)]
        except GlusterError as exc:
            code = nbd_errno(exc)
            log.warning(
                "%s: %s at %d+%d failed (%s): %s",
                self.peer,
                request.command.name,
                request.offset,
                request.length,
                code.name,
                exc,
            )
            return [conn.error_reply(cookie, code, str(exc))]
        except (ValueError, OSError) as exc:
            # Not a gluster refusal (a local resource, a bad argument we let
            # through): EIO for this request, logged with its traceback, and
            # the server goes on.
            log.exception(
                "%s: %s at %d+%d failed unexpectedly",
                self.peer,
                request.command.name,
                request.offset,
                request.length,
            )
            return [conn.error_reply(cookie, Errno.EIO, str(exc))]

    async def _extents(self, request: Request) -> list[Extent]:
        extents = [
            Extent(e.length, hole=not e.data)
            for e in await self.device.extents(request.offset, request.length)
        ]
        if request.flags & CmdFlag.REQ_ONE:
            del extents[1:]
        return extents or [Extent(request.length, hole=True)]

    async def _modify(self, request: Request) -> Errno:
        device = self.device
        command, offset, length = request.command, request.offset, request.length
        if command == Cmd.FLUSH:
            await device.flush()
            return Errno.OK
        if command == Cmd.CACHE or not length:
            return Errno.OK
        if command == Cmd.WRITE:
            await device.pwrite(request.data, offset)
        elif command == Cmd.TRIM:
            await device.discard(offset, length)
        elif command == Cmd.WRITE_ZEROES:
            error = await self._write_zeroes(request)
            if error:
                return error
        if request.flags & CmdFlag.FUA:
            await device.flush()
        return Errno.OK

    async def _write_zeroes(self, request: Request) -> Errno:
        device = self.device
        fast = bool(request.flags & CmdFlag.FAST_ZERO)
        if request.flags & CmdFlag.NO_HOLE:
            if fast:
                # ZEROFILL may write every byte on the brick: not "fast".
                return Errno.ENOTSUP
            await device.write_zeroes(request.offset, request.length)
            return Errno.OK
        try:
            # A punched hole reads back as zeros, and costs no writing.
            await device.discard(request.offset, request.length)
        except FopError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.ENOSYS):
                raise
            if fast:
                return Errno.ENOTSUP
            await device.write_zeroes(request.offset, request.length)
        return Errno.OK


def _flags(read_only: bool, shared: int) -> TransmissionFlag:
    flags = TransmissionFlag.SEND_FLUSH
    if read_only:
        flags |= TransmissionFlag.READ_ONLY
    else:
        flags |= (
            TransmissionFlag.SEND_FUA
            | TransmissionFlag.SEND_TRIM
            | TransmissionFlag.SEND_WRITE_ZEROES
            | TransmissionFlag.SEND_FAST_ZERO
        )
    if shared > 1:
        # Every client shares the one open image: a FLUSH on any of them
        # covers what all of them wrote (proto.md's condition for it).
        flags |= TransmissionFlag.CAN_MULTI_CONN
    return flags


def _export_name(uri: GlusterURI, name: str | None) -> str:
    if name is not None:
        return name
    return uri.image_path.rsplit("/", 1)[-1]


async def _unix_listener(path: str) -> trio.SocketListener:
    with suppress(FileNotFoundError):
        if stat.S_ISSOCK(os.stat(path).st_mode):
            os.unlink(path)  # a stale socket of an earlier run
    sock = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        await sock.bind(path)
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return trio.SocketListener(sock)


def _nbd_url(listener: trio.SocketListener, name: str, unix_path: str | None) -> str:
    if unix_path is not None:
        return f"nbd+unix:///{name}?socket={unix_path}"
    host, port = listener.socket.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"nbd://{shown}:{port}/{name}"


async def serve(
    uri: GlusterURI | str,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    unix_socket: str | None = None,
    read_only: bool = False,
    export_name: str | None = None,
    shared: int = 1,
    limits: Limits | None = None,
    stop: trio.Event | None = None,
    ready: Callable[[str], None] | None = None,
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
    **options: object,
) -> None:
    """Serve the image at ``uri`` over NBD until ``stop`` is set (or cancelled).

    Args:
        uri: the gluster image to export.
        host, port: where to listen (TCP; default loopback only, port 10809;
            port 0 picks a free one).
        unix_socket: listen on this unix socket path instead of TCP.
        read_only: open the image read-only; writes get EPERM.
        export_name: the name clients ask for (default: the image's file
            name); the default export "" is this one too.
        shared: clients served at once; more are disconnected at accept.
        limits: per-client bounds (:class:`Limits`).
        stop: set it to stop gracefully: no new clients or requests, the
            requests in flight are answered, the image flushed and closed.
            Cancelling instead closes at once (the image is still flushed).
        ready: called with the NBD URL once listening (``task_status`` gets
            it too, for ``nursery.start``).
        **options: :func:`pygluster.open_async` keyword arguments (timeouts,
            credentials, ``write_behind``, ``direct``).

    Raises:
        GlusterError: the image could not be opened.
        OSError: the address could not be listened on.
    """
    limits = limits or Limits()
    stopping = stop if stop is not None else trio.Event()
    mode: blockdev.Mode = "r" if read_only else "r+"
    async with blockdev.open_async(
        uri,
        mode,
        max_in_flight=64,
        **options,  # type: ignore[arg-type]  # open_async checks them
    ) as device:
        name = _export_name(device.uri, export_name)
        export = Export(
            name=name,
            size=await device.size(),
            flags=_flags(read_only, shared),
            description=f"{device.uri} (pygluster {__version__})",
            preferred_block=4096,
            maximum_block=MAX_REQUEST_LENGTH,
        )
        if unix_socket is not None:
            listeners = [await _unix_listener(unix_socket)]
        else:
            listeners = await trio.open_tcp_listeners(port, host=host)
        url = _nbd_url(listeners[0], name, unix_socket)
        log.info("serving %s as %s (%d bytes)", device.uri, url, export.size)
        if ready is not None:
            ready(url)
        task_status.started(url)
        active: set[_Session] = set()
        try:
            async with trio.open_nursery() as sessions:
                with trio.CancelScope() as accepting:
                    sessions.start_soon(_cancel_when, stopping, accepting)
                    async with trio.open_nursery() as accepters:
                        for listener in listeners:
                            accepters.start_soon(
                                _accept,
                                listener,
                                sessions,
                                active,
                                export,
                                device,
                                limits,
                                stopping,
                                shared,
                            )
        finally:
            with trio.CancelScope(shield=True):
                for listener in listeners:
                    await listener.aclose()
                if unix_socket is not None:
                    with suppress(OSError):
                        os.unlink(unix_socket)
        log.info("stopped serving %s; flushing and closing it", device.uri)


async def _cancel_when(event: trio.Event, scope: trio.CancelScope) -> None:
    await event.wait()
    scope.cancel()


async def _accept(
    listener: trio.SocketListener,
    sessions: trio.Nursery,
    active: set[_Session],
    export: Export,
    device: AsyncBlockDevice,
    limits: Limits,
    stopping: trio.Event,
    shared: int,
) -> None:
    while True:
        stream = await listener.accept()
        peer = _peer_name(stream)
        tsock = stream.socket
        raw = socket.socket(tsock.family, tsock.type, fileno=tsock.detach())
        if len(active) >= shared:
            log.warning(
                "%s: refused: already serving %d client(s) (--shared %d)",
                peer,
                len(active),
                shared,
            )
            raw.close()
            continue
        session = _Session(_Wire(raw), peer, export, device, limits, stopping)
        active.add(session)
        log.info("%s: connected", peer)
        sessions.start_soon(_run_session, session, active)


async def _run_session(session: _Session, active: set[_Session]) -> None:
    try:
        await session.run()
    finally:
        active.discard(session)


def _peer_name(stream: trio.SocketStream) -> str:
    try:
        peer = stream.socket.getpeername()
    except OSError:
        return "client"
    if isinstance(peer, tuple):
        host, port = peer[:2]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return f"unix:{peer or 'client'}"
