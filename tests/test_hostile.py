"""The public API against fake servers that misbehave (issue 11).

Each test stands for a row of the issue's table: what a hostile or broken
glusterd/brick did, and the pygluster error that must come out instead of
silent corruption, a builtin exception, a hang or unbounded memory.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pygluster
from pygluster import mgmt
from pygluster.errors import (
    FopError,
    GlusterError,
    MgmtError,
    RemoteProtocolError,
    VolfileError,
)
from pygluster.rpc.record import record_mark
from pygluster.xlators.client import DEFAULT_REQUEST_TIMEOUT
from tests.fakegluster import (
    BRICK_PATH,
    FakeCall,
    Hook,
    fake_gluster,
    iatt,
    read_rsp,
)

REPO = Path(__file__).resolve().parents[1]
IMAGE = bytes(range(256)) * 16 * 1024  # 4 MiB, every byte says where it is


def image_files() -> dict[str, bytes]:
    return {"img": IMAGE}


async def reads_all(uri: str, **kwargs: Any) -> bytes:
    async with pygluster.open_async(uri, **kwargs) as image:
        return await image.pread(len(IMAGE), 0)


def no_group(exc: BaseException) -> None:
    """Issue 11: only our own exception types reach the caller."""
    assert not isinstance(exc, BaseExceptionGroup), repr(exc)
    assert isinstance(exc, GlusterError), repr(exc)


# --- READ replies that do not fit the request -------------------------------------


def oversized_read(extra: int) -> Hook:
    async def hook(call: FakeCall) -> bytes | None:
        if call.name != "READ":
            return None
        size = call.args.size + extra
        filler = b"\xee" * size
        return call.reply(read_rsp(size, iatt(call.args.gfid, 0o100644)), filler)

    return hook


@pytest.mark.parametrize("extra", [1, 4096])
async def test_read_reply_larger_than_asked_is_refused(extra: int) -> None:
    async with fake_gluster(files=image_files()) as fake:
        fake.hook = oversized_read(extra)
        async with pygluster.open_async(fake.uri("img")) as image:
            buffer = bytearray(4096 + 16)
            view = memoryview(buffer)[:4096]
            with pytest.raises(RemoteProtocolError, match=BRICK_PATH) as info:
                await image.readinto(view, 0)
            assert "READ of 4096 bytes" in str(info.value)
            assert buffer[4096:] == bytes(16)  # nothing past the caller's buffer
            with pytest.raises(RemoteProtocolError):
                await image.pread(4096, 0)


async def test_split_read_never_lands_in_the_next_piece() -> None:
    """3 MiB in 1 MiB pieces; one piece's reply is 4096 bytes too long."""

    async def hook(call: FakeCall) -> bytes | None:
        if call.name == "READ" and call.args.offset == 1 << 20:
            return await oversized_read(4096)(call)
        return None

    async with fake_gluster(files=image_files()) as fake:
        fake.hook = hook
        async with pygluster.open_async(fake.uri("img")) as image:
            buffer = bytearray(3 << 20)
            with pytest.raises(RemoteProtocolError, match="brick"):
                await image.readinto(buffer, 0)
            assert b"\xee" * 64 not in buffer  # the filler landed nowhere
            mib = 1 << 20
            for piece in (0, 2):
                # A piece still arriving when the bad one failed the call was
                # cancelled part way: its own bytes so far, zeros after.
                got = bytes(buffer[piece * mib : (piece + 1) * mib])
                want = IMAGE[piece * mib : (piece + 1) * mib]
                same = next((i for i in range(mib) if got[i] != want[i]), mib)
                assert got[same:] == bytes(mib - same)


@pytest.mark.parametrize(
    ("op_ret", "size", "sent"),
    [(100, 100, 50), (100, 50, 100), (50, 100, 100), (100, 100, 150)],
)
async def test_read_reply_disagreeing_with_itself_is_refused(
    op_ret: int, size: int, sent: int
) -> None:
    async def hook(call: FakeCall) -> bytes | None:
        if call.name != "READ":
            return None
        result = read_rsp(size, iatt(call.args.gfid, 0o100644), op_ret=op_ret)
        return call.reply(result, b"\xee" * sent)

    async with fake_gluster(files=image_files()) as fake:
        fake.hook = hook
        async with pygluster.open_async(fake.uri("img")) as image:
            with pytest.raises(RemoteProtocolError, match="op_ret"):
                await image.pread(4096, 0)


