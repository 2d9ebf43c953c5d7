"""A fake glusterd and brick on one loopback port, for faults a real one won't do.

:class:`FakeGluster` answers GETSPEC (a one-brick volfile whose
``remote-port`` is its own port), DUMP, PING, SETVOLUME and PORTBYBRICK, and
the fops an image user needs (LOOKUP, OPEN, READ, WRITE, STAT/FSTAT, FLUSH,
FSYNC, FTRUNCATE, SEEK, RELEASE, STATFS) on in-memory files. Everything is
built from pygluster's own XDR declarations, so the well-behaved replies are
exactly what the client decodes.

Misbehaviour is injected with a *hook*: an async callable that sees every
call (:class:`FakeCall`) and returns the bytes to send instead of the normal
reply (``call.reply()`` builds that; ``b""`` sends nothing), or None to send
the normal one. A hook may also send pieces itself (``await call.send(...)``),
sleep forever (a brick that never answers), or close the connection. Each call
runs in its own task, so PING keeps being answered while a hook stalls a READ.

    async with fake_gluster(files={"img": b"x" * 4096}) as fake:
        fake.hook = my_hook
        async with pygluster.open_async(fake.uri("img")) as image: ...
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import stat
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any

import trio

from pygluster._concurrency import background_nursery
from pygluster.rpc import fops, glusterd, xdr
from pygluster.rpc.programs import ProgramNumber
from pygluster.rpc.sunrpc import AcceptStat
from tests.helpers import FakeServerCore, reply_record

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterator

    from pygluster.rpc.programs import Procedure

__all__ = [
    "BRICK_PATH",
    "FakeCall",
    "FakeGluster",
    "Hook",
    "fake_gluster",
    "iatt",
    "read_rsp",
]

BRICK_PATH = "/fake/brick"
_HANDSHAKE = {p.number: p for p in (glusterd.SETVOLUME, glusterd.GETSPEC)}
_DUMP = {p.number: p for p in (glusterd.DUMP, glusterd.PING)}
_BY_PROGRAM: dict[int, dict[int, Procedure[Any, Any]]] = {
    ProgramNumber.GLUSTER_FOP: fops.PROCEDURES,
    ProgramNumber.GLUSTER_HNDSK: _HANDSHAKE,
    ProgramNumber.GLUSTER_DUMP: _DUMP,
    ProgramNumber.GLUSTER_PMAP: {glusterd.PORTBYBRICK.number: glusterd.PORTBYBRICK},
}
# Any: the values are ints here, the gfid (bytes) is added by the users.
_ZERO_IATT_FIELDS: dict[str, Any] = {
    f.name: 0 for f in dataclasses.fields(fops.GfxIattx)
}


def iatt(gfid: bytes, mode: int, size: int = 0) -> fops.GfxIattx:
    """An iattx as a brick sends it (every field valid)."""
    fields = dict(_ZERO_IATT_FIELDS)
    fields.update(
        ia_gfid=gfid,
        ia_flags=0x17FF,
        ia_ino=int.from_bytes(gfid[8:], "big"),
        ia_size=size,
        ia_blocks=(size + 511) // 512,
        ia_nlink=1,
        ia_blksize=4096,
        mode=mode,
    )
    return fops.GfxIattx(**fields)


def read_rsp(size: int, stat: fops.GfxIattx, op_ret: int | None = None) -> Any:
    """A READ reply's results (``size`` payload bytes follow them)."""
    return fops.GfxReadRsp(
        op_ret=size if op_ret is None else op_ret,
        op_errno=0,
        stat=stat,
        size=size,
        xdata=None,
    )


def _two(op_ret: int, op_errno: int, pre: Any, post: Any) -> Any:
    return fops.GfxCommon2iattRsp(
        op_ret=op_ret, op_errno=op_errno, xdata=None, prestat=pre, poststat=post
    )


NO_IATT = fops.GfxIattx(**{**_ZERO_IATT_FIELDS, "ia_gfid": bytes(16)})


@dataclasses.dataclass
class FakeCall:
    """One call the client made, as the fake server sees it."""

    server: FakeGluster
    stream: trio.abc.Stream
    send_lock: trio.Lock
    xid: int
    procedure: Procedure[Any, Any]
    args: Any
    payload: bytes | memoryview

    @property
    def name(self) -> str:
        """The procedure name, e.g. ``"READ"``."""
        return self.procedure.name

    def reply(self, result: Any = None, payload: bytes = b"") -> bytes:
        """The normal reply record, or one with this result and payload."""
        if result is None:
            result, payload = self.server.answer(self)
        return reply_record(
            self.xid, result, codec=self.procedure.result, payload=payload
        )

    async def send(self, data: bytes) -> None:
        """Send raw bytes on this call's connection."""
        async with self.send_lock:
            await self.stream.send_all(data)


