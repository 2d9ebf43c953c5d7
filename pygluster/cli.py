"""The ``pygluster`` command line.

Every command takes a gluster URI (see ``pygluster --help``). Errors are one
line on stderr and a non-zero exit status, never a traceback: 2 for a usage
or URI error, 1 for everything the cluster or the network said no to.

Image commands: ``info``, ``create``, ``cp``, ``map``, ``rm`` and ``io`` (a
qemu-io-like command language, parsed by :mod:`pygluster.iolang`). All of
them run on the async API (:mod:`pygluster.blockdev`) under one ``trio.run``.
"""

from __future__ import annotations

import argparse
import datetime
import errno
import functools
import json
import logging
import math
import os
import stat
import sys
import time
import uuid
from contextlib import AsyncExitStack, ExitStack, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, assert_never

import trio

from pygluster import blockdev, iolang, mgmt, trace, volfile
from pygluster._concurrency import run_all
from pygluster.errors import FopError, GlusterError, URIError
from pygluster.iolang import IoScriptError
from pygluster.progress import open_progress
from pygluster.rpc.client import DEFAULT_CONNECT_TIMEOUT
from pygluster.uri import GlusterURI
from pygluster.xlators.client import DEFAULT_REQUEST_TIMEOUT, ClientXlator

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator, Sequence

    from pygluster.progress import Progress
    from pygluster.xlators.base import Xlator
    from pygluster.xlators.graph import ClientGraph

__all__ = ["main"]

#: Bytes per read/write step of ``cp`` and ``io``: bounds memory (a few chunks
#: at most are alive at once) while the block device splits each chunk into
#: parallel 1 MiB RPCs.
CHUNK_SIZE = 4 * 1024 * 1024
#: ``cp`` skips all-zero runs of this granularity (qemu-img convert's default
#: minimum sparse size, -S 4k).
ZERO_BLOCK = 4096
#: Chunks queued between the reading and the writing side of ``cp``.
_QUEUED_CHUNKS = 2

_ZEROS = bytes(CHUNK_SIZE)
_ZERO_BLOCK_BYTES = bytes(ZERO_BLOCK)

_URI_HELP = """\
gluster URIs (QEMU's syntax):
  gluster[+tcp]://[HOST[:PORT]]/VOLUME[/PATH/TO/IMAGE]
  gluster+unix:///VOLUME[/PATH]?socket=/var/run/glusterd.socket
  json:{"driver":"gluster","volume":"VOL","path":"a.img",
        "server":[{"type":"inet","host":"h1","port":"24007"},
                  {"type":"unix","path":"/var/run/glusterd.socket"}]}
HOST may be a name (its A and AAAA addresses are tried), an IPv4 address or a
bracketed IPv6 address; PORT defaults to 24007 (glusterd). With several
servers (json: form) each is tried in order until one answers.
"""

_SIZE_HELP = """\
SIZE is in bytes, 0x hex, or a number with a suffix k/K, M, G or T (powers of
1024, as qemu-img: 10G is 10737418240; 1.5k is 1536).
"""

_VOLFILE_HELP = """\
Fetch the client volfile of a volume from glusterd (the GETSPEC call) and
print it exactly as glusterd sent it. A local glusterd serves the "trusted"
volfile, which includes the bricks' login credentials.
"""

_INFO_HELP = """\
Show an image's size, the bytes allocated on the bricks, its gfid, the volume
(name and layout) and the brick(s) holding it, its mode, owner and mtime.
"""
_INFO_EXAMPLES = """\
examples:
  pygluster info gluster://server/vol/vm.img
  pygluster info --json gluster://server/vol/vm.img | jq .allocated
"""

_CREATE_HELP = """\
Create a raw image of SIZE bytes that reads as zeros, like
`qemu-img create -f raw`. With --preallocation off (the default) the image is
sparse; falloc reserves its blocks on the brick (FALLOCATE); full writes
zeros (ZEROFILL).
"""
_CREATE_EXAMPLES = """\
examples:
  pygluster create gluster://server/vol/vm.img 20G
  pygluster create --preallocation falloc gluster://server/vol/disk.img 512M
  pygluster create --parents --exist-ok gluster://server/vol/a/b/c.img 0x100000
"""

