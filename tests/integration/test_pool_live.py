"""A real three-node trusted pool (tests/integration/private_glusterd.py:
each glusterd in namespaces of its own, on a bridge the test makes): URIs
that name several volfile servers, and glusterd failover, for real."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

import pytest

from pygluster.testing.pool import PrivatePool
from tests.integration.conftest import BRICK_ROOT

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def pool() -> Iterator[PrivatePool]:
    pool = PrivatePool(BRICK_ROOT / f"pool-{uuid.uuid4().hex[:8]}")
    pool.start()
    try:
        pool.create_volume("pyg_pool", "replica", "3")
        yield pool
    finally:
        pool.stop()


def pool_uri(pool: PrivatePool, *nodes: int, path: str = "a.img") -> str:
    servers = [
        {"type": "inet", "host": pool.address(node), "port": "24007"} for node in nodes
    ]
    doc = {"driver": "gluster", "volume": "pyg_pool", "path": path, "server": servers}
    return "json:" + json.dumps(doc)


def test_multi_server_uri_and_glusterd_failover(pool: PrivatePool) -> None:
    uri = pool_uri(pool, 1, 2, 3)
    made = pool.cli("create", uri, "8M")
    assert made.returncode == 0, made.stderr
    wrote = pool.cli("io", "-c", "write -P 0x3c 0 1M", uri)
    assert wrote.returncode == 0, wrote.stderr
    # The first volfile server goes away: the next one serves the volfile.
    # Node 1's brick still runs, but its portmapper is gone with its
    # glusterd, so replicate carries on with two of three bricks.
    pool.kill_glusterd(1)
    read = pool.cli("io", "-c", "read -P 0x3c 0 1M", uri)
    assert read.returncode == 0, read.stderr
    assert "Pattern verification failed" not in read.stdout
    # libgfapi, asked the second node, agrees.
    qemu = pool.hub(
        "qemu-io", "-f", "raw", "-c", "read -P 0x3c 0 1M",
        f"gluster://{pool.address(2)}/pyg_pool/a.img",
    )  # fmt: skip
    assert qemu.returncode == 0, qemu.stderr
    assert "Pattern verification failed" not in qemu.stdout
    # Only the dead server named: the error names it and what failed.
    alone = pool.cli("--connect-timeout", "3", "info", pool_uri(pool, 1))
    assert alone.returncode == 1
    assert pool.address(1) in alone.stderr
    assert "Connection refused" in alone.stderr
