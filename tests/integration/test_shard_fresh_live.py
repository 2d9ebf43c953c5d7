"""A sharded volume that has never held a shard: no ``/.shard`` yet.

gluster's shard translator makes ``/.shard`` on the first write past block 0;
until then a lookup in it fails with ESTALE on every brick (its gfid does not
resolve), which must read as holes, not as a dead replica set. The long-lived
pyg_shard volume got its ``/.shard`` from the first test that ever wrote to
it, so this needs a fresh volume of its own (the plugin's gluster_volume).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

import pygluster
from tests.integration.conftest import qemu

if TYPE_CHECKING:
    from pygluster.testing.plugin import VolumeFactory

MiB = 1024 * 1024


@pytest.fixture
def fresh(gluster_volume: VolumeFactory):
    """A new replica-3 volume with 4 MB shards, started; deleted afterwards."""
    volume = gluster_volume(
        "replica3",
        options={"features.shard": "on", "features.shard-block-size": "4MB"},
    )
    return str(volume.uri), list(volume.brick_paths)


def test_first_image_reads_holes_then_writes_make_dot_shard(fresh) -> None:
    volume_uri, bricks = fresh
    uri = f"{volume_uri}/first-{uuid.uuid4().hex[:8]}.img"
    assert not any((b / ".shard").exists() for b in bricks)
    pygluster.create(uri, 16 * MiB)
    with pygluster.open(uri, "r+") as dev:
        # Past block 0, with no /.shard on any brick: holes, not ENOTCONN.
        assert dev.pread(MiB, 9 * MiB) == bytes(MiB)
        dev.truncate(12 * MiB)  # a shrink with no shards to unlink
        dev.pwrite(b"\xab" * MiB, 9 * MiB)
        dev.flush()
    assert all((b / ".shard").is_dir() for b in bricks)
    checked = qemu(
        "qemu-io", "-f", "raw",
        "-c", f"read -P 0xab {9 * MiB} {MiB}",
        "-c", f"read -P 0 0 {9 * MiB}",
        "-c", f"read -P 0 {10 * MiB} {2 * MiB}",
        uri,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert "Pattern verification failed" not in checked.stdout, checked.stdout
