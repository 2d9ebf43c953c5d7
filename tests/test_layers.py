"""The layers import one way: codecs and the sans-IO core never import trio.

In the spirit of trio's own export-consistency test: each module is imported
in a fresh interpreter and we look at what ended up in sys.modules.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SANS_IO = [
    "pygluster.errors",
    "pygluster.uri",
    "pygluster.volfile",
    "pygluster.rpc.xdr",
    "pygluster.rpc.record",
    "pygluster.rpc.sunrpc",
    "pygluster.rpc.programs",
    "pygluster.rpc.connection",
    "pygluster.rpc.glusterd",
    "pygluster.rpc.fops",
    "pygluster.rpc.fops330",
    "pygluster.pcap",
    "pygluster.decode",
    "pygluster.pcapwriter",
    "pygluster.iolang",
]


def modules_loaded_by(module: str) -> set[str]:
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return set(json.loads(out))


@pytest.mark.parametrize("module", SANS_IO)
def test_sans_io_modules_do_not_import_trio(module: str) -> None:
    loaded = modules_loaded_by(module)
    assert "trio" not in loaded
    assert not {m for m in loaded if m.startswith("pygluster.rpc.client")}


def test_only_xdr_imports_xdrlib3() -> None:
    loaded = modules_loaded_by("pygluster.volfile")
    assert "xdrlib3" not in loaded
    from pathlib import Path

    import pygluster

    root = Path(pygluster.__file__).parent
    importers = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "import xdrlib3" in path.read_text()
    )
    assert importers == ["rpc/xdr.py"]
