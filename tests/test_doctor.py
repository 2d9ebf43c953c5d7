"""Tests for pygluster.tools.doctor: the report's text and JSON, and the walk itself
against closed ports and a fake glusterd+brick on loopback."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
import trio

from pygluster import volfile
from pygluster.cli import main
from pygluster.rpc import glusterd, xdr
from pygluster.rpc.programs import ProgramNumber
from pygluster.tools.doctor import Check, Report, describe_layout, diagnose
from pygluster.uri import GlusterURI
from tests.helpers import FakeServerCore, reply_record

FIXTURES = Path(__file__).parent / "fixtures" / "volfiles"

REPORT = Report(
    "gluster://vm/vol/a.img",
    (
        Check("resolve vm", "ok", "A 127.0.0.1; no AAAA", None, 1.234),
        Check("volume vol started", "warn", "2 of 3 brick processes running"),
        Check(
            "portmap vm:/b/2",
            "fail",
            "brick process not running",
            "`gluster volume start vol force`",
            12.3456,
        ),
        Check("brick vm:/b/2", "skip", "not connected: no port"),
    ),
)


# --- the report --------------------------------------------------------------------


def test_human_report():
    assert REPORT.format() == (
        "doctor gluster://vm/vol/a.img\n"
        "✓ resolve vm: A 127.0.0.1; no AAAA (1.2 ms)\n"
        "! volume vol started: 2 of 3 brick processes running\n"
        "✗ portmap vm:/b/2: brick process not running (12 ms)\n"
        "    fix: `gluster volume start vol force`\n"
        "- brick vm:/b/2: not connected: no port\n"
        "1 check failed, 1 warning\n"
    )


def test_human_report_ascii_marks():
    lines = REPORT.format(ascii_only=True).splitlines()
    assert [line.split()[0] for line in lines[1:-1]] == [
        "ok",
        "warn",
        "FAIL",
        "fix:",
        "skip",
    ]
    assert all(line.isascii() for line in lines[1:-1])


def test_all_passed_and_ok():
    report = Report(
        "gluster://vm/vol",
        (Check("a", "ok", "fine"), Check("b", "skip", "n/a"), Check("c", "warn", "x")),
    )
    assert report.ok
    assert report.format().endswith("\nall checks passed, 1 warning\n")
    assert not REPORT.ok
    only_ok = Report("gluster://vm/vol", (Check("a", "ok", "fine", None, 2.0),))
    assert only_ok.format().splitlines()[-1] == "all checks passed"


def test_json_document():
    document = json.loads(REPORT.to_json())
    assert document == {
        "uri": "gluster://vm/vol/a.img",
        "ok": False,
        "checks": [
            {
                "name": "resolve vm",
                "status": "ok",
                "detail": "A 127.0.0.1; no AAAA",
                "fix": None,
                "duration_ms": 1.234,
            },
            {
                "name": "volume vol started",
                "status": "warn",
                "detail": "2 of 3 brick processes running",
                "fix": None,
                "duration_ms": 0.0,
            },
            {
                "name": "portmap vm:/b/2",
                "status": "fail",
                "detail": "brick process not running",
                "fix": "`gluster volume start vol force`",
                "duration_ms": 12.346,
            },
            {
                "name": "brick vm:/b/2",
                "status": "skip",
                "detail": "not connected: no port",
                "fix": None,
                "duration_ms": 0.0,
            },
        ],
    }
    assert json.loads(REPORT.to_json()) == REPORT.as_dict()


@pytest.mark.parametrize(
    ("volume", "layout"),
    [
        ("pyg_single", "single brick"),
        ("pyg_dist", "distribute over 3 bricks"),
        ("pyg_rep3", "1 x replicate 3, 3 bricks"),
        ("pyg_arb", "1 x arbiter (2 + 1 arbiter), 3 bricks"),
        ("pyg_ec", "1 x disperse 3 (redundancy 1), 3 bricks"),
        ("pyg_shard", "1 x replicate 3, 3 bricks, sharded (4MB blocks)"),
    ],
)
def test_describe_layout(volume: str, layout: str):
    graph = volfile.parse((FIXTURES / f"{volume}.vol").read_text())
    assert describe_layout(graph) == layout


# --- the walk, without a cluster ----------------------------------------------------


async def test_glusterd_port_closed():
    # Nothing listens on loopback port 1: refused at once.
    uri = GlusterURI.parse("gluster://127.0.0.1:1/vol/a.img")
    with trio.fail_after(10):
        report = await diagnose(uri, connect_timeout=5, call_timeout=5)
    assert not report.ok
    statuses = [(c.name, c.status) for c in report.checks]
    assert statuses == [
        ("resolve 127.0.0.1", "ok"),
        ("connect glusterd 127.0.0.1:1", "fail"),
        ("GETSPEC vol", "skip"),
        ("bricks", "skip"),
        ("LOOKUP /a.img", "skip"),
    ]
    connect = report.checks[1]
    assert connect.detail == "cannot connect: 127.0.0.1:1: Connection refused"
    assert connect.fix is not None
    assert connect.fix.startswith("glusterd is not running on 127.0.0.1")


async def test_unix_socket_missing(tmp_path: Path):
    socket_path = tmp_path / "glusterd.socket"
    uri = GlusterURI.parse(
        f"gluster+unix:///vol?socket={socket_path}", require_image=False
    )
    report = await diagnose(uri, connect_timeout=5, call_timeout=5)
    first = report.checks[0]
    assert (first.name, first.status) == (
        f"connect glusterd unix:{socket_path}",
        "fail",
    )
    assert "No such file or directory" in first.detail
    assert first.fix is not None
    assert "glusterd is not running on this machine" in first.fix
    # A volume URI: nothing to look up.
    assert [(c.name, c.status) for c in report.checks[1:]] == [
        ("GETSPEC vol", "skip"),
        ("bricks", "skip"),
    ]


def _fake_volfile(port: int) -> str:
    return (
        "volume vol-client-0\n"
        "    type protocol/client\n"
        "    option remote-host 127.0.0.1\n"
        "    option remote-subvolume /b/1\n"
        f"    option remote-port {port}\n"
        "    option username u\n"
        "    option password p\n"
        "end-volume\n"
        "volume vol\n"
        "    type cluster/distribute\n"
        "    subvolumes vol-client-0\n"
        "end-volume\n"
    )


async def _fake_server(port: list[int], stream: trio.SocketStream) -> None:
    """glusterd and brick in one: DUMP, GETSPEC, GET_VOLUME_INFO, and a
    SETVOLUME refused with EACCES as auth.allow does."""
    core = FakeServerCore()
    programs = (
        glusterd.GfProgDetail(progname="GF-DUMP", prognum=123451501, progver=1),
        glusterd.GfProgDetail(
            progname="Gluster Handshake", prognum=ProgramNumber.GLUSTER_HNDSK, progver=2
        ),
        glusterd.GfProgDetail(
            progname="GlusterFS 4.x v1", prognum=ProgramNumber.GLUSTER_FOP, progver=400
        ),
    )
    while data := await stream.receive_some(65536):
        for xid, call, _ in core.receive(data):
            key = (call.prog, call.proc)
            result: object
            if key == (ProgramNumber.GLUSTER_DUMP, 1):
                result = glusterd.GfDumpRsp(
                    gfs_id=0, op_ret=0, op_errno=0, prog=programs
                )
            elif key == (ProgramNumber.GLUSTER_HNDSK, 2):
                spec = _fake_volfile(port[0])
                result = glusterd.GfGetspecRsp(
                    op_ret=len(spec), op_errno=0, spec=spec, xdata={}
                )
            elif key == (ProgramNumber.GLUSTER_HNDSK, 6):
                result = glusterd.GfGetVolumeInfoRsp(
                    op_ret=0,
                    op_errno=0,
                    op_errstr="",
                    dict=glusterd.str_dict({"volume_id": "1234"}),
                )
            elif key == (ProgramNumber.GLUSTER_HNDSK, 1):
                result = glusterd.GfSetvolumeRsp(
                    op_ret=-1,
                    op_errno=13,
                    dict=glusterd.str_dict({"ERROR": "Authentication failed"}),
                )
            else:
                await stream.send_all(reply_record(xid, accept_stat=3))
                continue
            await stream.send_all(
                reply_record(xid, result, codec=xdr.as_codec(type(result)))
            )


async def test_setvolume_refused_explains_auth_allow():
    port: list[int] = []
    async with trio.open_nursery() as nursery:
        handler = functools.partial(_fake_server, port)
        listeners = await nursery.start(
            functools.partial(trio.serve_tcp, handler, 0, host="127.0.0.1")
        )
        port.append(listeners[0].socket.getsockname()[1])
        uri = GlusterURI.parse(f"gluster://127.0.0.1:{port[0]}/vol/a.img")
        with trio.fail_after(10):
            report = await diagnose(uri, connect_timeout=5, call_timeout=5)
        nursery.cancel_scope.cancel()
    found = {c.name: c for c in report.checks}
    assert found["volume vol"].detail == (
        "id 1234, single brick; pygluster supports it"
    )
    assert found["portmap 127.0.0.1:/b/1"].detail.endswith(
        "(remote-port in the volfile)"
    )
    setvolume = found["SETVOLUME 127.0.0.1:/b/1"]
    assert setvolume.status == "fail"
    assert "[Errno 13] Permission denied: 'Authentication failed'" in setvolume.detail
    assert setvolume.fix is not None
    assert setvolume.fix.startswith(
        "auth.allow does not include this client's address (127.0.0.1): "
        "`gluster volume set vol auth.allow 127.0.0.1`"
    )
    assert "username/password" in setvolume.fix
    assert "PING 127.0.0.1:/b/1" not in found
    assert found["LOOKUP /a.img"].status == "skip"
    assert [c.name for c in report.checks if c.status == "fail"] == [
        "SETVOLUME 127.0.0.1:/b/1"
    ]


# --- the command ---------------------------------------------------------------------


def test_cli_bad_uri_is_exit_2(capsys: pytest.CaptureFixture[str]):
    assert main(["doctor", "gluster://host/bad volume/a.img"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pygluster: error: invalid gluster URI")
    assert err.count("\n") == 1


def test_cli_json_and_exit_1(capsys: pytest.CaptureFixture[str]):
    assert (
        main(
            ["--connect-timeout", "5", "doctor", "--json", "gluster://127.0.0.1:1/vol"]
        )
        == 1
    )
    document = json.loads(capsys.readouterr().out)
    assert document["uri"] == "gluster://127.0.0.1:1/vol"
    assert document["ok"] is False
    assert [c["status"] for c in document["checks"]][:2] == ["ok", "fail"]
