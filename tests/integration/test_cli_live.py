"""``pygluster`` info, create, io, map, cp and rm against the real cluster.

Everything runs as a user would, through ``python -m pygluster.cli``; qemu-img
(libgfapi) is the reference for ``map --json``, run once (~10 s per run).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import brick_dirs, qemu, run_cli

MiB = 1024 * 1024
COMMANDS = ("volfile", "info", "create", "cp", "map", "rm", "io")


def unique() -> str:
    return f"cli-{uuid.uuid4().hex[:8]}.img"


def ok(result: subprocess.CompletedProcess[bytes]) -> str:
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def one_line_error(result: subprocess.CompletedProcess[bytes], status: int) -> str:
    """The failure shape every command keeps: one stderr line, no traceback."""
    assert result.returncode == status, (result.stdout, result.stderr)
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("pygluster: error: "), lines
    return lines[0]


def run_io(uri: str, *commands: str) -> subprocess.CompletedProcess[bytes]:
    return run_cli("io", *(arg for command in commands for arg in ("-c", command)), uri)


def info_rows(text: str) -> dict[str, str]:
    rows = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        rows[key] = value.strip()
    return rows


@pytest.fixture
def images(host: str):
    """uri(volume) names a fresh image; all of them are removed afterwards."""
    made: list[str] = []

    def uri(volume: str) -> str:
        made.append(f"gluster://{host}/{volume}/{unique()}")
        return made[-1]

    yield uri
    for name in made:
        run_cli("rm", name)


def test_image_lifecycle(host: str, images, tmp_path: Path) -> None:
    uri = images("pyg_dist")
    name = uri.rsplit("/", 1)[1]

    # create, with a qemu-img style size
    assert "67108864 bytes" in ok(run_cli("create", uri, "64M"))

    # info: text, then JSON, checked against the brick that holds the file
    rows = info_rows(ok(run_cli("info", uri)))
    assert rows["image"] == uri
    assert rows["volume"] == "pyg_dist"
    assert rows["type"] == "distribute (3 bricks)"
    assert rows["size"] == "67108864 (64 MiB)"
    assert rows["mode"] == "0600 (-rw-------)"
    brick_host, _, brick_path = rows["brick"].partition(":")
    assert brick_host == host
    assert Path(brick_path) in brick_dirs("pyg_dist")
    on_brick = Path(brick_path) / name
    assert on_brick.stat().st_size == 64 * MiB
    document = json.loads(ok(run_cli("info", "--json", uri)))
    assert document["size"] == 64 * MiB
    assert document["allocated"] == on_brick.stat().st_blocks * 512
    assert document["bricks"] == [rows["brick"]]
    assert document["volume_type"] == "distribute (3 bricks)"
    assert document["uid"] == on_brick.stat().st_uid
    assert document["gfid"] == rows["gfid"]
    assert document["gfid"] == str(
        uuid.UUID(bytes=os.getxattr(on_brick, "trusted.gfid"))
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", document["mtime"])

    # io: patterns written and verified, several chunks for the 9 MiB ones
    out = ok(
        run_io(
            uri,
            "write -P 0xab 1M 3M",
            "w -P 0x22 8M 9M",
            "write 40M 64k",
            "write -z 2M 4k",
            "flush",
            "read -P 0xab 1M 1M",
            "read -P 0 2M 4k",
            "read -P 0x22 8M 9M",
            "read -P 0xcd 40M 64k",
            "length",
        )
    )
    lines = out.splitlines()
    for line in (
        "wrote 3145728/3145728 bytes at offset 1048576",
        "wrote 9437184/9437184 bytes at offset 8388608",
        "wrote 65536/65536 bytes at offset 41943040",
        "wrote 4096/4096 bytes at offset 2097152",
        "read 1048576/1048576 bytes at offset 1048576",
        "read 4096/4096 bytes at offset 2097152",
        "read 9437184/9437184 bytes at offset 8388608",
        "read 65536/65536 bytes at offset 41943040",
        "64 MiB",
    ):
        assert line in lines, out
    assert "Pattern verification failed" not in out

    # a wrong pattern: qemu-io's message, the next command still runs, exit 1
    bad = run_cli("io", "-c", "read -P 0xcd 1M 64k", "-c", "read -P 0xab 1M 64k", uri)
    assert bad.returncode == 1, bad.stderr
    assert bad.stdout.decode().splitlines()[0] == (
        "Pattern verification failed at offset 1048576, 65536 bytes"
    )
    assert bad.stdout.decode().count("read 65536/65536 bytes at offset 1048576") == 2
    assert bad.stderr == b""

    # map: the JSON is byte for byte what qemu-img (libgfapi) prints
    ours = ok(run_cli("map", "--json", uri))
    reference = qemu("qemu-img", "map", "--output=json", "-f", "raw", uri)
    assert reference.returncode == 0, reference.stderr
    assert json.loads(ours) == json.loads(reference.stdout)
    assert ours == reference.stdout
    extents = json.loads(ours)
    assert list(extents[0]) == [
        "start", "length", "depth", "present", "zero", "data", "offset",
    ]  # fmt: skip
    assert sum(e["length"] for e in extents) == 64 * MiB
    assert any(not e["data"] for e in extents)
    table = ok(run_cli("map", uri)).splitlines()
    assert table[0].split() == ["Offset", "Length", "Type"]
    assert {row.split()[2] for row in table[1:]} == {"data", "hole"}

    expected = bytearray(64 * MiB)
    expected[1 * MiB : 4 * MiB] = b"\xab" * (3 * MiB)
    expected[8 * MiB : 17 * MiB] = b"\x22" * (9 * MiB)
    expected[40 * MiB : 40 * MiB + 65536] = b"\xcd" * 65536
    expected[2 * MiB : 2 * MiB + 4096] = bytes(4096)

    # cp gluster -> local: same bytes, and the holes stay holes
    local = tmp_path / "copy.raw"
    ok(run_cli("cp", "--no-progress", uri, str(local)))
    assert local.read_bytes() == expected
    assert local.stat().st_blocks * 512 <= 13 * MiB  # ~12 MiB of data in 64

    # cp gluster -> gluster (another volume), read back through stdout
    other = images("pyg_single")
    ok(run_cli("cp", uri, other))
    assert run_cli("cp", other, "-").stdout == expected
    assert json.loads(ok(run_cli("info", "--json", other)))["size"] == 64 * MiB

    # cp local -> gluster: an odd size, data at both ends of a hole
    source = tmp_path / "source.raw"
    with source.open("wb") as f:
        f.write(b"head" * 1000)
        f.seek(5 * MiB)
        f.write(b"tail" * 1000 + b"!")
    back = images("pyg_dist")
    ok(run_cli("cp", str(source), back))
    assert run_cli("cp", back, "-").stdout == source.read_bytes()
    mapped = json.loads(ok(run_cli("map", "--json", back)))
    assert [e["data"] for e in mapped] == [True, False, True]

    # stdin -> gluster (size unknown in advance)
    piped = images("pyg_dist")
    fed = subprocess.run(
        [sys.executable, "-m", "pygluster.cli", "cp", "-", piped],
        input=source.read_bytes(),
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert fed.returncode == 0, fed.stderr
    assert run_cli("cp", piped, "-").stdout == source.read_bytes()

    # a copy onto itself would empty it first: refused
    error = one_line_error(run_cli("cp", uri, uri), 2)
    assert "same image" in error

    # rm, and then the image is gone: ENOENT, exit 1, one line
    for image in (uri, other, back, piped):
        ok(run_cli("rm", image))
    error = one_line_error(run_cli("info", uri), 1)
    assert "[Errno 2]" in error
    assert name in error
    error = one_line_error(run_cli("rm", uri), 1)
    assert "[Errno 2]" in error


def test_info_on_a_single_brick_volume(host: str, images) -> None:
    uri = images("pyg_single")
    ok(run_cli("create", "--preallocation", "full", uri, "0x100000"))
    rows = info_rows(ok(run_cli("info", uri)))
    assert rows["type"] == "single brick"
    assert rows["size"] == "1048576 (1 MiB)"
    assert rows["allocated"] == "1048576 (1 MiB)"
    error = one_line_error(run_cli("create", uri, "1M"), 1)
    assert "[Errno 17]" in error
    ok(run_cli("create", "--exist-ok", uri, "2k"))
    assert ok(run_io(uri, "length", "map")).splitlines() == [
        "2 KiB",
        "2 KiB (0x800) bytes not allocated at offset 0 bytes (0x0)",
    ]


@pytest.mark.parametrize("command", COMMANDS)
def test_help(command: str) -> None:
    out = ok(run_cli(command, "--help"))
    assert out.startswith(f"usage: pygluster {command}")
    assert "gluster URIs" in out
    if command != "volfile":
        assert "examples:" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "gluster://{host}/pyg_dist/x.img", "12x"), "invalid SIZE"),
        (("create", "gluster://{host}/pyg_dist/x.img", "-1"), "invalid SIZE"),
        (("io", "--create", "1.5", "gluster://{host}/pyg_dist/x.img"), "invalid SIZE"),
        (("io", "-c", "read 0", "gluster://{host}/pyg_dist/x.img"), "'read 0'"),
        (
            ("io", "-c", "write -P 0x1ff 0 1", "gluster://{host}/pyg_dist/x.img"),
            "0x1ff",
        ),
    ],
)
def test_usage_errors_exit_2(host: str, args: tuple[str, ...], message: str) -> None:
    result = run_cli(*(arg.format(host=host) for arg in args))
    assert result.returncode == 2
    assert message in result.stderr.decode()
    assert b"Traceback" not in result.stderr


def test_one_line_errors(host: str, tmp_path: Path) -> None:
    missing = f"gluster://{host}/pyg_dist/{unique()}"
    for args in (
        ("map", missing),
        ("io", "-c", "length", missing),
        ("cp", missing, "-"),
    ):
        assert "[Errno 2]" in one_line_error(run_cli(*args), 1)
    assert "[Errno 2]" in one_line_error(
        run_cli("cp", str(tmp_path / "nothing"), missing), 1
    )
    assert "gluster URI" in one_line_error(run_cli("cp", "a", "b"), 2)
    assert "invalid gluster URI" in one_line_error(
        run_cli("info", f"gluster://{host}/pyg_dist"), 2
    )
    image = f"gluster://{host}/pyg_dist/{unique()}"
    try:
        out = run_cli("io", "--create", "4k", "-c", "read 0 8k", image)
        assert "beyond the end" in one_line_error(out, 1)
    finally:
        run_cli("rm", image)
