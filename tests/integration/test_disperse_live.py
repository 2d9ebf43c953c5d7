"""Disperse volumes on the real cluster, against libgfapi (qemu-io / qemu-img).

pyg_ec is 2 + 1, pyg_ec42 is 4 + 2 and pyg_dec is distributed-disperse
(2 x (2 + 1)). What libgfapi writes pygluster reads and the reverse, and for
the same data both leave the same fragments and the same ec xattrs on every
brick. The fault tests kill real brick processes (the harness always restarts
them).
"""

from __future__ import annotations

import functools
import os
import struct
import uuid
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import pytest
import trio

import pygluster
from pygluster.erasure import ErasureCode
from pygluster.errors import QuorumError
from pygluster.testing import faults
from tests.integration.conftest import QEMU_IO_SETTLE, qemu, run_cli

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from pygluster.blockdev import Preallocation

P = ParamSpec("P")
T = TypeVar("T")

KiB = 1024
MiB = 1024 * KiB
GEOMETRY = {"pyg_ec": (3, 1), "pyg_ec42": (6, 2)}
EC_KEYS = (
    "trusted.ec.size",
    "trusted.ec.version",
    "trusted.ec.dirty",
    "trusted.ec.config",
)

#: The images' size: qemu's raw driver cannot reach past the last whole 512
#: bytes of an image, nor write past its end, so the images are made this
#: big first and written inside.
SIZE = 5 * MiB
#: (offset, length, byte) writes, unaligned on purpose: inside one stripe,
#: across stripes, with holes between.
WRITES = [
    (0, 3 * MiB + 5, 0x11),
    (700, 100, 0x22),
    (4095, 70_001, 0x33),
    (3 * MiB + 1000, 2048 + 3, 0x44),
    (4 * MiB + 1, 1, 0x55),
]


async def blocking(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    return await trio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))


def expected(writes: list[tuple[int, int, int]], size: int = SIZE) -> bytes:
    content = bytearray(size)
    for offset, length, byte in writes:
        content[offset : offset + length] = bytes([byte]) * length
    return bytes(content)


def qemu_io(uri: str, commands: list[str], *, timeout: float = 300) -> str:
    args = list(QEMU_IO_SETTLE)
    for command in commands:
        args += ["-c", command]
    result = qemu("qemu-io", "-f", "raw", *args, uri, timeout=timeout)
    assert result.returncode == 0, result.stderr
    assert "failed" not in result.stdout.lower(), result.stdout
    return result.stdout


def ec_xattrs(path: Path) -> dict[str, bytes]:
    return {key: os.getxattr(path, key) for key in EC_KEYS if key in os.listxattr(path)}


def brick_files(volume: str, name: str) -> list[Path]:
    """The image's file on every brick that has it, in brick order."""
    paths = [b.path / name for b in faults.brick_processes(volume)]
    return [p for p in paths if p.exists()]


async def pygluster_writes(uri: str, writes: list[tuple[int, int, int]]) -> None:
    async with pygluster.open_async(uri, "r+") as dev:
        for offset, length, byte in writes:
            await dev.pwrite(bytes([byte]) * length, offset)
        await dev.flush()


@pytest.mark.parametrize("volume", ["pyg_ec", "pyg_ec42", "pyg_dec"])
async def test_pygluster_writes_libgfapi_reads_and_back(host: str, volume: str) -> None:
    name = f"ec-{uuid.uuid4().hex[:8]}.img"
    uri = f"gluster://{host}/{volume}/{name}"
    await pygluster.create_async(uri, SIZE)
    await pygluster_writes(uri, WRITES)
    content = expected(WRITES)
    commands = [f"read -P {byte:#x} {off} {n}" for off, n, byte in WRITES[1:]]
    commands.append(f"read -P 0 {3 * MiB + 3048 + 3} {MiB - 3048 - 3}")
    # and libgfapi writes, unaligned, over what we wrote
    commands += ["write -P 0x66 1234 5000", "write -P 0x77 4194000 700"]
    await blocking(qemu_io, uri, commands)
    after = bytearray(content)
    after[1234 : 1234 + 5000] = b"\x66" * 5000
    after[4194000:4194700] = b"\x77" * 700
    async with pygluster.open_async(uri) as dev:
        assert await dev.size() == len(after)
        assert await dev.pread(len(after), 0) == bytes(after)
    await pygluster.remove_async(uri)


@pytest.mark.parametrize("volume", ["pyg_ec", "pyg_ec42"])
async def test_fragments_and_xattrs_equal_libgfapis(host: str, volume: str) -> None:
    """The same writes through both clients leave the same bytes on bricks."""
    ours = f"ours-{uuid.uuid4().hex[:8]}.img"
    theirs = f"theirs-{uuid.uuid4().hex[:8]}.img"
    writes = WRITES[:3]
    await pygluster.create_async(f"gluster://{host}/{volume}/{ours}", SIZE)
    await pygluster_writes(f"gluster://{host}/{volume}/{ours}", writes)
    create = qemu(
        "qemu-img",
        "create",
        "-f",
        "raw",
        f"gluster://{host}/{volume}/{theirs}",
        str(SIZE),
    )
    assert create.returncode == 0, create.stderr
    await blocking(
        qemu_io,
        f"gluster://{host}/{volume}/{theirs}",
        [f"write -P {byte:#x} {off} {n}" for off, n, byte in writes],
    )
    ours_files = brick_files(volume, ours)
    theirs_files = brick_files(volume, theirs)
    bricks, redundancy = GEOMETRY[volume]
    assert len(ours_files) == len(theirs_files) == bricks
    code = ErasureCode(bricks, redundancy)
    content = expected(writes)
    padded = content + bytes(-len(content) % code.stripe_size)
    encoded = code.encode(padded)
    for index, (a, b) in enumerate(zip(ours_files, theirs_files, strict=True)):
        assert a.read_bytes() == b.read_bytes() == encoded[index], index
        mine, libgfapi = ec_xattrs(a), ec_xattrs(b)
        assert mine["trusted.ec.size"] == libgfapi["trusted.ec.size"]
        assert struct.unpack(">Q", mine["trusted.ec.size"])[0] == len(content)
        assert mine["trusted.ec.config"] == libgfapi["trusted.ec.config"]
        assert mine.get("trusted.ec.dirty", bytes(16)) == bytes(16)
    await pygluster.remove_async(f"gluster://{host}/{volume}/{ours}")
    await pygluster.remove_async(f"gluster://{host}/{volume}/{theirs}")