_CP_HELP = """\
Copy an image between a local file and a gluster volume, or between two
gluster images. SRC and DST are each a gluster URI (anything starting with
"gluster" or "json:"), a local path, or "-" for standard input / output.
At least one of them must be a gluster URI.

A gluster destination is created (or emptied) with the source's size first.
The copy is sparse: from a gluster image only its data extents are read
(SEEK_DATA/SEEK_HOLE on the brick), from a local file only what
lseek(SEEK_DATA) reports, and with --sparse (the default) all-zero 4 KiB
blocks are not written either, so holes stay holes. --no-sparse writes every
byte, holes as zeros. Standard output always receives every byte.

A progress bar is drawn on standard error when it is a terminal (tqdm when
installed: pip install 'pygluster[cli]'); --progress/--no-progress force it.
"""
_CP_EXAMPLES = """\
examples:
  pygluster cp disk.raw gluster://server/vol/vm.img
  pygluster cp gluster://server/vol/vm.img backup.raw
  pygluster cp gluster://server/vol/a.img gluster://other/vol2/b.img
  pygluster cp gluster://server/vol/vm.img - | gzip > vm.raw.gz
  curl -s https://example.org/disk.raw | pygluster cp - gluster://server/vol/d.img
"""

_MAP_HELP = """\
Print which ranges of an image hold data and which are holes, found with
SEEK_DATA/SEEK_HOLE on the brick. --json prints what `qemu-img map
--output=json -f raw` prints for the same image (same keys, order and
layout): a raw image is "present" everywhere; holes are "zero", data extents
"data".
"""
_MAP_EXAMPLES = """\
examples:
  pygluster map gluster://server/vol/vm.img
  pygluster map --json gluster://server/vol/vm.img
"""

_RM_HELP = """\
Delete an image (UNLINK). It fails, with ENOENT, if there is none.
"""
_RM_EXAMPLES = """\
examples:
  pygluster rm gluster://server/vol/old.img
"""

_IO_HELP = """\
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
_IO_EXAMPLES = """\
examples:
  pygluster io -c 'write -P 0xab 0 1M' -c 'read -P 0xab 0 1M' gluster://s/vol/a.img
  pygluster io --create 64M -c 'write 1M 64k' -c map gluster://s/vol/new.img
  pygluster io -c length -c 'read 0x10000 4k' gluster://s/vol/a.img
"""


class _CommandError(GlusterError):
    """A command failed for a reason of the command line's own (exit status 1)."""


class _UsageError(_CommandError):
    """The arguments do not make sense together (exit status 2)."""


# --- argument types --------------------------------------------------------------


def _size_arg(text: str) -> int:
    try:
        return iolang.parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid SIZE: {exc}") from None


