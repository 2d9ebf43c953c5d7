"""Fop v400 structs vs the wire vectors of protocol.md §13; gfx_dict."""

from __future__ import annotations

import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pygluster.errors import XdrError
from pygluster.rpc import fops, xdr
from pygluster.rpc.connection import NEED_DATA, Reply, RpcConnection
from pygluster.rpc.fops import GFX_DICT, DataType, DictValue
from pygluster.rpc.programs import ProgramNumber
from pygluster.rpc.sunrpc import Credentials
from tests.helpers import hexwords, reply_record
from tests.strategies import values_for

# The gfid gfapi gave "x.img" in the capture (its CREATE gfid-req).
X_IMG_GFID = hexwords("5638a99b 8d4940ce b9e36354 9bdf2b7c")
# qemu-img's identity in the capture: pid 7229, lk_owner = pid little-endian.
QEMU_CREDS = Credentials(pid=0x1C3D, uid=0, gid=0, groups=(), lk_owner=b"\x3d\x1c\0\0")
# gfapi's housekeeping identity (STATFS, RELEASE): pid 0, lk_owner 0.
ZERO_CREDS = Credentials(pid=0, uid=0, gid=0, groups=(), lk_owner=bytes(4))


def zeros(cls: type) -> Any:
    """An all-zero value of a fixed-size struct (as failed replies carry)."""
    fields: dict[str, Any] = {
        name: bytes(16) if name == "ia_gfid" else 0 for name, _ in xdr.fields_of(cls)
    }
    return cls(**fields)


ZERO_IATT = zeros(fops.GfxIattx)


def call_bytes(xid: int, procedure, args, cred, payload: bytes = b"") -> bytes:
    conn = RpcConnection(first_xid=xid)
    _, buffers = conn.send_call(procedure, args, cred=cred, payload=payload)
    return b"".join(bytes(b) for b in buffers)


def receive_one(procedure, args, record: bytes, xid: int = 1) -> Reply[Any]:
    conn = RpcConnection(first_xid=xid)
    conn.send_call(procedure, args, cred=ZERO_CREDS.auth_v3())
    conn.receive_data(record)
    event = conn.next_event()
    assert isinstance(event, Reply)
    assert conn.next_event() is NEED_DATA
    return event


# --- §13 wire vectors ----------------------------------------------------


def test_statfs_call_matches_capture() -> None:
    args = fops.GfxStatfsReq(gfid=fops.ROOT_GFID, xdata=None)
    assert call_bytes(8, fops.STATFS, args, ZERO_CREDS.auth_v3()) == hexwords(
        "8000006c 00000008 00000000 00000002 0013d005 00000190 0000000e 0005f398"
        " 00000028 00000000 00000000 00000000 00000000 00000000 00000000 00000000"
        " 00000000 00000004 00000000 00000000 00000000 00000000 00000000 00000000"
        " 00000001 00000000 ffffffff 00000000"
    )


def test_flush_call_matches_capture() -> None:
    args = fops.GfxFlushReq(gfid=X_IMG_GFID, fd=0, xdata=None)
    assert call_bytes(0xE, fops.FLUSH, args, QEMU_CREDS.auth_v3()) == hexwords(
        "80000074 0000000e 00000000 00000002 0013d005 00000190 0000000f 0005f398"
        " 00000028 00001c3d 00000000 00000000 00000000 00000000 00000000 00000000"
        " 00000000 00000004 3d1c0000 00000000 00000000 5638a99b 8d4940ce b9e36354"
        " 9bdf2b7c 00000000 00000000 00000000 ffffffff 00000000"
    )


def test_release_call_matches_capture() -> None:
    # The doc elides the xid and the words before the proc: rebuild them
    # from the header layout (§2.1), which the other vectors pin down.
    args = fops.GfxReleaseReq(gfid=X_IMG_GFID, fd=0, xdata={})
    assert call_bytes(0x10, fops.RELEASE, args, ZERO_CREDS.auth_v3()) == hexwords(
        "80000074 00000010 00000000 00000002 0013d005 00000190 00000029 0005f398"
        " 00000028 00000000 00000000 00000000 00000000 00000000 00000000 00000000"
        " 00000000 00000004 00000000 00000000 00000000 5638a99b 8d4940ce b9e36354"
        " 9bdf2b7c 00000000 00000000 00000000 00000000 00000000"
    )


