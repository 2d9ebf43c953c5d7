"""Shards reached through anonymous fds: another client's truncate is seen.

pygluster looks a shard up once and then reads and writes it by gfid
(fd number GF_ANON_FD_NO, as gluster's shard translator does), holding
nothing open. When another client truncates the image and writes again,
the old shard is unlinked and a new one (a new gfid) made: the first client
must read the new bytes, where an open fd would keep serving the unlinked
file's old ones.
"""

from __future__ import annotations

import uuid

import trio

import pygluster
from tests.integration.conftest import qemu

MiB = 1024 * 1024
BS = 4 * MiB  # pyg_shard's block size


async def test_a_shard_another_client_remade_reads_new_bytes(host: str) -> None:
    uri = f"gluster://{host}/pyg_shard/anon-{uuid.uuid4().hex[:8]}.img"
    await pygluster.create_async(uri, 3 * BS)
    try:
        async with pygluster.open_async(uri, "r+") as first:
            await first.pwrite(b"\xa1" * MiB, BS)
            await first.flush()
            assert await first.pread(MiB, BS) == b"\xa1" * MiB
            async with pygluster.open_async(uri, "r+") as second:
                await second.truncate(MiB)  # unlinks shards 1 and 2
                await second.truncate(3 * BS)
                await second.pwrite(b"\xb2" * MiB, BS)  # a new shard 1
                await second.flush()
            assert await first.pread(MiB, BS) == b"\xb2" * MiB
            # And the other way round: the first client writes the new shard.
            await first.pwrite(b"\xc3" * 4096, BS)
            await first.flush()
        command = (
            "qemu-io", "-f", "raw",
            "-c", f"read -P 0xc3 {BS} 4k",
            "-c", f"read -P 0xb2 {BS + 4096} {MiB - 4096}",
            uri,
        )  # fmt: skip
        checked = await trio.to_thread.run_sync(lambda: qemu(*command))
        assert checked.returncode == 0, checked.stderr
        assert "Pattern verification failed" not in checked.stdout, checked.stdout
    finally:
        await pygluster.remove_async(uri)
