"""The ``pygluster io`` command language: qemu-io's syntax, parsed into values.

Pure parsing and formatting, no I/O: :func:`parse_command` turns one command
such as ``"write -P 0xab 1M 64k"`` into a frozen dataclass, and the
``format_*`` helpers print results the way qemu-io does, so a script written
for ``qemu-io -c ... gluster://...`` reads the same here. The command line
(``pygluster.cli``) runs the commands against an open image.

Numbers follow qemu's ``qemu_strtosz``: decimal, ``0x`` hex, and the suffixes
k, m, g, t (either case; powers of 1024, a fraction allowed before a suffix:
``1.5k`` is 1536). Patterns follow qemu-io's ``parse_pattern`` (C ``strtol``
with base 0: decimal, ``0x`` hex or ``0`` octal, one byte).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from pygluster.errors import IoScriptError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "MAX_OFFSET",
    "Command",
    "Discard",
    "Flush",
    "IoScriptError",
    "Length",
    "Map",
    "Read",
    "Truncate",
    "Write",
    "WriteZeroes",
    "format_map_line",
    "format_rate_line",
    "format_size",
    "needs_write",
    "parse_command",
    "parse_pattern",
    "parse_script",
    "parse_size",
]

#: Largest offset or size accepted: off_t is signed 64-bit on the bricks.
MAX_OFFSET = 2**63 - 1
#: qemu-io's default write pattern (qemu-io-cmds.c write_f: ``pattern = 0xcd``).
DEFAULT_PATTERN = 0xCD


# --- the commands ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Read:
    """``read [-P PATTERN] OFFSET LENGTH``: read, and verify when a pattern is given."""

    offset: int
    length: int
    pattern: int | None = None


@dataclass(frozen=True, slots=True)
class Write:
    """``write [-P PATTERN] OFFSET LENGTH``: fill the range with one byte."""

    offset: int
    length: int
    pattern: int = DEFAULT_PATTERN


@dataclass(frozen=True, slots=True)
class WriteZeroes:
    """``write -z OFFSET LENGTH``: write zeros without sending them (ZEROFILL)."""

    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class Discard:
    """``discard OFFSET LENGTH``: deallocate the range (it reads back as zeros)."""

    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class Truncate:
    """``truncate SIZE``: resize the image."""

    size: int


@dataclass(frozen=True, slots=True)
class Flush:
    """``flush``: make what was written durable (FSYNC)."""


@dataclass(frozen=True, slots=True)
class Length:
    """``length``: print the image size."""


@dataclass(frozen=True, slots=True)
class Map:
    """``map``: print which ranges hold data and which are holes."""


Command = Read | Write | WriteZeroes | Discard | Truncate | Flush | Length | Map

_READ_ONLY = (Read, Length, Map)


def needs_write(commands: Iterable[Command]) -> bool:
    """True unless every command only reads (the image can then open read-only)."""
    return not all(isinstance(command, _READ_ONLY) for command in commands)


# --- numbers ---------------------------------------------------------------------

_SUFFIXES = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE_RE = re.compile(
    r"0[xX](?P<hex>[0-9a-fA-F]+)|(?P<dec>[0-9]+(?:\.[0-9]+)?)(?P<suffix>[kKmMgGtT]?)"
)
# Enough digits for any 64-bit value with a fraction; longer text is refused
# before int() sees it (CPython caps int(str) at 4300 digits with a ValueError).
_MAX_DIGITS = 40
_PATTERN_RE = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*")


def parse_size(text: str) -> int:
    """Parse a byte count the way qemu-img and qemu-io do.

    ``4096``, ``0x1000``, ``4k``/``4K``, ``1M``, ``2g``, ``1T``, ``1.5k``:
    suffixes are powers of 1024; a fraction needs a suffix and must come to
    whole bytes.

    Raises:
        ValueError: the text is not such a number, or is above 2**63-1.
    """
    match = _SIZE_RE.fullmatch(text)
    if match is None:
        raise ValueError(
            f"{text!r} is not a size (bytes, 0x hex, or a number with a k, M, G "
            "or T suffix)"
        )
    if len(text) > _MAX_DIGITS:
        raise ValueError(f"{text!r} is too large (the limit is 2**63-1 bytes)")
    if match["hex"] is not None:
        value = int(match["hex"], 16)
    else:
        number = Fraction(match["dec"])
        suffix = match["suffix"].lower()
        if number.denominator != 1 and not suffix:
            raise ValueError(f"{text!r}: a fraction needs a suffix (k, M, G or T)")
        scaled = number * _SUFFIXES[suffix]
        if scaled.denominator != 1:
            raise ValueError(f"{text!r} is not a whole number of bytes")
        value = int(scaled)
    if value > MAX_OFFSET:
        raise ValueError(f"{text!r} is too large (the limit is 2**63-1 bytes)")
    return value


def parse_pattern(text: str) -> int:
    """Parse a pattern byte: decimal, ``0x`` hex or ``0`` octal, 0..255.

    Raises:
        ValueError: not such a number, or not a byte.
    """
    if len(text) > _MAX_DIGITS or _PATTERN_RE.fullmatch(text) is None:
        raise ValueError(f"{text!r} is not a valid pattern byte")
    if text[:2] in ("0x", "0X"):
        value = int(text[2:], 16)
    elif text.startswith("0"):
        value = int(text, 8)
    else:
        value = int(text)
    if value > 0xFF:
        raise ValueError(f"{text!r} is not a valid pattern byte (0-255)")
    return value


# --- parsing ---------------------------------------------------------------------

_ALIASES = {
    "r": "read",
    "w": "write",
    "d": "discard",
    "t": "truncate",
    "l": "length",
    "f": "flush",
}
# getopt option strings, as qemu-io's: a letter followed by ':' takes a value.
_OPTIONS = {
    "read": "P:",
    "write": "P:z",
    "discard": "",
    "truncate": "",
    "flush": "",
    "length": "",
    "map": "",
}
_ARITY = {
    "read": 2,
    "write": 2,
    "discard": 2,
    "truncate": 1,
    "flush": 0,
    "length": 0,
    "map": 0,
}
_USAGE = {
    "read": "read [-P PATTERN] OFFSET LENGTH",
    "write": "write [-P PATTERN | -z] OFFSET LENGTH",
    "discard": "discard OFFSET LENGTH",
    "truncate": "truncate SIZE",
    "flush": "flush",
    "length": "length",
    "map": "map",
}


def _getopt(
    text: str, name: str, args: Sequence[str]
) -> tuple[dict[str, str], list[str]]:
    """POSIX getopt, GNU style as qemu-io's: options anywhere, ``--`` ends them."""
    spec = _OPTIONS[name]
    options: dict[str, str] = {}
    positional: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg == "--":
            positional.extend(args[index:])
            break
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            continue
        letters = arg[1:]
        while letters:
            letter, letters = letters[0], letters[1:]
            where = spec.find(letter)
            if letter == ":" or where < 0:
                raise IoScriptError(
                    text, f"{name} has no option -{letter} (usage: {_USAGE[name]})"
                )
            if spec[where + 1 : where + 2] != ":":
                options[letter] = ""
                continue
            if letters:
                options[letter], letters = letters, ""
            elif index < len(args):
                options[letter] = args[index]
                index += 1
            else:
                raise IoScriptError(text, f"option -{letter} of {name} needs a value")
    return options, positional


