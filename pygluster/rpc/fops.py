"""GlusterFS fop program v400 ("GlusterFS 4.x v1"): every fop, in one table.

Declarations only, no I/O: the ``gfx_*`` structs of ``glusterfs4-xdr.x`` (and
the few ``gf_*`` ones they embed from ``glusterfs3-xdr.x``), the typed
``gfx_dict`` every fop carries as ``xdata``, the enums and flag values that go
in their fields, the fop numbers (:class:`FopProc`, the one place they are
written), and one :class:`~pygluster.rpc.programs.Procedure` per fop, all
owned by :data:`FOP_PROGRAM`. :data:`PROCEDURES` is the part of that table a
block device sends; the rest (READLINK, SYMLINK, READDIR, LEASE, ...) is
declared for reading captures of other clients. Field names keep their ``.x``
spelling; the request and reply layouts of the fops pygluster sends were
checked against a 10.3 brick by ``tests/integration/test_fops_live.py``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

from pygluster.errors import XdrError
from pygluster.rpc import xdr
from pygluster.rpc.programs import Procedure, Program, ProgramNumber, procedure

if TYPE_CHECKING:
    import builtins

__all__ = [
    "ACCESS",
    "ANON_FD",
    "COPY_FILE_RANGE",
    "CREATE",
    "CTIME_FLAGS",
    "DISCARD",
    "ENTRYLK",
    "FALLOCATE",
    "FENTRYLK",
    "FGETXATTR",
    "FINODELK",
    "FLUSH",
    "FOP_PROGRAM",
    "FREMOVEXATTR",
    "FSETATTR",
    "FSETXATTR",
    "FSTAT",
    "FSYNC",
    "FSYNCDIR",
    "FTRUNCATE",
    "FXATTROP",
    "GETACTIVELK",
    "GETXATTR",
    "GFX_DICT",
    "GFX_VALUE",
    "ICREATE",
    "INODELK",
    "IPC",
    "LEASE",
    "LINK",
    "LK",
    "LOOKUP",
    "MKDIR",
    "MKNOD",
    "NAMELINK",
    "NULL_GFID",
    "OPEN",
    "OPENDIR",
    "PROCEDURES",
    "PUT",
    "RCHECKSUM",
    "READ",
    "READDIR",
    "READDIRP",
    "READLINK",
    "RELEASE",
    "RELEASEDIR",
    "REMOVEXATTR",
    "RENAME",
    "RMDIR",
    "ROOT_GFID",
    "SEEK",
    "SETACTIVELK",
    "SETATTR",
    "SETXATTR",
    "STAT",
    "STATFS",
    "SYMLINK",
    "TRUNCATE",
    "UNLINK",
    "WRITE",
    "XATTROP",
    "ZEROFILL",
    "DataType",
    "DictPayload",
    "DictValue",
    "EntrylkCmd",
    "EntrylkType",
    "FopProc",
    "GfDict",
    "GfOpenFlags",
    "GfProtoFlock",
    "GfStatfs",
    "GfxAccessReq",
    "GfxCommon2iattRsp",
    "GfxCommon3iattRsp",
    "GfxCommonDictRsp",
    "GfxCommonIattRsp",
    "GfxCommonRsp",
    "GfxCreateReq",
    "GfxCreateRsp",
    "GfxDict",
    "GfxDirplist",
    "GfxDiscardReq",
    "GfxEntrylkReq",
    "GfxFallocateReq",
    "GfxFgetxattrReq",
    "GfxFinodelkReq",
    "GfxFlushReq",
    "GfxFsetattrReq",
    "GfxFsetxattrReq",
    "GfxFstatReq",
    "GfxFsyncReq",
    "GfxFtruncateReq",
    "GfxFxattropReq",
    "GfxGetxattrReq",
    "GfxIattx",
    "GfxInodelkReq",
    "GfxIpcReq",
    "GfxLkReq",
    "GfxLkRsp",
    "GfxLookupReq",
    "GfxMdataIatt",
    "GfxMkdirReq",
    "GfxMknodReq",
    "GfxOpenReq",
    "GfxOpenRsp",
    "GfxOpendirReq",
    "GfxReadReq",
    "GfxReadRsp",
    "GfxReaddirpReq",
    "GfxReaddirpRsp",
    "GfxReleaseReq",
    "GfxReleasedirReq",
    "GfxRemovexattrReq",
    "GfxRenameReq",
    "GfxRenameRsp",
    "GfxRmdirReq",
    "GfxSeekReq",
    "GfxSeekRsp",
    "GfxSetattrReq",
    "GfxSetxattrReq",
    "GfxStatReq",
    "GfxStatfsReq",
    "GfxStatfsRsp",
    "GfxTruncateReq",
    "GfxUnlinkReq",
    "GfxValue",
    "GfxWriteReq",
    "GfxXattropReq",
    "GfxZerofillReq",
    "LkCmd",
    "LkType",
    "MdataFlags",
    "SeekWhat",
    "SetattrValid",
    "XattropFlags",
    "Xdata",
]


# --- constants and enums ---------------------------------------------------------

#: The root directory's gfid, 00000000-0000-0000-0000-000000000001 (§8.1).
ROOT_GFID = bytes(15) + b"\x01"
#: The all-zero gfid: "no gfid" (nameless LOOKUP's pargfid, named LOOKUP's gfid).
NULL_GFID = bytes(16)
#: fd.h GF_ANON_FD_NO: the brick opens the gfid O_RDWR itself (§8.3).
ANON_FD = -2


class FopProc(enum.IntEnum):
    """The fop procedure numbers, shared by v400 and v330 (protocol-common.h
    ``enum gf_fop_procnum``, GFS3_OP_*); the one place they are written."""

    NULL = 0
    STAT = 1
    READLINK = 2
    MKNOD = 3
    MKDIR = 4
    UNLINK = 5
    RMDIR = 6
    SYMLINK = 7
    RENAME = 8
    LINK = 9
    TRUNCATE = 10
    OPEN = 11
    READ = 12
    WRITE = 13
    STATFS = 14
    FLUSH = 15
    FSYNC = 16
    SETXATTR = 17
    GETXATTR = 18
    REMOVEXATTR = 19
    OPENDIR = 20
    FSYNCDIR = 21
    ACCESS = 22
    CREATE = 23
    FTRUNCATE = 24
    FSTAT = 25
    LK = 26
    LOOKUP = 27
    READDIR = 28
    INODELK = 29
    FINODELK = 30
    ENTRYLK = 31
    FENTRYLK = 32
    XATTROP = 33
    FXATTROP = 34
    FGETXATTR = 35
    FSETXATTR = 36
    RCHECKSUM = 37
    SETATTR = 38
    FSETATTR = 39
    READDIRP = 40
    RELEASE = 41
    RELEASEDIR = 42
    FREMOVEXATTR = 43
    FALLOCATE = 44
    DISCARD = 45
    ZEROFILL = 46
    IPC = 47
    SEEK = 48
    COMPOUND = 49
    LEASE = 50
    GETACTIVELK = 51
    SETACTIVELK = 52
    ICREATE = 53
    NAMELINK = 54
    PUT = 55
    COPY_FILE_RANGE = 56


class DataType(enum.IntEnum):
    """GF_DATA_TYPE_*: the discriminant of a ``gfx_value`` (glusterfs-fops.h).

    UNKNOWN has no arm in ``gfx_value``: it can be neither sent nor received.
    """

    UNKNOWN = 0
    STR_OLD = 1
    INT = 2
    UINT = 3
    DOUBLE = 4
    STR = 5
    PTR = 6
    GFUUID = 7
    IATT = 8
    MDATA = 9


class GfOpenFlags(enum.IntFlag):
    """GF_O_*: OPEN/CREATE ``flags`` on the wire (glusterfs3.h, §8.5).

    The Linux x86-64 octal values, whatever the host's ``os.O_*`` are.
    """

    RDONLY = 0o0
    WRONLY = 0o1
    RDWR = 0o2
    FMODE_EXEC = 0o40
    CREAT = 0o100
    EXCL = 0o200
    NOCTTY = 0o400
    TRUNC = 0o1000
    APPEND = 0o2000
    NONBLOCK = 0o4000
    SYNC = 0o10000
    ASYNC = 0o20000
    DIRECT = 0o40000
    LARGEFILE = 0o100000
    DIRECTORY = 0o200000
    NOFOLLOW = 0o400000
    NOATIME = 0o1000000
    CLOEXEC = 0o2000000


class SeekWhat(enum.IntEnum):
    """GF_SEEK_*: SEEK's ``what`` (glusterfs-fops.h gf_seek_what_t)."""

    DATA = 0
    HOLE = 1


