"""The declarative XDR layer: primitives, structs, and properties of every struct."""

from __future__ import annotations

import dataclasses
import struct
from typing import Annotated, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pygluster.errors import XdrError
from pygluster.rpc import fops, glusterd, sunrpc, xdr
from tests.strategies import values_for

# Every struct declared anywhere in the rpc layer.
ALL_STRUCTS = sorted(
    (
        obj
        for module in (sunrpc, glusterd, fops)
        for obj in vars(module).values()
        if xdr.is_struct(obj)
    ),
    key=lambda cls: cls.__name__,
)
ALL_UNIONS = [
    sunrpc.RPC_MSG_BODY,
    sunrpc.REPLY_BODY,
    sunrpc.REJECTED_REPLY,
    sunrpc.ACCEPTED_REPLY_DATA,
]


@xdr.struct
class Sample:
    """A struct using every primitive (test only)."""

    u: Annotated[int, xdr.UINT]
    i: Annotated[int, xdr.INT]
    uh: Annotated[int, xdr.UHYPER]
    h: Annotated[int, xdr.HYPER]
    b: Annotated[bool, xdr.BOOL]
    d: Annotated[float, xdr.DOUBLE]
    fixed: Annotated[bytes, xdr.FixedOpaque(5)]
    var: Annotated[bytes, xdr.Opaque(8)]
    name: Annotated[str, xdr.String(8)]
    nums: Annotated[tuple[int, ...], xdr.Array(xdr.UINT, 3)]
    pair: Annotated[tuple[int, ...], xdr.FixedArray(xdr.INT, 2)]
    maybe: Annotated[int | None, xdr.Optional(xdr.UINT)]
    chain: Annotated[tuple[int, ...], xdr.LinkedList(xdr.UINT)]
    stat: Annotated[sunrpc.AcceptStat, xdr.Enum(sunrpc.AcceptStat)]


SAMPLE = Sample(
    u=1,
    i=-2,
    uh=3,
    h=-4,
    b=True,
    d=0.5,
    fixed=b"abcde",
    var=b"xy",
    name="nm",
    nums=(7, 8),
    pair=(-1, 1),
    maybe=9,
    chain=(10, 11),
    stat=sunrpc.AcceptStat.GARBAGE_ARGS,
)


def test_sample_wire_layout() -> None:
    wire = xdr.encode(SAMPLE)
    expected = b"".join(
        [
            struct.pack(">IiQqI", 1, -2, 3, -4, 1),
            struct.pack(">d", 0.5),
            b"abcde\0\0\0",
            struct.pack(">I", 2) + b"xy\0\0",
            struct.pack(">I", 2) + b"nm\0\0",
            struct.pack(">III", 2, 7, 8),
            struct.pack(">ii", -1, 1),
            struct.pack(">II", 1, 9),
            struct.pack(">IIIII", 1, 10, 1, 11, 0),
            struct.pack(">i", 4),
        ]
    )
    assert wire == expected
    assert xdr.decode(Sample, wire) == SAMPLE


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("u", -1),
        ("u", 2**32),
        ("i", 2**31),
        ("uh", 2**64),
        ("h", -(2**63) - 1),
        ("u", True),
        ("fixed", b"abcd"),
        ("var", b"123456789"),
        ("name", "123456789"),
        ("nums", (1, 2, 3, 4)),
        ("pair", (1,)),
        ("stat", 4),
        ("b", 1),
        ("name", b"bytes"),
    ],
)
def test_out_of_range_is_xdr_error(field: str, value: object) -> None:
    bad = Sample(
        **{**{f: getattr(SAMPLE, f) for f in SAMPLE.__dataclass_fields__}, field: value}
    )
    with pytest.raises(XdrError, match=field):
        xdr.encode(bad)


def test_decode_rejects_leftover_bytes() -> None:
    with pytest.raises(XdrError, match="left over"):
        xdr.decode(sunrpc.MismatchInfo, b"\0" * 12)


def test_decode_prefix_reports_end() -> None:
    value, end = xdr.decode_prefix(
        sunrpc.MismatchInfo, memoryview(b"\0\0\0\1\0\0\0\2rest")
    )
    assert value == sunrpc.MismatchInfo(low=1, high=2)
    assert end == 8


def test_bad_enum_and_union_discriminants() -> None:
    with pytest.raises(XdrError, match="AcceptStat"):
        xdr.decode(xdr.Enum(sunrpc.AcceptStat), b"\0\0\0\x09")
    with pytest.raises(XdrError, match="no arm"):
        xdr.decode(sunrpc.REJECTED_REPLY, b"\0\0\0\x07\0\0\0\0")


def test_huge_array_count_fails_fast() -> None:
    with pytest.raises(XdrError, match="more bytes"):
        xdr.decode(xdr.Array(xdr.UINT), b"\xff\xff\xff\xff")


def test_struct_requires_codecs() -> None:
    with pytest.raises(TypeError, match="no XDR codec"):

        @xdr.struct
        class Bad:
            x: int