def _io_command_arg(text: str) -> iolang.Command:
    try:
        return iolang.parse_command(text)
    except IoScriptError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_command(
    commands: Any, name: str, summary: str, description: str, examples: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=description,
        epilog=examples + "\n" + _URI_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pygluster",
        description="A pure-Python GlusterFS client: no libgfapi, the wire protocol "
        "spoken directly.",
        epilog=_URI_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log what happens (-vv for debug detail) on stderr",
    )
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=DEFAULT_CONNECT_TIMEOUT,
        metavar="SECONDS",
        help="give up connecting to a server after this long (default %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="give up waiting for any one reply after this long: from glusterd "
        f"(default {mgmt.DEFAULT_CALL_TIMEOUT:g}) and from a brick (default "
        f"{DEFAULT_REQUEST_TIMEOUT:g}; a brick that goes silent altogether is "
        "dropped sooner, after the volume's ping-timeout, 42 s by default)",
    )
    parser.add_argument(
        "--write-behind",
        choices=("on", "off", "volfile"),
        default="volfile",
        help="acknowledge writes before the bricks have them, as libgfapi does "
        "(gluster's performance/write-behind; a failed write is reported at the "
        "next flush or at close): on, off, or as the volfile says (default)",
    )
    tracing = parser.add_argument_group(
        "tracing (several may be combined; give them before the command)"
    )
    tracing.add_argument(
        "--trace",
        dest="trace",
        action="store_const",
        const="text",
        default=None,
        help="print one line per RPC call and reply, and connection events, on "
        "stderr; --trace=full prints every decoded field and xdata dict",
    )
    # `--trace=full` is rewritten to this before parsing (_trace_argv):
    # argparse cannot give an option both a bare and an `=value` form without
    # also swallowing the command name after a bare `--trace`.
    tracing.add_argument(
        "--trace-full",
        dest="trace",
        action="store_const",
        const="full",
        help=argparse.SUPPRESS,
    )
    tracing.add_argument(
        "--trace-json",
        metavar="FILE",
        help="write the trace as JSON lines to FILE",
    )
    tracing.add_argument(
        "--trace-pcap",
        metavar="FILE",
        help="write the bytes sent and received as a pcap file (tshark -r FILE)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    volfile_cmd = commands.add_parser(
        "volfile",
        help="print a volume's client volfile, its translator graph or its bricks",
        description=_VOLFILE_HELP,
        epilog=_URI_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    volfile_cmd.add_argument("uri", metavar="URI", help="gluster URI of the volume")
    shape = volfile_cmd.add_mutually_exclusive_group()
    shape.add_argument(
        "--graph",
        action="store_true",
        help="print the translator tree the client would build, with bricks",
    )
    shape.add_argument(
        "--json",
        action="store_true",
        help="print the bricks as JSON: host, path, and the port glusterd's "
        "portmapper reports (null with an error when a brick is not running)",
    )
    volfile_cmd.set_defaults(run=_run_volfile)

    info = _add_command(
        commands,
        "info",
        "show an image's size, allocation, gfid and bricks",
        _INFO_HELP,
        _INFO_EXAMPLES,
    )
    info.add_argument("uri", metavar="URI", help="gluster URI of the image")
    info.add_argument("--json", action="store_true", help="print a JSON object")
    info.set_defaults(run=_run_info)

    create = _add_command(
        commands,
        "create",
        "create a raw image of a given size",
        _CREATE_HELP + _SIZE_HELP,
        _CREATE_EXAMPLES,
    )
    create.add_argument("uri", metavar="URI", help="gluster URI of the new image")
    create.add_argument("size", metavar="SIZE", type=_size_arg, help="its size")
    create.add_argument(
        "--preallocation",
        choices=("off", "falloc", "full"),
        default="off",
        help="off: sparse (default); falloc: reserve blocks; full: write zeros",
    )
    create.add_argument(
        "--exist-ok",
        action="store_true",
        help="if the image exists, empty it and resize it (qemu-img create does "
        "this) instead of failing with EEXIST",
    )
    create.add_argument(
        "--parents", action="store_true", help="create missing parent folders"
    )
    create.set_defaults(run=_run_create)

    cp = _add_command(
        commands,
        "cp",
        "copy an image: local <-> gluster, gluster -> gluster",
        _CP_HELP,
        _CP_EXAMPLES,
    )
    cp.add_argument("src", metavar="SRC", help="gluster URI, local path, or -")
    cp.add_argument("dst", metavar="DST", help="gluster URI, local path, or -")
    cp.add_argument(
        "--sparse",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="leave holes where the source has holes or all-zero blocks (default: on)",
    )
    cp.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar on stderr (default: when stderr is a terminal)",
    )
    cp.set_defaults(run=_run_cp)

    map_cmd = _add_command(
        commands,
        "map",
        "list an image's data and hole ranges (like qemu-img map)",
        _MAP_HELP,
        _MAP_EXAMPLES,
    )
    map_cmd.add_argument("uri", metavar="URI", help="gluster URI of the image")
    map_cmd.add_argument(
        "--json", action="store_true", help="print qemu-img map's JSON"
    )
    map_cmd.set_defaults(run=_run_map)

    rm = _add_command(commands, "rm", "delete an image", _RM_HELP, _RM_EXAMPLES)
    rm.add_argument("uri", metavar="URI", help="gluster URI of the image")
    rm.set_defaults(run=_run_rm)

    io = _add_command(
        commands,
        "io",
        "run qemu-io style read/write/verify commands on an image",
        _IO_HELP + "\n" + _SIZE_HELP,
        _IO_EXAMPLES,
    )
    io.add_argument("uri", metavar="URI", help="gluster URI of the image")
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
        type=_size_arg,
        help="create the image with this size first (fails if it exists)",
    )
    io.set_defaults(run=_run_io)
    # Commands that live in their own modules register here, one line each:
    # each module has add_command(commands) adding its subparser with a
    # `run` coroutine default, like the commands above.
    from pygluster import cli_bench, cli_doctor

    cli_doctor.add_command(commands)
    cli_bench.add_command(commands)
    from pygluster import cli_decode

    cli_decode.add_command(commands)
    return parser


def _write_behind(args: argparse.Namespace) -> bool | None:
    """--write-behind as open_async's ``write_behind``."""
    choice = getattr(args, "write_behind", "volfile")
    return {"on": True, "off": False}.get(choice)


