"""Write TCP byte streams to a classic pcap file that tshark/Wireshark can open.

Pure and synchronous: no sockets, no trio. :class:`PcapWriter` turns "these
bytes went from A to B on connection N" into IPv4/IPv6 + TCP packets with
consistent sequence and acknowledgement numbers, so that a dissector
reassembles exactly the bytes pygluster sent and received.

Theory of operation
-------------------
* :meth:`PcapWriter.open_stream` registers a connection (client and server
  address, port) and writes a synthetic three-way handshake (SYN, SYN-ACK,
  ACK), so that tshark sees where the stream starts (without it, it marks the
  first segment as a continuation and may not find the first record).
* :meth:`PcapWriter.write` appends bytes in one direction: split into
  segments of at most :data:`MAX_SEGMENT` bytes, each a PSH+ACK packet whose
  sequence number continues the direction's stream and whose ack number is
  everything the other side sent so far.
* :meth:`PcapWriter.close_stream` writes a FIN from the side that closed.
* Link type is LINKTYPE_RAW (101): each packet starts with its IP header, no
  made-up Ethernet addresses. Checksums are real (RFC 791/793/8200), so
  "checksum bad" never distracts from the RPC layer.
"""

from __future__ import annotations

import ipaddress
import struct
import sys
from array import array
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from pygluster._types import BytesLike

__all__ = ["LINKTYPE_RAW", "MAX_SEGMENT", "PcapWriter", "StreamEnds"]

#: pcap link type of packets that begin with an IPv4 or IPv6 header.
LINKTYPE_RAW = 101
#: Largest TCP payload per packet: an IPv4 total length is 16 bits, so
#: 65535 - 20 (IP) - 20 (TCP) = 65495 is the ceiling; stay well under it.
MAX_SEGMENT = 65000
_SNAPLEN = 262144
_PCAP_MAGIC = 0xA1B2C3D4  # microsecond timestamps, written in native order

_FIN, _SYN, _PSH, _ACK = 0x01, 0x02, 0x08, 0x10
_TCP_HEADER = struct.Struct("!HHIIBBHHH")
_IPV4_HEADER = struct.Struct("!BBHHHBBH4s4s")
_IPV6_HEADER = struct.Struct("!IHBB16s16s")
_RECORD_HEADER = struct.Struct("=IIII")
_WINDOW = 65535
_TTL = 64
_PROTO_TCP = 6
#: Initial sequence numbers of the synthetic handshake; any value works.
_CLIENT_ISN = 1_000_000
_SERVER_ISN = 2_000_000


@dataclass(frozen=True, slots=True)
class StreamEnds:
    """Both ends of one TCP connection: the client (us) and the server."""

    client_host: str
    client_port: int
    server_host: str
    server_port: int


class _Stream:
    __slots__ = ("client", "client_seq", "ipv6", "server", "server_seq")

    def __init__(self, ends: StreamEnds) -> None:
        client = ipaddress.ip_address(ends.client_host)
        server = ipaddress.ip_address(ends.server_host)
        if client.version != server.version:
            # A v4-mapped peer or a mix: map both into IPv6 so one header fits.
            client = _as_v6(client)
            server = _as_v6(server)
        self.ipv6 = client.version == 6
        self.client = (client.packed, ends.client_port)
        self.server = (server.packed, ends.server_port)
        self.client_seq = _CLIENT_ISN
        self.server_seq = _SERVER_ISN


