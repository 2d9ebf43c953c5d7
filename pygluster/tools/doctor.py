"""``pygluster doctor``: walk the way to an image step by step, and say what fails.

:func:`diagnose` does what :func:`pygluster.blockdev.open_async` does, one
step at a time, and records each step as a :class:`Check`: name resolution,
the TCP (or unix) connection to each volfile server, glusterd's DUMP,
GETSPEC, the volume's id and layout, and per brick portmap, TCP connect, DUMP,
SETVOLUME and PING; then a LOOKUP of the image through the real translator
stack. A failed step carries the fix a user can act on, and the steps that
needed it are recorded as skipped with the reason.

Theory of operation: cluster problems never raise. Every step catches
:class:`~pygluster.errors.GlusterError` (and ``OSError`` from the socket
calls it makes itself) and turns it into a failed check. Only a bug, or
cancellation from the caller, leaves :func:`diagnose` with an exception. Each
step runs under the caller's ``connect_timeout`` or ``call_timeout``, so a
hung server costs one timeout per step, not a hang.

Everything here speaks the wire protocol; nothing shells out to the gluster
CLI, so the doctor works from any machine that can reach the cluster.
"""

from __future__ import annotations

import errno
import json
import math
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import trio

from pygluster import volfile
from pygluster.blockdev import resolve as _resolve
from pygluster.errors import (
    ConnectionLost,
    FopError,
    GlusterError,
    MgmtError,
    RpcError,
    TlsError,
)
from pygluster.mgmt import DEFAULT_CALL_TIMEOUT, GLUSTERD_PORT, getspec, port_by_brick
from pygluster.rpc import fops, glusterd
from pygluster.rpc.client import DEFAULT_CONNECT_TIMEOUT, client_over_stream, start_tls
from pygluster.rpc.programs import ProgramNumber
from pygluster.rpc.sunrpc import Credentials
from pygluster.tls import (
    NOT_TLS_HERE,
    auth_refusal_hint,
    cut_off_account,
    describe_session,
)
from pygluster.xlators.base import iatt_is_dir, iatt_is_reg
from pygluster.xlators.client import DEFAULT_PING_TIMEOUT, setvolume_dict
from pygluster.xlators.graph import open_client_graph, plan

if TYPE_CHECKING:
    from collections.abc import Sequence
    from contextlib import AbstractAsyncContextManager

    from pygluster.rpc.client import RpcClient
    from pygluster.tls import TlsConfig
    from pygluster.uri import GlusterURI, Server
    from pygluster.volfile import Brick, Graph

__all__ = ["Check", "Report", "Status", "diagnose"]

Status = Literal["ok", "fail", "warn", "skip"]

#: Marks of the human report, and plain-ASCII ones for terminals without
#: UTF-8.
MARKS: dict[str, str] = {"ok": "✓", "fail": "✗", "warn": "!", "skip": "-"}
ASCII_MARKS: dict[str, str] = {
    "ok": "ok",
    "fail": "FAIL",
    "warn": "warn",
    "skip": "skip",
}


@dataclass(frozen=True, slots=True)
class Check:
    """One step of the diagnosis and how it went.

    Attributes:
        name: the step and its target, e.g. ``"portmap vm:/bricks/b1"``.
        status: ``"ok"``, ``"fail"``, ``"warn"`` (works, but look at it) or
            ``"skip"`` (not tried: an earlier step it needs failed, or it
            does not apply).
        detail: what was found, or why it failed or was skipped.
        fix: what to do about a failure (a command where there is one).
        duration_ms: how long the step took.
    """

    name: str
    status: Status
    detail: str
    fix: str | None = None
    duration_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The check as a JSON-ready dict (keys as the attributes)."""
        return {
            "name": self.name,
            "status": self.status,
            "detail": self.detail,
            "fix": self.fix,
            "duration_ms": round(self.duration_ms, 3),
        }


@dataclass(frozen=True, slots=True)
class Report:
    """Everything :func:`diagnose` found, in the order it looked.

    Attributes:
        uri: the URI diagnosed, canonical spelling.
        checks: the steps, in order.
    """

    uri: str
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings and skips are allowed)."""
        return not any(check.status == "fail" for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        """``{"uri", "ok", "checks": [...]}``, JSON-ready."""
        return {
            "uri": self.uri,
            "ok": self.ok,
            "checks": [check.as_dict() for check in self.checks],
        }

    def to_json(self) -> str:
        """One JSON object (see :meth:`as_dict`), indented for reading."""
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False)

    def format(self, *, ascii_only: bool = False) -> str:
        """The human report: one line per check, the fix indented below.

        Args:
            ascii_only: use ``ok``/``FAIL``/``warn``/``skip`` instead of
                ✓ ✗ ! - for terminals that cannot show them.

        Returns:
            The text, ending with a summary line and a newline.
        """
        marks = ASCII_MARKS if ascii_only else MARKS
        lines = [f"doctor {self.uri}"]
        for check in self.checks:
            timing = f" ({_format_ms(check.duration_ms)})" if check.duration_ms else ""
            lines.append(f"{marks[check.status]} {check.name}: {check.detail}{timing}")
            if check.fix is not None and check.status in ("fail", "warn"):
                lines.append(f"    fix: {check.fix}")
        failed = sum(check.status == "fail" for check in self.checks)
        warned = sum(check.status == "warn" for check in self.checks)
        if failed:
            summary = f"{failed} check{'s' if failed != 1 else ''} failed"
        else:
            summary = "all checks passed"
        if warned:
            summary += f", {warned} warning{'s' if warned != 1 else ''}"
        lines.append(summary)
        return "\n".join(lines) + "\n"


