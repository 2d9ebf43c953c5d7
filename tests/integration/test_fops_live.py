"""Every declared fop against a real 10.3 brick (volume pyg_single).

Each call must decode exactly: the connection fails a call whose reply has
bytes left over, so a wrong layout in pygluster/rpc/fops.py fails here.
Everything is created in a fresh scratch directory and removed again.
"""

from __future__ import annotations

import errno
import os
import stat
import struct
import time
import uuid
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import trio

from pygluster import mgmt, volfile
from pygluster.errors import GlusterError
from pygluster.rpc import fops, glusterd
from pygluster.rpc.client import RpcClient, TcpAddress, open_rpc_client
from pygluster.rpc.fops import (
    ANON_FD,
    NULL_GFID,
    ROOT_GFID,
    DataType,
    DictValue,
    GfOpenFlags,
    LkCmd,
    LkType,
)
from pygluster.rpc.sunrpc import Credentials
from pygluster.uri import GlusterURI

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from pygluster.rpc.connection import Reply
    from pygluster.rpc.programs import Procedure

VOLUME = "pyg_single"
TIMEOUT = 30
#: A lock domain of our own, so nothing else on the brick conflicts with us.
DOMAIN = "pyg-fops-live"
#: Sets that collect the name of every procedure called while they are listed.
_RECORDERS: list[set[str]] = []


def gfid_req(gfid: bytes) -> fops.Xdata:
    return {"gfid-req": DictValue.gfuuid(gfid)}


class Session:
    """One SETVOLUME'd brick connection; calls carry gfapi's AUTH v3 flags."""

    def __init__(self, client: RpcClient, creds: Credentials) -> None:
        self.client = client
        self.creds = creds

    async def reply(
        self,
        proc: Procedure[Any, Any],
        args: Any,
        *,
        payload: bytes = b"",
        creds: Credentials | None = None,
        ctime_ns: int | None = None,
    ) -> Reply[Any]:
        who = creds or self.creds
        now = time.time_ns() if ctime_ns is None else ctime_ns
        cred = who.auth_v3(fops.CTIME_FLAGS[proc.name], now)
        for recorder in _RECORDERS:
            recorder.add(proc.name)
        return await self.client.call_reply(proc, args, cred=cred, payload=payload)

    async def read(
        self, gfid: bytes, fd: int, offset: int, size: int
    ) -> tuple[fops.GfxReadRsp, bytes]:
        """READ; the reply struct and the data that followed it."""
        reply = await self.reply(
            fops.READ,
            fops.GfxReadReq(
                gfid=gfid, fd=fd, offset=offset, size=size, flag=0, xdata=None
            ),
        )
        assert reply.result is not None
        assert reply.result.op_ret == reply.result.size == len(reply.payload)
        return reply.result, bytes(reply.payload)

    async def call(self, proc: Procedure[Any, Any], args: Any, **kw: Any) -> Any:
        return (await self.reply(proc, args, **kw)).result

    async def ok(self, proc: Procedure[Any, Any], args: Any, **kw: Any) -> Any:
        """Call and require success (op_ret >= 0)."""
        result = await self.call(proc, args, **kw)
        assert result.op_ret >= 0, f"{proc.name}: errno {result.op_errno}"
        return result

    async def fails(
        self, proc: Procedure[Any, Any], args: Any, err: int, **kw: Any
    ) -> Any:
        """Call and require op_ret -1 with errno ``err``."""
        result = await self.call(proc, args, **kw)
        assert (result.op_ret, result.op_errno) == (-1, err), proc.name
        return result


async def brick_port(host: str) -> tuple[str, int]:
    uri = GlusterURI.parse(f"gluster://{host}/{VOLUME}", require_image=False)
    fetched = await mgmt.fetch_volfile(uri)
    (brick,) = volfile.parse(fetched.text).bricks()
    port = brick.port or await mgmt.port_by_brick(host, brick.path)
    return brick.path, port


