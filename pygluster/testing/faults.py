"""Fault injection on the local cluster's bricks and glusterd, and checks
of what landed on the bricks.

Kill, stop, continue and restart brick processes, stop and restart glusterd,
fill a brick's filesystem, set a volume option, trigger a heal and wait for
it. Each helper returns once the cluster has reached the state it names
(glusterd shows the brick offline, every brick is online again, heal info is
empty), within a bound: a wait that runs out raises
:class:`~pygluster.errors.FaultError` saying what it waited for and what it
saw last, so callers never sleep. The context managers (:func:`brick_down`,
:func:`brick_stopped`, :func:`brick_full`) always put the brick back, also
when the body raises, so a failing test does not leave the cluster degraded.

Everything here is synchronous and blocking (it runs the gluster CLI and
polls); from trio call it as ``await trio.to_thread.run_sync(faults.kill_brick,
"vol", 2)``. Bricks are addressed by volume name and *index* in child order
(0 = ``<vol>-client-0`` in the volfile, the first brick `gluster volume status`
lists). Run as root on the machine that hosts the bricks (reads ``trusted.*``
xattrs and signals brick processes).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pygluster.errors import FaultError
from pygluster.testing import commands
from pygluster.testing.cluster import GLUSTERD_ARGV, GLUSTERD_PIDFILE
from pygluster.testing.commands import tail

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET
    from collections.abc import Callable, Iterable, Iterator

__all__ = [
    "BrickProcess",
    "HealBrick",
    "afr_xattrs",
    "assert_afr_clean",
    "assert_replicas_identical",
    "brick",
    "brick_down",
    "brick_file_bytes",
    "brick_full",
    "brick_path",
    "brick_processes",
    "brick_stopped",
    "continue_brick",
    "empty_brick",
    "fill_brick",
    "gluster_cli",
    "heal",
    "heal_info",
    "heal_info_entries",
    "kill_brick",
    "restart_brick",
    "restart_glusterd",
    "set_option",
    "start_glusterd",
    "start_volume_force",
    "stop_brick",
    "stop_glusterd",
    "wait_healed",
    "wait_online",
]

CLI_TIMEOUT = 120.0  # s for one gluster CLI call
ONLINE_TIMEOUT = 60.0  # s until restarted bricks must be online
GLUSTERD_TIMEOUT = 60.0  # s until glusterd must stop / answer again
HEAL_TIMEOUT = 60.0  # default bound for wait_healed

AFR_PREFIX = "trusted.afr."
AFR_DIRTY = "trusted.afr.dirty"
_TRIPLET = struct.Struct(">3i")  # [data, metadata, entry], big-endian int32


# ---------------------------------------------------------------- gluster CLI


def gluster_cli(
    *args: str, check: bool = True, timeout: float = CLI_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run ``gluster --mode=script ARGS`` (stdout and stderr together),
    retried while glusterd says another transaction holds the volume lock;
    with ``check`` a non-zero exit raises FaultError carrying the output."""
    return commands.gluster(*args, check=check, timeout=timeout, error=FaultError)


def _gluster_xml(*args: str) -> ET.Element:
    return commands.gluster_xml(*args, error=FaultError)


def set_option(volume: str, key: str, value: str) -> None:
    """``gluster volume set VOLUME KEY VALUE``; returns once glusterd has
    committed it (clients reload their graph when the new volfile reaches
    them)."""
    gluster_cli("volume", "set", volume, key, value)


# ---------------------------------------------------------------- processes