def _format_ms(ms: float) -> str:
    if ms < 10:
        return f"{ms:.1f} ms"
    return f"{ms:.0f} ms"


# --------------------------------------------------------------------------
# The walk.


async def diagnose(
    uri: GlusterURI,
    *,
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
    call_timeout: float | None = DEFAULT_CALL_TIMEOUT,
    credentials: Credentials | None = None,
) -> Report:
    """Check every step from ``uri`` to its image; never raise for cluster faults.

    Args:
        uri: the image (or, with ``path`` None, only the volume) to check.
        connect_timeout: seconds for each connection attempt; None = no limit.
        call_timeout: seconds for each call's reply; None = no limit.
        credentials: identity for the bricks; default the caller's.

    Returns:
        The report; ``report.ok`` is False when any step failed.
    """
    doctor = _Doctor(
        uri,
        connect_timeout=connect_timeout,
        call_timeout=call_timeout,
        credentials=credentials if credentials is not None else Credentials(),
    )
    await doctor.run()
    return Report(str(uri), tuple(doctor.checks))


def _limit(seconds: float | None) -> float:
    return seconds if seconds is not None else math.inf


class _Timer:
    """Milliseconds since creation, for :attr:`Check.duration_ms`."""

    __slots__ = ("_start",)

    def __init__(self) -> None:
        self._start = time.perf_counter()

    @property
    def ms(self) -> float:
        return (time.perf_counter() - self._start) * 1000


class _Checks(list[Check]):
    """The checks of a walk (or of one brick), in the order they were made."""

    def add(
        self,
        name: str,
        status: Status,
        detail: str,
        fix: str | None = None,
        timer: _Timer | None = None,
    ) -> None:
        """Record a check; ``timer`` (started with the step) gives its duration."""
        self.append(Check(name, status, detail, fix, timer.ms if timer else 0.0))

    def passed(self, name: str, detail: str, timer: _Timer | None = None) -> bool:
        """Record an "ok" check; True, for the step to return."""
        self.add(name, "ok", detail, None, timer)
        return True

    def failed(
        self,
        name: str,
        detail: str,
        fix: str | None = None,
        timer: _Timer | None = None,
    ) -> bool:
        """Record a "fail" check; False, for the step to return."""
        self.add(name, "fail", detail, fix, timer)
        return False


@dataclass
class _BrickResult:
    """The checks of one brick, and how far it got."""

    checks: _Checks = field(default_factory=_Checks)
    port: int | None = None
    portmap_error: MgmtError | None = None
    listening: bool = False
    refused: bool = False
    usable: bool = False


async def _dump(client: RpcClient) -> glusterd.GfDumpRsp:
    """The programs (and versions) the server at the other end offers."""
    return await client.call(
        glusterd.DUMP, glusterd.GfDumpReq(gfs_id=glusterd.GLUSTER_DUMP_GFS_ID)
    )


class _Connected:
    """A stream we connected ourselves, and the address it is bound to."""

    def __init__(
        self,
        stream: trio.abc.Stream,
        local: str,
        remote: str,
        tls: TlsConfig | None = None,
    ) -> None:
        self.stream = stream
        #: The TLS the connection runs, None for plain text.
        self.tls = tls
        self.local = local
        self.remote = remote


def _sockaddr_text(sockaddr: Any) -> str:
    host, port = sockaddr[0], sockaddr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _os_error_text(exc: OSError) -> str:
    if exc.errno:
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__


