"""performance/write-behind against an in-process fake file: ordering, the
window, read-your-writes, deferred errors, cancellation, nothing lost at close.

The fake child applies a write when its call *ends* (as a brick whose reply
we wait for), so writes that overlap in flight would land in completion order:
the tests below would see any reordering.
"""

from __future__ import annotations

import errno
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest
import trio
import trio.lowlevel
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from pygluster.errors import FopError, VolfileError
from pygluster.rpc import fops
from pygluster.rpc.fops import GfOpenFlags
from pygluster.rpc.sunrpc import Credentials
from pygluster.volfile import parse
from pygluster.xlators.base import BuildContext, Fd, Loc
from pygluster.xlators.graph import _make_xlator, plan
from pygluster.xlators.write_behind import WriteBehindXlator, parse_size
from tests.memory_brick import MemoryBrick

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

GFID = bytes(range(16))
LOC = Loc("/f.img", fops.ROOT_GFID, "f.img", GFID)
RDWR = int(GfOpenFlags.RDWR)


class FakeFile(MemoryBrick):
    """One file in memory below write-behind, with gates, delays and faults.

    A write lands when its call *ends* (as on a brick whose reply we wait
    for); ``fail(offset, length)`` picks a write's errno.
    """

    def __init__(self) -> None:
        super().__init__("fake")
        self.file = self.add(fops.ROOT_GFID, LOC.name, GFID)
        self.gate: trio.Event | None = None  # writes wait for it when set
        self.delay: Callable[[int, int], float] | None = None
        self.fail: Callable[[int, int], int | None] = lambda offset, length: None  # type: ignore[assignment]
        self.writes: list[tuple[int, bytes]] = []  # as called, in call order
        self.in_flight: list[tuple[int, int]] = []
        self.max_in_flight = 0
        self.txn_depth = 0
        self.txn_count = 0
        self.outside_txn: list[tuple[int, int]] = []
        self.txn_begin_error: int | None = None  # e.g. replicate without quorum
        self.txn_end_error: int | None = None  # e.g. shard's size update

    def _fault(self, fop: str) -> int | None:
        return None  # only writes fail here, through fail(offset, length)

    @property
    def data(self) -> bytearray:
        return self.file.data

    def _put(self, offset: int, data: bytes) -> None:
        self.file.put(offset, data)

    @asynccontextmanager
    async def _txn(self) -> AsyncIterator[None]:
        self.calls.append("TXN-BEGIN")
        await trio.lowlevel.checkpoint()
        if self.txn_begin_error is not None:
            raise FopError("WRITE", "/f.img", "fake-afr", self.txn_begin_error)
        self.txn_depth += 1
        self.txn_count += 1
        try:
            yield
        finally:
            self.txn_depth -= 1
            self.calls.append("TXN-END")
        if self.txn_end_error is not None:
            raise FopError("XATTROP", "/f.img", "fake-shard", self.txn_end_error)

    def transaction(self, fd: Fd) -> Any:
        return self._txn()

    async def writev(
        self, fd: Fd, offset: int, data: bytes | memoryview, xdata: Any = None
    ) -> Any:
        snapshot = bytes(data)  # what a real client would put on the wire
        self.calls.append("WRITE")
        self.writes.append((offset, snapshot))
        if not self.txn_depth:
            self.outside_txn.append((offset, len(snapshot)))
        piece = (offset, len(snapshot))
        self.in_flight.append(piece)
        self.max_in_flight = max(self.max_in_flight, len(self.in_flight))
        try:
            if self.gate is not None:
                await self.gate.wait()
            if self.delay is not None:
                await trio.sleep(self.delay(offset, len(snapshot)))
            else:
                await trio.lowlevel.checkpoint()
            code = self.fail(offset, len(snapshot))
            if code is not None:
                raise FopError("WRITE", fd.loc.path, "fake:/b", code)
            self._put(offset, snapshot)
        finally:
            self.in_flight.remove(piece)
        return self.file.iatt()

    async def ftruncate(self, fd: Fd, size: int, xdata: Any = None) -> Any:
        if self.txn_depth:
            self.outside_txn.append((-1, size))  # ran inside someone's session
        return await super().ftruncate(fd, size, xdata)


