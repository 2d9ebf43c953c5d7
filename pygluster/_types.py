"""Type aliases shared across layers."""

from __future__ import annotations

from typing import TypeAlias

#: What can be sent without copying: trio's ``send_all`` takes the same set.
#: (``collections.abc.Buffer`` would say it better, but needs Python 3.12.)
BytesLike: TypeAlias = bytes | bytearray | memoryview