class _Doctor:
    def __init__(
        self,
        uri: GlusterURI,
        *,
        connect_timeout: float | None,
        call_timeout: float | None,
        credentials: Credentials,
    ) -> None:
        self.uri = uri
        self.volume = uri.volume
        self.connect_timeout = connect_timeout
        self.call_timeout = call_timeout
        self.credentials = credentials
        self.checks = _Checks()

    def _client(
        self, connected: _Connected, peer: Server | Brick
    ) -> AbstractAsyncContextManager[RpcClient]:
        """An RPC client over a stream the walk connected itself."""
        return client_over_stream(
            connected.stream,
            str(peer),
            credentials=self.credentials,
            call_timeout=self.call_timeout,
        )

    # --- glusterd --------------------------------------------------------------

    async def run(self) -> None:
        text: str | None = None
        volume_id: str | None = None
        for server in self.uri.servers:
            connected = await self._reach_glusterd(server)
            if connected is None:
                continue
            tls = self.uri.tls.for_glusterd(unix=server.transport == "unix")
            connected = await self._start_tls(
                connected, f"glusterd {server}", server.host, tls, self.checks
            )
            if connected is None:
                continue
            async with self._client(connected, server) as client:
                if not await self._dump_glusterd(server, client, connected):
                    continue
                if text is None:
                    text = await self._getspec(server, client)
                    if text is None:
                        # glusterd answered "no"; every glusterd of the pool
                        # answers the same, so stop here (mgmt.fetch_volfile).
                        self._skip_rest("GETSPEC failed")
                        return
                    volume_id = await self._volume_id(server, client)
        if text is None:
            self.checks.add("GETSPEC " + self.volume, "skip", "no glusterd answered")
            self._skip_rest("no glusterd answered")
            return
        graph = self._parse(text)
        if graph is None:
            self._skip_rest("the volfile did not parse")
            return
        supported = self._volume(graph, volume_id)
        down = await self._bricks(graph)
        await self._image(graph, supported=supported, bricks_down=down)

    def _skip_rest(self, reason: str) -> None:
        self.checks.add("bricks", "skip", f"not checked: {reason}")
        if self.uri.path is not None:
            self.checks.add(
                f"LOOKUP {self.uri.image_path}", "skip", f"not tried: {reason}"
            )

    async def _resolve(self, host: str, port: int) -> list[Any] | None:
        """getaddrinfo (A and AAAA) as a check; the sockaddrs, or None."""
        timer = _Timer()
        name = f"resolve {host}"
        with trio.move_on_after(_limit(self.connect_timeout)) as scope:
            try:
                infos = await trio.socket.getaddrinfo(
                    host, port, type=socket.SOCK_STREAM
                )
            except socket.gaierror as exc:
                self.checks.add(
                    name,
                    "fail",
                    f"cannot resolve {host!r}: {exc.strerror}",
                    "check the host name in the URI, and DNS or /etc/hosts on "
                    "this machine (`getent ahosts "
                    f"{host}`)",
                    timer,
                )
                return None
        if scope.cancelled_caught:
            self.checks.add(
                name,
                "fail",
                f"resolving {host!r} took longer than "
                f"{_limit(self.connect_timeout):g} s",
                "check this machine's DNS servers (/etc/resolv.conf)",
                timer,
            )
            return None
        v4 = [str(i[4][0]) for i in infos if i[0] == socket.AF_INET]
        v6 = [str(i[4][0]) for i in infos if i[0] == socket.AF_INET6]
        parts = [f"A {', '.join(dict.fromkeys(v4))}" if v4 else "no A"]
        parts.append(f"AAAA {', '.join(dict.fromkeys(v6))}" if v6 else "no AAAA")
        self.checks.add(name, "ok", "; ".join(parts), None, timer)
        return [i[4] for i in infos]

    async def _connect(
        self, family_addrs: Sequence[tuple[int, Any]]
    ) -> tuple[_Connected | None, list[str]]:
        """Connect to the first address that accepts; (stream, failures)."""
        failures: list[str] = []
        for family, sockaddr in family_addrs:
            sock = trio.socket.socket(family, socket.SOCK_STREAM)
            with trio.move_on_after(_limit(self.connect_timeout)) as scope:
                try:
                    await sock.connect(sockaddr)
                except OSError as exc:
                    sock.close()
                    failures.append(
                        f"{_sockaddr_text(sockaddr)}: {_os_error_text(exc)}"
                    )
                    continue
                except BaseException:
                    sock.close()
                    raise
            if scope.cancelled_caught:
                sock.close()
                failures.append(
                    f"{_sockaddr_text(sockaddr)}: no answer within "
                    f"{_limit(self.connect_timeout):g} s"
                )
                continue
            local = _sockaddr_text(sock.getsockname()).rsplit(":", 1)[0].strip("[]")
            return (
                _Connected(trio.SocketStream(sock), local, _sockaddr_text(sockaddr)),
                failures,
            )
        return None, failures

    async def _start_tls(
        self,
        connected: _Connected,
        what: str,
        host: str,
        tls: TlsConfig | None,
        checks: _Checks,
    ) -> _Connected | None:
        """The TLS handshake as a check, when ``tls`` says the path uses it."""
        if tls is None:
            return connected
        name = f"TLS {what}"
        timer = _Timer()
        with trio.move_on_after(_limit(self.connect_timeout)) as scope:
            try:
                stream = await start_tls(connected.stream, host, connected.remote, tls)
            except TlsError as exc:
                checks.add(name, "fail", str(exc), _tls_fix(tls), timer)
                return None
        if scope.cancelled_caught:
            await trio.aclose_forcefully(connected.stream)
            checks.add(
                name,
                "fail",
                f"no TLS answer within {_limit(self.connect_timeout):g} s "
                f"({tls.reason})",
                f"most likely {NOT_TLS_HERE}",
                timer,
            )
            return None
        peer = stream.getpeercert() or {}
        detail = f"{describe_session(stream.version(), stream.cipher(), peer)}"
        detail += f"; ours {tls.cert} ({tls.reason})"
        checks.add(name, "ok", detail, None, timer)
        return _Connected(stream, connected.local, connected.remote, tls)

    async def _reach_glusterd(self, server: Server) -> _Connected | None:
        name = f"connect glusterd {server}"
        if server.transport == "unix":
            timer = _Timer()
            with trio.move_on_after(_limit(self.connect_timeout)) as scope:
                try:
                    stream = await trio.open_unix_socket(server.socket)
                except OSError as exc:
                    fix = None
                    if exc.errno in (errno.ENOENT, errno.ECONNREFUSED):
                        fix = (
                            "glusterd is not running on this machine, or uses "
                            "another socket: start it (`systemctl start glusterd`)"
                        )
                    elif exc.errno == errno.EACCES:
                        fix = f"run as a user that may open {server.socket} (root)"
                    self.checks.add(
                        name,
                        "fail",
                        f"cannot connect to {server.socket}: {_os_error_text(exc)}",
                        fix,
                        timer,
                    )
                    return None
            if scope.cancelled_caught:
                self.checks.add(name, "fail", "no answer", None, timer)
                return None
            self.checks.add(name, "ok", f"connected to {server.socket}", None, timer)
            return _Connected(stream, "local", str(server))
        infos = await self._resolve(server.host, server.port)
        if infos is None:
            return None
        timer = _Timer()
        addrs = [(socket.AF_INET6 if ":" in a[0] else socket.AF_INET, a) for a in infos]
        connected, failures = await self._connect(addrs)
        if connected is None:
            refused = all("refused" in f for f in failures)
            if refused:
                fix = (
                    f"glusterd is not running on {server.host} (or not on port "
                    f"{server.port}): start it there (`systemctl start glusterd`)"
                )
            else:
                fix = (
                    f"check that {server.host} is up and that a firewall lets "
                    f"this machine reach TCP port {server.port} (glusterd)"
                )
            self.checks.add(
                name,
                "fail",
                f"cannot connect: {'; '.join(failures)}",
                fix,
                timer,
            )
            return None
        detail = f"connected to {connected.remote} from {connected.local}"
        if failures:
            detail += f" (failed first: {'; '.join(failures)})"
        self.checks.add(name, "ok", detail, None, timer)
        return connected

    async def _dump_glusterd(
        self, server: Server, client: RpcClient, connected: _Connected
    ) -> bool:
        name = f"DUMP glusterd {server}"
        timer = _Timer()
        try:
            reply = await _dump(client)
        except ConnectionLost as exc:
            return self.checks.failed(
                name,
                f"glusterd closed the connection at DUMP: {exc}",
                cut_off_account(connected.tls, f"glusterd at {server}", glusterd=True),
                timer,
            )
        except GlusterError as exc:
            return self.checks.failed(
                name,
                f"glusterd did not answer DUMP: {exc}",
                f"is {server} really glusterd? (the default port is {GLUSTERD_PORT})",
                timer,
            )
        offered = {(p.prognum, p.progver) for p in reply.prog}
        names = ", ".join(f"{p.progname} v{p.progver}" for p in reply.prog)
        if (ProgramNumber.GLUSTER_HNDSK, 2) not in offered:
            return self.checks.failed(
                name,
                f"no Gluster Handshake v2 among the programs offered ({names})",
                "this is not a glusterd of glusterfs >= 3.x",
                timer,
            )
        wanted = [
            label
            for label, key in (
                ("Handshake v2", (ProgramNumber.GLUSTER_HNDSK, 2)),
                ("Portmap v1", (ProgramNumber.GLUSTER_PMAP, 1)),
            )
            if key in offered
        ]
        detail = f"{len(reply.prog)} programs offered, with {' and '.join(wanted)}"
        if (
            server.transport == "unix"
            and (ProgramNumber.GLUSTER_PMAP, 1) not in offered
        ):
            # glusterd offers portmap on TCP only (protocol.md §1).
            detail += "; no Portmap here (normal on the unix socket: bricks are "
            detail += f"portmapped over TCP port {GLUSTERD_PORT} of their host)"
        return self.checks.passed(name, detail, timer)

    async def _getspec(self, server: Server, client: RpcClient) -> str | None:
        name = f"GETSPEC {self.volume}"
        timer = _Timer()
        try:
            text = await getspec(client, self.volume)
        except MgmtError as exc:
            if exc.errno == errno.ENOENT:
                self.checks.add(
                    name,
                    "fail",
                    f"glusterd on {server} has no volume {self.volume!r}",
                    "`gluster volume list` shows the volumes; correct the volume "
                    "name in the URI",
                    timer,
                )
            else:
                self.checks.add(name, "fail", str(exc), None, timer)
            return None
        except GlusterError as exc:
            self.checks.add(name, "fail", str(exc), None, timer)
            return None
        self.checks.add(
            name, "ok", f"volfile of {len(text)} bytes from {server}", None, timer
        )
        return text

    async def _volume_id(self, server: Server, client: RpcClient) -> str | None:
        """GET_VOLUME_INFO's volume id; None where glusterd does not offer it."""
        try:
            reply = await client.call(
                glusterd.GET_VOLUME_INFO,
                glusterd.GfGetVolumeInfoReq(
                    # flags 1 = GF_GET_VOLUME_UUID (glusterd-handshake.c).
                    dict=glusterd.str_dict({"volname": self.volume, "flags": 1})
                ),
            )
        except (RpcError, GlusterError):
            # The unix socket's handshake program serves GETSPEC only (§1).
            return None
        if reply.op_ret < 0:
            return None
        return glusterd.dict_str(reply.dict, "volume_id")

    def _parse(self, text: str) -> Graph | None:
        try:
            return volfile.parse(text)
        except GlusterError as exc:
            self.checks.add(
                f"volume {self.volume}",
                "fail",
                f"the volfile glusterd sent does not parse: {exc}",
                "please report this with `pygluster volfile URI` output",
            )
            return None

    def _volume(self, graph: Graph, volume_id: str | None) -> bool:
        name = f"volume {self.volume}"
        layout = describe_layout(graph)
        ident = f"id {volume_id}, " if volume_id else ""
        refused = [step for step in plan(graph) if step.action == "refuse"]
        if refused:
            what = ", ".join(f"{s.name} ({s.type})" for s in refused)
            return self.checks.failed(
                name,
                f"{ident}{layout}; pygluster cannot run {what}",
                "use QEMU's gluster driver (libgfapi) for this volume, or a "
                "volume type pygluster supports (distribute, replicate, "
                "arbiter, shard)",
            )
        return self.checks.passed(name, f"{ident}{layout}; pygluster supports it")

    # --- bricks ------------------------------------------------------------------

    async def _bricks(self, graph: Graph) -> list[str] | None:
        """Check every brick; the ones that did not take SETVOLUME, or None."""
        try:
            bricks = graph.bricks()
        except GlusterError as exc:
            self.checks.add("bricks", "fail", str(exc))
            return None
        results = [_BrickResult() for _ in bricks]

        async def one(brick: Brick, result: _BrickResult) -> None:
            await self._portmap(brick, result)
            if result.port is not None:
                await self._brick(graph, brick, result)

        async with trio.open_nursery() as nursery:
            for brick, result in zip(bricks, results, strict=True):
                nursery.start_soon(one, brick, result)
        # A brick process runs when its port accepts. glusterd's portmap can
        # keep a stopped brick's port for a while (seen after `volume stop`
        # on 10.3), so "refused on the port glusterd gave" counts as stopped.
        running = [r for r in results if r.listening]
        name = f"volume {self.volume} started"
        stopped = not running and all(
            r.portmap_error is not None or r.refused for r in results
        )
        if stopped:
            self.checks.add(
                name,
                "fail",
                f"no brick process of {self.volume!r} is running (glusterd has "
                "no port for it, or nothing accepts on the port it gives): the "
                "volume is probably stopped (or every brick process died)",
                f"`gluster volume start {self.volume}` (add `force` if `gluster "
                f"volume info {self.volume}` says Started)",
            )
        elif len(running) < len(results):
            self.checks.add(
                name,
                "warn",
                f"{len(running)} of {len(results)} brick processes running",
            )
        elif len(results) == 1:
            self.checks.add(name, "ok", "the brick process is running")
        else:
            self.checks.add(name, "ok", f"all {len(results)} brick processes running")

        for brick, result in zip(bricks, results, strict=True):
            if result.port is None and not result.checks:
                continue
            if stopped:
                # One fix, on the volume line; per brick just say what is missing.
                self.checks.extend(
                    Check(c.name, c.status, c.detail, None, c.duration_ms)
                    for c in result.checks
                )
            else:
                self.checks.extend(result.checks)
            if result.port is None:
                self.checks.add(f"brick {brick}", "skip", "not connected: no port")
        return [str(b) for b, r in zip(bricks, results, strict=True) if not r.usable]

    async def _portmap(self, brick: Brick, result: _BrickResult) -> None:
        name = f"portmap {brick}"
        timer = _Timer()
        if brick.port is not None:
            result.port = brick.port
            result.checks.add(
                name, "ok", f"port {brick.port} (remote-port in the volfile)"
            )
            return
        try:
            port = await port_by_brick(
                brick.host,
                brick.path,
                credentials=self.credentials,
                connect_timeout=self.connect_timeout,
                call_timeout=self.call_timeout,
                tls=self.uri.tls,
            )
        except MgmtError as exc:
            result.portmap_error = exc
            result.checks.add(
                name,
                "fail",
                f"glusterd on {brick.host} has no port for this brick: brick "
                "process not running (killed? crashed?)",
                f"`gluster volume start {self.volume} force` restarts missing "
                f"brick processes; `gluster volume status {self.volume}` "
                "shows them, /var/log/glusterfs/bricks/ says why one died",
                timer,
            )
            return
        except GlusterError as exc:
            result.checks.add(
                name,
                "fail",
                f"cannot ask glusterd on {brick.host}: {exc}",
                f"glusterd must run on {brick.host} and TCP port "
                f"{GLUSTERD_PORT} must be reachable from here (portmap is "
                "not offered on the unix socket)",
                timer,
            )
            return
        result.port = port
        result.checks.add(name, "ok", f"port {port}", None, timer)

    async def _brick(self, graph: Graph, brick: Brick, result: _BrickResult) -> None:
        assert result.port is not None
        port = result.port
        checks = result.checks
        timer = _Timer()
        name = f"connect brick {brick}"
        infos: list[Any] = []
        try:
            with trio.move_on_after(_limit(self.connect_timeout)):
                infos = await trio.socket.getaddrinfo(
                    brick.host, port, type=socket.SOCK_STREAM
                )
        except socket.gaierror as exc:
            checks.add(
                name,
                "fail",
                f"cannot resolve {brick.host!r}: {exc.strerror}",
                f"this machine must resolve the brick host names the volume "
                f"was created with (add {brick.host} to DNS or /etc/hosts)",
                timer,
            )
            return
        addrs = [(i[0], i[4]) for i in infos]
        connected, failures = await self._connect(addrs)
        if connected is None:
            result.refused = bool(failures) and all("refused" in f for f in failures)
            if result.refused:
                fix = (
                    f"nothing accepts on port {port}: the brick process is gone "
                    "and glusterd's portmap still lists it (`gluster volume "
                    f"status {self.volume}`; `gluster volume start {self.volume} "
                    "force` restarts it), or a firewall rejects the brick ports "
                    "(49152-60999 by default)"
                )
            else:
                fix = (
                    "a firewall must let this machine reach the brick ports "
                    f"(glusterd's base-port..max-port, 49152-60999 by default; "
                    f"this one is {port})"
                )
            checks.add(
                name,
                "fail",
                f"cannot connect: {'; '.join(failures) or 'no address'}",
                fix,
                timer,
            )
            return
        result.listening = True
        checks.add(
            name,
            "ok",
            f"connected to {connected.remote} from {connected.local}",
            None,
            timer,
        )
        tls = self.uri.tls.for_brick(graph[brick.xlator].options, str(brick))
        upgraded = await self._start_tls(
            connected, f"brick {brick}", brick.host, tls, checks
        )
        if upgraded is None:
            return
        connected = upgraded
        async with self._client(connected, brick) as client:
            if not await self._dump_brick(brick, client, connected, checks):
                return
            if not await self._setvolume(graph, brick, client, connected, checks):
                return
            await self._ping(graph, brick, client, checks)
            result.usable = True
        if "username" in graph[brick.xlator].options and connected.tls is None:
            # Over TLS the certificate decides (auth.ssl-allow), and an
            # address only counts where auth.reject names it (tls module).
            await self._address_auth(graph, brick, addrs, checks)

    async def _dump_brick(
        self, brick: Brick, client: RpcClient, connected: _Connected, checks: _Checks
    ) -> bool:
        name = f"DUMP brick {brick}"
        timer = _Timer()
        try:
            reply = await _dump(client)
        except ConnectionLost as exc:
            return checks.failed(
                name,
                f"the brick closed the connection at DUMP: {exc}",
                cut_off_account(connected.tls, f"brick {brick}", glusterd=False),
                timer,
            )
        except GlusterError as exc:
            return checks.failed(name, str(exc), timer=timer)
        offered = {(p.prognum, p.progver) for p in reply.prog}
        if (ProgramNumber.GLUSTER_FOP, fops.FOP_PROGRAM.version) not in offered:
            return checks.failed(
                name,
                "the brick does not offer GlusterFS fops v400",
                "pygluster needs glusterfs >= 4 on the servers",
                timer,
            )
        return checks.passed(name, "fops v400 offered", timer)

    async def _setvolume(
        self,
        graph: Graph,
        brick: Brick,
        client: RpcClient,
        connected: _Connected,
        checks: _Checks,
    ) -> bool:
        name = f"SETVOLUME {brick}"
        timer = _Timer()
        node = graph[brick.xlator]
        try:
            values = await _setvolume_dict(node, brick, self.volume, self.credentials)
            reply = await client.call(
                glusterd.SETVOLUME,
                glusterd.GfSetvolumeReq(dict=values),
                cred=self.credentials.auth_v3(),
            )
        except GlusterError as exc:
            return checks.failed(name, str(exc), timer=timer)
        message = glusterd.dict_str(reply.dict, "ERROR") or "no reason given"
        if reply.op_ret < 0:
            detail = (
                f"the brick refused this client: [Errno {reply.op_errno}] "
                f"{os.strerror(reply.op_errno) if reply.op_errno > 0 else ''}: "
                f"{message!r}"
            )
            fix: str | None = None
            if reply.op_errno == errno.EACCES and connected.tls is not None:
                fix = (
                    f"{auth_refusal_hint(connected.tls)}: "
                    f"`gluster volume get {self.volume} auth.ssl-allow` shows the "
                    f"list, `gluster volume set {self.volume} auth.ssl-allow "
                    "CN1,CN2,...` sets it"
                )
            elif reply.op_errno == errno.EACCES:
                fix = _auth_allow_fix(self.volume, connected.local)
                if "username" in values:
                    fix += (
                        "; or the volfile's username/password no longer match "
                        "the bricks' (auth.login): fetch the volfile again"
                    )
            elif reply.op_errno == errno.ENOENT:
                fix = (
                    f"the brick process does not serve {brick.path}: the volfile "
                    f"is stale or another volume took the port; `gluster volume "
                    f"status {self.volume}`"
                )
            return checks.failed(name, detail, fix, timer)
        if glusterd.dict_str(reply.dict, "child_up") == "0":
            return checks.failed(
                name,
                "accepted, but the brick's storage is not up (child_up=0)",
                "look at the brick log in /var/log/glusterfs/bricks/ on "
                f"{brick.host} (disk full, brick directory gone?)",
                timer,
            )
        return checks.passed(name, "accepted", timer)

    async def _address_auth(
        self,
        graph: Graph,
        brick: Brick,
        addrs: Sequence[tuple[int, Any]],
        checks: _Checks,
    ) -> None:
        """SETVOLUME again without the volfile's login: does auth.allow admit us?

        glusterd hands the *trusted* volfile, with the bricks' username and
        password, to machines of its trusted pool. A brick accepts a client
        whose login matches even when auth.allow excludes its address (seen
        on glusterfs 10.3: with ``auth.allow 10.9.9.9`` SETVOLUME from
        127.0.0.1 is accepted with the login, EACCES without it), so the real
        SETVOLUME above passes here while clients that get the volfile
        without the login are refused. Probe on a new connection so the real
        session is untouched.
        """
        name = f"auth.allow {brick}"
        timer = _Timer()
        connected, failures = await self._connect(addrs)
        if connected is None:
            checks.add(name, "skip", f"not probed: {'; '.join(failures)}")
            return
        node = graph[brick.xlator]
        try:
            values = await _setvolume_dict(node, brick, self.volume, self.credentials)
            values.pop("username", None)
            values.pop("password", None)
            async with self._client(connected, brick) as client:
                reply = await client.call(
                    glusterd.SETVOLUME,
                    glusterd.GfSetvolumeReq(dict=values),
                    cred=self.credentials.auth_v3(),
                )
        except GlusterError as exc:
            checks.add(name, "skip", f"not probed: {exc}", None, timer)
            return
        if reply.op_ret >= 0:
            checks.add(
                name,
                "ok",
                f"admits this client's address ({connected.local}) without "
                "the trusted volfile's login too",
                None,
                timer,
            )
            return
        if reply.op_errno != errno.EACCES:
            message = glusterd.dict_str(reply.dict, "ERROR") or "no reason given"
            checks.add(
                name,
                "skip",
                f"probe refused for another reason: [Errno {reply.op_errno}] "
                f"{message!r}",
                None,
                timer,
            )
            return
        checks.add(
            name,
            "warn",
            f"auth.allow (or auth.reject) refuses this client's address "
            f"({connected.local}); this client got in only with the "
            "username/password that came with the volfile (glusterd adds "
            "them for machines of its trusted pool): clients outside the "
            "pool will be refused",
            _auth_allow_fix(self.volume, connected.local),
            timer,
        )

    async def _ping(
        self, graph: Graph, brick: Brick, client: RpcClient, checks: _Checks
    ) -> None:
        name = f"PING {brick}"
        option = graph[brick.xlator].options.get("ping-timeout")
        ping_timeout = (
            f"{option} s" if option else f"{DEFAULT_PING_TIMEOUT:g} s default"
        )
        timer = _Timer()
        try:
            reply = await client.call(glusterd.PING, None)
        except GlusterError as exc:
            checks.add(name, "fail", str(exc), None, timer)
            return
        if reply.op_ret < 0:
            checks.add(name, "fail", f"op_errno {reply.op_errno}", None, timer)
            return
        checks.add(name, "ok", f"answered (ping-timeout {ping_timeout})", None, timer)

    # --- the image ---------------------------------------------------------------

    async def _image(
        self, graph: Graph, *, supported: bool, bricks_down: list[str] | None
    ) -> None:
        if self.uri.path is None:
            self.checks.add("LOOKUP", "skip", "the URI names a volume, not an image")
            return
        path = self.uri.image_path
        name = f"LOOKUP {path}"
        if not supported:
            self.checks.add(name, "skip", "not tried: pygluster cannot run this volume")
            return
        if bricks_down is None:
            self.checks.add(name, "skip", "not tried: the bricks are unknown")
            return
        if bricks_down:
            # The image may live on a missing brick, and the translators
            # would wait for it to come back; the brick checks say what to do.
            listed = ", ".join(bricks_down)
            self.checks.add(
                name, "skip", f"not tried while a brick is unusable: {listed}"
            )
            return
        timer = _Timer()
        limit = _limit(self.call_timeout)
        try:
            with trio.move_on_after(limit) as scope:
                async with open_client_graph(
                    graph,
                    self.volume,
                    credentials=self.credentials,
                    connect_timeout=self.connect_timeout,
                    tls=self.uri.tls,
                ) as stack:
                    loc, iatt = await _resolve(stack.top, path)
        except FopError as exc:
            self.checks.add(name, "fail", *self._lookup_failure(exc), timer)
            return
        except GlusterError as exc:
            self.checks.add(name, "fail", str(exc), None, timer)
            return
        except BaseExceptionGroup as group:
            leaf = _first_gluster_error(group)
            if leaf is None:
                raise
            self.checks.add(name, "fail", str(leaf), None, timer)
            return
        if scope.cancelled_caught:
            self.checks.add(
                name,
                "fail",
                f"no answer within {limit:g} s",
                "a brick holding the image may be down or hung",
                timer,
            )
            return
        gfid = uuid.UUID(bytes=loc.gfid) if loc.gfid else None
        if iatt_is_reg(iatt):
            self.checks.add(
                name,
                "ok",
                f"regular file, {iatt.ia_size} bytes, gfid {gfid}",
                None,
                timer,
            )
        else:
            kind = "a directory" if iatt_is_dir(iatt) else "not a regular file"
            self.checks.add(
                name,
                "fail",
                f"{path} is {kind}, not an image",
                "point the URI at an image file",
                timer,
            )

    def _lookup_failure(self, exc: FopError) -> tuple[str, str | None]:
        path = self.uri.image_path
        if exc.errno == errno.ENOENT:
            return (
                f"no {path} on volume {self.volume!r} (LOOKUP of {exc.target}: "
                "No such file or directory)",
                f"check the path; `pygluster create {self.uri} SIZE` creates an image",
            )
        if exc.errno == errno.ENOTDIR:
            return (
                f"a folder on the way to {path} is not a directory ({exc.target})",
                "check the path",
            )
        if exc.errno == errno.EACCES:
            return (
                f"permission denied at {exc.target} for uid {self.credentials.uid} "
                f"gid {self.credentials.gid}",
                "the folders on the way need search (x) permission for this user; "
                "run as the image's owner or change the mode/owner on the volume",
            )
        return str(exc), None


