"""From a gluster:// URI to the volfile, its graph and bricks, on a real glusterd."""

from __future__ import annotations

import json
import re
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import trio

from pygluster import mgmt, volfile
from pygluster.errors import MgmtError, ServersExhausted, TransportError
from pygluster.rpc import glusterd
from pygluster.rpc.client import TcpAddress, UnixAddress, open_rpc_client
from pygluster.uri import GlusterURI
from tests.integration.conftest import GLUSTERD_SOCKET, VOLUMES, gluster, run_cli

GLUSTERD_STATE = Path("/var/lib/glusterd/vols")


def served_volfile(volume: str) -> bytes:
    """What glusterd serves to a local client: its trusted-*.tcp-fuse.vol file."""
    return (GLUSTERD_STATE / volume / f"trusted-{volume}.tcp-fuse.vol").read_bytes()


@pytest.mark.parametrize("volume", VOLUMES)
def test_volfile_over_tcp_is_what_glusterd_serves(host: str, volume: str) -> None:
    result = run_cli("volfile", f"gluster://{host}/{volume}")
    assert result.returncode == 0, result.stderr
    assert result.stdout == served_volfile(volume)
    # `gluster system:: getspec` prints the same text plus one newline.
    assert gluster("system::", "getspec", volume).encode() == result.stdout + b"\n"


def test_volfile_over_unix_socket(host: str) -> None:
    uri = f"gluster+unix:///pyg_dist?socket={GLUSTERD_SOCKET}"
    result = run_cli("volfile", uri)
    assert result.returncode == 0, result.stderr
    assert result.stdout == served_volfile("pyg_dist")


def brick_ports_from_status(volume: str) -> dict[str, int]:
    root = ET.fromstring(gluster("volume", "status", volume, "--xml"))
    ports = {}
    for node in root.iter("node"):
        path = node.findtext("path")
        port = node.findtext("port")
        if path and path.startswith("/") and port and port != "N/A":
            ports[path] = int(port)
    return ports


def test_json_lists_bricks_with_portmap_ports(host: str) -> None:
    result = run_cli("volfile", "--json", f"gluster://{host}/pyg_dist")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["volume"] == "pyg_dist"
    bricks = document["bricks"]
    assert len(bricks) == 3
    assert {b["host"] for b in bricks} == {host}
    expected = brick_ports_from_status("pyg_dist")
    assert {b["path"]: b["port"] for b in bricks} == expected
    assert all(b["error"] is None for b in bricks)


def test_graph_shows_translators_and_bricks(host: str) -> None:
    result = run_cli("volfile", "--graph", f"gluster://{host}/pyg_arb")
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode()
    assert "cluster/replicate" in text
    assert "arbiter-count=1" in text
    assert text.count("protocol/client") == 3


@pytest.mark.parametrize("volume", VOLUMES)
def test_fixture_volfiles_match_live_graphs(host: str, volume: str) -> None:
    """tests/fixtures/volfiles are real: same graph as glusterd serves now,
    apart from the per-volume login credentials."""
    fixture = Path(__file__).parents[1] / "fixtures" / "volfiles" / f"{volume}.vol"

    def shape(text: str) -> str:
        text = re.sub(r"option (username|password) \S+", r"option \1 X", text)
        # volume-id is the UUID glusterd chose when the volume was created
        return re.sub(r"option volume-id \S+", "option volume-id X", text)

    live = served_volfile(volume).decode()
    assert volfile.parse(shape(fixture.read_text())) == volfile.parse(shape(live))


@pytest.mark.parametrize(
    ("uri", "needle", "status"),
    [
        ("gluster://{host}/no_such_volume", "no volume 'no_such_volume'", 1),
        ("gluster://{host}:1/pyg_dist", "Connection refused", 1),
        ("gluster://{host}/pyg dist", "volume", 2),
        ("gluster+unix:///pyg_dist", "socket=", 2),
        ("http://{host}/pyg_dist", "gluster", 2),
    ],
)
def test_errors_are_one_line_without_traceback(
    host: str, uri: str, needle: str, status: int
) -> None:
    result = run_cli("volfile", uri.format(host=host), timeout=15)
    stderr = result.stderr.decode()
    assert result.returncode == status
    assert result.stdout == b""
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith("pygluster: error: ")
    assert needle in stderr
    assert "Traceback" not in stderr


