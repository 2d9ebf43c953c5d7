"""Tests for pygluster.volfile: grammar (graph.l/graph.y), bricks, output."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygluster.errors import VolfileError
from pygluster.volfile import Brick, Graph, Xlator, format_tree, format_volfile, parse

FIXTURES = Path(__file__).parent / "fixtures" / "volfiles"
VOLUMES = ("pyg_single", "pyg_dist", "pyg_rep3", "pyg_arb", "pyg_ec", "pyg_shard")


def fixture_text(volume: str) -> str:
    return (FIXTURES / f"{volume}.vol").read_text()


# A two-brick replica in gluster's layout, small enough to reason about.
SMALL = """\
volume v-client-0
    type protocol/client
    option remote-host vm
    option remote-subvolume /b/1
end-volume

volume v-client-1
    type protocol/client
    option remote-host vm
    option remote-subvolume /b/2
end-volume

volume v-replicate-0
    type cluster/replicate
    option afr-pending-xattr v-client-0,v-client-1
    subvolumes v-client-0 v-client-1
end-volume

volume v
    type debug/io-stats
    option log-level INFO
    subvolumes v-replicate-0
end-volume
"""


def error_of(text: str) -> VolfileError:
    with pytest.raises(VolfileError) as info:
        parse(text)
    return info.value


# ---------------------------------------------------------------------------
# Grammar


class TestGrammar:
    def test_small_graph(self):
        graph = parse(SMALL)
        assert [x.name for x in graph.xlators] == [
            "v-client-0",
            "v-client-1",
            "v-replicate-0",
            "v",
        ]
        assert graph.top is graph["v"]
        assert graph.top.lineno == 19
        replicate = graph["v-replicate-0"]
        assert replicate.type == "cluster/replicate"
        assert replicate.lineno == 13
        assert [c.name for c in replicate.subvolumes] == ["v-client-0", "v-client-1"]
        # Children are the very objects defined earlier.
        assert replicate.subvolumes[0] is graph["v-client-0"]
        assert dict(replicate.options) == {"afr-pending-xattr": "v-client-0,v-client-1"}

    def test_top_is_last_volume_not_root_of_tree(self):
        # graph.y new_volume prepends to graph->first; settop takes first.
        graph = parse(
            "volume a type t option k v end-volume volume b type t2 "
            "option k v end-volume"
        )
        assert graph.top.name == "b"
        assert list(graph.walk()) == [(0, graph["b"])]

    def test_options_keep_file_order(self):
        graph = parse(
            "volume a\ntype t\noption z 1\noption a 2\noption m 3\nend-volume\n"
        )
        assert list(graph.top.options) == ["z", "a", "m"]
        assert list(graph.top.options.items()) == [("z", "1"), ("a", "2"), ("m", "3")]

    def test_options_around_subvolumes(self):
        # VOLUME_DATA: TYPE_LINE OPTIONS_LINE SUBVOLUME_LINE OPTIONS_LINE
        graph = parse(
            "volume c type t option x y end-volume\n"
            "volume p type t option a 1 subvolumes c option b 2 "
            "end-volume"
        )
        assert dict(graph.top.options) == {"a": "1", "b": "2"}
        assert graph.top.subvolumes == (graph["c"],)

    def test_layout_is_free(self):
        text = (
            "\tvolume   a\r\n type\tt\r\n\r\n option k v end-volume"
            "   volume b type t subvolumes a end-volume"
        )
        graph = parse(text)
        assert [x.name for x in graph.xlators] == ["a", "b"]
        assert graph["b"].lineno == 4

    def test_only_space_tab_cr_lf_separate(self):
        # graph.l [ \t\r\n]+ ; a vertical tab or form feed is a word character.
        graph = parse("volume a\x0bb type t option k v\x0cw end-volume")
        assert graph.top.name == "a\x0bb"
        assert graph.top.options["k"] == "v\x0cw"

    def test_comments(self):
        text = (
            "# header comment\n"
            "volume a # trailing comment\n"
            "    type t#not-a-comment\n"
            "    option k#1 v#2 # comment\n"
            '    option q "# not a comment"\n'
            "end-volume#this is one word\n"
        )
        # "end-volume#this" is one word (the word rule is longer than the
        # keyword), so the volume is unterminated.
        err = error_of(text)
        assert err.lineno == 6
        assert "end-volume#this" in str(err)
        graph = parse(text.replace("end-volume#this", "end-volume #this"))
        assert graph.top.type == "t#not-a-comment"
        assert dict(graph.top.options) == {"k#1": "v#2", "q": "# not a comment"}

    def test_comment_runs_to_end_of_line_including_cr(self):
        # graph.l \#.* : "." stops only at \n, so "type t" here is commented out.
        graph = parse("volume a #x\r type t\ntype u option k v end-volume")
        assert graph.top.type == "u"

    def test_keywords_are_exact_and_lowercase(self):
        assert "got 'Volume'" in str(error_of("Volume a type t option k v end-volume"))
        # Longer words are words: "volumes", "types", "options".
        graph = parse("volume volumes type types option options x end-volume")
        assert graph.top.name == "volumes"
        assert graph.top.type == "types"
        assert dict(graph.top.options) == {"options": "x"}

    def test_subvolumes_with_capital_s(self):
        # graph.l {SUB}{VOLUME}[Ss]
        graph = parse(
            "volume a type t option k v end-volume "
            "volume b type t subvolumeS a end-volume"
        )
        assert graph.top.subvolumes == (graph["a"],)

    def test_subvolume_singular_is_not_a_keyword(self):
        err = error_of(
            "volume a type t option k v end-volume\n"
            "volume b type t subvolume a end-volume"
        )
        assert err.lineno == 2
        assert "expected 'option', 'subvolumes' or 'end-volume', got 'subvolume'" in (
            str(err)
        )

    def test_quoted_strings(self):
        text = r"""volume "my vol" type "t y" option "k k" "a \"q\" \\ \x" end-volume"""
        graph = parse(text)
        assert graph.top.name == "my vol"
        assert graph.top.type == "t y"
        assert dict(graph.top.options) == {"k k": 'a "q" \\ x'}

    def test_quoted_keyword_is_a_word(self):
        graph = parse(
            'volume "volume" type "type" option "option" "end-volume" end-volume'
        )
        assert graph.top.name == "volume"
        assert dict(graph.top.options) == {"option": "end-volume"}

    def test_quote_ends_a_word(self):
        # flex: the word rule stops at '"', which opens a string token.
        graph = parse('volume"a"type t option"k""v"end-volume')
        assert graph.top.name == "a"
        assert dict(graph.top.options) == {"k": "v"}

    def test_escaped_backtick_in_quotes_is_literal(self):
        graph = parse('volume a type t option k "run \\`this\\`" end-volume')
        assert graph.top.options["k"] == "run `this`"

    def test_lineno_counts_newlines_inside_comments_and_tokens(self):
        graph = parse("#\n#\n\n  volume a\ntype t option k v end-volume")
        assert graph.top.lineno == 4


# (text, lineno, message fragment)
ERRORS = [
    ("", 1, "empty volfile: expected 'volume'"),
    ("# nothing\n\n", 3, "empty volfile"),
    ("foo", 1, "expected 'volume', got 'foo'"),
    ("end-volume", 1, "expected 'volume', got 'end-volume'"),
    ("volume\n", 2, "expected a volume name after 'volume', got end of file"),
    ("volume type t", 1, "expected a volume name after 'volume', got 'type'"),
    ("volume a\n  option k v\n", 2, "volume 'a': expected 'type' first, got 'option'"),
    ("volume a\nend-volume", 2, "expected 'type' first, got 'end-volume'"),
    ("volume a\n type\nend-volume", 3, "expected a translator type after 'type'"),
    (
        "volume a\n type t\n option k\nend-volume\n",
        4,
        "volume 'a': expected a value for 'option k', got 'end-volume'",
    ),
    (
        "volume a\n type t\n option\nend-volume\n",
        4,
        "expected 'option KEY VALUE', got 'end-volume' after 'option'",
    ),
    (
        "volume a\n type t\n option k v\n option k w\nend-volume\n",
        4,
        "volume 'a': duplicate 'option k' (first set on line 3)",
    ),
    (
        "volume a\n type t\n subvolumes b\nend-volume\n",
        3,
        "volume 'a': subvolume 'b' is not defined before use",
    ),
    (
        "volume a\n type t\n option k v\nend-volume\n"
        "volume b\n type t\n subvolumes a\n   b\nend-volume\n",
        8,
        "volume 'b' has itself as subvolume",
    ),
    (
        "volume a type t option k v end-volume\n"
        "volume b type t subvolumes a a end-volume\n",
        2,
        "volume 'b': subvolume 'a' listed twice",
    ),
    (
        "volume a type t option k v end-volume\n\nvolume a type t option k v "
        "end-volume\n",
        3,
        "volume 'a' defined again (first defined on line 1)",
    ),
    (
        "volume a\n type t\n option k v\n",
        4,
        "volume 'a' (line 1) has no 'end-volume' before end of file",
    ),
    (
        "volume a\n type t\n option k v\nvolume b\n type t\n option k v\nend-volume\n",
        4,
        "volume 'a' (line 1) has no 'end-volume' before 'volume'",
    ),
    (
        "volume a\n type t\n option k v\n type u\nend-volume\n",
        4,
        "volume 'a': duplicate 'type' (first on line 2)",
    ),
    (
        "volume a type t option k v end-volume\n"
        "volume b type t subvolumes a\n subvolumes a end-volume\n",
        3,
        "volume 'b': duplicate 'subvolumes' (first on line 2)",
    ),
    (
        "volume a\n type t\nend-volume\n",
        3,
        "volume 'a': expected 'option' or 'subvolumes' before 'end-volume'",
    ),
    (
        "volume a\n type t\n subvolumes\nend-volume\n",
        4,
        "expected subvolume names after 'subvolumes', got 'end-volume'",
    ),
    (
        "volume a\n type t\n option k v\n stray\nend-volume\n",
        4,
        "expected 'option', 'subvolumes' or 'end-volume', got 'stray'",
    ),
    ('volume a\n type t\n option k "abc\n', 3, "newline inside a quoted string"),
    ('volume a\n type t\n option k "abc', 3, "unterminated quoted string"),
    ('volume a\n type t\n option k "abc\\', 3, "unterminated quoted string"),
    ('volume a\n type t\n option k "a\\\nb"', 3, "backslash-newline"),
    ('volume a\n type t\n option k ""\nend-volume', 3, "empty quoted string"),
    ("volume a\n type t\n option k a\\b\nend-volume", 3, "backslash outside"),
    ("volume a\n type t\n option k `hostname`\nend-volume", 3, "backtick"),
    ("# `rm -rf /`\nvolume a type t option k v end-volume", 1, "backtick"),
    ('volume a type t option k "\\\\`x`"', 1, "backtick"),
    ("volume a\n type t\n option k a\0b\nend-volume", 3, "NUL character"),
]


@pytest.mark.parametrize(("text", "lineno", "fragment"), ERRORS)
def test_errors(text: str, lineno: int, fragment: str):
    err = error_of(text)
    assert err.lineno == lineno
    assert fragment in str(err)
    assert str(err).startswith(f"volfile line {lineno}: ")


def test_volfile_error_is_value_error():
    with pytest.raises(ValueError, match="empty volfile"):
        parse("")


# ---------------------------------------------------------------------------
# Graph, Xlator, walk


class TestGraph:
    def test_getitem_and_contains(self):
        graph = parse(SMALL)
        assert graph["v-client-1"].options["remote-subvolume"] == "/b/2"
        assert "v" in graph
        assert "nope" not in graph
        with pytest.raises(KeyError):
            graph["nope"]

    def test_walk(self):
        graph = parse(SMALL)
        assert [(d, x.name) for d, x in graph.walk()] == [
            (0, "v"),
            (1, "v-replicate-0"),
            (2, "v-client-0"),
            (2, "v-client-1"),
        ]

    def test_walk_visits_shared_child_once(self):
        graph = parse(
            "volume c type t option k v end-volume\n"
            "volume a type t subvolumes c end-volume\n"
            "volume b type t subvolumes c end-volume\n"
            "volume top type t subvolumes a b end-volume\n"
        )
        assert [(d, x.name) for d, x in graph.walk()] == [
            (0, "top"),
            (1, "a"),
            (2, "c"),
            (1, "b"),
        ]

    def test_xlator_equality_ignores_lineno_and_option_order(self):
        one = Xlator("a", "t", {"x": "1", "y": "2"}, (), lineno=3)
        two = Xlator("a", "t", {"y": "2", "x": "1"}, (), lineno=9)
        assert one == two
        assert hash(one) == hash(two)
        assert one != Xlator("a", "t", {"x": "1"})
        assert one.options == {"x": "1", "y": "2"}

    def test_xlator_is_frozen_and_options_read_only(self):
        xl = parse(SMALL).top
        with pytest.raises(AttributeError):
            xl.name = "w"  # type: ignore[misc]
        with pytest.raises(TypeError):
            xl.options["log-level"] = "DEBUG"  # type: ignore[index]

    def test_repr_names_children(self):
        assert "subvolumes=('v-replicate-0',)" in repr(parse(SMALL).top)

    def test_deep_chain_compares_without_recursion(self):
        text = "volume x0 type t option k v end-volume\n" + "".join(
            f"volume x{i} type t subvolumes x{i - 1} end-volume\n"
            for i in range(1, 3000)
        )
        graph = parse(text)
        assert parse(format_volfile(graph)) == graph
        assert hash(graph) == hash(parse(text))
        assert len(list(graph.walk())) == 3000

    def test_graph_constructor_checks(self):
        leaf = Xlator("a", "t", {"k": "v"})
        with pytest.raises(ValueError, match="at least one"):
            Graph(())
        with pytest.raises(ValueError, match="used twice"):
            Graph((leaf, leaf))
        with pytest.raises(ValueError, match="not an earlier xlator"):
            Graph((Xlator("b", "t", {}, (leaf,)),))
        # An equal (not identical) child is accepted.
        graph = Graph((leaf, Xlator("b", "t", {}, (Xlator("a", "t", {"k": "v"}),))))
        assert parse(format_volfile(graph)) == graph


# ---------------------------------------------------------------------------
# Bricks


def client(name: str, lineno_pad: str = "", **options: str) -> str:
    lines = "".join(
        f"    option {k.replace('_', '-')} {v}\n" for k, v in options.items()
    )
    return f"{lineno_pad}volume {name}\n    type protocol/client\n{lines}end-volume\n"


class TestBricks:
    def test_small(self):
        assert parse(SMALL).bricks() == [
            Brick("v-client-0", "vm", "/b/1", None, "tcp", "inet"),
            Brick("v-client-1", "vm", "/b/2", None, "tcp", "inet"),
        ]

    def test_str(self):
        assert str(Brick("c", "vm", "/bricks/b1")) == "vm:/bricks/b1"

    def test_port_transport_family(self):
        text = client(
            "c",
            remote_host="h",
            remote_subvolume="/p",
            remote_port="49152",
            transport_type="rdma",
            **{"transport.address-family": "inet6"},
        )
        assert parse(text).bricks() == [Brick("c", "h", "/p", 49152, "rdma", "inet6")]

    @pytest.mark.parametrize(
        "port", ["0", "65536", "abc", "-1", "0x10", "\uff11\uff12"]
    )
    def test_bad_port(self, port: str):
        text = "\n" + client(
            "c", remote_host="h", remote_subvolume="/p", remote_port=port
        )
        graph = parse(text)
        with pytest.raises(VolfileError) as info:
            graph.bricks()
        assert info.value.lineno == 2
        assert f"protocol/client volume 'c': remote-port {port!r}" in str(info.value)

    @pytest.mark.parametrize("missing", ["remote-host", "remote-subvolume"])
    def test_missing_host_or_path(self, missing: str):
        options = {"remote_host": "h", "remote_subvolume": "/p"}
        del options[missing.replace("-", "_")]
        graph = parse("\n\n" + client("c", ping_timeout="42", **options))
        with pytest.raises(VolfileError) as info:
            graph.bricks()
        assert info.value.lineno == 3
        assert f"protocol/client volume 'c' has no 'option {missing}'" in str(
            info.value
        )

    def test_order_is_depth_first_each_once_reachable_only(self):
        text = (
            client("c0", remote_host="h", remote_subvolume="/0")
            + client("c1", remote_host="h", remote_subvolume="/1")
            + client("c2", remote_host="h", remote_subvolume="/2")
            + client("unused", remote_host="h", remote_subvolume="/u")
            + "volume r0 type cluster/replicate subvolumes c1 c0 end-volume\n"
            + "volume r1 type cluster/replicate subvolumes c2 c0 end-volume\n"
            + "volume top type cluster/distribute subvolumes r0 r1 end-volume\n"
        )
        assert [b.path for b in parse(text).bricks()] == ["/1", "/0", "/2"]


# ---------------------------------------------------------------------------
# Output


class TestFormat:
    def test_small_is_reproduced_exactly(self):
        assert format_volfile(parse(SMALL)) == SMALL

    def test_quoting(self):
        graph = Graph(
            (
                Xlator(
                    "volume",
                    "a b",
                    {
                        "#k": 'say "hi"',
                        "back\\slash": "tick`",
                        "end-volume": "subvolumeS",
                        "plain": "a#b",
                        "tab": "\t",
                    },
                ),
            )
        )
        text = format_volfile(graph)
        assert text == (
            'volume "volume"\n'
            '    type "a b"\n'
            '    option "#k" "say \\"hi\\""\n'
            '    option "back\\\\slash" "tick\\`"\n'
            '    option "end-volume" "subvolumeS"\n'
            "    option plain a#b\n"
            '    option tab "\t"\n'
            "end-volume\n"
        )
        assert parse(text) == graph

    @pytest.mark.parametrize("bad", ["", "a\nb", "a\0b"])
    def test_unwritable_values(self, bad: str):
        with pytest.raises(ValueError, match="cannot be written"):
            format_volfile(Graph((Xlator("a", "t", {"k": bad}),)))

    def test_xlator_needs_option_or_child(self):
        with pytest.raises(ValueError, match="at least one option or subvolume"):
            format_volfile(Graph((Xlator("a", "t"),)))

    def test_tree_small(self):
        assert format_tree(parse(SMALL)) == (
            "v (debug/io-stats)\n"
            "└─ v-replicate-0 (cluster/replicate)  "
            "afr-pending-xattr=v-client-0,v-client-1\n"
            "   ├─ v-client-0 (protocol/client) → vm:/b/1\n"
            "   └─ v-client-1 (protocol/client) → vm:/b/2\n"
        )

    def test_tree_shared_and_unusual_transport(self):
        text = (
            client("c", remote_host="h", transport_type="unix", ping_timeout="9")
            + "volume a type t subvolumes c end-volume\n"
            + "volume top type t subvolumes a c end-volume\n"
        )
        assert format_tree(parse(text)) == (
            "top (t)\n"
            "├─ a (t)\n"
            "│  └─ c (protocol/client) → h:?  ping-timeout=9 transport-type=unix\n"
            "└─ c (protocol/client) (see above)\n"
        )


# ---------------------------------------------------------------------------
# Real volfiles written by glusterd 10.3 (trusted-<vol>.tcp-fuse.vol)

# volume → (brick count, cluster xlator types top-down, key options)
REAL = {
    "pyg_single": (1, ["cluster/distribute"], {}),
    "pyg_dist": (3, ["cluster/distribute"], {}),
    "pyg_rep3": (3, ["cluster/distribute", "cluster/replicate"], {}),
    "pyg_arb": (
        3,
        ["cluster/distribute", "cluster/replicate"],
        {"pyg_arb-replicate-0": {"arbiter-count": "1"}},
    ),
    "pyg_ec": (
        3,
        ["cluster/distribute", "cluster/disperse"],
        {"pyg_ec-disperse-0": {"redundancy": "1"}},
    ),
    "pyg_shard": (
        3,
        ["cluster/distribute", "cluster/replicate"],
        {
            "pyg_shard-shard": {"shard-block-size": "4MB"},
            "pyg_shard-replicate-0": {"quorum-type": "auto"},
        },
    ),
}


@pytest.mark.parametrize("volume", VOLUMES)
class TestRealVolfiles:
    def test_top_and_bricks(self, volume: str):
        count, cluster_types, key_options = REAL[volume]
        graph = parse(fixture_text(volume))
        assert graph.top.name == volume
        assert graph.top.type == "debug/io-stats"
        bricks = graph.bricks()
        assert [b.path for b in bricks] == [
            f"/var/lib/pygluster/bricks/{volume}/b{i}" for i in range(1, count + 1)
        ]
        assert [b.xlator for b in bricks] == [
            f"{volume}-client-{i}" for i in range(count)
        ]
        for brick in bricks:
            assert brick.host == "vm"
            assert brick.port is None  # portmap it
            assert (brick.transport, brick.address_family) == ("tcp", "inet")
        types = [x.type for _, x in graph.walk() if x.type.startswith("cluster/")]
        assert types == cluster_types
        for name, options in key_options.items():
            for key, value in options.items():
                assert graph[name].options[key] == value

    def test_replicate_pending_xattrs_name_children(self, volume: str):
        graph = parse(fixture_text(volume))
        for xl in graph.xlators:
            if xl.type == "cluster/replicate":
                names = ",".join(c.name for c in xl.subvolumes)
                assert xl.options["afr-pending-xattr"] == names

    def test_round_trip_is_byte_exact(self, volume: str):
        text = fixture_text(volume)
        graph = parse(text)
        assert parse(format_volfile(graph)) == graph
        # Our layout is graph-print.c's, which glusterd's volgen uses.
        assert format_volfile(graph) == text

    def test_tree_has_one_line_per_xlator(self, volume: str):
        graph = parse(fixture_text(volume))
        tree = format_tree(graph)
        assert tree.count("\n") == len(list(graph.walk()))
        for brick in graph.bricks():
            assert f"→ {brick}" in tree


def test_tree_of_shard_volume():
    tree = format_tree(parse(fixture_text("pyg_shard")))
    assert tree.startswith(
        "pyg_shard (debug/io-stats)\n└─ pyg_shard-io-threads (performance/io-threads)\n"
    )
    assert "pyg_shard-shard (features/shard)  shard-block-size=4MB\n" in tree
    assert "quorum-type=auto" in tree
    assert tree.endswith(
        "└─ pyg_shard-client-2 (protocol/client) → "
        "vm:/var/lib/pygluster/bricks/pyg_shard/b3  ping-timeout=20\n"
    )


# ---------------------------------------------------------------------------
# Properties

AWKWARD = [
    "volume",
    "type",
    "option",
    "end-volume",
    "subvolumes",
    "subvolumeS",
    "#hash",
    "a#b",
    'q"uote',
    "back\\slash",
    "tick`",
    "sp ace",
    "\t",
    "\r",
    "\\",
    '"',
    "é",
    "\x0b",
]
words = st.one_of(
    st.text(
        st.characters(exclude_characters="\n\x00"),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from(AWKWARD),
)


@st.composite
def graphs(draw: st.DrawFn) -> Graph:
    names = draw(st.lists(words, min_size=1, max_size=8, unique=True))
    xlators: list[Xlator] = []
    for index, name in enumerate(names):
        children = draw(
            st.lists(st.sampled_from(xlators), unique_by=lambda x: x.name, max_size=3)
            if xlators
            else st.just([])
        )
        options = draw(
            st.dictionaries(words, words, min_size=0 if children else 1, max_size=4)
        )
        xlators.append(Xlator(name, draw(words), options, tuple(children), index))
    return Graph(tuple(xlators))


TOKENS = st.sampled_from(
    [
        "volume",
        "type",
        "option",
        "subvolumes",
        "end-volume",
        "a",
        "b",
        "c",
        "protocol/client",
        "remote-host",
        "remote-subvolume",
        "remote-port",
        "99999",
        '"x y"',
        '"',
        "\\",
        "#",
        "`",
        "\n",
        " ",
    ]
)


def mutate(text: str, ops: list[tuple[int, int, int, str]]) -> str:
    lines = text.splitlines(keepends=True)
    for op, i, j, garbage in ops:
        if not lines:
            lines = [garbage]
            continue
        i %= len(lines)
        j %= len(lines)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2:
            lines[i], lines[j] = lines[j], lines[i]
        else:
            lines.insert(i, garbage)
    return "".join(lines)


def check_total(text: str) -> None:
    """parse() gives a Graph or VolfileError, and a Graph is fully usable."""
    error: VolfileError | None = None
    try:
        graph = parse(text)
    except VolfileError as err:
        error = err
    if error is not None:
        assert error.lineno is not None
        assert 1 <= error.lineno <= text.count("\n") + 1
        return
    assert parse(format_volfile(graph)) == graph
    format_tree(graph)
    bricks_error: VolfileError | None = None
    try:
        graph.bricks()
    except VolfileError as err:
        bricks_error = err
    assert bricks_error is None or bricks_error.lineno is not None


class TestVolfileProperties:
    @given(graphs())
    def test_round_trip(self, graph: Graph):
        text = format_volfile(graph)
        parsed = parse(text)
        assert parsed == graph
        assert format_volfile(parsed) == text
        lines = text.split("\n")
        for xl in parsed.xlators:
            assert lines[xl.lineno - 1].startswith("volume ")

    @given(graphs())
    def test_tree_one_line_per_reachable_xlator(self, graph: Graph):
        tree = format_tree(graph)
        assert len(tree.splitlines()) >= len(list(graph.walk()))

    @given(st.text())
    def test_any_text(self, text: str):
        check_total(text)

    @given(st.lists(TOKENS, max_size=40))
    def test_any_token_soup(self, tokens: list[str]):
        check_total(" ".join(tokens))

    @given(
        st.sampled_from(VOLUMES),
        st.lists(
            st.tuples(
                st.integers(0, 3),
                st.integers(0, 200),
                st.integers(0, 200),
                st.one_of(st.text(max_size=20), TOKENS),
            ),
            min_size=1,
            max_size=4,
        ),
    )
    def test_mutated_fixture(self, volume: str, ops: list[tuple[int, int, int, str]]):
        check_total(mutate(fixture_text(volume), ops))


# ---------------------------------------------------------------------------
# format_tree(annotate=...): what the client does with each xlator


def _plan_words(graph: Graph) -> dict[str, str]:
    from pygluster.xlators.graph import plan

    return {step.name: step.action for step in plan(graph)}


def test_annotated_tree_small():
    graph = parse(SMALL)
    words = _plan_words(graph)
    assert format_tree(graph, annotate=lambda x: words[x.name]) == (
        "v (debug/io-stats) [skip]\n"
        "└─ v-replicate-0 (cluster/replicate) [run]  "
        "afr-pending-xattr=v-client-0,v-client-1\n"
        "   ├─ v-client-0 (protocol/client) [run] → vm:/b/1\n"
        "   └─ v-client-1 (protocol/client) [run] → vm:/b/2\n"
        "\n"
        "client runs: cluster/replicate, 2 brick clients\n"
        "skipped (pass-through): debug/io-stats\n"
        "refused: none\n"
        "shard block size: not sharded\n"
        "quorum: v-replicate-0 none (any one brick; the default)\n"
        "ping-timeout: 42 s (default), every brick\n"
    )


def test_annotated_tree_marks_every_line():
    graph = parse(fixture_text("pyg_shard"))
    words = _plan_words(graph)
    plain = format_tree(graph)
    annotated = format_tree(graph, annotate=lambda x: words[x.name])
    assert "[" not in plain
    tree, _, summary = annotated.partition("\n\n")
    # Same lines, each with its mark after the type.
    assert tree.replace(" [run]", "").replace(" [skip]", "") + "\n" == plain
    assert summary.splitlines() == [
        "client runs: performance/write-behind, features/shard, "
        "cluster/distribute, cluster/replicate, 3 brick clients",
        "skipped (pass-through): debug/io-stats, performance/io-threads, "
        "performance/md-cache, performance/open-behind, features/utime",
        "refused: none",
        "shard block size: 4MB",
        "quorum: pyg_shard-replicate-0 auto (more than half of 3)",
        "ping-timeout: 20 s, every brick",
    ]


def test_annotated_tree_runs_disperse():
    graph = parse(fixture_text("pyg_ec"))
    words = _plan_words(graph)
    annotated = format_tree(graph, annotate=lambda x: words[x.name])
    assert "pyg_ec-disperse-0 (cluster/disperse) [run]  redundancy=1\n" in annotated
    assert "\nrefused: none\n" in annotated
    assert "\nquorum: pyg_ec-disperse-0 needs 2 of 3 bricks\n" in annotated
    assert "\nping-timeout: 42 s, every brick\n" in annotated


def test_annotated_tree_refuses_an_unknown_cluster_type():
    text = fixture_text("pyg_ec").replace("cluster/disperse", "cluster/nufa-ish")
    graph = parse(text)
    words = _plan_words(graph)
    annotated = format_tree(graph, annotate=lambda x: words[x.name])
    assert "pyg_ec-disperse-0 (cluster/nufa-ish) [refuse]" in annotated
    assert "\nrefused: cluster/nufa-ish\n" in annotated


def test_annotated_tree_mixed_options_and_other_words():
    text = (
        client("c0", remote_host="h", ping_timeout="5")
        + client("c1", remote_host="h")
        + client("c2", remote_host="h", ping_timeout="5")
        + "volume r type cluster/replicate option quorum-type fixed "
        "option quorum-count 2 subvolumes c0 c1 c2 end-volume\n"
        + "volume s type features/shard subvolumes r end-volume\n"
        + "volume x type x/new subvolumes s end-volume\n"
    )
    words = {"x": "maybe"}
    annotated = format_tree(parse(text), annotate=lambda x: words.get(x.name, "run"))
    assert annotated.startswith("x (x/new) [maybe]\n└─ s (features/shard) [run]\n")
    assert annotated.endswith(
        "\n"
        "client runs: features/shard, cluster/replicate, 3 brick clients\n"
        "skipped (pass-through): none\n"
        "refused: none\n"
        "maybe: x/new\n"
        "shard block size: 64MB (default)\n"
        "quorum: r fixed (at least 2 of 3)\n"
        "ping-timeout: c0 5 s, c1 42 s (default), c2 5 s\n"
    )


# --- issue 11: hostile volfiles ------------------------------------------------


def _client_volfile(**options: str) -> str:
    lines = "".join(f"  option {key} {value}\n" for key, value in options.items())
    return (
        "volume v-client-0\n  type protocol/client\n  option remote-host h\n"
        f"  option remote-subvolume /b\n{lines}end-volume\n"
    )


@pytest.mark.parametrize(
    ("key", "text", "seconds"),
    [
        ("ping-timeout", "0", 0.0),
        ("ping-timeout", "42", 42.0),
        ("ping-timeout", "2m", 120.0),
        ("frame-timeout", "1800", 1800.0),
        ("frame-timeout", "1h", 3600.0),
    ],
)
def test_time_options_are_read(key: str, text: str, seconds: float) -> None:
    brick = parse(_client_volfile(**{key: text})).bricks()[0]
    assert getattr(brick, key.replace("-", "_")) == seconds


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("ping-timeout", "nan"),
        ("ping-timeout", "-1"),
        ("ping-timeout", "1014"),
        ("ping-timeout", "1e3"),
        ("frame-timeout", "0"),
        ("frame-timeout", "abc"),
        ("frame-timeout", "86401"),
        ("frame-timeout", "inf"),
    ],
)
def test_bad_time_options_name_xlator_option_and_value(key: str, text: str) -> None:
    graph = parse(_client_volfile(**{key: text}))
    with pytest.raises(VolfileError) as info:
        graph.bricks()
    message = str(info.value)
    assert "v-client-0" in message
    assert key in message
    assert repr(text) in message


def _chain(depth: int) -> str:
    parts = [_client_volfile().replace("v-client-0", "x0")]
    parts.extend(
        f"volume x{i}\n  type performance/io-cache\n  subvolumes x{i - 1}\nend-volume\n"
        for i in range(1, depth)
    )
    return "".join(parts)


def test_graph_tree_is_linear_in_depth() -> None:
    small = len(format_tree(parse(_chain(1000))))
    large = len(format_tree(parse(_chain(8000))))
    assert large < 9 * small  # 8x the xlators, not 64x the text
    deep = format_tree(parse(_chain(40))).splitlines()
    assert "[depth 39] x0" in deep[-1]


def test_too_many_xlators_is_refused() -> None:
    from pygluster.volfile import MAX_XLATORS

    with pytest.raises(VolfileError, match=f"more than {MAX_XLATORS} volumes"):
        parse(_chain(MAX_XLATORS + 1))
