"""The disperse erasure code: against a plain table-driven GF(2^8) reference,
any k fragments rebuild the data, and bad input is an ErasureCodeError."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pygluster.erasure import (
    CHUNK_SIZE,
    ErasureCode,
    gf_div,
    gf_inverse_matrix,
    gf_mul,
)
from pygluster.errors import ErasureCodeError

#: Geometries gluster allows, the issue's three first.
GEOMETRIES = [(3, 1), (6, 2), (11, 3), (4, 1), (5, 2), (7, 3), (20, 4)]


def reference_mul(a: int, b: int) -> int:
    """Shift-and-add multiplication modulo 0x11D: no tables."""
    product = 0
    while b:
        if b & 1:
            product ^= a
        b >>= 1
        a <<= 1
        if a & 0x100:
            a ^= 0x11D
    return product


def elements(chunk: bytes) -> list[int]:
    """The 512 GF(2^8) elements of a bit-sliced chunk (bit p of element e is
    bit e % 8 of byte e // 8 of the 64-byte plane p)."""
    values = [0] * CHUNK_SIZE
    for plane in range(8):
        for element in range(CHUNK_SIZE):
            if chunk[plane * 64 + element // 8] >> (element % 8) & 1:
                values[element] |= 1 << plane
    return values


def chunk_of(values: list[int]) -> bytes:
    chunk = bytearray(CHUNK_SIZE)
    for plane in range(8):
        for element, value in enumerate(values):
            if value >> plane & 1:
                chunk[plane * 64 + element // 8] |= 1 << (element % 8)
    return bytes(chunk)


def reference_encode(bricks: int, redundancy: int, data: bytes) -> list[bytes]:
    """Element by element: F_i = sum_j (i+1)^(k-1-j) * D_j per stripe."""
    k = bricks - redundancy
    stripe = k * CHUNK_SIZE
    fragments = [bytearray() for _ in range(bricks)]
    for start in range(0, len(data), stripe):
        chunks = [
            elements(data[start + j * CHUNK_SIZE : start + (j + 1) * CHUNK_SIZE])
            for j in range(k)
        ]
        for i in range(bricks):
            coefficients = []
            for j in range(k):
                c = 1
                for _ in range(k - 1 - j):
                    c = reference_mul(c, i + 1)
                coefficients.append(c)
            values = [0] * CHUNK_SIZE
            for c, chunk in zip(coefficients, chunks, strict=True):
                for e in range(CHUNK_SIZE):
                    values[e] ^= reference_mul(c, chunk[e])
            fragments[i] += chunk_of(values)
    return [bytes(f) for f in fragments]


@given(st.integers(0, 255), st.integers(0, 255))
def test_gf_mul_and_div_match_shift_and_add(a: int, b: int) -> None:
    assert gf_mul(a, b) == reference_mul(a, b)
    if b:
        assert gf_div(gf_mul(a, b), b) == a


def test_gf_div_by_zero() -> None:
    with pytest.raises(ZeroDivisionError):
        gf_div(3, 0)


def test_brick_zero_is_the_xor_of_the_chunks() -> None:
    code = ErasureCode(3, 1)
    data = bytes(range(256)) * 4
    first = code.encode(data)[0]
    assert first == bytes(x ^ y for x, y in zip(data[:512], data[512:], strict=True))


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(GEOMETRIES[:3]), st.data())
def test_encode_matches_the_reference(
    geometry: tuple[int, int], data: st.DataObject
) -> None:
    bricks, redundancy = geometry
    code = ErasureCode(bricks, redundancy)
    stripes = data.draw(st.integers(0, 2))
    payload = data.draw(
        st.binary(
            min_size=stripes * code.stripe_size, max_size=stripes * code.stripe_size
        )
    )
    assert code.encode(payload) == reference_encode(bricks, redundancy, payload)


@pytest.mark.parametrize("stripes", [1, 3, 8, 9, 20])
@pytest.mark.parametrize("geometry", [(3, 1), (6, 2)])
def test_every_set_of_k_fragments_decodes(
    geometry: tuple[int, int], stripes: int
) -> None:
    # Both gather paths (stripe by stripe up to 8 stripes, word columns above).
    bricks, redundancy = geometry
    code = ErasureCode(bricks, redundancy)
    payload = bytes(
        (i * 7 + i // 512) & 0xFF for i in range(stripes * code.stripe_size)
    )
    fragments = code.encode(payload)
    assert all(len(f) == stripes * CHUNK_SIZE for f in fragments)
    if stripes <= 3:
        assert fragments == reference_encode(bricks, redundancy, payload)
    for keep in itertools.combinations(range(bricks), bricks - redundancy):
        assert code.decode({i: fragments[i] for i in keep}) == payload


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(GEOMETRIES), st.data())
def test_any_lost_redundancy_fragments_decode(
    geometry: tuple[int, int], data: st.DataObject
) -> None:
    bricks, redundancy = geometry
    code = ErasureCode(bricks, redundancy)
    stripes = data.draw(st.integers(0, 10))
    payload = data.draw(
        st.binary(
            min_size=stripes * code.stripe_size, max_size=stripes * code.stripe_size
        )
    )
    fragments = code.encode(payload)
    lost = data.draw(st.sets(st.integers(0, bricks - 1), max_size=redundancy))
    assert (
        code.decode({i: f for i, f in enumerate(fragments) if i not in lost}) == payload
    )


@given(
    st.lists(
        st.lists(st.integers(0, 255), min_size=3, max_size=3), min_size=3, max_size=3
    )
)
def test_inverse_matrix_or_singular(matrix: list[list[int]]) -> None:
    try:
        inverse = gf_inverse_matrix(matrix)
    except ErasureCodeError:
        return
    for i in range(3):
        for j in range(3):
            value = 0
            for m in range(3):
                value ^= gf_mul(matrix[i][m], inverse[m][j])
            assert value == int(i == j)


@pytest.mark.parametrize("geometry", [(2, 1), (4, 2), (3, 0), (40, 4), (30, 2)])
def test_geometries_gluster_refuses(geometry: tuple[int, int]) -> None:
    with pytest.raises(ErasureCodeError, match="no disperse code"):
        ErasureCode(*geometry)


@given(st.binary(max_size=3000))
def test_encode_garbage_lengths(payload: bytes) -> None:
    code = ErasureCode(3, 1)
    if len(payload) % code.stripe_size:
        with pytest.raises(ErasureCodeError, match="whole stripes"):
            code.encode(payload)
    else:
        assert len(code.encode(payload)) == 3


@given(st.dictionaries(st.integers(-2, 5), st.binary(max_size=1100), max_size=4))
def test_decode_garbage_gives_our_error(fragments: dict[int, bytes]) -> None:
    code = ErasureCode(3, 1)
    try:
        data = code.decode(fragments)
    except ErasureCodeError:
        return
    # The two lowest brick indexes are the ones decoded.
    used = sorted(i for i in fragments if 0 <= i < 3)[:2]
    assert len(data) == 2 * len(fragments[used[0]])
