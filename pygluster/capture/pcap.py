"""Packet capture files in, TCP segments out: classic pcap and pcapng, stdlib only.

A pure reader (no trio, no scapy, ``struct`` only) for the captures tshark,
dumpcap and tcpdump write: classic pcap in both byte orders with micro- or
nanosecond timestamps, and pcapng (section header, interface description,
enhanced, simple and obsolete packet blocks; several interfaces and sections,
each with its own byte order and timestamp resolution). Frames of the link
types a gluster capture comes in (Ethernet, Linux cooked v1/v2, BSD loopback,
raw IP) are unwrapped down to IPv4/IPv6 and TCP; everything else is skipped.

Errors: a file that is not a capture, or whose block/record structure is
broken, raises :class:`PcapError` at the point where the damage is found; the
segments before it have already been produced. A *packet* that cannot be
parsed (a truncated IP header, a fragment, a non-TCP protocol) is not an
error: it is counted in :attr:`PcapReader.skipped` and the reader goes on,
as tshark does.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import struct
from typing import TYPE_CHECKING

from pygluster.errors import PcapError

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "LINKTYPE_EN10MB",
    "LINKTYPE_LINUX_SLL",
    "LINKTYPE_LINUX_SLL2",
    "LINKTYPE_LOOP",
    "LINKTYPE_NULL",
    "LINKTYPE_RAW",
    "Frame",
    "PcapError",
    "PcapReader",
    "TcpSegment",
    "parse_frame",
    "read_segments",
]


# Link-layer header types (tcpdump.org/linktypes.html).
LINKTYPE_NULL = 0  # BSD loopback: 4-byte address family, host byte order
LINKTYPE_EN10MB = 1  # Ethernet
LINKTYPE_RAW = 101  # raw IPv4/IPv6
LINKTYPE_LOOP = 108  # OpenBSD loopback: address family, network byte order
LINKTYPE_LINUX_SLL = 113  # Linux cooked capture v1 (tcpdump -i any)
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276  # Linux cooked capture v2 (tshark -i any)
# DLT_RAW's historical numbers on some BSDs; libpcap maps them to 101.
_RAW_ALIASES = frozenset({12, 14, LINKTYPE_RAW})

_ETHERTYPE_IPV4 = 0x0800
_ETHERTYPE_IPV6 = 0x86DD
_ETHERTYPE_VLAN = frozenset({0x8100, 0x88A8, 0x9100})
# BSD AF_INET6 differs between systems (Linux 10, BSD 24, FreeBSD 28, macOS 30).
_AF_INET = 2
_AF_INET6 = frozenset({10, 24, 28, 30})

_IPPROTO_TCP = 6
# IPv6 extension headers that are skipped to reach TCP (hop-by-hop, routing,
# destination options); fragments (44) are not reassembled.
_IPV6_EXTENSIONS = frozenset({0, 43, 60})
_IPV6_FRAGMENT = 44

#: TCP flag bits (RFC 9293).
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

# Classic pcap: magic numbers as read big-endian.
_PCAP_USEC = 0xA1B2C3D4
_PCAP_NSEC = 0xA1B23C4D
_PCAP_USEC_SWAPPED = 0xD4C3B2A1
_PCAP_NSEC_SWAPPED = 0x4D3CB2A1
# pcapng block types.
_SHB = 0x0A0D0D0A
_IDB = 0x00000001
_PB = 0x00000002  # obsolete Packet Block
_SPB = 0x00000003
_EPB = 0x00000006
_BYTE_ORDER_MAGIC = 0x1A2B3C4D
_OPT_IF_TSRESOL = 9
_OPT_IF_TSOFFSET = 14

#: Refuse frames claiming more than this many captured bytes (a corrupt length
#: field must not make us slice gigabytes); tshark's own limit is 256 KiB for
#: most link types, jumbo loopback frames stay well below 1 MiB.
MAX_FRAME_SIZE = 16 * 1024 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class Frame:
    """One captured link-layer frame.

    Attributes:
        number: 1-based frame number in the file (tshark's ``frame.number``).
        time: capture time, seconds since the epoch.
        linktype: the LINKTYPE_* of its interface.
        data: the captured bytes (possibly cut short by the snap length).
        orig_len: the frame's length on the wire.
    """

    number: int
    time: float
    linktype: int
    data: bytes
    orig_len: int


@dataclasses.dataclass(frozen=True, slots=True)
class TcpSegment:
    """One TCP segment from a frame.

    Attributes:
        frame: 1-based frame number it came from.
        time: capture time, seconds since the epoch.
        src, sport, dst, dport: IP addresses (text) and ports.
        seq, ack: sequence and acknowledgement numbers (32-bit, raw).
        flags: TCP flag bits (:data:`SYN`, :data:`FIN`, ...).
        payload: the captured payload bytes.
        missing: payload bytes the IP header announces but the capture lacks
            (snap length); the stream reassembler treats them as a gap.
    """

    frame: int
    time: float
    src: str
    sport: int
    dst: str
    dport: int
    seq: int
    ack: int
    flags: int
    payload: bytes
    missing: int = 0

    @property
    def source(self) -> str:
        """``ip:port`` of the sender (``[ip]:port`` for IPv6)."""
        return _endpoint(self.src, self.sport)

    @property
    def destination(self) -> str:
        """``ip:port`` of the receiver."""
        return _endpoint(self.dst, self.dport)


def _endpoint(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


# --- link and network layers ---------------------------------------------------


def _network_payload(linktype: int, data: bytes) -> tuple[int, bytes] | None:
    """(IP version, IP packet) inside a link-layer frame, or None."""
    if linktype == LINKTYPE_EN10MB:
        if len(data) < 14:
            return None
        offset = 12
        (ethertype,) = struct.unpack_from(">H", data, offset)
        # 802.1Q / 802.1ad tags: skip each 4-byte tag.
        while ethertype in _ETHERTYPE_VLAN and len(data) >= offset + 6:
            offset += 4
            (ethertype,) = struct.unpack_from(">H", data, offset)
        return _by_ethertype(ethertype, data[offset + 2 :])
    if linktype == LINKTYPE_LINUX_SLL:
        # packet type, ARPHRD type, address length, 8-byte address, protocol
        if len(data) < 16:
            return None
        (protocol,) = struct.unpack_from(">H", data, 14)
        return _by_ethertype(protocol, data[16:])
    if linktype == LINKTYPE_LINUX_SLL2:
        # protocol, reserved, ifindex, ARPHRD, packet type, addr len, 8-byte addr
        if len(data) < 20:
            return None
        (protocol,) = struct.unpack_from(">H", data, 0)
        return _by_ethertype(protocol, data[20:])
    if linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        if len(data) < 4:
            return None
        if linktype == LINKTYPE_LOOP:
            (family,) = struct.unpack_from(">I", data)
        else:
            # Host byte order of the capturing machine, which we do not know:
            # the family is small, so whichever order gives a small number wins.
            (little,) = struct.unpack_from("<I", data)
            (big,) = struct.unpack_from(">I", data)
            family = min(little, big)
        if family == _AF_INET:
            return 4, data[4:]
        if family in _AF_INET6:
            return 6, data[4:]
        return None
    if linktype in _RAW_ALIASES:
        return _by_version(data)
    if linktype == LINKTYPE_IPV4:
        return 4, data
    if linktype == LINKTYPE_IPV6:
        return 6, data
    return None


def _by_ethertype(ethertype: int, payload: bytes) -> tuple[int, bytes] | None:
    if ethertype == _ETHERTYPE_IPV4:
        return 4, payload
    if ethertype == _ETHERTYPE_IPV6:
        return 6, payload
    return None


def _by_version(packet: bytes) -> tuple[int, bytes] | None:
    if not packet:
        return None
    version = packet[0] >> 4
    return (version, packet) if version in (4, 6) else None


def parse_frame(frame: Frame) -> TcpSegment | None:
    """The TCP segment in a frame, or None if it carries none we can use.

    IP fragments, non-TCP packets and headers cut short are None, not errors.
    """
    found = _network_payload(frame.linktype, frame.data)
    if found is None:
        return None
    version, packet = found
    ip = _ipv4(packet) if version == 4 else _ipv6(packet)
    if ip is None:
        return None
    src, dst, tcp, tcp_len = ip
    if len(tcp) < 20:
        return None
    sport, dport, seq, ack, offset_flags = struct.unpack_from(">HHIIH", tcp)
    header_len = (offset_flags >> 12) * 4
    if header_len < 20 or header_len > tcp_len or header_len > len(tcp):
        return None
    payload = tcp[header_len:tcp_len]
    return TcpSegment(
        frame=frame.number,
        time=frame.time,
        src=src,
        sport=sport,
        dst=dst,
        dport=dport,
        seq=seq,
        ack=ack,
        flags=offset_flags & 0x1FF,
        payload=bytes(payload),
        missing=tcp_len - header_len - len(payload),
    )


def _ipv4(packet: bytes) -> tuple[str, str, bytes, int] | None:
    """(src, dst, TCP bytes as captured, TCP length per the IP header)."""
    if len(packet) < 20 or packet[0] >> 4 != 4:
        return None
    ihl = (packet[0] & 0x0F) * 4
    (total_len, frag) = struct.unpack_from(">H2xH", packet, 2)
    if ihl < 20 or len(packet) < ihl or total_len < ihl:
        return None
    # More-fragments bit or a non-zero offset: not reassembled.
    if frag & 0x3FFF or packet[9] != _IPPROTO_TCP:
        return None
    src = str(ipaddress.IPv4Address(packet[12:16]))
    dst = str(ipaddress.IPv4Address(packet[16:20]))
    # total_len 0 happens with TCP segmentation offload on the capturing host:
    # then the captured length is all we have.
    tcp_len = total_len - ihl if total_len else len(packet) - ihl
    return src, dst, packet[ihl : ihl + tcp_len], tcp_len


def _ipv6(packet: bytes) -> tuple[str, str, bytes, int] | None:
    if len(packet) < 40 or packet[0] >> 4 != 6:
        return None
    (payload_len,) = struct.unpack_from(">H", packet, 4)
    next_header = packet[6]
    src = str(ipaddress.IPv6Address(packet[8:24]))
    dst = str(ipaddress.IPv6Address(packet[24:40]))
    offset = 40
    end = 40 + payload_len if payload_len else len(packet)
    while next_header in _IPV6_EXTENSIONS:
        if len(packet) < offset + 8:
            return None
        next_header = packet[offset]
        offset += (packet[offset + 1] + 1) * 8
    if next_header != _IPPROTO_TCP or offset > end:
        return None
    return src, dst, packet[offset:end], end - offset


# --- file formats ----------------------------------------------------------------


class PcapReader:
    """Reads the frames of a classic pcap or pcapng capture held in memory.

    Iterate :meth:`frames` for link-layer frames or :meth:`segments` for TCP
    segments. Both are generators: a :class:`PcapError` surfaces where the
    file breaks, after everything before it.

    Attributes:
        format: ``"pcap"`` or ``"pcapng"`` (known once iteration started).
        frames_read: frames produced so far.
        skipped: frames that held no usable TCP segment.
    """

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self.format = ""
        self.frames_read = 0
        self.skipped = 0

    def frames(self) -> Iterator[Frame]:
        """Every frame, in file order.

        Raises:
            PcapError: not a capture, or a damaged header, block or record.
        """
        if len(self._data) < 4:
            raise PcapError("not a capture file: shorter than any header")
        (magic,) = struct.unpack_from(">I", self._data)
        if magic == _SHB:
            self.format = "pcapng"
            return self._pcapng()
        if magic in (_PCAP_USEC, _PCAP_NSEC, _PCAP_USEC_SWAPPED, _PCAP_NSEC_SWAPPED):
            self.format = "pcap"
            return self._pcap(magic)
        raise PcapError(f"not a pcap or pcapng file (magic {magic:#010x})")

    def segments(self) -> Iterator[TcpSegment]:
        """Every TCP segment, in file order; other frames are :attr:`skipped`.

        Raises:
            PcapError: as :meth:`frames`.
        """
        for frame in self.frames():
            segment = parse_frame(frame)
            if segment is None:
                self.skipped += 1
            else:
                yield segment

    def _frame(self, time: float, linktype: int, data: bytes, orig_len: int) -> Frame:
        self.frames_read += 1
        return Frame(self.frames_read, time, linktype, data, orig_len)

    # Classic pcap: 24-byte file header, then 16-byte record headers.
    def _pcap(self, magic: int) -> Iterator[Frame]:
        data = self._data
        order = ">" if magic in (_PCAP_USEC, _PCAP_NSEC) else "<"
        scale = 1e-9 if magic in (_PCAP_NSEC, _PCAP_NSEC_SWAPPED) else 1e-6
        if len(data) < 24:
            raise PcapError("pcap: file header cut short")
        (network,) = struct.unpack_from(order + "I", data, 20)
        # The upper bits may carry FCS length flags (pcap-savefile(5)).
        linktype = network & 0x0FFF_FFFF
        offset = 24
        record = struct.Struct(order + "IIII")
        while offset < len(data):
            if offset + 16 > len(data):
                raise PcapError(f"pcap: record header at byte {offset} cut short")
            seconds, fraction, caplen, orig_len = record.unpack_from(data, offset)
            offset += 16
            if caplen > MAX_FRAME_SIZE:
                raise PcapError(f"pcap: record at byte {offset - 16} claims "
                                f"{caplen} bytes")  # fmt: skip
            if offset + caplen > len(data):
                raise PcapError(f"pcap: record at byte {offset - 16} cut short")
            frame = bytes(data[offset : offset + caplen])
            offset += caplen
            yield self._frame(seconds + fraction * scale, linktype, frame, orig_len)

    # pcapng: blocks of (type, total length, body, total length).
    def _pcapng(self) -> Iterator[Frame]:
        data = self._data
        offset = 0
        order = ">"
        # Per section: (linktype, seconds per tick, offset seconds, snaplen).
        interfaces: list[tuple[int, float, int, int]] = []
        while offset < len(data):
            if offset + 12 > len(data):
                raise PcapError(f"pcapng: block header at byte {offset} cut short")
            (block_type,) = struct.unpack_from(order + "I", data, offset)
            if block_type == _SHB:
                # A new section may switch byte order: read it from its magic.
                if offset + 28 > len(data):
                    raise PcapError(f"pcapng: section header at {offset} cut short")
                (bom,) = struct.unpack_from(">I", data, offset + 8)
                if bom == _BYTE_ORDER_MAGIC:
                    order = ">"
                elif bom == 0x4D3C2B1A:
                    order = "<"
                else:
                    raise PcapError(f"pcapng: bad byte-order magic {bom:#010x}")
                interfaces = []
            (length,) = struct.unpack_from(order + "I", data, offset + 4)
            if length < 12 or length % 4 or offset + length > len(data):
                raise PcapError(
                    f"pcapng: block at byte {offset} has a bad length {length}"
                )
            (trailer,) = struct.unpack_from(order + "I", data, offset + length - 4)
            if trailer != length:
                raise PcapError(f"pcapng: block at byte {offset} has mismatched "
                                f"lengths {length} and {trailer}")  # fmt: skip
            body = data[offset + 8 : offset + length - 4]
            offset += length
            if block_type == _IDB:
                interfaces.append(_interface(body, order))
            elif block_type in (_EPB, _PB):
                yield self._packet_block(block_type, body, order, interfaces)
            elif block_type == _SPB:
                if not interfaces:
                    raise PcapError("pcapng: simple packet block before any interface")
                if len(body) < 4:
                    raise PcapError("pcapng: simple packet block cut short")
                (orig_len,) = struct.unpack_from(order + "I", body)
                linktype, _, _, snaplen = interfaces[0]
                caplen = min(orig_len, len(body) - 4)
                if snaplen:
                    caplen = min(caplen, snaplen)
                # No timestamp in a simple packet block.
                yield self._frame(0.0, linktype, bytes(body[4 : 4 + caplen]), orig_len)
            # Other blocks (name resolution, statistics, ...) carry no frames.

    def _packet_block(
        self,
        block_type: int,
        body: memoryview,
        order: str,
        interfaces: list[tuple[int, float, int, int]],
    ) -> Frame:
        if len(body) < 20:
            raise PcapError("pcapng: packet block cut short")
        if block_type == _EPB:
            interface, high, low, caplen, orig_len = struct.unpack_from(
                order + "IIIII", body
            )
        else:
            interface, _drops, high, low, caplen, orig_len = struct.unpack_from(
                order + "HHIIII", body
            )
        if interface >= len(interfaces):
            raise PcapError(f"pcapng: packet on undeclared interface {interface}")
        if caplen > len(body) - 20:
            raise PcapError(f"pcapng: packet of {caplen} bytes in a shorter block")
        linktype, tick, tsoffset, _ = interfaces[interface]
        time = tsoffset + ((high << 32) | low) * tick
        return self._frame(time, linktype, bytes(body[20 : 20 + caplen]), orig_len)


def _interface(body: memoryview, order: str) -> tuple[int, float, int, int]:
    """(linktype, seconds per timestamp tick, offset seconds, snaplen) of an IDB."""
    if len(body) < 8:
        raise PcapError("pcapng: interface description block cut short")
    linktype, _reserved, snaplen = struct.unpack_from(order + "HHI", body)
    tick = 1e-6
    tsoffset = 0
    offset = 8
    # Options: code u16, length u16, value padded to 4; code 0 ends them.
    while offset + 4 <= len(body):
        code, length = struct.unpack_from(order + "HH", body, offset)
        value = body[offset + 4 : offset + 4 + length]
        if code == 0:
            break
        if len(value) < length:
            raise PcapError("pcapng: interface option runs past its block")
        if code == _OPT_IF_TSRESOL and length >= 1:
            resolution = value[0]
            exponent = resolution & 0x7F
            # High bit: a negative power of 2, else of 10 (pcapng §4.2).
            tick = 2.0**-exponent if resolution & 0x80 else 10.0**-exponent
        elif code == _OPT_IF_TSOFFSET and length >= 8:
            (tsoffset,) = struct.unpack_from(order + "q", value)
        offset += 4 + (length + 3) // 4 * 4
    return linktype, tick, tsoffset, snaplen


def read_segments(data: bytes) -> Iterator[TcpSegment]:
    """The TCP segments of a capture held in ``data`` (a shortcut).

    Raises:
        PcapError: not a capture, or a damaged one (after the good part).
    """
    return PcapReader(data).segments()
