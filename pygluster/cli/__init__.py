"""The ``pygluster`` command line: one module per command.

:mod:`~pygluster.cli.app` holds the global options and the entry point;
:mod:`~pygluster.cli.options` what the commands share; the ``cp`` copy
engine is :mod:`~pygluster.cli.copy` and the ``io`` language
:mod:`~pygluster.cli.iolang` (pure: importing it loads no trio, which is why
this package's ``__init__`` imports nothing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pygluster`` console script (see pygluster.cli.app)."""
    from pygluster.cli.app import main as run

    return run(argv)