async def test_brick_killed_mid_write_loses_no_acknowledged_write(host: str) -> None:
    volume = "pyg_ec"
    name = f"kill-{uuid.uuid4().hex[:8]}.img"
    uri = f"gluster://{host}/{volume}/{name}"
    await pygluster.create_async(uri, 16 * MiB)
    acknowledged = []
    try:
        async with pygluster.open_async(uri, "r+") as dev:
            for block in range(16):
                if block == 6:
                    await blocking(faults.kill_brick, volume, 1)
                await dev.pwrite(bytes([block + 1]) * (MiB - 7), block * MiB)
                acknowledged.append(block)
            await dev.flush()
            for block in acknowledged:
                got = await dev.pread(MiB - 7, block * MiB)
                assert got == bytes([block + 1]) * (MiB - 7), block
        entries = await blocking(faults.heal_info_entries, volume)
        assert any(f"/{name}" in found for found in entries.values()), entries
    finally:
        await blocking(faults.start_volume_force, volume)
    commands = [f"read -P {b + 1:#x} {b * MiB} {MiB - 7}" for b in acknowledged]
    await blocking(qemu_io, uri, commands)
    await blocking(faults.wait_healed, volume, paths=[name], timeout=120)
    files = brick_files(volume, name)
    assert len({ec_xattrs(f)["trusted.ec.version"] for f in files}) == 1
    assert all(
        ec_xattrs(f).get("trusted.ec.dirty", bytes(16)) == bytes(16) for f in files
    )
    code = ErasureCode(3, 1)
    fragments = {i: f.read_bytes() for i, f in enumerate(files)}
    for drop in range(3):
        kept = {i: data for i, data in fragments.items() if i != drop}
        decoded = code.decode(kept)
        assert decoded == expected(
            [(b * MiB, MiB - 7, b + 1) for b in acknowledged], 16 * MiB
        )
    await pygluster.remove_async(uri)


async def test_two_bricks_down_refuses_writes_and_changes_nothing(host: str) -> None:
    volume = "pyg_ec"
    name = f"quorum-{uuid.uuid4().hex[:8]}.img"
    uri = f"gluster://{host}/{volume}/{name}"
    await pygluster.create_async(uri, MiB)
    await pygluster_writes(uri, [(0, 10 * KiB, 0x5A)])
    survivor = faults.brick_processes(volume)[2].path / name
    before = (survivor.read_bytes(), ec_xattrs(survivor))
    async with pygluster.open_async(uri, "r+") as dev:
        with faults.brick_down(volume, 0), faults.brick_down(volume, 1):
            await dev.pwrite(b"x" * 100, 50)
            # Acknowledged at once (write-behind); refused at the flush, and
            # again at close, which then gives the write up (as on replicate).
            for step in (dev.flush, dev.aclose):
                with pytest.raises(QuorumError) as caught:
                    await step()
                assert "pyg_ec-disperse-0" in str(caught.value)
                assert "need at least 2 of 3" in str(caught.value)
            assert (survivor.read_bytes(), ec_xattrs(survivor)) == before
    await pygluster.remove_async(uri)


@pytest.mark.parametrize(
    ("volume", "shown"),
    [
        ("pyg_ec", "disperse 2 + 1 (3 bricks)"),
        ("pyg_ec42", "disperse 4 + 2 (6 bricks)"),
        ("pyg_dec", "distribute-disperse 2 x (2 + 1) (6 bricks)"),
    ],
)
async def test_info_shows_the_disperse_geometry(
    host: str, volume: str, shown: str
) -> None:
    uri = f"gluster://{host}/{volume}/info-{uuid.uuid4().hex[:8]}.img"
    await pygluster.create_async(uri, MiB)
    try:
        result = await blocking(run_cli, "info", uri)
        assert result.returncode == 0, result.stderr
        assert shown in result.stdout.decode(), result.stdout
    finally:
        await pygluster.remove_async(uri)


@pytest.mark.parametrize("preallocation", ["falloc", "full"])
async def test_preallocated_images_are_zeros_and_allocated(
    host: str, preallocation: Preallocation
) -> None:
    volume = "pyg_ec42"
    name = f"prealloc-{uuid.uuid4().hex[:8]}.img"
    uri = f"gluster://{host}/{volume}/{name}"
    await pygluster.create_async(uri, 3 * MiB, preallocation=preallocation)
    try:
        async with pygluster.open_async(uri) as dev:
            assert await dev.size() == 3 * MiB
            assert await dev.pread(3 * MiB, 0) == bytes(3 * MiB)
        for path in brick_files(volume, name):
            assert path.stat().st_size == 3 * MiB // 4
            assert path.stat().st_blocks * 512 >= 3 * MiB // 4
        await blocking(qemu_io, uri, [f"read -P 0 0 {3 * MiB}"])
    finally:
        await pygluster.remove_async(uri)
