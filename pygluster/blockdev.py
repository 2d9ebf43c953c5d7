"""The block device: an image on a gluster volume, read and written at offsets.

``open_async(uri)`` fetches the volfile, builds and connects the translator
stack (:mod:`pygluster.xlators.graph`), walks the image path from the volume
root with LOOKUPs and OPENs the file; the :class:`AsyncBlockDevice` it yields
talks only to the top translator. ``create_async`` makes a new image.

Large requests are split into ``chunk_size`` pieces that are in flight
together, at most ``max_in_flight`` at once (asyncssh ``_SFTPParallelIO``,
done with a nursery and a ``CapacityLimiter``). Reads past the end of the file
return short, like ``os.pread``.
"""

from __future__ import annotations

import errno
import functools
import logging
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple, TypedDict

import trio

from pygluster import mgmt, volfile
from pygluster._concurrency import one_error, run_all
from pygluster.errors import FopError, URIError
from pygluster.events import tracing
from pygluster.rpc import fops
from pygluster.rpc.client import DEFAULT_CONNECT_TIMEOUT
from pygluster.rpc.fops import GfOpenFlags, SeekWhat
from pygluster.rpc.sunrpc import Credentials
from pygluster.uri import GlusterURI
from pygluster.xlators.base import Loc, iatt_is_dir, iatt_is_reg
from pygluster.xlators.client import DEFAULT_REQUEST_TIMEOUT
from pygluster.xlators.graph import open_client_graph

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from pygluster._types import BytesLike
    from pygluster.events import Tracer
    from pygluster.rpc.fops import GfxIattx
    from pygluster.tls import TlsOptions
    from pygluster.xlators.base import Fd, Xlator
    from pygluster.xlators.graph import ClientGraph

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_MAX_IN_FLIGHT",
    "AsyncBlockDevice",
    "Extent",
    "Mode",
    "Preallocation",
    "StatVFS",
    "create_async",
    "open_async",
    "remove_async",
    "resolve",
]

log = logging.getLogger("pygluster.blockdev")

#: Bytes per READ/WRITE RPC when a request is split. Measured on pyg_single
#: (2-core machine, 32 MiB requests, 2026-11-26): 128 KiB chunks gave ~200
#: MiB/s either way, 1 MiB ~1000 MiB/s write / ~350-440 read, 4 MiB no better.
#: The brick accepts up to 64 MiB per call (protocol.md §7).
DEFAULT_CHUNK_SIZE = 1024 * 1024
#: Chunks in flight at once per request: 4-8 measured best at 1 MiB chunks
#: (16 no better); the brick throttles a connection at 64 outstanding RPCs
#: (server.outstanding-rpc-limit).
DEFAULT_MAX_IN_FLIGHT = 8
#: Mode of new images: owner read/write, as qemu-img's glfs_creat(..., 0600).
DEFAULT_IMAGE_MODE = 0o600

Preallocation = Literal["off", "falloc", "full"]
Mode = Literal["r", "r+"]


# The keyword arguments of open_async, create_async and remove_async, for the
# blocking API (pygluster.sync) to take and pass on as they are: it restates
# neither their list nor their defaults. The functions' docstrings say what
# each one means.
class ConnectOptions(TypedDict, total=False):
    """How open, create and remove reach the bricks."""

    credentials: Credentials | None
    connect_timeout: float | None
    timeout: float | None
    tls: TlsOptions | None


class OpenOptions(ConnectOptions, total=False):
    """:func:`open_async`'s keyword arguments but ``trace``."""

    chunk_size: int
    max_in_flight: int
    write_behind: bool | None
    direct: bool


class CreateOptions(ConnectOptions, total=False):
    """:func:`create_async`'s keyword arguments."""

    preallocation: Preallocation
    exist_ok: bool
    parents: bool


@dataclass(frozen=True, slots=True)
class Extent:
    """A run of the image that is all data or all hole (like ``qemu-img map``)."""

    offset: int
    length: int
    data: bool


class StatVFS(NamedTuple):
    """File-system statistics of the volume, named like ``os.statvfs``."""

    f_bsize: int
    f_frsize: int
    f_blocks: int
    f_bfree: int
    f_bavail: int
    f_files: int
    f_ffree: int
    f_favail: int
    f_fsid: int
    f_flag: int
    f_namemax: int


