"""DHT hash, name munging, layout decode/search and linkto values (pure)."""

from __future__ import annotations

import itertools
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygluster.errors import GlusterError, VolfileError, XdrError
from pygluster.xlators.dht_layout import (
    DEFAULT_RSYNC_HASH_REGEX,
    HASH_MAX,
    HASH_TYPE_DM_USER,
    LAYOUT_HASH_INVALID,
    Layout,
    LayoutHoleError,
    LayoutRange,
    decode_linkto,
    dm_hash,
    encode_linkto,
    hash_name,
    linkto_subvol_index,
    munge_name,
)

# gf_dm_hashfn of these bytes, computed by the installed glusterfs 10.3
# libglusterfs.so.0 (x86_64) through ctypes; tests/integration/
# test_dht_oracle.py re-checks the function against that library and checks
# placement of the names against a FUSE mount's dht.file.hashed-subvol.*.
DM_HASH_VECTORS: list[tuple[bytes, int]] = [
    (b"", 0x884774A2),  # empty: one all-padding block (pad word 0)
    (b"x", 0xBA644973),  # one byte, absorbed into the first pad slot
    (b"abcd", 0xD89627F6),  # exactly one word, then three pad words
    (b"abcdefgh", 0x63A1121E),  # 8 bytes: two words
    (b"0123456789abcdef", 0x6ECB5ADA),  # 16: one 6-round block + pad block
    (b"0123456789abcdef0", 0x795EF9C7),  # 17: one tail byte after the block
    (b"a" * 100, 0xEFED40CB),  # 6 blocks, one word and no tail
    (b"vm-100-disk-0.raw", 0xA0966AB5),
    (b"README", 0xFB324164),
    (b"/", 0x8619BD58),  # the root path: the root layout starts on child 1 of 3
    ("é".encode(), 0x65CFCAA1),  # tail bytes >= 0x80 are sign-extended
    ("日本語.img".encode(), 0x27E59549),
    ("ñandú-ß.qcow2".encode(), 0x72D9B711),
    (b"\xff", 0xEE42408A),  # not UTF-8 at all
    (b"\x80\x81\x82", 0x961D2FB7),
    (b"\x00", 0x27F3BD3B),  # dm_hash itself takes any bytes
]

# Root layout of pyg_dist as gluster's self-heal wrote it on b1..b3 (read with
# getfattr after the first FUSE lookup of "/"): commit hash 1, type DM.
PYG_DIST_ROOT = [
    bytes.fromhex("0000000100000000aaaaaaaaffffffff"),
    bytes.fromhex("00000001000000000000000055555554"),
    bytes.fromhex("000000010000000055555555aaaaaaa9"),
]
PYG_DIST_CHILDREN = ["pyg_dist-client-0", "pyg_dist-client-1", "pyg_dist-client-2"]


def disk(start: int, stop: int, commit: int = 1, kind: int = 0) -> bytes:
    return struct.pack(">4I", commit, kind, start, stop)


class TestDmHash:
    @pytest.mark.parametrize(("data", "expected"), DM_HASH_VECTORS)
    def test_vectors(self, data: bytes, expected: int) -> None:
        assert dm_hash(data) == expected

    def test_signed_char_tail(self) -> None:
        # The unsigned-char variant would give 0xbff26769 for "é"
        # (docs/topology.md §2.1); gluster on x86 sign-extends.
        assert dm_hash("é".encode()) != 0xBFF26769

    def test_accepts_bytearray_and_memoryview(self) -> None:
        assert dm_hash(bytearray(b"README")) == 0xFB324164
        assert dm_hash(memoryview(b"xREADME")[1:]) == 0xFB324164


