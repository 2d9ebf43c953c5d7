"""pygluster.capture.pcap: classic pcap and pcapng in, TCP segments out.

Captures are built byte by byte here (both formats, both byte orders, every
link type the reader knows), plus the real capture in tests/fixtures/pcap.
Property: any bytes, random or a mutated real capture, give segments or a
PcapError, never another exception.
"""

from __future__ import annotations

import ipaddress
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygluster.capture.pcap import (
    ACK,
    FIN,
    LINKTYPE_EN10MB,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    PSH,
    SYN,
    PcapError,
    PcapReader,
    read_segments,
)
from pygluster.errors import GlusterError

FIXTURE = Path(__file__).parent / "fixtures" / "pcap" / "qemu-io-pyg_single.pcapng"


# --- builders (shared with test_decode) ---------------------------------------------


def tcp(
    sport: int,
    dport: int,
    seq: int,
    payload: bytes = b"",
    flags: int = ACK,
    ack: int = 0,
) -> bytes:
    """A TCP header (no options) followed by the payload."""
    return (
        struct.pack(">HHIIHHHH", sport, dport, seq, ack, (5 << 12) | flags, 65535, 0, 0)
        + payload
    )


def ipv4(src: str, dst: str, segment: bytes, *, frag: int = 0) -> bytes:
    header = struct.pack(
        ">BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(segment),
        1,
        frag,
        64,
        6,
        0,
        ipaddress.IPv4Address(src).packed,
        ipaddress.IPv4Address(dst).packed,
    )
    return header + segment


def ipv6(src: str, dst: str, segment: bytes, *, hop_by_hop: bool = False) -> bytes:
    next_header = 0 if hop_by_hop else 6
    extension = bytes([6, 0]) + bytes(6) if hop_by_hop else b""
    header = struct.pack(
        ">IHBB16s16s",
        6 << 28,
        len(extension) + len(segment),
        next_header,
        64,
        ipaddress.IPv6Address(src).packed,
        ipaddress.IPv6Address(dst).packed,
    )
    return header + extension + segment


def link(linktype: int, packet: bytes) -> bytes:
    """Wrap an IP packet in a link-layer header."""
    v6 = packet[0] >> 4 == 6
    ethertype = 0x86DD if v6 else 0x0800
    if linktype == LINKTYPE_EN10MB:
        return bytes(12) + struct.pack(">H", ethertype) + packet
    if linktype == LINKTYPE_LINUX_SLL:
        return struct.pack(">HHH8sH", 0, 772, 6, bytes(8), ethertype) + packet
    if linktype == LINKTYPE_LINUX_SLL2:
        return struct.pack(">HHIHBB8s", ethertype, 0, 1, 772, 0, 6, bytes(8)) + packet
    if linktype == LINKTYPE_NULL:
        return struct.pack("<I", 30 if v6 else 2) + packet
    if linktype == LINKTYPE_LOOP:
        return struct.pack(">I", 24 if v6 else 2) + packet
    return packet


def pcap(
    frames: list[tuple[float, bytes]],
    linktype: int = LINKTYPE_EN10MB,
    *,
    order: str = "<",
    nanos: bool = False,
) -> bytes:
    """A classic pcap file."""
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    out = [struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)]
    scale = 10**9 if nanos else 10**6
    for time, data in frames:
        seconds = int(time)
        fraction = round((time - seconds) * scale)
        out.append(struct.pack(order + "IIII", seconds, fraction, len(data), len(data)))
        out.append(data)
    return b"".join(out)


def _block(order: str, kind: int, body: bytes) -> bytes:
    body += bytes(-len(body) % 4)
    length = 12 + len(body)
    return (
        struct.pack(order + "II", kind, length)
        + body
        + struct.pack(order + "I", length)
    )


