"""Fops v330 ("GlusterFS 3.3"), the v400 fops fops.py lacks, and callbacks.

What a capture decoder needs beyond the v400 program of :mod:`pygluster.rpc.fops`:
the ``gfs3_*`` fop structs of ``glusterfs3-xdr.x`` (``gf_iatt`` attributes,
``opaque xdata<>`` carrying an old-style serialized dict), the bodies of the
server-to-client CALLs of ``GLUSTER_CBK_PROGRAM`` (52743234 v1), and the few
glusterd structs pygluster itself never sends (BRICKBYPORT, SET_LK_VER,
EVENT_NOTIFY), and the v400 ``gfx_*`` fops that :mod:`~pygluster.rpc.fops`
does not declare because a block device never sends them (READLINK, SYMLINK,
LINK, READDIR, FENTRYLK, RCHECKSUM, LEASE, ...; they belong there, and can
move as they are). Declarations only, no I/O; field names keep their ``.x``
spelling. The procedure numbers of v330 are those of v400
(protocol-common.h ``enum gf_fop_procnum``); the reply structs are the ones
``server-rpc-fops.c`` sends.
"""

from __future__ import annotations

from typing import Annotated, Any

from pygluster.rpc import xdr
from pygluster.rpc.fops import (
    FOP_PROGRAM,
    GFX_DICT,
    GfProtoFlock,
    GfStatfs,
    GfxCommon2iattRsp,
    GfxCommon3iattRsp,
    GfxCommonIattRsp,
    GfxCommonRsp,
    GfxIattx,
    Xdata,
)
from pygluster.rpc.glusterd import (
    CALLBACK_PROGRAM,
    HANDSHAKE_PROGRAM,
    OLD_DICT,
    PORTMAP_PROGRAM,
    DictValues,
    GfCommonRsp,
)
from pygluster.rpc.programs import Procedure, Program, ProgramNumber, procedure

