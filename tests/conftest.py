"""Test configuration: trio tests without a plugin, hypothesis profiles, and
the ``integration`` marker on everything that needs the real cluster."""

from __future__ import annotations

import functools
import inspect
import os
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


_INTEGRATION = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration/ ``integration`` (it needs the
    real cluster), so ``-m "not integration"`` runs the offline rest."""
    for item in items:
        if item.path.is_relative_to(_INTEGRATION):
            item.add_marker(pytest.mark.integration)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests under trio (trio's own pytest_plugin shape)."""
    func = pyfuncitem.obj
    if not inspect.iscoroutinefunction(func):
        return None
    argnames = pyfuncitem._fixtureinfo.argnames
    kwargs: dict[str, Any] = {name: pyfuncitem.funcargs[name] for name in argnames}

    @functools.wraps(func)
    def run() -> None:
        clock = kwargs.get("autojump_clock")
        trio.run(functools.partial(func, **kwargs), clock=clock)

    run()
    return True


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    """A clock that jumps ahead whenever every task is blocked."""
    return trio.testing.MockClock(autojump_threshold=0)
