"""DHT placement on pyg_dist: pygluster's hash + layout put files where libgfapi does.

qemu-img costs ~10 s a run, so a few names go through qemu-img and the bulk
through a FUSE mount, which runs the same client translators (DHT included).
"""

from __future__ import annotations

import json
import os
import uuid

import pygluster
from pygluster.blockdev import _open_stack
from pygluster.rpc import fops
from pygluster.uri import GlusterURI
from pygluster.xlators.base import Loc
from pygluster.xlators.dht import DistributeXlator
from pygluster.xlators.dht_layout import HASHED_SUBVOL_VXATTR
from tests.integration.conftest import brick_dirs, qemu

VOLUME = "pyg_dist"


def where_on_bricks(relative: str) -> list[int]:
    """Indexes of the bricks holding a non-linkto copy of the file."""
    found = []
    for index, brick in enumerate(brick_dirs(VOLUME)):
        path = brick / relative
        if path.exists() and not (
            path.stat().st_mode & 0o7777 == 0o1000 and path.stat().st_size == 0
        ):
            found.append(index)
    return found


async def predicted_bricks(host: str, folder: str, names: list[str]) -> dict[str, int]:
    """The child index pygluster's DHT hashes each name to, in ``folder``."""
    uri = GlusterURI.parse(f"gluster://{host}/{VOLUME}", require_image=False)
    async with _open_stack(uri, None, 10, None, write_behind=False) as stack:
        dht = stack.top  # (write-behind would sit above it)
        assert isinstance(dht, DistributeXlator)
        loc = Loc("/", None, "", fops.ROOT_GFID)
        for part in [p for p in folder.split("/") if p]:
            child = Loc(f"{loc.path.rstrip('/')}/{part}", loc.gfid, part)
            iatt, _ = await dht.lookup(child)
            loc = child.with_gfid(iatt.ia_gfid)
        result = {}
        for name in names:
            index = await dht._hashed(
                Loc(f"{loc.path.rstrip('/')}/{name}", loc.gfid, name)
            )
            assert index is not None
            result[name] = index
        return result


NAMES = [
    "vm-100-disk-0.raw",
    "a",
    "ab.img",
    ".tmp.disk.img.XyZ12",
    "日本語.img",
    "ñandú.qcow2",
    "x" * 100,
    *(f"disk-{i:02d}.img" for i in range(24)),
]


async def test_names_created_by_libgfapi_are_where_we_predict(host: str, fuse) -> None:
    folder = f"placement-{uuid.uuid4().hex[:8]}"
    mount = fuse(VOLUME)
    os.mkdir(mount / folder)
    for name in NAMES:
        (mount / folder / name).write_bytes(b"x")
    via_qemu = [f"qemu-{i}.img" for i in range(3)]
    for name in via_qemu:
        result = qemu(
            "qemu-img",
            "create",
            "-f",
            "raw",
            f"gluster://{host}/{VOLUME}/{folder}/{name}",
            "1M",
        )
        assert result.returncode == 0, result.stderr
    predicted = await predicted_bricks(host, folder, NAMES + via_qemu)
    for name, index in predicted.items():
        assert where_on_bricks(f"{folder}/{name}") == [index], name
    assert len(predicted) >= 30


async def test_files_pygluster_creates_sit_where_dht_puts_them(host: str, fuse) -> None:
    mount = fuse(VOLUME)
    folder = f"made-{uuid.uuid4().hex[:8]}/sub"
    names = [f"pyg-{i:02d}.img" for i in range(30)]
    for name in names:
        await pygluster.create_async(
            f"gluster://{host}/{VOLUME}/{folder}/{name}", 4096, parents=True
        )
    predicted = await predicted_bricks(host, folder, names)
    # The layout pygluster wrote for the new folders is the one gluster reads:
    # its own oracle names the same hashed child for every name.
    children = [f"{VOLUME}-client-{i}" for i in range(3)]
    for name in names:
        oracle = os.getxattr(mount / folder, HASHED_SUBVOL_VXATTR + name)
        assert oracle.rstrip(b"\0").decode() == children[predicted[name]], name
        assert where_on_bricks(f"{folder}/{name}") == [predicted[name]], name
    async with pygluster.open_async(
        f"gluster://{host}/{VOLUME}/{folder}/{names[0]}"
    ) as dev:
        assert dev.bricks() == [f"{host}:{brick_dirs(VOLUME)[predicted[names[0]]]}"]
    info = qemu(
        "qemu-img",
        "info",
        "--output=json",
        f"gluster://{host}/{VOLUME}/{folder}/{names[1]}",
    )
    assert json.loads(info.stdout)["virtual-size"] == 4096
