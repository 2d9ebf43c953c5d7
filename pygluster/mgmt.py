"""Talking to glusterd: fetch a volume's volfile, ask the portmapper for brick ports.

The trio layer above :mod:`pygluster.rpc`: it picks addresses from a
:class:`~pygluster.uri.GlusterURI`, tries volfile servers in order, and turns
``op_ret == -1`` answers into :class:`~pygluster.errors.MgmtError` with an
explanation a user can act on.
"""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import trio

from pygluster.errors import (
    ConnectionLost,
    GlusterError,
    MgmtError,
    RemoteProtocolError,
    ServersExhausted,
    TransportError,
)
from pygluster.rpc import glusterd
from pygluster.rpc.client import (
    DEFAULT_CONNECT_TIMEOUT,
    Address,
    TcpAddress,
    UnixAddress,
    open_rpc_client,
)
from pygluster.tls import NO_TLS, first_call_lost

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from pygluster.rpc.client import RpcClient
    from pygluster.rpc.sunrpc import Credentials
    from pygluster.tls import TlsConfig, TlsOptions
    from pygluster.uri import GlusterURI, Server
    from pygluster.volfile import Brick

__all__ = [
    "DEFAULT_CALL_TIMEOUT",
    "GLUSTERD_PORT",
    "BrickPort",
    "FetchedVolfile",
    "brick_ports",
    "fetch_volfile",
    "getspec",
    "port_by_brick",
    "server_address",
]

log = logging.getLogger("pygluster.mgmt")

#: glusterd's TCP port (GF_DEFAULT_BASE_PORT); portmap is only offered there.
GLUSTERD_PORT = 24007
#: glusterd answers management calls in milliseconds; 30 s means it is stuck.
DEFAULT_CALL_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class FetchedVolfile:
    """A volfile as glusterd served it, and who served it."""

    volume: str
    text: str
    server: str


@dataclass(frozen=True, slots=True)
class BrickPort:
    """What the portmapper said about one brick: a port, or why not."""

    brick: Brick
    port: int | None
    error: GlusterError | None = None


def server_address(server: Server) -> Address:
    """The RPC address of a volfile server named in a URI."""
    if server.transport == "unix":
        return UnixAddress(server.socket)
    return TcpAddress(server.host, server.port)


async def getspec(client: RpcClient, volume: str) -> str:
    """GETSPEC ``volume`` on a connected glusterd; return the volfile text.

    Raises:
        MgmtError: glusterd refused (unknown volume, op-version mismatch).
    """
    reply = await client.call(
        glusterd.GETSPEC,
        glusterd.GfGetspecReq(
            flags=glusterd.GETSPEC_FLAG_SERVERS_LIST,
            key=volume,
            xdata=glusterd.OP_VERSION_XDATA,
        ),
    )
    if reply.op_ret < 0:
        raise MgmtError(
            "GETSPEC",
            client.peer,
            reply.op_errno,
            _getspec_hint(volume, reply.op_errno),
        )
    return reply.spec


def _glusterd(
    address: Address,
    credentials: Credentials | None,
    connect_timeout: float | None,
    call_timeout: float | None,
    tls: TlsConfig | None,
) -> AbstractAsyncContextManager[RpcClient]:
    """A client to the glusterd at ``address``, for one management exchange.

    ``tls`` from :meth:`TlsOptions.for_glusterd` (secure-access; pygluster.tls).
    """
    return open_rpc_client(
        address,
        credentials=credentials,
        connect_timeout=connect_timeout,
        call_timeout=call_timeout,
        tls=tls,
    )


def _getspec_hint(volume: str, errno_value: int) -> str:
    if errno_value == errno.ENOENT:
        return f"glusterd has no volume {volume!r}; 'gluster volume list' shows them"
    if errno_value == errno.EOPNOTSUPP:
        return f"volume {volume!r} needs a newer client op-version"
    return f"asking for the volfile of {volume!r}"


