"""Real gluster clusters for test suites: set-up, volumes, faults, a pytest plugin.

pygluster's own integration tests run on this, and so can any project's::

    from pygluster.testing import LocalCluster, faults

    cluster = LocalCluster()
    cluster.up()                                  # packages, glusterd
    volume = cluster.create_volume("replica3")    # fresh, started, online
    with faults.brick_down(volume.name, 1):       # SIGKILLed, restarted after
        ...                                       # I/O on volume.image("a.img")
    cluster.delete_volume(volume)

* :mod:`~pygluster.testing.cluster`: :class:`LocalCluster` (install
  ``glusterfs-server`` when missing and allowed, start glusterd, create,
  wait for and delete volumes) and :class:`Volume`.
* :mod:`~pygluster.testing.layouts`: the layouts by name (``single``,
  ``distribute``, ``replica3``, ``arbiter``, ``disperse``, ``disperse42``,
  ``distributed-disperse``, ``virt``) and :class:`VolumeSpec`.
* :mod:`~pygluster.testing.faults`: kill/stop/continue/restart a brick,
  stop/restart glusterd, fill a brick, set an option, heal and wait for
  heal; checks of the brick files (AFR changelog, identical replicas).
* :mod:`~pygluster.testing.pool`: glusterd in namespaces of its own, and a
  three-node trusted pool.
* :mod:`~pygluster.testing.plugin`: the pytest plugin (fixtures
  ``gluster_cluster``, ``gluster_volume``, ``gluster_uri``; marker
  ``gluster_layout``), loaded by pytest through the ``pytest11`` entry
  point.

Everything here blocks (subprocesses and polling) and needs root on the
machine that runs the bricks. Errors are
:class:`~pygluster.errors.ClusterError` and, for faults and bounded waits,
:class:`~pygluster.errors.FaultError`.
"""

from __future__ import annotations

from pygluster.errors import ClusterError, FaultError
from pygluster.testing import faults
from pygluster.testing.cluster import LocalCluster, Volume, project_volumes
from pygluster.testing.layouts import LAYOUTS, Layout, VolumeSpec, volume_spec

__all__ = [
    "LAYOUTS",
    "ClusterError",
    "FaultError",
    "Layout",
    "LocalCluster",
    "Volume",
    "VolumeSpec",
    "faults",
    "project_volumes",
    "volume_spec",
]
