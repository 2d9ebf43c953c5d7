"""The fop program v330 ("GlusterFS 3.3"), for reading captures of old clients.

No client of a 10.x cluster uses it (gfapi, FUSE and pygluster speak v400),
but it is still served, and captures of older clients are full of it. Its
procedures are numbered as v400's (:class:`~pygluster.rpc.fops.FopProc`);
its structs are the ``gfs3_*`` ones of ``glusterfs3-xdr.x``: times as
seconds in a ``gf_iatt``, and ``xdata`` as an ``opaque xdata<>`` holding an
old-style serialized dict. Most of them have the very fields of their v400
twin, apart from those two types: they are derived from the v400 declaration
(:func:`_twin`) rather than written out again; the rest are declared here.
Declarations only, no I/O; field names keep their ``.x`` spelling; the reply
structs are the ones ``server-rpc-fops.c`` sends.
"""

from __future__ import annotations

from typing import Annotated, Any

from pygluster.rpc import fops, xdr
from pygluster.rpc.fops import FopProc, GfProtoFlock, GfProtoLease, GfStatfs
from pygluster.rpc.glusterd import OLD_DICT, DictValues, GfCommonRsp
from pygluster.rpc.programs import Procedure, Program, ProgramNumber, procedure

__all__ = [
    "FOP_PROGRAM_V330",
    "PROCEDURES",
    "GfIatt",
]


@xdr.struct
class GfIatt:
    """struct gf_iatt { opaque ia_gfid[16]; u_quad_t ia_ino; u_quad_t ia_dev; unsigned
    int mode; unsigned int ia_nlink; unsigned int ia_uid; unsigned int ia_gid;
    u_quad_t ia_rdev; u_quad_t ia_size; unsigned int ia_blksize; u_quad_t ia_blocks;
    unsigned int ia_atime; unsigned int ia_atime_nsec; unsigned int ia_mtime;
    unsigned int ia_mtime_nsec; unsigned int ia_ctime; unsigned int ia_ctime_nsec;
    };  -- glusterfs3-xdr.x"""

    ia_gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    ia_ino: Annotated[int, xdr.UHYPER]
    ia_dev: Annotated[int, xdr.UHYPER]
    mode: Annotated[int, xdr.UINT]
    ia_nlink: Annotated[int, xdr.UINT]
    ia_uid: Annotated[int, xdr.UINT]
    ia_gid: Annotated[int, xdr.UINT]
    ia_rdev: Annotated[int, xdr.UHYPER]
    ia_size: Annotated[int, xdr.UHYPER]
    ia_blksize: Annotated[int, xdr.UINT]
    ia_blocks: Annotated[int, xdr.UHYPER]
    ia_atime: Annotated[int, xdr.UINT]
    ia_atime_nsec: Annotated[int, xdr.UINT]
    ia_mtime: Annotated[int, xdr.UINT]
    ia_mtime_nsec: Annotated[int, xdr.UINT]
    ia_ctime: Annotated[int, xdr.UINT]
    ia_ctime_nsec: Annotated[int, xdr.UINT]


# --- the twins of v400 structs ---------------------------------------------------

# What the two generations spell differently, as annotation texts: a
# gfx_dict is an opaque old-style dict in v3, a gfx_iattx a gf_iatt.
_V3_SPELLING = {
    "Annotated[Xdata, GFX_DICT]": "Annotated[DictValues, OLD_DICT]",
    "Annotated[GfxIattx, GfxIattx]": "Annotated[GfIatt, GfIatt]",
}


def _declare(x_name: str, annotations: dict[str, str], doc: str) -> type[Any]:
    """Declare struct ``x_name`` (``gfs3_mkdir_rsp`` → class ``Gfs3MkdirRsp``)
    from its fields' annotation texts, as a class body would."""
    class_name = "".join(part.capitalize() for part in x_name.split("_"))
    namespace = {
        "__module__": __name__,
        "__qualname__": class_name,
        "__annotations__": annotations,
        "__doc__": f"struct {x_name}: {doc}  -- glusterfs3-xdr.x",
    }
    return xdr.struct(type(class_name, (), namespace))


