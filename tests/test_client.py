"""The trio driver: calls, out-of-order replies, cancellation, loss, timeouts."""

from __future__ import annotations

import dataclasses
import errno
import functools
import logging
import os
import socket
import tempfile
from typing import Any

import pytest
import trio
import trio.testing

from pygluster.errors import ConnectionLost, RpcNotAccepted, RpcTimeout, TransportError
from pygluster.rpc import fops, glusterd
from pygluster.rpc.client import (
    RpcClient,
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

    async def round_trip(self, client: RpcClient, port: int) -> int:
        """One more PORTBYBRICK from ``client``, answered with ``port``;
        return the port the client got back."""
        result = []

        async def call() -> None:
            result.append(await client.call(glusterd.PORTBYBRICK, ARGS))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(call)
            await self.collect(len(self.calls) + 1)
            await self.stream.send_all(port_reply(self.calls[-1], port))
        return result[0].port


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
        assert await server.round_trip(client, 2) == 2
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


# --- the socket path (a connected non-blocking socket, no trio Stream) --------


def leading(client: RpcClient) -> bool:
    """A caller reads the socket (functions: mypy keeps no narrowing)."""
    return client._leader is not None


def reader_waiting(client: RpcClient) -> bool:
    return client._reader_waiting


def socket_pair(sndbuf: int | None = None) -> tuple[socket.socket, trio.SocketStream]:
    """A client socket as open_rpc_client makes it, and the server's stream."""
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    if sndbuf is not None:
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, sndbuf)
    return ours, trio.SocketStream(trio.socket.from_stdlib_socket(theirs))


async def test_socket_path_out_of_order_replies_and_loss() -> None:
    ours, server_stream = socket_pair()
    server = FakeServer(server_stream)
    results: dict[int, int] = {}
    async with client_over_stream(ours, "sock") as client:

        async def one(i: int) -> None:
            results[i] = (await client.call(glusterd.PORTBYBRICK, ARGS)).port

        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                for i in range(3):
                    nursery.start_soon(one, i)
                await server.collect(3)
                for index in reversed(range(3)):
                    await server_stream.send_all(
                        port_reply(server.calls[index], 100 + index)
                    )
            assert sorted(results.values()) == [100, 101, 102]
            # The server goes away under a waiting call: it fails, naming us.
            errors: list[ConnectionLost] = []

            async def waiting() -> None:
                try:
                    await client.call(glusterd.PORTBYBRICK, ARGS)
                except ConnectionLost as exc:
                    errors.append(exc)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(waiting)
                await server.collect(4)
                await server_stream.aclose()
            assert len(errors) == 1
            assert "sock" in str(errors[0])
    assert ours.fileno() == -1  # closed on exit


async def test_socket_path_closed_at_once_does_not_trip_the_reader() -> None:
    # The reader task may first run after the socket is already closed.
    ours, server_stream = socket_pair()
    async with client_over_stream(ours, "brief"):
        pass
    assert ours.fileno() == -1
    await server_stream.aclose()


async def test_socket_path_leader_reads_for_others_then_hands_back() -> None:
    # The first call finds the reader idle and reads its own reply (module
    # notes, "Leader"); calls made meanwhile park, and the leader delivers
    # their replies too; afterwards the reader reads again (a server call
    # sent while idle is surfaced).
    ours, server_stream = socket_pair()
    server = FakeServer(server_stream)
    results: dict[int, int] = {}
    async with client_over_stream(ours, "lead") as client:
        await trio.testing.wait_all_tasks_blocked()
        assert reader_waiting(client)  # idle: the reader is on the socket

        async def one(i: int) -> None:
            results[i] = (await client.call(glusterd.PORTBYBRICK, ARGS)).port

        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(one, 0)
                await server.collect(1)
                await trio.testing.wait_all_tasks_blocked()
                assert leading(client)
                assert not reader_waiting(client)
                nursery.start_soon(one, 1)
                nursery.start_soon(one, 2)
                await server.collect(3)
                # The followers' replies first, the leader's last.
                for index in (2, 1, 0):
                    await server_stream.send_all(
                        port_reply(server.calls[index], 100 + index)
                    )
            # (1 and 2 may go out in either order.)
            assert results[0] == 100
            assert sorted(results.values()) == [100, 101, 102]
            assert not leading(client)
            await server_stream.send_all(server_call_record(1, 52743234, 1, 1))
            call = await client.server_calls.receive()
            assert call.prog == 52743234
            await trio.testing.wait_all_tasks_blocked()
            assert reader_waiting(client)
            assert await server.round_trip(client, 7) == 7
    await server_stream.aclose()


