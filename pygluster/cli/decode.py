"""``pygluster decode``: print the gluster RPC messages of a packet capture.

The command reads a pcap/pcapng file (:mod:`pygluster.capture.pcap`), decodes it with
:mod:`pygluster.capture.decode` and prints one line per message, human-readable or
JSON, then a summary. It does no I/O but reading the file, so ``run`` is a
coroutine only to fit the CLI's ``trio.run``.
"""

from __future__ import annotations

import argparse
import sys
import time as _time
from typing import TYPE_CHECKING, Any

from pygluster.cli.options import add_command as add_parser

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from pygluster.capture.decode import Message

__all__ = ["add_command", "parse_filter", "run"]

_DESCRIPTION = """\
Decode the GlusterFS RPC traffic in a packet capture (pcap or pcapng, as
written by tshark, dumpcap or tcpdump) of any gluster client or server:
gfapi (qemu-img, qemu-io, fio), FUSE mounts, glusterd and bricks.

TCP streams are reassembled (retransmissions, reordering, captures started
mid-connection), RPC records are framed, and every call and reply is decoded:
GF-DUMP, the handshake (GETSPEC, SETVOLUME, ...), portmap, fops v330 and
v400, and server-to-client callbacks. Replies are matched to their calls by
xid on the same connection. WRITE and READ data is shown as a length only.
glusterd's internal programs (peer, CLI, mgmt) are shown header-only.

Each line shows: the time since the first packet, sender -> receiver, the
connection number (like tshark's tcp.stream), the xid, CALL or REPLY, the
program and procedure, and the interesting fields (gfid, name, fd, offset,
size, op_ret/op_errno). Records that are malformed, of unknown programs, or
lost to gaps in the capture are marked with "!!" and their reason.

Exit status: 0 if every record decoded, 1 if any was malformed or unknown
(everything is still printed), 2 on a usage error.
"""

_EXAMPLES = """\
filters (--filter, repeatable; all terms must match):
  KEY=VALUE     a message field equals VALUE; keys: type (call, reply,
                stream), prog, program, vers, proc, name, conn, xid, src,
                dst, frame, error, note; a field of the decoded body is
                fields.NAME (e.g. fields.gfid=...). prog and proc match the
                number or the name (proc=WRITE, proc=13, prog=1298437);
                names are case-insensitive. error=yes selects malformed ones.

examples:
  pygluster decode qemu-io.pcapng
  pygluster decode --json capture.pcap --filter proc=WRITE --filter type=reply
  pygluster decode capture.pcapng --filter conn=3 --filter xid=17
  tshark -i lo -w cap.pcapng -f 'tcp port 24007 or portrange 49152-60999'
"""


def add_command(commands: Any) -> None:
    """Register ``decode`` on the CLI's subparsers."""
    parser = add_parser(
        commands,
        "decode",
        "decode the gluster RPC messages of a pcap/pcapng capture",
        _DESCRIPTION,
        _EXAMPLES,
        takes_uri=False,
    )
    parser.add_argument("file", metavar="FILE", help="the capture (pcap or pcapng)")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per message (and no summary)",
    )
    parser.add_argument(
        "--filter",
        dest="filters",
        metavar="KEY=VALUE",
        action="append",
        type=_filter_term,
        default=[],
        help="print only messages where KEY equals VALUE (repeat to AND terms)",
    )
    parser.set_defaults(run=run)


def _filter_term(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"filter {text!r} is not KEY=VALUE")
    return key.strip(), value.strip()


def parse_filter(terms: Iterable[str]) -> Callable[[Message], bool]:
    """A predicate for ``KEY=VALUE`` terms, all of which must match.

    Raises:
        ValueError: a term is not ``KEY=VALUE``.
    """
    pairs = []
    for term in terms:
        try:
            pairs.append(_filter_term(term))
        except argparse.ArgumentTypeError as exc:
            raise ValueError(str(exc)) from None
    return _predicate(pairs)


def _predicate(pairs: list[tuple[str, str]]) -> Callable[[Message], bool]:
    def matches(message: Message) -> bool:
        return all(_term_matches(message, key, value) for key, value in pairs)

    return matches


def _term_matches(message: Message, key: str, value: str) -> bool:
    wanted = value.lower()
    candidates: list[object]
    if key == "proc":
        candidates = [message.proc, message.name]
    elif key == "prog":
        candidates = [message.prog, message.program]
    elif key == "error":
        is_error = message.error is not None
        if wanted in ("yes", "true", "1"):
            return is_error
        if wanted in ("no", "false", "0"):
            return not is_error
        candidates = [message.error]
    elif key.startswith("fields."):
        candidates = [message.fields.get(key.removeprefix("fields."))]
    else:
        candidates = [message.as_dict().get(key)]
    return any(
        candidate is not None and str(candidate).lower() == wanted
        for candidate in candidates
    )


