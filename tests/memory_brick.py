"""An in-memory brick: a leaf translator for unit tests of the translators.

:class:`MemoryBrick` answers every fop of :class:`~pygluster.xlators.base.Xlator`
from a small file system held in dicts: inodes by gfid (data, xattrs, mode),
directory entries, inode and entry locks owned by the current frame's
lk-owner (as a brick's locks translator does), and open fds. Faults come from
plain attributes a test sets: ``up`` (False: every fop fails ENOTCONN),
``fail`` (fop name -> errno), and ``before`` (an async hook awaited at the
start of every fop, for gates and delays). ``calls`` records the fops in
order.
"""

from __future__ import annotations

import errno
import math
import stat
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import trio
import trio.lowlevel

from pygluster.errors import FopError
from pygluster.rpc import fops
from pygluster.rpc.fops import (
    DictValue,
    EntrylkCmd,
    GfOpenFlags,
    LkCmd,
    LkType,
    SeekWhat,
    XattropFlags,
)
from pygluster.xlators.base import Fd, Flock, Loc, Xlator, current_frame, new_entry_gfid

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from pygluster.rpc.fops import GfDict, Xdata
    from pygluster.xlators.base import ReadInto

__all__ = ["MemoryBrick", "MemoryInode", "make_iatt"]

#: The lock owner of fops wound outside any frame (the connection's own).
DEFAULT_OWNER = b"\0\0\0\0"
_ARRAY = {XattropFlags.ADD_ARRAY: ">i", XattropFlags.ADD_ARRAY64: ">q"}


def make_iatt(
    gfid: bytes, size: int = 0, mode: int = 0o100600, blocks: int | None = None
) -> fops.GfxIattx:
    """An iatt with the fields the translators read, the rest zero."""
    zero: dict[str, Any] = dict.fromkeys(fops.GfxIattx.__dataclass_fields__, 0)
    if blocks is None:
        blocks = math.ceil(size / 512)
    return fops.GfxIattx(
        **{**zero, "ia_gfid": gfid, "ia_size": size, "mode": mode, "ia_blocks": blocks}
    )


@dataclass
class MemoryInode:
    """One file or directory on the brick."""

    gfid: bytes
    mode: int
    data: bytearray = field(default_factory=bytearray)
    xattrs: dict[str, bytes] = field(default_factory=dict)
    entries: dict[str, bytes] = field(default_factory=dict)

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.mode)

    def iatt(self) -> fops.GfxIattx:
        return make_iatt(self.gfid, len(self.data), self.mode)

    def put(self, offset: int, data: bytes | memoryview) -> None:
        """Write ``data`` at ``offset``, growing the file as needed."""
        end = offset + len(data)
        if len(self.data) < end:
            self.data.extend(bytes(end - len(self.data)))
        self.data[offset:end] = data

    def resize(self, size: int) -> None:
        del self.data[size:]
        self.data.extend(bytes(size - len(self.data)))