def _proc_state(pid: int) -> str | None:
    """The /proc state letter of pid, None if it does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2]


def _gone(pid: int) -> bool:
    """No /proc entry any more: exited *and* reaped. glusterd treats a brick
    whose pidfile names an existing /proc/<pid> (a zombie too) as running and
    `volume start force` then skips it ("discovered already-running brick").
    PID 1 of this VM reaps orphans only every ~2 s."""
    return not Path(f"/proc/{pid}").exists()


def _alive(pid: int) -> bool:
    """pid runs (or is stopped); zombies count as dead (PID 1 here may not
    reap the daemonized gluster processes)."""
    return _proc_state(pid) not in (None, "Z", "X")


def _wait(
    what: str, done: Callable[[], bool], timeout: float, interval: float = 0.2
) -> float:
    """Poll done() until true; return the seconds it took; FaultError after
    timeout."""
    start = time.monotonic()
    while not done():
        if time.monotonic() - start > timeout:
            raise FaultError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
    return time.monotonic() - start


@dataclass(frozen=True)
class BrickProcess:
    """One brick as `gluster volume status VOL --xml` reports it."""

    index: int  # child index: 0 = b1 = <vol>-client-0
    host: str
    path: Path
    port: int | None  # None when glusterd has no port for it (offline)
    pid: int | None  # None when glusterd knows no pid
    online: bool  # glusterd says online (a SIGSTOPped brick still is)

    @property
    def running(self) -> bool:
        """The process exists and is not a zombie (stopped counts as running)."""
        return self.pid is not None and _alive(self.pid)


def brick_processes(volume: str) -> list[BrickProcess]:
    """The volume's bricks in child order, from `gluster volume status --xml`."""
    root = _gluster_xml("volume", "status", volume)
    bricks: list[BrickProcess] = []
    for node in root.iter("node"):
        path = node.findtext("path", "")
        if not path.startswith("/"):
            continue  # Self-heal Daemon, NFS, ...
        port_text = node.findtext("port", "N/A")
        pid_text = node.findtext("pid", "N/A")
        port = int(port_text) if port_text.isdigit() and port_text != "0" else None
        pid = int(pid_text) if pid_text.isdigit() and pid_text != "0" else None
        bricks.append(
            BrickProcess(
                index=len(bricks),
                host=node.findtext("hostname", ""),
                path=Path(path),
                port=port,
                pid=pid,
                online=node.findtext("status") == "1" and port is not None,
            )
        )
    if not bricks:
        raise FaultError(f"`gluster volume status {volume}` lists no bricks")
    return bricks


def brick(volume: str, index: int) -> BrickProcess:
    """brick_processes(volume)[index], with a clear error for a bad index."""
    bricks = brick_processes(volume)
    if not 0 <= index < len(bricks):
        raise FaultError(f"{volume} has {len(bricks)} bricks; no index {index}")
    return bricks[index]


def _signal_brick(volume: str, index: int, sig: signal.Signals) -> BrickProcess:
    b = brick(volume, index)
    if b.pid is None or not b.running:
        raise FaultError(
            f"{volume} brick {index} ({b.path}) has no running process "
            f"(pid {b.pid}, online {b.online}); cannot send {sig.name}"
        )
    try:
        os.kill(b.pid, sig)
    except ProcessLookupError:
        raise FaultError(
            f"{volume} brick {index} ({b.path}, pid {b.pid}) exited before "
            f"{sig.name} reached it"
        ) from None
    return b


def kill_brick(
    volume: str, index: int, sig: signal.Signals = signal.SIGKILL
) -> BrickProcess:
    """Send sig (default SIGKILL) to the brick's glusterfsd and wait until the
    process is gone (reaped) and glusterd shows the brick offline. Returns the
    brick as it was before the kill."""
    b = _signal_brick(volume, index, sig)
    assert b.pid is not None
    pid = b.pid
    _wait(f"{volume} brick {index} (pid {pid}) to be reaped", lambda: _gone(pid), 30)
    _wait(
        f"glusterd to show {volume} brick {index} offline",
        lambda: not brick(volume, index).online,
        30,
        interval=0.3,
    )
    return b


def stop_brick(volume: str, index: int) -> BrickProcess:
    """SIGSTOP the brick process: it keeps its sockets open but stops answering
    (a hung server). glusterd keeps showing it online."""
    b = _signal_brick(volume, index, signal.SIGSTOP)
    assert b.pid is not None
    pid = b.pid
    _wait(f"pid {pid} to stop", lambda: _proc_state(pid) == "T", 10, interval=0.05)
    return b


def continue_brick(volume: str, index: int) -> BrickProcess:
    """SIGCONT a brick stopped by stop_brick."""
    return _signal_brick(volume, index, signal.SIGCONT)


