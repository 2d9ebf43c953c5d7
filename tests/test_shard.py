"""features/shard over an in-memory brick: where the bytes of each block go.

The live tests (tests/integration/test_shard_live.py) prove gluster reads
what we write; these pin the block arithmetic down at small block sizes.
"""

from __future__ import annotations

import struct
import uuid
from typing import Any

import trio
import trio.testing

from pygluster.rpc import fops
from pygluster.rpc.fops import GfOpenFlags
from pygluster.xlators.base import Fd, Loc
from pygluster.xlators.shard import (
    BLOCK_SIZE_XATTR,
    FILE_SIZE_XATTR,
    ShardXlator,
    parse_block_size,
)
from tests.memory_brick import MemoryBrick

BS = 4096
GFID = uuid.UUID("11111111-2222-3333-4444-555555555555").bytes
LOC = Loc("/disk.img", fops.ROOT_GFID, "disk.img")
CREATE = int(GfOpenFlags.RDWR | GfOpenFlags.CREAT | GfOpenFlags.EXCL)
FILE_SIZE = struct.Struct(">qqqq")


def make_shard() -> tuple[ShardXlator, MemoryBrick]:
    brick = MemoryBrick("v-client-0")
    return ShardXlator("v-shard", [brick], {"shard-block-size": "4KB"}), brick


def shard_data(brick: MemoryBrick, block: int) -> bytes | None:
    inode = brick.find(f"/.shard/{uuid.UUID(bytes=GFID)}.{block}")
    return None if inode is None else bytes(inode.data)


def logical_size(brick: MemoryBrick) -> int:
    base = brick.find(LOC.path)
    assert base is not None
    size: int = FILE_SIZE.unpack(base.xattrs[FILE_SIZE_XATTR])[0]
    return size


def test_block_size_option() -> None:
    assert parse_block_size("4KB") == BS
    assert parse_block_size("64MB") == 64 << 20
    assert parse_block_size("512") == 512


async def test_create_sets_both_xattrs() -> None:
    shard, brick = make_shard()
    fd, iatt = await shard.create(LOC.with_gfid(GFID), CREATE, 0o100644)
    base = brick.find(LOC.path)
    assert base is not None
    assert struct.unpack(">Q", base.xattrs[BLOCK_SIZE_XATTR]) == (BS,)
    assert base.xattrs[FILE_SIZE_XATTR] == bytes(FILE_SIZE.size)
    assert iatt.ia_size == 0
    await shard.release(fd)


async def test_a_write_across_block_boundaries_lands_in_each_shard() -> None:
    shard, brick = make_shard()
    fd, _ = await shard.create(LOC.with_gfid(GFID), CREATE, 0o100644)
    data = bytes(i % 251 for i in range(6000))
    iatt = await shard.writev(fd, 3000, data)
    assert iatt.ia_size == 9000
    base = brick.find(LOC.path)
    assert base is not None
    # block 0 in the base file, 1 and 2 under /.shard
    assert bytes(base.data) == bytes(3000) + data[: BS - 3000]
    assert shard_data(brick, 1) == data[BS - 3000 : 2 * BS - 3000]
    assert shard_data(brick, 2) == data[2 * BS - 3000 :]
    assert logical_size(brick) == 9000
    got, _ = await shard.readv(fd, 3000, 6000)
    assert bytes(got) == data
    await shard.release(fd)


async def test_reads_of_missing_shards_are_zeros() -> None:
    shard, brick = make_shard()
    fd, _ = await shard.create(LOC.with_gfid(GFID), CREATE, 0o100644)
    await shard.writev(fd, 0, b"head")
    await shard.writev(fd, 3 * BS, b"tail")
    assert shard_data(brick, 1) is None
    assert shard_data(brick, 2) is None
    got, iatt = await shard.readv(fd, 0, 4 * BS)
    assert iatt.ia_size == 3 * BS + 4
    assert bytes(got) == b"head" + bytes(3 * BS - 4) + b"tail"
    # Nothing was created by reading.
    assert shard_data(brick, 1) is None
    await shard.release(fd)


async def test_a_fresh_volume_without_dot_shard_reads_holes_and_makes_it() -> None:
    # A brick answers ESTALE, not ENOENT, for a lookup in a /.shard that does
    # not exist yet; reads, truncates and the first write must all cope.
    shard, brick = make_shard()
    fd, _ = await shard.create(LOC.with_gfid(GFID), CREATE, 0o100644)
    await shard.ftruncate(fd, 3 * BS)
    got, _ = await shard.readv(fd, 0, 3 * BS)
    assert bytes(got) == bytes(3 * BS)
    await shard.ftruncate(fd, BS)
    assert brick.find("/.shard") is None  # nothing written past block 0 yet
    await shard.writev(fd, 2 * BS, b"second")
    assert brick.find("/.shard") is not None
    assert shard_data(brick, 2) == b"second"
    got, _ = await shard.readv(fd, 2 * BS, 6)
    assert bytes(got) == b"second"
    await shard.release(fd)