class LkCmd(enum.IntEnum):
    """GF_LK_*: ``cmd`` of LK, INODELK, FINODELK (glusterfs-fops.h).

    The wire values, not fcntl's F_GETLK/F_SETLK numbers (client-common.c
    ``client_cmd_to_gf_cmd`` translates).
    """

    GETLK = 0
    SETLK = 1  # non-blocking: EAGAIN on conflict
    SETLKW = 2  # blocking: the reply waits until the lock is granted
    RESLK_LCK = 3
    RESLK_LCKW = 4
    RESLK_UNLCK = 5
    GETLK_FD = 6


class LkType(enum.IntEnum):
    """GF_LK_F_*: lock ``type`` and ``gf_proto_flock.type`` (glusterfs-fops.h)."""

    RDLCK = 0
    WRLCK = 1
    UNLCK = 2


class EntrylkCmd(enum.IntEnum):
    """ENTRYLK_*: ENTRYLK ``cmd`` (glusterfs-fops.h entrylk_cmd)."""

    LOCK = 0  # blocking
    UNLOCK = 1
    LOCK_NB = 2


class EntrylkType(enum.IntEnum):
    """ENTRYLK_*: ENTRYLK ``type`` (glusterfs-fops.h entrylk_type)."""

    RDLCK = 0
    WRLCK = 1


class XattropFlags(enum.IntEnum):
    """GF_XATTROP_*: XATTROP/FXATTROP ``flags`` (glusterfs-fops.h).

    ADD_ARRAY adds arrays of big-endian int32 to the stored value, ADD_ARRAY64
    of int64; the result comes back in the reply's ``dict``.
    """

    ADD_ARRAY = 0
    ADD_ARRAY64 = 1
    OR_ARRAY = 2
    AND_ARRAY = 3
    GET_AND_SET = 4
    ADD_ARRAY_WITH_DEFAULT = 5
    ADD_ARRAY64_WITH_DEFAULT = 6


class SetattrValid(enum.IntFlag):
    """GF_SET_ATTR_*: which ``stbuf`` fields SETATTR/FSETATTR apply (xlator.h)."""

    MODE = 0x1
    UID = 0x2
    GID = 0x4
    SIZE = 0x8
    ATIME = 0x10
    MTIME = 0x20
    CTIME = 0x40
    ATIME_NOW = 0x80
    MTIME_NOW = 0x100


class MdataFlags(enum.IntFlag):
    """MDATA_*: AUTH_GLUSTERFS_v3 ``flags``, the times a fop sets (stack.h, §8.6)."""

    CTIME = 0x1
    MTIME = 0x2
    ATIME = 0x4
    PAR_CTIME = 0x8
    PAR_MTIME = 0x10
    PAR_ATIME = 0x20


# --- shared structs ----------------------------------------------------------------


@xdr.struct
class GfxIattx:
    """struct gfx_iattx { opaque ia_gfid[16]; unsigned hyper ia_flags;
    unsigned hyper ia_ino; unsigned hyper ia_dev; unsigned hyper ia_rdev;
    unsigned hyper ia_size; unsigned hyper ia_blocks;
    unsigned hyper ia_attributes; unsigned hyper ia_attributes_mask;
    hyper ia_atime; hyper ia_mtime; hyper ia_ctime; hyper ia_btime;
    unsigned int ia_atime_nsec; unsigned int ia_mtime_nsec;
    unsigned int ia_ctime_nsec; unsigned int ia_btime_nsec;
    unsigned int ia_nlink; unsigned int ia_uid; unsigned int ia_gid;
    unsigned int ia_blksize; unsigned int mode; };  -- glusterfs4-xdr.x

    148 bytes. ``ia_flags`` says which fields are valid (the brick sends
    0x17ff); ``mode`` is Linux ``st_mode``, type bits included. Failed
    replies carry an all-zero iattx. Times are the ctime feature's (§8.6).
    """

    ia_gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    ia_flags: Annotated[int, xdr.UHYPER]
    ia_ino: Annotated[int, xdr.UHYPER]
    ia_dev: Annotated[int, xdr.UHYPER]
    ia_rdev: Annotated[int, xdr.UHYPER]
    ia_size: Annotated[int, xdr.UHYPER]
    ia_blocks: Annotated[int, xdr.UHYPER]
    ia_attributes: Annotated[int, xdr.UHYPER]
    ia_attributes_mask: Annotated[int, xdr.UHYPER]
    ia_atime: Annotated[int, xdr.HYPER]
    ia_mtime: Annotated[int, xdr.HYPER]
    ia_ctime: Annotated[int, xdr.HYPER]
    ia_btime: Annotated[int, xdr.HYPER]
    ia_atime_nsec: Annotated[int, xdr.UINT]
    ia_mtime_nsec: Annotated[int, xdr.UINT]
    ia_ctime_nsec: Annotated[int, xdr.UINT]
    ia_btime_nsec: Annotated[int, xdr.UINT]
    ia_nlink: Annotated[int, xdr.UINT]
    ia_uid: Annotated[int, xdr.UINT]
    ia_gid: Annotated[int, xdr.UINT]
    ia_blksize: Annotated[int, xdr.UINT]
    mode: Annotated[int, xdr.UINT]


@xdr.struct
class GfxMdataIatt:
    """struct gfx_mdata_iatt { hyper ia_atime; hyper ia_mtime; hyper ia_ctime;
    unsigned int ia_atime_nsec; unsigned int ia_mtime_nsec;
    unsigned int ia_ctime_nsec; };  -- glusterfs4-xdr.x

    36 bytes; the MDATA arm of ``gfx_value`` (``set-ctime-mdata``).
    """

    ia_atime: Annotated[int, xdr.HYPER]
    ia_mtime: Annotated[int, xdr.HYPER]
    ia_ctime: Annotated[int, xdr.HYPER]
    ia_atime_nsec: Annotated[int, xdr.UINT]
    ia_mtime_nsec: Annotated[int, xdr.UINT]
    ia_ctime_nsec: Annotated[int, xdr.UINT]


