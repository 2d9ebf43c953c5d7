"""Tests for pygluster.cli.iolang: the qemu-io-like language of ``pygluster io``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygluster.cli.iolang import (
    MAX_OFFSET,
    Discard,
    Flush,
    IoScriptError,
    Length,
    Map,
    Read,
    Truncate,
    Write,
    WriteZeroes,
    format_map_line,
    format_rate_line,
    format_size,
    needs_write,
    parse_command,
    parse_pattern,
    parse_script,
    parse_size,
)
from pygluster.errors import GlusterError

KiB, MiB, GiB, TiB = 1 << 10, 1 << 20, 1 << 30, 1 << 40


# --- SIZE (create, truncate, offsets, lengths) -----------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("4096", 4096),
        ("007", 7),
        ("0x1000", 4096),
        ("0XfF", 255),
        ("1k", KiB),
        ("1K", KiB),
        ("64k", 64 * KiB),
        ("1m", MiB),
        ("1M", MiB),
        ("10G", 10 * GiB),
        ("2g", 2 * GiB),
        ("1T", TiB),
        ("1t", TiB),
        ("1.5k", 1536),
        ("0.5M", 512 * KiB),
        ("8388607T", 8388607 * TiB),
        (str(MAX_OFFSET), MAX_OFFSET),
    ],
)
def test_parse_size(text: str, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "is not a size"),
        ("-1", "is not a size"),
        ("+1", "is not a size"),
        ("12x", "is not a size"),
        ("1KB", "is not a size"),
        ("1 k", "is not a size"),
        (" 1", "is not a size"),
        ("1e3", "is not a size"),
        ("0x", "is not a size"),
        ("0x10k", "is not a size"),
        ("1P", "is not a size"),
        ("k", "is not a size"),
        ("1.5", "a fraction needs a suffix"),
        ("1.3k", "not a whole number of bytes"),
        ("1_000", "is not a size"),
        ("١٢", "is not a size"),  # Arabic-Indic digits: int() would take them
        ("8388608T", "too large"),
        (str(MAX_OFFSET + 1), "too large"),
        ("9" * 5000, "too large"),
    ],
)
def test_parse_size_rejects(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_size(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("205", 205), ("0xcd", 0xCD), ("0XFF", 255), ("017", 0o17)],
)
def test_parse_pattern(text: str, value: int) -> None:
    assert parse_pattern(text) == value


@pytest.mark.parametrize("text", ["256", "0x1ff", "-1", "08", "ab", "", "0x", "1k"])
def test_parse_pattern_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a valid pattern byte"):
        parse_pattern(text)


# --- commands --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("write 0 64k", Write(0, 64 * KiB, 0xCD)),
        ("write -P 0xab 1M 64k", Write(MiB, 64 * KiB, 0xAB)),
        ("write -P0xab 1M 64k", Write(MiB, 64 * KiB, 0xAB)),
        ("write 1M 64k -P 7", Write(MiB, 64 * KiB, 7)),
        ("write -P 1 -P 2 0 1", Write(0, 1, 2)),
        ("w -P 0 0x10 0X20", Write(16, 32, 0)),
        ("write -- 0 1", Write(0, 1, 0xCD)),
        ("write -z 0 4k", WriteZeroes(0, 4 * KiB)),
        ("w -z 1G 1G", WriteZeroes(GiB, GiB)),
        ("read 0 512", Read(0, 512, None)),
        ("read -P 0xcd 0 1.5k", Read(0, 1536, 0xCD)),
        ("r -P 0 1t 1", Read(TiB, 1, 0)),
        ("  read\t0   1  ", Read(0, 1, None)),
        ("discard 1M 4k", Discard(MiB, 4 * KiB)),
        ("d 0 0", Discard(0, 0)),
        ("truncate 12M", Truncate(12 * MiB)),
        ("t 0", Truncate(0)),
        ("flush", Flush()),
        ("f", Flush()),
        ("length", Length()),
        ("l", Length()),
        ("map", Map()),
    ],
)
def test_parse_command(text: str, command: object) -> None:
    assert parse_command(text) == command


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty command"),
        ("   ", "empty command"),
        ("bogus 0 1", "unknown command 'bogus'"),
        ("READ 0 1", "unknown command 'READ'"),
        ("read", "read takes 2 arguments, got 0"),
        ("read 0", "read takes 2 arguments, got 1"),
        ("read 0 1 2", "read takes 2 arguments, got 3"),
        ("write 0", "write takes 2 arguments"),
        ("discard 0", "discard takes 2 arguments"),
        ("truncate", "truncate takes 1 argument, got 0"),
        ("truncate 1 2", "truncate takes 1 argument, got 2"),
        ("flush now", "flush takes 0 arguments, got 1"),
        ("length 1", "length takes 0 arguments"),
        ("map 0 1", "map takes 0 arguments"),
        ("read -z 0 1", "read has no option -z"),
        ("read -x 0 1", "read has no option -x"),
        ("write -q 0 1", "write has no option -q"),
        ("discard -P 1 0 1", "discard has no option -P"),
        ("read -: 0 1", "read has no option -:"),
        ("read 0 1 -P", "option -P of read needs a value"),
        ("write -P 0x1ff 0 1", "not a valid pattern byte"),
        ("write -P zz 0 1", "not a valid pattern byte"),
        ("write -z -P 1 0 1", "-z and -P cannot be used together"),
        ("write -zP1 0 1", "-z and -P cannot be used together"),
        ("read x 1", "bad offset"),
        ("read 0 1x", "bad length"),
        ("read -1 1", "read has no option -1"),
        ("write 0 1.3k", "not a whole number of bytes"),
        ("truncate 9T9", "bad size"),
        ("read 8388607T 1T", "offset \\+ length is beyond 2\\*\\*63-1"),
    ],
)
def test_parse_command_rejects(text: str, reason: str) -> None:
    with pytest.raises(IoScriptError, match=reason) as caught:
        parse_command(text)
    assert caught.value.command == text
    assert repr(text) in str(caught.value)  # the message quotes the command
    assert isinstance(caught.value, GlusterError)
    assert isinstance(caught.value, ValueError)


def test_parse_script_stops_at_the_first_bad_command() -> None:
    assert parse_script(["write 0 1", "read -P 0xcd 0 1"]) == [
        Write(0, 1, 0xCD),
        Read(0, 1, 0xCD),
    ]
    with pytest.raises(IoScriptError, match="'read 0'"):
        parse_script(["write 0 1", "read 0", "bogus"])


@pytest.mark.parametrize(
    ("texts", "writes"),
    [
        ([], False),
        (["read 0 1", "length", "map"], False),
        (["read 0 1", "write 0 1"], True),
        (["write -z 0 1"], True),
        (["discard 0 1"], True),
        (["truncate 0"], True),
        (["flush"], True),
    ],
)
def test_needs_write(texts: list[str], writes: bool) -> None:
    assert needs_write(parse_script(texts)) is writes


# --- qemu-io's output ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0 bytes"),
        (512, "512 bytes"),
        (1023, "1023 bytes"),
        (KiB, "1 KiB"),
        (64 * KiB, "64 KiB"),
        (1020 * KiB, "1020 KiB"),
        (10 * MiB, "10 MiB"),
        (MiB + 64 * KiB, "1.062 MiB"),
        (MiB + 1, "1 MiB"),  # qemu's cvtstr cuts at ".000"
        (3 * GiB // 2, "1.500 GiB"),
        (TiB, "1 TiB"),
        (1 << 60, "1 EiB"),
    ],
)
def test_format_size_is_qemus_cvtstr(value: int, text: str) -> None:
    assert format_size(value) == text


def test_format_lines_match_qemu_io() -> None:
    # Captured from qemu-io 7.2 on a raw gluster image.
    assert (
        format_map_line(0, 10 * MiB, True)
        == "10 MiB (0xa00000) bytes     allocated at offset 0 bytes (0x0)"
    )
    assert (
        format_map_line(MiB, 64 * KiB, False)
        == "64 KiB (0x10000) bytes not allocated at offset 1 MiB (0x100000)"
    )
    assert format_rate_line(64 * KiB, 1, 0.5) == (
        "64 KiB, 1 ops; 00.50 sec (128 KiB/sec and 2.0000 ops/sec)"
    )
    assert format_rate_line(0, 1, 0.0).startswith("0 bytes, 1 ops; 00.00 sec")
    assert format_rate_line(MiB, 1, 75).startswith("1 MiB, 1 ops; 01:15.00 sec")


# --- properties ------------------------------------------------------------------

_words = st.sampled_from(
    [
        *("read", "write", "discard", "truncate", "flush", "length", "map", "r"),
        *("-P", "-z", "-Pab", "--", "-", "0", "1k", "0x10", "1.5M", "12x", "256"),
    ]
)


class TestIoLangProperties:
    @given(st.text())
    def test_any_text_parses_or_raises_io_script_error(self, text: str) -> None:
        error: IoScriptError | None = None
        try:
            command = parse_command(text)
        except IoScriptError as exc:
            error = exc
        else:
            assert needs_write([command]) in (True, False)
        assert error is None or error.command == text

    @given(st.lists(_words, max_size=6).map(" ".join))
    def test_command_like_text_parses_or_raises(self, text: str) -> None:
        message = ""
        try:
            parse_command(text)
        except IoScriptError as exc:
            message = str(exc)
        assert not message or repr(text) in message

    @given(st.text())
    def test_any_size_text_parses_or_raises_value_error(self, text: str) -> None:
        try:
            value = parse_size(text)
        except ValueError:
            pass
        else:
            assert 0 <= value <= MAX_OFFSET

    @given(
        st.integers(0, 2**30),
        st.sampled_from([("", 1), ("k", KiB), ("M", MiB), ("g", GiB)]),
    )
    def test_size_suffixes_scale_by_powers_of_1024(
        self, number: int, suffix: tuple[str, int]
    ) -> None:
        letter, scale = suffix
        assert parse_size(f"{number}{letter}") == number * scale
        assert parse_size(hex(number)) == number

    @given(st.integers(0, MAX_OFFSET), st.integers(0, 255))
    def test_write_then_read_round_trip(self, offset: int, pattern: int) -> None:
        length = min(MAX_OFFSET - offset, 4096)
        assert parse_command(f"write -P {pattern:#x} {offset} {length}") == Write(
            offset, length, pattern
        )
        assert parse_command(f"read -P {pattern} {offset:#x} {length}") == Read(
            offset, length, pattern
        )
