"""The layers import one way, and the rules come from the package layout.

In the spirit of trio's own export-consistency test: each module is imported
in a fresh interpreter and we look at what ended up in sys.modules.

* The core (``pygluster`` top-level modules, ``pygluster.rpc``,
  ``pygluster.xlators``) loads nothing from the layers above it:
  ``pygluster.capture``, ``pygluster.nbd``, ``pygluster.tools`` and
  ``pygluster.testing``, which load nothing of ``pygluster.cli``.
* Sans-IO: ``pygluster.rpc`` (all but its trio driver, ``rpc.client``) and
  ``pygluster.capture`` never load trio, nor do the pure codecs at the top.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import pygluster

#: Packages above the core, each allowed to load only those listed before it.
UPPER_LAYERS = (
    "pygluster.capture",
    "pygluster.nbd",
    "pygluster.tools",
    "pygluster.testing",
    "pygluster.cli",
)
SANS_IO_PACKAGES = ("pygluster.rpc", "pygluster.capture")
TRIO_DRIVER = "pygluster.rpc.client"
#: Top-level codecs and pure modules (the rest of the top level is the I/O path).
PURE_TOP = (
    "pygluster.errors",
    "pygluster.uri",
    "pygluster.volfile",
    "pygluster.erasure",
    "pygluster.events",
    "pygluster.cli.iolang",
    "pygluster.nbd.protocol",
)

ALL_MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(pygluster.__path__, "pygluster.")
    if not info.name.endswith("__main__")
)


def layer_of(module: str) -> int:
    """0 for the core, else 1 + the index of its package in UPPER_LAYERS."""
    for index, package in enumerate(UPPER_LAYERS):
        if module == package or module.startswith(package + "."):
            return index + 1
    return 0


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def modules_loaded_by(module: str) -> set[str]:
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return set(json.loads(out))


def test_the_layout_is_what_the_rules_expect() -> None:
    names = set(ALL_MODULES)
    for package in (*UPPER_LAYERS, *SANS_IO_PACKAGES, "pygluster.xlators"):
        assert package in names
    assert TRIO_DRIVER in names


@pytest.mark.parametrize("module", ALL_MODULES)
def test_modules_load_only_their_layer_and_below(module: str) -> None:
    loaded = modules_loaded_by(module)
    own = layer_of(module)
    above = sorted(
        m for m in loaded if m.startswith("pygluster.") and layer_of(m) > own
    )
    assert not above, f"{module} loads {above}"
    if in_package(module, "pygluster.xlators") or own == 0:
        assert "pygluster.capture.pcapwriter" not in loaded


SANS_IO = [
    m
    for m in ALL_MODULES
    if (any(in_package(m, p) for p in SANS_IO_PACKAGES) and m != TRIO_DRIVER)
    or m in PURE_TOP
]


@pytest.mark.parametrize("module", SANS_IO)
def test_sans_io_modules_do_not_import_trio(module: str) -> None:
    loaded = modules_loaded_by(module)
    assert "trio" not in loaded
    assert TRIO_DRIVER not in loaded


def test_opening_an_image_loads_no_capture_sink_or_cli_code() -> None:
    loaded = modules_loaded_by("pygluster.blockdev")
    assert not {m for m in loaded if layer_of(m) > 0}
    assert "pygluster.events" in loaded  # the driver's trace hooks, and only them


def test_only_xdr_imports_xdrlib3() -> None:
    loaded = modules_loaded_by("pygluster.volfile")
    assert "xdrlib3" not in loaded
    root = Path(pygluster.__file__).parent
    importers = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "import xdrlib3" in path.read_text()
    )
    assert importers == ["rpc/xdr.py"]
