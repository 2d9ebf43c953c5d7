"""Gluster's erasure code (cluster/disperse), bit-sliced, in pure Python.

A disperse set of ``n`` bricks with redundancy ``r`` keeps each stripe of
``k = n - r`` chunks of 512 bytes as ``n`` fragments of 512 bytes, one per
brick, any ``k`` of which give the stripe back (docs/topology.md §4.1;
gluster's ``ec-method.c``, ``ec-galois.c``, ``ec-code-c.c``):

* the field is GF(2^8) with the polynomial 0x11D;
* brick ``i`` (from 0) stores ``F_i = sum_j v^(k-1-j) * D_j`` with
  ``v = i + 1`` and ``D_j`` the stripe's ``j``-th chunk (so brick 0 holds the
  XOR of the chunks; no brick holds plain data unless ``k`` is 1);
* the 512 elements of a chunk are *bit-sliced*: the chunk is 8 planes of 64
  bytes, and bit ``p`` of element ``e`` is bit ``e % 8`` of byte ``e // 8``
  of plane ``p``. Multiplying a chunk by a constant ``c`` is then a fixed
  8x8 matrix over GF(2) acting on whole planes: output plane ``b`` is the
  XOR of the input planes ``a`` for which ``c * 2^a`` has bit ``b`` set.

That last point is what makes pure Python fast enough: every plane of a
source, across all the stripes of a buffer, is gathered into one Python
integer, and the code is a short sequence of XORs of those integers, each
running at C speed over the whole buffer. Any reordering of bytes within a
plane leaves the XORs unchanged as long as every plane is reordered the same
way, so the gather is one transpose of the buffer as a matrix of 8-byte words
(a plane's words come out column by column), and the scatter the transpose
back.
"""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING, Final

from pygluster.errors import ErasureCodeError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["CHUNK_SIZE", "ErasureCode", "gf_div", "gf_inverse_matrix", "gf_mul"]

#: ec-galois.c: GF(2^8) modulo x^8 + x^4 + x^3 + x^2 + 1.
GF_POLYNOMIAL: Final = 0x11D
#: ec-method.h EC_METHOD_CHUNK_SIZE: bytes of one fragment per stripe.
CHUNK_SIZE: Final = 512
#: 8-byte words per chunk, and per bit plane (a plane is 64 bytes).
_CHUNK_WORDS: Final = CHUNK_SIZE // 8
_PLANE_WORDS: Final = _CHUNK_WORDS // 8
_PLANE_BYTES: Final = CHUNK_SIZE // 8
#: ec.h: the limits of a disperse set's geometry.
MAX_BRICKS: Final = 31
MAX_DATA_FRAGMENTS: Final = 16


def _tables() -> tuple[tuple[int, ...], tuple[int, ...]]:
    exp = [0] * 512
    log = [0] * 256
    value = 1
    for power in range(255):
        exp[power] = value
        log[value] = power
        value <<= 1
        if value & 0x100:
            value ^= GF_POLYNOMIAL
    for power in range(255, 512):
        exp[power] = exp[power - 255]
    return tuple(exp), tuple(log)


_EXP, _LOG = _tables()


def gf_mul(a: int, b: int) -> int:
    """``a * b`` in GF(2^8)."""
    if a == 0 or b == 0:
        return 0
    return _EXP[_LOG[a] + _LOG[b]]


def gf_div(a: int, b: int) -> int:
    """``a / b`` in GF(2^8); ``b`` must not be 0."""
    if b == 0:
        raise ZeroDivisionError("division by zero in GF(2^8)")
    if a == 0:
        return 0
    return _EXP[_LOG[a] - _LOG[b] + 255]


def gf_pow(a: int, n: int) -> int:
    """``a ** n`` in GF(2^8) (``0 ** 0`` is 1)."""
    if n == 0:
        return 1
    if a == 0:
        return 0
    return _EXP[(_LOG[a] * n) % 255]


def gf_inverse_matrix(matrix: Sequence[Sequence[int]]) -> list[list[int]]:
    """The inverse of a square matrix over GF(2^8) (Gauss-Jordan).

    Raises:
        ErasureCodeError: the matrix is singular.
    """
    size = len(matrix)
    work = [[*row, *(int(i == j) for j in range(size))] for i, row in enumerate(matrix)]
    for column in range(size):
        pivot = next((r for r in range(column, size) if work[r][column]), None)
        if pivot is None:
            raise ErasureCodeError("the matrix is singular")
        work[column], work[pivot] = work[pivot], work[column]
        scale = work[column][column]
        work[column] = [gf_div(x, scale) for x in work[column]]
        for row in range(size):
            factor = work[row][column]
            if row != column and factor:
                work[row] = [
                    x ^ gf_mul(factor, y)
                    for x, y in zip(work[row], work[column], strict=True)
                ]
    return [row[size:] for row in work]


