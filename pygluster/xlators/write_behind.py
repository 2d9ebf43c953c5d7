"""``performance/write-behind``: acknowledge writes before the bricks have them.

libgfapi (and so qemu and fio's gfapi engine) runs this translator, which is
why it answers a 4 KiB write in well under a brick round trip: the write is
copied, sent in the background, and the caller told it succeeded ("lied to",
in write-behind.c's words) while at most the window (``option cache-size``,
alias ``window-size``, which ``gluster volume set VOL
performance.write-behind-window-size`` writes; 1 MiB by default) per file is
unconfirmed. Everything below follows ``xlators/performance/write-behind/src/
write-behind.c`` (glusterfs 10.3) unless marked as a difference.

Writes (``wb_writev``, ``__wb_pick_unwinds``):

* the caller's bytes are copied (unless they are immutable ``bytes``), so its
  buffer is free again when we return;
* if the bytes already acknowledged but not yet confirmed by the bricks (the
  *liability*) plus this write fit in the window, the write is queued and the
  call returns at once, with a best-effort poststat (gluster returns an
  all-zero iatt; nothing above us reads it). Otherwise the write is queued and
  sent all the same, and the call waits until either the window has room
  (then it returns as a lied write) or the write completes (then it returns
  the real result or raises the real error). Until it is acknowledged such a
  write is sent from the caller's buffer (copied only if room appears before
  it is sent), and cancelling it while it is in flight waits for the brick's
  answer, so the buffer is never in use after we return. *Difference:*
  gluster lies while the liability is *at most* the window before adding the
  write, so it can exceed the window by one request; we never do;
* a write is sent only when no earlier write that overlaps it is queued or in
  flight (``wb_liability_has_conflict`` / ``wb_wip_has_conflict``), so on
  disk overlapping writes land in call order; disjoint writes go out
  concurrently. ``strict-write-ordering`` makes every earlier write a
  conflict. *Difference:* at most :data:`MAX_IN_FLIGHT` WRITE calls per fd
  are in flight (the brick reads no more per connection anyway);
* queued writes that are contiguous are sent as one WRITE of at most
  ``aggregate-size`` (128 KiB) bytes, and while other writes are in flight
  the newest small write is held back for a following contiguous one
  (``__wb_preprocess_winds`` with ``trickling-writes`` on, the default: never
  hold when nothing is in flight);
* fds opened O_SYNC/O_DSYNC, or O_DIRECT with ``strict-O_DIRECT`` on (off by
  default, so O_DIRECT is ignored), bypass write-behind entirely. *Difference:*
  O_APPEND fds bypass it too (gluster orders them by an append flag; no
  pygluster caller appends).

Everything that depends on what was written waits for the earlier writes of
the same fd (gluster queues these fops behind conflicting liabilities):

* READ waits only for earlier writes that overlap its range; a READ that
  comes back short while an earlier write could still extend the file waits
  for all earlier writes and reads again (gluster widens a write past EOF to
  start at the old EOF instead; same effect, no size bookkeeping);
* FSTAT, FTRUNCATE, FALLOCATE, DISCARD, ZEROFILL, SEEK, FSYNC, FLUSH and
  RELEASE wait for every earlier write; a LOOKUP of a file with writes in
  flight waits too.

Failures (``wb_fulfill_err``, ``__wb_handle_failed_conflict``): a lied write
that fails is kept, with its data and its error, blocking later overlapping
writes. Until resolved:

* a new write, read, or any of the size/content fops above that conflicts with
  it raises its error (the original :class:`~pygluster.errors.FopError`, with
  the brick's errno) and is not performed; disjoint reads and writes go on;
* FSYNC and FLUSH send the failed writes once more; if they now succeed the
  error is gone (nothing was lost), otherwise FSYNC/FLUSH raise it. FLUSH then
  forgets the failed writes; FSYNC forgets them only with
  ``resync-failed-syncs-after-fsync`` off, and with it on (qemu's setting in
  block/gluster.c, and *our default* when the volfile says nothing: gluster's
  own default is off) keeps them, so that every later FSYNC retries and fails
  until they land: nothing is silently lost;
* RELEASE (close) waits for everything; a failure no FLUSH reported is logged
  at ERROR level, since release cannot raise. The block device sends FLUSH
  before RELEASE, so its ``aclose`` raises such a failure.

A failed write that the caller still waits for (not lied) raises to that
caller directly, as in gluster. *Difference:* gluster retries failed writes
whenever its queue is processed; we retry only at FSYNC/FLUSH.

Sessions (pygluster's, not gluster's). Background writes of an fd are sent
inside ``child.transaction(fd)``, which one background task per fd holds open
while it has writes queued or in flight (and for a 2 ms linger, at most 1 s in
all): for replicate that is one lock + changelog round for many writes, as
AFR's eager lock gives gluster, and every background write happens inside the
lock and dirty window; for shard, one file-size update. :meth:`transaction`
is therefore a no-op while write-behind handles the fd. Fops that need the
session's effects (size, changelog) wait for its end; FTRUNCATE, FALLOCATE,
DISCARD and ZEROFILL also keep new sessions from starting until they are done,
since they run their own transaction below.

Not implemented: ``flush-behind`` (FLUSH always waits for the bricks),
``trickling-writes off``; ordering is per fd, where gluster's is per inode
(one pygluster block device has one fd).
"""

