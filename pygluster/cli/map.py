"""The ``map`` command: an image's data and hole ranges, as qemu-img map."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from pygluster import blockdev
from pygluster.cli.options import add_command as add_parser
from pygluster.cli.options import brick_timeouts, parse_uri

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

__all__ = ["add_command", "run"]


MAP_HELP = """\
Print which ranges of an image hold data and which are holes, found with
SEEK_DATA/SEEK_HOLE on the brick. --json prints what `qemu-img map
--output=json -f raw` prints for the same image (same keys, order and
layout): a raw image is "present" everywhere; holes are "zero", data extents
"data".
"""
MAP_EXAMPLES = """\
examples:
  pygluster map gluster://server/vol/vm.img
  pygluster map --json gluster://server/vol/vm.img
"""


def add_command(commands: Any) -> None:
    """Add the command's subparser to ``commands``."""
    map_cmd = add_parser(
        commands,
        "map",
        "list an image's data and hole ranges (like qemu-img map)",
        MAP_HELP,
        MAP_EXAMPLES,
        uri="gluster URI of the image",
    )
    map_cmd.add_argument(
        "--json", action="store_true", help="print qemu-img map's JSON"
    )
    map_cmd.set_defaults(run=run)


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


async def run(args: argparse.Namespace) -> int:
    """Run ``pygluster map``."""
    uri = parse_uri(args, args.uri)
    async with blockdev.open_async(uri, "r", **brick_timeouts(args)) as device:
        extents = await device.extents()
    if args.json:
        sys.stdout.write(_qemu_map_json(extents))
        return 0
    print(f"{'Offset':<20}{'Length':<20}Type")
    for extent in extents:
        kind = "data" if extent.data else "hole"
        print(f"{extent.offset:<#20x}{extent.length:<#20x}{kind}")
    return 0