@asynccontextmanager
async def stack(
    options: dict[str, str] | None = None, flags: int = RDWR
) -> AsyncIterator[tuple[WriteBehindXlator, FakeFile, Fd]]:
    child = FakeFile()
    async with trio.open_nursery() as nursery:
        wb = WriteBehindXlator(
            "v-write-behind", [child], options or {}, nursery=nursery
        )
        fd = await wb.open(LOC, flags)
        yield wb, child, fd
        await wb.stop()
        nursery.cancel_scope.cancel()


async def settle() -> None:
    await trio.testing.wait_all_tasks_blocked()


# --- acknowledging early ------------------------------------------------------


async def test_write_is_acknowledged_before_the_child_has_it(autojump_clock):
    async with stack() as (wb, child, fd):
        child.gate = trio.Event()
        with trio.fail_after(1):
            await wb.writev(fd, 0, b"abcd")
        await settle()
        assert child.data == b""  # sent, not landed
        assert child.writes == [(0, b"abcd")]
        async with trio.open_nursery() as nursery:
            nursery.start_soon(wb.fsync, fd)
            await settle()
            assert "FSYNC" not in child.calls  # fsync waits for the write
            child.gate.set()
        assert child.data == b"abcd"
        assert child.calls.index("FSYNC") > child.calls.index("TXN-END")


async def test_caller_may_reuse_its_buffer(autojump_clock):
    async with stack() as (wb, child, fd):
        child.gate = trio.Event()
        buffer = bytearray(b"1111")
        await wb.writev(fd, 0, memoryview(buffer))
        buffer[:] = b"2222"
        await wb.writev(fd, 4, memoryview(buffer))
        buffer[:] = b"3333"
        child.gate.set()
        await wb.fsync(fd)
        assert child.data == b"11112222"


async def test_bypassed_for_sync_fds_and_read_only_fds(autojump_clock):
    for flags in (RDWR | int(GfOpenFlags.SYNC), RDWR | 0o4000000):
        async with stack(flags=flags) as (wb, child, fd):
            child.gate = trio.Event()
            with trio.move_on_after(1) as scope:
                await wb.writev(fd, 0, b"x")
            assert scope.cancelled_caught  # waited for the child
    # strict-O_DIRECT off (the default): O_DIRECT is ignored
    async with stack(flags=RDWR | int(GfOpenFlags.DIRECT)) as (wb, child, fd):
        child.gate = trio.Event()
        with trio.fail_after(1):
            await wb.writev(fd, 0, b"x")
        child.gate.set()
    async with stack(
        {"strict-O_DIRECT": "on"}, flags=RDWR | int(GfOpenFlags.DIRECT)
    ) as (wb, child, fd):
        child.gate = trio.Event()
        with trio.move_on_after(1) as scope:
            await wb.writev(fd, 0, b"x")
        assert scope.cancelled_caught
    async with stack(flags=int(GfOpenFlags.RDONLY)) as (wb, child, fd):
        assert wb.transaction(fd) is not None
        assert fd.ctx.get(wb) is None


# --- ordering -----------------------------------------------------------------


async def test_overlapping_writes_land_in_call_order(autojump_clock):
    async with stack() as (wb, child, fd):
        # The first write is slow, the second fast: sent together, the
        # second would land first and be overwritten.
        child.delay = lambda offset, length: 1.0 if offset == 0 else 0.0
        await wb.writev(fd, 0, b"AAAAAAAA")
        await wb.writev(fd, 4, b"BBBBBBBB")
        await wb.writev(fd, 100, b"C")  # disjoint: goes out at once
        await settle()
        assert sorted(offset for offset, _ in child.writes) == [0, 100]
        await wb.fsync(fd)
        assert bytes(child.data[:12]) == b"AAAABBBBBBBB"
        assert child.writes[-1] == (4, b"BBBBBBBB")


