"""RFC 5531 §11 record marking: how RPC messages are delimited on a TCP stream.

Each record is one or more fragments; a fragment is a 4-byte big-endian mark
(top bit = last fragment, low 31 bits = length, the mark not counted) followed
by that many bytes. We always *send* a record as a single fragment: the brick's
WRITE decoder breaks when a fragment boundary falls inside or after the XDR
header (protocol.md §1, verified against 10.3). We *accept* any
fragmentation, because the RFC allows it.

Theory of operation
-------------------
:class:`RecordReader` is a push parser with two ways in. A socket owner asks
:meth:`receive_buffer` for a writable view, receives into it and reports
the count with :meth:`received`: bytes go from the kernel straight to where
the record will be parsed, and once a record mark is read the buffer is
sized for the whole record (so a 1 MiB READ reply lands in one place with
no regrowth). Other owners (tests, pcap decoding) call :meth:`feed`, which
copies into the same buffer. Either way the owner then drains
:meth:`next_record` until it returns ``None``.

Ownership: a large record is handed out as a view of the receive buffer,
not copied. Such a buffer is never written again while any view of it is
alive; the reader moves on to a new buffer, and reuses an old one only once
Python reports no views of it remain (a ``bytearray`` with live exports
refuses to resize). Small records are copied out as ``bytes``, which lets the
buffer be rewound in place.

Diversion: the owner may :meth:`RecordReader.divert` the rest of a record
whose first bytes (the RPC and READ reply headers) have arrived into a
buffer of its own, the caller's read buffer: the payload then goes from the
kernel straight to where the caller wants it, and the record comes out of
:meth:`next_record` as a :class:`DivertedRecord`. Until the payload is
complete, :meth:`receive_buffer` is the unfilled rest of that buffer, so
nothing of the next record lands there. :meth:`redirect` swaps in a
scratch buffer when the caller gives up, so that a cancelled caller's
buffer is never written after it returned.

Bounds: memory follows the bytes that actually arrived, not what a mark
claims: a fragment up to :data:`PRESIZE_LIMIT` is given its buffer at once,
a larger one grows by at most doubling what is here. A record may have at
most :data:`MAX_FRAGMENTS` fragments (empty ones count) and
``max_record_size`` bytes; the fragments of a multi-fragment record are
joined as they arrive, so a flood of tiny ones costs their bytes only.

Errors: a record whose fragments add up to more than ``max_record_size``, or
that has more than :data:`MAX_FRAGMENTS` fragments, raises
:class:`~pygluster.errors.RemoteProtocolError`; the reader is then poisoned
(every further call raises the same error), as the stream can no longer be
trusted. At end of stream, :meth:`check_eof` says whether a record was cut off.
"""

from __future__ import annotations

import dataclasses
import struct

from pygluster.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "DEFAULT_MAX_RECORD_SIZE",
    "LAST_FRAGMENT",
    "MAX_FRAGMENTS",
    "MAX_FRAGMENT_SIZE",
    "PRESIZE_LIMIT",
    "DivertedRecord",
    "RecordReader",
    "record_mark",
]

#: Top bit of the mark: this fragment ends the record (RFC 5531 §11).
LAST_FRAGMENT = 0x8000_0000
#: The low 31 bits carry the length (socket.h RPC_MAX_FRAGMENT_SIZE).
MAX_FRAGMENT_SIZE = 0x7FFF_FFFF
#: Our default cap on a received record. The brick itself refuses records of
#: 1 GiB (socket.c, GF_UNIT_GB); we stop earlier so that a corrupt mark cannot
#: make us buffer a gigabyte. READ chunks are far below this.
DEFAULT_MAX_RECORD_SIZE = 256 * 1024 * 1024

_MARK = struct.Struct(">I")
#: A record split into more fragments than this is refused. gluster sends
#: every record as one fragment; the RFC allows more, not a flood of them
#: (each empty fragment would otherwise cost a loop turn and no bytes).
MAX_FRAGMENTS = 1024
#: Fragments up to this size get their whole buffer when their mark arrives;
#: larger ones grow with the bytes that actually come (see _grow_for).
#: Above the largest READ reply pygluster asks for by default (1 MiB chunks).
PRESIZE_LIMIT = 4 * 1024 * 1024 + 64 * 1024
#: Receive buffer size, and the least free space offered to a receive.
_BUFFER_SIZE = 256 * 1024
_MIN_RECEIVE = 16 * 1024
#: Records this large are handed out as views; smaller ones are copied
#: (a copy of a few KiB is cheaper than giving up in-place buffer reuse).
_VIEW_FROM = 32 * 1024


