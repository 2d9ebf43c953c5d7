"""``cluster/disperse``: images erasure-coded over a set of bricks.

A disperse set of ``n`` bricks with redundancy ``r`` stores each stripe of
``k = n - r`` chunks of 512 bytes as one 512-byte fragment per brick
(:mod:`pygluster.erasure`); any ``k`` fragments give the stripe back, so the
file survives ``r`` lost bricks. The brick files hold fragments (a brick
file's size is 512 bytes per stripe), and the file's real size and the
state of each brick's copy live in xattrs (docs/topology.md §4.2, ec.h):

* ``trusted.ec.size``: the file's size (big-endian u64);
* ``trusted.ec.version``: [data, metadata] update counts (2 x u64): a brick
  that missed an update has lower ones and is not read;
* ``trusted.ec.dirty``: [data, metadata], non-zero while an update runs
  and left non-zero when a brick missed it (that queues the heal);
* ``trusted.ec.config``: the geometry, checked against the volfile's.

Every data fop runs in a transaction, as ec-common.c's do: a whole-file
inode lock in this translator's domain on every brick (:class:`LockAll`,
never deadlocking another client), a pre-op FXATTROP (ADD_ARRAY64) that
reads every brick's version and size (and, for updates, marks it dirty),
the fop on the bricks whose answers agree (the *good* bricks, at least
``k``), then a post-op that raises the version, adds the size change and
clears dirty where every brick took part, and the unlock. Writes that do
not cover whole stripes read the partial stripes first (read-modify-write).
A write-behind session (:meth:`transaction`) holds one transaction for all
its writes, gluster's eager lock in its simplest form.

Within one client, fops that touch the same stripes run one at a time (a
read must not decode half-rewritten fragments, and two read-modify-writes of
one stripe must not lose either write).
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import logging
import struct
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, TypeVar

import trio

from pygluster.erasure import CHUNK_SIZE, ErasureCode
from pygluster.errors import (
    ErasureCodeError,
    FopError,
    QuorumError,
    TransportError,
    UnsupportedVolume,
)
from pygluster.rpc.fops import (
    DictValue,
    GfOpenFlags,
    LkCmd,
    LkType,
    SeekWhat,
    XattropFlags,
)
from pygluster.xlators.base import (
    INODELK_DOM_COUNT,
    Fd,
    Flock,
    InodelkContention,
    Loc,
    Xlator,
    iatt_is_reg,
    xlator_type,
)
from pygluster.xlators.cluster import (
    ChildFailure,
    EagerLocks,
    EagerTransaction,
    LockAll,
    fan_out,
    first_error,
    successes,
    super_fast_hash,
)
from pygluster.xlators.options import parse_bool_option

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
    from contextlib import AbstractAsyncContextManager

    from pygluster.rpc.fops import GfDict, GfStatfs, GfxIattx, Xdata
    from pygluster.volfile import Xlator as VolfileXlator
    from pygluster.xlators.base import BuildContext, ReadInto

__all__ = ["DisperseXlator", "config_value"]

log = logging.getLogger("pygluster.disperse")

T = TypeVar("T")

#: ec-messages.h / ec.h EC_XATTR_*.
EC_SIZE = "trusted.ec.size"
EC_VERSION = "trusted.ec.version"
EC_DIRTY = "trusted.ec.dirty"
EC_CONFIG = "trusted.ec.config"
_U64 = struct.Struct(">Q")
_PAIR = struct.Struct(">QQ")
_SIGNED_PAIR = struct.Struct(">qq")
_SIGNED = struct.Struct(">q")
#: ec.h EC_CONFIG_VERSION / EC_CONFIG_ALGORITHM (the non-systematic matrix)
#: and the word size in bits of GF(2^8).
_CONFIG_VERSION = 0
_CONFIG_ALGORITHM = 0
_GF_WORD_SIZE = 8
#: posix_xattr_fill GF_GET_SIZE: the reply also carries the brick file's size.
_GET_SIZE: Final = {"get-size": DictValue.int(1)}
#: An eager lock is let go after this long even if no other client said it
#: waits (a brick that sends no contention notice), as replicate's.
_EAGER_MAX_SECONDS = 30.0
#: fallocate(2) FALLOC_FL_KEEP_SIZE.
_FALLOC_KEEP_SIZE = 0x01
#: ZEROFILL is written as zeros, this many bytes at a time.
_ZERO_PIECE = 4 * 1024 * 1024
#: Largest READ or WRITE per brick; larger fops are split (every brick
#: gets the same share of each piece, so a piece is whole stripes).
_MAX_BRICK_IO = 1024 * 1024


def config_value(bricks: int, redundancy: int) -> bytes:
    """``trusted.ec.config`` for a set (ec-helpers.c ec_dict_set_config):
    version, algorithm, word size, bricks and redundancy one byte each,
    then the chunk size in 24 bits, big-endian."""
    return bytes(
        [_CONFIG_VERSION, _CONFIG_ALGORITHM, _GF_WORD_SIZE, bricks, redundancy]
    ) + CHUNK_SIZE.to_bytes(3, "big")


def _u64(values: Xdata, key: str) -> int | None:
    value = (values or {}).get(key)
    raw = value.value if value is not None else None
    if isinstance(raw, bytes) and len(raw) == _U64.size:
        number: int = _U64.unpack(raw)[0]
        return number
    return None


def _pair(values: Xdata, key: str) -> tuple[int, int]:
    value = (values or {}).get(key)
    raw = value.value if value is not None else None
    if isinstance(raw, bytes) and len(raw) == _PAIR.size:
        data, metadata = _PAIR.unpack(raw)
        return data, metadata
    if isinstance(raw, bytes) and len(raw) == _U64.size:
        # Old files keep one counter for both (ec_dict_get_array's short form).
        (both,) = _U64.unpack(raw)
        return both, both
    return 0, 0


@dataclass(frozen=True, slots=True)
class _CopyState:
    """What one brick's pre-op (or lookup) answer says about its copy."""

    version: tuple[int, int]
    size: int


