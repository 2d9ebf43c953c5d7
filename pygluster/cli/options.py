"""What the image commands share: the help on URIs and sizes, argument types,
and the limits and switches of the global options.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from pygluster import mgmt
from pygluster.cli import iolang
from pygluster.tls import TlsOptions
from pygluster.uri import GlusterURI
from pygluster.xlators.client import DEFAULT_REQUEST_TIMEOUT

__all__ = [
    "CHUNK_SIZE",
    "SIZE_HELP",
    "URI_HELP",
    "add_command",
    "add_tls_options",
    "brick_timeouts",
    "human_bytes",
    "mgmt_timeout",
    "parse_uri",
    "positive_integer",
    "say",
    "seconds",
    "size_arg",
    "write_behind",
]


#: Bytes per read/write step of ``cp`` and ``io``: bounds memory (a few chunks
#: at most are alive at once) while the block device splits each chunk into
#: parallel 1 MiB RPCs.
CHUNK_SIZE = 4 * 1024 * 1024

URI_HELP = """\
gluster URIs (QEMU's syntax):
  gluster[+tcp]://[HOST[:PORT]]/VOLUME[/PATH/TO/IMAGE]
  gluster+unix:///VOLUME[/PATH]?socket=/var/run/glusterd.socket
  json:{"driver":"gluster","volume":"VOL","path":"a.img",
        "server":[{"type":"inet","host":"h1","port":"24007"},
                  {"type":"unix","path":"/var/run/glusterd.socket"}]}
HOST may be a name (its A and AAAA addresses are tried), an IPv4 address or a
bracketed IPv6 address; PORT defaults to 24007 (glusterd). With several
servers (json: form) each is tried in order until one answers.
"""

SIZE_HELP = """\
SIZE is in bytes, 0x hex, or a number with a suffix k/K, M, G or T (powers of
1024, as qemu-img: 10G is 10737418240; 1.5k is 1536).
"""


def size_arg(text: str, minimum: int = 0) -> int:
    """argparse type: a SIZE (see :data:`SIZE_HELP`), at least ``minimum``."""
    try:
        value = iolang.parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid SIZE: {exc}") from None
    if value < minimum:
        shown = iolang.format_size(minimum)
        raise argparse.ArgumentTypeError(f"SIZE must be at least {shown}, not {text}")
    return value


def positive_integer(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a positive integer: {text!r}")
    return value


def add_command(
    commands: Any,
    name: str,
    summary: str,
    description: str,
    examples: str,
    *,
    takes_uri: bool = True,
    uri: str | None = None,
) -> argparse.ArgumentParser:
    """A command's subparser: ``summary`` in the command list, ``description``
    and ``examples`` in its ``--help`` (with the URI syntax when it takes one).

    ``uri``: the help of the command's positional ``URI`` argument, first
    of its arguments (None: it has none).
    """
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=description,
        epilog="\n".join(filter(None, [examples, URI_HELP if takes_uri else ""])),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if uri is not None:
        parser.add_argument("uri", metavar="URI", help=uri)
    return parser


def seconds(text: str) -> float:
    """argparse type: a finite, positive number (of seconds)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a positive number of seconds"
        )
    return value


def mgmt_timeout(args: argparse.Namespace) -> float:
    timeout: float = mgmt.DEFAULT_CALL_TIMEOUT if args.timeout is None else args.timeout
    return timeout


def brick_timeouts(args: argparse.Namespace) -> dict[str, Any]:
    """The connect and per-request limits for opening images (--timeout)."""
    return {
        "connect_timeout": args.connect_timeout,
        "timeout": DEFAULT_REQUEST_TIMEOUT if args.timeout is None else args.timeout,
    }


def add_tls_options(parser: argparse.ArgumentParser) -> None:
    """The global --tls* options (pygluster.tls.TlsOptions, URI ``tls-*``)."""
    group = parser.add_argument_group(
        "TLS (the URI's tls-* query keys say the same; these win)",
        # The parser keeps descriptions as written (RawDescriptionHelpFormatter).
        "Bricks use TLS when the volume has client.ssl on, glusterd when this\n"
        "machine has /var/lib/glusterd/secure-access (as libgfapi decides), with\n"
        "gluster's glusterfs.pem/.key/.ca in OpenSSL's folder (/usr/lib/ssl on\n"
        "Debian) or /etc/ssl. A server's certificate must chain to the CA list\n"
        "and be for the host connected to.",
    )
    for flag, metavar, text in _TLS_FLAGS:
        if metavar.startswith("{"):
            group.add_argument(flag, choices=metavar.strip("{}").split(","), help=text)
        else:
            group.add_argument(flag, metavar=metavar, help=text)


#: The --tls* flags: (flag, METAVAR or {choices}, help), one per TlsOptions key.
_TLS_FLAGS = (
    ("--tls", "{auto,on,off}", "TLS to the bricks: auto (as the volfile says, "
     "default), on, off"),
    ("--tls-mgmt", "{auto,on,off}", "TLS to glusterd over TCP: auto (when "
     "secure-access exists, default), on, off; never over a unix socket"),
    ("--tls-cert", "PEM", "our certificate (chain)"),
    ("--tls-key", "PEM", "our private key"),
    ("--tls-ca", "PEM", "CA certificates the servers' must chain to"),
    ("--tls-crl", "DIR", "folder of hashed CRLs (openssl rehash), as gluster's "
     "ssl.crl-path"),
    ("--tls-depth", "N", "most CA certificates between a server's and the trust "
     "anchor (default: the volume's ssl.certificate-depth, else 1)"),
    ("--tls-ciphers", "LIST", "OpenSSL cipher list for TLS <= 1.2 (default: the "
     "volume's ssl.cipher-list, else gluster's)"),
    ("--tls-verify-name", "{on,off}", "check that a server's certificate is for "
     "its host name (default on; off accepts any certificate the CA signed, as "
     "gluster does)"),
)  # fmt: skip


def tls_options(args: argparse.Namespace) -> TlsOptions | None:
    """The --tls* options given, as TlsOptions (None when none was)."""
    keys = {}
    for key in TlsOptions.KEYS:
        value = getattr(args, key.replace("-", "_"), None)
        if value is not None:
            keys[key] = value
    return TlsOptions.from_keys(keys) if keys else None


def parse_uri(
    args: argparse.Namespace, text: str, *, require_image: bool = True
) -> GlusterURI:
    """A command's URI argument, with the global --tls* options applied."""
    uri = GlusterURI.parse(text, require_image=require_image)
    return uri.with_tls(tls_options(args))


def write_behind(args: argparse.Namespace) -> bool | None:
    """--write-behind as open_async's ``write_behind``."""
    choice = getattr(args, "write_behind", "volfile")
    return {"on": True, "off": False}.get(choice)


def human_bytes(value: int) -> str:
    if value < 1024:
        return f"{value} bytes"
    return iolang.format_size(value)


def say(*lines: str) -> None:
    for line in lines:
        print(line)
    sys.stdout.flush()  # keep results ahead of a later error on stderr
