"""``protocol/client``: one brick, over one RPC connection.

The leaf of every client graph. :meth:`ClientXlator.start` does what gfapi's
``client-handshake.c`` does: portmap (unless the volfile pins
``remote-port``), connect, DUMP (the brick must offer fops v400), then
SETVOLUME with a fresh ``process-uuid``; after that every fop is one RPC
(program 1298437 v400) with an AUTH_GLUSTERFS_v3 credential whose ctime
fields let the brick's utime feature stamp mtime/ctime as gfapi would
(protocol.md §8.6).

Remote fds live in ``Fd.ctx[self]``; they are per connection.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import math
import os
import socket
import time
import uuid
import weakref
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import trio

from pygluster import events
from pygluster._version import __version__
from pygluster.errors import (
    ConnectionLost,
    FopError,
    GlusterError,
    MgmtError,
    RemoteProtocolError,
    RpcTimeout,
    TlsError,
    TransportError,
    XdrError,
)
from pygluster.mgmt import port_by_brick
from pygluster.rpc import callback, fops, glusterd, xdr
from pygluster.rpc.client import TcpAddress, open_rpc_client
from pygluster.rpc.fops import DictValue, EntrylkCmd, GfOpenFlags, LkCmd, LkType
from pygluster.rpc.programs import ProgramNumber
from pygluster.rpc.sunrpc import Credentials
from pygluster.tls import NO_TLS, auth_refusal_hint, first_call_lost
from pygluster.xlators.base import (
    INODELK_COUNT,
    INODELK_DOM_COUNT,
    Fd,
    Flock,
    InodelkContention,
    Loc,
    Xlator,
    current_frame,
    frame,
    new_entry_gfid,
    xlator_type,
)
from pygluster.xlators.options import parse_bool_option

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

    from pygluster.rpc.client import RpcClient
    from pygluster.rpc.fops import GfDict, GfStatfs, GfxIattx, Xdata
    from pygluster.rpc.programs import Procedure
    from pygluster.tls import TlsConfig, TlsOptions
    from pygluster.volfile import Brick
    from pygluster.volfile import Xlator as VolfileXlator
    from pygluster.xlators.base import BuildContext, ReadInto

__all__ = [
    "DEFAULT_FRAME_TIMEOUT",
    "DEFAULT_PING_TIMEOUT",
    "DEFAULT_REQUEST_TIMEOUT",
    "ClientXlator",
    "setvolume_dict",
]

# A lock request as a lock fop describes it: a Flock (inodelk) or a kind (entrylk).
_L = TypeVar("_L")

log = logging.getLogger("pygluster.client")

#: gluster's frame-timeout default (rpc-clnt.c): a call unanswered this long
#: is failed. The volfile may override it.
DEFAULT_FRAME_TIMEOUT = 1800.0
#: network.ping-timeout's default (rpc-clnt-ping.c); the volfile says more.
DEFAULT_PING_TIMEOUT = 42.0
#: Seconds a fop may wait for its reply unless the caller says otherwise
#: (``open(..., timeout=)``): a brick that answers pings but not the fop is
#: an error after this, not after frame-timeout's half hour.
DEFAULT_REQUEST_TIMEOUT = 120.0
#: Fops whose work grows with the range asked for (a ZEROFILL of a whole
#: image writes every byte on file systems without fallocate): they are
#: bounded by frame-timeout alone.
_LONG_FOPS = frozenset({"ZEROFILL", "FALLOCATE", "DISCARD"})
#: Lock owners whose credentials are kept encoded (one per transaction).
_OWNER_CREDENTIALS_KEPT = 64
#: Seconds to spend withdrawing a blocking lock request that timed out.
_WITHDRAW_SECONDS = 10.0
#: How long a fop on a lone brick waits for a reconnect before ENOTCONN.
DEFAULT_RECONNECT_GRACE = 10.0
#: First and largest delay between reconnect attempts (gluster retries every
#: 3 s; we start sooner and back off).
_RECONNECT_DELAYS = (0.5, 5.0)
_CREATE_ONLY_FLAGS = int(
    fops.GfOpenFlags.CREAT | fops.GfOpenFlags.EXCL | fops.GfOpenFlags.TRUNC
)
#: GD_OP_VERSION_MAX of glusterfs 10, sent as our op-version in SETVOLUME.
_OP_VERSION = "100000"


def setvolume_dict(
    xlator: str,
    brick: Brick,
    options: Mapping[str, str],
    volume: str,
    reconnects: int = 0,
) -> dict[str, bytes]:
    """SETVOLUME's dict for one brick connection, as gfapi 10.3 builds it.

    Keys as protocol.md §5.4; the server requires process-uuid,
    fops-version (the program *number*) and remote-subvolume. A fresh uuid
    per connection (and RECON_NO per reconnect) keeps the brick from mixing
    our locks and fds with an earlier connection's. The volfile's login
    (username/password, trusted volfiles only) is passed on.
    """
    process_uuid = (
        f"CTX_ID:{uuid.uuid4()}-GRAPH_ID:0-PID:{os.getpid()}"
        f"-HOST:{socket.gethostname()}-PC_NAME:{xlator}"
        f"-RECON_NO:-{reconnects}"
    )
    values: dict[str, str | int] = {
        "process-uuid": process_uuid,
        "fops-version": int(ProgramNumber.GLUSTER_FOP),
        "remote-subvolume": brick.path,
        "volfile-key": volume,
        "opversion": _OP_VERSION,
        "clnt-lk-version": 1,
        "volfile-checksum": 0,
        "client-version": f"pygluster-{__version__}",
        "process-name": "pygluster",
        "transport-type": "socket",
        "transport.address-family": brick.address_family,
    }
    for key in ("username", "password", "ping-timeout"):
        if key in options:
            values[key] = options[key]
    return glusterd.str_dict(values)


@xlator_type("protocol/client")
class ClientXlator(Xlator):
    """The ``protocol/client`` translator: fops on one brick.

    Args:
        name: the xlator name in the volfile (``pyg_dist-client-0``).
        brick: where the brick is, from the volfile.
        options: the xlator's volfile options (username/password, ...).
        volume: the volume name (SETVOLUME's volfile-key).
        credentials: identity for fops.
        nursery: where the connection's task runs (it owns the socket and
            the RPC reader, and ends at :meth:`stop`).
    """

    def __init__(
        self,
        name: str,
        brick: Brick,
        options: dict[str, str],
        *,
        volume: str,
        credentials: Credentials,
        nursery: trio.Nursery,
        connect_timeout: float | None,
        request_timeout: float | None = DEFAULT_REQUEST_TIMEOUT,
        reconnect_grace: float = DEFAULT_RECONNECT_GRACE,
        tls: TlsOptions | None = None,
    ) -> None:
        super().__init__(name, [])
        self.brick = brick
        self.options = options
        self.volume = volume
        self.credentials = credentials
        #: Seconds a fop waits for a lost brick to come back before failing
        #: with ENOTCONN. Replicate's children use 0: AFR carries on without
        #: the brick and blames it, which is the right thing there.
        self.reconnect_grace = reconnect_grace
        #: gluster's ping-timeout (0: never ping, as in gluster; the request
        #: timeout still bounds every fop).
        self.ping_timeout = (
            DEFAULT_PING_TIMEOUT if brick.ping_timeout is None else brick.ping_timeout
        )
        #: gluster's frame-timeout: no reply to any call after this long.
        self.frame_timeout = (
            DEFAULT_FRAME_TIMEOUT
            if brick.frame_timeout is None
            else brick.frame_timeout
        )
        #: Seconds one fop may wait for its reply (None: frame-timeout only).
        self.request_timeout = request_timeout
        self._nursery = nursery
        self._connect_timeout = connect_timeout
        #: The caller's TLS options; with the volfile's ssl options they
        #: decide whether (and how) the brick connection uses TLS.
        self.tls = tls if tls is not None else NO_TLS
        self._rpc: RpcClient | None = None
        self._run_scope = trio.CancelScope()
        self._stopping = False
        self._connected = trio.Event()
        self._reconnects = 0
        self._first_error: GlusterError | None = None
        # When the connection was last lost (-inf: never had one).
        self._lost_at = -math.inf
        # Open files on this brick, reopened after a reconnect (remote fds
        # are per connection and die with it, §8.3 / gotcha 14).
        self._fds: weakref.WeakSet[Fd] = weakref.WeakSet()
        # RELEASE goes out as pid 0 with a zero lock owner, like gfapi (§8.3).
        self._release_credentials = Credentials(
            pid=0,
            uid=credentials.uid,
            gid=credentials.gid,
            groups=credentials.groups,
            lk_owner=b"\0\0\0\0",
        )
        self.port: int | None = None
        #: network.remote-dio enabled: O_DIRECT is taken off every open and
        #: I/O before it reaches the brick (client.c filter-O_DIRECT), so the
        #: brick's page cache serves it.
        self.filter_o_direct = parse_bool_option(options, "filter-O_DIRECT", False)
        self._owner_creds: dict[bytes, Credentials] = {}
        # The credential of fops that set no times never changes: encode once.
        self._plain_cred = credentials.auth_v3()

    @classmethod
    def from_volfile(
        cls, node: VolfileXlator, children: list[Xlator], context: BuildContext
    ) -> Xlator:
        brick = context.bricks.get(node.name)
        assert brick is not None
        return cls(
            node.name,
            brick,
            dict(node.options),
            volume=context.volume,
            credentials=context.credentials,
            nursery=context.nursery,
            connect_timeout=context.connect_timeout,
            request_timeout=context.request_timeout,
            tls=context.tls,
        )

    def __str__(self) -> str:
        return str(self.brick)

    @property
    def is_up(self) -> bool:
        """True while the brick connection is established."""
        return self._rpc is not None and not self._rpc.is_closed

    @property
    def connection(self) -> object | None:
        return self._rpc

    async def wait_connected(self) -> None:
        """Return once the brick is connected (at once if it is)."""
        while not self.is_up:
            await self._connected.wait()

    @property
    def rpc(self) -> RpcClient:
        """The connection to the brick (after :meth:`start`)."""
        assert self._rpc is not None, f"{self.name} used before start()"
        return self._rpc

    # --- connection life ------------------------------------------------------
    #
    # Theory of operation: one task per brick (``_run``, in the graph's
    # nursery) owns the connection. It connects (portmap unless the volfile
    # pins remote-port, TCP, DUMP, SETVOLUME), reports the first success to
    # start(), then waits for the connection to end: a socket error, EOF, or
    # the ping watchdog declaring the brick dead. It then logs why, and
    # reconnects with a growing delay (portmap again: a restarted brick gets
    # a new port), redoes SETVOLUME with a new process-uuid and reopens every
    # open fd, until stop(). While the brick is away fops fail with ENOTCONN
    # (after waiting up to ``reconnect_grace`` for it to come back).

    async def start(self) -> None:
        """Connect the brick, the first time.

        If that fails the error is raised, and the connection task keeps
        trying in the background (as gluster's client does) until
        :meth:`stop`: a replicate or distribute volume can work on without
        one brick, and the brick joins when it comes up.

        Raises:
            MgmtError: portmap or SETVOLUME refused (the message says why).
            TransportError: the brick could not be reached.
        """
        await self._nursery.start(self._run)
        if self._first_error is not None:
            raise self._first_error

    async def _run(self, *, task_status: trio.TaskStatus[None]) -> None:
        first = True
        delay = _RECONNECT_DELAYS[0]
        reason: GlusterError | None = None
        with self._run_scope:
            while True:
                try:
                    async with self._session() as rpc:
                        if not first:
                            await self._reopen_fds()
                        self._connected.set()
                        if first:
                            first = False
                            task_status.started()
                        delay = _RECONNECT_DELAYS[0]
                        await rpc.wait_closed()
                        self._mark_down()
                        self._lost_at = trio.current_time()
                        reason = rpc.closed_reason
                except GlusterError as exc:
                    if first:
                        first = False
                        self._first_error = exc
                        task_status.started()
                    reason = exc
                self._mark_down()
                if self._stopping:
                    return
                self._reconnects += 1
                log.warning(
                    "%s: brick %s unavailable (%s); reconnecting in %g s",
                    self.name,
                    self.brick,
                    reason,
                    delay,
                )
                events.emit(
                    events.Reconnecting,
                    xlator=self.name,
                    brick=str(self.brick),
                    reason=str(reason),
                    delay=delay,
                    attempt=self._reconnects,
                )
                await trio.sleep(delay)
                delay = min(delay * 2, _RECONNECT_DELAYS[1])

    def _mark_down(self) -> None:
        """Make ``_connected`` an unset Event again, once per loss.

        Fops that wait for the brick to come back wait on the unset Event;
        replacing it a second time would strand them on one that is never
        set (they would sit out the whole reconnect grace).
        """
        if self._connected.is_set():
            self._connected = trio.Event()

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[RpcClient]:
        port = self.brick.port
        if port is None:
            port = await port_by_brick(
                self.brick.host,
                self.brick.path,
                connect_timeout=self._connect_timeout,
                tls=self.tls,
            )
        self.port = port
        tls = self.tls.for_brick(self.options, str(self.brick))
        call_timeout = self.frame_timeout
        if self.request_timeout is not None:
            call_timeout = min(call_timeout, self.request_timeout)
        async with contextlib.AsyncExitStack() as stack:
            try:
                rpc = await stack.enter_async_context(
                    open_rpc_client(
                        TcpAddress(self.brick.host, port),
                        credentials=self.credentials,
                        connect_timeout=self._connect_timeout,
                        call_timeout=call_timeout,
                        ping_timeout=self.ping_timeout or None,
                        trace_label=str(self.brick),
                        tls=tls,
                    )
                )
            except TlsError as exc:
                # The handshake names host:port; say which brick that is.
                raise TlsError(f"brick {self.brick}: {exc}") from exc
            try:
                dump = await rpc.call(
                    glusterd.DUMP,
                    glusterd.GfDumpReq(gfs_id=glusterd.GLUSTER_DUMP_GFS_ID),
                )
            except ConnectionLost as exc:
                who = f"brick {self.brick} (port {port})"
                raise first_call_lost(exc, who, tls, glusterd=False) from exc
            offered = {(p.prognum, p.progver) for p in dump.prog}
            if (ProgramNumber.GLUSTER_FOP, fops.FOP_PROGRAM.version) not in offered:
                raise MgmtError(
                    "DUMP",
                    str(self.brick),
                    errno.EPROTONOSUPPORT,
                    "the brick does not offer GlusterFS fops v400 (glusterfs >= 4)",
                )
            await self._setvolume(rpc, tls)
            self._rpc = rpc
            self._nursery.start_soon(self._serve_callbacks, rpc)
            what = "reconnected" if self._reconnects else "connected"
            log.info("%s: %s to brick %s (port %d)", self.name, what, self.brick, port)
            if self._reconnects:
                events.emit(
                    events.Reconnected,
                    xlator=self.name,
                    brick=str(self.brick),
                    port=port,
                    attempt=self._reconnects,
                )
            yield rpc

    async def _serve_callbacks(self, rpc: RpcClient) -> None:
        """Pass the brick's callbacks up the graph until the connection ends.

        Only lock contention matters to a block device; cache invalidation,
        lease recalls and the rest are for caches we do not keep.
        """
        async for call in rpc.server_calls:
            if (
                call.prog != ProgramNumber.GLUSTER_CBK
                or call.proc != callback.CbkProc.INODELK_CONTENTION
            ):
                continue
            try:
                notice = xdr.decode(callback.Gfs4InodelkContentionReq, call.args)
            except XdrError as exc:
                log.warning("%s: undecodable contention notice: %s", self, exc)
                continue
            self.upcall(InodelkContention(notice.gfid, notice.domain, str(self.brick)))

    async def _reopen_fds(self) -> None:
        for fd in list(self._fds):
            if self not in fd.ctx:
                continue
            # Reopen without the create-time flags (client-handshake.c
            # client_reopen: O_CREAT/O_EXCL/O_TRUNC stripped).
            flags = fd.flags & ~_CREATE_ONLY_FLAGS
            try:
                reply = await self._fop(
                    fops.OPEN,
                    fops.GfxOpenReq(
                        gfid=fd.gfid, flags=self._brick_flags(flags), xdata=None
                    ),
                    fd.loc.path,
                )
            except FopError as exc:
                log.warning("%s: could not reopen %s: %s", self.name, fd.loc.path, exc)
                fd.ctx.pop(self, None)
                continue
            fd.ctx[self] = reply.fd
            log.info("%s: reopened %s (fd %d)", self.name, fd.loc.path, reply.fd)

    async def stop(self) -> None:
        """Close the brick connection and stop reconnecting."""
        self._stopping = True
        if self._rpc is not None:
            await self._rpc.aclose()
        self._run_scope.cancel()

    def _setvolume_dict(self) -> dict[str, bytes]:
        return setvolume_dict(
            self.name, self.brick, self.options, self.volume, self._reconnects
        )

    async def _setvolume(self, rpc: RpcClient, tls: TlsConfig | None) -> None:
        reply = await rpc.call(
            glusterd.SETVOLUME,
            glusterd.GfSetvolumeReq(dict=self._setvolume_dict()),
            cred=self.credentials.auth_v3(),
        )
        message = glusterd.dict_str(reply.dict, "ERROR") or ""
        if reply.op_ret < 0:
            hint = message or "no reason given"
            if reply.op_errno == errno.EACCES:
                hint += f" ({auth_refusal_hint(tls)})"
            raise MgmtError("SETVOLUME", str(self.brick), reply.op_errno, hint)
        if glusterd.dict_str(reply.dict, "child_up") == "0":
            raise MgmtError(
                "SETVOLUME",
                str(self.brick),
                errno.ENOTCONN,
                "the brick's storage is not up yet (child_up=0); retry shortly",
            )

    # --- fop plumbing ----------------------------------------------------------

    async def _fop(
        self,
        procedure: Procedure[Any, Any],
        args: Any,
        target: str,
        *,
        payload: bytes | memoryview = b"",
        release: bool = False,
        into: ReadInto = None,
        waits: bool = False,
    ) -> Any:
        """Send one fop and return its results (and payload, for READ).

        ``waits``: the brick may legitimately hold the reply as long as
        another client holds what is asked for (a blocking lock), so only
        frame-timeout bounds it, as ZEROFILL's; ping-timeout still catches a
        brick that went silent.
        """
        flags = fops.CTIME_FLAGS.get(procedure.name, 0)
        owner = current_frame().lk_owner
        if release:
            cred = self._release_credentials.auth_v3()
        elif owner is not None:
            # Locks belong to the credential's lk_owner on this connection
            # (§8.4); a transaction winds its fops in a frame with its own
            # (base.frame) so that two of ours never share a lock.
            owned = self._owner_credentials(owner)
            cred = owned.auth_v3(flags, time.time_ns()) if flags else owned.auth_v3()
        elif flags:
            # The brick stamps the flagged times with our clock (utime, §8.6).
            cred = self.credentials.auth_v3(flags, time.time_ns())
        else:
            cred = self._plain_cred
        if not self.is_up and not self._stopping:
            # A brick that went away moments ago (a restart) gets a grace
            # period to come back; one that has been down longer (or never
            # came up) fails at once, so that a dead brick costs nothing.
            lost_at = self._lost_at
            if self._rpc is not None and self._rpc.closed_at is not None:
                # Lost so recently that the connection task has not seen it.
                self._mark_down()
                lost_at = max(lost_at, self._rpc.closed_at)
            remaining = lost_at + self.reconnect_grace - trio.current_time()
            if remaining > 0:
                with trio.move_on_after(remaining):
                    await self._connected.wait()
        rpc = self._rpc
        if rpc is None:
            raise FopError(procedure.name, target, str(self.brick), errno.ENOTCONN)
        long = waits or procedure.name in _LONG_FOPS
        timeout = self.frame_timeout if long else None
        try:
            reply = await rpc.call_reply(
                procedure, args, cred=cred, payload=payload, into=into, timeout=timeout
            )
        except RpcTimeout as exc:
            raise FopError(
                procedure.name,
                target,
                str(self.brick),
                errno.ETIMEDOUT,
                f"no reply within {timeout or rpc.call_timeout:g} s; "
                "open(..., timeout=) or --timeout changes the limit",
            ) from exc
        except TransportError as exc:
            # gluster fails calls on a lost connection with ENOTCONN.
            raise FopError(
                procedure.name, target, str(self.brick), errno.ENOTCONN
            ) from exc
        result: Any = reply.result
        if result.op_ret < 0:
            raise FopError(procedure.name, target, str(self.brick), result.op_errno)
        if procedure.reply_payload:
            return result, reply.payload
        return result

    def _owner_credentials(self, owner: bytes) -> Credentials:
        # One per owner, kept: its encoded credential body is a template
        # (Credentials.auth_v3), and a transaction's owner signs every fop of
        # it; a transaction is short-lived, so only the last few are kept.
        cached = self._owner_creds.get(owner)
        if cached is None:
            c = self.credentials
            cached = Credentials(
                pid=c.pid, uid=c.uid, gid=c.gid, groups=c.groups, lk_owner=owner
            )
            if len(self._owner_creds) >= _OWNER_CREDENTIALS_KEPT:
                del self._owner_creds[next(iter(self._owner_creds))]
            self._owner_creds[owner] = cached
        return cached

    def _flock(self, flock: Flock) -> Any:
        owner = current_frame().lk_owner
        return fops.GfProtoFlock(
            type=flock.type,
            whence=0,
            start=flock.start,
            len=flock.length,
            pid=self.credentials.pid,
            lk_owner=owner if owner is not None else self.credentials.lk_owner,
        )

    def _remote_fd(self, fd: Fd) -> int:
        remote = fd.ctx.get(self)
        if remote is None:
            raise FopError("fd", fd.loc.path, str(self.brick), errno.EBADF)
        assert isinstance(remote, int)
        return remote

    async def _fd_fop(
        self,
        procedure: Procedure[Any, Any],
        request: Callable[..., Any],
        fd: Fd,
        xdata: Xdata,
        *,
        target: str | None = None,
        payload: bytes | memoryview = b"",
        into: ReadInto = None,
        waits: bool = False,
        **fields: Any,
    ) -> Any:
        """A fop on the open ``fd``: its request carries the file's gfid, our
        remote fd and ``xdata`` besides ``fields`` (every gfx_f*_req does)."""
        args = request(gfid=fd.gfid, fd=self._remote_fd(fd), xdata=xdata, **fields)
        return await self._fop(
            procedure,
            args,
            fd.loc.path if target is None else target,
            payload=payload,
            into=into,
            waits=waits,
        )

    # --- entries ----------------------------------------------------------------

    async def lookup(self, loc: Loc, xdata: Xdata = None) -> tuple[GfxIattx, Xdata]:
        if loc.name:
            # A named lookup: parent gfid + name. gfapi adds a fresh gfid-req,
            # which the brick uses to heal an entry that lacks a gfid (§8.1).
            assert loc.parent is not None
            request = dict(xdata or {})
            request.setdefault("gfid-req", DictValue.gfuuid(uuid.uuid4().bytes))
            args = fops.GfxLookupReq(
                gfid=loc.gfid or fops.NULL_GFID,
                pargfid=loc.parent,
                flags=0,
                bname=loc.name,
                xdata=request,
            )
        else:
            assert loc.gfid is not None
            args = fops.GfxLookupReq(
                gfid=loc.gfid, pargfid=fops.NULL_GFID, flags=0, bname="", xdata=xdata
            )
        reply = await self._fop(fops.LOOKUP, args, loc.path)
        return reply.prestat, reply.xdata

    def _brick_flags(self, flags: int) -> int:
        """Open flags as the brick gets them (O_DIRECT filtered if asked)."""
        return flags & ~GfOpenFlags.DIRECT if self.filter_o_direct else flags

    def _io_flag(self, fd: Fd) -> int:
        """gfx_read_req/gfx_write_req ``flag``: the fd's O_DIRECT, which an
        anonymous fd has no OPEN to carry (seen from libgfapi, 10.3: READ
        and WRITE on fd -2 with flag 0o40000 for an O_DIRECT image)."""
        return self._brick_flags(fd.flags) & GfOpenFlags.DIRECT

    def _opened(self, loc: Loc, flags: int, remote: int) -> Fd:
        fd = Fd(loc, flags)
        fd.ctx[self] = remote
        self._fds.add(fd)
        return fd

    async def create(
        self, loc: Loc, flags: int, mode: int, umask: int = 0, xdata: Xdata = None
    ) -> tuple[Fd, GfxIattx]:
        assert loc.parent is not None
        reply = await self._fop(
            fops.CREATE,
            fops.GfxCreateReq(
                pargfid=loc.parent,
                flags=self._brick_flags(flags),
                mode=mode,
                umask=umask,
                bname=loc.name,
                xdata=_with_gfid_req(xdata, loc),
            ),
            loc.path,
        )
        fd = self._opened(loc.with_gfid(reply.stat.ia_gfid), flags, reply.fd)
        return fd, reply.stat

    async def mkdir(
        self, loc: Loc, mode: int, umask: int = 0, xdata: Xdata = None
    ) -> GfxIattx:
        assert loc.parent is not None
        reply = await self._fop(
            fops.MKDIR,
            fops.GfxMkdirReq(
                pargfid=loc.parent,
                mode=mode,
                umask=umask,
                bname=loc.name,
                xdata=_with_gfid_req(xdata, loc),
            ),
            loc.path,
        )
        stat: GfxIattx = reply.stat
        return stat

    async def unlink(self, loc: Loc, xdata: Xdata = None) -> None:
        assert loc.parent is not None
        await self._fop(
            fops.UNLINK,
            fops.GfxUnlinkReq(
                pargfid=loc.parent, bname=loc.name, xflags=0, xdata=xdata
            ),
            loc.path,
        )

    async def rmdir(self, loc: Loc, xdata: Xdata = None) -> None:
        assert loc.parent is not None
        await self._fop(
            fops.RMDIR,
            fops.GfxRmdirReq(pargfid=loc.parent, xflags=0, bname=loc.name, xdata=xdata),
            loc.path,
        )

    async def statfs(self, loc: Loc, xdata: Xdata = None) -> GfStatfs:
        reply = await self._fop(
            fops.STATFS,
            fops.GfxStatfsReq(gfid=loc.gfid or fops.ROOT_GFID, xdata=xdata),
            loc.path,
        )
        statfs: GfStatfs = reply.statfs
        return statfs

    # --- xattrs -------------------------------------------------------------------

    async def getxattr(self, loc: Loc, name: str, xdata: Xdata = None) -> Xdata:
        """GETXATTR one named xattr; the reply dict maps it to its PTR value."""
        assert loc.gfid is not None
        reply = await self._fop(
            fops.GETXATTR,
            fops.GfxGetxattrReq(gfid=loc.gfid, namelen=1, name=name, xdata=xdata),
            f"{loc.path} ({name})",
        )
        values: Xdata = reply.dict
        return values

    async def setxattr(
        self, loc: Loc, values: GfDict, flags: int = 0, xdata: Xdata = None
    ) -> None:
        """SETXATTR ``values`` on ``loc`` (use PTR values for exact bytes, §4.2)."""
        assert loc.gfid is not None
        await self._fop(
            fops.SETXATTR,
            fops.GfxSetxattrReq(gfid=loc.gfid, flags=flags, dict=values, xdata=xdata),
            loc.path,
        )

    async def xattrop(
        self, loc: Loc, flags: int, values: GfDict, xdata: Xdata = None
    ) -> GfDict:
        """XATTROP: atomically combine ``values`` into xattrs; the results."""
        assert loc.gfid is not None
        reply = await self._fop(
            fops.XATTROP,
            fops.GfxXattropReq(gfid=loc.gfid, flags=flags, dict=values, xdata=xdata),
            loc.path,
        )
        return dict(reply.dict or {})

    async def fxattrop(
        self, fd: Fd, flags: int, values: GfDict, xdata: Xdata = None
    ) -> GfDict:
        """FXATTROP: :meth:`xattrop` through an open fd."""
        reply = await self._fd_fop(
            fops.FXATTROP, fops.GfxFxattropReq, fd, xdata, flags=flags, dict=values
        )
        return dict(reply.dict or {})

    # --- locks ----------------------------------------------------------------------
    #
    # A lock is owned by the current frame's lk_owner (base.frame; default our
    # credential's) on this connection (§8.4); the flock's own owner field is
    # overwritten by the brick.

    async def inodelk(
        self, loc: Loc, domain: str, cmd: int, flock: Flock, xdata: Xdata = None
    ) -> None:
        """INODELK on ``loc``'s inode in lock ``domain``."""
        assert loc.gfid is not None
        gfid = loc.gfid

        async def send(cmd: int, flock: Flock, waits: bool) -> None:
            await self._fop(
                fops.INODELK,
                fops.GfxInodelkReq(
                    gfid=gfid,
                    cmd=cmd,
                    type=flock.type,
                    flock=self._flock(flock),
                    volume=domain,
                    xdata=xdata,
                ),
                _lock_target(loc.path, domain),
                waits=waits,
            )

        await self._lock(send, cmd, flock, (LkCmd.SETLK, _unlock(flock)))

    async def finodelk(
        self, fd: Fd, domain: str, cmd: int, flock: Flock, xdata: Xdata = None
    ) -> None:
        """FINODELK: :meth:`inodelk` through an open fd."""

        async def send(cmd: int, flock: Flock, waits: bool) -> None:
            await self._fd_fop(
                fops.FINODELK,
                fops.GfxFinodelkReq,
                fd,
                xdata,
                target=_lock_target(fd.loc.path, domain),
                waits=waits,
                cmd=cmd,
                type=flock.type,
                flock=self._flock(flock),
                volume=domain,
            )

        await self._lock(send, cmd, flock, (LkCmd.SETLK, _unlock(flock)))

    async def entrylk(
        self, loc: Loc, domain: str, cmd: int, kind: int, xdata: Xdata = None
    ) -> None:
        """ENTRYLK on the name ``loc`` has in its parent, in ``domain``."""
        assert loc.parent is not None
        parent = loc.parent

        async def send(cmd: int, kind: int, waits: bool) -> None:
            await self._fop(
                fops.ENTRYLK,
                fops.GfxEntrylkReq(
                    gfid=parent,
                    cmd=cmd,
                    type=kind,
                    # namelen is a flag-like length: 0 would lock the whole
                    # directory (gotcha 19).
                    namelen=len(loc.name.encode("utf-8", "surrogateescape")),
                    name=loc.name,
                    volume=domain,
                    xdata=xdata,
                ),
                f"{loc.path} (entry lock domain {domain})",
                waits=waits,
            )

        await self._lock(send, cmd, kind, (EntrylkCmd.UNLOCK, kind), EntrylkCmd.LOCK)

    async def _lock(
        self,
        send: Callable[[int, _L, bool], Awaitable[None]],
        cmd: int,
        lock: _L,
        unlock: tuple[int, _L],
        blocking: int = LkCmd.SETLKW,
    ) -> None:
        """A lock request: a blocking one (``cmd == blocking``) waits as long
        as the holder keeps the lock, bounded by frame-timeout alone; one that
        times out is withdrawn with ``unlock`` (cmd, lock)."""
        if cmd != blocking:
            await send(cmd, lock, False)
            return
        try:
            await send(cmd, lock, True)
        except FopError as exc:
            if exc.errno == errno.ETIMEDOUT:
                await self._withdraw(send, *unlock)
            raise

    async def _withdraw(
        self, send: Callable[[int, _L, bool], Awaitable[None]], cmd: int, lock: _L
    ) -> None:
        """Take back a blocking lock request that timed out.

        The brick keeps the request queued after we stop waiting and grants
        it when the holder lets go: a lock nobody would ever release, which
        blocks every later transaction on the inode (seen on a replica 3 +
        shard volume after a quorum loss). An unlock by the same owner
        releases it once granted; while it is still queued the brick answers
        EINVAL (locks' "no matching lock"), so the unlock is retried in the
        background until it succeeds or the connection it was queued on goes
        (the brick drops a client's locks with its connection).
        """
        rpc = self._rpc
        owner = current_frame().lk_owner

        async def withdraw() -> None:
            delay = 0.5
            with frame(lk_owner=owner):
                while not self._stopping and self._rpc is rpc and rpc is not None:
                    if rpc.closed_at is not None:
                        return
                    with trio.move_on_after(_WITHDRAW_SECONDS):
                        try:
                            await send(cmd, lock, False)
                        except FopError as exc:
                            if exc.errno != errno.EINVAL:
                                return  # the connection went: nothing is held
                        except GlusterError:
                            return
                        else:
                            log.info("%s: withdrew a timed-out lock request", self)
                            return
                    await trio.sleep(delay)
                    delay = min(delay * 2, 30.0)

        self._nursery.start_soon(withdraw)

    # --- open files ---------------------------------------------------------------

    async def open(self, loc: Loc, flags: int, xdata: Xdata = None) -> Fd:
        assert loc.gfid is not None
        reply = await self._fop(
            fops.OPEN,
            fops.GfxOpenReq(gfid=loc.gfid, flags=self._brick_flags(flags), xdata=xdata),
            loc.path,
        )
        return self._opened(loc, flags, reply.fd)

    async def open_anonymous(self, loc: Loc, flags: int) -> Fd:
        assert loc.gfid is not None
        # Not kept for reopening after a reconnect: there is nothing open.
        fd = Fd(loc, flags)
        fd.ctx[self] = fops.ANON_FD
        return fd

    async def readv(
        self, fd: Fd, offset: int, size: int, into: ReadInto = None, xdata: Xdata = None
    ) -> tuple[memoryview, GfxIattx]:
        reply, payload = await self._fd_fop(
            fops.READ,
            fops.GfxReadReq,
            fd,
            xdata,
            into=into,
            offset=offset,
            size=size,
            flag=self._io_flag(fd),
        )
        # glusterfs4-xdr.x gfx_read_rsp: op_ret is the byte count read and
        # size the count of payload bytes after the results; a brick sends
        # exactly that many (server4_readv_cbk). Any disagreement, and above
        # all more bytes than were asked for, is a broken or hostile brick:
        # passing the surplus on would write past the caller's buffer or over
        # the next piece of a split read.
        if not (0 <= reply.op_ret == reply.size == len(payload) <= size):
            raise RemoteProtocolError(
                f"READ of {size} bytes at offset {offset} of {fd.loc.path}: "
                f"brick {self.brick} replied op_ret {reply.op_ret}, size "
                f"{reply.size} with {len(payload)} payload bytes"
            )
        return payload, reply.stat

    async def writev(
        self, fd: Fd, offset: int, data: bytes | memoryview, xdata: Xdata = None
    ) -> GfxIattx:
        reply = await self._fd_fop(
            fops.WRITE,
            fops.GfxWriteReq,
            fd,
            xdata,
            payload=data,
            offset=offset,
            size=len(data),
            flag=self._io_flag(fd) if fd.ctx.get(self) == fops.ANON_FD else 0,
        )
        if reply.op_ret != len(data):
            # A short write is not an error on the wire, but a block device
            # must not pretend it wrote what it did not.
            raise FopError("WRITE", fd.loc.path, str(self.brick), errno.EIO)
        if xdata and INODELK_DOM_COUNT in xdata:
            self._report_lock_count(fd, xdata[INODELK_DOM_COUNT], reply.xdata)
        return _poststat(reply)

    def _report_lock_count(self, fd: Fd, domain: DictValue, answer: Xdata) -> None:
        """More inode locks in ``domain`` than our one: another owner waits
        (afr's inodelk-count check); tell the parents as the upcall would."""
        count = (answer or {}).get(INODELK_COUNT)
        if count is None or not isinstance(count.value, int) or count.value <= 1:
            return
        name = domain.value
        if isinstance(name, bytes):
            event = InodelkContention(
                fd.gfid, name.rstrip(b"\0").decode(errors="replace"), str(self.brick)
            )
            self.upcall(event)

    async def fstat(self, fd: Fd, xdata: Xdata = None) -> GfxIattx:
        reply = await self._fd_fop(fops.FSTAT, fops.GfxFstatReq, fd, xdata)
        stat: GfxIattx = reply.stat
        return stat

    async def flush(self, fd: Fd, xdata: Xdata = None) -> None:
        await self._fd_fop(fops.FLUSH, fops.GfxFlushReq, fd, xdata)

    async def fsync(self, fd: Fd, datasync: bool = False, xdata: Xdata = None) -> None:
        await self._fd_fop(fops.FSYNC, fops.GfxFsyncReq, fd, xdata, data=int(datasync))

    async def ftruncate(self, fd: Fd, size: int, xdata: Xdata = None) -> GfxIattx:
        reply = await self._fd_fop(
            fops.FTRUNCATE, fops.GfxFtruncateReq, fd, xdata, offset=size
        )
        return _poststat(reply)

    async def fallocate(
        self, fd: Fd, mode: int, offset: int, length: int, xdata: Xdata = None
    ) -> GfxIattx:
        reply = await self._fd_fop(
            fops.FALLOCATE,
            fops.GfxFallocateReq,
            fd,
            xdata,
            flags=mode,
            offset=offset,
            size=length,
        )
        return _poststat(reply)

    async def discard(
        self, fd: Fd, offset: int, length: int, xdata: Xdata = None
    ) -> GfxIattx:
        reply = await self._fd_fop(
            fops.DISCARD, fops.GfxDiscardReq, fd, xdata, offset=offset, size=length
        )
        return _poststat(reply)

    async def zerofill(
        self, fd: Fd, offset: int, length: int, xdata: Xdata = None
    ) -> GfxIattx:
        reply = await self._fd_fop(
            fops.ZEROFILL, fops.GfxZerofillReq, fd, xdata, offset=offset, size=length
        )
        return _poststat(reply)

    async def seek(self, fd: Fd, offset: int, what: int, xdata: Xdata = None) -> int:
        reply = await self._fd_fop(
            fops.SEEK, fops.GfxSeekReq, fd, xdata, offset=offset, what=what
        )
        position: int = reply.offset
        return position

    async def release(self, fd: Fd, xdata: Xdata = None) -> None:
        self._fds.discard(fd)
        remote = fd.ctx.pop(self, None)
        if remote in (None, fops.ANON_FD) or self._rpc is None or self._rpc.is_closed:
            return
        # gfapi sends RELEASE with pid 0, a zero lock owner and an empty (not
        # NULL) dict, and does not even read the reply (§8.3).
        with contextlib.suppress(GlusterError):
            await self._fop(
                fops.RELEASE,
                fops.GfxReleaseReq(gfid=fd.gfid, fd=remote, xdata=dict(xdata or {})),
                fd.loc.path,
                release=True,
            )


def _poststat(reply: Any) -> GfxIattx:
    """The file's iatt after a modifying fop (the reply's ``poststat``)."""
    poststat: GfxIattx = reply.poststat
    return poststat


def _with_gfid_req(xdata: Xdata, loc: Loc) -> GfDict:
    """``xdata`` plus the client-chosen gfid of a new entry (§8.1)."""
    return {**(xdata or {}), "gfid-req": DictValue.gfuuid(new_entry_gfid(loc))}


def _unlock(flock: Flock) -> Flock:
    return Flock(LkType.UNLCK, flock.start, flock.length)


def _lock_target(path: str, domain: str) -> str:
    return f"{path} (lock domain {domain})"
