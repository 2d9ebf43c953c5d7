"""The pytest plugin: real gluster volumes as fixtures.

pytest loads it by itself once pygluster is installed (the ``pytest11``
entry point ``pygluster``). Fixtures:

``gluster_cluster`` (session)
    The :class:`~pygluster.testing.cluster.LocalCluster` of this machine:
    the server packages (glusterfs-server, glusterfs-client, attr,
    e2fsprogs) installed when missing, glusterd started when it does not
    answer. With ``--gluster-host NAME``, the glusterd already running here
    with brick host NAME is used as it is: nothing is installed or started.
``gluster_volume`` (function)
    A factory: ``gluster_volume("replica3", options={...}, bricks=6,
    brick_size=64 * 2**20)`` creates a fresh volume, started and with every
    brick online, and returns its :class:`~pygluster.testing.cluster.Volume`
    (``.uri`` is its :class:`~pygluster.uri.GlusterURI`, ``.image("a.img")``
    an image's). Every volume it made is deleted, bricks and all, when the
    test ends. Called without a layout it takes the test's
    ``gluster_layout`` marker, else ``single``.
``gluster_uri`` (function)
    The :class:`~pygluster.uri.GlusterURI` of image ``test.img`` on a fresh
    volume of the marker's layout (the image itself is not created).

Marker: ``@pytest.mark.gluster_layout("arbiter", options={...}, bricks=...,
brick_size=...)``.

When no cluster can be had (not root, glusterd will not start, a package
cannot be installed) every test using these fixtures *fails*, so a CI run
never passes by skipping; ``--gluster-skip-unavailable`` makes them skip.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import pytest

from pygluster.errors import ClusterError
from pygluster.testing.cluster import SERVER_PACKAGES, LocalCluster, Volume

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from pygluster.uri import GlusterURI

__all__ = [
    "VolumeFactory",
    "gluster_cluster",
    "gluster_uri",
    "gluster_volume",
    "pytest_addoption",
    "pytest_configure",
]

MARKER = "gluster_layout"


class VolumeFactory(Protocol):
    """The ``gluster_volume`` fixture's type, for annotations."""

    def __call__(
        self,
        layout: str | None = None,
        *,
        name: str | None = None,
        bricks: int | None = None,
        options: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        groups: Iterable[str] = (),
        brick_size: int | None = None,
    ) -> Volume: ...


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gluster", "real gluster volumes (pygluster.testing)")
    group.addoption(
        "--gluster-host",
        metavar="NAME",
        default=None,
        help="use the glusterd already running on this machine, whose bricks "
        "are named by host NAME, as it is: install and start nothing (default: "
        "set up a local single-node cluster, installing glusterfs-server when "
        "missing)",
    )
    group.addoption(
        "--gluster-no-install",
        action="store_true",
        help="never apt-get install missing packages; fail instead",
    )
    group.addoption(
        "--gluster-skip-unavailable",
        action="store_true",
        help="skip the tests that need a gluster cluster when none can be set "
        "up (default: fail them, so that CI never passes by skipping)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(layout, *, options=None, bricks=None, groups=(), "
        "brick_size=None): the volume gluster_volume() and gluster_uri make "
        "for this test (layouts: single, distribute, replica3, arbiter, "
        "disperse, disperse42, distributed-disperse, virt)",
    )


@pytest.fixture(scope="session")
def gluster_cluster(request: pytest.FixtureRequest) -> LocalCluster:
    """The local gluster cluster, up (see the module doc)."""
    config = request.config
    host = config.getoption("gluster_host")
    try:
        cluster = LocalCluster(
            host,
            install=host is None and not config.getoption("gluster_no_install"),
            start=host is None,
        )
        # an existing cluster is taken as it is: no package checks either
        cluster.up(packages={} if host else SERVER_PACKAGES)
    except ClusterError as e:
        message = f"no gluster cluster for the tests: {e}"
        if config.getoption("gluster_skip_unavailable"):
            pytest.skip(message)
        pytest.fail(message, pytrace=False)
    return cluster


@pytest.fixture
def gluster_volume(
    request: pytest.FixtureRequest, gluster_cluster: LocalCluster
) -> Iterator[VolumeFactory]:
    """A factory of fresh volumes, each deleted when the test ends."""
    made: list[Volume] = []
    marker = request.node.get_closest_marker(MARKER)

    def make(layout: str | None = None, **kwargs: Any) -> Volume:
        if layout is None and marker is not None:
            layout = marker.args[0] if marker.args else "single"
            kwargs = {**marker.kwargs, **kwargs}
        options = kwargs.pop("options", None) or ()
        volume = gluster_cluster.create_volume(
            layout or "single", options=options, **kwargs
        )
        made.append(volume)
        return volume

    yield make
    errors = []
    for volume in reversed(made):
        try:
            gluster_cluster.delete_volume(volume)
        except Exception as e:  # every volume gets its chance to go
            errors.append(f"{volume.name}: {e}")
    if errors:
        pytest.fail("deleting the test's volumes: " + "; ".join(errors), pytrace=False)


@pytest.fixture
def gluster_uri(gluster_volume: VolumeFactory) -> GlusterURI:
    """The URI of image ``test.img`` on a fresh volume of the marker's layout."""
    return gluster_volume().image("test.img")
