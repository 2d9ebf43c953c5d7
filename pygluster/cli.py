"""The ``pygluster`` command line.

Every command takes a gluster URI (see ``pygluster --help``). Errors are one
line on stderr and a non-zero exit status, never a traceback: 2 for a usage
or URI error, 1 for everything the cluster or the network said no to.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import TYPE_CHECKING, Any

import trio

from pygluster import mgmt, volfile
from pygluster.errors import GlusterError, URIError
from pygluster.rpc.client import DEFAULT_CONNECT_TIMEOUT
from pygluster.uri import GlusterURI

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]

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

_VOLFILE_HELP = """\
Fetch the client volfile of a volume from glusterd (the GETSPEC call) and
print it exactly as glusterd sent it. A local glusterd serves the "trusted"
volfile, which includes the bricks' login credentials.
"""


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
        type=float,
        default=mgmt.DEFAULT_CALL_TIMEOUT,
        metavar="SECONDS",
        help="give up waiting for any one reply after this long (default %(default)s)",
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
    return parser


async def _run_volfile(args: argparse.Namespace) -> int:
    uri = GlusterURI.parse(args.uri, require_image=False)
    fetched = await mgmt.fetch_volfile(
        uri, connect_timeout=args.connect_timeout, call_timeout=args.timeout
    )
    if not (args.graph or args.json):
        sys.stdout.buffer.write(fetched.text.encode("utf-8", "surrogateescape"))
        sys.stdout.flush()
        return 0
    graph = volfile.parse(fetched.text)
    if args.graph:
        print(volfile.format_tree(graph))
        return 0
    ports = await mgmt.brick_ports(
        graph.bricks(), connect_timeout=args.connect_timeout, call_timeout=args.timeout
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pygluster`` console script."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="pygluster: %(name)s: %(message)s")
    try:
        status: int = trio.run(args.run, args)
    except URIError as exc:
        print(f"pygluster: error: {exc}", file=sys.stderr)
        return 2
    except GlusterError as exc:
        print(f"pygluster: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pygluster: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