def test_cp_fails_loudly_on_an_oversized_read(tmp_path: Path) -> None:
    with fake_in_thread(files=image_files()) as fake:
        fake.hook = oversized_read(4096)
        target = tmp_path / "copy"
        result = subprocess.run(
            [sys.executable, "-m", "pygluster.cli", "cp", fake.uri("img"), target],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 1, result.stderr
    assert "READ of" in result.stderr
    assert BRICK_PATH in result.stderr
    assert "Traceback" not in result.stderr


# --- volfile options and graph shapes ---------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("frame-timeout", "nan"),
        ("frame-timeout", "-1"),
        ("frame-timeout", "abc"),
        ("frame-timeout", "0"),
        ("ping-timeout", "-1"),
        ("ping-timeout", "nan"),
        ("ping-timeout", "abc"),
        ("ping-timeout", "inf"),
        ("ping-timeout", "99999"),
    ],
)
async def test_bad_timeout_options_are_volfile_errors(option: str, value: str) -> None:
    async with fake_gluster(
        files=image_files(), client_options={option: value}
    ) as fake:
        with pytest.raises(VolfileError) as info:
            await reads_all(fake.uri("img"))
    message = str(info.value)
    assert "fakevol-client-0" in message
    assert option in message
    assert value in message


async def test_good_timeout_options_are_taken() -> None:
    options = {"frame-timeout": "30", "ping-timeout": "1m"}
    async with fake_gluster(files=image_files(), client_options=options) as fake:
        opening = pygluster.open_async(fake.uri("img"))
        async with opening as image:
            client = image.graph.clients[0]
            assert (client.frame_timeout, client.ping_timeout) == (30.0, 60.0)


def chain_volfile(depth: int, kind: str) -> str:
    parts = [
        "volume c0\n  type protocol/client\n  option remote-host 127.0.0.1\n"
        "  option remote-port {port}\n"
        f"  option remote-subvolume {BRICK_PATH}\nend-volume\n"
    ]
    parts.extend(
        f"volume c{i}\n  type {kind}\n  subvolumes c{i - 1}\nend-volume\n"
        for i in range(1, depth)
    )
    return "".join(parts)


async def test_deep_pass_through_chain_opens() -> None:
    volfile = chain_volfile(3000, "performance/io-cache")
    async with fake_gluster(files=image_files(), volfile=volfile) as fake:
        assert await reads_all(fake.uri("img")) == IMAGE


async def test_deep_running_chain_is_a_volfile_error() -> None:
    volfile = chain_volfile(3000, "performance/write-behind")
    async with fake_gluster(files=image_files(), volfile=volfile) as fake:
        with pytest.raises(VolfileError, match="at most 64"):
            await reads_all(fake.uri("img"))


# --- ports ------------------------------------------------------------------------


@pytest.mark.parametrize("port", [105637, 65536, 0, -1])
async def test_portmap_port_out_of_range(port: int) -> None:
    async with fake_gluster(portmap_port=port) as fake:
        with pytest.raises((RemoteProtocolError, MgmtError)) as info:
            await mgmt.port_by_brick(
                "127.0.0.1", BRICK_PATH, glusterd_port=fake.port, call_timeout=5
            )
    assert str(port) in str(info.value) or isinstance(info.value, MgmtError)
    no_group(info.value)


# --- waits ------------------------------------------------------------------------


async def test_trickled_read_reply_counts_as_unresponsive(autojump_clock: Any) -> None:
    """The mark arrives, then the body a byte a second: ping-timeout applies."""

    async def hook(call: FakeCall) -> bytes | None:
        if call.name != "READ":
            return None
        record = call.reply()
        for index in range(len(record)):
            await call.send(record[index : index + 1])
            await trio.sleep(1)
        return b""

    async with fake_gluster(
        files=image_files(), client_options={"ping-timeout": "10"}
    ) as fake:
        fake.hook = hook
        async with pygluster.open_async(fake.uri("img")) as image:
            start = trio.current_time()
            with pytest.raises(FopError) as info:
                await image.pread(65536, 0)
            assert info.value.errno == errno.ENOTCONN
            assert trio.current_time() - start < 20


