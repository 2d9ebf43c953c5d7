"""The callback program: calls a server makes to its clients (GF_CBK_*).

glusterd tells clients a volfile changed (FETCHSPEC); bricks with upcalls,
leases or lock contention notifications enabled send the bodies declared
here. pygluster never answers them (gluster's clients do not either,
rpc-clnt.c rpc_clnt_handle_cbk), so the result codecs are never used on real
traffic. Declarations only, no I/O; field names keep their ``.x`` spelling.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any

from pygluster.rpc import xdr
from pygluster.rpc.fops import GfProtoFlock
from pygluster.rpc.fops_v3 import GfIatt
from pygluster.rpc.glusterd import OLD_DICT, DictValues, GfEventNotifyReq
from pygluster.rpc.programs import Procedure, Program, ProgramNumber, procedure

__all__ = [
    "CALLBACK_PROCEDURES",
    "CALLBACK_PROGRAM",
    "CbkProc",
    "GfStatedump",
    "Gfs3CbkCacheInvalidationReq",
    "Gfs3RecallLeaseReq",
    "Gfs4EntrylkContentionReq",
    "Gfs4InodelkContentionReq",
]


class CbkProc(enum.IntEnum):
    """GF_CBK_* procedures of the callback program (protocol-common.h)."""

    NULL = 0
    FETCHSPEC = 1
    INO_FLUSH = 2
    EVENT_NOTIFY = 3
    GET_SNAPS = 4
    CACHE_INVALIDATION = 5
    CHILD_UP = 6
    CHILD_DOWN = 7
    RECALL_LEASE = 8
    STATEDUMP = 9
    INODELK_CONTENTION = 10
    ENTRYLK_CONTENTION = 11


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


CALLBACK_PROGRAM = Program("GlusterFS Callback", ProgramNumber.GLUSTER_CBK, 1)


def _callback(
    number: CbkProc, args: type[Any] | xdr.Codec[Any] = xdr.VOID
) -> Procedure[Any, None]:
    return procedure(CALLBACK_PROGRAM, number, number.name, args, xdr.VOID)


# The senders: glusterd-handshake.c, upcall.c, leases.c, and the locks
# translator's contention notifications.
_callback(CbkProc.NULL)
_callback(CbkProc.FETCHSPEC)
_callback(CbkProc.INO_FLUSH)
_callback(CbkProc.EVENT_NOTIFY, GfEventNotifyReq)
_callback(CbkProc.GET_SNAPS)
_callback(CbkProc.CACHE_INVALIDATION, Gfs3CbkCacheInvalidationReq)
_callback(CbkProc.CHILD_UP)
_callback(CbkProc.CHILD_DOWN)
_callback(CbkProc.RECALL_LEASE, Gfs3RecallLeaseReq)
_callback(CbkProc.STATEDUMP, GfStatedump)
_callback(CbkProc.INODELK_CONTENTION, Gfs4InodelkContentionReq)
_callback(CbkProc.ENTRYLK_CONTENTION, Gfs4EntrylkContentionReq)

#: The callbacks with their bodies, by procedure number.
CALLBACK_PROCEDURES = CALLBACK_PROGRAM.procedures