GFAPI_LOOKUP_XDATA = {
    "trusted.glusterfs.mdata": DictValue.int(1),
    "glusterfs.content": DictValue.uint(65536),
    "security.ima": DictValue.int(0),
    "security.capability": DictValue.int(0),
}


def test_nameless_root_lookup_matches_capture() -> None:
    args = fops.GfxLookupReq(
        gfid=fops.ROOT_GFID,
        pargfid=fops.NULL_GFID,
        flags=0,
        bname="",
        xdata=GFAPI_LOOKUP_XDATA,
    )
    expected = (
        hexwords(
            "80000114 00000009 00000000 00000002 0013d005 00000190 0000001b 0005f398"
            " 00000028 00001c3d 00000000 00000000 00000000 00000000 00000000 00000000"
            " 00000000 00000004 3d1c0000 00000000 00000000"
            " 00000000 00000000 00000000 00000001"
            " 00000000 00000000 00000000 00000000"
            " 00000000 00000000"
            " 00000090 00000004 00000004"
            " 00000018"
        )
        + b"trusted.glusterfs.mdata\0"
        + hexwords("00000002 00000000 00000001 00000012")
        + b"glusterfs.content\0\0\0"
        + hexwords("00000003 00000000 00010000 0000000d")
        + b"security.ima\0\0\0\0"
        + hexwords("00000002 00000000 00000000 00000014")
        + b"security.capability\0"
        + hexwords("00000002 00000000 00000000")
    )
    assert call_bytes(9, fops.LOOKUP, args, QEMU_CREDS.auth_v3()) == expected


def test_create_call_matches_capture() -> None:
    args = fops.GfxCreateReq(
        pargfid=fops.ROOT_GFID,
        flags=fops.GfOpenFlags.TRUNC | fops.GfOpenFlags.CREAT | fops.GfOpenFlags.WRONLY,
        mode=0o600,
        umask=0,
        bname="x.img",
        xdata={"gfid-req": DictValue.gfuuid(X_IMG_GFID)},
    )
    ctime_ns = 0x6B077AE9 * 1_000_000_000 + 0x0C5F2E78
    cred = QEMU_CREDS.auth_v3(fops.CTIME_FLAGS["CREATE"], ctime_ns)
    assert call_bytes(0xC, fops.CREATE, args, cred) == hexwords(
        "800000a8 0000000c 00000000 00000002 0013d005 00000190 00000017 0005f398"
        " 00000028 00001c3d 00000000 00000000 0000001f 0c5f2e78 00000000 6b077ae9"
        " 00000000 00000004 3d1c0000 00000000 00000000"
        " 00000000 00000000 00000000 00000001"
        " 00000241 00000180 00000000 00000005 782e696d 67000000"
        " 00000024 00000001 00000001 00000009 67666964 2d726571 00000000"
        " 00000007 5638a99b 8d4940ce b9e36354 9bdf2b7c"
    )


def test_setxattr_reply_with_null_xdata_decodes() -> None:
    args = fops.GfxSetxattrReq(
        gfid=fops.ROOT_GFID, flags=0, dict={"user.x": DictValue.ptr(b"1")}, xdata=None
    )
    record = hexwords(
        "8000002c 0000000a 00000001 00000000 00000000 00000000 00000000 00000000"
        " 00000000 00000000 ffffffff 00000000"
    )
    reply = receive_one(fops.SETXATTR, args, record, xid=0xA)
    assert reply.error is None
    assert reply.result == fops.GfxCommonRsp(op_ret=0, op_errno=0, xdata=None)


def test_read_reply_payload_follows_the_struct_unpadded() -> None:
    rsp = fops.GfxReadRsp(op_ret=5, op_errno=2, stat=ZERO_IATT, size=5, xdata={})
    record = reply_record(1, rsp, payload=b"hello")
    # 24-byte reply header + 172-byte gfx_read_rsp + 5 bytes (§7).
    assert len(record) == 4 + 24 + 172 + 5
    args = fops.GfxReadReq(gfid=X_IMG_GFID, fd=0, offset=0, size=5, flag=0, xdata=None)
    reply = receive_one(fops.READ, args, record)
    assert reply.result == rsp
    assert bytes(reply.payload) == b"hello"


