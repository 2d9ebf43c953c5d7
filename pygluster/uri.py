"""Gluster image URIs: parse and format QEMU's gluster block-driver syntax.

Two spellings are understood, the same two QEMU's ``block/gluster.c`` takes:

    gluster[+tcp|+unix|+rdma]://[host[:port]]/volume/path/to/image[?socket=...]
    json:{"driver":"gluster","volume":"...","path":"...","server":[{...}, ...]}

Our one addition to QEMU's syntax: TLS options (:class:`~pygluster.tls.TlsOptions`)
as ``tls-*`` query parameters (``gluster://host/vol/a.img?tls-cert=/p.pem``,
after ``socket=`` for unix) or top-level ``json:`` keys of the same names.

The URL form names one volfile server; the JSON form names several, which the
caller tries in order. Both become the same :class:`GlusterURI` value, and
``str()`` gives back the canonical spelling: a URL for one server, compact JSON
for several, so ``GlusterURI.parse(str(u)) == u`` always holds.

Theory of operation: every rule is a small ``_check_*`` / ``_parse_*`` helper
that raises the private :class:`_Reject` with a one-line reason. The two public
edges (``GlusterURI.parse`` and the dataclasses' ``__post_init__``) are the only
places that turn a ``_Reject`` into :class:`~pygluster.errors.URIError`, adding
the offending text and the expected form; nothing else escapes (the
``map_exceptions`` idea, applied to a parser).

Pure parsing and formatting: no I/O, no name resolution, no trio.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
import warnings
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, unquote

from pygluster.errors import GlusterWarning, TlsOptionError, URIError
from pygluster.tls import NO_TLS, TlsOptions

__all__ = ["DEFAULT_PORT", "GlusterURI", "Server"]

#: glusterd's management port (QEMU ``GLUSTER_DEFAULT_PORT``).
DEFAULT_PORT = 24007

# QEMU's qemu_gluster_parse_uri() uses "localhost" when the tcp URL has no
# host (``gluster:///vol/img``); we do the same so such URLs mean one thing.
_DEFAULT_HOST = "localhost"

# glusterd's own rule for volume names (cli-cmd-parser.c cli_validate_volname):
# only ASCII letters, digits, '-' and '_'; no leading '-'; a few words that
# would clash with volfile or CLI syntax are reserved. Names are stored in
# GD_VOLUME_NAME_MAX (256, protocol-common.h) byte buffers, NUL included, so
# 255 characters is the longest a volume can really have.
_VOLUME_RE = re.compile(r"[A-Za-z0-9_-]+")
_VOLUME_MAX = 255
_RESERVED_VOLUMES = frozenset(
    {
        "volume",
        "type",
        "subvolumes",
        "option",
        "end-volume",
        "all",
        "volume_not_in_ring",
        "description",
        "force",
        "snap-max-hard-limit",
        "snap-max-soft-limit",
        "auto-delete",
        "activate-on-create",
    }
)

# RFC 1123 host labels, plus '_' which real DNS and /etc/hosts names carry.
_LABEL_RE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
# RFC 6874 zone ids are unreserved characters only.
_ZONE_RE = re.compile(r"[A-Za-z0-9._~-]+")
_PORT_RE = re.compile(r"0*[0-9]{1,5}")  # leading zeros are harmless
_BAD_ESCAPE_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")

# pchar (RFC 3986 section 3.3) minus the unreserved set quote() always keeps:
# left readable in paths; everything else, '%', '?', '#' and non-ASCII
# included, is percent-encoded as UTF-8.
_PATH_SAFE = "/!$&'()*+,;=:@"

_URL_FORM = (
    "gluster[+tcp|+unix]://[host[:port]]/volume/path/to/image"
    "[?socket=/path/to/glusterd.socket]"
)
_JSON_FORM = (
    'json:{"driver":"gluster","volume":"VOLUME","path":"path/to/image",'
    '"server":[{"type":"inet","host":"HOST","port":"24007"},'
    '{"type":"unix","path":"/path/to/glusterd.socket"}]}'
)

# Keys QEMU's gluster driver reads from its JSON/QDict options
# (runtime_json_opts, runtime_opts, runtime_inet_opts, runtime_unix_opts).
_TOP_KEYS = frozenset(
    {"driver", "volume", "path", "server", "debug", "logfile", *TlsOptions.KEYS}
)
_INET_KEYS = frozenset({"type", "host", "port"})
# QEMU knows these InetSocketAddress fields but refuses them for gluster.
_INET_UNSUPPORTED = frozenset({"to", "ipv4", "ipv6"})
_UNIX_KEYS = frozenset({"type", "path", "socket"})


class _Reject(Exception):
    """A parsing rule was broken. Carries only the reason; see module doc."""


# --------------------------------------------------------------------------
# Field checks shared by parse() and the dataclasses' __post_init__.


def _check_host(host: str) -> str:
    """Validate a tcp host and return its canonical spelling.

    IPv6 literals come back compressed and lower-case, so two spellings of
    the same address make equal ``Server`` values; names are kept as given
    (they are resolved later, by the caller).
    """
    if not host:
        raise _Reject("the host is empty")
    if ":" in host:
        address, percent, zone = host.partition("%")
        try:
            ip6 = ipaddress.IPv6Address(address)
        except ValueError:
            raise _Reject(f"{host!r} is not a valid IPv6 address") from None
        if percent and not _ZONE_RE.fullmatch(zone):
            raise _Reject(f"IPv6 zone id {zone!r} must be letters, digits, '.-_~'")
        return ip6.compressed + (f"%{zone}" if percent else "")
    labels = host.split(".")
    # A name whose last label is all digits can only be meant as an IPv4
    # address (the WHATWG URL rule); "1.2.3.999" must not pass as a name.
    if labels[-1].isascii() and labels[-1].isdigit():
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise _Reject(f"{host!r} is not a valid IPv4 address") from None
    if not host.isascii():
        raise _Reject(f"host {host!r} is not ASCII; write it in punycode (xn--)")
    if len(host) > 253 or not all(_LABEL_RE.fullmatch(label) for label in labels):
        raise _Reject(
            f"{host!r} is not a valid host name (dot-separated labels of "
            "letters, digits, '-' and '_', each 1-63 long)"
        )
    return host


def _check_port(port: object) -> int:
    # bool is an int subclass; True is not a port.
    if not isinstance(port, int) or isinstance(port, bool):
        raise _Reject(f"port {port!r} is not an integer")
    if not 1 <= port <= 65535:
        raise _Reject(f"port {port} is out of range 1..65535")
    return port


def _parse_port(text: str) -> int:
    # Checked before int(): int() also takes '+1', ' 1' and other scripts'
    # digits and, for very long strings, raises a ValueError of its own.
    if not _PORT_RE.fullmatch(text):
        raise _Reject(f"port {text!r} is not a number 1..65535")
    return _check_port(int(text))


def _check_text(value: str, what: str) -> None:
    """Reject what a gluster file name or socket path can never hold."""
    if "\x00" in value:
        raise _Reject(f"{what} {value!r} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (from a JSON "\ud800" escape, or built by hand)
        # has no UTF-8 bytes to send to the brick.
        raise _Reject(f"{what} {value!r} is not valid Unicode") from None


def _check_socket(path: str) -> None:
    if not path.startswith("/"):
        raise _Reject(f"socket path {path!r} must be absolute (start with '/')")
    _check_text(path, "socket path")


def _check_volume(name: str) -> None:
    if not name:
        raise _Reject("the volume name is missing")
    if not _VOLUME_RE.fullmatch(name):
        raise _Reject(
            f"volume name {name!r} may only contain ASCII letters, digits, "
            "'-' and '_' (glusterd's rule)"
        )
    if name.startswith("-"):
        raise _Reject(f"volume name {name!r} must not start with '-' (glusterd's rule)")
    if len(name) > _VOLUME_MAX:
        raise _Reject(f"volume name is longer than {_VOLUME_MAX} characters")
    if name in _RESERVED_VOLUMES:
        raise _Reject(f"{name!r} is reserved by glusterd and cannot name a volume")


def _check_path(path: str) -> None:
    """Validate an image path relative to the volume root.

    Empty, '.' and '..' components are refused rather than normalised:
    gluster resolves names one component at a time on the bricks, which know
    nothing of '.'/'..', and silently collapsing 'a//b' or 'a/../b' would make
    the URI name a different file than the one its text shows.
    """
    if not path:
        raise _Reject("the image path is empty")
    if path.startswith("/"):
        raise _Reject(f"image path {path!r} must not start with '/' (empty component)")
    for name in path.split("/"):
        if name == "":
            raise _Reject(
                f"image path {path!r} has an empty component ('//' or '/' at the end)"
            )
        if name in (".", ".."):
            raise _Reject(f"image path {path!r} has a {name!r} component")
    _check_text(path, "image path")


# --------------------------------------------------------------------------
# The values.


@dataclass(frozen=True, slots=True)
class Server:
    """One volfile server: TCP host+port, or a unix socket path.

    Attributes:
        transport: ``"tcp"`` or ``"unix"``.
        host: tcp only; a name, IPv4 address or IPv6 address without
            brackets (IPv6 is stored compressed; a zone id follows ``%``).
        port: tcp only; glusterd's port, 1..65535.
        socket: unix only; absolute path of glusterd's socket.

    Raises:
        URIError: if the fields do not describe a valid server.
    """

    transport: Literal["tcp", "unix"]
    host: str = ""
    port: int = DEFAULT_PORT
    socket: str = ""

    def __post_init__(self) -> None:
        try:
            if self.transport == "tcp":
                if self.socket:
                    raise _Reject("a tcp server has no socket path")
                _check_port(self.port)
                # Frozen dataclass: normalising goes through object.__setattr__.
                object.__setattr__(self, "host", _check_host(self.host))
            elif self.transport == "unix":
                if self.host or self.port != DEFAULT_PORT:
                    raise _Reject("a unix server has no host or port")
                _check_socket(self.socket)
            else:
                raise _Reject(f"transport {self.transport!r} is not 'tcp' or 'unix'")
        except _Reject as exc:
            raise URIError(repr(self), str(exc)) from None

    def __str__(self) -> str:
        """``host:24007``, ``[::1]:24007`` or ``unix:/path/to/socket``."""
        if self.transport == "unix":
            return f"unix:{self.socket}"
        if ":" in self.host:
            return f"[{self.host}]:{self.port}"
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class GlusterURI:
    """Where a gluster image lives: volfile servers, volume, path in the volume.

    Attributes:
        servers: at least one, in the order to try them.
        volume: the volume name.
        path: the image path inside the volume without a leading ``/``
            (``"dir/a.img"``), or None for a volume-only URI.
        tls: TLS options given with the URI (``tls-*`` query keys).

    Raises:
        URIError: if the fields do not describe a valid URI.
    """

    servers: tuple[Server, ...]
    volume: str
    path: str | None
    tls: TlsOptions = NO_TLS

    def __post_init__(self) -> None:
        try:
            if not isinstance(self.tls, TlsOptions):
                raise _Reject("tls must be a TlsOptions value")
            # A list would make the value unhashable; take any sequence.
            servers = tuple(self.servers)
            object.__setattr__(self, "servers", servers)
            if not servers:
                raise _Reject("at least one server is needed")
            if not all(isinstance(s, Server) for s in servers):
                raise _Reject("servers must be Server values")
            _check_volume(self.volume)
            if self.path is not None:
                _check_path(self.path)
        except _Reject as exc:
            raise URIError(repr(self), str(exc)) from None

    @classmethod
    def parse(cls, text: str, *, require_image: bool = True) -> GlusterURI:
        """Parse a ``gluster...://`` URL or a QEMU ``json:{...}`` spec.

        Args:
            text: the URI.
            require_image: when False, a volume-only URI
                (``gluster://host/vol`` or ``gluster://host/vol/``, or JSON
                without ``"path"``) is accepted and gives ``path=None``.

        Returns:
            The parsed value.

        Raises:
            URIError: for anything that is not a valid gluster URI; the
                message quotes the text, says what is wrong and shows the
                expected form.

        Warns:
            GlusterWarning: for ``gluster+rdma://``, which is read as tcp
                (gluster 8 removed rdma; QEMU also falls back to tcp).
        """
        if not isinstance(text, str):
            raise URIError(repr(text), f"expected a str, got {type(text).__name__}")
        is_json = text.startswith("json:")
        rdma = False
        try:
            if is_json:
                servers, volume, path, tls = _parse_json(text[len("json:") :])
            else:
                servers, volume, path, tls, rdma = _parse_url(text)
            if path is None and require_image:
                raise _Reject("no image path follows the volume name")
            # Every field is already checked, so construction cannot fail.
            uri = cls(tuple(servers), volume, path, tls)
        except _Reject as exc:
            form = _JSON_FORM if is_json else _URL_FORM
            raise URIError(text, f"{exc}; expected {form}") from None
        if rdma:
            # Warn only once the URI is known to be good: a bad rdma URI
            # should give one clear error, not a warning and then an error.
            warnings.warn(
                f"{text!r}: gluster+rdma is not supported (gluster >= 8 has no "
                "rdma transport); using tcp",
                GlusterWarning,
                stacklevel=2,
            )
        return uri

    def __str__(self) -> str:
        """The canonical spelling: a URL for one server, JSON for several.

        The default port is left out of URLs; JSON always carries it, as a
        string like QEMU's InetSocketAddress. JSON keys are sorted and the
        output is compact ASCII, so equal values print identically.
        """
        if len(self.servers) == 1:
            return _format_url(self.servers[0], self.volume, self.path, self.tls)
        return _format_json(self.servers, self.volume, self.path, self.tls)

    @property
    def image_path(self) -> str:
        """``"/" + path``, for walking from the volume root.

        Raises:
            URIError: if this is a volume-only URI (``path`` is None).
        """
        if self.path is None:
            raise URIError(str(self), "a volume-only URI has no image path")
        return "/" + self.path

    def with_path(self, path: str | None) -> GlusterURI:
        """The same servers and volume with another image path.

        Args:
            path: the new image path; one leading ``/`` is dropped, so
                ``image_path`` values are accepted too. None gives a
                volume-only URI.

        Raises:
            URIError: if the path is not a valid image path.
        """
        if path is not None and path.startswith("/"):
            path = path[1:]
        return dataclasses.replace(self, path=path)

    def with_tls(self, tls: TlsOptions | None) -> GlusterURI:
        """The same URI with ``tls``'s non-default fields over its own."""
        if tls is None:
            return self
        return dataclasses.replace(self, tls=self.tls.merged(tls))


