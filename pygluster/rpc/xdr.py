"""Declarative XDR (RFC 4506) codecs over xdrlib3: the only importer of xdrlib3.

A struct is declared once, as a frozen dataclass whose fields carry their wire
codec in ``Annotated``; :func:`struct` reads those annotations once (when the
struct is first encoded or decoded) and builds the pack and unpack paths from
the same list, so the two can never drift apart.
Hypothesis strategies in the tests are derived from the same declarations.

Rules enforced here (style.md §3.3):

* Validate on encode: xdrlib3 masks (``pack_uhyper``) or truncates
  (``pack_fstring``) silently, so every codec range-checks before packing.
* Translate on decode: any ``xdrlib3.Error``, ``EOFError``, ``struct.error``,
  ``ValueError``, ``TypeError`` or ``IndexError`` raised while packing or
  unpacking becomes :class:`~pygluster.errors.XdrError` at the two entry
  points, :func:`encode` and :func:`decode_prefix` (``_LIBRARY_ERRORS``).
* Bulk READ/WRITE payloads never come here; the connection slices them.
"""

from __future__ import annotations

import dataclasses
import enum
import operator
import reprlib
import struct as _struct
import sys
import types
import typing
from abc import ABC, abstractmethod
from typing import Annotated, Any, Generic, TypeAlias, TypeVar, cast

import xdrlib3

from pygluster.errors import XdrError

if typing.TYPE_CHECKING:
    from collections.abc import Mapping

    from pygluster._types import BytesLike

__all__ = [
    "BOOL",
    "DOUBLE",
    "HYPER",
    "INT",
    "UHYPER",
    "UINT",
    "VOID",
    "Array",
    "Codec",
    "Enum",
    "FixedArray",
    "FixedOpaque",
    "LinkedList",
    "Opaque",
    "Optional",
    "Packer",
    "String",
    "Union",
    "UnionArm",
    "Unpacker",
    "as_codec",
    "codec_of",
    "decode",
    "decode_prefix",
    "encode",
    "fields_of",
    "is_struct",
    "struct",
    "unfused",
]

T = TypeVar("T")
E = TypeVar("E", bound=enum.IntEnum)
S = TypeVar("S")

#: XdrError under a name codec modules can raise without importing errors.
XdrErrorType = XdrError
# Re-exported so that no other module imports xdrlib3 (style.md §3.3).
Packer = xdrlib3.Packer
Unpacker = xdrlib3.Unpacker

_UINT32_MAX = 2**32 - 1
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_UINT64_MAX = 2**64 - 1
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


#: What the codecs below may raise from xdrlib3, struct and friends; the one
#: funnel (httpcore map_exceptions) turns each into an XdrError.
_LIBRARY_ERRORS = (
    xdrlib3.Error,
    EOFError,
    _struct.error,
    ValueError,
    TypeError,
    IndexError,
    OverflowError,
    RecursionError,
)


def _translated(action: str, exc: BaseException) -> XdrError:
    detail = str(exc) or type(exc).__name__
    return XdrError(f"{action}: {detail}")


class Codec(ABC, Generic[T]):
    """How one XDR type packs and unpacks.

    Subclasses validate in :meth:`pack` before touching the packer, and may
    raise anything from :meth:`unpack`; the public entry points translate.
    """

    __slots__ = ()

    @abstractmethod
    def pack(self, p: xdrlib3.Packer, v: T) -> None:
        """Append ``v`` to ``p``, or raise XdrError if it is out of range."""

    @abstractmethod
    def unpack(self, u: xdrlib3.Unpacker) -> T:
        """Read one value from ``u``."""


def _check_int(v: object, lo: int, hi: int, what: str) -> int:
    # bool is an int subclass; refuse it so a wrong field type is caught.
    if not isinstance(v, int) or isinstance(v, bool):
        raise XdrError(f"{what} must be an int, not {type(v).__name__}")
    if not lo <= v <= hi:
        raise XdrError(f"{what} value {v} is outside [{lo}, {hi}]")
    return v


class _UInt(Codec[int]):
    __slots__ = ()

    def pack(self, p: xdrlib3.Packer, v: int) -> None:
        p.pack_uint(_check_int(v, 0, _UINT32_MAX, "unsigned int"))

    def unpack(self, u: xdrlib3.Unpacker) -> int:
        return u.unpack_uint()

    def __repr__(self) -> str:
        return "UINT"


class _Int(Codec[int]):
    __slots__ = ()

    def pack(self, p: xdrlib3.Packer, v: int) -> None:
        p.pack_int(_check_int(v, _INT32_MIN, _INT32_MAX, "int"))

    def unpack(self, u: xdrlib3.Unpacker) -> int:
        return u.unpack_int()

    def __repr__(self) -> str:
        return "INT"


class _UHyper(Codec[int]):
    __slots__ = ()

    def pack(self, p: xdrlib3.Packer, v: int) -> None:
        p.pack_uhyper(_check_int(v, 0, _UINT64_MAX, "unsigned hyper"))

    def unpack(self, u: xdrlib3.Unpacker) -> int:
        return u.unpack_uhyper()

    def __repr__(self) -> str:
        return "UHYPER"


