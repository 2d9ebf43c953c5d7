"""Eager locking against real bricks: other writers, and a writer that dies.

Replicate (and disperse) keep their inode lock and dirty mark across a burst
of writes (cluster.eager-lock, post-op-delay-secs; disperse.eager-lock,
eager-lock-timeout). That must not starve another
client (the bricks send INODELK_CONTENTION and we let go), and a client
killed while it holds the lock must leave nothing worse than a dirty mark
the self-heal daemon clears (the bricks drop its locks with its connection).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
import trio

import pygluster
from pygluster.testing import faults
from tests.integration.conftest import QEMU_IO_SETTLE, qemu

KiB = 1024
MiB = 1024 * KiB
ROOT = Path(__file__).resolve().parents[2]
#: Each writer writes its region in 64 KiB pieces, round after round, while
#: the others write theirs: the lock changes hands all the time.
PIECES = 48
PIECE = 64 * KiB

# A second pygluster process: writes its region round after round until the
# stop file appears, flushes, says so with its round count, waits for the
# test's go, then checks the test's region and says what it read.
_WRITER = textwrap.dedent(
    """
    import os, sys, pygluster
    uri, offset, fill, other, other_fill, stop = sys.argv[1:7]
    offset, other = int(offset), int(other)
    piece = bytes([int(fill, 0)]) * {piece}
    rounds = 0
    with pygluster.open(uri, "r+") as dev:
        while not os.path.exists(stop):
            for i in range({pieces}):
                dev.pwrite(piece, offset + i * {piece})
            rounds += 1
        dev.flush()
        print("flushed", rounds, flush=True)
        sys.stdin.readline()
        seen = dev.pread({pieces} * {piece}, other)
        want = bytes([int(other_fill, 0)]) * len(seen)
        print("ok" if seen == want else "mismatch", flush=True)
    """
).format(piece=PIECE, pieces=PIECES)

# A writer that keeps writing until it is killed (it holds the eager lock
# almost all the time: the post-op waits for a second of idleness).
_ENDLESS = textwrap.dedent(
    """
    import sys, pygluster
    with pygluster.open(sys.argv[1], "r+", write_behind=False) as dev:
        n = 0
        while True:
            dev.pwrite(bytes([n % 251 + 1]) * 65536, (n % 64) * 65536)
            if n == 8:
                print("writing", flush=True)
            n += 1
    """
)


def _python(code: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


async def _read_line(proc: subprocess.Popen[str]) -> str:
    """The next stdout line of ``proc`` (its stderr appended at its end)."""
    assert proc.stdout is not None
    assert proc.stderr is not None
    line = await trio.to_thread.run_sync(proc.stdout.readline)
    if not line:
        proc.wait()
        return proc.stderr.read()
    return line.strip()


def _reap(proc: subprocess.Popen[str]) -> None:
    """Kill ``proc`` if it still runs and close its pipes."""
    proc.kill()
    proc.communicate(timeout=30)


def _say(proc: subprocess.Popen[str], text: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write(text + "\n")
    proc.stdin.flush()


@pytest.mark.parametrize("volume", ["pyg_rep3", "pyg_shard", "pyg_ec"])
async def test_two_writers_and_qemu_on_one_image_all_progress(
    host: str, volume: str, tmp_path: Path
) -> None:
    name = f"eager-{uuid.uuid4().hex[:8]}.img"
    uri = f"gluster://{host}/{volume}/{name}"
    region = PIECES * PIECE
    # Regions: ours at 0, the other process's next, qemu-io's last; on the
    # sharded volume (4 MB shards) ours and the other's share a shard.
    ours, theirs, qemus = 0, region, 2 * region
    await pygluster.create_async(uri, 3 * region)
    stop = tmp_path / "stop"
    other = _python(_WRITER, uri, str(theirs), "0xbb", str(ours), "0xaa", str(stop))
    qemu_commands: list[str] = list(QEMU_IO_SETTLE)
    for i in range(PIECES):
        qemu_commands += ["-c", f"write -P 0xcc {qemus + i * PIECE} {PIECE}"]
    qemu_done: list[subprocess.CompletedProcess[str]] = []

    async def run_qemu() -> None:
        done = await trio.to_thread.run_sync(
            lambda: qemu("qemu-io", "-f", "raw", *qemu_commands, uri)
        )
        qemu_done.append(done)

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run_qemu)
            with trio.fail_after(150):
                async with pygluster.open_async(uri, "r+") as dev:
                    piece = b"\xaa" * PIECE
                    rounds = 0
                    # Until qemu-io got all its writes in between ours.
                    while not qemu_done or rounds < 2:
                        for i in range(PIECES):
                            await dev.pwrite(piece, ours + i * PIECE)
                        rounds += 1
                    await dev.flush()
                    stop.touch()
                    said, _, their_rounds = (await _read_line(other)).partition(" ")
                    assert said == "flushed", said
                    # It made progress all along, not just once we stopped.
                    assert int(their_rounds) >= 2
                    # The other writer's flushed data is what we read.
                    seen = await dev.pread(region, theirs)
                    assert seen == b"\xbb" * region
                    _say(other, "go")
                    assert await _read_line(other) == "ok"
        assert qemu_done, "qemu-io did not finish"
        assert qemu_done[0].returncode == 0, qemu_done[0].stderr
        async with pygluster.open_async(uri, "r") as dev:
            assert await dev.pread(region, qemus) == b"\xcc" * region
            assert await dev.pread(region, ours) == b"\xaa" * region
        if volume == "pyg_rep3":
            await trio.to_thread.run_sync(faults.assert_afr_clean, volume, name, 10.0)
    finally:
        _reap(other)
        await pygluster.remove_async(uri)


async def test_client_killed_holding_the_eager_lock(host: str) -> None:
    volume = "pyg_rep3"
    name = f"killed-{uuid.uuid4().hex[:8]}.img"
    uri = f"gluster://{host}/{volume}/{name}"
    await pygluster.create_async(uri, 4 * MiB)
    writer = _python(_ENDLESS, uri)
    try:
        assert await _read_line(writer) == "writing"
        await trio.sleep(0.3)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        # Its pre-op's dirty mark stays on every copy: heal info lists it.
        entries = await trio.to_thread.run_sync(faults.heal_info_entries, volume)
        assert any(
            any(name in entry for entry in listed) for listed in entries.values()
        ), entries
        # The bricks dropped its lock with its connection: the next opener
        # writes at once, not after a lock timeout.
        with trio.fail_after(30):
            async with pygluster.open_async(uri, "r+") as dev:
                await dev.pwrite(b"\x5a" * MiB, 0)
                await dev.flush()
        await trio.to_thread.run_sync(faults.heal, volume)
        await trio.to_thread.run_sync(
            lambda: faults.wait_healed(volume, paths=[f"/{name}"])
        )
        await trio.to_thread.run_sync(
            faults.assert_replicas_identical, volume, name, None
        )
        await trio.to_thread.run_sync(faults.assert_afr_clean, volume, name)
        async with pygluster.open_async(uri, "r") as dev:
            assert await dev.pread(MiB, 0) == b"\x5a" * MiB
    finally:
        _reap(writer)
        await pygluster.remove_async(uri)