class TestHashName:
    def test_plain_name(self) -> None:
        assert hash_name("vm-100-disk-0.raw") == 0xA0966AB5
        assert hash_name(b"vm-100-disk-0.raw") == 0xA0966AB5

    def test_utf8(self) -> None:
        assert hash_name("ñandú-ß.qcow2") == 0x72D9B711

    def test_surrogateescape_round_trips_raw_bytes(self) -> None:
        assert hash_name(b"\xff".decode("utf-8", "surrogateescape")) == 0xEE42408A
        assert hash_name(b"\x80\x81\x82") == 0x961D2FB7

    @pytest.mark.parametrize(
        ("name", "hashed"),
        [
            (".tmpfile.img.XyZ12", b"tmpfile.img"),
            (".foo.img.swp", b"foo.img"),
            (".f1.img.abcdef", b"f1.img"),
            (".a.b", b"a"),
            ("..x.y", b".x"),
            (".é.ñ", "é".encode()),
            (".x\n.y", b"x\n"),  # POSIX '.' matches newline (no REG_NEWLINE)
            (".x.y\n", b"x"),  # and so does [^.]
            # a UTF-8 locale: bytes that are not UTF-8 match no pattern element
            (b".\xff.x".decode("utf-8", "surrogateescape"), b".\xff.x"),
            (b".a.b\xff".decode("utf-8", "surrogateescape"), b".a.b\xff"),
            # no match: hashed unchanged
            (".bashrc", b".bashrc"),
            ("foo.img.swp", b"foo.img.swp"),
            (".a.", b".a."),  # [^.]+ needs at least one character
            ("..x", b"..x"),  # (.+) needs at least one character
            ("/.foo.bar", b"/.foo.bar"),  # paths never match: they start with /
        ],
    )
    def test_rsync_munging(self, name: str, hashed: bytes) -> None:
        assert munge_name(name) == hashed
        assert hash_name(name) == dm_hash(hashed)

    def test_rsync_regex_off(self) -> None:
        for off in (None, "none"):
            assert munge_name(".foo.img.swp", rsync_hash_regex=off) == b".foo.img.swp"

    def test_default_is_gluster_pattern(self) -> None:
        assert DEFAULT_RSYNC_HASH_REGEX == r"^\.(.+)\.[^.]+$"
        assert hash_name(".tmpfile.img.XyZ12") == 0x6BCDC6E3
        assert hash_name(".tmpfile.img.XyZ12", rsync_hash_regex=None) == 0x1F5D85CC

    def test_extra_regex_first(self) -> None:
        extra = r"^(.+)\.part$"
        assert munge_name("big.iso.part", extra_hash_regex=extra) == b"big.iso"
        # extra wins over rsync when both match
        assert munge_name(".a.b.part", extra_hash_regex=extra) == b".a.b"
        # extra does not match: rsync still applies
        assert munge_name(".a.b", extra_hash_regex=extra) == b"a"

    def test_regex_without_group_does_not_munge(self) -> None:
        assert munge_name("abc", extra_hash_regex="b") == b"abc"
        # group 1 exists but did not take part: no munging either
        assert munge_name("abc", extra_hash_regex="(x)|b") == b"abc"

    def test_empty_group_munges_to_empty(self) -> None:
        assert munge_name("abc", extra_hash_regex="(x*)") == b""
        assert hash_name("abc", extra_hash_regex="(x*)") == 0x884774A2

    def test_bad_regex(self) -> None:
        with pytest.raises(VolfileError, match="extra-hash-regex"):
            hash_name("a", extra_hash_regex="(")

    def test_nul_rejected(self) -> None:
        with pytest.raises(ValueError, match="NUL"):
            hash_name("a\0b")


