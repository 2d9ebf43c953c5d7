"""glusterd of its own in namespaces made here: one node, or a pool of three.

:class:`PrivateGlusterd` is a glusterd in a network and mount namespace of
its own, for what the shared cluster must not change (management TLS needs
``/var/lib/glusterd/secure-access``, which libgfapi, FUSE and every brick on
the machine read too). Inside, ``/run``, ``/var/lib/glusterd`` and
``/var/log/glusterfs`` are private tmpfs mounts and loopback is the
namespace's own, so this glusterd (port 24007, ``/run/glusterd.socket``) and
its bricks never meet the machine's.

:class:`PrivatePool` is the 3-node layout: three such glusterd peers in one
trusted pool, on a bridge in a hub namespace where the clients under test
run, for multi-server URIs and glusterd failover. Namespaces rather than
127.0.0.2-4 in the machine's own: each node then has its own
/var/lib/glusterd, /run/glusterd.socket and port 24007 without any of them
touching the machine's glusterd.

Commands run inside with ``nsenter``; the calling process stays outside, so
clients under test run as subprocesses (the pygluster CLI, qemu-io). Needs
root, ``unshare``, ``nsenter`` and ``ip``.
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

from pygluster.errors import ClusterError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

__all__ = ["PrivateGlusterd", "PrivatePool"]

_PRIVATE_MOUNTS = ("/run", "/var/lib/glusterd", "/var/log/glusterfs")


class PrivateGlusterd:
    """Start with :meth:`start`, end with :meth:`stop` (kills everything in
    the namespace). ``secure_access`` creates the management-TLS marker.

    Args:
        host: the brick host name its volumes use.
    """

    def __init__(
        self, host: str, brick_root: Path, *, secure_access: bool = False
    ) -> None:
        self.host = host
        self.brick_root = brick_root
        self.secure_access = secure_access
        self._holder: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._holder is not None, "not started"
        return self._holder.pid

    def run(
        self, *args: str, timeout: float = 60, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """A command inside the namespaces."""
        return _nsenter(self.pid, *args, timeout=timeout, check=check)

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """The pygluster command, inside."""
        return self.run(sys.executable, "-m", "pygluster.cli", *args, timeout=timeout)

    def gluster(self, *args: str) -> str:
        return self.run(
            "gluster", "--mode=script", *args, timeout=120, check=True
        ).stdout

    def start(
        self,
        *,
        network: Sequence[str] = (),
        wire: Callable[[int], None] | None = None,
    ) -> None:
        """Make the namespaces and start glusterd in them.

        Args:
            network: shell commands that set up interfaces beside loopback.
            wire: called with the holder's pid once the namespaces exist,
                before ``network`` runs (to move an interface in).
        """
        self._holder = _holder()
        try:
            _wait_for_namespace(self.pid)
            if wire is not None:
                wire(self.pid)
            script = ["ip link set lo up", *network]
            script += [f"mount -t tmpfs tmpfs {path}" for path in _PRIVATE_MOUNTS]
            script += ["mkdir -p /run/gluster /var/log/glusterfs/bricks"]
            if self.secure_access:
                script.append("touch /var/lib/glusterd/secure-access")
            self.run("sh", "-ec", "; ".join(script), check=True)
            self.run("glusterd", check=True)
            deadline = time.monotonic() + 30
            while self.run("gluster", "--mode=script", "volume", "list").returncode:
                if time.monotonic() > deadline:
                    raise ClusterError(
                        f"the private glusterd {self.host} did not come up"
                    )
                time.sleep(0.2)
        except BaseException:
            self.stop()
            raise

    def create_volume(self, name: str) -> None:
        brick = self.brick_root / name
        brick.mkdir(parents=True, exist_ok=True)
        self.gluster("volume", "create", name, f"{self.host}:{brick}", "force")
        self.gluster("volume", "start", name)

    def kill_glusterd(self) -> None:
        """SIGKILL glusterd (its bricks keep running)."""
        for pid in _pids_in(self.pid):
            if _comm(pid) == "glusterd":
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        """Kill every process in the namespace (glusterd, bricks), then the
        holder; the private mounts go with the namespace."""
        if self._holder is None:
            return
        _kill_namespace(self._holder)
        self._holder = None
        shutil.rmtree(self.brick_root, ignore_errors=True)


def _holder() -> subprocess.Popen[bytes]:
    """A process whose only job is to hold new network and mount namespaces."""
    return subprocess.Popen(
        ["unshare", "--net", "--mount", "--propagation", "private", "sleep", "1d"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _nsenter(
    pid: int, *args: str, mount: bool = True, timeout: float = 120, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """A command in ``pid``'s network (and mount) namespace."""
    return subprocess.run(
        ["nsenter", "-t", str(pid), "-n", *(["-m"] if mount else []), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )


def _kill_namespace(holder: subprocess.Popen[bytes]) -> None:
    """SIGKILL every process in the holder's namespace, then the holder."""
    for pid in _pids_in(holder.pid):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    holder.kill()
    holder.wait(timeout=30)


class PrivatePool:
    """A trusted pool of :class:`PrivateGlusterd` nodes on a bridge in a hub
    namespace: node ``i`` is 10.77.0.i, the hub (where the clients under test
    run) 10.77.0.254. Every address lives in namespaces this class creates;
    none is reachable from the machine's own.

    Brick hosts are the nodes' addresses (glusterd takes IP addresses as
    peers and brick hosts; only localhost and 127.0.0.1 are refused).
    """

    SUBNET = "10.77.0"

    def __init__(self, brick_root: Path, nodes: int = 3) -> None:
        self.brick_root = brick_root
        self.nodes = [
            PrivateGlusterd(self.address(node), brick_root)
            for node in range(1, nodes + 1)
        ]
        self._hub: subprocess.Popen[bytes] | None = None

    def address(self, node: int) -> str:
        return f"{self.SUBNET}.{node}"

    def hub(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run a command in the hub namespace (a client's view of the pool)."""
        assert self._hub is not None, "not started"
        return _nsenter(self._hub.pid, *args, mount=False, timeout=timeout)

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """The pygluster command, in the hub."""
        return self.hub(sys.executable, "-m", "pygluster.cli", *args, timeout=timeout)

    def gluster(self, node: int, *args: str) -> str:
        return self.nodes[node - 1].gluster(*args)

    def start(self) -> None:
        try:
            self._hub = _holder()
            _wait_for_namespace(self._hub.pid)
            for command in (
                "ip link add br0 type bridge",
                f"ip addr add {self.SUBNET}.254/24 dev br0",
                "ip link set br0 up",
                "ip link set lo up",
            ):
                self._in_hub(*command.split())
            for number, node in enumerate(self.nodes, 1):

                def wire(pid: int, veth: str = f"v{number}") -> None:
                    self._in_hub("ip", "link", "add", veth, "type", "veth", "peer",
                                 "name", "eth0", "netns", str(pid))  # fmt: skip
                    self._in_hub("ip", "link", "set", veth, "master", "br0", "up")

                node.start(
                    network=(
                        f"ip addr add {node.host}/24 dev eth0",
                        "ip link set eth0 up",
                    ),
                    wire=wire,
                )
            for node in self.nodes[1:]:
                self.gluster(1, "peer", "probe", node.host)
            deadline = time.monotonic() + 60
            while self.gluster(1, "pool", "list").count("Connected") < len(self.nodes):
                if time.monotonic() > deadline:
                    raise ClusterError("the pool's peers did not all connect")
                time.sleep(0.2)
        except BaseException:
            self.stop()
            raise

    def _in_hub(self, *args: str) -> None:
        assert self._hub is not None
        _nsenter(self._hub.pid, *args, mount=False, check=True)

    def create_volume(self, name: str, *layout: str) -> None:
        """A volume with one brick per node (``layout``: e.g. replica 3)."""
        bricks = []
        for number, node in enumerate(self.nodes, 1):
            path = self.brick_root / name / f"n{number}"
            path.mkdir(parents=True, exist_ok=True)
            bricks.append(f"{node.host}:{path}")
        self.gluster(1, "volume", "create", name, *layout, *bricks, "force")
        self.gluster(1, "volume", "start", name)

    def kill_glusterd(self, node: int) -> None:
        """SIGKILL the node's glusterd (its bricks keep running)."""
        self.nodes[node - 1].kill_glusterd()

    def stop(self) -> None:
        """Stop every node and the hub, each even when another fails."""
        # an ExitStack runs its callbacks last-in first-out: nodes, hub, bricks
        with contextlib.ExitStack() as stack:
            stack.callback(shutil.rmtree, self.brick_root, ignore_errors=True)
            if self._hub is not None:
                stack.callback(_kill_namespace, self._hub)
                self._hub = None
            for node in self.nodes:
                stack.callback(node.stop)


def _wait_for_namespace(pid: int) -> None:
    mine = os.readlink("/proc/self/ns/net")
    deadline = time.monotonic() + 10
    while os.readlink(f"/proc/{pid}/ns/net") == mine:
        if time.monotonic() > deadline:
            raise ClusterError("unshare did not make a network namespace")
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