async def test_disjoint_writes_are_in_flight_together(autojump_clock):
    async with stack() as (wb, child, fd):
        child.gate = trio.Event()
        for index in range(10):
            await wb.writev(fd, index * 8192, b"x" * 4096)
        await settle()
        # All at once, but perhaps the newest: held back for a contiguous
        # successor while others are in flight (aggregation).
        assert child.max_in_flight >= 9
        child.gate.set()
        await wb.fsync(fd)


async def test_strict_write_ordering_sends_one_at_a_time(autojump_clock):
    async with stack({"strict-write-ordering": "on"}) as (wb, child, fd):
        child.delay = lambda offset, length: 0.1
        for index in range(5):
            await wb.writev(fd, index * 8192, b"x")
        await wb.fsync(fd)
        assert child.max_in_flight == 1


async def test_contiguous_small_writes_are_aggregated(autojump_clock):
    async with stack() as (wb, child, fd):
        child.gate = trio.Event()
        await wb.writev(fd, 1 << 20, b"first")  # in flight: later ones queue
        await settle()
        for index in range(64):
            await wb.writev(fd, index * 4096, bytes([index]) * 4096)
        child.gate.set()
        await wb.fsync(fd)
        sizes = [len(data) for offset, data in child.writes if offset < 1 << 20]
        assert sum(sizes) == 64 * 4096
        assert max(sizes) <= 128 * 1024
        assert len(sizes) < 8  # 256 KiB in 128 KiB pieces, give or take
        assert all(child.data[i * 4096] == i for i in range(64))


# --- the window ---------------------------------------------------------------


async def test_window_limits_what_is_acknowledged(autojump_clock):
    async with stack({"cache-size": "16KB"}) as (wb, child, fd):
        child.gate = trio.Event()
        for index in range(4):  # not contiguous: no aggregation
            with trio.fail_after(1):
                await wb.writev(fd, index * 8192, b"x" * 4096)
        done = trio.Event()

        async def fifth() -> None:
            await wb.writev(fd, 4 * 8192, b"y" * 4096)
            done.set()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(fifth)
            await settle()
            assert not done.is_set()  # 16 KiB unconfirmed: no room
            assert len(child.in_flight) == 5  # but it was sent all the same
            child.gate.set()
        assert done.is_set()
        await wb.fsync(fd)
        assert child.data == (b"x" * 4096 + bytes(4096)) * 4 + b"y" * 4096


async def test_write_larger_than_window_returns_the_real_result(autojump_clock):
    async with stack({"cache-size": "8KB"}) as (wb, child, fd):
        child.fail = lambda offset, length: errno.ENOSPC if length > 8192 else None
        with pytest.raises(FopError) as caught:
            await wb.writev(fd, 0, b"z" * 20000)
        assert caught.value.errno == errno.ENOSPC
        # Its failure was the caller's, not a deferred one.
        await wb.fsync(fd)
        await wb.flush(fd)


async def test_parse_size():
    assert parse_size("1MB") == 1 << 20
    assert parse_size("512KB") == 512 << 10
    assert parse_size("2mb") == 2 << 20
    assert parse_size("4096") == 4096
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")


# --- read your writes ---------------------------------------------------------


async def test_read_waits_for_overlapping_writes_only(autojump_clock):
    async with stack() as (wb, child, fd):
        child._put(0, b"." * 100)
        child.gate = trio.Event()
        await wb.writev(fd, 10, b"new")
        with trio.fail_after(1):
            data, _ = await wb.readv(fd, 50, 10)  # disjoint: straight through
        assert bytes(data) == b"." * 10
        got: list[bytes] = []

        async def read() -> None:
            data, _ = await wb.readv(fd, 0, 20)
            got.append(bytes(data))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(read)
            await settle()
            assert not got
            child.gate.set()
        assert got == [b"." * 10 + b"new" + b"." * 7]


async def test_read_past_eof_sees_a_pending_extending_write(autojump_clock):
    async with stack() as (wb, child, fd):
        child.gate = trio.Event()
        await wb.writev(fd, 8192, b"tail")
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_release_later, child.gate)
            data, _ = await wb.readv(fd, 0, 4096)
        assert bytes(data) == bytes(4096)  # a hole, not a short read