# --- human output ---------------------------------------------------------------

# Fields worth a place on the one-line summary, in this order.
_KEY_FIELDS = (
    "gfid",
    "pargfid",
    "oldgfid",
    "newgfid",
    "bname",
    "name",
    "key",
    "brick",
    "port",
    "fd",
    "offset",
    "size",
    "what",
    "cmd",
    "type",
    "op_ret",
)


def _short(value: object) -> str:
    text = str(value)
    # Names are arbitrary bytes: keep the line printable whatever they hold.
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= 80 else text[:77] + "..."


def format_message(message: Message, start: float) -> str:
    """One human-readable line for a message (times relative to ``start``)."""
    parts = [
        f"{message.time - start:12.6f}",
        f"{message.src} -> {message.dst}",
        f"conn={message.conn}",
    ]
    if message.type == "stream":
        parts.append("STREAM")
    else:
        parts.append(f"xid={message.xid}")
        parts.append(message.type.upper())
        program = message.program or (
            f"prog {message.prog} v{message.vers}" if message.prog is not None else "?"
        )
        name = message.name or (
            f"proc {message.proc}" if message.proc is not None else ""
        )
        parts.append(f"{program} {name}".strip())
    fields = message.fields
    parts.extend(
        f"{key}={_short(fields[key])}"
        for key in _KEY_FIELDS
        if key in fields and not isinstance(fields[key], dict | list)
    )
    if "op_errno_name" in fields:
        parts.append(f"op_errno={fields['op_errno_name']}")
    parts.extend(
        f"{key}={fields[key]}"
        for key in ("accept_stat", "reply_stat", "reject_stat", "auth_stat")
        if key in fields
    )
    if message.payload_len is not None:
        parts.append(f"payload={message.payload_len}")
    if message.latency is not None:
        parts.append(f"({message.latency * 1000:.3f} ms)")
    if message.error is not None:
        parts.append(f"!! {message.error}")
    if message.note is not None:
        parts.append(f"[{_short(message.note)}]")
    return " ".join(parts)


async def run(args: argparse.Namespace) -> int:
    """Decode ``args.file`` and print it (the ``decode`` command).

    Returns:
        0 if every record decoded, 1 if any was malformed or unknown.

    Raises:
        PcapError: the file is not a capture (reported by the CLI, status 1).
        OSError: the file cannot be read.
    """
    # Decoding is CPU-bound and reads one local file: plain sync code.
    return _decode_file(args)


def _decode_file(args: argparse.Namespace) -> int:
    # Imported here: the decoder declares every program's structs, which
    # other commands should not pay for at start-up.
    from pygluster.capture.decode import Decoder
    from pygluster.capture.pcap import PcapError, PcapReader

    with open(args.file, "rb") as capture:
        data = capture.read()
    matches = _predicate(args.filters)
    decoder = Decoder()
    reader = PcapReader(data)
    counts = {"messages": 0, "calls": 0, "replies": 0, "malformed": 0, "shown": 0}
    start: float | None = None
    out = sys.stdout

    def emit(messages: list[Message]) -> None:
        nonlocal start
        for message in messages:
            counts["messages"] += 1
            counts["calls"] += message.type == "call"
            counts["replies"] += message.type == "reply"
            counts["malformed"] += message.error is not None
            if start is None:
                start = message.time
            if not matches(message):
                continue
            counts["shown"] += 1
            if args.json:
                out.write(message.to_json() + "\n")
            else:
                out.write(format_message(message, start) + "\n")

    failure: PcapError | None = None
    began = _time.monotonic()
    try:
        for segment in reader.segments():
            emit(decoder.feed(segment))
    except PcapError as exc:
        failure = exc
    emit(decoder.finish())
    out.flush()
    if failure is not None and counts["messages"] == 0 and reader.frames_read == 0:
        raise failure
    if not args.json:
        print(
            f"{counts['messages']} messages ({counts['calls']} calls, "
            f"{counts['replies']} replies; {counts['shown']} shown) on "
            f"{len(decoder.connections)} TCP connections from "
            f"{reader.frames_read} frames; {counts['malformed']} malformed or "
            f"unknown; {decoder.unanswered()} calls unanswered; "
            f"{_time.monotonic() - began:.2f} s"
        )
    if failure is not None:
        print(f"pygluster: error: {failure} (decoded up to there)", file=sys.stderr)
        return 1
    return 1 if counts["malformed"] else 0
