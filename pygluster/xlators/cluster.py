"""What the cluster translators share: fan-out, lock-all, quorum, eager locks.

Replicate and disperse send one fop to several children at once and decide
from the set of answers; they lock every child before a transaction without
ever deadlocking against another client; they refuse to act without a
quorum; and they keep a transaction's lock after its fop for the next ones
(eager locking) until the file has been idle a while or someone else wants
the lock. This module holds those pieces, with no policy of either
translator in them (gluster: ``afr-lk-common.c``, ``ec-locks.c``,
``afr_has_quorum`` / ``ec``'s ``fop->minimum``, ``afr_delayed_changelog``
/ ``ec_unlock_timer_add``).
"""

from __future__ import annotations

import contextvars
import errno
import functools
import logging
import math
import os
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

import trio

from pygluster._concurrency import run_all
from pygluster.errors import FopError, QuorumError, TransportError
from pygluster.xlators.base import frame

if TYPE_CHECKING:
    from collections.abc import (
        AsyncIterator,
        Awaitable,
        Callable,
        Iterable,
        Mapping,
        Sequence,
    )

    from pygluster.xlators.base import Fd, Xlator

__all__ = [
    "ChildFailure",
    "EagerLocks",
    "EagerTransaction",
    "LockAll",
    "Quorum",
    "failures",
    "fan_out",
    "first_error",
    "successes",
    "super_fast_hash",
]

log = logging.getLogger("pygluster.cluster")

T = TypeVar("T")


@dataclass
class ChildFailure:
    """A child's fop that failed, kept beside the successes of the others."""

    error: FopError | TransportError

    @property
    def errno(self) -> int | None:
        return self.error.errno if isinstance(self.error, FopError) else None


async def fan_out(
    children: Sequence[Xlator],
    indexes: Iterable[int],
    call: Callable[[Xlator], Awaitable[T]],
    *,
    catch: tuple[type[FopError | TransportError], ...] = (FopError, TransportError),
) -> dict[int, T | ChildFailure]:
    """Run ``call`` on the given children concurrently; results or failures.

    A child's error of a ``catch`` type becomes its :class:`ChildFailure`;
    anything else (and cancellation) propagates, cancelling the others.
    """
    results: dict[int, T | ChildFailure] = {}

    async def one(index: int) -> None:
        try:
            results[index] = await call(children[index])
        except catch as exc:
            results[index] = ChildFailure(exc)

    await run_all(functools.partial(one, index) for index in indexes)
    return results


def successes(results: Mapping[int, T | ChildFailure]) -> dict[int, T]:
    """The children that succeeded, with their results."""
    return {i: r for i, r in results.items() if not isinstance(r, ChildFailure)}


def failures(results: Mapping[int, T | ChildFailure]) -> dict[int, ChildFailure]:
    """The children that failed, with how."""
    return {i: r for i, r in results.items() if isinstance(r, ChildFailure)}


def first_error(
    results: Mapping[int, T | ChildFailure],
) -> FopError | TransportError | None:
    """The error of the first child (in answer order) that failed, if any."""
    for result in results.values():
        if isinstance(result, ChildFailure):
            return result.error
    return None


@dataclass(frozen=True, slots=True)
class Quorum:
    """How many children must take part (afr_has_quorum's three rules).

    Attributes:
        kind: ``auto`` (more than half, or exactly half including the first
            child), ``fixed`` (at least ``count``) or ``none`` (one).
        count: the ``fixed`` count.
        children: how many children there are.
    """

    kind: str
    count: int
    children: int

    def rule(self) -> str:
        """The rule in words, for messages."""
        n = self.children
        if self.kind == "fixed":
            return f"at least {self.count} of {n}"
        if self.kind == "auto":
            return f"more than half of {n}, or half including the first brick"
        return "at least one"

    def met(self, indexes: Iterable[int]) -> bool:
        """True when the children ``indexes`` make a quorum."""
        present = set(indexes)
        count = len(present)
        n = self.children
        if self.kind == "fixed":
            return count >= max(1, self.count)
        if self.kind == "auto":
            # afr_has_quorum: > n/2, or exactly n/2 including child 0.
            return 2 * count > n or (2 * count == n and 0 in present)
        return count >= 1

    def error(
        self, have: Sequence[str], fop: str, target: str, xlator: str
    ) -> QuorumError:
        """The QuorumError for having only the children named ``have``."""
        return QuorumError(fop, target, xlator, have, self.rule())

    def require(
        self,
        indexes: Iterable[int],
        fop: str,
        target: str,
        xlator: str,
        names: Sequence[str],
    ) -> None:
        """Raise :class:`QuorumError` unless ``indexes`` make a quorum.

        ``names`` names every child, for the message.
        """
        present = list(indexes)
        if not self.met(present):
            have = [names[i] for i in sorted(set(present))]
            raise self.error(have, fop, target, xlator)