class _Hyper(Codec[int]):
    __slots__ = ()

    def pack(self, p: xdrlib3.Packer, v: int) -> None:
        # xdrlib3's pack_hyper is pack_uhyper: mask negative values ourselves
        # after the range check, so -1 goes out as ffffffff ffffffff.
        v = _check_int(v, _INT64_MIN, _INT64_MAX, "hyper")
        p.pack_uhyper(v & _UINT64_MAX)

    def unpack(self, u: xdrlib3.Unpacker) -> int:
        return u.unpack_hyper()

    def __repr__(self) -> str:
        return "HYPER"


class _Bool(Codec[bool]):
    __slots__ = ()

    def pack(self, p: xdrlib3.Packer, v: bool) -> None:
        if not isinstance(v, bool):
            raise XdrError(f"bool must be a bool, not {type(v).__name__}")
        p.pack_bool(v)

    def unpack(self, u: xdrlib3.Unpacker) -> bool:
        value = u.unpack_uint()
        if value not in (0, 1):
            raise XdrError(f"bool value {value} is neither 0 nor 1")
        return bool(value)

    def __repr__(self) -> str:
        return "BOOL"


class _Double(Codec[float]):
    __slots__ = ()

    def pack(self, p: xdrlib3.Packer, v: float) -> None:
        if not isinstance(v, float):
            raise XdrError(f"double must be a float, not {type(v).__name__}")
        p.pack_double(v)

    def unpack(self, u: xdrlib3.Unpacker) -> float:
        return u.unpack_double()

    def __repr__(self) -> str:
        return "DOUBLE"


class _Void(Codec[None]):
    """XDR ``void``: nothing on the wire (PING's arguments)."""

    __slots__ = ()

    def pack(self, p: xdrlib3.Packer, v: None) -> None:
        if v is not None:
            raise XdrError("void takes no value")

    def unpack(self, u: xdrlib3.Unpacker) -> None:
        return None

    def __repr__(self) -> str:
        return "VOID"


UINT: Codec[int] = _UInt()
INT: Codec[int] = _Int()
UHYPER: Codec[int] = _UHyper()
HYPER: Codec[int] = _Hyper()
BOOL: Codec[bool] = _Bool()
DOUBLE: Codec[float] = _Double()
VOID: Codec[None] = _Void()


def _as_bytes(v: object, what: str) -> bytes:
    if isinstance(v, bytes):
        return v
    if isinstance(v, bytearray | memoryview):
        return bytes(v)
    raise XdrError(f"{what} must be bytes, not {type(v).__name__}")


def _unpack_exact(u: xdrlib3.Unpacker, n: int) -> bytes:
    # unpack_fopaque slices the buffer, which is a memoryview when decoding a
    # record in place; copy out so values never pin the receive buffer.
    data = u.unpack_fopaque(n)
    if len(data) != n:
        raise EOFError
    return bytes(data)


class FixedOpaque(Codec[bytes]):
    """``opaque name[n]``: exactly n bytes, padded to 4, no length word."""

    __slots__ = ("size",)

    def __init__(self, size: int) -> None:
        self.size = size

    def pack(self, p: xdrlib3.Packer, v: bytes) -> None:
        data = _as_bytes(v, "fixed opaque")
        if len(data) != self.size:
            raise XdrError(f"fixed opaque needs {self.size} bytes, got {len(data)}")
        p.pack_fopaque(self.size, data)

    def unpack(self, u: xdrlib3.Unpacker) -> bytes:
        return _unpack_exact(u, self.size)

    def __repr__(self) -> str:
        return f"FixedOpaque({self.size})"


class _Bounded:
    __slots__ = ("max",)

    def __init__(self, max: int | None = None) -> None:  # noqa: A002 - the .x word
        self.max = max

    def _check_length(self, n: int, what: str) -> None:
        if self.max is not None and n > self.max:
            raise XdrError(f"{what} length {n} exceeds its maximum {self.max}")


class Opaque(_Bounded, Codec[bytes]):
    """``opaque name<max>``: u32 length, the bytes, zero padding to 4."""

    __slots__ = ()

    def pack(self, p: xdrlib3.Packer, v: bytes) -> None:
        data = _as_bytes(v, "opaque")
        self._check_length(len(data), "opaque")
        _check_int(len(data), 0, _UINT32_MAX, "opaque length")
        p.pack_opaque(data)

    def unpack(self, u: xdrlib3.Unpacker) -> bytes:
        n = u.unpack_uint()
        self._check_length(n, "opaque")
        return _unpack_exact(u, n)

    def __repr__(self) -> str:
        return f"Opaque({self.max})"


class String(_Bounded, Codec[str]):
    """``string name<max>`` as ``str``.

    Gluster strings are C strings of arbitrary bytes (file names, volfile
    text); UTF-8 with ``surrogateescape`` maps every byte string to a ``str``
    and back unchanged.
    """

    __slots__ = ()

    def pack(self, p: xdrlib3.Packer, v: str) -> None:
        if not isinstance(v, str):
            raise XdrError(f"string must be a str, not {type(v).__name__}")
        data = v.encode("utf-8", "surrogateescape")
        self._check_length(len(data), "string")
        p.pack_string(data)

    def unpack(self, u: xdrlib3.Unpacker) -> str:
        n = u.unpack_uint()
        self._check_length(n, "string")
        return _unpack_exact(u, n).decode("utf-8", "surrogateescape")

    def __repr__(self) -> str:
        return f"String({self.max})"


