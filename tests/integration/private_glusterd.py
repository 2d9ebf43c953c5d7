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

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["PrivateGlusterd", "PrivatePool"]

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
        self._holder = _holder()
        try:
            _wait_for_namespace(self.pid)
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
        for pid in _pids_in(self.pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        self._holder.kill()
        self._holder.wait(timeout=30)
        self._holder = None
        shutil.rmtree(self.brick_root, ignore_errors=True)


def _holder() -> subprocess.Popen[bytes]:
    """A process whose only job is to hold new network and mount namespaces."""
    return subprocess.Popen(
        ["unshare", "--net", "--mount", "--propagation", "private", "sleep", "1d"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class PrivatePool:
    """A trusted pool of glusterd nodes, each in namespaces of its own, on a
    bridge in a hub namespace: node ``i`` is 10.77.0.i, the hub (where the
    clients under test run) 10.77.0.254. Every address lives in namespaces
    this class creates; none is reachable from the machine's own.

    Brick hosts are the nodes' addresses (glusterd takes IP addresses as
    peers and brick hosts; only localhost and 127.0.0.1 are refused).
    """

    SUBNET = "10.77.0"

    def __init__(self, brick_root: Path, nodes: int = 3) -> None:
        self.brick_root = brick_root
        self.count = nodes
        self._hub: subprocess.Popen[bytes] | None = None
        self._nodes: list[subprocess.Popen[bytes]] = []

    def address(self, node: int) -> str:
        return f"{self.SUBNET}.{node}"

    def _in(
        self, pid: int, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["nsenter", "-t", str(pid), "-n", "-m", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=check,
        )

    def hub(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run a command in the hub namespace (a client's view of the pool)."""
        assert self._hub is not None, "not started"
        return subprocess.run(
            ["nsenter", "-t", str(self._hub.pid), "-n", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """The pygluster command, in the hub."""
        return self.hub(sys.executable, "-m", "pygluster.cli", *args, timeout=timeout)

    def gluster(self, node: int, *args: str) -> str:
        return self._in(
            self._nodes[node - 1].pid, "gluster", "--mode=script", *args
        ).stdout

    def start(self) -> None:
        try:
            self._hub = _holder()
            _wait_for_namespace(self._hub.pid)
            hub = str(self._hub.pid)
            for command in (
                "ip link add br0 type bridge",
                f"ip addr add {self.SUBNET}.254/24 dev br0",
                "ip link set br0 up",
                "ip link set lo up",
            ):
                subprocess.run(
                    ["nsenter", "-t", hub, "-n", *command.split()], check=True
                )
            for node in range(1, self.count + 1):
                holder = _holder()
                self._nodes.append(holder)
                _wait_for_namespace(holder.pid)
                subprocess.run(
                    ["nsenter", "-t", hub, "-n", "ip", "link", "add", f"v{node}",
                     "type", "veth", "peer", "name", "eth0", "netns", str(holder.pid)],
                    check=True,
                )  # fmt: skip
                subprocess.run(
                    ["nsenter", "-t", hub, "-n", "ip", "link", "set", f"v{node}",
                     "master", "br0", "up"],
                    check=True,
                )  # fmt: skip
                script = [
                    "ip link set lo up",
                    f"ip addr add {self.address(node)}/24 dev eth0",
                    "ip link set eth0 up",
                ]
                script += [f"mount -t tmpfs tmpfs {path}" for path in _PRIVATE_MOUNTS]
                script.append("mkdir -p /run/gluster /var/log/glusterfs/bricks")
                self._in(holder.pid, "sh", "-ec", "; ".join(script))
                self._in(holder.pid, "glusterd")
            for node in range(1, self.count + 1):
                self._wait_answers(node)
            for node in range(2, self.count + 1):
                self.gluster(1, "peer", "probe", self.address(node))
            deadline = time.monotonic() + 60
            while self.gluster(1, "pool", "list").count("Connected") < self.count:
                if time.monotonic() > deadline:
                    raise RuntimeError("the pool's peers did not all connect")
                time.sleep(0.2)
        except BaseException:
            self.stop()
            raise

    def _wait_answers(self, node: int) -> None:
        deadline = time.monotonic() + 30
        pid = self._nodes[node - 1].pid
        while self._in(
            pid, "gluster", "--mode=script", "volume", "list", check=False
        ).returncode:
            if time.monotonic() > deadline:
                raise RuntimeError(f"glusterd on node {node} did not come up")
            time.sleep(0.2)

    def create_volume(self, name: str, *layout: str) -> None:
        """A volume with one brick per node (``layout``: e.g. replica 3)."""
        bricks = []
        for node in range(1, self.count + 1):
            path = self.brick_root / name / f"n{node}"
            path.mkdir(parents=True, exist_ok=True)
            bricks.append(f"{self.address(node)}:{path}")
        self.gluster(1, "volume", "create", name, *layout, *bricks, "force")
        self.gluster(1, "volume", "start", name)

    def kill_glusterd(self, node: int) -> None:
        """SIGKILL the node's glusterd (its bricks keep running)."""
        for pid in _pids_in(self._nodes[node - 1].pid):
            if _comm(pid) == "glusterd":
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        for holder in [*self._nodes, *([self._hub] if self._hub else [])]:
            for pid in _pids_in(holder.pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            holder.kill()
            holder.wait(timeout=30)
        self._nodes.clear()
        self._hub = None
        shutil.rmtree(self.brick_root, ignore_errors=True)


def _wait_for_namespace(pid: int) -> None:
    mine = os.readlink("/proc/self/ns/net")
    deadline = time.monotonic() + 10
    while os.readlink(f"/proc/{pid}/ns/net") == mine:
        if time.monotonic() > deadline:
            raise RuntimeError("unshare did not make a network namespace")
        time.sleep(0.01)


def _pids_in(holder: int) -> list[int]:
    """Every process in ``holder``'s network namespace but the holder."""
    try:
        ours = os.readlink(f"/proc/{holder}/ns/net")
    except OSError:
        return []
    if ours == os.readlink("/proc/self/ns/net"):
        return []
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != holder:
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{entry}/ns/net") == ours:
                    found.append(int(entry))
    return found


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="ascii", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return ""
