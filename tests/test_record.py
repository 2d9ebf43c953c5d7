"""RFC 5531 record marking: framing, fragments, limits, any chunking."""

from __future__ import annotations

import struct
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygluster.errors import LocalProtocolError, RemoteProtocolError
from pygluster.rpc.record import DivertedRecord, RecordReader, record_mark


def fragments(record: bytes, sizes: list[int]) -> bytes:
    """``record`` split into fragments of the given sizes (last takes the rest)."""
    out, pos = [], 0
    for size in sizes:
        if pos + size >= len(record):
            break
        out.append(struct.pack(">I", size) + record[pos : pos + size])
        pos += size
    rest = record[pos:]
    out.append(struct.pack(">I", 0x8000_0000 | len(rest)) + rest)
    return b"".join(out)


def drain(reader: RecordReader) -> list[bytes | memoryview]:
    records: list[bytes | memoryview] = []
    while (record := reader.next_record()) is not None:
        # Only a diverting owner gets a DivertedRecord; these tests don't divert.
        assert not isinstance(record, DivertedRecord)
        records.append(record)
    return records


def test_record_mark_sets_last_fragment_bit() -> None:
    assert record_mark(0x48) == bytes.fromhex("80000048")
    with pytest.raises(LocalProtocolError):
        record_mark(2**31)


def test_single_and_multi_fragment_records() -> None:
    reader = RecordReader()
    reader.feed(record_mark(3) + b"abc" + fragments(b"defghij", [2, 3]))
    assert drain(reader) == [b"abc", b"defghij"]
    reader.check_eof()


def test_partial_record_waits_then_completes() -> None:
    reader = RecordReader()
    wire = record_mark(5) + b"hello"
    reader.feed(wire[:6])
    assert reader.next_record() is None
    reader.feed(wire[6:])
    assert reader.next_record() == b"hello"


def test_oversized_record_poisons_reader() -> None:
    reader = RecordReader(max_record_size=10)
    reader.feed(fragments(b"x" * 11, [6]))
    with pytest.raises(RemoteProtocolError, match="limit"):
        reader.next_record()
    with pytest.raises(RemoteProtocolError):
        reader.next_record()


def test_eof_inside_record_is_an_error() -> None:
    reader = RecordReader()
    reader.feed(record_mark(5) + b"he")
    assert reader.next_record() is None
    with pytest.raises(RemoteProtocolError, match="middle of a record"):
        reader.check_eof()


class TestRecordProperties:
    @given(
        records=st.lists(st.binary(max_size=40), max_size=6),
        split=st.lists(st.integers(1, 64), max_size=20),
        frag=st.lists(st.integers(1, 16), max_size=4),
    )
    def test_any_chunking_and_fragmentation_yields_same_records(
        self, records: list[bytes], split: list[int], frag: list[int]
    ) -> None:
        wire = b"".join(fragments(r, frag) for r in records)
        reader = RecordReader()
        got: list[bytes | memoryview] = []
        pos = 0
        for size in [*split, len(wire)]:
            reader.feed(wire[pos : pos + size])
            pos += size
            got += drain(reader)
        assert got == records
        reader.check_eof()

    @given(blob=st.binary(max_size=300), limit=st.integers(0, 100))
    def test_garbage_gives_records_or_remote_protocol_error(
        self, blob: bytes, limit: int
    ) -> None:
        reader = RecordReader(max_record_size=limit)
        reader.feed(blob)
        try:
            for record in drain(reader):
                assert len(record) <= limit
            reader.check_eof()
        except RemoteProtocolError:
            pass


def receive(reader: RecordReader, data: bytes, most: int) -> bytes:
    """Put up to ``most`` bytes of ``data`` into the reader's own buffer, as a
    socket's ``recv_into`` would; return what is left."""
    target = reader.receive_buffer()
    assert len(target) > 0
    count = min(len(target), most, len(data))
    target[:count] = data[:count]
    target.release()
    reader.received(count)
    return data[count:]


class TestReceiveBuffer:
    """The recv_into path: same records as feed, and views stay intact."""

    @given(
        sizes=st.lists(
            st.one_of(st.integers(0, 100), st.integers(30_000, 300_000)),
            max_size=6,
        ),
        split=st.lists(st.integers(1, 400_000), max_size=12),
        keep=st.lists(st.booleans(), max_size=6),
        frag=st.lists(st.integers(1, 200_000), max_size=3),
    )
    def test_receive_into_yields_same_records_and_never_overwrites_them(
        self, sizes: list[int], split: list[int], keep: list[bool], frag: list[int]
    ) -> None:
        records = [bytes([i % 251 + 1]) * size for i, size in enumerate(sizes)]
        wire = b"".join(fragments(r, frag) for r in records)
        reader = RecordReader()
        held: list[tuple[bytes | memoryview, bytes]] = []
        got: list[bytes] = []
        for most in [*split, len(wire) + 1]:
            while wire and most > 0:
                before = len(wire)
                wire = receive(reader, wire, most)
                most -= before - len(wire)
                for record in drain(reader):
                    expected = records[len(got)]
                    got.append(bytes(record))
                    # Some consumers hold on to records (views) a while.
                    if keep[len(got) % len(keep)] if keep else False:
                        held.append((record, expected))
            for record, expected in held:
                assert bytes(record) == expected
        assert got == records
        reader.check_eof()

    def test_large_record_is_a_view_and_its_buffer_is_reused_once_dropped(self) -> None:
        reader = RecordReader()
        record = bytes(range(256)) * 1024  # 256 KiB: handed out as a view
        wire = (record_mark(len(record)) + record) * 3
        views = []
        while wire:
            wire = receive(reader, wire, 65536)
            views += drain(reader)
        assert [bytes(v) for v in views] == [record] * 3
        assert all(isinstance(v, memoryview) for v in views)
        # A view of the reader's receive buffer, which is a bytearray.
        first = cast("bytearray", cast("memoryview", views[0]).obj)
        del views
        reader.receive_buffer().release()
        # No view of the first buffer is left, so it may be written again.
        first.append(0)
        del first[-1]


# --- issue 11: bounds ------------------------------------------------------------


def test_fragment_flood_is_refused() -> None:
    from pygluster.rpc.record import MAX_FRAGMENTS

    for piece in (b"\x00\x00\x00\x01x", b"\x00\x00\x00\x00"):  # tiny, empty
        reader = RecordReader()
        reader.feed(piece * MAX_FRAGMENTS)
        assert reader.next_record() is None
        reader.feed(piece)
        with pytest.raises(RemoteProtocolError, match="fragments"):
            reader.next_record()


def test_many_fragments_within_the_bound_join() -> None:
    reader = RecordReader()
    reader.feed(b"\x00\x00\x00\x01x" * 1000 + record_mark(1) + b"y")
    assert reader.next_record() == b"x" * 1000 + b"y"


def test_buffer_follows_arriving_bytes_not_the_mark() -> None:
    from pygluster.rpc.record import PRESIZE_LIMIT

    reader = RecordReader()
    reader.feed(record_mark(200 << 20) + b"x" * 1000)
    assert reader.next_record() is None
    assert len(reader.receive_buffer()) <= PRESIZE_LIMIT + (1 << 20)
    # Bytes that do arrive are taken; the buffer grows with them.
    reader.feed(b"x" * (8 << 20))
    assert reader.next_record() is None
    assert reader.buffered == 4 + 1000 + (8 << 20)
