"""``cluster/distribute`` (DHT): which child holds a name, and keeping it so.

Every directory has, on each child, a ``trusted.glusterfs.dht`` xattr giving
that child a range of the 32-bit hash space; a file lives on the child whose
range holds the hash of its name (topology.md §2). This translator:

* learns a directory's layout by LOOKUP on every child, asking for the xattr
  (§2.5), and caches it per directory gfid;
* looks a file up on its hashed child, follows linkto files to the child that
  holds the data, and falls back to asking every child (§2.6);
* creates files on the hashed child, so they sit where libgfapi would put them
  (§2.7), and directories on every child with the same gfid, writing their
  layout as gluster's self-heal would (§2.4);
* heals a directory that has no layout yet (a fresh volume's root, §2.3)
  under the ``dht.layout.heal`` inode lock, so that racing clients agree.

Open files are bound to the child that holds them (``Fd.ctx[self]``).
Not implemented (documented limits): min-free-disk placement (files always go
to the hashed child), rebalance/migration phases (§2.8), and the
``NAME@dht:child`` debug override.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import stat as stat_module
import struct
from typing import TYPE_CHECKING, TypeVar

import trio

from pygluster._concurrency import run_all
from pygluster.errors import FopError, LayoutHoleError, XdrError
from pygluster.rpc import fops
from pygluster.rpc.fops import DictValue
from pygluster.xlators.base import (
    Fd,
    Flock,
    Loc,
    Xlator,
    frame,
    iatt_is_dir,
    xlator_type,
)
from pygluster.xlators.cluster import ChildFailure, fan_out
from pygluster.xlators.dht_layout import (
    DEFAULT_RSYNC_HASH_REGEX,
    DHT_LAYOUT_XATTR,
    DHT_LINKTO_XATTR,
    HASH_TYPE_DM,
    LAYOUT_HASH_INVALID,
    Layout,
    decode_linkto,
    hash_name,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from contextlib import AbstractAsyncContextManager

    from pygluster.rpc.fops import GfDict, GfStatfs, GfxIattx, Xdata
    from pygluster.volfile import Xlator as VolfileXlator
    from pygluster.xlators.base import BuildContext

__all__ = ["DistributeXlator"]

T = TypeVar("T")

log = logging.getLogger("pygluster.dht")

LAYOUT_XATTR = DHT_LAYOUT_XATTR
LINKTO_XATTR = DHT_LINKTO_XATTR
#: Inode-lock domain of layout heals (dht-common.h DHT_LAYOUT_HEAL_DOMAIN).
HEAL_DOMAIN = "dht.layout.heal"


def _is_linkto(iatt: GfxIattx, xdata: Xdata) -> bool:
    # dht-common.h IS_DHT_LINKFILE_MODE: a regular file whose permission bits
    # are exactly the sticky bit, carrying the linkto xattr (§2.6 step 3b).
    return (
        stat_module.S_ISREG(iatt.mode)
        and stat_module.S_IMODE(iatt.mode) == stat_module.S_ISVTX
        and xdata is not None
        and LINKTO_XATTR in xdata
    )


@xlator_type("cluster/distribute")
class DistributeXlator(Xlator):
    """The ``cluster/distribute`` translator over its children."""

    def __init__(
        self, name: str, children: list[Xlator], options: dict[str, str]
    ) -> None:
        super().__init__(name, children)
        self.options = options
        self._rsync_regex = options.get("rsync-hash-regex", DEFAULT_RSYNC_HASH_REGEX)
        self._extra_regex = options.get("extra-hash-regex")
        self._lookup_unhashed = options.get("lookup-unhashed", "on") not in (
            "off",
            "no",
            "false",
            "disable",
        )
        self._layouts: dict[bytes, Layout] = {}
        # gfid of a file -> index of the child that holds its data.
        self._cached: dict[bytes, int] = {}
        self._dirs: set[bytes] = {fops.ROOT_GFID}

    @classmethod
    def from_volfile(
        cls, node: VolfileXlator, children: list[Xlator], context: BuildContext
    ) -> Xlator:
        return cls(node.name, children, dict(node.options))

    # --- helpers ---------------------------------------------------------------

    def _hash(self, name: str) -> int:
        return hash_name(
            name,
            rsync_hash_regex=self._rsync_regex,
            extra_hash_regex=self._extra_regex,
        )

    async def _on_all(
        self, call: Callable[[Xlator], Awaitable[T]]
    ) -> list[T | FopError]:
        """Run ``call`` on every child concurrently; collect results or errors.

        Only ``FopError`` is collected; a transport failure propagates.
        """
        every = range(len(self.children))
        results = await fan_out(self.children, every, call, catch=(FopError,))
        collected: list[T | FopError] = []
        for index in every:
            result = results[index]
            if isinstance(result, ChildFailure):
                assert isinstance(result.error, FopError)
                collected.append(result.error)
            else:
                collected.append(result)
        return collected

    def _child_index(self, name: str) -> int | None:
        for index, child in enumerate(self.children):
            if child.name == name:
                return index
        return None

    # --- layouts ------------------------------------------------------------------

    async def _layout_of(self, dir_loc: Loc) -> Layout:
        assert dir_loc.gfid is not None
        if len(self.children) == 1:
            # One child: gluster writes no layout; everything maps to it (§2.3).
            return Layout.single()
        cached = self._layouts.get(dir_loc.gfid)
        if cached is not None:
            return cached
        layout = await self._read_layout(dir_loc)
        if not layout.is_complete:
            layout = await self._heal_layout(dir_loc)
        self._layouts[dir_loc.gfid] = layout
        return layout

    async def _read_layout(self, dir_loc: Loc) -> Layout:
        assert dir_loc.gfid is not None
        nameless = Loc(dir_loc.path, None, "", dir_loc.gfid)
        ask: Xdata = {LAYOUT_XATTR: DictValue.uint(16)}
        results = await self._on_all(lambda child: child.lookup(nameless, ask))
        values: list[bytes | None] = []
        for result in results:
            if isinstance(result, FopError):
                values.append(None)
                continue
            _, xdata = result
            value = (xdata or {}).get(LAYOUT_XATTR)
            raw = value.value if value is not None else None
            values.append(raw if isinstance(raw, bytes) else None)
        return Layout.from_xattrs(values)

    async def _heal_layout(self, dir_loc: Loc) -> Layout:
        """Give a directory without a complete layout one, as gluster would."""
        assert dir_loc.gfid is not None
        nameless = Loc(dir_loc.path, None, "", dir_loc.gfid)
        async with self._heal_lock(nameless):
            # Another client may have healed it while we waited for the lock.
            layout = await self._read_layout(dir_loc)
            if layout.is_complete:
                return layout
            # As gluster's self-heal lays out a new directory (§2.4), for
            # equal brick weights (weighted-rebalance by brick size is not
            # implemented: every complete layout is valid, only balance differs).
            layout = Layout.even([c.name for c in self.children], dir_loc.path)
            values = [_range_xattr(layout, i) for i in range(len(self.children))]
            log.info("%s: writing a layout for %s", self.name, dir_loc.path)

            async def write(index: int) -> None:
                child = self.children[index]
                await child.setxattr(
                    nameless, {LAYOUT_XATTR: DictValue.ptr(values[index])}
                )

            await run_all(
                functools.partial(write, index) for index in range(len(self.children))
            )
            return layout

    def _heal_lock(self, loc: Loc) -> _HealLock:
        return _HealLock(self.children, loc)

    # --- entries --------------------------------------------------------------------

    async def lookup(self, loc: Loc, xdata: Xdata = None) -> tuple[GfxIattx, Xdata]:
        ask = dict(xdata or {})
        ask.setdefault(LINKTO_XATTR, DictValue.uint(256))
        if not loc.name:
            return await self._lookup_nameless(loc, ask)
        hashed = await self._hashed(loc)
        if hashed is None:  # a hole in the parent's layout: ask everyone
            return await self._lookup_everywhere(loc, ask, None)
        try:
            iatt, reply = await self.children[hashed].lookup(loc, ask)
        except FopError as exc:
            if exc.errno != errno.ENOENT or len(self.children) == 1:
                raise
            if not self._lookup_unhashed:
                raise
            return await self._lookup_everywhere(loc, ask, exc)
        return await self._settle(loc, hashed, iatt, reply, ask)

    async def _hashed(self, loc: Loc) -> int | None:
        """The child ``loc``'s name hashes to in its parent's layout, if any."""
        assert loc.parent is not None
        parent = loc.parent_loc()
        layout = await self._layout_of(parent)
        try:
            return layout.subvol_for(self._hash(loc.name))
        except LayoutHoleError:
            return None

    async def _hashed_for_create(self, loc: Loc, fop: str) -> int:
        index = await self._hashed(loc)
        if index is None:
            # dht_create/dht_mkdir: no hashed subvolume is EIO in gluster.
            raise FopError(fop, loc.path, None, errno.EIO, xlator=self.name)
        return index

    async def _settle(
        self, loc: Loc, index: int, iatt: GfxIattx, reply: Xdata, ask: Xdata
    ) -> tuple[GfxIattx, Xdata]:
        if iatt_is_dir(iatt):
            self._dirs.add(iatt.ia_gfid)
            return iatt, reply
        if _is_linkto(iatt, reply):
            assert reply is not None
            raw = reply[LINKTO_XATTR].value
            try:
                target_name = decode_linkto(raw) if isinstance(raw, bytes) else ""
            except XdrError:
                target_name = ""
            target = self._child_index(target_name)
            if target is None:
                return await self._lookup_everywhere(loc, ask, None)
            iatt, reply = await self.children[target].lookup(loc, ask)
            index = target
        self._cached[iatt.ia_gfid] = index
        return iatt, reply

    async def _lookup_everywhere(
        self, loc: Loc, ask: Xdata, miss: FopError | None
    ) -> tuple[GfxIattx, Xdata]:
        """LOOKUP on every child; the data file (or directory) found wins.

        Linkto files are passed over: the child holding the data answers too
        (dht_lookup_everywhere, topology.md §2.6 step 5).
        """
        results = await self._on_all(lambda child: child.lookup(loc, ask))
        for index, result in enumerate(results):
            if isinstance(result, FopError):
                continue
            iatt, reply = result
            if iatt_is_dir(iatt):
                self._dirs.add(iatt.ia_gfid)
                return iatt, reply
            if not _is_linkto(iatt, reply):
                self._cached[iatt.ia_gfid] = index
                return iatt, reply
        if miss is None:
            errors = [r for r in results if isinstance(r, FopError)]
            miss = errors[0] if errors else None
        if miss is not None:
            raise miss
        raise FopError("LOOKUP", loc.path, None, errno.ENOENT, xlator=self.name)

    async def _lookup_nameless(self, loc: Loc, ask: Xdata) -> tuple[GfxIattx, Xdata]:
        assert loc.gfid is not None
        index = self._cached.get(loc.gfid)
        if index is not None:
            return await self.children[index].lookup(loc, ask)
        return await self._lookup_everywhere(loc, ask, None)

    async def create(
        self, loc: Loc, flags: int, mode: int, umask: int = 0, xdata: Xdata = None
    ) -> tuple[Fd, GfxIattx]:
        index = await self._hashed_for_create(loc, "CREATE")
        child = self.children[index]
        fd, iatt = await child.create(loc, flags, mode, umask, xdata)
        fd.ctx[self] = index
        self._cached[iatt.ia_gfid] = index
        return fd, iatt

    async def mkdir(
        self, loc: Loc, mode: int, umask: int = 0, xdata: Xdata = None
    ) -> GfxIattx:
        hashed = await self._hashed_for_create(loc, "MKDIR")
        # The hashed child first, then the rest with the same gfid (dht_mkdir).
        iatt = await self.children[hashed].mkdir(loc, mode, umask, xdata)
        others = [i for i in range(len(self.children)) if i != hashed]

        async def one(index: int) -> None:
            await self.children[index].mkdir(loc, mode, umask, xdata)

        await run_all(functools.partial(one, index) for index in others)
        self._dirs.add(iatt.ia_gfid)
        if len(self.children) > 1:
            await self._layout_of(loc.with_gfid(iatt.ia_gfid))
        return iatt

    async def unlink(self, loc: Loc, xdata: Xdata = None) -> None:
        iatt, _ = await self.lookup(loc)
        index = self._cached.get(iatt.ia_gfid)
        hashed = await self._hashed(loc)
        if index is None:
            index = hashed if hashed is not None else 0
        # Data file first, then a linkto left on the hashed child (dht_unlink).
        await self.children[index].unlink(loc, xdata)
        if hashed is not None and hashed != index:
            try:
                await self.children[hashed].unlink(loc, xdata)
            except FopError as exc:
                if exc.errno != errno.ENOENT:
                    raise
        self._cached.pop(iatt.ia_gfid, None)

    async def rmdir(self, loc: Loc, xdata: Xdata = None) -> None:
        results = await self._on_all(lambda child: child.rmdir(loc, xdata))
        failures = [
            r for r in results if isinstance(r, FopError) and r.errno != errno.ENOENT
        ]
        if failures:
            raise failures[0]
        if loc.gfid is not None:
            self._layouts.pop(loc.gfid, None)

    async def xattrop(
        self, loc: Loc, flags: int, values: GfDict, xdata: Xdata = None
    ) -> GfDict:
        """XATTROP on the child holding ``loc``'s file (shard's size updates)."""
        assert loc.gfid is not None
        index = self._cached.get(loc.gfid)
        if index is None:
            await self.lookup(Loc(loc.path, None, "", loc.gfid))
            index = self._cached.get(loc.gfid, 0)
        return await self.children[index].xattrop(loc, flags, values, xdata)

    async def statfs(self, loc: Loc, xdata: Xdata = None) -> GfStatfs:
        # dht_statfs_cbk sums the children, normalising to the first's frsize.
        results = await self._on_all(lambda child: child.statfs(loc, xdata))
        stats = [r for r in results if not isinstance(r, FopError)]
        if not stats:
            error = results[0]
            assert isinstance(error, FopError)
            raise error
        first = stats[0]
        total = {
            "blocks": 0,
            "bfree": 0,
            "bavail": 0,
            "files": 0,
            "ffree": 0,
            "favail": 0,
        }
        for st in stats:
            scale = st.frsize / first.frsize if first.frsize else 1
            for key in ("blocks", "bfree", "bavail"):
                total[key] += int(getattr(st, key) * scale)
            for key in ("files", "ffree", "favail"):
                total[key] += getattr(st, key)
        return fops.GfStatfs(
            bsize=first.bsize,
            frsize=first.frsize,
            fsid=first.fsid,
            flag=first.flag,
            namemax=first.namemax,
            **total,
        )

    # --- open files -----------------------------------------------------------------

    def _child_of(self, fd: Fd) -> Xlator:
        index: int = fd.ctx[self]
        return self.children[index]

    def _next_for_fd(self, fd: Fd, fop: str) -> Xlator:
        # Every fop on an open file goes to the child holding it (readv,
        # writev, fstat, ... are the base's defaults, wound here).
        return self._child_of(fd)

    async def _file_child(self, loc: Loc) -> int:
        """The child holding the data file at ``loc`` (looked up if unknown)."""
        assert loc.gfid is not None
        index = self._cached.get(loc.gfid)
        if index is None:
            await self.lookup(loc)
            index = self._cached.get(loc.gfid)
        if index is None:
            raise FopError("OPEN", loc.path, None, errno.EISDIR, xlator=self.name)
        return index

    async def open(self, loc: Loc, flags: int, xdata: Xdata = None) -> Fd:
        index = await self._file_child(loc)
        fd = await self.children[index].open(loc, flags, xdata)
        fd.ctx[self] = index
        return fd

    async def open_anonymous(self, loc: Loc, flags: int) -> Fd:
        index = await self._file_child(loc)
        fd = await self.children[index].open_anonymous(loc, flags)
        fd.ctx[self] = index
        return fd

    async def release(self, fd: Fd, xdata: Xdata = None) -> None:
        index = fd.ctx.pop(self, None)
        if index is not None:
            await self.children[index].release(fd, xdata)

    def holders(self, fd: Fd) -> list[Xlator]:
        return self._child_of(fd).holders(fd)

    def transaction(self, fd: Fd) -> AbstractAsyncContextManager[None]:
        return self._child_of(fd).transaction(fd)


def _range_xattr(layout: Layout, index: int) -> bytes:
    entry = layout.range_for(index)
    if entry is None:  # a child given no range: an all-zero range (§2.2)
        return struct.pack(">IIII", LAYOUT_HASH_INVALID, HASH_TYPE_DM, 0, 0)
    return entry.to_xattr()


class _HealLock:
    """INODELK on every child's copy of a directory, domain dht.layout.heal.

    Taken in child order with blocking locks, so two healing clients cannot
    deadlock; released on every child that granted it.
    """

    def __init__(self, children: list[Xlator], loc: Loc) -> None:
        self._children = children
        self._loc = loc
        self._held: list[Xlator] = []
        # A lock owner of its own, so no other lock of ours can share it.
        self._owner = os.urandom(8)

    async def __aenter__(self) -> None:
        with frame(lk_owner=self._owner):
            for child in self._children:
                await child.inodelk(
                    self._loc, HEAL_DOMAIN, fops.LkCmd.SETLKW, Flock(fops.LkType.WRLCK)
                )
                self._held.append(child)

    async def __aexit__(self, *exc_info: object) -> None:
        with trio.CancelScope(shield=True), frame(lk_owner=self._owner):
            for child in reversed(self._held):
                try:
                    await child.inodelk(
                        self._loc,
                        HEAL_DOMAIN,
                        fops.LkCmd.SETLK,
                        Flock(fops.LkType.UNLCK),
                    )
                except FopError as exc:
                    log.warning("unlocking %s: %s", self._loc.path, exc)
