"""glusterd's programs: dump, handshake and portmap, and the ones named only.

Declarations only, no I/O: the structs of ``rpc-common-xdr.x``,
``glusterfs3-xdr.x`` and ``portmap-xdr.x`` that a client needs before its first
fop, the old-style serialized dict they carry (``dict.c dict_serialize``), and
the :class:`~pygluster.rpc.programs.Procedure` objects that tie them together;
also what bricks and glusterd send each other (SIGNIN, SET_LK_VER, ...), for
reading captures, and the programs glusterd speaks among its own daemons,
named only.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Annotated, TypeAlias

from pygluster.errors import XdrError
from pygluster.rpc import xdr
from pygluster.rpc.programs import Program, ProgramNumber, procedure

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "BRICKBYPORT",
    "DUMP",
    "DUMP_PROGRAM",
    "EVENT_NOTIFY",
    "GETSPEC",
    "GET_VOLUME_INFO",
    "GLUSTERD_INTERNAL_PROGRAMS",
    "GLUSTER_DUMP_GFS_ID",
    "HANDSHAKE_PING",
    "HANDSHAKE_PROGRAM",
    "OLD_DICT",
    "OP_VERSION_XDATA",
    "PING",
    "PORTBYBRICK",
    "PORTMAP_PROGRAM",
    "SETVOLUME",
    "SET_LK_VER",
    "SIGNIN",
    "SIGNOUT",
    "GfCommonRsp",
    "GfDumpReq",
    "GfDumpRsp",
    "GfEventNotifyReq",
    "GfEventNotifyRsp",
    "GfGetVolumeInfoReq",
    "GfGetVolumeInfoRsp",
    "GfGetspecReq",
    "GfGetspecRsp",
    "GfProgDetail",
    "GfSetLkVerReq",
    "GfSetLkVerRsp",
    "GfSetvolumeReq",
    "GfSetvolumeRsp",
    "OldDict",
    "PmapBrickByPortReq",
    "PmapBrickByPortRsp",
    "PmapPortByBrickReq",
    "PmapPortByBrickRsp",
    "PmapSigninReq",
    "PmapSigninRsp",
    "dict_str",
    "str_dict",
]


# --- the old-style serialized dict -------------------------------------------

_U32 = struct.Struct(">I")
_PAIR_HEAD = struct.Struct(">II")


class OldDict(xdr.Codec[dict[str, bytes]]):
    """A ``dict_serialize`` blob carried in an XDR ``opaque<>``.

    Layout (dict.c ``dict_serialize``/``dict_unserialize``, not XDR inside):
    count (BE i32), then per pair keylen (BE u32, without the NUL), vallen
    (BE u32), the key and one NUL, then vallen raw bytes with no padding.
    Numbers and strings are sent as decimal/text *with* a trailing NUL that
    vallen counts (protocol.md §4.1); values are kept as raw bytes
    here, see :func:`str_dict` and :func:`dict_str`. An empty dict is an
    empty opaque.
    """

    __slots__ = ()

    def pack(self, p: xdr.Packer, v: dict[str, bytes]) -> None:
        xdr.Opaque().pack(p, self.serialize(v))

    def unpack(self, u: xdr.Unpacker) -> dict[str, bytes]:
        return self.unserialize(xdr.Opaque().unpack(u))

    @staticmethod
    def serialize(v: Mapping[str, bytes]) -> bytes:
        """The blob for ``v`` (empty bytes for an empty dict)."""
        if not v:
            return b""
        parts = [_U32.pack(len(v))]
        for key, value in v.items():
            if not isinstance(key, str) or not isinstance(value, bytes):
                raise XdrError("old dict keys must be str and values bytes")
            raw_key = key.encode("utf-8", "surrogateescape")
            if b"\0" in raw_key:
                raise XdrError(f"old dict key {key!r} contains a NUL")
            parts += [_PAIR_HEAD.pack(len(raw_key), len(value)), raw_key, b"\0", value]
        return b"".join(parts)

    @staticmethod
    def unserialize(blob: bytes) -> dict[str, bytes]:
        """Parse a blob; any malformation is an XdrError."""
        if not blob:
            return {}
        view = memoryview(blob)
        if len(view) < 4:
            raise XdrError("old dict: shorter than its count word")
        (count,) = _U32.unpack_from(view)
        if count > 0x7FFF_FFFF:
            raise XdrError(f"old dict: negative pair count {count - 2**32}")
        offset = 4
        result: dict[str, bytes] = {}
        for index in range(count):
            if offset + 8 > len(view):
                raise XdrError(f"old dict: pair {index} header runs past the end")
            keylen, vallen = _PAIR_HEAD.unpack_from(view, offset)
            offset += 8
            key_end = offset + keylen
            value_end = key_end + 1 + vallen
            if value_end > len(view):
                raise XdrError(f"old dict: pair {index} runs past the end")
            if view[key_end] != 0:
                raise XdrError(f"old dict: key of pair {index} lacks its NUL")
            key = bytes(view[offset:key_end]).decode("utf-8", "surrogateescape")
            result[key] = bytes(view[key_end + 1 : value_end])
            offset = value_end
        if offset != len(view):
            raise XdrError(f"old dict: {len(view) - offset} bytes after the last pair")
        return result

    def __repr__(self) -> str:
        return "OldDict"


OLD_DICT = OldDict()

#: What an old dict decodes to. A module-level alias, because struct fields
#: named ``dict`` (as in the .x files) would shadow the builtin in annotations.
DictValues: TypeAlias = dict[str, bytes]


def str_dict(values: Mapping[str, str | int]) -> dict[str, bytes]:
    """Old-dict values from text or numbers: ``"x"`` → ``b"x\\0"``, 7 → ``b"7\\0"``.

    Gluster parses every old-dict value as a C string, so the NUL is required
    (dict.c ``data_from_int32`` stores decimal text plus NUL).
    """
    return {
        key: str(value).encode("utf-8", "surrogateescape") + b"\0"
        for key, value in values.items()
    }


def dict_str(values: Mapping[str, bytes], key: str) -> str | None:
    """An old-dict value as text (up to its first NUL), or None if absent."""
    raw = values.get(key)
    if raw is None:
        return None
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


# --- structs ---------------------------------------------------------------


@xdr.struct
class GfDumpReq:
    """struct gf_dump_req { unsigned hyper gfs_id; };  -- rpc-common-xdr.x"""

    gfs_id: Annotated[int, xdr.UHYPER]


@xdr.struct
class GfProgDetail:
    """struct gf_prog_detail { string progname<>; unsigned hyper prognum;
    unsigned hyper progver; struct gf_prog_detail *next; };  -- rpc-common-xdr.x

    ``next`` is not a field: the chain is a :class:`~pygluster.rpc.xdr.LinkedList`.
    """

    progname: Annotated[str, xdr.String()]
    prognum: Annotated[int, xdr.UHYPER]
    progver: Annotated[int, xdr.UHYPER]


_PROG_DETAIL_LIST = xdr.LinkedList(xdr.as_codec(GfProgDetail))


@xdr.struct
class GfDumpRsp:
    """struct gf_dump_rsp { unsigned hyper gfs_id; int op_ret; int op_errno;
    struct gf_prog_detail *prog; };  -- rpc-common-xdr.x"""

    gfs_id: Annotated[int, xdr.UHYPER]
    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    prog: Annotated[
        tuple[GfProgDetail, ...], xdr.LinkedList(xdr.as_codec(GfProgDetail))
    ]


@xdr.struct
class GfCommonRsp:
    """struct gf_common_rsp { int op_ret; int op_errno; opaque xdata<>; };
    -- glusterfs3-xdr.x (PING's reply)"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class GfGetspecReq:
    """struct gf_getspec_req { unsigned int flags; string key<>;
    opaque xdata<>; };  -- glusterfs3-xdr.x"""

    flags: Annotated[int, xdr.UINT]
    key: Annotated[str, xdr.String()]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class GfGetspecRsp:
    """struct gf_getspec_rsp { int op_ret; int op_errno; string spec<>;
    opaque xdata<>; };  -- glusterfs3-xdr.x

    On success ``op_ret`` is the length of ``spec``, not 0 (§5.2).
    """

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    spec: Annotated[str, xdr.String()]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class GfSetvolumeReq:
    """struct gf_setvolume_req { opaque dict<>; };  -- glusterfs3-xdr.x"""

    dict: Annotated[DictValues, OLD_DICT]


@xdr.struct
class GfSetvolumeRsp:
    """struct gf_setvolume_rsp { int op_ret; int op_errno; opaque dict<>; };
    -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    dict: Annotated[DictValues, OLD_DICT]


@xdr.struct
class GfGetVolumeInfoReq:
    """struct gf_get_volume_info_req { opaque dict<>; };  -- glusterfs3-xdr.x"""

    dict: Annotated[DictValues, OLD_DICT]


@xdr.struct
class GfGetVolumeInfoRsp:
    """struct gf_get_volume_info_rsp { int op_ret; int op_errno;
    string op_errstr<>; opaque dict<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    op_errstr: Annotated[str, xdr.String()]
    dict: Annotated[DictValues, OLD_DICT]


@xdr.struct
class PmapPortByBrickReq:
    """struct pmap_port_by_brick_req { string brick<>; };  -- portmap-xdr.x"""

    brick: Annotated[str, xdr.String()]


@xdr.struct
class PmapPortByBrickRsp:
    """struct pmap_port_by_brick_rsp { int op_ret; int op_errno; int status;
    int port; };  -- portmap-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    status: Annotated[int, xdr.INT]
    port: Annotated[int, xdr.INT]


# --- what glusterd and bricks send each other (for captures) ------------------


@xdr.struct
class GfEventNotifyReq:
    """struct gf_event_notify_req { int op; opaque dict<>; };  -- glusterfs3-xdr.x"""

    op: Annotated[int, xdr.INT]
    dict: Annotated[DictValues, OLD_DICT]


@xdr.struct
class GfEventNotifyRsp:
    """struct gf_event_notify_rsp { int op_ret; int op_errno; opaque dict<>; };  --
    glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    dict: Annotated[DictValues, OLD_DICT]


@xdr.struct
class GfSetLkVerReq:
    """struct gf_set_lk_ver_req { string uid<>; int lk_ver; };  -- glusterfs3-xdr.x"""

    uid: Annotated[str, xdr.String()]
    lk_ver: Annotated[int, xdr.INT]


@xdr.struct
class GfSetLkVerRsp:
    """struct gf_set_lk_ver_rsp { int op_ret; int op_errno; int lk_ver; };  --
    glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    lk_ver: Annotated[int, xdr.INT]


@xdr.struct
class PmapBrickByPortReq:
    """struct pmap_brick_by_port_req { int port; };  -- portmap-xdr.x"""

    port: Annotated[int, xdr.INT]


@xdr.struct
class PmapBrickByPortRsp:
    """struct pmap_brick_by_port_rsp { int op_ret; int op_errno; int status; string
    brick<>; };  -- portmap-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    status: Annotated[int, xdr.INT]
    brick: Annotated[str, xdr.String()]


@xdr.struct
class PmapSigninReq:
    """struct pmap_signin_req { string brick<>; int port; int rdma_port; };
    -- portmap-xdr.x (pmap_signout_req is the same)

    Older .x files lack ``rdma_port``; 10.3 bricks send it (the SIGNIN calls
    of a 10.3 capture are 4 bytes longer than brick + port).
    """

    brick: Annotated[str, xdr.String()]
    port: Annotated[int, xdr.INT]
    rdma_port: Annotated[int, xdr.INT]


@xdr.struct
class PmapSigninRsp:
    """struct pmap_signin_rsp { int op_ret; int op_errno; };  -- portmap-xdr.x
    (pmap_signout_rsp is the same)"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]


# --- programs and procedures --------------------------------------------------

DUMP_PROGRAM = Program("GF-DUMP", ProgramNumber.GLUSTER_DUMP, 1, names={0: "NULL"})
HANDSHAKE_PROGRAM = Program(
    "GlusterFS Handshake",
    ProgramNumber.GLUSTER_HNDSK,
    2,
    names={0: "NULL", 7: "GET_SNAPSHOT_INFO"},
)
PORTMAP_PROGRAM = Program(
    "Gluster Portmap", ProgramNumber.GLUSTER_PMAP, 1, names={0: "NULL", 3: "SIGNUP"}
)

#: Programs glusterd uses among its own daemons and with the gluster CLI:
#: named, so a capture decoder can say what they are, but not declared.
GLUSTERD_INTERNAL_PROGRAMS = tuple(
    Program(name, number, version, header_only=True)
    for number, version, name in (
        (ProgramNumber.GLUSTERD_PEER, 2, "GlusterD svc peer"),
        (ProgramNumber.GLUSTER_CLI, 2, "GlusterD svc cli"),
        (ProgramNumber.GLUSTERD_MGMT, 2, "GlusterD svc mgmt"),
        (ProgramNumber.GLUSTERD_MGMT, 3, "GlusterD svc mgmt v3"),
        (ProgramNumber.GLUSTERD_MGMT_HNDSK, 1, "Gluster MGMT Handshake"),
        (ProgramNumber.GLUSTERD_BRICK, 2, "Gluster Brick operations"),
    )
)

#: gfs_id gfapi puts in DUMP (0xcaed, seen on the wire; the server ignores it).
GLUSTER_DUMP_GFS_ID = 0xCAED

# xdr-common.h GF_DUMP_*; PING is served by glusterd and bricks alike.
DUMP = procedure(DUMP_PROGRAM, 1, "DUMP", GfDumpReq, GfDumpRsp)
PING = procedure(DUMP_PROGRAM, 2, "PING", xdr.VOID, GfCommonRsp)

# protocol-common.h GF_HNDSK_*.
SETVOLUME = procedure(HANDSHAKE_PROGRAM, 1, "SETVOLUME", GfSetvolumeReq, GfSetvolumeRsp)
GETSPEC = procedure(HANDSHAKE_PROGRAM, 2, "GETSPEC", GfGetspecReq, GfGetspecRsp)
GET_VOLUME_INFO = procedure(
    HANDSHAKE_PROGRAM, 6, "GET_VOLUME_INFO", GfGetVolumeInfoReq, GfGetVolumeInfoRsp
)

# protocol-common.h GF_PMAP_PORTBYBRICK; glusterd's TCP listener only (§1).
PORTBYBRICK = procedure(
    PORTMAP_PROGRAM, 1, "PORTBYBRICK", PmapPortByBrickReq, PmapPortByBrickRsp
)

#: GETSPEC flag asking for the server list (GF_GETSPEC_FLAG_SERVERS_LIST);
#: gfapi sets it, glusterd 10 ignores it.
GETSPEC_FLAG_SERVERS_LIST = 1

#: GETSPEC's xdata: without it glusterd assumes client op-version 1 and refuses
#: every modern volume with EOPNOTSUPP (protocol.md §5.2, gotcha 12).
#: 100000 is GD_OP_VERSION_MAX of glusterfs 10.
OP_VERSION_XDATA = str_dict({"max-op-version": 100000, "min-op-version": 1})

# --- glusterd procedures pygluster does not call -------------------------------------

# protocol-common.h GF_HNDSK_*: the brick's own PING (clients use GF-DUMP's).
HANDSHAKE_PING = procedure(HANDSHAKE_PROGRAM, 3, "PING", xdr.VOID, GfCommonRsp)
SET_LK_VER = procedure(HANDSHAKE_PROGRAM, 4, "SET_LK_VER", GfSetLkVerReq, GfSetLkVerRsp)
EVENT_NOTIFY = procedure(
    HANDSHAKE_PROGRAM, 5, "EVENT_NOTIFY", GfEventNotifyReq, GfEventNotifyRsp
)
# protocol-common.h GF_PMAP_BRICKBYPORT.
BRICKBYPORT = procedure(
    PORTMAP_PROGRAM, 2, "BRICKBYPORT", PmapBrickByPortReq, PmapBrickByPortRsp
)
# Bricks sign in and out with glusterd's portmap (glusterfsd-mgmt.c).
SIGNIN = procedure(PORTMAP_PROGRAM, 4, "SIGNIN", PmapSigninReq, PmapSigninRsp)
SIGNOUT = procedure(PORTMAP_PROGRAM, 5, "SIGNOUT", PmapSigninReq, PmapSigninRsp)
