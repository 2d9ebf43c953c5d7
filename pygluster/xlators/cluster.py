"""What the cluster translators share: fan-out, lock-all and quorum.

Replicate (and disperse, next) send one fop to several children at once and
decide from the set of answers; they lock every child before a transaction
without ever deadlocking against another client; and they refuse to act
without a quorum. This module holds those three pieces, with no policy of
either translator in them (gluster: ``afr-lk-common.c``, ``ec-locks.c``,
``afr_has_quorum`` / ``ec``'s ``fop->minimum``).
"""

from __future__ import annotations

import errno
import functools
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import trio

from pygluster._concurrency import run_all
from pygluster.errors import FopError, QuorumError, TransportError
from pygluster.xlators.base import frame

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

    from pygluster.xlators.base import Xlator

__all__ = [
    "ChildFailure",
    "LockAll",
    "Quorum",
    "failures",
    "fan_out",
    "first_error",
    "successes",
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