def test_write_payload_is_appended_unpadded() -> None:
    args = fops.GfxWriteReq(gfid=X_IMG_GFID, fd=0, offset=0, size=3, flag=0, xdata=None)
    wire = call_bytes(1, fops.WRITE, args, ZERO_CREDS.auth_v3(), payload=b"abc")
    header = call_bytes(1, fops.WRITE, args, ZERO_CREDS.auth_v3())
    assert wire[4:] == header[4:] + b"abc"
    assert wire[:4] == struct.pack(">I", 0x8000_0000 | (len(wire) - 4))
    # The server's fixed 52-byte part: 16+8+8+4+4 and the 12-byte dict header
    # (server4_0_writev_vecsizer), then xdata pairs, then the data.
    assert len(xdr.encode(args)) == 52


# --- declarations --------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "size"),
    [(fops.GfxIattx, 148), (fops.GfxMdataIatt, 36), (fops.GfStatfs, 88)],
)
def test_fixed_struct_sizes(cls: type, size: int) -> None:
    assert len(xdr.encode(zeros(cls))) == size


def test_program_and_procedure_numbers() -> None:
    assert fops.FOP_PROGRAM.number == ProgramNumber.GLUSTER_FOP
    assert int(fops.FOP_PROGRAM.number) == 1298437
    assert fops.FOP_PROGRAM.version == 400
    # protocol.md §3.6
    expected = {
        "STAT": 1, "MKNOD": 3, "MKDIR": 4, "UNLINK": 5, "RMDIR": 6, "RENAME": 8,
        "TRUNCATE": 10, "OPEN": 11, "READ": 12, "WRITE": 13, "STATFS": 14,
        "FLUSH": 15, "FSYNC": 16, "SETXATTR": 17, "GETXATTR": 18,
        "REMOVEXATTR": 19, "OPENDIR": 20, "ACCESS": 22, "CREATE": 23,
        "FTRUNCATE": 24, "FSTAT": 25, "LK": 26, "LOOKUP": 27, "INODELK": 29,
        "FINODELK": 30, "ENTRYLK": 31, "XATTROP": 33, "FXATTROP": 34,
        "FGETXATTR": 35, "FSETXATTR": 36, "SETATTR": 38, "FSETATTR": 39,
        "READDIRP": 40, "RELEASE": 41, "RELEASEDIR": 42, "FALLOCATE": 44,
        "DISCARD": 45, "ZEROFILL": 46, "IPC": 47, "SEEK": 48,
    }  # fmt: skip
    assert {p.name: n for n, p in fops.PROCEDURES.items()} == expected
    for name, number in expected.items():
        proc = getattr(fops, name)
        assert proc.number == number
        assert proc.program is fops.FOP_PROGRAM
        assert proc.call_payload == (name == "WRITE")
        assert proc.reply_payload == (name == "READ")


def test_ctime_flags_table() -> None:
    assert set(fops.CTIME_FLAGS) == {p.name for p in fops.PROCEDURES.values()}
    nonzero = {k: v for k, v in fops.CTIME_FLAGS.items() if v}
    assert nonzero == {
        **dict.fromkeys(("CREATE", "MKDIR", "MKNOD"), 31),
        **dict.fromkeys(("WRITE", "TRUNCATE", "FTRUNCATE"), 3),
        **dict.fromkeys(("FALLOCATE", "ZEROFILL"), 6),
        **dict.fromkeys(("UNLINK", "RMDIR", "RENAME"), 25),
        **dict.fromkeys(("SETXATTR", "FSETXATTR", "REMOVEXATTR"), 1),
    }


def test_constants() -> None:
    assert fops.ROOT_GFID.hex() == "00000000000000000000000000000001"
    assert fops.NULL_GFID.hex() == "00" * 16
    assert fops.ANON_FD == -2
    assert int(fops.GfOpenFlags.LARGEFILE) == 0o100000
    assert int(fops.GfOpenFlags.DIRECT | fops.GfOpenFlags.RDWR) == 0o40002
    assert [int(m) for m in fops.MdataFlags] == [1, 2, 4, 8, 16, 32]
    assert (int(fops.SeekWhat.DATA), int(fops.SeekWhat.HOLE)) == (0, 1)


