"""cluster/disperse on in-memory bricks: what lands on each brick, degraded
reads, stale copies, quorum, and the version/size/dirty bookkeeping.

The real-brick tests (tests/integration/test_disperse_live.py) prove interop
with libgfapi; these pin down the rules where a brick must fail on cue.
"""

from __future__ import annotations

import errno
import struct
from typing import TYPE_CHECKING

import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pygluster.errors import FopError, QuorumError, UnsupportedVolume
from pygluster.rpc import fops
from pygluster.rpc.fops import GfOpenFlags, SeekWhat
from pygluster.xlators.base import Fd, InodelkContention, Loc
from pygluster.xlators.disperse import (
    EC_CONFIG,
    EC_DIRTY,
    EC_SIZE,
    EC_VERSION,
    DisperseXlator,
    config_value,
)
from tests.memory_brick import MemoryBrick

if TYPE_CHECKING:
    from pygluster.erasure import ErasureCode

PAIR = struct.Struct(">QQ")
ROOT = Loc("/", None, "", fops.ROOT_GFID)
DOMAIN = "v-disperse-0"
GFID = bytes(range(16))


def make(bricks: int, redundancy: int) -> tuple[DisperseXlator, list[MemoryBrick]]:
    children = [MemoryBrick(f"b{i}") for i in range(bricks)]
    ec = DisperseXlator(DOMAIN, children, {"redundancy": str(redundancy)}, "v")
    return ec, children


async def create(ec: DisperseXlator, name: str = "f") -> Fd:
    loc = Loc(f"/{name}", fops.ROOT_GFID, name, GFID)
    fd, iatt = await ec.create(loc, int(GfOpenFlags.RDWR), 0o644)
    assert iatt.ia_size == 0
    return fd


async def reopen(ec: DisperseXlator, name: str = "f") -> tuple[Fd, int]:
    loc = Loc(f"/{name}", fops.ROOT_GFID, name)
    iatt, _ = await ec.lookup(loc)
    fd = await ec.open(loc.with_gfid(iatt.ia_gfid), int(GfOpenFlags.RDWR))
    return fd, iatt.ia_size


async def read_all(ec: DisperseXlator, fd: Fd, size: int) -> bytes:
    data, _ = await ec.readv(fd, 0, size + 4096)
    return bytes(data)


def brick_file(brick: MemoryBrick, name: str = "f") -> tuple[bytes, dict[str, bytes]]:
    inode = brick.find(f"/{name}")
    assert inode is not None
    return bytes(inode.data), inode.xattrs


def expected_fragments(code: ErasureCode, content: bytes) -> list[bytes]:
    stripe = code.stripe_size
    padded = content + bytes(-len(content) % stripe)
    return code.encode(padded)


def test_create_sets_the_config_version_and_size() -> None:
    async def main() -> None:
        ec, bricks = make(3, 1)
        await create(ec)
        for brick in bricks:
            _, xattrs = brick_file(brick)
            assert (
                xattrs[EC_CONFIG]
                == config_value(3, 1)
                == bytes.fromhex("0000080301000200")
            )
            assert xattrs[EC_VERSION] == bytes(16)
            assert xattrs[EC_SIZE] == bytes(8)

    trio.run(main)


