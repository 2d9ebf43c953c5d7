"""Volume layouts by name, and the spec of one volume to create.

A layout is what ``gluster volume create`` is told before the bricks
(``replica 3 arbiter 1``, ``disperse 6 redundancy 2``) plus how many bricks;
:func:`volume_spec` turns a layout name and options into a :class:`VolumeSpec`
that :class:`~pygluster.testing.cluster.LocalCluster` creates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pygluster.errors import ClusterError, URIError
from pygluster.uri import GlusterURI, Server

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ["LAYOUTS", "Layout", "VolumeSpec", "check_volume_name", "volume_spec"]


@dataclass(frozen=True)
class Layout:
    """The shape of a volume: ``set_args`` before the bricks, ``set_size``
    bricks per replica or disperse set (1 for plain distribute)."""

    description: str
    set_args: tuple[str, ...]
    set_size: int
    bricks: int  # default total; a multiple of set_size
    type_name: str  # `volume info` typeStr of one set
    arbiter: int = 0
    redundancy: int = 0
    groups: tuple[str, ...] = ()
    options: tuple[tuple[str, str], ...] = ()


def _shape(
    args: str,
    bricks: int,
    *,
    groups: tuple[str, ...] = (),
    options: tuple[tuple[str, str], ...] = (),
) -> Layout:
    """A layout from the words `volume create` takes before the bricks."""
    words = args.split()
    counts = dict(zip(words[::2], map(int, words[1::2]), strict=True))
    set_size = counts.get("replica", counts.get("disperse", 1))
    kind = "Replicate" if "replica" in counts else "Disperse"
    sets = bricks // set_size
    return Layout(
        description=(
            (f"{sets} x {args}" if sets > 1 else args)
            if set_size > 1
            else f"distribute over {bricks} brick(s)"
        )
        + "".join(f" + group {g}" for g in groups),
        set_args=tuple(words),
        set_size=set_size,
        bricks=bricks,
        type_name=kind if set_size > 1 else "Distribute",
        arbiter=counts.get("arbiter", 0),
        redundancy=counts.get("redundancy", 0),
        groups=groups,
        options=options,
    )


#: The layouts by name; ``bricks=`` makes more sets of the same shape
#: (``replica3`` with 6 bricks is distributed-replicate).
LAYOUTS: dict[str, Layout] = {
    "single": _shape("", 1),
    "distribute": _shape("", 3),
    "replica3": _shape("replica 3", 3),
    "arbiter": _shape("replica 3 arbiter 1", 3),
    "disperse": _shape("disperse 3 redundancy 1", 3),  # 2 + 1
    "disperse42": _shape("disperse 6 redundancy 2", 6),  # 4 + 2
    "distributed-disperse": _shape("disperse 3 redundancy 1", 6),
    # what VM images live on: gluster's `group virt` (shard, eager lock,
    # remote-dio, ...) on replica 3, with small shards so tests cross them
    "virt": _shape(
        "replica 3",
        3,
        groups=("virt",),
        options=(("features.shard-block-size", "4MB"),),
    ),
}


def check_volume_name(name: str) -> str:
    """``name`` if glusterd would take it as a volume name (the rule a URI's
    volume follows), else ClusterError. Volume names become folder names
    under the brick root, so nothing like ``..`` or ``a/b`` gets that far."""
    try:
        GlusterURI((Server("tcp", "localhost"),), name, None)
    except URIError as e:
        raise ClusterError(f"{name!r} is not a volume name: {e.reason}") from None
    return name


@dataclass(frozen=True)
class VolumeSpec:
    """One volume as it is to be created.

    ``brick_size`` (bytes) puts every brick on a filesystem of its own of
    that size (an ext4 image mounted on a loop device), so that filling one
    brick (:func:`~pygluster.testing.faults.fill_brick`) fills only that one;
    without it the bricks are directories on the brick root's filesystem.
    """

    name: str
    layout: str
    set_args: tuple[str, ...]
    bricks: int
    type_str: str  # `volume info` typeStr
    arbiter: int = 0
    redundancy: int = 0
    groups: tuple[str, ...] = ()  # `volume set VOL group G`, in order
    options: tuple[tuple[str, str], ...] = ()  # then these, in order
    brick_size: int | None = None

    def describe(self) -> str:
        """``replica 3 over 3 bricks`` and the like, for progress lines."""
        shape = " ".join(self.set_args) or "distribute"
        extra = f", {self.brick_size // 2**20} MiB each" if self.brick_size else ""
        return f"{shape} over {self.bricks} brick(s){extra}"


def volume_spec(
    layout: str,
    name: str,
    *,
    bricks: int | None = None,
    options: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    groups: Iterable[str] = (),
    brick_size: int | None = None,
) -> VolumeSpec:
    """The spec of volume ``name`` with the named layout.

    ``options`` are ``volume set`` after the layout's own (a mapping or
    pairs, applied in order); ``groups`` are option groups
    (``/var/lib/glusterd/groups``) set before them.
    """
    check_volume_name(name)
    try:
        shape = LAYOUTS[layout]
    except KeyError:
        raise ClusterError(
            f"unknown volume layout {layout!r}; known: {', '.join(LAYOUTS)}"
        ) from None
    total = shape.bricks if bricks is None else bricks
    if total < 1 or total % shape.set_size:
        raise ClusterError(
            f"layout {layout} ({shape.description}) needs a multiple of "
            f"{shape.set_size} bricks, not {total}"
        )
    if brick_size is not None and brick_size < 16 * 2**20:
        raise ClusterError(f"brick_size {brick_size} is below the 16 MiB minimum")
    pairs = tuple(options.items()) if hasattr(options, "items") else tuple(options)
    type_str = shape.type_name
    if 1 < shape.set_size < total:
        type_str = f"Distributed-{type_str}"
    return VolumeSpec(
        name=name,
        layout=layout,
        set_args=shape.set_args,
        bricks=total,
        type_str=type_str,
        arbiter=shape.arbiter,
        redundancy=shape.redundancy,
        groups=(*shape.groups, *groups),
        options=(*shape.options, *pairs),
        brick_size=brick_size,
    )