async def test_several_servers_tried_in_order(host: str) -> None:
    text = (
        'json:{"driver":"gluster","volume":"pyg_single","server":['
        '{"type":"inet","host":"127.0.0.1","port":"1"},'
        '{"type":"unix","path":"/nonexistent/glusterd.socket"},'
        f'{{"type":"inet","host":"{host}","port":"24007"}}]}}'
    )
    fetched = await mgmt.fetch_volfile(GlusterURI.parse(text, require_image=False))
    assert fetched.server == f"{host}:24007"
    assert fetched.text.encode() == served_volfile("pyg_single")


async def test_every_failed_server_is_named() -> None:
    text = (
        'json:{"driver":"gluster","volume":"pyg_single","server":['
        '{"type":"inet","host":"127.0.0.1","port":"1"},'
        '{"type":"unix","path":"/nonexistent/glusterd.socket"}]}'
    )
    with pytest.raises(ServersExhausted) as info:
        await mgmt.fetch_volfile(GlusterURI.parse(text, require_image=False))
    message = str(info.value)
    assert "127.0.0.1:1" in message
    assert "unix:/nonexistent/glusterd.socket" in message
    assert len(info.value.attempts) == 2


async def test_portmap_of_unknown_brick_is_mgmt_error(host: str) -> None:
    with pytest.raises(MgmtError, match=r"PORTBYBRICK.*no running brick"):
        await mgmt.port_by_brick(host, "/no/such/brick")


async def test_dump_lists_programs_of_glusterd_and_a_brick(host: str) -> None:
    async with open_rpc_client(TcpAddress(host, 24007), call_timeout=10) as client:
        reply = await client.call(glusterd.DUMP, glusterd.GfDumpReq(gfs_id=0xCAED))
        assert ("Gluster Portmap", 34123456, 1) in {
            (p.progname, p.prognum, p.progver) for p in reply.prog
        }
        assert (await client.call(glusterd.PING, None)).op_ret == 0
    [brick] = await mgmt.brick_ports(
        volfile.parse(served_volfile("pyg_single").decode()).bricks()
    )
    assert brick.port is not None
    async with open_rpc_client(TcpAddress(host, brick.port), call_timeout=10) as client:
        reply = await client.call(glusterd.DUMP, glusterd.GfDumpReq(gfs_id=0xCAED))
        programs = {(p.prognum, p.progver) for p in reply.prog}
        assert (1298437, 400) in programs


async def test_unix_socket_offers_no_portmap() -> None:
    """protocol.md §1: PORTBYBRICK over glusterd's unix socket is
    PROG_UNAVAIL, which is why portmap always goes over TCP."""
    from pygluster.errors import RpcNotAccepted

    async with open_rpc_client(UnixAddress(GLUSTERD_SOCKET), call_timeout=10) as client:
        with pytest.raises(RpcNotAccepted, match="PROG_UNAVAIL"):
            await client.call(
                glusterd.PORTBYBRICK, glusterd.PmapPortByBrickReq(brick="/x")
            )


class _DualStackResolver(trio.abc.HostnameResolver):
    """Resolves one test name to ::1 first, then 127.0.0.1 (A and AAAA)."""

    NAME = "dual-stack.pygluster.test"

    async def getaddrinfo(self, host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002
        if host not in (self.NAME, self.NAME.encode()):
            raise socket.gaierror(socket.EAI_NONAME, "unknown test name")
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", int(port), 0, 0)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(port))),
        ]

    async def getnameinfo(self, sockaddr, flags):
        raise NotImplementedError


async def test_every_resolved_address_is_tried(host: str) -> None:
    """glusterd listens on IPv4 only here, so ::1 is refused and 127.0.0.1 works."""
    trio.socket.set_custom_hostname_resolver(_DualStackResolver())
    uri = GlusterURI.parse(
        f"gluster://{_DualStackResolver.NAME}/pyg_single", require_image=False
    )
    fetched = await mgmt.fetch_volfile(uri)
    assert fetched.text.encode() == served_volfile("pyg_single")
    bad = GlusterURI.parse(
        f"gluster://{_DualStackResolver.NAME}:1/pyg_single", require_image=False
    )
    with pytest.raises(TransportError) as info:
        await mgmt.fetch_volfile(bad)
    assert "[::1]:1" in str(info.value)
    assert "127.0.0.1:1" in str(info.value)
