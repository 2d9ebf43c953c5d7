"""DHT placement as pure functions: the name hash, directory layouts, linkto values.

``cluster/distribute`` (DHT) puts every directory on all of its children and
every file on one child, chosen by hashing the file's basename into the
parent directory's *layout*: one 32-bit hash range per child, stored on each
child's copy of the directory in the ``trusted.glusterfs.dht`` xattr.  This
module owns that arithmetic and those byte formats and nothing else: no I/O,
no trio.  ``dht.py`` does the lookups; see docs/topology.md §2.

Sources (``gluster/glusterfs`` at v10.3): ``libglusterfs/src/hashfn.c``
(``gf_dm_hashfn``), ``xlators/cluster/dht/src/dht-hashfn.c`` (name munging),
``dht-shared.c`` (``dht_init_regex``), ``dht-layout.c`` (disk format, search,
anomalies), ``dht-selfheal.c`` (how layouts are generated), ``dht-linkfile.c``
and ``dht-helper.c`` (linkto values, ``dht_subvol_get_hashed``).
"""

from __future__ import annotations

import functools
import re
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pygluster.errors import LayoutHoleError, VolfileError, XdrError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from pygluster._types import BytesLike

__all__ = [
    "DEFAULT_RSYNC_HASH_REGEX",
    "DHT_LAYOUT_XATTR",
    "DHT_LINKTO_XATTR",
    "HASHED_SUBVOL_VXATTR",
    "HASH_MAX",
    "HASH_TYPE_DM",
    "HASH_TYPE_DM_USER",
    "LAYOUT_HASH_INVALID",
    "Layout",
    "LayoutHoleError",
    "LayoutRange",
    "decode_linkto",
    "dm_hash",
    "encode_linkto",
    "hash_name",
    "linkto_subvol_index",
    "munge_name",
]

# --- constants --------------------------------------------------------------

#: The directory layout xattr (dht-shared.c default of option ``xattr-name``).
DHT_LAYOUT_XATTR = "trusted.glusterfs.dht"
#: Linkto xattr: ``xattr-name`` + ".linkto" (dht-shared.c ``link_xattr_name``).
DHT_LINKTO_XATTR = "trusted.glusterfs.dht.linkto"
#: Virtual xattr answered by DHT's getxattr on a directory: GETXATTR of this
#: prefix + a name returns the hashed child's xlator name (dht-common.h
#: ``DHT_DBG_HASHED_SUBVOL_KEY``).  A free oracle for :func:`hash_name`.
HASHED_SUBVOL_VXATTR = "dht.file.hashed-subvol."

#: Largest hash value; layouts cover ``0..HASH_MAX`` inclusive.
HASH_MAX = 0xFFFFFFFF
#: dht-common.h ``DHT_HASH_TYPE_DM``: the normal Davies-Meyer layout.
HASH_TYPE_DM = 0
#: ``DHT_HASH_TYPE_DM_USER``: a layout an admin set by hand.  Same hash.
HASH_TYPE_DM_USER = 1
#: dht-common.h ``DHT_LAYOUT_HASH_INVALID``: commit hash meaning "this
#: directory is not known to be balanced" (so lookup-optimize cannot trust a
#: miss on the hashed child).
LAYOUT_HASH_INVALID = 1

#: The rsync temp-file pattern gluster compiles when the volume does not set
#: ``cluster.rsync-hash-regex`` (dht-shared.c ``dht_init_regex``; the option
#: table has no default because "setting a default here doesn't work").  It is
#: a POSIX ERE, compiled with ``REG_EXTENDED`` and searched with ``regexec``.
DEFAULT_RSYNC_HASH_REGEX = r"^\.(.+)\.[^.]+$"

_M32 = 0xFFFFFFFF
_DM_DELTA = 0x9E3779B9  # hashfn.c DM_DELTA, the TEA constant
_DM_FULLROUNDS = 10  # hashfn.c: rounds for the final (padded) block
_DM_PARTROUNDS = 6  # hashfn.c: rounds for each full 16-byte block
_DM_H0 = 0x9464A485  # hashfn.c gf_dm_hashfn initial h0
_DM_H1 = 0x542E1A94  # hashfn.c gf_dm_hashfn initial h1

