"""The blocking API: the same block device, for code that does not use trio.

:func:`open` starts a :class:`~pygluster._portal.Portal` (trio in a helper
thread), enters :func:`~pygluster.blockdev.open_async` inside it and returns a
:class:`BlockDevice` whose methods forward to the async device through
``trio.from_thread``. No logic is duplicated: every method is the async one.
``timeout`` bounds each request to a brick, as in the async API; a
``call_timeout`` (seconds) bounds each whole method call too, since sync
callers have no cancel scopes; it raises :class:`~pygluster.errors.RpcTimeout`.
"""

from __future__ import annotations

import functools
import io
from typing import (
    TYPE_CHECKING,
    Any,
    Generic,
    Self,
    TypeVar,
    TypeVarTuple,
    Unpack,
    overload,
)

from pygluster._portal import Portal
from pygluster.blockdev import (
    AsyncBlockDevice,
    Extent,
    Mode,
    Preallocation,
    StatVFS,
    create_async,
    open_async,
    remove_async,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence
    from types import TracebackType

    from pygluster._types import BytesLike
    from pygluster.blockdev import ConnectOptions, CreateOptions, OpenOptions
    from pygluster.rpc.fops import GfxIattx
    from pygluster.uri import GlusterURI

__all__ = ["BlockDevice", "create", "open", "remove"]

T = TypeVar("T")
Args = TypeVarTuple("Args")


class _FromDevice(Generic[T]):
    """A read-only attribute of the async device, under the same name."""

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc
        self._name = ""

    def __set_name__(self, owner: type[object], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, obj: None, objtype: type[object] | None = None) -> Self: ...
    @overload
    def __get__(self, obj: BlockDevice, objtype: type[object] | None = None) -> T: ...
    def __get__(
        self, obj: BlockDevice | None, objtype: type[object] | None = None
    ) -> T | Self:
        if obj is None:
            return self
        value: T = getattr(obj._device, self._name)
        return value


class BlockDevice:
    """An open image, blocking API. Made by :func:`open`; close it when done.

    Methods mirror :class:`~pygluster.blockdev.AsyncBlockDevice`.
    """

    def __init__(
        self, portal: Portal, device: AsyncBlockDevice, timeout: float | None
    ) -> None:
        self._portal = portal
        self._device = device
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"<BlockDevice {self.uri}>"

    uri: _FromDevice[GlusterURI] = _FromDevice("The image's URI.")
    path: _FromDevice[str] = _FromDevice("The image's path inside the volume.")
    gfid: _FromDevice[bytes] = _FromDevice("The image's gfid.")
    writable: _FromDevice[bool] = _FromDevice("False when opened read-only.")
    write_behind: _FromDevice[bool] = _FromDevice(
        "True when writes are acknowledged before the bricks have them."
    )

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return not self._portal.running

    def _call(self, afn: Callable[[*Args], Awaitable[T]], *args: *Args) -> T:
        what = f"{afn.__name__} on {self._device.uri}"
        return self._portal.call(afn, *args, timeout=self.timeout, what=what)

    def stat(self) -> GfxIattx:
        """The image's attributes."""
        return self._call(self._device.stat)

    def size(self) -> int:
        """The image's size in bytes."""
        return self._call(self._device.size)

    def statvfs(self) -> StatVFS:
        """The volume's statistics, like ``os.statvfs``."""
        return self._call(self._device.statvfs)

    def pread(self, n: int, offset: int) -> bytes:
        """Read up to ``n`` bytes at ``offset`` (short at end of file)."""
        return self._call(self._device.pread, n, offset)

    def readinto(self, buffer: BytesLike, offset: int) -> int:
        """Read into ``buffer`` from ``offset``; return the bytes read."""
        return self._call(self._device.readinto, buffer, offset)

    def preadv(self, buffers: Sequence[BytesLike], offset: int) -> int:
        """Read into several buffers in order, like ``os.preadv``."""
        return self._call(self._device.preadv, buffers, offset)

    def pwrite(self, data: BytesLike, offset: int) -> int:
        """Write all of ``data`` at ``offset``."""
        return self._call(self._device.pwrite, data, offset)

    def pwritev(self, buffers: Sequence[BytesLike], offset: int) -> int:
        """Write several buffers in order, like ``os.pwritev``."""
        return self._call(self._device.pwritev, buffers, offset)

    def flush(self) -> None:
        """Make everything written durable on the bricks (FSYNC)."""
        self._call(self._device.flush)

    def truncate(self, size: int, preallocation: Preallocation = "off") -> None:
        """Resize the image (see AsyncBlockDevice.truncate)."""
        self._call(self._device.truncate, size, preallocation)

    def discard(self, offset: int, n: int) -> None:
        """Deallocate a range; it reads back as zeros."""
        self._call(self._device.discard, offset, n)

    def write_zeroes(self, offset: int, n: int) -> None:
        """Write zeros over a range."""
        self._call(self._device.write_zeroes, offset, n)

    def extents(self, offset: int = 0, n: int | None = None) -> list[Extent]:
        """Data and hole runs, like ``qemu-img map``."""
        return self._call(self._device.extents, offset, n)

    def bricks(self) -> list[str]:
        """The bricks holding the image's data."""
        return self._device.bricks()

    def as_file(self) -> RawImageIO:
        """A seekable ``io.RawIOBase`` view (for ``shutil.copyfileobj`` etc.)."""
        return RawImageIO(self)

    def close(self) -> None:
        """Close the image and stop the helper thread. Idempotent."""
        self._portal.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class RawImageIO(io.RawIOBase):
    """A file-like view of a :class:`BlockDevice` with its own position."""

    def __init__(self, device: BlockDevice) -> None:
        super().__init__()
        self._device = device
        self._position = 0

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return self._device.writable

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._device.readinto(buffer, self._position)
        self._position += count
        return count

    def write(self, data: Any) -> int:
        count = self._device.pwrite(data, self._position)
        self._position += count
        return count

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._position + offset
        elif whence == io.SEEK_END:
            position = self._device.size() + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if position < 0:
            raise ValueError(f"negative seek position {position}")
        self._position = position
        return position

    def tell(self) -> int:
        return self._position

    def truncate(self, size: int | None = None) -> int:
        new_size = self._position if size is None else size
        self._device.truncate(new_size)
        return new_size

    def flush(self) -> None:
        if not self.closed and self._device.writable and not self._device.closed:
            self._device.flush()


def open(  # noqa: A001 - mirrors builtins.open on purpose
    uri: GlusterURI | str,
    mode: Mode = "r",
    *,
    call_timeout: float | None = None,
    **options: Unpack[OpenOptions],
) -> BlockDevice:
    """Open an existing image (blocking API); see :func:`pygluster.open_async`.

    Takes open_async's keyword arguments (but ``trace``), with its defaults.

    Args:
        timeout: seconds any one request to a brick may wait for its reply
            (None: the volfile's frame-timeout only); see
            :func:`pygluster.open_async`.
        call_timeout: seconds each later method call may take in all,
            however many requests it makes (None = no limit); raises
            :class:`~pygluster.errors.RpcTimeout`.
        write_behind: acknowledge writes before the bricks have them (None:
            as the volfile says); see :func:`pygluster.open_async`.

    Raises:
        RuntimeError: called from inside trio (use ``open_async``).
    """
    portal = Portal()
    portal.start()
    try:
        device = portal.enter(open_async(uri, mode, **options))
    except BaseException:
        portal.close()
        raise
    return BlockDevice(portal, device, call_timeout)


def create(
    uri: GlusterURI | str,
    size: int,
    *,
    call_timeout: float | None = None,
    **options: Unpack[CreateOptions],
) -> None:
    """Create an image (blocking API); see :func:`pygluster.create_async`.

    Takes create_async's keyword arguments, with its defaults; ``call_timeout``
    bounds the whole call (None = no limit).
    """
    _run_once(
        functools.partial(create_async, uri, size, **options),
        call_timeout,
        f"create {uri}",
    )


def remove(
    uri: GlusterURI | str,
    *,
    call_timeout: float | None = None,
    **options: Unpack[ConnectOptions],
) -> None:
    """Delete an image (blocking API); see :func:`pygluster.blockdev.remove_async`.

    Takes remove_async's keyword arguments, with its defaults; ``call_timeout``
    bounds the whole call (None = no limit).
    """
    _run_once(
        functools.partial(remove_async, uri, **options), call_timeout, f"remove {uri}"
    )


def _run_once(
    afn: Callable[[], Awaitable[None]], timeout: float | None, what: str
) -> None:
    """Run ``afn`` in a portal of its own, started for it and closed after."""
    portal = Portal()
    portal.start()
    try:
        portal.call(afn, timeout=timeout, what=what)
    finally:
        portal.close()
