"""Trace sinks: trace events as text lines, JSON lines and pcap.

One line per RPC call and reply (``--trace``), every decoded field
(``--trace=full``), JSON lines for machines (``--trace-json``) and a pcap of
the exact bytes on the wire (``--trace-pcap``). The events themselves, the
tracer hook and :func:`tracing` are in :mod:`pygluster.events` (the I/O path
imports only that); they are re-exported here, so ``pygluster.capture.trace``
is the one module a user of tracing needs. Decoded values are rendered by
:mod:`pygluster.capture.render`, as ``pygluster decode`` renders them.

Sinks never raise into the RPC path: a sink that fails (a closed pipe) is
reported once through the ``pygluster.trace`` logger and then ignored.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import time
from typing import TYPE_CHECKING, Any, BinaryIO, Self, TextIO

from pygluster.capture.pcapwriter import PcapWriter, StreamEnds
from pygluster.capture.render import (
    ENUM_FIELDS,
    GFID_FIELDS,
    TRACE,
    credential_fields,
    enum_text,
    errno_name,
    flavor_name,
    hex_text,
    render,
    text,
    uuid_text,
)
from pygluster.errors import XdrError
from pygluster.events import (
    BytesReceived,
    BytesSent,
    CallSent,
    Connected,
    ConnInfo,
    Disconnected,
    Ping,
    Reconnected,
    Reconnecting,
    ReplyReceived,
    ServerCallReceived,
    TraceEvent,
)
from pygluster.rpc import fops
from pygluster.rpc.programs import ProgramNumber

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

    from pygluster.rpc.programs import Procedure
    from pygluster.rpc.sunrpc import (
        OpaqueAuth,
    )

__all__ = [
    "JsonTraceSink",
    "LoggingTraceSink",
    "PcapTraceSink",
    "TextTraceSink",
    "summarize_args",
    "summarize_result",
]

_log = logging.getLogger("pygluster.trace")

#: Fake client ports for connections without TCP ends (unix sockets, tests).
_FAKE_PORT_BASE = 40000
#: What a unix-socket connection is drawn as in pcap: glusterd's TCP port.
_GLUSTERD_PORT = 24007


# --- summaries ---------------------------------------------------------------------

#: Argument fields worth a line, in the order they are printed.
_KEY_ARGS = (
    "gfid",
    "pargfid",
    "bname",
    "name",
    "fd",
    "offset",
    "size",
    "flags",
    "flag",
    "mode",
    "cmd",
    "type",
    "what",
    "volume",
    "data",
    "key",
    "brick",
)


def summarize_args(procedure: Procedure[Any, Any], args: Any) -> dict[str, Any]:
    """The key arguments of a call, JSON-friendly (gfids as UUIDs, flags by name)."""
    if not dataclasses.is_dataclass(args):
        return {}
    enums = ENUM_FIELDS.get(procedure.name, {})
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(args)}
    out: dict[str, Any] = {}
    for name in _KEY_ARGS:
        if name not in values:
            continue
        value = values[name]
        if name not in enums and name in ("flag", "flags", "xflags") and not value:
            continue
        if name in GFID_FIELDS and value == fops.NULL_GFID:
            continue  # "no gfid" (a named LOOKUP's gfid, a nameless one's pargfid)
        if name in GFID_FIELDS and isinstance(value, bytes):
            out[name] = uuid_text(value)
        elif name in enums and isinstance(value, int):
            out[name] = enum_text(enums[name], value)
        elif name == "mode" and isinstance(value, int):
            out[name] = oct(value)
        elif isinstance(value, bytes):
            out[name] = hex_text(value, TRACE.hex_limit)
        else:
            out[name] = value
    # Xattr names: SETXATTR/XATTROP send them as the dict's keys.
    if procedure.program.number == ProgramNumber.GLUSTER_FOP:
        keys = values.get("dict")
        if isinstance(keys, dict) and keys:
            out["keys"] = sorted(keys)
    if procedure.name == "SETVOLUME":
        setvolume = values.get("dict")
        if isinstance(setvolume, dict) and "remote-subvolume" in setvolume:
            out["remote-subvolume"] = text(setvolume["remote-subvolume"])
    return out


def summarize_result(procedure: Procedure[Any, Any], result: Any) -> dict[str, Any]:
    """The key results of a reply: op_ret, errno name, fd/size/offset/gfid."""
    if not dataclasses.is_dataclass(result):
        return {}
    values = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    out: dict[str, Any] = {}
    if "op_ret" in values:
        out["op_ret"] = values["op_ret"]
    op_errno = values.get("op_errno")
    # Bricks leave stale op_errno in successful replies: only failures count.
    if isinstance(op_errno, int) and values.get("op_ret", 0) < 0:
        out["errno"] = errno_name(op_errno)
    failed = isinstance(values.get("op_ret"), int) and values["op_ret"] < 0
    if not failed:
        for name in ("fd", "size", "offset", "port", "status"):
            if name in values and isinstance(values[name], int):
                out[name] = values[name]
        for name in ("stat", "poststat", "prestat"):
            stat = values.get(name)
            if isinstance(stat, fops.GfxIattx) and stat.ia_gfid != fops.NULL_GFID:
                out["gfid"] = uuid_text(stat.ia_gfid)
                out["ia_size"] = stat.ia_size
                break
        spec = values.get("spec")
        if isinstance(spec, str | bytes):
            out["spec_len"] = len(spec)
        progs = values.get("prog")
        if isinstance(progs, list | tuple):
            out["programs"] = len(progs)
        reply_dict = values.get("dict")
        if isinstance(reply_dict, dict) and reply_dict:
            out["keys"] = sorted(reply_dict)
    return out


def full_fields(value: Any) -> Any:
    """Every field of a decoded value, recursively, JSON-friendly (the shared
    renderer's trace style: long bytes cut short, dict values ``"TYPE:value"``)."""
    return render(value, TRACE)


def credential_summary(cred: OpaqueAuth) -> dict[str, Any]:
    """The flavor of a credential and, for gluster's, its decoded fields."""
    try:
        return credential_fields(cred, TRACE)
    except XdrError as exc:
        return {"flavor": flavor_name(cred.flavor), "error": str(exc)}


# --- JSON records ---------------------------------------------------------------


def _conn_fields(conn: ConnInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"conn": conn.id, "peer": conn.peer}
    if conn.label:
        out["brick"] = conn.label
    return out


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def event_record(event: TraceEvent, *, full: bool = False) -> dict[str, Any] | None:
    """The JSON object for one event (None for raw byte events)."""
    record: dict[str, Any] = {"time": round(event.time, 6)}
    match event:
        case CallSent():
            proc = event.procedure
            record |= {"event": "call", **_conn_fields(event.conn)}
            record |= _proc_fields(event.xid, proc)
            record["args"] = _jsonable(summarize_args(proc, event.args))
            record["wire_len"] = event.wire_len
            record["payload_len"] = event.payload_len
            if full:
                record["args_full"] = full_fields(event.args)
                record["cred"] = credential_summary(event.cred)
        case ReplyReceived():
            proc = event.procedure
            record |= {"event": "reply", **_conn_fields(event.conn)}
            record |= _proc_fields(event.xid, proc)
            summary = summarize_result(proc, event.result)
            record["op_ret"] = summary.pop("op_ret", None)
            record["errno"] = summary.pop("errno", None)
            record["result"] = _jsonable(summary)
            if event.error is not None:
                record["error"] = _error_text(event.error)
            record["latency_ms"] = (
                round(event.latency_ns / 1e6, 3)
                if event.latency_ns is not None
                else None
            )
            record["wire_len"] = event.wire_len
            record["payload_len"] = event.payload_len
            if full:
                record["result_full"] = full_fields(event.result)
        case Connected():
            record |= {"event": "connected", **_conn_fields(event.conn)}
            record["local"] = _endpoint(event.conn.local)
            record["remote"] = _endpoint(event.conn.remote)
        case Disconnected():
            record |= {"event": "disconnected", **_conn_fields(event.conn)}
            record["reason"] = event.reason
        case ServerCallReceived():
            record |= {"event": "server_call", **_conn_fields(event.conn)}
            record |= {
                "xid": event.xid,
                "prognum": event.prog,
                "version": event.vers,
                "proc": event.proc,
                "procedure": event.name,
                "args_len": event.args_len,
            }
        case Ping():
            record |= {"event": "ping", **_conn_fields(event.conn)}
            record["rtt_ms"] = round(event.rtt_ns / 1e6, 3)
        case Reconnecting():
            record |= {
                "event": "reconnecting",
                "xlator": event.xlator,
                "brick": event.brick,
                "reason": event.reason,
                "delay": event.delay,
                "attempt": event.attempt,
            }
        case Reconnected():
            record |= {
                "event": "reconnected",
                "xlator": event.xlator,
                "brick": event.brick,
                "port": event.port,
                "attempt": event.attempt,
            }
        case BytesSent() | BytesReceived():
            return None
    return record


def _proc_fields(xid: int, proc: Procedure[Any, Any]) -> dict[str, Any]:
    return {
        "xid": xid,
        "program": proc.program.name,
        "prognum": proc.program.number,
        "version": proc.program.version,
        "procedure": proc.name,
        "proc": proc.number,
    }


def _endpoint(end: tuple[str, int] | None) -> str | None:
    if end is None:
        return None
    host, port = end
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: render(v, TRACE, k) for k, v in values.items()}