def test_rmdir_puts_xflags_before_bname() -> None:
    args = fops.GfxRmdirReq(pargfid=fops.ROOT_GFID, xflags=7, bname="d", xdata=None)
    assert xdr.encode(args)[16:28] == hexwords("00000007 00000001 64000000")
    unlink = fops.GfxUnlinkReq(pargfid=fops.ROOT_GFID, bname="d", xflags=7, xdata=None)
    assert xdr.encode(unlink)[16:28] == hexwords("00000001 64000000 00000007")


def test_entrylk_namelen_is_64_bit() -> None:
    args = fops.GfxEntrylkReq(
        gfid=fops.ROOT_GFID, cmd=1, type=1, namelen=1, name="a", volume="d", xdata=None
    )
    assert xdr.encode(args)[16:40] == hexwords(
        "00000001 00000001 00000000 00000001 00000001 61000000"
    )


# --- gfx_dict ------------------------------------------------------------


def enc(value: fops.Xdata) -> bytes:
    return xdr.encode(value, GFX_DICT)


def dec(data: bytes) -> fops.Xdata:
    return xdr.decode(GFX_DICT, data)


def one_pair(key: bytes, body: bytes, count: int = 1) -> bytes:
    """A gfx_dict of one raw pair: key opaque (as given, padded) + value body."""
    pad = b"\0" * (-len(key) % 4)
    pairs = struct.pack(">I", len(key)) + key + pad + body
    return struct.pack(">IiI", len(pairs), count, 1) + pairs


IATT = fops.GfxIattx(
    ia_gfid=X_IMG_GFID,
    ia_flags=0x17FF,
    ia_ino=0xB9E363549BDF2B7C,
    ia_dev=2049,
    ia_rdev=0,
    ia_size=1 << 20,
    ia_blocks=8,
    ia_attributes=0,
    ia_attributes_mask=0,
    ia_atime=-1,
    ia_mtime=1_500_000_000,
    ia_ctime=1_500_000_000,
    ia_btime=0,
    ia_atime_nsec=1,
    ia_mtime_nsec=123_000_000,
    ia_ctime_nsec=123_000_000,
    ia_btime_nsec=0,
    ia_nlink=1,
    ia_uid=1000,
    ia_gid=1001,
    ia_blksize=4096,
    mode=0o100600,
)
MDATA = fops.GfxMdataIatt(
    ia_atime=1,
    ia_mtime=2,
    ia_ctime=3,
    ia_atime_nsec=4,
    ia_mtime_nsec=5,
    ia_ctime_nsec=6,
)


def test_null_and_empty_dicts() -> None:
    assert enc(None) == hexwords("00000000 ffffffff 00000000")
    assert enc({}) == hexwords("00000000 00000000 00000000")
    assert dec(hexwords("00000000 ffffffff 00000000")) is None
    assert dec(hexwords("00000000 00000000 00000000")) == {}


@pytest.mark.parametrize(
    ("value", "body"),
    [
        (DictValue.int(-2), hexwords("00000002 ffffffff fffffffe")),
        (DictValue.uint(2**64 - 1), hexwords("00000003 ffffffff ffffffff")),
        (DictValue.double(1.5), hexwords("00000004 3ff80000 00000000")),
        (DictValue.str(b"bar"), hexwords("00000005 00000003 62617200")),
        (DictValue.str_old(b"xyz"), hexwords("00000001 00000003 78797a00")),
        (DictValue.ptr(b"hello"), hexwords("00000006 00000005 68656c6c 6f000000")),
        (DictValue.ptr(b""), hexwords("00000006 00000000")),
        (DictValue.gfuuid(X_IMG_GFID), hexwords("00000007") + X_IMG_GFID),
        (DictValue.iatt(IATT), hexwords("00000008") + xdr.encode(IATT)),
        (DictValue.mdata(MDATA), hexwords("00000009") + xdr.encode(MDATA)),
    ],
    ids=lambda v: v.type.name if isinstance(v, DictValue) else "",
)
def test_each_value_type(value: DictValue, body: bytes) -> None:
    wire = one_pair(b"k\0", body)
    assert enc({"k": value}) == wire
    assert dec(wire) == {"k": value}


def test_xdr_size_counts_the_pairs_only() -> None:
    wire = enc({"gfid-req": DictValue.gfuuid(X_IMG_GFID), "a": DictValue.int(1)})
    xdr_size, count, n = struct.unpack_from(">IiI", wire)
    assert (count, n) == (2, 2)
    assert xdr_size == len(wire) - 12 == (4 + 12 + 4 + 16) + (4 + 4 + 4 + 8)