@functools.cache
def _row_plan(row: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """For each output plane ``b`` of ``sum_s row[s] * source_s``: which
    planes of the sources (flattened, source ``s`` plane ``a`` at
    ``8 * s + a``) it is the XOR of. Multiplying by ``c`` maps input plane
    ``a`` to the output planes where ``c * 2^a`` has a bit set."""
    plan: list[list[int]] = [[] for _ in range(8)]
    for source, coefficient in enumerate(row):
        for a in range(8):
            image = gf_mul(coefficient, 1 << a)
            for b in range(8):
                if image >> b & 1:
                    plan[b].append(8 * source + a)
    return tuple(map(tuple, plan))


def _combine(planes: Sequence[int], row: tuple[int, ...]) -> list[int]:
    """The 8 planes of ``sum_s row[s] * source_s``, ``planes`` being the
    sources' planes flattened (8 per source)."""
    pick = planes.__getitem__
    return [
        functools.reduce(operator.xor, map(pick, inputs), 0)
        for inputs in _row_plan(row)
    ]


def _gather(view: memoryview, stripes: int, count: int) -> list[int]:
    """The planes of every chunk of ``view`` (``stripes`` stripes of
    ``count`` chunks): 8 integers per chunk, chunk by chunk.

    One transpose does it: seen as a C-order matrix of 8-byte words, one row
    per stripe, ``view`` read back in Fortran order holds each word column of
    every stripe in turn, so a plane's 8 columns are one slice.
    """
    columns = memoryview(
        view.cast("Q", shape=[stripes, count * _CHUNK_WORDS]).tobytes(order="F")
    )
    size = stripes * _PLANE_BYTES
    return [
        int.from_bytes(columns[at : at + size], "little")
        for at in range(0, len(columns), size)
    ]


def _scatter(planes: Sequence[int], stripes: int) -> bytes:
    """The bytes of ``stripes`` stripes whose chunks have the planes
    ``planes`` (8 per chunk, as :func:`_gather` made them): the transpose
    back."""
    size = stripes * _PLANE_BYTES
    columns = b"".join(p.to_bytes(size, "little") for p in planes)
    rows = len(planes) * _PLANE_WORDS
    return memoryview(columns).cast("Q", shape=[rows, stripes]).tobytes(order="F")


class ErasureCode:
    """The code of one disperse set: ``bricks`` fragments, ``redundancy`` of
    which may be lost.

    Raises:
        ErasureCodeError: a geometry gluster does not allow (``redundancy``
            at least 1, ``2 * redundancy < bricks``, at most 16 data
            fragments and 31 bricks; ec.c ``ec_parse_options``).
    """

    def __init__(self, bricks: int, redundancy: int) -> None:
        data = bricks - redundancy
        if not (
            redundancy >= 1
            and 2 * redundancy < bricks <= MAX_BRICKS
            and data <= MAX_DATA_FRAGMENTS
        ):
            raise ErasureCodeError(
                f"no disperse code has {bricks} bricks with redundancy {redundancy}"
                f" (needs 1 <= redundancy < bricks/2, at most {MAX_DATA_FRAGMENTS}"
                f" data fragments and {MAX_BRICKS} bricks)"
            )
        self.bricks = bricks
        self.redundancy = redundancy
        #: k: the fragments needed to rebuild a stripe.
        self.data_fragments = data
        #: User bytes per stripe (one 512-byte chunk per data fragment).
        self.stripe_size = data * CHUNK_SIZE
        #: Row i: brick i's coefficients for the k chunks of a stripe.
        self.matrix = tuple(
            tuple(gf_pow(i + 1, data - 1 - j) for j in range(data))
            for i in range(bricks)
        )

    def __repr__(self) -> str:
        return f"ErasureCode({self.data_fragments}+{self.redundancy})"

    def encode(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        """The ``bricks`` fragments of ``data`` (whole stripes), in brick order.

        Fragment ``i`` is what brick ``i`` stores at offset
        ``stripe_offset // data_fragments`` for ``data`` at ``stripe_offset``.
        """
        view = memoryview(data).cast("B")
        if len(view) % self.stripe_size:
            raise ErasureCodeError(
                f"{len(view)} bytes are not whole stripes of {self.stripe_size}"
            )
        stripes = len(view) // self.stripe_size
        if stripes == 0:
            return [b""] * self.bricks
        planes = _gather(view, stripes, self.data_fragments)
        return [_scatter(_combine(planes, row), stripes) for row in self.matrix]

    def decode(self, fragments: Mapping[int, bytes | bytearray | memoryview]) -> bytes:
        """The data whose fragments (brick index -> fragment) are given.

        Any ``data_fragments`` of them suffice (the lowest indexes are used);
        all must have the same length, a multiple of 512.
        """
        k = self.data_fragments
        chosen = sorted(i for i in fragments if 0 <= i < self.bricks)[:k]
        if len(chosen) < k:
            raise ErasureCodeError(
                f"{len(chosen)} fragments of {sorted(fragments)} cannot rebuild data"
                f" coded {k}+{self.redundancy}: {k} are needed"
            )
        views = [memoryview(fragments[i]).cast("B") for i in chosen]
        length = len(views[0])
        if any(len(v) != length for v in views) or length % CHUNK_SIZE:
            raise ErasureCodeError(
                "fragments must have one length, a multiple of "
                f"{CHUNK_SIZE}: got {[len(v) for v in views]}"
            )
        stripes = length // CHUNK_SIZE
        if stripes == 0:
            return b""
        planes = [p for v in views for p in _gather(v, stripes, 1)]
        inverse = _decoding_matrix(self.matrix, tuple(chosen))
        return _scatter([p for row in inverse for p in _combine(planes, row)], stripes)


@functools.lru_cache(maxsize=256)
def _decoding_matrix(
    matrix: tuple[tuple[int, ...], ...], rows: tuple[int, ...]
) -> tuple[tuple[int, ...], ...]:
    """The inverse of the rows ``rows`` of ``matrix`` (cached: a set of good
    bricks changes rarely)."""
    return tuple(map(tuple, gf_inverse_matrix([matrix[i] for i in rows])))
