"""The fault harness (faults.py) proven against gluster's own FUSE client.

Before pygluster's AFR tests rely on it, these show on pyg_rep3 that the
harness sees what the reference client does: identical, clean replicas after a
normal write; blame on the survivors and a heal-info entry after writing with a
brick killed; identical again after `start force` + heal; a SIGSTOPped brick
declared dead within network.ping-timeout (5 s on this volume); and a glusterd
restart that leaves the bricks alone. Every test leaves all bricks up.
"""

from __future__ import annotations

import concurrent.futures
import os
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pygluster.testing import faults

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.integration.conftest import FuseMounts

VOLUME = "pyg_rep3"
PING_TIMEOUT = 5  # network.ping-timeout that `pygluster cluster up` sets on pyg_rep3
MiB = 1 << 20


def pattern(seed: int, size: int) -> bytes:
    """Known, position-dependent data (a shifted block is detected)."""
    block = b"".join(
        (seed * 0x1000193 + i).to_bytes(8, "big") for i in range(0, 4096, 8)
    )
    return (block * (size // len(block) + 1))[:size]


def write_at(path: Path, offset: int, data: bytes) -> None:
    """pwrite + fsync + close through the mount (the fsync makes AFR send it)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        assert os.pwrite(fd, data, offset) == len(data)
        os.fsync(fd)
    finally:
        os.close(fd)


def blame(volume: str, index: int, relpath: str) -> dict[str, tuple[int, int, int]]:
    return faults.afr_xattrs(faults.brick_path(volume, index, relpath))


def wait_for(what: str, done, timeout: float) -> float:
    t0 = time.monotonic()
    while not done():
        assert time.monotonic() - t0 < timeout, f"no {what} within {timeout} s"
        time.sleep(0.1)
    return time.monotonic() - t0


def fuse_log(mount: Path) -> Path:
    """The FUSE client's log: glusterfs names it after the mount point."""
    return Path("/var/log/glusterfs") / (
        str(mount).strip("/").replace("/", "-") + ".log"
    )


@pytest.fixture
def mount(fuse: FuseMounts) -> Path:
    # someone else may have a brick of this volume down for a moment
    faults.wait_online(VOLUME)
    return fuse(VOLUME)


@pytest.fixture
def name(mount: Path) -> Iterator[str]:
    relpath = f"faults-{uuid.uuid4().hex[:12]}.bin"
    yield relpath
    (mount / relpath).unlink(missing_ok=True)


def test_afr_xattrs_decode_big_endian_triplets(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"")
    os.setxattr(f, "trusted.afr.v-client-2", bytes.fromhex("00000002" + "00" * 8))
    os.setxattr(f, "trusted.afr.dirty", bytes.fromhex("ffffffff0000000000000001"))
    os.setxattr(f, "trusted.gfid", bytes(16))
    assert faults.afr_xattrs(f) == {
        "trusted.afr.v-client-2": (2, 0, 0),
        "trusted.afr.dirty": (-1, 0, 1),
    }


def test_brick_processes_in_child_order(mount: Path) -> None:
    bricks = faults.brick_processes(VOLUME)
    assert [b.path.name for b in bricks] == ["b1", "b2", "b3"]
    assert [b.index for b in bricks] == [0, 1, 2]
    assert all(b.online and b.running and b.port for b in bricks)
    assert len({b.pid for b in bricks}) == 3


def test_killed_brick_is_blamed_listed_and_healed(mount: Path, name: str) -> None:
    first = pattern(1, 1 * MiB)
    write_at(mount / name, 0, first)
    faults.assert_afr_clean(VOLUME, name, timeout=5)
    faults.assert_replicas_identical(VOLUME, name)
    assert faults.brick_file_bytes(VOLUME, 2, name) == first

    second = pattern(2, 1 * MiB)
    expected = first[: MiB // 2] + second
    with faults.brick_down(VOLUME, 2) as dead:
        assert dead.pid is not None
        assert not faults.brick(VOLUME, 2).online
        write_at(mount / name, MiB // 2, second)
        assert (mount / name).read_bytes() == expected
        # the survivors blame client-2 (data slot); post-op may lag ~1 s
        wait_for(
            "blame of pyg_rep3-client-2 on b1 and b2",
            lambda: all(
                blame(VOLUME, i, name).get("trusted.afr.pyg_rep3-client-2", (0,))[0] > 0
                for i in (0, 1)
            ),
            timeout=5,
        )
        for i in (0, 1):
            xattrs = blame(VOLUME, i, name)
            print(f"b{i + 1} changelog with b3 down: {xattrs}")
            assert xattrs.get("trusted.afr.dirty", (0, 0, 0)) == (0, 0, 0), xattrs
            assert xattrs.get("trusted.afr.pyg_rep3-client-0", (0, 0, 0)) == (0, 0, 0)
            assert xattrs.get("trusted.afr.pyg_rep3-client-1", (0, 0, 0)) == (0, 0, 0)
        assert faults.brick_file_bytes(VOLUME, 2, name) == first  # stale copy
        entries = faults.heal_info_entries(VOLUME)
        b1, b2, b3 = (b.path for b in faults.brick_processes(VOLUME))
        assert b3 not in entries  # heal info cannot reach the dead brick
        assert f"/{name}" in entries[b1]
        assert f"/{name}" in entries[b2]
    assert faults.brick(VOLUME, 2).online
    accepted = faults.heal(VOLUME)
    healed = faults.wait_healed(VOLUME, timeout=40, paths=[name])
    print(f"heal accepted after {accepted:.1f} s, healed {healed:.1f} s later")
    faults.assert_replicas_identical(VOLUME, name)
    faults.assert_afr_clean(VOLUME, name)
    assert faults.brick_file_bytes(VOLUME, 2, name) == expected
    assert (mount / name).read_bytes() == expected


def test_arbiter_copy_is_empty_with_gfid(fuse) -> None:
    faults.wait_online("pyg_arb")
    mount = fuse("pyg_arb")
    relpath = f"faults-{uuid.uuid4().hex[:12]}.bin"
    data = pattern(6, 300 * 1024)
    try:
        write_at(mount / relpath, 0, data)
        faults.assert_afr_clean("pyg_arb", relpath, timeout=5)
        faults.assert_replicas_identical("pyg_arb", relpath, arbiter_index=2)
        assert faults.brick_file_bytes("pyg_arb", 0, relpath) == data
        assert faults.brick_file_bytes("pyg_arb", 2, relpath) == b""
        with pytest.raises(AssertionError, match="pass arbiter_index"):
            faults.assert_replicas_identical("pyg_arb", relpath)
    finally:
        (mount / relpath).unlink(missing_ok=True)


def test_stopped_brick_is_dropped_within_ping_timeout(mount: Path, name: str) -> None:
    data = pattern(3, 256 * 1024)
    write_at(mount / name, 0, data)
    faults.assert_afr_clean(VOLUME, name, timeout=5)
    log = fuse_log(mount)
    assert log.is_file(), log
    start_at = log.stat().st_size

    def new_log() -> str:
        with log.open("rb") as f:
            f.seek(start_at)
            return f.read().decode(errors="replace")

    more = pattern(4, 256 * 1024)
    with (
        faults.brick_stopped(VOLUME, 1),
        concurrent.futures.ThreadPoolExecutor(1) as pool,
    ):
        t0 = time.monotonic()
        write = pool.submit(write_at, mount / name, len(data), more)
        detected = wait_for(
            "ping-timeout disconnect in the FUSE log",
            lambda: (
                f"has not responded in the last {PING_TIMEOUT} seconds" in new_log()
            ),
            timeout=3 * PING_TIMEOUT,
        )
        write.result(timeout=3 * PING_TIMEOUT)  # I/O goes on with b1 and b3
        completed = time.monotonic() - t0
        [line] = [x for x in new_log().splitlines() if "has not responded" in x]
        assert "pyg_rep3-client-1:" in line, line
        # gluster's ping timer re-arms for a full period while anything was
        # *sent* in the last ping-timeout s (rpc-clnt-ping.c), so a hung brick
        # is dropped between 1x and 2x ping-timeout after it stopped answering
        assert PING_TIMEOUT - 1 <= detected <= 2 * PING_TIMEOUT + 2, detected
        assert completed <= 2 * PING_TIMEOUT + 4, completed
        # the survivors blame b2 (checked before SIGCONT: the self-heal daemon
        # heals as soon as b2 answers again)
        wait_for(
            "blame of pyg_rep3-client-1 on b1 and b3",
            lambda: all(
                blame(VOLUME, i, name).get("trusted.afr.pyg_rep3-client-1", (0,))[0] > 0
                for i in (0, 2)
            ),
            timeout=5,
        )
    print(f"ping-timeout detection {detected:.1f} s, write done {completed:.1f} s")
    rejoined = wait_for(
        "reconnect of pyg_rep3-client-1",
        lambda: "pyg_rep3-client-1: Connected, attached" in new_log(),
        timeout=30,
    )
    print(f"rejoined {rejoined:.1f} s after SIGCONT")
    faults.heal(VOLUME)
    faults.wait_healed(VOLUME, timeout=40, paths=[name])
    faults.assert_replicas_identical(VOLUME, name)
    faults.assert_afr_clean(VOLUME, name)
    assert (mount / name).read_bytes() == data + more


def test_restart_glusterd_keeps_bricks_running(mount: Path, name: str) -> None:
    before = {b.path: b.pid for b in faults.brick_processes(VOLUME)}
    took = faults.restart_glusterd()
    print(f"glusterd restart until all bricks + shd online: {took:.1f} s")
    assert {b.path: b.pid for b in faults.brick_processes(VOLUME)} == before
    data = pattern(5, 64 * 1024)
    write_at(mount / name, 0, data)
    assert (mount / name).read_bytes() == data
    faults.assert_replicas_identical(VOLUME, name)
