"""AFR transactions against in-process fake bricks: fault injection at each step.

The real-brick tests (tests/integration) prove interop; these pin down the
rules of topology.md §3 where a real server cannot easily fail on cue.
"""

from __future__ import annotations

import errno
import struct

import pytest
import trio

from pygluster.errors import FopError, QuorumError
from pygluster.rpc import fops
from pygluster.rpc.fops import DictValue
from pygluster.xlators.afr import (
    AFR_DIRTY,
    XATTROP_ENTRY_IN,
    XATTROP_ENTRY_OUT,
    ReplicateXlator,
    super_fast_hash,
)
from pygluster.xlators.base import Fd, InodelkContention, Loc
from tests.memory_brick import MemoryBrick

TRIPLET = struct.Struct(">iii")
GFID = bytes(range(16))
ROOT = Loc("/", None, "", fops.ROOT_GFID)
DOMAIN = "v-replicate-0"  # AFR locks in the domain named after itself


class FakeBrick(MemoryBrick):
    """A memory brick holding one file, /f, as AFR's tests see it."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.file = self.add(fops.ROOT_GFID, "f", GFID)
        self._connection = object()

    @property
    def connection(self) -> object | None:
        return self._connection

    def reconnect(self) -> None:
        """As a brick connection that came back: our locks on it are gone."""
        self._connection = object()
        self.inodelks.clear()

    def __str__(self) -> str:
        return f"fake:{self.name}"

    @property
    def data(self) -> bytearray:
        return self.file.data

    @data.setter
    def data(self, value: bytearray) -> None:
        self.file.data = value

    @property
    def xattrs(self) -> dict[str, bytes]:
        return self.file.xattrs

    @property
    def lock_owner(self) -> bytes | None:
        """Who holds the replicate domain's inode lock on /f."""
        return self.inodelks.get((GFID, DOMAIN))

    @lock_owner.setter
    def lock_owner(self, owner: bytes | None) -> None:
        if owner is None:
            self.inodelks.pop((GFID, DOMAIN), None)
        else:
            self.inodelks[(GFID, DOMAIN)] = owner

    def counters(self, key: str) -> tuple[int, int, int]:
        return TRIPLET.unpack(self.xattrs.get(key, bytes(12)))


def make_afr(arbiter: bool = False, **options: str):
    bricks = [FakeBrick(f"v-client-{i}") for i in range(3)]
    opts = {"afr-pending-xattr": "v-client-0,v-client-1,v-client-2", **options}
    if arbiter:
        opts["arbiter-count"] = "1"
    return ReplicateXlator("v-replicate-0", bricks, opts, "v"), bricks


async def open_file(afr: ReplicateXlator) -> Fd:
    loc = Loc("/f", fops.ROOT_GFID, "f", GFID)
    await afr.lookup(loc)
    return await afr.open(loc, 2)


def blame(brick: FakeBrick, index: int) -> tuple[int, int, int]:
    return brick.counters(f"trusted.afr.v-client-{index}")


async def test_clean_write_leaves_no_changelog() -> None:
    afr, bricks = make_afr()
    fd = await open_file(afr)
    await afr.writev(fd, 0, b"abc")
    for brick in bricks:
        assert brick.data == b"abc"
        assert brick.counters(AFR_DIRTY) == (0, 0, 0)
        assert all(blame(brick, j) == (0, 0, 0) for j in range(3))
        assert brick.lock_owner is None
        # lock, pre-op, write, fsync (ensure-durability), post-op, unlock
        assert brick.calls[-6:] == [
            "FINODELK",
            "FXATTROP",
            "WRITE",
            "FSYNC",
            "FXATTROP",
            "FINODELK",
        ]


async def test_failed_brick_is_blamed_by_the_others_in_the_data_slot() -> None:
    afr, bricks = make_afr()
    fd = await open_file(afr)
    bricks[2].fail["WRITE"] = errno.EIO
    await afr.writev(fd, 0, b"abc")
    for good in bricks[:2]:
        assert blame(good, 2) == (1, 0, 0)
        assert good.counters(AFR_DIRTY) == (0, 0, 0)
    # The failed brick got no post-op: its dirty mark stays for self-heal.
    assert bricks[2].counters(AFR_DIRTY) == (1, 0, 0)
    # And it is no longer read from.
    bricks[0].fail["READ"] = errno.EIO
    bricks[1].fail["READ"] = errno.EIO
    with pytest.raises(FopError):
        await afr.readv(fd, 0, 3)
    assert "READ" not in bricks[2].calls


async def test_down_brick_is_blamed_and_write_goes_on() -> None:
    afr, bricks = make_afr()
    fd = await open_file(afr)
    bricks[1].up = False
    async with afr.transaction(fd):
        await afr.writev(fd, 0, b"x")
        await afr.writev(fd, 1, b"y")
    # One transaction, one blame (+1 per session, like eager lock).
    assert blame(bricks[0], 1) == (1, 0, 0)
    assert blame(bricks[2], 1) == (1, 0, 0)
    assert bricks[0].data == bricks[2].data == b"xy"