@xdr.struct
class GfStatfs:
    """struct gf_statfs { u_quad_t bsize; u_quad_t frsize; u_quad_t blocks;
    u_quad_t bfree; u_quad_t bavail; u_quad_t files; u_quad_t ffree;
    u_quad_t favail; u_quad_t fsid; u_quad_t flag; u_quad_t namemax; };
    -- glusterfs3-xdr.x"""

    bsize: Annotated[int, xdr.UHYPER]
    frsize: Annotated[int, xdr.UHYPER]
    blocks: Annotated[int, xdr.UHYPER]
    bfree: Annotated[int, xdr.UHYPER]
    bavail: Annotated[int, xdr.UHYPER]
    files: Annotated[int, xdr.UHYPER]
    ffree: Annotated[int, xdr.UHYPER]
    favail: Annotated[int, xdr.UHYPER]
    fsid: Annotated[int, xdr.UHYPER]
    flag: Annotated[int, xdr.UHYPER]
    namemax: Annotated[int, xdr.UHYPER]


@xdr.struct
class GfProtoFlock:
    """struct gf_proto_flock { unsigned int type; unsigned int whence;
    u_quad_t start; u_quad_t len; unsigned int pid; opaque lk_owner<>; };
    -- glusterfs3-xdr.x

    ``type`` is a :class:`LkType`; ``len`` 0 means to end of file. The brick
    overwrites ``lk_owner`` with the credential's (§8.4).
    """

    type: Annotated[int, xdr.UINT]
    whence: Annotated[int, xdr.UINT]
    start: Annotated[int, xdr.UHYPER]
    len: Annotated[int, xdr.UHYPER]
    pid: Annotated[int, xdr.UINT]
    lk_owner: Annotated[bytes, xdr.Opaque()]


# --- gfx_value and gfx_dict ----------------------------------------------------------

#: What a :class:`DictValue` holds, by type: INT/UINT an int, DOUBLE a float,
#: STR/STR_OLD/PTR bytes, GFUUID 16 bytes, IATT a GfxIattx, MDATA a GfxMdataIatt.
DictPayload: TypeAlias = int | float | bytes | GfxIattx | GfxMdataIatt


@dataclass(frozen=True, slots=True)
class DictValue:
    """One typed ``gfx_dict`` value: a :class:`DataType` and its payload.

    Build them with the constructors named after the type: ``DictValue.int(1)``,
    ``DictValue.ptr(b"exact bytes")``, ``DictValue.gfuuid(gfid)``. Values are
    checked when encoded (:data:`GFX_VALUE`), like struct fields.

    Use PTR for byte-exact xattr values: the brick appends a NUL to STR
    values (protocol.md §4.2). INT/UINT/DOUBLE travel as binary.
    """

    type: DataType
    value: DictPayload

    # builtins.* below: inside this class body `int` and `str` name the
    # constructors, not the types.

    @classmethod
    def int(cls, value: builtins.int) -> DictValue:
        """A signed 64-bit integer (GF_DATA_TYPE_INT)."""
        return cls(DataType.INT, value)

    @classmethod
    def uint(cls, value: builtins.int) -> DictValue:
        """An unsigned 64-bit integer (GF_DATA_TYPE_UINT)."""
        return cls(DataType.UINT, value)

    @classmethod
    def double(cls, value: builtins.float) -> DictValue:
        """An IEEE-754 double (GF_DATA_TYPE_DOUBLE)."""
        return cls(DataType.DOUBLE, value)

    @classmethod
    def str(cls, value: bytes) -> DictValue:
        """A C string (GF_DATA_TYPE_STR); the brick stores it with a NUL added."""
        return cls(DataType.STR, value)

    @classmethod
    def str_old(cls, value: bytes) -> DictValue:
        """Bytes typed as an old-style string (GF_DATA_TYPE_STR_OLD)."""
        return cls(DataType.STR_OLD, value)

    @classmethod
    def ptr(cls, value: bytes) -> DictValue:
        """Exact bytes (GF_DATA_TYPE_PTR): xattr values in both directions."""
        return cls(DataType.PTR, value)

    @classmethod
    def gfuuid(cls, value: bytes) -> DictValue:
        """A 16-byte gfid (GF_DATA_TYPE_GFUUID), e.g. ``gfid-req``."""
        return cls(DataType.GFUUID, value)

    @classmethod
    def iatt(cls, value: GfxIattx) -> DictValue:
        """Inode attributes (GF_DATA_TYPE_IATT), e.g. ``virt-gf-poststat``."""
        return cls(DataType.IATT, value)

    @classmethod
    def mdata(cls, value: GfxMdataIatt) -> DictValue:
        """ctime-feature times (GF_DATA_TYPE_MDATA), e.g. ``set-ctime-mdata``."""
        return cls(DataType.MDATA, value)


#: A decoded ``gfx_dict`` (gluster's ``dict_t``): xattr values, xattrop deltas.
GfDict: TypeAlias = dict[str, DictValue]

#: A fop's ``gfx_dict``: None is the NULL dict (count -1), ``{}`` the empty one.
#: The two differ on the wire and to the brick (RELEASE sends ``{}``).
Xdata: TypeAlias = GfDict | None

# glusterfs4-xdr.x union gfx_value: one arm per type; PTR and STR_OLD share
# the `other` arm. UNKNOWN (0) has no arm, so the brick cannot decode it.
_VALUE_ARMS: dict[int, xdr.Codec[Any]] = {
    DataType.INT: xdr.HYPER,
    DataType.UINT: xdr.UHYPER,
    DataType.DOUBLE: xdr.DOUBLE,
    DataType.STR: xdr.Opaque(),
    DataType.IATT: xdr.as_codec(GfxIattx),
    DataType.GFUUID: xdr.FixedOpaque(16),
    DataType.PTR: xdr.Opaque(),
    DataType.STR_OLD: xdr.Opaque(),
    DataType.MDATA: xdr.as_codec(GfxMdataIatt),
}


class GfxValue(xdr.Codec[DictValue]):
    """union gfx_value switch (int type) { case GF_DATA_TYPE_INT: hyper
    value_int; case GF_DATA_TYPE_UINT: unsigned hyper value_uint;
    case GF_DATA_TYPE_DOUBLE: double value_dbl; case GF_DATA_TYPE_STR:
    opaque val_string<>; case GF_DATA_TYPE_IATT: gfx_iattx iatt;
    case GF_DATA_TYPE_GFUUID: opaque uuid[16]; case GF_DATA_TYPE_PTR:
    case GF_DATA_TYPE_STR_OLD: opaque other<>; case GF_DATA_TYPE_MDATA:
    gfx_mdata_iatt mdata_iatt; };  -- glusterfs4-xdr.x

    As a :class:`DictValue`; a type without an arm (UNKNOWN, or a number
    outside :class:`DataType`) is an XdrError both ways.
    """

    __slots__ = ()

    def pack(self, p: xdr.Packer, v: DictValue) -> None:
        if not isinstance(v, DictValue):
            raise XdrError(f"gfx_value must be a DictValue, not {type(v).__name__}")
        codec = self._arm(v.type)
        xdr.INT.pack(p, int(v.type))
        codec.pack(p, v.value)

    def unpack(self, u: xdr.Unpacker) -> DictValue:
        discriminant = xdr.INT.unpack(u)
        try:
            kind = DataType(discriminant)
        except ValueError:
            raise XdrError(f"gfx_value: unknown data type {discriminant}") from None
        return DictValue(kind, self._arm(kind).unpack(u))

    @staticmethod
    def _arm(kind: object) -> xdr.Codec[Any]:
        codec = _VALUE_ARMS.get(kind) if isinstance(kind, int) else None
        if codec is None:
            raise XdrError(f"gfx_value: no arm for data type {kind!r}")
        return codec

    def __repr__(self) -> str:
        return "GfxValue"