class MemoryBrick(Xlator):
    """A brick in memory (see the module docstring)."""

    def __init__(self, name: str) -> None:
        super().__init__(name, [])
        self.inodes: dict[bytes, MemoryInode] = {
            fops.ROOT_GFID: MemoryInode(fops.ROOT_GFID, stat.S_IFDIR | 0o755)
        }
        self.up = True
        self.fail: dict[str, int] = {}
        self.before: Callable[[str], Awaitable[None]] | None = None
        self.calls: list[str] = []
        #: The xdata of each XATTROP (AFR's entry changelog names entries).
        self.xattrop_xdata: list[dict[str, DictValue]] = []
        #: (gfid, domain) -> owner of the inode lock held.
        self.inodelks: dict[tuple[bytes, str], bytes] = {}
        #: (directory gfid, name, domain) -> owner of the entry lock held.
        self.entrylks: dict[tuple[bytes, str, str], bytes] = {}

    def __str__(self) -> str:
        return f"memory:/{self.name}"

    @property
    def is_up(self) -> bool:
        return self.up

    # --- helpers for tests ----------------------------------------------------

    def add(
        self,
        parent: bytes,
        name: str,
        gfid: bytes,
        mode: int = stat.S_IFREG | 0o600,
        data: bytes = b"",
    ) -> MemoryInode:
        """Put an entry on the brick directly (no fop recorded)."""
        inode = MemoryInode(gfid, mode, bytearray(data))
        self.inodes[gfid] = inode
        self.inodes[parent].entries[name] = gfid
        return inode

    def find(self, path: str) -> MemoryInode | None:
        """The inode at ``path`` ("/a/b"), or None."""
        inode = self.inodes[fops.ROOT_GFID]
        for part in [p for p in path.split("/") if p]:
            gfid = inode.entries.get(part)
            if gfid is None:
                return None
            inode = self.inodes[gfid]
        return inode

    # --- plumbing -------------------------------------------------------------

    def _error(self, fop: str, target: str, code: int) -> FopError:
        return FopError(fop, target, str(self), code)

    async def _enter(self, fop: str, target: str) -> None:
        self.calls.append(fop)
        if self.before is not None:
            await self.before(fop)
        if not self.up:
            raise self._error(fop, target, errno.ENOTCONN)
        code = self._fault(fop)
        if code is not None:
            raise self._error(fop, target, code)
        await trio.lowlevel.checkpoint()

    def _fault(self, fop: str) -> int | None:
        """The errno ``fop`` fails with (from ``fail``), or None."""
        return self.fail.get(fop)

    def _resolve(self, loc: Loc, fop: str) -> MemoryInode:
        if loc.name:
            assert loc.parent is not None
            parent = self.inodes.get(loc.parent)
            if parent is None:
                # A real brick cannot resolve the parent gfid: ESTALE (seen
                # on glusterfs 10.3 for a LOOKUP in a missing /.shard).
                raise self._error(fop, loc.path, errno.ESTALE)
            gfid = parent.entries.get(loc.name)
        else:
            gfid = loc.gfid
        inode = self.inodes.get(gfid) if gfid is not None else None
        if inode is None:
            raise self._error(fop, loc.path, errno.ENOENT)
        return inode

    def _parent(self, loc: Loc, fop: str) -> MemoryInode:
        assert loc.parent is not None
        parent = self.inodes.get(loc.parent)
        if parent is None:
            raise self._error(fop, loc.path, errno.ESTALE)
        return parent

    def _file(self, fd: Fd, fop: str) -> MemoryInode:
        if self not in fd.ctx:
            raise self._error(fop, fd.loc.path, errno.EBADF)
        inode = self.inodes.get(fd.gfid)
        if inode is None:
            raise self._error(fop, fd.loc.path, errno.ESTALE)
        return inode

    @staticmethod
    def _owner() -> bytes:
        owner = current_frame().lk_owner
        return owner if owner is not None else DEFAULT_OWNER

    def _opened(self, loc: Loc, flags: int) -> Fd:
        fd = Fd(loc, flags)
        fd.ctx[self] = True
        return fd

    # --- entries --------------------------------------------------------------

    async def lookup(
        self, loc: Loc, xdata: Xdata = None
    ) -> tuple[fops.GfxIattx, Xdata]:
        await self._enter("LOOKUP", loc.path)
        inode = self._resolve(loc, "LOOKUP")
        reply = {
            key: DictValue.ptr(inode.xattrs[key])
            for key in (xdata or {})
            if key in inode.xattrs
        }
        return inode.iatt(), reply

    async def create(
        self, loc: Loc, flags: int, mode: int, umask: int = 0, xdata: Xdata = None
    ) -> tuple[Fd, fops.GfxIattx]:
        await self._enter("CREATE", loc.path)
        parent = self._parent(loc, "CREATE")
        existing = parent.entries.get(loc.name)
        if existing is not None:
            if flags & GfOpenFlags.EXCL:
                raise self._error("CREATE", loc.path, errno.EEXIST)
            inode = self.inodes[existing]
        else:
            gfid = new_entry_gfid(loc)
            inode = self.add(
                parent.gfid, loc.name, gfid, stat.S_IFREG | (mode & 0o7777)
            )
            for key, value in (xdata or {}).items():
                if key != "gfid-req" and isinstance(value.value, bytes):
                    inode.xattrs[key] = value.value
        return self._opened(loc.with_gfid(inode.gfid), flags), inode.iatt()

    async def mkdir(
        self, loc: Loc, mode: int, umask: int = 0, xdata: Xdata = None
    ) -> fops.GfxIattx:
        await self._enter("MKDIR", loc.path)
        parent = self._parent(loc, "MKDIR")
        if loc.name in parent.entries:
            raise self._error("MKDIR", loc.path, errno.EEXIST)
        gfid = new_entry_gfid(loc)
        return self.add(
            parent.gfid, loc.name, gfid, stat.S_IFDIR | (mode & 0o7777)
        ).iatt()

    async def _remove(self, loc: Loc, fop: str, *, directory: bool) -> None:
        await self._enter(fop, loc.path)
        parent = self._parent(loc, fop)
        inode = self._resolve(loc, fop)
        if directory and not inode.is_dir:
            raise self._error(fop, loc.path, errno.ENOTDIR)
        if not directory and inode.is_dir:
            raise self._error(fop, loc.path, errno.EISDIR)
        if inode.entries:
            raise self._error(fop, loc.path, errno.ENOTEMPTY)
        del parent.entries[loc.name]
        del self.inodes[inode.gfid]

    async def unlink(self, loc: Loc, xdata: Xdata = None) -> None:
        await self._remove(loc, "UNLINK", directory=False)

    async def rmdir(self, loc: Loc, xdata: Xdata = None) -> None:
        await self._remove(loc, "RMDIR", directory=True)

    async def statfs(self, loc: Loc, xdata: Xdata = None) -> fops.GfStatfs:
        await self._enter("STATFS", loc.path)
        used = sum(len(inode.data) for inode in self.inodes.values()) // 4096
        return fops.GfStatfs(
            bsize=4096,
            frsize=4096,
            blocks=1 << 20,
            bfree=(1 << 20) - used,
            bavail=(1 << 20) - used,
            files=1 << 16,
            ffree=(1 << 16) - len(self.inodes),
            favail=(1 << 16) - len(self.inodes),
            fsid=0,
            flag=0,
            namemax=255,
        )

    # --- xattrs -----------------------------------------------------------------

    async def getxattr(self, loc: Loc, name: str, xdata: Xdata = None) -> Xdata:
        await self._enter("GETXATTR", loc.path)
        inode = self._resolve(loc, "GETXATTR")
        if name not in inode.xattrs:
            raise self._error("GETXATTR", loc.path, errno.ENODATA)
        return {name: DictValue.ptr(inode.xattrs[name])}

    async def setxattr(
        self, loc: Loc, values: GfDict, flags: int = 0, xdata: Xdata = None
    ) -> None:
        await self._enter("SETXATTR", loc.path)
        inode = self._resolve(loc, "SETXATTR")
        for key, value in values.items():
            assert isinstance(value.value, bytes)
            inode.xattrs[key] = value.value

    @staticmethod
    def _combine(inode: MemoryInode, flags: int, values: GfDict) -> GfDict:
        # posix_xattrop: add arrays of big-endian integers to the stored value.
        item = _ARRAY[XattropFlags(flags)]
        result = {}
        for key, value in values.items():
            raw = value.value
            assert isinstance(raw, bytes)
            codec = struct.Struct(">" + item[1] * (len(raw) // struct.calcsize(item)))
            old = codec.unpack(inode.xattrs.get(key, bytes(codec.size)))
            new = codec.pack(
                *(a + b for a, b in zip(old, codec.unpack(raw), strict=True))
            )
            if new != bytes(codec.size) or key in inode.xattrs:
                inode.xattrs[key] = new
            result[key] = DictValue.ptr(new)
        return result

    async def xattrop(
        self, loc: Loc, flags: int, values: GfDict, xdata: Xdata = None
    ) -> GfDict:
        await self._enter("XATTROP", loc.path)
        self.xattrop_xdata.append(dict(xdata or {}))
        return self._combine(self._resolve(loc, "XATTROP"), flags, values)

    async def fxattrop(
        self, fd: Fd, flags: int, values: GfDict, xdata: Xdata = None
    ) -> GfDict:
        await self._enter("FXATTROP", fd.loc.path)
        return self._combine(self._file(fd, "FXATTROP"), flags, values)

    # --- locks ------------------------------------------------------------------

    async def _lock(
        self,
        table: dict[Any, bytes],
        key: object,
        fop: str,
        target: str,
        *,
        unlock: bool,
        blocking: bool,
    ) -> None:
        owner = self._owner()
        if unlock:
            holder = table.get(key)
            if holder is None:
                # No such lock (it went with a connection): the locks
                # translator's "no matching lock".
                raise self._error(fop, target, errno.EINVAL)
            # A brick ignores an unlock by another owner; a test wants to know.
            assert holder == owner, f"{fop}: unlock by a non-owner"
            del table[key]
            return
        while table.get(key, owner) != owner:
            if not blocking:
                raise self._error(fop, target, errno.EAGAIN)
            await trio.sleep(0.01)  # a fake: polling for the holder is fine
        table[key] = owner

    async def inodelk(
        self, loc: Loc, domain: str, cmd: int, flock: Flock, xdata: Xdata = None
    ) -> None:
        await self._enter("INODELK", loc.path)
        inode = self._resolve(loc, "INODELK")
        await self._lock(
            self.inodelks,
            (inode.gfid, domain),
            "INODELK",
            loc.path,
            unlock=flock.type == LkType.UNLCK,
            blocking=cmd == LkCmd.SETLKW,
        )

    async def finodelk(
        self, fd: Fd, domain: str, cmd: int, flock: Flock, xdata: Xdata = None
    ) -> None:
        await self._enter("FINODELK", fd.loc.path)
        inode = self._file(fd, "FINODELK")
        await self._lock(
            self.inodelks,
            (inode.gfid, domain),
            "FINODELK",
            fd.loc.path,
            unlock=flock.type == LkType.UNLCK,
            blocking=cmd == LkCmd.SETLKW,
        )

    async def entrylk(
        self, loc: Loc, domain: str, cmd: int, kind: int, xdata: Xdata = None
    ) -> None:
        await self._enter("ENTRYLK", loc.path)
        directory = self._parent(loc, "ENTRYLK")
        await self._lock(
            self.entrylks,
            (directory.gfid, loc.name, domain),
            "ENTRYLK",
            loc.path,
            unlock=cmd == EntrylkCmd.UNLOCK,
            blocking=cmd == EntrylkCmd.LOCK,
        )

    # --- open files -------------------------------------------------------------

    async def open(self, loc: Loc, flags: int, xdata: Xdata = None) -> Fd:
        await self._enter("OPEN", loc.path)
        inode = self._resolve(loc, "OPEN")
        if flags & GfOpenFlags.TRUNC:
            inode.resize(0)
        return self._opened(loc.with_gfid(inode.gfid), flags)

    async def open_anonymous(self, loc: Loc, flags: int) -> Fd:
        # No OPEN on the wire: each fop resolves the gfid (and fails with
        # ESTALE once it is gone, see _file).
        assert loc.gfid is not None
        return self._opened(loc, flags)

    async def readv(
        self, fd: Fd, offset: int, size: int, into: ReadInto = None, xdata: Xdata = None
    ) -> tuple[memoryview, fops.GfxIattx]:
        await self._enter("READ", fd.loc.path)
        inode = self._file(fd, "READ")
        return memoryview(bytes(inode.data[offset : offset + size])), inode.iatt()

    async def writev(
        self, fd: Fd, offset: int, data: bytes | memoryview, xdata: Xdata = None
    ) -> fops.GfxIattx:
        await self._enter("WRITE", fd.loc.path)
        inode = self._file(fd, "WRITE")
        inode.put(offset, data)
        return inode.iatt()

    async def fstat(self, fd: Fd, xdata: Xdata = None) -> fops.GfxIattx:
        await self._enter("FSTAT", fd.loc.path)
        return self._file(fd, "FSTAT").iatt()

    async def flush(self, fd: Fd, xdata: Xdata = None) -> None:
        await self._enter("FLUSH", fd.loc.path)

    async def fsync(self, fd: Fd, datasync: bool = False, xdata: Xdata = None) -> None:
        await self._enter("FSYNC", fd.loc.path)

    async def ftruncate(self, fd: Fd, size: int, xdata: Xdata = None) -> fops.GfxIattx:
        await self._enter("FTRUNCATE", fd.loc.path)
        inode = self._file(fd, "FTRUNCATE")
        inode.resize(size)
        return inode.iatt()

    async def fallocate(
        self, fd: Fd, mode: int, offset: int, length: int, xdata: Xdata = None
    ) -> fops.GfxIattx:
        await self._enter("FALLOCATE", fd.loc.path)
        inode = self._file(fd, "FALLOCATE")
        if not mode & 0x01 and len(inode.data) < offset + length:  # not KEEP_SIZE
            inode.resize(offset + length)
        return inode.iatt()

    async def discard(
        self, fd: Fd, offset: int, length: int, xdata: Xdata = None
    ) -> fops.GfxIattx:
        await self._enter("DISCARD", fd.loc.path)
        inode = self._file(fd, "DISCARD")
        end = min(len(inode.data), offset + length)
        inode.data[offset:end] = bytes(max(0, end - offset))
        return inode.iatt()

    async def zerofill(
        self, fd: Fd, offset: int, length: int, xdata: Xdata = None
    ) -> fops.GfxIattx:
        await self._enter("ZEROFILL", fd.loc.path)
        inode = self._file(fd, "ZEROFILL")
        inode.put(offset, bytes(length))
        return inode.iatt()

    async def seek(self, fd: Fd, offset: int, what: int, xdata: Xdata = None) -> int:
        await self._enter("SEEK", fd.loc.path)
        inode = self._file(fd, "SEEK")
        # No holes are tracked: all of the file is data, the end a hole.
        if offset >= len(inode.data):
            raise self._error("SEEK", fd.loc.path, errno.ENXIO)
        return offset if what == SeekWhat.DATA else len(inode.data)

    async def release(self, fd: Fd, xdata: Xdata = None) -> None:
        self.calls.append("RELEASE")
        fd.ctx.pop(self, None)