# --------------------------------------------------------------------------
# URL form.


def _unquote(raw: str, what: str) -> str:
    """Percent-decode one URL part strictly: bad escapes are errors."""
    # urllib leaves '%zz' as is and, by default, replaces invalid UTF-8; a
    # name that decodes to something other than what was meant must fail.
    if _BAD_ESCAPE_RE.search(raw):
        raise _Reject(f"{what} {raw!r} has a '%' that is not a %XX escape")
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise _Reject(f"{what} {raw!r} has escapes that are not UTF-8") from None


def _parse_authority(authority: str) -> tuple[str, int]:
    """``host[:port]`` or ``[ipv6[%25zone]][:port]`` → (host, port)."""
    if "@" in authority:
        raise _Reject("user information ('user@') is not supported")
    if authority.startswith("["):
        inside, bracket, after = authority[1:].partition("]")
        if not bracket:
            raise _Reject("'[' without a closing ']'")
        if ":" not in inside:
            raise _Reject("brackets are only for IPv6 addresses")
        # RFC 6874: a zone id is written '%25zone' inside the brackets.
        address, percent, zone = inside.partition("%25")
        if "%" in address:
            raise _Reject("an IPv6 zone id must be written as %25zone")
        host = address + ("%" + _unquote(zone, "zone id") if percent else "")
        if after and not after.startswith(":"):
            raise _Reject(f"unexpected {after!r} after the IPv6 address")
        port_text = after[1:] if after else None
    else:
        if authority.count(":") > 1:
            raise _Reject("an IPv6 address must be in brackets: [addr]:port")
        host, colon, port_text_ = authority.partition(":")
        port_text = port_text_ if colon else None
        # QEMU: no host means localhost (qemu_gluster_parse_uri).
        host = host or _DEFAULT_HOST
    port = DEFAULT_PORT if port_text is None else _parse_port(port_text)
    return _check_host(host), port