_QUAD = struct.Struct("<4I")  # hashfn.c: le32toh(*intmsg), four at a time
_WORD = struct.Struct("<I")
_DISK_LAYOUT = struct.Struct(">4I")  # dht-layout.c: hton32 x 4
# What surrogateescape turns undecodable bytes 0x80-0xff into.
_INVALID_UTF8 = re.compile("[\udc80-\udcff]")


# --- the hash ---------------------------------------------------------------


def _dm_round(
    a0: int, a1: int, a2: int, a3: int, h0: int, h1: int, rounds: int
) -> tuple[int, int]:
    # hashfn.c dm_round: a TEA-style Feistel round keyed by the message words,
    # fed forward into (h0, h1): the Davies-Meyer construction.  All uint32
    # arithmetic, so every sum is masked; `sum` restarts at 0 for each block.
    total = 0
    b0 = h0
    b1 = h1
    for _ in range(rounds):
        total = (total + _DM_DELTA) & _M32
        b0 = (b0 + _dm_mix(b1, a0, a1, total)) & _M32
        b1 = (b1 + _dm_mix(b0, a2, a3, total)) & _M32
    return (h0 + b0) & _M32, (h1 + b1) & _M32


def _dm_mix(b: int, k0: int, k1: int, total: int) -> int:
    # One half of the round, the same for both halves but for the words:
    # ((b << 4) + k0) ^ (b + sum) ^ ((b >> 5) + k1), each term uint32.
    return (((b << 4) + k0) & _M32) ^ ((b + total) & _M32) ^ (((b >> 5) + k1) & _M32)


def dm_hash(name: BytesLike) -> int:
    """Gluster's Davies-Meyer hash (``gf_dm_hashfn``) of raw bytes.

    This is the hash alone, with no name munging: :func:`hash_name` is what
    DHT applies to a file name.

    Args:
        name: the bytes to hash (gluster passes ``strlen(name)`` bytes of a
            C string, so real inputs never contain NUL; this function does
            not care).

    Returns:
        The hash as an unsigned 32-bit int.
    """
    data = bytes(name)
    length = len(data)
    # hashfn.c __pad: the length byte replicated into all four bytes.  `len`
    # is an int converted to uint32, so only its low bits survive.
    pad = (length | (length << 8)) & _M32
    pad = (pad | (pad << 16)) & _M32
    h0, h1 = _DM_H0, _DM_H1
    offset = 0
    # Every complete 16-byte block gets the partial round count ...
    while length - offset >= 16:
        a0, a1, a2, a3 = _QUAD.unpack_from(data, offset)
        h0, h1 = _dm_round(a0, a1, a2, a3, h0, h1, _DM_PARTROUNDS)
        offset += 16
    # ... and then there is always one final block of four words, even when
    # the message is empty or a multiple of 16 bytes long (that block is then
    # pure padding).
    words: list[int] = []
    for _ in range(4):
        if length - offset >= 4:
            words.append(_WORD.unpack_from(data, offset)[0])
            offset += 4
            continue
        word = pad
        # The first slot that has no whole word left swallows the 0-3 tail
        # bytes: `array[j] <<= 8; array[j] |= msg[len - full_bytes]`.  `msg`
        # is `const char *`, signed on x86, so a byte >= 0x80 is sign-extended
        # before the OR and sets the upper 24 bits (0xc3 → 0xffffffc3).  The
        # servers we talk to are x86; an unsigned-char (e.g. aarch64) build
        # of gluster would place non-ASCII names differently.
        while offset < length:
            byte = data[offset]
            offset += 1
            extended = byte | 0xFFFFFF00 if byte & 0x80 else byte
            word = ((word << 8) & _M32) | extended
        words.append(word)
    h0, h1 = _dm_round(words[0], words[1], words[2], words[3], h0, h1, _DM_FULLROUNDS)
    return h0 ^ h1


