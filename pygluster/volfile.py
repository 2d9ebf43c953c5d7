"""Volfile parsing: text → :class:`Graph` of :class:`Xlator`, brick discovery, output.

A pure codec (no I/O): :func:`parse` reads the client volfile that glusterd
hands out on GETSPEC, :meth:`Graph.bricks` finds the bricks to connect to, and
:func:`format_volfile` / :func:`format_tree` write it back for files and humans.

The grammar follows gluster's flex lexer and bison parser
(``gluster/glusterfs:libglusterfs/src/graph.l`` and ``graph.y`` at v10.3):

- Tokens are separated by space, tab, CR and LF only.
- A ``#`` at the start of a token comments out the rest of the line; inside a
  word (``a#b``) it is an ordinary character.
- The keywords ``volume``, ``type``, ``option``, ``end-volume`` and
  ``subvolumes`` (also ``subvolumeS``) are exact, lowercase, whole words.
- A word is a run of characters other than whitespace, ``"`` and ``\\``.  A
  quoted string ``"..."`` is a word too (never a keyword); inside it ``\\x``
  stands for ``x``.
- ``volume NAME``, then ``type TYPE``, then ``option KEY VALUE`` lines with at
  most one ``subvolumes A B ...`` line among them, then ``end-volume``.
  Subvolumes must be defined earlier.  The last volume is the top.

Where gluster merely logs and carries on, or leans on a flex accident, this
parser refuses with :class:`~pygluster.errors.VolfileError` instead: a
duplicate option key (graph.y ``volume_option`` checks for it, but
``dict_set`` replaces, so the last value silently wins), an undefined or
self-referencing subvolume (``volume_sub`` logs and returns 0), a subvolume
listed twice, an empty quoted string (the lexer yields NULL), a newline
inside a quoted string or a backslash outside one (flex's default rule echoes
them to stdout and drops them), and backticks (gluster's ``preprocess`` runs
them as shell commands before lexing).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from pygluster.errors import VolfileError

__all__ = [
    "MAX_XLATORS",
    "Brick",
    "Graph",
    "Xlator",
    "format_tree",
    "format_volfile",
    "parse",
    "parse_switch",
]


#: The most volumes :func:`parse` accepts. glusterd writes about 1.3 per
#: brick plus a dozen (a 1000-brick volume: ~1400); far beyond that is an
#: attack on the client's memory, refused before the graph is built.
MAX_XLATORS = 100_000


class _Options(Mapping[str, str]):
    """A read-only, hashable ``str → str`` mapping that keeps file order.

    Equality is mapping equality (order does not matter, as with ``dict``),
    so an :class:`Xlator` built with a plain dict compares equal to the parsed
    one.
    """

    __slots__ = ("_data",)

    def __init__(
        self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()
    ) -> None:
        self._data: dict[str, str] = dict(items)

    def __getitem__(self, key: str) -> str:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Options):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return repr(self._data)


@dataclass(frozen=True, slots=True)
class Xlator:
    """One ``volume ... end-volume`` block: a translator in the client graph.

    Attributes:
        name: the volume name, e.g. ``"pyg_rep3-replicate-0"``.
        type: the translator type, e.g. ``"cluster/replicate"``.
        options: ``option KEY VALUE`` pairs, read-only, in file order.
        subvolumes: the children, in ``subvolumes`` order.  AFR, EC and DHT
            number their children by this position.
        lineno: the line of the ``volume`` keyword (0 when built by hand).
            Not part of equality, so a re-formatted graph compares equal.
    """

    name: str
    type: str
    options: Mapping[str, str] = field(default_factory=_Options)
    subvolumes: tuple[Xlator, ...] = ()
    lineno: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.options, _Options):
            object.__setattr__(self, "options", _Options(self.options))

    def __repr__(self) -> str:
        # Children by name only: the default repr would print every subtree
        # again under each parent.
        children = tuple(child.name for child in self.subvolumes)
        return (
            f"Xlator(name={self.name!r}, type={self.type!r}, "
            f"options={self.options!r}, subvolumes={children!r}, "
            f"lineno={self.lineno!r})"
        )


@dataclass(frozen=True, slots=True)
class Brick:
    """A protocol/client leaf: where one brick lives.

    Attributes:
        xlator: the protocol/client volume name, e.g. ``"pyg_dist-client-0"``.
        host: ``remote-host``.
        path: ``remote-subvolume``, the brick directory; the PORTBYBRICK key.
        port: ``remote-port`` when the volfile gives one (then skip portmap).
        transport: ``transport-type``; ``"tcp"`` when absent (client.c's
            option default; rpc-transport.c maps both tcp and a missing value
            to the socket transport).
        address_family: ``transport.address-family``; ``"inet"`` when absent
            (glusterd's default, which volgen always writes out).
        ping_timeout: ``ping-timeout`` in seconds, None when absent (then
            gluster's 42); 0 turns pinging off.
        frame_timeout: ``frame-timeout`` in seconds, None when absent (then
            gluster's 1800).
    """

    xlator: str
    host: str
    path: str
    port: int | None = None
    transport: str = "tcp"
    address_family: str = "inet"
    ping_timeout: float | None = None
    frame_timeout: float | None = None

    def __str__(self) -> str:
        """The brick as the gluster CLI writes it: ``host:/path``."""
        return f"{self.host}:{self.path}"


@dataclass(frozen=True, slots=True, eq=False)
class Graph:
    """A parsed volfile: every xlator in file order.

    Every subvolume of an xlator must be an earlier xlator of the same graph
    (that is what makes :func:`format_volfile` output parse back), and names
    are unique; the constructor raises ``ValueError`` otherwise.

    Attributes:
        xlators: the volumes in file order; the last one is the top.
    """

    xlators: tuple[Xlator, ...]
    _by_name: dict[str, Xlator] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.xlators:
            raise ValueError("a volfile graph needs at least one xlator")
        by_name: dict[str, Xlator] = {}
        for xl in self.xlators:
            if xl.name in by_name:
                raise ValueError(f"xlator name {xl.name!r} used twice")
            for child in xl.subvolumes:
                known = by_name.get(child.name)
                # Identity first: parse() shares objects, and == would walk
                # whole subtrees.
                if known is None or (known is not child and known != child):
                    raise ValueError(
                        f"xlator {xl.name!r}: subvolume {child.name!r} is not "
                        "an earlier xlator of this graph"
                    )
            by_name[xl.name] = xl
        object.__setattr__(self, "_by_name", by_name)

    def _shape(self) -> tuple[tuple[str, str, Mapping[str, str], tuple[str, ...]], ...]:
        return tuple(
            (xl.name, xl.type, xl.options, tuple(c.name for c in xl.subvolumes))
            for xl in self.xlators
        )

    # Flat comparison: since every child is an earlier xlator of the graph
    # (checked above), equal shapes mean equal xlators, and this neither
    # recurses (deep chains) nor re-walks shared subtrees.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Graph):
            return NotImplemented
        return self._shape() == other._shape()

    def __hash__(self) -> int:
        return hash(self._shape())

    @property
    def top(self) -> Xlator:
        """The graph top: the last volume in the file (graph.c settop)."""
        return self.xlators[-1]

    def __getitem__(self, name: str) -> Xlator:
        """The xlator called *name*.

        Raises:
            KeyError: no xlator has that name.
        """
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def walk(self) -> Iterator[tuple[int, Xlator]]:
        """Yield ``(depth, xlator)`` depth-first from the top, children in order.

        The top has depth 0.  An xlator reachable along several paths is
        yielded once, at its first visit; xlators not reachable from the top
        are not yielded.
        """
        seen: set[str] = set()
        stack: list[tuple[int, Xlator]] = [(0, self.top)]
        while stack:
            depth, xl = stack.pop()
            if xl.name in seen:
                continue
            seen.add(xl.name)
            yield depth, xl
            stack.extend((depth + 1, child) for child in reversed(xl.subvolumes))

    def bricks(self) -> list[Brick]:
        """Every protocol/client reachable from the top, as a :class:`Brick`.

        Returns:
            The bricks in child order, depth-first left to right (for a
            replicate or disperse set, the order AFR/EC index them by), each
            once.

        Raises:
            VolfileError: a protocol/client has no ``remote-host`` or
                ``remote-subvolume``, or a ``remote-port`` that is not a port
                number; ``lineno`` is that volume's line.
        """
        return [_brick(xl) for _, xl in self.walk() if xl.type == _CLIENT_TYPE]


_CLIENT_TYPE = "protocol/client"
_PORT = re.compile(r"[0-9]{1,5}")


def _brick(xl: Xlator) -> Brick:
    options = xl.options
    for key in ("remote-host", "remote-subvolume"):
        if key not in options:
            raise VolfileError(
                f"protocol/client volume {xl.name!r} has no 'option {key}'",
                xl.lineno or None,
            )
    port: int | None = None
    if "remote-port" in options:
        text = options["remote-port"]
        # rpc-transport/socket name.c: data_to_uint16(remote-port); 0 would
        # mean "any port", which cannot be connected to.
        if not _PORT.fullmatch(text) or not 0 < int(text) < 65536:
            raise VolfileError(
                f"protocol/client volume {xl.name!r}: remote-port {text!r} "
                "is not a port number (1-65535)",
                xl.lineno or None,
            )
        port = int(text)
    return Brick(
        xlator=xl.name,
        host=options["remote-host"],
        path=options["remote-subvolume"],
        port=port,
        transport=options.get("transport-type", "tcp"),
        address_family=options.get("transport.address-family", "inet"),
        ping_timeout=_time_option(xl, "ping-timeout", 0, _MAX_PING_TIMEOUT),
        frame_timeout=_time_option(xl, "frame-timeout", 1, _MAX_FRAME_TIMEOUT),
    )


#: gf_string2boolean's words (common-utils.c).
_TRUE = frozenset({"on", "yes", "true", "enable", "1"})
_FALSE = frozenset({"off", "no", "false", "disable", "0"})


def parse_switch(text: str) -> bool | None:
    """A boolean option value as gluster reads it; None if it is not one."""
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return None


# client.c options[]: ping-timeout is a TIME in 0..1013 s, frame-timeout in
# 0..86400 s (we refuse 0 there: it would fail every call at once).
_MAX_PING_TIMEOUT = 1013
_MAX_FRAME_TIMEOUT = 86400
# gf_string2time: a whole number of seconds, optionally with a unit.
_TIME = re.compile(r"([0-9]{1,9})\s*(s|sec|m|min|h|hr|d|days)?")
_TIME_UNITS = {
    None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600,
    "d": 86400, "days": 86400,
}  # fmt: skip


def _time_option(xl: Xlator, key: str, low: int, high: int) -> float | None:
    """A protocol/client TIME option in seconds, checked against its range."""
    text = xl.options.get(key)
    if text is None:
        return None
    match = _TIME.fullmatch(text.strip())
    if match is not None:
        seconds = int(match.group(1)) * _TIME_UNITS[match.group(2)]
        if low <= seconds <= high:
            return float(seconds)
    raise VolfileError(
        f"protocol/client volume {xl.name!r}: {key} {text!r} is not a time "
        f"in seconds from {low} to {high}",
        xl.lineno or None,
    )


# --------------------------------------------------------------------------
# Lexer (graph.l)


class _Kind(StrEnum):
    VOLUME = "'volume'"
    TYPE = "'type'"
    OPTION = "'option'"
    SUBVOLUMES = "'subvolumes'"
    END = "'end-volume'"
    WORD = "word"
    EOF = "end of file"


# graph.l: {VOLUME}, {TYPE}, {OPTION}, {END}[-]{VOLUME}, {SUB}{VOLUME}[Ss].
# flex prefers the longest match, so "volumes" or "type2" is a word.
_KEYWORDS = {
    "volume": _Kind.VOLUME,
    "type": _Kind.TYPE,
    "option": _Kind.OPTION,
    "end-volume": _Kind.END,
    "subvolumes": _Kind.SUBVOLUMES,
    "subvolumeS": _Kind.SUBVOLUMES,
}

# graph.l: [^ \t\r\n\"\\]+ is a word, [ \t\r\n]+ separates, \#.* is a comment
# (it ties with or beats the word rule only where a token starts).
_SPACE = re.compile(r"[ \t\r\n]+")
_COMMENT = re.compile(r"#[^\n]*")
_WORD = re.compile(r'[^ \t\r\n"\\]+')
# graph.l <STRING>: [^\n\"\\]* is kept, \\. keeps the escaped character.
_STRING_RUN = re.compile(r'[^\n"\\]+')


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    value: str
    lineno: int

    def describe(self) -> str:
        if self.kind is _Kind.WORD:
            return repr(self.value)
        return self.kind.value


def _check_backticks(text: str) -> None:
    # graph.y preprocess() runs every `...` span (even in comments and quoted
    # strings) through popen before the lexer sees the file; a backslash
    # toggles "escaped" for the next character.  We never run commands.
    if "`" not in text:
        return
    escaped = False
    for index, char in enumerate(text):
        if char == "`" and not escaped:
            raise VolfileError(
                "backtick (shell command substitution) is not supported; "
                'escape it inside a quoted string: "\\`"',
                text.count("\n", 0, index) + 1,
            )
        escaped = char == "\\" and not escaped


def _tokenize(text: str) -> list[_Token]:
    _check_backticks(text)
    if "\0" in text:
        raise VolfileError(
            "NUL character in volfile", text.count("\n", 0, text.index("\0")) + 1
        )
    tokens: list[_Token] = []
    pos = 0
    lineno = 1
    end = len(text)
    while pos < end:
        char = text[pos]
        if char in " \t\r\n":
            match = _SPACE.match(text, pos)
            assert match is not None
            lineno += match.group().count("\n")
            pos = match.end()
        elif char == "#":
            match = _COMMENT.match(text, pos)
            assert match is not None
            pos = match.end()
        elif char == '"':
            value, pos = _quoted(text, pos, lineno)
            tokens.append(_Token(_Kind.WORD, value, lineno))
        elif char == "\\":
            raise VolfileError(
                'backslash outside a quoted string (escapes only work inside "...")',
                lineno,
            )
        else:
            match = _WORD.match(text, pos)
            assert match is not None
            word = match.group()
            tokens.append(_Token(_KEYWORDS.get(word, _Kind.WORD), word, lineno))
            pos = match.end()
    tokens.append(_Token(_Kind.EOF, "", lineno))
    return tokens


def _quoted(text: str, start: int, lineno: int) -> tuple[str, int]:
    """Read the quoted string opening at ``text[start]``; return (value, end)."""
    parts: list[str] = []
    pos = start + 1
    end = len(text)
    while pos < end:
        char = text[pos]
        if char == '"':
            if not parts:
                # graph.l hands the parser a NULL pointer for "".
                raise VolfileError("empty quoted string", lineno)
            return "".join(parts), pos + 1
        if char == "\\":
            if pos + 1 == end:
                break
            if text[pos + 1] == "\n":
                # graph.l's \\. does not match a newline; flex would echo
                # and drop both characters.
                raise VolfileError("backslash-newline inside a quoted string", lineno)
            parts.append(text[pos + 1])
            pos += 2
        elif char == "\n":
            # No <STRING> rule matches \n: flex echoes it and drops it.
            raise VolfileError(
                "newline inside a quoted string (close the quote first)", lineno
            )
        else:
            match = _STRING_RUN.match(text, pos)
            assert match is not None
            parts.append(match.group())
            pos = match.end()
    raise VolfileError("unterminated quoted string", lineno)


# --------------------------------------------------------------------------
# Parser (graph.y)


class _Parser:
    """Recursive descent over graph.y's VOLUMES grammar."""

    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._pos = 0
        self._xlators: dict[str, Xlator] = {}

    def _next(self) -> _Token:
        token = self._tokens[self._pos]
        if token.kind is not _Kind.EOF:
            self._pos += 1
        return token

    def _peek(self) -> _Token:
        return self._tokens[self._pos]

    def _expect(self, kind: _Kind, expected: str, after: str = "") -> _Token:
        """The next token, which must be a ``kind``; else what was expected."""
        token = self._next()
        if token.kind is not kind:
            raise VolfileError(
                f"{expected}, got {token.describe()}{after}", token.lineno
            )
        return token

    def parse(self) -> Graph:
        if self._peek().kind is _Kind.EOF:
            raise VolfileError("empty volfile: expected 'volume'", self._peek().lineno)
        while self._peek().kind is not _Kind.EOF:
            if len(self._xlators) == MAX_XLATORS:
                raise VolfileError(
                    f"more than {MAX_XLATORS} volumes; no gluster volume has "
                    "a graph this large",
                    self._peek().lineno,
                )
            self._volume()
        return Graph(tuple(self._xlators.values()))

    def _volume(self) -> None:
        start = self._expect(_Kind.VOLUME, "expected 'volume'")
        name_token = self._expect(_Kind.WORD, "expected a volume name after 'volume'")
        name = name_token.value
        if name in self._xlators:
            first = self._xlators[name].lineno
            raise VolfileError(
                f"volume {name!r} defined again (first defined on line {first})",
                name_token.lineno,
            )
        where = f"volume {name!r}"

        # graph.y VOLUME_DATA: TYPE_LINE comes first; the OPTIONS_LINE-first
        # alternatives exist only to fail in volume_end ("type" not specified).
        type_line = self._expect(_Kind.TYPE, f"{where}: expected 'type' first").lineno
        xl_type = self._expect(
            _Kind.WORD, f"{where}: expected a translator type after 'type'"
        ).value

        options: dict[str, str] = {}
        option_lines: dict[str, int] = {}
        children: list[Xlator] | None = None
        subvolumes_line = 0
        while True:
            token = self._next()
            if token.kind is _Kind.OPTION:
                key = self._expect(
                    _Kind.WORD,
                    f"{where}: expected 'option KEY VALUE'",
                    after=" after 'option'",
                )
                value = self._expect(
                    _Kind.WORD, f"{where}: expected a value for 'option {key.value}'"
                )
                if key.value in options:
                    raise VolfileError(
                        f"{where}: duplicate 'option {key.value}' (first set "
                        f"on line {option_lines[key.value]})",
                        key.lineno,
                    )
                options[key.value] = value.value
                option_lines[key.value] = key.lineno
            elif token.kind is _Kind.SUBVOLUMES:
                if children is not None:
                    raise VolfileError(
                        f"{where}: duplicate 'subvolumes' (first on line "
                        f"{subvolumes_line})",
                        token.lineno,
                    )
                subvolumes_line = token.lineno
                children = self._subvolumes(name, where)
            elif token.kind is _Kind.END:
                # graph.y has no TYPE_LINE-alone alternative: a volume needs
                # at least one option or a subvolumes line.
                if not options and children is None:
                    raise VolfileError(
                        f"{where}: expected 'option' or 'subvolumes' before "
                        "'end-volume'",
                        token.lineno,
                    )
                break
            elif token.kind is _Kind.TYPE:
                raise VolfileError(
                    f"{where}: duplicate 'type' (first on line {type_line})",
                    token.lineno,
                )
            elif token.kind in (_Kind.VOLUME, _Kind.EOF):
                raise VolfileError(
                    f"{where} (line {start.lineno}) has no 'end-volume' "
                    f"before {token.describe()}",
                    token.lineno,
                )
            else:
                raise VolfileError(
                    f"{where}: expected 'option', 'subvolumes' or 'end-volume', "
                    f"got {token.describe()}",
                    token.lineno,
                )
        self._xlators[name] = Xlator(
            name=name,
            type=xl_type,
            options=_Options(options),
            subvolumes=tuple(children or ()),
            lineno=start.lineno,
        )

    def _subvolumes(self, name: str, where: str) -> list[Xlator]:
        children: list[Xlator] = []
        while self._peek().kind is _Kind.WORD:
            token = self._next()
            child = token.value
            if child == name:
                raise VolfileError(f"{where} has itself as subvolume", token.lineno)
            if child not in self._xlators:
                raise VolfileError(
                    f"{where}: subvolume {child!r} is not defined before use",
                    token.lineno,
                )
            if any(c.name == child for c in children):
                raise VolfileError(
                    f"{where}: subvolume {child!r} listed twice", token.lineno
                )
            children.append(self._xlators[child])
        if not children:
            token = self._peek()
            raise VolfileError(
                f"{where}: expected subvolume names after 'subvolumes', "
                f"got {token.describe()}",
                token.lineno,
            )
        return children


def parse(text: str) -> Graph:
    """Parse volfile text into a :class:`Graph`.

    Args:
        text: the whole volfile (as GETSPEC returns it, decoded).

    Returns:
        The graph; ``graph.top`` is the last volume in the file.

    Raises:
        VolfileError: the text is not a valid volfile.  ``lineno`` is the
            1-based line of the offending token (for a missing token, the one
            found in its place, or the end of the file).
    """
    return _Parser(_tokenize(text)).parse()


# --------------------------------------------------------------------------
# Output


def _quote(word: str) -> str:
    """Write *word* so that the lexer reads it back as one word, unchanged."""
    if not word:
        raise ValueError("an empty string cannot be written in a volfile")
    if "\n" in word or "\0" in word:
        raise ValueError(f"{word!r}: newline and NUL cannot be written in a volfile")
    if (
        _WORD.fullmatch(word)
        and "`" not in word
        and not word.startswith("#")
        and word not in _KEYWORDS
    ):
        return word
    escaped = word.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
    return f'"{escaped}"'


def format_volfile(graph: Graph) -> str:
    """Write *graph* as volfile text, in gluster's own layout.

    The layout is graph-print.c ``glusterfs_graph_print`` (what glusterd's
    volgen writes): four-space indents, one blank line between volumes.
    Words that would not read back unchanged are quoted, so
    ``parse(format_volfile(g)) == g``.

    Raises:
        ValueError: a name, type, key or value is empty or contains a newline
            or NUL (the lexer cannot carry these), or an xlator has neither
            options nor subvolumes (graph.y requires one of them).
    """
    blocks: list[str] = []
    for xl in graph.xlators:
        if not xl.options and not xl.subvolumes:
            raise ValueError(
                f"xlator {xl.name!r} needs at least one option or subvolume"
            )
        lines = [f"volume {_quote(xl.name)}", f"    type {_quote(xl.type)}"]
        lines.extend(
            f"    option {_quote(key)} {_quote(value)}"
            for key, value in xl.options.items()
        )
        if xl.subvolumes:
            names = " ".join(_quote(child.name) for child in xl.subvolumes)
            lines.append(f"    subvolumes {names}")
        lines.append("end-volume\n")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


# Options shown next to each xlator in format_tree: the ones that change what
# an image user's client must do (topology.md §1.4).
_TREE_OPTIONS: dict[str, tuple[str, ...]] = {
    "protocol/client": ("remote-port", "ping-timeout"),
    "cluster/replicate": (
        "afr-pending-xattr",
        "arbiter-count",
        "thin-arbiter",
        "quorum-type",
        "quorum-count",
    ),
    "cluster/disperse": ("redundancy", "quorum-count"),
    "cluster/distribute": ("lookup-optimize",),
    "features/shard": ("shard-block-size",),
    "performance/write-behind": (
        "cache-size",
        "window-size",
        "strict-O_DIRECT",
        "strict-write-ordering",
        "resync-failed-syncs-after-fsync",
        "pass-through",
    ),
}
# protocol/client transport options, shown only when not the usual value.
_CLIENT_DEFAULTS = {
    "transport-type": ("tcp", "socket"),
    "transport.address-family": ("inet",),
}


def _tree_label(xl: Xlator, annotate: Callable[[Xlator], str] | None = None) -> str:
    label = f"{xl.name} ({xl.type})"
    if annotate is not None:
        label += f" [{annotate(xl)}]"
    shown = [
        f"{key}={xl.options[key]}"
        for key in _TREE_OPTIONS.get(xl.type, ())
        if key in xl.options
    ]
    if xl.type == _CLIENT_TYPE:
        host = xl.options.get("remote-host", "?")
        path = xl.options.get("remote-subvolume", "?")
        label += f" → {host}:{path}"
        shown.extend(
            f"{key}={xl.options[key]}"
            for key, usual in _CLIENT_DEFAULTS.items()
            if xl.options.get(key, usual[0]) not in usual
        )
    if shown:
        label += "  " + " ".join(shown)
    return label


def format_tree(
    graph: Graph, *, annotate: Callable[[Xlator], str] | None = None
) -> str:
    """Draw the graph from the top down, for ``pygluster volfile --graph``.

    One line per xlator, ``name (type)``, indented under its parent with tree
    glyphs; protocol/client lines add ``→ host:/path``, and the options that
    matter to a block-device user follow as ``key=value``.  An xlator reached
    a second time is printed once more, marked ``(see above)``, without its
    children.

    Args:
        graph: the parsed volfile.
        annotate: what the client does with an xlator, as a short word
            (pygluster's CLI passes ``"run"``, ``"skip"`` or ``"refuse"``
            from :func:`pygluster.xlators.graph.plan`; this module stays a
            pure codec and knows no translators).  Shown as ``[word]`` after
            each type, and a summary block follows the tree: the xlator
            types per word, the shard block size, each replicate's quorum
            and the bricks' ping-timeout.

    Returns:
        The tree, one line per xlator, ending with a newline.
    """
    lines: list[str] = []
    expanded: set[str] = set()
    # (xlator, depth, prefix for its own line, prefix for its children's)
    stack: list[tuple[Xlator, int, str, str]] = [(graph.top, 0, "", "")]
    while stack:
        xl, depth, prefix, child_prefix = stack.pop()
        if xl.name in expanded:
            lines.append(f"{prefix}{xl.name} ({xl.type}) (see above)")
            continue
        expanded.add(xl.name)
        lines.append(prefix + _tree_label(xl, annotate))
        last = len(xl.subvolumes) - 1
        if depth + 1 >= _TREE_MAX_INDENT:
            # Deeper levels are not indented further, so that the output
            # stays linear in the graph's size; each line says its depth.
            child_prefix = f"{_TREE_DEEP_INDENT}[depth {depth + 1}] "
        for index in range(last, -1, -1):
            if depth + 1 >= _TREE_MAX_INDENT:
                entry = (child_prefix, child_prefix)
            elif index == last:
                entry = (child_prefix + "└─ ", child_prefix + "   ")
            else:
                entry = (child_prefix + "├─ ", child_prefix + "│  ")
            stack.append((xl.subvolumes[index], depth + 1, *entry))
    if annotate is not None:
        lines.append("")
        lines.extend(_tree_summary(graph, annotate))
    return "\n".join(lines) + "\n"


# Levels drawn with indentation; real graphs are under 15 deep.
_TREE_MAX_INDENT = 32
_TREE_DEEP_INDENT = "   " * _TREE_MAX_INDENT


# Headings of the summary for the words pygluster's CLI annotates with.
_ANNOTATION_HEADINGS = {
    "run": "client runs",
    "skip": "skipped (pass-through)",
    "refuse": "refused",
}
#: network.ping-timeout's default (rpc-clnt-ping.c) when the volfile has none.
_DEFAULT_PING_TIMEOUT = "42"


def _tree_summary(graph: Graph, annotate: Callable[[Xlator], str]) -> list[str]:
    """The summary block under an annotated tree (see :func:`format_tree`)."""
    # Types per annotation, in walk order, counted: "3 x protocol/client".
    groups: dict[str, dict[str, int]] = {word: {} for word in _ANNOTATION_HEADINGS}
    for _, xl in graph.walk():
        types = groups.setdefault(annotate(xl), {})
        types[xl.type] = types.get(xl.type, 0) + 1
    lines = []
    for word, types in groups.items():
        listed = ", ".join(
            # Bricks by count, not type: the tree above names each one.
            (f"{count} brick client{'s' if count > 1 else ''}")
            if name == _CLIENT_TYPE
            else (f"{count} x {name}" if count > 1 else name)
            for name, count in types.items()
        )
        lines.append(f"{_ANNOTATION_HEADINGS.get(word, word)}: {listed or 'none'}")

    shards = [xl for _, xl in graph.walk() if xl.type == "features/shard"]
    if not shards:
        lines.append("shard block size: not sharded")
    for xl in shards:
        size = xl.options.get("shard-block-size")
        lines.append(f"shard block size: {size or '64MB (default)'}")

    quorum = []
    for _, xl in graph.walk():
        count = len(xl.subvolumes)
        if xl.type == "cluster/replicate":
            kind = xl.options.get("quorum-type")
            default = ""
            if kind is None:
                # afr.c fix_quorum_options: unset means auto from 3 children on.
                kind = "auto" if count > 2 else "none"
                default = "; the default"
            if kind == "fixed":
                rule = f"at least {xl.options.get('quorum-count', '?')} of {count}"
            elif kind == "auto":
                rule = f"more than half of {count}"
            else:
                rule = "any one brick"
            quorum.append(f"{xl.name} {kind} ({rule}{default})")
        elif xl.type == "cluster/disperse" and "redundancy" in xl.options:
            redundancy = xl.options["redundancy"]
            if redundancy.isdigit():
                need = count - int(redundancy)
                quorum.append(f"{xl.name} needs {need} of {count} bricks")
    lines.append(f"quorum: {'; '.join(quorum) or 'none (no replicate or disperse)'}")

    clients = [xl for _, xl in graph.walk() if xl.type == _CLIENT_TYPE]
    timeouts = {
        xl.name: (
            f"{xl.options['ping-timeout']} s"
            if "ping-timeout" in xl.options
            else f"{_DEFAULT_PING_TIMEOUT} s (default)"
        )
        for xl in clients
    }
    if len(set(timeouts.values())) == 1:
        value = next(iter(timeouts.values()))
        lines.append(f"ping-timeout: {value}, every brick")
    elif timeouts:
        each = ", ".join(f"{name} {value}" for name, value in timeouts.items())
        lines.append(f"ping-timeout: {each}")
    return lines
