"""Fixtures for tests against the real local cluster that scripts/cluster starts.

These tests never skip: if glusterd is not reachable they fail, loudly. Point
them at another cluster with PYGLUSTER_TEST_HOST (brick host / glusterd).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLUSTER_SCRIPT = REPO / "scripts" / "cluster"
VOLUMES = ("pyg_single", "pyg_dist", "pyg_rep3", "pyg_arb", "pyg_ec", "pyg_shard")
GLUSTERD_SOCKET = "/var/run/glusterd.socket"


@pytest.fixture(scope="session")
def host() -> str:
    """The brick host (and glusterd) of the test cluster."""
    name = os.environ.get("PYGLUSTER_TEST_HOST")
    if not name:
        name = subprocess.run(
            [sys.executable, str(CLUSTER_SCRIPT), "host"],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
    with socket.create_connection((name, 24007), timeout=5):
        pass  # fail here, clearly, if glusterd is not up: run scripts/cluster up
    return name


def run_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[bytes]:
    """Run the pygluster command as a user would; a hang fails the test."""
    return subprocess.run(
        [sys.executable, "-m", "pygluster.cli", *args],
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def gluster(*args: str, timeout: float = 120) -> str:
    """Run the gluster CLI (the reference) and return its stdout."""
    return subprocess.run(
        ["gluster", "--mode=script", *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    ).stdout