# --- name munging -----------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _compile(option: str, pattern: str) -> re.Pattern[str]:
    # dht-shared.c compiles with REG_EXTENDED and no REG_NEWLINE, so `.` and
    # `[^.]` match a newline: DOTALL.  POSIX `$` matches only at the very end,
    # while Python's also matches before a final "\n"; for the default pattern
    # we use the exact equivalent with `\Z`.  Other patterns are Python regex
    # syntax, which agrees with POSIX ERE for ordinary patterns but not for
    # every construct (character classes like [[:alpha:]], back-references,
    # leftmost-longest alternation).
    if pattern == DEFAULT_RSYNC_HASH_REGEX:
        pattern = r"^\.(.+)\.[^.]+\Z"
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error as exc:
        # Gluster logs "compiling regex ... failed" and silently stops
        # munging; refusing is kinder than hashing differently from it.
        raise VolfileError(
            f"option {option} = {pattern!r} is not a usable regex: {exc}"
        ) from exc


def _munge(name: str, option: str, pattern: str) -> str | None:
    # dht-hashfn.c dht_munge_name: regexec (a search, not a full match) with
    # room for two matches; the name is replaced by sub-match 1 only when the
    # pattern matched *and* group 1 took part (rm_so != -1).  An empty group 1
    # counts: the munged name is then "".
    compiled = _compile(option, pattern)
    if compiled.groups < 1:
        return None
    match = compiled.search(name)
    if match is None:
        return None
    # In a UTF-8 locale glibc's regexec lets no pattern element match a byte
    # that is not valid UTF-8 (checked with regcomp/regexec under C.UTF-8 and
    # against a FUSE mount: ".\xff.x" is not munged; under the C locale it
    # would be).  Such bytes are surrogate escapes here, so a match that
    # spans one is refused.  That is exact for the default pattern, which
    # must span the whole name, and for any pattern anchored at both ends.
    if _INVALID_UTF8.search(name, match.start(), match.end()):
        return None
    return match.group(1)


def munge_name(
    name: str | bytes,
    *,
    rsync_hash_regex: str | None = DEFAULT_RSYNC_HASH_REGEX,
    extra_hash_regex: str | None = None,
) -> bytes:
    """The bytes DHT actually hashes for ``name`` (``dht_hash_compute``).

    The rules, in gluster's order (dht-hashfn.c):

    1. If ``extra-hash-regex`` is set and matches with group 1, hash group 1.
    2. Else if ``rsync-hash-regex`` matches with group 1, hash group 1.  It
       is on by default with :data:`DEFAULT_RSYNC_HASH_REGEX`, so rsync's
       ``.NAME.XXXXXX`` temp files hash like ``NAME``: ``.foo.img.swp``
       hashes as ``foo.img``, while ``.bashrc`` and ``.a.`` do not match.
       The literal value ``none`` (or ``None``) turns it off.
    3. Else hash the name unchanged.

    Matching follows glibc ``regexec`` in a UTF-8 locale, which is what a
    gluster client asks for: a name that is not valid UTF-8 is never munged
    by the default pattern (a client running in the C locale would munge it
    bytewise).  Custom patterns use Python ``re`` syntax with ``DOTALL``,
    which agrees with POSIX ERE for ordinary patterns.

    Args:
        name: a basename (or, for layout generation, a directory path).
            ``str`` is encoded as UTF-8 with ``surrogateescape``, so names
            read as ``os.fsdecode`` text round-trip to their on-disk bytes;
            ``bytes`` are used as they are.
        rsync_hash_regex: the volume's ``cluster.rsync-hash-regex``.
        extra_hash_regex: the volume's ``cluster.extra-hash-regex``.

    Returns:
        The bytes to feed to :func:`dm_hash`.

    Raises:
        ValueError: ``name`` contains NUL (gluster names are C strings), or
            is a ``str`` with surrogates that are not ``surrogateescape``
            bytes.
        VolfileError: a regex does not compile.
    """
    text = name.decode("utf-8", "surrogateescape") if isinstance(name, bytes) else name
    if "\0" in text:
        raise ValueError(f"embedded NUL in name {text!r}")
    # The regexes run on text, not bytes: glusterfs calls
    # setlocale(LC_ALL, "en_US.UTF-8") in logging.c (falling back to the
    # environment's locale, usually C.UTF-8), so regexec matches characters.
    # For valid UTF-8 bytes and characters give the same group, since '.'
    # never occurs inside a UTF-8 sequence; for invalid bytes see _munge.
    munged: str | None = None
    if extra_hash_regex is not None and extra_hash_regex != "none":
        munged = _munge(text, "extra-hash-regex", extra_hash_regex)
    if munged is None and rsync_hash_regex is not None and rsync_hash_regex != "none":
        munged = _munge(text, "rsync-hash-regex", rsync_hash_regex)
    return (text if munged is None else munged).encode("utf-8", "surrogateescape")