def _tls_fix(tls: TlsConfig) -> str:
    return (
        f"TLS is used because {tls.reason}; give working files with "
        "--tls-cert/--tls-key/--tls-ca (or the URI's tls-* keys), or "
        "--tls off / --tls-mgmt off where the server does not use TLS"
    )


def _auth_allow_fix(volume: str, address: str) -> str:
    return (
        f"auth.allow does not include this client's address ({address}): "
        f"`gluster volume set {volume} auth.allow {address}` (or add it to the "
        f"comma-separated list `gluster volume get {volume} auth.allow` shows; "
        "check auth.reject too)"
    )


def _first_gluster_error(group: BaseExceptionGroup[Any]) -> GlusterError | None:
    for exc in group.exceptions:
        if isinstance(exc, GlusterError):
            return exc
        if isinstance(exc, BaseExceptionGroup):
            found = _first_gluster_error(exc)
            if found is not None:
                return found
    return None


async def _setvolume_dict(
    node: volfile.Xlator, brick: Brick, volume: str, credentials: Credentials
) -> dict[str, bytes]:
    """SETVOLUME's dict exactly as :class:`ClientXlator` sends it."""
    return setvolume_dict(node.name, brick, dict(node.options), volume)


# --------------------------------------------------------------------------
# The volume's shape, in words.


