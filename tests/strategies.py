"""Hypothesis strategies derived from the XDR declarations (one spec walker).

``values_for(codec)`` walks a codec and returns a strategy of values it can
encode, so every declared struct gets round-trip and garbage tests for free.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from pygluster.rpc import fops, xdr
from pygluster.rpc.glusterd import OldDict
from pygluster.tls import TlsOptions

if TYPE_CHECKING:
    import enum

# Keep generated collections small: round-trip properties need shape, not bulk.
_MAX_ITEMS = 4
_MAX_BYTES = 64


def old_dict_values() -> st.SearchStrategy[dict[str, bytes]]:
    keys = st.text(
        alphabet=st.characters(blacklist_characters="\0", blacklist_categories=["Cs"]),
        max_size=16,
    )
    return st.dictionaries(keys, st.binary(max_size=_MAX_BYTES), max_size=_MAX_ITEMS)


def values_for(codec: Any) -> st.SearchStrategy[Any]:
    """A strategy of values that ``codec`` (a Codec or a struct class) encodes."""
    codec = xdr.as_codec(codec)
    return _walk(codec)


def _walk(codec: xdr.Codec[Any]) -> st.SearchStrategy[Any]:
    if codec is xdr.UINT:
        return st.integers(0, 2**32 - 1)
    if codec is xdr.INT:
        return st.integers(-(2**31), 2**31 - 1)
    if codec is xdr.UHYPER:
        return st.integers(0, 2**64 - 1)
    if codec is xdr.HYPER:
        return st.integers(-(2**63), 2**63 - 1)
    if codec is xdr.BOOL:
        return st.booleans()
    if codec is xdr.DOUBLE:
        return st.floats(allow_nan=False)
    if codec is xdr.VOID:
        return st.none()
    if isinstance(codec, xdr.FixedOpaque):
        return st.binary(min_size=codec.size, max_size=codec.size)
    if isinstance(codec, xdr.Opaque):
        return st.binary(max_size=min(codec.max or _MAX_BYTES, _MAX_BYTES))
    if isinstance(codec, xdr.String):
        # Any byte string decodes to a str (surrogateescape), so generate
        # from bytes to cover non-UTF-8 names too.
        limit = min(codec.max or _MAX_BYTES, _MAX_BYTES)
        return st.binary(max_size=limit).map(
            lambda b: b.decode("utf-8", "surrogateescape")
        )
    if isinstance(codec, xdr.Array):
        limit = min(codec.max if codec.max is not None else _MAX_ITEMS, _MAX_ITEMS)
        return st.lists(_walk(codec.item), max_size=limit).map(tuple)
    if isinstance(codec, xdr.LinkedList):
        return st.lists(_walk(codec.item), max_size=_MAX_ITEMS).map(tuple)
    if isinstance(codec, xdr.FixedArray):
        item = _walk(codec.item)
        return st.lists(item, min_size=codec.size, max_size=codec.size).map(tuple)
    if isinstance(codec, xdr.Optional):
        return st.none() | _walk(codec.item)
    if isinstance(codec, xdr.Enum):
        # Narrowing Codec[Any] gives Enum[Any]; E is bound to IntEnum.
        enum_type: type[enum.IntEnum] = codec.enum_type
        return st.sampled_from(list(enum_type))
    if isinstance(codec, xdr.Union):
        arms = [
            st.tuples(st.just(d), _walk(arm)).map(lambda t: xdr.UnionArm(*t))
            for d, arm in codec.arms.items()
        ]
        return st.one_of(arms)
    if isinstance(codec, OldDict):
        return old_dict_values()
    if isinstance(codec, fops.GfxDict):
        return xdata_values()
    if isinstance(codec, fops.GfxValue):
        return dict_values()
    fields = getattr(codec, "fields", None)
    if fields is not None:
        cls = codec.cls  # type: ignore[attr-defined]
        return st.builds(cls, **{name: _walk(sub) for name, sub in fields})
    raise TypeError(f"no strategy for codec {codec!r}")


def dict_values() -> st.SearchStrategy[fops.DictValue]:
    """Every gfx_value arm, with values its codec accepts (no NaN: NaN != NaN)."""
    blob = st.binary(max_size=_MAX_BYTES)
    return st.one_of(
        st.integers(-(2**63), 2**63 - 1).map(fops.DictValue.int),
        st.integers(0, 2**64 - 1).map(fops.DictValue.uint),
        st.floats(allow_nan=False).map(fops.DictValue.double),
        blob.map(fops.DictValue.str),
        blob.map(fops.DictValue.str_old),
        blob.map(fops.DictValue.ptr),
        st.binary(min_size=16, max_size=16).map(fops.DictValue.gfuuid),
        values_for(fops.GfxIattx).map(fops.DictValue.iatt),
        values_for(fops.GfxMdataIatt).map(fops.DictValue.mdata),
    )


def xdata_values() -> st.SearchStrategy[fops.Xdata]:
    """gfx_dict values: None (the NULL dict), {} or a few typed pairs."""
    keys = (
        st.binary(max_size=16)
        .filter(lambda b: b"\0" not in b)
        .map(lambda b: b.decode("utf-8", "surrogateescape"))
    )
    pairs = st.dictionaries(keys, dict_values(), max_size=_MAX_ITEMS)
    return st.none() | pairs


#: Paths and cipher lists for TLS options: URL-hostile characters and any
#: text but NUL (which TlsOptions refuses).
_TLS_TEXTS = st.one_of(
    st.sampled_from(["/etc/ssl/glusterfs.pem", "/a b/%?&=#.pem", "é.pem"]),
    st.text(min_size=1, max_size=12).filter(lambda t: "\x00" not in t),
)

#: Any valid TlsOptions (but secure_access_file, left at its default).
tls_options = st.builds(
    TlsOptions,
    io=st.sampled_from(["auto", "on", "off"]),
    mgmt=st.sampled_from(["auto", "on", "off"]),
    cert=st.one_of(st.none(), _TLS_TEXTS),
    key=st.one_of(st.none(), _TLS_TEXTS),
    ca=st.one_of(st.none(), _TLS_TEXTS),
    crl=st.one_of(st.none(), _TLS_TEXTS),
    depth=st.one_of(st.none(), st.integers(0, 100)),
    ciphers=st.one_of(st.none(), _TLS_TEXTS),
    verify_name=st.booleans(),
)
