"""The ``pygluster`` command line: global options, tracing, and how errors end.

Every command takes a gluster URI (see ``pygluster --help``). Errors are one
line on stderr and a non-zero exit status, never a traceback: 2 for a usage
or URI error, 1 for everything the cluster or the network said no to.

Image commands: ``info``, ``create``, ``cp``, ``map``, ``rm`` and ``io`` (a
qemu-io-like command language, parsed by :mod:`pygluster.cli.iolang`); the
tools ``doctor``, ``bench`` and ``decode``; ``cluster`` sets up the local
test cluster (:mod:`pygluster.testing`). Each lives in its own module here;
all of them run on the async API (:mod:`pygluster.blockdev`) under one
``trio.run``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from contextlib import ExitStack, suppress
from typing import TYPE_CHECKING

import trio

from pygluster import events, mgmt
from pygluster.cli import bench, cluster, cp, create, decode, doctor, info, io, nbd, rm
from pygluster.cli import map as map_command
from pygluster.cli import volfile as volfile_command
from pygluster.cli.iolang import IoScriptError
from pygluster.cli.options import URI_HELP, add_tls_options, seconds
from pygluster.errors import GlusterError, URIError, UsageError
from pygluster.rpc.client import DEFAULT_CONNECT_TIMEOUT
from pygluster.xlators.client import DEFAULT_REQUEST_TIMEOUT

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pygluster.events import Tracer

__all__ = ["build_parser", "main"]

#: The commands, in the order ``--help`` lists them.
_COMMANDS = (
    volfile_command,
    info,
    create,
    cp,
    map_command,
    rm,
    io,
    nbd,
    doctor,
    bench,
    decode,
    cluster,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: global options, then one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="pygluster",
        description="A pure-Python GlusterFS client: no libgfapi, the wire protocol "
        "spoken directly.",
        epilog=URI_HELP,
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
        type=seconds,
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
    add_tls_options(parser)
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
    # One module per command, each with add_command(commands) adding its
    # subparser with a `run` coroutine default.
    for command in _COMMANDS:
        command.add_command(commands)
    return parser


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
    from pygluster.capture import trace

    sinks: list[Tracer] = []
    if args.trace is not None:
        sinks.append(trace.TextTraceSink(sys.stderr, full=full))
    if args.trace_json is not None:
        sinks.append(stack.enter_context(trace.JsonTraceSink.open(args.trace_json)))
    if args.trace_pcap is not None:
        sinks.append(stack.enter_context(trace.PcapTraceSink(args.trace_pcap)))
    if sinks:
        stack.enter_context(events.tracing(*sinks))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pygluster`` console script."""
    parser = build_parser()
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
    except (URIError, IoScriptError, UsageError) as exc:
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