class Array(_Bounded, Codec[tuple[T, ...]], Generic[T]):
    """``T name<max>``: u32 count, then the elements."""

    __slots__ = ("item",)

    def __init__(self, item: Codec[T], max: int | None = None) -> None:  # noqa: A002
        super().__init__(max)
        self.item = item

    def pack(self, p: xdrlib3.Packer, v: tuple[T, ...]) -> None:
        if not isinstance(v, tuple | list):
            raise XdrError(f"array must be a tuple, not {type(v).__name__}")
        self._check_length(len(v), "array")
        p.pack_uint(len(v))
        for element in v:
            self.item.pack(p, element)

    def unpack(self, u: xdrlib3.Unpacker) -> tuple[T, ...]:
        n = u.unpack_uint()
        self._check_length(n, "array")
        # Each element takes at least 4 bytes on the wire (XDR alignment), so a
        # count larger than the bytes left is garbage: refuse before looping.
        _check_room(u, n * 4)
        return tuple(self.item.unpack(u) for _ in range(n))

    def __repr__(self) -> str:
        return f"Array({self.item!r}, {self.max})"


class FixedArray(Codec[tuple[T, ...]], Generic[T]):
    """``T name[n]``: exactly n elements, no count word."""

    __slots__ = ("item", "size")

    def __init__(self, item: Codec[T], size: int) -> None:
        self.item = item
        self.size = size

    def pack(self, p: xdrlib3.Packer, v: tuple[T, ...]) -> None:
        if not isinstance(v, tuple | list) or len(v) != self.size:
            raise XdrError(f"fixed array needs exactly {self.size} elements")
        for element in v:
            self.item.pack(p, element)

    def unpack(self, u: xdrlib3.Unpacker) -> tuple[T, ...]:
        return tuple(self.item.unpack(u) for _ in range(self.size))

    def __repr__(self) -> str:
        return f"FixedArray({self.item!r}, {self.size})"


class Optional(Codec[T | None], Generic[T]):
    """``T *name``: u32 0 (absent) or 1 followed by the value."""

    __slots__ = ("item",)

    def __init__(self, item: Codec[T]) -> None:
        self.item = item

    def pack(self, p: xdrlib3.Packer, v: T | None) -> None:
        if v is None:
            p.pack_uint(0)
        else:
            p.pack_uint(1)
            self.item.pack(p, v)

    def unpack(self, u: xdrlib3.Unpacker) -> T | None:
        present = u.unpack_uint()
        if present == 0:
            return None
        if present != 1:
            raise XdrError(f"optional-data flag {present} is neither 0 nor 1")
        return self.item.unpack(u)

    def __repr__(self) -> str:
        return f"Optional({self.item!r})"


class LinkedList(Codec[tuple[T, ...]], Generic[T]):
    """A ``struct x { ...; x *next; }`` chain flattened to a tuple.

    On the wire: for each element u32 1 then the element's fields; u32 0 ends
    the chain (``rpc-common-xdr.x gf_prog_detail``, readdir entries). The
    element codec declares the fields *without* the ``next`` pointer.
    """

    __slots__ = ("item", "max")

    def __init__(self, item: Codec[T], max: int | None = None) -> None:  # noqa: A002
        self.item = item
        self.max = max

    def pack(self, p: xdrlib3.Packer, v: tuple[T, ...]) -> None:
        if not isinstance(v, tuple | list):
            raise XdrError(f"list must be a tuple, not {type(v).__name__}")
        if self.max is not None and len(v) > self.max:
            raise XdrError(f"list length {len(v)} exceeds its maximum {self.max}")
        for element in v:
            p.pack_uint(1)
            self.item.pack(p, element)
        p.pack_uint(0)

    def unpack(self, u: xdrlib3.Unpacker) -> tuple[T, ...]:
        items: list[T] = []
        while True:
            present = u.unpack_uint()
            if present == 0:
                return tuple(items)
            if present != 1:
                raise XdrError(f"list continuation flag {present} is neither 0 nor 1")
            if self.max is not None and len(items) >= self.max:
                raise XdrError(f"list longer than its maximum {self.max}")
            items.append(self.item.unpack(u))

    def __repr__(self) -> str:
        return f"LinkedList({self.item!r})"


class Enum(Codec[E], Generic[E]):
    """An XDR ``enum`` as a Python IntEnum; unknown values are an XdrError."""

    __slots__ = ("enum_type",)

    def __init__(self, enum_type: type[E]) -> None:
        self.enum_type = enum_type

    def pack(self, p: xdrlib3.Packer, v: E) -> None:
        if not isinstance(v, self.enum_type):
            raise XdrError(f"{v!r} is not a {self.enum_type.__name__}")
        p.pack_int(_check_int(int(v), _INT32_MIN, _INT32_MAX, "enum"))

    def unpack(self, u: xdrlib3.Unpacker) -> E:
        value = u.unpack_int()
        try:
            return self.enum_type(value)
        except ValueError:
            raise XdrError(
                f"{value} is not a valid {self.enum_type.__name__}"
            ) from None

    def __repr__(self) -> str:
        return f"Enum({self.enum_type.__name__})"