async def fetch_volfile(
    uri: GlusterURI,
    *,
    credentials: Credentials | None = None,
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
    call_timeout: float | None = DEFAULT_CALL_TIMEOUT,
) -> FetchedVolfile:
    """Fetch the volfile of ``uri.volume``, trying the URI's servers in order.

    A server that cannot be reached (or times out) is skipped; a server that
    answers with an error ends the search, since every glusterd of a trusted
    pool gives the same answer.

    Raises:
        MgmtError: a glusterd refused the request.
        ServersExhausted: no server could be reached; names each attempt.
    """
    attempts: list[tuple[str, BaseException]] = []
    for server in uri.servers:
        address = server_address(server)
        tls = uri.tls.for_glusterd(unix=server.transport == "unix")
        try:
            async with _glusterd(
                address, credentials, connect_timeout, call_timeout, tls
            ) as client:
                try:
                    text = await getspec(client, uri.volume)
                except ConnectionLost as exc:
                    raise first_call_lost(
                        exc, f"glusterd at {address}", tls, glusterd=True
                    ) from exc
        except TransportError as exc:
            log.info("volfile server %s failed: %s", address, exc)
            attempts.append((str(address), exc))
            continue
        return FetchedVolfile(uri.volume, text, str(address))
    if len(attempts) == 1:
        raise attempts[0][1]
    raise ServersExhausted(f"fetching the volfile of {uri.volume!r}", attempts)


async def port_by_brick(
    host: str,
    brick_path: str,
    *,
    glusterd_port: int = GLUSTERD_PORT,
    credentials: Credentials | None = None,
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
    call_timeout: float | None = DEFAULT_CALL_TIMEOUT,
    tls: TlsOptions = NO_TLS,
) -> int:
    """Ask the glusterd on ``host`` which TCP port serves ``brick_path``.

    Portmap is only offered on glusterd's TCP port, never on its unix socket
    (protocol.md §1), and takes the brick path alone (§5.3).

    Raises:
        MgmtError: glusterd does not know the brick or it is not running.
        TransportError: glusterd could not be reached.
    """
    address = TcpAddress(host, glusterd_port)
    async with _glusterd(
        address,
        credentials,
        connect_timeout,
        call_timeout,
        tls.for_glusterd(unix=False),
    ) as client:
        reply = await client.call(
            glusterd.PORTBYBRICK, glusterd.PmapPortByBrickReq(brick=brick_path)
        )
    # Portmap failure is op_ret -1 with op_errno 0 (protocol.md §12).
    if reply.op_ret >= 0 and reply.port > 65535:
        # pmap_port_by_brick_rsp.port is an int; a TCP port is 16 bits, and
        # truncating it would connect somewhere else entirely.
        raise RemoteProtocolError(
            f"PORTBYBRICK on {address} for brick {host}:{brick_path}: glusterd "
            f"answered port {reply.port}, which is not a TCP port (1-65535)"
        )
    if reply.op_ret < 0 or reply.port <= 0:
        raise MgmtError(
            "PORTBYBRICK",
            str(address),
            reply.op_errno,
            f"no running brick {host}:{brick_path}; is the volume started? "
            "('gluster volume status' shows the brick processes)",
        )
    return reply.port


async def brick_ports(
    bricks: list[Brick],
    *,
    credentials: Credentials | None = None,
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
    call_timeout: float | None = DEFAULT_CALL_TIMEOUT,
    tls: TlsOptions = NO_TLS,
) -> list[BrickPort]:
    """Portmap every brick concurrently; failures are reported, not raised."""
    results: list[BrickPort | None] = [None] * len(bricks)

    async def one(index: int, brick: Brick) -> None:
        if brick.port is not None:
            # remote-port in the volfile means no portmap (client-handshake.c).
            results[index] = BrickPort(brick, brick.port)
            return
        try:
            port = await port_by_brick(
                brick.host,
                brick.path,
                credentials=credentials,
                connect_timeout=connect_timeout,
                call_timeout=call_timeout,
                tls=tls,
            )
        except GlusterError as exc:
            results[index] = BrickPort(brick, None, exc)
        else:
            results[index] = BrickPort(brick, port)

    async with trio.open_nursery() as nursery:
        for index, brick in enumerate(bricks):
            nursery.start_soon(one, index, brick)
    return [r for r in results if r is not None]