GFX_VALUE = GfxValue()

_KEY = xdr.Opaque()
# The smallest gfx_dict_pair: key length word + NUL padded to 4, type word,
# a 4-byte arm (none is shorter). Bounds a pair count before looping.
_MIN_PAIR_BYTES = 16


class GfxDict(xdr.Codec[Xdata]):
    """struct gfx_dict { unsigned int xdr_size; int count;
    gfx_dict_pair pairs<>; };  struct gfx_dict_pair { opaque key<>;
    gfx_value value; };  -- glusterfs4-xdr.x

    As :data:`Xdata`: a ``dict[str, DictValue]``, or None for the NULL dict
    (``00000000 ffffffff 00000000``). On the wire:

    * ``xdr_size`` is the byte length of the encoded pairs (what
      ``xdr_sizeof`` gives minus the 12 header bytes; glusterfs3.h
      ``dict_to_xdr``). The brick uses it to find where a WRITE's payload
      starts, so it is computed here, and checked on decode.
    * ``count`` equals the number of pairs, or is -1 for NULL (then no pairs).
    * Each key is sent with its C string NUL (length = strlen + 1); keys are
      ``str`` here, without the NUL, bytes mapped with ``surrogateescape``.

    Anything else (count mismatch, a key without its NUL or with an inner one,
    a duplicate key, an UNKNOWN value) is an XdrError.
    """

    __slots__ = ()

    def pack(self, p: xdr.Packer, v: Xdata) -> None:
        if v is None:
            p.pack_uint(0)
            p.pack_int(-1)
            p.pack_uint(0)
            return
        if not isinstance(v, dict):
            raise XdrError(f"gfx_dict must be a dict or None, not {type(v).__name__}")
        body = xdr.Packer()
        for key, value in v.items():
            try:
                _KEY.pack(body, _key_bytes(key))
                GFX_VALUE.pack(body, value)
            except XdrError as exc:
                raise XdrError(f"gfx_dict key {key!r}: {exc}") from exc
        pairs = body.get_buffer()
        xdr.UINT.pack(p, len(pairs))
        xdr.INT.pack(p, len(v))
        p.pack_uint(len(v))
        # Every XDR item is padded already: the pairs go out unchanged.
        p.pack_fopaque(len(pairs), pairs)

    def unpack(self, u: xdr.Unpacker) -> Xdata:
        xdr_size = u.unpack_uint()
        count = u.unpack_int()
        n = u.unpack_uint()
        if count == -1:
            if n or xdr_size:
                raise XdrError(
                    f"gfx_dict: NULL dict with {n} pairs and xdr_size {xdr_size}"
                )
            return None
        if count != n:
            raise XdrError(f"gfx_dict: count {count} but {n} pairs")
        left = len(u.get_buffer()) - u.get_position()
        if n * _MIN_PAIR_BYTES > left:
            raise XdrError(f"gfx_dict: {n} pairs cannot fit in {left} bytes")
        start = u.get_position()
        result: dict[str, DictValue] = {}
        for _ in range(n):
            key = _key_str(_KEY.unpack(u))
            if key in result:
                raise XdrError(f"gfx_dict: key {key!r} appears twice")
            result[key] = GFX_VALUE.unpack(u)
        size = u.get_position() - start
        if size != xdr_size:
            raise XdrError(f"gfx_dict: xdr_size {xdr_size} but pairs take {size}")
        return result

    def __repr__(self) -> str:
        return "GfxDict"


def _key_bytes(key: object) -> bytes:
    if not isinstance(key, str):
        raise XdrError(f"keys must be str, not {type(key).__name__}")
    raw = key.encode("utf-8", "surrogateescape")
    if b"\0" in raw:
        raise XdrError("key contains a NUL")
    # dict_to_xdr sends strlen(key) + 1 bytes: the NUL is part of the key.
    return raw + b"\0"


def _key_str(raw: bytes) -> str:
    if not raw.endswith(b"\0"):
        raise XdrError(f"gfx_dict: key {raw!r} lacks its NUL")
    if b"\0" in raw[:-1]:
        raise XdrError(f"gfx_dict: key {raw!r} has a NUL inside")
    return raw[:-1].decode("utf-8", "surrogateescape")


GFX_DICT = GfxDict()


# --- shared replies ---------------------------------------------------------------


@xdr.struct
class GfxCommonRsp:
    """struct gfx_common_rsp { int op_ret; int op_errno; gfx_dict xdata; };
    -- glusterfs4-xdr.x

    ``op_errno`` is a Linux errno when ``op_ret`` < 0 and junk otherwise (§2.2).
    """

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxCommonIattRsp:
    """struct gfx_common_iatt_rsp { int op_ret; int op_errno; gfx_dict xdata;
    gfx_iattx stat; };  -- glusterfs4-xdr.x (STAT, FSTAT)"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]
    stat: Annotated[GfxIattx, GfxIattx]


@xdr.struct
class GfxCommon2iattRsp:
    """struct gfx_common_2iatt_rsp { int op_ret; int op_errno; gfx_dict xdata;
    gfx_iattx prestat; gfx_iattx poststat; };  -- glusterfs4-xdr.x

    LOOKUP uses it too, as (stat, postparent): ``prestat`` is the entry and
    ``poststat`` its parent (gotcha 2). UNLINK/RMDIR: (preparent, postparent).
    """

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]
    prestat: Annotated[GfxIattx, GfxIattx]
    poststat: Annotated[GfxIattx, GfxIattx]


@xdr.struct
class GfxCommon3iattRsp:
    """struct gfx_common_3iatt_rsp { int op_ret; int op_errno; gfx_dict xdata;
    gfx_iattx stat; gfx_iattx preparent; gfx_iattx postparent; };
    -- glusterfs4-xdr.x (MKDIR, MKNOD)"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]
    stat: Annotated[GfxIattx, GfxIattx]
    preparent: Annotated[GfxIattx, GfxIattx]
    postparent: Annotated[GfxIattx, GfxIattx]


@xdr.struct
class GfxCommonDictRsp:
    """struct gfx_common_dict_rsp { int op_ret; int op_errno; gfx_dict xdata;
    gfx_dict dict; gfx_iattx prestat; gfx_iattx poststat; };
    -- glusterfs4-xdr.x (GETXATTR, FGETXATTR, XATTROP, FXATTROP)

    ``dict`` holds the xattrs (name → PTR value); the iatts are zero for
    GETXATTR.
    """

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]
    dict: Annotated[Xdata, GFX_DICT]
    prestat: Annotated[GfxIattx, GfxIattx]
    poststat: Annotated[GfxIattx, GfxIattx]


