"""Build the client translator stack from a volfile graph, as gluster does.

Each volfile xlator becomes one of three things:

* a translator we run (``protocol/client``, ``cluster/distribute``,
  ``cluster/replicate``, ``cluster/disperse``, ``features/shard``, and
  ``performance/write-behind``
  unless the caller turns it off or its ``pass-through`` option is on);
* nothing, for types that only cache, batch, trace or time things on the
  client and never change which bytes land where (performance/*,
  debug/io-stats, features/utime whose client part we do through the v3
  credential): their parent is linked straight to their child;
* a refusal: any other type (one that may change what is read or written,
  or one we do not know) raises
  :class:`~pygluster.errors.UnsupportedVolume` before any I/O. Skipping such a
  translator would silently read or write the wrong bytes.
"""

from __future__ import annotations

import functools
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pygluster._concurrency import background_nursery, run_all
from pygluster.errors import GlusterError, UnsupportedVolume, VolfileError
from pygluster.tls import NO_TLS

# Imported for their @xlator_type registration.
from pygluster.xlators import afr as _afr  # noqa: F401
from pygluster.xlators import dht as _dht  # noqa: F401
from pygluster.xlators import disperse as _disperse  # noqa: F401
from pygluster.xlators import shard as _shard  # noqa: F401
from pygluster.xlators.base import XLATOR_TYPES, BuildContext, only_child
from pygluster.xlators.client import ClientXlator
from pygluster.xlators.write_behind import WriteBehindXlator, write_behind_runs

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from pygluster.rpc.sunrpc import Credentials
    from pygluster.tls import TlsOptions
    from pygluster.volfile import Graph
    from pygluster.volfile import Xlator as VolfileXlator
    from pygluster.xlators.base import Xlator

__all__ = [
    "PASS_THROUGH_TYPES",
    "ClientGraph",
    "open_client_graph",
    "plan",
    "write_behind_runs",
]

log = logging.getLogger("pygluster.graph")

#: Client-side types that never change what lands on disk: caches, batching,
#: tracing, and utime (its effect comes from our AUTH v3 ctime fields).
PASS_THROUGH_TYPES = frozenset(
    {
        "debug/io-stats",
        "debug/trace",
        "debug/delay-gen",
        "features/utime",
        "meta",
        "performance/io-threads",
        "performance/md-cache",
        "performance/quick-read",
        "performance/open-behind",
        "performance/read-ahead",
        "performance/io-cache",
        "performance/readdir-ahead",
        "performance/nl-cache",
        "performance/parallel-readdir",
        "system/posix-acl",
    }
)
CLIENT_TYPE = "protocol/client"
DISTRIBUTE_TYPE = "cluster/distribute"
#: Cluster translators that must sit right above their bricks.
CLUSTER_TYPES = frozenset({"cluster/replicate", "cluster/disperse"})
SHARD_TYPE = "features/shard"
#: Run when enabled (:func:`write_behind_runs`), passed through otherwise.
WRITE_BEHIND_TYPE = "performance/write-behind"
#: The types pygluster runs: every registered translator class.
RUN_TYPES = frozenset(XLATOR_TYPES)
#: The most translators pygluster stacks on the client (each fop passes
#: through all of them, as nested calls).
MAX_STACK_DEPTH = 64


@dataclass(frozen=True, slots=True)
class PlanStep:
    """One volfile xlator and what pygluster does with it."""

    name: str
    type: str
    action: str  # "run", "skip" or "refuse"


def plan(graph: Graph, *, write_behind: bool | None = None) -> list[PlanStep]:
    """What pygluster would do with each reachable xlator of ``graph``.

    ``write_behind`` as for :func:`open_client_graph`.
    """
    steps = []
    for _, xlator in graph.walk():
        if xlator.type == WRITE_BEHIND_TYPE:
            action = "run" if write_behind_runs(xlator, write_behind) else "skip"
        elif xlator.type in RUN_TYPES:
            action = "run"
        elif xlator.type in PASS_THROUGH_TYPES:
            action = "skip"
        else:
            action = "refuse"
        steps.append(PlanStep(xlator.name, xlator.type, action))
    return steps


@dataclass(frozen=True, slots=True)
class ClientGraph:
    """A started translator stack.

    Attributes:
        volume: the volume name.
        top: the translator the block device talks to.
        clients: every brick connection, in volfile order.
        write_behind: the write-behind translators that run (normally one).
    """

    volume: str
    top: Xlator
    clients: tuple[ClientXlator, ...]
    write_behind: tuple[WriteBehindXlator, ...] = ()


async def _start_all(clients: list[ClientXlator]) -> list[GlusterError]:
    """Start every brick connection concurrently; return the failures."""
    errors: list[GlusterError] = []

    async def one(client: ClientXlator) -> None:
        try:
            await client.start()
        except GlusterError as exc:
            errors.append(exc)

    await run_all(functools.partial(one, client) for client in clients)
    return errors