def test_keys_keep_their_nul_and_map_bytes_with_surrogateescape() -> None:
    key = b"user.\xff\xfe".decode("utf-8", "surrogateescape")
    wire = enc({key: DictValue.ptr(b"")})
    assert wire[12:24] == hexwords("00000008") + b"user.\xff\xfe\0"
    assert dec(wire) == {key: DictValue.ptr(b"")}
    assert enc({"": DictValue.int(0)})[12:20] == hexwords("00000001 00000000")


@pytest.mark.parametrize(
    ("wire", "match"),
    [
        (hexwords("00000000 00000001 00000000"), "count 1 but 0"),
        (hexwords("00000000 00000000 00000001"), "count 0 but 1"),
        (hexwords("00000000 fffffffe 00000000"), "count -2"),
        (hexwords("00000004 ffffffff 00000000"), "NULL dict"),
        (hexwords("00000000 ffffffff 00000001"), "NULL dict"),
        (one_pair(b"k\0", hexwords("00000000 00000000")), "no arm"),
        (one_pair(b"k\0", hexwords("0000000a 00000000 00000000")), "unknown data type"),
        (one_pair(b"k\0", hexwords("ffffffff 00000000 00000000")), "unknown data type"),
        (one_pair(b"key", hexwords("00000002 00000000 00000000")), "lacks its NUL"),
        (one_pair(b"", hexwords("00000002 00000000 00000000")), "lacks its NUL"),
        (one_pair(b"a\0b\0", hexwords("00000002 00000000 00000000")), "NUL inside"),
        (one_pair(b"k\0", hexwords("00000002 00000000")), None),
        (hexwords("00000000 00000010 00000010"), "cannot fit"),
        (hexwords("00000000 7fffffff 7fffffff"), "cannot fit"),
        (hexwords("00000000 ffffffff"), None),
    ],
)
def test_garbage_is_xdr_error(wire: bytes, match: str | None) -> None:
    with pytest.raises(XdrError, match=match):
        dec(wire)


def test_wrong_xdr_size_and_duplicate_keys_are_xdr_errors() -> None:
    wire = bytearray(enc({"k": DictValue.int(1)}))
    wire[3] += 4
    with pytest.raises(XdrError, match="xdr_size"):
        dec(bytes(wire))
    pair = enc({"k": DictValue.int(1)})[12:]
    twice = struct.pack(">IiI", 2 * len(pair), 2, 2) + pair + pair
    with pytest.raises(XdrError, match="twice"):
        dec(twice)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({"a\0b": DictValue.int(1)}, "NUL"),
        ({b"k": DictValue.int(1)}, "must be str"),
        ({"k": 1}, "DictValue"),
        ({"k": DictValue(DataType.UNKNOWN, b"")}, "no arm"),
        ({"k": DictValue(99, b"")}, "no arm"),  # type: ignore[arg-type]
        ({"k": DictValue.int(2**63)}, "hyper"),
        ({"k": DictValue.uint(-1)}, "unsigned hyper"),
        ({"k": DictValue.int(True)}, "int"),
        ({"k": DictValue.double(1)}, "float"),
        ({"k": DictValue.ptr("text")}, "bytes"),  # type: ignore[arg-type]
        ({"k": DictValue.gfuuid(bytes(15))}, "16 bytes"),
        ({"k": DictValue(DataType.IATT, MDATA)}, "GfxIattx"),
        ([("k", DictValue.int(1))], "dict or None"),
    ],
)
def test_bad_values_are_xdr_errors_on_encode(value: Any, match: str) -> None:
    with pytest.raises(XdrError, match=match):
        enc(value)


def test_dict_errors_name_the_struct_field_and_key() -> None:
    req = fops.GfxStatReq(gfid=fops.ROOT_GFID, xdata={"bad": DictValue.uint(-1)})
    with pytest.raises(XdrError, match=r"GfxStatReq\.xdata: gfx_dict key 'bad'"):
        xdr.encode(req)


# --- properties ----------------------------------------------------------

_KEYS = (
    st.binary(max_size=24)
    .filter(lambda b: b"\0" not in b)
    .map(lambda b: b.decode("utf-8", "surrogateescape"))
)