@xdr.struct
class GfxOpenRsp:
    """struct gfx_open_rsp { int op_ret; int op_errno; gfx_dict xdata;
    quad_t fd; };  -- glusterfs4-xdr.x (OPEN, OPENDIR)"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]
    fd: Annotated[int, xdr.HYPER]


@xdr.struct
class GfxReadRsp:
    """struct gfx_read_rsp { int op_ret; int op_errno; gfx_iattx stat;
    unsigned int size; gfx_dict xdata; };  -- glusterfs4-xdr.x

    ``xdata`` comes last here, unlike every other reply (gotcha 2). ``size``
    raw bytes follow the struct in the same record, unpadded (§7).
    """

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    stat: Annotated[GfxIattx, GfxIattx]
    size: Annotated[int, xdr.UINT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxCreateRsp:
    """struct gfx_create_rsp { int op_ret; int op_errno; gfx_dict xdata;
    gfx_iattx stat; u_quad_t fd; gfx_iattx preparent;
    gfx_iattx postparent; };  -- glusterfs4-xdr.x

    ``fd`` is unsigned here although OPEN's is signed; the values are small.
    """

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]
    stat: Annotated[GfxIattx, GfxIattx]
    fd: Annotated[int, xdr.UHYPER]
    preparent: Annotated[GfxIattx, GfxIattx]
    postparent: Annotated[GfxIattx, GfxIattx]


@xdr.struct
class GfxStatfsRsp:
    """struct gfx_statfs_rsp { int op_ret; int op_errno; gfx_dict xdata;
    gf_statfs statfs; };  -- glusterfs4-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]
    statfs: Annotated[GfStatfs, GfStatfs]


@xdr.struct
class GfxSeekRsp:
    """struct gfx_seek_rsp { int op_ret; int op_errno; gfx_dict xdata;
    u_quad_t offset; };  -- glusterfs4-xdr.x

    No data (or hole) after the offset asked: op_ret -1, op_errno ENXIO.
    """

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]
    offset: Annotated[int, xdr.UHYPER]


