"""A distribute volume whose root has no layout yet (a fresh volume, §2.3):
pygluster writes the layout gluster's own self-heal would, under its lock."""

from __future__ import annotations

import contextlib
import os
import uuid

import pygluster
from pygluster.xlators.dht_layout import DHT_LAYOUT_XATTR, Layout
from tests.integration.conftest import brick_dirs

VOLUME = "pyg_dist"


async def test_missing_root_layout_is_healed_as_gluster_would(host: str) -> None:
    bricks = brick_dirs(VOLUME)
    for brick in bricks:
        with contextlib.suppress(OSError):  # already absent: a fresh volume
            os.removexattr(brick, DHT_LAYOUT_XATTR)
    name = f"heal-{uuid.uuid4().hex[:8]}.img"
    uri = f"gluster://{host}/{VOLUME}/{name}"
    await pygluster.create_async(uri, 4096)
    written = [os.getxattr(brick, DHT_LAYOUT_XATTR) for brick in bricks]
    expected = Layout.even([f"{VOLUME}-client-{i}" for i in range(len(bricks))], "/")
    expected_xattrs = []
    for i in range(len(bricks)):
        entry = expected.range_for(i)
        assert entry is not None  # an even layout gives every child a range
        expected_xattrs.append(entry.to_xattr())
    assert written == expected_xattrs
    assert Layout.from_xattrs(written).is_complete
    async with pygluster.open_async(uri) as dev:
        assert await dev.size() == 4096
    await pygluster.remove_async(uri)