def hash_name(
    name: str | bytes,
    *,
    rsync_hash_regex: str | None = DEFAULT_RSYNC_HASH_REGEX,
    extra_hash_regex: str | None = None,
) -> int:
    """Hash a file name the way DHT does to pick its hashed child.

    ``dm_hash(munge_name(name, ...))``; see :func:`munge_name` for the rules
    and arguments.  For the layout start of a new directory gluster hashes
    the directory's full path (``/vms``) through the same function.

    Returns:
        The unsigned 32-bit hash.

    Raises:
        ValueError: ``name`` contains NUL.
        VolfileError: a regex does not compile.
    """
    return dm_hash(
        munge_name(
            name,
            rsync_hash_regex=rsync_hash_regex,
            extra_hash_regex=extra_hash_regex,
        )
    )


# --- layouts ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LayoutRange:
    """One child's hash range, both ends inclusive as gluster stores them.

    Attributes:
        start: first hash value of the range.
        stop: last hash value of the range (inclusive).
        subvol_index: the child's position in the distribute's
            ``subvolumes`` line of the volfile.
    """

    start: int
    stop: int
    subvol_index: int

    def __post_init__(self) -> None:
        if not (0 <= self.start <= HASH_MAX and 0 <= self.stop <= HASH_MAX):
            raise ValueError(
                f"layout range 0x{self.start:x}-0x{self.stop:x} is not 32-bit"
            )
        if self.subvol_index < 0:
            raise ValueError(f"negative subvolume index {self.subvol_index}")

    def __contains__(self, hash_value: object) -> bool:
        # dht-layout.c dht_layout_search: start <= hash && stop >= hash, on
        # uint32_t, so an inverted range (stop < start) contains nothing.
        return isinstance(hash_value, int) and self.start <= hash_value <= self.stop

    def to_xattr(
        self, *, commit_hash: int = LAYOUT_HASH_INVALID, hash_type: int = HASH_TYPE_DM
    ) -> bytes:
        """Encode as the 16-byte ``trusted.glusterfs.dht`` value.

        That is what DHT writes on heal and also sends in CREATE's xdata so
        the brick can check that the parent's layout has not changed
        (``dht_disk_layout_extract``).

        Args:
            commit_hash: word 0; 1 (:data:`LAYOUT_HASH_INVALID`) is what a
                heal without a volume commit hash writes.
            hash_type: word 1, :data:`HASH_TYPE_DM` or
                :data:`HASH_TYPE_DM_USER`.

        Returns:
            Four big-endian uint32: commit hash, type, start, stop.

        Raises:
            XdrError: ``commit_hash`` or ``hash_type`` is not a uint32.
        """
        try:
            return _DISK_LAYOUT.pack(commit_hash, hash_type, self.start, self.stop)
        except struct.error as exc:
            raise XdrError(f"cannot encode layout word: {exc}") from exc