# --- text lines --------------------------------------------------------------------


def _clock(when: float) -> str:
    seconds = time.strftime("%H:%M:%S", time.localtime(when))
    return f"{seconds}.{int((when % 1) * 1_000_000):06d}"


def _pairs(values: Mapping[str, Any]) -> str:
    parts = [""]
    for key, value in values.items():
        if isinstance(value, str) and key in (
            "bname",
            "name",
            "volume",
            "key",
            "brick",
        ):
            value = repr(value)
        elif isinstance(value, list):
            value = ",".join(str(v) for v in value)
        parts.append(f"{key}={value}")
    return " ".join(parts)


def _size_text(wire: int | None, payload: int) -> str:
    if wire is None:
        return ""
    text = f"{wire} B"
    return f"{text}, data {payload} B" if payload else text


def event_line(event: TraceEvent, *, full: bool = False) -> str | None:
    """The text line (lines, when ``full``) for one event; None for raw bytes."""
    stamp = _clock(event.time)
    match event:
        case CallSent():
            proc = event.procedure
            args = summarize_args(proc, event.args)
            size = _size_text(event.wire_len, event.payload_len)
            line = (
                f"{stamp} {event.conn} → xid {event.xid} {proc.program.name} "
                f"{proc.name}{_pairs(args)} ({size})"
            )
            if full:
                line += f"\n    cred {_compact(credential_summary(event.cred))}"
                line += f"\n    args {_compact(full_fields(event.args))}"
            return line
        case ReplyReceived():
            proc = event.procedure
            if event.error is not None:
                outcome = f"error {_error_text(event.error)}"
            else:
                outcome = _pairs(summarize_result(proc, event.result))[1:]
            latency = (
                f"{event.latency_ns / 1e6:.3f} ms"
                if event.latency_ns is not None
                else "? ms"
            )
            size = _size_text(event.wire_len, event.payload_len)
            line = (
                f"{stamp} {event.conn} ← xid {event.xid} {proc.program.name} "
                f"{proc.name} {outcome} {latency}" + (f" ({size})" if size else "")
            )
            if full and event.result is not None:
                line += f"\n    result {_compact(full_fields(event.result))}"
            return line
        case Connected():
            ends = ""
            if event.conn.local and event.conn.remote:
                ends = (
                    f" {_endpoint(event.conn.local)} → {_endpoint(event.conn.remote)}"
                )
            return f"{stamp} {event.conn} connected{ends}"
        case Disconnected():
            return f"{stamp} {event.conn} disconnected: {event.reason}"
        case ServerCallReceived():
            what = "volfile changed" if event.name == "FETCHSPEC" else "callback"
            return (
                f"{stamp} {event.conn} ⇐ xid {event.xid} {what} {event.name} "
                f"(prog {event.prog} v{event.vers} proc {event.proc}, "
                f"{event.args_len} B)"
            )
        case Ping():
            return f"{stamp} {event.conn} ping rtt {event.rtt_ns / 1e6:.3f} ms"
        case Reconnecting():
            return (
                f"{stamp} {event.xlator} [{event.brick}] down ({event.reason}); "
                f"reconnect #{event.attempt} in {event.delay:g} s"
            )
        case Reconnected():
            return (
                f"{stamp} {event.xlator} [{event.brick}] reconnected "
                f"(port {event.port}, attempt #{event.attempt})"
            )
        case BytesSent() | BytesReceived():
            return None


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", "="))