async def test_two_bricks_down_is_a_quorum_error_and_nothing_is_written() -> None:
    afr, bricks = make_afr()
    fd = await open_file(afr)
    bricks[1].up = bricks[2].up = False
    with pytest.raises(QuorumError) as info:
        await afr.writev(fd, 0, b"x")
    assert info.value.errno == errno.ENOTCONN
    assert "quorum" in str(info.value)
    assert bricks[0].data == b""
    assert "WRITE" not in bricks[0].calls
    assert bricks[0].xattrs == {}


async def test_a_lookup_all_bricks_answer_estale_is_estale_not_a_quorum_error() -> None:
    # A parent no brick can resolve (a missing /.shard): each brick answered,
    # so the replica set is up; the caller must see the bricks' errno.
    afr, _ = make_afr()
    missing = Loc("/gone/x", bytes(range(1, 17)), "x")
    with pytest.raises(FopError) as info:
        await afr.lookup(missing)
    assert not isinstance(info.value, QuorumError)
    assert info.value.errno == errno.ESTALE


@pytest.mark.parametrize("down", [False, True])
async def test_entry_changelog_names_the_entry_for_granular_heal(down: bool) -> None:
    # The pre-op indexes the name (the self-heal daemon heals the names it
    # finds there); the post-op drops it only if every brick did the fop.
    afr, bricks = make_afr()
    if down:
        bricks[2].up = False
    loc = Loc("/new", fops.ROOT_GFID, "new", bytes(range(2, 18)))
    fd, _ = await afr.create(loc, 2, 0o100644)
    pre, post = bricks[0].xattrop_xdata[-2:]
    assert pre == {XATTROP_ENTRY_IN: DictValue.str(b"new")}
    assert post == ({} if down else {XATTROP_ENTRY_OUT: DictValue.str(b"new")})
    await afr.release(fd)


async def test_only_the_arbiter_unblamed_refuses_the_write() -> None:
    afr, bricks = make_afr(arbiter=True)
    # Brick 0 is blamed by everyone, brick 1 is down: only the arbiter is good.
    for brick in bricks:
        brick.xattrs["trusted.afr.v-client-0"] = TRIPLET.pack(1, 0, 0)
    bricks[0].xattrs.clear()
    fd = await open_file(afr)
    bricks[1].up = False
    with pytest.raises(FopError) as info:
        await afr.writev(fd, 0, b"x")
    assert info.value.errno == errno.ENOTCONN
    assert bricks[0].data == b""
    assert bricks[2].counters(AFR_DIRTY) == (0, 0, 0)


async def test_reads_never_go_to_the_arbiter_or_a_blamed_copy() -> None:
    afr, bricks = make_afr(arbiter=True)
    bricks[0].data = bytearray(b"good")
    bricks[1].data = bytearray(b"old!")
    for brick in bricks:
        brick.xattrs["trusted.afr.v-client-1"] = TRIPLET.pack(2, 0, 0)
    bricks[1].xattrs.clear()
    fd = await open_file(afr)
    data, _ = await afr.readv(fd, 0, 4)
    assert bytes(data) == b"good"
    assert "READ" not in bricks[1].calls
    assert "READ" not in bricks[2].calls


async def test_lock_contention_falls_back_to_blocking_in_index_order() -> None:
    afr, bricks = make_afr()
    fd = await open_file(afr)
    bricks[1].lock_owner = b"someone"

    async def release_later() -> None:
        await trio.sleep(0.05)
        bricks[1].lock_owner = None

    async with trio.open_nursery() as nursery:
        nursery.start_soon(release_later)
        await afr.writev(fd, 0, b"z")
    assert all(b.data == b"z" for b in bricks)
    assert all(b.lock_owner is None for b in bricks)


async def test_quorum_lost_during_the_write_leaves_copies_dirty() -> None:
    afr, bricks = make_afr()
    fd = await open_file(afr)
    bricks[1].fail["WRITE"] = errno.ENOTCONN
    bricks[2].fail["WRITE"] = errno.ENOTCONN
    with pytest.raises(QuorumError):
        await afr.writev(fd, 0, b"x")
    assert all(b.counters(AFR_DIRTY) == (1, 0, 0) for b in bricks)
    assert all(b.lock_owner is None for b in bricks)


async def test_the_same_refusal_everywhere_blames_nobody() -> None:
    afr, bricks = make_afr()
    fd = await open_file(afr)
    for brick in bricks:
        brick.fail["WRITE"] = errno.ENOSPC
    with pytest.raises(FopError) as info:
        await afr.writev(fd, 0, b"x")
    assert info.value.errno == errno.ENOSPC
    for brick in bricks:
        assert brick.counters(AFR_DIRTY) == (0, 0, 0)
        assert all(blame(brick, j) == (0, 0, 0) for j in range(3))