async def test_socket_path_leader_whose_reply_the_reader_took_returns() -> None:
    # The reader can be mid-receive (woken by data that came just before)
    # when a caller takes the socket: it may then read the leader's reply
    # itself. The leader, waiting on the socket for data that never comes
    # again, must still return (its waiter's finish() wakes it). Before, two
    # replicate writers in one process stopped dead on this.
    ours, server_stream = socket_pair()
    server = FakeServer(server_stream)
    async with client_over_stream(ours, "race") as client:
        got: list[int] = []

        async def leader() -> None:
            got.append((await client.call(glusterd.PORTBYBRICK, ARGS)).port)

        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(leader)
                await server.collect(1)
                await trio.testing.wait_all_tasks_blocked()
                assert leading(client)
                # Written and received with no checkpoint between: the
                # leader's wait_readable never sees this data.
                os.write(server_stream.socket.fileno(), port_reply(server.calls[0], 9))
                assert client._sock is not None
                client._receive(client._sock)
            assert got == [9]
            assert not leading(client)
            assert await server.round_trip(client, 3) == 3
    await server_stream.aclose()


async def test_socket_path_cancelled_leader_hands_the_socket_back() -> None:
    ours, server_stream = socket_pair()
    server = FakeServer(server_stream)
    got: list[int] = []
    async with client_over_stream(ours, "lead") as client:

        async def follower() -> None:
            got.append((await client.call(glusterd.PORTBYBRICK, ARGS)).port)

        with trio.fail_after(5):
            async with trio.open_nursery() as outer:
                leader_scope = trio.CancelScope()

                async def leader() -> None:
                    with leader_scope:
                        await client.call(glusterd.PORTBYBRICK, ARGS)

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(leader)
                    await server.collect(1)
                    await trio.testing.wait_all_tasks_blocked()
                    assert leading(client)
                    outer.start_soon(follower)
                    await server.collect(2)
                    leader_scope.cancel()
                assert not leading(client)
                # The leader's late reply is dropped; the follower's arrives
                # through the reader, which took the socket back.
                await server_stream.send_all(port_reply(server.calls[0], 1))
                await server_stream.send_all(port_reply(server.calls[1], 2))
            assert got == [2]
            assert not client.is_closed
    await server_stream.aclose()


async def test_socket_path_timeout_sweep_then_late_reply() -> None:
    ours, server_stream = socket_pair()
    server = FakeServer(server_stream)
    async with client_over_stream(ours, "slow", call_timeout=0.2) as client:
        with trio.fail_after(5):
            start = trio.current_time()
            with pytest.raises(RpcTimeout, match="PORTBYBRICK to slow"):
                await client.call(glusterd.PORTBYBRICK, ARGS)
            # Failed by the periodic sweep, never before the deadline.
            assert trio.current_time() - start >= 0.2
            await server.collect(1)
            await server_stream.send_all(port_reply(server.calls[0], 1))
            assert await server.round_trip(client, 2) == 2
            assert not client.is_closed
    await server_stream.aclose()


async def test_socket_path_large_payload_is_sent_whole_and_in_order() -> None:
    """A record larger than the socket buffer goes out in pieces while other
    calls wait their turn: the server still sees whole records, in order."""
    ours, server_stream = socket_pair(sndbuf=8192)
    payload = os.urandom(1 << 20)
    args = fops.GfxWriteReq(
        gfid=b"\1" * 16, fd=1, offset=0, size=len(payload), flag=0, xdata=None
    )
    core = FakeServerCore()
    seen: list[tuple[int, int, bytes]] = []
    async with client_over_stream(ours, "big") as client:

        async def serve() -> None:
            while len(seen) < 2:
                await trio.sleep(0.001)  # a slow reader keeps the socket full
                data = await server_stream.receive_some(4096)
                for xid, body, raw in core.receive(data):
                    seen.append((xid, body.proc, bytes(raw)))
            for xid, proc, _ in seen:
                if proc == glusterd.PORTBYBRICK.number:
                    await server_stream.send_all(port_reply(xid, 7))

        with trio.fail_after(20):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(serve)
                nursery.start_soon(
                    functools.partial(
                        client.call_reply, fops.WRITE, args, payload=payload
                    )
                )
                await trio.sleep(0.01)
                assert (await client.call(glusterd.PORTBYBRICK, ARGS)).port == 7
                nursery.cancel_scope.cancel()  # nobody answers the WRITE
    assert [proc for _, proc, _ in seen] == [
        fops.WRITE.number,
        glusterd.PORTBYBRICK.number,
    ]
    assert seen[0][2].endswith(payload)
    await server_stream.aclose()