def pcapng(
    frames: list[tuple[int, float, bytes]],
    linktypes: list[int],
    *,
    order: str = "<",
    tsresol: int | None = None,
    simple: bool = False,
    obsolete: bool = False,
) -> bytes:
    """A pcapng file: one section, one IDB per link type, EPBs (or SPB/PB)."""
    out = [_block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1))]
    tick = 10**-6
    for linktype in linktypes:
        options = b""
        if tsresol is not None:
            options = struct.pack(order + "HHB3x", 9, 1, tsresol) + bytes(4)
            tick = 2.0 ** -(tsresol & 0x7F) if tsresol & 0x80 else 10.0**-tsresol
        out.append(
            _block(order, 1, struct.pack(order + "HHI", linktype, 0, 0) + options)
        )
    for interface, time, data in frames:
        if simple:
            out.append(_block(order, 3, struct.pack(order + "I", len(data)) + data))
            continue
        ticks = round(time / tick)
        if obsolete:
            head = struct.pack(
                order + "HHIIII",
                interface,
                0,
                ticks >> 32,
                ticks & 0xFFFFFFFF,
                len(data),
                len(data),
            )
            out.append(_block(order, 2, head + data))
        else:
            head = struct.pack(
                order + "IIIII",
                interface,
                ticks >> 32,
                ticks & 0xFFFFFFFF,
                len(data),
                len(data),
            )
            out.append(_block(order, 6, head + data))
    return b"".join(out)


# --- examples ---------------------------------------------------------------------

_LINKTYPES = [
    LINKTYPE_EN10MB,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_NULL,
    LINKTYPE_LOOP,
    LINKTYPE_RAW,
]


@pytest.mark.parametrize("linktype", _LINKTYPES)
@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("nanos", [False, True])
def test_classic_pcap_every_link_type(linktype: int, order: str, nanos: bool) -> None:
    frames = [
        (
            1700000000.25,
            link(
                linktype,
                ipv4(
                    "127.0.0.1", "127.0.0.2", tcp(40000, 24007, 7, b"hello", PSH | ACK)
                ),
            ),
        ),
        (
            1700000001.5,
            link(
                linktype, ipv6("::1", "fe80::2", tcp(40001, 49152, 2**32 - 1, b"", SYN))
            ),
        ),
    ]
    reader = PcapReader(pcap(frames, linktype, order=order, nanos=nanos))
    segments = list(reader.segments())
    assert reader.format == "pcap"
    assert [s.frame for s in segments] == [1, 2]
    first, second = segments
    assert first.source == "127.0.0.1:40000"
    assert first.destination == "127.0.0.2:24007"
    assert (first.seq, first.flags, first.payload) == (7, PSH | ACK, b"hello")
    assert first.time == pytest.approx(1700000000.25, abs=1e-6)
    assert second.source == "[::1]:40001"
    assert second.destination == "[fe80::2]:49152"
    assert (second.seq, second.flags, second.payload) == (2**32 - 1, SYN, b"")


@pytest.mark.parametrize("order", ["<", ">"])
def test_pcapng_interfaces_and_resolutions(order: str) -> None:
    packet = ipv4("10.0.0.1", "10.0.0.2", tcp(1, 2, 3, b"abc"))
    frames = [
        (0, 100.5, link(LINKTYPE_EN10MB, packet)),
        (1, 200.25, link(LINKTYPE_LINUX_SLL2, packet)),
    ]
    data = pcapng(
        frames, [LINKTYPE_EN10MB, LINKTYPE_LINUX_SLL2], order=order, tsresol=9
    )
    segments = list(read_segments(data))
    assert [s.payload for s in segments] == [b"abc", b"abc"]
    assert [s.time for s in segments] == pytest.approx([100.5, 200.25])
    binary = pcapng(frames[:1], [LINKTYPE_EN10MB], order=order, tsresol=0x80 | 10)
    assert next(read_segments(binary)).time == pytest.approx(100.5, abs=1e-3)


def test_pcapng_simple_and_obsolete_packet_blocks() -> None:
    packet = link(LINKTYPE_RAW, ipv4("1.2.3.4", "5.6.7.8", tcp(9, 10, 11, b"xy")))
    simple = pcapng([(0, 0.0, packet)], [LINKTYPE_RAW], simple=True)
    assert next(read_segments(simple)).payload == b"xy"
    old = pcapng([(0, 5.0, packet)], [LINKTYPE_RAW], obsolete=True)
    assert next(read_segments(old)).time == pytest.approx(5.0)


