"""``cluster/replicate`` (AFR): one file on every child, never a silent split brain.

Each brick keeps, per file, a changelog of what the *other* bricks missed:
``trusted.afr.<name_j>`` = three big-endian int32 counters [data, metadata,
entry] "operations brick j missed, as witnessed by this brick", and
``trusted.afr.dirty`` "a transaction touched me and has not finished"
(topology.md §3.1). gluster's self-heal daemon reads them to find sources and
sinks; a client that writes without keeping them corrupts the volume
silently. This translator keeps them exactly as libgfapi's AFR does.

Reads (§3.2) go to one *readable* child: not blamed by any reply, not failed,
never the arbiter; the choice hashes the gfid (read-hash-mode 1), and a
failure moves on to the next readable child.

Every modifying fop is a transaction (§3.3):

1. lock: FINODELK (data) or ENTRYLK on the parent (entry) in the domain named
   after this xlator, non-blocking on all children at once, and if any is
   busy, released and taken blocking in index order (no deadlock between
   clients); each transaction has a lock owner of its own;
2. pre-op: (F)XATTROP ADD_ARRAY dirty +1 on every locked child (which also
   returns the current blame counters);
3. checks: quorum; at least one unblamed copy takes part; never only the
   arbiter;
4. the fop on every child that passed the pre-op;
5. fsync (ensure-durability) so data is stable before the changelog is cleared;
6. post-op on the children where everything succeeded: dirty -1 and +1 blame
   for every child that missed the fop, in one xattrop;
7. unlock.

If quorum is lost during the fop, the post-op is not done: the copies stay
dirty and the self-heal daemon sorts them out (the designed crash path).
Quorum (§3.5): ``auto`` (the default for 3 or more children) needs more than
half the children, or exactly half including the first; ``fixed`` needs
``quorum-count``; ``none`` one.

Eager locking (``eager-lock``, on by default, as libgfapi runs it): a data
transaction outlives its write. Later writes on the fd join it with no lock
and no pre-op of their own, so in steady state a write is one WRITE per
brick. Its fsync, post-op and unlock wait until the fd has had no write for
``post-op-delay-secs`` (1 s; the delayed post-op), or happen sooner: when a
brick says another lock owner waits (the INODELK_CONTENTION upcall), when a
write failed somewhere (the blame is recorded at once), before FLUSH, FSYNC
and RELEASE return, and after 2 s of continuous writes in any case (a waiter
whose notice never came still gets its turn). Meanwhile every copy is marked
dirty: a client that dies holding the lock leaves exactly that for the
self-heal daemon, and the bricks drop its lock with its connection.
:meth:`ReplicateXlator.transaction` holds the transaction in use across a
batch (write-behind's, the block device's pieces of one large write).
"""

from __future__ import annotations

import errno
import logging
import struct
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import trio