def describe_layout(graph: Graph) -> str:
    """``"distribute over 3 bricks"``, ``"1 x replicate 3, sharded (4MB)"``, ...

    Read from the graph alone: the replicate/disperse sets, the arbiter
    count, and features/shard's block size.
    """
    bricks = sum(1 for _, x in graph.walk() if x.type == "protocol/client")
    sets: list[str] = []
    shard: str | None = None
    for _, xl in graph.walk():
        width = len(xl.subvolumes)
        if xl.type == "cluster/replicate":
            arbiters = int(xl.options.get("arbiter-count", "0") or 0)
            if arbiters:
                sets.append(f"arbiter ({width - arbiters} + {arbiters} arbiter)")
            else:
                sets.append(f"replicate {width}")
        elif xl.type == "cluster/disperse":
            redundancy = xl.options.get("redundancy", "?")
            sets.append(f"disperse {width} (redundancy {redundancy})")
        elif xl.type == "features/shard":
            shard = xl.options.get("shard-block-size", "64MB")
    plural = "s" if bricks != 1 else ""
    if sets:
        kinds = sorted(set(sets))
        shape = f"{len(sets)} x {kinds[0]}" if len(kinds) == 1 else " + ".join(kinds)
        if len(sets) > 1:
            shape = f"distributed {shape}"
        text = f"{shape}, {bricks} brick{plural}"
    elif bricks == 1:
        text = "single brick"
    else:
        text = f"distribute over {bricks} brick{plural}"
    if shard is not None:
        text += f", sharded ({shard} blocks)"
    return text