@asynccontextmanager
async def brick_session(host: str) -> AsyncIterator[Session]:
    path, port = await brick_port(host)
    async with open_rpc_client(TcpAddress(host, port)) as client:
        # protocol.md §5.4: the keys gfapi sends that matter.
        setvolume = glusterd.GfSetvolumeReq(
            dict=glusterd.str_dict(
                {
                    "process-uuid": f"pygluster-test-fops-{uuid.uuid4()}",
                    "fops-version": 1298437,
                    "remote-subvolume": path,
                    "volfile-key": VOLUME,
                    "client-version": "10.3",
                    "process-name": "pygluster.test_fops_live",
                    "opversion": 100000,
                }
            )
        )
        reply = await client.call(
            glusterd.SETVOLUME, setvolume, cred=Credentials().auth_v3()
        )
        assert reply.op_ret == 0, glusterd.dict_str(reply.dict, "ERROR")
        assert glusterd.dict_str(reply.dict, "child_up") == "1"
        yield Session(client, Credentials())


@asynccontextmanager
async def scratch_dir(s: Session) -> AsyncIterator[bytes]:
    """A fresh directory in the volume root; emptied and removed afterwards."""
    name = f"pyg-fops-{uuid.uuid4().hex}"
    gfid = uuid.uuid4().bytes
    rsp = await s.ok(
        fops.MKDIR,
        fops.GfxMkdirReq(
            pargfid=ROOT_GFID, mode=0o755, umask=0, bname=name, xdata=gfid_req(gfid)
        ),
    )
    assert rsp.stat.ia_gfid == gfid
    assert rsp.stat.mode == stat.S_IFDIR | 0o755
    try:
        yield gfid
    finally:
        with trio.CancelScope(shield=True):
            await remove_tree(s, ROOT_GFID, name, gfid)


async def remove_tree(s: Session, parent: bytes, name: str, gfid: bytes) -> None:
    """Best-effort rm -r through the brick, for cleanup after a failure."""
    try:
        for entry in await list_dir(s, gfid):
            if entry.name in (".", ".."):
                continue
            if stat.S_ISDIR(entry.stat.mode):
                await remove_tree(s, gfid, entry.name, entry.stat.ia_gfid)
            else:
                await s.call(
                    fops.UNLINK,
                    fops.GfxUnlinkReq(
                        pargfid=gfid, bname=entry.name, xflags=0, xdata=None
                    ),
                )
        await s.call(
            fops.RMDIR,
            fops.GfxRmdirReq(pargfid=parent, xflags=0, bname=name, xdata=None),
        )
    except GlusterError:
        pass


async def list_dir(s: Session, gfid: bytes) -> list[fops.GfxDirplist]:
    """OPENDIR, READDIRP until the empty reply, RELEASEDIR."""
    opened = await s.ok(fops.OPENDIR, fops.GfxOpendirReq(gfid=gfid, xdata=None))
    entries: list[fops.GfxDirplist] = []
    offset = 0
    try:
        while True:
            rsp = await s.call(
                fops.READDIRP,
                fops.GfxReaddirpReq(
                    gfid=gfid, fd=opened.fd, offset=offset, size=4096, xdata=None
                ),
            )
            assert rsp.op_ret == len(rsp.reply)
            if not rsp.reply:
                assert rsp.op_errno == errno.ENOENT  # end of directory (§6)
                return entries
            entries += rsp.reply
            offset = rsp.reply[-1].d_off
    finally:
        await s.ok(
            fops.RELEASEDIR,
            fops.GfxReleasedirReq(gfid=gfid, fd=opened.fd, xdata={}),
            creds=Credentials(pid=0, lk_owner=bytes(4)),
        )


async def create_file(s: Session, parent: bytes, name: str) -> tuple[bytes, int]:
    gfid = uuid.uuid4().bytes
    rsp = await s.ok(
        fops.CREATE,
        fops.GfxCreateReq(
            pargfid=parent,
            flags=GfOpenFlags.RDWR | GfOpenFlags.CREAT | GfOpenFlags.EXCL,
            mode=0o644,
            umask=0,
            bname=name,
            xdata=gfid_req(gfid),
        ),
    )
    assert rsp.stat.ia_gfid == gfid
    return gfid, rsp.fd


async def close_file(s: Session, gfid: bytes, fd: int) -> None:
    """gfapi's close: FLUSH as the caller, RELEASE as pid 0 with an empty dict."""
    await s.ok(fops.FLUSH, fops.GfxFlushReq(gfid=gfid, fd=fd, xdata=None))
    await s.ok(
        fops.RELEASE,
        fops.GfxReleaseReq(gfid=gfid, fd=fd, xdata={}),
        creds=Credentials(pid=0, lk_owner=bytes(4)),
    )


