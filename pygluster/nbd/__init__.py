"""An NBD server for gluster images: :func:`serve` (trio), ``pygluster nbd``.

:mod:`pygluster.nbd.protocol` is the protocol without I/O (it loads no
trio); :mod:`pygluster.nbd.server` serves one image with it, and is loaded
when one of its names is first used from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pygluster.nbd.server import DEFAULT_PORT, Limits, serve

__all__ = ["DEFAULT_PORT", "Limits", "serve"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from pygluster.nbd import server

        return getattr(server, name)
    raise AttributeError(f"module 'pygluster.nbd' has no attribute {name!r}")