def test_non_tcp_fragments_and_vlan() -> None:
    udp = ipv4("1.1.1.1", "2.2.2.2", tcp(1, 2, 3, b"zz"))
    udp = udp[:9] + b"\x11" + udp[10:]  # protocol 17
    fragment = ipv4("1.1.1.1", "2.2.2.2", tcp(1, 2, 3, b"zz"), frag=0x2000)
    vlan = (
        bytes(12)
        + struct.pack(">HHH", 0x8100, 5, 0x0800)
        + ipv4("1.1.1.1", "2.2.2.2", tcp(1, 2, 3, b"v", FIN | ACK))
    )
    hop = link(LINKTYPE_EN10MB, ipv6("::1", "::2", tcp(5, 6, 7, b"h"), hop_by_hop=True))
    frames = [
        (0.0, link(LINKTYPE_EN10MB, udp)),
        (0.0, link(LINKTYPE_EN10MB, fragment)),
        (0.0, vlan),
        (0.0, hop),
        (0.0, b"\x00" * 5),
    ]
    reader = PcapReader(pcap(frames))
    segments = list(reader.segments())
    assert [(s.frame, s.payload) for s in segments] == [(3, b"v"), (4, b"h")]
    assert segments[0].flags == FIN | ACK
    assert reader.skipped == 3


def test_snap_length_is_reported_as_missing_bytes() -> None:
    packet = link(LINKTYPE_EN10MB, ipv4("1.1.1.1", "2.2.2.2", tcp(1, 2, 3, b"x" * 100)))
    segment = next(read_segments(pcap([(0.0, packet[:-40])])))
    assert len(segment.payload) == 60
    assert segment.missing == 40


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xa1\xb2",
        b"not a capture at all",
        pcap([])[:20],
        pcap([(0.0, b"abcd")])[:-2],
        pcapng([], [LINKTYPE_EN10MB])[:-3],
        pcapng([(3, 0.0, b"abcd")], [LINKTYPE_EN10MB]),  # undeclared interface
    ],
)
def test_broken_files_raise_pcap_error(data: bytes) -> None:
    with pytest.raises(PcapError):
        list(read_segments(data))


def test_pcap_error_is_a_gluster_value_error() -> None:
    assert issubclass(PcapError, GlusterError)
    assert issubclass(PcapError, ValueError)


def test_real_capture() -> None:
    reader = PcapReader(FIXTURE.read_bytes())
    segments = list(reader.segments())
    assert reader.format == "pcapng"
    assert reader.skipped == 0
    assert len(segments) == reader.frames_read > 50
    assert {s.dport for s in segments if s.flags & SYN and not s.flags & ACK} >= {24007}


# --- properties -------------------------------------------------------------------


def _read_all(data: bytes) -> None:
    try:
        for segment in read_segments(data):
            assert isinstance(segment.payload, bytes)
    except PcapError:
        pass


class TestPcapProperties:
    @given(st.binary(max_size=512))
    def test_random_bytes(self, data: bytes) -> None:
        _read_all(data)

    @given(
        st.sampled_from(
            [
                b"\xa1\xb2\xc3\xd4",
                b"\xd4\xc3\xb2\xa1",
                b"\x0a\x0d\x0d\x0a",
                b"\x4d\x3c\xb2\xa1",
            ]
        ),
        st.binary(max_size=512),
    )
    def test_random_bytes_after_a_magic(self, magic: bytes, data: bytes) -> None:
        _read_all(magic + data)

    @given(st.data())
    def test_mutated_real_capture(self, data: st.DataObject) -> None:
        capture = bytearray(FIXTURE.read_bytes())
        for _ in range(data.draw(st.integers(1, 8))):
            at = data.draw(st.integers(0, len(capture) - 1))
            capture[at] = data.draw(st.integers(0, 255))
        cut = data.draw(st.integers(0, len(capture)))
        _read_all(bytes(capture[:cut]))
