"""RFC 5531 §11 record marking: how RPC messages are delimited on a TCP stream.

Each record is one or more fragments; a fragment is a 4-byte big-endian mark
(top bit = last fragment, low 31 bits = length, the mark not counted) followed
by that many bytes. We always *send* a record as a single fragment: the brick's
WRITE decoder breaks when a fragment boundary falls inside or after the XDR
header (gluster-protocol.md §1, verified against 10.3). We *accept* any
fragmentation, because the RFC allows it.

Theory of operation
-------------------
:class:`RecordReader` is a push parser. The owner calls :meth:`feed` with
whatever bytes the socket produced, then drains :meth:`next_record` until it
returns ``None``. Bytes live in one ``bytearray``; consumed bytes are removed
with ``del buf[:n]`` (h11 ``_receivebuffer``), so feeding is O(n) overall.
A record is returned only when its last fragment is complete.

Errors: a record whose fragments add up to more than ``max_record_size``, or a
zero-length non-final fragment stream that never ends, raises
:class:`~pygluster.errors.RemoteProtocolError`; the reader is then poisoned
(every further call raises the same error), as the stream can no longer be
trusted. At end of stream, :meth:`check_eof` says whether a record was cut off.
"""

from __future__ import annotations

import struct

from pygluster.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "DEFAULT_MAX_RECORD_SIZE",
    "LAST_FRAGMENT",
    "MAX_FRAGMENT_SIZE",
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


class RecordReader:
    """Reassembles RPC records from arbitrary chunks of a byte stream."""

    def __init__(self, max_record_size: int = DEFAULT_MAX_RECORD_SIZE) -> None:
        self.max_record_size = max_record_size
        self._buf = bytearray()
        # Where the unconsumed bytes of _buf begin.
        self._start = 0
        # Fragments of the record being assembled, when it has more than one.
        self._fragments: list[bytes] = []
        self._partial_size = 0
        self._error: RemoteProtocolError | None = None

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as part of a record."""
        return len(self._buf) - self._start + self._partial_size

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append bytes received from the stream."""
        self._buf += data

    def next_record(self) -> bytes | memoryview | None:
        """Return the next complete record, or None if more bytes are needed.

        A record that fills the whole buffer (the usual case for a large
        READ reply) is handed over as a view of that buffer, without a copy;
        others are copied out as ``bytes``.

        Raises:
            RemoteProtocolError: the stream holds an oversized record.
        """
        if self._error is not None:
            raise self._error
        buf = self._buf
        start = self._start
        while len(buf) - start >= 4:
            (mark,) = _MARK.unpack_from(buf, start)
            length = mark & MAX_FRAGMENT_SIZE
            last = bool(mark & LAST_FRAGMENT)
            total = self._partial_size + length
            if total > self.max_record_size:
                self._error = RemoteProtocolError(
                    f"peer sent a record of at least {total} bytes, more than "
                    f"the {self.max_record_size}-byte limit (corrupt record mark?)"
                )
                raise self._error
            end = start + 4 + length
            if len(buf) < end:
                break
            if last and not self._fragments and start == 0 and end == len(buf):
                # The buffer is exactly this record: give it away.
                self._buf = bytearray()
                self._start = 0
                return memoryview(buf)[4:]
            fragment = bytes(buf[start + 4 : end])
            start = end
            if last:
                self._start = start
                if not self._fragments:
                    return fragment
                self._fragments.append(fragment)
                record = b"".join(self._fragments)
                self._fragments.clear()
                self._partial_size = 0
                return record
            self._fragments.append(fragment)
            self._partial_size = total
        # Waiting for more: drop what was consumed (one move of the tail,
        # not one per record as del-per-record would cost).
        if start:
            del buf[:start]
        self._start = 0
        return None

    def check_eof(self) -> None:
        """Call at end of stream.

        Raises:
            RemoteProtocolError: the stream ended inside a record.
        """
        if self._error is not None:
            raise self._error
        if len(self._buf) > self._start or self._fragments:
            raise RemoteProtocolError(
                f"connection closed in the middle of a record "
                f"({self.buffered} bytes of it received)"
            )
