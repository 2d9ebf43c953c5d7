"""pygluster.testing without a cluster: layouts, and the plugin's policy when
no cluster can be had (fail by default, skip only when asked)."""

from __future__ import annotations

import pytest

from pygluster.cli.cluster import _size
from pygluster.errors import ClusterError
from pygluster.testing import LAYOUTS, volume_spec

pytest_plugins = ["pytester"]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_layout_makes_a_spec_of_its_own_shape(layout: str) -> None:
    spec = volume_spec(layout, "v")
    shape = LAYOUTS[layout]
    assert spec.bricks == shape.bricks
    assert spec.set_args == shape.set_args
    assert spec.type_str.endswith(shape.type_name)
    assert spec.type_str.startswith("Distributed-") == (
        1 < shape.set_size < shape.bricks
    )


def test_more_bricks_make_more_sets_and_options_follow_the_layouts() -> None:
    spec = volume_spec(
        "virt", "v", bricks=6, options={"network.ping-timeout": "5"}, groups=["g"]
    )
    assert spec.type_str == "Distributed-Replicate"
    assert spec.groups == ("virt", "g")
    assert spec.options == (
        ("features.shard-block-size", "4MB"),
        ("network.ping-timeout", "5"),
    )
    assert volume_spec("distribute", "v", bricks=5).type_str == "Distribute"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layout": "raid5"}, "unknown volume layout 'raid5'; known: single"),
        ({"layout": "replica3", "bricks": 4}, "needs a multiple of 3 bricks, not 4"),
        ({"layout": "single", "bricks": 0}, "needs a multiple of 1 bricks, not 0"),
        ({"layout": "single", "brick_size": 2**20}, "below the 16 MiB minimum"),
    ],
)
def test_impossible_volumes_are_refused_with_the_reason(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ClusterError, match=message):
        volume_spec(name="v", **kwargs)  # type: ignore[arg-type]


def test_sizes_take_binary_suffixes() -> None:
    assert _size("64M") == 64 * 2**20
    assert _size("1g") == 2**30
    assert _size("4096") == 4096


_NO_CLUSTER = """
import pygluster.testing.cluster as cluster
from pygluster.errors import ClusterError

def up(self, volumes=(), **kwargs):
    raise ClusterError("glusterd exited right after starting (a test)")

cluster.LocalCluster.up = up
"""
_USES_A_VOLUME = """
import pytest

@pytest.mark.gluster_layout("replica3")
def test_it(gluster_uri):
    pass
"""


def test_no_cluster_fails_the_tests_that_need_one(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(_NO_CLUSTER)
    pytester.makepyfile(_USES_A_VOLUME)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*no gluster cluster for the tests: glusterd exited right after starting*"]
    )


def test_skipping_instead_is_asked_for(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(_NO_CLUSTER)
    pytester.makepyfile(_USES_A_VOLUME)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--gluster-skip-unavailable"
    )
    result.assert_outcomes(skipped=1)


@pytest.mark.parametrize("name", ["..", "a/b", "", "-x", "x" * 300])
def test_names_that_are_no_volume_names_never_become_folders(name: str) -> None:
    with pytest.raises(ClusterError, match="is not a volume name"):
        volume_spec("single", name)


def test_only_fresh_volumes_of_exited_processes_are_leftovers() -> None:
    import os

    from pygluster.testing.cluster import _orphaned

    assert not _orphaned(f"pgt_abcdef_{os.getpid()}_1")  # this process: alive
    assert _orphaned("pgt_abcdef_999999999_1")
    assert not _orphaned("pyg_rep3")
    assert not _orphaned("pgt_cli_check")
