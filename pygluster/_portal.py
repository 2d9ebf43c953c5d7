"""Run trio in a helper thread so that synchronous code can call async pygluster.

The shape of anyio's ``start_blocking_portal``: one thread runs ``trio.run``;
synchronous callers hand it coroutine functions through
``trio.from_thread.run`` and block until they finish.

Theory of operation
-------------------
:meth:`Portal.start` starts the thread and waits (through a
``concurrent.futures.Future``) until trio is running and has handed back its
``TrioToken``. The trio side is one main task with a nursery.

:meth:`Portal.enter` runs an async context manager *inside* the trio thread,
in a task of its own that enters it, reports the value, then waits for
:meth:`Portal.close` before exiting it. Nurseries must be opened and closed by
the same task, so the context manager never leaves that task.

:meth:`Portal.call` runs one coroutine function in the trio thread, with an
optional deadline (sync callers have no cancel scopes): expiry raises
:class:`~pygluster.errors.RpcTimeout`.

:meth:`Portal.close` tells every entered context manager to exit (in reverse
order), waits for them, ends ``trio.run`` and joins the thread. An exception
raised while exiting is re-raised to the caller of ``close``. Calling any
method from inside a trio thread raises ``RuntimeError``: blocking there
would deadlock, and the async API is the right tool.
"""

from __future__ import annotations

import concurrent.futures
import functools
import math
import threading
from typing import TYPE_CHECKING, TypeVar, TypeVarTuple

import trio

from pygluster.errors import RpcTimeout

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from contextlib import AbstractAsyncContextManager

__all__ = ["Portal"]

T = TypeVar("T")
Args = TypeVarTuple("Args")


def _check_not_in_trio(what: str) -> None:
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        return
    raise RuntimeError(
        f"{what} is the blocking API and was called from inside trio, where it "
        "would block the event loop; use the async API (pygluster.open_async)"
    )


class _Entered:
    """One async context manager held open in its own trio task."""

    def __init__(self) -> None:
        self.exit_now = trio.Event()
        self.exited = trio.Event()
        self.exit_error: BaseException | None = None


class Portal:
    """A trio event loop in a background thread, for the sync facade."""

    def __init__(self, name: str = "pygluster-trio") -> None:
        self._name = name
        self._thread: threading.Thread | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._nursery: trio.Nursery | None = None
        self._stop: trio.Event | None = None
        self._entered: list[_Entered] = []

    @property
    def running(self) -> bool:
        """True between a successful :meth:`start` and :meth:`close`."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread and wait until trio runs in it."""
        _check_not_in_trio("Portal.start")
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        thread = threading.Thread(
            target=self._thread_main, args=(ready,), name=self._name, daemon=True
        )
        thread.start()
        ready.result()
        self._thread = thread

    def _thread_main(self, ready: concurrent.futures.Future[None]) -> None:
        try:
            trio.run(self._trio_main, ready)
        except BaseException as exc:  # reported to start() if it never got ready
            if not ready.done():
                ready.set_exception(exc)

    async def _trio_main(self, ready: concurrent.futures.Future[None]) -> None:
        self._token = trio.lowlevel.current_trio_token()
        self._stop = trio.Event()
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            ready.set_result(None)
            await self._stop.wait()
            nursery.cancel_scope.cancel()

    def _run(self, afn: Callable[[*Args], Awaitable[T]], *args: *Args) -> T:
        if self._token is None or not self.running:
            raise RuntimeError("the pygluster portal is not running (closed?)")
        return trio.from_thread.run(afn, *args, trio_token=self._token)

    def call(
        self,
        afn: Callable[[*Args], Awaitable[T]],
        *args: *Args,
        timeout: float | None = None,
        what: str = "call",
    ) -> T:
        """Run ``afn(*args)`` in the trio thread and return its result.

        Args:
            afn: a coroutine function.
            args: its positional arguments.
            timeout: seconds before the call is cancelled; None = no limit.
            what: how to name the call in the timeout error.

        Raises:
            RpcTimeout: the deadline expired.
            RuntimeError: called from inside trio, or after close.
        """
        _check_not_in_trio(what)
        if timeout is None:
            return self._run(afn, *args)
        return self._run(_with_deadline, timeout, what, functools.partial(afn, *args))

    def enter(self, cm: AbstractAsyncContextManager[T]) -> T:
        """Enter ``cm`` in a trio task of its own; :meth:`close` exits it."""
        _check_not_in_trio("Portal.enter")
        return self._run(self._enter, cm)

    async def _enter(self, cm: AbstractAsyncContextManager[T]) -> T:
        assert self._nursery is not None
        entered = _Entered()
        value_box: list[T] = []
        error_box: list[BaseException] = []
        started = trio.Event()

        async def holder() -> None:
            try:
                async with cm as value:
                    value_box.append(value)
                    started.set()
                    await entered.exit_now.wait()
            except BaseException as exc:
                if not started.is_set():
                    error_box.append(exc)
                else:
                    entered.exit_error = exc
                if isinstance(exc, trio.Cancelled):
                    raise
            finally:
                started.set()
                entered.exited.set()

        self._nursery.start_soon(holder)
        await started.wait()
        if error_box:
            raise error_box[0]
        self._entered.append(entered)
        return value_box[0]

    def close(self) -> None:
        """Exit every entered context manager, stop trio, join the thread.

        Raises:
            BaseException: whatever exiting a context manager raised (first one).
        """
        _check_not_in_trio("Portal.close")
        if self._thread is None:
            return
        first_error: BaseException | None = None
        if self.running:
            first_error = self._run(self._close)
        self._thread.join()
        self._thread = None
        if first_error is not None:
            raise first_error

    async def _close(self) -> BaseException | None:
        first_error: BaseException | None = None
        while self._entered:
            entered = self._entered.pop()
            entered.exit_now.set()
            await entered.exited.wait()
            if entered.exit_error is not None and first_error is None:
                first_error = entered.exit_error
        assert self._stop is not None
        self._stop.set()
        return first_error


async def _with_deadline(
    seconds: float, what: str, afn: Callable[[], Awaitable[T]]
) -> T:
    with trio.move_on_after(seconds if seconds >= 0 else math.inf) as scope:
        return await afn()
    assert scope.cancelled_caught
    raise RpcTimeout(f"{what} did not finish within {seconds:g} s")
