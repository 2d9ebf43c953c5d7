"""pygluster.sync on the in-memory brick: the blocking facade over a trio thread.

As in tests/test_blockdev.py the translator stack is one MemoryBrick; what is
tested here is the facade: calls cross into the portal's thread and back,
errors arrive as the same exceptions, ``call_timeout`` bounds a whole call,
close is idempotent, and the file object view reads and writes in place.
"""

from __future__ import annotations

import errno
import io
import shutil
import stat
import threading
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest
import trio

import pygluster
from pygluster import blockdev
from pygluster.errors import FopError, RpcTimeout
from pygluster.rpc import fops
from pygluster.xlators.graph import ClientGraph
from tests.memory_brick import MemoryBrick

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

URI = "gluster://server/vol/a.img"
DATA = bytes(i % 253 for i in range(100_000))


@pytest.fixture
def brick(monkeypatch: pytest.MonkeyPatch) -> MemoryBrick:
    memory = MemoryBrick("vol-client-0")
    memory.add(fops.ROOT_GFID, "a.img", bytes(range(16)), data=DATA)
    memory.add(fops.ROOT_GFID, "d", bytes(range(1, 17)), stat.S_IFDIR | 0o755)

    @asynccontextmanager
    async def stack(*args: Any, **kwargs: Any) -> AsyncIterator[ClientGraph]:
        yield ClientGraph("vol", memory, ())

    monkeypatch.setattr(blockdev, "_open_stack", stack)
    return memory


def is_closed(dev: pygluster.BlockDevice) -> bool:
    return dev.closed  # (a call: mypy would keep the narrowing of an attribute)


def test_blocking_calls_reach_the_device(brick: MemoryBrick) -> None:
    with pygluster.open(URI, "r+") as dev:
        assert (dev.uri.volume, dev.path, dev.gfid) == (
            "vol",
            "/a.img",
            bytes(range(16)),
        )
        assert dev.writable
        assert not dev.write_behind
        assert dev.size() == len(DATA)
        assert dev.pread(10, 5) == DATA[5:15]
        assert dev.pwrite(b"hello", 0) == 5
        buffer = bytearray(5)
        assert dev.readinto(buffer, 0) == 5
        assert buffer == b"hello"
        dev.truncate(50)
        assert dev.stat().ia_size == 50
        dev.flush()
        assert dev.extents() == [blockdev.Extent(0, 50, True)]
        assert not is_closed(dev)
    assert is_closed(dev)
    dev.close()  # again: nothing happens
    assert brick.calls[-1] == "RELEASE"


def test_errors_arrive_as_the_same_exceptions(brick: MemoryBrick) -> None:
    with pytest.raises(FopError) as missing:
        pygluster.open("gluster://server/vol/none.img")
    assert missing.value.errno == errno.ENOENT
    with pygluster.open(URI, "r+") as dev:
        brick.fail["WRITE"] = errno.EIO
        with pytest.raises(FopError) as failed:
            dev.pwrite(b"x", 0)
        assert failed.value.errno == errno.EIO
        assert dev.pread(1, 0) == DATA[:1]  # the device is still usable


def test_call_timeout_bounds_a_whole_call(brick: MemoryBrick) -> None:
    async def stall(fop: str) -> None:
        if fop == "READ":
            await trio.sleep_forever()

    with pygluster.open(URI, call_timeout=0.2) as dev:
        brick.before = stall
        with pytest.raises(RpcTimeout, match=r"a\.img"):
            dev.pread(10, 0)
        brick.before = None


def test_calls_run_in_the_portal_thread(brick: MemoryBrick) -> None:
    seen: list[threading.Thread] = []

    async def note(fop: str) -> None:
        seen.append(threading.current_thread())

    brick.before = note
    with pygluster.open(URI) as dev:
        dev.pread(1, 0)
    assert seen
    assert all(thread is not threading.current_thread() for thread in seen)


def test_file_object_view(brick: MemoryBrick) -> None:
    with pygluster.open(URI, "r+") as dev:
        raw = dev.as_file()
        out = io.BytesIO()
        shutil.copyfileobj(raw, out)
        assert out.getvalue() == DATA
        assert raw.seek(-5, io.SEEK_END) == len(DATA) - 5
        assert raw.read(10) == DATA[-5:]
        raw.seek(0)
        raw.write(b"abc")
        assert dev.pread(3, 0) == b"abc"


def test_create_and_remove(brick: MemoryBrick) -> None:
    pygluster.create("gluster://server/vol/d/new.img", 4096)
    new = brick.find("/d/new.img")
    assert new is not None
    assert len(new.data) == 4096
    pygluster.remove("gluster://server/vol/d/new.img")
    assert brick.find("/d/new.img") is None
    with pytest.raises(FopError) as gone:
        pygluster.remove("gluster://server/vol/d/new.img")
    assert gone.value.errno == errno.ENOENT
