"""Replicated volumes with real brick processes killed, stopped and restarted.

pygluster writes; qemu-io (libgfapi), the brick files and gluster's own heal
judge. Every test leaves all bricks up (the faults harness restores them).
"""

from __future__ import annotations

import errno
import functools
import time
import uuid
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import pytest
import trio

import pygluster
from pygluster.errors import QuorumError
from pygluster.testing import faults
from tests.integration.conftest import qemu

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

P = ParamSpec("P")
T = TypeVar("T")

MiB = 1024 * 1024
ARBITER = {"pyg_rep3": None, "pyg_arb": 2}


def pattern(block: int) -> bytes:
    """1 MiB of bytes that identify the block they belong to."""
    return bytes([block % 251 + 1]) * MiB


async def blocking(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    return await trio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))


def qemu_verify(uri: str, blocks: range) -> None:
    commands = []
    for block in blocks:
        commands += ["-c", f"read -P {block % 251 + 1:#x} {block * MiB} {MiB}"]
    result = qemu("qemu-io", "-f", "raw", *commands, uri, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Pattern verification failed" not in result.stdout, result.stdout
    assert result.stdout.count("read ") == len(blocks), result.stdout + result.stderr


@pytest.mark.parametrize("volume", ["pyg_rep3", "pyg_arb"])
async def test_replicas_identical_and_clean(host: str, volume: str) -> None:
    name = f"rep-{uuid.uuid4().hex[:8]}.img"
    uri = f"gluster://{host}/{volume}/{name}"
    await pygluster.create_async(uri, 8 * MiB)
    async with pygluster.open_async(uri, "r+") as dev:
        for block in range(6):
            await dev.pwrite(pattern(block), block * MiB)
        await dev.discard(6 * MiB, MiB)
        await dev.write_zeroes(7 * MiB, 4096)
        await dev.flush()
    await blocking(faults.assert_replicas_identical, volume, name, ARBITER[volume])
    await blocking(faults.assert_afr_clean, volume, name)
    await trio.to_thread.run_sync(qemu_verify, uri, range(6))


@pytest.mark.parametrize(("volume", "victim"), [("pyg_rep3", 1), ("pyg_arb", 2)])
async def test_brick_killed_mid_stream_loses_nothing(
    host: str, volume: str, victim: int
) -> None:
    name = f"kill-{uuid.uuid4().hex[:8]}.img"
    uri = f"gluster://{host}/{volume}/{name}"
    await pygluster.create_async(uri, 24 * MiB)
    acknowledged: list[int] = []
    try:
        async with pygluster.open_async(uri, "r+") as dev:
            for block in range(24):
                if block == 8:
                    await blocking(faults.kill_brick, volume, victim)
                await dev.pwrite(pattern(block), block * MiB)
                acknowledged.append(block)
            await dev.flush()
        # Every acknowledged block reads back through libgfapi.
        await trio.to_thread.run_sync(qemu_verify, uri, range(24))
        survivors = [i for i in range(3) if i != victim]
        for index in survivors:
            xattrs = faults.afr_xattrs(faults.brick_path(volume, index, name))
            assert xattrs[f"trusted.afr.{volume}-client-{victim}"][0] > 0, xattrs
            assert xattrs.get("trusted.afr.dirty", (0, 0, 0)) == (0, 0, 0)
        entries = faults.heal_info_entries(volume)
        assert any(
            f"/{name}" in listed or any(name in e for e in listed)
            for listed in entries.values()
        ), entries
    finally:
        await blocking(faults.start_volume_force, volume)
    await blocking(faults.heal, volume)
    await blocking(faults.wait_healed, volume, paths=[f"/{name}"])
    await blocking(faults.assert_replicas_identical, volume, name, ARBITER[volume])
    await blocking(faults.assert_afr_clean, volume, name)
    assert acknowledged == list(range(24))


@pytest.mark.parametrize("write_behind", [False, True])
async def test_two_bricks_down_is_a_quorum_error_and_writes_nothing(
    host: str, write_behind: bool
) -> None:
    volume = "pyg_rep3"
    name = f"quorum-{uuid.uuid4().hex[:8]}.img"
    uri = f"gluster://{host}/{volume}/{name}"
    await pygluster.create_async(uri, MiB)
    before = [faults.brick_file_bytes(volume, i, name) for i in range(3)]
    async with pygluster.open_async(uri, "r+", write_behind=write_behind) as dev:
        with faults.brick_down(volume, 1), faults.brick_down(volume, 2):
            if write_behind:
                # Acknowledged at once; the refusal comes at the flush, and
                # again at close (which then gives the write up).
                await dev.pwrite(b"\xee" * 4096, 0)
                steps: list[Callable[[], Awaitable[object]]] = [dev.flush, dev.aclose]
            else:
                steps = [functools.partial(dev.pwrite, b"\xee" * 4096, 0)]
            for step in steps:
                with pytest.raises(QuorumError) as info:
                    await step()
                assert info.value.errno == errno.ENOTCONN
                assert "quorum" in str(info.value)
    after = [faults.brick_file_bytes(volume, i, name) for i in range(3)]
    assert after == before
    assert faults.afr_xattrs(faults.brick_path(volume, 0, name)).get(
        "trusted.afr.dirty", (0, 0, 0)
    ) == (0, 0, 0)


async def test_stopped_brick_is_detected_and_rejoins(host: str) -> None:
    """SIGSTOP: the ping watchdog (ping-timeout 5 s on pyg_rep3) drops the
    brick, writes go on with the other two; after SIGCONT it reconnects."""
    volume = "pyg_rep3"
    name = f"stop-{uuid.uuid4().hex[:8]}.img"
    uri = f"gluster://{host}/{volume}/{name}"
    await pygluster.create_async(uri, 4 * MiB)
    async with pygluster.open_async(uri, "r+") as dev:
        await dev.pwrite(pattern(0), 0)
        with faults.brick_stopped(volume, 2):
            started = time.monotonic()
            await dev.pwrite(pattern(1), MiB)
            await dev.flush()  # waits for the watchdog, then goes on
            detected = time.monotonic() - started
            assert detected < 5 * 2.5, detected
            clients = dev.graph.clients
            assert not clients[2].is_up
        with trio.fail_after(30):
            await clients[2].wait_connected()
        await dev.pwrite(pattern(2), 2 * MiB)
    await trio.to_thread.run_sync(qemu_verify, uri, range(3))
    await blocking(faults.heal, volume)
    await blocking(faults.wait_healed, volume, paths=[f"/{name}"])
    await blocking(faults.assert_replicas_identical, volume, name)


async def test_single_brick_restart_under_an_open_image(host: str) -> None:
    volume = "pyg_single"
    name = f"restart-{uuid.uuid4().hex[:8]}.img"
    uri = f"gluster://{host}/{volume}/{name}"
    await pygluster.create_async(uri, 4 * MiB)
    async with pygluster.open_async(uri, "r+") as dev:
        await dev.pwrite(pattern(0), 0)
        await blocking(faults.restart_brick, volume, 0)
        # The first fop waits (reconnect grace) for the brick to come back.
        await dev.pwrite(pattern(1), MiB)
        assert await dev.pread(MiB, 0) == pattern(0)
        assert await dev.pread(MiB, MiB) == pattern(1)
        await dev.flush()
    await trio.to_thread.run_sync(qemu_verify, uri, range(2))


async def test_glusterd_restart_does_not_disturb_io(host: str) -> None:
    name = f"glusterd-{uuid.uuid4().hex[:8]}.img"
    uri = f"gluster://{host}/pyg_rep3/{name}"
    await pygluster.create_async(uri, 4 * MiB)
    async with pygluster.open_async(uri, "r+") as dev:
        await dev.pwrite(pattern(0), 0)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(blocking, faults.restart_glusterd)
            for block in range(1, 4):
                await dev.pwrite(pattern(block), block * MiB)
                await trio.sleep(0.3)
        assert await dev.pread(MiB, 3 * MiB) == pattern(3)
    await blocking(faults.assert_afr_clean, "pyg_rep3", name)


@pytest.mark.parametrize("volume", ["pyg_rep3", "pyg_arb"])
async def test_an_image_created_while_a_brick_is_down_heals_onto_it(
    host: str, volume: str
) -> None:
    """granular-entry-heal (on in gluster 10): the self-heal daemon heals the
    names the entry pre-op put in the brick's index. Created without one,
    the image would stay on two bricks for ever."""
    name = f"born-{uuid.uuid4().hex[:8]}.img"
    uri = f"gluster://{host}/{volume}/{name}"
    with faults.brick_down(volume, 1):
        await pygluster.create_async(uri, 2 * MiB)
        async with pygluster.open_async(uri, "r+") as dev:
            await dev.pwrite(pattern(0), 0)
        assert not faults.brick_path(volume, 1, name).exists()
    await blocking(faults.wait_healed, volume, timeout=120, paths=[f"/{name}"])
    assert faults.brick_path(volume, 1, name).exists()
    await blocking(faults.assert_replicas_identical, volume, name, ARBITER[volume])
    await pygluster.remove_async(uri)