def iattx(**fields: Any) -> fops.GfxIattx:
    """A SETATTR stbuf: zeros except ``fields`` (``valid`` picks what applies)."""
    zeros = dict.fromkeys(fops.GfxIattx.__dataclass_fields__, 0)
    return fops.GfxIattx(**(zeros | {"ia_gfid": NULL_GFID} | fields))


def lookup(parent: bytes, name: str, xdata: fops.Xdata = None) -> fops.GfxLookupReq:
    return fops.GfxLookupReq(
        gfid=NULL_GFID, pargfid=parent, flags=0, bname=name, xdata=xdata
    )


# --- tests ---------------------------------------------------------------------------


async def test_root_statfs_and_lookup(host: str) -> None:
    with trio.fail_after(TIMEOUT):
        async with brick_session(host) as s:
            statfs = await s.ok(
                fops.STATFS, fops.GfxStatfsReq(gfid=ROOT_GFID, xdata=None)
            )
            assert statfs.statfs.bsize > 0
            assert statfs.statfs.blocks >= statfs.statfs.bfree > 0
            # gfapi's nameless root lookup, with its 4-key xdata (§13).
            rsp = await s.ok(
                fops.LOOKUP,
                fops.GfxLookupReq(
                    gfid=ROOT_GFID,
                    pargfid=NULL_GFID,
                    flags=0,
                    bname="",
                    xdata={
                        "trusted.glusterfs.mdata": DictValue.int(1),
                        "glusterfs.content": DictValue.uint(65536),
                        "security.ima": DictValue.int(0),
                        "security.capability": DictValue.int(0),
                    },
                ),
            )
            assert rsp.prestat.ia_gfid == ROOT_GFID
            assert rsp.prestat.ia_ino == 1
            assert stat.S_ISDIR(rsp.prestat.mode)
            assert rsp.prestat.ia_flags == 0x17FF
            mdata = rsp.xdata["trusted.glusterfs.mdata"]
            assert mdata.type == DataType.PTR
            assert len(mdata.value) == 57
            await s.fails(fops.LOOKUP, lookup(ROOT_GFID, "no-such-entry"), errno.ENOENT)
            await s.ok(fops.STAT, fops.GfxStatReq(gfid=ROOT_GFID, xdata=None))
            await s.ok(
                fops.ACCESS, fops.GfxAccessReq(gfid=ROOT_GFID, mask=7, xdata=None)
            )
            # IPC is declared for completeness. Ops 0 and 2 are taken by the
            # brick's changelog and upcall xlators (glusterfs.h
            # GF_IPC_TARGET_*); any other op gets EOPNOTSUPP.
            ipc = await s.call(fops.IPC, fops.GfxIpcReq(op=12345, xdata=None))
            assert (ipc.op_ret, ipc.op_errno) == (-1, errno.EOPNOTSUPP)