class TestXdrProperties:
    @pytest.mark.parametrize("cls", ALL_STRUCTS, ids=lambda c: c.__name__)
    @settings(max_examples=50)
    @given(data=st.data())
    def test_every_struct_round_trips(self, cls: type, data: st.DataObject) -> None:
        value = data.draw(values_for(cls))
        assert xdr.decode(cls, xdr.encode(value)) == value

    @pytest.mark.parametrize("union", ALL_UNIONS, ids=repr)
    @given(data=st.data())
    def test_every_union_round_trips(
        self, union: xdr.Union, data: st.DataObject
    ) -> None:
        value = data.draw(values_for(union))
        assert xdr.decode(union, xdr.encode(value, union)) == value

    @pytest.mark.parametrize("cls", [*ALL_STRUCTS, Sample], ids=lambda c: c.__name__)
    @settings(max_examples=50)
    @given(blob=st.binary(max_size=512))
    def test_garbage_decodes_or_raises_xdr_error(
        self, cls: type[Any], blob: bytes
    ) -> None:
        try:
            value, end = xdr.decode_prefix(cls, blob)
        except XdrError:
            return
        assert isinstance(value, cls)
        assert 0 <= end <= len(blob)

    @pytest.mark.parametrize("cls", ALL_STRUCTS, ids=lambda c: c.__name__)
    @settings(max_examples=30)
    @given(data=st.data())
    def test_truncated_encoding_is_xdr_error(
        self, cls: type, data: st.DataObject
    ) -> None:
        wire = xdr.encode(data.draw(values_for(cls)))
        if not wire:
            return
        cut = data.draw(st.integers(0, len(wire) - 1))
        with pytest.raises(XdrError):
            xdr.decode(cls, wire[:cut])

    @given(value=values_for(Sample))
    def test_sample_round_trips(self, value: Sample) -> None:
        assert xdr.decode(Sample, xdr.encode(value)) == value


class TestFastPathDifferential:
    """The fused fixed-width runs behave exactly like the field-by-field path."""

    @pytest.mark.parametrize("cls", [*ALL_STRUCTS, Sample], ids=lambda c: c.__name__)
    @settings(max_examples=30)
    @given(data=st.data())
    def test_same_bytes_and_values(self, cls: type, data: st.DataObject) -> None:
        slow = xdr.unfused(cls)
        value = data.draw(values_for(cls))
        wire = xdr.encode(value)
        assert wire == xdr.encode(value, slow)
        assert xdr.decode(slow, wire) == xdr.decode(cls, wire) == value

    @pytest.mark.parametrize("cls", [*ALL_STRUCTS, Sample], ids=lambda c: c.__name__)
    @settings(max_examples=30)
    @given(blob=st.binary(max_size=300))
    def test_same_verdict_on_garbage(self, cls: type, blob: bytes) -> None:
        outcomes: list[tuple[Any, int] | str] = []
        for codec in (xdr.as_codec(cls), xdr.unfused(cls)):
            try:
                outcomes.append(xdr.decode_prefix(codec, blob))
            except XdrError:
                outcomes.append("XdrError")
        assert outcomes[0] == outcomes[1]


def test_nested_fixed_struct_is_flattened_into_its_parents_run() -> None:
    """gfx_read_rsp: op_ret, op_errno, the 22 iatt fields and size are one
    struct.Struct; the iatt built from it is a normal frozen instance."""
    codec = xdr.as_codec(fops.GfxReadRsp)
    first = codec.steps[0]  # type: ignore[attr-defined]
    assert first.names == ("op_ret", "op_errno", "stat", "size")
    names = [f.name for f in dataclasses.fields(fops.GfxIattx)]
    fields: dict[str, Any] = {n: (b"\x07" * 16 if n == "ia_gfid" else 3) for n in names}
    stat = fops.GfxIattx(**fields)
    reply = fops.GfxReadRsp(op_ret=5, op_errno=0, stat=stat, size=5, xdata=None)
    decoded = xdr.decode(fops.GfxReadRsp, xdr.encode(reply))
    assert decoded == reply
    assert hash(decoded.stat) == hash(stat)
    with pytest.raises(dataclasses.FrozenInstanceError):
        decoded.stat.ia_size = 1  # type: ignore[misc]
    with pytest.raises(XdrError, match="stat"):
        # A wrong type on purpose: the encoder must refuse it.
        xdr.encode(dataclasses.replace(reply, stat=5))  # type: ignore[arg-type]


def test_every_declared_struct_resolves_its_codecs() -> None:
    """Field codecs are read from the annotations on first use (cheap
    imports); resolve all of them here, fops_v3 and callback too, so that a wrong
    codec expression fails a test rather than a first encode in the field."""
    from pygluster.rpc import callback, fops_v3

    for module in (sunrpc, glusterd, fops, fops_v3, callback):
        for obj in vars(module).values():
            if xdr.is_struct(obj):
                codec = xdr.as_codec(obj)
                assert codec.steps, obj  # type: ignore[attr-defined]
                assert dataclasses.fields(obj), obj