class LockAll:
    """One lock taken on several children, without deadlocking other clients.

    Non-blocking on all children at once; if any is busy (EAGAIN), the ones
    granted are released and the lock is taken blocking one child at a time
    in index order (afr-lk-common.c), so two clients can never each hold a
    part and wait for the other. Children that fail otherwise (down, errors)
    are left out: the caller decides (quorum) whether it may go on.

    Every lock, unlock and fop wound through :meth:`fan_out` carries this
    lock's owner of its own (a fresh lk-owner per transaction, carried in the
    call frame), so no other lock of ours can share it.

    Args:
        children: the cluster translator's children.
        lock: take the lock on one child, blocking or not.
        unlock: release it on one child.
        label: who locks, for log lines (the translator name).
    """

    def __init__(
        self,
        children: Sequence[Xlator],
        lock: Callable[[Xlator, bool], Awaitable[None]],
        unlock: Callable[[Xlator], Awaitable[None]],
        *,
        label: str,
    ) -> None:
        self._children = children
        self._lock = lock
        self._unlock = unlock
        self._label = label
        self.owner = os.urandom(8)
        #: The children holding the lock, in index order.
        self.locked: list[int] = []

    async def fan_out(
        self, indexes: Iterable[int], call: Callable[[Xlator], Awaitable[T]]
    ) -> dict[int, T | ChildFailure]:
        """:func:`fan_out` with the fops owned by this lock's owner."""
        with frame(lk_owner=self.owner):
            return await fan_out(self._children, indexes, call)

    async def acquire(self, indexes: Sequence[int]) -> list[int]:
        """Lock the children ``indexes``; return those locked (index order)."""
        results = await self.fan_out(indexes, lambda c: self._lock(c, False))
        locked = sorted(successes(results))
        busy = [i for i, r in failures(results).items() if r.errno == errno.EAGAIN]
        if busy:
            with trio.CancelScope(shield=True):
                await self.fan_out(locked, self._unlock)
            locked = []
            with frame(lk_owner=self.owner):
                for index in sorted(indexes):
                    try:
                        await self._lock(self._children[index], True)
                    except (FopError, TransportError) as exc:
                        log.info(
                            "%s: lock on %s failed: %s",
                            self._label,
                            self._children[index],
                            exc,
                        )
                        continue
                    locked.append(index)
        self.locked = locked
        return locked

    async def release(self) -> None:
        """Unlock every child that holds the lock (shielded; never raises)."""
        with trio.CancelScope(shield=True):
            await self.fan_out(self.locked, self._unlock)