async def _run_volfile(args: argparse.Namespace) -> int:
    uri = GlusterURI.parse(args.uri, require_image=False)
    fetched = await mgmt.fetch_volfile(
        uri, connect_timeout=args.connect_timeout, call_timeout=_mgmt_timeout(args)
    )
    if not (args.graph or args.json):
        sys.stdout.buffer.write(fetched.text.encode("utf-8", "surrogateescape"))
        sys.stdout.flush()
        return 0
    graph = volfile.parse(fetched.text)
    if args.graph:
        from pygluster.xlators.graph import plan

        actions = {
            step.name: step.action
            for step in plan(graph, write_behind=_write_behind(args))
        }
        print(volfile.format_tree(graph, annotate=lambda x: actions.get(x.name, "?")))
        return 0
    ports = await mgmt.brick_ports(
        graph.bricks(),
        connect_timeout=args.connect_timeout,
        call_timeout=_mgmt_timeout(args),
    )
    document: dict[str, Any] = {
        "volume": fetched.volume,
        "volfile_server": fetched.server,
        "top": graph.top.name,
        "bricks": [
            {
                "xlator": p.brick.xlator,
                "host": p.brick.host,
                "path": p.brick.path,
                "port": p.port,
                "transport": p.brick.transport,
                "address_family": p.brick.address_family,
                "error": str(p.error) if p.error is not None else None,
            }
            for p in ports
        ],
    }
    print(json.dumps(document, indent=2))
    return 0 if all(p.error is None for p in ports) else 1


# --- info ------------------------------------------------------------------------


def _kind(xlator: Xlator) -> str:
    # DistributeXlator -> "distribute", ReplicateXlator -> "replicate", ...
    return type(xlator).__name__.removesuffix("Xlator").lower()


def _volume_type(graph: ClientGraph) -> str:
    """A human name for the volume's layout, from the translator stack.

    "single brick", "distribute (3 bricks)", "replicate (3 bricks)", and for
    stacked layouts gluster's own compound name: "distribute-replicate (6
    bricks)".
    """
    count = len(graph.clients)
    top = graph.top
    if isinstance(top, ClientXlator) or count == 1:
        return "single brick"  # glusterd puts a DHT over even one brick
    while len(top.children) == 1:  # a DHT over one subvolume changes nothing
        top = top.children[0]
    kinds = [_kind(top)]
    inner = {_kind(child) for child in top.children if child.children}
    if len(inner) == 1:
        kinds.append(inner.pop())
    return f"{'-'.join(kinds)} ({count} brick{'s' if count != 1 else ''})"


def _format_time(seconds: int, nanoseconds: int) -> str:
    try:
        moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return f"{seconds}.{nanoseconds:09d} (seconds since the epoch)"
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{nanoseconds:09d}Z"


def _human_bytes(value: int) -> str:
    if value < 1024:
        return f"{value} bytes"
    return iolang.format_size(value)


async def _run_info(args: argparse.Namespace) -> int:
    uri = GlusterURI.parse(args.uri)
    async with blockdev.open_async(uri, "r", **_brick_timeouts(args)) as device:
        st = await device.stat()
        bricks = device.bricks()
        volume_type = _volume_type(device.graph)
        volume = device.graph.volume
        path = device.path
    allocated = st.ia_blocks * 512  # ia_blocks counts 512-byte units (stat(2))
    mtime = _format_time(st.ia_mtime, st.ia_mtime_nsec)
    if args.json:
        document: dict[str, Any] = {
            "uri": str(uri),
            "volume": volume,
            "volume_type": volume_type,
            "path": path,
            "bricks": bricks,
            "size": st.ia_size,
            "allocated": allocated,
            "gfid": str(uuid.UUID(bytes=st.ia_gfid)),
            "mode": f"{stat.S_IMODE(st.mode):04o}",
            "uid": st.ia_uid,
            "gid": st.ia_gid,
            "mtime": mtime,
            "mtime_ns": st.ia_mtime * 1_000_000_000 + st.ia_mtime_nsec,
        }
        print(json.dumps(document, indent=2))
        return 0
    rows = [
        ("image", str(uri)),
        ("volume", volume),
        ("type", volume_type),
        ("bricks" if len(bricks) != 1 else "brick", ", ".join(bricks)),
        ("size", f"{st.ia_size} ({_human_bytes(st.ia_size)})"),
        ("allocated", f"{allocated} ({_human_bytes(allocated)})"),
        ("gfid", str(uuid.UUID(bytes=st.ia_gfid))),
        ("mode", f"{stat.S_IMODE(st.mode):04o} ({stat.filemode(st.mode)})"),
        ("uid", str(st.ia_uid)),
        ("gid", str(st.ia_gid)),
        ("mtime", mtime),
    ]
    width = max(len(key) for key, _ in rows) + 1
    for key, value in rows:
        print(f"{key + ':':<{width}} {value}")
    return 0


# --- create, rm ------------------------------------------------------------------


