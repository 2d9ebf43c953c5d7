"""A local single-node gluster cluster for tests: packages, glusterd, volumes.

:class:`LocalCluster` installs Debian's ``glusterfs-server`` (and the
reference clients) when they are missing and that is allowed, starts glusterd
when it is not running, and creates, starts, waits for and deletes volumes of
any layout (:mod:`pygluster.testing.layouts`). Every step is idempotent and
bounded: it returns once the cluster is in the state asked for, or raises
:class:`~pygluster.errors.ClusterError` naming the step and quoting what the
command said.

Bricks are directories under the brick root (``/var/lib/pygluster/bricks``,
or ``$PYGLUSTER_BRICK_ROOT``) as ``<root>/<volume>/b1, b2, ...``, created
with ``force`` since they are on the root filesystem; with ``brick_size``
each brick is a filesystem of its own (``<root>/<volume>/d1/brick`` on a
loop-mounted ext4 image). The brick host is this machine's name when it
resolves to loopback only (glusterd refuses ``localhost``), else the alias
``pygluster-local`` added to /etc/hosts. Only loopback addresses are used.

Runs as root on Debian with systemd or without (then glusterd is started as
the unit file would start it).
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import os
import re
import secrets
import shutil
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pygluster.errors import ClusterError
from pygluster.testing.commands import gluster, gluster_xml, log, run, tail
from pygluster.testing.layouts import VolumeSpec, check_volume_name, volume_spec
from pygluster.uri import GlusterURI, Server

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "FRESH_PREFIX",
    "GLUSTERD_SOCKET",
    "PACKAGES",
    "SERVER_PACKAGES",
    "LocalCluster",
    "ProcState",
    "Volume",
    "VolumeInfo",
    "project_volumes",
]

DEFAULT_BRICK_ROOT = "/var/lib/pygluster/bricks"
HOST_ALIAS = "pygluster-local"
HOSTS_FILE = Path("/etc/hosts")
GLUSTERD = "/usr/sbin/glusterd"
GLUSTERD_PIDFILE = Path("/var/run/glusterd.pid")
GLUSTERD_LOG = Path("/var/log/glusterfs/glusterd.log")
GLUSTERD_SOCKET = "/var/run/glusterd.socket"
GLUSTERD_STATE = Path("/var/lib/glusterd")
#: glusterd as the unit file starts it, for machines without systemd
GLUSTERD_ARGV = (GLUSTERD, "-p", str(GLUSTERD_PIDFILE), "--log-level", "INFO")

GLUSTERD_TIMEOUT = 90.0  # s until a started glusterd must answer the CLI
BRICK_TIMEOUT = 90.0  # s until every brick must be online
APT_TIMEOUT = 1800.0

#: package -> a file it installs (a quick check before asking dpkg)
PACKAGES = {
    "glusterfs-server": "/usr/sbin/glusterd",
    "glusterfs-client": "/usr/sbin/glusterfs",
    # the reference clients (libgfapi underneath) the tests compare with
    "qemu-utils": "/usr/bin/qemu-img",
    "qemu-block-extra": "/usr/lib/x86_64-linux-gnu/qemu/block-gluster.so",
    "fio": "/usr/bin/fio",
    "tshark": "/usr/bin/tshark",
    "attr": "/usr/bin/getfattr",
    # NBD clients for `pygluster nbd`, and a QEMU that boots from the export
    "libnbd-bin": "/usr/bin/nbdinfo",
    "qemu-system-x86": "/usr/bin/qemu-system-x86_64",
    # certificates for the TLS volume
    "openssl": "/usr/bin/openssl",
    # filesystems of their own for bricks with a size (VolumeSpec.brick_size)
    "e2fsprogs": "/usr/sbin/mkfs.ext4",
}
#: What a cluster needs: glusterd, the FUSE client, getfattr, mkfs.ext4.
SERVER_PACKAGES = {
    p: PACKAGES[p]
    for p in ("glusterfs-server", "glusterfs-client", "attr", "e2fsprogs")
}
# Answer tshark's "should non-superusers be able to capture packets?" up front.
DEBCONF_PRESEED = "wireshark-common wireshark-common/install-setuid boolean false\n"

#: Name prefix of the volumes made by :meth:`LocalCluster.create_volume`
#: without a name; `pygluster cluster down` removes leftovers of these too.
FRESH_PREFIX = "pgt_"
_PROJECT_PREFIX = "pyg_"

# The replicated volumes' fault tests kill and SIGSTOP bricks: a hung brick
# must be declared dead in seconds, not the default 42.
_FAULT_OPTIONS = {"network.ping-timeout": "5"}
TLS_VOLUME = "pyg_tls"


def project_volumes(host: str) -> tuple[VolumeSpec, ...]:
    """The standing volumes pygluster's own test suite and benchmarks use
    (``pygluster cluster up`` makes them)."""
    return (
        volume_spec("single", "pyg_single"),
        volume_spec("distribute", "pyg_dist"),
        volume_spec("replica3", "pyg_rep3", options=_FAULT_OPTIONS),
        volume_spec("arbiter", "pyg_arb", options=_FAULT_OPTIONS),
        volume_spec("disperse", "pyg_ec"),
        volume_spec("disperse42", "pyg_ec42"),
        volume_spec("distributed-disperse", "pyg_dec"),
        volume_spec("virt", "pyg_shard"),
        # TLS on the I/O path: the brick reads glusterfs.pem/.key/.ca from
        # OpenSSL's folder at every connection; auth.ssl-allow admits the
        # brick host's certificate (what libgfapi and FUSE present) and the
        # TLS tests' "pyg-alice".
        volume_spec(
            "single",
            TLS_VOLUME,
            options={
                "client.ssl": "on",
                "server.ssl": "on",
                "auth.ssl-allow": f"{host},pyg-alice",
            },
        ),
    )


# ---------------------------------------------------------------- state


@dataclass
class VolumeInfo:
    """One volume as ``gluster volume info`` shows it."""

    name: str
    status: str  # Created / Started / Stopped
    type_str: str
    arbiter: int
    redundancy: int
    bricks: list[str]  # "host:/path"
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProcState:
    """One process of a volume as ``gluster volume status`` shows it."""

    what: str  # "brick host:/path" or "host on Self-heal Daemon"
    online: bool
    port: str
    pid: str

    @property
    def is_brick(self) -> bool:
        return self.what.startswith("brick ")


def volume_infos() -> dict[str, VolumeInfo]:
    """Every volume glusterd knows, by name."""
    root = gluster_xml("volume", "info", "all")
    out: dict[str, VolumeInfo] = {}
    for v in root.iter("volume"):
        name = v.findtext("name")
        if not name:
            continue
        out[name] = VolumeInfo(
            name=name,
            status=v.findtext("statusStr", ""),
            type_str=v.findtext("typeStr", ""),
            arbiter=int(v.findtext("arbiterCount", "0") or 0),
            redundancy=int(v.findtext("redundancyCount", "0") or 0),
            bricks=[b.findtext("name", "") for b in v.iter("brick")],
            options={
                o.findtext("name", ""): o.findtext("value", "")
                for o in v.iter("option")
            },
        )
    return out


def volume_procs(name: str) -> list[ProcState]:
    """The bricks and daemons of a started volume, online or not."""
    root = gluster_xml("volume", "status", name)
    procs = []
    for n in root.iter("node"):
        host, path = n.findtext("hostname", ""), n.findtext("path", "")
        port = n.findtext("port", "N/A")
        is_brick = path.startswith("/")
        online = n.findtext("status") == "1" and (
            not is_brick or port not in ("N/A", "0", "")
        )
        what = f"brick {host}:{path}" if is_brick else f"{host} on {path}"
        procs.append(ProcState(what, online, port, n.findtext("pid", "")))
    return procs


# ---------------------------------------------------------------- volumes


@dataclass(frozen=True)
class Volume:
    """A volume of the local cluster.

    Attributes:
        host: the brick host (and glusterd's address).
        spec: what it was created as.
        brick_paths: the brick directories, in child order (index 0 is
            ``<volume>-client-0`` in the volfile, the first brick
            ``gluster volume status`` lists, and brick 0 for
            :mod:`pygluster.testing.faults`).
    """

    host: str
    spec: VolumeSpec
    brick_paths: tuple[Path, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def bricks(self) -> tuple[str, ...]:
        """``host:/path`` of every brick, as glusterd names them."""
        return tuple(f"{self.host}:{p}" for p in self.brick_paths)

    @property
    def uri(self) -> GlusterURI:
        """The volume-only URI (``gluster://host/volume``)."""
        return GlusterURI((Server("tcp", self.host),), self.name, None)

    def image(self, path: str, *, transport: str = "tcp") -> GlusterURI:
        """The URI of image ``path`` on this volume, over TCP to glusterd or
        (``transport="unix"``) over glusterd's unix socket."""
        server = (
            Server("unix", socket=GLUSTERD_SOCKET)
            if transport == "unix"
            else Server("tcp", self.host)
        )
        return GlusterURI((server,), self.name, path.lstrip("/"))


def brick_root() -> Path:
    """Where bricks go: ``$PYGLUSTER_BRICK_ROOT`` or the default."""
    raw = os.environ.get("PYGLUSTER_BRICK_ROOT") or DEFAULT_BRICK_ROOT
    # realpath: /proc/self/mounts names the brick filesystems' real paths
    p = Path(os.path.realpath(raw))
    if not p.is_absolute() or len(p.parts) < 3:
        # volumes' directories below it are removed: refuse "/", "/var", ...
        raise ClusterError(
            f"PYGLUSTER_BRICK_ROOT={raw!r} must be an absolute path at least two "
            "levels deep (e.g. /var/lib/pygluster/bricks)"
        )
    return p


def _brick_paths(spec: VolumeSpec, root: Path) -> tuple[Path, ...]:
    base = root / spec.name
    if spec.brick_size:
        return tuple(base / f"d{i}" / "brick" for i in range(1, spec.bricks + 1))
    return tuple(base / f"b{i}" for i in range(1, spec.bricks + 1))


def _mounts_under(folder: Path) -> list[Path]:
    """Mount points at or below ``folder``, deepest first."""
    points = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) > 1:
                point = Path(parts[1].replace("\\040", " "))
                if point == folder or folder in point.parents:
                    points.append(point)
    return sorted(points, key=lambda p: len(p.parts), reverse=True)


def _group_options(group: str) -> dict[str, str]:
    path = GLUSTERD_STATE / "groups" / group
    try:
        text = path.read_text()
    except OSError as e:
        raise ClusterError(f"cannot read option group {path}: {e}") from e
    opts = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            opts[k.strip()] = v.strip()
    return opts


# ---------------------------------------------------------------- host


def _is_loopback_only(name: str) -> bool:
    try:
        infos = socket.getaddrinfo(name, None)
    except OSError:
        return False
    addrs = {str(info[4][0]) for info in infos}
    return bool(addrs) and all(
        ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addrs
    )


def default_brick_host() -> str:
    """This machine's name if it resolves only to loopback, else the alias."""
    name = socket.gethostname()
    if name and name != "localhost" and _is_loopback_only(name):
        return name
    return HOST_ALIAS


def _glusterd_pids() -> list[int]:
    """Live glusterd processes (zombies excluded: PID 1 may not reap them)."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            comm = stat[stat.find("(") + 1 : stat.rfind(")")]
            state = stat[stat.rfind(")") + 2 : stat.rfind(")") + 3]
            if comm == "glusterd" and state not in ("Z", "X"):
                pids.append(int(d.name))
    return pids


def glusterd_answers() -> bool:
    """glusterd answers ``gluster pool list``."""
    try:
        cp = run(["gluster", "--mode=script", "pool", "list"], check=False, timeout=30)
    except ClusterError:
        return False
    return cp.returncode == 0


def glusterd_log_tail() -> str:
    try:
        return tail(GLUSTERD_LOG.read_text(errors="replace"), 30)
    except OSError as e:
        return f"    (cannot read {GLUSTERD_LOG}: {e})"


class LocalCluster:
    """The gluster cluster on this machine.

    Args:
        host: the brick host; by default this machine's name (see the
            module doc). Give it to use a glusterd that is already set up.
        install: allow ``apt-get install`` of missing packages in :meth:`up`.
        start: allow starting glusterd when it does not answer; without
            it a glusterd that does not answer is a ClusterError.
        root: the brick root (default ``$PYGLUSTER_BRICK_ROOT`` or
            ``/var/lib/pygluster/bricks``).
    """

    def __init__(
        self,
        host: str | None = None,
        *,
        install: bool = True,
        start: bool = True,
        root: Path | None = None,
    ) -> None:
        self._host = host
        self.install = install
        self.start = start
        self.root = root if root is not None else brick_root()
        self._counter = itertools.count(1)
        self._token = secrets.token_hex(3)

    @property
    def host(self) -> str:
        """The brick host name (what the volfiles' remote-host says)."""
        return self._host or default_brick_host()

    # ------------------------------------------------------------ set-up

    def up(
        self,
        volumes: Sequence[VolumeSpec] = (),
        *,
        packages: Mapping[str, str] = SERVER_PACKAGES,
    ) -> list[Volume]:
        """Install what is missing of ``packages`` (if allowed; name -> a
        file it installs), make the brick host resolve, start glusterd if it
        is not answering (if allowed), then make each of ``volumes`` exist as
        specified, started, every brick online. Returns them."""
        _need_root()
        self.ensure_packages(packages)
        self._ensure_brick_host()
        fresh = self.ensure_glusterd()
        infos = volume_infos()
        if any(dict(s.options).get("client.ssl") == "on" for s in volumes):
            _ensure_tls_files(self.host)
        for spec in volumes:
            self._ensure_volume(spec, infos, glusterd_fresh=fresh)
        states = self.wait_online(
            [s.name for s in volumes], force_after=20 if fresh else 30
        )
        for name, ps in states.items():
            ports = " ".join(p.port for p in ps if p.is_brick)
            log(f"{name}: up, brick ports {ports}")
        return [self.volume_of(spec) for spec in volumes]

    def ensure_packages(self, packages: Mapping[str, str] = PACKAGES) -> None:
        """Install the missing ones of ``packages`` (when allowed)."""
        missing = [
            p for p, f in packages.items() if not (os.path.exists(f) and _installed(p))
        ]
        if not missing:
            return
        if not self.install:
            raise ClusterError(
                f"missing packages {' '.join(missing)} and installing is not "
                "allowed here; install them (apt-get install "
                f"--no-install-recommends {' '.join(missing)})"
            )
        log(f"installing {' '.join(missing)} (apt-get; this takes a few minutes)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", NEEDRESTART_MODE="a")
        run(["debconf-set-selections"], input_text=DEBCONF_PRESEED, env=env, timeout=60)
        run(["apt-get", "update"], env=env, timeout=APT_TIMEOUT)
        run(
            [
                "apt-get", "install", "-y", "--no-install-recommends",
                "-o", "Dpkg::Options::=--force-confdef",
                "-o", "Dpkg::Options::=--force-confold",
                *missing,
            ],
            env=env,
            timeout=APT_TIMEOUT,
        )  # fmt: skip
        still = [p for p in missing if not _installed(p)]
        if still:
            raise ClusterError(
                f"apt-get install ran but these are not installed: {still}"
            )

    def _ensure_brick_host(self) -> None:
        host = self.host
        if host == HOST_ALIAS and not _is_loopback_only(HOST_ALIAS):
            log(
                f"hostname {socket.gethostname()!r} is not loopback-only; "
                f"adding '127.0.0.1 {HOST_ALIAS}' to {HOSTS_FILE}"
            )
            try:
                text = HOSTS_FILE.read_text()
                with HOSTS_FILE.open("a") as f:
                    f.write(
                        ("" if text.endswith("\n") else "\n")
                        + f"127.0.0.1\t{HOST_ALIAS}\n"
                    )
            except OSError as e:
                raise ClusterError(
                    f"cannot add {HOST_ALIAS} to {HOSTS_FILE}: {e}"
                ) from e
            if not _is_loopback_only(HOST_ALIAS):
                raise ClusterError(
                    f"added {HOST_ALIAS} to {HOSTS_FILE}, but it still does not "
                    "resolve to 127.0.0.1 (check /etc/nsswitch.conf)"
                )

    def ensure_glusterd(self) -> bool:
        """Make glusterd answer the CLI; True when it was not answering."""
        if glusterd_answers():
            return False
        if not self.start:
            raise ClusterError(
                f"glusterd on this machine does not answer `gluster pool list` "
                f"(brick host {self.host}); start it, or let pygluster do it"
            )
        if _glusterd_pids():
            log("glusterd is running but not answering yet; waiting")
        elif Path("/run/systemd/system").is_dir() and shutil.which("systemctl"):
            log("starting glusterd (systemctl start glusterd)")
            run(["systemctl", "start", "glusterd"], timeout=GLUSTERD_TIMEOUT)
        else:
            # No systemd (containers, gVisor): start it as the unit file
            # would. glusterd daemonizes itself and restarts the bricks of
            # started volumes.
            log(f"starting glusterd ({' '.join(GLUSTERD_ARGV)}), no systemd here")
            run(list(GLUSTERD_ARGV), timeout=60)
        deadline = time.monotonic() + GLUSTERD_TIMEOUT
        while time.monotonic() < deadline:
            if glusterd_answers():
                cp = gluster("volume", "list", check=False)
                if cp.returncode == 0:
                    log("glusterd is up")
                    return True
            if not _glusterd_pids():
                time.sleep(1)
                if not _glusterd_pids() and not glusterd_answers():
                    raise ClusterError(
                        f"glusterd exited right after starting; {GLUSTERD_LOG} "
                        "ends:\n" + glusterd_log_tail()
                    )
            time.sleep(0.5)
        cp = gluster("pool", "list", check=False)
        raise ClusterError(
            f"glusterd did not answer `gluster pool list` within "
            f"{GLUSTERD_TIMEOUT:.0f} s; last output:\n{tail(cp.stdout)}\n"
            f"{GLUSTERD_LOG} ends:\n" + glusterd_log_tail()
        )

    # ------------------------------------------------------------ volumes

    def volume_of(self, spec: VolumeSpec) -> Volume:
        """The :class:`Volume` ``spec`` describes on this cluster."""
        return Volume(self.host, spec, _brick_paths(spec, self.root))

    def create_volume(
        self,
        layout: str = "single",
        name: str | None = None,
        *,
        bricks: int | None = None,
        options: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        groups: Iterable[str] = (),
        brick_size: int | None = None,
    ) -> Volume:
        """Create a fresh volume of ``layout``, start it, wait until every
        brick is online. Its name is ``pgt_...`` unless given; a volume of
        that name must not exist. See :func:`~pygluster.testing.layouts.volume_spec`
        for the arguments."""
        if name is None:
            name = f"{FRESH_PREFIX}{self._token}_{os.getpid()}_{next(self._counter)}"
        spec = volume_spec(
            layout,
            name,
            bricks=bricks,
            options=options,
            groups=groups,
            brick_size=brick_size,
        )
        infos = volume_infos()
        if name in infos:
            raise ClusterError(f"volume {name} exists already")
        try:
            self._create(spec, infos)
            self.wait_online([name], force_after=30)
        except BaseException:
            # nothing half-made stays: mounts, images, a created volume
            with contextlib.suppress(Exception):
                self.delete_volume(name)
            raise
        return self.volume_of(spec)

    def delete_volume(self, volume: Volume | str) -> None:
        """Stop (force) and delete the volume and remove its brick folders
        (and the filesystems of sized bricks). Nothing if it does not exist."""
        name = check_volume_name(volume if isinstance(volume, str) else volume.name)
        infos = volume_infos()
        info = infos.pop(name, None)
        if info is not None:
            _delete(name, info)
        self._remove_dir(name, infos)

    def _create(self, spec: VolumeSpec, infos: dict[str, VolumeInfo]) -> None:
        self._remove_dir(spec.name, infos)
        base = self.root / spec.name
        base.mkdir(parents=True, exist_ok=True)
        paths = _brick_paths(spec, self.root)
        if spec.brick_size:
            for path in paths:
                _make_brick_filesystem(path.parent, spec.brick_size)
        log(f"creating {spec.name}: {spec.describe()}")
        gluster(
            "volume",
            "create",
            spec.name,
            *spec.set_args,
            *(f"{self.host}:{p}" for p in paths),
            "force",
        )
        _apply_options(spec, {})
        log(f"starting {spec.name}")
        gluster("volume", "start", spec.name)

    def _ensure_volume(
        self, spec: VolumeSpec, infos: dict[str, VolumeInfo], *, glusterd_fresh: bool
    ) -> None:
        info = infos.get(spec.name)
        want = [f"{self.host}:{p}" for p in _brick_paths(spec, self.root)]
        if info is not None:
            shape = (info.type_str, info.arbiter, info.redundancy, info.bricks)
            if shape != (spec.type_str, spec.arbiter, spec.redundancy, want):
                raise ClusterError(
                    f"volume {spec.name} exists but is not what is asked for: "
                    f"{info.type_str} arbiter={info.arbiter} redundancy="
                    f"{info.redundancy} bricks {info.bricks}; expected "
                    f"{spec.type_str} arbiter={spec.arbiter} redundancy="
                    f"{spec.redundancy} bricks {want}. Run `pygluster cluster "
                    "down` (deletes its data) and `up` again."
                )
            missing = [b for b in want if not Path(b.split(":", 1)[1]).is_dir()]
            if missing:
                # the brick root was wiped under an existing volume: its data
                # is gone anyway, and glusterd cannot start such bricks
                log(f"{spec.name}: brick dirs missing ({', '.join(missing)}); anew")
                _delete(spec.name, info)
                del infos[spec.name]
                info = None
        if info is None:
            self._create(spec, infos)
            return
        _apply_options(spec, info.options)
        if info.status != "Started":
            log(f"starting {spec.name} (was {info.status})")
            gluster("volume", "start", spec.name)
            return
        down = [p.what for p in volume_procs(spec.name) if not p.online]
        if down and glusterd_fresh:
            # glusterd restarts the bricks of started volumes as it comes
            # up; wait_online() forces only those that stay down
            log(f"{spec.name}: not yet online (glusterd starts them): {down}")
        elif down:
            log(f"{spec.name}: offline: {', '.join(down)}; volume start force")
            gluster("volume", "start", spec.name, "force")

    def _remove_dir(self, name: str, infos: dict[str, VolumeInfo]) -> None:
        """Remove ``<root>/<name>`` (unmounting brick filesystems), but only
        when no existing volume has a brick in or above it: stale bricks of
        a deleted volume carry trusted.glusterfs.volume-id, .glusterfs and
        old data, so a new volume cannot reuse them."""
        folder = self.root / check_volume_name(name)
        if not folder.exists():
            return
        if folder.resolve().parent != self.root.resolve():
            raise ClusterError(
                f"{folder} is not a folder of {self.root}; not removing it"
            )
        for info in infos.values():
            for brick in info.bricks:
                used = Path(brick.split(":", 1)[1])
                if used == folder or folder in used.parents or used in folder.parents:
                    raise ClusterError(
                        f"{folder} holds brick {used} of existing volume "
                        f"{info.name}; not removing it"
                    )
        log(f"removing brick folder {folder}")
        for point in _mounts_under(folder):
            _unmount(point)
        try:
            shutil.rmtree(folder)
        except OSError as e:
            raise ClusterError(f"cannot remove brick folder {folder}: {e}") from e

    def wait_online(
        self, names: Sequence[str], force_after: float = 30.0
    ) -> dict[str, list[ProcState]]:
        """Wait until every brick and self-heal daemon of ``names`` is
        online and every brick takes connections; ``volume start VOL
        force`` once for a volume still down after ``force_after`` s. A
        daemon (not a brick) still down after the deadline is a warning,
        not an error."""
        start = time.monotonic()
        deadline = start + BRICK_TIMEOUT
        forced: set[str] = set()
        while True:
            states = {n: volume_procs(n) for n in names}
            down = {n: [p for p in ps if not p.online] for n, ps in states.items()}
            bricks_down = {
                n: [p.what for p in ps if p.is_brick] for n, ps in down.items()
            }
            if not any(down.values()) and self._bricks_answer(states):
                return states
            now = time.monotonic()
            if now > deadline and not any(down.values()):
                raise ClusterError(
                    f"bricks of {', '.join(names)} are online but do not take "
                    f"connections after {BRICK_TIMEOUT:.0f} s; see "
                    "/var/log/glusterfs/bricks/*.log"
                )
            if now > deadline and not any(bricks_down.values()):
                for n, ps in down.items():
                    for p in ps:
                        log(f"warning: {n}: {p.what} is not online (bricks are)")
                return states
            if now > deadline:
                detail = "\n".join(
                    gluster("volume", "status", n, check=False).stdout
                    for n, b in bricks_down.items()
                    if b
                )
                raise ClusterError(
                    f"bricks still offline after {BRICK_TIMEOUT:.0f} s: "
                    + "; ".join(
                        f"{n}: {', '.join(b)}" for n, b in bricks_down.items() if b
                    )
                    + "\n`gluster volume status` says:\n"
                    + tail(detail)
                    + "\nsee /var/log/glusterfs/bricks/*.log"
                )
            if now > start + force_after:
                for n, ps in down.items():
                    if ps and n not in forced:
                        forced.add(n)
                        log(f"{n}: still offline: {', '.join(p.what for p in ps)}")
                        gluster("volume", "start", n, "force", check=False)
            time.sleep(1)

    def _bricks_answer(self, states: Mapping[str, list[ProcState]]) -> bool:
        """Every brick glusterd shows online accepts a TCP connection on its
        port: glusterd marks a brick online when it has signed in, which can
        be a moment before the brick's own listener takes connections."""
        for procs in states.values():
            for proc in procs:
                if proc.is_brick and proc.port.isdigit():
                    try:
                        with socket.create_connection(
                            (self.host, int(proc.port)), timeout=2
                        ):
                            pass
                    except OSError:
                        return False
        return True

    # ------------------------------------------------------------ tear-down

    def down(self, volumes: Sequence[VolumeSpec] = ()) -> list[str]:
        """Delete ``volumes`` and every leftover fresh (``pgt_``) volume
        (one whose creating process is gone), with their brick folders.
        Other volumes are left alone; glusterd keeps running (it is started
        if it was not, to ask it). Returns the names deleted."""
        _need_root()
        if shutil.which("gluster") is None:
            log("glusterfs is not installed; nothing to do")
            return []
        self.ensure_glusterd()
        infos = volume_infos()
        names = [s.name for s in volumes]
        names += sorted(n for n in infos if _orphaned(n))
        for name in names:
            info = infos.pop(name, None)
            if info is not None:
                _delete(name, info)
        for name in names:
            self._remove_dir(name, infos)
        if self.root.is_dir() and not any(self.root.iterdir()):
            self.root.rmdir()
        return names


# ---------------------------------------------------------------- helpers


def _orphaned(name: str) -> bool:
    """A fresh volume (``pgt_<token>_<pid>_<n>``) whose creator has exited."""
    parts = name.split("_")
    if not name.startswith(FRESH_PREFIX) or len(parts) != 4 or not parts[2].isdigit():
        return False
    return not Path(f"/proc/{parts[2]}").exists()


def _need_root() -> None:
    if os.geteuid() != 0:
        raise ClusterError("must run as root (glusterd, bricks and apt-get need it)")


def _installed(pkg: str) -> bool:
    cp = run(["dpkg-query", "-W", "-f=${Status}", pkg], check=False, timeout=60)
    return cp.returncode == 0 and cp.stdout.strip() == "install ok installed"


def _apply_options(spec: VolumeSpec, current: dict[str, str]) -> None:
    """``volume set`` only what is not already so (a set regenerates the
    volfiles and makes every client reload its graph)."""
    for group in spec.groups:
        want = _group_options(group)
        wrong = sorted(k for k, v in want.items() if current.get(k) != v)
        if wrong:
            log(f"{spec.name}: volume set group {group} ({len(wrong)} options differ)")
            gluster("volume", "set", spec.name, "group", group)
            current.update(want)
    for key, value in spec.options:
        if current.get(key) != value:
            log(f"{spec.name}: volume set {key} {value}")
            gluster("volume", "set", spec.name, key, value)
            current[key] = value


def _delete(name: str, info: VolumeInfo) -> None:
    if info.status == "Started":
        log(f"stopping {name}")
        gluster("volume", "stop", name, "force")
    log(f"deleting {name}")
    gluster("volume", "delete", name)


def _unmount(point: Path, timeout: float = 30.0) -> None:
    """umount, retried while the brick process that `volume stop` signalled
    still holds the filesystem (EBUSY); lazily after ``timeout``."""
    deadline = time.monotonic() + timeout
    while run(["umount", str(point)], check=False, timeout=60).returncode:
        if point not in _mounts_under(point):
            return
        if time.monotonic() > deadline:
            log(f"{point} still busy after {timeout:.0f} s; unmounting lazily")
            run(["umount", "-l", str(point)], timeout=60)
            return
        time.sleep(0.5)


def _make_brick_filesystem(mount_point: Path, size: int) -> None:
    """An ext4 filesystem of ``size`` bytes in ``<mount_point>.img``,
    loop-mounted on ``mount_point`` (ext4 keeps the trusted.* xattrs
    gluster needs)."""
    image = mount_point.with_name(mount_point.name + ".img")
    with image.open("wb") as f:
        f.truncate(size)
    run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)], timeout=120)
    mount_point.mkdir(parents=True, exist_ok=True)
    run(["mount", "-o", "loop", str(image), str(mount_point)], timeout=60)


def _openssl_dir() -> Path:
    """Where gluster's socket.c looks for glusterfs.pem (SSL_CERT_PATH: the
    OPENSSLDIR it was built with, /usr/lib/ssl on Debian)."""
    out = run(["openssl", "version", "-d"], timeout=60).stdout
    match = re.search(r'OPENSSLDIR: "([^"]+)"', out)
    if not match:
        raise ClusterError(f"cannot tell OpenSSL's folder from {out!r}")
    return Path(match.group(1))


def _ensure_tls_files(host: str) -> None:
    """A self-signed certificate for the brick host when gluster has none."""
    folder = _openssl_dir()
    pem, key, ca = (folder / f"glusterfs.{ext}" for ext in ("pem", "key", "ca"))
    if pem.exists() and key.exists() and ca.exists():
        return
    log(f"making a self-signed TLS certificate for {host} in {folder}")
    run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", str(key), "-out", str(pem), "-days", "3650",
            "-subj", f"/CN={host}", "-addext", f"subjectAltName=DNS:{host}",
        ],
        timeout=120,
    )  # fmt: skip
    shutil.copyfile(pem, ca)
