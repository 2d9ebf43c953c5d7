"""performance/write-behind against the real cluster, judged by libgfapi.

pygluster writes many small unaligned writes (several tasks at once) with
write-behind on, reads them back before any flush (read-your-writes), closes,
and one qemu-io run per image checks every byte against a bytearray model. A
write the brick refuses (past ext4's largest file: EFBIG, no brick needs to
die) must surface at flush and at close, never silently.
"""

from __future__ import annotations

import errno
import functools
import random
import uuid
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import pytest
import trio

import pygluster
from pygluster.errors import FopError
from pygluster.testing import faults
from tests.integration.conftest import qemu, run_cli

if TYPE_CHECKING:
    from collections.abc import Callable

P = ParamSpec("P")
T = TypeVar("T")

KiB = 1024
MiB = 1024 * KiB
#: A write here fails with EFBIG on the brick's ext4 (16 TiB files at most).
TOO_FAR = (1 << 62) - 4 * KiB
ARBITER = {"pyg_rep3": None, "pyg_arb": 2}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}.img"


async def blocking(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    return await trio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))


def runs(model: bytes | bytearray) -> list[tuple[int, int, int]]:
    """(offset, length, byte) runs of equal bytes."""
    out: list[tuple[int, int, int]] = []
    start = 0
    for index in range(1, len(model) + 1):
        if index == len(model) or model[index] != model[start]:
            out.append((start, index - start, model[start]))
            start = index
    return out


def qemu_check(uri: str, model: bytes | bytearray) -> None:
    """One qemu-io run: every run of the model read back with -P."""
    commands: list[str] = []
    pieces = runs(model)
    for offset, length, byte in pieces:
        commands += ["-c", f"read -P {byte:#x} {offset} {length}"]
    result = qemu("qemu-io", "-f", "raw", *commands, uri, timeout=600)
    assert "Pattern verification failed" not in result.stdout, result.stdout[:4000]
    assert result.stdout.count("read ") == len(pieces), result.stderr[:4000]
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


