"""The ``io`` command: qemu-io style commands (:mod:`pygluster.cli.iolang`)."""

from __future__ import annotations

import argparse
import time
from typing import Any, assert_never

from pygluster import blockdev
from pygluster.cli import iolang
from pygluster.cli.iolang import IoScriptError
from pygluster.cli.options import (
    CHUNK_SIZE,
    SIZE_HELP,
    brick_timeouts,
    parse_uri,
    say,
    size_arg,
    write_behind,
)
from pygluster.cli.options import add_command as add_parser
from pygluster.errors import CommandError

__all__ = ["add_command", "run"]


IO_HELP = """\
Run qemu-io style commands on an image, one per -c, in order, and print
qemu-io's result lines. The image opens read-only when every command only
reads (read, length, map). Commands:

  read [-P PATTERN] OFFSET LENGTH    read; with -P check every byte is PATTERN
  write [-P PATTERN] OFFSET LENGTH   write PATTERN (default 0xcd) over the range
  write -z OFFSET LENGTH             write zeros (ZEROFILL, no data sent)
  discard OFFSET LENGTH              deallocate the range (reads back zeros)
  truncate SIZE                      resize the image
  flush                              make writes durable (FSYNC)
  length                             print the image size
  map                                print data and hole ranges

Aliases r, w, d, t, f, l. Numbers as SIZE below; PATTERN is one byte in
decimal, 0x hex or 0 octal. A failed pattern check prints qemu-io's
"Pattern verification failed at offset N, L bytes", the remaining commands
still run, and the exit status is 1. Any other failure stops at once with a
one-line error (exit status 1); a malformed command runs nothing (exit 2).
"""
IO_EXAMPLES = """\
examples:
  pygluster io -c 'write -P 0xab 0 1M' -c 'read -P 0xab 0 1M' gluster://s/vol/a.img
  pygluster io --create 64M -c 'write 1M 64k' -c map gluster://s/vol/new.img
  pygluster io -c length -c 'read 0x10000 4k' gluster://s/vol/a.img
"""


def add_command(commands: Any) -> None:
    """Add the command's subparser to ``commands``."""
    io = add_parser(
        commands,
        "io",
        "run qemu-io style read/write/verify commands on an image",
        IO_HELP + "\n" + SIZE_HELP,
        IO_EXAMPLES,
        uri="gluster URI of the image",
    )
    io.add_argument(
        "-c",
        "--cmd",
        dest="commands",
        metavar="CMD",
        action="append",
        type=_io_command_arg,
        default=[],
        help="a command to run (repeat for several; they run in order)",
    )
    io.add_argument(
        "--create",
        metavar="SIZE",
        type=size_arg,
        help="create the image with this size first (fails if it exists)",
    )
    io.add_argument(
        "-n",
        "--nocache",
        action="store_true",
        help="open O_DIRECT, like qemu-io -n (cache=none): on volumes with "
        "strict-O_DIRECT (group virt) writes skip write-behind; unless "
        "remote-dio is on, the bricks bypass their page cache too",
    )
    io.set_defaults(run=run)


def _io_command_arg(text: str) -> iolang.Command:
    try:
        return iolang.parse_command(text)
    except IoScriptError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


async def _io_write(
    device: blockdev.AsyncBlockDevice, offset: int, length: int, pattern: int
) -> None:
    block = bytes([pattern]) * min(CHUNK_SIZE, length)
    view = memoryview(block)
    for pos in range(offset, offset + length, CHUNK_SIZE):
        count = min(CHUNK_SIZE, offset + length - pos)
        await device.pwrite(view[:count], pos)


async def _io_read(
    device: blockdev.AsyncBlockDevice, offset: int, length: int, pattern: int | None
) -> bool:
    """Read the range in chunks; True if it matched ``pattern`` (or none given)."""
    size = await device.size()
    if offset + length > size:
        raise CommandError(
            f"read {length} bytes at offset {offset} of {device.uri}: beyond the "
            f"end of the image ({size} bytes)"
        )
    buffer = bytearray(min(CHUNK_SIZE, length))
    expected = None if pattern is None else bytes([pattern]) * len(buffer)
    matched = True
    for pos in range(offset, offset + length, CHUNK_SIZE):
        count = min(CHUNK_SIZE, offset + length - pos)
        got = await device.readinto(memoryview(buffer)[:count], pos)
        if got < count:
            raise CommandError(
                f"read {count} bytes at offset {pos} of {device.uri}: got only "
                f"{got} (the image shrank)"
            )
        if expected is not None and matched:
            if count == len(buffer):
                matched = buffer == expected
            else:
                matched = buffer[:count] == expected[:count]
    return matched


async def _io_one(device: blockdev.AsyncBlockDevice, command: iolang.Command) -> bool:
    """Run one command and print its result; False if a pattern check failed."""
    started = time.perf_counter()
    ok = True
    match command:
        case iolang.Write(offset, length, pattern):
            await _io_write(device, offset, length, pattern)
            verb = "wrote"
        case iolang.WriteZeroes(offset, length):
            await device.write_zeroes(offset, length)
            verb = "wrote"
        case iolang.Read(offset, length, pattern):
            ok = await _io_read(device, offset, length, pattern)
            if not ok:
                # qemu-io-cmds.c read_f: the request's offset and length.
                say(f"Pattern verification failed at offset {offset}, {length} bytes")
            verb = "read"
        case iolang.Discard(offset, length):
            await device.discard(offset, length)
            verb = "discard"
        case iolang.Truncate(size):
            await device.truncate(size)
            return True
        case iolang.Flush():
            await device.flush()
            return True
        case iolang.Length():
            say(iolang.format_size(await device.size()))
            return True
        case iolang.Map():
            extents = await device.extents()
            say(*(iolang.format_map_line(e.offset, e.length, e.data) for e in extents))
            return True
        case _:
            assert_never(command)
    elapsed = time.perf_counter() - started
    say(
        f"{verb} {length}/{length} bytes at offset {offset}",
        iolang.format_rate_line(length, 1, elapsed),
    )
    return ok


async def run(args: argparse.Namespace) -> int:
    """Run ``pygluster io``."""
    uri = parse_uri(args, args.uri)
    commands: list[iolang.Command] = args.commands
    if args.create is not None:
        await blockdev.create_async(uri, args.create, **brick_timeouts(args))
    mode: blockdev.Mode = "r+" if iolang.needs_write(commands) else "r"
    failed = False
    async with blockdev.open_async(
        uri,
        mode,
        **brick_timeouts(args),
        write_behind=write_behind(args),
        direct=args.nocache,
    ) as device:
        for command in commands:
            if not await _io_one(device, command):
                failed = True  # qemu-io goes on after a failed pattern check
    return 1 if failed else 0
