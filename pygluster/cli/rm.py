"""The ``rm`` command: delete an image."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pygluster import blockdev
from pygluster.cli.options import add_command as add_parser
from pygluster.cli.options import brick_timeouts, parse_uri

if TYPE_CHECKING:
    import argparse

__all__ = ["add_command", "run"]


RM_HELP = """\
Delete an image (UNLINK). It fails, with ENOENT, if there is none.
"""
RM_EXAMPLES = """\
examples:
  pygluster rm gluster://server/vol/old.img
"""


def add_command(commands: Any) -> None:
    """Add the command's subparser to ``commands``."""
    rm = add_parser(
        commands,
        "rm",
        "delete an image",
        RM_HELP,
        RM_EXAMPLES,
        uri="gluster URI of the image",
    )
    rm.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    """Run ``pygluster rm``."""
    uri = parse_uri(args, args.uri)
    await blockdev.remove_async(uri, **brick_timeouts(args))
    return 0
