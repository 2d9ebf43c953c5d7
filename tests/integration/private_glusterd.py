"""A glusterd of its own, in a network and mount namespace the test creates.

For what the shared cluster must not change: management TLS needs
``/var/lib/glusterd/secure-access``, which libgfapi, FUSE and every brick on
the machine read too. Inside the namespaces ``/run``, ``/var/lib/glusterd``
and ``/var/log/glusterfs`` are private tmpfs mounts and loopback is the
namespace's own, so this glusterd (port 24007, ``/run/glusterd.socket``) and
its bricks never meet the shared cluster's. The brick host name is the shared
one (it resolves to 127.0.0.1, here the namespace's loopback).

Commands run inside with ``nsenter``; the test process itself stays outside,
so clients under test are run as subprocesses (the pygluster CLI, qemu-io).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["PrivateGlusterd"]

_PRIVATE_MOUNTS = ("/run", "/var/lib/glusterd", "/var/log/glusterfs")


class PrivateGlusterd:
    """Start with :meth:`start`, end with :meth:`stop` (kills everything in
    the namespace). ``secure_access`` creates the management-TLS marker."""

    def __init__(self, host: str, brick_root: Path, *, secure_access: bool) -> None:
        self.host = host
        self.brick_root = brick_root
        self.secure_access = secure_access
        self._holder: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._holder is not None, "not started"
        return self._holder.pid

    def command(self, *args: str) -> list[str]:
        """``args`` as a command line that runs inside the namespaces."""
        return ["nsenter", "-t", str(self.pid), "-n", "-m", *args]

    def run(
        self, *args: str, timeout: float = 60, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
        )

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """The pygluster command, inside."""
        return self.run(sys.executable, "-m", "pygluster.cli", *args, timeout=timeout)

    def gluster(self, *args: str) -> str:
        return self.run(
            "gluster", "--mode=script", *args, timeout=120, check=True
        ).stdout

    def start(self) -> None:
        self._holder = subprocess.Popen(
            ["unshare", "--net", "--mount", "--propagation", "private", "sleep", "1d"]
        )
        try:
            self._wait_for_namespaces()
            script = ["ip link set lo up"]
            script += [f"mount -t tmpfs tmpfs {path}" for path in _PRIVATE_MOUNTS]
            script += ["mkdir -p /run/gluster /var/log/glusterfs/bricks"]
            if self.secure_access:
                script.append("touch /var/lib/glusterd/secure-access")
            self.run("sh", "-ec", "; ".join(script), check=True)
            self.run("glusterd", check=True)
            deadline = time.monotonic() + 30
            while self.run("gluster", "--mode=script", "volume", "list").returncode:
                if time.monotonic() > deadline:
                    raise RuntimeError("the private glusterd did not come up")
                time.sleep(0.2)
        except BaseException:
            self.stop()
            raise

    def _wait_for_namespaces(self) -> None:
        # unshare execs sleep once the namespaces exist: until then the pid's
        # net namespace is still ours.
        mine = os.readlink("/proc/self/ns/net")
        deadline = time.monotonic() + 10
        while os.readlink(f"/proc/{self.pid}/ns/net") == mine:
            if time.monotonic() > deadline:
                raise RuntimeError("unshare did not make a network namespace")
            time.sleep(0.01)

    def create_volume(self, name: str) -> None:
        brick = self.brick_root / name
        brick.mkdir(parents=True, exist_ok=True)
        self.gluster("volume", "create", name, f"{self.host}:{brick}", "force")
        self.gluster("volume", "start", name)

    def stop(self) -> None:
        """Kill every process in the namespace (glusterd, bricks), then the
        holder; the private mounts go with the namespace."""
        if self._holder is None:
            return
        try:
            ours = os.readlink(f"/proc/{self.pid}/ns/net")
        except OSError:
            ours = None
        if ours is not None and ours != os.readlink("/proc/self/ns/net"):
            for entry in os.listdir("/proc"):
                if not entry.isdigit() or int(entry) == self.pid:
                    continue
                try:
                    if os.readlink(f"/proc/{entry}/ns/net") == ours:
                        os.kill(int(entry), signal.SIGKILL)
                except OSError:
                    continue
        self._holder.kill()
        self._holder.wait(timeout=30)
        self._holder = None
        shutil.rmtree(self.brick_root, ignore_errors=True)