from __future__ import annotations

import bisect
import dataclasses
import errno
import logging
import stat as stat_module
from collections import OrderedDict
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, TypeVar

import trio

from pygluster.errors import FopError
from pygluster.rpc.fops import GfOpenFlags, GfxIattx
from pygluster.xlators.base import Fd, Loc, Xlator, iatt_is_reg, only_child, xlator_type
from pygluster.xlators.options import parse_bool_option, parse_size_option

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator
    from contextlib import AbstractAsyncContextManager

    from pygluster.rpc.fops import Xdata
    from pygluster.volfile import Xlator as VolfileXlator
    from pygluster.xlators.base import BuildContext, ReadInto

__all__ = [
    "DEFAULT_AGGREGATE_SIZE",
    "DEFAULT_WINDOW_SIZE",
    "WriteBehindXlator",
    "parse_size",
    "write_behind_runs",
]

log = logging.getLogger("pygluster.write_behind")

T = TypeVar("T")

#: write-behind.c WB_WINDOW_SIZE: the ``cache-size``/``window-size`` default.
DEFAULT_WINDOW_SIZE = 1024 * 1024
#: write-behind.c WB_AGGREGATE_SIZE: the ``aggregate-size`` default.
DEFAULT_AGGREGATE_SIZE = 128 * 1024
#: A session (child transaction) takes no new writes after this long, so a
#: writer that never pauses still lets other clients (and self-heal) have
#: replicate's lock now and then; AFR's post-op-delay-secs default.
SESSION_MAX_SECONDS = 1.0
#: WRITE calls in flight per fd at most. A brick reads no more than 64
#: requests of a connection at once (server.outstanding-rpc-limit); beyond
#: that they only wait in socket buffers.
MAX_IN_FLIGHT = 64
#: A writer whose writes all fit the window yields to the scheduler once this
#: many are queued unsent. Measured on pyg_single (4k random writes, qd1):
#: yielding on every write ~6.5k IOPS, every 8 ~9.5k IOPS with p99 0.9 ms,
#: never (until the window is full) ~10k IOPS but p99 3-5 ms.
WRITER_BURST = 8
#: An idle session waits this long for more writes before it ends.
SESSION_LINGER_SECONDS = 0.002

#: Linux __O_SYNC (O_SYNC is __O_SYNC | O_DSYNC; GF_O_SYNC is O_DSYNC's value).
_O_SYNC_ONLY = 0o4000000
_ACCMODE = 0o3
_UNITS = {
    "": 1,
    "B": 1,
    "K": 1024,
    "KB": 1024,
    "M": 1024**2,
    "MB": 1024**2,
    "G": 1024**3,
    "GB": 1024**3,
    "T": 1024**4,
    "TB": 1024**4,
    "P": 1024**5,
    "PB": 1024**5,
}

# Life of a queued write.
_QUEUED = 0  # waiting to be sent
_SENT = 1  # in flight
_FAILED = 2  # a lied write whose last attempt failed; kept for retry/report
_DONE = 3  # confirmed by the bricks (or its failure handed to its caller)


def parse_size(text: str) -> int:
    """A size as gluster's options write it ("1MB", "512KB", "1048576")."""
    return parse_size_option(text, _UNITS)


def _reraise(error: BaseException) -> BaseException:
    """``error`` ready to be raised again (its old traceback dropped)."""
    return error.with_traceback(None)


