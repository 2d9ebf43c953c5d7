"""Sharded images on pyg_shard (replica 3, group virt, 4 MB shards) vs libgfapi."""

from __future__ import annotations

import json
import os
import uuid

import trio

import pygluster
from pygluster.testing import faults
from tests.integration.conftest import qemu, run_cli

MiB = 1024 * 1024
VOLUME = "pyg_shard"
BS = 4 * MiB


def shard_names(gfid: bytes) -> set[str]:
    """Shard files of an image on each brick (the same on all replicas)."""
    prefix = f"{uuid.UUID(bytes=gfid)}."
    found = [
        {n for n in os.listdir(brick.path / ".shard") if n.startswith(prefix)}
        for brick in faults.brick_processes(VOLUME)
    ]
    assert all(names == found[0] for names in found), found
    return found[0]


async def test_qemu_written_image_reads_back_through_pygluster(host: str) -> None:
    name = f"q-{uuid.uuid4().hex[:8]}.img"
    uri = f"gluster://{host}/{VOLUME}/{name}"
    result = qemu(
        "qemu-img", "create", "-f", "raw", uri, "20M",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    written = qemu(
        "qemu-io", "-f", "raw",
        "-c", f"write -P 0xa1 0 {MiB}",
        "-c", f"write -P 0xa2 {3 * MiB} {2 * MiB}",
        "-c", f"write -P 0xa3 {13 * MiB} 512k",
        uri,
    )  # fmt: skip
    assert written.returncode == 0, written.stderr
    async with pygluster.open_async(uri) as dev:
        data = await dev.pread(32 * MiB, 0)
        extents = await dev.extents()
        gfid = dev.gfid
    expected = bytearray(20 * MiB)
    expected[0:MiB] = b"\xa1" * MiB
    expected[3 * MiB : 5 * MiB] = b"\xa2" * (2 * MiB)
    expected[13 * MiB : 13 * MiB + 512 * 1024] = b"\xa3" * (512 * 1024)
    assert data == expected
    # Shards .1 and .3 exist; .2 and .4 were never written: extents say so.
    assert shard_names(gfid) == {f"{uuid.UUID(bytes=gfid)}.{n}" for n in (1, 3)}
    data_runs = [(e.offset, e.offset + e.length) for e in extents if e.data]
    assert data_runs == [
        (0, MiB),
        (3 * MiB, 5 * MiB),
        (13 * MiB, 13 * MiB + 512 * 1024),
    ]


async def test_pygluster_written_image_reads_back_through_qemu(host: str) -> None:
    name = f"p-{uuid.uuid4().hex[:8]}.img"
    uri = f"gluster://{host}/{VOLUME}/{name}"
    size = 21 * MiB + 12345  # not a multiple of the block size
    await pygluster.create_async(uri, size)
    async with pygluster.open_async(uri, "r+") as dev:
        await dev.pwrite(b"\x11" * 1000, 0)
        await dev.pwrite(b"\x22" * (BS + 2 * MiB), BS - MiB)  # straddles two edges
        await dev.pwrite(b"\x33" * 777, size - 777)  # the very end, in .5
        await dev.flush()
        gfid = dev.gfid
        info_size = await dev.size()
    assert info_size == size
    # Only the shards written exist (checked before qemu reads: libgfapi 10.3
    # creates empty shards when it reads missing ones).
    assert shard_names(gfid) == {f"{uuid.UUID(bytes=gfid)}.{n}" for n in (1, 2, 5)}
    verify = qemu(
        "qemu-io", "-f", "raw",
        "-c", "read -P 0x11 0 1000",
        "-c", f"read -P 0 1000 {BS - MiB - 1000}",
        "-c", f"read -P 0x22 {BS - MiB} {BS + 2 * MiB}",
        "-c", f"read -P 0 {2 * BS + MiB} {size - 777 - 2 * BS - MiB}",
        "-c", f"read -P 0x33 {size - 777} 777",
        uri,
    )  # fmt: skip
    assert "Pattern verification failed" not in verify.stdout, verify.stdout
    assert verify.stdout.count("read ") == 5, verify.stdout + verify.stderr
    for relpath in [name, *(f".shard/{n}" for n in shard_names(gfid))]:
        await trio.to_thread.run_sync(faults.assert_replicas_identical, VOLUME, relpath)
        await trio.to_thread.run_sync(faults.assert_afr_clean, VOLUME, relpath)
    # `pygluster info` reports what libgfapi reports (qemu-img info).
    info = json.loads(qemu("qemu-img", "info", "--output=json", uri).stdout)
    ours = json.loads(run_cli("info", "--json", uri).stdout)
    assert ours["size"] == size
    assert info["virtual-size"] == -(-size // 512) * 512  # qemu rounds to sectors
    assert ours["allocated"] == info["actual-size"]
    await pygluster.remove_async(uri)


async def test_truncate_discard_zero_and_unlink(host: str) -> None:
    name = f"t-{uuid.uuid4().hex[:8]}.img"
    uri = f"gluster://{host}/{VOLUME}/{name}"
    await pygluster.create_async(uri, 20 * MiB)
    async with pygluster.open_async(uri, "r+") as dev:
        for block in range(5):
            await dev.pwrite(bytes([0x40 + block]) * BS, block * BS)
        gfid = dev.gfid
        prefix = f"{uuid.UUID(bytes=gfid)}."
        assert shard_names(gfid) == {prefix + str(n) for n in range(1, 5)}
        await dev.truncate(6 * MiB)  # drops .2-.4, cuts .1 to 2 MiB
        assert await dev.size() == 6 * MiB
        assert shard_names(gfid) == {prefix + "1"}
        await dev.truncate(30 * MiB)  # grows: no new shard, zeros
        await dev.discard(MiB, BS)  # across the .0/.1 edge
        await dev.write_zeroes(10 * MiB, 3 * MiB)  # a missing shard gets made
        assert await dev.pread(4, 4 * MiB) == bytes(4)
        extents = await dev.extents()
    verify = qemu(
        "qemu-io", "-f", "raw",
        "-c", f"read -P 0x40 0 {MiB}",
        "-c", f"read -P 0 {MiB} {BS}",
        "-c", f"read -P 0x41 {MiB + BS} {MiB}",
        "-c", f"read -P 0 {6 * MiB} {24 * MiB}",
        uri,
    )  # fmt: skip
    assert "Pattern verification failed" not in verify.stdout, verify.stdout
    assert verify.stdout.count("read ") == 4, verify.stdout + verify.stderr
    assert extents[-1].offset + extents[-1].length == 30 * MiB
    await pygluster.remove_async(uri)
    assert shard_names(gfid) == set()
    marker = f"{uuid.UUID(bytes=gfid)}"
    for brick in faults.brick_processes(VOLUME):
        assert marker not in os.listdir(brick.path / ".shard" / ".remove_me")
        assert not (brick.path / name).exists()