@xdr.struct
class GfxLkRsp:
    """struct gfx_lk_rsp { int op_ret; int op_errno; gfx_dict xdata;
    gf_proto_flock flock; };  -- glusterfs4-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]
    flock: Annotated[GfProtoFlock, GfProtoFlock]


@xdr.struct
class GfxRenameRsp:
    """struct gfx_rename_rsp { int op_ret; int op_errno; gfx_dict xdata;
    gfx_iattx stat; gfx_iattx preoldparent; gfx_iattx postoldparent;
    gfx_iattx prenewparent; gfx_iattx postnewparent; };  -- glusterfs4-xdr.x"""

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]
    stat: Annotated[GfxIattx, GfxIattx]
    preoldparent: Annotated[GfxIattx, GfxIattx]
    postoldparent: Annotated[GfxIattx, GfxIattx]
    prenewparent: Annotated[GfxIattx, GfxIattx]
    postnewparent: Annotated[GfxIattx, GfxIattx]


@xdr.struct
class GfxDirplist:
    """struct gfx_dirplist { u_quad_t d_ino; u_quad_t d_off;
    unsigned int d_len; unsigned int d_type; string name<>; gfx_iattx stat;
    gfx_dict dict; gfx_dirplist *nextentry; };  -- glusterfs4-xdr.x

    One READDIRP entry; ``nextentry`` is not a field, the chain is a
    :class:`~pygluster.rpc.xdr.LinkedList`. ``d_type`` is Linux DT_*;
    continue reading at the last entry's ``d_off``.
    """

    d_ino: Annotated[int, xdr.UHYPER]
    d_off: Annotated[int, xdr.UHYPER]
    d_len: Annotated[int, xdr.UINT]
    d_type: Annotated[int, xdr.UINT]
    name: Annotated[str, xdr.String()]
    stat: Annotated[GfxIattx, GfxIattx]
    dict: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxReaddirpRsp:
    """struct gfx_readdirp_rsp { int op_ret; int op_errno; gfx_dict xdata;
    gfx_dirplist *reply; };  -- glusterfs4-xdr.x

    ``op_ret`` is the entry count; the end of the directory is a reply with
    no entries (op_ret 0, op_errno ENOENT).
    """

    op_ret: Annotated[int, xdr.INT]
    op_errno: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]
    reply: Annotated[tuple[GfxDirplist, ...], xdr.LinkedList(xdr.as_codec(GfxDirplist))]


# --- requests --------------------------------------------------------------------


@xdr.struct
class GfxStatReq:
    """struct gfx_stat_req { opaque gfid[16]; gfx_dict xdata; };
    -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxMknodReq:
    """struct gfx_mknod_req { opaque pargfid[16]; u_quad_t dev;
    unsigned int mode; unsigned int umask; string bname<>;
    gfx_dict xdata; };  -- glusterfs4-xdr.x

    Needs ``gfid-req`` in xdata, as CREATE does.
    """

    pargfid: Annotated[bytes, xdr.FixedOpaque(16)]
    dev: Annotated[int, xdr.UHYPER]
    mode: Annotated[int, xdr.UINT]
    umask: Annotated[int, xdr.UINT]
    bname: Annotated[str, xdr.String()]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxMkdirReq:
    """struct gfx_mkdir_req { opaque pargfid[16]; unsigned int mode;
    unsigned int umask; string bname<>; gfx_dict xdata; };
    -- glusterfs4-xdr.x

    Without ``gfid-req`` (GFUUID) in xdata the brick answers EINVAL (§8.2).
    """

    pargfid: Annotated[bytes, xdr.FixedOpaque(16)]
    mode: Annotated[int, xdr.UINT]
    umask: Annotated[int, xdr.UINT]
    bname: Annotated[str, xdr.String()]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxUnlinkReq:
    """struct gfx_unlink_req { opaque pargfid[16]; string bname<>;
    unsigned int xflags; gfx_dict xdata; };  -- glusterfs4-xdr.x"""

    pargfid: Annotated[bytes, xdr.FixedOpaque(16)]
    bname: Annotated[str, xdr.String()]
    xflags: Annotated[int, xdr.UINT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxRmdirReq:
    """struct gfx_rmdir_req { opaque pargfid[16]; int xflags;
    string bname<>; gfx_dict xdata; };  -- glusterfs4-xdr.x

    ``xflags`` comes *before* ``bname`` here, after it in UNLINK (gotcha 2).
    """

    pargfid: Annotated[bytes, xdr.FixedOpaque(16)]
    xflags: Annotated[int, xdr.INT]
    bname: Annotated[str, xdr.String()]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxRenameReq:
    """struct gfx_rename_req { opaque oldgfid[16]; opaque newgfid[16];
    string oldbname<>; string newbname<>; gfx_dict xdata; };
    -- glusterfs4-xdr.x

    ``oldgfid``/``newgfid`` are the old and new *parent* directories.
    """

    oldgfid: Annotated[bytes, xdr.FixedOpaque(16)]
    newgfid: Annotated[bytes, xdr.FixedOpaque(16)]
    oldbname: Annotated[str, xdr.String()]
    newbname: Annotated[str, xdr.String()]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxTruncateReq:
    """struct gfx_truncate_req { opaque gfid[16]; u_quad_t offset;
    gfx_dict xdata; };  -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    offset: Annotated[int, xdr.UHYPER]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxOpenReq:
    """struct gfx_open_req { opaque gfid[16]; unsigned int flags;
    gfx_dict xdata; };  -- glusterfs4-xdr.x

    ``flags`` are :class:`GfOpenFlags`.
    """

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    flags: Annotated[int, xdr.UINT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxReadReq:
    """struct gfx_read_req { opaque gfid[16]; quad_t fd; u_quad_t offset;
    unsigned int size; unsigned int flag; gfx_dict xdata; };
    -- glusterfs4-xdr.x

    ``flag`` is per-call flags; gfapi always sends 0.
    """

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    offset: Annotated[int, xdr.UHYPER]
    size: Annotated[int, xdr.UINT]
    flag: Annotated[int, xdr.UINT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxWriteReq:
    """struct gfx_write_req { opaque gfid[16]; quad_t fd; u_quad_t offset;
    unsigned int size; unsigned int flag; gfx_dict xdata; };
    -- glusterfs4-xdr.x

    ``size`` raw bytes follow in the same record, unpadded (§7); the reply
    is a :class:`GfxCommon2iattRsp` whose op_ret is the count written.
    """

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    offset: Annotated[int, xdr.UHYPER]
    size: Annotated[int, xdr.UINT]
    flag: Annotated[int, xdr.UINT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxStatfsReq:
    """struct gfx_statfs_req { opaque gfid[16]; gfx_dict xdata; };
    -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxFlushReq:
    """struct gfx_flush_req { opaque gfid[16]; quad_t fd; gfx_dict xdata; };
    -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxFsyncReq:
    """struct gfx_fsync_req { opaque gfid[16]; quad_t fd; unsigned int data;
    gfx_dict xdata; };  -- glusterfs4-xdr.x

    ``data`` 0 = fsync, non-zero = fdatasync.
    """

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    data: Annotated[int, xdr.UINT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxSetxattrReq:
    """struct gfx_setxattr_req { opaque gfid[16]; unsigned int flags;
    gfx_dict dict; gfx_dict xdata; };  -- glusterfs4-xdr.x

    ``flags``: XATTR_CREATE 1, XATTR_REPLACE 2; ``dict``: name → value.
    """

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    flags: Annotated[int, xdr.UINT]
    dict: Annotated[Xdata, GFX_DICT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxFsetxattrReq:
    """struct gfx_fsetxattr_req { opaque gfid[16]; int64_t fd;
    unsigned int flags; gfx_dict dict; gfx_dict xdata; };
    -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    flags: Annotated[int, xdr.UINT]
    dict: Annotated[Xdata, GFX_DICT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxXattropReq:
    """struct gfx_xattrop_req { opaque gfid[16]; unsigned int flags;
    gfx_dict dict; gfx_dict xdata; };  -- glusterfs4-xdr.x

    ``flags`` is an :class:`XattropFlags`.
    """

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    flags: Annotated[int, xdr.UINT]
    dict: Annotated[Xdata, GFX_DICT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxFxattropReq:
    """struct gfx_fxattrop_req { opaque gfid[16]; quad_t fd;
    unsigned int flags; gfx_dict dict; gfx_dict xdata; };
    -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    flags: Annotated[int, xdr.UINT]
    dict: Annotated[Xdata, GFX_DICT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxGetxattrReq:
    """struct gfx_getxattr_req { opaque gfid[16]; unsigned int namelen;
    string name<>; gfx_dict xdata; };  -- glusterfs4-xdr.x

    ``namelen`` is a flag, not a length: 1 = get ``name``, 0 = list all
    (then ``name`` is ""; gotcha 19).
    """

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    namelen: Annotated[int, xdr.UINT]
    name: Annotated[str, xdr.String()]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxFgetxattrReq:
    """struct gfx_fgetxattr_req { opaque gfid[16]; quad_t fd;
    unsigned int namelen; string name<>; gfx_dict xdata; };
    -- glusterfs4-xdr.x

    ``namelen`` is a flag, as in :class:`GfxGetxattrReq`.
    """

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    namelen: Annotated[int, xdr.UINT]
    name: Annotated[str, xdr.String()]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxRemovexattrReq:
    """struct gfx_removexattr_req { opaque gfid[16]; string name<>;
    gfx_dict xdata; };  -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    name: Annotated[str, xdr.String()]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxOpendirReq:
    """struct gfx_opendir_req { opaque gfid[16]; gfx_dict xdata; };
    -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxAccessReq:
    """struct gfx_access_req { opaque gfid[16]; unsigned int mask;
    gfx_dict xdata; };  -- glusterfs4-xdr.x

    ``mask``: R_OK 4, W_OK 2, X_OK 1 (F_OK 0).
    """

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    mask: Annotated[int, xdr.UINT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxCreateReq:
    """struct gfx_create_req { opaque pargfid[16]; unsigned int flags;
    unsigned int mode; unsigned int umask; string bname<>;
    gfx_dict xdata; };  -- glusterfs4-xdr.x

    ``flags`` are :class:`GfOpenFlags`; xdata must carry ``gfid-req``.
    """

    pargfid: Annotated[bytes, xdr.FixedOpaque(16)]
    flags: Annotated[int, xdr.UINT]
    mode: Annotated[int, xdr.UINT]
    umask: Annotated[int, xdr.UINT]
    bname: Annotated[str, xdr.String()]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxFtruncateReq:
    """struct gfx_ftruncate_req { opaque gfid[16]; quad_t fd;
    u_quad_t offset; gfx_dict xdata; };  -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    offset: Annotated[int, xdr.UHYPER]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxFstatReq:
    """struct gfx_fstat_req { opaque gfid[16]; quad_t fd; gfx_dict xdata; };
    -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxLkReq:
    """struct gfx_lk_req { opaque gfid[16]; int64_t fd; unsigned int cmd;
    unsigned int type; gf_proto_flock flock; gfx_dict xdata; };
    -- glusterfs4-xdr.x

    ``cmd`` is an :class:`LkCmd`, ``type`` an :class:`LkType`.
    """

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    cmd: Annotated[int, xdr.UINT]
    type: Annotated[int, xdr.UINT]
    flock: Annotated[GfProtoFlock, GfProtoFlock]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxLookupReq:
    """struct gfx_lookup_req { opaque gfid[16]; opaque pargfid[16];
    unsigned int flags; string bname<>; gfx_dict xdata; };
    -- glusterfs4-xdr.x

    Nameless (by gfid): ``gfid`` set, ``pargfid`` zero, ``bname`` "". Named:
    ``gfid`` zero, ``pargfid`` the parent, ``bname`` one path component.
    xdata keys ask for xattrs to come back in the reply (§8.1).
    """

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    pargfid: Annotated[bytes, xdr.FixedOpaque(16)]
    flags: Annotated[int, xdr.UINT]
    bname: Annotated[str, xdr.String()]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxInodelkReq:
    """struct gfx_inodelk_req { opaque gfid[16]; unsigned int cmd;
    unsigned int type; gf_proto_flock flock; string volume<>;
    gfx_dict xdata; };  -- glusterfs4-xdr.x

    ``volume`` is the lock domain; locks in different domains never conflict.
    """

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    cmd: Annotated[int, xdr.UINT]
    type: Annotated[int, xdr.UINT]
    flock: Annotated[GfProtoFlock, GfProtoFlock]
    volume: Annotated[str, xdr.String()]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxFinodelkReq:
    """struct gfx_finodelk_req { opaque gfid[16]; quad_t fd;
    unsigned int cmd; unsigned int type; gf_proto_flock flock;
    string volume<>; gfx_dict xdata; };  -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    cmd: Annotated[int, xdr.UINT]
    type: Annotated[int, xdr.UINT]
    flock: Annotated[GfProtoFlock, GfProtoFlock]
    volume: Annotated[str, xdr.String()]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxEntrylkReq:
    """struct gfx_entrylk_req { opaque gfid[16]; unsigned int cmd;
    unsigned int type; u_quad_t namelen; string name<>; string volume<>;
    gfx_dict xdata; };  -- glusterfs4-xdr.x

    ``gfid`` is the directory; ``namelen`` is a u64 (gotcha 19), 0 locks the
    whole directory. ``cmd``/``type``: :class:`EntrylkCmd`/:class:`EntrylkType`.
    """

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    cmd: Annotated[int, xdr.UINT]
    type: Annotated[int, xdr.UINT]
    namelen: Annotated[int, xdr.UHYPER]
    name: Annotated[str, xdr.String()]
    volume: Annotated[str, xdr.String()]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxSetattrReq:
    """struct gfx_setattr_req { opaque gfid[16]; gfx_iattx stbuf;
    int valid; gfx_dict xdata; };  -- glusterfs4-xdr.x

    ``valid`` (:class:`SetattrValid`) picks the ``stbuf`` fields applied.
    """

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    stbuf: Annotated[GfxIattx, GfxIattx]
    valid: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxFsetattrReq:
    """struct gfx_fsetattr_req { opaque gfid[16]; hyper fd;
    gfx_iattx stbuf; int valid; gfx_dict xdata; };  -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    stbuf: Annotated[GfxIattx, GfxIattx]
    valid: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxReaddirpReq:
    """struct gfx_readdirp_req { opaque gfid[16]; quad_t fd;
    u_quad_t offset; unsigned int size; gfx_dict xdata; };
    -- glusterfs4-xdr.x

    ``size`` bounds the reply's bytes; xdata keys name xattrs wanted per entry.
    """

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    offset: Annotated[int, xdr.UHYPER]
    size: Annotated[int, xdr.UINT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxReleaseReq:
    """struct gfx_release_req { opaque gfid[16]; quad_t fd;
    gfx_dict xdata; };  -- glusterfs4-xdr.x

    gfapi sends it with pid 0, lk_owner 0 and an empty (not NULL) dict.
    """

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxReleasedirReq:
    """struct gfx_releasedir_req { opaque gfid[16]; quad_t fd;
    gfx_dict xdata; };  -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxFallocateReq:
    """struct gfx_fallocate_req { opaque gfid[16]; quad_t fd;
    unsigned int flags; u_quad_t offset; u_quad_t size; gfx_dict xdata; };
    -- glusterfs4-xdr.x

    ``flags`` is fallocate(2)'s mode (1 = FALLOC_FL_KEEP_SIZE).
    """

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    flags: Annotated[int, xdr.UINT]
    offset: Annotated[int, xdr.UHYPER]
    size: Annotated[int, xdr.UHYPER]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxDiscardReq:
    """struct gfx_discard_req { opaque gfid[16]; quad_t fd;
    u_quad_t offset; u_quad_t size; gfx_dict xdata; };  -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    offset: Annotated[int, xdr.UHYPER]
    size: Annotated[int, xdr.UHYPER]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxZerofillReq:
    """struct gfx_zerofill_req { opaque gfid[16]; quad_t fd;
    u_quad_t offset; u_quad_t size; gfx_dict xdata; };  -- glusterfs4-xdr.x"""

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    offset: Annotated[int, xdr.UHYPER]
    size: Annotated[int, xdr.UHYPER]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxIpcReq:
    """struct gfx_ipc_req { int op; gfx_dict xdata; };  -- glusterfs4-xdr.x

    A plain brick answers EOPNOTSUPP.
    """

    op: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]


@xdr.struct
class GfxSeekReq:
    """struct gfx_seek_req { opaque gfid[16]; quad_t fd; u_quad_t offset;
    int what; gfx_dict xdata; };  -- glusterfs4-xdr.x

    ``what`` is a :class:`SeekWhat`.
    """

    gfid: Annotated[bytes, xdr.FixedOpaque(16)]
    fd: Annotated[int, xdr.HYPER]
    offset: Annotated[int, xdr.UHYPER]
    what: Annotated[int, xdr.INT]
    xdata: Annotated[Xdata, GFX_DICT]


# --- fops a block device never sends (for captures of other clients) -----------


@xdr.struct
class GfProtoLease:
    """struct gf_proto_lease { unsigned int cmd; unsigned int lease_type; opaque
    lease_id[16]; unsigned int lease_flags; };  -- glusterfs3-xdr.x"""

    cmd: Annotated[int, xdr.UINT]
    lease_type: Annotated[int, xdr.UINT]
    lease_id: Annotated[bytes, xdr.FixedOpaque(16)]
    lease_flags: Annotated[int, xdr.UINT]


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


# --- the program and its procedures ----------------------------------------------

# protocol-common.h: GLUSTER_FOP_PROGRAM 1298437, GLUSTER_FOP_VERSION_v2 = 400.
FOP_PROGRAM = Program(
    "GlusterFS 4.x v1",
    ProgramNumber.GLUSTER_FOP,
    400,
    names={number.value: number.name for number in FopProc},
)


def _fop(
    number: FopProc,
    args: type[Any] | xdr.Codec[Any],
    result: type[Any] | xdr.Codec[Any],
    *,
    call_payload: bool = False,
    reply_payload: bool = False,
) -> Procedure[Any, Any]:
    return procedure(
        FOP_PROGRAM,
        number,
        number.name,
        args,
        result,
        call_payload=call_payload,
        reply_payload=reply_payload,
    )


# protocol-common.h enum gf_fop_procnum (GFS3_OP_*); the reply structs are the
# ones server-rpc-fops_v2.c sends for each fop.
STAT = _fop(FopProc.STAT, GfxStatReq, GfxCommonIattRsp)
MKNOD = _fop(FopProc.MKNOD, GfxMknodReq, GfxCommon3iattRsp)
MKDIR = _fop(FopProc.MKDIR, GfxMkdirReq, GfxCommon3iattRsp)
UNLINK = _fop(FopProc.UNLINK, GfxUnlinkReq, GfxCommon2iattRsp)
RMDIR = _fop(FopProc.RMDIR, GfxRmdirReq, GfxCommon2iattRsp)
RENAME = _fop(FopProc.RENAME, GfxRenameReq, GfxRenameRsp)
TRUNCATE = _fop(FopProc.TRUNCATE, GfxTruncateReq, GfxCommon2iattRsp)
OPEN = _fop(FopProc.OPEN, GfxOpenReq, GfxOpenRsp)
# READ's data follows the reply struct and WRITE's the arguments (§7).
READ = _fop(FopProc.READ, GfxReadReq, GfxReadRsp, reply_payload=True)
WRITE = _fop(FopProc.WRITE, GfxWriteReq, GfxCommon2iattRsp, call_payload=True)
STATFS = _fop(FopProc.STATFS, GfxStatfsReq, GfxStatfsRsp)
FLUSH = _fop(FopProc.FLUSH, GfxFlushReq, GfxCommonRsp)
FSYNC = _fop(FopProc.FSYNC, GfxFsyncReq, GfxCommon2iattRsp)
SETXATTR = _fop(FopProc.SETXATTR, GfxSetxattrReq, GfxCommonRsp)
GETXATTR = _fop(FopProc.GETXATTR, GfxGetxattrReq, GfxCommonDictRsp)
REMOVEXATTR = _fop(FopProc.REMOVEXATTR, GfxRemovexattrReq, GfxCommonRsp)
OPENDIR = _fop(FopProc.OPENDIR, GfxOpendirReq, GfxOpenRsp)
ACCESS = _fop(FopProc.ACCESS, GfxAccessReq, GfxCommonRsp)
CREATE = _fop(FopProc.CREATE, GfxCreateReq, GfxCreateRsp)
FTRUNCATE = _fop(FopProc.FTRUNCATE, GfxFtruncateReq, GfxCommon2iattRsp)
FSTAT = _fop(FopProc.FSTAT, GfxFstatReq, GfxCommonIattRsp)
LK = _fop(FopProc.LK, GfxLkReq, GfxLkRsp)
# LOOKUP's reply is the 2-iatt struct read as (stat, postparent) (gotcha 2).
LOOKUP = _fop(FopProc.LOOKUP, GfxLookupReq, GfxCommon2iattRsp)
INODELK = _fop(FopProc.INODELK, GfxInodelkReq, GfxCommonRsp)
FINODELK = _fop(FopProc.FINODELK, GfxFinodelkReq, GfxCommonRsp)
ENTRYLK = _fop(FopProc.ENTRYLK, GfxEntrylkReq, GfxCommonRsp)
XATTROP = _fop(FopProc.XATTROP, GfxXattropReq, GfxCommonDictRsp)
FXATTROP = _fop(FopProc.FXATTROP, GfxFxattropReq, GfxCommonDictRsp)
FGETXATTR = _fop(FopProc.FGETXATTR, GfxFgetxattrReq, GfxCommonDictRsp)
FSETXATTR = _fop(FopProc.FSETXATTR, GfxFsetxattrReq, GfxCommonRsp)
SETATTR = _fop(FopProc.SETATTR, GfxSetattrReq, GfxCommon2iattRsp)
FSETATTR = _fop(FopProc.FSETATTR, GfxFsetattrReq, GfxCommon2iattRsp)
READDIRP = _fop(FopProc.READDIRP, GfxReaddirpReq, GfxReaddirpRsp)
RELEASE = _fop(FopProc.RELEASE, GfxReleaseReq, GfxCommonRsp)
RELEASEDIR = _fop(FopProc.RELEASEDIR, GfxReleasedirReq, GfxCommonRsp)
FALLOCATE = _fop(FopProc.FALLOCATE, GfxFallocateReq, GfxCommon2iattRsp)
DISCARD = _fop(FopProc.DISCARD, GfxDiscardReq, GfxCommon2iattRsp)
ZEROFILL = _fop(FopProc.ZEROFILL, GfxZerofillReq, GfxCommon2iattRsp)
IPC = _fop(FopProc.IPC, GfxIpcReq, GfxCommonRsp)
SEEK = _fop(FopProc.SEEK, GfxSeekReq, GfxSeekRsp)

# Fops a block device never sends: gfapi, FUSE and self-heal do. PUT has no
# server actor in 10.x but is declared for old captures.
READLINK = _fop(FopProc.READLINK, GfxReadlinkReq, GfxReadlinkRsp)
SYMLINK = _fop(FopProc.SYMLINK, GfxSymlinkReq, GfxCommon3iattRsp)
LINK = _fop(FopProc.LINK, GfxLinkReq, GfxCommon3iattRsp)
FSYNCDIR = _fop(FopProc.FSYNCDIR, GfxFsyncdirReq, GfxCommonRsp)
READDIR = _fop(FopProc.READDIR, GfxReaddirReq, GfxReaddirRsp)
FENTRYLK = _fop(FopProc.FENTRYLK, GfxFentrylkReq, GfxCommonRsp)
RCHECKSUM = _fop(FopProc.RCHECKSUM, GfxRchecksumReq, GfxRchecksumRsp)
FREMOVEXATTR = _fop(FopProc.FREMOVEXATTR, GfxFremovexattrReq, GfxCommonRsp)
LEASE = _fop(FopProc.LEASE, GfxLeaseReq, GfxLeaseRsp)
GETACTIVELK = _fop(FopProc.GETACTIVELK, GfxGetactivelkReq, GfxGetactivelkRsp)
SETACTIVELK = _fop(FopProc.SETACTIVELK, GfxSetactivelkReq, GfxCommonRsp)
ICREATE = _fop(FopProc.ICREATE, GfxIcreateReq, GfxCommonIattRsp)
NAMELINK = _fop(FopProc.NAMELINK, GfxNamelinkReq, GfxCommon2iattRsp)
PUT = _fop(FopProc.PUT, GfxPutReq, GfxCommon3iattRsp, call_payload=True)
COPY_FILE_RANGE = _fop(FopProc.COPY_FILE_RANGE, GfxCopyFileRangeReq, GfxCommon3iattRsp)

#: The fops a block device sends, by procedure number (every declared one is
#: in ``FOP_PROGRAM.procedures``).
PROCEDURES: dict[int, Procedure[Any, Any]] = {
    proc.number: proc
    for proc in (
        STAT, MKNOD, MKDIR, UNLINK, RMDIR, RENAME, TRUNCATE, OPEN, READ, WRITE,
        STATFS, FLUSH, FSYNC, SETXATTR, GETXATTR, REMOVEXATTR, OPENDIR, ACCESS,
        CREATE, FTRUNCATE, FSTAT, LK, LOOKUP, INODELK, FINODELK, ENTRYLK,
        XATTROP, FXATTROP, FGETXATTR, FSETXATTR, SETATTR, FSETATTR, READDIRP,
        RELEASE, RELEASEDIR, FALLOCATE, DISCARD, ZEROFILL, IPC, SEEK,
    )
}  # fmt: skip

_CREATED = (
    MdataFlags.ATIME
    | MdataFlags.CTIME
    | MdataFlags.MTIME
    | MdataFlags.PAR_CTIME
    | MdataFlags.PAR_MTIME
)
_WRITTEN = MdataFlags.CTIME | MdataFlags.MTIME
_ALLOCATED = MdataFlags.MTIME | MdataFlags.ATIME
_REMOVED = MdataFlags.CTIME | MdataFlags.PAR_CTIME | MdataFlags.PAR_MTIME

#: AUTH_GLUSTERFS_v3 ``flags`` gfapi sends with each fop, by procedure name:
#: the times the brick sets to the credential's ctime (utime xlator,
#: protocol.md §8.6). 0 for every fop that changes no time.
CTIME_FLAGS: dict[str, int] = {
    **{proc.name: 0 for proc in PROCEDURES.values()},
    "CREATE": int(_CREATED),  # 31
    "MKDIR": int(_CREATED),
    "MKNOD": int(_CREATED),
    "WRITE": int(_WRITTEN),  # 3
    "TRUNCATE": int(_WRITTEN),
    "FTRUNCATE": int(_WRITTEN),
    "FALLOCATE": int(_ALLOCATED),  # 6
    "ZEROFILL": int(_ALLOCATED),
    "UNLINK": int(_REMOVED),  # 25
    "RMDIR": int(_REMOVED),
    "RENAME": int(_REMOVED),
    "SETXATTR": int(MdataFlags.CTIME),  # 1
    "FSETXATTR": int(MdataFlags.CTIME),
    "REMOVEXATTR": int(MdataFlags.CTIME),
}
