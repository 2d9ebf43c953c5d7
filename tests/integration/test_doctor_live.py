"""``pygluster doctor`` against the real cluster: healthy, then one fault at a time.

Each fault is undone in a ``finally`` (or by a faults.py context manager):
glusterd stopped and started again, an unknown volume, a stopped volume and
``auth.allow`` on a throwaway volume ``pyg_doctor`` (created here, deleted at
the end), a killed brick of pyg_dist, and a missing image.
"""

from __future__ import annotations

import functools
import json
import uuid
from typing import TYPE_CHECKING, Any

import pytest
import trio

from pygluster import mgmt
from pygluster.errors import MgmtError
from pygluster.testing import faults
from tests.integration.conftest import BRICK_ROOT, GLUSTERD_SOCKET, run_cli

if TYPE_CHECKING:
    from pygluster.testing import LocalCluster

SCRATCH = "pyg_doctor"
SCRATCH_BRICK = BRICK_ROOT / SCRATCH / "b1"


def doctor(uri: str, *, timeout: float = 60) -> tuple[int, dict[str, Any]]:
    """Run ``pygluster doctor --json URI``; (exit status, document)."""
    result = run_cli("doctor", "--json", uri, timeout=timeout)
    assert result.returncode in (0, 1), result.stderr.decode()
    return result.returncode, json.loads(result.stdout)


def checks(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in document["checks"]}


def with_status(document: dict[str, Any], status: str) -> list[str]:
    return [c["name"] for c in document["checks"] if c["status"] == status]


@pytest.fixture(scope="module")
def image(host: str):
    """A 1 MiB image on pyg_dist, removed afterwards."""
    uri = f"gluster://{host}/pyg_dist/doctor-{uuid.uuid4().hex[:8]}.img"
    result = run_cli("create", uri, "1M")
    assert result.returncode == 0, result.stderr.decode()
    try:
        yield uri
    finally:
        run_cli("rm", uri)


@pytest.fixture(scope="module")
def scratch(gluster_cluster: LocalCluster):
    """The one-brick volume pyg_doctor, started; deleted (with its brick) after.

    Idempotent: a volume left over by an interrupted run is deleted first.
    """
    gluster_cluster.delete_volume(SCRATCH)
    volume = gluster_cluster.create_volume("single", SCRATCH)
    try:
        yield str(volume.uri)
    finally:
        gluster_cluster.delete_volume(volume)


# --- healthy ---------------------------------------------------------------------


def test_all_ok_on_healthy_volume_and_image(host: str, image: str) -> None:
    status, document = doctor(image)
    assert status == 0, document
    assert document["ok"] is True
    assert document["uri"] == image
    assert with_status(document, "fail") == []
    assert with_status(document, "warn") == []
    found = checks(document)
    assert found[f"resolve {host}"]["detail"].startswith("A ")
    assert found["volume pyg_dist"]["detail"].endswith("pygluster supports it")
    for index in (1, 2, 3):
        brick = f"{host}:{BRICK_ROOT}/pyg_dist/b{index}"
        for step in ("portmap", "connect brick", "DUMP brick", "SETVOLUME", "PING"):
            assert found[f"{step} {brick}"]["status"] == "ok", found
    lookup = next(c for c in document["checks"] if c["name"].startswith("LOOKUP"))
    assert lookup["status"] == "ok"
    assert "regular file, 1048576 bytes" in lookup["detail"]
    assert all(c["duration_ms"] >= 0 for c in document["checks"])

    human = run_cli("doctor", image)
    assert human.returncode == 0, human.stderr.decode()
    lines = human.stdout.decode().splitlines()
    assert lines[0] == f"doctor {image}"
    assert lines[-1] == "all checks passed"
    assert all(line.startswith("✓ ") for line in lines[1:-1]), lines


def test_unix_socket_volfile_server(host: str) -> None:
    status, document = doctor(f"gluster+unix:///pyg_dist?socket={GLUSTERD_SOCKET}")
    assert status == 0, document
    dump = checks(document)[f"DUMP glusterd unix:{GLUSTERD_SOCKET}"]
    assert "no Portmap here" in dump["detail"]


def test_volfile_graph_says_what_the_client_runs(host: str) -> None:
    # Issue 7 item 5, next to the doctor: the annotated tree and its summary.
    result = run_cli("volfile", "--graph", f"gluster://{host}/pyg_shard")
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode()
    assert "pyg_shard-shard (features/shard) [run]  shard-block-size=4MB\n" in text
    assert "pyg_shard-utime (features/utime) [skip]\n" in text
    assert "\nrefused: none\n" in text
    assert "\nshard block size: 4MB\n" in text
    assert "\nquorum: pyg_shard-replicate-0 auto (more than half of 3)\n" in text
    assert "\nping-timeout: 20 s, every brick\n" in text


# --- faults ----------------------------------------------------------------------


def test_unknown_volume(host: str) -> None:
    status, document = doctor(f"gluster://{host}/pyg_no_such_volume/a.img")
    assert status == 1
    assert with_status(document, "fail") == ["GETSPEC pyg_no_such_volume"]
    getspec = checks(document)["GETSPEC pyg_no_such_volume"]
    assert "has no volume 'pyg_no_such_volume'" in getspec["detail"]
    assert "`gluster volume list`" in getspec["fix"]
    assert checks(document)["LOOKUP /a.img"]["status"] == "skip"


