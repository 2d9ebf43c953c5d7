"""Tests for pygluster.uri: QEMU's gluster URL and JSON forms."""

from __future__ import annotations

import ast
import json
import pathlib
import warnings
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygluster.errors import GlusterWarning, URIError
from pygluster.tls import TlsOptions
from pygluster.uri import DEFAULT_PORT, GlusterURI, Server
from tests.strategies import tls_options

URL_FORM = "gluster[+tcp|+unix]://[host[:port]]/volume/path/to/image"
JSON_FORM = 'json:{"driver":"gluster"'


def tcp(host: str, port: int = DEFAULT_PORT) -> Server:
    return Server("tcp", host=host, port=port)


def unix(path: str) -> Server:
    return Server("unix", socket=path)


def uri(*servers: Server, volume: str = "testvol", path: str | None) -> GlusterURI:
    return GlusterURI(servers, volume, path)


def jsonuri(doc: Any) -> str:
    return "json:" + json.dumps(doc)


def parse_quietly(text: str, **kwargs: Any) -> GlusterURI:
    """Parse with the rdma warning silenced (fuzzers can hit gluster+rdma)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GlusterWarning)
        return GlusterURI.parse(text, **kwargs)


# --------------------------------------------------------------------------
# Accepted URLs.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # QEMU's own examples (block/gluster.c).
        ("gluster://1.2.3.4/testvol/a.img", uri(tcp("1.2.3.4"), path="a.img")),
        ("gluster+tcp://1.2.3.4/testvol/a.img", uri(tcp("1.2.3.4"), path="a.img")),
        (
            "gluster+tcp://1.2.3.4:24007/testvol/dir/a.img",
            uri(tcp("1.2.3.4"), path="dir/a.img"),
        ),
        (
            "gluster+tcp://[1:2:3:4:5:6:7:8]/testvol/dir/a.img",
            uri(tcp("1:2:3:4:5:6:7:8"), path="dir/a.img"),
        ),
        (
            "gluster+tcp://[1:2:3:4:5:6:7:8]:24007/testvol/dir/a.img",
            uri(tcp("1:2:3:4:5:6:7:8"), path="dir/a.img"),
        ),
        (
            "gluster+tcp://server.domain.com:24007/testvol/dir/a.img",
            uri(tcp("server.domain.com"), path="dir/a.img"),
        ),
        (
            "gluster+unix:///testvol/dir/a.img?socket=/var/run/glusterd.socket",
            uri(unix("/var/run/glusterd.socket"), path="dir/a.img"),
        ),
        # Edge cases.
        ("gluster://h:1/v/a", uri(tcp("h", 1), volume="v", path="a")),
        ("gluster://h:65535/v/a", uri(tcp("h", 65535), volume="v", path="a")),
        ("gluster://h:024008/v/a", uri(tcp("h", 24008), volume="v", path="a")),
        ("GLUSTER+TCP://h/v/a", uri(tcp("h"), volume="v", path="a")),
        (
            "gluster://my_host-1.example/v/a",
            uri(tcp("my_host-1.example"), volume="v", path="a"),
        ),
        ("gluster://[::1]/v/a", uri(tcp("::1"), volume="v", path="a")),
        ("gluster://[0:0::1]:7/v/a", uri(tcp("::1", 7), volume="v", path="a")),
        (
            "gluster://[FE80::1%25eth0]/v/a",
            uri(tcp("fe80::1%eth0"), volume="v", path="a"),
        ),
        (
            "gluster://h/Vol_1-x/a/b/c.qcow2",
            uri(tcp("h"), volume="Vol_1-x", path="a/b/c.qcow2"),
        ),
        (
            "gluster://h/v/.hidden/..x/a.",
            uri(tcp("h"), volume="v", path=".hidden/..x/a."),
        ),
    ],
)
def test_parse_accepts(text: str, expected: GlusterURI) -> None:
    assert GlusterURI.parse(text) == expected


def test_missing_host_defaults_to_localhost_like_qemu() -> None:
    # qemu_gluster_parse_uri(): uri->server ? uri->server : "localhost".
    assert GlusterURI.parse("gluster:///testvol/a.img") == uri(
        tcp("localhost"), path="a.img"
    )
    assert GlusterURI.parse("gluster+tcp://:24008/testvol/a.img") == uri(
        tcp("localhost", 24008), path="a.img"
    )


def test_default_port() -> None:
    assert DEFAULT_PORT == 24007
    assert GlusterURI.parse("gluster://h/v/a").servers[0].port == 24007


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("gluster://h/v/a%20b.img", "a b.img"),
        ("gluster://h/v/a b.img", "a b.img"),  # raw space is tolerated
        ("gluster://h/v/100%25", "100%"),
        ("gluster://h/v/what%3F/x%23y", "what?/x#y"),
        ("gluster://h/v/%C3%A9t%C3%A9", "été"),
        ("gluster://h/v/été", "été"),
        ("gluster://h/v/a+b", "a+b"),  # '+' is not a space in a path
        ("gluster://h/v/%2e%2e%2e", "..."),
    ],
)
def test_percent_decoding(text: str, path: str) -> None:
    assert GlusterURI.parse(text).path == path


def test_percent_decoding_of_socket_and_volume() -> None:
    u = GlusterURI.parse("gluster+unix:///%76ol/a?socket=/run/a%26b%3Dc%20d")
    assert u == uri(unix("/run/a&b=c d"), volume="vol", path="a")


@pytest.mark.parametrize("text", ["gluster://h/v", "gluster://h/v/"])
def test_volume_only(text: str) -> None:
    assert GlusterURI.parse(text, require_image=False) == uri(
        tcp("h"), volume="v", path=None
    )
    with pytest.raises(URIError, match="no image path"):
        GlusterURI.parse(text)


def test_volume_only_image_given_anyway() -> None:
    u = GlusterURI.parse("gluster://h/v/a.img", require_image=False)
    assert u.path == "a.img"


def test_rdma_warns_and_becomes_tcp() -> None:
    with pytest.warns(GlusterWarning, match="rdma"):
        u = GlusterURI.parse("gluster+rdma://1.2.3.4:24007/testvol/a.img")
    assert u == uri(tcp("1.2.3.4"), path="a.img")
    assert str(u) == "gluster://1.2.3.4/testvol/a.img"


def test_bad_rdma_uri_raises_without_warning() -> None:
    # filterwarnings=error would turn a stray warning into the wrong error.
    with pytest.raises(URIError, match="port"):
        GlusterURI.parse("gluster+rdma://h:0/v/a")


# --------------------------------------------------------------------------
# Accepted JSON.

BRIEF_JSON = (
    'json:{"driver":"gluster","volume":"testvol","path":"dir/a.img","server":'
    '[{"type":"inet","host":"h","port":"24007"},'
    '{"type":"unix","path":"/var/run/glusterd.socket"}]}'
)
BRIEF_URI = uri(tcp("h"), unix("/var/run/glusterd.socket"), path="dir/a.img")


def gluster_doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "driver": "gluster",
        "volume": "testvol",
        "path": "dir/a.img",
        "server": [{"type": "inet", "host": "h", "port": "24007"}],
    }
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not None}


def test_json_example() -> None:
    assert GlusterURI.parse(BRIEF_JSON) == BRIEF_URI


def test_json_servers_keep_their_order() -> None:
    servers = [
        {"type": "unix", "path": "/s"},
        {"type": "inet", "host": "b", "port": 2},
        {"type": "inet", "host": "a", "port": 1},
    ]
    u = GlusterURI.parse(jsonuri(gluster_doc(server=servers)))
    assert u.servers == (unix("/s"), tcp("b", 2), tcp("a", 1))


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ({"type": "inet", "host": "h", "port": 24008}, tcp("h", 24008)),
        ({"type": "inet", "host": "h", "port": "24008"}, tcp("h", 24008)),
        ({"type": "inet", "host": "h"}, tcp("h")),
        ({"type": "tcp", "host": "h", "port": 1}, tcp("h", 1)),
        ({"type": "inet", "host": "::1", "port": 1}, tcp("::1", 1)),
        ({"type": "unix", "path": "/s"}, unix("/s")),
        ({"type": "unix", "socket": "/s"}, unix("/s")),
    ],
)
def test_json_server_spellings(server: dict[str, Any], expected: Server) -> None:
    u = GlusterURI.parse(jsonuri(gluster_doc(server=[server])))
    assert u.servers == (expected,)


def test_json_nested_under_file() -> None:
    assert GlusterURI.parse(jsonuri({"file": gluster_doc()})) == uri(
        tcp("h"), path="dir/a.img"
    )


def test_json_debug_and_logfile_are_ignored() -> None:
    doc = gluster_doc(debug=9, logfile="/tmp/gfapi.log")
    assert GlusterURI.parse(jsonuri(doc)) == uri(tcp("h"), path="dir/a.img")
    assert GlusterURI.parse(jsonuri(gluster_doc(debug="4"))).path == "dir/a.img"


def test_json_absolute_path_as_qemu_documents_it() -> None:
    assert GlusterURI.parse(jsonuri(gluster_doc(path="/dir/a.img"))).path == "dir/a.img"


def test_json_path_is_literal_not_percent_decoded() -> None:
    assert GlusterURI.parse(jsonuri(gluster_doc(path="a%20b"))).path == "a%20b"


def test_json_volume_only() -> None:
    text = jsonuri(gluster_doc(path=None))
    assert GlusterURI.parse(text, require_image=False).path is None
    with pytest.raises(URIError, match="no image path"):
        GlusterURI.parse(text)


# --------------------------------------------------------------------------
# Formatting.


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (uri(tcp("1.2.3.4"), path="a.img"), "gluster://1.2.3.4/testvol/a.img"),
        (uri(tcp("h", 24008), path="d/a.img"), "gluster://h:24008/testvol/d/a.img"),
        (uri(tcp("1:2::8"), path="a"), "gluster://[1:2::8]/testvol/a"),
        (
            uri(tcp("fe80::1%eth0", 9), path="a"),
            "gluster://[fe80::1%25eth0]:9/testvol/a",
        ),
        (uri(tcp("h"), path=None), "gluster://h/testvol"),
        (
            uri(tcp("h"), path="a b/100%/x?#"),
            "gluster://h/testvol/a%20b/100%25/x%3F%23",
        ),
        (uri(tcp("h"), path="é"), "gluster://h/testvol/%C3%A9"),
        (
            uri(unix("/run/g d&=?#.sock"), path="a"),
            "gluster+unix:///testvol/a?socket=/run/g%20d%26%3D%3F%23.sock",
        ),
        (
            BRIEF_URI,
            'json:{"driver":"gluster","path":"dir/a.img","server":['
            '{"host":"h","port":"24007","type":"inet"},'
            '{"path":"/var/run/glusterd.socket","type":"unix"}],"volume":"testvol"}',
        ),
    ],
)
def test_str_is_canonical(value: GlusterURI, text: str) -> None:
    assert str(value) == text
    assert GlusterURI.parse(text, require_image=value.path is not None) == value


def test_single_server_json_formats_as_url() -> None:
    assert (
        str(GlusterURI.parse(jsonuri(gluster_doc()))) == "gluster://h/testvol/dir/a.img"
    )


@pytest.mark.parametrize(
    ("server", "text"),
    [
        (tcp("h"), "h:24007"),
        (tcp("1.2.3.4", 1), "1.2.3.4:1"),
        (tcp("::1"), "[::1]:24007"),
        (unix("/var/run/glusterd.socket"), "unix:/var/run/glusterd.socket"),
    ],
)
def test_server_str(server: Server, text: str) -> None:
    assert str(server) == text


# --------------------------------------------------------------------------
# image_path, with_path, direct construction.


def test_image_path() -> None:
    assert GlusterURI.parse("gluster://h/v/dir/a.img").image_path == "/dir/a.img"
    volume_only = GlusterURI.parse("gluster://h/v", require_image=False)
    with pytest.raises(URIError, match="no image path"):
        _ = volume_only.image_path


def test_with_path() -> None:
    u = GlusterURI.parse("gluster://h/v/a.img")
    assert u.with_path("b/c.img") == uri(tcp("h"), volume="v", path="b/c.img")
    assert u.with_path("/b/c.img").path == "b/c.img"
    assert u.with_path(None).path is None
    for bad in ("", "a//b", "../x", "a/"):
        with pytest.raises(URIError):
            u.with_path(bad)


def test_values_are_hashable_and_servers_become_a_tuple() -> None:
    u = GlusterURI([tcp("h")], "v", "a")  # type: ignore[arg-type]
    assert u.servers == (tcp("h"),)
    assert hash(u) == hash(uri(tcp("h"), volume="v", path="a"))


def test_ipv6_is_normalised_on_construction() -> None:
    assert tcp("0:0::1").host == "::1"
    assert tcp("FE80::1%eth0").host == "fe80::1%eth0"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: Server("tcp"), "host is empty"),
        (lambda: Server("tcp", host="h", port=0), "out of range"),
        (lambda: Server("tcp", host="h", port=True), "not an integer"),
        (lambda: Server("tcp", host="h", socket="/s"), "no socket"),
        (lambda: Server("unix", socket="rel"), "absolute"),
        (lambda: Server("unix", host="h", socket="/s"), "no host or port"),
        (lambda: Server("rdma", host="h"), "transport"),  # type: ignore[arg-type]
        (lambda: GlusterURI((), "v", "a"), "at least one server"),
        (lambda: GlusterURI(("h",), "v", "a"), "Server values"),  # type: ignore[arg-type]
        (lambda: GlusterURI((tcp("h"),), "bad.vol", "a"), "volume name"),
        (lambda: GlusterURI((tcp("h"),), "v", "/a"), "must not start with '/'"),
        (lambda: GlusterURI((tcp("h"),), "v", "a\x00b"), "NUL"),
        (lambda: GlusterURI((tcp("h"),), "v", "\ud800"), "not valid Unicode"),
    ],
)
def test_construction_validates(make: Any, reason: str) -> None:
    with pytest.raises(URIError, match=reason):
        make()


def test_module_is_pure() -> None:
    """uri.py is a pure codec: it must not import trio or do I/O."""
    import pygluster.uri as module

    tree = ast.parse(pathlib.Path(module.__file__).read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not {"trio", "socket", "os", "io"} & imported
    assert sorted(module.__all__) == ["DEFAULT_PORT", "GlusterURI", "Server"]


# --------------------------------------------------------------------------
# Rejections: one case per rule. Each message must quote the URI, name the
# problem and show the expected form.

REJECTED_URLS = [
    pytest.param("", "does not start with gluster://", id="empty"),
    pytest.param("/testvol/a.img", "does not start with gluster://", id="no-scheme"),
    pytest.param("http://h/v/a", "scheme 'http' is not gluster", id="other-scheme"),
    pytest.param("glusterfs://h/v/a", "not gluster", id="similar-scheme"),
    pytest.param("gluster+udp://h/v/a", "transport 'udp'", id="unknown-transport"),
    pytest.param("gluster+://h/v/a", "transport ''", id="empty-transport"),
    pytest.param("gluster://h/v/a\n", "control character", id="control-char"),
    pytest.param("gluster://h/v/a#frag", "fragment", id="fragment"),
    pytest.param("gluster://user@h/v/a", "user information", id="userinfo"),
    pytest.param("gluster://h", "volume name is missing", id="no-path"),
    pytest.param("gluster://h/", "volume name is missing", id="no-volume"),
    pytest.param("gluster://h//a", "volume name is missing", id="empty-volume"),
    pytest.param("gluster://h/v.1/a", "only contain ASCII letters", id="volume-chars"),
    pytest.param(
        "gluster://h/v%C3%A9/a", "only contain ASCII letters", id="volume-unicode"
    ),
    pytest.param("gluster://h/-v/a", "must not start with '-'", id="volume-dash"),
    pytest.param("gluster://h/all/a", "reserved", id="volume-reserved"),
    pytest.param(
        "gluster://h/" + "v" * 256 + "/a", "longer than 255", id="volume-length"
    ),
    pytest.param("gluster://h/v/a//b", "empty component", id="path-double-slash"),
    pytest.param("gluster://h/v/a/", "empty component", id="path-trailing-slash"),
    pytest.param("gluster://h/v//a", "empty component", id="path-leading-slash"),
    pytest.param("gluster://h/v/./a", "'.' component", id="path-dot"),
    pytest.param("gluster://h/v/a/..", "'..' component", id="path-dotdot"),
    pytest.param("gluster://h/v/%2E%2E/a", "'..' component", id="path-encoded-dotdot"),
    pytest.param("gluster://h/v/a%2Fb", "contains '/'", id="path-encoded-slash"),
    pytest.param("gluster://h/v/a%00", "NUL", id="path-nul"),
    pytest.param("gluster://h/v/a%zz", "not a %XX escape", id="bad-escape"),
    pytest.param("gluster://h/v/a%2", "not a %XX escape", id="short-escape"),
    pytest.param("gluster://h/v/a%FF", "not UTF-8", id="escape-not-utf8"),
    pytest.param("gluster://h:/v/a", "port ''", id="empty-port"),
    pytest.param("gluster://h:0/v/a", "out of range", id="port-zero"),
    pytest.param("gluster://h:65536/v/a", "out of range", id="port-too-big"),
    pytest.param("gluster://h:+1/v/a", "not a number", id="port-sign"),
    pytest.param("gluster://h:x/v/a", "not a number", id="port-letters"),
    pytest.param("gluster://h:" + "9" * 5000 + "/v/a", "not a number", id="port-huge"),
    pytest.param("gluster://h:\u0661/v/a", "not a number", id="port-non-ascii-digit"),
    pytest.param(
        "gluster://1:2:3::8/v/a", "must be in brackets", id="ipv6-no-brackets"
    ),
    pytest.param("gluster://[::1/v/a", "without a closing", id="ipv6-unclosed"),
    pytest.param("gluster://[h]/v/a", "only for IPv6", id="brackets-not-ipv6"),
    pytest.param("gluster://[1::2::3]/v/a", "not a valid IPv6", id="ipv6-invalid"),
    pytest.param("gluster://[::1]x/v/a", "after the IPv6", id="ipv6-trailing"),
    pytest.param("gluster://[fe80::1%eth0]/v/a", "%25zone", id="ipv6-zone-unencoded"),
    pytest.param("gluster://[fe80::1%25e%2Fx]/v/a", "zone id", id="ipv6-zone-chars"),
    pytest.param("gluster://1.2.3.999/v/a", "not a valid IPv4", id="ipv4-invalid"),
    pytest.param(
        "gluster://bad_host!/v/a", "not a valid host name", id="hostname-chars"
    ),
    pytest.param(
        "gluster://a..b/v/a", "not a valid host name", id="hostname-empty-label"
    ),
    pytest.param(
        "gluster://" + "a" * 64 + "/v/a", "not a valid host name", id="label-long"
    ),
    pytest.param("gluster://bücher.de/v/a", "punycode", id="hostname-idn"),
    pytest.param("gluster://h/v/a?socket=/s", "takes no socket=", id="tcp-query"),
    pytest.param("gluster://h/v/a?", "an empty query", id="tcp-empty-query"),
    pytest.param("gluster+unix:///v/a", "needs ?socket=", id="unix-no-socket"),
    pytest.param("gluster+unix:///v/a?", "needs ?socket=", id="unix-empty-query"),
    pytest.param("gluster+unix://h/v/a?socket=/s", "no host or port", id="unix-host"),
    pytest.param(
        "gluster+unix://:24007/v/a?socket=/s", "no host or port", id="unix-port"
    ),
    pytest.param(
        "gluster+unix:///v/a?socket=s", "must be absolute", id="unix-relative"
    ),
    pytest.param(
        "gluster+unix:///v/a?socket=", "must be absolute", id="unix-empty-socket"
    ),
    pytest.param("gluster+unix:///v/a?sock=/s", "unknown", id="unix-unknown-key"),
    pytest.param("gluster+unix:///v/a?socket", "unknown", id="unix-key-no-value"),
    pytest.param("gluster+unix:///v/a?socket=/s&x=1", "unknown", id="unix-extra-key"),
    pytest.param(
        "gluster+unix:///v/a?socket=/s&socket=/t", "more than once", id="unix-dup"
    ),
    pytest.param("gluster+unix:///v/a?socket=/s%00", "NUL", id="unix-nul"),
]


@pytest.mark.parametrize(("text", "reason"), REJECTED_URLS)
def test_url_rejections(text: str, reason: str) -> None:
    with pytest.raises(URIError) as info:
        GlusterURI.parse(text)
    message = str(info.value)
    assert info.value.uri == text
    assert repr(text) in message
    assert reason in message
    assert URL_FORM in message


REJECTED_JSON = [
    pytest.param("json:", "not valid JSON", id="empty"),
    pytest.param("json:{", "not valid JSON", id="truncated"),
    pytest.param("json:{}x", "not valid JSON", id="trailing"),
    pytest.param("json:" + "[" * 100_000, "nested too deeply", id="deep-nesting"),
    pytest.param("json:[]", "must be an object", id="not-object"),
    pytest.param(
        jsonuri({"file": 1}), "'file' must be an object", id="file-not-object"
    ),
    pytest.param(
        jsonuri({"driver": "qcow2", "file": gluster_doc()}),
        "only {'file'",
        id="format-layer",
    ),
    pytest.param(
        '{"driver":"gluster","driver":"gluster"}'.join(["json:", ""]),
        "appears twice",
        id="duplicate-key",
    ),
    pytest.param(
        jsonuri(gluster_doc(cache=True)), "unknown key(s) 'cache'", id="unknown"
    ),
    pytest.param(
        jsonuri(gluster_doc(driver=None)), '"driver": "gluster"', id="no-driver"
    ),
    pytest.param(
        jsonuri(gluster_doc(driver="nbd")), '"driver": "gluster"', id="driver"
    ),
    pytest.param(
        jsonuri(gluster_doc(volume=None)), "'volume' is missing", id="no-volume"
    ),
    pytest.param(jsonuri(gluster_doc(volume=3)), "must be a string", id="volume-type"),
    pytest.param(
        jsonuri(gluster_doc(volume="a/b")), "ASCII letters", id="volume-chars"
    ),
    pytest.param(jsonuri(gluster_doc(path=["a"])), "must be a string", id="path-type"),
    pytest.param(jsonuri(gluster_doc(path="a//b")), "empty component", id="path-empty"),
    pytest.param(jsonuri(gluster_doc(path="a/../b")), "'..'", id="path-dotdot"),
    pytest.param(
        jsonuri(gluster_doc(path="//a")), "start with '/'", id="path-two-slashes"
    ),
    pytest.param(
        jsonuri(gluster_doc(path="\ud800")), "not valid Unicode", id="surrogate"
    ),
    pytest.param(jsonuri(gluster_doc(debug=True)), "'debug'", id="debug-type"),
    pytest.param(jsonuri(gluster_doc(debug="x")), "'debug'", id="debug-text"),
    pytest.param(
        jsonuri(gluster_doc(logfile=1)), "must be a string", id="logfile-type"
    ),
    pytest.param(jsonuri(gluster_doc(server=None)), "non-empty list", id="no-server"),
    pytest.param(jsonuri(gluster_doc(server=[])), "non-empty list", id="empty-servers"),
    pytest.param(
        jsonuri(gluster_doc(server={})), "non-empty list", id="server-not-list"
    ),
    pytest.param(
        jsonuri(gluster_doc(server=["h"])), "must be an object", id="server-item"
    ),
    pytest.param(
        jsonuri(gluster_doc(server=[{"host": "h"}])), "'type' is missing", id="no-type"
    ),
    pytest.param(
        jsonuri(gluster_doc(server=[{"type": "rdma", "host": "h"}])),
        "is not 'inet'",
        id="bad-type",
    ),
    pytest.param(
        jsonuri(gluster_doc(server=[{"type": "inet"}])),
        "'host' is missing",
        id="no-host",
    ),
    pytest.param(
        jsonuri(gluster_doc(server=[{"type": "inet", "host": 1}])),
        "must be a string",
        id="host-type",
    ),
    pytest.param(
        jsonuri(gluster_doc(server=[{"type": "inet", "host": "[::1]"}])),
        "not a valid IPv6",
        id="host-brackets",
    ),
    pytest.param(
        jsonuri(gluster_doc(server=[{"type": "inet", "host": "h", "port": 0}])),
        "out of range",
        id="port-range",
    ),
    pytest.param(
        jsonuri(gluster_doc(server=[{"type": "inet", "host": "h", "port": "x"}])),
        "not a number",
        id="port-text",
    ),
    pytest.param(
        jsonuri(gluster_doc(server=[{"type": "inet", "host": "h", "port": 1.5}])),
        "not an integer",
        id="port-float",
    ),
    pytest.param(
        jsonuri(gluster_doc(server=[{"type": "inet", "host": "h", "port": True}])),
        "not an integer",
        id="port-bool",
    ),
    pytest.param(
        jsonuri(gluster_doc(server=[{"type": "inet", "host": "h", "ipv6": True}])),
        "not supported by gluster",
        id="inet-ipv6-flag",
    ),
    pytest.param(
        jsonuri(gluster_doc(server=[{"type": "inet", "host": "h", "path": "/s"}])),
        "unknown key(s) 'path'",
        id="inet-unknown",
    ),
    pytest.param(
        jsonuri(gluster_doc(server=[{"type": "unix"}])), "is missing", id="unix-no-path"
    ),
    pytest.param(
        jsonuri(gluster_doc(server=[{"type": "unix", "path": "/s", "socket": "/s"}])),
        "not both",
        id="unix-path-and-socket",
    ),
    pytest.param(
        jsonuri(gluster_doc(server=[{"type": "unix", "path": "s"}])),
        "must be absolute",
        id="unix-relative",
    ),
    pytest.param(
        jsonuri(gluster_doc(server=[{"type": "unix", "path": "/s", "host": "h"}])),
        "unknown key(s) 'host'",
        id="unix-unknown",
    ),
]


@pytest.mark.parametrize(("text", "reason"), REJECTED_JSON)
def test_json_rejections(text: str, reason: str) -> None:
    with pytest.raises(URIError) as info:
        GlusterURI.parse(text)
    message = str(info.value)
    assert info.value.uri == text
    assert repr(text)[:200] in message
    assert reason in message
    assert JSON_FORM in message


def test_json_server_index_is_named() -> None:
    doc = gluster_doc(server=[{"type": "inet", "host": "h"}, {"type": "unix"}])
    with pytest.raises(URIError, match=r"server\[1\]"):
        GlusterURI.parse(jsonuri(doc))


def test_non_str_input() -> None:
    with pytest.raises(URIError, match="expected a str"):
        GlusterURI.parse(b"gluster://h/v/a")  # type: ignore[arg-type]


def test_uri_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="invalid gluster URI"):
        GlusterURI.parse("gluster://h/v/a//b")


# --------------------------------------------------------------------------
# Properties.

_RESERVED = {
    "volume",
    "type",
    "subvolumes",
    "option",
    "end-volume",
    "all",
    "description",
}
_RESERVED |= {"volume_not_in_ring", "force", "snap-max-hard-limit"}
_RESERVED |= {"snap-max-soft-limit", "auto-delete", "activate-on-create"}

_LABEL = r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,8}[A-Za-z0-9_])?"
hostnames = st.from_regex(rf"{_LABEL}(\.{_LABEL}){{0,3}}", fullmatch=True).filter(
    lambda h: not h.rsplit(".", 1)[-1].isdigit()
)
ipv4s = st.ip_addresses(v=4).map(str)
ipv6s = st.ip_addresses(v=6).map(str)
zoned_ipv6s = st.tuples(
    ipv6s, st.from_regex(r"[A-Za-z0-9._~-]{1,8}", fullmatch=True)
).map("%".join)
ports = st.integers(1, 65535)
tcp_servers = st.builds(
    tcp, st.one_of(hostnames, ipv4s, ipv6s, zoned_ipv6s, st.just("localhost")), ports
)
sockets = st.text(max_size=20).filter(lambda s: "\x00" not in s).map(lambda s: "/" + s)
unix_servers = st.builds(unix, sockets)
servers = st.one_of(tcp_servers, unix_servers)
volumes = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,15}", fullmatch=True).filter(
    lambda v: v not in _RESERVED
)
names = st.one_of(
    st.sampled_from(
        ["a.img", "%", "?", "#", " ", "100%", "a b", "x?y#z", "..a", "%2F", "é"]
    ),
    st.text(min_size=1, max_size=12),
).filter(lambda n: "/" not in n and "\x00" not in n and n not in (".", ".."))
paths = st.lists(names, min_size=1, max_size=4).map("/".join)
uris = st.builds(
    GlusterURI,
    st.lists(servers, min_size=1, max_size=3).map(tuple),
    volumes,
    st.one_of(st.none(), paths),
    st.one_of(st.just(TlsOptions()), tls_options),
)

JSON_KEYS = ["driver", "volume", "path", "server", "debug", "logfile", "file", "type"]
JSON_KEYS += ["host", "port", "socket", "to", "ipv4", "ipv6", "tls", "tls-depth"]
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=10),
        st.sampled_from(["gluster", "inet", "tcp", "unix", "/s", "h", "24007", "v"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(JSON_KEYS), st.text(max_size=6)),
            children,
            max_size=6,
        ),
    ),
    max_leaves=20,
)


def check_parse_or_uri_error(text: str) -> None:
    """Anything either parses or raises URIError; nothing else escapes."""
    try:
        result = parse_quietly(text, require_image=False)
    except URIError as exc:
        error: URIError | None = exc
    else:
        error = None
        assert isinstance(result, GlusterURI)
        # Whatever parses must survive its own canonical form.
        assert parse_quietly(str(result), require_image=False) == result
    if error is not None:
        assert error.uri == text


class TestURIProperties:
    @given(uris)
    def test_roundtrip(self, u: GlusterURI) -> None:
        assert GlusterURI.parse(str(u), require_image=u.path is not None) == u

    @given(uris)
    def test_str_is_stable(self, u: GlusterURI) -> None:
        text = str(u)
        assert str(GlusterURI.parse(text, require_image=False)) == text

    @given(uris, paths)
    def test_with_path_roundtrip(self, u: GlusterURI, path: str) -> None:
        moved = u.with_path(path)
        assert moved.path == path
        assert moved.image_path == "/" + path
        assert GlusterURI.parse(str(moved)) == moved

    @given(st.text())
    def test_any_text(self, text: str) -> None:
        check_parse_or_uri_error(text)

    @given(
        st.sampled_from(["gluster://", "gluster+unix://", "gluster+tcp://", "json:"]),
        st.text(),
    )
    def test_any_text_after_a_prefix(self, prefix: str, text: str) -> None:
        check_parse_or_uri_error(prefix + text)

    @given(uris, st.data())
    def test_mutated_uri(self, u: GlusterURI, data: st.DataObject) -> None:
        text = str(u)
        for _ in range(data.draw(st.integers(1, 4))):
            pos = data.draw(st.integers(0, len(text)))
            char = data.draw(st.sampled_from([*'/:[]?#%&=@.+ \x00{}",', "é", "%2F"]))
            op = data.draw(st.sampled_from(["insert", "delete", "replace"]))
            if op == "insert":
                text = text[:pos] + char + text[pos:]
            elif op == "delete":
                text = text[:pos] + text[pos + 1 :]
            else:
                text = text[:pos] + char + text[pos + 1 :]
        check_parse_or_uri_error(text)

    @given(json_values)
    def test_json_garbage(self, value: Any) -> None:
        check_parse_or_uri_error("json:" + json.dumps(value))

    @given(
        st.dictionaries(st.sampled_from(JSON_KEYS), json_values, max_size=6),
        st.booleans(),
    )
    def test_json_near_miss(self, extra: dict[str, Any], nest: bool) -> None:
        doc = gluster_doc()
        doc.update(extra)
        check_parse_or_uri_error("json:" + json.dumps({"file": doc} if nest else doc))

    @given(st.lists(json_values, min_size=1, max_size=3))
    def test_json_garbage_servers(self, items: list[Any]) -> None:
        check_parse_or_uri_error(jsonuri(gluster_doc(server=items)))