def super_fast_hash(data: bytes) -> int:
    """Paul Hsieh's SuperFastHash as gluster has it (libglusterfs hashfn.c).

    AFR's read-hash-mode 1 picks ``super_fast_hash(gfid) % child_count``,
    and disperse's read-policy gfid-hash its first brick the same way.
    16-bit reads are little-endian (x86), and the tail bytes are C ``char``,
    signed on x86.
    """
    mask = 0xFFFF_FFFF
    length = len(data)
    if length == 0:
        return 0
    value = length
    rem = length & 3
    pos = 0
    for _ in range(length >> 2):
        value = (value + int.from_bytes(data[pos : pos + 2], "little")) & mask
        tmp = ((int.from_bytes(data[pos + 2 : pos + 4], "little") << 11) ^ value) & mask
        value = ((value << 16) & mask) ^ tmp
        pos += 4
        value = (value + (value >> 11)) & mask

    def signed(byte: int) -> int:
        return byte - 256 if byte >= 128 else byte

    if rem == 3:
        value = (value + int.from_bytes(data[pos : pos + 2], "little")) & mask
        value ^= (value << 16) & mask
        value ^= (signed(data[pos + 2]) << 18) & mask
        value = (value + (value >> 11)) & mask
    elif rem == 2:
        value = (value + int.from_bytes(data[pos : pos + 2], "little")) & mask
        value ^= (value << 11) & mask
        value = (value + (value >> 17)) & mask
    elif rem == 1:
        value = (value + signed(data[pos])) & mask
        value ^= (value << 10) & mask
        value = (value + (value >> 1)) & mask
    value ^= (value << 3) & mask
    value = (value + (value >> 5)) & mask
    value ^= (value << 4) & mask
    value = (value + (value >> 17)) & mask
    value ^= (value << 25) & mask
    value = (value + (value >> 6)) & mask
    return value


# --- eager locking --------------------------------------------------------------


class EagerTransaction:
    """What every eager-locked transaction has: who uses it, since when
    nobody has, whether it must end, and its life (ready, ended).

    Subclasses lock and prepare in :meth:`begin` and post and unlock in
    :meth:`end`; :class:`EagerLocks` decides when.
    """

    def __init__(self, fd: Fd) -> None:
        self.fd = fd
        self.users = 0
        self.idle_since = trio.current_time()
        #: Asked to end: no new fop joins it, it ends once the last use does.
        self.release = False
        self.closing = False
        self.ready = trio.Event()
        self.ended = trio.Event()
        self._wake = trio.Event()

    async def begin(self) -> None:
        raise NotImplementedError

    async def end(self) -> None:
        raise NotImplementedError

    def joinable(self) -> bool:
        """Whether a new fop may still join it."""
        return not (self.release or self.closing)

    def still_locked(self) -> bool:
        """False once a locked child has reconnected (the lock went with the
        old connection: going on would be unlocked)."""
        return True

    def kick(self) -> None:
        """Wake the task holding it to look at it again."""
        self._wake.set()

    def rearm(self) -> trio.Event:
        self._wake = trio.Event()
        return self._wake

    def end_soon(self) -> None:
        """End it as soon as the fops using it are done; none join it now."""
        self.release = True
        self.kick()


Txn = TypeVar("Txn", bound=EagerTransaction)


class EagerSlot(Protocol[Txn]):
    """Where a translator keeps an fd's eager transaction (its fd state)."""

    eager: Txn | None


#: The eager transactions the current task (and the tasks it started) uses:
#: a fop nested in one (write-behind's writes inside its session) joins it
#: even when it has been asked to end.
_HELD: contextvars.ContextVar[tuple[EagerTransaction, ...]] = contextvars.ContextVar(
    "pygluster_eager_held", default=()
)


