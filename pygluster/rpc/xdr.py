"""Declarative XDR (RFC 4506) codecs over xdrlib3: the only importer of xdrlib3.

A struct is declared once, as a frozen dataclass whose fields carry their wire
codec in ``Annotated``; :func:`struct` reads those annotations once and builds
the pack and unpack paths from the same list, so the two can never drift apart.
Hypothesis strategies in the tests are derived from the same declarations.

Rules enforced here (style.md §3.3):

* Validate on encode: xdrlib3 masks (``pack_uhyper``) or truncates
  (``pack_fstring``) silently, so every codec range-checks before packing.
* Translate on decode: any ``xdrlib3.Error``, ``EOFError``, ``struct.error``,
  ``ValueError``, ``TypeError`` or ``IndexError`` raised while packing or
  unpacking becomes :class:`~pygluster.errors.XdrError` in exactly one place,
  :func:`_translate`.
* Bulk READ/WRITE payloads never come here; the connection slices them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import struct as _struct
import typing
from abc import ABC, abstractmethod
from typing import Annotated, Any, Generic, TypeVar, cast

import xdrlib3

from pygluster.errors import XdrError

if typing.TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

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


@contextlib.contextmanager
def _translate(action: str) -> Iterator[None]:
    """The one funnel: library exceptions become XdrError (httpcore map_exceptions)."""
    try:
        yield
    except XdrError:
        raise
    except (
        xdrlib3.Error,
        EOFError,
        _struct.error,
        ValueError,
        TypeError,
        IndexError,
        OverflowError,
        RecursionError,
    ) as exc:
        detail = str(exc) or type(exc).__name__
        raise XdrError(f"{action}: {detail}") from exc


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


@dataclasses.dataclass(frozen=True, slots=True)
class _FixedRun:
    """Consecutive fixed-width fields packed/unpacked with one ``struct.Struct``.

    The fast path of style.md §3.3: dnspython's ``get_struct``/hyperframe's
    precompiled headers, behind the same declaration. A differential test
    proves it equal to the field-by-field path.
    """

    layout: _struct.Struct
    names: tuple[str, ...]
    byte_fields: tuple[tuple[int, int], ...]  # (index in names, exact length)


class _StructCodec(Codec[S]):
    """Packs/unpacks a declared dataclass field by field, in declaration order.

    Runs of fixed-width fields (ints, hypers, opaque[n]) are fused into one
    precompiled ``struct.Struct`` each (``fused=False`` keeps the plain
    field-by-field path, which the tests compare against).
    """

    __slots__ = ("cls", "fields", "steps")

    def __init__(
        self,
        cls: type[S],
        fields: tuple[tuple[str, Codec[Any]], ...],
        *,
        fused: bool = True,
    ) -> None:
        self.cls = cls
        self.fields = fields
        self.steps: tuple[_FixedRun | tuple[str, Codec[Any]], ...] = (
            _plan(fields) if fused else fields
        )

    def pack(self, p: xdrlib3.Packer, v: S) -> None:
        if not isinstance(v, self.cls):
            raise XdrError(f"expected {self.cls.__name__}, got {type(v).__name__}")
        for step in self.steps:
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
        for index, size in run.byte_fields:
            # struct's "Ns" pads or truncates silently: check the length.
            data = values[index]
            if (
                not isinstance(data, bytes | bytearray | memoryview)
                or len(data) != size
            ):
                FixedOpaque(size).pack(xdrlib3.Packer(), data)  # raises the XdrError
        for name, value in zip(run.names, values, strict=True):
            if isinstance(value, bool):
                raise XdrError(f"{self.cls.__name__}.{name}: bool is not an int")
        try:
            return run.layout.pack(*values)
        except _struct.error:
            # Out of range: let the field codecs name the culprit.
            for name, codec in self.fields:
                if name in run.names:
                    try:
                        codec.pack(xdrlib3.Packer(), getattr(v, name))
                    except XdrError as exc:
                        raise XdrError(f"{self.cls.__name__}.{name}: {exc}") from exc
            raise

    def unpack(self, u: xdrlib3.Unpacker) -> S:
        values: dict[str, Any] = {}
        for step in self.steps:
            if isinstance(step, _FixedRun):
                position = u.get_position()
                values.update(
                    zip(
                        step.names,
                        step.layout.unpack_from(u.get_buffer(), position),
                        strict=True,
                    )
                )
                u.set_position(position + step.layout.size)
            else:
                name, codec = step
                values[name] = codec.unpack(u)
        return self.cls(**values)

    def __repr__(self) -> str:
        return self.cls.__name__


def _plan(
    fields: tuple[tuple[str, Codec[Any]], ...],
) -> tuple[_FixedRun | tuple[str, Codec[Any]], ...]:
    steps: list[_FixedRun | tuple[str, Codec[Any]]] = []
    run: list[tuple[str, str]] = []

    def close_run() -> None:
        if len(run) >= 2:
            layout = _struct.Struct(">" + "".join(fmt for _, fmt in run))
            byte_fields = tuple(
                (i, int(fmt[:-1]))
                for i, (_, fmt) in enumerate(run)
                if fmt.endswith("s")
            )
            steps.append(_FixedRun(layout, tuple(n for n, _ in run), byte_fields))
        else:
            steps.extend(
                (name, codec) for name, codec in fields if name in {n for n, _ in run}
            )
        run.clear()

    for name, codec in fields:
        fmt = _fixed_format(codec)
        if fmt is None:
            close_run()
            steps.append((name, codec))
        else:
            run.append((name, fmt))
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


@typing.dataclass_transform(frozen_default=True, kw_only_default=True)
def struct(cls: type[S]) -> type[S]:
    """Declare an XDR struct: a frozen, slotted, keyword-only dataclass.

    Every field must be ``Annotated[python_type, codec]``, where the codec is
    a :class:`Codec` or another declared struct class. Fields are packed in
    declaration order, which must be the order of the ``.x`` struct named in
    the class docstring.
    """
    data_cls = dataclasses.dataclass(frozen=True, slots=True, kw_only=True)(cls)
    hints = typing.get_type_hints(data_cls, include_extras=True)
    fields: list[tuple[str, Codec[Any]]] = []
    for field in dataclasses.fields(cast("Any", data_cls)):
        hint = hints[field.name]
        if typing.get_origin(hint) is not Annotated:
            raise TypeError(f"{cls.__name__}.{field.name} has no XDR codec")
        fields.append((field.name, as_codec(hint.__metadata__[0])))
    setattr(data_cls, _CODEC_ATTR, _StructCodec(data_cls, tuple(fields)))
    return data_cls


# --- entry points -------------------------------------------------------------


def encode(obj: object, codec: Codec[Any] | None = None) -> bytes:
    """XDR-encode a declared struct (or ``obj`` with an explicit codec).

    Raises:
        XdrError: a field is out of range or of the wrong type.
    """
    chosen = codec if codec is not None else codec_of(type(obj))
    p = xdrlib3.Packer()
    with _translate(f"cannot encode {chosen!r}"):
        chosen.pack(p, obj)
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
    with _translate(f"cannot decode {codec!r}"):
        value = codec.unpack(u)
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
