"""The ``create`` command: a raw image of a given size."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pygluster import blockdev
from pygluster.cli.options import (
    SIZE_HELP,
    brick_timeouts,
    human_bytes,
    parse_uri,
    size_arg,
)
from pygluster.cli.options import add_command as add_parser

if TYPE_CHECKING:
    import argparse

__all__ = ["add_command", "run"]


CREATE_HELP = """\
Create a raw image of SIZE bytes that reads as zeros, like
`qemu-img create -f raw`. With --preallocation off (the default) the image is
sparse; falloc reserves its blocks on the brick (FALLOCATE); full writes
zeros (ZEROFILL).
"""
CREATE_EXAMPLES = """\
examples:
  pygluster create gluster://server/vol/vm.img 20G
  pygluster create --preallocation falloc gluster://server/vol/disk.img 512M
  pygluster create --parents --exist-ok gluster://server/vol/a/b/c.img 0x100000
"""


def add_command(commands: Any) -> None:
    """Add the command's subparser to ``commands``."""
    create = add_parser(
        commands,
        "create",
        "create a raw image of a given size",
        CREATE_HELP + SIZE_HELP,
        CREATE_EXAMPLES,
        uri="gluster URI of the new image",
    )
    create.add_argument("size", metavar="SIZE", type=size_arg, help="its size")
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
    create.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    """Run ``pygluster create``."""
    uri = parse_uri(args, args.uri)
    await blockdev.create_async(
        uri,
        args.size,
        preallocation=args.preallocation,
        exist_ok=args.exist_ok,
        parents=args.parents,
        **brick_timeouts(args),
    )
    print(
        f"created {uri}: {args.size} bytes ({human_bytes(args.size)}), "
        f"preallocation {args.preallocation}"
    )
    return 0
