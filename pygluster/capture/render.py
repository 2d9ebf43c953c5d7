"""How a decoded value is shown: the one renderer of the trace sinks and the decoder.

``--trace=full`` / ``--trace-json`` (:mod:`pygluster.capture.trace`) and
``pygluster decode`` (:mod:`pygluster.capture.decode`) both turn decoded XDR
values into JSON-friendly ones, and they do it here, with the same rules:

* structs become dicts of their fields (``.x`` names), unions
  ``{"discriminant", "value"}``, lists lists;
* a gfid field (:data:`GFID_FIELDS`) is UUID text, other bytes hex;
* an enum is its name, and the integer fields that hold one are named per
  procedure (:data:`ENUM_FIELDS`: open flags, lock commands, SEEK's whence);
* a credential is its flavor plus the decoded AUTH_GLUSTERFS fields
  (:func:`credential_fields`); a failed reply's errno has its name
  (:func:`errno_name`).

What differs is only presentation, chosen by a :class:`Style`: a trace, read
as it scrolls by, cuts long bytes short and shows a typed dict value as one
``"TYPE:value"`` string (:data:`TRACE`); the decoder, a forensic tool, keeps
every byte and shows dict values as ``{"type", "value"}`` objects
(:data:`DECODE`). Pure: no trio, no I/O.
"""

from __future__ import annotations

import dataclasses
import enum
import errno
import json
import math
import uuid
from dataclasses import dataclass
from typing import Any

from pygluster.rpc import fops, xdr
from pygluster.rpc.sunrpc import (
    AuthFlavor,
    AuthGlusterfsParamsV2,
    AuthGlusterfsParamsV3,
    OpaqueAuth,
)

__all__ = [
    "DECODE",
    "ENUM_FIELDS",
    "GFID_FIELDS",
    "TRACE",
    "Style",
    "credential_fields",
    "enum_text",
    "errno_name",
    "flavor_name",
    "hex_text",
    "name_enums",
    "render",
    "text",
    "uuid_text",
]

#: Fields holding a gfid: 16 bytes shown as a UUID.
GFID_FIELDS = frozenset(
    {"gfid", "pargfid", "ia_gfid", "oldgfid", "newgfid", "gfid1", "gfid2"}
)

#: Integer fields shown by name, per procedure name (v400 and v330 alike).
ENUM_FIELDS: dict[str, dict[str, type[enum.IntEnum | enum.IntFlag]]] = {
    "OPEN": {"flags": fops.GfOpenFlags},
    "CREATE": {"flags": fops.GfOpenFlags},
    "OPENDIR": {"flags": fops.GfOpenFlags},
    "LK": {"cmd": fops.LkCmd, "type": fops.LkType},
    "INODELK": {"cmd": fops.LkCmd, "type": fops.LkType},
    "FINODELK": {"cmd": fops.LkCmd, "type": fops.LkType},
    "ENTRYLK": {"cmd": fops.EntrylkCmd, "type": fops.EntrylkType},
    "FENTRYLK": {"cmd": fops.EntrylkCmd, "type": fops.EntrylkType},
    "XATTROP": {"flags": fops.XattropFlags},
    "FXATTROP": {"flags": fops.XattropFlags},
    "SEEK": {"what": fops.SeekWhat},
}


@dataclass(frozen=True, slots=True)
class Style:
    """How :func:`render` presents what it renders.

    Attributes:
        hex_limit: bytes shown of a long opaque before it is cut short
            (``…(+N bytes)``); None shows all of them.
        dict_values: ``"text"`` renders a typed dict value as
            ``"TYPE:value"``, ``"object"`` as ``{"type": ..., "value": ...}``.
    """

    hex_limit: int | None
    dict_values: str


#: Trace output: long bytes cut short, dict values as ``"TYPE:value"``.
TRACE = Style(hex_limit=64, dict_values="text")
#: Decoder output: every byte, dict values as objects.
DECODE = Style(hex_limit=None, dict_values="object")


def uuid_text(raw: bytes) -> str:
    """A gfid as UUID text (hex if it is not 16 bytes)."""
    return str(uuid.UUID(bytes=raw)) if len(raw) == 16 else raw.hex()


def hex_text(raw: bytes | bytearray | memoryview, limit: int | None = None) -> str:
    """Bytes as hex, at most ``limit`` of them followed by how many were left out."""
    if limit is None or len(raw) <= limit:
        return bytes(raw).hex()
    return f"{bytes(raw[:limit]).hex()}…(+{len(raw) - limit} bytes)"


def text(value: Any) -> str:
    """A C string (bytes with their NUL) or anything else, as text."""
    if isinstance(value, bytes):
        return value.rstrip(b"\0").decode("utf-8", "replace")
    return str(value)


