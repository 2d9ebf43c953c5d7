"""``features/shard``: an image stored as a base file plus fixed-size pieces.

With sharding on (``group virt``), a file created on the volume gets the
block size then in force, in its ``trusted.glusterfs.shard.block-size`` xattr;
its block 0 lives in the base file and block N >= 1 in
``/.shard/<base-gfid>.<N>``, a regular file of its own placed by DHT like any
other name (topology.md §5.3). The logical size and the allocated 512-byte
blocks live in the base file's ``trusted.glusterfs.shard.file-size`` xattr,
four big-endian int64 ``[size, 0, blocks, 0]``, changed only by ADD_ARRAY64
deltas so that concurrent writers add up. A file without the block-size xattr
(created while sharding was off) is passed through untouched.

As libgfapi's shard xlator does (verified on the wire, glusterfs 10.3):

* create sets both xattrs atomically in the CREATE's xdata;
* a write is split at block boundaries; a missing shard is created (same
  mode as the base file, a fresh gfid) under ``/.shard``, made on first use
  with its fixed gfid; after the pieces land one ADD_ARRAY64 on the base adds
  the size growth and the change in allocated blocks;
* reads of a missing shard return zeros (10.3 also creates it empty; there is
  no need to);
* discard and write-zeroes are split per shard like writes;
* a shrinking truncate unlinks the shards past the new end and truncates the
  new last one; growing only changes the size xattr;
* unlink leaves a marker in ``/.shard/.remove_me`` named after the base gfid
  (so any client's background deletion finishes the job if we die), unlinks
  the base, then the shards, then the marker.

Unlike gluster's (which answers SEEK with ENOTSUP, so qemu maps a sharded
image as all data), SEEK here walks the shards, so ``extents`` is exact.

A shard is looked up once per image fd and then used through an anonymous
fd (:meth:`Xlator.open_anonymous`: fd number GF_ANON_FD_NO, as shard.c
winds its shard fops): no OPEN or RELEASE per shard, and nothing held open on
the bricks, so when another client's truncate or unlink removes a shard the
next fop on it fails with ESTALE/ENOENT and the name is looked up again
(a hole, or the new shard), instead of an open fd serving the unlinked
file's old bytes (seen on glusterfs 10.3 before this). At most
:data:`OPEN_SHARDS` looked-up shards are kept per image fd (least recently
used forgotten first). One a fop is using is never forgotten under it:
forgetting one ends its replicate transaction, and doing so in the middle
failed the transaction's unlock and left its lock held, blocking later
writes to that shard. Shards in use are skipped, so the count may pass the
limit while that many fops are in flight.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import logging
import struct
import uuid
from collections import OrderedDict
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import trio

from pygluster._concurrency import run_all
from pygluster.errors import FopError
from pygluster.rpc import fops
from pygluster.rpc.fops import DictValue, GfOpenFlags, SeekWhat, XattropFlags
from pygluster.xlators.base import Fd, Loc, Xlator, iatt_is_reg, only_child, xlator_type
from pygluster.xlators.options import parse_size_option

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from contextlib import AbstractAsyncContextManager

    from pygluster.rpc.fops import GfDict, GfxIattx, Xdata
    from pygluster.volfile import Xlator as VolfileXlator
    from pygluster.xlators.base import BuildContext, ReadInto

__all__ = ["ShardXlator", "parse_block_size"]

log = logging.getLogger("pygluster.shard")
T = TypeVar("T")

BLOCK_SIZE_XATTR = "trusted.glusterfs.shard.block-size"
FILE_SIZE_XATTR = "trusted.glusterfs.shard.file-size"
#: shard.h GF_SHARD_DIR_GFID / GF_SHARD_REMOVE_ME_GFID: fixed on every volume.
SHARD_DIR_GFID = uuid.UUID("be318638-e8a0-4c6d-977d-7a937aa84806").bytes
REMOVE_ME_GFID = uuid.UUID("77dd5a45-dbf5-4592-b31b-b440382302e9").bytes
SHARD_DIR = Loc("/.shard", fops.ROOT_GFID, ".shard", SHARD_DIR_GFID)
REMOVE_ME_DIR = Loc("/.shard/.remove_me", SHARD_DIR_GFID, ".remove_me", REMOVE_ME_GFID)
#: Shards kept looked up per image fd: 4 GiB of 4 MB shards. Each one looked
#: up again is a LOOKUP per brick and a new replicate eager lock, so random
#: I/O over an image with more shards than this pays them per request (each
#: kept shard holds its replicate state: an eager lock, a pending post-op).
OPEN_SHARDS = 1024
_U64 = struct.Struct(">Q")
_ACCMODE = 0o3  # O_ACCMODE: RDONLY/WRONLY/RDWR
_FILE_SIZE = struct.Struct(">qqqq")
_SIZE_SUFFIXES = {
    "": 1,
    "B": 1,
    "KB": 1024,
    "MB": 1024**2,
    "GB": 1024**3,
    "TB": 1024**4,
}
_DEFAULT_BLOCK_SIZE = 64 * 1024**2


def parse_block_size(text: str) -> int:
    """``shard-block-size`` as the volfile writes it ("4MB", "64MB", bytes)."""
    return parse_size_option(text, _SIZE_SUFFIXES, "shard-block-size")


def _ptr_bytes(values: Xdata, key: str) -> bytes | None:
    value = (values or {}).get(key)
    raw = value.value if value is not None else None
    return raw if isinstance(raw, bytes) else None


@dataclass
class _Inode:
    """A sharded file: its block size and what the file-size xattr says."""

    block_size: int
    size: int
    blocks: int
    base_blocks: int = 0
    mode: int = 0o600
    #: The base file's iatt with the logical size, as last looked up.
    stat: GfxIattx | None = None


@dataclass(eq=False)
class _ShardFd:
    """Per image fd: open shards, their known allocation, pending deltas."""

    inode: _Inode
    shards: OrderedDict[int, Fd] = field(default_factory=OrderedDict)
    shard_blocks: dict[int, int] = field(default_factory=dict)
    locks: dict[int, trio.Lock] = field(default_factory=dict)
    #: Shard -> how many fops are using its open fd right now.
    users: dict[int, int] = field(default_factory=dict)
    pending_size: int = 0
    pending_blocks: int = 0
    sessions: int = 0


@xlator_type("features/shard")
class ShardXlator(Xlator):
    """The ``features/shard`` translator above distribute."""

    def __init__(
        self, name: str, children: list[Xlator], options: dict[str, str]
    ) -> None:
        super().__init__(name, children)
        self.child = children[0]
        self.block_size = parse_block_size(options.get("shard-block-size", "64MB"))
        self._inodes: dict[bytes, _Inode] = {}
        self._dir_ready = False
        self._dir_lock = trio.Lock()

    @classmethod
    def from_volfile(
        cls, node: VolfileXlator, children: list[Xlator], context: BuildContext
    ) -> Xlator:
        return cls(node.name, [only_child(node, children, context)], dict(node.options))

    # --- helpers ---------------------------------------------------------------

    def _lookup_keys(self) -> GfDict:
        return {
            BLOCK_SIZE_XATTR: DictValue.uint(8),
            FILE_SIZE_XATTR: DictValue.uint(_FILE_SIZE.size),
        }

    def _learn(self, iatt: GfxIattx, reply: Xdata) -> GfxIattx:
        """Record a looked-up file; return its iatt with the logical size."""
        raw_block_size = _ptr_bytes(reply, BLOCK_SIZE_XATTR)
        if raw_block_size is None or not iatt_is_reg(iatt) or len(raw_block_size) != 8:
            return iatt
        block_size = _U64.unpack(raw_block_size)[0]
        raw_file_size = _ptr_bytes(reply, FILE_SIZE_XATTR)
        size = blocks = 0
        if raw_file_size is not None and len(raw_file_size) == _FILE_SIZE.size:
            size, _, blocks, _ = _FILE_SIZE.unpack(raw_file_size)
        inode = self._inodes.get(iatt.ia_gfid)
        if inode is None:
            inode = _Inode(block_size, size, blocks)
            self._inodes[iatt.ia_gfid] = inode
        inode.block_size, inode.size, inode.blocks = block_size, size, blocks
        inode.base_blocks = iatt.ia_blocks
        inode.mode = iatt.mode & 0o7777
        inode.stat = dataclasses.replace(iatt, ia_size=size, ia_blocks=blocks)
        return inode.stat

    def _state(self, fd: Fd) -> _ShardFd | None:
        state = fd.ctx.get(self)
        return state if isinstance(state, _ShardFd) else None

    @staticmethod
    def _shard_loc(base_gfid: bytes, block: int) -> Loc:
        # shard.c shard_make_block_abspath: "<gfid text>.<N>" in /.shard.
        name = f"{uuid.UUID(bytes=base_gfid)}.{block}"
        return Loc(f"/.shard/{name}", SHARD_DIR_GFID, name)

    def _pieces(
        self, inode: _Inode, offset: int, length: int
    ) -> list[tuple[int, int, int, int]]:
        """(block, offset in block, length, offset in request) per piece."""
        bs = inode.block_size
        pieces = []
        pos = offset
        end = offset + length
        while pos < end:
            block, inner = divmod(pos, bs)
            size = min(bs - inner, end - pos)
            pieces.append((block, inner, size, pos - offset))
            pos += size
        return pieces

    async def _ensure_dir(self, loc: Loc, mode: int = 0o755) -> None:
        try:
            await self.child.lookup(loc)
        except FopError as exc:
            if exc.errno != errno.ENOENT:
                raise
            try:
                await self.child.mkdir(loc, mode)
            except FopError as mkdir_error:
                if mkdir_error.errno != errno.EEXIST:
                    raise
            await self.child.lookup(loc)

    async def _ensure_shard_dir(self) -> None:
        if self._dir_ready:
            return
        async with self._dir_lock:
            if not self._dir_ready:
                await self._ensure_dir(SHARD_DIR)
                self._dir_ready = True

    async def _have_shard_dir(self, *, create: bool) -> bool:
        """Whether ``/.shard`` exists, making it first if ``create``.

        A fresh volume has none until the first shard is written (shard.c
        shard_mkdir_internal_dir). Until then a lookup *in* it, by its gfid,
        fails with ESTALE on every brick (the parent cannot be resolved), not
        ENOENT; so look the directory itself up first: absent, there are no
        shards, and every block past the first is a hole.
        """
        if self._dir_ready:
            return True
        if create:
            await self._ensure_shard_dir()
            return True
        try:
            await self.child.lookup(SHARD_DIR)
        except FopError as exc:
            if exc.errno != errno.ENOENT:
                raise
            return False
        self._dir_ready = True
        return True

    async def _shard_fd(
        self, fd: Fd, state: _ShardFd, block: int, *, create: bool
    ) -> Fd | None:
        """The open fd of shard ``block``; None if it is missing and not ``create``."""
        if block == 0:
            return fd
        cached = state.shards.get(block)
        if cached is not None:
            state.shards.move_to_end(block)
            return cached
        lock = state.locks.setdefault(block, trio.Lock())
        async with lock:
            cached = state.shards.get(block)
            if cached is not None:
                return cached
            if not await self._have_shard_dir(create=create):
                return None
            loc = self._shard_loc(fd.gfid, block)
            # The base's access mode and O_DIRECT (sent with each READ/WRITE
            # of an anonymous fd), nothing else.
            flags = fd.flags & (_ACCMODE | GfOpenFlags.DIRECT)
            try:
                iatt, _ = await self.child.lookup(loc)
            except FopError as exc:
                if exc.errno != errno.ENOENT or not create:
                    if exc.errno == errno.ENOENT:
                        return None
                    raise
                shard_fd, blocks = await self._create_shard(loc, state, flags)
            else:
                # Anonymous, as shard.c winds its shard fops: nothing held
                # open on the bricks, so a shard another client unlinks is
                # noticed (ESTALE), not read on through our open fd.
                shard_fd = await self.child.open_anonymous(
                    loc.with_gfid(iatt.ia_gfid), flags
                )
                blocks = iatt.ia_blocks
            state.shard_blocks[block] = blocks
            state.shards[block] = shard_fd
            return shard_fd

    async def _on_shard(
        self,
        fd: Fd,
        state: _ShardFd,
        block: int,
        call: Callable[[Fd], Awaitable[T]],
        *,
        create: bool,
    ) -> T | None:
        """``call`` on shard ``block``'s fd; None if it is a hole (not made).

        The shard's gfid was looked up earlier: if another client has since
        unlinked the shard (its truncate or unlink; maybe made a new one),
        the brick answers ESTALE or ENOENT for the old gfid. Forget it and
        look the name up again, once: a hole now, or the new shard.
        """
        for retry in (False, True):
            async with self._open_shard(fd, state, block, create=create) as target:
                if target is None:
                    return None
                try:
                    return await call(target)
                except FopError as exc:
                    gone = exc.errno in (errno.ESTALE, errno.ENOENT)
                    if retry or block == 0 or not gone:
                        raise
            log.debug(
                "%s: shard %d of %s is gone; looking it up again",
                self.name,
                block,
                fd.loc.path,
            )
            await self._forget_shard(state, block, target)
        raise AssertionError("unreachable: the retry returns or raises")

    async def _seek_in(self, target: Fd, *, inner: int, what: int) -> int:
        return await self.child.seek(target, inner, what)

    async def _forget_shard(self, state: _ShardFd, block: int, target: Fd) -> None:
        """Drop the cached fd of a shard found gone (once, if still cached)."""
        if state.shards.get(block) is not target:
            return  # another fop on it found it gone first
        del state.shards[block]
        state.shard_blocks.pop(block, None)  # it held nothing now
        with trio.CancelScope(shield=True):
            await self.child.release(target)

    @asynccontextmanager
    async def _open_shard(
        self, fd: Fd, state: _ShardFd, block: int, *, create: bool
    ) -> AsyncIterator[Fd | None]:
        """The open fd of shard ``block`` (see :meth:`_shard_fd`), kept open
        while the body uses it."""
        target = await self._shard_fd(fd, state, block, create=create)
        if target is None or block == 0:
            yield target
            return
        async with self._using(state, [block]):
            yield target

    @asynccontextmanager
    async def _using(self, state: _ShardFd, blocks: list[int]) -> AsyncIterator[None]:
        """Mark the open fds of ``blocks`` in use for the body, then close the
        least recently used idle ones past :data:`OPEN_SHARDS`."""
        for block in blocks:
            state.users[block] = state.users.get(block, 0) + 1
        try:
            yield
        finally:
            for block in blocks:
                count = state.users[block] - 1
                if count:
                    state.users[block] = count
                else:
                    del state.users[block]
            with trio.CancelScope(shield=True):
                while len(state.shards) > OPEN_SHARDS:
                    idle = next((b for b in state.shards if b not in state.users), None)
                    if idle is None:
                        break  # all in use: closed once their fops are done
                    await self.child.release(state.shards.pop(idle))

    async def _create_shard(
        self, loc: Loc, state: _ShardFd, flags: int
    ) -> tuple[Fd, int]:
        await self._ensure_shard_dir()
        make = int(GfOpenFlags.RDWR | GfOpenFlags.CREAT | GfOpenFlags.EXCL)
        try:
            # Same permissions as the base file (shard.c uses its mode).
            shard_fd, iatt = await self.child.create(
                loc.with_gfid(uuid.uuid4().bytes), make, 0o100000 | state.inode.mode
            )
        except FopError as exc:
            if exc.errno != errno.EEXIST:
                raise
            # Another writer made it first: use theirs.
            iatt, _ = await self.child.lookup(loc)
        else:
            # shard.c makes shards with MKNOD and no fd; CREATE's fd is
            # closed again, and the shard used anonymously like any other.
            await self.child.release(shard_fd)
        return (
            await self.child.open_anonymous(
                loc.with_gfid(iatt.ia_gfid),
                int(GfOpenFlags.RDWR | (flags & GfOpenFlags.DIRECT)),
            ),
            iatt.ia_blocks,
        )

    def _account(
        self,
        state: _ShardFd,
        block: int,
        post_blocks: int,
        *,
        allow_shrink: bool = False,
    ) -> None:
        """Add the change in a shard's allocation to the pending delta."""
        known = state.shard_blocks.get(
            block, state.inode.base_blocks if block == 0 else 0
        )
        delta = post_blocks - known
        if delta < 0 and not allow_shrink:
            # A reply overtaken by a later one: allocation only grows on write.
            return
        state.pending_blocks += delta
        if block == 0:
            state.inode.base_blocks = post_blocks
        else:
            state.shard_blocks[block] = post_blocks

    async def _flush_deltas(self, fd: Fd, state: _ShardFd) -> None:
        """One ADD_ARRAY64 on the base with the pending size/block deltas."""
        size_delta, block_delta = state.pending_size, state.pending_blocks
        if not size_delta and not block_delta:
            return
        state.pending_size = state.pending_blocks = 0
        values = {
            FILE_SIZE_XATTR: DictValue.ptr(
                _FILE_SIZE.pack(size_delta, 0, block_delta, 0)
            )
        }
        result = await self.child.xattrop(fd.loc, XattropFlags.ADD_ARRAY64, values)
        raw = _ptr_bytes(result, FILE_SIZE_XATTR)
        if raw is not None and len(raw) == _FILE_SIZE.size:
            # The brick answers the new absolute values: the truth, counting
            # other writers' deltas too.
            size, _, blocks, _ = _FILE_SIZE.unpack(raw)
            state.inode.size, state.inode.blocks = size, blocks

    # --- entries ------------------------------------------------------------------

    async def lookup(self, loc: Loc, xdata: Xdata = None) -> tuple[GfxIattx, Xdata]:
        ask = dict(xdata or {})
        ask.update(self._lookup_keys())
        iatt, reply = await self.child.lookup(loc, ask)
        return self._learn(iatt, reply), reply

    async def create(
        self, loc: Loc, flags: int, mode: int, umask: int = 0, xdata: Xdata = None
    ) -> tuple[Fd, GfxIattx]:
        # Both xattrs in the CREATE itself, atomically (shard_create).
        extra = dict(xdata or {})
        extra[BLOCK_SIZE_XATTR] = DictValue.ptr(_U64.pack(self.block_size))
        extra[FILE_SIZE_XATTR] = DictValue.ptr(bytes(_FILE_SIZE.size))
        fd, iatt = await self.child.create(loc, flags, mode, umask, extra)
        inode = _Inode(self.block_size, 0, 0, iatt.ia_blocks, iatt.mode & 0o7777)
        self._inodes[iatt.ia_gfid] = inode
        fd.ctx[self] = _ShardFd(inode)
        return fd, dataclasses.replace(iatt, ia_size=0, ia_blocks=0)

    async def unlink(self, loc: Loc, xdata: Xdata = None) -> None:
        iatt, _ = await self.lookup(loc)
        inode = self._inodes.get(iatt.ia_gfid)
        if inode is None:
            await self.child.unlink(loc)
            return
        base_gfid = iatt.ia_gfid
        last = (inode.size - 1) // inode.block_size if inode.size else 0
        marker = None
        if last >= 1:
            # The deletion marker first (shard_unlink_base_file_cbk's
            # .remove_me entry): whoever finds it after a crash cleans up.
            await self._ensure_shard_dir()
            await self._ensure_dir(REMOVE_ME_DIR)
            name = str(uuid.UUID(bytes=base_gfid))
            marker = Loc(f"{REMOVE_ME_DIR.path}/{name}", REMOVE_ME_GFID, name)
            values = {
                BLOCK_SIZE_XATTR: DictValue.ptr(_U64.pack(inode.block_size)),
                FILE_SIZE_XATTR: DictValue.ptr(
                    _FILE_SIZE.pack(inode.size, 0, inode.blocks, 0)
                ),
            }
            try:
                marker_fd, _ = await self.child.create(
                    marker.with_gfid(uuid.uuid4().bytes),
                    int(GfOpenFlags.CREAT | GfOpenFlags.EXCL | GfOpenFlags.RDWR),
                    0o100644,
                    xdata=values,
                )
                await self.child.release(marker_fd)
            except FopError as exc:
                if exc.errno != errno.EEXIST:
                    raise
        await self.child.unlink(loc)
        self._inodes.pop(base_gfid, None)
        await self._unlink_shards(base_gfid, 1, last)
        if marker is not None:
            try:
                await self.child.unlink(marker)
            except FopError as exc:
                if exc.errno != errno.ENOENT:
                    raise

    async def _unlink_shards(self, base_gfid: bytes, first: int, last: int) -> int:
        """Unlink shards first..last that exist; return the blocks they held."""
        freed = 0
        limiter = trio.CapacityLimiter(16)

        async def one(block: int) -> None:
            nonlocal freed
            loc = self._shard_loc(base_gfid, block)
            async with limiter:
                try:
                    iatt, _ = await self.child.lookup(loc)
                    await self.child.unlink(loc.with_gfid(iatt.ia_gfid))
                except FopError as exc:
                    if exc.errno != errno.ENOENT:
                        raise
                    return
            freed += iatt.ia_blocks

        if last >= first and await self._have_shard_dir(create=False):
            await run_all(
                functools.partial(one, block) for block in range(first, last + 1)
            )
        return freed

    # --- open files ----------------------------------------------------------------

    async def open(self, loc: Loc, flags: int, xdata: Xdata = None) -> Fd:
        fd = await self.child.open(loc, flags, xdata)
        if fd.gfid not in self._inodes:
            await self.lookup(loc)
        inode = self._inodes.get(fd.gfid)
        if inode is not None:
            fd.ctx[self] = _ShardFd(inode)
        return fd

    async def _refresh(self, fd: Fd, state: _ShardFd) -> GfxIattx:
        iatt, reply = await self.child.lookup(
            Loc(fd.loc.path, None, "", fd.gfid), self._lookup_keys()
        )
        return self._learn(iatt, reply)

    async def fstat(self, fd: Fd, xdata: Xdata = None) -> GfxIattx:
        state = self._state(fd)
        if state is None:
            return await self.child.fstat(fd, xdata)
        return await self._refresh(fd, state)

    async def readv(
        self, fd: Fd, offset: int, size: int, into: ReadInto = None, xdata: Xdata = None
    ) -> tuple[memoryview, GfxIattx]:
        state = self._state(fd)
        if state is None:
            return await self.child.readv(fd, offset, size, into, xdata)
        iatt = state.inode.stat
        if iatt is None or offset + size > state.inode.size:
            # Within the size we know, no lookup: shard_readv trusts its
            # inode context the same way. Past it, ask: another client may
            # have grown the file. (Its truncates are seen at the next
            # lookup: fstat, open, or a read past the end.)
            iatt = await self._refresh(fd, state)
        length = max(0, min(size, state.inode.size - offset))
        out = bytearray(length)

        async def read(block: int, inner: int, count: int, at: int) -> None:
            got = await self._on_shard(
                fd,
                state,
                block,
                lambda target: self.child.readv(target, inner, count),
                create=False,
            )
            if got is None:
                return  # a missing shard is a hole: zeros (out is zeroed)
            # A shard shorter than the range is sparse at its end: zeros too.
            out[at : at + len(got[0])] = got[0]

        await run_all(
            functools.partial(read, *piece)
            for piece in self._pieces(state.inode, offset, length)
        )
        return memoryview(out), iatt

    async def _write_like(
        self,
        fd: Fd,
        offset: int,
        length: int,
        op: str,
        data: bytes | memoryview | None = None,
    ) -> GfxIattx:
        state = self._state(fd)
        assert state is not None
        inode = state.inode
        results: list[GfxIattx] = []

        async def one(target: Fd, inner: int, count: int, at: int) -> GfxIattx:
            if op == "WRITE":
                assert data is not None
                return await self.child.writev(target, inner, data[at : at + count])
            if op == "ZEROFILL":
                return await self.child.zerofill(target, inner, count)
            return await self.child.discard(target, inner, count)

        async def piece(block: int, inner: int, count: int, at: int) -> None:
            post = await self._on_shard(
                fd,
                state,
                block,
                lambda target: one(target, inner, count, at),
                create=op != "DISCARD",
            )
            if post is None:
                return  # discarding a hole: nothing to do
            self._account(state, block, post.ia_blocks, allow_shrink=op == "DISCARD")
            results.append(post)

        await run_all(
            functools.partial(piece, *args)
            for args in self._pieces(inode, offset, length)
        )
        if op != "DISCARD":
            end = offset + length
            grow = max(0, end - inode.size - state.pending_size)
            state.pending_size += grow
        if state.sessions == 0:
            await self._flush_deltas(fd, state)
        base = results[0] if results else await self.child.fstat(fd)
        return dataclasses.replace(
            base,
            ia_size=inode.size + state.pending_size,
            ia_blocks=inode.blocks + state.pending_blocks,
        )

    async def writev(
        self, fd: Fd, offset: int, data: bytes | memoryview, xdata: Xdata = None
    ) -> GfxIattx:
        if self._state(fd) is None:
            return await self.child.writev(fd, offset, data, xdata)
        return await self._write_like(fd, offset, len(data), "WRITE", data)

    async def zerofill(
        self, fd: Fd, offset: int, length: int, xdata: Xdata = None
    ) -> GfxIattx:
        if self._state(fd) is None:
            return await self.child.zerofill(fd, offset, length, xdata)
        return await self._write_like(fd, offset, length, "ZEROFILL")

    async def discard(
        self, fd: Fd, offset: int, length: int, xdata: Xdata = None
    ) -> GfxIattx:
        state = self._state(fd)
        if state is None:
            return await self.child.discard(fd, offset, length, xdata)
        # Never past the logical end: that would allocate nothing, but shards
        # beyond it must not be created.
        length = max(0, min(length, state.inode.size - offset))
        return await self._write_like(fd, offset, length, "DISCARD")

    async def fallocate(
        self, fd: Fd, mode: int, offset: int, length: int, xdata: Xdata = None
    ) -> GfxIattx:
        state = self._state(fd)
        if state is None:
            return await self.child.fallocate(fd, mode, offset, length, xdata)
        results: list[GfxIattx] = []

        async def piece(block: int, inner: int, count: int, at: int) -> None:
            post = await self._on_shard(
                fd,
                state,
                block,
                lambda target: self.child.fallocate(target, mode, inner, count),
                create=True,
            )
            assert post is not None  # made if missing
            self._account(state, block, post.ia_blocks)
            results.append(post)

        await run_all(
            functools.partial(piece, *args)
            for args in self._pieces(state.inode, offset, length)
        )
        if not mode & 0x01:  # FALLOC_FL_KEEP_SIZE unset: the size grows
            state.pending_size += max(
                0, offset + length - state.inode.size - state.pending_size
            )
        await self._flush_deltas(fd, state)
        return dataclasses.replace(
            results[0], ia_size=state.inode.size, ia_blocks=state.inode.blocks
        )

    async def ftruncate(self, fd: Fd, size: int, xdata: Xdata = None) -> GfxIattx:
        state = self._state(fd)
        if state is None:
            return await self.child.ftruncate(fd, size, xdata)
        await self._flush_deltas(fd, state)
        iatt = await self._refresh(fd, state)
        inode = state.inode
        old = inode.size
        if size < old:
            bs = inode.block_size
            old_last = (old - 1) // bs
            new_last = (size - 1) // bs if size else 0
            # Close what we hold open past the end, then unlink those shards.
            for block in [b for b in state.shards if b > new_last]:
                await self.child.release(state.shards.pop(block))
            freed = await self._unlink_shards(fd.gfid, new_last + 1, old_last)
            for block in range(new_last + 1, old_last + 1):
                state.shard_blocks.pop(block, None)
            state.pending_blocks -= freed
            inner = size - new_last * bs
            if new_last == 0:
                post = await self.child.ftruncate(fd, min(inner, bs))
                self._account(state, 0, post.ia_blocks, allow_shrink=True)
            else:
                cut = await self._on_shard(
                    fd,
                    state,
                    new_last,
                    lambda target: self.child.ftruncate(target, inner),
                    create=False,
                )
                if cut is not None:
                    self._account(state, new_last, cut.ia_blocks, allow_shrink=True)
        state.pending_size += size - old
        await self._flush_deltas(fd, state)
        return dataclasses.replace(iatt, ia_size=inode.size, ia_blocks=inode.blocks)

    async def seek(self, fd: Fd, offset: int, what: int, xdata: Xdata = None) -> int:
        state = self._state(fd)
        if state is None:
            return await self.child.seek(fd, offset, what, xdata)
        await self._refresh(fd, state)
        inode = state.inode
        bs = inode.block_size
        if offset >= inode.size:
            raise FopError("SEEK", fd.loc.path, None, errno.ENXIO, xlator=self.name)
        block = offset // bs
        last = (inode.size - 1) // bs
        position = offset
        while block <= last:
            block_start = block * bs
            block_end = min(block_start + bs, inode.size)
            inner = position - block_start
            # None: the shard is missing; -1: no data after inner in it.
            found: int | None = None
            try:
                at = await self._on_shard(
                    fd,
                    state,
                    block,
                    functools.partial(self._seek_in, inner=inner, what=what),
                    create=False,
                )
            except FopError as exc:
                if exc.errno != errno.ENXIO:
                    raise
                found = -1
            else:
                found = None if at is None else block_start + at
            if found is None or found < 0:
                # The rest of this piece is a hole (its file may end before
                # the block does).
                if what == SeekWhat.HOLE:
                    return position
            elif found < block_end:
                return found
            # Otherwise data runs to the end of this block: keep looking.
            block += 1
            position = block * bs
        if what == SeekWhat.HOLE:
            return inode.size  # the virtual hole at the end of the file
        raise FopError("SEEK", fd.loc.path, None, errno.ENXIO, xlator=self.name)

    async def flush(self, fd: Fd, xdata: Xdata = None) -> None:
        state = self._state(fd)
        if state is not None:
            await self._flush_deltas(fd, state)
        await self.child.flush(fd, xdata)

    async def fsync(self, fd: Fd, datasync: bool = False, xdata: Xdata = None) -> None:
        state = self._state(fd)
        if state is not None:
            await self._flush_deltas(fd, state)
            blocks = list(state.shards)
            async with self._using(state, blocks):
                for block in blocks:
                    await self.child.fsync(state.shards[block], datasync)
        await self.child.fsync(fd, datasync, xdata)

    async def release(self, fd: Fd, xdata: Xdata = None) -> None:
        state = fd.ctx.pop(self, None)
        if isinstance(state, _ShardFd):
            with trio.CancelScope(shield=True):
                try:
                    await self._flush_deltas(fd, state)
                except FopError as exc:
                    log.warning(
                        "%s: size update of %s failed: %s", self.name, fd.loc.path, exc
                    )
                for shard_fd in state.shards.values():
                    await self.child.release(shard_fd)
        await self.child.release(fd, xdata)

    def holders(self, fd: Fd) -> list[Xlator]:
        return self.child.holders(fd)

    @asynccontextmanager
    async def _session(self, fd: Fd) -> AsyncIterator[None]:
        state = self._state(fd)
        if state is None:
            async with self.child.transaction(fd):
                yield
            return
        state.sessions += 1
        try:
            yield
        finally:
            state.sessions -= 1
            if state.sessions == 0:
                with trio.CancelScope(shield=True):
                    await self._flush_deltas(fd, state)

    def transaction(self, fd: Fd) -> AbstractAsyncContextManager[None]:
        """Collect the size/allocation deltas of the writes inside into one update."""
        return self._session(fd)