@dataclasses.dataclass(frozen=True, slots=True)
class UnionArm:
    """A decoded discriminated union: which arm, and that arm's value."""

    discriminant: int
    value: Any


class Union(Codec[UnionArm]):
    """A discriminated union: an ``int`` discriminant selects the arm codec.

    ``arms`` maps discriminant values to codecs; a discriminant with no arm
    and no ``default`` is an XdrError (pynfs "bad switch").
    """

    __slots__ = ("arms", "default", "name")

    def __init__(
        self,
        name: str,
        arms: Mapping[int, Codec[Any]],
        default: Codec[Any] | None = None,
    ) -> None:
        self.name = name
        self.arms = dict(arms)
        self.default = default

    def _arm(self, discriminant: int) -> Codec[Any]:
        arm = self.arms.get(discriminant, self.default)
        if arm is None:
            raise XdrError(f"{self.name}: no arm for discriminant {discriminant}")
        return arm

    def pack(self, p: xdrlib3.Packer, v: UnionArm) -> None:
        if not isinstance(v, UnionArm):
            raise XdrError(f"{self.name} value must be a UnionArm")
        arm = self._arm(v.discriminant)
        INT.pack(p, v.discriminant)
        arm.pack(p, v.value)

    def unpack(self, u: xdrlib3.Unpacker) -> UnionArm:
        discriminant = INT.unpack(u)
        return UnionArm(discriminant, self._arm(discriminant).unpack(u))

    def __repr__(self) -> str:
        return f"Union({self.name})"


def _check_room(u: xdrlib3.Unpacker, needed: int) -> None:
    left = len(u.get_buffer()) - u.get_position()
    if needed > left:
        raise XdrError(f"needs at least {needed} more bytes, only {left} left")


# --- declared structs -------------------------------------------------------


def _fixed_format(codec: Codec[Any]) -> str | None:
    """The ``struct`` format of a fixed-width primitive codec, else None."""
    if codec is UINT:
        return "I"
    if codec is INT:
        return "i"
    if codec is UHYPER:
        return "Q"
    if codec is HYPER:
        return "q"
    if isinstance(codec, FixedOpaque) and codec.size % 4 == 0:
        return f"{codec.size}s"
    return None


def _fixed_parts(codec: Codec[Any]) -> list[str] | None:
    """The ``struct`` formats a fixed-width codec packs as, else None.

    One for a primitive; one per leaf for a struct whose fields are all
    fixed-width (nested ones too), so that it can join its parent's run.
    """
    fmt = _fixed_format(codec)
    if fmt is not None:
        return [fmt]
    if isinstance(codec, _StructCodec):
        parts: list[str] = []
        for _, inner in codec.fields:
            inner_parts = _fixed_parts(inner)
            if inner_parts is None:
                return None
            parts += inner_parts
        return parts or None
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class _FixedRun:
    """Consecutive fixed-width fields packed/unpacked with one ``struct.Struct``.

    The fast path of style.md §3.3: dnspython's ``get_struct``/hyperframe's
    precompiled headers, behind the same declaration. A differential test
    proves it equal to the field-by-field path.

    A nested struct whose fields are all fixed-width (``gfx_iattx`` inside
    ``gfx_read_rsp``) is flattened into the run: one ``unpack_from`` reads
    a READ reply's op_ret, op_errno, the 22 iatt fields and the size.
    """

    layout: _struct.Struct
    names: tuple[str, ...]  # the run's fields (a nested struct is one)
    nested: tuple[_StructCodec[Any] | None, ...]  # per field: struct, or None
    widths: tuple[int, ...]  # per field: how many flat values it spans
    flat: bool  # no nested structs: names map 1:1 onto the values
    byte_fields: tuple[tuple[int, int], ...]  # (flat index, exact length)

    def values(self, flat: tuple[Any, ...]) -> dict[str, Any]:
        """The run's field values from its unpacked flat tuple."""
        if self.flat:
            return dict(zip(self.names, flat, strict=True))
        out: dict[str, Any] = {}
        index = 0
        for name, nested, width in zip(
            self.names, self.nested, self.widths, strict=True
        ):
            if nested is None:
                out[name] = flat[index]
            else:
                out[name] = nested.from_flat(flat[index : index + width])
            index += width
        return out


_Step: TypeAlias = "_FixedRun | tuple[str, Codec[Any]]"


