"""The block device against the real cluster, and interop with libgfapi (qemu).

qemu-img/qemu-io runs cost ~10 s each, so each test batches its qemu commands;
bulk checks go through the brick directories and a FUSE mount instead.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import threading
import uuid
from typing import TYPE_CHECKING

import pytest
import trio

import pygluster
from pygluster.errors import FopError, URIError
from pygluster.rpc.sunrpc import Credentials
from tests.integration.conftest import brick_dirs, qemu

if TYPE_CHECKING:
    from pygluster.blockdev import Mode, Preallocation

MiB = 1024 * 1024


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}.img"


class SyncAsAsync:
    """Drives the blocking BlockDevice from trio tests through worker threads,
    so the sync facade and the async API run the same test code."""

    def __init__(self, device: pygluster.BlockDevice) -> None:
        self._device = device

    def __getattr__(self, name: str):
        attribute = getattr(self._device, name)
        if not callable(attribute):
            return attribute

        async def call(*args, **kwargs):
            return await trio.to_thread.run_sync(
                functools.partial(attribute, *args, **kwargs)
            )

        return call


async def open_device(api: str, uri: str, mode: Mode, stack):
    if api == "async":
        return await stack.enter_async_context(pygluster.open_async(uri, mode))
    device = await trio.to_thread.run_sync(functools.partial(pygluster.open, uri, mode))
    stack.push_async_callback(trio.to_thread.run_sync, device.close)
    return SyncAsAsync(device)


@pytest.fixture(params=["async", "sync"])
def api(request: pytest.FixtureRequest) -> str:
    param: str = request.param
    return param


@pytest.mark.parametrize("volume", ["pyg_single", "pyg_dist"])
async def test_pygluster_writes_qemu_reads(host: str, volume: str, api: str) -> None:
    from contextlib import AsyncExitStack

    name = unique(f"pyg-{api}")
    uri = f"gluster://{host}/{volume}/{name}"
    await pygluster.create_async(uri, 8 * MiB)
    async with AsyncExitStack() as stack:
        dev = await open_device(api, uri, "r+", stack)
        assert await dev.size() == 8 * MiB
        await dev.pwrite(b"\xab" * MiB, 0)
        await dev.pwrite(b"\xcd" * (3 * MiB + 17), 2 * MiB - 5)  # straddles chunks
        await dev.pwritev([b"\x01" * 100, b"\x02" * 28], 7 * MiB)
        await dev.flush()
    result = qemu(
        "qemu-io", "-f", "raw",
        "-c", f"read -P 0xab 0 {MiB}",
        "-c", f"read -P 0 {MiB} {MiB - 5}",
        "-c", f"read -P 0xcd {2 * MiB - 5} {3 * MiB + 17}",
        "-c", f"read -P 0 {5 * MiB + 12} {2 * MiB - 12}",
        "-c", f"read -P 0x01 {7 * MiB} 100",
        "-c", f"read -P 0x02 {7 * MiB + 100} 28",
        uri,
    )  # fmt: skip
    assert "Pattern verification failed" not in result.stdout, result.stdout
    assert result.stdout.count("read ") == 6, result.stdout + result.stderr
    await pygluster.create_async(uri, 0, exist_ok=True)  # leave little behind
    os.environ.get("KEEP")


@pytest.mark.parametrize("volume", ["pyg_single", "pyg_dist"])
async def test_qemu_writes_pygluster_reads_including_holes(
    host: str, volume: str
) -> None:
    name = unique("qemu")
    uri = f"gluster://{host}/{volume}/{name}"
    created = qemu("qemu-img", "create", "-f", "raw", uri, "8M")
    assert created.returncode == 0, created.stderr
    written = qemu(
        "qemu-io", "-f", "raw",
        "-c", "write -P 0x11 0 512",
        "-c", f"write -P 0x5a {MiB} 64k",
        "-c", f"write -P 0xc3 {5 * MiB} {MiB}",
        uri,
    )  # fmt: skip
    assert written.returncode == 0, written.stderr
    mapped = qemu("qemu-img", "map", "--output=json", "-f", "raw", uri)
    assert mapped.returncode == 0, mapped.stderr
    async with pygluster.open_async(uri) as dev:
        data = await dev.pread(16 * MiB, 0)  # past EOF: short, like os.pread
        extents = await dev.extents()
    expected = bytearray(8 * MiB)
    expected[0:512] = b"\x11" * 512
    expected[MiB : MiB + 65536] = b"\x5a" * 65536
    expected[5 * MiB : 6 * MiB] = b"\xc3" * MiB
    assert data == expected
    qemu_runs = [
        (e["start"], e["length"], e["data"]) for e in json.loads(mapped.stdout)
    ]
    ours = [(e.offset, e.length, e.data) for e in extents]
    assert ours == _merge(qemu_runs)


def _merge(runs: list[tuple[int, int, bool]]) -> list[tuple[int, int, bool]]:
    merged: list[tuple[int, int, bool]] = []
    for start, length, data in runs:
        if merged and merged[-1][2] == data and merged[-1][0] + merged[-1][1] == start:
            merged[-1] = (merged[-1][0], merged[-1][1] + length, data)
        else:
            merged.append((start, length, data))
    return merged


async def test_sizes_discard_zeroes_truncate_and_preallocation(host: str) -> None:
    volume = "pyg_single"
    [brick] = brick_dirs(volume)
    modes: tuple[Preallocation, ...] = ("off", "falloc", "full")
    names = {mode: unique(f"prealloc-{mode}") for mode in modes}
    for mode, name in names.items():
        await pygluster.create_async(
            f"gluster://{host}/{volume}/{name}", 4 * MiB, preallocation=mode
        )
    blocks = {
        mode: os.stat(brick / name).st_blocks * 512 for mode, name in names.items()
    }
    # "off" is sparse: at most a block of metadata (ext4 gives the brick
    # file one 4 KiB block here), never the 4 MiB.
    assert blocks["off"] <= 64 * 1024
    assert blocks["falloc"] >= 4 * MiB
    assert blocks["full"] >= 4 * MiB
    uri = f"gluster://{host}/{volume}/{names['off']}"
    async with pygluster.open_async(uri, "r+") as dev:
        await dev.pwrite(b"\xee" * (2 * MiB), 0)
        await dev.discard(0, MiB)
        await dev.write_zeroes(MiB, 4096)
        assert await dev.pread(MiB + 8192, 0) == bytes(MiB + 4096) + b"\xee" * 4096
        assert await dev.size() == 4 * MiB
        await dev.truncate(6 * MiB)
        assert await dev.size() == 6 * MiB
        assert await dev.pread(MiB, 5 * MiB) == bytes(MiB)
        await dev.truncate(MiB + 100)
        assert await dev.size() == MiB + 100
        await dev.truncate(3 * MiB, preallocation="falloc")
        statvfs = await dev.statvfs()
        assert os.stat(brick / names["off"]).st_size == 3 * MiB
    # statvfs agrees with the brick's own file system (one brick, no sharing)
    brick_vfs = os.statvfs(brick)
    assert statvfs.f_bsize == brick_vfs.f_bsize
    assert statvfs.f_blocks == brick_vfs.f_blocks
    info = qemu("qemu-img", "info", "--output=json", "-f", "raw", uri)
    assert json.loads(info.stdout)["virtual-size"] == 3 * MiB
    assert os.stat(brick / names["off"]).st_blocks * 512 >= 2 * MiB


async def test_folders_errors_and_unsupported_volumes(host: str) -> None:
    folder = f"dir-{uuid.uuid4().hex[:8]}/sub"
    uri = f"gluster://{host}/pyg_dist/{folder}/a.img"
    with pytest.raises(FopError) as missing_parent:
        await pygluster.create_async(uri, MiB)
    assert missing_parent.value.errno == errno.ENOENT
    await pygluster.create_async(uri, MiB, parents=True)
    with pytest.raises(FopError) as exists:
        await pygluster.create_async(uri, MiB)
    assert exists.value.errno == errno.EEXIST
    async with pygluster.open_async(uri, "r+") as dev:
        await dev.pwrite(b"sub-folder data", 10)
    async with pygluster.open_async(uri) as dev:
        assert await dev.pread(15, 10) == b"sub-folder data"
        with pytest.raises(FopError) as read_only:
            await dev.pwrite(b"x", 0)
        assert read_only.value.errno == errno.EBADF
    with pytest.raises(FopError) as no_file:
        async with pygluster.open_async(f"gluster://{host}/pyg_dist/{folder}/nope.img"):
            pass
    assert no_file.value.errno == errno.ENOENT
    assert "nope.img" in str(no_file.value)
    with pytest.raises(FopError) as is_dir:
        async with pygluster.open_async(f"gluster://{host}/pyg_dist/{folder}"):
            pass
    assert is_dir.value.errno == errno.EISDIR
    # Images are created 0600 and owned by us (root): another uid is refused.
    nobody = Credentials(uid=65534, gid=65534, groups=())
    with pytest.raises(FopError) as denied:
        async with pygluster.open_async(uri, credentials=nobody):
            pass
    assert denied.value.errno == errno.EACCES
    with pytest.raises(URIError):
        async with pygluster.open_async(f"gluster://{host}/pyg_dist"):
            pass


def test_sync_facade_leaves_no_thread_behind(host: str) -> None:
    uri = f"gluster://{host}/pyg_single/{unique('sync')}"
    before = set(threading.enumerate())
    pygluster.create(uri, MiB)
    with pygluster.open(uri, "r+") as dev:
        dev.pwrite(b"abc", 0)
        with dev.as_file() as handle:
            handle.seek(1)
            assert handle.read(2) == b"bc"
        assert dev.pread(3, 0) == b"abc"
    assert dev.closed
    assert set(threading.enumerate()) == before
    with pytest.raises(FopError):
        pygluster.open(f"gluster://{host}/pyg_single/{unique('missing')}")
    assert set(threading.enumerate()) == before


async def test_async_api_refuses_blocking_calls_inside_trio(host: str) -> None:
    with pytest.raises(RuntimeError, match="open_async"):
        pygluster.open(f"gluster://{host}/pyg_single/x.img")


async def test_async_close_leaves_no_socket_open(host: str) -> None:
    uri = f"gluster://{host}/pyg_dist/{unique('fds')}"
    before = len(os.listdir("/proc/self/fd"))
    await pygluster.create_async(uri, MiB)
    async with pygluster.open_async(uri, "r+") as dev:
        await dev.pwrite(b"x", 0)
    assert len(os.listdir("/proc/self/fd")) == before