def _same_layout(first: type[Any], x_name: str) -> type[Any]:
    """Declare struct ``x_name``, whose fields are exactly those of ``first``
    (the .x file writes the same reply out once per fop)."""
    first_name = (first.__doc__ or "").split()[1]
    return _declare(
        x_name, dict(vars(first)["__annotations__"]), f"the fields of {first_name}."
    )


def _twin(v4: type[Any], x_name: str) -> type[Any]:
    """Declare the ``glusterfs3-xdr.x`` struct ``x_name``, whose fields are
    those of the v400 struct ``v4`` (same names, same order), with each
    ``gfx_dict`` an old-style dict and each ``gfx_iattx`` a ``gf_iatt``."""
    v4_name = (v4.__doc__ or "").split()[1]
    annotations = {
        name: _V3_SPELLING.get(text, text)
        for name, text in vars(v4)["__annotations__"].items()
    }
    return _declare(
        x_name,
        annotations,
        f"the fields of {v4_name} (glusterfs4-xdr.x), with opaque xdata<> for "
        "gfx_dict and gf_iatt for gfx_iattx.",
    )


Gfs3StatReq = _twin(fops.GfxStatReq, "gfs3_stat_req")
Gfs3ReadlinkReq = _twin(fops.GfxReadlinkReq, "gfs3_readlink_req")
Gfs3MknodReq = _twin(fops.GfxMknodReq, "gfs3_mknod_req")
Gfs3MkdirReq = _twin(fops.GfxMkdirReq, "gfs3_mkdir_req")
Gfs3UnlinkReq = _twin(fops.GfxUnlinkReq, "gfs3_unlink_req")
Gfs3RmdirReq = _twin(fops.GfxRmdirReq, "gfs3_rmdir_req")
Gfs3SymlinkReq = _twin(fops.GfxSymlinkReq, "gfs3_symlink_req")
Gfs3RenameReq = _twin(fops.GfxRenameReq, "gfs3_rename_req")
Gfs3LinkReq = _twin(fops.GfxLinkReq, "gfs3_link_req")
Gfs3TruncateReq = _twin(fops.GfxTruncateReq, "gfs3_truncate_req")
Gfs3OpenReq = _twin(fops.GfxOpenReq, "gfs3_open_req")
Gfs3ReadReq = _twin(fops.GfxReadReq, "gfs3_read_req")
Gfs3ReadRsp = _twin(fops.GfxReadRsp, "gfs3_read_rsp")
Gfs3LookupReq = _twin(fops.GfxLookupReq, "gfs3_lookup_req")
Gfs3WriteReq = _twin(fops.GfxWriteReq, "gfs3_write_req")
Gfs3StatfsReq = _twin(fops.GfxStatfsReq, "gfs3_statfs_req")
Gfs3LkReq = _twin(fops.GfxLkReq, "gfs3_lk_req")
Gfs3InodelkReq = _twin(fops.GfxInodelkReq, "gfs3_inodelk_req")
Gfs3FinodelkReq = _twin(fops.GfxFinodelkReq, "gfs3_finodelk_req")
Gfs3FlushReq = _twin(fops.GfxFlushReq, "gfs3_flush_req")
Gfs3FsyncReq = _twin(fops.GfxFsyncReq, "gfs3_fsync_req")
Gfs3SetxattrReq = _twin(fops.GfxSetxattrReq, "gfs3_setxattr_req")
Gfs3FsetxattrReq = _twin(fops.GfxFsetxattrReq, "gfs3_fsetxattr_req")
Gfs3XattropReq = _twin(fops.GfxXattropReq, "gfs3_xattrop_req")
Gfs3FxattropReq = _twin(fops.GfxFxattropReq, "gfs3_fxattrop_req")
Gfs3GetxattrReq = _twin(fops.GfxGetxattrReq, "gfs3_getxattr_req")
Gfs3FgetxattrReq = _twin(fops.GfxFgetxattrReq, "gfs3_fgetxattr_req")
Gfs3RemovexattrReq = _twin(fops.GfxRemovexattrReq, "gfs3_removexattr_req")
Gfs3FremovexattrReq = _twin(fops.GfxFremovexattrReq, "gfs3_fremovexattr_req")
Gfs3OpendirReq = _twin(fops.GfxOpendirReq, "gfs3_opendir_req")
Gfs3FsyncdirReq = _twin(fops.GfxFsyncdirReq, "gfs3_fsyncdir_req")
Gfs3ReaddirReq = _twin(fops.GfxReaddirReq, "gfs3_readdir_req")
Gfs3AccessReq = _twin(fops.GfxAccessReq, "gfs3_access_req")
Gfs3CreateReq = _twin(fops.GfxCreateReq, "gfs3_create_req")
Gfs3FtruncateReq = _twin(fops.GfxFtruncateReq, "gfs3_ftruncate_req")
Gfs3FstatReq = _twin(fops.GfxFstatReq, "gfs3_fstat_req")
Gfs3EntrylkReq = _twin(fops.GfxEntrylkReq, "gfs3_entrylk_req")
Gfs3FentrylkReq = _twin(fops.GfxFentrylkReq, "gfs3_fentrylk_req")
Gfs3SetattrReq = _twin(fops.GfxSetattrReq, "gfs3_setattr_req")
Gfs3FallocateReq = _twin(fops.GfxFallocateReq, "gfs3_fallocate_req")
Gfs3DiscardReq = _twin(fops.GfxDiscardReq, "gfs3_discard_req")
Gfs3ZerofillReq = _twin(fops.GfxZerofillReq, "gfs3_zerofill_req")
Gfs3IpcReq = _twin(fops.GfxIpcReq, "gfs3_ipc_req")
Gfs3SeekReq = _twin(fops.GfxSeekReq, "gfs3_seek_req")
Gfs3LeaseReq = _twin(fops.GfxLeaseReq, "gfs3_lease_req")
Gfs3ReleaseReq = _twin(fops.GfxReleaseReq, "gfs3_release_req")
Gfs3ReleasedirReq = _twin(fops.GfxReleasedirReq, "gfs3_releasedir_req")
Gfs3Dirlist = _twin(fops.GfxDirlist, "gfs3_dirlist")
Gfs3Dirplist = _twin(fops.GfxDirplist, "gfs3_dirplist")


