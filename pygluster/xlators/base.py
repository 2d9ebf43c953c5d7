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
"""

from __future__ import annotations

import contextlib
import errno
import stat as stat_module
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pygluster.errors import FopError

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from pygluster.rpc.fops import DictValue, GfStatfs, GfxIattx, Xdata

__all__ = ["Fd", "Loc", "Xlator", "iatt_is_dir", "iatt_is_reg"]


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


class Xlator(ABC):
    """A client-side translator: the fops a block device needs.

    Every fop raises :class:`~pygluster.errors.FopError` (an ``OSError`` with
    the brick's errno) when the brick answers op_ret -1, and
    :class:`~pygluster.errors.TransportError` subclasses when a brick cannot
    be reached.

    Attributes:
        name: the translator's name in the volfile.
        children: its subvolumes, in volfile order.
    """

    def __init__(self, name: str, children: list[Xlator]) -> None:
        self.name = name
        self.children = children

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    @property
    def is_up(self) -> bool:
        """True while this translator can take fops (a brick: connected)."""
        return True

    def transaction(self, fd: Fd) -> AbstractAsyncContextManager[None]:
        """Group the writes made inside into one transaction where it matters.

        Replicate holds one lock/changelog session across them (the writes of
        one request in flight together); other translators need nothing.
        """
        return contextlib.nullcontext()

    def holders(self, fd: Fd) -> list[Xlator]:
        """The leaf translators (bricks) holding ``fd``'s data."""
        return [self]

    # --- life -----------------------------------------------------------

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Connect what this translator owns (children are started first)."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Release what :meth:`start` set up; must not raise."""

    # --- entries ----------------------------------------------------------

    @abstractmethod
    async def lookup(self, loc: Loc, xdata: Xdata = None) -> tuple[GfxIattx, Xdata]:
        """Resolve ``loc`` (named, or nameless by gfid); return its iatt and
        the reply xdata (holding the xattrs that ``xdata`` asked for)."""

    @abstractmethod
    async def create(
        self,
        loc: Loc,
        flags: int,
        mode: int,
        gfid: bytes,
        umask: int = 0,
        xdata: Xdata = None,
    ) -> tuple[Fd, GfxIattx]:
        """Create and open a regular file with the client-chosen ``gfid``.

        ``xdata`` rides along to the brick (shard sets its xattrs this way).
        """

    @abstractmethod
    async def mkdir(self, loc: Loc, mode: int, gfid: bytes, umask: int = 0) -> GfxIattx:
        """Create a directory with the client-chosen ``gfid``."""

    @abstractmethod
    async def unlink(self, loc: Loc) -> None:
        """Remove a file entry."""

    @abstractmethod
    async def rmdir(self, loc: Loc) -> None:
        """Remove an empty directory."""

    @abstractmethod
    async def statfs(self, loc: Loc) -> GfStatfs:
        """File system statistics of the volume (or this part of it)."""

    # --- xattrs and locks (optional: what the stack above needs) ----------

    def _unsupported(self, fop: str, loc: Loc) -> FopError:
        return FopError(fop, loc.path, self.name, errno.EOPNOTSUPP)

    async def setxattr(
        self, loc: Loc, values: dict[str, DictValue], flags: int = 0
    ) -> None:
        """Set xattrs on ``loc`` (PTR values for exact bytes)."""
        raise self._unsupported("SETXATTR", loc)

    async def xattrop(
        self, loc: Loc, flags: int, values: dict[str, DictValue]
    ) -> dict[str, DictValue]:
        """Atomically combine ``values`` into xattrs of ``loc``; the results."""
        raise self._unsupported("XATTROP", loc)

    async def inodelk(
        self,
        loc: Loc,
        domain: str,
        cmd: int,
        lock_type: int,
        *,
        owner: bytes | None = None,
        start: int = 0,
        length: int = 0,
    ) -> None:
        """An inode lock on ``loc`` in ``domain``."""
        raise self._unsupported("INODELK", loc)

    # --- open files -------------------------------------------------------

    @abstractmethod
    async def open(self, loc: Loc, flags: int) -> Fd:
        """Open the file at ``loc`` (its gfid known) with GF_O_* ``flags``."""

    @abstractmethod
    async def readv(
        self, fd: Fd, offset: int, size: int, into: memoryview | None = None
    ) -> tuple[memoryview, GfxIattx]:
        """Read up to ``size`` bytes at ``offset``; short at end of file.

        ``into`` (at least ``size`` bytes) is where the caller wants the
        data: a translator may receive it there directly, and then returns
        a view of ``into`` (``data.obj is into.obj``); otherwise the caller
        copies. Translators pass it down unchanged or not at all.
        """

    @abstractmethod
    async def writev(self, fd: Fd, offset: int, data: bytes | memoryview) -> GfxIattx:
        """Write ``data`` at ``offset``; return the file's iatt after."""

    @abstractmethod
    async def fstat(self, fd: Fd) -> GfxIattx:
        """The open file's attributes."""

    @abstractmethod
    async def flush(self, fd: Fd) -> None:
        """FLUSH: the close-time flush gluster sends before RELEASE."""

    @abstractmethod
    async def fsync(self, fd: Fd, datasync: bool = False) -> None:
        """Make the file's data (and metadata unless ``datasync``) durable."""

    @abstractmethod
    async def ftruncate(self, fd: Fd, size: int) -> GfxIattx:
        """Set the file's size."""

    @abstractmethod
    async def fallocate(self, fd: Fd, mode: int, offset: int, length: int) -> GfxIattx:
        """Allocate blocks (``mode`` as Linux fallocate: KEEP_SIZE 1, ...)."""

    @abstractmethod
    async def discard(self, fd: Fd, offset: int, length: int) -> GfxIattx:
        """Punch a hole: deallocate, reads return zeros, size unchanged."""

    @abstractmethod
    async def zerofill(self, fd: Fd, offset: int, length: int) -> GfxIattx:
        """Write zeros over a range, allocating it."""

    @abstractmethod
    async def seek(self, fd: Fd, offset: int, what: int) -> int:
        """SEEK_DATA (0) / SEEK_HOLE (1) from ``offset``; ENXIO past data."""

    @abstractmethod
    async def release(self, fd: Fd) -> None:
        """Forget the open file on the bricks; must not raise."""
