"""The ``volfile`` command: a volume's client volfile, translator graph or bricks."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from pygluster import mgmt, volfile
from pygluster.cli.options import add_command as add_parser
from pygluster.cli.options import mgmt_timeout, parse_uri, write_behind

if TYPE_CHECKING:
    import argparse

__all__ = ["add_command", "run"]


VOLFILE_HELP = """\
Fetch the client volfile of a volume from glusterd (the GETSPEC call) and
print it exactly as glusterd sent it. A local glusterd serves the "trusted"
volfile, which includes the bricks' login credentials.
"""


def add_command(commands: Any) -> None:
    """Add the command's subparser to ``commands``."""
    volfile_cmd = add_parser(
        commands,
        "volfile",
        "print a volume's client volfile, its translator graph or its bricks",
        VOLFILE_HELP,
        "",
        uri="gluster URI of the volume",
    )
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
    volfile_cmd.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    """Print the volfile, its graph (--graph) or its bricks (--json)."""
    uri = parse_uri(args, args.uri, require_image=False)
    fetched = await mgmt.fetch_volfile(
        uri, connect_timeout=args.connect_timeout, call_timeout=mgmt_timeout(args)
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
            for step in plan(graph, write_behind=write_behind(args))
        }
        print(volfile.format_tree(graph, annotate=lambda x: actions.get(x.name, "?")))
        return 0
    ports = await mgmt.brick_ports(
        graph.bricks(),
        connect_timeout=args.connect_timeout,
        call_timeout=mgmt_timeout(args),
        tls=uri.tls,
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