class _StructCodec(Codec[S]):
    """Packs/unpacks a declared dataclass field by field, in declaration order.

    Runs of fixed-width fields (ints, hypers, opaque[n]) are fused into one
    precompiled ``struct.Struct`` each (``fused=False`` keeps the plain
    field-by-field path, which the tests compare against). Without
    ``fields``, the field codecs are read from the class's annotations on
    first use (see :func:`struct`).
    """

    __slots__ = ("_fields", "_fused", "_setters", "_steps", "cls")

    def __init__(
        self,
        cls: type[S],
        fields: tuple[tuple[str, Codec[Any]], ...] | None = None,
        *,
        fused: bool = True,
    ) -> None:
        self.cls = cls
        self._fused = fused
        self._setters: tuple[typing.Callable[[Any, Any], None], ...] | None = None
        self._fields = fields
        self._steps: tuple[_Step, ...] | None = None
        if fields is not None:
            self._steps = _plan(fields) if fused else fields

    @property
    def fields(self) -> tuple[tuple[str, Codec[Any]], ...]:
        """(field name, codec) pairs, in wire order."""
        return self._fields if self._fields is not None else self._resolve()[0]

    @property
    def steps(self) -> tuple[_Step, ...]:
        """The fields, with fixed-width runs fused when ``fused``."""
        return self._steps if self._steps is not None else self._resolve()[1]

    def _resolve(self) -> tuple[tuple[tuple[str, Codec[Any]], ...], tuple[_Step, ...]]:
        # Idempotent, so two threads racing here only do the work twice.
        fields = _plain_struct_fields(self.cls)
        steps = _plan(fields) if self._fused else fields
        self._fields, self._steps = fields, steps
        return fields, steps

    def pack(self, p: xdrlib3.Packer, v: S) -> None:
        if not isinstance(v, self.cls):
            raise XdrError(f"expected {self.cls.__name__}, got {type(v).__name__}")
        steps = self._steps if self._steps is not None else self._resolve()[1]
        for step in steps:
            if isinstance(step, _FixedRun):
                p.pack_fopaque(step.layout.size, self._pack_run(step, v))
                continue
            name, codec = step
            try:
                codec.pack(p, getattr(v, name))
            except XdrError as exc:
                raise XdrError(f"{self.cls.__name__}.{name}: {exc}") from exc

    def _pack_run(self, run: _FixedRun, v: S) -> bytes:
        values = [getattr(v, name) for name in run.names]
        if not run.flat:
            values = self._flatten(run, values)
        for index, size in run.byte_fields:
            # struct's "Ns" pads or truncates silently: check the length.
            data = values[index]
            if (
                not isinstance(data, bytes | bytearray | memoryview)
                or len(data) != size
            ):
                self._pack_fields_one_by_one(run, v)  # names the culprit
                FixedOpaque(size).pack(xdrlib3.Packer(), data)  # raises
        for value in values:
            if isinstance(value, bool):
                self._pack_fields_one_by_one(run, v)
                raise XdrError(f"{self.cls.__name__}: bool is not an int")
        try:
            return run.layout.pack(*values)
        except _struct.error:
            # Out of range: let the field codecs name the culprit.
            self._pack_fields_one_by_one(run, v)
            raise

    def _flatten(self, run: _FixedRun, values: list[Any]) -> list[Any]:
        flat: list[Any] = []
        for name, nested, value in zip(run.names, run.nested, values, strict=True):
            if nested is None:
                flat.append(value)
            elif isinstance(value, nested.cls):
                flat += nested.flat_values(value)
            else:
                raise XdrError(
                    f"{self.cls.__name__}.{name}: expected "
                    f"{nested.cls.__name__}, got {type(value).__name__}"
                )
        return flat

    def _pack_fields_one_by_one(self, run: _FixedRun, v: S) -> None:
        """Pack the run's fields with their own codecs, for their errors."""
        for name, codec in self.fields:
            if name in run.names:
                value = getattr(v, name)
                if isinstance(value, bool) and _fixed_format(codec) is not None:
                    raise XdrError(f"{self.cls.__name__}.{name}: bool is not an int")
                try:
                    codec.pack(xdrlib3.Packer(), value)
                except XdrError as exc:
                    raise XdrError(f"{self.cls.__name__}.{name}: {exc}") from exc

    def flat_values(self, v: S) -> list[Any]:
        """A fully fixed-width struct's leaf values, in wire order."""
        (run,) = self.steps
        assert isinstance(run, _FixedRun)
        values = [getattr(v, name) for name in run.names]
        return values if run.flat else self._flatten(run, values)

    def from_flat(self, flat: tuple[Any, ...]) -> S:
        """A fully fixed-width struct built from its leaf values."""
        (run,) = self.steps
        assert isinstance(run, _FixedRun)
        if not run.flat:
            return self.cls(**run.values(flat))
        setters = self._setters
        if setters is None:
            setters = self._setters = _slot_setters(self.cls, run.names)
        if not setters:
            return self.cls(**run.values(flat))
        # What the frozen dataclass __init__ does, minus keyword matching
        # (22 fields of an iatt per READ reply, two per WRITE reply).
        value: S = object.__new__(self.cls)
        for setter, item in zip(setters, flat, strict=True):
            setter(value, item)
        return value

    def unpack(self, u: xdrlib3.Unpacker) -> S:
        values: dict[str, Any] = {}
        steps = self._steps if self._steps is not None else self._resolve()[1]
        for step in steps:
            if isinstance(step, _FixedRun):
                position = u.get_position()
                values.update(
                    step.values(step.layout.unpack_from(u.get_buffer(), position))
                )
                u.set_position(position + step.layout.size)
            else:
                name, codec = step
                values[name] = codec.unpack(u)
        return self.cls(**values)

    def __repr__(self) -> str:
        return self.cls.__name__


