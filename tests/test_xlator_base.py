"""The translator base: gluster's default fop table, the call frame, the registry.

Also what the brick connection does with the frame's lock owner: it must
reach the wire exactly as the ``owner=`` arguments it replaced did.
"""

from __future__ import annotations

import errno
from types import SimpleNamespace
from typing import Any

import pytest
import trio

from pygluster.errors import FopError, RpcTimeout
from pygluster.rpc import fops
from pygluster.rpc.fops import (
    DictValue,
    EntrylkCmd,
    EntrylkType,
    GfOpenFlags,
    LkCmd,
    LkType,
)
from pygluster.rpc.sunrpc import Credentials
from pygluster.volfile import Brick
from pygluster.xlators.afr import ReplicateXlator
from pygluster.xlators.base import (
    INODELK_COUNT,
    INODELK_DOM_COUNT,
    XLATOR_TYPES,
    Flock,
    InodelkContention,
    Loc,
    Xlator,
    current_frame,
    frame,
)
from pygluster.xlators.client import ClientXlator
from pygluster.xlators.dht import DistributeXlator
from pygluster.xlators.shard import ShardXlator
from pygluster.xlators.write_behind import WriteBehindXlator
from tests.memory_brick import MemoryBrick

GFID = bytes(range(16))
LOC = Loc("/f", fops.ROOT_GFID, "f", GFID)
ENTRY = Loc("/x", fops.ROOT_GFID, "x")


class Middle(Xlator):
    """A translator that implements nothing: every fop is the default."""


async def test_one_child_gets_every_fop_with_its_xdata() -> None:
    brick = MemoryBrick("b")
    brick.add(fops.ROOT_GFID, "f", GFID, data=b"hello")
    top = Middle("m", [brick])
    xdata = {"k": DictValue.uint(1)}
    iatt, _ = await top.lookup(LOC, xdata)
    assert iatt.ia_size == 5
    fd = await top.open(LOC, 2, xdata=xdata)
    await top.writev(fd, 5, b" world", xdata=xdata)
    data, _ = await top.readv(fd, 0, 100, xdata=xdata)
    assert bytes(data) == b"hello world"
    await top.setxattr(LOC, {"user.a": DictValue.ptr(b"1")})
    got = await top.getxattr(LOC, "user.a")
    assert got is not None
    assert got["user.a"].value == b"1"
    await top.release(fd)
    assert brick.calls == [
        "LOOKUP",
        "OPEN",
        "WRITE",
        "READ",
        "SETXATTR",
        "GETXATTR",
        "RELEASE",
    ]


@pytest.mark.parametrize("children", [0, 2])
async def test_without_exactly_one_child_a_default_fop_is_eopnotsupp(
    children: int,
) -> None:
    top = Middle("v-thing", [MemoryBrick(f"b{i}") for i in range(children)])
    with pytest.raises(FopError) as info:
        await top.statfs(LOC)
    assert info.value.errno == errno.EOPNOTSUPP
    assert info.value.brick is None
    assert info.value.xlator == "v-thing"
    assert str(info.value).startswith("STATFS on /f in v-thing failed: [Errno 95]")


def test_a_brick_error_message_keeps_its_shape() -> None:
    error = FopError("WRITE", "/a.img", "h:/b", errno.ENOSPC)
    assert str(error) == (
        "WRITE on /a.img at brick h:/b failed: [Errno 28] No space left on device"
    )
    assert error.xlator is None


async def test_the_frame_carries_the_lock_owner_into_child_tasks() -> None:
    assert current_frame().lk_owner is None
    seen: list[bytes | None] = []

    async def child() -> None:
        seen.append(current_frame().lk_owner)

    with frame(lk_owner=b"outer"):
        with frame(lk_owner=b"inner"):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(child)
        seen.append(current_frame().lk_owner)
    seen.append(current_frame().lk_owner)
    assert seen == [b"inner", b"outer", None]


def test_the_registry_names_every_type_pygluster_runs() -> None:
    assert XLATOR_TYPES["protocol/client"] is ClientXlator
    assert XLATOR_TYPES["cluster/distribute"] is DistributeXlator
    assert XLATOR_TYPES["cluster/replicate"] is ReplicateXlator
    assert XLATOR_TYPES["features/shard"] is ShardXlator
    assert XLATOR_TYPES["performance/write-behind"] is WriteBehindXlator
    assert ReplicateXlator.volfile_type == "cluster/replicate"