class _InFlightLimit:
    """At most ``limit`` RPCs of one device in flight (a CapacityLimiter).

    Taking a free slot costs no scheduler pass (``acquire_nowait``): the RPC
    that follows is the checkpoint. Only a full limiter makes the caller wait.
    """

    __slots__ = ("_limiter",)

    def __init__(self, limit: int) -> None:
        self._limiter = trio.CapacityLimiter(limit)

    async def __aenter__(self) -> None:
        try:
            self._limiter.acquire_nowait()
        except trio.WouldBlock:
            await self._limiter.acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        self._limiter.release()


def _split(offset: int, length: int, chunk: int) -> list[tuple[int, int]]:
    return [
        (pos, min(chunk, offset + length - pos))
        for pos in range(offset, offset + length, chunk)
    ]


class AsyncBlockDevice:
    """An open image. Made by :func:`open_async`; methods are coroutines.

    Attributes:
        uri: the image's URI.
        path: the image's path inside the volume ("/dir/a.img").
        gfid: the image's gfid (16 bytes).
        writable: False when opened with mode "r".
    """

    def __init__(
        self,
        uri: GlusterURI,
        graph: ClientGraph,
        fd: Fd,
        *,
        writable: bool,
        chunk_size: int,
        max_in_flight: int,
    ) -> None:
        if chunk_size <= 0 or max_in_flight <= 0:
            raise ValueError("chunk_size and max_in_flight must be positive")
        self.uri = uri
        self.path = fd.loc.path
        self.gfid = fd.gfid
        self.writable = writable
        self.chunk_size = chunk_size
        self._graph = graph
        self._top: Xlator = graph.top
        self._fd = fd
        self._limiter = _InFlightLimit(max_in_flight)
        self._closed = False

    def __repr__(self) -> str:
        return f"<AsyncBlockDevice {self.uri}>"

    @property
    def graph(self) -> ClientGraph:
        """The connected translator stack (for ``info``)."""
        return self._graph

    @property
    def write_behind(self) -> bool:
        """True when writes are acknowledged before the bricks have them
        (``performance/write-behind`` runs; errors then surface at
        :meth:`flush` and close)."""
        return bool(self._graph.write_behind)

    def _check(self, *, write: bool = False) -> None:
        if self._closed:
            raise ValueError(f"{self.uri}: I/O on a closed device")
        if write and not self.writable:
            raise FopError("WRITE", self.path, None, errno.EBADF, "opened read-only")

    @staticmethod
    def _check_range(offset: int, length: int) -> None:
        if offset < 0 or length < 0:
            raise ValueError(f"negative offset or length ({offset}, {length})")

    # --- attributes ------------------------------------------------------------

    async def stat(self) -> GfxIattx:
        """The image's attributes (FSTAT)."""
        self._check()
        return await self._top.fstat(self._fd)

    async def size(self) -> int:
        """The image's size in bytes."""
        return (await self.stat()).ia_size

    async def statvfs(self) -> StatVFS:
        """The volume's statistics (STATFS), like ``os.statvfs``."""
        self._check()
        st = await self._top.statfs(Loc("/", None, "", fops.ROOT_GFID))
        return StatVFS(
            st.bsize,
            st.frsize,
            st.blocks,
            st.bfree,
            st.bavail,
            st.files,
            st.ffree,
            st.favail,
            st.fsid,
            st.flag,
            st.namemax,
        )

    def bricks(self) -> list[str]:
        """The bricks (``host:/path``) holding the image's data."""
        return [str(leaf) for leaf in self._top.holders(self._fd)]

    # --- reading ---------------------------------------------------------------

    async def readinto(self, buffer: BytesLike, offset: int) -> int:
        """Read into ``buffer`` from ``offset``; return the bytes read.

        Fewer than ``len(buffer)`` bytes means end of file was reached.
        """
        self._check()
        view = memoryview(buffer).cast("B")
        self._check_range(offset, len(view))
        if not view:
            return 0
        # The translators may receive the data straight into the caller's
        # buffer (a large READ reply arriving in pieces): then the returned
        # view already lies in it and there is nothing to copy.
        writable = not view.readonly
        if len(view) <= self.chunk_size:
            # One RPC: no task, no split (the common case; every layer of
            # indirection here is paid per request).
            async with self._limiter:
                data, _ = await self._top.readv(
                    self._fd, offset, len(view), view if writable else None
                )
            if data.obj is not view.obj:
                view[: len(data)] = data
            return len(data)
        pieces = _split(offset, len(view), self.chunk_size)
        got = [0] * len(pieces)

        async def read(index: int) -> None:
            pos, length = pieces[index]
            start = pos - offset
            into = view[start : start + length] if writable else None
            async with self._limiter:
                data, _ = await self._top.readv(self._fd, pos, length, into)
            if data.obj is not view.obj:
                view[start : start + len(data)] = data
            got[index] = len(data)

        await run_all(functools.partial(read, i) for i in range(len(pieces)))
        total = 0
        for (_, length), count in zip(pieces, got, strict=True):
            total += count
            if count < length:
                break  # end of file: later pieces read nothing
        return total

    async def pread(self, n: int, offset: int) -> bytes:
        """Read up to ``n`` bytes at ``offset`` (short at end of file)."""
        if 0 < n <= self.chunk_size:
            # One RPC: copy its payload once, straight into the result.
            self._check()
            self._check_range(offset, n)
            async with self._limiter:
                data, _ = await self._top.readv(self._fd, offset, n)
            return bytes(data)
        buffer = bytearray(n)
        count = await self.readinto(buffer, offset)
        del buffer[count:]
        return bytes(buffer)

    async def preadv(self, buffers: Sequence[BytesLike], offset: int) -> int:
        """Read into several buffers in order, like ``os.preadv``."""
        total = 0
        for buffer in buffers:
            size = memoryview(buffer).nbytes
            count = await self.readinto(buffer, offset + total)
            total += count
            if count < size:
                break
        return total

    # --- writing -------------------------------------------------------------------

    async def pwrite(self, data: BytesLike, offset: int) -> int:
        """Write all of ``data`` at ``offset``; return its length."""
        self._check(write=True)
        view = memoryview(data).cast("B")
        self._check_range(offset, len(view))
        if not view:
            return 0
        if len(view) <= self.chunk_size:
            async with self._top.transaction(self._fd), self._limiter:
                await self._top.writev(self._fd, offset, view)
            return len(view)
        pieces = _split(offset, len(view), self.chunk_size)

        async def write(index: int) -> None:
            pos, length = pieces[index]
            start = pos - offset
            async with self._limiter:
                await self._top.writev(self._fd, pos, view[start : start + length])

        # One replicate transaction (lock, changelog) for all the pieces.
        async with self._top.transaction(self._fd):
            await run_all(functools.partial(write, i) for i in range(len(pieces)))
        return len(view)

    async def pwritev(self, buffers: Sequence[BytesLike], offset: int) -> int:
        """Write several buffers in order, like ``os.pwritev``."""
        total = 0
        for buffer in buffers:
            total += await self.pwrite(buffer, offset + total)
        return total

    async def flush(self) -> None:
        """Make everything written so far durable on the bricks (FSYNC).

        With write-behind (:attr:`write_behind`) this is also where a write
        that failed after it was acknowledged raises its ``FopError``.
        """
        self._check()
        await self._top.fsync(self._fd)

    async def truncate(self, size: int, preallocation: Preallocation = "off") -> None:
        """Resize the image; new space is zeros, allocated as ``preallocation``.

        "off" leaves a hole, "falloc" reserves blocks (FALLOCATE), "full"
        writes zeros (ZEROFILL), as qemu-img does for gluster.
        """
        self._check(write=True)
        if size < 0:
            raise ValueError(f"negative size {size}")
        old = await self.size()
        if size <= old or preallocation == "off":
            await self._top.ftruncate(self._fd, size)
        elif preallocation == "falloc":
            await self._top.fallocate(self._fd, 0, old, size - old)
        elif preallocation == "full":
            await self._top.ftruncate(self._fd, size)
            await self._top.zerofill(self._fd, old, size - old)
        else:
            raise ValueError(
                f"preallocation must be off, falloc or full, not {preallocation!r}"
            )

    async def discard(self, offset: int, n: int) -> None:
        """Deallocate a range: it reads back as zeros, the size is unchanged."""
        self._check(write=True)
        self._check_range(offset, n)
        if n:
            await self._top.discard(self._fd, offset, n)

    async def write_zeroes(self, offset: int, n: int) -> None:
        """Write zeros over a range (ZEROFILL), extending the file if needed."""
        self._check(write=True)
        self._check_range(offset, n)
        if n:
            await self._top.zerofill(self._fd, offset, n)

    # --- allocation map --------------------------------------------------------------

    async def extents(self, offset: int = 0, n: int | None = None) -> list[Extent]:
        """Data and hole runs from ``offset`` (to the end, or ``n`` bytes), via SEEK."""
        self._check()
        size = await self.size()
        end = size if n is None else min(size, offset + n)
        extents: list[Extent] = []

        def add(start: int, stop: int, data: bool) -> None:
            if stop <= start:
                return
            if (
                extents
                and extents[-1].data == data
                and extents[-1].offset + extents[-1].length == start
            ):
                last = extents.pop()
                extents.append(Extent(last.offset, stop - last.offset, data))
            else:
                extents.append(Extent(start, stop - start, data))

        pos = offset
        while pos < end:
            try:
                data_at = await self._top.seek(self._fd, pos, SeekWhat.DATA)
            except FopError as exc:
                if exc.errno in (errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS):
                    # No SEEK below us: everything counts as data, as
                    # qemu's gluster driver reports it then.
                    add(pos, end, True)
                    break
                if exc.errno != errno.ENXIO:
                    raise
                data_at = end  # no data after pos: the rest is a hole
            data_at = min(data_at, end)
            add(pos, data_at, False)
            if data_at >= end:
                break
            hole_at = min(await self._top.seek(self._fd, data_at, SeekWhat.HOLE), end)
            add(data_at, hole_at, True)
            pos = hole_at
        return extents

    # --- closing -------------------------------------------------------------------

    async def aclose(self) -> None:
        """FLUSH and RELEASE the image; the connections close with the stack.

        Waits for every write still in flight (write-behind) and raises the
        error of one that failed and was not reported yet.
        """
        if self._closed:
            return
        self._closed = True
        try:
            await self._top.flush(self._fd)
        finally:
            await self._top.release(self._fd)


