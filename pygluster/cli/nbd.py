"""The ``nbd`` command: serve one image over NBD until SIGINT/SIGTERM."""

from __future__ import annotations

import signal
import sys
from typing import TYPE_CHECKING, Any

import trio

from pygluster.cli.options import add_command as add_parser
from pygluster.cli.options import (
    brick_timeouts,
    parse_uri,
    positive_integer,
    write_behind,
)
from pygluster.errors import UsageError
from pygluster.nbd.server import DEFAULT_PORT, serve

if TYPE_CHECKING:
    import argparse

__all__ = ["add_command", "run"]

NBD_HELP = """\
Export one image over NBD, so that any NBD client reaches it with no gluster
code: qemu (-drive file=nbd://...), qemu-img, qemu-io, nbdcopy, nbdinfo, the
kernel's nbd-client. It runs in the foreground and prints one line, the NBD
URL it listens on, once it is ready. SIGINT or SIGTERM stops it cleanly: no
new clients or requests, the requests in flight are answered, the image is
flushed and closed, exit status 0.

The image is opened once; every client shares it (see --shared). The
protocol is NBD's fixed newstyle handshake with structured replies and the
base:allocation metadata context (holes come from the image's extents);
commands READ, WRITE (with FUA), FLUSH, TRIM, WRITE_ZEROES (NO_HOLE,
FAST_ZERO) and BLOCK_STATUS. There is no TLS: the default address is
loopback only; give --bind to listen elsewhere on purpose.
"""
NBD_EXAMPLES = """\
examples:
  pygluster nbd gluster://server/vol/vm.img
  qemu-system-x86_64 -drive file=nbd://127.0.0.1:10809/vm.img,format=raw ...
  pygluster nbd --socket /run/vm.sock gluster://server/vol/vm.img
  qemu-img info 'nbd+unix:///vm.img?socket=/run/vm.sock'
  pygluster nbd --read-only --shared 4 --port 0 gluster://server/vol/base.img
"""


def add_command(commands: Any) -> None:
    """Add ``nbd`` to the ``pygluster`` subcommands."""
    parser = add_parser(
        commands,
        "nbd",
        "serve an image over NBD (qemu, qemu-img, nbdcopy, nbd-client)",
        NBD_HELP,
        NBD_EXAMPLES,
        uri="gluster URI of the image to export",
    )
    parser.add_argument(
        "--bind",
        default="127.0.0.1",
        metavar="ADDR",
        help="address to listen on (default %(default)s: this machine only)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        metavar="N",
        help="TCP port (default %(default)s; 0 picks a free one)",
    )
    parser.add_argument(
        "--socket",
        metavar="PATH",
        help="listen on this unix socket instead of TCP",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="open the image read-only; clients' writes fail with EPERM",
    )
    parser.add_argument(
        "--export-name",
        metavar="NAME",
        help="the export's name (default: the image's file name; the default "
        'export "" is served too)',
    )
    parser.add_argument(
        "--shared",
        type=positive_integer,
        default=1,
        metavar="N",
        help="serve up to N clients at once (default 1); with more than one, "
        "multi-conn is advertised (they share one open image)",
    )
    parser.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    """Run ``pygluster nbd``."""
    uri = parse_uri(args, args.uri)
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a TCP port")
    stop = trio.Event()

    def announce(url: str) -> None:
        print(url, flush=True)

    async def on_signals() -> None:
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                if stop.is_set():
                    continue
                name = signal.Signals(signum).name
                print(f"pygluster: nbd: {name}: stopping", file=sys.stderr)
                stop.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(on_signals)
        await serve(
            uri,
            host=args.bind,
            port=args.port,
            unix_socket=args.socket,
            read_only=args.read_only,
            export_name=args.export_name,
            shared=args.shared,
            stop=stop,
            ready=announce,
            write_behind=write_behind(args),
            **brick_timeouts(args),
        )
        nursery.cancel_scope.cancel()
    return 0
