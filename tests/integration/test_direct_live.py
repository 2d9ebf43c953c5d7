"""O_DIRECT opens (``direct=True``, ``pygluster io -n``) as libgfapi makes them.

pyg_shard has ``group virt``: write-behind's ``strict-O_DIRECT on`` and the
client's ``filter-O_DIRECT disable`` (``network.remote-dio disable``). So an
O_DIRECT image must reach the bricks with O_DIRECT (OPEN flags, and the READ/
WRITE ``flag`` of the shards' anonymous fds, as fio --direct=1 sends them),
and a write must return only once every brick has answered it: nothing is
acknowledged from write-behind's cache.
"""

from __future__ import annotations

import uuid
from typing import Any

import pygluster
from pygluster.events import CallSent, ReplyReceived
from pygluster.rpc import fops
from pygluster.rpc.fops import GfOpenFlags

MiB = 1024 * 1024
BS = 4 * MiB


class _Events:
    def __init__(self) -> None:
        self.events: list[object] = []

    def handle(self, event: object) -> None:
        self.events.append(event)

    def named(self, kind: type, name: str) -> list[Any]:
        return [
            e
            for e in self.events
            if isinstance(e, kind) and e.procedure.name == name  # type: ignore[attr-defined]
        ]


async def test_direct_reaches_the_bricks_and_writes_skip_write_behind(
    host: str,
) -> None:
    uri = f"gluster://{host}/pyg_shard/direct-{uuid.uuid4().hex[:8]}.img"
    await pygluster.create_async(uri, 2 * BS)
    events = _Events()
    try:
        async with pygluster.open_async(uri, "r+", direct=True, trace=events) as dev:
            for offset in (0, BS):  # the base file, then shard 1
                before = len(events.named(ReplyReceived, "WRITE"))
                await dev.pwrite(b"\x5a" * 4096, offset)
                # Returned: all three bricks had answered its WRITE.
                assert len(events.named(ReplyReceived, "WRITE")) == before + 3
            assert await dev.pread(4096, BS) == b"\x5a" * 4096
        opens = events.named(CallSent, "OPEN")
        assert opens
        assert all(e.args.flags & GfOpenFlags.DIRECT for e in opens), opens
        anonymous = [
            e
            for e in events.named(CallSent, "WRITE") + events.named(CallSent, "READ")
            if e.args.fd == fops.ANON_FD
        ]
        assert anonymous
        assert all(e.args.flag == GfOpenFlags.DIRECT for e in anonymous), [
            (e.procedure.name, e.args.flag) for e in anonymous
        ]
        # Without O_DIRECT, write-behind acknowledges first (it may still
        # have the reply by then, so only the direct case is asserted).
    finally:
        await pygluster.remove_async(uri)