async def _release_later(gate: trio.Event) -> None:
    await trio.sleep(1)
    gate.set()


async def test_fstat_and_truncate_wait_for_writes(autojump_clock):
    async with stack() as (wb, child, fd):
        child.delay = lambda offset, length: 0.5
        await wb.writev(fd, 0, b"x" * 100)
        assert (await wb.fstat(fd)).ia_size == 100
        await wb.writev(fd, 100, b"y" * 100)
        await wb.ftruncate(fd, 150)
        assert child.data == b"x" * 100 + b"y" * 50
        await wb.writev(fd, 0, b"z")
        await wb.discard(fd, 0, 10)
        assert child.data[:10] == bytes(10)
        await wb.writev(fd, 0, b"w")
        await wb.zerofill(fd, 0, 1)
        assert child.data[:1] == b"\0"


# --- transactions -------------------------------------------------------------


async def test_background_writes_stay_inside_a_child_transaction(autojump_clock):
    async with stack() as (wb, child, fd):
        child.delay = lambda offset, length: 0.01 * (offset % 7)
        async with wb.transaction(fd):  # a no-op: the session is ours
            for index in range(50):
                await wb.writev(fd, (index * 4096) % 65536, bytes([index]) * 4096)
        await wb.ftruncate(fd, 1 << 20)
        for index in range(50):
            await wb.writev(fd, index * 4096, b"q" * 4096)
        await wb.fsync(fd)
        assert child.outside_txn == []  # no write without, no truncate within
        assert child.txn_depth == 0
        # Many writes per transaction, not one transaction each.
        assert child.txn_count < 10


async def test_session_ends_before_dependent_fops(autojump_clock):
    async with stack() as (wb, child, fd):
        await wb.writev(fd, 0, b"abc")
        await wb.fstat(fd)
        assert child.calls[-2:] == ["TXN-END", "FSTAT"]


async def test_sessions_are_bounded_in_time(autojump_clock):
    async with stack() as (wb, child, fd):
        child.delay = lambda offset, length: 0.05
        for index in range(100):  # ~5 s of writes, one after another
            await wb.writev(fd, index * 8192, b"x")
            await trio.sleep(0.05)
        await wb.fsync(fd)
        assert 4 <= child.txn_count <= 8
        assert child.outside_txn == []


async def test_a_session_contended_from_its_start_still_writes(autojump_clock):
    # Another client waits for the lock all the time (its wait is what
    # reports contention, during our lock and pre-op): each session must
    # still send what was queued when it began, or both clients hand the
    # lock back and forth forever, neither writing.
    async with stack() as (wb, child, fd):
        child.contended = lambda fd: True  # type: ignore[method-assign]
        child.delay = lambda offset, length: 0.001
        for index in range(40):
            await wb.writev(fd, index * 4096, bytes([index + 1]) * 4096)
        with trio.fail_after(10):
            await wb.fsync(fd)
        assert child.data[: 40 * 4096] == b"".join(
            bytes([i + 1]) * 4096 for i in range(40)
        )
        sessions = " ".join(child.calls).split("TXN-BEGIN")[1:]
        assert sessions
        assert all("WRITE" in session for session in sessions), child.calls


async def test_lookup_waits_for_writes_to_the_file(autojump_clock):
    async with stack() as (wb, child, fd):
        child.delay = lambda offset, length: 1.0
        await wb.writev(fd, 0, b"x" * 10)
        got, _ = await wb.lookup(LOC)
        assert got.ia_size == 10


# --- failures -----------------------------------------------------------------


async def test_failed_write_surfaces_at_fsync_and_is_retried(autojump_clock):
    async with stack() as (wb, child, fd):
        child.fail = lambda offset, length: errno.ENOSPC
        await wb.writev(fd, 0, b"lost?")
        await settle()
        with pytest.raises(FopError) as caught:
            await wb.fsync(fd)
        assert caught.value.errno == errno.ENOSPC
        assert caught.value.fop == "WRITE"
        # resync-failed-syncs-after-fsync (our default): still kept, retried,
        # reported again.
        with pytest.raises(FopError):
            await wb.fsync(fd)
        child.fail = lambda offset, length: None  # space freed
        await wb.fsync(fd)
        assert child.data == b"lost?"
        await wb.fsync(fd)


