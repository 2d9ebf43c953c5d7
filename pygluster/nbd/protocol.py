"""The NBD protocol, server side, sans-IO: bytes in, events and bytes out.

The wire is the NBD project's ``doc/proto.md``: the fixed newstyle handshake
(the server's greeting, the client's flags, then options until NBD_OPT_GO or
NBD_OPT_EXPORT_NAME) and the transmission phase (28-byte requests, simple or
structured replies). All integers are big-endian.

:class:`NbdServerConnection` answers every option itself from the
:class:`Export` it serves, so the driver only moves bytes during the
handshake; in the transmission phase it yields one :class:`Request` per
command (a WRITE's data included) and builds the replies the driver sends.
Anything a client sends that the spec does not allow raises
:class:`~pygluster.errors.NbdProtocolError`; the driver then disconnects
(the spec's answer to a client that cannot be trusted any more).
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, NamedTuple

from pygluster.errors import NbdProtocolError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "BASE_ALLOCATION",
    "MAX_OPTION_LENGTH",
    "MAX_REQUEST_LENGTH",
    "Cmd",
    "CmdFlag",
    "Errno",
    "Export",
    "Extent",
    "NbdServerConnection",
    "Negotiated",
    "Request",
    "TransmissionFlag",
    "request_header",
]

# --- magic numbers and codes (doc/proto.md) -------------------------------------

NBDMAGIC: Final = 0x4E42444D41474943  # "NBDMAGIC"
IHAVEOPT: Final = 0x49484156454F5054  # "IHAVEOPT"
OPTION_REPLY_MAGIC: Final = 0x0003E889045565A9
REQUEST_MAGIC: Final = 0x25609513
SIMPLE_REPLY_MAGIC: Final = 0x67446698
STRUCTURED_REPLY_MAGIC: Final = 0x668E33EF

#: Handshake flags (server) and client flags.
FLAG_FIXED_NEWSTYLE: Final = 1 << 0
FLAG_NO_ZEROES: Final = 1 << 1
CLIENT_FLAGS_KNOWN: Final = FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES

#: The one metadata context served: holes and zeros (proto.md "base:").
BASE_ALLOCATION: Final = "base:allocation"
_BASE_ALLOCATION_ID: Final = 1
STATE_HOLE: Final = 1 << 0
STATE_ZERO: Final = 1 << 1

#: Longest option data accepted (names and queries are at most 4 KiB each;
#: a few of them fit). Longer data is refused with NBD_REP_ERR_TOO_BIG, and
#: past _MAX_OPTION_DISCARD the client is disconnected instead.
MAX_OPTION_LENGTH: Final = 64 * 1024
_MAX_OPTION_DISCARD: Final = 16 * 1024 * 1024
#: Largest READ/WRITE payload (NBD_INFO_BLOCK_SIZE's maximum, qemu's 32 MiB).
MAX_REQUEST_LENGTH: Final = 32 * 1024 * 1024
#: proto.md: strings in options (export names, queries) are at most 4096 bytes.
_MAX_STRING: Final = 4096


class Option(enum.IntEnum):
    """NBD_OPT_*."""

    EXPORT_NAME = 1
    ABORT = 2
    LIST = 3
    STARTTLS = 5
    INFO = 6
    GO = 7
    STRUCTURED_REPLY = 8
    LIST_META_CONTEXT = 9
    SET_META_CONTEXT = 10


class Reply(enum.IntEnum):
    """NBD_REP_* (errors have bit 31 set)."""

    ACK = 1
    SERVER = 2
    INFO = 3
    META_CONTEXT = 4
    ERR_UNSUP = (1 << 31) + 1
    ERR_POLICY = (1 << 31) + 2
    ERR_INVALID = (1 << 31) + 3
    ERR_PLATFORM = (1 << 31) + 4
    ERR_TLS_REQD = (1 << 31) + 5
    ERR_UNKNOWN = (1 << 31) + 6
    ERR_SHUTDOWN = (1 << 31) + 7
    ERR_BLOCK_SIZE_REQD = (1 << 31) + 8
    ERR_TOO_BIG = (1 << 31) + 9


class Info(enum.IntEnum):
    """NBD_INFO_*."""

    EXPORT = 0
    NAME = 1
    DESCRIPTION = 2
    BLOCK_SIZE = 3


class TransmissionFlag(enum.IntFlag):
    """NBD_FLAG_* of the export (the transmission flags)."""

    HAS_FLAGS = 1 << 0
    READ_ONLY = 1 << 1
    SEND_FLUSH = 1 << 2
    SEND_FUA = 1 << 3
    ROTATIONAL = 1 << 4
    SEND_TRIM = 1 << 5
    SEND_WRITE_ZEROES = 1 << 6
    SEND_DF = 1 << 7
    CAN_MULTI_CONN = 1 << 8
    SEND_RESIZE = 1 << 9
    SEND_CACHE = 1 << 10
    SEND_FAST_ZERO = 1 << 11


class Cmd(enum.IntEnum):
    """NBD_CMD_*."""

    READ = 0
    WRITE = 1
    DISC = 2
    FLUSH = 3
    TRIM = 4
    CACHE = 5
    WRITE_ZEROES = 6
    BLOCK_STATUS = 7


class CmdFlag(enum.IntFlag):
    """NBD_CMD_FLAG_*."""

    FUA = 1 << 0
    NO_HOLE = 1 << 1
    DF = 1 << 2
    REQ_ONE = 1 << 3
    FAST_ZERO = 1 << 4


#: Which command flags each command may carry (the rest are EINVAL).
_ALLOWED_FLAGS: Final = {
    Cmd.READ: CmdFlag.DF,
    Cmd.WRITE: CmdFlag.FUA,
    Cmd.DISC: CmdFlag(0),
    Cmd.FLUSH: CmdFlag(0),
    Cmd.TRIM: CmdFlag.FUA,
    Cmd.CACHE: CmdFlag(0),
    Cmd.WRITE_ZEROES: CmdFlag.FUA | CmdFlag.NO_HOLE | CmdFlag.FAST_ZERO,
    Cmd.BLOCK_STATUS: CmdFlag.REQ_ONE,
}


class Errno(enum.IntEnum):
    """The error values NBD replies carry (proto.md "Error values")."""

    OK = 0
    EPERM = 1
    EIO = 5
    ENOMEM = 12
    EINVAL = 22
    ENOSPC = 28
    EOVERFLOW = 75
    ENOTSUP = 95
    ESHUTDOWN = 108


class _ChunkType(enum.IntEnum):
    """NBD_REPLY_TYPE_*."""

    NONE = 0
    OFFSET_DATA = 1
    OFFSET_HOLE = 2
    BLOCK_STATUS = 5
    ERROR = (1 << 15) + 1


_CHUNK_DONE: Final = 1

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_GREETING = struct.Struct(">QQH")  # NBDMAGIC, IHAVEOPT, handshake flags
_OPTION_HEADER = struct.Struct(">QII")  # IHAVEOPT, option, length
_OPTION_REPLY = struct.Struct(">QIII")  # magic, option, reply type, length
_EXPORT_INFO = struct.Struct(">HQH")  # NBD_INFO_EXPORT: type, size, flags
_BLOCK_SIZE_INFO = struct.Struct(">HIII")  # type, minimum, preferred, maximum
_OLD_EXPORT_REPLY = struct.Struct(">QH")  # NBD_OPT_EXPORT_NAME: size, flags
#: The request header: magic, command flags, type, cookie, offset, length.
request_header = struct.Struct(">IHHQQI")
_REQUEST_SIZE = request_header.size
_unpack_request = request_header.unpack_from
_COMMANDS: Final = {int(c): c for c in Cmd}
_CMD_FLAGS: Final = {n: CmdFlag(n) for n in range(32)}
_SIMPLE_REPLY = struct.Struct(">IIQ")  # magic, error, cookie
_CHUNK = struct.Struct(">IHHQI")  # magic, flags, type, cookie, length
_CHUNK_OFFSET = struct.Struct(">Q")
_HOLE = struct.Struct(">QI")  # offset, length
_ERROR_CHUNK = struct.Struct(">IH")  # error, message length
_DESCRIPTOR = struct.Struct(">II")  # extent length, status flags


# --- what the server serves ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Export:
    """The one export a server offers, as the handshake describes it.

    Attributes:
        name: the export name clients ask for ("" is always accepted too:
            the spec's default export).
        size: bytes.
        flags: the transmission flags (HAS_FLAGS is added).
        description: free text for NBD_INFO_DESCRIPTION and NBD_OPT_LIST.
        minimum_block: NBD_INFO_BLOCK_SIZE's minimum (1: any offset).
        preferred_block: the size requests should be multiples of.
        maximum_block: the largest READ/WRITE payload accepted.
    """

    name: str
    size: int
    flags: TransmissionFlag
    description: str = ""
    minimum_block: int = 1
    preferred_block: int = 4096
    maximum_block: int = MAX_REQUEST_LENGTH

    @property
    def transmission_flags(self) -> int:
        return int(self.flags | TransmissionFlag.HAS_FLAGS)

    @property
    def read_only(self) -> bool:
        return bool(self.flags & TransmissionFlag.READ_ONLY)


class Extent(NamedTuple):
    """A run for a BLOCK_STATUS reply: ``length`` bytes, hole or data.

    (A NamedTuple, like :class:`Request`: one is made per descriptor, and
    tuples are the cheapest immutable records to build.)
    """

    length: int
    hole: bool


# --- events ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Negotiated:
    """The handshake is over; transmission starts.

    Attributes:
        structured: structured replies were negotiated.
        base_allocation: the client selected ``base:allocation``.
    """

    structured: bool
    base_allocation: bool


class Request(NamedTuple):
    """One transmission-phase command (one is made per request: a tuple).

    ``data`` is a WRITE's payload (empty otherwise). ``error`` is set when
    the request is well-formed on the wire but not acceptable (a bad flag,
    a range past the end): the driver replies with it instead of running it.
    """

    cookie: int
    command: Cmd
    flags: CmdFlag
    offset: int
    length: int
    data: bytes = b""
    error: Errno = Errno.OK


@dataclass(frozen=True, slots=True)
class Closed:
    """The client ended the handshake (NBD_OPT_ABORT) or sent NBD_CMD_DISC."""

    reason: str


class _Need:
    """More bytes are needed before the next event."""

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = _Need()

Event = Negotiated | Request | Closed | _Need


class _State(enum.Enum):
    CLIENT_FLAGS = enum.auto()
    OPTIONS = enum.auto()
    TRANSMISSION = enum.auto()
    CLOSED = enum.auto()


@dataclass(slots=True)
class _Options:
    structured: bool = False
    meta_contexts: set[str] = field(default_factory=set)
    no_zeroes: bool = False


# --- the connection ---------------------------------------------------------------


class NbdServerConnection:
    """One client's NBD conversation, server side, without I/O.

    Use: send :meth:`greeting`; then feed received bytes to
    :meth:`receive_data`, take events from :meth:`next_event` until
    NEED_DATA, and after each call send :meth:`data_to_send` (the
    handshake's replies). In transmission, reply to each :class:`Request`
    with :meth:`simple_reply`, :meth:`read_reply`, :meth:`error_reply` or
    :meth:`block_status_reply`.
    """

    def __init__(self, export: Export) -> None:
        self.export = export
        self._buffer = bytearray()
        self._out = bytearray()
        self._state = _State.CLIENT_FLAGS
        self._options = _Options()
        #: Option data still to be skipped (a too-big option being refused).
        self._skipping = 0
        self._skipped_option = 0

    # --- plumbing ---------------------------------------------------------------------

    def greeting(self) -> bytes:
        """The server's first bytes: magic, IHAVEOPT and its handshake flags."""
        return _GREETING.pack(NBDMAGIC, IHAVEOPT, FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES)

    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Bytes the client sent (b"" at end of stream is not needed)."""
        self._buffer += data

    def data_to_send(self) -> bytes:
        """Handshake replies produced so far (then forgotten)."""
        out = bytes(self._out)
        self._out.clear()
        return out

    @property
    def structured(self) -> bool:
        """Structured replies are on."""
        return self._options.structured

    @property
    def in_transmission(self) -> bool:
        return self._state is _State.TRANSMISSION

    def _take(self, count: int) -> bytes | None:
        if len(self._buffer) < count:
            return None
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    def next_event(self) -> Event:
        """The next event, or NEED_DATA.

        Raises:
            NbdProtocolError: the client broke the protocol; disconnect it.
        """
        while True:
            if self._state is _State.CLOSED:
                raise NbdProtocolError("the connection is closed")
            if self._state is _State.CLIENT_FLAGS:
                raw = self._take(4)
                if raw is None:
                    return NEED_DATA
                (flags,) = _U32.unpack(raw)
                if flags & ~CLIENT_FLAGS_KNOWN:
                    # proto.md: unknown client flags mean the client expects
                    # something we do not do: close.
                    raise NbdProtocolError(f"unknown client flags 0x{flags:08x}")
                if not flags & FLAG_FIXED_NEWSTYLE:
                    raise NbdProtocolError(
                        "the client does not speak fixed newstyle (flag 1 unset)"
                    )
                self._options.no_zeroes = bool(flags & FLAG_NO_ZEROES)
                self._state = _State.OPTIONS
                continue
            if self._state is _State.OPTIONS:
                event = self._next_option()
                if event is None:
                    continue
                return event
            return self._next_request()

    # --- the handshake ---------------------------------------------------------

    def _next_option(self) -> Event | None:
        """Handle one option; an event, NEED_DATA, or None to go on."""
        if self._skipping:
            dropped = min(self._skipping, len(self._buffer))
            del self._buffer[:dropped]
            self._skipping -= dropped
            if self._skipping:
                return NEED_DATA
            self._reply(self._skipped_option, Reply.ERR_TOO_BIG, b"option too long")
            return None
        if len(self._buffer) < _OPTION_HEADER.size:
            return NEED_DATA
        magic, option, length = _OPTION_HEADER.unpack_from(self._buffer)
        if magic != IHAVEOPT:
            raise NbdProtocolError(f"bad option magic 0x{magic:016x}")
        if length > MAX_OPTION_LENGTH:
            if length > _MAX_OPTION_DISCARD:
                raise NbdProtocolError(f"option {option} of {length} bytes")
            del self._buffer[: _OPTION_HEADER.size]
            self._skipping, self._skipped_option = length, option
            return None
        if len(self._buffer) < _OPTION_HEADER.size + length:
            return NEED_DATA
        del self._buffer[: _OPTION_HEADER.size]
        data = self._take(length)
        assert data is not None
        return self._option(option, data)

    def _reply(self, option: int, reply: Reply, data: bytes = b"") -> None:
        self._out += _OPTION_REPLY.pack(OPTION_REPLY_MAGIC, option, reply, len(data))
        self._out += data

    def _error(self, option: int, reply: Reply, message: str) -> None:
        self._reply(option, reply, message.encode())

    def _option(self, option: int, data: bytes) -> Event | None:
        if option == Option.EXPORT_NAME:
            return self._export_name(data)
        if option == Option.ABORT:
            self._reply(option, Reply.ACK)
            self._state = _State.CLOSED
            return Closed("the client ended the handshake (NBD_OPT_ABORT)")
        if option == Option.LIST:
            if data:
                self._error(option, Reply.ERR_INVALID, "LIST takes no data")
                return None
            name = self.export.name.encode()
            self._reply(
                option,
                Reply.SERVER,
                _U32.pack(len(name)) + name + self.export.description.encode(),
            )
            self._reply(option, Reply.ACK)
            return None
        if option == Option.STRUCTURED_REPLY:
            if data:
                self._error(option, Reply.ERR_INVALID, "STRUCTURED_REPLY takes no data")
                return None
            self._options.structured = True
            self._reply(option, Reply.ACK)
            return None
        if option in (Option.INFO, Option.GO):
            return self._info_or_go(option, data)
        if option in (Option.LIST_META_CONTEXT, Option.SET_META_CONTEXT):
            self._meta_context(option, data)
            return None
        if option == Option.STARTTLS:
            self._error(option, Reply.ERR_POLICY, "this server does not do TLS")
            return None
        self._error(option, Reply.ERR_UNSUP, f"option {option} is not supported")
        return None

    def _known_name(self, name: str) -> bool:
        return name in ("", self.export.name)

    def _export_name(self, data: bytes) -> Event:
        # The old way in: no option reply; an unknown name is a disconnect.
        name = _decode_name(data)
        if not self._known_name(name):
            self._state = _State.CLOSED
            raise NbdProtocolError(f"no export named {name!r}")
        self._out += _OLD_EXPORT_REPLY.pack(
            self.export.size, self.export.transmission_flags
        )
        if not self._options.no_zeroes:
            self._out += bytes(124)
        return self._start()

    def _start(self) -> Negotiated:
        self._state = _State.TRANSMISSION
        return Negotiated(
            structured=self._options.structured,
            base_allocation=BASE_ALLOCATION in self._options.meta_contexts,
        )

    def _info_or_go(self, option: int, data: bytes) -> Event | None:
        reader = _Reader(data)
        try:
            name = reader.string(_U32)
            count = reader.u16()
            wanted = [reader.u16() for _ in range(count)]
            reader.end()
        except _Short:
            self._error(option, Reply.ERR_INVALID, "malformed INFO/GO request")
            return None
        if not self._known_name(name):
            self._error(option, Reply.ERR_UNKNOWN, f"no export named {name!r}")
            return None
        export = self.export
        self._reply(
            option,
            Reply.INFO,
            _EXPORT_INFO.pack(Info.EXPORT, export.size, export.transmission_flags),
        )
        if Info.NAME in wanted:
            self._reply(option, Reply.INFO, _U16.pack(Info.NAME) + export.name.encode())
        if Info.DESCRIPTION in wanted and export.description:
            self._reply(
                option,
                Reply.INFO,
                _U16.pack(Info.DESCRIPTION) + export.description.encode(),
            )
        # Block sizes are sent whether asked or not (qemu-nbd does too):
        # clients that did not ask may ignore them.
        self._reply(
            option,
            Reply.INFO,
            _BLOCK_SIZE_INFO.pack(
                Info.BLOCK_SIZE,
                export.minimum_block,
                export.preferred_block,
                export.maximum_block,
            ),
        )
        self._reply(option, Reply.ACK)
        if option == Option.GO:
            return self._start()
        return None

    def _meta_context(self, option: int, data: bytes) -> None:
        reader = _Reader(data)
        try:
            name = reader.string(_U32)
            count = reader.u32()
            if count > 1024:
                raise _Short
            queries = [reader.string(_U32) for _ in range(count)]
            reader.end()
        except _Short:
            self._error(option, Reply.ERR_INVALID, "malformed META_CONTEXT request")
            return
        if option == Option.SET_META_CONTEXT and not self._options.structured:
            self._error(
                option, Reply.ERR_INVALID, "SET_META_CONTEXT needs structured replies"
            )
            return
        if not self._known_name(name):
            self._error(option, Reply.ERR_UNKNOWN, f"no export named {name!r}")
            return
        listing = option == Option.LIST_META_CONTEXT
        matched = _matching_contexts(queries, listing=listing)
        if not listing:
            self._options.meta_contexts = set(matched)
        for context in matched:
            self._reply(
                option,
                Reply.META_CONTEXT,
                _U32.pack(_BASE_ALLOCATION_ID) + context.encode(),
            )
        self._reply(option, Reply.ACK)

    # --- transmission ------------------------------------------------------------

    def _next_request(self) -> Event:
        buffer = self._buffer
        if len(buffer) < _REQUEST_SIZE:
            return NEED_DATA
        magic, flags, kind, cookie, offset, length = _unpack_request(buffer)
        if magic != REQUEST_MAGIC:
            raise NbdProtocolError(f"bad request magic 0x{magic:08x}")
        if kind == Cmd.WRITE:
            if length > self.export.maximum_block:
                # Its data cannot be skipped cheaply: the spec lets us hang up.
                raise NbdProtocolError(
                    f"WRITE of {length} bytes (at most {self.export.maximum_block})"
                )
            if len(buffer) < request_header.size + length:
                return NEED_DATA
        data = b""
        if kind == Cmd.WRITE:
            data = bytes(buffer[_REQUEST_SIZE : _REQUEST_SIZE + length])
            del buffer[: _REQUEST_SIZE + length]
        else:
            del buffer[:_REQUEST_SIZE]
        command = _COMMANDS.get(kind)
        if command is None:
            # Unknown: it carries no data we know of; refuse it, go on. (The
            # request's command is not one of ours; CACHE stands in.)
            return Request(
                cookie, Cmd.CACHE, CmdFlag(0), offset, length, b"", Errno.EINVAL
            )
        # Enum construction is slow per request; the known values are cached.
        flag = _CMD_FLAGS.get(flags)
        if flag is None:
            flag = CmdFlag(flags)
        request = Request(cookie, command, flag, offset, length, data)
        if command == Cmd.DISC:
            self._state = _State.CLOSED
            return Closed("the client disconnected (NBD_CMD_DISC)")
        return _checked(request, self.export, self._options)

    def simple_reply(self, cookie: int, error: Errno = Errno.OK) -> bytes:
        """A reply without data (WRITE, FLUSH, TRIM, ...), or any error in
        simple mode."""
        if error and self.structured:
            return self.error_reply(cookie, error)
        if self.structured:
            return _CHUNK.pack(
                STRUCTURED_REPLY_MAGIC, _CHUNK_DONE, _ChunkType.NONE, cookie, 0
            )
        return _SIMPLE_REPLY.pack(SIMPLE_REPLY_MAGIC, error, cookie)

    def error_reply(self, cookie: int, error: Errno, message: str = "") -> bytes:
        """The request failed with ``error``."""
        if not self.structured:
            return _SIMPLE_REPLY.pack(SIMPLE_REPLY_MAGIC, error, cookie)
        text = message.encode()[:4096]
        body = _ERROR_CHUNK.pack(error, len(text)) + text
        return (
            _CHUNK.pack(
                STRUCTURED_REPLY_MAGIC,
                _CHUNK_DONE,
                _ChunkType.ERROR,
                cookie,
                len(body),
            )
            + body
        )

    def read_reply(self, cookie: int, offset: int, data: bytes) -> list[bytes]:
        """A successful READ: the header, then the data (not copied).

        With structured replies, all-zero data goes as one hole chunk: the
        client learns it is zeros without the bytes crossing the wire.
        """
        if not self.structured:
            return [_SIMPLE_REPLY.pack(SIMPLE_REPLY_MAGIC, 0, cookie), data]
        if not data:
            return [self.simple_reply(cookie)]
        if data.count(0) == len(data):
            return [
                _CHUNK.pack(
                    STRUCTURED_REPLY_MAGIC,
                    _CHUNK_DONE,
                    _ChunkType.OFFSET_HOLE,
                    cookie,
                    _HOLE.size,
                )
                + _HOLE.pack(offset, len(data))
            ]
        header = _CHUNK.pack(
            STRUCTURED_REPLY_MAGIC,
            _CHUNK_DONE,
            _ChunkType.OFFSET_DATA,
            cookie,
            _CHUNK_OFFSET.size + len(data),
        )
        return [header + _CHUNK_OFFSET.pack(offset), data]

    def block_status_reply(self, cookie: int, extents: Sequence[Extent]) -> bytes:
        """BLOCK_STATUS for ``base:allocation``: the extents from the offset."""
        body = bytearray(_U32.pack(_BASE_ALLOCATION_ID))
        for extent in _u32_extents(extents):
            status = STATE_HOLE | STATE_ZERO if extent.hole else 0
            body += _DESCRIPTOR.pack(extent.length, status)
        return (
            _CHUNK.pack(
                STRUCTURED_REPLY_MAGIC,
                _CHUNK_DONE,
                _ChunkType.BLOCK_STATUS,
                cookie,
                len(body),
            )
            + body
        )


# --- helpers -----------------------------------------------------------------------


class _Short(Exception):
    """Option data ended early, or had bytes left over."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def _get(self, count: int) -> bytes:
        if self._at + count > len(self._data):
            raise _Short
        chunk = self._data[self._at : self._at + count]
        self._at += count
        return chunk

    def u16(self) -> int:
        value: int = _U16.unpack(self._get(2))[0]
        return value

    def u32(self) -> int:
        value: int = _U32.unpack(self._get(4))[0]
        return value

    def string(self, length: struct.Struct) -> str:
        (count,) = length.unpack(self._get(length.size))
        if count > _MAX_STRING:
            raise _Short
        return _decode_name(self._get(count))

    def end(self) -> None:
        if self._at != len(self._data):
            raise _Short


def _decode_name(data: bytes) -> str:
    try:
        return data.decode()
    except UnicodeDecodeError as exc:
        raise NbdProtocolError(f"a name that is not UTF-8: {data[:64]!r}") from exc


def _matching_contexts(queries: Iterable[str], *, listing: bool) -> list[str]:
    """The contexts (of the one we have) that the queries select.

    proto.md: an empty query list means "all" when listing and "none" when
    setting; ``base:`` selects every context of the namespace.
    """
    queries = list(queries)
    if not queries:
        return [BASE_ALLOCATION] if listing else []
    for query in queries:
        if query == BASE_ALLOCATION or (listing and query == "base:"):
            return [BASE_ALLOCATION]
    return []


def _checked(request: Request, export: Export, options: _Options) -> Request:
    """``request``, with the error it must get if the spec rules it out."""
    command, flags = request.command, request.flags
    end = request.offset + request.length
    error = Errno.OK
    if flags & ~_ALLOWED_FLAGS[command]:
        error = Errno.EINVAL
    elif command == Cmd.BLOCK_STATUS and BASE_ALLOCATION not in options.meta_contexts:
        error = Errno.EINVAL  # no context was negotiated to report on
    elif command in (Cmd.WRITE, Cmd.TRIM, Cmd.WRITE_ZEROES) and export.read_only:
        error = Errno.EPERM
    elif command == Cmd.READ and request.length > export.maximum_block:
        error = Errno.EOVERFLOW if options.structured else Errno.EINVAL
    elif command == Cmd.FLUSH:
        if request.offset or request.length:
            error = Errno.EINVAL  # proto.md: both MUST be zero
    elif command == Cmd.BLOCK_STATUS and not request.length:
        error = Errno.EINVAL
    elif end > export.size:
        # Past the end: a write "has no space" (ENOSPC), the rest are invalid.
        grows = command in (Cmd.WRITE, Cmd.WRITE_ZEROES)
        error = Errno.ENOSPC if grows else Errno.EINVAL
    if error:
        return Request(
            request.cookie,
            command,
            flags,
            request.offset,
            request.length,
            b"",
            error,
        )
    return request


def _u32_extents(extents: Iterable[Extent]) -> list[Extent]:
    """Extents split so that each length fits a descriptor's u32."""
    limit = (1 << 32) - 4096
    out: list[Extent] = []
    for extent in extents:
        left = extent.length
        while left > limit:
            out.append(Extent(limit, extent.hole))
            left -= limit
        if left:
            out.append(Extent(left, extent.hole))
    return out
