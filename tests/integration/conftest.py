"""Fixtures for tests against the real local cluster, on the pygluster.testing
plugin (``gluster_cluster``: packages, glusterd).

These tests do not skip: if no cluster can be set up they fail, loudly
(unless --gluster-skip-unavailable is given). The
project's standing volumes (pyg_*, :func:`pygluster.testing.project_volumes`)
are made once per session; tests that need a volume of their own take
``gluster_volume``. ``--gluster-host NAME`` points them at a glusterd already
running here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pygluster.testing import project_volumes
from pygluster.testing.cluster import GLUSTERD_SOCKET, PACKAGES, brick_root

if TYPE_CHECKING:
    from pygluster.testing import LocalCluster, Volume

REPO = Path(__file__).resolve().parents[2]
VOLUMES = (
    "pyg_single",
    "pyg_dist",
    "pyg_rep3",
    "pyg_arb",
    "pyg_ec",
    "pyg_ec42",
    "pyg_dec",
    "pyg_shard",
)
__all__ = ["GLUSTERD_SOCKET"]


@pytest.fixture(scope="session")
def project_cluster(gluster_cluster: LocalCluster) -> dict[str, Volume]:
    """The project's standing volumes, up (idempotent: seconds when they are)."""
    volumes = gluster_cluster.up(
        project_volumes(gluster_cluster.host), packages=PACKAGES
    )
    return {v.name: v for v in volumes}


@pytest.fixture(scope="session")
def host(gluster_cluster: LocalCluster, project_cluster: dict[str, Volume]) -> str:
    """The brick host (and glusterd) of the test cluster."""
    return gluster_cluster.host


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


#: qemu-io commands to put first on a disperse volume. QEMU's gluster driver
#: opens an image with a SEEK_DATA at EOF (block/gluster.c
#: qemu_gluster_test_seek); libgfapi's disperse answers it ENXIO without asking
#: a brick (ec-inode-read.c ec_manager_seek), and when the next fop joins that
#: lock before the SEEK has let it go, ec_lock_next_owner clears every brick
#: from the lock's good mask: that write fails with EIO ("Insufficient
#: available children ... Mask: 000"). A libgfapi race, not the server's or
#: ours; a short pause lets the SEEK finish first.
QEMU_IO_SETTLE = ("-c", "sleep 200")


def qemu(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run qemu-img/qemu-io (libgfapi underneath: the reference client).

    Each run costs ~10 s (libgfapi's shutdown), so tests batch their commands.
    """
    return subprocess.run(
        list(args), capture_output=True, text=True, timeout=timeout, check=False
    )


class FuseMounts:
    """FUSE mounts of test volumes (the same client translators as libgfapi),
    for bulk set-up and checks that would take too long through qemu."""

    def __init__(self, host: str, root: Path) -> None:
        self.host = host
        self.root = root
        self.mounted: dict[str, Path] = {}

    def __call__(self, volume: str) -> Path:
        if volume in self.mounted:
            return self.mounted[volume]
        point = self.root / volume
        point.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "glusterfs",
                f"--volfile-server={self.host}",
                f"--volfile-id={volume}",
                str(point),
            ],
            check=True,
            timeout=60,
        )
        deadline = time.monotonic() + 30
        while not os.path.ismount(point):
            if time.monotonic() > deadline:
                raise RuntimeError(f"FUSE mount of {volume} did not appear")
            time.sleep(0.1)
        self.mounted[volume] = point
        return point

    def unmount_all(self) -> None:
        for point in self.mounted.values():
            subprocess.run(["umount", "-l", str(point)], check=False, timeout=60)
        self.mounted.clear()


@pytest.fixture(scope="session")
def fuse(host: str, tmp_path_factory: pytest.TempPathFactory):
    """fuse("pyg_dist") mounts the volume once per session and returns the path."""
    mounts = FuseMounts(host, tmp_path_factory.mktemp("fuse"))
    try:
        yield mounts
    finally:
        mounts.unmount_all()


BRICK_ROOT = brick_root()


def brick_dirs(volume: str) -> list[Path]:
    """The volume's brick directories in volfile (child) order."""
    return sorted((BRICK_ROOT / volume).glob("b*"), key=lambda p: int(p.name[1:]))
