"""The whole pygluster exception hierarchy, and nothing else.

Every exception pygluster raises on purpose derives from :class:`GlusterError`.
Messages are built from parameters so that each one names what failed: the URI,
the server or brick, and the operation.

    GlusterError
    ├── InputError(ValueError)            text a user gave was not accepted
    │   ├── URIError                      bad gluster:// or json: URI
    │   ├── TlsOptionError                a TLS option was not accepted
    │   └── IoScriptError                 a `pygluster io` command does not parse
    ├── VolfileError(ValueError)          volfile syntax or graph error, .lineno
    ├── XdrError(ValueError)              out-of-range encode, garbage decode
    ├── PcapError(ValueError)             not a capture, or a broken one
    ├── ProtocolError                     abstract (h11's shape)
    │   ├── LocalProtocolError            the core was misused
    │   └── RemoteProtocolError           the peer sent something we cannot accept
    │       └── NbdProtocolError          an NBD client broke the NBD protocol
    ├── RpcError                          server answered but did not run the call
    │   ├── RpcDenied                     MSG_DENIED
    │   └── RpcNotAccepted                accept_stat != SUCCESS
    ├── MgmtError(OSError)                a glusterd/handshake call returned op_ret -1
    ├── FopError(OSError)                 a file operation returned op_ret -1
    │   └── QuorumError                   a replica set has too few bricks (ENOTCONN)
    ├── UnsupportedVolume                 the volume needs a translator we lack
    ├── LayoutHoleError(LookupError)      no DHT range holds a name's hash
    ├── TransportError                    socket-level failure
    │   ├── TlsError                      TLS set-up failed or was refused
    │   ├── ConnectionLost                peer closed, or the reader died
    │   ├── ServersExhausted              every volfile server/address failed
    │   └── RpcTimeout(TimeoutError)      a deadline expired
    ├── CommandError                      a command failed for a reason of its own
    │   └── UsageError                    arguments that do not fit together
    ├── BenchError                        a benchmark step failed
    └── ClusterError                      a test cluster step failed (testing)
        └── FaultError                    a fault step or bounded wait failed

    GlusterWarning(UserWarning)           something was accepted but changed
"""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "BenchError",
    "ClusterError",
    "CommandError",
    "ConnectionLost",
    "ErasureCodeError",
    "FaultError",
    "FopError",
    "GlusterError",
    "GlusterWarning",
    "InputError",
    "IoScriptError",
    "LayoutHoleError",
    "LocalProtocolError",
    "MgmtError",
    "NbdProtocolError",
    "PcapError",
    "ProtocolError",
    "QuorumError",
    "RemoteProtocolError",
    "RpcDenied",
    "RpcError",
    "RpcNotAccepted",
    "RpcTimeout",
    "ServersExhausted",
    "TlsError",
    "TlsOptionError",
    "TransportError",
    "URIError",
    "UnsupportedVolume",
    "UsageError",
    "VolfileError",
    "XdrError",
]


class GlusterError(Exception):
    """Root of everything pygluster raises on purpose."""


class InputError(GlusterError, ValueError):
    """Text a user gave (a URI, an io command) that was not accepted.

    Attributes:
        text: the text as given.
        reason: what is wrong with it.
    """

    #: What the text is, to start the message with.
    subject: ClassVar[str] = "input"

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"{self.subject} {text!r}: {reason}")


class URIError(InputError):
    """A gluster URI could not be parsed or is not allowed where it was used.

    ``uri`` is the URI text as given (also ``text``).
    """

    subject = "invalid gluster URI"

    @property
    def uri(self) -> str:
        return self.text


class TlsOptionError(InputError):
    """A TLS option (URI query, ``json:`` key, CLI flag, argument) was not
    accepted."""

    subject = "TLS option"


class IoScriptError(InputError):
    """An io command could not be parsed.

    ``command`` is the command text as given (also ``text``).
    """

    subject = "io command"

    @property
    def command(self) -> str:
        return self.text


class VolfileError(GlusterError, ValueError):
    """A volfile is not valid volfile syntax, or its graph is inconsistent.

    Attributes:
        lineno: 1-based line of the offending token, or None when the error
            concerns the file as a whole.
    """

    def __init__(self, message: str, lineno: int | None = None) -> None:
        self.lineno = lineno
        where = f"line {lineno}: " if lineno is not None else ""
        super().__init__(f"volfile {where}{message}")


class XdrError(GlusterError, ValueError):
    """A value cannot be XDR-encoded, or bytes cannot be XDR-decoded."""