def _parse_query(query: str, unix: bool) -> tuple[str | None, TlsOptions]:
    """A URL's query → (the unix ``socket=`` path, TLS options)."""
    socket: str | None = None
    tls: dict[str, str] = {}
    allowed = "socket= and tls-*=" if unix else "tls-*="
    for param in query.split("&"):
        key, equals, value = param.partition("=")
        if key == "socket" and not unix:
            raise _Reject("a tcp URL takes no socket=; only gluster+unix has ?socket=")
        if not equals or not (key in TlsOptions.KEYS or (unix and key == "socket")):
            raise _Reject(
                f"query parameter {param!r} is unknown; only {allowed} are allowed"
            )
        if key in tls or (key == "socket" and socket is not None):
            raise _Reject(f"{key}= is given more than once")
        if key == "socket":
            socket = _unquote(value, "socket path")
            _check_socket(socket)
        else:
            tls[key] = _unquote(value, key)
    return socket, _tls_options(tls)


def _tls_options(keys: dict[str, str]) -> TlsOptions:
    try:
        return TlsOptions.from_keys(keys)
    except TlsOptionError as exc:
        raise _Reject(str(exc)) from None


def _parse_url(
    text: str,
) -> tuple[list[Server], str, str | None, TlsOptions, bool]:
    """Parse the URL form; returns (servers, volume, path, tls, was_rdma)."""
    if _CONTROL_RE.search(text):
        raise _Reject("it contains a control character; percent-encode it")
    match = _SCHEME_RE.match(text)
    if not match:
        raise _Reject("it does not start with gluster://")
    scheme = match.group(1).lower()  # RFC 3986: schemes are case-insensitive
    base, plus, transport = scheme.partition("+")
    if base != "gluster":
        raise _Reject(f"scheme {scheme!r} is not gluster")
    if plus and transport not in ("tcp", "unix", "rdma"):
        raise _Reject(f"transport {transport!r} is not tcp, unix or rdma")
    rest = text[match.end() :]
    if "#" in rest:
        raise _Reject("a fragment ('#...') is not allowed; write '#' in names as %23")
    rest, question, query = rest.partition("?")
    authority, slash, raw_path = rest.partition("/")
    if not slash:
        raise _Reject("the volume name is missing")

    names = raw_path.split("/")
    volume = _unquote(names[0], "volume name")
    _check_volume(volume)
    image = names[1:]
    path: str | None
    if image in ([], [""]):  # "/vol" or "/vol/"
        path = None
    else:
        decoded = [_unquote(name, "image path") for name in image]
        for name in decoded:
            if "/" in name:
                # A %2F would smuggle a separator into one name; gluster
                # names cannot hold '/'.
                raise _Reject(f"image name {name!r} contains '/' (written as %2F)")
        path = "/".join(decoded)
        _check_path(path)

    if transport == "unix":
        if authority:
            raise _Reject(
                "gluster+unix takes no host or port (three slashes, then the "
                "volume; the socket goes in ?socket=)"
            )
        socket, tls = _parse_query(query, unix=True) if query else (None, NO_TLS)
        if socket is None:
            raise _Reject("gluster+unix needs ?socket=/path/to/glusterd.socket")
        server = Server("unix", socket=socket)
    else:
        if question and not query:
            raise _Reject("an empty query ('?' with nothing after it)")
        tls = _parse_query(query, unix=False)[1] if question else NO_TLS
        host, port = _parse_authority(authority)
        server = Server("tcp", host=host, port=port)
    return [server], volume, path, tls, transport == "rdma"