@dataclass
class _FdState:
    """Per-fd state: the children it is open on, the session transaction."""

    opened: set[int] = field(default_factory=set)
    #: The transaction a transaction() block holds (eager locking off).
    session: _Transaction | None = None
    #: The eager transaction fops join (eager locking on).
    eager: _Transaction | None = None
    #: Stripe ranges [start, end) in use by fops of this client on the file.
    busy: list[tuple[int, int]] = field(default_factory=list)
    changed: trio.Event = field(default_factory=trio.Event)
    #: The brick reads start from (read-policy gfid-hash), once computed.
    first_read: int | None = None


@xlator_type("cluster/disperse")
class DisperseXlator(Xlator):
    """The ``cluster/disperse`` translator over its bricks."""

    def __init__(
        self,
        name: str,
        children: Sequence[Xlator],
        options: Mapping[str, str],
        volume: str,
        nursery: trio.Nursery | None = None,
    ) -> None:
        super().__init__(name, list(children))
        try:
            redundancy = int(options.get("redundancy", "") or -1)
            self.code = ErasureCode(len(children), redundancy)
        except (ValueError, ErasureCodeError) as exc:
            raise UnsupportedVolume(
                volume, name, f"cluster/disperse with {len(children)} bricks: {exc}"
            ) from exc
        self.volume = volume
        self.redundancy = redundancy
        #: k: bricks needed to read or write anything.
        self.fragments = self.code.data_fragments
        self.stripe = self.code.stripe_size
        # ec.c: quorum-count raises the bricks a write needs above k.
        self.minimum = max(self.fragments, int(options.get("quorum-count", "0") or 0))
        self.config = config_value(len(children), redundancy)
        # ec.c: eager-lock on, eager-lock-timeout 1 s. It needs a task to
        # hold the lock in; a bare translator (unit tests) locks per fop.
        self.eager_timeout = float(options.get("eager-lock-timeout", "1") or 1)
        #: The eager transactions (None: a transaction per fop or session).
        self._eager: EagerLocks[_Transaction] | None = None
        if parse_bool_option(options, "eager-lock", True) and nursery is not None:
            self._eager = EagerLocks(
                name, nursery, self.eager_timeout, max_seconds=_EAGER_MAX_SECONDS
            )
        # glusterfs.h GLUSTERFS_INODELK_DOM_COUNT: the WRITE replies say how
        # many inode locks this domain has (ec_lock_reuse reads it).
        self._lock_count_request: GfDict = {
            INODELK_DOM_COUNT: DictValue.str(name.encode())
        }

    @classmethod
    def from_volfile(
        cls, node: VolfileXlator, children: list[Xlator], context: BuildContext
    ) -> Xlator:
        return cls(
            node.name, children, dict(node.options), context.volume, context.nursery
        )

    @property
    def eager_lock(self) -> bool:
        """Whether fops hold their lock past themselves (see EagerLocks)."""
        return self._eager is not None

    def __repr__(self) -> str:
        return f"DisperseXlator({self.name!r}, {self.fragments}+{self.redundancy})"

    # --- children -------------------------------------------------------------------

    def _brick(self, index: int) -> str:
        return str(self.children[index])

    def _up(self) -> list[int]:
        return [i for i, child in enumerate(self.children) if child.is_up]

    @property
    def is_up(self) -> bool:
        return len(self._up()) >= self.fragments

    async def _each(
        self, indexes: Sequence[int], call: Callable[[int, Xlator], Awaitable[T]]
    ) -> dict[int, T | ChildFailure]:
        """``call(index, child)`` on the given children concurrently."""
        by_child = {id(self.children[i]): i for i in indexes}
        return await fan_out(self.children, indexes, lambda c: call(by_child[id(c)], c))

    def _quorum_error(
        self, fop: str, target: str, have: Sequence[int], need: int
    ) -> QuorumError:
        return QuorumError(
            fop,
            target,
            self.name,
            [self._brick(i) for i in sorted(have)],
            f"at least {need} of {len(self.children)} "
            f"(disperse {self.fragments}+{self.redundancy})",
        )

    def _require(
        self, indexes: Sequence[int], need: int, fop: str, target: str
    ) -> None:
        if len(set(indexes)) < need:
            raise self._quorum_error(fop, target, indexes, need)

    def _state(self, fd: Fd) -> _FdState:
        state = fd.ctx.get(self)
        if not isinstance(state, _FdState):
            raise FopError("FD", fd.loc.path, None, errno.EBADF, xlator=self.name)
        return state

    def _with_size(self, iatt: GfxIattx, size: int) -> GfxIattx:
        """A brick's iatt with the file's size (bricks hold fragments)."""
        if not iatt_is_reg(iatt):
            return iatt
        return dataclasses.replace(
            iatt, ia_size=size, ia_blocks=iatt.ia_blocks * self.fragments
        )

    # --- entries --------------------------------------------------------------------

    def _good(
        self, answers: Mapping[int, _CopyState], fop: str, target: str
    ) -> tuple[list[int], _CopyState]:
        """The bricks whose copies agree, and what they say: the largest
        group of equal (version, size) answers, of at least k bricks
        (ec_combine); ties go to the newer version."""
        groups: dict[_CopyState, list[int]] = {}
        for index, state in sorted(answers.items()):
            groups.setdefault(state, []).append(index)
        if not groups:
            raise self._quorum_error(fop, target, [], self.fragments)
        state, members = max(
            groups.items(), key=lambda item: (len(item[1]), item[0].version)
        )
        if len(members) < self.fragments:
            raise FopError(
                fop,
                target,
                None,
                errno.EIO,
                xlator=self.name,
                detail=(
                    f"no {self.fragments} bricks agree on the file's version and "
                    f"size: {self._describe(answers)}"
                ),
            )
        return members, state

    def _describe(self, answers: Mapping[int, _CopyState]) -> str:
        return ", ".join(
            f"{self._brick(i)} version {s.version[0]}/{s.version[1]} size {s.size}"
            for i, s in sorted(answers.items())
        )

    async def lookup(self, loc: Loc, xdata: Xdata = None) -> tuple[GfxIattx, Xdata]:
        ask = dict(xdata or {})
        # ec_manager_lookup: the brick returns these xattrs with the iatt.
        ask[EC_SIZE] = DictValue.uint(0)
        ask[EC_VERSION] = DictValue.uint(0)
        ask[EC_DIRTY] = DictValue.uint(0)
        up = self._up()
        results = await self._each(up, lambda _, c: c.lookup(loc, ask))
        found = successes(results)
        if len(found) < self.fragments:
            answered = [
                i
                for i, r in results.items()
                if not isinstance(r, ChildFailure)
                or r.errno not in (None, errno.ENOTCONN)
            ]
            error = first_error(results)
            if error is not None and len(answered) >= self.fragments:
                raise error
            raise self._quorum_error("LOOKUP", loc.path, list(found), self.fragments)
        first = next(iter(found.values()))
        if not iatt_is_reg(first[0]):
            return first
        answers = {
            i: _CopyState(_pair(x, EC_VERSION), _u64(x, EC_SIZE) or 0)
            for i, (_, x) in found.items()
        }
        good, state = self._good(answers, "LOOKUP", loc.path)
        iatt, reply = found[good[0]]
        return self._with_size(iatt, state.size), reply

    def _check_config(self, answers: Mapping[int, Xdata], fop: str, path: str) -> None:
        """A copy made by a set of another geometry must not be decoded
        with ours (ec_config_check); a config of 0 means none yet."""
        for index, reply in answers.items():
            value = (reply or {}).get(EC_CONFIG)
            raw = value.value if value is not None else None
            if isinstance(raw, bytes) and raw not in (self.config, bytes(8)):
                raise FopError(
                    fop,
                    path,
                    self._brick(index),
                    errno.EIO,
                    xlator=self.name,
                    detail=(
                        f"its trusted.ec.config {raw.hex()} is not this set's "
                        f"{self.config.hex()}"
                    ),
                )

    async def create(
        self, loc: Loc, flags: int, mode: int, umask: int = 0, xdata: Xdata = None
    ) -> tuple[Fd, GfxIattx]:
        values = dict(xdata or {})
        # ec_create: the new copy carries the geometry, version 0 and size 0.
        values[EC_CONFIG] = DictValue.ptr(self.config)
        values[EC_VERSION] = DictValue.ptr(_PAIR.pack(0, 0))
        values[EC_SIZE] = DictValue.ptr(_U64.pack(0))
        up = self._up()
        self._require(up, self.minimum, "CREATE", loc.path)
        wanted = self._brick_flags(flags)
        results = await self._each(
            up, lambda _, c: c.create(loc, wanted, mode, umask, values)
        )
        done = successes(results)
        if len(done) < self.minimum:
            error = first_error(results)
            if error is not None and not done:
                raise error
            raise self._quorum_error("CREATE", loc.path, list(done), self.minimum)
        some_fd, iatt = next(iter(done.values()))
        fd = Fd(some_fd.loc, flags)
        for child_fd, _ in done.values():
            fd.ctx.update(child_fd.ctx)
        fd.ctx[self] = _FdState(set(done))
        return fd, self._with_size(iatt, 0)

    async def _everywhere(
        self, fop: str, target: str, call: Callable[[int, Xlator], Awaitable[T]]
    ) -> dict[int, T]:
        """An entry or directory fop on every brick up; at least the minimum
        must take it (the parent's changelog of ec's entry fops is left to
        gluster's heal, see the module notes)."""
        up = self._up()
        self._require(up, self.minimum, fop, target)
        results = await self._each(up, call)
        done = successes(results)
        if len(done) < self.minimum:
            error = first_error(results)
            if error is not None:
                raise error
            raise self._quorum_error(fop, target, list(done), self.minimum)
        return done

    async def mkdir(
        self, loc: Loc, mode: int, umask: int = 0, xdata: Xdata = None
    ) -> GfxIattx:
        done = await self._everywhere(
            "MKDIR", loc.path, lambda _, c: c.mkdir(loc, mode, umask, xdata)
        )
        return done[min(done)]

    async def rmdir(self, loc: Loc, xdata: Xdata = None) -> None:
        await self._everywhere("RMDIR", loc.path, lambda _, c: c.rmdir(loc, xdata))

    async def unlink(self, loc: Loc, xdata: Xdata = None) -> None:
        await self._everywhere("UNLINK", loc.path, lambda _, c: c.unlink(loc, xdata))

    async def setxattr(
        self, loc: Loc, values: GfDict, flags: int = 0, xdata: Xdata = None
    ) -> None:
        await self._everywhere(
            "SETXATTR", loc.path, lambda _, c: c.setxattr(loc, values, flags, xdata)
        )

    async def inodelk(
        self, loc: Loc, domain: str, cmd: int, flock: Flock, xdata: Xdata = None
    ) -> None:
        """Another translator's lock (DHT's layout lock) on every brick up."""
        await self._everywhere(
            "INODELK", loc.path, lambda _, c: c.inodelk(loc, domain, cmd, flock, xdata)
        )

    async def statfs(self, loc: Loc, xdata: Xdata = None) -> GfStatfs:
        results = await self._each(self._up(), lambda _, c: c.statfs(loc))
        stats = list(successes(results).values())
        if len(stats) < self.fragments:
            raise self._quorum_error("STATFS", loc.path, [], self.fragments)
        # ec_combine_statfs: the smallest brick, times k.
        least = min(stats, key=lambda s: s.bavail * s.frsize)
        k = self.fragments
        return dataclasses.replace(
            least,
            blocks=least.blocks * k,
            bfree=least.bfree * k,
            bavail=least.bavail * k,
        )

    # --- open files -----------------------------------------------------------------

    def _brick_flags(self, flags: int) -> int:
        """ec_open: fragments are read back to rewrite partial stripes, so a
        write-only open reads too; O_APPEND and O_TRUNC are done by us."""
        flags &= ~(GfOpenFlags.APPEND | GfOpenFlags.TRUNC)
        access = GfOpenFlags.WRONLY | GfOpenFlags.RDWR
        if flags & access == GfOpenFlags.WRONLY:
            flags = (flags & ~access) | GfOpenFlags.RDWR
        return flags

    async def open(self, loc: Loc, flags: int, xdata: Xdata = None) -> Fd:
        up = self._up()
        self._require(up, self.fragments, "OPEN", loc.path)
        wanted = self._brick_flags(flags)
        results = await self._each(up, lambda _, c: c.open(loc, wanted, xdata))
        opened = successes(results)
        fd = Fd(loc, flags)
        for child_fd in opened.values():
            fd.ctx.update(child_fd.ctx)
        fd.ctx[self] = _FdState(set(opened))
        if len(opened) < self.fragments:
            await self.release(fd)
            error = first_error(results)
            if error is not None and not opened:
                raise error
            raise self._quorum_error("OPEN", loc.path, list(opened), self.fragments)
        if flags & GfOpenFlags.TRUNC:
            await self.ftruncate(fd, 0)
        return fd

    async def open_anonymous(self, loc: Loc, flags: int) -> Fd:
        up = self._up()
        self._require(up, self.fragments, "OPEN", loc.path)
        fd = Fd(loc, flags)
        for index in up:
            child_fd = await self.children[index].open_anonymous(loc, flags)
            fd.ctx.update(child_fd.ctx)
        fd.ctx[self] = _FdState(set(up))
        return fd

    async def flush(self, fd: Fd, xdata: Xdata = None) -> None:
        await self._settle(fd)
        state = self._state(fd)
        await self._each(sorted(state.opened), lambda _, c: c.flush(fd))

    async def fsync(self, fd: Fd, datasync: bool = False, xdata: Xdata = None) -> None:
        await self._settle(fd)
        state = self._state(fd)
        results = await self._each(
            sorted(state.opened), lambda _, c: c.fsync(fd, datasync)
        )
        done = successes(results)
        if len(done) < self.fragments:
            error = first_error(results)
            if error is not None:
                raise error
            raise self._quorum_error("FSYNC", fd.loc.path, list(done), self.fragments)

    async def release(self, fd: Fd, xdata: Xdata = None) -> None:
        with trio.CancelScope(shield=True):
            await self._settle(fd)
        state = fd.ctx.pop(self, None)
        if not isinstance(state, _FdState):
            return
        with trio.CancelScope(shield=True):
            await self._each(sorted(state.opened), lambda _, c: c.release(fd))

    # --- transactions ---------------------------------------------------------------

    def transaction(self, fd: Fd) -> AbstractAsyncContextManager[None]:
        return self._session(fd)

    @asynccontextmanager
    async def _session(self, fd: Fd) -> AsyncIterator[None]:
        """Hold one update transaction for a burst of writes (write-behind's
        session): one lock and pre-op, one post-op and unlock."""
        if self.eager_lock:
            async with self._locked(fd, "WRITE", update=True):
                yield
            return
        state = self._state(fd)
        if state.session is not None:
            yield
            return
        txn = _Transaction(self, fd, state, "WRITE", update=True)
        await txn.begin()
        state.session = txn
        try:
            yield
        finally:
            state.session = None
            with trio.CancelScope(shield=True):
                await txn.end()

    @asynccontextmanager
    async def _locked(
        self, fd: Fd, fop: str, *, update: bool
    ) -> AsyncIterator[_Transaction]:
        """The transaction a fop runs in: the fd's eager one (joined, or
        begun and then held by a task of its own until idle), the session's,
        or one of its own."""
        state = self._state(fd)
        if self._eager is not None:
            begin = functools.partial(_Transaction, self, fd, state, fop, update=update)
            async with self._eager.use(state, begin) as txn:
                if update:
                    await txn.mark_dirty()
                yield txn
            return
        if state.session is not None and not state.session.broken:
            yield state.session
            return
        txn = _Transaction(self, fd, state, fop, update=update)
        await txn.begin()
        try:
            yield txn
        finally:
            with trio.CancelScope(shield=True):
                await txn.end()

    async def _settle(self, fd: Fd) -> None:
        """End the fd's eager transaction and wait until it has (flush,
        fsync and release make its updates whole on the bricks)."""
        state = fd.ctx.get(self)
        if isinstance(state, _FdState) and self._eager is not None:
            await self._eager.settle(state)

    def contended(self, fd: Fd) -> bool:
        state = fd.ctx.get(self)
        return isinstance(state, _FdState) and EagerLocks.contended(state)

    def upcall(self, event: object) -> None:
        if isinstance(event, InodelkContention) and event.domain == self.name:
            # Another client waits for our lock: let it go once the fops in
            # flight are done (ec_upcall -> ec_lock_release).
            if self._eager is not None:
                self._eager.contend(event.gfid)
            return
        super().upcall(event)

    @asynccontextmanager
    async def _stripes(
        self, state: _FdState, start: int, end: int
    ) -> AsyncIterator[None]:
        """Have the stripes [start, end) to ourselves within this client."""
        while any(s < end and start < e for s, e in state.busy):
            await state.changed.wait()
        entry = (start, end)
        state.busy.append(entry)
        try:
            yield
        finally:
            state.busy.remove(entry)
            state.changed.set()
            state.changed = trio.Event()

    def _aligned(self, offset: int, end: int) -> tuple[int, int]:
        stripe = self.stripe
        return offset - offset % stripe, -(-end // stripe) * stripe

    # --- reading --------------------------------------------------------------------

    async def _read_stripes(
        self, fd: Fd, txn: _Transaction, start: int, end: int
    ) -> bytes:
        """The data of whole stripes [start, end), decoded from k good
        bricks (another good brick stands in for one that fails)."""
        if end <= start:
            return b""
        k = self.fragments
        share = (end - start) // k
        at = start // k
        # read-policy gfid-hash (ec_select_first_by_read_policy): from
        # SuperFastHash(gfid) % n on, the next good bricks, wrapping round.
        good = [i for i in txn.good if i not in txn.failed]
        state = self._state(fd)
        if state.first_read is None:
            state.first_read = super_fast_hash(fd.gfid) % len(self.children)
        first = state.first_read
        order = sorted(good, key=lambda i: (i - first) % len(self.children))
        fragments: dict[int, bytes | bytearray | memoryview] = {}
        errors: list[str] = []
        candidates = iter(order)

        async def read_one(_: int, child: Xlator) -> bytes | bytearray | memoryview:
            if share <= _MAX_BRICK_IO:
                data, iatt = await child.readv(fd, at, share)
                txn.stat = iatt
                if len(data) == share:
                    return data  # decoded as it came (no copy)
                # Past the end of the brick file the stripes are zeros
                # (sparse), as ec_readv_rebuild pads them.
                return bytes(data) + bytes(share - len(data))
            parts = bytearray(share)
            for done in range(0, share, _MAX_BRICK_IO):
                size = min(_MAX_BRICK_IO, share - done)
                data, iatt = await child.readv(fd, at + done, size)
                txn.stat = iatt
                parts[done : done + len(data)] = data
            return parts

        while len(fragments) < k:
            batch = [
                i for _, i in zip(range(k - len(fragments)), candidates, strict=False)
            ]
            if not batch:
                raise FopError(
                    "READ",
                    fd.loc.path,
                    None,
                    errno.EIO,
                    xlator=self.name,
                    detail=f"fewer than {k} good bricks read: {'; '.join(errors)}",
                )
            results = await self._each(batch, read_one)
            for index, result in results.items():
                if isinstance(result, ChildFailure):
                    txn.failed.add(index)
                    errors.append(f"{self._brick(index)}: {result.error}")
                else:
                    fragments[index] = result
        return self.code.decode(fragments)

    async def readv(
        self, fd: Fd, offset: int, size: int, into: ReadInto = None, xdata: Xdata = None
    ) -> tuple[memoryview, GfxIattx]:
        state = self._state(fd)
        async with self._locked(fd, "READ", update=False) as txn:
            end = min(offset + size, txn.size)
            if end <= offset:
                return memoryview(b""), await self._finish(fd, txn, None)
            start, stop = self._aligned(offset, end)
            async with self._stripes(state, start, stop):
                data = await self._read_stripes(fd, txn, start, stop)
            iatt = await self._finish(fd, txn, None)
        return memoryview(data)[offset - start : end - start], iatt

    async def _fstat_good(self, fd: Fd, txn: _Transaction) -> GfxIattx:
        """A good brick's iatt, as the brick has it (fragment size)."""
        for index in txn.good:
            if index in txn.failed:
                continue
            try:
                iatt = await self.children[index].fstat(fd)
            except (FopError, TransportError):
                txn.failed.add(index)
                continue
            txn.stat = iatt
            return iatt
        raise FopError("FSTAT", fd.loc.path, None, errno.EIO, xlator=self.name)

    async def fstat(self, fd: Fd, xdata: Xdata = None) -> GfxIattx:
        async with self._locked(fd, "FSTAT", update=False) as txn:
            return self._with_size(await self._fstat_good(fd, txn), txn.size)

    async def seek(self, fd: Fd, offset: int, what: int, xdata: Xdata = None) -> int:
        """ec_seek: one good brick answers for its fragment file, whose
        512-byte blocks stand for whole stripes; the answer is scaled back
        and kept within the file."""
        async with self._locked(fd, "SEEK", update=False) as txn:
            size = txn.size
            if offset >= size:
                raise FopError("SEEK", fd.loc.path, None, errno.ENXIO, xlator=self.name)
            brick_offset = offset // self.stripe * CHUNK_SIZE
            error: Exception | None = None
            for index in (i for i in txn.good if i not in txn.failed):
                try:
                    found = await self.children[index].seek(fd, brick_offset, what)
                except FopError as exc:
                    if exc.errno == errno.ENXIO:
                        raise
                    error = exc
                    continue
                except TransportError as exc:
                    txn.failed.add(index)
                    error = exc
                    continue
                at = max(offset, found // CHUNK_SIZE * self.stripe)
                if what == SeekWhat.DATA and at >= size:
                    raise FopError(
                        "SEEK", fd.loc.path, None, errno.ENXIO, xlator=self.name
                    )
                return min(at, size)
            raise error or FopError(
                "SEEK", fd.loc.path, None, errno.EIO, xlator=self.name
            )

    # --- writing --------------------------------------------------------------------

    async def _write_stripes(
        self,
        fd: Fd,
        txn: _Transaction,
        start: int,
        data: bytes | bytearray | memoryview,
    ) -> GfxIattx | None:
        """Encode whole stripes and write each brick its fragments."""
        view = memoryview(data)
        k = self.fragments
        last: GfxIattx | None = None
        piece = _MAX_BRICK_IO * k
        for begin in range(0, len(view), piece):
            chunk = view[begin : begin + piece]
            fragments = self.code.encode(chunk)
            last = await self._on_good(
                fd,
                txn,
                "WRITE",
                functools.partial(
                    self._write_fragment, fd, (start + begin) // k, fragments
                ),
            )
        return last

    async def _write_fragment(
        self, fd: Fd, at: int, fragments: Sequence[bytes], index: int, child: Xlator
    ) -> GfxIattx:
        # ec_lock_insert: the reply says whether another client waits for
        # the lock (inodelk-count > 1), which ends an eager lock early.
        xdata = self._lock_count_request if self.eager_lock else None
        return await child.writev(fd, at, fragments[index], xdata)

    async def _rewrite(
        self,
        fd: Fd,
        txn: _Transaction,
        offset: int,
        length: int,
        fill: Callable[[bytearray, int], None] | None,
    ) -> GfxIattx | None:
        """Rewrite [offset, offset + length) in whole stripes: the partial
        first and last stripes are read first (ec_writev_start's head and
        tail), ``fill(buffer, at)`` puts the new bytes at ``at`` of the
        stripe buffer (None: zeros), and the stripes are written back."""
        if not length:
            return None
        end = offset + length
        start, stop = self._aligned(offset, end)
        stripe = self.stripe
        async with self._stripes(self._state(fd), start, stop):
            # Read under the stripes' guard: a write just done beside ours
            # may have moved the size into our stripes.
            size = txn.size
            buffer = bytearray(stop - start)
            first_partial = offset > start or end < start + stripe
            if first_partial and start < size:
                buffer[:stripe] = await self._read_stripes(
                    fd, txn, start, start + stripe
                )
            last = stop - stripe
            if last > start and end < stop and last < size:
                buffer[-stripe:] = await self._read_stripes(fd, txn, last, stop)
            if size < stop:
                # Past the size a stripe holds zeros, whatever a client that
                # shrank the file left there.
                cut = max(0, size - start)
                buffer[cut:] = bytes(len(buffer) - cut)
            if fill is None:
                buffer[offset - start : end - start] = bytes(length)
            else:
                fill(buffer, offset - start)
            iatt = await self._write_stripes(fd, txn, start, buffer)
            # Writes of one transaction end in any order: the size only grows.
            txn.size = max(txn.size, end)
        return iatt

    async def _finish(
        self, fd: Fd, txn: _Transaction, iatt: GfxIattx | None
    ) -> GfxIattx:
        """``iatt`` (else the last a brick gave, else a fresh FSTAT) with the
        file's size."""
        if iatt is None:
            iatt = txn.stat if txn.stat is not None else await self._fstat_good(fd, txn)
        return self._with_size(iatt, txn.size)

    async def writev(
        self, fd: Fd, offset: int, data: bytes | memoryview, xdata: Xdata = None
    ) -> GfxIattx:
        payload = memoryview(data).cast("B")

        def fill(buffer: bytearray, at: int) -> None:
            buffer[at : at + len(payload)] = payload

        async with self._locked(fd, "WRITE", update=True) as txn:
            txn.updates += 1
            iatt = await self._rewrite(fd, txn, offset, len(payload), fill)
            return await self._finish(fd, txn, iatt)

    async def zerofill(
        self, fd: Fd, offset: int, length: int, xdata: Xdata = None
    ) -> GfxIattx:
        # ec answers ZEROFILL with ENOTSUP (ec_gf_zerofill); a block device
        # wants the zeros, and zeros encode to zeros: write them.
        async with self._locked(fd, "ZEROFILL", update=True) as txn:
            txn.updates += 1
            iatt = None
            for at in range(offset, offset + length, _ZERO_PIECE):
                piece = min(_ZERO_PIECE, offset + length - at)
                iatt = await self._rewrite(fd, txn, at, piece, None)
            return await self._finish(fd, txn, iatt)

    async def fallocate(
        self, fd: Fd, mode: int, offset: int, length: int, xdata: Xdata = None
    ) -> GfxIattx:
        """ec_manager_fallocate: modes 0 and KEEP_SIZE only (the others and
        a zero length are refused, as ec refuses them); every brick
        allocates the stripes the range touches, and without KEEP_SIZE the
        size grows to the range's end."""
        if mode & ~_FALLOC_KEEP_SIZE:
            raise FopError(
                "FALLOCATE", fd.loc.path, None, errno.EOPNOTSUPP, xlator=self.name
            )
        if length <= 0:
            raise FopError(
                "FALLOCATE", fd.loc.path, None, errno.EINVAL, xlator=self.name
            )
        async with self._locked(fd, "FALLOCATE", update=True) as txn:
            txn.updates += 1
            start, stop = self._aligned(offset, offset + length)
            k = self.fragments
            async with self._stripes(self._state(fd), start, stop):
                iatt = await self._on_good(
                    fd,
                    txn,
                    "FALLOCATE",
                    lambda _, c: c.fallocate(fd, mode, start // k, (stop - start) // k),
                )
            if not mode & _FALLOC_KEEP_SIZE:
                txn.size = max(txn.size, offset + length)
            return await self._finish(fd, txn, iatt)

    async def discard(
        self, fd: Fd, offset: int, length: int, xdata: Xdata = None
    ) -> GfxIattx:
        """ec_manager_discard: the whole stripes inside the range are
        discarded on the bricks, the partial ones rewritten with zeros; the
        size never changes."""
        async with self._locked(fd, "DISCARD", update=True) as txn:
            end = min(offset + length, txn.size)
            if end <= offset:
                return await self._finish(fd, txn, None)
            txn.updates += 1
            stripe = self.stripe
            inner_start = -(-offset // stripe) * stripe
            inner_end = max(inner_start, end - end % stripe)
            iatt = await self._rewrite(
                fd, txn, offset, min(inner_start, end) - offset, None
            )
            if inner_end > inner_start:
                k = self.fragments
                async with self._stripes(self._state(fd), inner_start, inner_end):
                    iatt = await self._on_good(
                        fd,
                        txn,
                        "DISCARD",
                        lambda _, c: c.discard(
                            fd, inner_start // k, (inner_end - inner_start) // k
                        ),
                    )
            if end > inner_end >= inner_start:
                iatt = await self._rewrite(fd, txn, inner_end, end - inner_end, None)
            return await self._finish(fd, txn, iatt)

    async def _on_good(
        self,
        fd: Fd,
        txn: _Transaction,
        fop: str,
        call: Callable[[int, Xlator], Awaitable[GfxIattx]],
    ) -> GfxIattx:
        """An update fop on every good brick; at least the minimum must take it."""
        targets = [i for i in txn.good if i not in txn.failed]
        results = await self._each(targets, call)
        done = successes(results)
        for index, result in results.items():
            if isinstance(result, ChildFailure):
                log.warning(
                    "%s: %s on %s failed; it needs heal: %s",
                    self.name,
                    fop,
                    self._brick(index),
                    result.error,
                )
                txn.failed.add(index)
        if len(done) < self.minimum:
            txn.broken = True
            error = first_error(results)
            if error is not None and not done:
                raise error
            raise self._quorum_error(fop, fd.loc.path, list(done), self.minimum)
        return next(iter(done.values()))

    async def ftruncate(self, fd: Fd, size: int, xdata: Xdata = None) -> GfxIattx:
        """ec_manager_truncate: every brick file to whole stripes of the new
        size; when it shrinks, the rest of its last stripe is zeroed (so
        that growing it again reads zeros)."""
        async with self._locked(fd, "TRUNCATE", update=True) as txn:
            txn.updates += 1
            old = txn.size
            stripe = self.stripe
            iatt: GfxIattx | None = None
            if size < old and size % stripe:
                tail = min(old, size - size % stripe + stripe) - size
                iatt = await self._rewrite(fd, txn, size, tail, None)
            brick_size = -(-size // stripe) * CHUNK_SIZE
            start = min(size, old) - min(size, old) % stripe
            async with self._stripes(self._state(fd), start, max(size, old) + stripe):
                iatt = await self._on_good(
                    fd, txn, "TRUNCATE", lambda _, c: c.ftruncate(fd, brick_size)
                )
            txn.size = size
            return await self._finish(fd, txn, iatt)


class _Transaction(EagerTransaction):
    """One locked stretch of fops on a file: lock, pre-op, fops, post-op,
    unlock (ec-common.c ec_lock / ec_get_size_version / ec_update_info)."""

    def __init__(
        self, ec: DisperseXlator, fd: Fd, state: _FdState, fop: str, *, update: bool
    ) -> None:
        super().__init__(fd)
        self.ec = ec
        self.fop = fop
        self.update = update
        domain = ec.name

        # ec_lock_acquire: INODELK by location, never FINODELK; the whole
        # file, F_WRLCK, readers too (l_start = l_len = 0).
        loc = fd.loc

        async def lock(child: Xlator, blocking: bool) -> None:
            cmd = LkCmd.SETLKW if blocking else LkCmd.SETLK
            await child.inodelk(loc, domain, cmd, Flock(LkType.WRLCK))

        async def unlock(child: Xlator) -> None:
            await child.inodelk(loc, domain, LkCmd.SETLK, Flock(LkType.UNLCK))

        self.locks = LockAll(ec.children, lock, unlock, label=ec.name)
        self.opened = sorted(i for i in state.opened if ec.children[i].is_up)
        self.good: list[int] = []
        self.failed: set[int] = set()
        self.size = 0
        self.start_size = 0
        self.version = (0, 0)
        self.stat: GfxIattx | None = None
        #: Update fops done (each adds 1 to the versions).
        self.updates = 0
        #: A write lost its minimum of bricks: the session takes no more.
        self.broken = False
        #: Bricks marked dirty by this transaction (cleared at its end).
        self.dirty_on: list[int] = []
        self.connections: list[object | None] = []

    def still_locked(self) -> bool:
        """False once a locked brick has reconnected (its lock went with
        the old connection: going on would be unlocked)."""
        children = self.ec.children
        return all(
            children[i].connection is self.connections[i] for i in self.locks.locked
        )

    def joinable(self) -> bool:
        return super().joinable() and not self.broken

    async def mark_dirty(self) -> None:
        """An update joins a transaction begun by a read: mark the copies
        dirty first (ec_set_dirty_flag: once per lock cycle)."""
        if self.update:
            return
        self.update = True
        targets = [i for i in self.good if i not in self.failed]
        values: GfDict = {EC_DIRTY: DictValue.ptr(_PAIR.pack(1, 1))}
        fd = self.fd
        results = await self.locks.fan_out(
            targets, lambda c: c.fxattrop(fd, XattropFlags.ADD_ARRAY64, values)
        )
        for index, result in results.items():
            if isinstance(result, ChildFailure):
                self.failed.add(index)
        self.dirty_on = sorted(successes(results))
        done = [i for i in targets if i not in self.failed]
        if len(done) < self.ec.minimum:
            self.broken = True
            raise self.ec._quorum_error(self.fop, fd.loc.path, done, self.ec.minimum)

    async def begin(self) -> None:
        ec = self.ec
        path = self.fd.loc.path
        need = ec.minimum if self.update else ec.fragments
        ec._require(self.opened, need, self.fop, path)
        locked = await self.locks.acquire(self.opened)
        self.connections = [child.connection for child in ec.children]
        try:
            ec._require(locked, need, self.fop, path)
            # Pre-op (ec_get_size_version): adding zeros reads each copy's
            # version, size and config back, and get-size its brick file's
            # size; an update also marks the copies dirty [1, 1] until the
            # post-op (data fops never take the optimistic path).
            values: GfDict = {
                EC_VERSION: DictValue.ptr(_PAIR.pack(0, 0)),
                EC_SIZE: DictValue.ptr(_U64.pack(0)),
                EC_CONFIG: DictValue.ptr(_U64.pack(0)),
            }
            if self.update:
                values[EC_DIRTY] = DictValue.ptr(_PAIR.pack(1, 1))
            fd = self.fd
            results = await self.locks.fan_out(
                locked,
                lambda c: c.fxattrop(fd, XattropFlags.ADD_ARRAY64, values, _GET_SIZE),
            )
            answers: dict[int, _CopyState] = {}
            replies: dict[int, Xdata] = {}
            for index, result in results.items():
                if isinstance(result, ChildFailure):
                    self.failed.add(index)
                    continue
                replies[index] = result
                answers[index] = _CopyState(
                    _pair(result, EC_VERSION), _u64(result, EC_SIZE) or 0
                )
            self.prepared = sorted(answers)
            try:
                ec._check_config(replies, self.fop, path)
                good, copy = ec._good(answers, self.fop, path)
                ec._require(good, need, self.fop, path)
            except BaseException:
                if self.update:
                    await self._post_op(self.prepared, clean=True, updates=0)
                raise
            self.good = good
            if self.update:
                self.dirty_on = list(self.prepared)
            self.size = self.start_size = copy.size
            self.version = copy.version
        except BaseException:
            await self.locks.release()
            raise

    async def _post_op(self, on: Sequence[int], *, clean: bool, updates: int) -> None:
        """ec_update_size_version: the version and size changes, and dirty
        cleared where ``clean`` (every brick took the whole update).

        Each update adds 1 to the data and metadata versions, but a clean
        post-op on a copy that already has a version leaves it as it is
        (only dirty goes 1 -> 0, as gluster does on healthy writes).
        """
        values: GfDict = {}
        version = [updates, updates]
        if clean:
            version = [
                v if old == 0 else 0
                for v, old in zip(version, self.version, strict=True)
            ]
        if any(version):
            values[EC_VERSION] = DictValue.ptr(_PAIR.pack(*version))
        delta = self.size - self.start_size
        if delta:
            values[EC_SIZE] = DictValue.ptr(_SIGNED.pack(delta))
        if clean:
            values[EC_DIRTY] = DictValue.ptr(_SIGNED_PAIR.pack(-1, -1))
        if not values or not on:
            return
        fd = self.fd
        results = await self.locks.fan_out(
            on, lambda c: c.fxattrop(fd, XattropFlags.ADD_ARRAY64, values)
        )
        for index, result in results.items():
            if isinstance(result, ChildFailure):
                log.warning(
                    "%s: post-op on %s failed; it needs heal: %s",
                    self.ec.name,
                    self.ec._brick(index),
                    result.error,
                )

    async def end(self) -> None:
        ec = self.ec
        try:
            if not self.update:
                return
            succeeded = [i for i in self.good if i not in self.failed]
            everyone = len(succeeded) == len(ec.children)
            if not self.updates:
                await self._post_op(self.dirty_on, clean=True, updates=0)
                return
            # Every brick good and written: the update is whole, dirty goes.
            # Otherwise dirty stays set on the bricks that took it, which
            # queues the file for the self-heal daemon (ec_update_info).
            await self._post_op(succeeded, clean=everyone, updates=self.updates)
            if not everyone:
                log.warning(
                    "%s: %s of %s reached %d of %d bricks; left dirty for heal",
                    ec.name,
                    self.fop,
                    self.fd.loc.path,
                    len(succeeded),
                    len(ec.children),
                )
        finally:
            with trio.CancelScope(shield=True):
                await self.locks.release()
