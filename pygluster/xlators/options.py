"""Option values as a volfile writes them, shared by the translators."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pygluster.volfile import parse_switch

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["parse_bool_option", "parse_size_option"]


def parse_bool_option(options: Mapping[str, str], key: str, default: bool) -> bool:
    """A boolean option (``on``/``off``, ``enable``/``disable``, ...).

    Raises:
        ValueError: the value is none of gluster's boolean words.
    """
    value = options.get(key)
    if value is None:
        return default
    switch = parse_switch(value)
    if switch is None:
        raise ValueError(f"option {key} {value!r} is not a boolean")
    return switch


def parse_size_option(text: str, units: Mapping[str, int], option: str = "") -> int:
    """A size option: digits, then one of ``units`` (case-insensitive).

    ``units`` maps each suffix the translator accepts ("" for plain bytes) to
    its multiplier; translators differ in which suffixes they take, so each
    passes its own. ``option`` names the option in the error.

    Raises:
        ValueError: not digits followed by one of ``units``.
    """
    value = text.strip().upper()
    digits = value.rstrip("".join(units))  # every letter of every suffix
    unit = value[len(digits) :]
    if not digits.isdigit() or unit not in units:
        what = f"{option} {text!r}" if option else repr(text)
        raise ValueError(f"{what} is not a size")
    return int(digits) * units[unit]
