"""Progress display for long copies on the command line.

:func:`open_progress` shows a ``tqdm`` bar when tqdm is installed (the ``cli``
extra) and a plain percentage otherwise; it never fails because of the
display. A disabled progress is a no-op, so callers update it unconditionally.
"""

from __future__ import annotations

import importlib
import sys
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, Protocol, TextIO

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["Progress", "open_progress"]


class Progress(Protocol):
    """What a copy reports to: bytes done since the last call."""

    def update(self, n: int) -> None:
        """Add ``n`` bytes to the count."""


class _Silent:
    def update(self, n: int) -> None:
        pass


class _TqdmProgress:
    def __init__(self, bar: Any) -> None:
        self._bar = bar

    def update(self, n: int) -> None:
        if self._bar is None:
            return
        try:
            self._bar.update(n)
        except Exception:
            self._bar = None  # a broken display must never fail the copy


class _PercentProgress:
    """``label: 42% (n of total bytes)``, redrawn in place on a terminal.

    Elsewhere (a log file) one line per 10% keeps the output short.
    """

    def __init__(self, total: int | None, label: str, stream: TextIO) -> None:
        self._total = total
        self._label = label
        self._stream = stream
        self._tty = stream.isatty()
        self._done = 0
        self._shown = -1

    def update(self, n: int) -> None:
        self._done += n
        if self._total is None:
            step = self._done >> 26  # unknown size: every 64 MiB
            text = f"{self._label}: {self._done} bytes"
        else:
            percent = 100 if not self._total else self._done * 100 // self._total
            step = percent if self._tty else percent // 10
            text = f"{self._label}: {percent}% ({self._done} of {self._total} bytes)"
        if step != self._shown:
            self._shown = step
            self._write(text)

    def _write(self, text: str) -> None:
        try:
            if self._tty:
                self._stream.write(f"\r{text}\x1b[K")
            else:
                self._stream.write(f"{text}\n")
            self._stream.flush()
        except (OSError, ValueError):
            pass  # a closed or broken stderr must not fail the copy

    def close(self) -> None:
        if self._tty and self._shown != -1:
            try:
                self._stream.write("\n")  # keep the last state on its own line
                self._stream.flush()
            except (OSError, ValueError):
                pass


def _load_tqdm() -> Any:
    try:
        module = importlib.import_module("tqdm")
        bar_class = module.tqdm
        # No monitor thread: the copy's own updates drive the bar.
        bar_class.monitor_interval = 0
    except Exception:
        return None
    return bar_class


@contextmanager
def open_progress(
    total: int | None, *, enabled: bool, label: str, stream: TextIO | None = None
) -> Iterator[Progress]:
    """A progress display for ``total`` bytes (None when unknown).

    Args:
        total: bytes the whole job will report.
        enabled: False gives a display that shows nothing.
        label: what is shown before the bar (e.g. the source name).
        stream: where it is drawn; standard error by default.
    """
    out = sys.stderr if stream is None else stream
    if not enabled:
        yield _Silent()
        return
    bar_class = _load_tqdm()
    bar: Any = None
    if bar_class is not None:
        try:
            bar = bar_class(
                total=total,
                desc=label,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=out,
                dynamic_ncols=True,
                leave=True,
            )
        except Exception:
            bar = None
    if bar is not None:
        try:
            yield _TqdmProgress(bar)
        finally:
            with suppress(Exception):  # the display must never fail a copy
                bar.close()
        return
    fallback = _PercentProgress(total, label, out)
    try:
        yield fallback
    finally:
        fallback.close()