def _parse_disk_layout(index: int, value: bytes) -> tuple[int, int, int, int]:
    # dht-layout.c dht_disk_layout_merge: exactly 16 bytes (a GF_ASSERT, so a
    # release build would copy whatever length arrived into a 16-byte array:
    # we refuse instead), then ntoh32 on each of commit hash, type, start and
    # stop.  Only types DM and DM_USER are accepted; gluster logs anything
    # else as "invalid disk layout" and drops that child's entry.
    if len(value) != _DISK_LAYOUT.size:
        raise XdrError(
            f"{DHT_LAYOUT_XATTR} of child {index} is {len(value)} bytes, "
            f"expected {_DISK_LAYOUT.size}: {bytes(value).hex()}"
        )
    commit_hash, hash_type, start, stop = _DISK_LAYOUT.unpack(value)
    if hash_type not in (HASH_TYPE_DM, HASH_TYPE_DM_USER):
        raise XdrError(
            f"{DHT_LAYOUT_XATTR} of child {index} has hash type {hash_type}, "
            f"expected {HASH_TYPE_DM} (DM) or {HASH_TYPE_DM_USER} (DM_USER): "
            f"{bytes(value).hex()}"
        )
    return commit_hash, hash_type, start, stop


@dataclass(frozen=True, slots=True)
class Layout:
    """A directory's layout: which child owns which part of the hash space.

    Build it with :meth:`from_xattrs` (the values read from each child),
    :meth:`single` (a distribute with one child) or :meth:`even` (what
    gluster writes for a new directory on equal bricks).

    Attributes:
        n_children: number of children of the distribute xlator.
        ranges: the participating ranges, sorted by ``(start, stop,
            subvol_index)``.  A child with no value, or with the all-zero
            range gluster gives a non-participating child, has none.
        commit_hash: the directory's commit hash as merged by
            ``dht_layout_merge`` (0 = none, 1 = :data:`LAYOUT_HASH_INVALID`).
        hash_type: :data:`HASH_TYPE_DM_USER` if any child says so, else
            :data:`HASH_TYPE_DM`; both hash names the same way.
        missing: children whose value was ``None`` (no xattr, or the lookup
            failed).
    """

    n_children: int
    ranges: tuple[LayoutRange, ...]
    commit_hash: int = 0
    hash_type: int = HASH_TYPE_DM
    missing: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.n_children < 1:
            raise ValueError("a distribute xlator has at least one child")
        ordered = tuple(
            sorted(self.ranges, key=lambda r: (r.start, r.stop, r.subvol_index))
        )
        for entry in ordered:
            if entry.subvol_index >= self.n_children:
                raise ValueError(
                    f"range for child {entry.subvol_index} in a layout of "
                    f"{self.n_children} children"
                )
        object.__setattr__(self, "ranges", ordered)

    @classmethod
    def from_xattrs(cls, values: Sequence[bytes | None]) -> Layout:
        """Merge the per-child ``trusted.glusterfs.dht`` values of a directory.

        With a single child the values are ignored and the result is
        :meth:`single`: gluster makes a one-child DHT a pass-through
        (``dht_init_subvolumes`` sets ``pass_through``) and never writes or
        reads a layout for it.

        Args:
            values: one entry per child, in the order of the distribute's
                ``subvolumes`` line; ``None`` where the child has no such
                xattr or could not be asked.

        Returns:
            The merged layout.  Check :attr:`is_complete` before trusting
            it; a fresh volume's root has no layout at all until a client's
            self-heal writes one.

        Raises:
            XdrError: a value is not 16 bytes or has an unknown hash type.
                (Gluster would log it, treat the child as having no layout
                and heal the directory.)
            ValueError: ``values`` is empty.
        """
        if not values:
            raise ValueError("a distribute xlator has at least one child")
        if len(values) == 1:
            return cls.single()
        ranges: list[LayoutRange] = []
        missing: list[int] = []
        commits: set[int] = set()
        hash_type = HASH_TYPE_DM
        for index, value in enumerate(values):
            if value is None:
                missing.append(index)
                continue
            commit, kind, start, stop = _parse_disk_layout(index, value)
            commits.add(commit)
            if kind == HASH_TYPE_DM_USER:
                hash_type = kind
            # dht_layout_anomalies skips a child whose start == stop as "not
            # participating" (spread count < children); heal gives such a
            # child 0-0.  dht_layout_search would still match hash 0 against
            # a 0-0 entry, first after its unstable qsort; we leave such
            # entries out so hash 0 goes to the child that really owns it.
            if start == 0 and stop == 0:
                continue
            ranges.append(LayoutRange(start, stop, index))
        # dht_layout_merge folds commit hashes in reply order: the first
        # non-zero one sticks and any disagreement makes it INVALID.  Reply
        # order is arbitrary, so we use the order-free version: all equal →
        # that value, otherwise INVALID.
        if not commits:
            commit_hash = 0
        elif len(commits) == 1:
            (commit_hash,) = commits
        else:
            commit_hash = LAYOUT_HASH_INVALID
        return cls(
            n_children=len(values),
            ranges=tuple(ranges),
            commit_hash=commit_hash,
            hash_type=hash_type,
            missing=tuple(missing),
        )

    @classmethod
    def single(cls) -> Layout:
        """The layout of a distribute with exactly one child.

        Gluster writes no ``trusted.glusterfs.dht`` for it (every pure
        replicate or disperse volume is one), and every name goes to child 0.
        """
        return cls(n_children=1, ranges=(LayoutRange(0, HASH_MAX, 0),))

    @classmethod
    def even(
        cls,
        child_names: Sequence[str],
        dir_path: str = "/",
        *,
        commit_hash: int = LAYOUT_HASH_INVALID,
    ) -> Layout:
        """The layout gluster's self-heal writes for a new directory.

        It follows ``dht_selfheal_layout_new_directory`` for equal weights
        (``weighted-rebalance off``, or bricks of equal size, where float
        rounding can still move a boundary by one), every child up and no
        ``directory-layout-spread``: the children are taken in ``strcmp``
        order of their names (so ``x-client-10`` before ``x-client-2``), the
        walk starts at ``hash_name(dir_path) % n`` in that order, each child
        gets ``(uint32)(0xffffffff / n)`` values and the last one's stop is
        forced to 0xffffffff.

        Args:
            child_names: the children's xlator names in volfile order.
            dir_path: the directory's path from the volume root, e.g. ``/``
                or ``/vms``.
            commit_hash: the commit hash the layout carries.

        Returns:
            The layout, with child indexes in volfile order.
        """
        count = len(child_names)
        if count < 1:
            raise ValueError("a distribute xlator has at least one child")
        if count == 1:
            return cls.single()
        order = sorted(range(count), key=lambda i: child_names[i].encode())
        first = hash_name(dir_path) % count
        size = int(float(HASH_MAX) / count)  # double chunk, cast to uint32
        ranges: list[LayoutRange] = []
        start = 0
        for step in range(count):
            index = order[(first + step) % count]
            stop = HASH_MAX if step == count - 1 else start + size - 1
            ranges.append(LayoutRange(start, stop, index))
            start += size
        return cls(n_children=count, ranges=tuple(ranges), commit_hash=commit_hash)

    def subvol_for(self, hash_value: int) -> int:
        """The child whose range contains ``hash_value``.

        Like ``dht_layout_search``: the first range, in start order, that
        contains the hash.  With overlapping ranges gluster's choice depends
        on an unstable qsort; ours is the lowest ``(start, stop, index)``.

        Args:
            hash_value: a 32-bit hash from :func:`hash_name`.

        Returns:
            The child's index in volfile order.

        Raises:
            LayoutHoleError: no range contains the hash.
            ValueError: ``hash_value`` is not a 32-bit unsigned int.
        """
        if not 0 <= hash_value <= HASH_MAX:
            raise ValueError(f"hash {hash_value} is not a 32-bit unsigned int")
        for entry in self.ranges:
            if entry.start > hash_value:
                break
            if hash_value <= entry.stop:
                return entry.subvol_index
        raise LayoutHoleError(hash_value)

    def subvol_for_name(
        self,
        name: str | bytes,
        *,
        rsync_hash_regex: str | None = DEFAULT_RSYNC_HASH_REGEX,
        extra_hash_regex: str | None = None,
    ) -> int:
        """The hashed child of ``name`` in this directory.

        ``subvol_for(hash_name(name, ...))``; the keyword arguments are the
        volume's regex options (see :func:`munge_name`).

        Raises:
            LayoutHoleError: the name's hash falls in a hole.
        """
        if self.n_children == 1:
            return 0  # pass-through: no hashing at all
        return self.subvol_for(
            hash_name(
                name,
                rsync_hash_regex=rsync_hash_regex,
                extra_hash_regex=extra_hash_regex,
            )
        )

    def range_for(self, subvol_index: int) -> LayoutRange | None:
        """The range of one child, or None if it has none."""
        for entry in self.ranges:
            if entry.subvol_index == subvol_index:
                return entry
        return None

    @property
    def is_complete(self) -> bool:
        """True if the ranges cover 0..0xffffffff exactly once.

        No holes, no overlaps, no inverted ranges: what
        ``dht_layout_normalize`` accepts without asking for a heal.
        Children with no range do not count against it.
        """
        expected = 0
        for entry in self.ranges:
            if entry.start != expected or entry.stop < entry.start:
                return False
            expected = entry.stop + 1
        return expected == HASH_MAX + 1

    def holes(self) -> list[tuple[int, int]]:
        """Inclusive hash intervals that no range covers."""
        gaps: list[tuple[int, int]] = []
        expected = 0
        for entry in _valid(self.ranges):
            if entry.start > expected:
                gaps.append((expected, entry.start - 1))
            expected = max(expected, entry.stop + 1)
        if expected <= HASH_MAX:
            gaps.append((expected, HASH_MAX))
        return gaps


