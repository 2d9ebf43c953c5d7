"""The sparse copy engine of ``cp``: sources, destinations, the stream between.

A source produces :class:`Piece` runs (data, or a hole) in order; a
destination writes data and, where it does not already read as zeros, holes.
All-zero blocks are skipped where the destination reads as zeros anyway, so
holes stay holes (qemu-img convert's -S 4k).
"""

from __future__ import annotations

import errno
import functools
import os
import stat
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import trio

from pygluster import blockdev
from pygluster._concurrency import run_all
from pygluster.cli.options import CHUNK_SIZE
from pygluster.errors import CommandError, FopError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    from pygluster.cli.progress import Progress
    from pygluster.uri import GlusterURI

__all__ = [
    "GlusterDestination",
    "GlusterSource",
    "LocalDestination",
    "LocalSource",
    "Piece",
    "copy",
    "is_uri",
    "open_local",
    "same_image",
]


#: ``cp`` skips all-zero runs of this granularity (qemu-img convert's default
#: minimum sparse size, -S 4k).
ZERO_BLOCK = 4096
#: Chunks queued between the reading and the writing side of ``cp``.
_QUEUED_CHUNKS = 2

_ZEROS = bytes(CHUNK_SIZE)
_ZERO_BLOCK_BYTES = bytes(ZERO_BLOCK)


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of the source: ``data`` bytes, or a hole (``data`` None)."""

    offset: int
    length: int
    data: bytes | None


def _local_error(operation: str, name: str, exc: OSError) -> CommandError:
    return CommandError(
        f"{operation} {name} failed: [Errno {exc.errno}] {exc.strerror}"
    )


def _nonzero_runs(data: bytes) -> Iterator[tuple[int, int]]:
    """(start, stop) of the runs of ``data`` that are not all-zero ZERO_BLOCKs."""
    size = len(data)
    if size == CHUNK_SIZE and data == _ZEROS:
        return
    start: int | None = None
    for pos in range(0, size, ZERO_BLOCK):
        block = data[pos : pos + ZERO_BLOCK]
        zero = block == (
            _ZERO_BLOCK_BYTES if len(block) == ZERO_BLOCK else bytes(len(block))
        )
        if zero and start is not None:
            yield start, pos
            start = None
        elif not zero and start is None:
            start = pos
    if start is not None:
        yield start, size


def _read_full(fd: int, count: int) -> bytes:
    """Up to ``count`` bytes from a stream; fewer only at end of input."""
    parts: list[bytes] = []
    left = count
    while left:
        part = os.read(fd, left)
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _local_ranges(fd: int, size: int) -> Iterator[tuple[int, int, bool]]:
    """(offset, length, is_data) runs of a local file, via SEEK_DATA/SEEK_HOLE.

    Where the file system cannot say (no SEEK_DATA, EINVAL), the rest is
    treated as data.
    """
    pos = 0
    seek_data = getattr(os, "SEEK_DATA", None)
    seek_hole = getattr(os, "SEEK_HOLE", None)
    while pos < size:
        if seek_data is None or seek_hole is None:
            yield pos, size - pos, True
            return
        try:
            data_at = min(os.lseek(fd, pos, seek_data), size)
        except OSError as exc:
            if exc.errno != errno.ENXIO:  # ENXIO: no data after pos
                yield pos, size - pos, True
                return
            data_at = size
        if data_at > pos:
            yield pos, data_at - pos, False
        if data_at >= size:
            return
        try:
            hole_at = min(os.lseek(fd, data_at, seek_hole), size)
        except OSError:
            hole_at = size
        yield data_at, hole_at - data_at, True
        pos = hole_at


async def _send_data(
    send: trio.MemorySendChannel[Piece],
    start: int,
    end: int,
    read: Callable[[int, int], Awaitable[bytes]],
    name: str,
    kind: str,
) -> None:
    """Send the data run [start, end) of ``name`` in CHUNK_SIZE pieces.

    ``read(count, offset)`` reads the source. A short read inside a run the
    source said it had means it shrank while copying: fail rather than end
    with a silently shorter copy (``kind``, "image" or "file", says what).
    """
    for pos in range(start, end, CHUNK_SIZE):
        count = min(CHUNK_SIZE, end - pos)
        data = await read(count, pos)
        if len(data) < count:
            raise CommandError(
                f"read {count} bytes at offset {pos} of {name}: got only "
                f"{len(data)} (the {kind} shrank while copying)"
            )
        await send.send(Piece(pos, count, data))


class GlusterSource:
    def __init__(self, device: blockdev.AsyncBlockDevice, size: int) -> None:
        self.device = device
        self.size: int | None = size
        self.name = str(device.uri)

    async def produce(self, send: trio.MemorySendChannel[Piece]) -> None:
        async with send:
            for extent in await self.device.extents():
                if not extent.data:
                    await send.send(Piece(extent.offset, extent.length, None))
                    continue
                end = extent.offset + extent.length
                await _send_data(
                    send, extent.offset, end, self.device.pread, self.name, "image"
                )


class LocalSource:
    """A local file or block device (``size`` known), or a stream (None)."""

    def __init__(self, fd: int, name: str) -> None:
        self.fd = fd
        self.name = name
        mode = os.fstat(fd).st_mode
        self.size: int | None = None
        if stat.S_ISREG(mode):
            self.size = os.fstat(fd).st_size
        elif stat.S_ISBLK(mode):
            self.size = os.lseek(fd, 0, os.SEEK_END)

    async def produce(self, send: trio.MemorySendChannel[Piece]) -> None:
        async with send:
            try:
                if self.size is None:
                    await self._stream(send)
                else:
                    await self._sized(send, self.size)
            except OSError as exc:
                raise _local_error("read", self.name, exc) from None

    async def _stream(self, send: trio.MemorySendChannel[Piece]) -> None:
        pos = 0
        while True:
            data = await trio.to_thread.run_sync(_read_full, self.fd, CHUNK_SIZE)
            if not data:
                return
            await send.send(Piece(pos, len(data), data))
            pos += len(data)

    async def _sized(self, send: trio.MemorySendChannel[Piece], size: int) -> None:
        for offset, length, is_data in _local_ranges(self.fd, size):
            if not is_data:
                await send.send(Piece(offset, length, None))
                continue
            end = offset + length
            await _send_data(send, offset, end, self._pread, self.name, "file")

    async def _pread(self, count: int, offset: int) -> bytes:
        return await trio.to_thread.run_sync(os.pread, self.fd, count, offset)


class GlusterDestination:
    """A freshly created image: it reads as zeros, so holes need no writing."""

    zeroed = True

    def __init__(self, device: blockdev.AsyncBlockDevice, sparse: bool) -> None:
        self.device = device
        self.sparse = sparse

    async def write(self, offset: int, data: memoryview) -> None:
        await self.device.pwrite(data, offset)

    async def hole(self, offset: int, length: int) -> None:
        if not self.sparse:
            await self.device.write_zeroes(offset, length)

    async def finish(self, total: int, size_known: bool) -> None:
        if not size_known:
            await self.device.truncate(total)  # trailing zeros were skipped
        await self.device.flush()


class LocalDestination:
    """A local file: sparse (pwrite, holes skipped) when it is a regular file,
    else written in order with holes as zeros (stdout, a pipe, a device)."""

    def __init__(self, fd: int, name: str, sparse: bool, *, stream: bool) -> None:
        self.fd = fd
        self.name = name
        # Standard output is always written in order: it may be a pipe, or a
        # file opened for appending, where pwrite would not go where asked.
        self.regular = not stream and stat.S_ISREG(os.fstat(fd).st_mode)
        self.sparse = sparse and self.regular
        self.zeroed = self.regular  # just truncated: reads as zeros
        self._pos = 0

    def _write_all(self, data: memoryview, offset: int) -> None:
        while data:
            if self.regular:
                done = os.pwrite(self.fd, data, offset)
            else:
                done = os.write(self.fd, data)
            data = data[done:]
            offset += done

    async def _call(self, data: memoryview, offset: int) -> None:
        try:
            await trio.to_thread.run_sync(self._write_all, data, offset)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _local_error("write", self.name, exc) from None

    async def start(self, size: int | None) -> None:
        if self.regular and size is not None:
            try:
                os.ftruncate(self.fd, size)
            except OSError as exc:
                raise _local_error("truncate", self.name, exc) from None

    async def write(self, offset: int, data: memoryview) -> None:
        if not self.regular and offset != self._pos:
            await self.hole(self._pos, offset - self._pos)
        await self._call(data, offset)
        self._pos = offset + len(data)

    async def hole(self, offset: int, length: int) -> None:
        if self.sparse:
            return
        end = offset + length
        zeros = memoryview(_ZEROS)
        for pos in range(offset, end, CHUNK_SIZE):
            await self._call(zeros[: min(CHUNK_SIZE, end - pos)], pos)
        self._pos = end

    async def finish(self, total: int, size_known: bool) -> None:
        if self.regular and not size_known:
            try:
                os.ftruncate(self.fd, total)
            except OSError as exc:
                raise _local_error("truncate", self.name, exc) from None


def is_uri(text: str) -> bool:
    return text.startswith(("gluster", "json:"))


def open_local(name: str, *, write: bool) -> tuple[int, bool]:
    """(fd, whether to close it) for a path or "-"."""
    if name == "-":
        return (1 if write else 0), False
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC if write else os.O_RDONLY
    try:
        return os.open(name, flags | getattr(os, "O_CLOEXEC", 0), 0o666), True
    except OSError as exc:
        raise _local_error("open", name, exc) from None


async def same_image(
    source: blockdev.AsyncBlockDevice, uri: GlusterURI, limits: dict[str, Any]
) -> bool:
    """True if ``uri`` is the image ``source`` has open (same volume and gfid)."""
    if source.uri.volume != uri.volume:
        return False
    try:
        async with blockdev.open_async(uri, "r", **limits) as other:
            return other.gfid == source.gfid
    except FopError as exc:
        if exc.errno == errno.ENOENT:
            return False
        raise


async def copy(
    source: GlusterSource | LocalSource,
    destination: GlusterDestination | LocalDestination,
    progress: Progress,
) -> int:
    """Stream the source's pieces into the destination; return the bytes seen."""
    send, receive = trio.open_memory_channel[Piece](_QUEUED_CHUNKS)
    skip_zeroes = destination.sparse and destination.zeroed
    total = 0

    async def consume() -> None:
        nonlocal total
        async with receive:
            async for piece in receive:
                if piece.data is None:
                    await destination.hole(piece.offset, piece.length)
                elif skip_zeroes:
                    view = memoryview(piece.data)
                    for start, stop in _nonzero_runs(piece.data):
                        await destination.write(piece.offset + start, view[start:stop])
                else:
                    await destination.write(piece.offset, memoryview(piece.data))
                total = piece.offset + piece.length
                progress.update(piece.length)

    produce: Callable[[], Awaitable[None]] = functools.partial(source.produce, send)
    await run_all([produce, consume])
    return total