async def test_without_resync_fsync_forgets_after_reporting(autojump_clock):
    options = {"resync-failed-syncs-after-fsync": "off"}
    async with stack(options) as (wb, child, fd):
        child.fail = lambda offset, length: errno.EIO
        await wb.writev(fd, 0, b"gone")
        with pytest.raises(FopError) as caught:
            await wb.fsync(fd)
        assert caught.value.errno == errno.EIO
        child.fail = lambda offset, length: None
        await wb.fsync(fd)  # cleared: reported once
        assert child.data == b""


async def test_transient_failure_is_healed_by_the_retry(autojump_clock):
    async with stack() as (wb, child, fd):
        failures = [errno.ENOTCONN]
        child.fail = lambda offset, length: failures.pop() if failures else None
        await wb.writev(fd, 0, b"data")
        await settle()
        await wb.fsync(fd)  # the retry landed: nothing to report
        assert child.data == b"data"


async def test_flush_reports_then_forgets(autojump_clock):
    async with stack() as (wb, child, fd):
        child.fail = lambda offset, length: errno.EDQUOT
        await wb.writev(fd, 4096, b"q")
        with pytest.raises(FopError) as caught:
            await wb.flush(fd)
        assert caught.value.errno == errno.EDQUOT
        assert "FLUSH" not in child.calls
        await wb.flush(fd)
        assert child.calls[-1] == "FLUSH"


async def test_conflicting_fops_fail_disjoint_ones_go_on(autojump_clock):
    async with stack() as (wb, child, fd):
        child._put(0, b"." * 100)
        child.fail = lambda offset, length: errno.ENOSPC if offset == 0 else None
        await wb.writev(fd, 0, b"bad")
        await settle()
        with pytest.raises(FopError):
            await wb.writev(fd, 2, b"overlaps")
        with pytest.raises(FopError):
            await wb.readv(fd, 0, 10)
        with pytest.raises(FopError):
            await wb.fstat(fd)
        await wb.writev(fd, 50, b"fine")
        data, _ = await wb.readv(fd, 50, 4)
        assert bytes(data) == b"fine"
        with pytest.raises(FopError):
            await wb.flush(fd)
        assert (await wb.fstat(fd)).ia_size == 100  # forgotten by the flush


async def test_lied_write_behind_a_failed_one_waits_for_the_retry(autojump_clock):
    async with stack() as (wb, child, fd):
        child.gate = trio.Event()
        child.fail = lambda offset, length: errno.EIO if length == 4 else None
        await wb.writev(fd, 0, b"AAAA")  # will fail
        await wb.writev(fd, 0, b"BBBBBB")  # queued behind it, acknowledged
        child.gate.set()
        await settle()
        assert [data for _, data in child.writes] == [b"AAAA"]  # B held back
        child.fail = lambda offset, length: None
        await wb.fsync(fd)  # retries A, then B goes: call order kept
        assert child.data == b"BBBBBB"


async def test_transaction_that_cannot_begin_fails_its_writes(autojump_clock):
    async with stack() as (wb, child, fd):
        child.txn_begin_error = errno.ENOTCONN  # no quorum, say
        await wb.writev(fd, 0, b"abc")
        with pytest.raises(FopError) as caught:
            await wb.fsync(fd)  # retried, refused again
        assert caught.value.errno == errno.ENOTCONN
        child.txn_begin_error = None  # the bricks are back
        await wb.fsync(fd)
        assert child.data == b"abc"
        assert child.outside_txn == []


async def test_transaction_end_failure_is_reported_once(autojump_clock):
    async with stack() as (wb, child, fd):
        child.txn_end_error = errno.EIO
        await wb.writev(fd, 0, b"abc")
        with pytest.raises(FopError) as caught:
            await wb.fsync(fd)
        assert caught.value.fop == "XATTROP"
        child.txn_end_error = None
        await wb.fsync(fd)
        assert child.data == b"abc"