@pytest.mark.parametrize("geometry", [(3, 1), (6, 2), (11, 3)])
def test_writes_put_gluster_fragments_on_every_brick(geometry: tuple[int, int]) -> None:
    async def main() -> None:
        ec, bricks = make(*geometry)
        fd = await create(ec)
        content = bytearray()
        for offset, data in [
            (0, b"a" * 5000),
            (700, b"b" * 100),  # inside a stripe: read-modify-write
            (9000, b"c" * 3),  # past the end: a hole, then a partial stripe
            (4095, bytes(range(256)) * 9),
        ]:
            await ec.writev(fd, offset, data)
            end = offset + len(data)
            content.extend(bytes(max(0, end - len(content))))
            content[offset:end] = data
        assert await read_all(ec, fd, len(content)) == content
        fragments = expected_fragments(ec.code, bytes(content))
        for index, brick in enumerate(bricks):
            data, xattrs = brick_file(brick)
            assert data == fragments[index], index
            assert struct.unpack(">Q", xattrs[EC_SIZE])[0] == len(content)
            assert xattrs.get(EC_DIRTY, bytes(16)) == bytes(16)
            # A new file gets a version at its first update, then healthy
            # updates leave it (ec_update_info).
            assert PAIR.unpack(xattrs[EC_VERSION]) == (1, 1)
        await ec.release(fd)
        assert all(not brick.inodelks for brick in bricks)

    trio.run(main)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, 6000), st.binary(min_size=1, max_size=3000)),
        min_size=1,
        max_size=5,
    ),
    st.integers(0, 2),
)
def test_any_writes_read_back_with_any_brick_down(
    writes: list[tuple[int, bytes]], down: int
) -> None:
    async def main() -> None:
        ec, bricks = make(3, 1)
        fd = await create(ec)
        content = bytearray()
        for offset, data in writes:
            await ec.writev(fd, offset, data)
            end = offset + len(data)
            content.extend(bytes(max(0, end - len(content))))
            content[offset:end] = data
        bricks[down].up = False
        fd2, size = await reopen(ec)
        assert size == len(content)
        assert await read_all(ec, fd2, size) == content

    trio.run(main)


def test_degraded_write_leaves_dirty_and_the_stale_copy_is_not_read() -> None:
    async def main() -> None:
        ec, bricks = make(3, 1)
        fd = await create(ec)
        await ec.writev(fd, 0, b"x" * 2048)
        bricks[2].up = False
        await ec.writev(fd, 100, b"y" * 100)
        good = [brick_file(b)[1] for b in bricks[:2]]
        for xattrs in good:
            assert PAIR.unpack(xattrs[EC_VERSION]) == (2, 2)
            assert PAIR.unpack(xattrs[EC_DIRTY]) == (1, 1)  # heal needed
        stale = brick_file(bricks[2])[1]
        assert PAIR.unpack(stale[EC_VERSION]) == (1, 1)
        # The brick comes back with its old fragments; brick 0 goes away.
        # Bricks 1 and 2 disagree, so no k of them agree: refused, not garbage.
        bricks[2].up = True
        bricks[0].up = False
        with pytest.raises(FopError) as caught:
            await ec.readv(fd, 0, 2048)
        assert "agree" in str(caught.value)
        bricks[0].up = True
        data, _ = await ec.readv(fd, 0, 2048)
        assert bytes(data) == b"x" * 100 + b"y" * 100 + b"x" * 1848

    trio.run(main)


def test_too_few_bricks_refuses_the_write_and_changes_nothing() -> None:
    async def main() -> None:
        ec, bricks = make(3, 1)
        fd = await create(ec)
        await ec.writev(fd, 0, b"z" * 1024)
        before = [brick_file(b) for b in bricks]
        bricks[0].up = bricks[1].up = False
        with pytest.raises(QuorumError) as caught:
            await ec.writev(fd, 0, b"w" * 10)
        assert "at least 2 of 3" in str(caught.value)
        assert brick_file(bricks[2]) == before[2]

    trio.run(main)


def test_truncate_shrinks_to_stripes_and_zeroes_the_rest() -> None:
    async def main() -> None:
        ec, bricks = make(3, 1)
        fd = await create(ec)
        await ec.writev(fd, 0, b"q" * 5000)
        await ec.ftruncate(fd, 1500)
        assert len(brick_file(bricks[0])[0]) == 2 * 512  # 2 stripes of 1024
        await ec.ftruncate(fd, 4000)
        assert await read_all(ec, fd, 4000) == b"q" * 1500 + bytes(2500)
        fragments = expected_fragments(ec.code, b"q" * 1500 + bytes(2500))
        for index, brick in enumerate(bricks):
            data, xattrs = brick_file(brick)
            assert data == fragments[index]
            assert struct.unpack(">Q", xattrs[EC_SIZE])[0] == 4000

    trio.run(main)