def _as_uri(uri: GlusterURI | str) -> GlusterURI:
    return uri if isinstance(uri, GlusterURI) else GlusterURI.parse(uri)


async def resolve(top: Xlator, path: str) -> tuple[Loc, GfxIattx]:
    """LOOKUP each component of ``path`` from the volume root (its Loc and iatt)."""
    loc = Loc("/", None, "", fops.ROOT_GFID)
    iatt, _ = await top.lookup(loc)
    for name in [part for part in path.split("/") if part]:
        if not iatt_is_dir(iatt):
            raise FopError("LOOKUP", loc.path, None, errno.ENOTDIR, xlator=top.name)
        child_path = f"{loc.path.rstrip('/')}/{name}"
        child = Loc(child_path, loc.gfid, name)
        iatt, _ = await top.lookup(child)
        loc = child.with_gfid(iatt.ia_gfid)
    return loc, iatt


@asynccontextmanager
async def _open_stack(
    uri: GlusterURI,
    credentials: Credentials | None,
    connect_timeout: float | None,
    request_timeout: float | None,
    write_behind: bool | None = None,
) -> AsyncIterator[ClientGraph]:
    """The started translator stack of ``uri``'s volume.

    Failures of the stack's own tasks come out as one pygluster exception
    (:func:`~pygluster._concurrency.one_error`), never a trio group; what
    the body raises passes through untouched.
    """
    body_error: BaseException | None = None
    try:
        fetched = await mgmt.fetch_volfile(
            uri, credentials=credentials, connect_timeout=connect_timeout
        )
        graph = volfile.parse(fetched.text)
        async with open_client_graph(
            graph,
            uri.volume,
            credentials=credentials if credentials is not None else Credentials(),
            connect_timeout=connect_timeout,
            request_timeout=request_timeout,
            write_behind=write_behind,
            tls=uri.tls,
        ) as stack:
            try:
                yield stack
            except BaseException as exc:
                body_error = exc
                raise
    except BaseExceptionGroup as group:
        if group is body_error:
            raise
        error = one_error(group)
        if error is group:
            raise
        raise error from None
    finally:
        body_error = None