def _format_url(server: Server, volume: str, path: str | None, tls: TlsOptions) -> str:
    tail = f"/{volume}"
    if path is not None:
        tail += "/" + quote(path, safe=_PATH_SAFE)
    query = [f"{key}={quote(value, safe='/:')}" for key, value in tls.to_keys().items()]
    if server.transport == "unix":
        query.insert(0, f"socket={quote(server.socket, safe='/')}")
        return f"gluster+unix://{tail}?{'&'.join(query)}"
    host = server.host
    if ":" in host:
        address, percent, zone = host.partition("%")
        host = f"[{address}%25{zone}]" if percent else f"[{address}]"
    port = "" if server.port == DEFAULT_PORT else f":{server.port}"
    suffix = f"?{'&'.join(query)}" if query else ""
    return f"gluster://{host}{port}{tail}{suffix}"


# --------------------------------------------------------------------------
# JSON form.


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """object_pairs_hook: a repeated key is an error, not last-one-wins."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Reject(f"JSON key {key!r} appears twice")
        result[key] = value
    return result


def _json_str(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj[key]
    if not isinstance(value, str):
        raise _Reject(f"{where}{key!r} must be a string, not {type(value).__name__}")
    return value


def _unknown(keys: set[str], allowed: frozenset[str], where: str) -> None:
    extra = keys - allowed
    if extra:
        raise _Reject(
            f"unknown key(s) {', '.join(sorted(map(repr, extra)))} in {where}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )


def _parse_json_server(index: int, item: object) -> Server:
    where = f"server[{index}]: "
    if not isinstance(item, dict):
        raise _Reject(f"{where}must be an object")
    if "type" not in item:
        raise _Reject(f"{where}'type' is missing ('inet' or 'unix')")
    kind = _json_str(item, "type", where)
    keys = set(item)
    if kind in ("inet", "tcp"):  # QEMU accepts the legacy "tcp"
        unsupported = keys & _INET_UNSUPPORTED
        if unsupported:
            raise _Reject(
                f"{where}{', '.join(sorted(unsupported))} not supported by gluster"
            )
        _unknown(keys, _INET_KEYS, f"server[{index}]")
        if "host" not in item:
            raise _Reject(f"{where}'host' is missing")
        host = _check_host(_json_str(item, "host", where))
        port = item.get("port", DEFAULT_PORT)
        # QAPI spells the port as a string; hand-written JSON often uses a
        # number. Both are fine.
        port = _parse_port(port) if isinstance(port, str) else _check_port(port)
        return Server("tcp", host=host, port=port)
    if kind == "unix":
        _unknown(keys, _UNIX_KEYS, f"server[{index}]")
        # "socket" is the name QEMU used before QAPI settled on "path".
        if "path" in item and "socket" in item:
            raise _Reject(f"{where}give 'path' or 'socket', not both")
        if "path" not in item and "socket" not in item:
            raise _Reject(f"{where}'path' (the socket path) is missing")
        socket = _json_str(item, "path" if "path" in item else "socket", where)
        _check_socket(socket)
        return Server("unix", socket=socket)
    raise _Reject(f"{where}type {kind!r} is not 'inet' (or 'tcp') or 'unix'")


def _parse_json(body: str) -> tuple[list[Server], str, str | None, TlsOptions]:
    """Parse the text after ``json:``; returns (servers, volume, path, tls)."""
    try:
        doc = json.loads(body, object_pairs_hook=_unique_keys)
    except ValueError as exc:  # JSONDecodeError, and int() digit limits
        raise _Reject(f"it is not valid JSON ({exc})") from None
    except RecursionError:
        raise _Reject("the JSON is nested too deeply") from None
    if not isinstance(doc, dict):
        raise _Reject("the JSON must be an object")
    if "file" in doc:
        # QEMU users write the protocol layer as {"file": {...}}. Anything
        # beside it would be a format layer (qcow2...), which we cannot read.
        if len(doc) > 1:
            others = ", ".join(sorted(repr(k) for k in doc if k != "file"))
            raise _Reject(
                f"only {{'file': {{...}}}} is understood, found also {others}"
            )
        doc = doc["file"]
        if not isinstance(doc, dict):
            raise _Reject("'file' must be an object")
    _unknown(set(doc), _TOP_KEYS, "the gluster object")
    if doc.get("driver") != "gluster":
        raise _Reject('"driver": "gluster" is missing or has another value')
    if "volume" not in doc:
        raise _Reject("'volume' is missing")
    volume = _json_str(doc, "volume", "")
    _check_volume(volume)
    path: str | None = None
    if "path" in doc:
        # QEMU documents JSON paths as absolute ("/dir/a.img"); we store them
        # relative, like the URL form.
        raw = _json_str(doc, "path", "")
        path = raw[1:] if raw.startswith("/") else raw
        if path:
            _check_path(path)
        else:
            path = None
    # debug (0-9) and logfile tune libgfapi's logging; we check their type
    # so typos surface, then ignore them.
    debug = doc.get("debug", 0)
    if isinstance(debug, str):
        debug_ok = debug.isascii() and debug.isdigit()
    else:
        debug_ok = isinstance(debug, int) and not isinstance(debug, bool)
    if not debug_ok:
        raise _Reject("'debug' must be a number (libgfapi log level 0-9)")
    if "logfile" in doc:
        _json_str(doc, "logfile", "")
    tls = _tls_options(
        {key: _json_str(doc, key, "") for key in TlsOptions.KEYS if key in doc}
    )
    servers = doc.get("server")
    if not isinstance(servers, list) or not servers:
        raise _Reject("'server' must be a non-empty list of servers")
    parsed = [_parse_json_server(i, s) for i, s in enumerate(servers)]
    return parsed, volume, path, tls


def _format_json(
    servers: tuple[Server, ...], volume: str, path: str | None, tls: TlsOptions
) -> str:
    specs: list[dict[str, str]] = []
    for server in servers:
        if server.transport == "unix":
            specs.append({"type": "unix", "path": server.socket})
        else:
            specs.append(
                {"type": "inet", "host": server.host, "port": str(server.port)}
            )
    doc: dict[str, Any] = {"driver": "gluster", "volume": volume, "server": specs}
    if path is not None:
        doc["path"] = path
    doc.update(tls.to_keys())
    return "json:" + json.dumps(doc, sort_keys=True, separators=(",", ":"))
