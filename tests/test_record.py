"""RFC 5531 record marking: framing, fragments, limits, any chunking."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygluster.errors import LocalProtocolError, RemoteProtocolError
from pygluster.rpc.record import RecordReader, record_mark


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


def drain(reader: RecordReader) -> list[bytes]:
    records = []
    while (record := reader.next_record()) is not None:
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
        got: list[bytes] = []
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
