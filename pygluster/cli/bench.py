"""``pygluster bench``: pygluster against libgfapi (fio, qemu) on one image.

The measurements themselves live in :mod:`pygluster.tools.bench`; this module adds
the subcommand, draws the progress lines on stderr and prints the report (a
Markdown table, or ``--json``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import trio

from pygluster.cli.options import add_command as add_parser
from pygluster.cli.options import parse_uri, positive_integer, seconds, size_arg
from pygluster.tools import bench

__all__ = ["add_command"]

_WORKLOAD_LINES = "\n  ".join(
    f"{w.name}: {w.rw}, {w.bs // 1024} KiB, queue depth {w.qd}" for w in bench.WORKLOADS
)
_BENCH_HELP = f"""\
Run the same workloads through pygluster and through libgfapi on the same
volume and image, alternating (pygluster, fio, pygluster, fio, ...) for
--rounds rounds, and print a table of the medians: MiB/s, IOPS, p50/p99
latency, CPU seconds per GiB and the pygluster/libgfapi ratio.

The image at URI is created (--force: truncated if it exists), filled with
data, and removed at the end (--keep leaves it). libgfapi runs as
`fio --ioengine=gfapi` (queue depth 1) or `gfapi_async --iodepth=N`, and for
the cold open as `qemu-img info` and `qemu-io -c 'read 0 4k'`; each libgfapi
process spends ~10 s starting and stopping besides its runtime.

Workloads (--only takes a comma-separated list of these names):
  {_WORKLOAD_LINES}
  {bench.COLD_OPEN}: a fresh `python -c` imports pygluster, opens the image,
      reads 4 KiB and closes it; timed from spawn to exit, against qemu-img
      info and qemu-io
  {bench.COPY_RSS}: peak RSS and CPU seconds per GiB of `pygluster cp URI /dev/null`

Progress lines go to stderr; the report to stdout (and to --output).
"""
_BENCH_EXAMPLES = """\
examples:
  pygluster bench gluster://server/vol/bench.img
  pygluster bench --rounds 5 --runtime 10 gluster://server/vol/bench.img
  pygluster bench --only seq-read-1m-qd8,cold-open --json gluster://s/vol/b.img
"""


def _names_arg(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in bench.NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown workload {', '.join(unknown) or repr(text)}; "
            f"choose from {', '.join(bench.NAMES)}"
        )
    return names


def _image_size(text: str) -> int:
    return size_arg(text, minimum=4096)


def add_command(commands: Any) -> None:
    """Add ``bench`` to the ``pygluster`` subcommands."""
    parser = add_parser(
        commands,
        "bench",
        "benchmark pygluster against libgfapi (fio, qemu) on one image",
        _BENCH_HELP,
        _BENCH_EXAMPLES,
        takes_uri=False,
        uri="gluster URI of the scratch image to create",
    )
    # The run's shape: how often, how long, over how much.
    for flag, kind, default, metavar, text in (
        (
            "--rounds",
            positive_integer,
            bench.DEFAULT_ROUNDS,
            "N",
            "alternations per workload; medians are reported (default %(default)s)",
        ),
        (
            "--runtime",
            seconds,
            bench.DEFAULT_RUNTIME,
            "SECONDS",
            "timed seconds per workload run and side (default %(default)s)",
        ),
        (
            "--size",
            _image_size,
            bench.DEFAULT_SIZE,
            "SIZE",
            "image size: the random-offset range, and what cp-rss copies (default 1G)",
        ),
    ):
        parser.add_argument(
            flag, type=kind, default=default, metavar=metavar, help=text
        )
    parser.add_argument(
        "--only",
        type=_names_arg,
        action="extend",
        default=[],
        metavar="NAMES",
        help="run only these workloads (comma-separated; repeatable)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the report as JSON, not a table"
    )
    parser.add_argument(
        "--output",
        metavar="FILE",
        help="also write the JSON report to FILE",
    )
    parser.add_argument(
        "--force", action="store_true", help="reuse (truncate) an existing image"
    )
    parser.add_argument(
        "--keep", action="store_true", help="do not remove the image afterwards"
    )
    parser.add_argument(
        "--direct",
        action="store_true",
        help="both sides open the image O_DIRECT (fio --direct=1); with "
        "strict-O_DIRECT (group virt) writes then skip write-behind",
    )
    parser.add_argument(
        "--fio", default="fio", metavar="PATH", help="fio to run (default fio)"
    )
    parser.set_defaults(run=_run_bench)


def _progress(line: str) -> None:
    print(f"bench: {line}", file=sys.stderr, flush=True)


async def _run_bench(args: argparse.Namespace) -> int:
    config = bench.BenchConfig(
        uri=parse_uri(args, args.uri),
        rounds=args.rounds,
        runtime=args.runtime,
        size=args.size,
        only=tuple(args.only),
        keep=args.keep,
        force=args.force,
        direct=args.direct,
        fio=args.fio,
    )
    report = await bench.run_benchmark(config, _progress)
    document = report.to_json()
    if args.output:
        text = json.dumps(document, indent=2) + "\n"
        await trio.Path(args.output).write_text(text, encoding="utf-8")
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        print(report.format_table(), end="")
    return 0