def wait_online(
    volume: str, timeout: float = ONLINE_TIMEOUT, force_every: float | None = None
) -> float:
    """Wait until glusterd shows every brick of volume online with a running
    process; return the seconds it took. With force_every, repeat
    `volume start VOL force` that often while a brick stays offline."""
    last: list[BrickProcess] = []
    next_force = time.monotonic() + (force_every or 0)

    def up() -> bool:
        nonlocal last, next_force
        try:
            last = brick_processes(volume)
        except FaultError:
            return False  # glusterd restarting
        if all(b.online and b.running for b in last):
            return True
        if force_every is not None and time.monotonic() >= next_force:
            gluster_cli("volume", "start", volume, "force", check=False)
            next_force = time.monotonic() + force_every
        return False

    try:
        return _wait(f"all bricks of {volume} online", up, timeout, interval=0.5)
    except FaultError as e:
        state = "; ".join(
            f"b{b.index + 1} online={b.online} pid={b.pid} running={b.running}"
            for b in last
        )
        raise FaultError(
            f"{e} (last `volume status`: {state or 'no answer'}; see "
            "/var/log/glusterfs/bricks/*.log)"
        ) from None


def start_volume_force(volume: str, timeout: float = ONLINE_TIMEOUT) -> float:
    """`gluster volume start VOL force` (restarts offline bricks only) and wait
    until every brick is online, repeating the start every 5 s while one is
    not (a brick whose old process was not yet reaped is skipped); return the
    seconds that took."""
    t0 = time.monotonic()
    gluster_cli("volume", "start", volume, "force")
    wait_online(volume, timeout, force_every=5.0)
    return time.monotonic() - t0


def restart_brick(volume: str, index: int) -> float:
    """SIGKILL the brick and start it again; return the seconds it was down."""
    t0 = time.monotonic()
    kill_brick(volume, index)
    start_volume_force(volume)
    return time.monotonic() - t0


@contextlib.contextmanager
def brick_down(
    volume: str, index: int, sig: signal.Signals = signal.SIGKILL
) -> Iterator[BrickProcess]:
    """Kill the brick for the duration of the block; on exit (also on an
    exception) `volume start force` and wait until all bricks are online."""
    try:
        # inside: a kill whose wait runs out still gets the brick back
        yield kill_brick(volume, index, sig)
    finally:
        start_volume_force(volume)


@contextlib.contextmanager
def brick_stopped(volume: str, index: int) -> Iterator[BrickProcess]:
    """SIGSTOP the brick for the duration of the block; always SIGCONT it."""
    pid = brick(volume, index).pid
    try:
        # inside: a stop whose wait runs out still gets SIGCONT
        yield stop_brick(volume, index)
    finally:
        if pid is not None and _proc_state(pid) == "T":
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


# ---------------------------------------------------------------- full bricks

#: The file that fills a brick's filesystem, next to the brick directory (so
#: that gluster never sees it as a file of the volume).
BALLAST_NAME = "pygluster-ballast"


def _ballast(volume: str, index: int) -> Path:
    b = brick(volume, index)
    filesystem = b.path.parent
    if not os.path.ismount(filesystem):
        raise FaultError(
            f"{volume} brick {index} ({b.path}) is not on a filesystem of its own "
            "(filling it would fill the machine's); create the volume with "
            "brick_size= (LocalCluster.create_volume, gluster_volume)"
        )
    return filesystem / BALLAST_NAME


def fill_brick(volume: str, index: int, *, leave: int = 0) -> int:
    """Fill the filesystem of brick ``index`` until at most ``leave`` bytes
    are free, with a preallocated file beside the brick directory; return
    the bytes free afterwards. Writes that need space then fail on that
    brick with ENOSPC (posix refuses once less than ``storage.reserve``, 1 %
    by default, is free). Only for bricks on a filesystem of their own."""
    ballast = _ballast(volume, index)
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        size = os.fstat(fd).st_size + shutil.disk_usage(ballast.parent).free - leave
        # metadata blocks make the last few MiB unpredictable: back off
        while size > 0:
            try:
                os.posix_fallocate(fd, 0, size)
                break
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise FaultError(f"cannot fill {ballast.parent}: {e}") from e
                size -= 2**20
        os.fsync(fd)
    finally:
        os.close(fd)
    return shutil.disk_usage(ballast.parent).free


def empty_brick(volume: str, index: int) -> None:
    """Undo :func:`fill_brick` (nothing if the brick was not filled)."""
    with contextlib.suppress(FileNotFoundError):
        _ballast(volume, index).unlink()


@contextlib.contextmanager
def brick_full(volume: str, index: int, *, leave: int = 0) -> Iterator[int]:
    """Brick ``index`` full for the duration of the block (yields the bytes
    left free); always emptied again."""
    try:
        yield fill_brick(volume, index, leave=leave)
    finally:
        empty_brick(volume, index)