async def test_cancelled_truncate_lets_writes_go_on(autojump_clock):
    async with stack() as (wb, child, fd):
        child.gate = trio.Event()
        await wb.writev(fd, 0, b"first")
        with trio.move_on_after(1):
            await wb.ftruncate(fd, 0)  # waits for the write: cancelled
        await wb.writev(fd, 100, b"second")
        child.gate.set()
        await wb.fsync(fd)
        assert child.data[:5] == b"first"
        assert child.data[100:] == b"second"


async def test_close_waits_and_reports_through_flush(autojump_clock):
    async with stack() as (wb, child, fd):
        child.gate = trio.Event()
        await wb.writev(fd, 0, b"last words")
        async with trio.open_nursery() as nursery:
            nursery.start_soon(wb.release, fd)
            await settle()
            assert "RELEASE" not in child.calls
            child.gate.set()
        assert child.data == b"last words"
        assert child.calls[-1] == "RELEASE"


async def test_release_logs_what_nobody_flushed(autojump_clock, caplog):
    async with stack() as (wb, child, fd):
        child.fail = lambda offset, length: errno.EIO
        await wb.writev(fd, 0, b"x")
        await wb.release(fd)
        assert "never reached the bricks" in caplog.text
        assert child.calls[-1] == "RELEASE"


async def test_stop_waits_for_writes_in_flight(autojump_clock):
    child = FakeFile()
    child.delay = lambda offset, length: 2.0
    async with trio.open_nursery() as nursery:
        wb = WriteBehindXlator("wb", [child], {}, nursery=nursery)
        fd = await wb.open(LOC, RDWR)
        for index in range(20):
            await wb.writev(fd, index * 10, b"0123456789")
        await wb.stop()
        nursery.cancel_scope.cancel()
    assert len(child.data) == 200


# --- cancellation -------------------------------------------------------------


async def test_cancelled_write_that_was_not_sent_never_lands(autojump_clock):
    async with stack({"cache-size": "8KB"}) as (wb, child, fd):
        child.gate = trio.Event()
        await wb.writev(fd, 0, b"a" * 4096)
        await wb.writev(fd, 0, b"b" * 10)  # overlaps: queued, not sent
        with trio.move_on_after(1) as scope:  # no room, and not sendable
            await wb.writev(fd, 0, b"c" * 4096)
        assert scope.cancelled_caught
        child.gate.set()
        await wb.fsync(fd)
        assert bytes(child.data[:11]) == b"b" * 10 + b"a"
        assert all(data != b"c" * 4096 for _, data in child.writes)


async def test_cancelled_write_in_flight_keeps_the_callers_buffer_safe(autojump_clock):
    async with stack({"cache-size": "4KB"}) as (wb, child, fd):
        child.gate = trio.Event()
        await wb.writev(fd, 0, b"a" * 4096)
        buffer = bytearray(b"B" * 8192)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_release_later, child.gate)
            with trio.move_on_after(0.5) as scope:
                await wb.writev(fd, 8192, memoryview(buffer))
            # The cancel waited for the brick: the buffer is free only now.
            assert scope.cancelled_caught
            assert child.gate.is_set()
        buffer[:] = b"X" * 8192
        await wb.fsync(fd)
        assert bytes(child.data[8192:]) == b"B" * 8192


async def test_cancelled_fsync_loses_nothing(autojump_clock):
    async with stack() as (wb, child, fd):
        child.gate = trio.Event()
        child.fail = lambda offset, length: errno.EIO
        await wb.writev(fd, 0, b"x")
        with trio.move_on_after(1):
            await wb.fsync(fd)
        child.gate.set()
        with pytest.raises(FopError):
            await wb.fsync(fd)


# --- the graph ----------------------------------------------------------------