def _valid(ranges: Iterable[LayoutRange]) -> Iterable[LayoutRange]:
    return (entry for entry in ranges if entry.start <= entry.stop)


# --- linkto files -------------------------------------------------------------


def decode_linkto(value: bytes) -> str:
    """The target child named by a ``trusted.glusterfs.dht.linkto`` value.

    DHT writes the target's xlator name with ``dict_set_str``, which stores
    the C string including its NUL (dht-linkfile.c ``dht_linkfile_create``;
    on disk ``pyg_dist-client-1\\0``), and compares it with ``strcmp``
    (``dht_linkfile_subvol``), so anything after the first NUL is ignored.

    Args:
        value: the raw xattr value.

    Returns:
        The xlator name, e.g. ``pyg_dist-client-1``.

    Raises:
        XdrError: the value is empty or not UTF-8.
    """
    raw = bytes(value).split(b"\0", 1)[0]
    if not raw:
        raise XdrError(f"empty {DHT_LINKTO_XATTR} value: {bytes(value).hex()}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise XdrError(
            f"{DHT_LINKTO_XATTR} value is not UTF-8: {bytes(value).hex()}"
        ) from exc


def encode_linkto(subvol_name: str) -> bytes:
    """The ``trusted.glusterfs.dht.linkto`` value for a target child.

    Raises:
        ValueError: the name is empty or contains NUL.
    """
    if not subvol_name or "\0" in subvol_name:
        raise ValueError(f"not an xlator name: {subvol_name!r}")
    return subvol_name.encode("utf-8") + b"\0"


def linkto_subvol_index(value: bytes, child_names: Sequence[str]) -> int | None:
    """Resolve a linkto value to a child index, as ``dht_linkfile_subvol`` does.

    Args:
        value: the raw ``trusted.glusterfs.dht.linkto`` value.
        child_names: the distribute's children in volfile order.

    Returns:
        The index of the named child, or None when it names no child of this
        distribute (gluster then looks the file up on every child).

    Raises:
        XdrError: the value is empty or not UTF-8.
    """
    target = decode_linkto(value)
    for index, name in enumerate(child_names):
        if name == target:
            return index
    return None