@pytest.mark.parametrize("ping_timeout", ["42", "0"])
async def test_unanswered_read_times_out_by_default(
    autojump_clock: Any, ping_timeout: str
) -> None:
    """PING is answered (or never sent), the READ never: the default limit."""

    async def hook(call: FakeCall) -> bytes | None:
        if call.name == "READ":
            await trio.sleep_forever()
        return None

    async with fake_gluster(
        files=image_files(), client_options={"ping-timeout": ping_timeout}
    ) as fake:
        fake.hook = hook
        async with pygluster.open_async(fake.uri("img")) as image:
            start = trio.current_time()
            with pytest.raises(FopError, match="no reply within") as info:
                await image.pread(4096, 0)
            waited = trio.current_time() - start
            assert info.value.errno == errno.ETIMEDOUT
            assert DEFAULT_REQUEST_TIMEOUT <= waited < DEFAULT_REQUEST_TIMEOUT + 30
            assert BRICK_PATH in str(info.value)


async def test_request_timeout_is_the_callers(autojump_clock: Any) -> None:
    async def hook(call: FakeCall) -> bytes | None:
        if call.name == "READ":
            await trio.sleep_forever()
        return None

    async with fake_gluster(files=image_files()) as fake:
        fake.hook = hook
        async with pygluster.open_async(fake.uri("img"), timeout=5) as image:
            start = trio.current_time()
            with pytest.raises(FopError, match="within 5 s"):
                await image.pread(4096, 0)
            assert trio.current_time() - start < 10


async def test_silent_brick_without_pings_is_bounded(autojump_clock: Any) -> None:
    """ping-timeout 0 and a brick that stops answering: still an error."""
    async with (
        fake_gluster(files=image_files(), client_options={"ping-timeout": "0"}) as fake,
        pygluster.open_async(fake.uri("img"), timeout=30) as image,
    ):

        async def silent(call: FakeCall) -> bytes | None:
            await trio.sleep_forever()

        fake.hook = silent
        with pytest.raises(FopError) as info:
            await image.pread(4096, 0)
        assert info.value.errno == errno.ETIMEDOUT
        fake.hook = None  # let the image close


async def test_reconnect_wakes_waiters_at_once(autojump_clock: Any) -> None:
    """The brick drops mid-WRITE (under write-behind) and is back at once:
    the next fops run as soon as the client has reconnected, not after the
    10 s reconnect grace."""
    dropped = False

    async def hook(call: FakeCall) -> bytes | None:
        nonlocal dropped
        if call.name == "WRITE" and not dropped:
            dropped = True
            await call.server.drop_connections()
            return b""
        return None

    async with fake_gluster(files=image_files()) as fake:
        fake.hook = hook
        async with pygluster.open_async(
            fake.uri("img"), "r+", write_behind=True
        ) as image:
            start = trio.current_time()
            await image.pwrite(b"A" * 4096, 0)  # acknowledged, then lost
            # Waits for the reconnect, then reads: well inside the grace.
            assert await image.pread(4096, 8192) == IMAGE[8192 : 8192 + 4096]
            assert trio.current_time() - start < 5
            with pytest.raises(FopError) as info:
                await image.flush()  # the lost write is reported
            assert info.value.errno == errno.ENOTCONN
            await image.pwrite(b"B" * 4096, 65536)
            await image.flush()
            assert trio.current_time() - start < 5
        assert fake.files["img"].data[65536 : 65536 + 4096] == b"B" * 4096


# --- fuzzing the brick's READ reply ----------------------------------------------


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    head=st.binary(max_size=200),
    tail=st.binary(max_size=64),
    truncate=st.integers(0, 200),
)
def test_any_read_reply_gives_a_value_or_our_error(
    head: bytes, tail: bytes, truncate: int
) -> None:
    """The READ results (and payload) replaced by arbitrary bytes, whole or
    a real reply cut anywhere and padded with junk."""

    async def hook(call: FakeCall) -> bytes | None:
        if call.name != "READ":
            return None
        real = call.reply()[4:]
        body = real[:28] + (head if head else real[28:][:truncate] + tail)
        return record_mark(len(body)) + body

    async def main() -> None:
        async with fake_gluster(files=image_files()) as fake:
            fake.hook = hook
            try:
                async with pygluster.open_async(fake.uri("img"), timeout=5) as image:
                    data = await image.pread(4096, 0)
                assert len(data) <= 4096
            except Exception as exc:
                no_group(exc)

    trio.run(main)