async def _run_create(args: argparse.Namespace) -> int:
    uri = GlusterURI.parse(args.uri)
    await blockdev.create_async(
        uri,
        args.size,
        preallocation=args.preallocation,
        exist_ok=args.exist_ok,
        parents=args.parents,
        **_brick_timeouts(args),
    )
    print(
        f"created {uri}: {args.size} bytes ({_human_bytes(args.size)}), "
        f"preallocation {args.preallocation}"
    )
    return 0


async def _run_rm(args: argparse.Namespace) -> int:
    uri = GlusterURI.parse(args.uri)
    await blockdev.remove_async(uri, **_brick_timeouts(args))
    return 0


# --- map -------------------------------------------------------------------------


def _qemu_map_json(extents: Sequence[blockdev.Extent]) -> str:
    """What ``qemu-img map --output=json -f raw`` prints (qemu-img.c dump_map_entry).

    A raw image is present everywhere and maps to itself (offset == start);
    SEEK_HOLE ranges are ``zero``, SEEK_DATA ranges ``data``. The text is
    byte for byte qemu's: ``[`` + entries joined by ``,\\n`` + ``]\\n``.
    """
    entries = [
        f'{{ "start": {e.offset}, "length": {e.length}, "depth": 0, '
        f'"present": true, "zero": {"false" if e.data else "true"}, '
        f'"data": {"true" if e.data else "false"}, "offset": {e.offset}}}'
        for e in extents
    ]
    return "[" + ",\n".join(entries) + "]\n"


async def _run_map(args: argparse.Namespace) -> int:
    uri = GlusterURI.parse(args.uri)
    async with blockdev.open_async(uri, "r", **_brick_timeouts(args)) as device:
        extents = await device.extents()
    if args.json:
        sys.stdout.write(_qemu_map_json(extents))
        return 0
    print(f"{'Offset':<20}{'Length':<20}Type")
    for extent in extents:
        kind = "data" if extent.data else "hole"
        print(f"{extent.offset:<#20x}{extent.length:<#20x}{kind}")
    return 0


# --- io --------------------------------------------------------------------------