async def test_file_data_fops(host: str) -> None:
    with trio.fail_after(TIMEOUT):
        async with brick_session(host) as s, scratch_dir(s) as d:
            # Without gfid-req the brick refuses to create (§8.2).
            await s.fails(
                fops.MKDIR,
                fops.GfxMkdirReq(pargfid=d, mode=0o755, umask=0, bname="x", xdata=None),
                errno.EINVAL,
            )
            gfid, fd = await create_file(s, d, "f")
            await s.fails(
                fops.CREATE,
                fops.GfxCreateReq(
                    pargfid=d,
                    flags=GfOpenFlags.RDWR | GfOpenFlags.CREAT | GfOpenFlags.EXCL,
                    mode=0o644,
                    umask=0,
                    bname="f",
                    xdata=gfid_req(uuid.uuid4().bytes),
                ),
                errno.EEXIST,
            )
            found = await s.ok(fops.LOOKUP, lookup(d, "f"))
            assert found.prestat.ia_gfid == gfid
            assert found.poststat.ia_gfid == d  # (stat, postparent)

            data = b"0123456789"
            wrote = await s.ok(
                fops.WRITE,
                fops.GfxWriteReq(
                    gfid=gfid, fd=fd, offset=0, size=len(data), flag=0, xdata=None
                ),
                payload=data,
            )
            assert wrote.op_ret == len(data)
            assert (wrote.prestat.ia_size, wrote.poststat.ia_size) == (0, 10)
            # An unaligned write 1 MiB in leaves a hole (3 bytes: no padding).
            # Its xdata has a pair: the brick finds the data by xdr_size (§7).
            mib = 1 << 20
            wrote = await s.ok(
                fops.WRITE,
                fops.GfxWriteReq(
                    gfid=gfid,
                    fd=fd,
                    offset=mib,
                    size=3,
                    flag=0,
                    xdata={"pyg-test": DictValue.uint(1)},
                ),
                payload=b"abc",
            )
            assert wrote.poststat.ia_size == mib + 3

            rsp, got = await s.read(gfid, fd, 0, 64)
            assert (rsp.op_ret, got) == (64, data + bytes(54))
            assert rsp.stat.ia_size == mib + 3
            # The anonymous fd reads without an OPEN (§8.3).
            assert (await s.read(gfid, ANON_FD, mib, 100))[1] == b"abc"
            rsp, got = await s.read(gfid, fd, mib + 3, 100)
            assert (rsp.op_ret, rsp.size, got) == (0, 0, b"")

            fstat = await s.ok(
                fops.FSTAT, fops.GfxFstatReq(gfid=gfid, fd=fd, xdata=None)
            )
            st = await s.ok(fops.STAT, fops.GfxStatReq(gfid=gfid, xdata=None))
            assert fstat.stat.ia_size == st.stat.ia_size == mib + 3
            assert st.stat.mode == stat.S_IFREG | 0o644

            def seek(offset: int, what: fops.SeekWhat) -> fops.GfxSeekReq:
                return fops.GfxSeekReq(
                    gfid=gfid, fd=fd, offset=offset, what=what, xdata=None
                )

            hole = await s.ok(fops.SEEK, seek(0, fops.SeekWhat.HOLE))
            assert 10 <= hole.offset < mib
            data_at = await s.ok(fops.SEEK, seek(hole.offset, fops.SeekWhat.DATA))
            assert hole.offset < data_at.offset <= mib
            await s.fails(fops.SEEK, seek(mib + 3, fops.SeekWhat.DATA), errno.ENXIO)

            cut = await s.ok(
                fops.FTRUNCATE,
                fops.GfxFtruncateReq(gfid=gfid, fd=fd, offset=8192, xdata=None),
            )
            assert cut.poststat.ia_size == 8192
            cut = await s.ok(
                fops.TRUNCATE, fops.GfxTruncateReq(gfid=gfid, offset=4096, xdata=None)
            )
            assert cut.poststat.ia_size == 4096
            grown = await s.ok(
                fops.FALLOCATE,
                fops.GfxFallocateReq(
                    gfid=gfid, fd=fd, flags=0, offset=4096, size=4096, xdata=None
                ),
            )
            assert grown.poststat.ia_size == 8192
            await s.ok(
                fops.ZEROFILL,
                fops.GfxZerofillReq(gfid=gfid, fd=fd, offset=2, size=3, xdata=None),
            )
            assert (await s.read(gfid, fd, 0, 10))[1] == b"01\0\0\x0056789"
            punched = await s.ok(
                fops.DISCARD,
                fops.GfxDiscardReq(gfid=gfid, fd=fd, offset=0, size=4096, xdata=None),
            )
            assert punched.poststat.ia_size == 8192
            assert (await s.read(gfid, fd, 0, 10))[1] == bytes(10)
            for datasync in (0, 1):
                await s.ok(
                    fops.FSYNC,
                    fops.GfxFsyncReq(gfid=gfid, fd=fd, data=datasync, xdata=None),
                )

            # A second, read-only fd: writes through it are EBADF (§8.3).
            opened = await s.ok(
                fops.OPEN,
                fops.GfxOpenReq(gfid=gfid, flags=GfOpenFlags.RDONLY, xdata=None),
            )
            assert opened.fd != fd
            await s.fails(
                fops.WRITE,
                fops.GfxWriteReq(
                    gfid=gfid, fd=opened.fd, offset=0, size=1, flag=0, xdata=None
                ),
                errno.EBADF,
                payload=b"x",
            )
            await close_file(s, gfid, opened.fd)
            await close_file(s, gfid, fd)
            await s.fails(
                fops.FSTAT, fops.GfxFstatReq(gfid=gfid, fd=fd, xdata=None), errno.EBADF
            )

            removed = await s.ok(
                fops.UNLINK,
                fops.GfxUnlinkReq(pargfid=d, bname="f", xflags=0, xdata=None),
            )
            assert removed.poststat.ia_gfid == d
            await s.fails(fops.LOOKUP, lookup(d, "f"), errno.ENOENT)


