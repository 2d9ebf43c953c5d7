"""The ``cluster`` command: the local test cluster (:mod:`pygluster.testing`)."""

from __future__ import annotations

import argparse
import functools
import logging
import shutil
import sys
import time
from typing import TYPE_CHECKING, Any

import trio

from pygluster.cli.options import add_command as add_parser
from pygluster.errors import UsageError
from pygluster.testing.cluster import (
    GLUSTERD_SOCKET,
    PACKAGES,
    LocalCluster,
    glusterd_answers,
    project_volumes,
    volume_infos,
    volume_procs,
)
from pygluster.testing.layouts import LAYOUTS

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["add_command", "run"]

CLUSTER_HELP = """\
Set up, inspect and remove the local single-node gluster cluster that
pygluster's tests, benchmarks and demo run against (needs root).

  up       install the packages when missing (glusterfs-server, the reference
           clients qemu-utils + qemu-block-extra and fio, tshark, libnbd-bin,
           qemu-system-x86, openssl), start glusterd when it does not answer,
           create and start the project's volumes, restart offline bricks,
           wait until every brick is online, then print the URIs (stdout).
           Idempotent: when everything is up it changes nothing.
  status   glusterd, the brick host and each project volume's state; exit 0
           only when everything is up.
  host     print the brick host name (what the volfiles' remote-host says).
  create   a fresh volume of LAYOUT (named pgt_... unless NAME is given),
           started, every brick online; prints its URI.
  delete   stop and delete volume NAME and remove its brick folders.
  down     delete the project's volumes and leftover pgt_* volumes (whose
           creating process has exited) with their brick folders; other
           volumes are left alone and glusterd keeps running.

The project's volumes (bricks under $PYGLUSTER_BRICK_ROOT, default
/var/lib/pygluster/bricks, as <root>/<volume>/b1, b2, ...; created with
`force` since they are on the root fs):
  pyg_single  1 brick                 pyg_ec     disperse 2 + 1
  pyg_dist    distribute, 3 bricks    pyg_ec42   disperse 4 + 2
  pyg_rep3    replica 3 (*)           pyg_dec    2 x disperse 2 + 1
  pyg_arb     replica 3 arbiter 1 (*) pyg_shard  replica 3 + group virt + 4MB shards
  pyg_tls     1 brick, client.ssl + server.ssl, auth.ssl-allow HOST,pyg-alice
              (a self-signed glusterfs.pem/.key/.ca for HOST is made in
              OpenSSL's folder, /usr/lib/ssl, when there is none)
  (*) network.ping-timeout 5, for the brick fault tests

The brick host is this machine's name when it resolves only to loopback
(glusterd refuses localhost/127.0.0.1 as a brick host); otherwise the alias
pygluster-local is added to /etc/hosts (127.0.0.1). Only loopback addresses
are used. Progress goes to stderr, results to stdout.
"""
CLUSTER_EXAMPLES = """\
examples:
  pygluster cluster up
  pygluster cluster status
  pygluster cluster create replica3 --option network.ping-timeout=5
  pygluster cluster create single scratch --brick-size 64M
  pygluster cluster delete scratch
"""

_ACTIONS = ("up", "status", "host", "create", "delete", "down")
_SIZE_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}


def _size(text: str) -> int:
    """argparse type: bytes, with an optional K/M/G suffix (binary)."""
    unit = text[-1:].upper() if text[-1:].isalpha() else ""
    number = text[: len(text) - len(unit)]
    if unit not in _SIZE_UNITS or not number.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 64M or 1G")
    return int(number) * _SIZE_UNITS[unit]


def _option(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    return key, value


def add_command(commands: Any) -> None:
    """Add the command's subparser to ``commands``."""
    parser = add_parser(
        commands,
        "cluster",
        "set up or remove the local test cluster (up, status, create, down, ...)",
        CLUSTER_HELP,
        CLUSTER_EXAMPLES,
        takes_uri=False,
    )
    parser.add_argument("action", choices=_ACTIONS, help="what to do (see above)")
    parser.add_argument(
        "names",
        nargs="*",
        metavar="ARG",
        help="create: LAYOUT [NAME] (layouts: " + ", ".join(LAYOUTS) + "); "
        "delete: NAME",
    )
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="never apt-get install missing packages; fail instead",
    )
    parser.add_argument(
        "--option",
        type=_option,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="create: `volume set` this too (repeatable)",
    )
    parser.add_argument(
        "--bricks", type=int, default=None, help="create: bricks in all"
    )
    parser.add_argument(
        "--brick-size",
        type=_size,
        default=None,
        metavar="SIZE",
        help="create: each brick on a filesystem of its own of SIZE (e.g. 64M), "
        "so that one can be filled",
    )
    parser.set_defaults(run=run)


