"""Small structured-concurrency helpers shared by the trio layers.

trio wraps every exception leaving a nursery in an ``ExceptionGroup``. Callers
of pygluster should see the ``FopError`` or ``TransportError`` that happened,
not a group around it, so the two helpers here unwrap on purpose.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, TypeVar

import trio

from pygluster.errors import GlusterError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

__all__ = ["background_nursery", "one_error", "run_all"]

log = logging.getLogger("pygluster")

T = TypeVar("T")


async def run_all(calls: Iterable[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the calls concurrently; return their results in order.

    If any fails, the others are cancelled and the first failure (in time) is
    raised as itself; later ones are logged. Cancellation is never swallowed.
    """
    jobs = list(calls)
    results: list[T | None] = [None] * len(jobs)
    errors: list[Exception] = []

    async def one(
        index: int, call: Callable[[], Awaitable[T]], scope: trio.CancelScope
    ) -> None:
        try:
            results[index] = await call()
        except Exception as exc:
            errors.append(exc)
            scope.cancel()

    if len(jobs) <= 1:
        return [await jobs[0]()] if jobs else []
    async with trio.open_nursery() as nursery:
        last = len(jobs) - 1
        for index, call in enumerate(jobs[:last]):
            nursery.start_soon(one, index, call, nursery.cancel_scope)
        # The last one in this task: a task fewer to spawn and schedule per
        # fan-out (replicate's every write), the same concurrency.
        await one(last, jobs[last], nursery.cancel_scope)
    if errors:
        for extra in errors[1:]:
            log.debug("also failed: %s", extra)
        raise errors[0]
    return results  # type: ignore[return-value]  # every slot was filled


@asynccontextmanager
async def background_nursery() -> AsyncIterator[trio.Nursery]:
    """A nursery for background tasks that end when the body ends.

    The body's own exception propagates as itself (not in a group); the
    background tasks are cancelled when the body finishes either way.
    """
    body_error: BaseException | None = None
    async with trio.open_nursery() as nursery:
        try:
            yield nursery
        except trio.Cancelled:
            raise
        except BaseException as exc:
            body_error = exc
        finally:
            nursery.cancel_scope.cancel()
    if body_error is not None:
        try:
            raise body_error
        finally:
            body_error = None  # break the frame <-> exception reference cycle


def one_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The exception to raise instead of ``group`` at the public API.

    pygluster's callers get one exception of the pygluster hierarchy, never
    a trio group: the first pygluster error in the group (depth first) is
    returned, and the others are attached to it as notes ("also: ..."),
    which is how several bricks failing at once is reported. A group
    holding a cancellation is returned as it is, for trio to handle; one
    with no pygluster error returns its first leaf (a bug, kept visible).
    """
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        exc = pending.pop()
        if isinstance(exc, BaseExceptionGroup):
            pending.extend(reversed(exc.exceptions))
        else:
            leaves.append(exc)
    if not leaves or any(isinstance(leaf, trio.Cancelled) for leaf in leaves):
        return group
    ours = [leaf for leaf in leaves if isinstance(leaf, GlusterError)]
    first = ours[0] if ours else leaves[0]
    for other in leaves:
        if other is not first:
            first.add_note(f"also: {type(other).__name__}: {other}")
    return first