# ---------------------------------------------------------------- glusterd


def _glusterd_answers() -> bool:
    try:
        cp = subprocess.run(
            ["gluster", "--mode=script", "volume", "list"],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return cp.returncode == 0


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def restart_glusterd(timeout: float = GLUSTERD_TIMEOUT) -> float:
    """SIGTERM glusterd, start it again as :class:`LocalCluster` does and
    wait until it answers the CLI and shows every brick and self-heal daemon
    online. Brick processes keep running throughout (the self-heal daemon is
    restarted). Returns the seconds from SIGTERM until all that holds."""
    t0 = time.monotonic()
    stop_glusterd(timeout)
    start_glusterd(timeout)
    return time.monotonic() - t0


def stop_glusterd(timeout: float = GLUSTERD_TIMEOUT) -> None:
    """SIGTERM glusterd and wait until it is gone and port 24007 is closed;
    the bricks and the self-heal daemon keep running."""
    try:
        pid = int(GLUSTERD_PIDFILE.read_text().strip())
    except (OSError, ValueError) as e:
        raise FaultError(
            f"cannot read glusterd's pid from {GLUSTERD_PIDFILE}: {e}"
        ) from e
    if not _alive(pid):
        raise FaultError(f"glusterd pid {pid} from {GLUSTERD_PIDFILE} is not running")
    os.kill(pid, signal.SIGTERM)
    _wait(f"glusterd (pid {pid}) to exit", lambda: not _alive(pid), timeout)
    _wait("port 24007 to close", lambda: not _port_open(24007), timeout)


def start_glusterd(timeout: float = GLUSTERD_TIMEOUT) -> None:
    """Start glusterd (as the unit file does) and wait until it answers the
    CLI and shows every brick and self-heal daemon online."""
    cp = subprocess.run(
        GLUSTERD_ARGV, capture_output=True, text=True, timeout=60, check=False
    )
    if cp.returncode != 0:
        raise FaultError(
            f"`{' '.join(GLUSTERD_ARGV)}` failed (exit {cp.returncode}):\n"
            + tail(cp.stdout + cp.stderr)
        )
    _wait("glusterd to answer `gluster volume list`", _glusterd_answers, timeout, 0.5)
    offline: list[str] = []

    def all_online() -> bool:
        nonlocal offline
        try:
            offline = _offline_processes()
        except FaultError:
            return False
        return not offline

    # The new glusterd re-attaches to the running bricks but stops and starts
    # the self-heal daemon (~5 s). Wait less than the whole timeout for that:
    # a daemon that failed to start does not come back by itself.
    with contextlib.suppress(FaultError):
        _wait("every brick and self-heal daemon online", all_online, timeout / 3, 0.5)
        return
    if not offline or not all(o.endswith(": Self-heal Daemon") for o in offline):
        raise FaultError(f"after starting glusterd: {offline} offline")
    _restart_self_heal_daemon(offline, all_online, timeout)


def _restart_self_heal_daemon(
    offline: list[str], all_online: Callable[[], bool], timeout: float
) -> None:
    """glusterd 10 sometimes fails to re-attach the multiplexed self-heal
    daemon after a restart ("adding svc glustershd ... to existing process
    with pid -1" in glusterd.log; the new daemon's bind fails with "Address
    already in use" while the old one still exits), and `volume start force`
    right then can fail too ("Commit failed on localhost"). Do what an
    administrator would: kill every self-heal daemon process, wait until it
    is gone, and start the volumes again until glusterd shows it online."""
    volumes = sorted({o.split(":")[0] for o in offline})
    deadline = time.monotonic() + timeout
    attempt = 0
    while True:
        attempt += 1
        for pid in _self_heal_daemon_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _wait(
            "the old self-heal daemon to exit", lambda: not _self_heal_daemon_pids(), 30
        )
        for volume in volumes:
            gluster_cli("volume", "start", volume, "force", check=False)
        with contextlib.suppress(FaultError):
            _wait("the self-heal daemon online", all_online, 20, 0.5)
            return
        if time.monotonic() > deadline:
            with contextlib.suppress(FaultError):
                offline = _offline_processes()
            raise FaultError(
                f"after starting glusterd, {attempt} restarts of the self-heal "
                f"daemon left {offline} offline; see /var/log/glusterfs/glusterd.log"
            )


def _no_self_heal_daemon() -> bool:
    return not _self_heal_daemon_pids()


def _self_heal_daemon_pids() -> list[int]:
    """Live glustershd processes (the daemon is glusterfs run with
    ``--volfile-id shd/...``)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or not _alive(int(entry.name)):
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.startswith(b"shd/") for a in argv):
            pids.append(int(entry.name))
    return pids


def _offline_processes() -> list[str]:
    """`volume status all`: the processes (bricks, self-heal daemons) of
    started volumes that glusterd does not show online."""
    root = _gluster_xml("volume", "status", "all")
    out = []
    for vol in root.iter("volume"):
        for node in vol.iter("node"):
            path = node.findtext("path", "")
            port = node.findtext("port", "N/A")
            is_brick = path.startswith("/")
            if node.findtext("status") != "1" or (is_brick and not port.isdigit()):
                what = path if is_brick else node.findtext("hostname", "?")
                out.append(f"{vol.findtext('volName')}: {what}")
    return out


# ---------------------------------------------------------------- self-heal


@dataclass(frozen=True)
class HealBrick:
    """One brick's part of `gluster volume heal VOL info`."""

    path: Path
    status: str  # "Connected", or why heal info could not ask the brick
    entries: list[str] = field(default_factory=list)  # "/f.img", "<gfid:...>"
    count: int | None = None  # None when not connected ("-")


def heal(volume: str, timeout: float = 30.0) -> float:
    """Trigger an index heal: `gluster volume heal VOL`; return the seconds
    until glusterd accepted it.

    Right after a brick (re)starts, the self-heal daemon has not reconnected
    to it yet and glusterd answers "Glusterd Syncop Mgmt brick op 'Heal'
    failed"; retry that until timeout.
    """
    t0 = time.monotonic()
    while True:
        cp = gluster_cli("volume", "heal", volume, check=False)
        if cp.returncode == 0:
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise FaultError(
                f"`gluster volume heal {volume}` still failing after "
                f"{timeout:.0f} s:\n{tail(cp.stdout)}\nsee "
                "/var/log/glusterfs/glustershd.log"
            )
        time.sleep(0.5)


def heal_info(volume: str) -> list[HealBrick]:
    """`gluster volume heal VOL info --xml`, per brick in child order."""
    root = _gluster_xml("volume", "heal", volume, "info")
    out = []
    for b in root.iter("brick"):
        name = b.findtext("name", "")
        count_text = (b.findtext("numberOfEntries") or "").strip()
        out.append(
            HealBrick(
                path=Path(name.split(":", 1)[-1]),
                status=b.findtext("status", ""),
                entries=[(f.text or "").strip() for f in b.iter("file")],
                count=int(count_text) if count_text.isdigit() else None,
            )
        )
    if not out:
        raise FaultError(f"`gluster volume heal {volume} info` lists no bricks")
    return out


def heal_info_entries(volume: str) -> dict[Path, list[str]]:
    """brick path -> entries needing heal, for the bricks heal info reached
    (a down brick is left out; see heal_info() for its status)."""
    return {b.path: b.entries for b in heal_info(volume) if b.status == "Connected"}


def wait_healed(
    volume: str,
    timeout: float = HEAL_TIMEOUT,
    retrigger: float = 5.0,
    paths: Iterable[str] | None = None,
) -> float:
    """Poll heal info until every brick is connected with 0 entries; return
    the seconds it took. Re-triggers an index heal every `retrigger` s (the
    first trigger may come before the self-heal daemon reconnected).

    With paths (volume paths as heal info prints them, "/f.img"), only those
    must be gone from every brick's list: other users' files on a shared test
    volume may legitimately stay pending.
    """
    last: list[HealBrick] = []
    next_heal = time.monotonic() + retrigger
    wanted = None if paths is None else {"/" + p.lstrip("/") for p in paths}

    def healed() -> bool:
        nonlocal last, next_heal
        try:
            last = heal_info(volume)
        except FaultError:
            return False
        if all(b.status == "Connected" for b in last) and (
            all(b.count == 0 for b in last)
            if wanted is None
            else not any(wanted.intersection(b.entries) for b in last)
        ):
            return True
        if time.monotonic() >= next_heal:
            gluster_cli("volume", "heal", volume, check=False)
            next_heal = time.monotonic() + retrigger
        return False

    try:
        return _wait(f"{volume} to heal", healed, timeout, interval=0.5)
    except FaultError as e:
        state = "; ".join(
            f"{b.path.name}: {b.status}, {b.count} entries {b.entries[:5]}"
            for b in last
        )
        raise FaultError(f"{e} (last heal info: {state or 'no answer'})") from None


# ---------------------------------------------------------------- brick files


def afr_xattrs(path: str | os.PathLike[str]) -> dict[str, tuple[int, int, int]]:
    """The AFR changelog of one brick file: every ``trusted.afr.*`` xattr
    (full name, e.g. ``trusted.afr.pyg_rep3-client-2`` or
    ``trusted.afr.dirty``) decoded as [data, metadata, entry] BE int32.
    Absent keys mean all zero."""
    out = {}
    for name in os.listxattr(path, follow_symlinks=False):
        if name.startswith(AFR_PREFIX):
            raw = os.getxattr(path, name, follow_symlinks=False)
            if len(raw) != _TRIPLET.size:
                raise FaultError(
                    f"{path}: {name} is {len(raw)} bytes ({raw.hex()}), not 12"
                )
            data, metadata, entry = _TRIPLET.unpack(raw)
            out[name] = (data, metadata, entry)
    return out


def brick_path(volume: str, index: int, relpath: str) -> Path:
    """The file's path on brick index (relpath is relative to the volume root)."""
    return brick(volume, index).path / relpath.lstrip("/")


def brick_file_bytes(volume: str, index: int, relpath: str) -> bytes:
    """The file's bytes as stored on brick index (read directly from disk)."""
    return brick_path(volume, index, relpath).read_bytes()


def assert_afr_clean(volume: str, relpath: str, timeout: float = 0.0) -> None:
    """Every trusted.afr.* counter of the file is zero on every brick.

    With timeout > 0, poll that long first: AFR's eager-lock post-op lands
    up to post-op-delay-secs (1 s) after the last write.
    """
    deadline = time.monotonic() + timeout
    while True:
        dirty = {}
        for b in brick_processes(volume):
            xattrs = afr_xattrs(b.path / relpath.lstrip("/"))
            bad = {k: v for k, v in xattrs.items() if v != (0, 0, 0)}
            if bad:
                dirty[str(b.path)] = bad
        if not dirty:
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"{volume}:{relpath} AFR changelog not clean: {dirty}")
        time.sleep(0.2)


