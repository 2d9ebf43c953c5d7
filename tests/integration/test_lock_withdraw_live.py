"""A blocking lock request that times out is taken back on a real brick.

The brick keeps a blocked INODELK queued after the client stops waiting and
grants it once the holder lets go; unless the client withdraws it, nobody ever
releases that lock and every later transaction on the inode blocks behind it.
"""

from __future__ import annotations

import errno

import pytest
import trio

from pygluster import blockdev
from pygluster.errors import FopError
from pygluster.rpc.fops import LkCmd, LkType
from pygluster.uri import GlusterURI
from pygluster.xlators.base import Flock, frame

VOLUME = "pyg_single"


async def test_timed_out_blocking_lock_does_not_linger(host: str) -> None:
    uri = GlusterURI.parse(f"gluster://{host}/{VOLUME}/lock-withdraw.img")
    with trio.fail_after(120):
        await blockdev.create_async(uri, 4096, exist_ok=True)
        async with blockdev._open_stack(uri, None, 10, 120) as stack:
            client = stack.clients[0]
            loc, _ = await blockdev.resolve(stack.top, uri.image_path)
            with frame(lk_owner=b"holder01"):
                await client.inodelk(loc, "withdraw", LkCmd.SETLK, Flock(LkType.WRLCK))
            client.frame_timeout = 1.0  # the blocked request gives up soon
            with frame(lk_owner=b"waiter01"), pytest.raises(FopError) as caught:
                await client.inodelk(loc, "withdraw", LkCmd.SETLKW, Flock(LkType.WRLCK))
            assert caught.value.errno == errno.ETIMEDOUT
            with frame(lk_owner=b"holder01"):
                await client.inodelk(loc, "withdraw", LkCmd.SETLK, Flock(LkType.UNLCK))
            # The brick now grants the queued request; the withdrawal, retried
            # while it was queued, releases it within a few seconds.
            with frame(lk_owner=b"third001"):
                for _ in range(40):
                    try:
                        await client.inodelk(
                            loc, "withdraw", LkCmd.SETLK, Flock(LkType.WRLCK)
                        )
                    except FopError:
                        await trio.sleep(0.25)
                    else:
                        break
                else:
                    raise AssertionError("the timed-out request kept the lock")
                await client.inodelk(loc, "withdraw", LkCmd.SETLK, Flock(LkType.UNLCK))
        await blockdev.remove_async(uri)