def test_missing_image(host: str) -> None:
    uri = f"gluster://{host}/pyg_dist/doctor-missing-{uuid.uuid4().hex[:8]}.img"
    status, document = doctor(uri)
    assert status == 1
    [failed] = with_status(document, "fail")
    assert failed.startswith("LOOKUP /doctor-missing-")
    check = checks(document)[failed]
    assert "No such file or directory" in check["detail"]
    assert f"`pygluster create {uri} SIZE`" in check["fix"]


def test_brick_process_killed(host: str, image: str) -> None:
    brick = f"{host}:{BRICK_ROOT}/pyg_dist/b2"
    with faults.brick_down("pyg_dist", 1):
        status, document = doctor(image)
    assert status == 1
    assert with_status(document, "fail") == [f"portmap {brick}"]
    portmap = checks(document)[f"portmap {brick}"]
    assert "brick process not running (killed?" in portmap["detail"]
    assert portmap["fix"].startswith("`gluster volume start pyg_dist force`")
    started = checks(document)["volume pyg_dist started"]
    assert started["status"] == "warn"
    assert started["detail"] == "2 of 3 brick processes running"
    assert checks(document)[f"brick {brick}"]["status"] == "skip"
    lookup = next(c for c in document["checks"] if c["name"].startswith("LOOKUP"))
    assert lookup["status"] == "skip"
    assert brick in lookup["detail"]


def _port_by_brick(host: str, path: str) -> int | None:
    try:
        return trio.run(functools.partial(mgmt.port_by_brick, host, str(path)))
    except MgmtError:
        return None


def test_volume_stopped(host: str, scratch: str) -> None:
    pid = faults.brick(SCRATCH, 0).pid
    faults.gluster_cli("volume", "stop", SCRATCH)
    try:
        # glusterd drops the brick from its portmap once it notices the
        # process is gone, a moment after `volume stop` returns.
        assert pid is not None
        faults._wait("the brick to exit", lambda: faults._gone(pid), 30)
        # glusterd's portmap may still give the stopped brick's port for a
        # while; both states must read as "volume stopped".
        stale_port = _port_by_brick(host, str(SCRATCH_BRICK))
        status, document = doctor(scratch)
    finally:
        faults.gluster_cli("volume", "start", SCRATCH)
        faults.wait_online(SCRATCH)
    assert status == 1
    volume = checks(document)[f"volume {SCRATCH}"]
    assert volume["status"] == "ok"  # glusterd knows it: GETSPEC works
    started = checks(document)[f"volume {SCRATCH} started"]
    assert started["status"] == "fail", document
    assert "the volume is probably stopped" in started["detail"]
    assert started["fix"].startswith(f"`gluster volume start {SCRATCH}`")
    # The per-brick failure does not repeat the fix.
    [brick_failure] = [c for c in document["checks"] if c["status"] == "fail"][1:]
    if stale_port is None:
        assert brick_failure["name"] == f"portmap {host}:{SCRATCH_BRICK}"
    else:
        assert brick_failure["name"] == f"connect brick {host}:{SCRATCH_BRICK}"
        assert "Connection refused" in brick_failure["detail"]
    assert brick_failure["fix"] is None


def test_auth_allow_excludes_this_client(scratch: str) -> None:
    # An address no traffic goes to: loopback is not allowed any more.
    faults.gluster_cli("volume", "set", SCRATCH, "auth.allow", "10.9.9.9")
    try:
        status, document = doctor(scratch)
    finally:
        faults.gluster_cli("volume", "reset", SCRATCH, "auth.allow")
    # This machine's client still gets in with the trusted volfile's login;
    # the doctor says so, and that other clients will be refused.
    assert status == 0, document
    [warned] = with_status(document, "warn")
    assert warned.startswith("auth.allow ")
    check = checks(document)[warned]
    assert "refuses this client's address (127.0.0.1)" in check["detail"]
    assert f"`gluster volume set {SCRATCH} auth.allow 127.0.0.1`" in check["fix"]

    # Reset: the address is admitted again.
    status, document = doctor(scratch)
    assert status == 0
    assert checks(document)[warned]["status"] == "ok"


# Last: it stops the real glusterd for a moment.


def test_glusterd_stopped(host: str, image: str) -> None:
    faults.stop_glusterd()
    try:
        status, tcp = doctor(image, timeout=30)
        unix_status, unix = doctor(
            f"gluster+unix:///pyg_dist/x.img?socket={GLUSTERD_SOCKET}", timeout=30
        )
    finally:
        faults.start_glusterd()
    assert status == 1
    assert with_status(tcp, "fail") == [f"connect glusterd {host}:24007"]
    check = checks(tcp)[f"connect glusterd {host}:24007"]
    assert "Connection refused" in check["detail"]
    assert check["fix"].startswith(f"glusterd is not running on {host}")
    assert "systemctl start glusterd" in check["fix"]
    assert checks(tcp)["GETSPEC pyg_dist"]["status"] == "skip"

    assert unix_status == 1
    check = checks(unix)[f"connect glusterd unix:{GLUSTERD_SOCKET}"]
    assert check["status"] == "fail"
    assert "glusterd is not running on this machine" in check["fix"]