class ErasureCodeError(GlusterError, ValueError):
    """Data or fragments the erasure code cannot take (whole stripes, equal
    fragment lengths, enough fragments), or a geometry it does not have."""


class PcapError(GlusterError, ValueError):
    """The bytes are not a pcap/pcapng capture, or its structure is broken."""


class ProtocolError(GlusterError):
    """Abstract: the RPC conversation went wrong. Never raised directly."""

    def __init__(self, message: str) -> None:
        if type(self) is ProtocolError:
            raise TypeError("ProtocolError is abstract; raise a subclass")
        super().__init__(message)


class LocalProtocolError(ProtocolError):
    """We tried to do something the protocol state does not allow.

    For example sending on a connection already in the ERROR state, or
    building a record larger than the peer accepts.
    """


class RemoteProtocolError(ProtocolError):
    """The peer sent something we cannot accept.

    A bad record mark, an oversized record, a reply to an xid we never sent,
    or a reply body that does not decode. The connection cannot be trusted
    afterwards.
    """


class NbdProtocolError(RemoteProtocolError):
    """An NBD client sent what the NBD protocol does not allow.

    The server disconnects it: nothing it sends afterwards can be trusted.
    """


class RpcError(GlusterError):
    """The server answered the call but did not execute it."""


class RpcDenied(RpcError):
    """The server replied MSG_DENIED (RFC 5531 reject_stat).

    Attributes:
        stat: RPC_MISMATCH (0) or AUTH_ERROR (1).
        low, high: the supported RPC versions for RPC_MISMATCH.
        auth_stat: the auth failure reason for AUTH_ERROR.
    """

    def __init__(
        self,
        message: str,
        *,
        stat: int,
        low: int | None = None,
        high: int | None = None,
        auth_stat: int | None = None,
    ) -> None:
        self.stat = stat
        self.low = low
        self.high = high
        self.auth_stat = auth_stat
        super().__init__(message)


class RpcNotAccepted(RpcError):
    """The server replied MSG_ACCEPTED with an accept_stat other than SUCCESS.

    Attributes:
        accept_stat: PROG_UNAVAIL 1, PROG_MISMATCH 2, PROC_UNAVAIL 3,
            GARBAGE_ARGS 4, SYSTEM_ERR 5.
    """

    def __init__(self, message: str, *, accept_stat: int) -> None:
        self.accept_stat = accept_stat
        super().__init__(message)


def _failed(subject: str, errno_value: int, detail: str) -> str:
    """``<subject> failed: [Errno N] <strerror>``, then `` (<detail>)`` if any."""
    text = os.strerror(errno_value) if errno_value > 0 else "unspecified error"
    message = f"{subject} failed: [Errno {errno_value}] {text}"
    return f"{message} ({detail})" if detail else message


class MgmtError(GlusterError, OSError):
    """A management call (GETSPEC, PORTBYBRICK, SETVOLUME...) failed.

    It is an ``OSError`` whose ``errno`` is the ``op_errno`` the server sent
    (0 when the server gave none, as portmap does).

    Attributes:
        operation: e.g. ``"GETSPEC"``.
        server: the peer that answered, e.g. ``"vm:24007"``.
        detail: a human explanation added by the caller (what it means).
    """

    def __init__(
        self, operation: str, server: str, errno_value: int, detail: str = ""
    ) -> None:
        message = _failed(f"{operation} on {server}", errno_value, detail)
        OSError.__init__(self, errno_value, message)
        self.operation = operation
        self.server = server
        self.detail = detail

    def __str__(self) -> str:
        return str(self.strerror)


class FopError(GlusterError, OSError):
    """A file operation answered op_ret -1; ``errno`` is the brick's op_errno.

    ``except OSError`` and ``e.errno == errno.ENOENT`` work as with os calls.

    Attributes:
        fop: the procedure name, e.g. ``"WRITE"``.
        target: what it was applied to (path or gfid text).
        brick: the brick that answered, ``host:/path``; None when no brick
            did (a translator decided, e.g. replicate without quorum).
        xlator: the translator that raised it, e.g. ``pyg_dist-dht``; None
            when the brick's own answer is reported.
        detail: what the client adds (a timeout's length), or "".
    """

    def __init__(
        self,
        fop: str,
        target: str,
        brick: str | None,
        errno_value: int,
        detail: str = "",
        *,
        xlator: str | None = None,
    ) -> None:
        where = f" at brick {brick}" if brick else ""
        if xlator:
            where += f" in {xlator}"
        message = _failed(f"{fop} on {target}{where}", errno_value, detail)
        OSError.__init__(self, errno_value, message)
        self.fop = fop
        self.target = target
        self.brick = brick
        self.xlator = xlator
        self.detail = detail

    def __str__(self) -> str:
        return str(self.strerror)