def _slot_setters(
    cls: type[Any], names: tuple[str, ...]
) -> tuple[typing.Callable[[Any, Any], None], ...]:
    """The slot descriptors' setters of ``names``, or () if ``cls`` cannot be
    built that way (no slots, or an ``__init__`` that does more than store)."""
    if hasattr(cls, "__post_init__"):
        return ()
    setters = []
    for name in names:
        descriptor = cls.__dict__.get(name)
        if not isinstance(descriptor, types.MemberDescriptorType):
            return ()
        setters.append(descriptor.__set__)
    return tuple(setters)


def _plan(fields: tuple[tuple[str, Codec[Any]], ...]) -> tuple[_Step, ...]:
    steps: list[_Step] = []
    run: list[tuple[str, Codec[Any], list[str]]] = []

    def close_run() -> None:
        formats = [fmt for _, _, parts in run for fmt in parts]
        if len(formats) >= 2:
            nested = tuple(
                codec if isinstance(codec, _StructCodec) else None
                for _, codec, _ in run
            )
            steps.append(
                _FixedRun(
                    _struct.Struct(">" + "".join(formats)),
                    tuple(name for name, _, _ in run),
                    nested,
                    tuple(len(parts) for _, _, parts in run),
                    all(n is None for n in nested),
                    tuple(
                        (i, int(fmt[:-1]))
                        for i, fmt in enumerate(formats)
                        if fmt.endswith("s")
                    ),
                )
            )
        else:
            steps.extend((name, codec) for name, codec, _ in run)
        run.clear()

    for name, codec in fields:
        parts = _fixed_parts(codec)
        if parts is None:
            close_run()
            steps.append((name, codec))
        else:
            run.append((name, codec, parts))
    close_run()
    return tuple(steps)


def unfused(cls: type[Any]) -> Codec[Any]:
    """The plain field-by-field codec of a declared struct (for tests)."""
    return _StructCodec(cls, fields_of(cls), fused=False)


_CODEC_ATTR = "__xdr_codec__"


def is_struct(cls: object) -> bool:
    """True for classes declared with :func:`struct`."""
    return isinstance(cls, type) and _CODEC_ATTR in cls.__dict__


def codec_of(cls: type[S]) -> Codec[S]:
    """The codec of a declared struct class."""
    codec = cls.__dict__.get(_CODEC_ATTR)
    if codec is None:
        raise TypeError(f"{cls.__name__} is not an @xdr.struct")
    return cast("Codec[S]", codec)


def fields_of(cls: type[Any]) -> tuple[tuple[str, Codec[Any]], ...]:
    """(field name, codec) pairs of a declared struct, in wire order."""
    return cast("_StructCodec[Any]", codec_of(cls)).fields


def as_codec(spec: object) -> Codec[Any]:
    """A codec from ``Annotated`` metadata: a Codec, or a declared struct class."""
    if isinstance(spec, Codec):
        return spec
    if is_struct(spec):
        return codec_of(cast("type[Any]", spec))
    raise TypeError(f"{spec!r} is not an XDR codec")


# --- the dataclass behind @struct ----------------------------------------------
#
# A fresh interpreter that opens an image declares ~80 structs and uses about
# twenty, so declaring one must be cheap. dataclasses.dataclass(frozen=True,
# slots=True) is not on Python 3.11: it compiles each of the six methods it
# writes with its own exec(), and evaluating the string annotations compiles
# each one again; together that was most of the package's import time. So a
# plain declaration (every struct of the rpc layer, see _plain_field_names)
# gets its slotted class built here, with shared closures for __repr__,
# __eq__, __hash__, the frozen __setattr__/__delattr__ and pickling, and what
# needs compiling waits for first use: __init__ (generated source, as
# dataclasses writes it, so the decode hot path stays fast and introspection
# sees the real signature), the Field objects and the field codecs. The class
# behaves like the dataclass: fields()/replace()/asdict() work, assignment
# raises FrozenInstanceError, equal values hash equal, instances pickle. Any
# other declaration gets the real dataclass.


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _FrozenTemplate:
    """Lends its ``__dataclass_params__`` to every plain struct (the same)."""


_FROZEN_PARAMS = _FrozenTemplate.__dataclass_params__  # type: ignore[attr-defined]

# What a plain struct's class body must not define: @struct writes them.
_GENERATED = frozenset(
    {
        "__init__",
        "__repr__",
        "__eq__",
        "__hash__",
        "__setattr__",
        "__delattr__",
        "__getstate__",
        "__setstate__",
        "__replace__",
        "__slots__",
        "__match_args__",
    }
)


