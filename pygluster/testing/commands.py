"""Running the gluster CLI and other system commands for the test tooling.

Every command runs with a timeout, its stdout and stderr captured together,
and a failure raises :class:`~pygluster.errors.ClusterError` (or the error
type the caller names) carrying the command line and the end of its output.
Progress goes to the ``pygluster.testing`` logger.
"""

from __future__ import annotations

import logging
import subprocess
import time
import xml.etree.ElementTree as ET

from pygluster.errors import ClusterError

__all__ = ["CLI_TIMEOUT", "gluster", "gluster_xml", "log", "run", "tail"]

CLI_TIMEOUT = 300.0  # s for one gluster CLI call (its own default is 120 s)
# glusterd refuses concurrent volume operations with one of these (someone
# else runs gluster commands at the same time); retry them for a while
_BUSY = ("Another transaction is in progress", "Locking failed", "locking failed")
_BUSY_RETRY_FOR = 30.0  # s

_logger = logging.getLogger("pygluster.testing")


def log(message: str) -> None:
    """One line of progress (the CLI shows these on stderr)."""
    _logger.info("%s", message)


def tail(text: str, lines: int = 40) -> str:
    """The last ``lines`` lines of ``text``, indented, for an error message."""
    parts = text.rstrip("\n").splitlines()
    if len(parts) > lines:
        parts = [f"... ({len(parts) - lines} earlier lines cut)", *parts[-lines:]]
    return "\n".join("    " + p for p in parts) if parts else "    (no output)"


def run(
    cmd: list[str],
    *,
    timeout: float = CLI_TIMEOUT,
    check: bool = True,
    env: dict[str, str] | None = None,
    input_text: str | None = None,
    error: type[ClusterError] = ClusterError,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; with ``check`` a non-zero exit raises ``error``."""
    try:
        cp = subprocess.run(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL if input_text is None else None,
            input=input_text,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except OSError as e:
        raise error(f"cannot run {' '.join(cmd)}: {e}") from e
    except subprocess.TimeoutExpired as e:
        out = e.output
        if not isinstance(out, str):
            out = (out or b"").decode(errors="replace")
        raise error(
            f"`{' '.join(cmd)}` did not finish within {timeout:.0f} s; output:\n"
            + tail(out)
        ) from e
    if check and cp.returncode != 0:
        raise error(
            f"`{' '.join(cmd)}` failed (exit {cp.returncode}); output:\n"
            + tail(cp.stdout)
        )
    return cp


def gluster(
    *args: str,
    check: bool = True,
    timeout: float = CLI_TIMEOUT,
    error: type[ClusterError] = ClusterError,
) -> subprocess.CompletedProcess[str]:
    """``gluster --mode=script ARGS``, retried while glusterd says another
    transaction holds the volume lock."""
    cmd = ["gluster", "--mode=script", *args]
    deadline = time.monotonic() + _BUSY_RETRY_FOR
    while True:
        cp = run(cmd, check=False, timeout=timeout, error=error)
        busy = cp.returncode != 0 and any(b in cp.stdout for b in _BUSY)
        if not busy or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if check and cp.returncode != 0:
        raise error(
            f"`{' '.join(cmd)}` failed (exit {cp.returncode}); output:\n"
            + tail(cp.stdout)
        )
    return cp


def gluster_xml(*args: str, error: type[ClusterError] = ClusterError) -> ET.Element:
    """Run a gluster CLI command with ``--xml``; the ``<cliOutput>`` root,
    whose opRet must be 0."""
    cp = gluster(*args, "--xml", check=False, error=error)
    what = f"`gluster {' '.join(args)} --xml`"
    try:
        root = ET.fromstring(cp.stdout)
    except ET.ParseError:
        raise error(
            f"{what} failed (exit {cp.returncode}); output:\n" + tail(cp.stdout)
        ) from None
    if cp.returncode != 0 or root.findtext("opRet", "-1") != "0":
        raise error(
            f"{what} failed (exit {cp.returncode}): "
            f"{root.findtext('opErrstr') or '(no opErrstr)'}"
        )
    return root