from pygluster.errors import FopError, TransportError, UnsupportedVolume
from pygluster.rpc import fops
from pygluster.rpc.fops import DictValue, EntrylkCmd, EntrylkType, LkCmd, LkType
from pygluster.xlators.base import (
    INODELK_DOM_COUNT,
    Fd,
    Flock,
    InodelkContention,
    Loc,
    Xlator,
    iatt_is_dir,
    new_entry_gfid,
    xlator_type,
)
from pygluster.xlators.cluster import (
    ChildFailure,
    EagerLocks,
    EagerTransaction,
    LockAll,
    Quorum,
    failures,
    fan_out,
    first_error,
    successes,
    super_fast_hash,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence

    from pygluster.rpc.fops import GfDict, GfStatfs, GfxIattx, Xdata
    from pygluster.volfile import Xlator as VolfileXlator
    from pygluster.xlators.base import BuildContext, ReadInto

__all__ = ["ReplicateXlator", "super_fast_hash"]

log = logging.getLogger("pygluster.afr")

T = TypeVar("T")

AFR_PREFIX = "trusted.afr."
AFR_DIRTY = "trusted.afr.dirty"
DATA, METADATA, ENTRY = 0, 1, 2
_TRIPLET = struct.Struct(">iii")
_ZERO = _TRIPLET.pack(0, 0, 0)
#: Metadata transactions lock this one byte past any data (afr LLONG_MAX - 1).
_METADATA_LOCK_START = 2**63 - 2
_OFF = ("off", "no", "false", "disable", "0")
#: glusterfs.h GF_XATTROP_ENTRY_IN_KEY / GF_XATTROP_ENTRY_OUT_KEY: an entry
#: pre-op's xdata naming the entry for the brick's entry-changes index
#: (granular entry heal), and the post-op's that removes the name again.
XATTROP_ENTRY_IN = "glusterfs.xattrop-entry-create"
XATTROP_ENTRY_OUT = "glusterfs.xattrop-entry-delete"


def _entry_out(pre: GfDict | None) -> GfDict | None:
    """The post-op xdata that drops the name ``pre`` indexed (if any)."""
    if pre is None:
        return None
    return {XATTROP_ENTRY_OUT: pre[XATTROP_ENTRY_IN]}


#: The longest an eager transaction keeps its lock while writes keep coming.
#: Others get theirs sooner: the brick's INODELK_CONTENTION upcall and the
#: inodelk count in WRITE replies end it. This only bounds the wait of a
#: client on a brick that tells neither; kept long, because each end and
#: restart costs 12 RPCs on replica 3 (random writes over a 1 GiB image of
#: 4 MB shards with 2 s here: 1.3 FINODELK and FXATTROP per write).
_EAGER_MAX_SECONDS = 30.0
#: How long ending an eager transaction (fsync, post-op, unlock) may take.
_END_SECONDS = 60.0


def _triplet(values: Xdata, key: str) -> tuple[int, int, int]:
    value = (values or {}).get(key)
    raw = value.value if value is not None else None
    if isinstance(raw, bytes) and len(raw) == _TRIPLET.size:
        data, metadata, entry = _TRIPLET.unpack(raw)
        return data, metadata, entry
    return 0, 0, 0


@dataclass
class _Inode:
    """What AFR knows about one inode: which children may serve it."""

    readable: list[bool]
    is_dir: bool = False


@dataclass
class _FdState:
    """Per-fd AFR state: which children have it open, the running session."""

    opened: set[int] = field(default_factory=set)
    #: The transaction a transaction() block holds (eager locking off).
    session: _Transaction | None = None
    #: The eager-locked transaction writes join (eager locking on).
    eager: _Transaction | None = None


@xlator_type("cluster/replicate")
class ReplicateXlator(Xlator):
    """The ``cluster/replicate`` translator over its bricks."""

    def __init__(
        self,
        name: str,
        children: Sequence[Xlator],
        options: dict[str, str],
        volume: str,
        nursery: trio.Nursery | None = None,
    ) -> None:
        super().__init__(name, list(children))
        count = len(children)
        names = options.get("afr-pending-xattr", "")
        # The changelog keys come from the volfile, in child order; never
        # invent them (after replace-brick they are not sequential, §3.6).
        self.pending = [n for n in names.split(",") if n]
        if len(self.pending) != count:
            raise UnsupportedVolume(
                volume, name, "cluster/replicate without afr-pending-xattr"
            )
        if (
            options.get("thin-arbiter", "")
            or options.get("thin-arbiter-count", "0") != "0"
        ):
            raise UnsupportedVolume(
                volume, name, "cluster/replicate with a thin arbiter"
            )
        self.arbiter: int | None = (
            count - 1 if options.get("arbiter-count", "0") == "1" else None
        )
        quorum_type = options.get("quorum-type")
        if quorum_type is None:
            # afr.c fix_quorum_options: unset means auto for 3+ children.
            quorum_type = "auto" if count > 2 else "none"
        self.quorum_type = quorum_type
        self.quorum_count = int(options.get("quorum-count", "0") or 0)
        self.hash_mode = int(options.get("read-hash-mode", "1"))
        self.ensure_durability = options.get("ensure-durability", "on") not in _OFF
        # Eager locking needs a task to run the delayed post-op in; without
        # one (a bare translator in a test) every write is its own transaction.
        self.eager_lock = (
            options.get("eager-lock", "on") not in _OFF and nursery is not None
        )
        self.post_op_delay = float(options.get("post-op-delay-secs", "1") or 0)
        # afr.c: on by default since glusterfs 10 (and in every volfile here).
        self.granular_entry_heal = (
            options.get("granular-entry-heal", "on").strip().lower() not in _OFF
        )
        self._nursery = nursery
        # glusterfs.h GLUSTERFS_INODELK_DOM_COUNT: "count the inode locks of
        # this domain" (the reply's GLUSTERFS_INODELK_COUNT).
        self._lock_count_request: GfDict = {
            INODELK_DOM_COUNT: DictValue.str(name.encode())
        }
        #: The eager transactions (None: every write its own transaction).
        self._eager: EagerLocks[_Transaction] | None = None
        if self.eager_lock:
            assert nursery is not None
            self._eager = EagerLocks(
                name,
                nursery,
                self.post_op_delay,
                max_seconds=_EAGER_MAX_SECONDS,
                end_seconds=_END_SECONDS,
            )
        self._inodes: dict[bytes, _Inode] = {
            fops.ROOT_GFID: _Inode([True] * count, True)
        }

    @classmethod
    def from_volfile(
        cls, node: VolfileXlator, children: list[Xlator], context: BuildContext
    ) -> Xlator:
        return cls(
            node.name, children, dict(node.options), context.volume, context.nursery
        )

    # --- children and quorum ----------------------------------------------------

    def _brick(self, index: int) -> str:
        return str(self.children[index])

    def _up(self) -> list[int]:
        return [i for i, child in enumerate(self.children) if child.is_up]

    @property
    def is_up(self) -> bool:
        return self._has_quorum(self._up())

    @property
    def quorum(self) -> Quorum:
        """The quorum rule in force (quorum-type / quorum-count)."""
        return Quorum(self.quorum_type, self.quorum_count, len(self.children))

    def _has_quorum(self, indexes: Sequence[int]) -> bool:
        return self.quorum.met(indexes)

    def _require_quorum(self, indexes: Sequence[int], fop: str, target: str) -> None:
        names = [str(child) for child in self.children]
        self.quorum.require(indexes, fop, target, self.name, names)

    def _quorum_lost(self, done: Mapping[int, object], fop: str, target: str) -> None:
        """Raise QuorumError if the children in ``done`` are too few."""
        if not self._has_quorum(list(done)):
            have = [self._brick(i) for i in done]
            raise self.quorum.error(have, fop, target, self.name)

    async def _each(
        self, indexes: Sequence[int], call: Callable[[Xlator], Awaitable[T]]
    ) -> dict[int, T | ChildFailure]:
        """Run ``call`` on the given children concurrently; results or failures."""
        return await fan_out(self.children, indexes, call)

    # --- changelog ----------------------------------------------------------------

    def _lookup_keys(self) -> GfDict:
        keys = {AFR_PREFIX + name: DictValue.uint(12) for name in self.pending}
        keys[AFR_DIRTY] = DictValue.uint(12)
        return keys

    def _changelog(self, slot: int, blamed: Sequence[int], dirty: int) -> GfDict:
        """An ADD_ARRAY dict: +1 blame in ``slot`` for ``blamed``, ``dirty``."""
        values = {}
        for index, name in enumerate(self.pending):
            counts = [0, 0, 0]
            if index in blamed:
                counts[slot] = 1
            values[AFR_PREFIX + name] = DictValue.ptr(_TRIPLET.pack(*counts))
        dirty_counts = [0, 0, 0]
        dirty_counts[slot] = dirty
        values[AFR_DIRTY] = DictValue.ptr(_TRIPLET.pack(*dirty_counts))
        return values

    def _blamed_by(self, replies: Mapping[int, Xdata], slot: int) -> set[int]:
        """Children that any of the replies accuses of a missed operation."""
        blamed = set()
        for values in replies.values():
            for index, name in enumerate(self.pending):
                if _triplet(values, AFR_PREFIX + name)[slot] != 0:
                    blamed.add(index)
        return blamed

    # --- reads ------------------------------------------------------------------------

    def _read_order(self, gfid: bytes, candidates: Sequence[int]) -> list[int]:
        order = sorted(candidates)
        if self.hash_mode in (1, 2) and order:
            first = super_fast_hash(gfid) % len(self.children)
            if first in order:
                order.remove(first)
                order.insert(0, first)
        return order

    async def _read(
        self, fd: Fd, fop: str, call: Callable[[Xlator], Awaitable[T]]
    ) -> T:
        state = self._state(fd)
        inode = self._inodes.get(fd.gfid)
        readable = inode.readable if inode is not None else [True] * len(self.children)
        candidates = [
            i
            for i in state.opened
            if readable[i] and i != self.arbiter and self.children[i].is_up
        ]
        if not candidates:
            code = errno.EIO if self._up() else errno.ENOTCONN
            raise FopError(fop, fd.loc.path, None, code, xlator=self.name)
        error: Exception | None = None
        for index in self._read_order(fd.gfid, candidates):
            try:
                return await call(self.children[index])
            except (FopError, TransportError) as exc:
                log.info(
                    "%s: %s on %s failed, trying the next copy: %s",
                    self.name,
                    fop,
                    self._brick(index),
                    exc,
                )
                error = exc
        assert error is not None
        raise error

    # --- entries ---------------------------------------------------------------------

    async def lookup(self, loc: Loc, xdata: Xdata = None) -> tuple[GfxIattx, Xdata]:
        ask = dict(xdata or {})
        ask.update(self._lookup_keys())
        up = self._up()
        results = await self._each(up, lambda child: child.lookup(loc, ask))
        # Any answer from the brick's storage counts: ENOENT, and ESTALE for
        # a parent the brick cannot resolve, are answers, not absences.
        answered = {
            i: r
            for i, r in results.items()
            if not isinstance(r, ChildFailure) or r.errno not in (None, errno.ENOTCONN)
        }
        if self.quorum_type != "none":
            # A lookup answered by fewer than quorum bricks fails (§3.5).
            self._require_quorum(list(answered), "LOOKUP", loc.path)
        found = successes(results)
        if not found:
            error = first_error(results)
            if error is not None:
                raise error
            raise FopError("LOOKUP", loc.path, None, errno.ENOTCONN, xlator=self.name)
        first_iatt = next(iter(found.values()))[0]
        is_dir = iatt_is_dir(first_iatt)
        slot = ENTRY if is_dir else DATA
        blamed = self._blamed_by({i: r[1] for i, r in found.items()}, slot)
        readable = [
            i in found and (is_dir or (i not in blamed and i != self.arbiter))
            for i in range(len(self.children))
        ]
        self._inodes[first_iatt.ia_gfid] = _Inode(readable, is_dir)
        candidates = [i for i in found if readable[i]]
        if not candidates:
            # Every reachable data copy is accused: a split brain or only
            # stale copies left. Never serve (or later overwrite) them.
            raise FopError("LOOKUP", loc.path, None, errno.EIO, xlator=self.name)
        index = self._read_order(first_iatt.ia_gfid, candidates)[0]
        return found[index]

    async def _entry_txn(
        self, loc: Loc, fop: str, call: Callable[[Xlator], Awaitable[T]]
    ) -> dict[int, T]:
        """An entry transaction on ``loc``'s parent for its name (§3.3)."""
        parent = loc.parent_loc()
        assert parent.gfid is not None
        domain = self.name

        async def lock(child: Xlator, blocking: bool) -> None:
            cmd = EntrylkCmd.LOCK if blocking else EntrylkCmd.LOCK_NB
            await child.entrylk(loc, domain, cmd, EntrylkType.WRLCK)

        async def unlock(child: Xlator) -> None:
            await child.entrylk(loc, domain, EntrylkCmd.UNLOCK, EntrylkType.WRLCK)

        return await self._changelog_txn(
            parent, ENTRY, fop, loc.path, lock, unlock, call, entry=loc.name
        )

    async def _changelog_txn(
        self,
        loc: Loc,
        slot: int,
        fop: str,
        path: str,
        lock: Callable[[Xlator, bool], Awaitable[None]],
        unlock: Callable[[Xlator], Awaitable[None]],
        call: Callable[[Xlator], Awaitable[T]],
        *,
        entry: str | None = None,
    ) -> dict[int, T]:
        """Lock, dirty +1 on ``loc`` in ``slot``, ``call``, post-op, unlock.

        The entry and metadata transactions (§3.3): one fop, its changelog
        kept on ``loc`` (the parent directory for entry fops). ``entry``:
        the name an entry fop changes. With ``granular-entry-heal`` on
        (gluster 10's default) the pre-op names it to the brick's index
        (xattrop-entry-create), which is where the self-heal daemon looks
        for what to heal in the directory: a parent marked without names
        never heals (seen on 10.3: shards made while a brick was down stayed
        on two bricks). The post-op drops the name again when every brick
        did the fop (xattrop-entry-delete), and keeps it otherwise.
        """
        named = entry is not None and self.granular_entry_heal
        pre_xdata: GfDict | None = (
            {XATTROP_ENTRY_IN: DictValue.str(entry.encode())}
            if named and entry is not None
            else None
        )
        up = self._up()
        self._require_quorum(up, fop, path)
        locks = LockAll(self.children, lock, unlock, label=self.name)
        locked = await locks.acquire(up)

        async def changelog(
            on: Sequence[int], values: GfDict, xdata: GfDict | None = None
        ) -> None:
            await locks.fan_out(
                on,
                lambda c: c.xattrop(loc, fops.XattropFlags.ADD_ARRAY, values, xdata),
            )

        try:
            self._require_quorum(locked, fop, path)
            pre = await locks.fan_out(
                locked,
                lambda c: c.xattrop(
                    loc,
                    fops.XattropFlags.ADD_ARRAY,
                    self._changelog(slot, [], 1),
                    pre_xdata,
                ),
            )
            prepared = list(successes(pre))
            self._require_quorum(prepared, fop, path)
            results = await self._each(prepared, call)
            done = successes(results)
            if not done:
                # Failed the same way everywhere (EEXIST, ENOENT...): nothing
                # diverged; clear the dirty marks and report the error.
                await changelog(
                    prepared, self._changelog(slot, [], -1), _entry_out(pre_xdata)
                )
                raise next(iter(failures(results).values())).error
            self._quorum_lost(done, fop, path)
            missed = [i for i in range(len(self.children)) if i not in done]
            # A brick that missed it: the name stays indexed for the heal.
            await changelog(
                list(done),
                self._changelog(slot, missed, -1),
                None if missed else _entry_out(pre_xdata),
            )
            return done
        finally:
            await locks.release()

    async def create(
        self, loc: Loc, flags: int, mode: int, umask: int = 0, xdata: Xdata = None
    ) -> tuple[Fd, GfxIattx]:
        # The same gfid-req on every child: one inode everywhere (§3.3).
        gfid = new_entry_gfid(loc)
        done = await self._entry_txn(
            loc, "CREATE", lambda c: c.create(loc, flags, mode, umask, xdata)
        )
        fd = Fd(loc.with_gfid(gfid), flags)
        state = _FdState(set(done))
        for child_fd, _ in done.values():
            fd.ctx.update(child_fd.ctx)
        fd.ctx[self] = state
        readable = [i in done and i != self.arbiter for i in range(len(self.children))]
        self._inodes[gfid] = _Inode(readable)
        iatt = done[self._pick(done)][1]
        return fd, iatt

    def _pick(self, done: dict[int, Any]) -> int:
        """A data child among ``done`` (the arbiter's stats are fake)."""
        data = [i for i in sorted(done) if i != self.arbiter]
        return data[0] if data else min(done)

    async def mkdir(
        self, loc: Loc, mode: int, umask: int = 0, xdata: Xdata = None
    ) -> GfxIattx:
        gfid = new_entry_gfid(loc)
        done = await self._entry_txn(
            loc, "MKDIR", lambda c: c.mkdir(loc, mode, umask, xdata)
        )
        self._inodes[gfid] = _Inode(
            [i in done for i in range(len(self.children))], True
        )
        return done[min(done)]

    async def unlink(self, loc: Loc, xdata: Xdata = None) -> None:
        await self._entry_txn(loc, "UNLINK", lambda c: c.unlink(loc, xdata))
        if loc.gfid is not None:
            self._inodes.pop(loc.gfid, None)

    async def rmdir(self, loc: Loc, xdata: Xdata = None) -> None:
        await self._entry_txn(loc, "RMDIR", lambda c: c.rmdir(loc, xdata))

    async def statfs(self, loc: Loc, xdata: Xdata = None) -> GfStatfs:
        results = await self._each(self._up(), lambda c: c.statfs(loc))
        stats = list(successes(results).values())
        if not stats:
            raise FopError("STATFS", loc.path, None, errno.ENOTCONN, xlator=self.name)
        # afr_statfs_cbk keeps the reply with the least space available.
        return min(stats, key=lambda s: s.bavail * s.frsize)

    async def inodelk(
        self, loc: Loc, domain: str, cmd: int, flock: Flock, xdata: Xdata = None
    ) -> None:
        """Lock on every up child; needs quorum (DHT's layout-heal lock)."""
        up = self._up()
        self._require_quorum(up, "INODELK", loc.path)
        results = await self._each(
            up, lambda c: c.inodelk(loc, domain, cmd, flock, xdata)
        )
        failed = failures(results)
        if failed and not self._has_quorum(list(successes(results))):
            raise next(iter(failed.values())).error

    async def setxattr(
        self, loc: Loc, values: GfDict, flags: int = 0, xdata: Xdata = None
    ) -> None:
        """SETXATTR as a metadata transaction (DHT layouts on replicated dirs)."""
        await self._metadata_txn(
            loc, "SETXATTR", lambda c: c.setxattr(loc, values, flags)
        )

    async def xattrop(
        self, loc: Loc, flags: int, values: GfDict, xdata: Xdata = None
    ) -> GfDict:
        """XATTROP as a metadata transaction (shard's file-size updates).

        Returns the resulting values from a data copy.
        """
        done = await self._metadata_txn(
            loc, "XATTROP", lambda c: c.xattrop(loc, flags, values)
        )
        return done[self._pick(done)]

    async def _metadata_txn(
        self, loc: Loc, fop: str, call: Callable[[Xlator], Awaitable[T]]
    ) -> dict[int, T]:
        """A metadata transaction: like data, in the changelog's slot 1, with
        the inode lock taken past any data range (afr LLONG_MAX - 1)."""
        assert loc.gfid is not None
        domain = self.name
        start = _METADATA_LOCK_START

        async def lock(child: Xlator, blocking: bool) -> None:
            cmd = LkCmd.SETLKW if blocking else LkCmd.SETLK
            await child.inodelk(loc, domain, cmd, Flock(LkType.WRLCK, start))

        async def unlock(child: Xlator) -> None:
            await child.inodelk(loc, domain, LkCmd.SETLK, Flock(LkType.UNLCK, start))

        return await self._changelog_txn(
            loc, METADATA, fop, loc.path, lock, unlock, call
        )

    # --- open files ------------------------------------------------------------------

    def _state(self, fd: Fd) -> _FdState:
        state = fd.ctx.get(self)
        if state is None:
            raise FopError("fd", fd.loc.path, None, errno.EBADF, xlator=self.name)
        assert isinstance(state, _FdState)
        return state

    async def open(self, loc: Loc, flags: int, xdata: Xdata = None) -> Fd:
        assert loc.gfid is not None
        if loc.gfid not in self._inodes:
            await self.lookup(loc)
        inode = self._inodes[loc.gfid]
        targets = [
            i
            for i in self._up()
            if inode.readable[i] or i == self.arbiter or not inode.is_dir
        ]
        results = await self._each(targets, lambda c: c.open(loc, flags))
        opened = successes(results)
        if not opened:
            raise first_error(results) or FopError(
                "OPEN", loc.path, None, errno.ENOTCONN, xlator=self.name
            )
        fd = Fd(loc, flags)
        for child_fd in opened.values():
            fd.ctx.update(child_fd.ctx)
        fd.ctx[self] = _FdState(set(opened))
        if not any(inode.readable[i] and i != self.arbiter for i in opened):
            await self.release(fd)
            raise FopError("OPEN", loc.path, None, errno.EIO, xlator=self.name)
        return fd

    async def open_anonymous(self, loc: Loc, flags: int) -> Fd:
        assert loc.gfid is not None
        if loc.gfid not in self._inodes:
            await self.lookup(loc)
        up = self._up()
        if not up:
            raise FopError("OPEN", loc.path, None, errno.ENOTCONN, xlator=self.name)
        # Nothing is opened on the bricks, so nothing can fail here: every
        # brick up now takes this fd's fops (afr treats anonymous fds as
        # open everywhere).
        fd = Fd(loc, flags)
        for index in up:
            fd.ctx.update((await self.children[index].open_anonymous(loc, flags)).ctx)
        fd.ctx[self] = _FdState(set(up))
        return fd

    async def readv(
        self, fd: Fd, offset: int, size: int, into: ReadInto = None, xdata: Xdata = None
    ) -> tuple[memoryview, GfxIattx]:
        return await self._read(fd, "READ", lambda c: c.readv(fd, offset, size, into))

    async def fstat(self, fd: Fd, xdata: Xdata = None) -> GfxIattx:
        return await self._read(fd, "FSTAT", lambda c: c.fstat(fd))

    async def seek(self, fd: Fd, offset: int, what: int, xdata: Xdata = None) -> int:
        return await self._read(fd, "SEEK", lambda c: c.seek(fd, offset, what))

    async def flush(self, fd: Fd, xdata: Xdata = None) -> None:
        await self._settle(fd)
        state = self._state(fd)
        await self._each(
            [i for i in state.opened if self.children[i].is_up], lambda c: c.flush(fd)
        )

    async def fsync(self, fd: Fd, datasync: bool = False, xdata: Xdata = None) -> None:
        await self._settle(fd)
        state = self._state(fd)
        targets = [i for i in state.opened if self.children[i].is_up]
        results = await self._each(targets, lambda c: c.fsync(fd, datasync))
        done = list(successes(results))
        if not self._has_quorum(done):
            error = first_error(results)
            if error is not None:
                raise error
            self._require_quorum(done, "FSYNC", fd.loc.path)

    async def release(self, fd: Fd, xdata: Xdata = None) -> None:
        with trio.CancelScope(shield=True):
            await self._settle(fd)
        state = fd.ctx.pop(self, None)
        if not isinstance(state, _FdState):
            return
        await self._each(sorted(state.opened), lambda c: c.release(fd))

    def holders(self, fd: Fd) -> list[Xlator]:
        state = self._state(fd)
        leaves: list[Xlator] = []
        for index in sorted(state.opened):
            if index != self.arbiter:
                leaves.extend(self.children[index].holders(fd))
        return leaves

    # --- data transactions -------------------------------------------------------
    #
    # With eager locking (cluster.eager-lock, on by default) a data
    # transaction outlives its write: the next writes on the fd join it (no
    # lock, no pre-op), and its post-op and unlock wait until the fd has been
    # idle for post-op-delay-secs (afr_changelog_post_op's delayed post-op).
    # It ends sooner when another client wants the lock (an
    # INODELK_CONTENTION upcall), when a write failed somewhere (the blame is
    # recorded at once), and before FLUSH, FSYNC and RELEASE return.

    @asynccontextmanager
    async def transaction(self, fd: Fd) -> AsyncIterator[None]:
        state = self._state(fd)
        if self._eager is not None:
            async with self._eager.use(state, lambda: _Transaction(self, fd, "WRITE")):
                yield
            return
        if state.session is not None:
            yield
            return
        async with self._data_transaction(fd, "WRITE") as txn:
            state.session = txn
            try:
                yield
            finally:
                state.session = None

    @asynccontextmanager
    async def _data_transaction(self, fd: Fd, fop: str) -> AsyncIterator[_Transaction]:
        txn = _Transaction(self, fd, fop)
        await txn.begin()
        try:
            yield txn
        finally:
            with trio.CancelScope(shield=True):
                await txn.end()

    async def _settle(self, fd: Fd) -> None:
        """End the fd's eager transaction now (post-op and unlock) and wait."""
        state = fd.ctx.get(self)
        if isinstance(state, _FdState) and self._eager is not None:
            await self._eager.settle(state)

    def contended(self, fd: Fd) -> bool:
        state = fd.ctx.get(self)
        return isinstance(state, _FdState) and EagerLocks.contended(state)

    def upcall(self, event: object) -> None:
        if isinstance(event, InodelkContention) and event.domain == self.name:
            # Another lock owner waits for ours: let it go once the writes in
            # flight are done (afr_contention_notify).
            if self._eager is not None:
                self._eager.contend(event.gfid)
            return
        super().upcall(event)

    async def _write_fop(
        self, fd: Fd, fop: str, call: Callable[[Xlator], Awaitable[GfxIattx]]
    ) -> GfxIattx:
        state = self._state(fd)
        if state.session is not None:
            return await state.session.run(fop, call)
        if self._eager is not None:
            # use() without the context manager (every write comes here); no
            # fop below re-enters this fd, so nothing needs the held mark.
            txn = await self._eager.join(state, lambda: _Transaction(self, fd, fop))
            try:
                return await txn.run(fop, call)
            finally:
                self._eager.unuse(txn)
        async with self._data_transaction(fd, fop) as txn:
            return await txn.run(fop, call)

    async def writev(
        self, fd: Fd, offset: int, data: bytes | memoryview, xdata: Xdata = None
    ) -> GfxIattx:
        arbiter = self.children[self.arbiter] if self.arbiter is not None else None
        # Ask each brick how many inode locks our domain has on the file
        # (afr_writev): more than ours means another client waits, and the
        # client translator reports that as contention (the fallback for
        # bricks that send no INODELK_CONTENTION upcall).
        ask = self._lock_count_request

        def write(child: Xlator) -> Awaitable[GfxIattx]:
            # The arbiter stores no data: libgfapi's AFR sends it one byte at
            # the real offset and reports the full length (afr_writev_wind).
            if child is arbiter and len(data) > 1:
                return child.writev(fd, offset, data[:1], ask)
            return child.writev(fd, offset, data, ask)

        return await self._write_fop(fd, "WRITE", write)

    async def ftruncate(self, fd: Fd, size: int, xdata: Xdata = None) -> GfxIattx:
        return await self._write_fop(fd, "FTRUNCATE", lambda c: c.ftruncate(fd, size))

    async def fallocate(
        self, fd: Fd, mode: int, offset: int, length: int, xdata: Xdata = None
    ) -> GfxIattx:
        return await self._write_fop(
            fd, "FALLOCATE", lambda c: c.fallocate(fd, mode, offset, length)
        )

    async def discard(
        self, fd: Fd, offset: int, length: int, xdata: Xdata = None
    ) -> GfxIattx:
        return await self._write_fop(
            fd, "DISCARD", lambda c: c.discard(fd, offset, length)
        )

    async def zerofill(
        self, fd: Fd, offset: int, length: int, xdata: Xdata = None
    ) -> GfxIattx:
        return await self._write_fop(
            fd, "ZEROFILL", lambda c: c.zerofill(fd, offset, length)
        )


class _Transaction(EagerTransaction):
    """One data transaction: lock → pre-op → fops → fsync → post-op → unlock."""

    def __init__(self, afr: ReplicateXlator, fd: Fd, fop: str) -> None:
        super().__init__(fd)
        self.afr = afr
        self.fop = fop
        self.path = fd.loc.path
        domain = afr.name

        async def lock(child: Xlator, blocking: bool) -> None:
            cmd = LkCmd.SETLKW if blocking else LkCmd.SETLK
            await child.finodelk(fd, domain, cmd, Flock(LkType.WRLCK))

        async def unlock(child: Xlator) -> None:
            await child.finodelk(fd, domain, LkCmd.SETLK, Flock(LkType.UNLCK))

        # Whole-file lock: eager-lock/full-lock/arbiter are on by default (§3.3).
        self.locks = LockAll(afr.children, lock, unlock, label=afr.name)
        self.locked: list[int] = []
        self.active: list[int] = []
        self.failed: set[int] = set()
        self.wrote = False
        self.lost_quorum = False

    def still_locked(self) -> bool:
        """False once a locked child has reconnected since it was locked (its
        lock went with the old connection: writing on would be unlocked)."""
        children = self.afr.children
        return all(children[i].connection is self.connections[i] for i in self.locked)

    async def begin(self) -> None:
        afr = self.afr
        state = afr._state(self.fd)
        candidates = [i for i in sorted(state.opened) if afr.children[i].is_up]
        afr._require_quorum(candidates, self.fop, self.path)
        fd = self.fd
        self.locked = await self.locks.acquire(candidates)
        # A brick drops our locks with our connection: see still_locked().
        self.connections = [child.connection for child in afr.children]
        try:
            afr._require_quorum(self.locked, self.fop, self.path)
            dirty = afr._changelog(DATA, [], 1)
            replies = successes(
                await self.locks.fan_out(
                    self.locked,
                    lambda c: c.fxattrop(fd, fops.XattropFlags.ADD_ARRAY, dirty),
                )
            )
            prepared = list(replies)
            if not afr._has_quorum(prepared):
                await self._clear(prepared, [])
                afr._require_quorum(prepared, self.fop, self.path)
            blamed = afr._blamed_by(replies, DATA)
            good = [i for i in prepared if i not in blamed]
            if afr.arbiter is not None and good == [afr.arbiter]:
                # The arbiter holds no data: it alone cannot be the source.
                await self._clear(prepared, [])
                raise FopError(
                    self.fop, self.path, None, errno.ENOTCONN, xlator=afr.name
                )
            if not good:
                # Only blamed (stale) copies reachable: writing would bless them.
                await self._clear(prepared, [])
                raise FopError(self.fop, self.path, None, errno.EIO, xlator=afr.name)
            self.active = sorted(prepared)
            self.failed = {i for i in range(len(afr.children)) if i not in prepared}
        except BaseException:
            await self.locks.release()
            raise

    async def run(
        self, fop: str, call: Callable[[Xlator], Awaitable[GfxIattx]]
    ) -> GfxIattx:
        afr = self.afr
        targets = [i for i in self.active if i not in self.failed]
        results = await afr._each(targets, call)
        done = successes(results)
        failed = failures(results)
        if (
            not done
            and failed
            and all(isinstance(f.error, FopError) for f in failed.values())
        ):
            # The same refusal everywhere (ENOSPC, EINVAL...): nothing diverged.
            raise next(iter(failed.values())).error
        for index, failure in failed.items():
            log.warning(
                "%s: %s on %s failed, it will be blamed: %s",
                afr.name,
                fop,
                afr._brick(index),
                failure.error,
            )
            self.failed.add(index)
            self.release = True  # the blame goes on record now, not later
        self.wrote = True
        if not afr._has_quorum(list(done)):
            self.lost_quorum = True
            self.release = True
            afr._quorum_lost(done, fop, self.path)
        return done[afr._pick(done)]

    async def _clear(self, on: Sequence[int], missed: Sequence[int]) -> None:
        values = self.afr._changelog(DATA, missed, -1)
        fd = self.fd
        await self.locks.fan_out(
            on, lambda c: c.fxattrop(fd, fops.XattropFlags.ADD_ARRAY, values)
        )

    async def end(self) -> None:
        afr = self.afr
        try:
            if self.lost_quorum:
                # Leave the copies dirty: the self-heal daemon decides (§3.3 5).
                log.warning(
                    "%s: %s lost quorum; %s left dirty for self-heal",
                    afr.name,
                    self.fop,
                    self.path,
                )
                return
            succeeded = [i for i in self.active if i not in self.failed]
            if self.wrote and afr.ensure_durability and succeeded:
                # Data stable before the dirty mark goes (afr_changelog_fsync).
                fd = self.fd
                synced = await afr._each(succeeded, lambda c: c.fsync(fd, True))
                for index, result in synced.items():
                    if isinstance(result, ChildFailure):
                        self.failed.add(index)
                succeeded = [i for i in succeeded if i not in self.failed]
            missed = [i for i in range(len(afr.children)) if i not in succeeded]
            await self._clear(succeeded, missed if self.wrote else [])
            if self.wrote and missed:
                inode = afr._inodes.get(self.fd.gfid)
                if inode is not None:
                    for index in missed:
                        inode.readable[index] = False
        finally:
            await self.locks.release()