def test_discard_and_zerofill_read_back_zeros() -> None:
    async def main() -> None:
        ec, bricks = make(3, 1)
        fd = await create(ec)
        await ec.writev(fd, 0, b"d" * 8192)
        await ec.discard(fd, 100, 5000)
        await ec.zerofill(fd, 7000, 2000)
        expect = b"d" * 100 + bytes(5000) + b"d" * 1900 + bytes(2000)
        assert await read_all(ec, fd, 9000) == expect
        # The whole stripes inside the discarded range went to the bricks.
        assert "DISCARD" in bricks[0].calls
        assert struct.unpack(">Q", brick_file(bricks[1])[1][EC_SIZE])[0] == 9000

    trio.run(main)


def test_a_session_takes_one_lock_for_many_writes() -> None:
    async def main() -> None:
        ec, bricks = make(3, 1)
        fd = await create(ec)
        before = bricks[0].calls.count("INODELK")
        async with ec.transaction(fd):
            for i in range(10):
                await ec.writev(fd, i * 1024, bytes([i]) * 1024)
        assert bricks[0].calls.count("INODELK") - before == 2  # lock, unlock
        _, xattrs = brick_file(bricks[0])
        assert PAIR.unpack(xattrs[EC_VERSION]) == (10, 10)
        assert struct.unpack(">Q", xattrs[EC_SIZE])[0] == 10240

    trio.run(main)


def test_concurrent_writes_to_one_stripe_both_land() -> None:
    async def main() -> None:
        ec, _ = make(3, 1)
        fd = await create(ec)
        await ec.writev(fd, 0, bytes(1024))
        async with trio.open_nursery() as nursery:
            nursery.start_soon(ec.writev, fd, 0, b"a" * 10)
            nursery.start_soon(ec.writev, fd, 500, b"b" * 10)
        data = await read_all(ec, fd, 1024)
        assert data[:10] == b"a" * 10
        assert data[500:510] == b"b" * 10

    trio.run(main)


def test_a_copy_of_another_geometry_is_refused() -> None:
    async def main() -> None:
        ec, bricks = make(3, 1)
        fd = await create(ec)
        for brick in bricks:
            inode = brick.find("/f")
            assert inode is not None
            inode.xattrs[EC_CONFIG] = config_value(6, 2)
        with pytest.raises(FopError, match=r"trusted\.ec\.config"):
            await ec.writev(fd, 0, b"x")

    trio.run(main)


@pytest.mark.parametrize("redundancy", ["0", "2", "", "x"])
def test_a_geometry_gluster_would_refuse(redundancy: str) -> None:
    with pytest.raises(UnsupportedVolume):
        DisperseXlator(
            DOMAIN,
            [MemoryBrick(f"b{i}") for i in range(4)],
            {"redundancy": redundancy},
            "v",
        )


def test_eager_lock_holds_across_fops_and_ends_when_idle_or_contended() -> None:
    async def main() -> None:
        children = [MemoryBrick(f"b{i}") for i in range(3)]
        async with trio.open_nursery() as nursery:
            ec = DisperseXlator(
                DOMAIN,
                children,
                {"redundancy": "1", "eager-lock-timeout": "0.2"},
                "v",
                nursery,
            )
            assert ec.eager_lock
            fd = await create(ec)
            for i in range(5):
                await ec.writev(fd, i * 1024, bytes([i + 1]) * 1024)
                data, _ = await ec.readv(fd, i * 1024, 1024)
                assert bytes(data) == bytes([i + 1]) * 1024
            # One lock for all of it, held: dirty is set meanwhile.
            assert children[0].calls.count("INODELK") == 1
            assert children[0].inodelks
            _, xattrs = brick_file(children[0])
            assert PAIR.unpack(xattrs[EC_DIRTY]) == (1, 1)
            await trio.sleep(0.4)  # idle past eager-lock-timeout: let go
            assert not children[0].inodelks
            _, xattrs = brick_file(children[0])
            assert PAIR.unpack(xattrs[EC_DIRTY]) == (0, 0)
            assert PAIR.unpack(xattrs[EC_VERSION]) == (5, 5)
            assert struct.unpack(">Q", xattrs[EC_SIZE])[0] == 5120
            # Another client's wait (the contention upcall) ends it at once.
            await ec.writev(fd, 0, b"x")
            assert children[1].inodelks
            ec.upcall(InodelkContention(GFID, DOMAIN, "memory:/b1"))
            await trio.sleep(0.05)
            assert not children[1].inodelks
            # flush makes the update whole on the bricks before it returns.
            await ec.writev(fd, 1, b"y")
            await ec.flush(fd)
            assert not children[2].inodelks
            await ec.release(fd)

    trio.run(main)