#: Sees each call; returns the bytes to send, or None for the normal reply.
Hook = Callable[[FakeCall], Awaitable[bytes | None]]


@dataclasses.dataclass
class _File:
    gfid: bytes
    data: bytearray


class FakeGluster:
    """glusterd and a one-brick volume's brick, on 127.0.0.1 (a free port).

    Args:
        volume: the volume name in GETSPEC and the volfile.
        files: the images in the volume root, by name.
        volfile: GETSPEC's answer instead of the generated one
            (``{port}`` is replaced by the server's port).
        client_options: extra ``option`` lines for the protocol/client.
        portmap_port: PORTBYBRICK's answer (default: the server's port).
        tls: a server-side context: every connection is TLS (glusterd's and
            the brick's port are one here, so both paths are).
    """

    def __init__(
        self,
        volume: str = "fakevol",
        *,
        files: dict[str, bytes] | None = None,
        volfile: str | None = None,
        client_options: dict[str, str] | None = None,
        portmap_port: int | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.volume = volume
        self.tls = tls
        #: While clear, connections are not read from (the client's socket
        #: buffer fills up): set it again to resume.
        self.reading = trio.Event()
        self.reading.set()
        self.files = {
            name: _File(hashlib.md5(name.encode()).digest(), bytearray(data))
            for name, data in (files or {}).items()
        }
        self._volfile = volfile
        self.client_options = client_options or {}
        self.portmap_port = portmap_port
        self.hook: Hook | None = None
        #: Procedure names of every call received, in order.
        self.calls: list[str] = []
        self.port = 0
        self._fds: dict[int, _File] = {}
        self._next_fd = 0
        self.connections: list[trio.SocketStream] = []

    # --- life -------------------------------------------------------------

    async def serve(
        self, *, task_status: trio.TaskStatus[list[trio.SocketListener]]
    ) -> None:
        """Listen on 127.0.0.1 (a free port) until cancelled."""
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        await trio.serve_listeners(self._serve, listeners, task_status=task_status)

    def uri(self, path: str = "") -> str:
        """``gluster://127.0.0.1:PORT/VOLUME/PATH``."""
        tail = f"/{path}" if path else ""
        return f"gluster://127.0.0.1:{self.port}/{self.volume}{tail}"

    def volfile(self) -> str:
        """The volfile GETSPEC answers."""
        if self._volfile is not None:
            return self._volfile.replace("{port}", str(self.port))
        options = {
            "remote-host": "127.0.0.1",
            "remote-port": str(self.port),
            "remote-subvolume": BRICK_PATH,
            "transport-type": "tcp",
            **self.client_options,
        }
        lines = "".join(f"    option {k} {v}\n" for k, v in options.items())
        return (
            f"volume {self.volume}-client-0\n"
            f"    type protocol/client\n{lines}end-volume\n"
        )

    async def drop_connections(self) -> None:
        """Close every connection clients have open (a brick restart)."""
        for stream in self.connections:
            with trio.CancelScope(shield=True):
                await stream.aclose()
        self.connections.clear()

    # --- serving ----------------------------------------------------------

    async def _serve(self, plain: trio.SocketStream) -> None:
        self.connections.append(plain)
        stream: trio.abc.Stream = plain
        if self.tls is not None:
            stream = trio.SSLStream(plain, self.tls, server_side=True)
        core = FakeServerCore()
        lock = trio.Lock()
        try:
            async with trio.open_nursery() as nursery:
                while True:
                    await self.reading.wait()
                    try:
                        data = await stream.receive_some(1 << 20)
                    except (trio.BrokenResourceError, trio.ClosedResourceError):
                        break  # dropped (drop_connections) or reset
                    if not data:
                        break
                    for xid, body, raw in core.receive(data):
                        procedure = _BY_PROGRAM.get(body.prog, {}).get(body.proc)
                        if procedure is None:
                            reply = reply_record(
                                xid, accept_stat=AcceptStat.PROC_UNAVAIL
                            )
                            async with lock:
                                await stream.send_all(reply)
                            continue
                        args, end = xdr.decode_prefix(procedure.args, raw)
                        call = FakeCall(
                            self, stream, lock, xid, procedure, args, raw[end:]
                        )
                        self.calls.append(call.name)
                        nursery.start_soon(self._handle, call)
                nursery.cancel_scope.cancel()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            with trio.CancelScope(shield=True):
                await stream.aclose()

    async def _handle(self, call: FakeCall) -> None:
        data = None
        if self.hook is not None:
            data = await self.hook(call)
        if data is None:
            data = call.reply()
        if data:
            with suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                await call.send(data)

    # --- the normal answers ---------------------------------------------------

    def answer(self, call: FakeCall) -> tuple[Any, bytes]:
        """The result (and READ payload) a healthy server sends."""
        args = call.args
        name = call.name
        if name == "GETSPEC":
            spec = self.volfile()
            if args.key != self.volume:
                return glusterd.GfGetspecRsp(
                    op_ret=-1, op_errno=errno.ENOENT, spec="", xdata={}
                ), b""
            return glusterd.GfGetspecRsp(
                op_ret=len(spec), op_errno=0, spec=spec, xdata={}
            ), b""
        if name == "DUMP":
            programs = tuple(
                glusterd.GfProgDetail(progname=pname, prognum=number, progver=version)
                for pname, number, version in (
                    ("GlusterFS 4.x v1", ProgramNumber.GLUSTER_FOP, 400),
                    ("GlusterFS Handshake", ProgramNumber.GLUSTER_HNDSK, 2),
                    ("Gluster Portmap", ProgramNumber.GLUSTER_PMAP, 1),
                )
            )
            return glusterd.GfDumpRsp(
                gfs_id=args.gfs_id, op_ret=0, op_errno=0, prog=programs
            ), b""
        if name == "PING":
            return glusterd.GfCommonRsp(op_ret=0, op_errno=0, xdata={}), b""
        if name == "PORTBYBRICK":
            port = self.port if self.portmap_port is None else self.portmap_port
            return glusterd.PmapPortByBrickRsp(
                op_ret=0, op_errno=0, status=1, port=port
            ), b""
        if name == "SETVOLUME":
            values = glusterd.str_dict({"ERROR": "Success", "child_up": 1})
            return glusterd.GfSetvolumeRsp(op_ret=0, op_errno=0, dict=values), b""
        return self._fop(name, args, call.payload)

    def _by_gfid(self, gfid: bytes) -> _File | None:
        return next((f for f in self.files.values() if f.gfid == gfid), None)

    def _fop(
        self, name: str, args: Any, payload: bytes | memoryview
    ) -> tuple[Any, bytes]:
        root = iatt(fops.ROOT_GFID, stat.S_IFDIR | 0o755)
        reg = stat.S_IFREG | 0o644

        def file_iatt(f: _File) -> fops.GfxIattx:
            return iatt(f.gfid, reg, len(f.data))

        if name == "LOOKUP":
            if args.gfid == fops.ROOT_GFID or (not args.bname and not args.pargfid):
                return _two(0, 0, root, root), b""
            found = self.files.get(args.bname)
            if found is None:
                return (
                    _two(-1, errno.ENOENT, NO_IATT, NO_IATT),
                    b"",
                )
            return _two(0, 0, file_iatt(found), root), b""
        if name == "OPEN":
            found = self._by_gfid(args.gfid)
            if found is None:
                return fops.GfxOpenRsp(
                    op_ret=-1, op_errno=errno.ESTALE, xdata=None, fd=0
                ), b""
            self._next_fd += 1
            self._fds[self._next_fd] = found
            return fops.GfxOpenRsp(
                op_ret=0, op_errno=0, xdata=None, fd=self._next_fd
            ), b""
        file = self._by_gfid(args.gfid) if hasattr(args, "gfid") else None
        if file is None:
            raise LookupError(f"fake brick: {name} on an unknown gfid")
        if name == "READ":
            data = bytes(file.data[args.offset : args.offset + args.size])
            return read_rsp(len(data), file_iatt(file)), data
        if name == "WRITE":
            end = args.offset + len(payload)
            if end > len(file.data):
                file.data.extend(bytes(end - len(file.data)))
            file.data[args.offset : end] = payload
            now = file_iatt(file)
            return _two(len(payload), 0, now, now), b""
        if name in ("STAT", "FSTAT"):
            return fops.GfxCommonIattRsp(
                op_ret=0, op_errno=0, xdata=None, stat=file_iatt(file)
            ), b""
        if name in ("FSYNC", "FTRUNCATE"):
            if name == "FTRUNCATE":
                del file.data[args.offset :]
                file.data.extend(bytes(max(0, args.offset - len(file.data))))
            now = file_iatt(file)
            return _two(0, 0, now, now), b""
        if name == "SEEK":
            if args.offset >= len(file.data):
                return fops.GfxSeekRsp(
                    op_ret=-1, op_errno=errno.ENXIO, xdata=None, offset=0
                ), b""
            at = args.offset if args.what == fops.SeekWhat.DATA else len(file.data)
            return fops.GfxSeekRsp(op_ret=0, op_errno=0, xdata=None, offset=at), b""
        if name in ("FLUSH", "RELEASE"):
            return fops.GfxCommonRsp(op_ret=0, op_errno=0, xdata=None), b""
        raise LookupError(f"fake brick: {name} is not implemented")


@asynccontextmanager
async def fake_gluster(**kwargs: Any) -> AsyncIterator[FakeGluster]:
    """Run a :class:`FakeGluster` (arguments as its constructor's) for the body."""
    fake = FakeGluster(**kwargs)
    async with background_nursery() as nursery:
        await nursery.start(fake.serve)
        yield fake