def _number(text: str, what: str, value: str) -> int:
    try:
        return parse_size(value)
    except ValueError as exc:
        raise IoScriptError(text, f"bad {what}: {exc}") from None


def _range(text: str, positional: Sequence[str]) -> tuple[int, int]:
    offset = _number(text, "offset", positional[0])
    length = _number(text, "length", positional[1])
    if offset + length > MAX_OFFSET:
        raise IoScriptError(text, "offset + length is beyond 2**63-1")
    return offset, length


def parse_command(text: str) -> Command:
    """Parse one qemu-io style command.

    Args:
        text: e.g. ``"read -P 0xcd 0 64k"``; words are separated by blanks.

    Returns:
        One of :class:`Read`, :class:`Write`, :class:`WriteZeroes`,
        :class:`Discard`, :class:`Truncate`, :class:`Flush`, :class:`Length`,
        :class:`Map`.

    Raises:
        IoScriptError: unknown command, bad option, wrong number of arguments
            or a bad number; the message quotes ``text``.
    """
    words = text.split()
    if not words:
        raise IoScriptError(text, "empty command")
    name = _ALIASES.get(words[0], words[0])
    if name not in _OPTIONS:
        known = ", ".join(_OPTIONS)
        raise IoScriptError(text, f"unknown command {words[0]!r} (known: {known})")
    options, positional = _getopt(text, name, words[1:])
    wanted = _ARITY[name]
    if len(positional) != wanted:
        raise IoScriptError(
            text,
            f"{name} takes {wanted} argument{'s' if wanted != 1 else ''}, "
            f"got {len(positional)} (usage: {_USAGE[name]})",
        )
    pattern: int | None = None
    if "P" in options:
        try:
            pattern = parse_pattern(options["P"])
        except ValueError as exc:
            raise IoScriptError(text, str(exc)) from None
    command: Command
    if name == "read":
        offset, length = _range(text, positional)
        command = Read(offset, length, pattern)
    elif name == "write":
        offset, length = _range(text, positional)
        if "z" in options:
            if pattern is not None:
                raise IoScriptError(text, "-z and -P cannot be used together")
            command = WriteZeroes(offset, length)
        else:
            command = Write(
                offset, length, DEFAULT_PATTERN if pattern is None else pattern
            )
    elif name == "discard":
        offset, length = _range(text, positional)
        command = Discard(offset, length)
    elif name == "truncate":
        command = Truncate(_number(text, "size", positional[0]))
    elif name == "flush":
        command = Flush()
    elif name == "length":
        command = Length()
    else:
        command = Map()
    return command