VOLFILE = """
volume v-client-0
    type protocol/client
    option remote-host vm
    option remote-subvolume /b/1
end-volume
volume v-dht
    type cluster/distribute
    subvolumes v-client-0
end-volume
volume v-write-behind
    type performance/write-behind
    option cache-size 2MB
    subvolumes v-dht
end-volume
volume v
    type debug/io-stats
    subvolumes v-write-behind
end-volume
"""


def test_plan_runs_write_behind_unless_told_otherwise():
    graph = parse(VOLFILE)
    actions = {step.name: step.action for step in plan(graph)}
    assert actions["v-write-behind"] == "run"
    off = {step.name: step.action for step in plan(graph, write_behind=False)}
    assert off["v-write-behind"] == "skip"
    passing = parse(VOLFILE.replace("option cache-size 2MB", "option pass-through on"))
    assert {s.name: s.action for s in plan(passing)}["v-write-behind"] == "skip"
    forced = {s.name: s.action for s in plan(passing, write_behind=True)}
    assert forced["v-write-behind"] == "run"


def test_options_from_the_volfile():
    async def main() -> None:
        async with trio.open_nursery() as nursery:
            wb = WriteBehindXlator(
                "w",
                [FakeFile()],
                {
                    "cache-size": "2MB",
                    "aggregate-size": "64KB",
                    "resync-failed-syncs-after-fsync": "off",
                    "strict-write-ordering": "yes",
                },
                nursery=nursery,
            )
            assert wb.window_size == 2 << 20
            assert wb.aggregate_size == 64 << 10
            assert not wb.resync
            assert wb.strict_write_ordering
            assert not wb.strict_o_direct

    trio.run(main)


# --- properties ---------------------------------------------------------------

OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("write"),
            st.integers(0, 60),
            st.integers(1, 24),
            st.integers(1, 255),
        ),
        st.tuples(st.just("read"), st.integers(0, 70), st.integers(1, 30)),
        st.tuples(st.just("fsync")),
        st.tuples(st.just("fstat")),
        st.tuples(st.just("truncate"), st.integers(0, 80)),
    ),
    max_size=40,
)


@settings(deadline=None, max_examples=150)
@given(
    ops=OPS,
    delays=st.lists(st.integers(0, 5), min_size=1, max_size=16),
    window=st.sampled_from(["16", "48", "1MB"]),
)
def test_reads_and_final_bytes_match_a_plain_file(ops, delays, window):
    """Any sequence of calls, any write latencies: every read sees what a
    plain file would, and after close the child holds exactly that."""

    async def main() -> None:
        model = bytearray()
        child = FakeFile()
        turn = iter(range(10**9))
        child.delay = lambda offset, length: delays[next(turn) % len(delays)] / 10
        async with trio.open_nursery() as nursery:
            wb = WriteBehindXlator(
                "wb",
                [child],
                {"cache-size": window, "aggregate-size": "16"},
                nursery=nursery,
            )
            fd = await wb.open(LOC, RDWR)
            for op in ops:
                if op[0] == "write":
                    _, offset, length, byte = op
                    data = bytes([byte]) * length
                    await wb.writev(fd, offset, data)
                    if len(model) < offset + length:
                        model.extend(bytes(offset + length - len(model)))
                    model[offset : offset + length] = data
                elif op[0] == "read":
                    _, offset, length = op
                    got, _ = await wb.readv(fd, offset, length)
                    assert bytes(got) == bytes(model[offset : offset + length])
                elif op[0] == "fsync":
                    await wb.fsync(fd)
                    assert child.data == model
                elif op[0] == "fstat":
                    assert (await wb.fstat(fd)).ia_size == len(model)
                else:
                    _, size = op
                    await wb.ftruncate(fd, size)
                    del model[size:]
                    model.extend(bytes(size - len(model)))
            await wb.flush(fd)
            await wb.release(fd)
            assert child.data == model
            assert child.outside_txn == []
            nursery.cancel_scope.cancel()

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


REGION_OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("write"),
            st.integers(0, 50),
            st.integers(1, 20),
            st.integers(1, 255),
        ),
        st.tuples(st.just("read"), st.integers(0, 60), st.integers(1, 20)),
        st.tuples(st.just("fsync")),
        st.tuples(st.just("nap")),
    ),
    max_size=25,
)