def _plain_field_names(cls: type[Any]) -> tuple[str, ...] | None:
    """The field names of a plain declaration, else None.

    Plain: documented, no base class, none of the generated methods, no
    default values, and every field annotated ``Annotated[...]`` (typing's)
    in a string. dataclasses would make every field a required keyword-only
    argument that is shown, compared and hashed, and every field certainly
    has a codec, so evaluating the annotations can wait.
    """
    namespace = cls.__dict__
    if cls.__bases__ != (object,) or not namespace.get("__doc__"):
        return None
    if not _GENERATED.isdisjoint(namespace):
        return None
    module = sys.modules.get(cls.__module__)
    if module is None or getattr(module, "Annotated", None) is not Annotated:
        return None
    annotations: dict[str, Any] = namespace.get("__annotations__", {})
    for name, text in annotations.items():
        if name in namespace or not (
            isinstance(text, str) and text.startswith("Annotated[")
        ):
            return None
    return tuple(annotations)


def _values_getter(names: tuple[str, ...]) -> typing.Callable[[Any], tuple[Any, ...]]:
    # attrgetter returns a tuple only for two or more names.
    if len(names) >= 2:
        return operator.attrgetter(*names)
    if names:
        get_one = operator.attrgetter(names[0])
        return lambda obj: (get_one(obj),)
    return lambda obj: ()


def _struct_methods(cls: type[Any], names: tuple[str, ...]) -> dict[str, Any]:
    """__repr__, __eq__, __hash__, frozen __setattr__/__delattr__, pickling."""
    values = _values_getter(names)

    @reprlib.recursive_repr()
    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({inner})"

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(values(self) == values(other))
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(values(self))

    def __setattr__(self: Any, name: str, value: object) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    def __getstate__(self: Any) -> list[Any]:
        return list(values(self))

    def __setstate__(self: Any, state: list[Any]) -> None:
        for name, value in zip(names, state, strict=True):
            object.__setattr__(self, name, value)

    methods: dict[str, Any] = {
        "__repr__": __repr__,
        "__eq__": __eq__,
        "__hash__": __hash__,
        "__setattr__": __setattr__,
        "__delattr__": __delattr__,
        "__getstate__": __getstate__,
        "__setstate__": __setstate__,
    }
    if sys.version_info >= (3, 13):  # where dataclasses support copy.replace()

        def __replace__(self: Any, /, **changes: Any) -> Any:
            return dataclasses.replace(self, **changes)

        methods["__replace__"] = __replace__
    for name, method in methods.items():
        method.__qualname__ = f"{cls.__qualname__}.{name}"
    return methods


def _struct_init(cls: type[Any]) -> typing.Callable[..., None]:
    """The ``__init__`` dataclasses writes for a plain struct."""
    names: tuple[str, ...] = cls.__slots__
    body = [f"    __xdr_setattr(self, {name!r}, {name})" for name in names]
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    params = ", ".join(["self", *(["*", *names] if names else [])])
    source = f"def __init__({params}):\n" + ("\n".join(body) or "    pass")
    namespace: dict[str, Any] = {"__xdr_setattr": object.__setattr__}
    exec(source, namespace)  # source made of field names only, as dataclasses does
    init: typing.Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    annotations = vars(cls).get("__annotations__", {})
    init.__annotations__ = {name: annotations[name] for name in names}
    init.__annotations__["return"] = None
    return init


class _LazyInit:
    """A plain struct's ``__init__`` until something first looks it up.

    Every way to reach ``__init__`` goes through this descriptor (creating an
    instance, ``inspect.signature``, ``dataclasses.replace``), which compiles
    the real one, puts it on the class in its place and hands that over.
    """

    __slots__ = ("cls",)

    def __init__(self, cls: type[Any]) -> None:
        self.cls = cls

    def __get__(self, obj: object, owner: type[Any] | None = None) -> Any:
        cls = self.cls
        init = cls.__dict__["__init__"]
        if init is self:
            init = _struct_init(cls)
            cls.__init__ = init
        return init.__get__(obj, owner)


class _LazyFields:
    """A plain struct's ``__dataclass_fields__`` until first looked up.

    dataclasses makes the Field objects from a stand-in class with the same
    annotations (the struct already has its slots and methods); they then
    replace this descriptor on the struct.
    """

    __slots__ = ("cls",)

    def __init__(self, cls: type[Any]) -> None:
        self.cls = cls

    def __get__(self, obj: object, owner: type[Any] | None = None) -> Any:
        cls = self.cls
        fields = cls.__dict__["__dataclass_fields__"]
        if fields is self:
            stand_in = type(
                cls.__name__,
                (),
                {
                    "__module__": cls.__module__,
                    "__qualname__": cls.__qualname__,
                    "__doc__": cls.__doc__,
                    "__annotations__": vars(cls).get("__annotations__", {}),
                },
            )
            dataclasses.dataclass(kw_only=True)(stand_in)
            fields = stand_in.__dataclass_fields__  # type: ignore[attr-defined]
            cls.__dataclass_fields__ = fields
        return fields