def assert_replicas_identical(
    volume: str, relpath: str, arbiter_index: int | None = None
) -> None:
    """All data bricks hold byte-identical copies of the file with the same
    trusted.gfid; the arbiter's copy (if any) is 0 bytes and carries that gfid."""
    bricks = brick_processes(volume)
    gfids: dict[int, bytes] = {}
    copies: dict[int, bytes] = {}
    for b in bricks:
        p = b.path / relpath.lstrip("/")
        try:
            gfids[b.index] = os.getxattr(p, "trusted.gfid", follow_symlinks=False)
        except OSError as e:
            raise AssertionError(f"{p}: no trusted.gfid ({e})") from None
        if b.index == arbiter_index:
            size = p.stat().st_size
            if size != 0:
                raise AssertionError(f"arbiter copy {p} is {size} bytes, not 0")
        else:
            copies[b.index] = p.read_bytes()
    if len(set(gfids.values())) != 1:
        raise AssertionError(
            f"{volume}:{relpath} gfids differ: "
            + ", ".join(f"b{i + 1}={g.hex()}" for i, g in gfids.items())
        )
    if not copies:
        raise AssertionError(f"{volume}:{relpath}: no data brick to compare")
    first, ref = next(iter(copies.items()))
    for i, data in copies.items():
        if data != ref:
            at = next(
                (k for k, (x, y) in enumerate(zip(ref, data, strict=False)) if x != y),
                min(len(ref), len(data)),
            )
            hint = ""
            if arbiter_index is None and 0 in (len(data), len(ref)):
                hint = " (an arbiter volume? pass arbiter_index)"
            raise AssertionError(
                f"{volume}:{relpath}: b{i + 1} ({len(data)} bytes) differs from "
                f"b{first + 1} ({len(ref)} bytes) at offset {at}{hint}"
            )