def dict_values() -> st.SearchStrategy[DictValue]:
    """Every gfx_value arm, with values its codec accepts."""
    blob = st.binary(max_size=40)
    return st.one_of(
        st.integers(-(2**63), 2**63 - 1).map(DictValue.int),
        st.integers(0, 2**64 - 1).map(DictValue.uint),
        st.floats(allow_nan=False).map(DictValue.double),
        blob.map(DictValue.str),
        blob.map(DictValue.str_old),
        blob.map(DictValue.ptr),
        st.binary(min_size=16, max_size=16).map(DictValue.gfuuid),
        values_for(fops.GfxIattx).map(DictValue.iatt),
        values_for(fops.GfxMdataIatt).map(DictValue.mdata),
    )


def xdata_values() -> st.SearchStrategy[fops.Xdata]:
    """NULL, empty, or a few typed pairs (what tests/strategies.py should offer)."""
    return st.none() | st.dictionaries(_KEYS, dict_values(), max_size=4)


def fop_values(codec: Any) -> st.SearchStrategy[Any]:
    """values_for() that also knows GFX_DICT, for the structs that embed it."""
    codec = xdr.as_codec(codec)
    if isinstance(codec, fops.GfxDict):
        return xdata_values()
    if isinstance(codec, xdr.LinkedList):
        return st.lists(fop_values(codec.item), max_size=3).map(tuple)
    fields = getattr(codec, "fields", None)
    if fields is not None:
        return st.builds(codec.cls, **{name: fop_values(sub) for name, sub in fields})
    return values_for(codec)


FOP_STRUCTS = sorted(
    (obj for obj in vars(fops).values() if xdr.is_struct(obj)), key=lambda c: c.__name__
)


class TestFopsProperties:
    @given(value=xdata_values())
    def test_dict_round_trips_with_exact_xdr_size(self, value: fops.Xdata) -> None:
        wire = enc(value)
        assert dec(wire) == value
        (xdr_size,) = struct.unpack_from(">I", wire)
        assert xdr_size == len(wire) - 12

    @given(blob=st.binary(max_size=256))
    def test_dict_garbage_decodes_or_raises_xdr_error(self, blob: bytes) -> None:
        try:
            value, end = xdr.decode_prefix(GFX_DICT, blob)
        except XdrError:
            return
        # Whatever decodes is canonical: it re-encodes to the same length.
        assert len(enc(value)) == end

    @given(value=xdata_values(), data=st.data())
    def test_truncated_dict_is_xdr_error(
        self, value: fops.Xdata, data: st.DataObject
    ) -> None:
        wire = enc(value)
        cut = data.draw(st.integers(0, len(wire) - 1))
        with pytest.raises(XdrError):
            dec(wire[:cut])

    @given(
        value=st.dictionaries(_KEYS, dict_values(), min_size=1, max_size=4),
        data=st.data(),
    )
    def test_any_wrong_header_word_is_xdr_error(
        self, value: fops.Xdata, data: st.DataObject
    ) -> None:
        wire = bytearray(enc(value))
        word = data.draw(st.integers(0, 2))
        old = struct.unpack_from(">I", wire, 4 * word)[0]
        new = data.draw(st.integers(0, 2**32 - 1).filter(lambda v: v != old))
        struct.pack_into(">I", wire, 4 * word, new)
        with pytest.raises(XdrError):
            dec(bytes(wire))

    # test_xdr.py covers every struct in depth once fops is in its module
    # list; these few examples keep this file self-sufficient and quick.
    @pytest.mark.parametrize("cls", FOP_STRUCTS, ids=lambda c: c.__name__)
    @settings(max_examples=25)
    @given(data=st.data())
    def test_every_fop_struct_round_trips(self, cls: type, data: st.DataObject) -> None:
        value = data.draw(fop_values(cls))
        assert xdr.decode(cls, xdr.encode(value)) == value

    @pytest.mark.parametrize("cls", FOP_STRUCTS, ids=lambda c: c.__name__)
    @settings(max_examples=25)
    @given(blob=st.binary(max_size=512))
    def test_fop_struct_garbage_decodes_or_raises_xdr_error(
        self, cls: type[Any], blob: bytes
    ) -> None:
        try:
            value, end = xdr.decode_prefix(cls, blob)
        except XdrError:
            return
        assert isinstance(value, cls)
        assert 0 <= end <= len(blob)