class _Write:
    """One write the caller made: its bytes and where it stands."""

    __slots__ = (
        "data",
        "done",
        "end",
        "error",
        "iatt",
        "lied",
        "offset",
        "owned",
        "reported",
        "seq",
        "session",
        "status",
    )

    def __init__(
        self, seq: int, offset: int, data: bytes | memoryview, *, owned: bool
    ) -> None:
        self.seq = seq
        self.offset = offset
        self.end = offset + len(data)
        #: Our own bytes (``owned``) or, while the caller waits, its buffer.
        self.data: bytes | memoryview | None = data
        self.owned = owned
        self.status = _QUEUED
        self.lied = False
        self.error: Exception | None = None
        self.reported = False
        self.iatt: GfxIattx | None = None
        self.session: _Session | None = None
        #: Set when the current attempt ends (replaced on retry).
        self.done = trio.Event()

    @property
    def size(self) -> int:
        return self.end - self.offset

    def own(self) -> None:
        """Copy the caller's bytes: it may reuse its buffer from now on."""
        if not self.owned:
            assert self.data is not None
            self.data = bytes(self.data)
            self.owned = True


def _immutable(data: bytes | memoryview) -> bool:
    """True when nobody can change ``data`` under us (no copy needed)."""
    if isinstance(data, bytes):
        return True
    return isinstance(data, memoryview) and isinstance(data.obj, bytes)


class _Session:
    """One ``child.transaction(fd)`` the background task holds for writes."""

    __slots__ = ("closing", "ended", "inflight", "min_seq", "started")

    def __init__(self, started: float) -> None:
        self.started = started
        self.closing = False
        self.inflight = 0  # WRITE calls in flight
        self.min_seq: int | None = None  # the earliest write sent in it
        self.ended = trio.Event()


class _FdState:
    """Write-behind's state of one open fd (gluster keeps it per inode)."""

    def __init__(self, fd: Fd, iatt: GfxIattx) -> None:
        self.fd = fd
        self.iatt = iatt
        self.next_seq = 0
        #: Unresolved writes (queued, in flight, failed), in call order.
        self.pending: dict[int, _Write] = {}
        #: The queued ones, in call order.
        self.queued: dict[int, _Write] = {}
        #: (offset, seq) of every pending write, sorted: overlap queries.
        self.index: list[tuple[int, int]] = []
        self.max_len = 0  # longest pending write (bounds index searches)
        self.liability = 0  # bytes lied about and not yet confirmed
        self.orphans: list[Exception] = []  # failures with no write to retry
        self.changed = trio.Event()
        self.runner = False  # the background task runs
        self.session: _Session | None = None
        self.urgent = 0  # waiters that want everything sent now
        self.hold = 0  # fops that keep new sessions from starting

    def wake(self) -> None:
        """Tell every waiter that something changed."""
        self.changed.set()
        self.changed = trio.Event()


def write_behind_runs(node: VolfileXlator, write_behind: bool | None) -> bool:
    """Whether the write-behind xlator ``node`` runs: as the caller says, or
    (``write_behind`` None) unless its ``pass-through`` option is on."""
    if write_behind is not None:
        return write_behind
    try:
        return not parse_bool_option(node.options, "pass-through", False)
    except ValueError:
        return True  # not a clear "on": the translator runs


