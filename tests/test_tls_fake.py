"""The TLS socket path of the RPC driver against an in-process TLS server
(tests/fakegluster.py): what a real brick cannot easily be made to do, such
as stop reading so that our TLS writes block part-way."""

from __future__ import annotations

import dataclasses
import os
import ssl
from typing import TYPE_CHECKING

import pytest
import trio

import pygluster
from pygluster.errors import TlsError
from pygluster.tls import TlsOptions
from tests.fakegluster import fake_gluster
from tests.tlsca import Authority

if TYPE_CHECKING:
    from pathlib import Path

MiB = 1024 * 1024
TLS_VOLFILE = {"transport.socket.ssl-enabled": "on"}


@pytest.fixture
def pki(tmp_path: Path) -> tuple[ssl.SSLContext, TlsOptions]:
    root = Authority("fake-root", tmp_path)
    server = root.issue("127.0.0.1", file_name="server", ips=("127.0.0.1",))
    client = root.issue("fake-client", file_name="client")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(server.cert, server.key)
    context.load_verify_locations(root.cert)
    context.verify_mode = ssl.CERT_REQUIRED
    options = TlsOptions(
        mgmt="on", cert=str(client.cert), key=str(client.key), ca=str(root.cert)
    )
    return context, options


async def test_large_requests_while_the_server_stops_reading(
    pki: tuple[ssl.SSLContext, TlsOptions],
) -> None:
    context, options = pki
    data = os.urandom(8 * MiB)
    image = {"img": bytes(8 * MiB)}
    async with (
        fake_gluster(files=image, client_options=TLS_VOLFILE, tls=context) as fake,
        pygluster.open_async(
            fake.uri("img"), "r+", tls=options, chunk_size=MiB, max_in_flight=8
        ) as dev,
    ):
        fake.reading = trio.Event()  # the server stops reading
        async with trio.open_nursery() as nursery:
            nursery.start_soon(dev.pwrite, data, 0)
            # Long enough for the socket buffers to fill: our SSL_write
            # reports SSLWantWriteError and must be retried whole.
            await trio.sleep(0.3)
            fake.reading.set()
        assert await dev.pread(len(data), 0) == data
    assert fake.files["img"].data == bytearray(data)


async def test_plain_brick_port_refuses_tls(
    pki: tuple[ssl.SSLContext, TlsOptions],
) -> None:
    context, options = pki
    # glusterd (the same port here) is TLS, the brick's volfile says TLS,
    # but the client is told not to use it for bricks: the server cuts the
    # first plain call off.
    async with fake_gluster(
        files={"img": b"x"}, client_options=TLS_VOLFILE, tls=context
    ) as fake:
        with pytest.raises(TlsError, match="requires TLS"):
            async with pygluster.open_async(
                fake.uri("img"),
                tls=dataclasses.replace(options, io="off"),
                connect_timeout=5,
            ):
                pass