class _Recorder:
    """Stands in for the RpcClient: records what each call carried."""

    is_closed = False
    closed_at = None
    call_timeout = 10.0

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, Any]] = []

    async def call_reply(self, procedure: Any, args: Any, **kwargs: Any) -> Any:
        self.calls.append((procedure.name, args, kwargs["cred"]))
        return SimpleNamespace(
            result=SimpleNamespace(op_ret=0, op_errno=0, dict={}), payload=b""
        )


def _client(creds: Credentials) -> tuple[ClientXlator, _Recorder]:
    client = ClientXlator(
        "v-client-0",
        Brick("v-client-0", "h", "/b"),
        {},
        volume="v",
        credentials=creds,
        nursery=None,  # type: ignore[arg-type]  # never started
        connect_timeout=None,
    )
    recorder = _Recorder()
    client._rpc = recorder  # type: ignore[assignment]
    return client, recorder


async def test_client_puts_the_frame_owner_in_credential_and_flock() -> None:
    creds = Credentials(pid=7, uid=0, gid=0, groups=(), lk_owner=b"conn")
    client, recorder = _client(creds)
    with frame(lk_owner=b"txn-owner"):
        await client.inodelk(LOC, "dom", LkCmd.SETLK, Flock(LkType.WRLCK))
        await client.xattrop(LOC, 0, {"k": DictValue.ptr(bytes(12))})
    await client.inodelk(LOC, "dom", LkCmd.SETLK, Flock(LkType.UNLCK))
    owned = Credentials(pid=7, uid=0, gid=0, groups=(), lk_owner=b"txn-owner")
    (_, lock, lock_cred), (_, _, xattrop_cred), (_, plain, plain_cred) = recorder.calls
    assert lock_cred == xattrop_cred == owned.auth_v3()
    assert lock.flock.lk_owner == b"txn-owner"
    # Outside any frame: the connection's own owner, as before.
    assert plain_cred == creds.auth_v3()
    assert plain.flock.lk_owner == b"conn"


class _OpensAndReads(_Recorder):
    """A brick that opens as fd 3 and reads nothing (an empty file)."""

    async def call_reply(self, procedure: Any, args: Any, **kwargs: Any) -> Any:
        self.calls.append((procedure.name, args, kwargs["cred"]))
        result = SimpleNamespace(op_ret=0, op_errno=0, fd=3, size=0, stat=None)
        return SimpleNamespace(result=result, payload=b"")


@pytest.mark.parametrize("filtered", [False, True])
async def test_o_direct_reaches_the_brick_unless_the_client_filters_it(
    filtered: bool,
) -> None:
    creds = Credentials(pid=7, uid=0, gid=0, groups=(), lk_owner=b"conn")
    client, _ = _client(creds)
    recorder = _OpensAndReads()
    client._rpc = recorder  # type: ignore[assignment]
    # network.remote-dio enable puts filter-O_DIRECT on in the client volfile.
    client.filter_o_direct = filtered
    direct = int(GfOpenFlags.RDWR | GfOpenFlags.DIRECT)
    loc = Loc("/f", fops.ROOT_GFID, "f", bytes(range(16)))
    await client.open(loc, direct)
    anonymous = await client.open_anonymous(loc, direct)
    await client.readv(anonymous, 0, 4096)
    await client.release(anonymous)  # opened nothing: no RELEASE
    (_, opened, _), (_, read, _) = recorder.calls
    assert opened.flags == (GfOpenFlags.RDWR if filtered else direct)
    # An anonymous fd has no OPEN: its READ carries O_DIRECT (as libgfapi).
    assert read.fd == fops.ANON_FD
    assert read.flag == (0 if filtered else GfOpenFlags.DIRECT)