def _as_v6(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> ipaddress.IPv6Address:
    if isinstance(address, ipaddress.IPv6Address):
        return address
    return ipaddress.IPv6Address(f"::ffff:{address}")


def _checksum(*parts: BytesLike) -> int:
    """RFC 1071 checksum of the parts joined (all but the last of even length)."""
    total = 0
    for part in parts:
        if len(part) % 2:
            part = bytes(part) + b"\0"
        words = array("H")
        words.frombytes(part)
        total += sum(words)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    # Summing native-order words gives the byte-swapped sum on little-endian
    # hosts; the one's complement sum is byte-order independent (RFC 1071 §2).
    if sys.byteorder == "little":
        total = ((total & 0xFF) << 8) | (total >> 8)
    return ~total & 0xFFFF


class PcapWriter:
    """Classic pcap output of synthetic TCP streams.

    Args:
        file: a binary file open for writing; the global header is written at
            once. :meth:`close` flushes but does not close it unless
            ``close_file`` is true.
    """

    def __init__(self, file: BinaryIO, *, close_file: bool = False) -> None:
        self._file = file
        self._close_file = close_file
        self._streams: dict[int, _Stream] = {}
        file.write(
            struct.pack("=IHHiIII", _PCAP_MAGIC, 2, 4, 0, 0, _SNAPLEN, LINKTYPE_RAW)
        )

    def open_stream(self, key: int, ends: StreamEnds, when: float) -> None:
        """Start connection ``key`` with a SYN / SYN-ACK / ACK handshake."""
        stream = _Stream(ends)
        self._streams[key] = stream
        self._packet(stream, True, when, _SYN, stream.client_seq, 0, b"")
        self._packet(
            stream,
            False,
            when,
            _SYN | _ACK,
            stream.server_seq,
            stream.client_seq + 1,
            b"",
        )
        stream.client_seq += 1
        stream.server_seq += 1
        self._packet(
            stream, True, when, _ACK, stream.client_seq, stream.server_seq, b""
        )

    def has_stream(self, key: int) -> bool:
        """True if connection ``key`` was opened (and not closed)."""
        return key in self._streams

    def write(self, key: int, from_client: bool, data: BytesLike, when: float) -> None:
        """Append ``data`` sent by the client (or the server) on stream ``key``."""
        stream = self._streams[key]
        view = memoryview(data).cast("B")
        for start in range(0, len(view), MAX_SEGMENT):
            segment = view[start : start + MAX_SEGMENT]
            if from_client:
                seq, ack = stream.client_seq, stream.server_seq
                stream.client_seq = (seq + len(segment)) & 0xFFFFFFFF
            else:
                seq, ack = stream.server_seq, stream.client_seq
                stream.server_seq = (seq + len(segment)) & 0xFFFFFFFF
            self._packet(stream, from_client, when, _PSH | _ACK, seq, ack, segment)

    def close_stream(self, key: int, from_client: bool, when: float) -> None:
        """End stream ``key`` with a FIN from one side and the other's ACK."""
        stream = self._streams.pop(key, None)
        if stream is None:
            return
        if from_client:
            seq, ack = stream.client_seq, stream.server_seq
        else:
            seq, ack = stream.server_seq, stream.client_seq
        self._packet(stream, from_client, when, _FIN | _ACK, seq, ack, b"")
        self._packet(
            stream, not from_client, when, _ACK, ack, (seq + 1) & 0xFFFFFFFF, b""
        )

    def flush(self) -> None:
        """Flush the file."""
        self._file.flush()

    def close(self) -> None:
        """Flush, and close the file if this writer owns it."""
        self._file.flush()
        if self._close_file:
            self._file.close()

    def _packet(
        self,
        stream: _Stream,
        from_client: bool,
        when: float,
        flags: int,
        seq: int,
        ack: int,
        payload: BytesLike,
    ) -> None:
        (src, sport), (dst, dport) = (
            (stream.client, stream.server)
            if from_client
            else (stream.server, stream.client)
        )
        tcp_len = _TCP_HEADER.size + len(payload)
        header = _TCP_HEADER.pack(
            sport, dport, seq, ack if flags & _ACK else 0, 5 << 4, flags, _WINDOW, 0, 0
        )
        if stream.ipv6:
            pseudo = src + dst + struct.pack("!IxxxB", tcp_len, _PROTO_TCP)
        else:
            pseudo = src + dst + struct.pack("!xBH", _PROTO_TCP, tcp_len)
        checksum = _checksum(pseudo, header, payload)
        header = header[:16] + struct.pack("!H", checksum) + header[18:]
        if stream.ipv6:
            ip = _IPV6_HEADER.pack(6 << 28, tcp_len, _PROTO_TCP, _TTL, src, dst)
        else:
            ip = _IPV4_HEADER.pack(
                0x45, 0, 20 + tcp_len, 0, 0x4000, _TTL, _PROTO_TCP, 0, src, dst
            )
            ip_sum = _checksum(ip)
            ip = ip[:10] + struct.pack("!H", ip_sum) + ip[12:]
        length = len(ip) + tcp_len
        seconds = int(when)
        micros = min(int((when - seconds) * 1_000_000), 999_999)
        write = self._file.write
        write(_RECORD_HEADER.pack(seconds, micros, length, length))
        write(ip)
        write(header)
        write(payload)
