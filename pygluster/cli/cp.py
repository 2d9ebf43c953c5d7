"""The ``cp`` command: copy an image, local <-> gluster or gluster -> gluster."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import AsyncExitStack
from typing import Any

from pygluster import blockdev
from pygluster.cli.copy import (
    GlusterDestination,
    GlusterSource,
    LocalDestination,
    LocalSource,
    copy,
    is_uri,
    open_local,
    same_image,
)
from pygluster.cli.options import add_command as add_parser
from pygluster.cli.options import brick_timeouts, parse_uri, write_behind
from pygluster.cli.progress import open_progress
from pygluster.errors import UsageError

__all__ = ["add_command", "run"]


CP_HELP = """\
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
CP_EXAMPLES = """\
examples:
  pygluster cp disk.raw gluster://server/vol/vm.img
  pygluster cp gluster://server/vol/vm.img backup.raw
  pygluster cp gluster://server/vol/a.img gluster://other/vol2/b.img
  pygluster cp gluster://server/vol/vm.img - | gzip > vm.raw.gz
  curl -s https://example.org/disk.raw | pygluster cp - gluster://server/vol/d.img
"""


def add_command(commands: Any) -> None:
    """Add the command's subparser to ``commands``."""
    cp = add_parser(
        commands,
        "cp",
        "copy an image: local <-> gluster, gluster -> gluster",
        CP_HELP,
        CP_EXAMPLES,
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
    cp.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    """Run ``pygluster cp``."""
    src_is_uri, dst_is_uri = is_uri(args.src), is_uri(args.dst)
    if not (src_is_uri or dst_is_uri):
        raise UsageError(
            f"cp {args.src} {args.dst}: one of SRC and DST must be a gluster URI "
            "(use cp(1) for local copies)"
        )
    src_uri = parse_uri(args, args.src) if src_is_uri else None
    dst_uri = parse_uri(args, args.dst) if dst_is_uri else None
    limits = brick_timeouts(args)
    async with AsyncExitStack() as stack:
        source: GlusterSource | LocalSource
        if src_uri is not None:
            device = await stack.enter_async_context(
                blockdev.open_async(src_uri, "r", **limits)
            )
            source = GlusterSource(device, await device.size())
        else:
            fd, close = open_local(args.src, write=False)
            if close:
                stack.callback(os.close, fd)
            source = LocalSource(fd, "standard input" if args.src == "-" else args.src)

        destination: GlusterDestination | LocalDestination
        if dst_uri is not None:
            if isinstance(source, GlusterSource) and await same_image(
                source.device, dst_uri, limits
            ):
                raise UsageError(f"cp: {args.src} and {args.dst} are the same image")
            await blockdev.create_async(
                dst_uri, source.size or 0, exist_ok=True, **limits
            )
            target = await stack.enter_async_context(
                blockdev.open_async(
                    dst_uri,
                    "r+",
                    **limits,
                    write_behind=write_behind(args),
                )
            )
            destination = GlusterDestination(target, args.sparse)
        else:
            fd, close = open_local(args.dst, write=True)
            if close:
                stack.callback(os.close, fd)
            name = "standard output" if args.dst == "-" else args.dst
            destination = LocalDestination(
                fd, name, args.sparse, stream=args.dst == "-"
            )
            await destination.start(source.size)

        show = sys.stderr.isatty() if args.progress is None else args.progress
        with open_progress(source.size, enabled=show, label=source.name) as progress:
            total = await copy(source, destination, progress)
        if source.size is not None:
            total = source.size
        await destination.finish(total, size_known=source.size is not None)
    return 0