def _say(*lines: str) -> None:
    for line in lines:
        print(line)
    sys.stdout.flush()  # keep results ahead of a later error on stderr


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
        raise _CommandError(
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
            raise _CommandError(
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
                _say(f"Pattern verification failed at offset {offset}, {length} bytes")
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
            _say(iolang.format_size(await device.size()))
            return True
        case iolang.Map():
            extents = await device.extents()
            _say(*(iolang.format_map_line(e.offset, e.length, e.data) for e in extents))
            return True
        case _:
            assert_never(command)
    elapsed = time.perf_counter() - started
    _say(
        f"{verb} {length}/{length} bytes at offset {offset}",
        iolang.format_rate_line(length, 1, elapsed),
    )
    return ok


async def _run_io(args: argparse.Namespace) -> int:
    uri = GlusterURI.parse(args.uri)
    commands: list[iolang.Command] = args.commands
    if args.create is not None:
        await blockdev.create_async(uri, args.create, **_brick_timeouts(args))
    mode: blockdev.Mode = "r+" if iolang.needs_write(commands) else "r"
    failed = False
    async with blockdev.open_async(
        uri,
        mode,
        **_brick_timeouts(args),
        write_behind=_write_behind(args),
    ) as device:
        for command in commands:
            if not await _io_one(device, command):
                failed = True  # qemu-io goes on after a failed pattern check
    return 1 if failed else 0


# --- cp --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Piece:
    """A run of the source: ``data`` bytes, or a hole (``data`` None)."""

    offset: int
    length: int
    data: bytes | None


def _local_error(operation: str, name: str, exc: OSError) -> _CommandError:
    return _CommandError(
        f"{operation} {name} failed: [Errno {exc.errno}] {exc.strerror}"
    )


def _nonzero_runs(data: bytes) -> Iterator[tuple[int, int]]:
    """(start, stop) of the runs of ``data`` that are not all-zero ZERO_BLOCKs."""
    size = len(data)
    if size == CHUNK_SIZE and data == _ZEROS:
        return
    start: int | None = None
    for pos in range(0, size, ZERO_BLOCK):
        block = data[pos : pos + ZERO_BLOCK]
        zero = block == (
            _ZERO_BLOCK_BYTES if len(block) == ZERO_BLOCK else bytes(len(block))
        )
        if zero and start is not None:
            yield start, pos
            start = None
        elif not zero and start is None:
            start = pos
    if start is not None:
        yield start, size


def _read_full(fd: int, count: int) -> bytes:
    """Up to ``count`` bytes from a stream; fewer only at end of input."""
    parts: list[bytes] = []
    left = count
    while left:
        part = os.read(fd, left)
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _local_ranges(fd: int, size: int) -> Iterator[tuple[int, int, bool]]:
    """(offset, length, is_data) runs of a local file, via SEEK_DATA/SEEK_HOLE.

    Where the file system cannot say (no SEEK_DATA, EINVAL), the rest is
    treated as data.
    """
    pos = 0
    seek_data = getattr(os, "SEEK_DATA", None)
    seek_hole = getattr(os, "SEEK_HOLE", None)
    while pos < size:
        if seek_data is None or seek_hole is None:
            yield pos, size - pos, True
            return
        try:
            data_at = min(os.lseek(fd, pos, seek_data), size)
        except OSError as exc:
            if exc.errno != errno.ENXIO:  # ENXIO: no data after pos
                yield pos, size - pos, True
                return
            data_at = size
        if data_at > pos:
            yield pos, data_at - pos, False
        if data_at >= size:
            return
        try:
            hole_at = min(os.lseek(fd, data_at, seek_hole), size)
        except OSError:
            hole_at = size
        yield data_at, hole_at - data_at, True
        pos = hole_at


class _GlusterSource:
    def __init__(self, device: blockdev.AsyncBlockDevice, size: int) -> None:
        self.device = device
        self.size: int | None = size
        self.name = str(device.uri)

    async def produce(self, send: trio.MemorySendChannel[_Piece]) -> None:
        async with send:
            for extent in await self.device.extents():
                end = extent.offset + extent.length
                if not extent.data:
                    await send.send(_Piece(extent.offset, extent.length, None))
                    continue
                for pos in range(extent.offset, end, CHUNK_SIZE):
                    count = min(CHUNK_SIZE, end - pos)
                    data = await self.device.pread(count, pos)
                    if len(data) < count:
                        raise _CommandError(
                            f"read {count} bytes at offset {pos} of {self.name}: "
                            f"got only {len(data)} (the image shrank while copying)"
                        )
                    await send.send(_Piece(pos, count, data))


class _LocalSource:
    """A local file or block device (``size`` known), or a stream (None)."""

    def __init__(self, fd: int, name: str) -> None:
        self.fd = fd
        self.name = name
        mode = os.fstat(fd).st_mode
        self.size: int | None = None
        if stat.S_ISREG(mode):
            self.size = os.fstat(fd).st_size
        elif stat.S_ISBLK(mode):
            self.size = os.lseek(fd, 0, os.SEEK_END)

    async def produce(self, send: trio.MemorySendChannel[_Piece]) -> None:
        async with send:
            try:
                if self.size is None:
                    await self._stream(send)
                else:
                    await self._sized(send, self.size)
            except OSError as exc:
                raise _local_error("read", self.name, exc) from None

    async def _stream(self, send: trio.MemorySendChannel[_Piece]) -> None:
        pos = 0
        while True:
            data = await trio.to_thread.run_sync(_read_full, self.fd, CHUNK_SIZE)
            if not data:
                return
            await send.send(_Piece(pos, len(data), data))
            pos += len(data)

    async def _sized(self, send: trio.MemorySendChannel[_Piece], size: int) -> None:
        for offset, length, is_data in _local_ranges(self.fd, size):
            if not is_data:
                await send.send(_Piece(offset, length, None))
                continue
            end = offset + length
            for pos in range(offset, end, CHUNK_SIZE):
                count = min(CHUNK_SIZE, end - pos)
                data = await trio.to_thread.run_sync(os.pread, self.fd, count, pos)
                if len(data) < count:
                    raise _CommandError(
                        f"read {count} bytes at offset {pos} of {self.name}: got "
                        f"only {len(data)} (the file shrank while copying)"
                    )
                await send.send(_Piece(pos, count, data))


class _GlusterDestination:
    """A freshly created image: it reads as zeros, so holes need no writing."""

    zeroed = True

    def __init__(self, device: blockdev.AsyncBlockDevice, sparse: bool) -> None:
        self.device = device
        self.sparse = sparse

    async def write(self, offset: int, data: memoryview) -> None:
        await self.device.pwrite(data, offset)

    async def hole(self, offset: int, length: int) -> None:
        if not self.sparse:
            await self.device.write_zeroes(offset, length)

    async def finish(self, total: int, size_known: bool) -> None:
        if not size_known:
            await self.device.truncate(total)  # trailing zeros were skipped
        await self.device.flush()


class _LocalDestination:
    """A local file: sparse (pwrite, holes skipped) when it is a regular file,
    else written in order with holes as zeros (stdout, a pipe, a device)."""

    def __init__(self, fd: int, name: str, sparse: bool, *, stream: bool) -> None:
        self.fd = fd
        self.name = name
        # Standard output is always written in order: it may be a pipe, or a
        # file opened for appending, where pwrite would not go where asked.
        self.regular = not stream and stat.S_ISREG(os.fstat(fd).st_mode)
        self.sparse = sparse and self.regular
        self.zeroed = self.regular  # just truncated: reads as zeros
        self._pos = 0

    def _write_all(self, data: memoryview, offset: int) -> None:
        while data:
            if self.regular:
                done = os.pwrite(self.fd, data, offset)
            else:
                done = os.write(self.fd, data)
            data = data[done:]
            offset += done

    async def _call(self, data: memoryview, offset: int) -> None:
        try:
            await trio.to_thread.run_sync(self._write_all, data, offset)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _local_error("write", self.name, exc) from None

    async def start(self, size: int | None) -> None:
        if self.regular and size is not None:
            try:
                os.ftruncate(self.fd, size)
            except OSError as exc:
                raise _local_error("truncate", self.name, exc) from None

    async def write(self, offset: int, data: memoryview) -> None:
        if not self.regular and offset != self._pos:
            await self.hole(self._pos, offset - self._pos)
        await self._call(data, offset)
        self._pos = offset + len(data)

    async def hole(self, offset: int, length: int) -> None:
        if self.sparse:
            return
        end = offset + length
        zeros = memoryview(_ZEROS)
        for pos in range(offset, end, CHUNK_SIZE):
            await self._call(zeros[: min(CHUNK_SIZE, end - pos)], pos)
        self._pos = end

    async def finish(self, total: int, size_known: bool) -> None:
        if self.regular and not size_known:
            try:
                os.ftruncate(self.fd, total)
            except OSError as exc:
                raise _local_error("truncate", self.name, exc) from None


def _is_uri(text: str) -> bool:
    return text.startswith(("gluster", "json:"))


def _open_local(name: str, *, write: bool) -> tuple[int, bool]:
    """(fd, whether to close it) for a path or "-"."""
    if name == "-":
        return (1 if write else 0), False
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC if write else os.O_RDONLY
    try:
        return os.open(name, flags | getattr(os, "O_CLOEXEC", 0), 0o666), True
    except OSError as exc:
        raise _local_error("open", name, exc) from None


async def _same_image(
    source: blockdev.AsyncBlockDevice, uri: GlusterURI, limits: dict[str, Any]
) -> bool:
    """True if ``uri`` is the image ``source`` has open (same volume and gfid)."""
    if source.uri.volume != uri.volume:
        return False
    try:
        async with blockdev.open_async(uri, "r", **limits) as other:
            return other.gfid == source.gfid
    except FopError as exc:
        if exc.errno == errno.ENOENT:
            return False
        raise


async def _copy(
    source: _GlusterSource | _LocalSource,
    destination: _GlusterDestination | _LocalDestination,
    progress: Progress,
) -> int:
    """Stream the source's pieces into the destination; return the bytes seen."""
    send, receive = trio.open_memory_channel[_Piece](_QUEUED_CHUNKS)
    skip_zeroes = destination.sparse and destination.zeroed
    total = 0

    async def consume() -> None:
        nonlocal total
        async with receive:
            async for piece in receive:
                if piece.data is None:
                    await destination.hole(piece.offset, piece.length)
                elif skip_zeroes:
                    view = memoryview(piece.data)
                    for start, stop in _nonzero_runs(piece.data):
                        await destination.write(piece.offset + start, view[start:stop])
                else:
                    await destination.write(piece.offset, memoryview(piece.data))
                total = piece.offset + piece.length
                progress.update(piece.length)

    produce: Callable[[], Awaitable[None]] = functools.partial(source.produce, send)
    await run_all([produce, consume])
    return total


async def _run_cp(args: argparse.Namespace) -> int:
    src_is_uri, dst_is_uri = _is_uri(args.src), _is_uri(args.dst)
    if not (src_is_uri or dst_is_uri):
        raise _UsageError(
            f"cp {args.src} {args.dst}: one of SRC and DST must be a gluster URI "
            "(use cp(1) for local copies)"
        )
    src_uri = GlusterURI.parse(args.src) if src_is_uri else None
    dst_uri = GlusterURI.parse(args.dst) if dst_is_uri else None
    limits = _brick_timeouts(args)
    async with AsyncExitStack() as stack:
        source: _GlusterSource | _LocalSource
        if src_uri is not None:
            device = await stack.enter_async_context(
                blockdev.open_async(src_uri, "r", **limits)
            )
            source = _GlusterSource(device, await device.size())
        else:
            fd, close = _open_local(args.src, write=False)
            if close:
                stack.callback(os.close, fd)
            source = _LocalSource(fd, "standard input" if args.src == "-" else args.src)

        destination: _GlusterDestination | _LocalDestination
        if dst_uri is not None:
            if isinstance(source, _GlusterSource) and await _same_image(
                source.device, dst_uri, limits
            ):
                raise _UsageError(f"cp: {args.src} and {args.dst} are the same image")
            await blockdev.create_async(
                dst_uri, source.size or 0, exist_ok=True, **limits
            )
            target = await stack.enter_async_context(
                blockdev.open_async(
                    dst_uri,
                    "r+",
                    **limits,
                    write_behind=_write_behind(args),
                )
            )
            destination = _GlusterDestination(target, args.sparse)
        else:
            fd, close = _open_local(args.dst, write=True)
            if close:
                stack.callback(os.close, fd)
            name = "standard output" if args.dst == "-" else args.dst
            destination = _LocalDestination(
                fd, name, args.sparse, stream=args.dst == "-"
            )
            await destination.start(source.size)

        show = sys.stderr.isatty() if args.progress is None else args.progress
        with open_progress(source.size, enabled=show, label=source.name) as progress:
            total = await _copy(source, destination, progress)
        if source.size is not None:
            total = source.size
        await destination.finish(total, size_known=source.size is not None)
    return 0


# --- main ------------------------------------------------------------------------


def _seconds(text: str) -> float:
    """argparse type: a finite, positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a positive number of seconds"
        )
    return value


def _mgmt_timeout(args: argparse.Namespace) -> float:
    timeout: float = mgmt.DEFAULT_CALL_TIMEOUT if args.timeout is None else args.timeout
    return timeout


def _brick_timeouts(args: argparse.Namespace) -> dict[str, Any]:
    """The connect and per-request limits for opening images (--timeout)."""
    return {
        "connect_timeout": args.connect_timeout,
        "timeout": DEFAULT_REQUEST_TIMEOUT if args.timeout is None else args.timeout,
    }


def _leaf(exc: BaseException) -> BaseException:
    """The one exception inside (nested) single-member exception groups."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _error(message: object) -> None:
    with suppress(OSError, ValueError):
        sys.stdout.flush()
    print(f"pygluster: error: {message}", file=sys.stderr)


def _trace_argv(argv: Sequence[str]) -> list[str]:
    """Spell ``--trace=full`` / ``--trace=text`` as argparse can parse them."""
    spelled = {"--trace=full": "--trace-full", "--trace=text": "--trace"}
    out: list[str] = []
    for index, arg in enumerate(argv):
        if arg == "--":
            return out + list(argv[index:])
        out.append(spelled.get(arg, arg))
    return out


def _open_trace(args: argparse.Namespace, stack: ExitStack) -> None:
    """Activate the sinks the global --trace* options ask for, in ``stack``."""
    full = args.trace == "full"
    sinks: list[trace.Tracer] = []
    if args.trace is not None:
        sinks.append(trace.TextTraceSink(sys.stderr, full=full))
    if args.trace_json is not None:
        sinks.append(stack.enter_context(trace.JsonTraceSink.open(args.trace_json)))
    if args.trace_pcap is not None:
        sinks.append(stack.enter_context(trace.PcapTraceSink(args.trace_pcap)))
    if sinks:
        stack.enter_context(trace.tracing(*sinks))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pygluster`` console script."""
    parser = _build_parser()
    args = parser.parse_args(_trace_argv(sys.argv[1:] if argv is None else argv))
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="pygluster: %(name)s: %(message)s")
    try:
        try:
            with ExitStack() as stack:
                _open_trace(args, stack)
                status: int = trio.run(args.run, args)
        except BaseExceptionGroup as group:
            raise _leaf(group) from None
    except (URIError, IoScriptError, _UsageError) as exc:
        _error(exc)
        return 2
    except GlusterError as exc:
        _error(exc)
        return 1
    except KeyboardInterrupt:
        print("pygluster: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Nothing more can reach the reader; keep Python's exit-time flush of
        # stdout from printing a second error about it.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as exc:  # a local file: the message names it
        _error(exc)
        return 1
    except BaseExceptionGroup as group:  # several at once: show the first
        first: BaseException = group
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        if not isinstance(first, GlusterError | OSError):
            raise  # a bug: keep the traceback
        _error(first)
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
