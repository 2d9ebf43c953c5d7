"""The trio driver: calls, out-of-order replies, cancellation, loss, timeouts."""

from __future__ import annotations

import errno
import os
import socket
import tempfile

import pytest
import trio
import trio.testing

from pygluster.errors import ConnectionLost, RpcNotAccepted, RpcTimeout, TransportError
from pygluster.rpc import glusterd
from pygluster.rpc.client import (
    TcpAddress,
    UnixAddress,
    client_over_stream,
    open_rpc_client,
)
from tests.helpers import FakeServerCore, reply_record, server_call_record

ARGS = glusterd.PmapPortByBrickReq(brick="/b")


def port_reply(xid: int, port: int) -> bytes:
    return reply_record(
        xid, glusterd.PmapPortByBrickRsp(op_ret=0, op_errno=0, status=0, port=port)
    )


class FakeServer:
    """Answers PORTBYBRICK calls with port = order of arrival, held until told."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.core = FakeServerCore()
        self.calls: list[int] = []
        self.arrived = trio.Event()

    async def collect(self, count: int) -> None:
        while len(self.calls) < count:
            data = await self.stream.receive_some(65536)
            if not data:
                return
            self.calls += [xid for xid, _, _ in self.core.receive(data)]


async def test_out_of_order_replies_reach_their_callers() -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    server = FakeServer(server_stream)
    results: dict[int, int] = {}
    async with client_over_stream(client_stream, "fake") as client:

        async def one(i: int) -> None:
            reply = await client.call(glusterd.PORTBYBRICK, ARGS)
            results[i] = reply.port

        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                for i in range(3):
                    nursery.start_soon(one, i)
                await server.collect(3)
                # Answer in reverse order; port = the xid's arrival index.
                for index in reversed(range(3)):
                    await server_stream.send_all(
                        port_reply(server.calls[index], 100 + index)
                    )
    assert sorted(results.values()) == [100, 101, 102]


async def test_server_calls_are_surfaced() -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    async with client_over_stream(client_stream, "fake") as client:
        await server_stream.send_all(server_call_record(1, 52743234, 1, 1))
        with trio.fail_after(5):
            call = await client.server_calls.receive()
        assert (call.prog, call.proc) == (52743234, 1)


async def test_connection_loss_fails_pending_calls() -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    server = FakeServer(server_stream)
    async with client_over_stream(client_stream, "fake-peer") as client:
        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:

                async def closer() -> None:
                    await server.collect(2)
                    await server_stream.aclose()

                nursery.start_soon(closer)
                errors = []

                async def call() -> None:
                    try:
                        await client.call(glusterd.PORTBYBRICK, ARGS)
                    except ConnectionLost as exc:
                        errors.append(exc)

                async with trio.open_nursery() as calls:
                    calls.start_soon(call)
                    calls.start_soon(call)
        assert len(errors) == 2
        assert all("fake-peer" in str(e) for e in errors)
        assert client.is_closed
        with pytest.raises(ConnectionLost):
            await client.call(glusterd.PORTBYBRICK, ARGS)


async def test_call_timeout_then_late_reply_is_tolerated(autojump_clock) -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    server = FakeServer(server_stream)
    async with client_over_stream(client_stream, "slow", call_timeout=2) as client:
        with pytest.raises(RpcTimeout, match="PORTBYBRICK to slow"):
            await client.call(glusterd.PORTBYBRICK, ARGS)
        await server.collect(1)
        await server_stream.send_all(port_reply(server.calls[0], 1))
        # The late reply is dropped; the connection keeps working.
        async with trio.open_nursery() as nursery:
            result = []

            async def call() -> None:
                result.append(await client.call(glusterd.PORTBYBRICK, ARGS))

            nursery.start_soon(call)
            await server.collect(2)
            await server_stream.send_all(port_reply(server.calls[1], 2))
        assert result[0].port == 2
        assert not client.is_closed


async def test_cancelled_call_abandons_its_xid(autojump_clock) -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    server = FakeServer(server_stream)
    async with client_over_stream(client_stream, "fake") as client:
        with trio.move_on_after(1):
            await client.call(glusterd.PORTBYBRICK, ARGS)
        await server.collect(1)
        await server_stream.send_all(port_reply(server.calls[0], 1))
        await trio.sleep(1)
        assert not client.is_closed


async def test_rpc_error_reply_raises() -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    server = FakeServer(server_stream)
    async with (
        client_over_stream(client_stream, "fake") as client,
        trio.open_nursery() as nursery,
    ):

        async def answer() -> None:
            await server.collect(1)
            await server_stream.send_all(reply_record(server.calls[0], accept_stat=1))

        nursery.start_soon(answer)
        with (
            trio.fail_after(5),
            pytest.raises(RpcNotAccepted, match="PROG_UNAVAIL"),
        ):
            await client.call(glusterd.PORTBYBRICK, ARGS)


async def test_tcp_connect_refused_names_address() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransportError, match=rf"127\.0\.0\.1:{port}.*refused"):
        async with open_rpc_client(TcpAddress("127.0.0.1", port)):
            pass


async def test_unresolvable_host() -> None:
    with pytest.raises(TransportError, match="cannot resolve"):
        async with open_rpc_client(TcpAddress("no-such-host.invalid", 24007)):
            pass


async def test_unix_socket_missing() -> None:
    path = os.path.join(tempfile.gettempdir(), "pygluster-no-such.socket")
    with pytest.raises(TransportError, match="glusterd running"):
        async with open_rpc_client(UnixAddress(path)):
            pass


async def test_connect_timeout(autojump_clock) -> None:
    # A listening socket whose backlog is full never completes a connect on
    # some kernels; simulate a hang instead by patching the connector.
    import pygluster.rpc.client as client_module

    async def hang(address):
        await trio.sleep_forever()

    original = client_module._connect
    client_module._connect = hang
    try:
        with pytest.raises(RpcTimeout, match="longer than 3 s"):
            async with open_rpc_client(TcpAddress("127.0.0.1", 1), connect_timeout=3):
                pass
    finally:
        client_module._connect = original


async def test_real_tcp_round_trip_over_ipv4_and_ipv6() -> None:
    families = [(socket.AF_INET, "127.0.0.1")]
    if socket.has_ipv6:
        families.append((socket.AF_INET6, "::1"))
    for family, host in families:
        listener = trio.socket.socket(family)
        try:
            await listener.bind((host, 0))
        except OSError as exc:
            if exc.errno != errno.EADDRNOTAVAIL:  # no ::1 in this sandbox
                raise
            listener.close()
            continue
        listener.listen()
        port = listener.getsockname()[1]

        async def serve(listener=listener) -> None:
            sock, _ = await listener.accept()
            stream = trio.SocketStream(sock)
            server = FakeServer(stream)
            await server.collect(1)
            await stream.send_all(port_reply(server.calls[0], 4242))
            await stream.aclose()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(serve)
            with trio.fail_after(5):
                async with open_rpc_client(TcpAddress(host, port)) as client:
                    reply = await client.call(glusterd.PORTBYBRICK, ARGS)
            assert reply.port == 4242
        listener.close()


async def test_silent_server_is_dropped_after_ping_timeout(autojump_clock) -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    async with client_over_stream(
        client_stream, "hung-brick", ping_timeout=5
    ) as client:
        start = trio.current_time()
        with pytest.raises(ConnectionLost, match="has not responded in the last 5"):
            await client.call(glusterd.PORTBYBRICK, ARGS)
        assert 5 <= trio.current_time() - start <= 7.5
    _ = server_stream


async def test_server_answering_pings_is_kept_while_a_call_waits(
    autojump_clock,
) -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    core = FakeServerCore()
    async with client_over_stream(
        client_stream, "slow-brick", ping_timeout=5
    ) as client:

        async def serve() -> None:
            slow_call = None
            while True:
                data = await server_stream.receive_some(65536)
                for xid, call, _ in core.receive(data):
                    if call.prog == glusterd.DUMP_PROGRAM.number and call.proc == 2:
                        await server_stream.send_all(
                            reply_record(
                                xid,
                                glusterd.GfCommonRsp(op_ret=0, op_errno=0, xdata={}),
                            )
                        )
                    else:
                        slow_call = xid
                if slow_call is not None and trio.current_time() > 30:
                    await server_stream.send_all(port_reply(slow_call, 7))
                    return

        async with trio.open_nursery() as nursery:
            nursery.start_soon(serve)
            reply = await client.call(glusterd.PORTBYBRICK, ARGS)
        assert reply.port == 7
        assert trio.current_time() > 30
        assert not client.is_closed
