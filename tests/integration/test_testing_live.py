"""pygluster.testing on the real cluster: every layout made, used and
removed through the plugin's fixtures; a full brick; the CLI."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

import pygluster
from pygluster.errors import FaultError, FopError
from pygluster.testing import LAYOUTS, faults
from pygluster.testing.cluster import volume_infos
from tests.integration.conftest import qemu

if TYPE_CHECKING:
    from pygluster.testing.plugin import VolumeFactory


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_each_layout_is_the_volume_gluster_reports_and_goes_away(
    gluster_cluster, layout: str
) -> None:
    volume = gluster_cluster.create_volume(layout)
    try:
        info = volume_infos()[volume.name]
        assert info.status == "Started"
        assert info.type_str == volume.spec.type_str
        assert info.bricks == list(volume.bricks)
        assert all(p.is_dir() for p in volume.brick_paths)
        assert all(b.online for b in faults.brick_processes(volume.name))
        uri = volume.image("t.img")
        pygluster.create(uri, 1 << 20)
        with pygluster.open(uri, "r+") as dev:
            dev.pwrite(b"\xa5" * 4096, 8192)
            dev.flush()
            assert dev.pread(4096, 8192) == b"\xa5" * 4096
    finally:
        gluster_cluster.delete_volume(volume)
    assert volume.name not in volume_infos()
    assert not (gluster_cluster.root / volume.name).exists()


@pytest.mark.gluster_layout("replica3", options={"network.ping-timeout": "5"})
def test_the_marker_chooses_the_factorys_volume(
    gluster_volume: VolumeFactory,
) -> None:
    volume = gluster_volume()
    assert volume.spec.layout == "replica3"
    assert volume_infos()[volume.name].options["network.ping-timeout"] == "5"
    other = gluster_volume("single", bricks=2)
    assert volume_infos()[other.name].type_str == "Distribute"
    assert len(other.bricks) == 2


def test_the_uri_fixture_is_an_image_on_a_fresh_volume(gluster_uri) -> None:
    assert gluster_uri.path == "test.img"
    assert gluster_uri.volume.startswith("pgt_")
    pygluster.create(gluster_uri, 4096)
    with pygluster.open(gluster_uri) as dev:
        assert dev.size() == 4096


def test_a_full_brick_refuses_writes_until_emptied(
    gluster_volume: VolumeFactory,
) -> None:
    volume = gluster_volume("single", brick_size=32 << 20)
    uri = volume.image("full.img")
    pygluster.create(uri, 4 << 20)
    with faults.brick_full(volume.name, 0) as free:
        assert free < 1 << 20
        with pygluster.open(uri, "r+", write_behind=False) as dev:
            with pytest.raises(FopError) as caught:
                dev.pwrite(os.urandom(1 << 20), 0)
            assert caught.value.errno == errno.ENOSPC
            assert str(volume.brick_paths[0]) in str(caught.value)
    # libgfapi agrees the space is back, and reads what pygluster wrote
    with pygluster.open(uri, "r+") as dev:
        dev.pwrite(b"\x5a" * 65536, 0)
        dev.flush()
    result = qemu("qemu-io", "-f", "raw", "-c", "read -P 0x5a 0 64k", str(uri))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "read 65536/65536" in result.stdout


def test_filling_a_brick_that_shares_the_root_filesystem_is_refused(
    gluster_volume: VolumeFactory,
) -> None:
    volume = gluster_volume("single")
    with pytest.raises(FaultError, match="not on a filesystem of its own"):
        faults.fill_brick(volume.name, 0)


def test_the_cluster_command_creates_shows_and_deletes(gluster_cluster) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pygluster", "cluster", *args],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    name = "pgt_cli_check"
    made = cli("create", "arbiter", name, "--option", "network.ping-timeout=7")
    try:
        assert made.returncode == 0, made.stderr
        assert made.stdout.strip() == f"gluster://{gluster_cluster.host}/{name}"
        assert "creating pgt_cli_check: replica 3 arbiter 1" in made.stderr
        assert volume_infos()[name].options["network.ping-timeout"] == "7"
        again = cli("create", "arbiter", name)
        assert again.returncode == 1
        assert f"volume {name} exists already" in again.stderr
    finally:
        gone = cli("delete", name)
    assert gone.returncode == 0, gone.stderr
    assert name not in volume_infos()
    status = cli("status")
    assert status.returncode == 0, status.stdout
    assert "pyg_rep3: Started, bricks online 3/3" in status.stdout
    bad = cli("create")
    assert bad.returncode == 2
    assert "cluster create takes LAYOUT [NAME]" in bad.stderr
    outside = cli("delete", "..")  # would name the brick root's parent
    assert outside.returncode == 1
    assert "'..' is not a volume name" in outside.stderr
    assert gluster_cluster.root.is_dir()
    misplaced = cli("up", "--bricks", "3")
    assert misplaced.returncode == 2
    assert "for `create` only" in misplaced.stderr
    unknown = cli("create", "raid5")
    assert unknown.returncode == 1
    assert "unknown volume layout 'raid5'" in unknown.stderr