class UnsupportedVolume(GlusterError):
    """The volume's client graph has a translator pygluster cannot run safely.

    Raised at open, before any I/O, for translators that decide what lands on
    disk (replicate, disperse, shard, ...) and are not implemented yet: a
    client that skipped them would read or write the wrong bytes.

    Attributes:
        volume: the volume name.
        xlator: the translator's name in the volfile.
        xlator_type: its type, e.g. ``cluster/disperse``.
    """

    def __init__(self, volume: str, xlator: str, xlator_type: str) -> None:
        self.volume = volume
        self.xlator = xlator
        self.xlator_type = xlator_type
        super().__init__(
            f"volume {volume!r} uses translator {xlator!r} ({xlator_type}), which "
            "pygluster does not implement yet; refusing to open it rather than "
            "read or write the wrong bytes"
        )


class LayoutHoleError(GlusterError, LookupError):
    """No child's range in the directory layout contains the hash.

    Gluster's ``dht_layout_search`` returns NULL here and each fop decides
    what that means: LOOKUP falls back to asking every child, CREATE/MKNOD
    fail with EIO, LINK with ENOENT, RENAME with EINVAL, and the
    ``dht.file.hashed-subvol.*`` virtual xattr with ENODATA.  A directory in
    that state has holes that gluster's self-heal would fix.

    Attributes:
        hash: the 32-bit hash that fell into the hole.
    """

    def __init__(self, hash_value: int) -> None:
        self.hash = hash_value
        super().__init__(
            f"hash 0x{hash_value:08x} falls in a hole of the directory layout "
            "(no child's trusted.glusterfs.dht range contains it)"
        )


class QuorumError(FopError):
    """A replicated write (or lookup) was refused: too few bricks take part.

    Nothing was written on any brick (or, if the loss happened during the
    write, the bricks stay marked dirty for gluster's self-heal). errno is
    ENOTCONN, as gluster's AFR answers.

    Attributes:
        have: the bricks that took part.
        need: the quorum rule, e.g. "more than half of 3".
    """

    def __init__(
        self, fop: str, target: str, xlator: str, have: Sequence[str], need: str
    ) -> None:
        super().__init__(fop, target, None, errno.ENOTCONN, xlator=xlator)
        self.have = list(have)
        self.need = need
        listed = ", ".join(self.have) or "none"
        self.strerror = (
            f"{self.strerror}: quorum not met ({len(self.have)} brick(s) up: "
            f"{listed}; need {need})"
        )


class TransportError(GlusterError):
    """The byte stream to a server failed (connect, send or receive)."""


class TlsError(TransportError):
    """TLS could not be set up with a server: our certificate, key or CA list
    is missing or unusable, the server's certificate is not trusted, the
    server refused ours, or one side speaks TLS and the other does not."""


class ConnectionLost(TransportError):
    """The connection closed or broke while calls were outstanding."""


class ServersExhausted(TransportError):
    """Every server (and every address of each) was tried and none worked.

    Attributes:
        attempts: (what was tried, the error it gave), in the order tried.
    """

    def __init__(
        self, what: str, attempts: Sequence[tuple[str, BaseException]]
    ) -> None:
        self.attempts = list(attempts)
        lines = "; ".join(f"{target}: {error}" for target, error in self.attempts)
        super().__init__(f"{what}: every server failed ({lines})")


class RpcTimeout(TransportError, TimeoutError):
    """A connect or call did not complete within its deadline."""


class CommandError(GlusterError):
    """A ``pygluster`` command failed for a reason of its own, not the
    cluster's (a local file, a short read); the command exits with status 1."""


class UsageError(CommandError):
    """A command's arguments do not make sense together (exit status 2)."""


class BenchError(GlusterError):
    """A benchmark step failed (a tool is missing or exited with an error)."""


class ClusterError(GlusterError):
    """Setting up or tearing down a test cluster failed (:mod:`pygluster.testing`):
    the message names the step and carries the command's output."""


class FaultError(ClusterError):
    """A fault-injection step failed, or a bounded wait for the cluster to
    reach a state ran out (the message says what it waited for and saw)."""


class GlusterWarning(UserWarning):
    """Input was accepted but not taken literally (e.g. ``gluster+rdma``)."""