class _CountsLocks(_Recorder):
    """A brick whose WRITE replies say how many inode locks the domain has."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count

    async def call_reply(self, procedure: Any, args: Any, **kwargs: Any) -> Any:
        self.calls.append((procedure.name, args, kwargs["cred"]))
        answer = {INODELK_COUNT: DictValue.int(self.count)}
        result = SimpleNamespace(
            op_ret=args.size, op_errno=0, xdata=answer, poststat=None
        )
        return SimpleNamespace(result=result, payload=b"")


class _Listener(Xlator):
    def __init__(self, child: Xlator) -> None:
        super().__init__("listener", [child])
        self.events: list[object] = []

    def upcall(self, event: object) -> None:
        self.events.append(event)


@pytest.mark.parametrize(("count", "contended"), [(1, False), (2, True)])
async def test_a_write_reply_counting_other_locks_is_reported_as_contention(
    count: int, contended: bool
) -> None:
    creds = Credentials(pid=7, uid=0, gid=0, groups=(), lk_owner=b"conn")
    client, _ = _client(creds)
    brick = _CountsLocks(count)
    client._rpc = brick  # type: ignore[assignment]
    parent = _Listener(client)
    gfid = bytes(range(16))
    fd = await client.open_anonymous(Loc("/f", fops.ROOT_GFID, "f", gfid), 2)
    ask = {INODELK_DOM_COUNT: DictValue.str(b"v-replicate-0")}
    await client.writev(fd, 0, b"data", ask)
    ((_, request, _),) = brick.calls
    assert request.xdata == ask
    expected = [InodelkContention(gfid, "v-replicate-0", "h:/b")]
    assert parent.events == (expected if contended else [])


class _SlowLocks(_Recorder):
    """A brick whose blocking lock requests never get an answer in time, and
    whose first unlock of one finds it still queued (EINVAL)."""

    def __init__(self) -> None:
        super().__init__()
        self.timeouts: list[tuple[str, Any]] = []
        self.queued = 1

    async def call_reply(self, procedure: Any, args: Any, **kwargs: Any) -> Any:
        self.timeouts.append((procedure.name, kwargs.get("timeout")))
        blocking = args.cmd == (
            EntrylkCmd.LOCK if procedure.name == "ENTRYLK" else LkCmd.SETLKW
        )
        if blocking:
            self.calls.append((procedure.name, args, kwargs["cred"]))
            raise RpcTimeout("no reply")
        if procedure.name == "INODELK" and args.type == LkType.UNLCK and self.queued:
            self.queued -= 1
            return SimpleNamespace(
                result=SimpleNamespace(op_ret=-1, op_errno=errno.EINVAL), payload=b""
            )
        return await super().call_reply(procedure, args, **kwargs)


async def test_blocking_locks_wait_past_the_request_timeout_and_are_withdrawn(
    autojump_clock,
) -> None:
    """A blocking lock waits for the holder, so only frame-timeout bounds it;
    one that times out is unlocked again by its owner, retried while the
    brick still has it queued, so that the brick, which grants a queued
    request after we stopped waiting, does not keep a lock nobody would
    release (checked against a real brick too)."""
    creds = Credentials(pid=7, uid=0, gid=0, groups=(), lk_owner=b"conn")
    client, _ = _client(creds)
    slow = _SlowLocks()
    client._rpc = slow  # type: ignore[assignment]
    async with trio.open_nursery() as nursery:
        client._nursery = nursery
        with frame(lk_owner=b"txn"):
            await client.inodelk(
                LOC, "dom", LkCmd.SETLK, Flock(LkType.WRLCK)
            )  # try-lock
            with pytest.raises(FopError) as caught:
                await client.inodelk(LOC, "dom", LkCmd.SETLKW, Flock(LkType.WRLCK, 5))
            assert caught.value.errno == errno.ETIMEDOUT
            with pytest.raises(FopError):
                await client.entrylk(ENTRY, "dom", EntrylkCmd.LOCK, EntrylkType.WRLCK)
    assert sorted(slow.timeouts, key=str) == sorted(
        [
            ("INODELK", None),  # non-blocking: the per-request limit
            ("INODELK", client.frame_timeout),  # blocking: frame-timeout only
            ("INODELK", None),  # the withdrawal, still queued: EINVAL
            ("INODELK", None),  # the withdrawal again, once granted
            ("ENTRYLK", client.frame_timeout),
            ("ENTRYLK", None),
        ],
        key=str,
    )
    unlocks = [(name, args, cred) for name, args, cred in slow.calls[2:]]
    inode_unlock = next(args for name, args, _ in unlocks if name == "INODELK")
    entry_unlock = next(
        args
        for name, args, _ in unlocks
        if name == "ENTRYLK" and args.cmd == EntrylkCmd.UNLOCK
    )
    assert (inode_unlock.cmd, inode_unlock.type) == (LkCmd.SETLK, LkType.UNLCK)
    assert (inode_unlock.flock.start, inode_unlock.flock.lk_owner) == (5, b"txn")
    owner = Credentials(pid=7, uid=0, gid=0, groups=(), lk_owner=b"txn")
    assert all(cred == owner.auth_v3() for _, _, cred in unlocks)
    assert entry_unlock.cmd == EntrylkCmd.UNLOCK
