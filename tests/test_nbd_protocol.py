"""The NBD protocol core (pygluster.nbd.protocol) byte for byte, without I/O.

The live tests (tests/integration/test_nbd_live.py) prove qemu, nbdinfo and
nbdcopy agree; these pin down each option, each refusal, and that garbage
from a client is an NbdProtocolError, never a stray exception.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pygluster.errors import NbdProtocolError
from pygluster.nbd import protocol as p
from pygluster.nbd.protocol import (
    NEED_DATA,
    Closed,
    Cmd,
    CmdFlag,
    Errno,
    Export,
    Extent,
    NbdServerConnection,
    Negotiated,
    Request,
    TransmissionFlag,
)

SIZE = 1 << 20
EXPORT = Export(
    name="disk.img",
    size=SIZE,
    flags=TransmissionFlag.SEND_FLUSH | TransmissionFlag.SEND_TRIM,
    description="a test export",
)
FLAGS = p.FLAG_FIXED_NEWSTYLE | p.FLAG_NO_ZEROES


def option(code: int, data: bytes = b"") -> bytes:
    return struct.pack(">QII", p.IHAVEOPT, code, len(data)) + data


def name_block(name: str) -> bytes:
    raw = name.encode()
    return struct.pack(">I", len(raw)) + raw


def go(name: str = "disk.img", infos: tuple[int, ...] = ()) -> bytes:
    data = name_block(name) + struct.pack(">H", len(infos))
    data += b"".join(struct.pack(">H", i) for i in infos)
    return option(p.Option.GO, data)


def meta(code: int, name: str, *queries: str) -> bytes:
    data = name_block(name) + struct.pack(">I", len(queries))
    data += b"".join(name_block(q) for q in queries)
    return option(code, data)


def replies(data: bytes) -> list[tuple[int, int, bytes]]:
    """(option, reply type, data) of each option reply in ``data``."""
    out = []
    while data:
        magic, opt, kind, length = struct.unpack_from(">QIII", data)
        assert magic == p.OPTION_REPLY_MAGIC
        out.append((opt, kind, data[20 : 20 + length]))
        data = data[20 + length :]
    return out


def events(conn: NbdServerConnection, data: bytes) -> list[object]:
    conn.receive_data(data)
    out: list[object] = []
    while True:
        event = conn.next_event()
        if event is NEED_DATA:
            return out
        out.append(event)
        if isinstance(event, Closed):
            return out


def negotiated(
    structured: bool = True, meta_context: bool = True
) -> NbdServerConnection:
    conn = NbdServerConnection(EXPORT)
    data = struct.pack(">I", FLAGS)
    if structured:
        data += option(p.Option.STRUCTURED_REPLY)
    if meta_context:
        data += meta(p.Option.SET_META_CONTEXT, "disk.img", p.BASE_ALLOCATION)
    got = events(conn, data + go())
    assert isinstance(got[-1], Negotiated)
    conn.data_to_send()
    return conn


def request(
    cmd: int, offset: int = 0, length: int = 0, flags: int = 0, cookie: int = 7
) -> bytes:
    return p.request_header.pack(p.REQUEST_MAGIC, flags, cmd, cookie, offset, length)


# --- handshake ---------------------------------------------------------------------


def test_greeting_is_fixed_newstyle_without_zeroes() -> None:
    greeting = NbdServerConnection(EXPORT).greeting()
    assert greeting == struct.pack(">QQH", p.NBDMAGIC, p.IHAVEOPT, 3)


def test_go_answers_export_and_block_size_then_starts() -> None:
    conn = NbdServerConnection(EXPORT)
    got = events(conn, struct.pack(">I", FLAGS) + go(infos=(p.Info.NAME,)))
    assert got == [Negotiated(structured=False, base_allocation=False)]
    answered = replies(conn.data_to_send())
    kinds = [(kind, data[:2]) for _, kind, data in answered]
    assert kinds == [
        (p.Reply.INFO, b"\0\0"),  # NBD_INFO_EXPORT
        (p.Reply.INFO, b"\0\1"),  # NBD_INFO_NAME, asked for
        (p.Reply.INFO, b"\0\3"),  # NBD_INFO_BLOCK_SIZE
        (p.Reply.ACK, b""),
    ]
    _, size, flags = struct.unpack(">HQH", answered[0][2])
    assert size == SIZE
    assert flags == int(EXPORT.flags | TransmissionFlag.HAS_FLAGS)
    assert struct.unpack(">HIII", answered[2][2])[1:] == (1, 4096, 32 << 20)
    assert conn.in_transmission


def test_default_export_name_is_accepted_and_unknown_is_err_unknown() -> None:
    conn = NbdServerConnection(EXPORT)
    got = events(conn, struct.pack(">I", FLAGS) + go("nope") + go(""))
    assert isinstance(got[-1], Negotiated)
    answered = replies(conn.data_to_send())
    assert answered[0][1] == p.Reply.ERR_UNKNOWN
    assert answered[-1][1] == p.Reply.ACK


def test_info_does_not_start_transmission() -> None:
    conn = NbdServerConnection(EXPORT)
    data = name_block("disk.img") + struct.pack(">H", 0)
    assert events(conn, struct.pack(">I", FLAGS) + option(p.Option.INFO, data)) == []
    assert not conn.in_transmission
    assert replies(conn.data_to_send())[-1][1] == p.Reply.ACK


def test_list_abort_and_unknown_options() -> None:
    conn = NbdServerConnection(EXPORT)
    got = events(
        conn,
        struct.pack(">I", FLAGS)
        + option(p.Option.LIST)
        + option(99, b"xyz")
        + option(p.Option.STARTTLS)
        + option(p.Option.ABORT),
    )
    assert isinstance(got[-1], Closed)
    answered = replies(conn.data_to_send())
    server = answered[0]
    assert server[1] == p.Reply.SERVER
    assert server[2] == name_block("disk.img") + b"a test export"
    assert [kind for _, kind, _ in answered[1:]] == [
        p.Reply.ACK,
        p.Reply.ERR_UNSUP,
        p.Reply.ERR_POLICY,  # no TLS here
        p.Reply.ACK,  # ABORT is acknowledged, then the connection ends
    ]


def test_meta_contexts_list_and_set() -> None:
    conn = NbdServerConnection(EXPORT)
    data = struct.pack(">I", FLAGS)
    data += meta(p.Option.SET_META_CONTEXT, "disk.img", p.BASE_ALLOCATION)  # too early
    data += option(p.Option.STRUCTURED_REPLY)
    data += meta(p.Option.LIST_META_CONTEXT, "disk.img")
    data += meta(p.Option.LIST_META_CONTEXT, "disk.img", "qemu:dirty-bitmap:x")
    data += meta(p.Option.SET_META_CONTEXT, "disk.img", "base:allocation")
    got = events(conn, data + go())
    assert got == [Negotiated(structured=True, base_allocation=True)]
    answered = replies(conn.data_to_send())
    kinds = [kind for _, kind, _ in answered]
    assert kinds[:2] == [p.Reply.ERR_INVALID, p.Reply.ACK]  # set needs structured
    assert kinds[2:4] == [p.Reply.META_CONTEXT, p.Reply.ACK]  # list: all of ours
    assert kinds[4:5] == [p.Reply.ACK]  # nothing matches the dirty bitmap
    assert answered[5][2] == struct.pack(">I", 1) + b"base:allocation"


def test_export_name_option_old_style_reply() -> None:
    conn = NbdServerConnection(EXPORT)
    got = events(
        conn, struct.pack(">I", p.FLAG_FIXED_NEWSTYLE) + option(1, b"disk.img")
    )
    assert got == [Negotiated(structured=False, base_allocation=False)]
    out = conn.data_to_send()
    assert out[:10] == struct.pack(">QH", SIZE, int(EXPORT.flags | 1))
    assert out[10:] == bytes(124)  # the client did not ask for no-zeroes


def test_export_name_unknown_disconnects() -> None:
    conn = NbdServerConnection(EXPORT)
    with pytest.raises(NbdProtocolError, match="no export named"):
        events(conn, struct.pack(">I", FLAGS) + option(1, b"other"))


def test_a_too_long_option_is_refused_and_the_handshake_goes_on() -> None:
    conn = NbdServerConnection(EXPORT)
    big = option(p.Option.LIST, bytes(p.MAX_OPTION_LENGTH + 1))
    got = events(conn, struct.pack(">I", FLAGS) + big[:1000])
    assert got == []
    got = events(conn, big[1000:] + go())
    assert isinstance(got[-1], Negotiated)
    assert replies(conn.data_to_send())[0][1] == p.Reply.ERR_TOO_BIG


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (struct.pack(">I", 0), "fixed newstyle"),
        (struct.pack(">I", 0x10 | 1), "unknown client flags"),
        (struct.pack(">I", FLAGS) + b"NOTMAGIC" + bytes(8), "option magic"),
        (
            struct.pack(">I", FLAGS) + struct.pack(">QII", p.IHAVEOPT, 3, 1 << 30),
            "bytes",
        ),
    ],
)
def test_handshake_garbage_is_a_protocol_error(data: bytes, match: str) -> None:
    with pytest.raises(NbdProtocolError, match=match):
        events(NbdServerConnection(EXPORT), data)


# --- transmission --------------------------------------------------------------------


def test_requests_decode_with_write_data_split_anywhere() -> None:
    conn = negotiated()
    wire = request(Cmd.WRITE, 4096, 5, flags=CmdFlag.FUA, cookie=1) + b"hello"
    wire += request(Cmd.READ, 0, 512, cookie=2) + request(Cmd.FLUSH, cookie=3)
    got: list[object] = []
    for index in range(len(wire)):  # one byte at a time
        got += events(conn, wire[index : index + 1])
    assert got == [
        Request(1, Cmd.WRITE, CmdFlag.FUA, 4096, 5, b"hello"),
        Request(2, Cmd.READ, CmdFlag(0), 0, 512),
        Request(3, Cmd.FLUSH, CmdFlag(0), 0, 0),
    ]
    assert events(conn, request(Cmd.DISC)) == [
        Closed("the client disconnected (NBD_CMD_DISC)")
    ]


@pytest.mark.parametrize(
    ("wire", "error"),
    [
        (request(Cmd.READ, SIZE - 10, 20), Errno.EINVAL),  # past the end
        (request(Cmd.WRITE, SIZE, 1) + b"x", Errno.ENOSPC),
        (request(Cmd.READ, 0, 64, flags=CmdFlag.FUA), Errno.EINVAL),  # bad flag
        (request(Cmd.FLUSH, 0, 1), Errno.EINVAL),
        (request(Cmd.BLOCK_STATUS, 0, 0), Errno.EINVAL),
        (request(Cmd.READ, 0, (32 << 20) + 1), Errno.EOVERFLOW),
        (request(42, 0, 0), Errno.EINVAL),  # unknown command
    ],
)
def test_bad_requests_carry_their_error(wire: bytes, error: Errno) -> None:
    conn = negotiated()
    (got,) = events(conn, wire)
    assert isinstance(got, Request)
    assert got.error == error


def test_writes_to_a_read_only_export_are_eperm() -> None:
    export = Export("ro", SIZE, TransmissionFlag.READ_ONLY)
    conn = NbdServerConnection(export)
    events(conn, struct.pack(">I", FLAGS) + go("ro"))
    (got,) = events(conn, request(Cmd.WRITE, 0, 3) + b"abc")
    assert isinstance(got, Request)
    assert got.error == Errno.EPERM


def test_block_status_without_the_context_is_einval() -> None:
    conn = negotiated(meta_context=False)
    (got,) = events(conn, request(Cmd.BLOCK_STATUS, 0, 4096))
    assert isinstance(got, Request)
    assert got.error == Errno.EINVAL


def test_an_oversized_write_disconnects() -> None:
    with pytest.raises(NbdProtocolError, match="WRITE of"):
        events(negotiated(), request(Cmd.WRITE, 0, (32 << 20) + 1))


def test_bad_request_magic_disconnects() -> None:
    with pytest.raises(NbdProtocolError, match="request magic"):
        events(negotiated(), bytes(28))


# --- replies --------------------------------------------------------------------------


def test_simple_replies() -> None:
    conn = negotiated(structured=False, meta_context=False)
    assert conn.simple_reply(9) == struct.pack(">IIQ", p.SIMPLE_REPLY_MAGIC, 0, 9)
    assert conn.error_reply(9, Errno.EIO) == struct.pack(
        ">IIQ", p.SIMPLE_REPLY_MAGIC, 5, 9
    )
    assert conn.read_reply(9, 0, b"abc") == [conn.simple_reply(9), b"abc"]


def test_structured_read_data_hole_and_error_chunks() -> None:
    conn = negotiated()
    header, data = conn.read_reply(5, 4096, b"xyz")
    assert header == struct.pack(">IHHQIQ", p.STRUCTURED_REPLY_MAGIC, 1, 1, 5, 11, 4096)
    assert data == b"xyz"
    (hole,) = conn.read_reply(5, 8192, bytes(4096))
    assert hole == struct.pack(
        ">IHHQIQI", p.STRUCTURED_REPLY_MAGIC, 1, 2, 5, 12, 8192, 4096
    )
    error = conn.error_reply(5, Errno.ENOSPC, "full")
    assert (
        error
        == struct.pack(
            ">IHHQIIH", p.STRUCTURED_REPLY_MAGIC, 1, (1 << 15) + 1, 5, 10, 28, 4
        )
        + b"full"
    )
    assert conn.simple_reply(5) == struct.pack(
        ">IHHQI", p.STRUCTURED_REPLY_MAGIC, 1, 0, 5, 0
    )


def test_block_status_descriptors_fit_u32() -> None:
    conn = negotiated()
    reply = conn.block_status_reply(3, [Extent(4096, False), Extent(5 << 30, True)])
    body = reply[20:]
    context, *pairs = struct.unpack(f">I{(len(body) - 4) // 4}I", body)
    assert context == 1
    lengths = pairs[0::2]
    assert lengths[0] == 4096
    assert sum(lengths[1:]) == 5 << 30
    assert all(n < 1 << 32 for n in lengths)
    assert pairs[1::2] == [0] + [3] * (len(lengths) - 1)


# --- fuzz ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512), st.integers(min_value=1, max_value=64))
def test_garbage_handshake_gives_events_or_our_error(data: bytes, step: int) -> None:
    conn = NbdServerConnection(EXPORT)
    try:
        for index in range(0, len(data), step):
            events(conn, data[index : index + step])
            conn.data_to_send()
    except NbdProtocolError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=8), st.binary(max_size=256))
def test_garbage_after_negotiation_gives_requests_or_our_error(
    headers: list[bytes], tail: bytes
) -> None:
    conn = negotiated()
    wire = b"".join(
        p.request_header.pack(p.REQUEST_MAGIC, 0, h[0] % 9 if h else 0, 1, 0, len(h))
        + (h if h and h[0] % 9 == Cmd.WRITE else b"")
        for h in headers
    )
    try:
        for event in events(conn, wire + tail):
            assert isinstance(event, Request | Closed)
    except NbdProtocolError:
        pass


@given(
    st.sampled_from(list(p.Option)),
    st.binary(max_size=300),
)
def test_any_option_payload_is_answered_or_refused(code: int, data: bytes) -> None:
    conn = NbdServerConnection(EXPORT)
    try:
        events(conn, struct.pack(">I", FLAGS) + option(code, data))
    except NbdProtocolError:
        return
    assert conn.data_to_send() or code == p.Option.EXPORT_NAME