async def random_writes(
    dev: pygluster.AsyncBlockDevice,
    model: bytearray,
    start: int,
    size: int,
    count: int,
    rng: random.Random,
) -> None:
    """``count`` writes of 1 B - 12 KiB inside [start, start + size), mostly
    4 KiB aligned, overlapping each other; the model follows."""
    for _ in range(count):
        if rng.random() < 0.7:
            offset = start + rng.randrange(size // (4 * KiB)) * 4 * KiB
            length = 4 * KiB
        else:
            offset = start + rng.randrange(size - 1)
            length = rng.randint(1, min(12 * KiB, start + size - offset))
        byte = rng.randint(1, 255)
        data = bytearray([byte]) * length
        await dev.pwrite(data, offset)
        data[:] = b"\0" * length  # reusing the buffer must not matter
        model[offset : offset + length] = bytes([byte]) * length


@pytest.mark.parametrize(
    ("volume", "count"),
    [("pyg_single", 3000), ("pyg_rep3", 1500), ("pyg_arb", 600), ("pyg_shard", 300)],
)
async def test_many_small_writes_land_in_order(
    host: str, volume: str, count: int
) -> None:
    name = unique("wb")
    uri = f"gluster://{host}/{volume}/{name}"
    # pyg_shard has 4 MiB shards: 10 MiB crosses two shard boundaries.
    size = 10 * MiB if volume == "pyg_shard" else 4 * MiB
    await pygluster.create_async(uri, size)
    model = bytearray(size)
    rng = random.Random(f"{volume}-{count}")
    tasks = 4
    region = size // tasks
    async with pygluster.open_async(uri, "r+") as dev:
        assert dev.write_behind  # the volfile has it: on by default
        async with trio.open_nursery() as nursery:
            for index in range(tasks):
                nursery.start_soon(
                    random_writes,
                    dev,
                    model,
                    index * region,
                    region,
                    count // tasks,
                    random.Random(rng.random()),
                )
        # Read-your-writes, before any flush: writes may still be in flight.
        assert await dev.pread(size, 0) == model
        # And across the end of file that a pending write moves: the gap
        # reads as zeros, not short. (Sector-aligned: qemu's gluster driver
        # fails reading the partial last sector of an image.)
        await dev.pwrite(b"\x7f" * 4 * KiB, size + 4 * KiB)
        model.extend(bytes(4 * KiB) + b"\x7f" * 4 * KiB)
        assert (
            await dev.pread(8 * KiB, size - 2 * KiB)
            == model[size - 2 * KiB :][: 8 * KiB]
        )
    if volume in ARBITER:
        await blocking(faults.assert_replicas_identical, volume, name, ARBITER[volume])
        await blocking(faults.assert_afr_clean, volume, name)
    await trio.to_thread.run_sync(qemu_check, uri, model)
    await pygluster.remove_async(uri)


async def test_failed_background_write_surfaces_at_flush_and_close(host: str) -> None:
    name = unique("wb-efbig")
    uri = f"gluster://{host}/pyg_single/{name}"
    await pygluster.create_async(uri, MiB)
    async with pygluster.open_async(uri, "r+", write_behind=True) as dev:
        await dev.pwrite(b"x" * 4 * KiB, TOO_FAR)  # acknowledged...
        await dev.pwrite(b"y" * 4 * KiB, 0)  # a disjoint one goes on
        with pytest.raises(FopError) as at_flush:
            await dev.flush()  # ...and its failure reported here
        assert at_flush.value.errno == errno.EFBIG
        assert at_flush.value.fop == "WRITE"
        # Kept and retried (resync-failed-syncs-after-fsync, as qemu sets it):
        # still failing, so reported again, and so is a read of those bytes.
        with pytest.raises(FopError) as again:
            await dev.flush()
        assert again.value.errno == errno.EFBIG
        with pytest.raises(FopError):
            await dev.pread(10, TOO_FAR)
        assert await dev.pread(4 * KiB, 0) == b"y" * 4 * KiB
        # Close (FLUSH) reports it a last time, then lets it go.
        with pytest.raises(FopError) as at_close:
            await dev.aclose()
        assert at_close.value.errno == errno.EFBIG
    async with pygluster.open_async(uri, "r") as dev:
        assert await dev.size() == MiB
        assert await dev.pread(4 * KiB, 0) == b"y" * 4 * KiB
    # Without write-behind the write itself fails, as before.
    async with pygluster.open_async(uri, "r+", write_behind=False) as dev:
        assert not dev.write_behind
        with pytest.raises(FopError) as direct:
            await dev.pwrite(b"x" * 4 * KiB, TOO_FAR)
        assert direct.value.errno == errno.EFBIG
    await pygluster.remove_async(uri)


async def test_close_waits_for_every_acknowledged_write(host: str) -> None:
    """Close right after a burst: everything acknowledged is on the bricks
    (read back by a fresh client, not the one that cached nothing)."""
    name = unique("wb-close")
    uri = f"gluster://{host}/pyg_rep3/{name}"
    await pygluster.create_async(uri, 2 * MiB)
    async with pygluster.open_async(uri, "r+") as dev:
        for block in range(512):
            await dev.pwrite(bytes([block % 255 + 1]) * 4 * KiB, block * 4 * KiB)
    expected = b"".join(bytes([b % 255 + 1]) * 4 * KiB for b in range(512))
    async with pygluster.open_async(uri, "r", write_behind=False) as dev:
        assert await dev.pread(2 * MiB, 0) == expected
    await blocking(faults.assert_afr_clean, "pyg_rep3", name)
    await pygluster.remove_async(uri)


def test_knobs_in_the_sync_api_and_the_cli(host: str) -> None:
    name = unique("wb-knob")
    uri = f"gluster://{host}/pyg_single/{name}"
    pygluster.create(uri, MiB)
    with pygluster.open(uri, "r+") as dev:
        assert dev.write_behind
        dev.pwrite(b"abc", 0)
    with pygluster.open(uri, "r+", write_behind=False) as dev:
        assert not dev.write_behind
        assert dev.pread(3, 0) == b"abc"
    graph = run_cli("volfile", "--graph", f"gluster://{host}/pyg_single")
    assert b"(performance/write-behind) [run]" in graph.stdout, graph.stderr
    off = run_cli(
        "--write-behind", "off", "volfile", "--graph", f"gluster://{host}/pyg_single"
    )
    assert b"(performance/write-behind) [skip]" in off.stdout, off.stderr
    wrote = run_cli(
        "--write-behind",
        "on",
        "io",
        uri,
        "-c",
        "write -P 0x5a 0 64k",
        "-c",
        "read -P 0x5a 0 64k",
    )
    assert wrote.returncode == 0, wrote.stderr
    pygluster.remove(uri)