async def test_attributes_and_times(host: str) -> None:
    with trio.fail_after(TIMEOUT):
        async with brick_session(host) as s, scratch_dir(s) as d:
            # The v3 credential's time becomes the new file's times (§8.6).
            then = 1_500_000_000_123_000_000
            gfid = uuid.uuid4().bytes
            made = await s.ok(
                fops.CREATE,
                fops.GfxCreateReq(
                    pargfid=d,
                    flags=GfOpenFlags.WRONLY | GfOpenFlags.CREAT,
                    mode=0o666,
                    umask=0o022,
                    bname="t",
                    xdata=gfid_req(gfid),
                ),
                ctime_ns=then,
            )
            assert made.stat.mode == stat.S_IFREG | 0o644  # the brick applied umask
            assert (made.stat.ia_mtime, made.stat.ia_mtime_nsec) == (
                1_500_000_000,
                123_000_000,
            )
            assert made.stat.ia_ctime == made.stat.ia_atime == 1_500_000_000
            fd = made.fd

            stbuf = iattx(ia_gfid=gfid, mode=0o600)
            changed = await s.ok(
                fops.SETATTR,
                fops.GfxSetattrReq(
                    gfid=gfid, stbuf=stbuf, valid=fops.SetattrValid.MODE, xdata=None
                ),
            )
            assert changed.poststat.mode == stat.S_IFREG | 0o600
            stbuf = iattx(ia_gfid=gfid, mode=0o640)
            changed = await s.ok(
                fops.FSETATTR,
                fops.GfxFsetattrReq(
                    gfid=gfid,
                    fd=fd,
                    stbuf=stbuf,
                    valid=fops.SetattrValid.MODE,
                    xdata=None,
                ),
            )
            assert changed.poststat.mode == stat.S_IFREG | 0o640
            await close_file(s, gfid, fd)

            # MKNOD a fifo, then RENAME it; the gfid follows the name.
            fifo = uuid.uuid4().bytes
            node = await s.ok(
                fops.MKNOD,
                fops.GfxMknodReq(
                    pargfid=d,
                    dev=0,
                    mode=stat.S_IFIFO | 0o600,
                    umask=0,
                    bname="p",
                    xdata=gfid_req(fifo),
                ),
            )
            assert node.stat.ia_gfid == fifo
            assert stat.S_ISFIFO(node.stat.mode)
            moved = await s.ok(
                fops.RENAME,
                fops.GfxRenameReq(
                    oldgfid=d, newgfid=d, oldbname="p", newbname="q", xdata=None
                ),
            )
            assert moved.stat.ia_gfid == fifo
            assert moved.postnewparent.ia_gfid == d
            await s.fails(fops.LOOKUP, lookup(d, "p"), errno.ENOENT)
            assert (await s.ok(fops.LOOKUP, lookup(d, "q"))).prestat.ia_gfid == fifo

            # READDIRP lists both, with their iatts.
            entries = {e.name: e for e in await list_dir(s, d)}
            assert set(entries) == {".", "..", "t", "q"}
            assert entries["t"].stat.ia_gfid == gfid
            assert entries["q"].d_type == 1  # DT_FIFO
            assert entries["t"].d_type == 8  # DT_REG

            # A sub-directory, removed with RMDIR (xflags before bname).
            sub = uuid.uuid4().bytes
            await s.ok(
                fops.MKDIR,
                fops.GfxMkdirReq(
                    pargfid=d, mode=0o777, umask=0o027, bname="sub", xdata=gfid_req(sub)
                ),
            )
            assert (
                await s.ok(fops.STAT, fops.GfxStatReq(gfid=sub, xdata=None))
            ).stat.mode == (stat.S_IFDIR | 0o750)
            gone = await s.ok(
                fops.RMDIR,
                fops.GfxRmdirReq(pargfid=d, xflags=0, bname="sub", xdata=None),
            )
            assert gone.poststat.ia_gfid == d


