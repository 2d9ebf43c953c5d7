"""cluster/distribute over in-memory bricks: which child holds a name.

The live tests (tests/integration/test_dht_placement.py) compare placement
with gluster's own; these check the translator's logic against layouts and
linkto files set up by hand.
"""

from __future__ import annotations

import errno
import stat
import uuid

import pytest

from pygluster.errors import FopError
from pygluster.rpc import fops
from pygluster.rpc.fops import GfOpenFlags
from pygluster.xlators.base import Loc
from pygluster.xlators.dht import DistributeXlator
from pygluster.xlators.dht_layout import (
    DHT_LAYOUT_XATTR,
    DHT_LINKTO_XATTR,
    Layout,
    encode_linkto,
    hash_name,
)
from tests.memory_brick import MemoryBrick

NAMES = [f"v-client-{i}" for i in range(3)]
CREATE = int(GfOpenFlags.RDWR | GfOpenFlags.CREAT | GfOpenFlags.EXCL)
ROOT = Loc("/", None, "", fops.ROOT_GFID)
#: A linkto file's mode: a regular file with only the sticky bit.
LINKTO_MODE = stat.S_IFREG | stat.S_ISVTX


def make_dht() -> tuple[DistributeXlator, list[MemoryBrick]]:
    bricks = [MemoryBrick(name) for name in NAMES]
    return DistributeXlator("v-dht", list(bricks), {}), bricks


def loc(name: str) -> Loc:
    return Loc(f"/{name}", fops.ROOT_GFID, name)


def on_disk_layout(bricks: list[MemoryBrick]) -> Layout:
    root = fops.ROOT_GFID
    return Layout.from_xattrs(
        [b.inodes[root].xattrs.get(DHT_LAYOUT_XATTR) for b in bricks]
    )


def hashed(bricks: list[MemoryBrick], name: str) -> int:
    return on_disk_layout(bricks).subvol_for(hash_name(name))


def gfid() -> bytes:
    return uuid.uuid4().bytes


async def test_a_root_without_a_layout_is_healed_under_the_lock() -> None:
    dht, bricks = make_dht()
    with pytest.raises(FopError):
        await dht.lookup(loc("missing"))
    layout = on_disk_layout(bricks)
    assert layout.is_complete
    for brick in bricks:
        assert "INODELK" in brick.calls
        assert brick.inodelks == {}  # released again


async def test_create_goes_to_the_hashed_child() -> None:
    dht, bricks = make_dht()
    names = [f"disk-{i}.img" for i in range(12)]
    for name in names:
        fd, _ = await dht.create(loc(name).with_gfid(gfid()), CREATE, 0o100644)
        await dht.release(fd)
    for name in names:
        holders = [i for i, b in enumerate(bricks) if b.find(f"/{name}")]
        assert holders == [hashed(bricks, name)]
    # Twelve names over three children: the hash spreads them.
    assert len({hashed(bricks, name) for name in names}) > 1


async def test_lookup_asks_only_the_hashed_child() -> None:
    dht, bricks = make_dht()
    with pytest.raises(FopError):
        await dht.lookup(loc("warm-up"))  # learns the root's layout
    name = "a.img"
    index = hashed(bricks, name)
    file_gfid = gfid()
    bricks[index].add(fops.ROOT_GFID, name, file_gfid, data=b"data")
    for brick in bricks:
        brick.calls.clear()
    iatt, _ = await dht.lookup(loc(name))
    assert iatt.ia_gfid == file_gfid
    assert bricks[index].calls == ["LOOKUP"]
    assert all(not b.calls for i, b in enumerate(bricks) if i != index)


async def test_a_linkto_file_is_followed_to_the_data() -> None:
    dht, bricks = make_dht()
    with pytest.raises(FopError):
        await dht.lookup(loc("warm-up"))
    name = "moved.img"
    index = hashed(bricks, name)
    target = (index + 1) % len(bricks)
    file_gfid = gfid()
    link = bricks[index].add(fops.ROOT_GFID, name, file_gfid, LINKTO_MODE)
    link.xattrs[DHT_LINKTO_XATTR] = encode_linkto(NAMES[target])
    bricks[target].add(fops.ROOT_GFID, name, file_gfid, data=b"the data")
    iatt, _ = await dht.lookup(loc(name))
    assert iatt.ia_size == len(b"the data")
    fd = await dht.open(loc(name).with_gfid(file_gfid), int(GfOpenFlags.RDWR))
    data, _ = await dht.readv(fd, 0, 100)
    assert bytes(data) == b"the data"
    await dht.writev(fd, 0, b"THE")
    assert bytes(bricks[target].inodes[file_gfid].data) == b"THE data"
    await dht.release(fd)
    # Unlink removes the data file and the linkto left on the hashed child.
    await dht.unlink(loc(name).with_gfid(file_gfid))
    assert all(b.find(f"/{name}") is None for b in bricks)


async def test_a_file_off_its_hashed_child_is_found_everywhere() -> None:
    dht, bricks = make_dht()
    with pytest.raises(FopError):
        await dht.lookup(loc("warm-up"))
    name = "stray.img"
    elsewhere = (hashed(bricks, name) + 2) % len(bricks)
    file_gfid = gfid()
    bricks[elsewhere].add(fops.ROOT_GFID, name, file_gfid, data=b"x")
    iatt, _ = await dht.lookup(loc(name))
    assert iatt.ia_gfid == file_gfid


async def test_mkdir_makes_the_directory_on_every_child_with_a_layout() -> None:
    dht, bricks = make_dht()
    dir_gfid = gfid()
    iatt = await dht.mkdir(loc("images").with_gfid(dir_gfid), 0o40755)
    assert iatt.ia_gfid == dir_gfid
    for brick in bricks:
        inode = brick.find("/images")
        assert inode is not None
        assert inode.gfid == dir_gfid
    values = [b.inodes[dir_gfid].xattrs.get(DHT_LAYOUT_XATTR) for b in bricks]
    assert Layout.from_xattrs(values).is_complete


async def test_statfs_sums_the_children() -> None:
    dht, bricks = make_dht()
    one = await bricks[0].statfs(ROOT)
    total = await dht.statfs(ROOT)
    assert total.blocks == 3 * one.blocks


async def test_fops_a_translator_does_not_have_fail_with_eopnotsupp() -> None:
    dht, _ = make_dht()
    with pytest.raises(FopError) as info:
        await dht.getxattr(ROOT, "user.x")
    assert info.value.errno == errno.EOPNOTSUPP
    assert info.value.brick is None
    assert info.value.xlator == "v-dht"
    assert "in v-dht" in str(info.value)
