"""pygluster: a pure-Python GlusterFS client (no libgfapi).

Open an image on a gluster volume by URI and read/write it at offsets::

    with pygluster.open("gluster://host/volume/disk.img", "r+") as dev:
        dev.pwrite(b"hello", 0)

or, under trio, ``async with pygluster.open_async(uri, "r+") as dev``.

The names below are loaded on first use (PEP 562), so that importing a codec
module such as ``pygluster.rpc.xdr`` does not pull in trio: the layers import
one way, and a test checks it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pygluster._version import __version__

if TYPE_CHECKING:
    from pygluster.blockdev import (
        AsyncBlockDevice,
        Extent,
        StatVFS,
        create_async,
        open_async,
        remove_async,
    )
    from pygluster.errors import (
        ConnectionLost,
        FopError,
        GlusterError,
        MgmtError,
        RpcTimeout,
        ServersExhausted,
        TlsError,
        TransportError,
        UnsupportedVolume,
        URIError,
        VolfileError,
    )
    from pygluster.sync import BlockDevice, create, open, remove  # noqa: A004
    from pygluster.tls import TlsOptions
    from pygluster.uri import GlusterURI

_EXPORTS = {
    "AsyncBlockDevice": "pygluster.blockdev",
    "Extent": "pygluster.blockdev",
    "StatVFS": "pygluster.blockdev",
    "create_async": "pygluster.blockdev",
    "open_async": "pygluster.blockdev",
    "remove_async": "pygluster.blockdev",
    "remove": "pygluster.sync",
    "BlockDevice": "pygluster.sync",
    "create": "pygluster.sync",
    "open": "pygluster.sync",
    "GlusterURI": "pygluster.uri",
    "TlsOptions": "pygluster.tls",
    "TlsError": "pygluster.errors",
    "ConnectionLost": "pygluster.errors",
    "FopError": "pygluster.errors",
    "GlusterError": "pygluster.errors",
    "MgmtError": "pygluster.errors",
    "RpcTimeout": "pygluster.errors",
    "ServersExhausted": "pygluster.errors",
    "TransportError": "pygluster.errors",
    "URIError": "pygluster.errors",
    "UnsupportedVolume": "pygluster.errors",
    "VolfileError": "pygluster.errors",
}

__all__ = [
    "AsyncBlockDevice",
    "BlockDevice",
    "ConnectionLost",
    "Extent",
    "FopError",
    "GlusterError",
    "GlusterURI",
    "MgmtError",
    "RpcTimeout",
    "ServersExhausted",
    "StatVFS",
    "TlsError",
    "TlsOptions",
    "TransportError",
    "URIError",
    "UnsupportedVolume",
    "VolfileError",
    "__version__",
    "create",
    "create_async",
    "open",
    "open_async",
    "remove",
    "remove_async",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pygluster' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