def _plain_struct_class(cls: type[S], names: tuple[str, ...]) -> type[S]:
    """``dataclass(frozen=True, slots=True, kw_only=True)(cls)``, cheaply."""
    namespace = {
        key: value
        for key, value in cls.__dict__.items()
        if key not in ("__dict__", "__weakref__")
    }
    namespace["__slots__"] = names
    namespace["__match_args__"] = ()  # all keyword-only
    namespace["__dataclass_params__"] = _FROZEN_PARAMS
    metaclass: type[Any] = type(cls)
    built: type[S] = metaclass(cls.__name__, cls.__bases__, namespace)
    built.__qualname__ = cls.__qualname__
    methods = {
        "__init__": _LazyInit(built),
        "__dataclass_fields__": _LazyFields(built),
        **_struct_methods(built, names),
    }
    for name, method in methods.items():
        setattr(built, name, method)
    return built


# (module name, annotation text) -> its value. The structs of a module spell
# their fields with a dozen different annotations between them, so evaluating
# each text once (not once per struct) is most of the cost of first use.
_PLAIN_ANNOTATIONS: dict[tuple[str, str], Any] = {}


def _plain_struct_fields(cls: type[Any]) -> tuple[tuple[str, Codec[Any]], ...]:
    """(field name, codec) pairs of a plain struct, from its annotations.

    They are evaluated in the module's namespace: the class body's own names,
    which typing.get_type_hints would also see, could only shadow builtins
    with slot descriptors.
    """
    module = cls.__module__
    annotations: dict[str, str] = vars(cls)["__annotations__"]
    fields: list[tuple[str, Codec[Any]]] = []
    for name in cls.__slots__:
        key = (module, annotations[name])
        hint = _PLAIN_ANNOTATIONS.get(key)
        if hint is None:
            hint = eval(key[1], sys.modules[module].__dict__)  # a declared annotation
            _PLAIN_ANNOTATIONS[key] = hint
        fields.append((name, as_codec(hint.__metadata__[0])))
    return tuple(fields)


def _struct_fields(cls: type[Any]) -> tuple[tuple[str, Codec[Any]], ...]:
    """(field name, codec) pairs of any declared struct, from its annotations."""
    hints = typing.get_type_hints(cls, include_extras=True)
    fields: list[tuple[str, Codec[Any]]] = []
    for name in (f.name for f in dataclasses.fields(cls)):
        hint = hints[name]
        if typing.get_origin(hint) is not Annotated:
            raise TypeError(f"{cls.__name__}.{name} has no XDR codec")
        fields.append((name, as_codec(hint.__metadata__[0])))
    return tuple(fields)


@typing.dataclass_transform(frozen_default=True, kw_only_default=True)
def struct(cls: type[S]) -> type[S]:
    """Declare an XDR struct: a frozen, slotted, keyword-only dataclass.

    Every field must be ``Annotated[python_type, codec]``, where the codec is
    a :class:`Codec` or another declared struct class. Fields are packed in
    declaration order, which must be the order of the ``.x`` struct named in
    the class docstring. Declaring is cheap: what needs compiling is done on
    first use (see the comment above).
    """
    names = _plain_field_names(cls)
    if names is not None:
        data_cls = _plain_struct_class(cls, names)
        setattr(data_cls, _CODEC_ATTR, _StructCodec(data_cls))
        return data_cls
    data_cls = dataclasses.dataclass(frozen=True, slots=True, kw_only=True)(cls)
    setattr(data_cls, _CODEC_ATTR, _StructCodec(data_cls, _struct_fields(data_cls)))
    return data_cls


# --- entry points -------------------------------------------------------------


def encode(obj: object, codec: Codec[Any] | None = None) -> bytes:
    """XDR-encode a declared struct (or ``obj`` with an explicit codec).

    Raises:
        XdrError: a field is out of range or of the wrong type.
    """
    chosen = codec if codec is not None else codec_of(type(obj))
    p = xdrlib3.Packer()
    try:
        chosen.pack(p, obj)
    except XdrError:
        raise
    except _LIBRARY_ERRORS as exc:
        raise _translated(f"cannot encode {chosen!r}", exc) from exc
    return p.get_buffer()


def decode_prefix(spec: type[S] | Codec[S], data: BytesLike) -> tuple[S, int]:
    """Decode one value from the start of ``data``; return it and its end offset.

    For records where raw payload follows the XDR header (READ replies).
    ``data`` may be a memoryview; nothing is copied but the decoded fields.

    Raises:
        XdrError: the bytes do not hold a valid value.
    """
    codec = as_codec(spec)
    # xdrlib3 is annotated for bytes but only slices and struct-unpacks, which
    # memoryviews support: the one cast for that lives here (style.md §3.4).
    u = xdrlib3.Unpacker(cast("bytes", data))
    try:
        value = codec.unpack(u)
    except XdrError:
        raise
    except _LIBRARY_ERRORS as exc:
        raise _translated(f"cannot decode {codec!r}", exc) from exc
    return value, u.get_position()


def decode(spec: type[S] | Codec[S], data: BytesLike) -> S:
    """Decode ``data``, which must hold exactly one value and nothing more.

    Raises:
        XdrError: the bytes are not exactly one valid value.
    """
    value, end = decode_prefix(spec, data)
    if end != len(data):
        raise XdrError(
            f"cannot decode {as_codec(spec)!r}: {len(data) - end} bytes left over"
        )
    return value
