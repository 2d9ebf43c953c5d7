"""pygluster.blockdev on the in-memory brick: splitting, ranges, errors, close.

The translator stack is replaced by one :class:`~tests.memory_brick.MemoryBrick`
(``_open_stack`` patched), so these run offline and fast; the live tests run
the same API against real volumes.
"""

from __future__ import annotations

import errno
import stat
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest

from pygluster import blockdev
from pygluster.errors import FopError, URIError
from pygluster.rpc import fops
from pygluster.xlators.graph import ClientGraph
from tests.memory_brick import MemoryBrick

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

URI = "gluster://server/vol/dir/a.img"
IMAGE_GFID = bytes(range(16))
DIR_GFID = bytes(range(16, 32))


@pytest.fixture
def brick(monkeypatch: pytest.MonkeyPatch) -> MemoryBrick:
    """A brick holding /dir/a.img (64 KiB of a pattern), as the whole stack."""
    memory = MemoryBrick("vol-client-0")
    memory.add(fops.ROOT_GFID, "dir", DIR_GFID, stat.S_IFDIR | 0o755)
    memory.add(DIR_GFID, "a.img", IMAGE_GFID, data=bytes(i % 251 for i in range(65536)))

    @asynccontextmanager
    async def stack(*args: Any, **kwargs: Any) -> AsyncIterator[ClientGraph]:
        yield ClientGraph("vol", memory, ())

    monkeypatch.setattr(blockdev, "_open_stack", stack)
    return memory


def image(brick: MemoryBrick) -> bytearray:
    inode = brick.find("/dir/a.img")
    assert inode is not None
    return inode.data


async def test_reads_split_into_chunks_land_in_place(brick: MemoryBrick) -> None:
    expected = bytes(image(brick))
    async with blockdev.open_async(URI, chunk_size=4096, max_in_flight=3) as dev:
        assert dev.gfid == IMAGE_GFID
        assert dev.path == "/dir/a.img"
        buffer = bytearray(20_000)
        assert await dev.readinto(buffer, 1234) == 20_000
        assert buffer == expected[1234:21234]
        assert await dev.pread(100, 65500) == expected[65500:]  # short at EOF
        assert await dev.pread(10, 70_000) == b""
    assert brick.calls.count("READ") == 5 + 1 + 1
    assert brick.calls[-1] == "RELEASE"


async def test_writes_split_and_vectored(brick: MemoryBrick) -> None:
    async with blockdev.open_async(URI, "r+", chunk_size=1000) as dev:
        assert await dev.pwrite(b"x" * 2500, 100) == 2500
        assert brick.calls.count("WRITE") == 3  # 100-1000, 1000-2000, 2000-2600
        pieces: list[bytes | bytearray | memoryview] = [
            b"ab",
            memoryview(b"cd"),
            bytearray(b"e"),
        ]
        assert await dev.pwritev(pieces, 70_000) == 5
        assert await dev.size() == 70_005
        out = [bytearray(2), bytearray(3)]
        assert await dev.preadv(out, 70_000) == 5
        assert out == [bytearray(b"ab"), bytearray(b"cde")]
    data = image(brick)
    assert data[100:2600] == b"x" * 2500
    assert data[65536:70000] == bytes(70000 - 65536)  # the gap reads as zeros


async def test_truncate_zeroes_and_discard(brick: MemoryBrick) -> None:
    async with blockdev.open_async(URI, "r+") as dev:
        await dev.truncate(4096)
        assert await dev.size() == 4096
        await dev.truncate(8192, preallocation="full")
        assert "ZEROFILL" in brick.calls
        await dev.write_zeroes(0, 10)
        await dev.discard(10, 10)
        await dev.flush()
        assert await dev.pread(20, 0) == bytes(20)
        with pytest.raises(ValueError, match="preallocation"):
            await dev.truncate(9000, preallocation="sparse")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="negative"):
            await dev.discard(-1, 10)
    assert "FSYNC" in brick.calls


async def test_extents_come_from_seek(brick: MemoryBrick) -> None:
    async with blockdev.open_async(URI) as dev:
        extents = await dev.extents()
        assert extents == [blockdev.Extent(0, 65536, True)]
        assert await dev.extents(65536) == []


async def test_extents_without_seek_are_all_data(brick: MemoryBrick) -> None:
    brick.fail["SEEK"] = errno.EOPNOTSUPP
    async with blockdev.open_async(URI) as dev:
        assert await dev.extents() == [blockdev.Extent(0, 65536, True)]
        assert await dev.extents(4096, 100) == [blockdev.Extent(4096, 100, True)]


async def test_read_only_device_refuses_writes(brick: MemoryBrick) -> None:
    async with blockdev.open_async(URI) as dev:
        assert not dev.writable
        with pytest.raises(FopError) as caught:
            await dev.pwrite(b"no", 0)
        assert caught.value.errno == errno.EBADF
    assert "WRITE" not in brick.calls


async def test_brick_errors_come_through_with_their_errno(brick: MemoryBrick) -> None:
    async with blockdev.open_async(URI, "r+", chunk_size=1024) as dev:
        brick.fail["WRITE"] = errno.ENOSPC
        with pytest.raises(FopError) as caught:
            await dev.pwrite(b"y" * 4096, 0)
        assert caught.value.errno == errno.ENOSPC
        assert "a.img" in str(caught.value)


async def test_open_errors(brick: MemoryBrick) -> None:
    with pytest.raises(FopError) as missing:
        async with blockdev.open_async("gluster://server/vol/dir/none.img"):
            pass
    assert missing.value.errno == errno.ENOENT
    with pytest.raises(FopError) as folder:
        async with blockdev.open_async("gluster://server/vol/dir"):
            pass
    assert folder.value.errno == errno.EISDIR
    with pytest.raises(URIError):
        async with blockdev.open_async("gluster://server/vol"):
            pass
    with pytest.raises(ValueError, match="mode"):
        async with blockdev.open_async(URI, "w"):  # type: ignore[arg-type]
            pass


async def test_closed_device_refuses_io(brick: MemoryBrick) -> None:
    async with blockdev.open_async(URI) as dev:
        pass
    with pytest.raises(ValueError, match="closed"):
        await dev.pread(1, 0)


async def test_create_and_remove(brick: MemoryBrick) -> None:
    new = "gluster://server/vol/x/y/new.img"
    with pytest.raises(FopError) as no_parent:
        await blockdev.create_async(new, 1 << 20)
    assert no_parent.value.errno == errno.ENOENT
    await blockdev.create_async(new, 1 << 20, parents=True)
    created = brick.find("/x/y/new.img")
    assert created is not None
    assert len(created.data) == 1 << 20
    with pytest.raises(FopError) as exists:
        await blockdev.create_async(new, 10)
    assert exists.value.errno == errno.EEXIST
    await blockdev.create_async(new, 10, exist_ok=True, preallocation="falloc")
    assert len(created.data) == 10
    await blockdev.remove_async(new)
    assert brick.find("/x/y/new.img") is None
    with pytest.raises(FopError) as gone:
        await blockdev.remove_async(new)
    assert gone.value.errno == errno.ENOENT