def record_mark(length: int) -> bytes:
    """The 4-byte mark for a record of ``length`` bytes sent as one fragment.

    Raises:
        LocalProtocolError: ``length`` does not fit one fragment.
    """
    if not 0 <= length <= MAX_FRAGMENT_SIZE:
        raise LocalProtocolError(
            f"record of {length} bytes does not fit one RPC fragment "
            f"(max {MAX_FRAGMENT_SIZE})"
        )
    return _MARK.pack(LAST_FRAGMENT | length)


@dataclasses.dataclass(slots=True)
class DivertedRecord:
    """A record whose tail was received into the owner's buffer.

    ``payload`` is the owner's buffer, now holding the rest of the record;
    the owner decoded the record's first bytes when it diverted it.
    """

    payload: memoryview


@dataclasses.dataclass(slots=True)
class _Diversion:
    header_size: int
    sink: memoryview
    filled: int


class RecordReader:
    """Reassembles RPC records from arbitrary chunks of a byte stream."""

    def __init__(self, max_record_size: int = DEFAULT_MAX_RECORD_SIZE) -> None:
        self.max_record_size = max_record_size
        self._buf = bytearray(_BUFFER_SIZE)
        # _buf[_start:_end] holds received bytes not yet returned.
        self._start = 0
        self._end = 0
        # True once a view of _buf has been handed out: then _buf is never
        # written below _end again (module notes, "Ownership").
        self._exported = False
        # An earlier buffer, reused once nobody holds a view of it.
        self._spare: bytearray | None = None
        # Size for new buffers: the last record handed out as a view, plus
        # room to start the next (see _make_room).
        self._large_hint = 0
        # The fragments so far of a record sent in several, joined, and how
        # many there were (module notes, "Bounds").
        self._partial = bytearray()
        self._fragment_count = 0
        # Wire bytes (marks included) of the fragments in _partial.
        self._partial_wire = 0
        #: Bytes the record last returned by :meth:`next_record` took on the
        #: wire, record marks included (what a trace reports as its size).
        self.last_record_wire_size = 0
        self._error: RemoteProtocolError | None = None
        self._diversion: _Diversion | None = None

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as part of a record."""
        diverted = 0
        if self._diversion is not None:
            diverted = self._diversion.header_size + self._diversion.filled
        return self._end - self._start + len(self._partial) + diverted

    def receive_buffer(self) -> memoryview:
        """A writable view to receive into; report the count with :meth:`received`.

        It is never empty, and large enough to complete the record in
        progress when its mark has been read (while a record is diverted:
        exactly the part of the owner's buffer still to fill).
        """
        diversion = self._diversion
        if diversion is not None and diversion.filled < len(diversion.sink):
            return diversion.sink[diversion.filled :]
        free = len(self._buf) - self._end
        if free < _MIN_RECEIVE:
            self._make_room(_MIN_RECEIVE)
        return memoryview(self._buf)[self._end :]

    def received(self, count: int) -> None:
        """``count`` bytes were written at the start of :meth:`receive_buffer`."""
        diversion = self._diversion
        if diversion is not None and diversion.filled < len(diversion.sink):
            diversion.filled += count
        else:
            self._end += count

    def incomplete(self) -> tuple[int, memoryview] | None:
        """The single-fragment record now arriving, if it is not complete yet:
        its length and a view of its bytes so far (release it before calling
        anything else here). None when there is no such record."""
        if self._diversion is not None or self._fragment_count or self._error:
            return None
        start, end = self._start, self._end
        if end - start < 4:
            return None
        (mark,) = _MARK.unpack_from(self._buf, start)
        length = mark & MAX_FRAGMENT_SIZE
        if not mark & LAST_FRAGMENT or end - start - 4 >= length:
            return None
        return length, memoryview(self._buf)[start + 4 : end]

    def divert(self, header_size: int, sink: memoryview) -> None:
        """Receive the current record after its first ``header_size`` bytes
        into ``sink``, which must be exactly that long (see the module notes).

        Call only right after :meth:`incomplete` described the record and
        when at least ``header_size`` of its bytes are here.
        """
        start = self._start + 4
        payload_at = start + header_size
        have = self._end - payload_at
        assert have >= 0
        assert len(sink) >= have
        sink[:have] = self._buf[payload_at : self._end]
        # The record's bytes now live in header and sink: drop them here.
        # Views handed out all lie below _start, so this space is free.
        self._end = self._start
        if not self._exported:
            self._start = self._end = 0
        self._diversion = _Diversion(header_size, sink, have)

    def redirect(self) -> None:
        """Stop writing into the diverted record's buffer: the rest of it goes
        to a scratch buffer and is dropped with the record."""
        diversion = self._diversion
        if diversion is not None:
            scratch = memoryview(bytearray(len(diversion.sink)))
            diversion.sink = scratch

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append bytes received from the stream (copied)."""
        data = memoryview(data).cast("B")
        while data:
            target = self.receive_buffer()
            count = min(len(target), len(data))
            target[:count] = data[:count]
            self.received(count)
            data = data[count:]

    def _make_room(self, needed: int) -> None:
        """Make ``needed`` bytes writable after the unconsumed tail."""
        tail = self._end - self._start
        if not self._exported and tail + needed <= len(self._buf):
            # Nobody holds a view: move the tail down in place.
            if tail:
                self._buf[:tail] = self._buf[self._start : self._end]
            self._start, self._end = 0, tail
            return
        # Room for the largest record seen lately too, so that a stream of
        # large READ replies lands in buffers that never need regrowing and
        # the spare fits the next one.
        size = max(_BUFFER_SIZE, tail + needed, self._large_hint)
        fresh = self._take_spare(size)
        if fresh is None:
            fresh = bytearray(size)
        fresh[:tail] = self._buf[self._start : self._end]
        if self._exported:
            self._spare = self._buf  # reusable once its views are gone
        self._buf, self._start, self._end = fresh, 0, tail
        self._exported = False

    def _grow_for(self, missing: int, have: int) -> None:
        """Make room for more of a fragment whose mark says ``missing`` more
        bytes follow, ``have`` (mark included) being here already.

        A fragment up to ``PRESIZE_LIMIT`` is given its whole size at once,
        so that a READ reply arrives in one place (module notes). Beyond
        that the peer's claim alone buys nothing: the buffer at most doubles
        what has actually arrived, so memory follows the bytes received
        (and copying stays linear in them).
        """
        want = min(missing, max(PRESIZE_LIMIT, have))
        if len(self._buf) - self._end < want:
            self._make_room(want)

    def _take_spare(self, size: int) -> bytearray | None:
        spare = self._spare
        if spare is None or len(spare) < size:
            return None
        try:
            # A bytearray refuses to resize while any view of it is alive:
            # the cheapest exact test that the records it held are dropped.
            spare.append(0)
        except BufferError:
            return None
        del spare[-1]
        self._spare = None
        return spare

    def next_record(self) -> bytes | memoryview | DivertedRecord | None:
        """Return the next complete record, or None if more bytes are needed.

        A record of at least ``_VIEW_FROM`` bytes (a large READ reply) is a
        view of the receive buffer, not a copy; smaller ones are ``bytes``.

        Raises:
            RemoteProtocolError: the stream holds an oversized record.
        """
        if self._error is not None:
            raise self._error
        diversion = self._diversion
        if diversion is not None:
            if diversion.filled < len(diversion.sink):
                return None
            self._diversion = None
            self.last_record_wire_size = 4 + diversion.header_size + len(diversion.sink)
            return DivertedRecord(diversion.sink)
        buf = self._buf
        start = self._start
        end_of_data = self._end
        while end_of_data - start >= 4:
            (mark,) = _MARK.unpack_from(buf, start)
            length = mark & MAX_FRAGMENT_SIZE
            last = bool(mark & LAST_FRAGMENT)
            total = len(self._partial) + length
            if total > self.max_record_size:
                self._error = RemoteProtocolError(
                    f"peer sent a record of at least {total} bytes, more than "
                    f"the {self.max_record_size}-byte limit (corrupt record mark?)"
                )
                raise self._error
            if self._fragment_count >= MAX_FRAGMENTS:
                self._error = RemoteProtocolError(
                    f"peer split a record into more than {MAX_FRAGMENTS} "
                    "fragments (gluster sends one; a fragment flood?)"
                )
                raise self._error
            end = start + 4 + length
            if end_of_data < end:
                self._start = start
                if end > len(buf):
                    self._grow_for(end - end_of_data, end_of_data - start)
                return None
            if last and not self._fragment_count and length >= _VIEW_FROM:
                self._start = end
                self.last_record_wire_size = 4 + length
                self._exported = True
                self._large_hint = 4 + length + _MIN_RECEIVE
                return memoryview(buf)[start + 4 : end]
            if last and not self._fragment_count:
                self._start = end
                self.last_record_wire_size = 4 + length
                return bytes(buf[start + 4 : end])
            self._partial += buf[start + 4 : end]
            self._partial_wire += 4 + length
            start = end
            if last:
                self._start = start
                record = bytes(self._partial)
                self._partial.clear()
                self.last_record_wire_size = self._partial_wire
                self._partial_wire = 0
                self._fragment_count = 0
                return record
            self._fragment_count += 1
        self._start = start
        if start == end_of_data and not self._exported:
            self._start = self._end = 0  # all consumed: rewind for free
        return None

    def check_eof(self) -> None:
        """Call at end of stream.

        Raises:
            RemoteProtocolError: the stream ended inside a record.
        """
        if self._error is not None:
            raise self._error
        if self._end > self._start or self._fragment_count or self._diversion:
            raise RemoteProtocolError(
                f"connection closed in the middle of a record "
                f"({self.buffered} bytes of it received)"
            )
