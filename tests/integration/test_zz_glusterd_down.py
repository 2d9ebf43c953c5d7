"""With glusterd stopped, commands fail fast with one clear line.

Named to run last: it stops the real glusterd (the brick processes keep
running) and starts it again (pygluster.testing.faults).
"""

from __future__ import annotations

import pytest

from pygluster.testing import faults
from tests.integration.conftest import GLUSTERD_SOCKET, run_cli


@pytest.fixture
def glusterd_stopped(host: str):
    faults.stop_glusterd()
    try:
        yield
    finally:
        faults.start_glusterd()


@pytest.mark.parametrize(
    "uri",
    ["gluster://{host}/pyg_dist", f"gluster+unix:///pyg_dist?socket={GLUSTERD_SOCKET}"],
)
def test_stopped_glusterd_is_one_clear_line(
    host: str, glusterd_stopped: None, uri: str
) -> None:
    result = run_cli("volfile", uri.format(host=host), timeout=15)
    stderr = result.stderr.decode()
    assert result.returncode == 1
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith("pygluster: error: cannot connect to ")
    assert "Traceback" not in stderr