def _make_xlator(
    node: VolfileXlator, children: list[Xlator], context: BuildContext
) -> Xlator:
    """The translator for one volfile node, its children already built.

    A registered type builds itself (:meth:`Xlator.from_volfile`, which may
    pass the node through by returning its child); any other type that got
    this far is a pass-through type: its only child stands in for it.
    """
    if node.type in CLUSTER_TYPES and not all(
        isinstance(child, ClientXlator) for child in children
    ):
        # AFR's changelog and EC's versions are per brick; anything between
        # them and their bricks would need to be understood first.
        raise UnsupportedVolume(context.volume, node.name, node.type)
    cls = XLATOR_TYPES.get(node.type)
    if cls is not None:
        try:
            return cls.from_volfile(node, children, context)
        except ValueError as exc:  # an option value the translator rejects
            raise VolfileError(f"translator {node.name} ({node.type}): {exc}") from exc
    # pass-through: link the parent straight to the only child
    assert node.type in PASS_THROUGH_TYPES
    return only_child(node, children, context)


def _check_supported(graph: Graph, volume: str) -> None:
    for step in plan(graph):
        if step.action == "refuse":
            raise UnsupportedVolume(volume, step.name, step.type)


@asynccontextmanager
async def open_client_graph(
    graph: Graph,
    volume: str,
    *,
    credentials: Credentials,
    connect_timeout: float | None,
    request_timeout: float | None = None,
    write_behind: bool | None = None,
    tls: TlsOptions | None = None,
) -> AsyncIterator[ClientGraph]:
    """Build the stack for ``graph`` and connect every brick.

    Args:
        write_behind: run ``performance/write-behind`` (writes acknowledged
            before the bricks have them, see
            :mod:`pygluster.xlators.write_behind`): None follows the volfile
            (on when it has the translator without ``pass-through on``);
            True also adds one on top when the volfile has none; False
            passes it through.
        tls: TLS options for the brick connections and portmap (None: the
            volfile's client.ssl and this machine's secure-access decide).

    On the way out, every write still in flight is waited for before the
    bricks are disconnected.

    Raises:
        UnsupportedVolume: the graph has a translator we cannot run safely.
        MgmtError, TransportError: a brick could not be reached or refused us.
    """
    _check_supported(graph, volume)
    bricks = {brick.xlator: brick for brick in graph.bricks()}
    async with background_nursery() as nursery:
        clients: list[ClientXlator] = []
        behind: list[WriteBehindXlator] = []
        built: dict[str, Xlator] = {}
        context = BuildContext(
            volume=volume,
            bricks=bricks,
            credentials=credentials,
            nursery=nursery,
            connect_timeout=connect_timeout,
            request_timeout=request_timeout,
            write_behind=write_behind,
            tls=tls if tls is not None else NO_TLS,
        )

        # Children come before parents in a volfile (Graph checks it), so
        # one pass in file order builds the stack without recursion; only
        # what the top reaches is built.
        reachable = {node.name for _, node in graph.walk()}
        heights: dict[str, int] = {}
        for node in graph.xlators:
            if node.name not in reachable:
                continue
            children = [built[child.name] for child in node.subvolumes]
            made = _make_xlator(node, children, context)
            # A pass-through node is its child; anything else runs.
            runs = not any(made is child for child in children)
            height = max((heights[c.name] for c in node.subvolumes), default=0)
            height += int(runs)
            if height > MAX_STACK_DEPTH:
                raise VolfileError(
                    f"volume {node.name!r} stacks {height} translators that "
                    f"run on the client; pygluster runs at most "
                    f"{MAX_STACK_DEPTH} (real volumes have fewer than 10)",
                    node.lineno or None,
                )
            heights[node.name] = height
            built[node.name] = made
            if isinstance(made, ClientXlator) and runs:
                clients.append(made)
            elif isinstance(made, WriteBehindXlator) and runs:
                behind.append(made)

        top = built[graph.top.name]
        if write_behind and not behind:
            # Asked for, and the volfile has none (performance.write-behind
            # off): one on top, with the defaults.
            wb = WriteBehindXlator(f"{volume}-write-behind", [top], {}, nursery=nursery)
            behind.append(wb)
            top = wb
        try:
            errors = await _start_all(clients)
            if len(errors) == len(clients):
                raise errors[0]
            for error in errors:
                # The volume works on without it (replicate, distribute for
                # the files elsewhere); it keeps reconnecting meanwhile.
                log.warning("%s: starting without a brick: %s", volume, error)
            yield ClientGraph(volume, top, tuple(clients), tuple(behind))
        finally:
            try:
                for wb in behind:
                    await wb.stop()  # shielded: what was acknowledged must land
            finally:
                for client in clients:
                    await client.stop()