async def test_a_shard_another_client_remade_is_read_from_its_new_file() -> None:
    # Two clients on one brick. B's truncate unlinks the shard A has looked
    # up, and B's write makes a new one (a new gfid): A's next read must get
    # B's bytes, not an error and not the unlinked file's.
    a_shard, brick = make_shard()
    b_shard = ShardXlator("v-shard", [brick], {"shard-block-size": "4KB"})
    a_fd, _ = await a_shard.create(LOC.with_gfid(GFID), CREATE, 0o100644)
    await a_shard.writev(a_fd, BS, b"old!")
    got, _ = await a_shard.readv(a_fd, BS, 4)
    assert bytes(got) == b"old!"
    await b_shard.lookup(LOC)
    b_fd = await b_shard.open(LOC.with_gfid(GFID), int(GfOpenFlags.RDWR))
    await b_shard.ftruncate(b_fd, 10)
    await b_shard.writev(b_fd, BS, b"new!")
    got, _ = await a_shard.readv(a_fd, BS, 4)
    assert bytes(got) == b"new!"
    # No OPEN or RELEASE per shard: shard fops go through anonymous fds.
    assert brick.calls.count("OPEN") == 1  # B's open of the base file
    await a_shard.release(a_fd)
    await b_shard.release(b_fd)


async def test_shrinking_truncate_unlinks_shards_past_the_end() -> None:
    shard, brick = make_shard()
    fd, _ = await shard.create(LOC.with_gfid(GFID), CREATE, 0o100644)
    await shard.writev(fd, 0, b"x" * (3 * BS))
    iatt = await shard.ftruncate(fd, BS + 100)
    assert iatt.ia_size == BS + 100
    assert shard_data(brick, 1) == b"x" * 100
    assert shard_data(brick, 2) is None
    assert logical_size(brick) == BS + 100
    assert (await shard.fstat(fd)).ia_size == BS + 100
    await shard.release(fd)


async def test_growing_truncate_only_changes_the_size() -> None:
    shard, brick = make_shard()
    fd, _ = await shard.create(LOC.with_gfid(GFID), CREATE, 0o100644)
    await shard.writev(fd, 0, b"abc")
    await shard.ftruncate(fd, 5 * BS)
    assert logical_size(brick) == 5 * BS
    assert shard_data(brick, 4) is None
    got, _ = await shard.readv(fd, 0, 5 * BS)
    assert bytes(got) == b"abc" + bytes(5 * BS - 3)
    await shard.release(fd)


async def test_lookup_reports_the_logical_size() -> None:
    shard, brick = make_shard()
    fd, _ = await shard.create(LOC.with_gfid(GFID), CREATE, 0o100644)
    await shard.writev(fd, 2 * BS, b"z")
    await shard.release(fd)
    iatt, _ = await brick.lookup(LOC)
    assert iatt.ia_size == 0  # the base file holds block 0 only: untouched
    iatt, _ = await ShardXlator("v-shard", [brick], {}).lookup(LOC)
    assert iatt.ia_size == 2 * BS + 1


async def test_a_file_without_the_block_size_xattr_passes_through() -> None:
    shard, brick = make_shard()
    brick.add(fops.ROOT_GFID, "plain", GFID, data=b"plain data")
    loc = Loc("/plain", fops.ROOT_GFID, "plain", GFID)
    fd = await shard.open(loc, int(GfOpenFlags.RDWR))
    await shard.writev(fd, 5000, b"!")
    assert shard_data(brick, 1) is None
    plain = brick.find("/plain")
    assert plain is not None
    assert len(plain.data) == 5001
    assert FILE_SIZE_XATTR not in plain.xattrs
    await shard.release(fd)


async def test_unlink_removes_the_base_and_every_shard() -> None:
    shard, brick = make_shard()
    fd, _ = await shard.create(LOC.with_gfid(GFID), CREATE, 0o100644)
    await shard.writev(fd, 0, b"q" * (2 * BS + 1))
    await shard.release(fd)
    await shard.unlink(LOC)
    assert brick.find(LOC.path) is None
    assert shard_data(brick, 1) is None
    assert shard_data(brick, 2) is None
    remove_me = brick.find("/.shard/.remove_me")
    assert remove_me is not None
    assert remove_me.entries == {}  # the marker is gone too


async def test_a_shard_fd_in_use_is_never_closed_under_its_fop(monkeypatch) -> None:
    """With more shards in use than may stay open, the least recently used
    *idle* fd is closed, never one a fop is still using: closing one in the
    middle of a replicate transaction failed its unlock (EBADF) and left the
    lock held for ever (a benchmark on replica 3 + shard hung so)."""
    monkeypatch.setattr("pygluster.xlators.shard.OPEN_SHARDS", 2)
    shard, brick = make_shard()
    fd, _ = await shard.create(LOC.with_gfid(GFID), CREATE, 0o100644)
    gate = trio.Event()
    released_in_use: list[str] = []
    busy: set[bytes] = set()

    async def hold_block_one(fop: str) -> None:
        if fop == "WRITE" and not gate.is_set() and not busy:
            busy.add(b"1")
            await gate.wait()  # the first shard write stalls until the others ran

    brick.before = hold_block_one
    real_release = brick.release

    async def release(target: Fd, xdata: Any = None) -> None:
        if busy and target.loc.name.endswith(".1"):
            released_in_use.append(target.loc.name)
        await real_release(target, xdata)

    brick.release = release  # type: ignore[method-assign,assignment]
    async with trio.open_nursery() as nursery:
        nursery.start_soon(shard.writev, fd, BS, b"a" * 10)  # shard 1, stalls
        await trio.testing.wait_all_tasks_blocked()
        for block in range(2, 6):  # four more shards: past the limit of 2
            await shard.writev(fd, block * BS, b"b" * 10)
        assert not released_in_use
        busy.clear()
        gate.set()
    assert shard_data(brick, 1) == b"a" * 10
    state = shard._state(fd)
    assert state is not None
    assert len(state.shards) <= 2  # idle ones were closed meanwhile
    await shard.release(fd)