@asynccontextmanager
async def open_async(
    uri: GlusterURI | str,
    mode: Mode = "r",
    *,
    credentials: Credentials | None = None,
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
    timeout: float | None = DEFAULT_REQUEST_TIMEOUT,  # noqa: ASYNC109 - per request, not a deadline for this call
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    trace: Tracer | logging.Logger | None = None,
    write_behind: bool | None = None,
    direct: bool = False,
    tls: TlsOptions | None = None,
) -> AsyncIterator[AsyncBlockDevice]:
    """Open an existing image.

    Args:
        uri: ``gluster://host/volume/path/to/image`` (or a parsed GlusterURI).
        mode: "r" read-only, "r+" read-write.
        credentials: identity for the bricks; default the caller's.
        connect_timeout: seconds per connection attempt.
        timeout: seconds any one request to a brick may wait for its reply
            (default 120) before it fails with ``ETIMEDOUT``; None leaves
            only the volfile's ``frame-timeout`` (gluster's 1800 s). ZEROFILL,
            FALLOCATE and DISCARD, whose work grows with their range, have
            frame-timeout alone. A brick that goes silent altogether is
            dropped after its ``ping-timeout`` (42 s) whatever this says.
        chunk_size: bytes per READ/WRITE call when splitting requests.
        max_in_flight: chunks in flight at once.
        trace: a trace sink (or a logger) receiving one event per RPC of
            this image's connections (see :mod:`pygluster.events`).
        write_behind: acknowledge writes before the bricks have them, as
            libgfapi does (gluster's ``performance/write-behind``, at most
            its ``cache-size`` per image, 1 MiB by default): None follows the
            volfile (on unless the volume has ``performance.write-behind
            off``), True forces it on, False off. A write that fails in the
            background raises at the next :meth:`~AsyncBlockDevice.flush`,
            at close, or at a read or write of the same bytes; see
            :mod:`pygluster.xlators.write_behind`.
        direct: open O_DIRECT, as ``glfs_open`` with O_DIRECT (qemu
            ``cache=none``, fio ``--direct=1``). What it changes is the
            volume's to say, as for libgfapi: with write-behind's
            ``strict-O_DIRECT on`` (``group virt``) writes bypass write-behind
            and return once every brick has replied; unless the client's
            ``filter-O_DIRECT`` is on (``network.remote-dio enable``) the
            bricks open the file O_DIRECT, bypassing their page cache, so
            offsets and lengths must then suit the brick's disk (4096-byte
            multiples are safe), as for a local O_DIRECT file.
        tls: TLS options (:class:`~pygluster.tls.TlsOptions`) over the URI's
            own ``tls-*`` ones; by default bricks use TLS when the volume has
            ``client.ssl on`` and glusterd when this machine has
            ``/var/lib/glusterd/secure-access``, with gluster's
            ``glusterfs.pem``/``.key``/``.ca`` files.

    Raises:
        URIError: the URI names no image.
        FopError: the image (or a folder on its path) is missing, not a
            regular file, or not accessible (errno as the brick said).
        UnsupportedVolume: the volume needs a translator pygluster lacks.
        MgmtError, TransportError: glusterd or a brick refused or is down.
    """
    parsed = _as_uri(uri).with_tls(tls)
    if parsed.path is None:
        raise URIError(str(parsed), "names a volume, not an image inside it")
    if mode not in ("r", "r+"):
        raise ValueError(f"mode must be 'r' or 'r+', not {mode!r}")
    with tracing(trace):
        async with _open_stack(
            parsed, credentials, connect_timeout, timeout, write_behind
        ) as stack:
            loc, iatt = await resolve(stack.top, parsed.image_path)
            if not iatt_is_reg(iatt):
                code = errno.EISDIR if iatt_is_dir(iatt) else errno.EINVAL
                raise FopError("OPEN", loc.path, None, code, xlator=stack.top.name)
            flags = GfOpenFlags.RDWR if mode == "r+" else GfOpenFlags.RDONLY
            if direct:
                flags |= GfOpenFlags.DIRECT
            fd = await stack.top.open(loc, int(flags))
            device = AsyncBlockDevice(
                parsed,
                stack,
                fd,
                writable=mode == "r+",
                chunk_size=chunk_size,
                max_in_flight=max_in_flight,
            )
            try:
                yield device
            finally:
                with trio.CancelScope(shield=True):
                    await device.aclose()


