"""Our DHT placement against gluster's own: a FUSE mount of pyg_dist and its bricks.

Three oracles, all from the installed glusterfs:

- ``libglusterfs.so.0``'s ``gf_dm_hashfn`` through ctypes, for the raw hash;
- the virtual xattr ``dht.file.hashed-subvol.<name>`` on a directory of a FUSE
  mount, which runs DHT's real ``dht_subvol_get_hashed`` (munging included)
  and answers the hashed child's xlator name (dht-common.c ``dht_getxattr``);
- where files created through the mount actually land on the bricks.

The layouts themselves are read straight from the brick directories. The
first mount of a fresh volume heals the root layout onto the bricks, which
is also what any other client would do.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import signal
import stat
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pygluster import volfile
from pygluster.xlators.dht_layout import (
    DHT_LAYOUT_XATTR,
    DHT_LINKTO_XATTR,
    HASHED_SUBVOL_VXATTR,
    Layout,
    decode_linkto,
    dm_hash,
    hash_name,
)
from tests.integration.conftest import REPO
from tests.test_dht_layout import DM_HASH_VECTORS

if TYPE_CHECKING:
    from collections.abc import Iterator

VOLUME = "pyg_dist"
BRICKS = Path("/var/lib/pygluster/bricks") / VOLUME
MOUNT_DEADLINE = 15.0
# XATTR_NAME_MAX is 255 bytes, so the oracle can answer for names of at most
# 255 - len("dht.file.hashed-subvol.") = 232 bytes.
LONGEST_ORACLE_NAME = 255 - len(HASHED_SUBVOL_VXATTR)


def _children() -> list[str]:
    text = (REPO / "tests/fixtures/volfiles" / f"{VOLUME}.vol").read_text()
    dht = volfile.parse(text)[f"{VOLUME}-dht"]
    return [child.name for child in dht.subvolumes]


CHILDREN = _children()
BRICK_DIRS = [BRICKS / f"b{i + 1}" for i in range(len(CHILDREN))]


def _oracle_names() -> list[bytes]:
    """50+ names as raw bytes: vectors, ASCII, unicode, rsync temps, long."""
    rng = random.Random(20240611)
    alphabet = "abcdefghijklmnopqrstuvwxyzABC0123456789-_"
    names: list[bytes] = [
        data for data, _ in DM_HASH_VECTORS if data not in (b"", b"\0")
    ]
    names += [
        "".join(rng.choice(alphabet) for _ in range(length)).encode()
        for length in (1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 64)
    ]
    names += [
        # rsync/mktemp temp files: hashed as the part between the dots ...
        b".foo.img.swp",
        b".tmpfile.img.XyZ12",
        b".vm-100-disk-0.raw.AbC123",
        b"..x.y",
        ".é.ñ".encode(),
        b".x\n.y",  # POSIX '.' matches a newline
        b".x.y\n",
        b".\xff.x",  # not UTF-8: glibc's regexec in a UTF-8 locale won't match
        b".a.b\xff",
        b".a\xc3.b",
        # ... and names the rsync pattern must leave alone
        b".bashrc",
        b".a.",
        b"..x",
        b"foo.img.swp",
    ]
    names += [
        s.encode()
        for s in ("ñ", "dé", "abcdé", "Ωmega", "emoji-😀.raw", "e\u0301", "中文名")
    ]
    names += [b"caf\xe9.img", b"\xfe\xff\xfe"]  # latin-1 / not UTF-8 at all
    names += [
        b"L" * 100,
        ("ü" * 100).encode(),  # 200 bytes
        bytes(rng.choice(alphabet.encode()) for _ in range(LONGEST_ORACLE_NAME)),
        b"vm-100-disk-0.raw" * 13,  # 221 bytes
    ]
    assert len(set(names)) == len(names) >= 40
    return names


def _hashed_by_gluster(directory: Path, name: bytes) -> int:
    # The answer is the xlator name as a C string, NUL included.
    key = HASHED_SUBVOL_VXATTR.encode() + name
    return CHILDREN.index(decode_linkto(os.getxattr(directory, key)))


def _layout_on_bricks(relpath: str) -> Layout:
    values: list[bytes | None] = []
    for brick in BRICK_DIRS:
        try:
            values.append(os.getxattr(brick / relpath, DHT_LAYOUT_XATTR))
        except OSError:
            values.append(None)
    return Layout.from_xattrs(values)


@pytest.fixture(scope="module")
def mount(host: str) -> Iterator[Path]:
    """pyg_dist mounted with the real FUSE client; unmounted afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix="pyg-dht-oracle-"))
    mountpoint = workdir / "mnt"
    mountpoint.mkdir()
    pidfile = workdir / "glusterfs.pid"
    logfile = workdir / "glusterfs.log"
    subprocess.run(
        [
            "glusterfs",
            f"--volfile-server={host}",
            f"--volfile-id={VOLUME}",
            f"--pid-file={pidfile}",
            f"--log-file={logfile}",
            str(mountpoint),
        ],
        check=True,
        timeout=30,
    )
    try:
        deadline = time.monotonic() + MOUNT_DEADLINE
        while True:
            # The daemon forks before the graph is up: wait for the mount and
            # for a lookup of "/" (which also heals the root layout).
            with contextlib.suppress(OSError):
                if os.path.ismount(mountpoint) and _layout_on_bricks(".").is_complete:
                    os.stat(mountpoint)
                    break
            if time.monotonic() > deadline:
                log = logfile.read_text(errors="replace") if logfile.exists() else ""
                pytest.fail(f"FUSE mount of {VOLUME} not ready:\n{log[-3000:]}")
            time.sleep(0.1)
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=False, timeout=30)
        _reap(pidfile)
        for leftover in (pidfile, logfile):
            leftover.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            mountpoint.rmdir()
            workdir.rmdir()