def enum_text(kind: type[enum.IntEnum | enum.IntFlag], value: int) -> str | int:
    """``value`` by name in ``kind``; the number itself when it has none.

    Open flags are the access mode (a 2-bit number: O_RDONLY is 0) joined
    with the flag names: ``RDWR|CREAT|EXCL``.
    """
    if kind is fops.GfOpenFlags:
        access = ("RDONLY", "WRONLY", "RDWR", "ACCMODE")[value & 0o3]
        rest = fops.GfOpenFlags(value & ~0o3)
        members = [m for m in fops.GfOpenFlags if m.value & ~0o3 and m in rest]
        extra = value & ~0o3 & ~sum(m.value for m in members)
        return "|".join(
            [access, *(m.name or "" for m in members)] + ([oct(extra)] if extra else [])
        )
    if issubclass(kind, enum.IntFlag):
        return kind(value).name or hex(value)
    try:
        return kind(value).name
    except ValueError:
        return value


def name_enums(procedure: str | None, fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with the integers :data:`ENUM_FIELDS` names for ``procedure``
    replaced by their names (in place; returned for convenience)."""
    for field, kind in ENUM_FIELDS.get(procedure or "", {}).items():
        number = fields.get(field)
        if isinstance(number, int) and not isinstance(number, bool):
            fields[field] = enum_text(kind, number)
    return fields


def errno_name(op_errno: int) -> str:
    """``ENOENT`` for 2; the number as text when Linux has no name for it."""
    return errno.errorcode.get(op_errno, str(op_errno))


def render(value: object, style: Style, key: str | None = None) -> Any:
    """A decoded XDR value as plain JSON types (module notes give the rules).

    ``key`` is the name of the field holding ``value`` (gfid fields are
    recognised by it).
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        if key in GFID_FIELDS and len(value) == 16:
            return uuid_text(bytes(value))
        return hex_text(value, style.hex_limit)
    if isinstance(value, fops.DictValue):
        return _dict_value(value, style)
    if isinstance(value, dict):
        return {str(k): _dict_entry(v, style, str(k)) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [render(item, style, key) for item in value]
    if isinstance(value, xdr.UnionArm):
        return {
            "discriminant": value.discriminant,
            "value": render(value.value, style),
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: render(getattr(value, f.name), style, f.name)
            for f in dataclasses.fields(value)
        }
    return repr(value)


def _dict_value(value: fops.DictValue, style: Style) -> Any:
    """A typed gfx_dict value, as ``style`` shows them."""
    payload = value.value
    shown: Any
    if value.type == fops.DataType.GFUUID and isinstance(payload, bytes):
        shown = uuid_text(payload)
    elif value.type in (fops.DataType.STR, fops.DataType.STR_OLD) and isinstance(
        payload, bytes
    ):
        shown = _text_or_hex(payload)
        if style.dict_values == "text" and isinstance(shown, str):
            shown = repr(shown)
    else:
        shown = render(payload, style)
    if style.dict_values == "object":
        return {"type": value.type.name, "value": shown}
    if not isinstance(shown, str | int | float):
        shown = json.dumps(shown, separators=(",", ":"))
    return f"{value.type.name}:{shown}"


def _dict_entry(value: object, style: Style, key: str) -> Any:
    """A value of a Python dict: a typed one, an old-style one (bytes), or any."""
    if isinstance(value, fops.DictValue):
        return _dict_value(value, style)
    if isinstance(value, bytes) and style.dict_values == "object":
        # An old-style (dict_serialize) value: a C string with its NUL, or
        # binary. Shown as text when it is one.
        shown = _text_or_hex(value)
        return {"type": "str" if isinstance(shown, str) else "bytes", "value": shown}
    return render(value, style, key)


def _text_or_hex(raw: bytes) -> str | dict[str, str]:
    """Text without its trailing NUL when ``raw`` is a printable C string."""
    body = raw[:-1] if raw.endswith(b"\0") else raw
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError:
        return {"hex": raw.hex()}
    printable = decoded.isprintable() or decoded.strip("\n\t ").isprintable()
    if "\0" in decoded or not printable:
        return {"hex": raw.hex()}
    return decoded


def flavor_name(flavor: int) -> str | int:
    """An auth flavor's name (``GLUSTERFS_V3``), or its number if unknown."""
    try:
        return AuthFlavor(flavor).name
    except ValueError:
        return flavor


def credential_fields(cred: OpaqueAuth, style: Style) -> dict[str, Any]:
    """A CALL's credential: its flavor and, for gluster's, the decoded fields
    (the v3 ``flags`` by name: the times the fop sets).

    Raises:
        XdrError: an AUTH_GLUSTERFS body that does not decode.
    """
    out: dict[str, Any] = {"flavor": flavor_name(cred.flavor)}
    params: AuthGlusterfsParamsV2 | AuthGlusterfsParamsV3
    if cred.flavor == AuthFlavor.GLUSTERFS_V2:
        params = xdr.decode(AuthGlusterfsParamsV2, cred.body)
    elif cred.flavor == AuthFlavor.GLUSTERFS_V3:
        params = xdr.decode(AuthGlusterfsParamsV3, cred.body)
    else:
        if cred.body:
            out["body"] = hex_text(cred.body, style.hex_limit)
        return out
    out.update(render(params, style))
    if isinstance(params, AuthGlusterfsParamsV3) and params.flags:
        out["flags"] = str(fops.MdataFlags(params.flags).name)
    return out