async def create_async(
    uri: GlusterURI | str,
    size: int,
    *,
    preallocation: Preallocation = "off",
    exist_ok: bool = False,
    parents: bool = False,
    credentials: Credentials | None = None,
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
    timeout: float | None = DEFAULT_REQUEST_TIMEOUT,  # noqa: ASYNC109 - per request, not a deadline for this call
    tls: TlsOptions | None = None,
) -> None:
    """Create an image of ``size`` bytes (zeros), like ``qemu-img create -f raw``.

    Args:
        uri: where the new image goes.
        size: its size in bytes.
        preallocation: "off" (sparse), "falloc" (reserve blocks), "full"
            (write zeros).
        exist_ok: if the image exists, empty it and give it the new size
            instead of failing with EEXIST (qemu-img create's behaviour).
        parents: create missing parent folders.
        tls: TLS options, as for :func:`open_async`.

    Raises:
        FopError: EEXIST (exists and not ``exist_ok``), ENOENT (a parent
            folder is missing and not ``parents``), EACCES, ...
    """
    parsed = _as_uri(uri).with_tls(tls)
    if parsed.path is None:
        raise URIError(str(parsed), "names a volume, not an image inside it")
    if size < 0:
        raise ValueError(f"negative size {size}")
    if preallocation not in ("off", "falloc", "full"):
        raise ValueError(
            f"preallocation must be off, falloc or full, not {preallocation!r}"
        )
    async with _open_stack(parsed, credentials, connect_timeout, timeout) as stack:
        top = stack.top
        parent_path, _, name = parsed.image_path.rpartition("/")
        parent = await _ensure_folder(top, parent_path or "/", parents)
        loc = Loc(parsed.image_path, parent.gfid, name)
        try:
            iatt, _ = await top.lookup(loc)
        except FopError as exc:
            if exc.errno != errno.ENOENT:
                raise
            flags = GfOpenFlags.CREAT | GfOpenFlags.TRUNC | GfOpenFlags.RDWR
            new = loc.with_gfid(uuid.uuid4().bytes)
            fd, _ = await top.create(new, int(flags), DEFAULT_IMAGE_MODE)
        else:
            if not exist_ok:
                raise FopError(
                    "CREATE", loc.path, None, errno.EEXIST, xlator=top.name
                ) from None
            if not iatt_is_reg(iatt):
                raise FopError(
                    "CREATE", loc.path, None, errno.EISDIR, xlator=top.name
                ) from None
            fd = await top.open(loc.with_gfid(iatt.ia_gfid), int(GfOpenFlags.RDWR))
            await top.ftruncate(fd, 0)
        try:
            if preallocation == "falloc" and size:
                await top.fallocate(fd, 0, 0, size)
            else:
                await top.ftruncate(fd, size)
                if preallocation == "full" and size:
                    await top.zerofill(fd, 0, size)
            await top.flush(fd)
        finally:
            with trio.CancelScope(shield=True):
                await top.release(fd)