def _reap(pidfile: Path) -> None:
    """Wait for the glusterfs client we started to exit after the unmount."""
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)


@pytest.fixture
def unique() -> str:
    return f"pyg-dht-{uuid.uuid4().hex[:8]}"


def test_root_layout_on_bricks(mount: Path) -> None:
    layout = _layout_on_bricks(".")
    assert layout.is_complete
    assert layout.n_children == 3
    assert layout.ranges == Layout.even(CHILDREN, "/").ranges


def test_hashed_subvol_oracle(mount: Path) -> None:
    layout = _layout_on_bricks(".")
    names = _oracle_names()
    wrong = [
        (name, f"0x{hash_name(name):08x}", ours, theirs)
        for name in names
        if (ours := layout.subvol_for_name(name))
        != (theirs := _hashed_by_gluster(mount, name))
    ]
    assert wrong == [], f"{len(wrong)}/{len(names)} names placed differently"
    # The test means something only if the names spread over every child.
    assert {layout.subvol_for_name(name) for name in names} == {0, 1, 2}


def test_rsync_temp_is_munged_by_gluster(mount: Path) -> None:
    # Find a temp name whose raw hash lands elsewhere than its munged hash:
    # gluster must follow the munged one.
    layout = _layout_on_bricks(".")
    for i in range(100):
        name = f".data-{i}.img.Xy{i}Z".encode()
        raw = layout.subvol_for_name(name, rsync_hash_regex=None)
        munged = layout.subvol_for_name(name)
        if raw != munged:
            assert _hashed_by_gluster(mount, name) == munged
            assert _hashed_by_gluster(mount, name[1:].rsplit(b".", 1)[0]) == munged
            return
    pytest.fail("no rsync-style name hashed differently from its munged form")


def test_files_land_on_predicted_brick(mount: Path, unique: str) -> None:
    layout = _layout_on_bricks(".")
    # Three names per child, plus an rsync temp and a non-ASCII name.
    per_child: dict[int, list[str]] = {0: [], 1: [], 2: []}
    for i in range(200):
        name = f"{unique}-{i}.img"
        bucket = per_child[layout.subvol_for_name(name)]
        if len(bucket) < 3:
            bucket.append(name)
    names = [n for bucket in per_child.values() for n in bucket]
    names += [f".{unique}.img.AbC123", f"{unique}-é-ñ.raw"]
    try:
        for name in names:
            (mount / name).write_bytes(b"x")
        for name in names:
            expected = layout.subvol_for_name(name)
            where = [i for i, b in enumerate(BRICK_DIRS) if (b / name).exists()]
            assert where == [expected], name
        assert {layout.subvol_for_name(n) for n in names} == {0, 1, 2}
    finally:
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                (mount / name).unlink()


def test_rename_leaves_linkto_naming_cached_child(mount: Path, unique: str) -> None:
    layout = _layout_on_bricks(".")
    source = f"{unique}-src.raw"
    cached = layout.subvol_for_name(source)
    target = next(
        name
        for i in range(100)
        if layout.subvol_for_name(name := f"{unique}-dst-{i}.raw") != cached
    )
    hashed = layout.subvol_for_name(target)
    try:
        (mount / source).write_bytes(b"data")
        os.rename(mount / source, mount / target)
        # The data stays on the cached child under the new name ...
        assert (BRICK_DIRS[cached] / target).read_bytes() == b"data"
        # ... and the new hashed child gets a linkto file pointing at it.
        link = BRICK_DIRS[hashed] / target
        st_link = link.stat()
        assert stat.S_ISREG(st_link.st_mode)
        assert stat.S_IMODE(st_link.st_mode) == stat.S_ISVTX
        assert st_link.st_size == 0
        raw = os.getxattr(link, DHT_LINKTO_XATTR)
        assert raw == CHILDREN[cached].encode() + b"\0"
        assert decode_linkto(raw) == CHILDREN[cached]
        assert (mount / target).read_bytes() == b"data"
    finally:
        for name in (source, target):
            with contextlib.suppress(FileNotFoundError):
                (mount / name).unlink()


def test_subdirectory_layout_and_placement(mount: Path, unique: str) -> None:
    directory = mount / unique
    directory.mkdir()
    try:
        layout = _layout_on_bricks(unique)
        assert layout.is_complete
        # Equal bricks: gluster's new-directory layout, started at
        # hash("/<dir>") % 3 in strcmp order of the child names.
        assert layout.ranges == Layout.even(CHILDREN, f"/{unique}").ranges
        names = [f"f{i}.img".encode() for i in range(12)] + [b".f1.img.Ab12"]
        for name in names:
            assert layout.subvol_for_name(name) == _hashed_by_gluster(
                directory, name
            ), name
    finally:
        directory.rmdir()


def _libglusterfs_dm_hash() -> ctypes._CFuncPtr:  # type: ignore[name-defined]
    function = ctypes.CDLL("libglusterfs.so.0").gf_dm_hashfn
    function.restype = ctypes.c_uint32
    function.argtypes = [ctypes.c_char_p, ctypes.c_int]
    return function


GF_DM_HASHFN = _libglusterfs_dm_hash()


@pytest.mark.parametrize(("data", "expected"), DM_HASH_VECTORS)
def test_vectors_match_libglusterfs(data: bytes, expected: int) -> None:
    assert GF_DM_HASHFN(data, len(data)) == expected


@settings(max_examples=2000)
@given(st.binary(max_size=300))
def test_dm_hash_matches_libglusterfs(data: bytes) -> None:
    assert dm_hash(data) == GF_DM_HASHFN(data, len(data))
