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
from pygluster.rpc.fops import DictValue, LkCmd, LkType
from pygluster.xlators.afr import AFR_DIRTY, ReplicateXlator, super_fast_hash
from pygluster.xlators.base import Fd, Loc, Xlator, current_frame

TRIPLET = struct.Struct(">iii")
GFID = bytes(range(16))
ROOT = Loc("/", None, "", fops.ROOT_GFID)


def iatt(gfid: bytes, size: int = 0, mode: int = 0o100600) -> fops.GfxIattx:
    zero = dict.fromkeys(fops.GfxIattx.__dataclass_fields__, 0)
    return fops.GfxIattx(**{**zero, "ia_gfid": gfid, "ia_size": size, "mode": mode})


class FakeBrick(Xlator):
    """A brick in memory: one file's bytes and xattrs, locks, and failures."""

    def __init__(self, name: str) -> None:
        super().__init__(name, [])
        self.up = True
        self.data = bytearray()
        self.xattrs: dict[str, bytes] = {}
        self.fail: dict[str, int] = {}  # fop name -> errno to fail with
        self.lock_owner: bytes | None = None
        self.calls: list[str] = []

    def __str__(self) -> str:
        return f"fake:{self.name}"

    @property
    def is_up(self) -> bool:
        return self.up

    def _enter(self, fop: str) -> None:
        self.calls.append(fop)
        if not self.up:
            raise FopError(fop, "/f", str(self), errno.ENOTCONN)
        if fop in self.fail:
            raise FopError(fop, "/f", str(self), self.fail[fop])

    def counters(self, key: str) -> tuple[int, int, int]:
        return TRIPLET.unpack(self.xattrs.get(key, bytes(12)))

    async def lookup(self, loc, xdata=None):
        self._enter("LOOKUP")
        reply = {k: DictValue.ptr(v) for k, v in self.xattrs.items()}
        if loc.gfid == fops.ROOT_GFID:
            return iatt(fops.ROOT_GFID, mode=0o40755), reply
        return iatt(GFID, len(self.data)), reply

    async def open(self, loc, flags, xdata=None):
        self._enter("OPEN")
        fd = Fd(loc, flags)
        fd.ctx[self] = 1
        return fd

    async def finodelk(
        self, fd, domain, cmd, lock_type, *, start=0, length=0, xdata=None
    ):
        owner = current_frame().lk_owner
        self._enter("FINODELK")
        if lock_type == LkType.UNLCK:
            assert self.lock_owner == owner
            self.lock_owner = None
            return
        if self.lock_owner is not None and self.lock_owner != owner:
            if cmd == LkCmd.SETLK:
                raise FopError("FINODELK", "/f", str(self), errno.EAGAIN)
            while self.lock_owner is not None:  # noqa: ASYNC110 - a fake: polling is fine
                await trio.sleep(0.01)
        self.lock_owner = owner

    async def fxattrop(self, fd, flags, values, xdata=None):
        self._enter("FXATTROP")
        assert flags == fops.XattropFlags.ADD_ARRAY
        result = {}
        for key, value in values.items():
            old = TRIPLET.unpack(self.xattrs.get(key, bytes(12)))
            add = TRIPLET.unpack(value.value)
            new = TRIPLET.pack(*(a + b for a, b in zip(old, add, strict=True)))
            if new != bytes(12) or key in self.xattrs:
                self.xattrs[key] = new
            result[key] = DictValue.ptr(new)
        return result

    async def writev(self, fd, offset, data, xdata=None):
        self._enter("WRITE")
        end = offset + len(data)
        if len(self.data) < end:
            self.data.extend(bytes(end - len(self.data)))
        self.data[offset:end] = data
        return iatt(GFID, len(self.data))

    async def readv(self, fd, offset, size, into=None, xdata=None):
        self._enter("READ")
        return memoryview(bytes(self.data[offset : offset + size])), iatt(
            GFID, len(self.data)
        )

    async def fsync(self, fd, datasync=False, xdata=None):
        self._enter("FSYNC")

    async def fstat(self, fd, xdata=None):
        self._enter("FSTAT")
        return iatt(GFID, len(self.data))

    async def flush(self, fd, xdata=None):
        self._enter("FLUSH")

    async def release(self, fd, xdata=None):
        self.calls.append("RELEASE")

    def holders(self, fd):
        return [self]

    # unused by these tests
    async def create(self, *a, **k):
        raise NotImplementedError

    async def mkdir(self, *a, **k):
        raise NotImplementedError

    async def unlink(self, *a, **k):
        raise NotImplementedError

    async def rmdir(self, *a, **k):
        raise NotImplementedError

    async def statfs(self, *a, **k):
        raise NotImplementedError

    async def ftruncate(self, *a, **k):
        raise NotImplementedError

    async def fallocate(self, *a, **k):
        raise NotImplementedError

    async def discard(self, *a, **k):
        raise NotImplementedError

    async def zerofill(self, *a, **k):
        raise NotImplementedError

    async def seek(self, *a, **k):
        raise NotImplementedError


def make_afr(arbiter: bool = False, **options: str):
    bricks = [FakeBrick(f"v-client-{i}") for i in range(3)]
    opts = {"afr-pending-xattr": "v-client-0,v-client-1,v-client-2", **options}
    if arbiter:
        opts["arbiter-count"] = "1"
    return ReplicateXlator("v-replicate-0", bricks, opts, "v"), bricks  # type: ignore[arg-type]


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