async def remove_async(
    uri: GlusterURI | str,
    *,
    credentials: Credentials | None = None,
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
    timeout: float | None = DEFAULT_REQUEST_TIMEOUT,  # noqa: ASYNC109 - per request, not a deadline for this call
    tls: TlsOptions | None = None,
) -> None:
    """Delete an image (UNLINK; DHT also removes a linkto it left behind).

    Raises:
        FopError: ENOENT if it does not exist, EISDIR for a folder, EACCES...
    """
    parsed = _as_uri(uri).with_tls(tls)
    if parsed.path is None:
        raise URIError(str(parsed), "names a volume, not an image inside it")
    async with _open_stack(parsed, credentials, connect_timeout, timeout) as stack:
        loc, iatt = await resolve(stack.top, parsed.image_path)
        if iatt_is_dir(iatt):
            raise FopError(
                "UNLINK", loc.path, None, errno.EISDIR, xlator=stack.top.name
            )
        await stack.top.unlink(loc)


async def _ensure_folder(top: Xlator, path: str, parents: bool) -> Loc:
    """The folder at ``path``, creating missing ones when ``parents``."""
    loc = Loc("/", None, "", fops.ROOT_GFID)
    iatt, _ = await top.lookup(loc)
    for name in [part for part in path.split("/") if part]:
        child = Loc(f"{loc.path.rstrip('/')}/{name}", loc.gfid, name)
        try:
            iatt, _ = await top.lookup(child)
        except FopError as exc:
            if exc.errno != errno.ENOENT or not parents:
                raise
            iatt = await top.mkdir(child.with_gfid(uuid.uuid4().bytes), 0o755, 0o022)
        if not iatt_is_dir(iatt):
            raise FopError("MKDIR", child.path, None, errno.ENOTDIR, xlator=top.name)
        loc = child.with_gfid(iatt.ia_gfid)
    return loc
