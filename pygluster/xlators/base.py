"""The async fop interface every client-side translator implements.

Gluster builds a client as a stack of translators ("xlators") read from the
volfile; each receives a file operation (fop) from its parent and passes it
to its children, changing what it must. pygluster mirrors that: each
translator type that matters is a small class with the methods below, holding
its children in volfile order. The block device talks only to the top.

Two small value types travel through the stack, after gluster's own:

* :class:`Loc` (gluster ``loc_t``): where an entry is, by parent gfid + name
  and, once known, its own gfid; plus the path, for messages.
* :class:`Fd` (gluster ``fd_t``): an open file. Each translator keeps its own
  per-fd state in ``Fd.ctx`` keyed by the translator (gluster's fd context):
  the client translator its remote fd number, DHT the child holding the file.

:class:`Xlator` is gluster's default fop table (``defaults.c``): a fop a
translator does not implement is wound to its only child, or fails with
EOPNOTSUPP where there is no single child to wind to. What gluster carries in
the call frame (``call_frame_t``), the lock owner, travels here in a
:class:`Frame` held by a context variable (:func:`frame`), so it reaches the
brick connection through every translator in between without being an
argument of every fop.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import stat as stat_module
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, TypeVar

from pygluster.errors import FopError, UnsupportedVolume
from pygluster.tls import NO_TLS, TlsOptions

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from contextlib import AbstractAsyncContextManager

    import trio

    from pygluster.rpc.fops import GfDict, GfStatfs, GfxIattx, Xdata
    from pygluster.rpc.sunrpc import Credentials
    from pygluster.volfile import Brick
    from pygluster.volfile import Xlator as VolfileXlator

__all__ = [
    "INODELK_COUNT",
    "INODELK_DOM_COUNT",
    "XLATOR_TYPES",
    "BuildContext",
    "Fd",
    "Flock",
    "Frame",
    "InodelkContention",
    "Loc",
    "ReadInto",
    "Xlator",
    "current_frame",
    "frame",
    "iatt_is_dir",
    "iatt_is_reg",
    "new_entry_gfid",
    "only_child",
    "xlator_type",
]


#: Where readv may put the data it reads (the caller's buffer), or None for
#: a fresh one.
ReadInto: TypeAlias = "memoryview | None"


@dataclass(frozen=True, slots=True)
class Loc:
    """Where an entry is (gluster ``loc_t``).

    Attributes:
        path: the entry's path from the volume root ("/dir/a.img"), for
            messages and hashing decisions; "/" for the root.
        parent: gfid of the parent directory; None for the root.
        name: the entry's name in its parent; "" for the root.
        gfid: the entry's own gfid when known (after a lookup).
    """

    path: str
    parent: bytes | None
    name: str
    gfid: bytes | None = None

    def with_gfid(self, gfid: bytes) -> Loc:
        """The same location, now with its gfid known."""
        return Loc(self.path, self.parent, self.name, gfid)

    def parent_loc(self) -> Loc:
        """The parent directory, as a nameless location by its gfid."""
        assert self.parent is not None
        return Loc(self.path.rsplit("/", 1)[0] or "/", None, "", self.parent)


def only_child(
    node: VolfileXlator, children: list[Xlator], context: BuildContext
) -> Xlator:
    """The one child of a volfile node that can only stack on one (shard,
    write-behind, a passed-through performance translator).

    Raises:
        UnsupportedVolume: the node has no child or several.
    """
    if len(children) != 1:
        raise UnsupportedVolume(context.volume, node.name, node.type)
    return children[0]


def new_entry_gfid(loc: Loc) -> bytes:
    """The gfid a CREATE or MKDIR of ``loc`` gives the new entry.

    The client chooses it so that every replica and every retry agree on it
    (gluster's gfid-req, §8.1); posix refuses an entry without one.
    """
    if loc.gfid is None:
        raise ValueError(f"{loc.path}: a new entry needs its gfid chosen (loc.gfid)")
    return loc.gfid


#: glusterfs.h GLUSTERFS_INODELK_DOM_COUNT / GLUSTERFS_INODELK_COUNT: a fop's
#: xdata key naming a lock domain, and its reply's key saying how many inode
#: locks (granted or waiting) that domain has on the file (locks translator,
#: pl_inodelk_xattr_fill; seen on glusterfs 10.3 in WRITE replies).
INODELK_DOM_COUNT = "glusterfs.inodelk-dom-count"
INODELK_COUNT = "glusterfs.inodelk-count"


@dataclass(frozen=True, slots=True)
class InodelkContention:
    """A brick's notice that another lock owner waits for an inode lock we
    hold (the locks translator's INODELK_CONTENTION callback, sent at most
    every notify-contention-delay seconds per lock).

    Attributes:
        gfid: the locked inode.
        domain: the lock domain (replicate: the translator's name).
        brick: who sent it (``host:/path``), for messages.
    """

    gfid: bytes
    domain: str
    brick: str


@dataclass(frozen=True, slots=True)
class Flock:
    """The type and byte range of an inode lock (gluster ``struct gf_flock``
    as inodelk takes it). The owner is the current frame's lk_owner and the
    range always starts from the file's beginning (whence SEEK_SET).

    Attributes:
        type: ``LkType`` (RDLCK, WRLCK or UNLCK).
        start: first byte locked.
        length: bytes locked; 0 means to the end of the file, however long.
    """

    type: int
    start: int = 0
    length: int = 0


@dataclass(eq=False, slots=True, weakref_slot=True)
class Fd:
    """An open file (gluster ``fd_t``), shared by every translator of a stack.

    Attributes:
        loc: where the file is (its gfid is set).
        flags: the GF_O_* open flags.
        ctx: per-translator state, keyed by the translator object.
    """

    loc: Loc
    flags: int
    ctx: dict[object, Any] = field(default_factory=dict)

    @property
    def gfid(self) -> bytes:
        """The open file's gfid."""
        assert self.loc.gfid is not None
        return self.loc.gfid


def iatt_is_dir(iatt: GfxIattx) -> bool:
    """True when the iatt describes a directory."""
    return stat_module.S_ISDIR(iatt.mode)


def iatt_is_reg(iatt: GfxIattx) -> bool:
    """True when the iatt describes a regular file."""
    return stat_module.S_ISREG(iatt.mode)


@dataclass(frozen=True, slots=True)
class Frame:
    """Per-call state that travels down the stack (gluster ``call_frame_t``).

    Attributes:
        lk_owner: the lock owner the brick connection puts in the request's
            credential (and an flock's owner field); None: the connection's
            own.
    """

    lk_owner: bytes | None = None


_ROOT_FRAME = Frame()
_frame: contextvars.ContextVar[Frame] = contextvars.ContextVar(
    "pygluster_frame", default=_ROOT_FRAME
)


def current_frame() -> Frame:
    """The frame of the fop being wound (the root frame outside any)."""
    return _frame.get()


@contextlib.contextmanager
def frame(*, lk_owner: bytes | None) -> Iterator[Frame]:
    """Wind the fops made inside with ``lk_owner`` as their lock owner.

    Tasks started inside inherit it (trio copies the context at spawn), so a
    translator fanning a lock out to its children keeps the owner.
    """
    new = Frame(lk_owner=lk_owner)
    token = _frame.set(new)
    try:
        yield new
    finally:
        _frame.reset(token)


@dataclass(frozen=True, slots=True)
class BuildContext:
    """What :meth:`Xlator.from_volfile` may need beyond the node itself.

    Attributes:
        volume: the volume name.
        bricks: the volfile's bricks by protocol/client xlator name.
        credentials: identity for fops.
        nursery: where background tasks (connections, write-behind) run.
        connect_timeout: seconds to connect a brick (None: no limit).
        request_timeout: seconds a fop waits for its reply.
        write_behind: the caller's write-behind switch (None: the volfile's).
        tls: the caller's TLS options (pygluster.tls), for every brick.
    """

    volume: str
    bricks: Mapping[str, Brick]
    credentials: Credentials
    nursery: trio.Nursery
    connect_timeout: float | None
    request_timeout: float | None
    write_behind: bool | None = None
    tls: TlsOptions = NO_TLS


#: Volfile type ("cluster/replicate") -> the translator class that runs it.
XLATOR_TYPES: dict[str, type[Xlator]] = {}

_X = TypeVar("_X", bound="type[Xlator]")


def xlator_type(volfile_type: str) -> Callable[[_X], _X]:
    """Register a translator class for a volfile ``type`` (class decorator)."""

    def register(cls: _X) -> _X:
        XLATOR_TYPES[volfile_type] = cls
        cls.volfile_type = volfile_type
        return cls

    return register


class Xlator:
    """A client-side translator: gluster's fop table, defaults included.

    Every fop raises :class:`~pygluster.errors.FopError` (an ``OSError`` with
    the brick's errno) when the brick answers op_ret -1, and
    :class:`~pygluster.errors.TransportError` subclasses when a brick cannot
    be reached. A fop a subclass leaves alone is wound to the only child
    (gluster's ``default_*`` / ``STACK_WIND(FIRST_CHILD)``), or fails with
    EOPNOTSUPP when there is not exactly one; translators that route by
    entry or by open file override :meth:`_next_for_loc` / :meth:`_next_for_fd`.

    Attributes:
        name: the translator's name in the volfile.
        children: its subvolumes, in volfile order.
    """

    #: The volfile type this class runs (set by :func:`xlator_type`).
    volfile_type: ClassVar[str] = ""

    def __init__(self, name: str, children: list[Xlator]) -> None:
        self.name = name
        self.children = children
        #: The translators this one is a child of (upcalls go to them).
        self.parents: list[Xlator] = []
        for child in children:
            child.parents.append(self)

    @classmethod
    def from_volfile(
        cls, node: VolfileXlator, children: list[Xlator], context: BuildContext
    ) -> Xlator:
        """The translator for volfile ``node``, its children already built.

        It may return one of ``children`` instead: the node is then passed
        through (its parent is linked straight to that child).

        Raises:
            UnsupportedVolume: the node cannot run with these children.
        """
        raise NotImplementedError(f"{cls.__name__} cannot be built from a volfile")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    @property
    def is_up(self) -> bool:
        """True while this translator can take fops (a brick: connected)."""
        return True

    @property
    def connection(self) -> object | None:
        """What names this translator's brick connection: a new value after a
        reconnect, since the brick dropped our locks with the old one. None
        above the bricks."""
        return None

    def transaction(self, fd: Fd) -> AbstractAsyncContextManager[None]:
        """Group the writes made inside into one transaction where it matters.

        Replicate holds one lock/changelog session across them (the writes of
        one request in flight together); other translators need nothing.
        """
        return contextlib.nullcontext()

    def holders(self, fd: Fd) -> list[Xlator]:
        """The leaf translators (bricks) holding ``fd``'s data."""
        return [self]

    def contended(self, fd: Fd) -> bool:
        """True when the transaction below ``fd`` was asked to end soon
        (another client waits for its lock): whoever batches writes into it
        should stop adding more, since every one keeps that client waiting."""
        try:
            child = self._next_for_fd(fd, "WRITE")
        except FopError:
            return False
        return child is not self and child.contended(fd)

    def upcall(self, event: object) -> None:
        """An event a brick sent up (gluster's ``GF_EVENT_UPCALL`` notify):
        handled by the translator it concerns, passed on to the parents by
        every other (default_notify)."""
        for parent in self.parents:
            parent.upcall(event)

    # --- life -----------------------------------------------------------

    async def start(self) -> None:
        """Connect what this translator owns (children are started first)."""

    async def stop(self) -> None:
        """Release what :meth:`start` set up; must not raise."""

    # --- where a default fop is wound -------------------------------------

    def _only_child(self, fop: str, target: str) -> Xlator:
        if len(self.children) == 1:
            return self.children[0]
        raise FopError(fop, target, None, errno.EOPNOTSUPP, xlator=self.name)

    def _next_for_loc(self, loc: Loc, fop: str) -> Xlator:
        """The child a default entry fop on ``loc`` is wound to."""
        return self._only_child(fop, loc.path)

    def _next_for_fd(self, fd: Fd, fop: str) -> Xlator:
        """The child a default fop on the open ``fd`` is wound to."""
        return self._only_child(fop, fd.loc.path)

    # --- entries ----------------------------------------------------------

    async def lookup(self, loc: Loc, xdata: Xdata = None) -> tuple[GfxIattx, Xdata]:
        """Resolve ``loc`` (named, or nameless by gfid); return its iatt and
        the reply xdata (holding the xattrs that ``xdata`` asked for)."""
        return await self._next_for_loc(loc, "LOOKUP").lookup(loc, xdata)

    async def create(
        self, loc: Loc, flags: int, mode: int, umask: int = 0, xdata: Xdata = None
    ) -> tuple[Fd, GfxIattx]:
        """Create and open a regular file; ``loc.gfid`` is the gfid it gets
        (:func:`new_entry_gfid`). ``xdata`` rides along to the brick (shard
        sets its xattrs this way).
        """
        child = self._next_for_loc(loc, "CREATE")
        return await child.create(loc, flags, mode, umask, xdata)

    async def mkdir(
        self, loc: Loc, mode: int, umask: int = 0, xdata: Xdata = None
    ) -> GfxIattx:
        """Create a directory; ``loc.gfid`` is the gfid it gets (as create)."""
        child = self._next_for_loc(loc, "MKDIR")
        return await child.mkdir(loc, mode, umask, xdata)

    async def unlink(self, loc: Loc, xdata: Xdata = None) -> None:
        """Remove a file entry."""
        await self._next_for_loc(loc, "UNLINK").unlink(loc, xdata)

    async def rmdir(self, loc: Loc, xdata: Xdata = None) -> None:
        """Remove an empty directory."""
        await self._next_for_loc(loc, "RMDIR").rmdir(loc, xdata)

    async def statfs(self, loc: Loc, xdata: Xdata = None) -> GfStatfs:
        """File system statistics of the volume (or this part of it)."""
        return await self._next_for_loc(loc, "STATFS").statfs(loc, xdata)

    # --- xattrs -----------------------------------------------------------

    async def getxattr(self, loc: Loc, name: str, xdata: Xdata = None) -> Xdata:
        """GETXATTR one named xattr; the reply dict maps it to its value."""
        return await self._next_for_loc(loc, "GETXATTR").getxattr(loc, name, xdata)

    async def setxattr(
        self, loc: Loc, values: GfDict, flags: int = 0, xdata: Xdata = None
    ) -> None:
        """Set xattrs on ``loc`` (PTR values for exact bytes)."""
        child = self._next_for_loc(loc, "SETXATTR")
        await child.setxattr(loc, values, flags, xdata)

    async def xattrop(
        self, loc: Loc, flags: int, values: GfDict, xdata: Xdata = None
    ) -> GfDict:
        """Atomically combine ``values`` into xattrs of ``loc``; the results."""
        child = self._next_for_loc(loc, "XATTROP")
        return await child.xattrop(loc, flags, values, xdata)

    async def fxattrop(
        self, fd: Fd, flags: int, values: GfDict, xdata: Xdata = None
    ) -> GfDict:
        """:meth:`xattrop` through an open fd."""
        child = self._next_for_fd(fd, "FXATTROP")
        return await child.fxattrop(fd, flags, values, xdata)

    # --- locks (owned by the current frame's lk_owner, see frame()) -------

    async def inodelk(
        self, loc: Loc, domain: str, cmd: int, flock: Flock, xdata: Xdata = None
    ) -> None:
        """An inode lock (``cmd``: LkCmd) on ``loc`` in lock ``domain``."""
        child = self._next_for_loc(loc, "INODELK")
        await child.inodelk(loc, domain, cmd, flock, xdata)

    async def finodelk(
        self, fd: Fd, domain: str, cmd: int, flock: Flock, xdata: Xdata = None
    ) -> None:
        """:meth:`inodelk` through an open fd."""
        await self._next_for_fd(fd, "FINODELK").finodelk(fd, domain, cmd, flock, xdata)

    async def entrylk(
        self, loc: Loc, domain: str, cmd: int, kind: int, xdata: Xdata = None
    ) -> None:
        """An entry lock (``cmd``: EntrylkCmd, ``kind``: EntrylkType) on the
        name ``loc`` has in its parent directory, in ``domain``."""
        await self._next_for_loc(loc, "ENTRYLK").entrylk(loc, domain, cmd, kind, xdata)

    # --- open files -------------------------------------------------------

    async def open(self, loc: Loc, flags: int, xdata: Xdata = None) -> Fd:
        """Open the file at ``loc`` (its gfid known) with GF_O_* ``flags``."""
        return await self._next_for_loc(loc, "OPEN").open(loc, flags, xdata)

    async def open_anonymous(self, loc: Loc, flags: int) -> Fd:
        """An fd for fops on ``loc``'s file (gfid known, looked up) that
        opens nothing: gluster's ``fd_anonymous``. Bricks resolve it by
        gfid per fop (fd number GF_ANON_FD_NO), so it holds no file open:
        a file another client unlinks meanwhile fails with ESTALE/ENOENT
        instead of being read on through an open fd. No OPEN goes out;
        :meth:`release` it to end this stack's state for it (no RELEASE
        reaches a brick).
        """
        return await self._next_for_loc(loc, "OPEN").open_anonymous(loc, flags)

    async def readv(
        self, fd: Fd, offset: int, size: int, into: ReadInto = None, xdata: Xdata = None
    ) -> tuple[memoryview, GfxIattx]:
        """Read up to ``size`` bytes at ``offset``; short at end of file.

        ``into`` (at least ``size`` bytes) is where the caller wants the
        data: a translator may receive it there directly, and then returns
        a view of ``into`` (``data.obj is into.obj``); otherwise the caller
        copies. Translators pass it down unchanged or not at all.
        """
        child = self._next_for_fd(fd, "READ")
        return await child.readv(fd, offset, size, into, xdata)

    async def writev(
        self, fd: Fd, offset: int, data: bytes | memoryview, xdata: Xdata = None
    ) -> GfxIattx:
        """Write ``data`` at ``offset``; return the file's iatt after."""
        return await self._next_for_fd(fd, "WRITE").writev(fd, offset, data, xdata)

    async def fstat(self, fd: Fd, xdata: Xdata = None) -> GfxIattx:
        """The open file's attributes."""
        return await self._next_for_fd(fd, "FSTAT").fstat(fd, xdata)

    async def flush(self, fd: Fd, xdata: Xdata = None) -> None:
        """FLUSH: the close-time flush gluster sends before RELEASE."""
        await self._next_for_fd(fd, "FLUSH").flush(fd, xdata)

    async def fsync(self, fd: Fd, datasync: bool = False, xdata: Xdata = None) -> None:
        """Make the file's data (and metadata unless ``datasync``) durable."""
        await self._next_for_fd(fd, "FSYNC").fsync(fd, datasync, xdata)

    async def ftruncate(self, fd: Fd, size: int, xdata: Xdata = None) -> GfxIattx:
        """Set the file's size."""
        return await self._next_for_fd(fd, "FTRUNCATE").ftruncate(fd, size, xdata)

    async def fallocate(
        self, fd: Fd, mode: int, offset: int, length: int, xdata: Xdata = None
    ) -> GfxIattx:
        """Allocate blocks (``mode`` as Linux fallocate: KEEP_SIZE 1, ...)."""
        child = self._next_for_fd(fd, "FALLOCATE")
        return await child.fallocate(fd, mode, offset, length, xdata)

    async def discard(
        self, fd: Fd, offset: int, length: int, xdata: Xdata = None
    ) -> GfxIattx:
        """Punch a hole: deallocate, reads return zeros, size unchanged."""
        child = self._next_for_fd(fd, "DISCARD")
        return await child.discard(fd, offset, length, xdata)

    async def zerofill(
        self, fd: Fd, offset: int, length: int, xdata: Xdata = None
    ) -> GfxIattx:
        """Write zeros over a range, allocating it."""
        child = self._next_for_fd(fd, "ZEROFILL")
        return await child.zerofill(fd, offset, length, xdata)

    async def seek(self, fd: Fd, offset: int, what: int, xdata: Xdata = None) -> int:
        """SEEK_DATA (0) / SEEK_HOLE (1) from ``offset``; ENXIO past data."""
        return await self._next_for_fd(fd, "SEEK").seek(fd, offset, what, xdata)

    async def release(self, fd: Fd, xdata: Xdata = None) -> None:
        """Forget the open file on the bricks; must not raise."""
        await self._next_for_fd(fd, "RELEASE").release(fd, xdata)