# --- memory -----------------------------------------------------------------------

_RSS_PROBE = textwrap.dedent(
    """
    import resource, socket, sys, threading, time
    import trio
    from pygluster.rpc import glusterd
    from pygluster.rpc.client import client_over_stream
    from pygluster.errors import GlusterError

    kind = sys.argv[1]

    def kib():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    ours, theirs = socket.socketpair()

    def server():
        theirs.recv(65536)  # the call
        try:
            if kind == "mark":
                theirs.sendall((0x80000000 | (255 << 20)).to_bytes(4, "big"))
                theirs.sendall(b"x" * 1000)
                time.sleep(3)
            else:
                piece = b"\\x00\\x00\\x00\\x01x" if kind == "tiny" else bytes(4)
                chunk = piece * 100_000
                for _ in range(80):  # 8 million fragments
                    theirs.sendall(chunk)
        except OSError:
            pass
        theirs.close()

    async def main():
        before = kib()
        threading.Thread(target=server, daemon=True).start()
        ours.setblocking(False)
        async with client_over_stream(ours, "probe", call_timeout=2) as client:
            try:
                await client.call(glusterd.PING, None)
            except GlusterError as exc:
                print("error:", type(exc).__name__, exc, file=sys.stderr)
        print(kib() - before)

    trio.run(main)
    """
)


@pytest.mark.parametrize(
    ("kind", "limit_mib"), [("mark", 16), ("tiny", 16), ("empty", 16)]
)
def test_peak_rss_follows_the_bytes_not_the_claims(kind: str, limit_mib: int) -> None:
    """A 255 MiB mark then silence; 8 million 1-byte or empty fragments."""
    result = subprocess.run(
        [sys.executable, "-c", _RSS_PROBE, kind],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    grown_kib = int(result.stdout.split()[-1])
    assert grown_kib < limit_mib * 1024, (grown_kib, result.stderr)
    if kind != "mark":
        assert "fragments" in result.stderr
    else:
        assert "RpcTimeout" in result.stderr


# --- a fake server in a thread, for the CLI in a subprocess -------------------------


class fake_in_thread:
    """Run :func:`fake_gluster` in a thread of its own (the CLI runs apart)."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self._token: trio.lowlevel.TrioToken | None = None
        self._stop: trio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)
        self.fake: Any = None

    def _main(self) -> None:
        async def run() -> None:
            self._stop = trio.Event()
            self._token = trio.lowlevel.current_trio_token()
            async with fake_gluster(**self.kwargs) as fake:
                self.fake = fake
                self._ready.set()
                await self._stop.wait()

        trio.run(run)

    def __enter__(self) -> Any:
        self._thread.start()
        assert self._ready.wait(30)
        return self.fake

    def __exit__(self, *exc: object) -> None:
        assert self._token is not None
        assert self._stop is not None
        trio.from_thread.run_sync(self._stop.set, trio_token=self._token)
        self._thread.join(30)


def test_sync_open_raises_our_errors() -> None:
    bad = fake_in_thread(files=image_files(), client_options={"ping-timeout": "x"})
    with bad as fake, pytest.raises(VolfileError):
        pygluster.open(fake.uri("img"))
    with fake_in_thread(files=image_files()) as fake:
        fake.hook = oversized_read(4096)
        with pygluster.open(fake.uri("img")) as image:
            with pytest.raises(RemoteProtocolError):
                image.pread(4096, 0)
            buffer = bytearray(4096)
            with pytest.raises(RemoteProtocolError):
                image.readinto(buffer, 0)


def test_volfile_graph_of_a_deep_chain_is_linear() -> None:
    """``pygluster volfile --graph`` on a 20 000-deep chain: linear text."""
    sizes = []
    for depth in (2000, 20000):
        volfile = chain_volfile(depth, "performance/io-cache")
        with fake_in_thread(volfile=volfile) as fake:
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pygluster.cli",
                    "volfile",
                    "--graph",
                    fake.uri(),
                ],
                capture_output=True,
                timeout=120,
                check=False,
            )
        assert result.returncode == 0, result.stderr
        sizes.append(len(result.stdout))
    assert sizes[1] < 11 * sizes[0]  # 10x the xlators: about 10x the text