__all__ = [
    "BRICKBYPORT",
    "CALLBACK_PROCEDURES",
    "EVENT_NOTIFY",
    "FOP_PROGRAM_V330",
    "HANDSHAKE_PING",
    "PROCEDURES",
    "SET_LK_VER",
    "SIGNIN",
    "SIGNOUT",
    "V400_EXTRA_PROCEDURES",
    "GfIatt",
    "GfProtoLease",
    "Gfs3CbkCacheInvalidationReq",
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


@xdr.struct
class GfProtoLease:
    """struct gf_proto_lease { unsigned int cmd; unsigned int lease_type; opaque
    lease_id[16]; unsigned int lease_flags; };  -- glusterfs3-xdr.x"""

    cmd: Annotated[int, xdr.UINT]
    lease_type: Annotated[int, xdr.UINT]
    lease_id: Annotated[bytes, xdr.FixedOpaque(16)]
    lease_flags: Annotated[int, xdr.UINT]


@xdr.struct
class Gfs3CbkCacheInvalidationReq:
    """struct gfs3_cbk_cache_invalidation_req { string gfid<>; unsigned int event_type;
    unsigned int flags; unsigned int expire_time_attr; gf_iatt stat; gf_iatt
    parent_stat; gf_iatt oldparent_stat; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[str, xdr.String()]
    event_type: Annotated[int, xdr.UINT]
    flags: Annotated[int, xdr.UINT]
    expire_time_attr: Annotated[int, xdr.UINT]
    stat: Annotated[GfIatt, GfIatt]
    parent_stat: Annotated[GfIatt, GfIatt]
    oldparent_stat: Annotated[GfIatt, GfIatt]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3RecallLeaseReq:
    """struct gfs3_recall_lease_req { opaque gfid[16]; unsigned int lease_type; opaque
    tid[16]; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    lease_type: Annotated[int, xdr.UINT]
    tid: Annotated[bytes, xdr.FixedOpaque(16)]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs4InodelkContentionReq:
    """struct gfs4_inodelk_contention_req { opaque gfid[16]; gf_proto_flock flock;
    unsigned int pid; string domain<>; opaque xdata<>; };  -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    flock: Annotated[GfProtoFlock, GfProtoFlock]
    pid: Annotated[int, xdr.UINT]
    domain: Annotated[str, xdr.String()]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs4EntrylkContentionReq:
    """struct gfs4_entrylk_contention_req { opaque gfid[16]; unsigned int type;
    unsigned int pid; string name<>; string domain<>; opaque xdata<>; };  --
    glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    type: Annotated[int, xdr.UINT]
    pid: Annotated[int, xdr.UINT]
    name: Annotated[str, xdr.String()]
    domain: Annotated[str, xdr.String()]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class GfStatedump:
    """struct gf_statedump { int pid; };  -- rpc-common-xdr.x"""

    pid: Annotated[int, xdr.INT]


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
class Gfs3StatReq:
    """struct gfs3_stat_req { opaque gfid[16]; opaque xdata<>; };
    -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3StatRsp:
    """struct gfs3_stat_rsp { int op_ret; int op_errno; gf_iatt stat; opaque xdata<>;
    };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    stat: Annotated[GfIatt, GfIatt]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3ReadlinkReq:
    """struct gfs3_readlink_req { opaque gfid[16]; unsigned int size; opaque xdata<>;
    };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    size: Annotated[int, xdr.UINT]
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
class Gfs3MknodReq:
    """struct gfs3_mknod_req { opaque pargfid[16]; u_quad_t dev; unsigned int mode;
    unsigned int umask; string bname<>; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    pargfid: Annotated[bytes, xdr.FixedOpaque(16)]
    dev: Annotated[int, xdr.UHYPER]
    mode: Annotated[int, xdr.UINT]
    umask: Annotated[int, xdr.UINT]
    bname: Annotated[str, xdr.String()]
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
class Gfs3MkdirReq:
    """struct gfs3_mkdir_req { opaque pargfid[16]; unsigned int mode; unsigned int
    umask; string bname<>; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    pargfid: Annotated[bytes, xdr.FixedOpaque(16)]
    mode: Annotated[int, xdr.UINT]
    umask: Annotated[int, xdr.UINT]
    bname: Annotated[str, xdr.String()]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3MkdirRsp:
    """struct gfs3_mkdir_rsp { int op_ret; int op_errno; gf_iatt stat; gf_iatt
    preparent; gf_iatt postparent; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    stat: Annotated[GfIatt, GfIatt]
    preparent: Annotated[GfIatt, GfIatt]
    postparent: Annotated[GfIatt, GfIatt]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3UnlinkReq:
    """struct gfs3_unlink_req { opaque pargfid[16]; string bname<>; unsigned int
    xflags; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    pargfid: Annotated[bytes, xdr.FixedOpaque(16)]
    bname: Annotated[str, xdr.String()]
    xflags: Annotated[int, xdr.UINT]
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
class Gfs3RmdirReq:
    """struct gfs3_rmdir_req { opaque pargfid[16]; int xflags; string bname<>; opaque
    xdata<>; };  -- glusterfs3-xdr.x"""

    pargfid: Annotated[bytes, xdr.FixedOpaque(16)]
    xflags: Annotated[int, xdr.INT]
    bname: Annotated[str, xdr.String()]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3RmdirRsp:
    """struct gfs3_rmdir_rsp { int op_ret; int op_errno; gf_iatt preparent; gf_iatt
    postparent; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    preparent: Annotated[GfIatt, GfIatt]
    postparent: Annotated[GfIatt, GfIatt]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3SymlinkReq:
    """struct gfs3_symlink_req { opaque pargfid[16]; string bname<>; unsigned int
    umask; string linkname<>; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    pargfid: Annotated[bytes, xdr.FixedOpaque(16)]
    bname: Annotated[str, xdr.String()]
    umask: Annotated[int, xdr.UINT]
    linkname: Annotated[str, xdr.String()]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3SymlinkRsp:
    """struct gfs3_symlink_rsp { int op_ret; int op_errno; gf_iatt stat; gf_iatt
    preparent; gf_iatt postparent; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    stat: Annotated[GfIatt, GfIatt]
    preparent: Annotated[GfIatt, GfIatt]
    postparent: Annotated[GfIatt, GfIatt]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3RenameReq:
    """struct gfs3_rename_req { opaque oldgfid[16]; opaque newgfid[16]; string
    oldbname<>; string newbname<>; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    oldgfid: Annotated[bytes, xdr.FixedOpaque(16)]
    newgfid: Annotated[bytes, xdr.FixedOpaque(16)]
    oldbname: Annotated[str, xdr.String()]
    newbname: Annotated[str, xdr.String()]
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
class Gfs3LinkReq:
    """struct gfs3_link_req { opaque oldgfid[16]; opaque newgfid[16]; string
    newbname<>; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    oldgfid: Annotated[bytes, xdr.FixedOpaque(16)]
    newgfid: Annotated[bytes, xdr.FixedOpaque(16)]
    newbname: Annotated[str, xdr.String()]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3LinkRsp:
    """struct gfs3_link_rsp { int op_ret; int op_errno; gf_iatt stat; gf_iatt
    preparent; gf_iatt postparent; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    stat: Annotated[GfIatt, GfIatt]
    preparent: Annotated[GfIatt, GfIatt]
    postparent: Annotated[GfIatt, GfIatt]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3TruncateReq:
    """struct gfs3_truncate_req { opaque gfid[16]; u_quad_t offset; opaque xdata<>; };
    -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    offset: Annotated[int, xdr.UHYPER]
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
class Gfs3OpenReq:
    """struct gfs3_open_req { opaque gfid[16]; unsigned int flags; opaque xdata<>; };
    -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    flags: Annotated[int, xdr.UINT]
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
class Gfs3ReadReq:
    """struct gfs3_read_req { opaque gfid[16]; quad_t fd; u_quad_t offset; unsigned int
    size; unsigned int flag; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    offset: Annotated[int, xdr.UHYPER]
    size: Annotated[int, xdr.UINT]
    flag: Annotated[int, xdr.UINT]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3ReadRsp:
    """struct gfs3_read_rsp { int op_ret; int op_errno; gf_iatt stat; unsigned int
    size; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    stat: Annotated[GfIatt, GfIatt]
    size: Annotated[int, xdr.UINT]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3LookupReq:
    """struct gfs3_lookup_req { opaque gfid[16]; opaque pargfid[16]; unsigned int
    flags; string bname<>; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    pargfid: Annotated[bytes, xdr.FixedOpaque(16)]
    flags: Annotated[int, xdr.UINT]
    bname: Annotated[str, xdr.String()]
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
class Gfs3WriteReq:
    """struct gfs3_write_req { opaque gfid[16]; quad_t fd; u_quad_t offset; unsigned
    int size; unsigned int flag; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    offset: Annotated[int, xdr.UHYPER]
    size: Annotated[int, xdr.UINT]
    flag: Annotated[int, xdr.UINT]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3WriteRsp:
    """struct gfs3_write_rsp { int op_ret; int op_errno; gf_iatt prestat; gf_iatt
    poststat; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    prestat: Annotated[GfIatt, GfIatt]
    poststat: Annotated[GfIatt, GfIatt]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3StatfsReq:
    """struct gfs3_statfs_req { opaque gfid[16]; opaque xdata<>; };  --
    glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
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
class Gfs3LkReq:
    """struct gfs3_lk_req { opaque gfid[16]; int64_t fd; unsigned int cmd; unsigned int
    type; gf_proto_flock flock; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    cmd: Annotated[int, xdr.UINT]
    type: Annotated[int, xdr.UINT]
    flock: Annotated[GfProtoFlock, GfProtoFlock]
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
class Gfs3InodelkReq:
    """struct gfs3_inodelk_req { opaque gfid[16]; unsigned int cmd; unsigned int type;
    gf_proto_flock flock; string volume<>; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    cmd: Annotated[int, xdr.UINT]
    type: Annotated[int, xdr.UINT]
    flock: Annotated[GfProtoFlock, GfProtoFlock]
    volume: Annotated[str, xdr.String()]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3FinodelkReq:
    """struct gfs3_finodelk_req { opaque gfid[16]; quad_t fd; unsigned int cmd;
    unsigned int type; gf_proto_flock flock; string volume<>; opaque xdata<>; };  --
    glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    cmd: Annotated[int, xdr.UINT]
    type: Annotated[int, xdr.UINT]
    flock: Annotated[GfProtoFlock, GfProtoFlock]
    volume: Annotated[str, xdr.String()]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3FlushReq:
    """struct gfs3_flush_req { opaque gfid[16]; quad_t fd; opaque xdata<>; };  --
    glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3FsyncReq:
    """struct gfs3_fsync_req { opaque gfid[16]; quad_t fd; unsigned int data; opaque
    xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    data: Annotated[int, xdr.UINT]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3FsyncRsp:
    """struct gfs3_fsync_rsp { int op_ret; int op_errno; gf_iatt prestat; gf_iatt
    poststat; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    prestat: Annotated[GfIatt, GfIatt]
    poststat: Annotated[GfIatt, GfIatt]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3SetxattrReq:
    """struct gfs3_setxattr_req { opaque gfid[16]; unsigned int flags; opaque dict<>;
    opaque xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    flags: Annotated[int, xdr.UINT]
    dict: Annotated[DictValues, OLD_DICT]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3FsetxattrReq:
    """struct gfs3_fsetxattr_req { opaque gfid[16]; int64_t fd; unsigned int flags;
    opaque dict<>; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    flags: Annotated[int, xdr.UINT]
    dict: Annotated[DictValues, OLD_DICT]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3XattropReq:
    """struct gfs3_xattrop_req { opaque gfid[16]; unsigned int flags; opaque dict<>;
    opaque xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    flags: Annotated[int, xdr.UINT]
    dict: Annotated[DictValues, OLD_DICT]
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
class Gfs3FxattropReq:
    """struct gfs3_fxattrop_req { opaque gfid[16]; quad_t fd; unsigned int flags;
    opaque dict<>; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    flags: Annotated[int, xdr.UINT]
    dict: Annotated[DictValues, OLD_DICT]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3GetxattrReq:
    """struct gfs3_getxattr_req { opaque gfid[16]; unsigned int namelen; string name<>;
    opaque xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    namelen: Annotated[int, xdr.UINT]
    name: Annotated[str, xdr.String()]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3GetxattrRsp:
    """struct gfs3_getxattr_rsp { int op_ret; int op_errno; opaque dict<>; opaque
    xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    dict: Annotated[DictValues, OLD_DICT]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3FgetxattrReq:
    """struct gfs3_fgetxattr_req { opaque gfid[16]; quad_t fd; unsigned int namelen;
    string name<>; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    namelen: Annotated[int, xdr.UINT]
    name: Annotated[str, xdr.String()]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3RemovexattrReq:
    """struct gfs3_removexattr_req { opaque gfid[16]; string name<>; opaque xdata<>; };
    -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    name: Annotated[str, xdr.String()]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3FremovexattrReq:
    """struct gfs3_fremovexattr_req { opaque gfid[16]; quad_t fd; string name<>; opaque
    xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    name: Annotated[str, xdr.String()]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3OpendirReq:
    """struct gfs3_opendir_req { opaque gfid[16]; opaque xdata<>; };  --
    glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3FsyncdirReq:
    """struct gfs3_fsyncdir_req { opaque gfid[16]; quad_t fd; int data; opaque xdata<>;
    };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    data: Annotated[int, xdr.INT]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3ReaddirReq:
    """struct gfs3_readdir_req { opaque gfid[16]; quad_t fd; u_quad_t offset; unsigned
    int size; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    offset: Annotated[int, xdr.UHYPER]
    size: Annotated[int, xdr.UINT]
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
class Gfs3AccessReq:
    """struct gfs3_access_req { opaque gfid[16]; unsigned int mask; opaque xdata<>; };
    -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    mask: Annotated[int, xdr.UINT]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3CreateReq:
    """struct gfs3_create_req { opaque pargfid[16]; unsigned int flags; unsigned int
    mode; unsigned int umask; string bname<>; opaque xdata<>; };  --
    glusterfs3-xdr.x"""

    pargfid: Annotated[bytes, xdr.FixedOpaque(16)]
    flags: Annotated[int, xdr.UINT]
    mode: Annotated[int, xdr.UINT]
    umask: Annotated[int, xdr.UINT]
    bname: Annotated[str, xdr.String()]
    xdata: Annotated[DictValues, OLD_DICT]


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
class Gfs3FtruncateReq:
    """struct gfs3_ftruncate_req { opaque gfid[16]; quad_t fd; u_quad_t offset; opaque
    xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    offset: Annotated[int, xdr.UHYPER]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3FstatReq:
    """struct gfs3_fstat_req { opaque gfid[16]; quad_t fd; opaque xdata<>; };  --
    glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3EntrylkReq:
    """struct gfs3_entrylk_req { opaque gfid[16]; unsigned int cmd; unsigned int type;
    u_quad_t namelen; string name<>; string volume<>; opaque xdata<>; };  --
    glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    cmd: Annotated[int, xdr.UINT]
    type: Annotated[int, xdr.UINT]
    namelen: Annotated[int, xdr.UHYPER]
    name: Annotated[str, xdr.String()]
    volume: Annotated[str, xdr.String()]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3FentrylkReq:
    """struct gfs3_fentrylk_req { opaque gfid[16]; quad_t fd; unsigned int cmd;
    unsigned int type; u_quad_t namelen; string name<>; string volume<>; opaque
    xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    cmd: Annotated[int, xdr.UINT]
    type: Annotated[int, xdr.UINT]
    namelen: Annotated[int, xdr.UHYPER]
    name: Annotated[str, xdr.String()]
    volume: Annotated[str, xdr.String()]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3SetattrReq:
    """struct gfs3_setattr_req { opaque gfid[16]; gf_iatt stbuf; int valid; opaque
    xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    stbuf: Annotated[GfIatt, GfIatt]
    valid: Annotated[int, xdr.INT]
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
class Gfs3FallocateReq:
    """struct gfs3_fallocate_req { opaque gfid[16]; quad_t fd; unsigned int flags;
    u_quad_t offset; u_quad_t size; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    flags: Annotated[int, xdr.UINT]
    offset: Annotated[int, xdr.UHYPER]
    size: Annotated[int, xdr.UHYPER]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3DiscardReq:
    """struct gfs3_discard_req { opaque gfid[16]; quad_t fd; u_quad_t offset; u_quad_t
    size; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    offset: Annotated[int, xdr.UHYPER]
    size: Annotated[int, xdr.UHYPER]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3ZerofillReq:
    """struct gfs3_zerofill_req { opaque gfid[16]; quad_t fd; u_quad_t offset; u_quad_t
    size; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    offset: Annotated[int, xdr.UHYPER]
    size: Annotated[int, xdr.UHYPER]
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
class Gfs3IpcReq:
    """struct gfs3_ipc_req { int op; opaque xdata<>; };  -- glusterfs3-xdr.x"""

    op: Annotated[int, xdr.INT]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3SeekReq:
    """struct gfs3_seek_req { opaque gfid[16]; quad_t fd; u_quad_t offset; int what;
    opaque xdata<>; };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    offset: Annotated[int, xdr.UHYPER]
    what: Annotated[int, xdr.INT]
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
class Gfs3LeaseReq:
    """struct gfs3_lease_req { opaque gfid[16]; gf_proto_lease lease; opaque xdata<>;
    };  -- glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    lease: Annotated[GfProtoLease, GfProtoLease]
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
class Gfs3ReleaseReq:
    """struct gfs3_release_req { opaque gfid[16]; quad_t fd; opaque xdata<>; };  --
    glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3ReleasedirReq:
    """struct gfs3_releasedir_req { opaque gfid[16]; quad_t fd; opaque xdata<>; };  --
    glusterfs3-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3Dirlist:
    """struct gfs3_dirlist { u_quad_t d_ino; u_quad_t d_off; unsigned int d_len;
    unsigned int d_type; string name<>; gfs3_dirlist *nextentry; };  --
    glusterfs3-xdr.x"""

    d_ino: Annotated[int, xdr.UHYPER]
    d_off: Annotated[int, xdr.UHYPER]
    d_len: Annotated[int, xdr.UINT]
    d_type: Annotated[int, xdr.UINT]
    name: Annotated[str, xdr.String()]


@xdr.struct
class Gfs3ReaddirRsp:
    """struct gfs3_readdir_rsp { int op_ret; int op_errno; gfs3_dirlist *reply; opaque
    xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    reply: Annotated[tuple[Gfs3Dirlist, ...], xdr.LinkedList(xdr.as_codec(Gfs3Dirlist))]
    xdata: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3Dirplist:
    """struct gfs3_dirplist { u_quad_t d_ino; u_quad_t d_off; unsigned int d_len;
    unsigned int d_type; string name<>; gf_iatt stat; opaque dict<>; gfs3_dirplist
    *nextentry; };  -- glusterfs3-xdr.x"""

    d_ino: Annotated[int, xdr.UHYPER]
    d_off: Annotated[int, xdr.UHYPER]
    d_len: Annotated[int, xdr.UINT]
    d_type: Annotated[int, xdr.UINT]
    name: Annotated[str, xdr.String()]
    stat: Annotated[GfIatt, GfIatt]
    dict: Annotated[DictValues, OLD_DICT]


@xdr.struct
class Gfs3ReaddirpRsp:
    """struct gfs3_readdirp_rsp { int op_ret; int op_errno; gfs3_dirplist *reply;
    opaque xdata<>; };  -- glusterfs3-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    reply: Annotated[
        tuple[Gfs3Dirplist, ...], xdr.LinkedList(xdr.as_codec(Gfs3Dirplist))
    ]
    xdata: Annotated[DictValues, OLD_DICT]


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


# --- v400 structs that fops.py does not declare (yet) ---------------------------


@xdr.struct
class GfxReadlinkReq:
    """struct gfx_readlink_req { opaque gfid[16]; unsigned int size; gfx_dict xdata;
    };  -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    size: Annotated[int, xdr.UINT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxReadlinkRsp:
    """struct gfx_readlink_rsp { int op_ret; int op_errno; gfx_dict xdata; gfx_iattx
    buf; string path<>; };  -- glusterfs4-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]
    buf: Annotated[GfxIattx, GfxIattx]
    path: Annotated[str, xdr.String()]


@xdr.struct
class GfxSymlinkReq:
    """struct gfx_symlink_req { opaque pargfid[16]; string bname<>; unsigned int
    umask; string linkname<>; gfx_dict xdata; };  -- glusterfs4-xdr.x"""

    pargfid: Annotated[bytes, xdr.FixedOpaque(16)]
    bname: Annotated[str, xdr.String()]
    umask: Annotated[int, xdr.UINT]
    linkname: Annotated[str, xdr.String()]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxLinkReq:
    """struct gfx_link_req { opaque oldgfid[16]; opaque newgfid[16]; string
    newbname<>; gfx_dict xdata; };  -- glusterfs4-xdr.x"""

    oldgfid: Annotated[bytes, xdr.FixedOpaque(16)]
    newgfid: Annotated[bytes, xdr.FixedOpaque(16)]
    newbname: Annotated[str, xdr.String()]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxFsyncdirReq:
    """struct gfx_fsyncdir_req { opaque gfid[16]; quad_t fd; int data; gfx_dict
    xdata; };  -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    data: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxReaddirReq:
    """struct gfx_readdir_req { opaque gfid[16]; quad_t fd; u_quad_t offset; unsigned
    int size; gfx_dict xdata; };  -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    offset: Annotated[int, xdr.UHYPER]
    size: Annotated[int, xdr.UINT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxDirlist:
    """struct gfx_dirlist { u_quad_t d_ino; u_quad_t d_off; unsigned int d_len;
    unsigned int d_type; string name<>; gfx_dirlist *nextentry; };  --
    glusterfs4-xdr.x"""

    d_ino: Annotated[int, xdr.UHYPER]
    d_off: Annotated[int, xdr.UHYPER]
    d_len: Annotated[int, xdr.UINT]
    d_type: Annotated[int, xdr.UINT]
    name: Annotated[str, xdr.String()]


@xdr.struct
class GfxReaddirRsp:
    """struct gfx_readdir_rsp { int op_ret; int op_errno; gfx_dict xdata; gfx_dirlist
    *reply; };  -- glusterfs4-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]
    reply: Annotated[tuple[GfxDirlist, ...], xdr.LinkedList(xdr.as_codec(GfxDirlist))]


@xdr.struct
class GfxFentrylkReq:
    """struct gfx_fentrylk_req { opaque gfid[16]; quad_t fd; unsigned int cmd;
    unsigned int type; u_quad_t namelen; string name<>; string volume<>; gfx_dict
    xdata; };  -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    cmd: Annotated[int, xdr.UINT]
    type: Annotated[int, xdr.UINT]
    namelen: Annotated[int, xdr.UHYPER]
    name: Annotated[str, xdr.String()]
    volume: Annotated[str, xdr.String()]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxRchecksumReq:
    """struct gfx_rchecksum_req { opaque gfid[16]; hyper fd; unsigned hyper offset;
    unsigned int len; unsigned int flags; gfx_dict xdata; };  -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    offset: Annotated[int, xdr.UHYPER]
    len: Annotated[int, xdr.UINT]
    flags: Annotated[int, xdr.UINT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxRchecksumRsp:
    """struct gfx_rchecksum_rsp { int op_ret; int op_errno; gfx_dict xdata; unsigned
    int flags; unsigned int weak_checksum; opaque strong_checksum<>; };  --
    glusterfs4-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]
    flags: Annotated[int, xdr.UINT]
    weak_checksum: Annotated[int, xdr.UINT]
    strong_checksum: Annotated[bytes, xdr.Opaque()]


@xdr.struct
class GfxFremovexattrReq:
    """struct gfx_fremovexattr_req { opaque gfid[16]; quad_t fd; string name<>;
    gfx_dict xdata; };  -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    name: Annotated[str, xdr.String()]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxLeaseReq:
    """struct gfx_lease_req { opaque gfid[16]; gf_proto_lease lease; gfx_dict xdata;
    };  -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    lease: Annotated[GfProtoLease, GfProtoLease]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxLeaseRsp:
    """struct gfx_lease_rsp { int op_ret; int op_errno; gfx_dict xdata;
    gf_proto_lease lease; };  -- glusterfs4-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]
    lease: Annotated[GfProtoLease, GfProtoLease]


@xdr.struct
class Gfs3Locklist:
    """struct gfs3_locklist { gf_proto_flock flock; string client_uid<>; unsigned int
    lk_flags; gfs3_locklist *nextentry; };  -- glusterfs3-xdr.x"""

    flock: Annotated[GfProtoFlock, GfProtoFlock]
    client_uid: Annotated[str, xdr.String()]
    lk_flags: Annotated[int, xdr.UINT]


@xdr.struct
class GfxGetactivelkReq:
    """struct gfx_getactivelk_req { opaque gfid[16]; gfx_dict xdata; };  --
    glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxGetactivelkRsp:
    """struct gfx_getactivelk_rsp { int op_ret; int op_errno; gfx_dict xdata;
    gfs3_locklist *reply; };  -- glusterfs4-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]
    reply: Annotated[
        tuple[Gfs3Locklist, ...], xdr.LinkedList(xdr.as_codec(Gfs3Locklist))
    ]


@xdr.struct
class GfxSetactivelkReq:
    """struct gfx_setactivelk_req { opaque gfid[16]; gfs3_locklist *request; gfx_dict
    xdata; };  -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    request: Annotated[
        tuple[Gfs3Locklist, ...], xdr.LinkedList(xdr.as_codec(Gfs3Locklist))
    ]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxIcreateReq:
    """struct gfx_icreate_req { opaque gfid[16]; unsigned int mode; gfx_dict xdata;
    };  -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    mode: Annotated[int, xdr.UINT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxNamelinkReq:
    """struct gfx_namelink_req { opaque pargfid[16]; string bname<>; gfx_dict xdata;
    };  -- glusterfs4-xdr.x"""

    pargfid: Annotated[bytes, xdr.FixedOpaque(16)]
    bname: Annotated[str, xdr.String()]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxPutReq:
    """struct gfx_put_req { opaque pargfid[16]; string bname<>; unsigned int mode;
    unsigned int umask; unsigned int flag; u_quad_t offset; unsigned int size;
    gfx_dict xattr; gfx_dict xdata; };  -- glusterfs4-xdr.x"""

    pargfid: Annotated[bytes, xdr.FixedOpaque(16)]
    bname: Annotated[str, xdr.String()]
    mode: Annotated[int, xdr.UINT]
    umask: Annotated[int, xdr.UINT]
    flag: Annotated[int, xdr.UINT]
    offset: Annotated[int, xdr.UHYPER]
    size: Annotated[int, xdr.UINT]
    xattr: Annotated[Xdata, GFX_DICT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxCopyFileRangeReq:
    """struct gfx_copy_file_range_req { opaque gfid1[16]; opaque gfid2[16]; quad_t
    fd_in; quad_t fd_out; u_quad_t off_in; u_quad_t off_out; unsigned int size;
    unsigned int flag; gfx_dict xdata; };  -- glusterfs4-xdr.x"""

    gfid1: Annotated[bytes, xdr.FixedOpaque(16)]
    gfid2: Annotated[bytes, xdr.FixedOpaque(16)]
    fd_in: Annotated[int, xdr.HYPER]
    fd_out: Annotated[int, xdr.HYPER]
    off_in: Annotated[int, xdr.UHYPER]
    off_out: Annotated[int, xdr.UHYPER]
    size: Annotated[int, xdr.UINT]
    flag: Annotated[int, xdr.UINT]
    xdata: Annotated[Xdata, GFX_DICT]


# --- v330 procedures ---------------------------------------------------------------

# protocol-common.h: GLUSTER_FOP_PROGRAM 1298437, GLUSTER_FOP_VERSION 330.
FOP_PROGRAM_V330 = Program("GlusterFS 3.3", ProgramNumber.GLUSTER_FOP, 330)

_P = FOP_PROGRAM_V330
_COMMON = GfCommonRsp  # gf_common_rsp { int op_ret; int op_errno; opaque xdata<>; }

#: Every declared v330 procedure, by number; the rest decode header-only.
PROCEDURES: dict[int, Procedure[Any, Any]] = {
    proc.number: proc
    for proc in (
        procedure(_P, 1, "STAT", Gfs3StatReq, Gfs3StatRsp),
        procedure(_P, 2, "READLINK", Gfs3ReadlinkReq, Gfs3ReadlinkRsp),
        procedure(_P, 3, "MKNOD", Gfs3MknodReq, Gfs3MknodRsp),
        procedure(_P, 4, "MKDIR", Gfs3MkdirReq, Gfs3MkdirRsp),
        procedure(_P, 5, "UNLINK", Gfs3UnlinkReq, Gfs3UnlinkRsp),
        procedure(_P, 6, "RMDIR", Gfs3RmdirReq, Gfs3RmdirRsp),
        procedure(_P, 7, "SYMLINK", Gfs3SymlinkReq, Gfs3SymlinkRsp),
        procedure(_P, 8, "RENAME", Gfs3RenameReq, Gfs3RenameRsp),
        procedure(_P, 9, "LINK", Gfs3LinkReq, Gfs3LinkRsp),
        procedure(_P, 10, "TRUNCATE", Gfs3TruncateReq, Gfs3TruncateRsp),
        procedure(_P, 11, "OPEN", Gfs3OpenReq, Gfs3OpenRsp),
        procedure(_P, 12, "READ", Gfs3ReadReq, Gfs3ReadRsp, reply_payload=True),
        procedure(_P, 13, "WRITE", Gfs3WriteReq, Gfs3WriteRsp, call_payload=True),
        procedure(_P, 14, "STATFS", Gfs3StatfsReq, Gfs3StatfsRsp),
        procedure(_P, 15, "FLUSH", Gfs3FlushReq, _COMMON),
        procedure(_P, 16, "FSYNC", Gfs3FsyncReq, Gfs3FsyncRsp),
        procedure(_P, 17, "SETXATTR", Gfs3SetxattrReq, _COMMON),
        procedure(_P, 18, "GETXATTR", Gfs3GetxattrReq, Gfs3GetxattrRsp),
        procedure(_P, 19, "REMOVEXATTR", Gfs3RemovexattrReq, _COMMON),
        procedure(_P, 20, "OPENDIR", Gfs3OpendirReq, Gfs3OpenRsp),
        procedure(_P, 21, "FSYNCDIR", Gfs3FsyncdirReq, _COMMON),
        procedure(_P, 22, "ACCESS", Gfs3AccessReq, _COMMON),
        procedure(_P, 23, "CREATE", Gfs3CreateReq, Gfs3CreateRsp),
        procedure(_P, 24, "FTRUNCATE", Gfs3FtruncateReq, Gfs3TruncateRsp),
        procedure(_P, 25, "FSTAT", Gfs3FstatReq, Gfs3StatRsp),
        procedure(_P, 26, "LK", Gfs3LkReq, Gfs3LkRsp),
        procedure(_P, 27, "LOOKUP", Gfs3LookupReq, Gfs3LookupRsp),
        procedure(_P, 28, "READDIR", Gfs3ReaddirReq, Gfs3ReaddirRsp),
        procedure(_P, 29, "INODELK", Gfs3InodelkReq, _COMMON),
        procedure(_P, 30, "FINODELK", Gfs3FinodelkReq, _COMMON),
        procedure(_P, 31, "ENTRYLK", Gfs3EntrylkReq, _COMMON),
        procedure(_P, 32, "FENTRYLK", Gfs3FentrylkReq, _COMMON),
        procedure(_P, 33, "XATTROP", Gfs3XattropReq, Gfs3XattropRsp),
        procedure(_P, 34, "FXATTROP", Gfs3FxattropReq, Gfs3XattropRsp),
        procedure(_P, 35, "FGETXATTR", Gfs3FgetxattrReq, Gfs3GetxattrRsp),
        procedure(_P, 36, "FSETXATTR", Gfs3FsetxattrReq, _COMMON),
        procedure(_P, 37, "RCHECKSUM", Gfs3RchecksumReq, Gfs3RchecksumRsp),
        procedure(_P, 38, "SETATTR", Gfs3SetattrReq, Gfs3SetattrRsp),
        procedure(_P, 39, "FSETATTR", Gfs3FsetattrReq, Gfs3SetattrRsp),
        procedure(_P, 40, "READDIRP", Gfs3ReaddirpReq, Gfs3ReaddirpRsp),
        procedure(_P, 41, "RELEASE", Gfs3ReleaseReq, _COMMON),
        procedure(_P, 42, "RELEASEDIR", Gfs3ReleasedirReq, _COMMON),
        procedure(_P, 43, "FREMOVEXATTR", Gfs3FremovexattrReq, _COMMON),
        procedure(_P, 44, "FALLOCATE", Gfs3FallocateReq, Gfs3SetattrRsp),
        procedure(_P, 45, "DISCARD", Gfs3DiscardReq, Gfs3SetattrRsp),
        procedure(_P, 46, "ZEROFILL", Gfs3ZerofillReq, Gfs3SetattrRsp),
        procedure(_P, 47, "IPC", Gfs3IpcReq, _COMMON),
        procedure(_P, 48, "SEEK", Gfs3SeekReq, Gfs3SeekRsp),
        procedure(_P, 50, "LEASE", Gfs3LeaseReq, Gfs3LeaseRsp),
    )
}

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

# --- callbacks (server -> client CALLs) ---------------------------------------------

# The client never replies to a callback (rpc-clnt.c rpc_clnt_handle_cbk), so
# the result codecs below are never used on real traffic.
_C = CALLBACK_PROGRAM

#: GF_CBK_* procedures with their bodies (protocol-common.h; the senders are
#: glusterd-handshake.c, upcall.c, leases.c, locks' contention notifications).
CALLBACK_PROCEDURES: dict[int, Procedure[Any, Any]] = {
    proc.number: proc
    for proc in (
        procedure(_C, 0, "NULL", xdr.VOID, xdr.VOID),
        procedure(_C, 1, "FETCHSPEC", xdr.VOID, xdr.VOID),
        procedure(_C, 2, "INO_FLUSH", xdr.VOID, xdr.VOID),
        procedure(_C, 3, "EVENT_NOTIFY", GfEventNotifyReq, xdr.VOID),
        procedure(_C, 4, "GET_SNAPS", xdr.VOID, xdr.VOID),
        procedure(_C, 5, "CACHE_INVALIDATION", Gfs3CbkCacheInvalidationReq, xdr.VOID),
        procedure(_C, 6, "CHILD_UP", xdr.VOID, xdr.VOID),
        procedure(_C, 7, "CHILD_DOWN", xdr.VOID, xdr.VOID),
        procedure(_C, 8, "RECALL_LEASE", Gfs3RecallLeaseReq, xdr.VOID),
        procedure(_C, 9, "STATEDUMP", GfStatedump, xdr.VOID),
        procedure(_C, 10, "INODELK_CONTENTION", Gfs4InodelkContentionReq, xdr.VOID),
        procedure(_C, 11, "ENTRYLK_CONTENTION", Gfs4EntrylkContentionReq, xdr.VOID),
    )
}


# --- v400 procedures that fops.PROCEDURES lacks ---------------------------------

_V4 = FOP_PROGRAM

#: The fops of program 1298437 v400 not in :data:`pygluster.rpc.fops.PROCEDURES`
#: (block devices never send them; gfapi, FUSE and self-heal do). PUT has no
#: server actor in 10.x but is declared for old captures.
V400_EXTRA_PROCEDURES: dict[int, Procedure[Any, Any]] = {
    proc.number: proc
    for proc in (
        procedure(_V4, 2, "READLINK", GfxReadlinkReq, GfxReadlinkRsp),
        procedure(_V4, 7, "SYMLINK", GfxSymlinkReq, GfxCommon3iattRsp),
        procedure(_V4, 9, "LINK", GfxLinkReq, GfxCommon3iattRsp),
        procedure(_V4, 21, "FSYNCDIR", GfxFsyncdirReq, GfxCommonRsp),
        procedure(_V4, 28, "READDIR", GfxReaddirReq, GfxReaddirRsp),
        procedure(_V4, 32, "FENTRYLK", GfxFentrylkReq, GfxCommonRsp),
        procedure(_V4, 37, "RCHECKSUM", GfxRchecksumReq, GfxRchecksumRsp),
        procedure(_V4, 43, "FREMOVEXATTR", GfxFremovexattrReq, GfxCommonRsp),
        procedure(_V4, 50, "LEASE", GfxLeaseReq, GfxLeaseRsp),
        procedure(_V4, 51, "GETACTIVELK", GfxGetactivelkReq, GfxGetactivelkRsp),
        procedure(_V4, 52, "SETACTIVELK", GfxSetactivelkReq, GfxCommonRsp),
        procedure(_V4, 53, "ICREATE", GfxIcreateReq, GfxCommonIattRsp),
        procedure(_V4, 54, "NAMELINK", GfxNamelinkReq, GfxCommon2iattRsp),
        procedure(_V4, 55, "PUT", GfxPutReq, GfxCommon3iattRsp, call_payload=True),
        procedure(_V4, 56, "COPY_FILE_RANGE", GfxCopyFileRangeReq, GfxCommon3iattRsp),
    )
}