def test_concurrent_extending_writes_leave_the_largest_size() -> None:
    async def main() -> None:
        ec, bricks = make(3, 1)
        fd = await create(ec)
        gate = trio.Event()

        async def slow_first(fop: str) -> None:
            if fop == "WRITE" and not gate.is_set():
                gate.set()
                await trio.sleep(0.05)

        bricks[0].before = slow_first
        async with ec.transaction(fd), trio.open_nursery() as nursery:
            for i in range(4):
                nursery.start_soon(ec.writev, fd, i * 4096, bytes([i + 1]) * 4096)
        _, size = await reopen(ec)
        assert size == 4 * 4096

    trio.run(main)


def test_seek_scales_the_bricks_answer_to_stripes() -> None:
    async def main() -> None:
        ec, _ = make(3, 1)
        fd = await create(ec)
        await ec.writev(fd, 0, b"s" * 5000)
        assert await ec.seek(fd, 0, SeekWhat.DATA) == 0
        assert await ec.seek(fd, 100, SeekWhat.DATA) == 100
        assert await ec.seek(fd, 0, SeekWhat.HOLE) == 5000
        with pytest.raises(FopError) as caught:
            await ec.seek(fd, 6000, SeekWhat.DATA)
        assert caught.value.errno == errno.ENXIO

    trio.run(main)


def test_fallocate_allocates_stripes_and_grows_the_size() -> None:
    async def main() -> None:
        ec, bricks = make(3, 1)
        fd = await create(ec)
        await ec.writev(fd, 0, b"f" * 100)
        iatt = await ec.fallocate(fd, 0, 100, 5000)
        assert iatt.ia_size == 5100
        assert len(brick_file(bricks[0])[0]) == 5 * 512  # stripes 0..4
        assert await read_all(ec, fd, 5100) == b"f" * 100 + bytes(5000)
        kept = await ec.fallocate(fd, 1, 0, 20000)  # KEEP_SIZE
        assert kept.ia_size == 5100
        with pytest.raises(FopError) as caught:
            await ec.fallocate(fd, 0x02, 0, 10)  # PUNCH_HOLE
        assert caught.value.errno == errno.EOPNOTSUPP

    trio.run(main)


def test_stats_scale_the_bricks_blocks_once() -> None:
    async def main() -> None:
        ec, _ = make(3, 1)
        fd = await create(ec)
        await ec.writev(fd, 0, b"b" * 5000)  # 5 stripes: 2560-byte fragments
        fstat = await ec.fstat(fd)
        _, past_end = await ec.readv(fd, 6000, 10)  # answered by an FSTAT
        _, inside = await ec.readv(fd, 0, 10)  # answered by the READs
        nothing = await ec.discard(fd, 6000, 10)  # past the end: an FSTAT
        # 5 blocks of 512 per brick, times k = 2.
        stats = [fstat, past_end, inside, nothing]
        assert [s.ia_blocks for s in stats] == [10] * 4
        assert [s.ia_size for s in stats] == [5000] * 4

    trio.run(main)
