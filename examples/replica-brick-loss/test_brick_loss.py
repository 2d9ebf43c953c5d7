"""A replica-3 volume keeps every acknowledged write when a brick dies
mid-stream, and heals the brick afterwards."""

from __future__ import annotations

import hashlib
import threading
from typing import TYPE_CHECKING

import pytest

import pygluster
from pygluster.testing import faults

if TYPE_CHECKING:
    from pygluster.testing.plugin import VolumeFactory

BLOCK = 64 * 1024
BLOCKS = 256  # 16 MiB


def block(index: int) -> bytes:
    return hashlib.sha256(index.to_bytes(4, "big")).digest() * (BLOCK // 32)


# ping-timeout 5 s: a hung brick is given up in seconds, not gluster's 42
@pytest.mark.gluster_layout("replica3", options={"network.ping-timeout": "5"})
def test_acknowledged_writes_survive_a_brick_killed_mid_write(
    gluster_volume: VolumeFactory,
) -> None:
    volume = gluster_volume()
    image = volume.image("disk.img")
    pygluster.create(image, BLOCK * BLOCKS)
    halfway = threading.Event()
    brick_dead = threading.Event()
    acknowledged: list[int] = []
    failed: list[BaseException] = []

    def writer() -> None:
        try:
            write_all()
        except BaseException as e:  # reported by the test, not the thread
            failed.append(e)
            halfway.set()

    def write_all() -> None:
        with pygluster.open(image, "r+") as disk:
            for index in range(BLOCKS):
                disk.pwrite(block(index), index * BLOCK)
                if index % 16 == 15:
                    disk.flush()  # what is flushed is acknowledged
                    acknowledged.extend(range(index - 15, index + 1))
                if index == BLOCKS // 2:
                    halfway.set()  # and write on only once the brick is dead
                    assert brick_dead.wait(120), "the brick was never killed"

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    assert halfway.wait(120), "the writer did not get halfway"
    with faults.brick_down(volume.name, 1):  # SIGKILL; restarted after the block
        brick_dead.set()
        thread.join(300)
        assert not thread.is_alive(), "the writer hung after the brick died"
        assert not failed, f"a write failed with one brick of three down: {failed}"
        assert len(acknowledged) == BLOCKS
        with pygluster.open(image) as disk:
            for index in acknowledged:
                assert disk.pread(BLOCK, index * BLOCK) == block(index), index

    faults.wait_healed(volume.name, timeout=120)
    faults.assert_replicas_identical(volume.name, "disk.img")