def _show_progress() -> None:
    """The testing layer's progress lines on stderr, as ``cluster: ...``."""
    logger = logging.getLogger("pygluster.testing")
    if not any(getattr(h, "_pygluster_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("cluster: %(message)s"))
        handler._pygluster_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


async def run(args: argparse.Namespace) -> int:
    """Run ``pygluster cluster``."""
    _show_progress()
    cluster = LocalCluster(install=not args.no_install)
    wants_names = {"create": (1, 2), "delete": (1, 1)}.get(args.action, (0, 0))
    if not wants_names[0] <= len(args.names) <= wants_names[1]:
        raise UsageError(
            f"cluster {args.action} takes "
            + {
                (0, 0): "no further arguments",
                (1, 2): "LAYOUT [NAME]",
                (1, 1): "the volume NAME",
            }[wants_names]
        )
    if args.action != "create" and (
        args.option or args.bricks is not None or args.brick_size is not None
    ):
        raise UsageError("--option, --bricks and --brick-size are for `create` only")
    action: Callable[[LocalCluster, argparse.Namespace], int] = _HANDLERS[args.action]
    return await trio.to_thread.run_sync(functools.partial(action, cluster, args))


def _up(cluster: LocalCluster, args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    volumes = cluster.up(project_volumes(cluster.host), packages=PACKAGES)
    print(
        f"cluster: all volumes up on {cluster.host} (bricks under {cluster.root}) "
        f"in {time.monotonic() - t0:.1f} s",
        file=sys.stderr,
    )
    for volume in volumes:
        print(volume.uri)
    for volume in volumes:
        print(f"gluster+unix:///{volume.name}?socket={GLUSTERD_SOCKET}")
    return 0


def _status(cluster: LocalCluster, args: argparse.Namespace) -> int:
    print(f"brick host: {cluster.host}")
    print(f"brick root: {cluster.root}")
    if shutil.which("gluster") is None:
        print("glusterfs: not installed")
        return 1
    if not glusterd_answers():
        print("glusterd: not answering (run `pygluster cluster up`)")
        return 1
    print(f"glusterd: up (socket {GLUSTERD_SOCKET})")
    infos = volume_infos()
    ok = True
    specs = project_volumes(cluster.host)
    for spec in specs:
        info = infos.get(spec.name)
        if info is None or info.status != "Started":
            print(f"{spec.name}: {'missing' if info is None else info.status}")
            ok = False
            continue
        procs = volume_procs(spec.name)
        bricks = [p for p in procs if p.is_brick]
        online = sum(p.online for p in bricks)
        extra = [
            f"{p.what} {'online' if p.online else 'OFFLINE'}"
            for p in procs
            if not p.is_brick
        ]
        print(
            f"{spec.name}: Started, bricks online {online}/{len(bricks)}, ports "
            + " ".join(p.port for p in bricks)
            + (f"; {', '.join(extra)}" if extra else "")
        )
        ok = ok and online == len(bricks) == spec.bricks
    others = sorted(set(infos) - {s.name for s in specs})
    if others:
        print(f"other volumes: {' '.join(others)}")
    return 0 if ok else 1


def _host(cluster: LocalCluster, args: argparse.Namespace) -> int:
    print(cluster.host)
    return 0


def _create(cluster: LocalCluster, args: argparse.Namespace) -> int:
    cluster.up()
    volume = cluster.create_volume(
        args.names[0],
        args.names[1] if len(args.names) > 1 else None,
        bricks=args.bricks,
        options=args.option,
        brick_size=args.brick_size,
    )
    print(volume.uri)
    return 0


def _delete(cluster: LocalCluster, args: argparse.Namespace) -> int:
    cluster.delete_volume(args.names[0])
    return 0


def _down(cluster: LocalCluster, args: argparse.Namespace) -> int:
    names = cluster.down(project_volumes(cluster.host))
    print(
        f"cluster: deleted {len(names)} volume(s); glusterd and other volumes "
        "untouched",
        file=sys.stderr,
    )
    return 0


_HANDLERS: dict[str, Callable[[LocalCluster, argparse.Namespace], int]] = {
    "up": _up,
    "status": _status,
    "host": _host,
    "create": _create,
    "delete": _delete,
    "down": _down,
}