async def test_xattr_fops(host: str) -> None:
    with trio.fail_after(TIMEOUT):
        async with brick_session(host) as s, scratch_dir(s) as d:
            gfid, fd = await create_file(s, d, "x")

            def getxattr(name: str) -> fops.GfxGetxattrReq:
                return fops.GfxGetxattrReq(
                    gfid=gfid, namelen=1 if name else 0, name=name, xdata=None
                )

            set_rsp = await s.ok(
                fops.SETXATTR,
                fops.GfxSetxattrReq(
                    gfid=gfid,
                    flags=0,
                    dict={"user.pyg": DictValue.ptr(b"hello")},
                    xdata=None,
                ),
            )
            # The reply's xdata carries IATT-typed pre/post attributes (§8.7).
            post = set_rsp.xdata["virt-gf-poststat"]
            assert post.type == DataType.IATT
            assert post.value.ia_gfid == gfid
            got = await s.ok(fops.GETXATTR, getxattr("user.pyg"))
            assert got.op_ret == 5
            assert got.dict == {"user.pyg": DictValue.ptr(b"hello")}
            await s.fails(fops.GETXATTR, getxattr("user.missing"), errno.ENODATA)
            # STR values gain a NUL on the brick (§4.2).
            await s.ok(
                fops.SETXATTR,
                fops.GfxSetxattrReq(
                    gfid=gfid,
                    flags=0,
                    dict={"user.s": DictValue.str(b"bar")},
                    xdata=None,
                ),
            )
            assert (await s.ok(fops.GETXATTR, getxattr("user.s"))).dict[
                "user.s"
            ].value == (b"bar\0")
            listed = await s.ok(fops.GETXATTR, getxattr(""))
            assert listed.dict is not None
            assert {"user.pyg", "user.s"} <= set(listed.dict)

            # XATTR_CREATE on an existing name fails.
            await s.fails(
                fops.FSETXATTR,
                fops.GfxFsetxattrReq(
                    gfid=gfid,
                    fd=fd,
                    flags=1,
                    dict={"user.pyg": DictValue.ptr(b"x")},
                    xdata=None,
                ),
                errno.EEXIST,
            )
            await s.ok(
                fops.FSETXATTR,
                fops.GfxFsetxattrReq(
                    gfid=gfid,
                    fd=fd,
                    flags=0,
                    dict={"user.f": DictValue.ptr(b"\0\1\2")},
                    xdata=None,
                ),
            )
            fgot = await s.ok(
                fops.FGETXATTR,
                fops.GfxFgetxattrReq(
                    gfid=gfid, fd=fd, namelen=1, name="user.f", xdata=None
                ),
            )
            assert fgot.dict == {"user.f": DictValue.ptr(b"\0\1\2")}

            # Named LOOKUP xdata keys ask for xattrs back (§8.1).
            seen = await s.ok(
                fops.LOOKUP, lookup(d, "x", {"user.pyg": DictValue.int(0)})
            )
            assert seen.xdata["user.pyg"] == DictValue.ptr(b"hello")

            # XATTROP ADD_ARRAY64 adds big-endian int64s: 5 then +2 = 7.
            for add, total in ((5, 5), (2, 7)):
                op = await s.ok(
                    fops.XATTROP,
                    fops.GfxXattropReq(
                        gfid=gfid,
                        flags=fops.XattropFlags.ADD_ARRAY64,
                        dict={"user.cnt": DictValue.ptr(struct.pack(">q", add))},
                        xdata=None,
                    ),
                )
                assert op.dict["user.cnt"].value == struct.pack(">q", total)
            fop = await s.ok(
                fops.FXATTROP,
                fops.GfxFxattropReq(
                    gfid=gfid,
                    fd=fd,
                    flags=fops.XattropFlags.ADD_ARRAY,
                    dict={"user.arr": DictValue.ptr(struct.pack(">ii", 1, -1))},
                    xdata=None,
                ),
            )
            assert fop.dict["user.arr"].value == struct.pack(">ii", 1, -1)

            await s.ok(
                fops.REMOVEXATTR,
                fops.GfxRemovexattrReq(gfid=gfid, name="user.pyg", xdata=None),
            )
            await s.fails(fops.GETXATTR, getxattr("user.pyg"), errno.ENODATA)
            await close_file(s, gfid, fd)