# --- sinks ---------------------------------------------------------------------------


class TextTraceSink:
    """One human-readable line per call, reply and connection event.

    Args:
        stream: where lines go (``sys.stderr`` for ``--trace``).
        full: also print every decoded field, the credential and xdata dicts
            (``--trace=full``).
    """

    def __init__(self, stream: TextIO, *, full: bool = False) -> None:
        self.stream = stream
        self.full = full

    def handle(self, event: TraceEvent) -> None:
        line = event_line(event, full=self.full)
        if line is not None:
            self.stream.write(line + "\n")
            self.stream.flush()


class LoggingTraceSink:
    """The text lines of :class:`TextTraceSink`, as log records.

    Args:
        logger: where they go.
        level: their level (default DEBUG).
        full: every field, as ``--trace=full``.
    """

    def __init__(
        self, logger: logging.Logger, *, level: int = logging.DEBUG, full: bool = False
    ) -> None:
        self.logger = logger
        self.level = level
        self.full = full

    def handle(self, event: TraceEvent) -> None:
        if not self.logger.isEnabledFor(self.level):
            return
        line = event_line(event, full=self.full)
        if line is not None:
            self.logger.log(self.level, "%s", line)


class JsonTraceSink:
    """One JSON object per line and event (``--trace-json``).

    Every call/reply object has ``time``, ``event`` ("call"/"reply"),
    ``conn``, ``peer``, ``xid``, ``program``, ``prognum``, ``version``,
    ``procedure``, ``proc``, ``wire_len``, ``payload_len``; calls add
    ``args``, replies ``op_ret``, ``errno``, ``result`` and ``latency_ms``.

    Args:
        stream: a text file; see :meth:`open` for one made from a path.
        full: add ``args_full`` / ``result_full`` / ``cred``.
    """

    def __init__(
        self, stream: TextIO, *, full: bool = False, close_stream: bool = False
    ) -> None:
        self.stream = stream
        self.full = full
        self._close_stream = close_stream

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, full: bool = False) -> JsonTraceSink:
        """A sink writing to a new file at ``path`` (closed by :meth:`close`)."""
        return cls(open(path, "w", encoding="utf-8"), full=full, close_stream=True)

    def handle(self, event: TraceEvent) -> None:
        record = event_record(event, full=self.full)
        if record is not None:
            self.stream.write(json.dumps(record, ensure_ascii=False) + "\n")

    def close(self) -> None:
        """Flush (and close the file if :meth:`open` made it)."""
        self.stream.flush()
        if self._close_stream:
            self.stream.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PcapTraceSink:
    """The exact bytes sent and received, as TCP packets in a pcap file.

    TCP connections keep their real addresses and ports. A unix-socket
    connection (glusterd's socket) has none: it is drawn as
    127.0.0.1:<fake ephemeral port> → 127.0.0.1:24007, so that tshark applies
    its gluster dissectors as it would to glusterd on TCP.

    Args:
        path: the file to write (created or truncated).
        file: or an open binary file instead of a path (not closed).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        file: BinaryIO | None = None,
    ) -> None:
        if (path is None) == (file is None):
            raise ValueError("give exactly one of path and file")
        if file is None:
            assert path is not None
            file = open(path, "wb")  # noqa: SIM115 - closed by close()
            self._writer = PcapWriter(file, close_file=True)
        else:
            self._writer = PcapWriter(file)

    def handle(self, event: TraceEvent) -> None:
        match event:
            case Connected():
                self._writer.open_stream(
                    event.conn.id, _pcap_ends(event.conn), event.time
                )
            case BytesSent():
                if self._writer.has_stream(event.conn.id):
                    for buffer in event.buffers:
                        self._writer.write(event.conn.id, True, buffer, event.time)
            case BytesReceived():
                if not self._writer.has_stream(event.conn.id):
                    return
                if event.data:
                    self._writer.write(event.conn.id, False, event.data, event.time)
                else:
                    self._writer.close_stream(event.conn.id, False, event.time)
            case Disconnected():
                self._writer.close_stream(event.conn.id, True, event.time)
            case _:
                pass

    def close(self) -> None:
        """Flush the file (and close it if this sink opened it)."""
        self._writer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pcap_ends(conn: ConnInfo) -> StreamEnds:
    if conn.local is not None and conn.remote is not None:
        try:
            for host, _ in (conn.local, conn.remote):
                ipaddress.ip_address(host.split("%")[0])
        except ValueError:
            pass
        else:
            return StreamEnds(
                conn.local[0].split("%")[0],
                conn.local[1],
                conn.remote[0].split("%")[0],
                conn.remote[1],
            )
    # Unix socket (or a test stream): no TCP ends exist. Fake a loopback
    # connection to glusterd's port; the client port only keeps streams apart.
    port = _FAKE_PORT_BASE + conn.id % 20000
    return StreamEnds("127.0.0.1", port, "127.0.0.1", _GLUSTERD_PORT)