@settings(deadline=None, max_examples=100)
@given(
    tasks=st.lists(REGION_OPS, min_size=2, max_size=4),
    delays=st.lists(st.integers(0, 5), min_size=1, max_size=16),
)
def test_concurrent_callers_each_read_their_own_writes(tasks, delays):
    """Several tasks at once, each on its own 64-byte region of one fd."""

    async def main() -> None:
        child = FakeFile()
        turn = iter(range(10**9))
        child.delay = lambda offset, length: delays[next(turn) % len(delays)] / 10
        models = [bytearray(64) for _ in tasks]
        async with trio.open_nursery() as nursery:
            wb = WriteBehindXlator(
                "wb",
                [child],
                {"cache-size": "100", "aggregate-size": "32"},
                nursery=nursery,
            )
            fd = await wb.open(LOC, RDWR)
            await wb.writev(fd, 0, bytes(64 * len(tasks)))

            async def run(index: int, ops: list[tuple[Any, ...]]) -> None:
                base, model = index * 64, models[index]
                for op in ops:
                    if op[0] == "write":
                        _, offset, length, byte = op
                        data = bytes([byte]) * min(length, 64 - offset)
                        await wb.writev(fd, base + offset, data)
                        model[offset : offset + len(data)] = data
                    elif op[0] == "read":
                        _, offset, length = op
                        length = max(0, min(length, 64 - offset))
                        got, _ = await wb.readv(fd, base + offset, length)
                        assert bytes(got) == bytes(model[offset : offset + length])
                    elif op[0] == "fsync":
                        await wb.fsync(fd)
                        assert child.data[base : base + 64] == model
                    else:
                        await trio.sleep(0.05)

            async with trio.open_nursery() as callers:
                for index, ops in enumerate(tasks):
                    callers.start_soon(run, index, ops)
            await wb.flush(fd)
            await wb.release(fd)
            assert child.data == b"".join(models)
            assert child.outside_txn == []
            nursery.cancel_scope.cancel()

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


async def test_window_full_of_failed_writes_does_not_stall_the_next(autojump_clock):
    """Background writes that failed hold the window until a FSYNC/FLUSH
    retries them; a later write still goes out (from the caller's buffer,
    unacknowledged) instead of waiting for room that only the FSYNC it cannot
    reach would free, and fails or lands on its own."""
    async with stack({"cache-size": "8KB"}) as (wb, child, fd):
        child.fail = lambda offset, length: errno.ENOTCONN
        await wb.writev(fd, 0, b"a" * 4096)
        await wb.writev(fd, 4096, b"b" * 4096)
        await settle()  # both sent and failed: 8 KiB of failed liability
        with trio.fail_after(60), pytest.raises(FopError) as caught:
            await wb.writev(fd, 65536, b"c" * 4096)  # no overlap: window only
        assert caught.value.errno == errno.ENOTCONN
        child.fail = lambda offset, length: None  # the brick is back
        with trio.fail_after(60):
            await wb.writev(fd, 65536, b"c" * 4096)
        assert child.data[65536:] == b"c" * 4096
        await wb.fsync(fd)  # the failed writes are retried and land
        assert child.data[:8192] == b"a" * 4096 + b"b" * 4096


async def test_an_option_value_the_translator_rejects_is_a_volfile_error() -> None:
    node = parse(
        "volume v-wb\n"
        "    type performance/write-behind\n"
        "    option strict-O_DIRECT maybe\n"
        "end-volume\n"
    ).top
    async with trio.open_nursery() as nursery:
        context = BuildContext(
            volume="v",
            bricks={},
            credentials=Credentials(pid=1, uid=0, gid=0, groups=()),
            nursery=nursery,
            connect_timeout=None,
            request_timeout=None,
        )
        with pytest.raises(VolfileError) as caught:
            _make_xlator(node, [MemoryBrick("v-client-0")], context)
    assert "v-wb (performance/write-behind)" in str(caught.value)
    assert "strict-O_DIRECT 'maybe' is not a boolean" in str(caught.value)
