"""Brick sessions against real bricks: refusals explained, timestamps, linkto files."""

from __future__ import annotations

import dataclasses
import errno
import os
import time
import uuid

import pytest
import trio

import pygluster
from pygluster import mgmt, volfile
from pygluster._concurrency import background_nursery
from pygluster.errors import MgmtError
from pygluster.rpc.sunrpc import Credentials
from pygluster.uri import GlusterURI
from pygluster.xlators.client import ClientXlator
from tests.integration.conftest import brick_dirs


async def single_brick(host: str):
    uri = GlusterURI.parse(f"gluster://{host}/pyg_single", require_image=False)
    graph = volfile.parse((await mgmt.fetch_volfile(uri)).text)
    [brick] = graph.bricks()
    port = await mgmt.port_by_brick(brick.host, brick.path)
    return graph, dataclasses.replace(brick, port=port)


async def start_client(brick, options) -> None:
    async with background_nursery() as nursery:
        client = ClientXlator(
            brick.xlator,
            brick,
            options,
            volume="pyg_single",
            credentials=Credentials(),
            nursery=nursery,
            connect_timeout=10,
        )
        try:
            await client.start()
        finally:
            await client.stop()


async def test_wrong_brick_path_is_explained(host: str) -> None:
    _, brick = await single_brick(host)
    wrong = dataclasses.replace(brick, path="/no/such/brick")
    with pytest.raises(MgmtError) as info:
        await start_client(wrong, {})
    assert info.value.operation == "SETVOLUME"
    assert info.value.errno == errno.ENOENT
    assert "Brick not found" in str(info.value)


async def test_wrong_password_is_explained(host: str) -> None:
    graph, brick = await single_brick(host)
    options = dict(graph[brick.xlator].options)
    assert "username" in options  # a local glusterd serves the trusted volfile
    options["password"] = str(uuid.uuid4())
    with pytest.raises(MgmtError) as info:
        await start_client(brick, options)
    assert info.value.errno == errno.EACCES
    assert "Authentication failed" in str(info.value)
    assert "auth" in str(info.value)


async def test_writes_advance_mtime_like_libgfapi(host: str) -> None:
    uri = f"gluster://{host}/pyg_single/mtime-{uuid.uuid4().hex[:8]}.img"
    await pygluster.create_async(uri, 4096)
    async with pygluster.open_async(uri, "r+") as dev:
        before = await dev.stat()
        await trio.sleep(1.1)
        started = time.time()
        await dev.pwrite(b"tick", 0)
        after = await dev.stat()
    assert after.ia_mtime > before.ia_mtime
    assert abs(after.ia_mtime + after.ia_mtime_nsec / 1e9 - started) < 5
    assert after.ia_ctime >= after.ia_mtime


async def test_linkto_files_are_followed(host: str, fuse) -> None:
    """A rename through FUSE to a name that hashes elsewhere leaves the data
    where it was and a linkto file on the new hashed brick (topology.md §2.7)."""
    mount = fuse("pyg_dist")
    folder = f"linkto-{uuid.uuid4().hex[:8]}"
    os.mkdir(mount / folder)
    (mount / folder / "orig.img").write_bytes(b"linked data")
    bricks = brick_dirs("pyg_dist")
    holder = next(i for i, b in enumerate(bricks) if (b / folder / "orig.img").exists())
    new_name = next(
        f"renamed-{i}.img"
        for i in range(1000)
        if _brick_of(mount / folder, f"renamed-{i}.img") != holder
    )
    os.rename(mount / folder / "orig.img", mount / folder / new_name)
    linkto = [b / folder / new_name for b in bricks if (b / folder / new_name).exists()]
    assert len(linkto) == 2  # the data file, and the linkto on the hashed brick
    async with pygluster.open_async(
        f"gluster://{host}/pyg_dist/{folder}/{new_name}"
    ) as dev:
        assert await dev.pread(100, 0) == b"linked data"
        assert dev.bricks() == [f"{host}:{bricks[holder]}"]
    await pygluster.remove_async(f"gluster://{host}/pyg_dist/{folder}/{new_name}")
    assert not any((b / folder / new_name).exists() for b in bricks)


def _brick_of(directory, name: str) -> int:
    value = os.getxattr(directory, "dht.file.hashed-subvol." + name)
    return int(value.rstrip(b"\0").decode().rsplit("-", 1)[1])