# --- the v330 structs that differ from their v400 twin ----------------------------


@xdr.struct
class Gfs3StatRsp:
    """struct gfs3_stat_rsp { int op_ret; int op_errno; gf_iatt stat; opaque xdata<>;
    };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    stat: Annotated[GfIatt, GfIatt]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3ReadlinkRsp:
    """struct gfs3_readlink_rsp { int op_ret; int op_errno; gf_iatt buf; string path<>;
    opaque xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    buf: Annotated[GfIatt, GfIatt]
    path: Annotated[str, xdr.String()]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3MknodRsp:
    """struct gfs3_mknod_rsp { int op_ret; int op_errno; gf_iatt stat; gf_iatt
    preparent; gf_iatt postparent; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    stat: Annotated[GfIatt, GfIatt]
    preparent: Annotated[GfIatt, GfIatt]
    postparent: Annotated[GfIatt, GfIatt]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3UnlinkRsp:
    """struct gfs3_unlink_rsp { int op_ret; int op_errno; gf_iatt preparent; gf_iatt
    postparent; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    preparent: Annotated[GfIatt, GfIatt]
    postparent: Annotated[GfIatt, GfIatt]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3RenameRsp:
    """struct gfs3_rename_rsp { int op_ret; int op_errno; gf_iatt stat; gf_iatt
    preoldparent; gf_iatt postoldparent; gf_iatt prenewparent; gf_iatt
    postnewparent; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    stat: Annotated[GfIatt, GfIatt]
    preoldparent: Annotated[GfIatt, GfIatt]
    postoldparent: Annotated[GfIatt, GfIatt]
    prenewparent: Annotated[GfIatt, GfIatt]
    postnewparent: Annotated[GfIatt, GfIatt]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3TruncateRsp:
    """struct gfs3_truncate_rsp { int op_ret; int op_errno; gf_iatt prestat; gf_iatt
    poststat; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    prestat: Annotated[GfIatt, GfIatt]
    poststat: Annotated[GfIatt, GfIatt]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3OpenRsp:
    """struct gfs3_open_rsp { int op_ret; int op_errno; quad_t fd; opaque xdata<>; };
    -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    fd: Annotated[int, xdr.HYPER]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3LookupRsp:
    """struct gfs3_lookup_rsp { int op_ret; int op_errno; gf_iatt stat; gf_iatt
    postparent; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    stat: Annotated[GfIatt, GfIatt]
    postparent: Annotated[GfIatt, GfIatt]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3StatfsRsp:
    """struct gfs3_statfs_rsp { int op_ret; int op_errno; gf_statfs statfs; opaque
    xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    statfs: Annotated[GfStatfs, GfStatfs]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3LkRsp:
    """struct gfs3_lk_rsp { int op_ret; int op_errno; gf_proto_flock flock; opaque
    xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    flock: Annotated[GfProtoFlock, GfProtoFlock]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3XattropRsp:
    """struct gfs3_xattrop_rsp { int op_ret; int op_errno; opaque dict<>; opaque
    xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    dict: Annotated[DictValues, OLD_DICT]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3ReaddirpReq:
    """struct gfs3_readdirp_req { opaque gfid[16]; quad_t fd; u_quad_t offset; unsigned
    int size; opaque dict<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    offset: Annotated[int, xdr.UHYPER]
    size: Annotated[int, xdr.UINT]
    dict: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3CreateRsp:
    """struct gfs3_create_rsp { int op_ret; int op_errno; gf_iatt stat; u_quad_t fd;
    gf_iatt preparent; gf_iatt postparent; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    stat: Annotated[GfIatt, GfIatt]
    fd: Annotated[int, xdr.UHYPER]
    preparent: Annotated[GfIatt, GfIatt]
    postparent: Annotated[GfIatt, GfIatt]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3SetattrRsp:
    """struct gfs3_setattr_rsp { int op_ret; int op_errno; gf_iatt statpre; gf_iatt
    statpost; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    statpre: Annotated[GfIatt, GfIatt]
    statpost: Annotated[GfIatt, GfIatt]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3FsetattrReq:
    """struct gfs3_fsetattr_req { quad_t fd; gf_iatt stbuf; int valid; opaque xdata<>;
    };  -- glusterfs3-xdr.x"""

    fd: Annotated[int, xdr.HYPER]
    stbuf: Annotated[GfIatt, GfIatt]
    valid: Annotated[int, xdr.INT]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3RchecksumReq:
    """struct gfs3_rchecksum_req { quad_t fd; u_quad_t offset; unsigned int len; opaque
    xdata<>; };  -- glusterfs3-xdr.x"""

    fd: Annotated[int, xdr.HYPER]
    offset: Annotated[int, xdr.UHYPER]
    len: Annotated[int, xdr.UINT]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3RchecksumRsp:
    """struct gfs3_rchecksum_rsp { int op_ret; int op_errno; unsigned int
    weak_checksum; opaque strong_checksum<>; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    weak_checksum: Annotated[int, xdr.UINT]
    strong_checksum: Annotated[bytes, xdr.Opaque()]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3SeekRsp:
    """struct gfs3_seek_rsp { int op_ret; int op_errno; u_quad_t offset; opaque
    xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    offset: Annotated[int, xdr.UHYPER]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3LeaseRsp:
    """struct gfs3_lease_rsp { int op_ret; int op_errno; gf_proto_lease lease; opaque
    xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    lease: Annotated[GfProtoLease, GfProtoLease]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3ReaddirRsp:
    """struct gfs3_readdir_rsp { int op_ret; int op_errno; gfs3_dirlist *reply; opaque
    xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    # Items are Gfs3Dirlist, a derived class (no static type to name).
    reply: Annotated[tuple[Any, ...], xdr.LinkedList(xdr.as_codec(Gfs3Dirlist))]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3ReaddirpRsp:
    """struct gfs3_readdirp_rsp { int op_ret; int op_errno; gfs3_dirplist *reply;
    opaque xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    # Items are Gfs3Dirplist, a derived class (no static type to name).
    reply: Annotated[tuple[Any, ...], xdr.LinkedList(xdr.as_codec(Gfs3Dirplist))]
    xdata: Annotated[DictValues, OLD_DICT]


# Replies the .x declares again and again with the same fields.
Gfs3MkdirRsp = _same_layout(Gfs3MknodRsp, "gfs3_mkdir_rsp")
Gfs3SymlinkRsp = _same_layout(Gfs3MknodRsp, "gfs3_symlink_rsp")
Gfs3LinkRsp = _same_layout(Gfs3MknodRsp, "gfs3_link_rsp")
Gfs3RmdirRsp = _same_layout(Gfs3UnlinkRsp, "gfs3_rmdir_rsp")
Gfs3WriteRsp = _same_layout(Gfs3TruncateRsp, "gfs3_write_rsp")
Gfs3FsyncRsp = _same_layout(Gfs3TruncateRsp, "gfs3_fsync_rsp")
Gfs3GetxattrRsp = _same_layout(Gfs3XattropRsp, "gfs3_getxattr_rsp")


# --- the program and its procedures ------------------------------------------------

# protocol-common.h: GLUSTER_FOP_PROGRAM 1298437, GLUSTER_FOP_VERSION 330.
FOP_PROGRAM_V330 = Program(
    "GlusterFS 3.3",
    ProgramNumber.GLUSTER_FOP,
    330,
    names={number.value: number.name for number in FopProc},
)

_COMMON = GfCommonRsp  # gf_common_rsp { int op_ret; int op_errno; opaque xdata<>; }


def _fop3(
    number: FopProc,
    args: type[Any],
    result: type[Any],
    *,
    call_payload: bool = False,
    reply_payload: bool = False,
) -> Procedure[Any, Any]:
    return procedure(
        FOP_PROGRAM_V330,
        number,
        number.name,
        args,
        result,
        call_payload=call_payload,
        reply_payload=reply_payload,
    )


_fop3(FopProc.STAT, Gfs3StatReq, Gfs3StatRsp)
_fop3(FopProc.READLINK, Gfs3ReadlinkReq, Gfs3ReadlinkRsp)
_fop3(FopProc.MKNOD, Gfs3MknodReq, Gfs3MknodRsp)
_fop3(FopProc.MKDIR, Gfs3MkdirReq, Gfs3MkdirRsp)
_fop3(FopProc.UNLINK, Gfs3UnlinkReq, Gfs3UnlinkRsp)
_fop3(FopProc.RMDIR, Gfs3RmdirReq, Gfs3RmdirRsp)
_fop3(FopProc.SYMLINK, Gfs3SymlinkReq, Gfs3SymlinkRsp)
_fop3(FopProc.RENAME, Gfs3RenameReq, Gfs3RenameRsp)
_fop3(FopProc.LINK, Gfs3LinkReq, Gfs3LinkRsp)
_fop3(FopProc.TRUNCATE, Gfs3TruncateReq, Gfs3TruncateRsp)
_fop3(FopProc.OPEN, Gfs3OpenReq, Gfs3OpenRsp)
_fop3(FopProc.READ, Gfs3ReadReq, Gfs3ReadRsp, reply_payload=True)
_fop3(FopProc.WRITE, Gfs3WriteReq, Gfs3WriteRsp, call_payload=True)
_fop3(FopProc.STATFS, Gfs3StatfsReq, Gfs3StatfsRsp)
_fop3(FopProc.FLUSH, Gfs3FlushReq, _COMMON)
_fop3(FopProc.FSYNC, Gfs3FsyncReq, Gfs3FsyncRsp)
_fop3(FopProc.SETXATTR, Gfs3SetxattrReq, _COMMON)
_fop3(FopProc.GETXATTR, Gfs3GetxattrReq, Gfs3GetxattrRsp)
_fop3(FopProc.REMOVEXATTR, Gfs3RemovexattrReq, _COMMON)
_fop3(FopProc.OPENDIR, Gfs3OpendirReq, Gfs3OpenRsp)
_fop3(FopProc.FSYNCDIR, Gfs3FsyncdirReq, _COMMON)
_fop3(FopProc.ACCESS, Gfs3AccessReq, _COMMON)
_fop3(FopProc.CREATE, Gfs3CreateReq, Gfs3CreateRsp)
_fop3(FopProc.FTRUNCATE, Gfs3FtruncateReq, Gfs3TruncateRsp)
_fop3(FopProc.FSTAT, Gfs3FstatReq, Gfs3StatRsp)
_fop3(FopProc.LK, Gfs3LkReq, Gfs3LkRsp)
_fop3(FopProc.LOOKUP, Gfs3LookupReq, Gfs3LookupRsp)
_fop3(FopProc.READDIR, Gfs3ReaddirReq, Gfs3ReaddirRsp)
_fop3(FopProc.INODELK, Gfs3InodelkReq, _COMMON)
_fop3(FopProc.FINODELK, Gfs3FinodelkReq, _COMMON)
_fop3(FopProc.ENTRYLK, Gfs3EntrylkReq, _COMMON)
_fop3(FopProc.FENTRYLK, Gfs3FentrylkReq, _COMMON)
_fop3(FopProc.XATTROP, Gfs3XattropReq, Gfs3XattropRsp)
_fop3(FopProc.FXATTROP, Gfs3FxattropReq, Gfs3XattropRsp)
_fop3(FopProc.FGETXATTR, Gfs3FgetxattrReq, Gfs3GetxattrRsp)
_fop3(FopProc.FSETXATTR, Gfs3FsetxattrReq, _COMMON)
_fop3(FopProc.RCHECKSUM, Gfs3RchecksumReq, Gfs3RchecksumRsp)
_fop3(FopProc.SETATTR, Gfs3SetattrReq, Gfs3SetattrRsp)
_fop3(FopProc.FSETATTR, Gfs3FsetattrReq, Gfs3SetattrRsp)
_fop3(FopProc.READDIRP, Gfs3ReaddirpReq, Gfs3ReaddirpRsp)
_fop3(FopProc.RELEASE, Gfs3ReleaseReq, _COMMON)
_fop3(FopProc.RELEASEDIR, Gfs3ReleasedirReq, _COMMON)
_fop3(FopProc.FREMOVEXATTR, Gfs3FremovexattrReq, _COMMON)
_fop3(FopProc.FALLOCATE, Gfs3FallocateReq, Gfs3SetattrRsp)
_fop3(FopProc.DISCARD, Gfs3DiscardReq, Gfs3SetattrRsp)
_fop3(FopProc.ZEROFILL, Gfs3ZerofillReq, Gfs3SetattrRsp)
_fop3(FopProc.IPC, Gfs3IpcReq, _COMMON)
_fop3(FopProc.SEEK, Gfs3SeekReq, Gfs3SeekRsp)
_fop3(FopProc.LEASE, Gfs3LeaseReq, Gfs3LeaseRsp)

#: Every declared v330 procedure, by number; the rest decode header-only.
PROCEDURES = FOP_PROGRAM_V330.procedures