async def test_socket_path_cancel_mid_record_tears_the_connection_down() -> None:
    ours, server_stream = socket_pair(sndbuf=8192)
    payload = bytes(1 << 20)
    args = fops.GfxWriteReq(
        gfid=b"\1" * 16, fd=1, offset=0, size=len(payload), flag=0, xdata=None
    )
    async with client_over_stream(ours, "torn") as client:
        with trio.move_on_after(0.2):
            await client.call_reply(fops.WRITE, args, payload=payload)  # nobody reads
        assert client.is_closed
        assert "cancelled mid-record" in str(client.closed_reason)
        with pytest.raises(ConnectionLost):
            await client.call(glusterd.PORTBYBRICK, ARGS)
    await server_stream.aclose()


async def test_undrained_server_calls_are_dropped_with_one_warning(caplog) -> None:
    """Brick callbacks nobody reads (lock-contention notices) overflow the
    backlog: one warning per connection, the rest at debug level."""
    client_stream, server_stream = trio.testing.memory_stream_pair()
    caplog.set_level(logging.DEBUG, logger="pygluster.rpc")
    async with client_over_stream(client_stream, "chatty") as client:
        for xid in range(80):
            await server_stream.send_all(server_call_record(xid, 52743234, 1, 1))
        with trio.fail_after(5):
            await trio.testing.wait_all_tasks_blocked()
        assert client._dropped_server_calls == 80 - 64
    drops = [r for r in caplog.records if "dropped server call" in r.getMessage()]
    assert [r.levelno for r in drops] == [logging.WARNING] + [logging.DEBUG] * 15


def read_reply(xid: int, payload: bytes) -> bytes:
    fields: dict[str, Any] = {
        f.name: (b"\0" * 16 if f.name == "ia_gfid" else 0)
        for f in dataclasses.fields(fops.GfxIattx)
    }
    stat = fops.GfxIattx(**fields)
    result = fops.GfxReadRsp(
        op_ret=len(payload), op_errno=0, stat=stat, size=len(payload), xdata=None
    )
    return reply_record(xid, result, payload=payload)


READ_ARGS = fops.GfxReadReq(
    gfid=b"\1" * 16, fd=1, offset=0, size=1 << 20, flag=0, xdata=None
)


async def test_socket_path_read_lands_in_the_callers_buffer() -> None:
    ours, server_stream = socket_pair()
    server = FakeServer(server_stream)
    payload = os.urandom(1 << 20)
    buffer = bytearray(1 << 20)
    async with client_over_stream(ours, "reader") as client:
        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:

                async def serve() -> None:
                    await server.collect(1)
                    wire = read_reply(server.calls[0], payload)
                    for at in range(0, len(wire), 100_000):
                        await server_stream.send_all(wire[at : at + 100_000])
                        await trio.sleep(0.001)

                nursery.start_soon(serve)
                reply = await client.call_reply(
                    fops.READ, READ_ARGS, into=memoryview(buffer)
                )
        assert reply.payload.obj is buffer  # received in place, not copied
        assert buffer == payload
    await server_stream.aclose()


async def test_socket_path_cancelled_read_never_writes_the_buffer_again() -> None:
    ours, server_stream = socket_pair()
    server = FakeServer(server_stream)
    buffer = bytearray(1 << 20)
    async with client_over_stream(ours, "reader") as client:
        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(server.collect, 1)
                with trio.move_on_after(0.2):
                    nursery.start_soon(
                        functools.partial(
                            client.call_reply,
                            fops.READ,
                            READ_ARGS,
                            into=memoryview(buffer),
                        )
                    )
                    await trio.sleep(0.05)
                    wire = read_reply(server.calls[0], b"\xee" * (1 << 20))
                    await server_stream.send_all(wire[:300_000])
                    await trio.sleep(0.05)
                    nursery.cancel_scope.cancel()  # the caller gives up
            written = buffer.count(0xEE)
            assert 0 < written < 1 << 20  # part of it was received in place
            await server_stream.send_all(wire[300_000:])
            # The connection goes on; the rest of that reply went elsewhere.
            assert await server.round_trip(client, 9) == 9
            assert buffer.count(0xEE) == written
            assert not client.is_closed
    await server_stream.aclose()


async def test_stream_path_read_with_a_buffer_completes() -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    server = FakeServer(server_stream)
    payload = os.urandom(1 << 20)
    buffer = bytearray(1 << 20)
    async with client_over_stream(client_stream, "stream") as client:
        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:

                async def serve() -> None:
                    await server.collect(1)
                    wire = read_reply(server.calls[0], payload)
                    for at in range(0, len(wire), 70_000):
                        await server_stream.send_all(wire[at : at + 70_000])

                nursery.start_soon(serve)
                reply = await client.call_reply(
                    fops.READ, READ_ARGS, into=memoryview(buffer)
                )
            assert bytes(reply.payload) == payload
            # And the connection goes on.
            assert await server.round_trip(client, 3) == 3
