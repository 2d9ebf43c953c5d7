"""With glusterd stopped, commands fail fast with one clear line.

Named to run last: it stops the real glusterd (the brick processes keep
running) and starts it again through scripts/cluster.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.conftest import CLUSTER_SCRIPT, GLUSTERD_SOCKET, run_cli

PIDFILE = Path("/var/run/glusterd.pid")


def _glusterd_pid() -> int:
    return int(PIDFILE.read_text().strip())


def _port_open(host: str) -> bool:
    try:
        with socket.create_connection((host, 24007), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def glusterd_stopped(host: str):
    os.kill(_glusterd_pid(), signal.SIGTERM)
    deadline = time.monotonic() + 30
    while _port_open(host):
        assert time.monotonic() < deadline, "glusterd did not stop"
        time.sleep(0.2)
    try:
        yield
    finally:
        subprocess.run(
            [sys.executable, str(CLUSTER_SCRIPT), "up"],
            check=True,
            capture_output=True,
            timeout=300,
        )


@pytest.mark.parametrize(
    "uri",
    ["gluster://{host}/pyg_dist", f"gluster+unix:///pyg_dist?socket={GLUSTERD_SOCKET}"],
)
def test_stopped_glusterd_is_one_clear_line(
    host: str, glusterd_stopped: None, uri: str
) -> None:
    result = run_cli("volfile", uri.format(host=host), timeout=15)
    stderr = result.stderr.decode()
    assert result.returncode == 1
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith("pygluster: error: cannot connect to ")
    assert "Traceback" not in stderr
