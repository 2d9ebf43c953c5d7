"""The ``info`` command: an image's size, allocation, gfid, layout and bricks."""

from __future__ import annotations

import datetime
import json
import stat
import uuid
from typing import TYPE_CHECKING, Any

from pygluster import blockdev
from pygluster.cli.options import add_command as add_parser
from pygluster.cli.options import brick_timeouts, human_bytes, parse_uri
from pygluster.xlators.client import ClientXlator
from pygluster.xlators.disperse import DisperseXlator

if TYPE_CHECKING:
    import argparse

    from pygluster.xlators.base import Xlator
    from pygluster.xlators.graph import ClientGraph

__all__ = ["add_command", "run"]


INFO_HELP = """\
Show an image's size, the bytes allocated on the bricks, its gfid, the volume
(name and layout) and the brick(s) holding it, its mode, owner and mtime.
"""
INFO_EXAMPLES = """\
examples:
  pygluster info gluster://server/vol/vm.img
  pygluster info --json gluster://server/vol/vm.img | jq .allocated
"""


def add_command(commands: Any) -> None:
    """Add the command's subparser to ``commands``."""
    info = add_parser(
        commands,
        "info",
        "show an image's size, allocation, gfid and bricks",
        INFO_HELP,
        INFO_EXAMPLES,
        uri="gluster URI of the image",
    )
    info.add_argument("--json", action="store_true", help="print a JSON object")
    info.set_defaults(run=run)


def _kind(xlator: Xlator) -> str:
    # DistributeXlator -> "distribute", ReplicateXlator -> "replicate", ...
    return type(xlator).__name__.removesuffix("Xlator").lower()


def _volume_type(graph: ClientGraph) -> str:
    """A human name for the volume's layout, from the translator stack.

    "single brick", "distribute (3 bricks)", "replicate (3 bricks)",
    "disperse 2 + 1 (3 bricks)", and for stacked layouts gluster's own
    compound name: "distribute-replicate (6 bricks)", "distribute-disperse
    2 x (2 + 1) (6 bricks)".
    """
    count = len(graph.clients)
    top = graph.top
    if isinstance(top, ClientXlator) or count == 1:
        return "single brick"  # glusterd puts a DHT over even one brick
    while len(top.children) == 1:  # a DHT over one subvolume changes nothing
        top = top.children[0]
    kinds = [_kind(top)]
    inner = {_kind(child) for child in top.children if child.children}
    if len(inner) == 1:
        kinds.append(inner.pop())
    name = "-".join(kinds)
    sets = [x for x in (top, *top.children) if isinstance(x, DisperseXlator)]
    if sets:
        # gluster's notation: data + redundancy bricks per disperse set.
        geometry = f"{sets[0].fragments} + {sets[0].redundancy}"
        name += f" {len(sets)} x ({geometry})" if len(sets) > 1 else f" {geometry}"
    return f"{name} ({count} brick{'s' if count != 1 else ''})"


def _format_time(seconds: int, nanoseconds: int) -> str:
    try:
        moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return f"{seconds}.{nanoseconds:09d} (seconds since the epoch)"
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{nanoseconds:09d}Z"


async def run(args: argparse.Namespace) -> int:
    """Run ``pygluster info``."""
    uri = parse_uri(args, args.uri)
    async with blockdev.open_async(uri, "r", **brick_timeouts(args)) as device:
        st = await device.stat()
        bricks = device.bricks()
        volume_type = _volume_type(device.graph)
        volume = device.graph.volume
        path = device.path
    allocated = st.ia_blocks * 512  # ia_blocks counts 512-byte units (stat(2))
    mtime = _format_time(st.ia_mtime, st.ia_mtime_nsec)
    if args.json:
        document: dict[str, Any] = {
            "uri": str(uri),
            "volume": volume,
            "volume_type": volume_type,
            "path": path,
            "bricks": bricks,
            "size": st.ia_size,
            "allocated": allocated,
            "gfid": str(uuid.UUID(bytes=st.ia_gfid)),
            "mode": f"{stat.S_IMODE(st.mode):04o}",
            "uid": st.ia_uid,
            "gid": st.ia_gid,
            "mtime": mtime,
            "mtime_ns": st.ia_mtime * 1_000_000_000 + st.ia_mtime_nsec,
        }
        print(json.dumps(document, indent=2))
        return 0
    rows = [
        ("image", str(uri)),
        ("volume", volume),
        ("type", volume_type),
        ("bricks" if len(bricks) != 1 else "brick", ", ".join(bricks)),
        ("size", f"{st.ia_size} ({human_bytes(st.ia_size)})"),
        ("allocated", f"{allocated} ({human_bytes(allocated)})"),
        ("gfid", str(uuid.UUID(bytes=st.ia_gfid))),
        ("mode", f"{stat.S_IMODE(st.mode):04o} ({stat.filemode(st.mode)})"),
        ("uid", str(st.ia_uid)),
        ("gid", str(st.ia_gid)),
        ("mtime", mtime),
    ]
    width = max(len(key) for key, _ in rows) + 1
    for key, value in rows:
        print(f"{key + ':':<{width}} {value}")
    return 0