async def test_lock_fops(host: str) -> None:
    with trio.fail_after(TIMEOUT):
        async with brick_session(host) as s, scratch_dir(s) as d:
            gfid, fd = await create_file(s, d, "l")
            # Locks belong to (connection, credential lk_owner) (§8.4).
            other = Credentials(lk_owner=os.urandom(8))

            def flock(
                kind: LkType, start: int = 0, length: int = 0
            ) -> fops.GfProtoFlock:
                return fops.GfProtoFlock(
                    type=kind,
                    whence=0,
                    start=start,
                    len=length,
                    pid=os.getpid(),
                    lk_owner=b"",
                )

            def inodelk(cmd: LkCmd, kind: LkType) -> fops.GfxInodelkReq:
                return fops.GfxInodelkReq(
                    gfid=gfid,
                    cmd=cmd,
                    type=kind,
                    flock=flock(kind),
                    volume=DOMAIN,
                    xdata=None,
                )

            await s.ok(fops.INODELK, inodelk(LkCmd.SETLK, LkType.WRLCK))
            await s.fails(
                fops.INODELK,
                inodelk(LkCmd.SETLK, LkType.WRLCK),
                errno.EAGAIN,
                creds=other,
            )
            await s.fails(
                fops.INODELK, inodelk(LkCmd.GETLK, LkType.WRLCK), errno.EOPNOTSUPP
            )
            await s.ok(fops.INODELK, inodelk(LkCmd.SETLK, LkType.UNLCK))
            await s.ok(fops.INODELK, inodelk(LkCmd.SETLK, LkType.WRLCK), creds=other)
            await s.ok(fops.INODELK, inodelk(LkCmd.SETLK, LkType.UNLCK), creds=other)

            def finodelk(kind: LkType) -> fops.GfxFinodelkReq:
                return fops.GfxFinodelkReq(
                    gfid=gfid,
                    fd=fd,
                    cmd=LkCmd.SETLK,
                    type=kind,
                    flock=flock(kind, 0, 4096),
                    volume=DOMAIN,
                    xdata=None,
                )

            await s.ok(fops.FINODELK, finodelk(LkType.RDLCK))
            await s.ok(fops.FINODELK, finodelk(LkType.RDLCK), creds=other)
            await s.fails(
                fops.FINODELK, finodelk(LkType.WRLCK), errno.EAGAIN, creds=other
            )
            await s.ok(fops.FINODELK, finodelk(LkType.UNLCK))
            await s.ok(fops.FINODELK, finodelk(LkType.UNLCK), creds=other)

            def entrylk(cmd: fops.EntrylkCmd) -> fops.GfxEntrylkReq:
                return fops.GfxEntrylkReq(
                    gfid=d,
                    cmd=cmd,
                    type=fops.EntrylkType.WRLCK,
                    namelen=1,
                    name="l",
                    volume=DOMAIN,
                    xdata=None,
                )

            await s.ok(fops.ENTRYLK, entrylk(fops.EntrylkCmd.LOCK_NB))
            await s.fails(
                fops.ENTRYLK,
                entrylk(fops.EntrylkCmd.LOCK_NB),
                errno.EAGAIN,
                creds=other,
            )
            await s.ok(fops.ENTRYLK, entrylk(fops.EntrylkCmd.UNLOCK))

            def lk(cmd: LkCmd, kind: LkType) -> fops.GfxLkReq:
                return fops.GfxLkReq(
                    gfid=gfid,
                    fd=fd,
                    cmd=cmd,
                    type=kind,
                    flock=flock(kind, 0, 100),
                    xdata=None,
                )

            held = await s.ok(fops.LK, lk(LkCmd.SETLK, LkType.WRLCK))
            assert held.flock.type == LkType.WRLCK
            probe = await s.ok(fops.LK, lk(LkCmd.GETLK, LkType.WRLCK), creds=other)
            # GETLK reports the holder, owned by our credential's lk_owner.
            assert probe.flock.type == LkType.WRLCK
            assert probe.flock.lk_owner == s.creds.lk_owner
            await s.fails(
                fops.LK, lk(LkCmd.SETLK, LkType.WRLCK), errno.EAGAIN, creds=other
            )
            await s.ok(fops.LK, lk(LkCmd.SETLK, LkType.UNLCK))
            free = await s.ok(fops.LK, lk(LkCmd.GETLK, LkType.WRLCK), creds=other)
            assert free.flock.type == LkType.UNLCK
            await close_file(s, gfid, fd)


async def test_every_declared_fop_is_exercised(host: str) -> None:
    """The tests above between them call every procedure in fops.PROCEDURES."""
    with trio.fail_after(4 * TIMEOUT):
        called: set[str] = set()
        _RECORDERS.append(called)
        try:
            for test in (
                test_root_statfs_and_lookup,
                test_file_data_fops,
                test_attributes_and_times,
                test_xattr_fops,
                test_lock_fops,
            ):
                await test(host)
        finally:
            _RECORDERS.remove(called)
        assert called == {p.name for p in fops.PROCEDURES.values()}