@xlator_type("performance/write-behind")
class WriteBehindXlator(Xlator):
    """The ``performance/write-behind`` translator (see the module docstring).

    Args:
        name: the translator's name in the volfile.
        children: its one subvolume.
        options: the volfile options: ``cache-size`` (or ``window-size``),
            ``aggregate-size``, ``strict-O_DIRECT``,
            ``strict-write-ordering``, ``resync-failed-syncs-after-fsync``.
        nursery: where the background tasks run; it must outlive every fd
            (the graph's background nursery). :meth:`stop` waits for them.
    """

    def __init__(
        self,
        name: str,
        children: list[Xlator],
        options: dict[str, str],
        *,
        nursery: trio.Nursery,
    ) -> None:
        super().__init__(name, children)
        self.child = children[0]
        size = options.get("cache-size", options.get("window-size"))
        self.window_size = DEFAULT_WINDOW_SIZE if size is None else parse_size(size)
        aggregate = options.get("aggregate-size")
        self.aggregate_size = min(
            self.window_size,
            DEFAULT_AGGREGATE_SIZE if aggregate is None else parse_size(aggregate),
        )
        self.strict_o_direct = parse_bool_option(options, "strict-O_DIRECT", False)
        self.strict_write_ordering = parse_bool_option(
            options, "strict-write-ordering", False
        )
        # qemu's block/gluster.c turns this on; so do we unless told otherwise.
        self.resync = parse_bool_option(
            options, "resync-failed-syncs-after-fsync", True
        )
        self._nursery = nursery
        self._states: set[_FdState] = set()
        # Recent regular-file iatts from LOOKUP, to answer lied writes with.
        self._iatts: OrderedDict[bytes, GfxIattx] = OrderedDict()

    @classmethod
    def from_volfile(
        cls, node: VolfileXlator, children: list[Xlator], context: BuildContext
    ) -> Xlator:
        """The translator, or (switched off) its child: passed through."""
        child = only_child(node, children, context)
        if not write_behind_runs(node, context.write_behind):
            return child
        return cls(node.name, children, dict(node.options), nursery=context.nursery)

    # --- per-fd state --------------------------------------------------------------

    def _state(self, fd: Fd) -> _FdState | None:
        state = fd.ctx.get(self)
        return state if isinstance(state, _FdState) else None

    def _behind(self, flags: int) -> bool:
        """Whether writes through an fd opened with ``flags`` go behind."""
        if flags & _ACCMODE == GfOpenFlags.RDONLY:
            return False
        sync = GfOpenFlags.SYNC | _O_SYNC_ONLY | GfOpenFlags.APPEND
        if self.strict_o_direct:
            sync |= GfOpenFlags.DIRECT
        return not flags & sync

    def _attach(self, fd: Fd, iatt: GfxIattx | None = None) -> Fd:
        if self._behind(fd.flags):
            known = iatt if iatt is not None else self._iatts.get(fd.gfid)
            if known is None:
                known = _blank_iatt(fd.gfid)
            state = _FdState(fd, known)
            fd.ctx[self] = state
            self._states.add(state)
        return fd

    def _remember_iatt(self, iatt: GfxIattx) -> None:
        if iatt_is_reg(iatt):
            self._iatts[iatt.ia_gfid] = iatt
            self._iatts.move_to_end(iatt.ia_gfid)
            while len(self._iatts) > 64:
                self._iatts.popitem(last=False)

    def _poststat(self, state: _FdState, end: int) -> GfxIattx:
        base = state.iatt
        if base.ia_size >= end:
            return base
        return dataclasses.replace(base, ia_size=end)

    # --- the pending-write table -------------------------------------------------

    def _overlapping(
        self, state: _FdState, start: int, end: int, before: int
    ) -> Iterator[_Write]:
        """Pending writes earlier than ``before`` that overlap [start, end)."""
        index = state.index
        low = bisect.bisect_left(index, (start - state.max_len + 1, -1))
        high = bisect.bisect_left(index, (end, -1))
        for position in range(low, high):
            _, seq = index[position]
            if seq < before:
                write = state.pending[seq]
                if write.end > start:
                    yield write

    def _blocker(self, state: _FdState, write: _Write) -> _Write | None:
        """An earlier pending write that ``write`` must wait for, if any."""
        if self.strict_write_ordering:
            first = next(iter(state.pending.values()))
            return first if first.seq < write.seq else None
        return next(self._overlapping(state, write.offset, write.end, write.seq), None)

    def _stuck_on(self, state: _FdState, write: _Write) -> _Write | None:
        """The failed write that keeps queued ``write`` from ever being sent."""
        current = write
        while current.status == _QUEUED:
            blocker = self._blocker(state, current)
            if blocker is None or blocker.status == _SENT:
                return None
            if blocker.status == _FAILED:
                return blocker
            current = blocker
        return None

    def _add(self, state: _FdState, write: _Write) -> None:
        state.pending[write.seq] = write
        state.queued[write.seq] = write
        bisect.insort(state.index, (write.offset, write.seq))
        state.max_len = max(state.max_len, write.size)

    def _remove(self, state: _FdState, write: _Write) -> None:
        """Take ``write`` out of the table (done, forgotten or withdrawn)."""
        del state.pending[write.seq]
        state.queued.pop(write.seq, None)
        position = bisect.bisect_left(state.index, (write.offset, write.seq))
        del state.index[position]
        if not state.pending:
            state.max_len = 0
        if write.lied:
            state.liability -= write.size
        write.data = None

    def _lie(self, state: _FdState, write: _Write) -> None:
        write.lied = True
        state.liability += write.size

    def _complete(self, state: _FdState, write: _Write, iatt: GfxIattx) -> None:
        write.status = _DONE
        write.iatt = iatt
        self._remove(state, write)
        write.done.set()

    def _fail(self, state: _FdState, write: _Write, error: Exception) -> None:
        write.error = error
        if write.lied:
            # Kept, data and all: retried at FSYNC/FLUSH, reported there.
            write.status = _FAILED
            state.queued.pop(write.seq, None)
            log.warning(
                "%s: background WRITE of %d bytes at %d to %s failed (reported at "
                "the next fsync/flush): %s",
                self.name,
                write.size,
                write.offset,
                state.fd.loc.path,
                error,
            )
        else:
            write.status = _DONE  # its caller raises the error
            self._remove(state, write)
        write.done.set()

    def _forget(self, state: _FdState, write: _Write) -> None:
        write.reported = True
        self._remove(state, write)

    # --- the background task ----------------------------------------------------------

    def _ready(self, state: _FdState) -> bool:
        return any(self._blocker(state, w) is None for w in state.queued.values())

    def _kick(self, state: _FdState) -> None:
        """Make sure queued writes get sent."""
        state.wake()
        if not state.runner and state.queued and not state.hold:
            state.runner = True
            self._nursery.start_soon(self._run, state)

    async def _run(self, state: _FdState) -> None:
        try:
            while not state.hold and self._ready(state):
                await self._session(state)
        finally:
            state.runner = False
            state.wake()

    def _pick(self, state: _FdState, session: _Session) -> list[list[_Write]]:
        """The queued writes to send now, contiguous ones batched together."""
        batches: list[list[_Write]] = []
        batch: list[_Write] = []
        total = 0
        room = MAX_IN_FLIGHT - session.inflight
        for write in state.queued.values():
            if len(batches) >= room:
                return batches
            if self._blocker(state, write) is not None:
                if batch:
                    batches.append(batch)
                    batch, total = [], 0
                continue
            if (
                batch
                and write.offset == batch[-1].end
                and total + write.size <= self.aggregate_size
            ):
                batch.append(write)
                total += write.size
                continue
            if batch:
                batches.append(batch)
            batch, total = [write], write.size
        if batch:
            # Hold the newest small write back for a contiguous successor
            # while others are in flight (trickling-writes on).
            newest = batch[-1].seq == state.next_seq - 1
            if not (
                newest
                and total < self.aggregate_size
                and session.inflight
                and not state.urgent
            ):
                batches.append(batch)
        return batches

    async def _session(self, state: _FdState) -> None:
        session = _Session(trio.current_time())
        state.session = session
        began = False
        try:
            async with self.child.transaction(state.fd):
                began = True
                async with trio.open_nursery() as nursery:
                    await self._dispatch(state, session, nursery)
        except Exception as exc:
            if not began:
                # No lock/changelog: the writes this session would have sent
                # fail with that error.
                for write in list(state.queued.values()):
                    if self._blocker(state, write) is None:
                        write.status = _SENT
                        self._fail(state, write, exc)
            else:
                log.warning(
                    "%s: ending the write session on %s failed: %s",
                    self.name,
                    state.fd.loc.path,
                    exc,
                )
                state.orphans.append(exc)
        finally:
            state.session = None
            session.ended.set()
            state.wake()

    async def _dispatch(
        self, state: _FdState, session: _Session, nursery: trio.Nursery
    ) -> None:
        # Contention is heeded only once this session has sent what was
        # queued when it began: the other client's wait for the lock is what
        # usually reports it, during our own lock and pre-op, and a session
        # that let go before writing anything would trade the lock back and
        # forth with it forever, neither writing (afr, too, winds the fops
        # that waited for a lock before it lets the lock go).
        first = True
        while True:
            changed = state.changed
            now = trio.current_time()
            if (
                state.hold
                or now - session.started >= SESSION_MAX_SECONDS
                or (not first and self.child.contended(state.fd))
            ):
                # Another client waits for the lock below: let it have it.
                session.closing = True
            first = False
            if not session.closing:
                for batch in self._pick(state, session):
                    for write in batch:
                        write.status = _SENT
                        write.session = session
                        del state.queued[write.seq]
                    if session.min_seq is None or batch[0].seq < session.min_seq:
                        session.min_seq = batch[0].seq
                    session.inflight += 1
                    nursery.start_soon(self._send, state, session, batch)
            if session.inflight == 0:
                if session.closing:
                    return
                with trio.move_on_after(SESSION_LINGER_SECONDS):
                    await changed.wait()
                    continue
                return
            await changed.wait()

    async def _send(
        self, state: _FdState, session: _Session, batch: list[_Write]
    ) -> None:
        try:
            data: bytes | memoryview
            if len(batch) == 1:
                assert batch[0].data is not None
                data = batch[0].data
            else:
                data = b"".join(w.data for w in batch if w.data is not None)
            iatt = await self.child.writev(state.fd, batch[0].offset, data)
        except Exception as exc:
            for write in batch:
                if write.status == _SENT:
                    self._fail(state, write, exc)
        else:
            state.iatt = iatt
            for write in batch:
                if write.status == _SENT:
                    self._complete(state, write, iatt)
        finally:
            # Cancelled (the graph is going away): still nothing silent.
            for write in batch:
                if write.status == _SENT:
                    self._fail(
                        state,
                        write,
                        FopError(
                            "WRITE",
                            state.fd.loc.path,
                            None,
                            errno.ECANCELED,
                            xlator=self.name,
                        ),
                    )
            session.inflight -= 1
            state.wake()

    # --- waiting for earlier writes ------------------------------------------------

    async def _settle(
        self, state: _FdState, writes: list[_Write], before: int, *, session: bool
    ) -> None:
        """Wait until each of ``writes`` has been tried (or is stuck behind a
        failed one); with ``session``, also until the session that sent any
        write earlier than ``before`` has ended."""
        state.urgent += 1
        state.wake()
        try:
            while True:
                for write in writes:
                    while write.status in (_QUEUED, _SENT):
                        if self._stuck_on(state, write) is not None:
                            break
                        if write.status == _SENT:
                            await write.done.wait()
                        else:
                            await state.changed.wait()
                # A concurrent FSYNC may have sent a failed one again: recheck.
                if all(
                    w.status in (_FAILED, _DONE) or self._stuck_on(state, w) is not None
                    for w in writes
                ):
                    break
            current = state.session
            if (
                session
                and current is not None
                and current.min_seq is not None
                and current.min_seq < before
            ):
                current.closing = True
                state.wake()
                await current.ended.wait()
        finally:
            state.urgent -= 1

    def _first_error(self, state: _FdState, writes: list[_Write]) -> Exception | None:
        for write in writes:
            if write.status == _FAILED:
                return write.error
            stuck = self._stuck_on(state, write)
            if stuck is not None:
                return stuck.error
        return None

    async def _barrier(self, state: _FdState) -> None:
        """Wait for every earlier write; raise the error of one that failed."""
        if not state.pending and state.session is None:
            return
        writes = list(state.pending.values())
        await self._settle_or_raise(state, writes, state.next_seq, session=True)

    async def _sync_point(self, state: _FdState, *, forget: bool) -> None:
        """FSYNC/FLUSH: retry failed writes once, wait for all, report."""
        if not state.pending and state.session is None and not state.orphans:
            return
        before = state.next_seq
        writes = list(state.pending.values())
        retried = False
        for write in writes:
            if write.status == _FAILED:
                write.status = _QUEUED
                write.done = trio.Event()
                state.queued[write.seq] = write
                retried = True
        if retried:
            state.queued = dict(sorted(state.queued.items()))
            self._kick(state)
        if writes or state.session is not None:
            await self._settle(state, writes, before, session=True)
        failed = [w for w in writes if w.status == _FAILED]
        errors: list[Exception] = [w.error for w in failed if w.error is not None]
        errors.extend(state.orphans)
        state.orphans.clear()
        if failed and forget:
            for write in failed:
                self._forget(state, write)
            self._kick(state)
        if errors:
            raise _reraise(errors[0])

    async def _exclusive(self, state: _FdState) -> None:
        """Before a fop that runs its own transaction below: wait for earlier
        writes, end the session and start none until :meth:`_release_hold`."""
        await self._barrier(state)
        state.hold += 1
        try:
            current = state.session
            if current is not None:
                current.closing = True
                state.wake()
                await current.ended.wait()
        except BaseException:
            self._release_hold(state)
            raise

    def _release_hold(self, state: _FdState) -> None:
        state.hold -= 1
        self._kick(state)

    async def _outside_sessions(self, fd: Fd, call: Callable[[], Awaitable[T]]) -> T:
        """Run a fop that makes its own transaction below (FTRUNCATE,
        FALLOCATE, DISCARD, ZEROFILL) between :meth:`_exclusive` and
        :meth:`_release_hold`."""
        state = self._state(fd)
        if state is None:
            return await call()
        await self._exclusive(state)
        try:
            return await call()
        finally:
            self._release_hold(state)

    async def _drain(self, state: _FdState, why: str) -> None:
        """Wait until nothing of ``state`` is queued, in flight or in a
        session; log (cannot raise) the failures nobody was told about."""
        while state.pending or state.session is not None:
            writes = list(state.pending.values())
            if writes:
                await self._settle(state, writes, state.next_seq, session=True)
            current = state.session
            if current is not None:
                current.closing = True
                state.wake()
                await current.ended.wait()
            for write in writes:
                if write.status == _FAILED:
                    log.error(
                        "%s: %s of %s: a WRITE of %d bytes at %d never reached "
                        "the bricks: %s",
                        self.name,
                        why,
                        state.fd.loc.path,
                        write.size,
                        write.offset,
                        write.error,
                    )
                    self._forget(state, write)
            # Writes that waited behind the forgotten ones go out now.
            self._kick(state)
        for error in state.orphans:
            log.error(
                "%s: %s of %s: a failure nobody was told about: %s",
                self.name,
                why,
                state.fd.loc.path,
                error,
            )
        state.orphans.clear()

    async def _quiesce_gfid(self, gfid: bytes | None) -> None:
        if gfid is None:
            return
        for state in [s for s in self._states if s.fd.loc.gfid == gfid]:
            if state.pending or state.session is not None:
                await self._settle(
                    state, list(state.pending.values()), state.next_seq, session=True
                )

    # --- life ---------------------------------------------------------------------

    async def stop(self) -> None:
        """Wait for every write still in flight (the graph is closing)."""
        with trio.CancelScope(shield=True):
            for state in list(self._states):
                await self._drain(state, "shutdown")

    @property
    def is_up(self) -> bool:
        return self.child.is_up

    def holders(self, fd: Fd) -> list[Xlator]:
        return self.child.holders(fd)

    def transaction(self, fd: Fd) -> AbstractAsyncContextManager[None]:
        """A no-op for fds whose writes go behind: their background task
        holds the child's transaction itself (module docstring, Sessions)."""
        if self._state(fd) is not None:
            return nullcontext()
        return self.child.transaction(fd)

    # --- entries ----------------------------------------------------------------------

    async def lookup(self, loc: Loc, xdata: Xdata = None) -> tuple[GfxIattx, Xdata]:
        await self._quiesce_gfid(loc.gfid)
        iatt, reply = await self.child.lookup(loc, xdata)
        self._remember_iatt(iatt)
        return iatt, reply

    async def create(
        self, loc: Loc, flags: int, mode: int, umask: int = 0, xdata: Xdata = None
    ) -> tuple[Fd, GfxIattx]:
        fd, iatt = await self.child.create(loc, flags, mode, umask, xdata)
        return self._attach(fd, iatt), iatt

    async def unlink(self, loc: Loc, xdata: Xdata = None) -> None:
        await self._quiesce_gfid(loc.gfid)
        await self.child.unlink(loc, xdata)

    # --- open files ---------------------------------------------------------------

    async def open(self, loc: Loc, flags: int, xdata: Xdata = None) -> Fd:
        return self._attach(await self.child.open(loc, flags, xdata))

    async def writev(
        self, fd: Fd, offset: int, data: bytes | memoryview, xdata: Xdata = None
    ) -> GfxIattx:
        state = self._state(fd)
        if state is None or not data:
            return await self.child.writev(fd, offset, data, xdata)
        await trio.lowlevel.checkpoint_if_cancelled()
        seq = state.next_seq
        end = offset + len(data)
        if self.strict_write_ordering:
            earlier: list[_Write] = list(state.pending.values())
        else:
            earlier = list(self._overlapping(state, offset, end, seq))
        for other in earlier:
            if other.status == _FAILED:
                # A conflicting write failed to sync: this one fails too
                # (__wb_handle_failed_conflict).
                assert other.error is not None
                raise _reraise(other.error)
        immutable = _immutable(data)
        write = _Write(seq, offset, data, owned=immutable)
        state.next_seq = seq + 1
        self._add(state, write)
        if state.liability + write.size <= self.window_size:
            write.own()
            self._lie(state, write)
            self._kick(state)
            if len(state.queued) >= WRITER_BURST:
                # Let the background task send them while we go on; only
                # every few writes, as a scheduler pass costs about as much
                # as the rest of this call (see WRITER_BURST).
                await trio.lowlevel.checkpoint()
            return self._poststat(state, end)
        self._kick(state)
        return await self._wait_write(state, write)

    async def _wait_write(self, state: _FdState, write: _Write) -> GfxIattx:
        """The window is full: wait until there is room or the write is done.

        Until it is acknowledged the write may be sent straight from the
        caller's buffer; it is copied only if room appears before it is sent.
        """
        try:
            while True:
                changed = state.changed
                if write.status == _DONE:
                    write.reported = True
                    if write.error is not None:
                        raise _reraise(write.error)
                    assert write.iatt is not None
                    return write.iatt
                if state.liability + write.size <= self.window_size and (
                    write.owned or write.status == _QUEUED
                ):
                    write.own()
                    self._lie(state, write)
                    return self._poststat(state, write.end)
                stuck = self._stuck_on(state, write)
                if stuck is not None:
                    # Behind a failed write, as a new write would be: refuse.
                    self._remove(state, write)
                    write.status = _DONE
                    write.reported = True
                    self._kick(state)
                    assert stuck.error is not None
                    raise _reraise(stuck.error)
                await changed.wait()
        except BaseException:
            if write.lied:
                raise
            if write.status == _QUEUED:
                # Cancelled before it was sent: as if never called.
                self._remove(state, write)
                write.status = _DONE
                write.reported = True
                self._kick(state)
            elif write.status == _SENT and write.owned:
                # Cancelled in flight: it may land; track it like a lied one.
                self._lie(state, write)
            elif write.status == _SENT:
                # In flight from the caller's buffer: the caller may reuse it
                # only once the brick has answered.
                with trio.CancelScope(shield=True):
                    while write.status == _SENT:
                        await write.done.wait()
            if write.error is not None and not write.reported:
                write.reported = True
                state.orphans.append(write.error)
            raise

    async def _settle_or_raise(
        self, state: _FdState, writes: list[_Write], before: int, *, session: bool
    ) -> None:
        """Wait for ``writes`` to settle; raise the first one's error, if any."""
        error = self._first_error(state, writes)
        if error is None:
            await self._settle(state, writes, before, session=session)
            error = self._first_error(state, writes)
        if error is not None:
            raise _reraise(error)

    async def readv(
        self, fd: Fd, offset: int, size: int, into: ReadInto = None, xdata: Xdata = None
    ) -> tuple[memoryview, GfxIattx]:
        state = self._state(fd)
        if state is None or (not state.pending and state.session is None):
            return await self.child.readv(fd, offset, size, into, xdata)
        before = state.next_seq
        earlier = list(self._overlapping(state, offset, offset + size, before))
        if earlier:
            await self._settle_or_raise(state, earlier, before, session=False)
        data, iatt = await self.child.readv(fd, offset, size, into, xdata)
        if len(data) < size:
            # Short: end of file. An earlier write may still extend the
            # file over the range (into a hole that reads as zeros).
            got = offset + len(data)
            writes = [w for w in state.pending.values() if w.seq < before]
            current = state.session
            if any(w.end > got for w in writes) or (
                current is not None
                and current.min_seq is not None
                and current.min_seq < before
            ):
                await self._settle_or_raise(state, writes, before, session=True)
                data, iatt = await self.child.readv(fd, offset, size, into, xdata)
        return data, iatt

    async def fstat(self, fd: Fd, xdata: Xdata = None) -> GfxIattx:
        state = self._state(fd)
        if state is not None:
            await self._barrier(state)
        iatt = await self.child.fstat(fd, xdata)
        if state is not None:
            state.iatt = iatt
        return iatt

    async def flush(self, fd: Fd, xdata: Xdata = None) -> None:
        state = self._state(fd)
        if state is not None:
            await self._sync_point(state, forget=True)
        await self.child.flush(fd, xdata)

    async def fsync(self, fd: Fd, datasync: bool = False, xdata: Xdata = None) -> None:
        state = self._state(fd)
        if state is not None:
            await self._sync_point(state, forget=not self.resync)
        await self.child.fsync(fd, datasync, xdata)

    async def ftruncate(self, fd: Fd, size: int, xdata: Xdata = None) -> GfxIattx:
        iatt = await self._outside_sessions(
            fd, lambda: self.child.ftruncate(fd, size, xdata)
        )
        state = self._state(fd)
        if state is not None:
            state.iatt = iatt
        return iatt

    async def fallocate(
        self, fd: Fd, mode: int, offset: int, length: int, xdata: Xdata = None
    ) -> GfxIattx:
        return await self._outside_sessions(
            fd, lambda: self.child.fallocate(fd, mode, offset, length, xdata)
        )

    async def discard(
        self, fd: Fd, offset: int, length: int, xdata: Xdata = None
    ) -> GfxIattx:
        return await self._outside_sessions(
            fd, lambda: self.child.discard(fd, offset, length, xdata)
        )

    async def zerofill(
        self, fd: Fd, offset: int, length: int, xdata: Xdata = None
    ) -> GfxIattx:
        return await self._outside_sessions(
            fd, lambda: self.child.zerofill(fd, offset, length, xdata)
        )

    async def seek(self, fd: Fd, offset: int, what: int, xdata: Xdata = None) -> int:
        state = self._state(fd)
        if state is not None:
            await self._barrier(state)
        return await self.child.seek(fd, offset, what, xdata)

    async def release(self, fd: Fd, xdata: Xdata = None) -> None:
        state = fd.ctx.pop(self, None)
        if isinstance(state, _FdState):
            with trio.CancelScope(shield=True):
                try:
                    await self._drain(state, "close")
                finally:
                    self._states.discard(state)
        await self.child.release(fd, xdata)


def _blank_iatt(gfid: bytes) -> GfxIattx:
    """An iatt that says only "a regular file with this gfid"."""
    zero: dict[str, Any] = dict.fromkeys(GfxIattx.__dataclass_fields__, 0)
    zero["ia_gfid"] = gfid
    zero["mode"] = stat_module.S_IFREG
    return GfxIattx(**zero)