class TestLayoutDecode:
    def test_pyg_dist_root(self) -> None:
        layout = Layout.from_xattrs(PYG_DIST_ROOT)
        assert layout.n_children == 3
        assert layout.ranges == (
            LayoutRange(0x00000000, 0x55555554, 1),
            LayoutRange(0x55555555, 0xAAAAAAA9, 2),
            LayoutRange(0xAAAAAAAA, 0xFFFFFFFF, 0),
        )
        assert layout.commit_hash == LAYOUT_HASH_INVALID
        assert layout.is_complete
        assert layout.holes() == []
        assert layout.missing == ()
        assert layout == Layout.even(PYG_DIST_CHILDREN, "/")

    def test_search(self) -> None:
        layout = Layout.from_xattrs(PYG_DIST_ROOT)
        assert layout.subvol_for(0) == 1
        assert layout.subvol_for(0x55555554) == 1
        assert layout.subvol_for(0x55555555) == 2
        assert layout.subvol_for(0xAAAAAAAA) == 0
        assert layout.subvol_for(HASH_MAX) == 0
        assert layout.subvol_for_name("README") == 0  # 0xfb324164
        assert layout.subvol_for_name("vm-100-disk-0.raw") == 2  # 0xa0966ab5
        assert layout.subvol_for_name("x") == 0  # 0xba644973
        assert layout.subvol_for_name("/") == 2  # 0x8619bd58
        assert layout.subvol_for_name("é") == 2  # 0x65cfcaa1
        assert layout.subvol_for_name(b"\xff") == 0  # 0xee42408a

    def test_round_trip_to_xattr(self) -> None:
        layout = Layout.from_xattrs(PYG_DIST_ROOT)
        for index, value in enumerate(PYG_DIST_ROOT):
            entry = layout.range_for(index)
            assert entry is not None
            assert entry.to_xattr(commit_hash=1) == value

    def test_fresh_volume_has_no_layout(self) -> None:
        layout = Layout.from_xattrs([None, None, None])
        assert not layout.is_complete
        assert layout.missing == (0, 1, 2)
        assert layout.holes() == [(0, HASH_MAX)]
        with pytest.raises(LayoutHoleError) as info:
            layout.subvol_for(5)
        assert info.value.hash == 5
        assert isinstance(info.value, LookupError)
        assert isinstance(info.value, GlusterError)

    def test_hole(self) -> None:
        layout = Layout.from_xattrs(
            [disk(0, 0x7FFFFFFE), None, disk(0x80000000, HASH_MAX)]
        )
        assert not layout.is_complete
        assert layout.missing == (1,)
        assert layout.holes() == [(0x7FFFFFFF, 0x7FFFFFFF)]
        assert layout.subvol_for(0x7FFFFFFE) == 0
        assert layout.subvol_for(0x80000000) == 2
        with pytest.raises(LayoutHoleError, match="0x7fffffff"):
            layout.subvol_for(0x7FFFFFFF)

    def test_overlap_is_incomplete_first_start_wins(self) -> None:
        layout = Layout.from_xattrs([disk(0, 0x90000000), disk(0x80000000, HASH_MAX)])
        assert not layout.is_complete
        assert layout.subvol_for(0x85000000) == 0
        assert layout.subvol_for(0x95000000) == 1

    def test_zero_range_is_not_participating(self) -> None:
        # directory-layout-spread < children: heal gives the rest 0-0.
        layout = Layout.from_xattrs([disk(0, 0), disk(0, HASH_MAX), disk(0, 0)])
        assert layout.is_complete
        assert layout.subvol_for(0) == 1
        assert layout.range_for(0) is None

    def test_inverted_range_contains_nothing(self) -> None:
        layout = Layout.from_xattrs([disk(10, 5), disk(0, HASH_MAX)])
        assert not layout.is_complete
        assert layout.subvol_for(7) == 1
        assert 7 not in LayoutRange(10, 5, 0)

    def test_commit_hash_merge(self) -> None:
        same = Layout.from_xattrs([disk(0, 9, commit=7), disk(10, HASH_MAX, commit=7)])
        assert same.commit_hash == 7
        mixed = Layout.from_xattrs([disk(0, 9, commit=7), disk(10, HASH_MAX, 0)])
        assert mixed.commit_hash == LAYOUT_HASH_INVALID

    def test_user_layout_type(self) -> None:
        layout = Layout.from_xattrs(
            [disk(0, 9, kind=HASH_TYPE_DM_USER), disk(10, HASH_MAX)]
        )
        assert layout.hash_type == HASH_TYPE_DM_USER

    @pytest.mark.parametrize(
        "value", [b"", b"\0" * 15, b"\0" * 17, PYG_DIST_ROOT[0] * 2]
    )
    def test_wrong_length(self, value: bytes) -> None:
        with pytest.raises(XdrError, match="child 1 is"):
            Layout.from_xattrs([PYG_DIST_ROOT[0], value])

    def test_unknown_type(self) -> None:
        with pytest.raises(XdrError, match="hash type 2"):
            Layout.from_xattrs([disk(0, 5, kind=2), None])

    def test_no_children(self) -> None:
        with pytest.raises(ValueError, match="at least one child"):
            Layout.from_xattrs([])

    def test_single_child(self) -> None:
        single = Layout.single()
        assert single.is_complete
        assert single.subvol_for(0) == single.subvol_for(HASH_MAX) == 0
        assert single.subvol_for_name("anything") == 0
        # one child: DHT is a pass-through, on-disk values are irrelevant
        assert Layout.from_xattrs([None]) == single
        assert Layout.from_xattrs([b"garbage"]) == single
        assert Layout.even(["v-replicate-0"]) == single

    def test_hash_out_of_range(self) -> None:
        with pytest.raises(ValueError, match="32-bit"):
            Layout.single().subvol_for(HASH_MAX + 1)

    def test_range_validation(self) -> None:
        with pytest.raises(ValueError, match="32-bit"):
            LayoutRange(0, HASH_MAX + 1, 0)
        with pytest.raises(ValueError, match="child 3"):
            Layout(n_children=3, ranges=(LayoutRange(0, HASH_MAX, 3),))

    def test_to_xattr_range_checked(self) -> None:
        with pytest.raises(XdrError):
            LayoutRange(0, 1, 0).to_xattr(commit_hash=-1)