def test_super_fast_hash_matches_gluster() -> None:
    # Values computed from libglusterfs' SuperFastHash (hashfn.c) semantics.
    assert super_fast_hash(b"") == 0
    assert super_fast_hash(bytes(16)) == super_fast_hash(bytes(16))
    assert 0 <= super_fast_hash(GFID) < 2**32


# --- eager locking (cluster.eager-lock, post-op-delay-secs) -------------------


def make_eager_afr(nursery: trio.Nursery, delay: str = "30"):
    bricks = [FakeBrick(f"v-client-{i}") for i in range(3)]
    opts = {
        "afr-pending-xattr": "v-client-0,v-client-1,v-client-2",
        "post-op-delay-secs": delay,
    }
    return ReplicateXlator("v-replicate-0", bricks, opts, "v", nursery), bricks


async def eager_end(afr: ReplicateXlator, fd: Fd) -> None:
    """Wait until the fd's eager transaction has ended (post-op, unlock)."""
    txn = fd.ctx[afr].eager
    assert txn is not None
    with trio.fail_after(5):
        await txn.ended.wait()


def dirty(bricks: list[FakeBrick]) -> list[tuple[int, int, int]]:
    return [b.counters(AFR_DIRTY) for b in bricks]


async def test_eager_lock_spans_writes_and_posts_op_after_the_delay() -> None:
    async with trio.open_nursery() as nursery:
        afr, bricks = make_eager_afr(nursery, delay="0.05")
        fd = await open_file(afr)
        await afr.writev(fd, 0, b"abc")
        await afr.writev(fd, 3, b"def")
        for brick in bricks:
            # One lock and one pre-op for both writes; still held.
            assert brick.calls.count("FINODELK") == 1
            assert brick.calls.count("FXATTROP") == 1
            assert brick.calls.count("WRITE") == 2
            assert brick.lock_owner is not None
        assert dirty(bricks) == [(1, 0, 0)] * 3
        await eager_end(afr, fd)
        assert all(b.lock_owner is None for b in bricks)
        assert dirty(bricks) == [(0, 0, 0)] * 3
        for brick in bricks:
            assert brick.data == b"abcdef"
            # fsync before the post-op clears the dirty mark, then unlock.
            assert brick.calls[-3:] == ["FSYNC", "FXATTROP", "FINODELK"]


async def test_eager_lock_ends_on_flush_and_on_a_contention_notice() -> None:
    async with trio.open_nursery() as nursery:
        afr, bricks = make_eager_afr(nursery)
        fd = await open_file(afr)
        await afr.writev(fd, 0, b"abc")
        await afr.flush(fd)
        # FLUSH returns only once the post-op is done and the lock is free.
        assert all(b.lock_owner is None for b in bricks)
        assert dirty(bricks) == [(0, 0, 0)] * 3

        await afr.writev(fd, 0, b"xyz")
        assert all(b.lock_owner is not None for b in bricks)
        assert not afr.contended(fd)
        afr.upcall(InodelkContention(GFID, DOMAIN, "fake:v-client-0"))
        assert afr.contended(fd)
        await eager_end(afr, fd)
        assert all(b.lock_owner is None for b in bricks)
        assert dirty(bricks) == [(0, 0, 0)] * 3
        # A notice for another domain (or inode) is not ours to act on.
        await afr.writev(fd, 0, b"123")
        afr.upcall(InodelkContention(GFID, "other-domain", "fake:v-client-0"))
        afr.upcall(InodelkContention(bytes(16), DOMAIN, "fake:v-client-0"))
        assert not afr.contended(fd)
        await afr.release(fd)
        assert all(b.lock_owner is None for b in bricks)


async def test_eager_lock_records_a_failure_at_once() -> None:
    async with trio.open_nursery() as nursery:
        afr, bricks = make_eager_afr(nursery)
        fd = await open_file(afr)
        await afr.writev(fd, 0, b"abc")
        bricks[2].fail["WRITE"] = errno.EIO
        await afr.writev(fd, 0, b"def")
        # No waiting for the 30 s delay: the blame is written now.
        await eager_end(afr, fd)
        assert all(b.lock_owner is None for b in bricks)
        for good in bricks[:2]:
            assert blame(good, 2) == (1, 0, 0)
            assert good.counters(AFR_DIRTY) == (0, 0, 0)
        nursery.cancel_scope.cancel()


async def test_eager_lock_is_taken_again_after_a_brick_reconnected() -> None:
    async with trio.open_nursery() as nursery:
        afr, bricks = make_eager_afr(nursery)
        fd = await open_file(afr)
        await afr.writev(fd, 0, b"abc")
        bricks[1].reconnect()
        await afr.writev(fd, 3, b"def")
        # The second write did not ride on a lock brick 1 no longer holds.
        for brick in bricks:
            assert brick.calls.count("FINODELK") >= 2
        assert bricks[1].lock_owner is not None
        await afr.flush(fd)
        assert dirty(bricks) == [(0, 0, 0)] * 3
        assert all(b.data == b"abcdef" for b in bricks)
