"""TLS settings for gluster's two paths: bricks (I/O) and glusterd (management).

Gluster has no STARTTLS: a connection that uses TLS starts the handshake right
after connect, and both ends present a certificate (``socket.c``
``ssl_setup_connection_params``: SSL_VERIFY_PEER on both sides, one CA list,
own cert and key per process). When each path uses it is decided as gluster's
clients decide it:

- a brick connection when the client volfile's ``protocol/client`` has
  ``transport.socket.ssl-enabled`` (``gluster volume set VOL client.ssl on``);
  that xlator also carries the volume's ``ssl.*`` options
  (``transport.socket.ssl-own-cert``, ``-private-key``, ``-ca-list``,
  ``-crl-path``, ``-cert-depth``, ``-cipher-list``; ``glusterd-volgen.c``
  RPC_SET_OPT);
- a glusterd connection over TCP when ``/var/lib/glusterd/secure-access``
  exists on this machine (``glfs.c`` glfs_new: ``SECURE_ACCESS_FILE``), its
  ``option transport.socket.ssl-cert-depth N`` line giving the depth
  (``graph.c`` glusterfs_read_secure_access_file). glusterd never speaks TLS
  on its unix socket (``socket.c`` socket_server_event_handler, AF_UNIX), so
  neither do we.

:class:`TlsOptions` is what a caller says (URI query, ``json:`` keys,
``open(..., tls=)``, CLI flags): per path ``auto`` (gluster's rule above),
``on`` or ``off``, and files and limits that win over the volfile's, which win
over gluster's defaults. :class:`TlsConfig` is the outcome for one connection;
:meth:`TlsConfig.context` builds its :class:`ssl.SSLContext`.

Where gluster differs from a web client, and what we do:

- Gluster checks the peer's certificate against the CA list only, never its
  name. We check the name too (the brick's host as the volfile spells it,
  or the URI's server), since a certificate any node of the CA may hold is
  otherwise good for every node; ``verify_name=False`` (``tls-verify-name=off``)
  does what gluster does.
- OpenSSL's verify depth has no Python API; the depth is enforced after the
  handshake on the verified chain (:meth:`TlsConfig.check_chain`): at most
  ``depth`` CA certificates between the peer's and the trust anchor, as
  SSL_CTX_set_verify_depth counts.
- The default files live in OpenSSL's directory as gluster was built
  (``SSL_CERT_PATH``): ``/usr/lib/ssl`` on Debian, ``/etc/ssl`` on most other
  systems. Both are looked in, in that order, for ``glusterfs.pem``.

Pure configuration: files are looked at (exists, read the secure-access
file), nothing is connected. No trio.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import ssl
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pygluster.errors import TlsError, TlsOptionError
from pygluster.volfile import parse_switch

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "DEFAULT_CERT_DEPTH",
    "DEFAULT_CIPHER_LIST",
    "NOT_TLS_HERE",
    "NO_TLS",
    "SECURE_ACCESS_FILE",
    "TlsConfig",
    "TlsMode",
    "TlsOptions",
    "auth_refusal_hint",
    "cut_off_account",
    "default_cert_dirs",
    "describe_failure",
    "describe_session",
    "first_call_lost",
    "tls_cause",
]

TlsMode = Literal["auto", "on", "off"]
_MODES: tuple[TlsMode, ...] = ("auto", "on", "off")

#: glusterd's marker for management TLS (glusterfs.h SECURE_ACCESS_FILE).
SECURE_ACCESS_FILE = "/var/lib/glusterd/secure-access"
#: socket.c DEFAULT_CIPHER_LIST (TLS <= 1.2; TLS 1.3 suites are OpenSSL's).
DEFAULT_CIPHER_LIST = "AES128:EECDH:EDH:HIGH:!3DES:!RC4:!DES:!MD5:!aNULL:!eNULL"
#: socket.c DEFAULT_VERIFY_DEPTH, and graph.c's default for secure-access.
DEFAULT_CERT_DEPTH = 1

# The client volfile's protocol/client options (glusterd-volgen.c).
_SSL_ENABLED = "transport.socket.ssl-enabled"
_VOLFILE_KEYS = {
    "cert": "transport.socket.ssl-own-cert",
    "key": "transport.socket.ssl-private-key",
    "ca": "transport.socket.ssl-ca-list",
    "crl": "transport.socket.ssl-crl-path",
    "depth": "transport.socket.ssl-cert-depth",
    "ciphers": "transport.socket.ssl-cipher-list",
}
_DEPTH_RE = re.compile(r"^option transport\.socket\.ssl-cert-depth\s+(\d+)")
# Longest verify depth we accept; OpenSSL's own default limit is 100.
_MAX_DEPTH = 100


def default_cert_dirs() -> tuple[str, ...]:
    """Where gluster's default ``glusterfs.{pem,key,ca}`` may be, in order.

    OpenSSL's directory first (Python's OpenSSL reports it; Debian builds
    gluster with the same ``/usr/lib/ssl``), then ``/etc/ssl``.
    """
    dirs: list[str] = []
    cafile = ssl.get_default_verify_paths().openssl_cafile
    if cafile:
        dirs.append(os.path.dirname(cafile))
    for extra in ("/usr/lib/ssl", "/etc/ssl"):
        if extra not in dirs:
            dirs.append(extra)
    return tuple(dirs)


# TlsOptions field -> the option name users write (TlsOptions.KEYS inverted).
_KEY_OF = {
    "io": "tls",
    "mgmt": "tls-mgmt",
    "cert": "tls-cert",
    "key": "tls-key",
    "ca": "tls-ca",
    "crl": "tls-crl",
    "depth": "tls-depth",
    "ciphers": "tls-ciphers",
    "verify_name": "tls-verify-name",
}


def _default_dir() -> str:
    dirs = default_cert_dirs()
    for folder in dirs:
        if os.path.exists(os.path.join(folder, "glusterfs.pem")):
            return folder
    return dirs[0]


def _switch(value: str, what: str) -> bool:
    switch = parse_switch(value)
    if switch is None:
        raise TlsOptionError(f"{what}={value}", "must be on or off")
    return switch


def _depth(value: str | int, what: str) -> int:
    try:
        depth = int(value)
    except (TypeError, ValueError):
        raise TlsOptionError(f"{what}={value}", "must be a whole number") from None
    if not 0 <= depth <= _MAX_DEPTH:
        raise TlsOptionError(f"{what}={value}", f"must be 0 to {_MAX_DEPTH}")
    return depth


@dataclass(frozen=True, slots=True)
class TlsOptions:
    """What the caller asks of TLS; unset fields follow the cluster.

    Attributes:
        io: brick connections: ``auto`` as the volfile says (client.ssl),
            ``on`` always, ``off`` never.
        mgmt: glusterd connections over TCP: ``auto`` when this machine has
            ``secure_access_file`` (as libgfapi decides), ``on``, ``off``.
        cert, key: our certificate (chain) and private key, PEM.
        ca: the CA certificates a server's certificate must chain to, PEM.
        crl: a folder of hashed CRLs (``openssl rehash``), as gluster's
            ``ssl.crl-path``; certificates they revoke are refused.
        depth: most CA certificates allowed between the peer's certificate
            and the trust anchor (gluster's ``ssl.certificate-depth``).
        ciphers: an OpenSSL cipher list for TLS <= 1.2 (``ssl.cipher-list``).
        verify_name: check that the server's certificate is for the host we
            connect to (gluster itself does not; see the module notes).
        secure_access_file: the management-TLS marker (tests point it
            elsewhere).
    """

    io: TlsMode = "auto"
    mgmt: TlsMode = "auto"
    cert: str | None = None
    key: str | None = None
    ca: str | None = None
    crl: str | None = None
    depth: int | None = None
    ciphers: str | None = None
    verify_name: bool = True
    secure_access_file: str = SECURE_ACCESS_FILE

    def __post_init__(self) -> None:
        # Messages use the option names users write (tls-cert=, ...).
        for name in ("io", "mgmt"):
            if getattr(self, name) not in _MODES:
                raise TlsOptionError(
                    f"{_KEY_OF[name]}={getattr(self, name)}", "must be auto, on or off"
                )
        if self.depth is not None:
            _depth(self.depth, "tls-depth")
        for name in ("cert", "key", "ca", "crl", "ciphers"):
            value = getattr(self, name)
            if value is not None and not value:
                raise TlsOptionError(f"{_KEY_OF[name]}=", "is empty")
            if value is not None and "\x00" in value:
                raise TlsOptionError(f"{_KEY_OF[name]}={value!r}", "holds a NUL byte")

    #: Option names, as URI query keys (``tls-cert=``) and CLI flags
    #: (``--tls-cert``) spell them, mapped to fields.
    KEYS: ClassVar[dict[str, str]] = {key: name for name, key in _KEY_OF.items()}

    @classmethod
    def from_keys(cls, values: Mapping[str, str]) -> TlsOptions:
        """Options from ``tls-*`` keys (URI query / JSON), text values.

        Raises:
            TlsOptionError: an unknown key or a bad value, named.
        """
        fields: dict[str, Any] = {}
        for key, value in values.items():
            name = cls.KEYS.get(key)
            if name is None:
                raise TlsOptionError(key, f"unknown; known: {', '.join(cls.KEYS)}")
            if name == "verify_name":
                fields[name] = _switch(value, key)
            elif name == "depth":
                fields[name] = _depth(value, key)
            else:
                fields[name] = value
        return cls(**fields)

    def to_keys(self) -> dict[str, str]:
        """The non-default fields as ``tls-*`` keys (inverse of from_keys)."""
        default = TlsOptions()
        keys: dict[str, str] = {}
        for key, name in self.KEYS.items():
            value = getattr(self, name)
            if value == getattr(default, name):
                continue
            if isinstance(value, bool):
                keys[key] = "on" if value else "off"
            else:
                keys[key] = str(value)
        return keys

    def merged(self, other: TlsOptions | None) -> TlsOptions:
        """These options with ``other``'s non-default fields on top."""
        if other is None:
            return self
        default = TlsOptions()
        changes = {
            f.name: getattr(other, f.name)
            for f in dataclasses.fields(other)
            if getattr(other, f.name) != getattr(default, f.name)
        }
        return dataclasses.replace(self, **changes)

    def for_brick(
        self, volfile_options: Mapping[str, str], where: str
    ) -> TlsConfig | None:
        """The TLS of a connection to the brick of one protocol/client xlator.

        Args:
            volfile_options: that xlator's options in the client volfile.
            where: the brick, for messages.
        """
        if self.io == "off":
            return None
        if self.io == "auto":
            # Not a boolean: off, as gluster's gf_string2boolean failure is.
            if not parse_switch(volfile_options.get(_SSL_ENABLED, "off")):
                return None
            reason = "the volume has client.ssl on"
        else:
            reason = "tls=on"
        picked: dict[str, Any] = {}
        for name, key in _VOLFILE_KEYS.items():
            mine = getattr(self, name)
            if mine is not None:
                picked[name] = mine
            elif key in volfile_options:
                value = volfile_options[key]
                if name == "depth":
                    picked[name] = _depth(value, f"{where}: {key}")
                elif name == "crl" and value.upper() == "NULL":
                    picked[name] = None  # socket.c: "NULL" turns CRLs off
                else:
                    picked[name] = value
        return self._config(picked, reason, DEFAULT_CERT_DEPTH)

    def for_glusterd(self, *, unix: bool) -> TlsConfig | None:
        """The TLS of a connection to glusterd (None over a unix socket)."""
        if unix or self.mgmt == "off":
            return None
        marker = _read_secure_access(self.secure_access_file)
        if self.mgmt == "auto":
            if marker is None:
                return None
            reason = f"{self.secure_access_file} exists"
        else:
            reason = "tls-mgmt=on"
        depth = marker if marker is not None else DEFAULT_CERT_DEPTH
        picked = {
            name: getattr(self, name)
            for name in _VOLFILE_KEYS
            if getattr(self, name) is not None
        }
        return self._config(picked, reason, depth)

    def _config(self, picked: dict[str, Any], reason: str, depth: int) -> TlsConfig:
        folder = _default_dir()
        return TlsConfig(
            cert=picked.get("cert") or os.path.join(folder, "glusterfs.pem"),
            key=picked.get("key") or os.path.join(folder, "glusterfs.key"),
            ca=picked.get("ca") or os.path.join(folder, "glusterfs.ca"),
            crl=picked.get("crl"),
            depth=picked.get("depth", depth),
            ciphers=picked.get("ciphers") or DEFAULT_CIPHER_LIST,
            verify_name=self.verify_name,
            reason=reason,
        )


#: No TLS options given: every choice is left to the cluster.
NO_TLS = TlsOptions()


def _read_secure_access(path: str) -> int | None:
    """None if the marker is absent, else the depth it sets (graph.c rules)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as marker:
            lines = marker.readlines()
    except FileNotFoundError:
        return None
    except OSError:
        # Present but unreadable: gluster only tests for existence (F_OK).
        return DEFAULT_CERT_DEPTH
    for line in lines:
        match = _DEPTH_RE.match(line)
        if match:
            # graph.c: atoi(), and 0 means the default.
            return min(int(match.group(1)), _MAX_DEPTH) or DEFAULT_CERT_DEPTH
    return DEFAULT_CERT_DEPTH


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """The TLS of one connection, every choice made.

    Attributes:
        cert, key, ca, crl: files (crl a folder, or None).
        depth: most CA certificates between the peer's and the anchor.
        ciphers: OpenSSL cipher list for TLS <= 1.2.
        verify_name: check the peer certificate's name.
        reason: why TLS is used (``the volume has client.ssl on``).
    """

    cert: str
    key: str
    ca: str
    crl: str | None
    depth: int
    ciphers: str
    verify_name: bool
    reason: str

    def context(self, peer: str) -> ssl.SSLContext:
        """A client context for these settings, files loaded now.

        Gluster loads its files per connection too, so renewed certificates
        are picked up at the next reconnect.

        Raises:
            TlsError: a file is missing or unreadable, the key does not match
                the certificate, or no cipher of the list is known.
        """
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = self.verify_name
        ctx.verify_mode = ssl.CERT_REQUIRED
        try:
            ctx.set_ciphers(self.ciphers)
        except ssl.SSLError:
            raise TlsError(
                f"TLS to {peer}: no cipher of {self.ciphers!r} is known to OpenSSL "
                "(ssl.cipher-list / tls-ciphers)"
            ) from None
        for what, path, flag in (
            ("certificate", self.cert, "tls-cert"),
            ("private key", self.key, "tls-key"),
            ("CA list", self.ca, "tls-ca"),
        ):
            if not os.path.isfile(path):
                raise TlsError(
                    f"TLS to {peer} ({self.reason}) needs our {what}, but there is "
                    f"no file {path} (give one with {flag}=PATH)"
                )
        self._check_validity(peer)
        try:
            ctx.load_cert_chain(self.cert, self.key)
        except (ssl.SSLError, OSError) as exc:
            raise TlsError(
                f"TLS to {peer}: cannot use certificate {self.cert} with key "
                f"{self.key}: {_ssl_text(exc)}"
            ) from None
        try:
            ctx.load_verify_locations(cafile=self.ca, capath=self.crl)
        except (ssl.SSLError, OSError) as exc:
            raise TlsError(
                f"TLS to {peer}: cannot load CA list {self.ca}: {_ssl_text(exc)}"
            ) from None
        if self.crl is not None:
            # socket.c ssl_set_crl_verify_flags: the whole chain, every time.
            ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN
        return ctx

    def _check_validity(self, peer: str) -> None:
        """Refuse to present a certificate that is expired or not yet valid.

        The server would refuse it, but over TLS 1.3 its alert can be lost
        to the reset that follows (it closes with our first call unread):
        saying so here is certain.
        """
        decoded = peer_cert_summary(self.cert)
        if decoded is None:
            return
        now = time.time()
        for key, sign, words in (
            ("notAfter", 1, "expired on"),
            ("notBefore", -1, "is not valid before"),
        ):
            text = decoded.get(key)
            if not isinstance(text, str):
                continue
            try:
                when = ssl.cert_time_to_seconds(text)
            except ValueError:
                continue
            if (now - when) * sign > 0:
                raise TlsError(
                    f"TLS to {peer}: our certificate {self.cert} "
                    f"({_who(decoded)}) {words} {text}; renew it"
                )

    def handshake_error(self, exc: BaseException, peer: str) -> TlsError:
        """The error for a TLS handshake with ``peer`` that failed with ``exc``."""
        return TlsError(
            f"TLS handshake with {peer} ({self.reason}): {self.describe(exc, peer)}"
        )

    def check_chain(self, chain_length: int | None, peer: str) -> None:
        """Enforce ``depth`` on the verified chain (module notes).

        Args:
            chain_length: certificates in the verified chain, peer's and
                anchor's included; None when Python cannot tell.

        Raises:
            TlsError: more CA certificates in between than ``depth`` allows.
        """
        if chain_length is None:
            return
        between = max(0, chain_length - 2)
        if between > self.depth:
            raise TlsError(
                f"TLS to {peer}: the server's certificate chain has {between} "
                f"intermediate CA certificate(s); the certificate depth allows "
                f"{self.depth} (ssl.certificate-depth / tls-depth)"
            )

    def describe(self, exc: BaseException, peer: str) -> str:
        """One line on why a TLS handshake or session with ``peer`` failed."""
        return describe_failure(exc, peer, self)


#: What a TLS client facing a plain-text gluster server is told.
NOT_TLS_HERE = (
    "the server does not use TLS here (server.ssl off on the volume, or "
    "glusterd without secure-access): connect without it (tls=off / tls-mgmt=off)"
)

# Alerts a server sends about our certificate (OpenSSL reason codes), and
# what to do about each.
_ALERTS = {
    "TLSV1_ALERT_UNKNOWN_CA": (
        "refused our certificate: it is not signed by a CA the server trusts "
        "(add our CA to the server's glusterfs.ca)"
    ),
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": (
        "refused our certificate: it has expired (renew {cert})"
    ),
    "SSLV3_ALERT_CERTIFICATE_REVOKED": (
        "refused our certificate: the server's CRL revokes it"
    ),
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": (
        "wants a client certificate and got none (tls-cert / glusterfs.pem)"
    ),
    "SSLV3_ALERT_BAD_CERTIFICATE": "refused our certificate as bad",
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE": "refused our certificate as unsupported",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": (
        "found no TLS version or cipher in common with us (ssl.cipher-list)"
    ),
    "WRONG_VERSION_NUMBER": f"did not answer in TLS: {NOT_TLS_HERE}",
    "UNEXPECTED_EOF_WHILE_READING": (
        "closed the connection in the TLS handshake: most likely "
        f"{NOT_TLS_HERE}; else its log says why"
    ),
}


# Reasons that say the peer went away, not why: after a handshake they mean
# the alert that said why was lost.
_NOT_A_VERDICT = frozenset({"UNEXPECTED_EOF_WHILE_READING", "WRONG_VERSION_NUMBER"})


def _ssl_text(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "reason", None)
        library = getattr(exc, "library", None)
        if reason:
            return f"{library}: {reason}" if library else str(reason)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def tls_cause(exc: BaseException) -> ssl.SSLError | None:
    """The ssl.SSLError behind ``exc`` (its __cause__/__context__ chain)."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, ssl.SSLError):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None


def describe_failure(exc: BaseException, peer: str, config: TlsConfig | None) -> str:
    """One line on a TLS failure with ``peer``: who refused what, what to fix."""
    cause = tls_cause(exc)
    if cause is None:
        return str(exc) or type(exc).__name__
    if isinstance(cause, ssl.SSLCertVerificationError):
        message = cause.verify_message or _ssl_text(cause)
        hint = ""
        if config is not None:
            hint = f"; our CA list is {config.ca}"
            if "Hostname mismatch" in message or "IP address mismatch" in message:
                hint += (
                    "; tls-verify-name=off accepts any certificate the CA "
                    "signed, as gluster's own clients do"
                )
        return f"the certificate of {peer} is not trusted: {message}{hint}"
    reason = getattr(cause, "reason", None) or ""
    template = _ALERTS.get(reason)
    if template is not None:
        cert = config.cert if config is not None else "our certificate"
        return f"{peer} {template.format(cert=cert)}"
    return f"TLS with {peer} failed: {_ssl_text(cause)}"


def peer_cert_summary(path: str) -> dict[str, Any] | None:
    """Subject CN and validity of a PEM certificate file, if Python can tell.

    Uses CPython's ``ssl._ssl._test_decode_cert`` (no public API decodes a
    certificate without a connection); None when it is absent or fails.
    """
    decode = getattr(getattr(ssl, "_ssl", None), "_test_decode_cert", None)
    if decode is None:
        return None
    with contextlib.suppress(Exception):
        decoded = decode(path)
        if isinstance(decoded, dict):
            return decoded
    return None


def common_name(decoded: Mapping[str, Any], field: str = "subject") -> str | None:
    """The CN of a decoded certificate's subject (or ``issuer``)."""
    for rdn in decoded.get(field, ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


def auth_refusal_hint(config: TlsConfig | None) -> str:
    """What an authentication refusal (SETVOLUME EACCES) asks of the client.

    The brick checks auth.allow / auth.reject against our address and, on a
    TLS connection, auth.ssl-allow against our certificate's CN
    (server-handshake.c, auth/login, auth/addr); its answer does not say
    which. With TLS, a CN on auth.ssl-allow admits us unless auth.reject
    names our address: auth/addr is "don't care" about an address merely
    missing from auth.allow, and one ACCEPT with no REJECT admits
    (authenticate.c gf_authenticate).
    """
    if config is None:
        return "auth.allow / auth.reject / auth.login refused this client"
    decoded = peer_cert_summary(config.cert)
    name = common_name(decoded) if decoded is not None else None
    who = f"CN {name!r}" if name else "CN"
    return (
        f"auth.ssl-allow must list our certificate's {who} from {config.cert}, "
        "and auth.reject must not name our address"
    )


def cut_off_account(config: TlsConfig | None, who: str, *, glusterd: bool) -> str:
    """Why ``who`` most likely closed a fresh connection at our first call.

    Over plain text: a gluster server that requires TLS takes our first RPC
    record for a broken TLS hello and closes (socket.c
    ssl_complete_connection logs "wrong version number"). Over TLS: gluster
    servers judge our certificate after the TLS 1.3 handshake and close, and
    the alert saying why may be lost to the reset (the server's log has it).

    Args:
        who: ``glusterd at HOST:PORT`` or ``brick HOST:/PATH ...``.
        glusterd: the server is glusterd (else a brick).
    """
    if config is None:
        subject, fix = (
            ("glusterd", _TLS_FIX_GLUSTERD)
            if glusterd
            else ("the brick", _TLS_FIX_BRICK)
        )
        return (
            f"{who} cut off our first plain-text call: most likely {subject} "
            f"requires TLS; use {fix}"
        )
    decoded = peer_cert_summary(config.cert)
    what = f"{config.cert} ({_who(decoded)})" if decoded else config.cert
    return (
        f"{who} closed the TLS connection at our first call: it most likely "
        f"refused our certificate {what}: is its CA in the server's "
        "glusterfs.ca, and is it not revoked? (the server's log says why)"
    )


_TLS_FIX_GLUSTERD = (
    "tls-mgmt=on and a certificate glusterd's CA signed "
    "(libgfapi does when /var/lib/glusterd/secure-access exists)"
)
_TLS_FIX_BRICK = (
    "tls=on and a certificate the volume's CA signed "
    "(gluster's own clients do when the volume has client.ssl on)"
)


def first_call_lost(
    exc: BaseException, who: str, config: TlsConfig | None, *, glusterd: bool
) -> TlsError:
    """The error for a connection ``who`` closed at its first call.

    A TLS alert that says why (unknown CA, expired...) is reported as such;
    otherwise :func:`cut_off_account` with the connection's own error.
    """
    reason = getattr(tls_cause(exc), "reason", None)
    if config is not None and reason in _ALERTS and reason not in _NOT_A_VERDICT:
        return TlsError(f"{who}: {describe_failure(exc, 'the server', config)}")
    account = cut_off_account(config, who, glusterd=glusterd)
    return TlsError(f"{account} [{exc}]")


def describe_session(
    version: str | None, cipher: tuple[str, str, int] | None, peer: Mapping[str, Any]
) -> str:
    """A TLS session in words: version, cipher, the server's certificate."""
    parts = [version or "TLS"]
    if cipher:
        parts.append(cipher[0])
    expires = peer.get("notAfter")
    line = f"{' '.join(parts)}; server certificate {_who(peer)}"
    if isinstance(expires, str):
        line += f", valid until {expires}"
    return line


def _who(decoded: Mapping[str, Any] | None) -> str:
    if decoded is None:
        return "unreadable"
    subject = common_name(decoded) or "no CN"
    issuer = common_name(decoded, "issuer") or "no CN"
    return f"CN {subject!r}, issued by {issuer!r}"