class EagerLocks(Generic[Txn]):
    """The eager transactions of one cluster translator.

    A fop joins its fd's transaction, or begins one, which a task of its
    own then holds until nobody has used it for ``delay`` seconds, until it
    is asked to end (another client's lock waits, a failure, flush), or for
    ``max_seconds`` at most, so that a client whose bricks tell nothing of
    waiters still gets its turn; then it ends (post-op, unlock) within
    ``end_seconds``, shielded from cancellation.
    """

    def __init__(
        self,
        label: str,
        nursery: trio.Nursery,
        delay: float,
        *,
        max_seconds: float = 30.0,
        end_seconds: float = 60.0,
    ) -> None:
        self._label = label
        self._nursery = nursery
        self.delay = delay
        self.max_seconds = max_seconds
        self.end_seconds = end_seconds
        #: gfid -> its transactions, for contention notices.
        self._holding: dict[bytes, set[Txn]] = {}

    @asynccontextmanager
    async def use(
        self, slot: EagerSlot[Txn], make: Callable[[], Txn]
    ) -> AsyncIterator[Txn]:
        """The slot's eager transaction (joined or begun), in use for the body."""
        txn = await self.join(slot, make)
        token = _HELD.set((*_HELD.get(), txn))
        try:
            yield txn
        finally:
            _HELD.reset(token)
            self.unuse(txn)

    async def join(self, slot: EagerSlot[Txn], make: Callable[[], Txn]) -> Txn:
        """The transaction to use, counted in use (release with :meth:`unuse`).

        One asked to end is joined only by fops nested in a use of it; the
        others wait for it to end and begin the next, so the lock is let go
        once the fops in flight drain.
        """
        held = _HELD.get()
        while True:
            txn = slot.eager
            if txn is None:
                break
            if txn in held:
                txn.users += 1
                return txn
            if not txn.ready.is_set():
                await txn.ready.wait()  # being begun by another fop
            elif not txn.joinable() or not txn.still_locked():
                txn.end_soon()
                await txn.ended.wait()  # a new one only once it is unlocked
            else:
                txn.users += 1
                return txn
        txn = make()
        slot.eager = txn
        # Listed before it locks: the contention notice for a lock often
        # comes while the pre-op is still under way.
        self._holding.setdefault(txn.fd.gfid, set()).add(txn)
        try:
            await txn.begin()
        except BaseException:
            slot.eager = None
            self._forget(txn)
            txn.ended.set()
            raise
        finally:
            txn.ready.set()
        txn.users += 1
        self._nursery.start_soon(self._hold, slot, txn)
        return txn

    @staticmethod
    def unuse(txn: Txn) -> None:
        txn.users -= 1
        if not txn.users:
            txn.idle_since = trio.current_time()
            if txn.release:
                txn.kick()  # its holder waits for the last use to end

    async def _hold(self, slot: EagerSlot[Txn], txn: Txn) -> None:
        """Keep ``txn`` until it has to end, then end it."""
        give_up = trio.current_time() + self.max_seconds
        delay = self.delay
        try:
            while True:
                now = trio.current_time()
                if now >= give_up:
                    txn.release = True
                if not txn.users and (txn.release or now >= txn.idle_since + delay):
                    break
                # Not woken per fop: a use ending kicks only a transaction
                # asked to end; otherwise look again when the delay could be
                # up (a fop in between moves idle_since on).
                if txn.release:
                    deadline = math.inf
                elif txn.users:
                    deadline = min(now + delay, give_up)
                else:
                    deadline = min(txn.idle_since + delay, give_up)
                wake = txn.rearm()
                with trio.move_on_at(deadline):
                    await wake.wait()
        finally:
            txn.closing = True
            # Shielded: the lock and the dirty mark must not outlive us for
            # want of a cancelled task; bounded: a brick that went away frees
            # its locks itself.
            with trio.move_on_after(self.end_seconds) as scope:
                scope.shield = True
                try:
                    await txn.end()
                except (FopError, TransportError) as exc:
                    log.warning(
                        "%s: ending the transaction on %s: %s",
                        self._label,
                        txn.fd.loc.path,
                        exc,
                    )
            if slot.eager is txn:
                slot.eager = None
            self._forget(txn)
            txn.ended.set()

    def _forget(self, txn: Txn) -> None:
        holding = self._holding.get(txn.fd.gfid)
        if holding is not None:
            holding.discard(txn)
            if not holding:
                del self._holding[txn.fd.gfid]

    async def settle(self, slot: EagerSlot[Txn]) -> None:
        """End the slot's transaction now (post-op, unlock) and wait for it;
        not one the current task uses (that would wait for itself)."""
        txn = slot.eager
        if txn is not None and txn not in _HELD.get():
            txn.end_soon()
            await txn.ended.wait()

    def contend(self, gfid: bytes) -> None:
        """Another lock owner waits for ours on ``gfid``: let it go once the
        fops in flight are done (afr_contention_notify, ec_lock_release)."""
        for txn in self._holding.get(gfid, ()):
            txn.end_soon()

    @staticmethod
    def contended(slot: EagerSlot[Txn]) -> bool:
        """The slot's transaction has been asked to end."""
        return slot.eager is not None and slot.eager.release