def parse_script(texts: Iterable[str]) -> list[Command]:
    """Parse every command, so that a typo fails before anything runs."""
    return [parse_command(text) for text in texts]


# --- qemu-io's output ------------------------------------------------------------

_UNITS = (
    (1 << 60, "EiB"),
    (1 << 50, "PiB"),
    (1 << 40, "TiB"),
    (1 << 30, "GiB"),
    (1 << 20, "MiB"),
    (1 << 10, "KiB"),
)


def format_size(value: float) -> str:
    """A byte count as qemu's ``cvtstr``: "64 KiB", "1.500 MiB", "0 bytes"."""
    suffix = "bytes"
    for unit, name in _UNITS:
        if value >= unit:
            value, suffix = value / unit, name
            break
    text = f"{value:.3f}"
    cut = text.find(".000")
    if cut >= 0:
        text = text[:cut]
    return f"{text} {suffix}"


def _format_time(seconds: float) -> str:
    # qemu-io's timestr() without -C: "SS.ss sec", minutes prefixed when needed.
    if seconds < 60:
        return f"{seconds:05.2f} sec"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes):02d}:{rest:05.2f} sec"


def format_rate_line(total: int, ops: int, seconds: float) -> str:
    """qemu-io's second report line: ``"64 KiB, 1 ops; 00.00 sec (... )"``."""
    elapsed = max(seconds, 1e-9)
    return (
        f"{format_size(total)}, {ops} ops; {_format_time(seconds)} "
        f"({format_size(total / elapsed)}/sec and {ops / elapsed:.4f} ops/sec)"
    )


def format_map_line(offset: int, length: int, data: bool) -> str:
    """One line of qemu-io's ``map``: ``"64 KiB (0x10000) bytes     allocated ..."``."""
    state = "   " if data else "not"
    return (
        f"{format_size(length)} ({length:#x}) bytes {state} allocated at offset "
        f"{format_size(offset)} ({offset:#x})"
    )