class TestEven:
    def test_two_children(self) -> None:
        # "/" % 2 == 0: child 0 starts (docs/topology.md §2.4, tp_dr root)
        layout = Layout.even(["v-replicate-0", "v-replicate-1"], "/")
        assert layout.ranges == (
            LayoutRange(0, 0x7FFFFFFE, 0),
            LayoutRange(0x7FFFFFFF, HASH_MAX, 1),
        )

    def test_strcmp_order(self) -> None:
        names = [f"v-client-{i}" for i in range(11)]
        layout = Layout.even(names, "/")
        # strcmp order is 0, 1, 10, 2, ..., 9 and "/" % 11 == 10 picks the
        # last of those, client-9, to start at 0; the walk then wraps.
        assert hash_name("/") % 11 == 10
        assert [r.subvol_index for r in layout.ranges] == [
            9,
            0,
            1,
            10,
            2,
            3,
            4,
            5,
            6,
            7,
            8,
        ]
        size = 0xFFFFFFFF // 11
        assert layout.ranges[0] == LayoutRange(0, size - 1, 9)
        assert layout.ranges[3] == LayoutRange(3 * size, 4 * size - 1, 10)
        assert layout.ranges[-1] == LayoutRange(10 * size, HASH_MAX, 8)


class TestLinkto:
    def test_decode(self) -> None:
        assert decode_linkto(b"pyg_dist-client-1\0") == "pyg_dist-client-1"
        assert decode_linkto(b"pyg_dist-client-1") == "pyg_dist-client-1"
        assert decode_linkto(b"pyg_dist-client-1\0junk") == "pyg_dist-client-1"

    def test_encode(self) -> None:
        assert encode_linkto("pyg_dist-client-2") == b"pyg_dist-client-2\0"
        with pytest.raises(ValueError, match="xlator name"):
            encode_linkto("")

    @pytest.mark.parametrize("value", [b"", b"\0", b"\xff\xfe\0"])
    def test_decode_garbage(self, value: bytes) -> None:
        with pytest.raises(XdrError):
            decode_linkto(value)

    def test_index(self) -> None:
        assert linkto_subvol_index(b"pyg_dist-client-2\0", PYG_DIST_CHILDREN) == 2
        assert linkto_subvol_index(b"other-client-0\0", PYG_DIST_CHILDREN) is None


class TestProperties:
    @given(st.binary(max_size=300))
    def test_dm_hash_is_uint32(self, data: bytes) -> None:
        value = dm_hash(data)
        assert isinstance(value, int)
        assert 0 <= value <= HASH_MAX

    @given(st.text(max_size=80).filter(lambda s: "\0" not in s))
    def test_hash_name_is_uint32(self, name: str) -> None:
        assert 0 <= hash_name(name) <= HASH_MAX

    @given(st.lists(st.one_of(st.none(), st.binary(max_size=40)), min_size=1))
    def test_garbage_layout_is_layout_or_our_error(
        self, values: list[bytes | None]
    ) -> None:
        try:
            layout = Layout.from_xattrs(values)
        except XdrError:
            return
        assert layout.n_children == len(values)
        for probe in (0, 1, 0x80000000, HASH_MAX):
            try:
                index = layout.subvol_for(probe)
            except LayoutHoleError:
                continue
            assert 0 <= index < len(values)

    @given(
        st.lists(st.one_of(st.none(), st.binary(min_size=16, max_size=16)), min_size=1)
    )
    def test_16_byte_garbage(self, values: list[bytes | None]) -> None:
        bad_type = len(values) > 1 and any(
            v is not None and v[4:8] not in (b"\0\0\0\0", b"\0\0\0\1") for v in values
        )
        if bad_type:
            with pytest.raises(XdrError, match="hash type"):
                Layout.from_xattrs(values)
            return
        layout = Layout.from_xattrs(values)
        assert layout.is_complete == (layout.holes() == [] and _no_overlap(layout))

    @given(
        st.integers(min_value=2, max_value=64),
        st.text(min_size=1, max_size=20).map(lambda s: "/" + s.replace("\0", "")),
        st.lists(st.integers(0, HASH_MAX), max_size=20),
    )
    def test_even_layout_covers_every_hash_once(
        self, count: int, path: str, probes: list[int]
    ) -> None:
        names = [f"vol-client-{i}" for i in range(count)]
        layout = Layout.even(names, path)
        assert layout.is_complete
        assert layout.holes() == []
        assert sorted(r.subvol_index for r in layout.ranges) == list(range(count))
        # Exactly once: consecutive, non-overlapping, 0..HASH_MAX.
        assert layout.ranges[0].start == 0
        assert layout.ranges[-1].stop == HASH_MAX
        for left, right in itertools.pairwise(layout.ranges):
            assert right.start == left.stop + 1
        for probe in [*probes, 0, HASH_MAX]:
            owners = [r.subvol_index for r in layout.ranges if probe in r]
            assert owners == [layout.subvol_for(probe)]
        # And it survives the trip through the on-disk format.
        values = [layout.range_for(i).to_xattr() for i in range(count)]  # type: ignore[union-attr]
        assert Layout.from_xattrs(values) == layout


def _no_overlap(layout: Layout) -> bool:
    ranges = layout.ranges
    return all(b.start > a.stop for a, b in itertools.pairwise(ranges)) and all(
        r.start <= r.stop for r in ranges
    )
