"""pygluster against libgfapi on the same volume and image, in one run.

The block workloads run through pygluster (in this process, on the async API)
and through ``fio --ioengine=gfapi`` / ``gfapi_async`` (libgfapi), alternating
pygluster, fio, pygluster, fio... for ``rounds`` rounds; the report keeps the
median of each side and the pygluster/libgfapi ratio. Two more measurements
have no fio twin: a cold open (a fresh interpreter opens the image, reads 4
KiB and closes it) against ``qemu-img info`` and ``qemu-io -c 'read 0 4k'``,
and the peak RSS and CPU time of ``pygluster cp IMAGE /dev/null``.

Theory of operation: :func:`run_benchmark` creates the image (``size`` bytes)
and fills it with data, so reads hit real extents, then runs every selected
measurement, reporting each step to a ``progress`` callback, and removes the
image at the end (even on failure or Ctrl-C, unless ``keep``). Timing of the
pygluster side uses ``time.perf_counter_ns`` per operation; the fio side
reads fio's own JSON (``lat_ns`` percentiles, ``bw_bytes``, ``iops``).
Subprocesses that are timed from outside (cold open, qemu, cp) run blocking
in a worker thread, so the trio scheduler adds nothing to their wall clock.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import platform
import random
import resource
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import trio

import pygluster
from pygluster import blockdev
from pygluster._concurrency import run_all
from pygluster._version import __version__
from pygluster.errors import BenchError, GlusterError
from pygluster.uri import DEFAULT_PORT, GlusterURI

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

__all__ = [
    "COLD_OPEN",
    "COLD_OPEN_TARGET_S",
    "COPY_RSS",
    "DEFAULT_ROUNDS",
    "DEFAULT_RUNTIME",
    "DEFAULT_SIZE",
    "NAMES",
    "RSS_TARGET_MB",
    "WORKLOADS",
    "BenchConfig",
    "BenchError",
    "ColdOpenResult",
    "CopyResult",
    "Report",
    "Sample",
    "Workload",
    "WorkloadResult",
    "fio_command",
    "parse_fio",
    "run_benchmark",
    "run_fio",
    "run_pygluster",
]

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

Rw = Literal["read", "write", "randread", "randwrite"]
Side = Literal["pygluster", "libgfapi"]


@dataclass(frozen=True, slots=True)
class Workload:
    """One fio-style job: access pattern, block size and queue depth.

    Attributes:
        name: what ``--only`` selects it by.
        rw: fio's ``--rw``: read, write (sequential) or randread, randwrite.
        bs: bytes per operation.
        qd: operations in flight (fio ``--iodepth``; concurrent tasks here).
        target: the pygluster/libgfapi MiB/s ratio to reach (at least).
    """

    name: str
    rw: Rw
    bs: int
    qd: int
    target: float

    @property
    def writes(self) -> bool:
        return self.rw in ("write", "randwrite")

    @property
    def sequential(self) -> bool:
        return self.rw in ("read", "write")


#: The block workloads of issue 6, with their targets (pygluster / libgfapi).
WORKLOADS = (
    Workload("seq-write-1m-qd1", "write", MiB, 1, 0.9),
    Workload("seq-write-1m-qd8", "write", MiB, 8, 1.0),
    Workload("seq-read-1m-qd1", "read", MiB, 1, 0.9),
    Workload("seq-read-1m-qd8", "read", MiB, 8, 1.0),
    Workload("randread-4k-qd1", "randread", 4 * KiB, 1, 0.8),
    Workload("randwrite-4k-qd1", "randwrite", 4 * KiB, 1, 0.8),
    Workload("randread-4k-qd16", "randread", 4 * KiB, 16, 1.0),
)
#: Fresh interpreter: import, open, read 4 KiB, close; vs qemu-img / qemu-io.
COLD_OPEN = "cold-open"
#: ``pygluster cp IMAGE /dev/null``: peak RSS and CPU seconds per GiB.
COPY_RSS = "cp-rss"
#: Everything ``--only`` accepts, in the order the benchmark runs them.
NAMES = (*(w.name for w in WORKLOADS), COLD_OPEN, COPY_RSS)

COLD_OPEN_TARGET_S = 0.5
RSS_TARGET_MB = 60.0

DEFAULT_ROUNDS = 3
#: Seconds per timed run. Each fio run also spends ~9-10 s in libgfapi's
#: glfs_init/glfs_fini outside its runtime, which sets the floor of a run.
DEFAULT_RUNTIME = 3.0
DEFAULT_SIZE = GiB

#: Bytes per write while filling the image before the measurements.
_FILL_CHUNK = 32 * MiB
#: Longest a libgfapi process may take beyond its runtime (glfs_fini is ~10 s).
_SUBPROCESS_SLACK = 180.0
#: A failed step (glusterd or the brick restarting on a shared test machine)
#: is tried again this often, after a pause; each retry is counted.
_RETRIES = 2
_RETRY_PAUSE = 15.0

T = TypeVar("T")


# --- results -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    """One timed run of one workload on one side."""

    side: Side
    round_no: int
    mib_s: float
    iops: float
    p50_us: float
    p99_us: float
    seconds: float
    ops: int
    cpu_s_per_gib: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "round": self.round_no,
            "mib_s": round(self.mib_s, 2),
            "iops": round(self.iops, 1),
            "p50_us": round(self.p50_us, 1),
            "p99_us": round(self.p99_us, 1),
            "seconds": round(self.seconds, 3),
            "ops": self.ops,
            "cpu_s_per_gib": _round_or_none(self.cpu_s_per_gib, 3),
        }


def _round_or_none(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass(slots=True)
class WorkloadResult:
    """All samples of one workload; medians per side and their ratio."""

    workload: Workload
    samples: list[Sample] = field(default_factory=list)

    def median(self, side: Side) -> dict[str, float | None]:
        mine = [s for s in self.samples if s.side == side]
        cpu = [s.cpu_s_per_gib for s in mine if s.cpu_s_per_gib is not None]
        return {
            "mib_s": _median([s.mib_s for s in mine]),
            "iops": _median([s.iops for s in mine]),
            "p50_us": _median([s.p50_us for s in mine]),
            "p99_us": _median([s.p99_us for s in mine]),
            "cpu_s_per_gib": _median(cpu) if cpu else None,
        }

    @property
    def ratio(self) -> float:
        """Median pygluster MiB/s over median libgfapi MiB/s."""
        pyg = self.median("pygluster")["mib_s"] or 0.0
        ref = self.median("libgfapi")["mib_s"] or 0.0
        return pyg / ref if ref else float("nan")

    @property
    def met(self) -> bool:
        return self.ratio >= self.workload.target

    def to_json(self) -> dict[str, Any]:
        w = self.workload
        return {
            "name": w.name,
            "rw": w.rw,
            "bs": w.bs,
            "qd": w.qd,
            "target_ratio": w.target,
            "pygluster": _rounded(self.median("pygluster")),
            "libgfapi": _rounded(self.median("libgfapi")),
            "ratio": round(self.ratio, 3),
            "met": self.met,
            "samples": [s.to_json() for s in self.samples],
        }


def _rounded(values: dict[str, float | None]) -> dict[str, float | None]:
    return {k: _round_or_none(v, 3) for k, v in values.items()}


@dataclass(slots=True)
class ColdOpenResult:
    """Wall-clock seconds from spawn to exit of each cold-open command.

    ``pygluster`` holds one dict per round: ``total`` (spawn to exit) and its
    parts ``interpreter`` (spawn to the first line of the script), ``import``,
    ``open``, ``read``, ``close`` and ``exit`` (after close to process end).
    """

    pygluster: list[dict[str, float]] = field(default_factory=list)
    qemu_img: list[float] = field(default_factory=list)
    qemu_io: list[float] = field(default_factory=list)

    def pyg_median(self, part: str) -> float:
        return _median([run[part] for run in self.pygluster])

    @property
    def met(self) -> bool:
        return self.pyg_median("total") <= COLD_OPEN_TARGET_S

    def to_json(self) -> dict[str, Any]:
        parts = ("total", "interpreter", "import", "open", "read", "close", "exit")
        qemu_img = _median(self.qemu_img)
        qemu_io = _median(self.qemu_io)
        total = self.pyg_median("total")
        return {
            "target_s": COLD_OPEN_TARGET_S,
            "pygluster_s": {p: round(self.pyg_median(p), 4) for p in parts},
            "qemu_img_info_s": round(qemu_img, 3),
            "qemu_io_read_s": round(qemu_io, 3),
            "ratio_vs_qemu_img": round(total / qemu_img, 4) if qemu_img else None,
            "ratio_vs_qemu_io": round(total / qemu_io, 4) if qemu_io else None,
            "met": self.met,
            "rounds": {
                "pygluster": [
                    {k: round(v, 4) for k, v in run.items()} for run in self.pygluster
                ],
                "qemu_img_info": [round(v, 3) for v in self.qemu_img],
                "qemu_io_read": [round(v, 3) for v in self.qemu_io],
            },
        }


@dataclass(frozen=True, slots=True)
class CopyRun:
    """One ``pygluster cp IMAGE /dev/null``: VmHWM, and CPU time from wait4()."""

    bytes: int
    seconds: float
    peak_rss_kib: int
    cpu_s: float

    @property
    def peak_rss_mb(self) -> float:
        return self.peak_rss_kib * 1024 / 1e6

    @property
    def cpu_s_per_gib(self) -> float:
        return self.cpu_s / (self.bytes / GiB) if self.bytes else float("nan")

    @property
    def mib_s(self) -> float:
        return self.bytes / MiB / self.seconds if self.seconds else float("nan")


@dataclass(slots=True)
class CopyResult:
    """All copy runs; the worst peak RSS and the median CPU time count."""

    command: list[str]
    runs: list[CopyRun] = field(default_factory=list)
    #: Peak RSS of a child that only imports the CLI: the interpreter's share.
    baseline_rss_kib: int = 0

    @property
    def peak_rss_mb(self) -> float:
        return max((r.peak_rss_mb for r in self.runs), default=float("nan"))

    @property
    def cpu_s_per_gib(self) -> float:
        return _median([r.cpu_s_per_gib for r in self.runs])

    @property
    def mib_s(self) -> float:
        return _median([r.mib_s for r in self.runs])

    @property
    def met(self) -> bool:
        return self.peak_rss_mb <= RSS_TARGET_MB

    def to_json(self) -> dict[str, Any]:
        return {
            "command": ["pygluster", *self.command],
            "bytes": self.runs[0].bytes if self.runs else 0,
            "peak_rss_mb": round(self.peak_rss_mb, 2),
            "import_only_rss_mb": round(self.baseline_rss_kib * 1024 / 1e6, 2),
            "target_mb": RSS_TARGET_MB,
            "cpu_s_per_gib": round(self.cpu_s_per_gib, 3),
            "mib_s": round(self.mib_s, 1),
            "met": self.met,
            "runs": [
                {
                    "seconds": round(r.seconds, 3),
                    "peak_rss_kib": r.peak_rss_kib,
                    "cpu_s": round(r.cpu_s, 3),
                }
                for r in self.runs
            ],
        }


@dataclass(frozen=True, slots=True)
class BenchConfig:
    """What to run, where, and with which tools.

    Attributes:
        uri: the image to create, measure on and remove.
        rounds: alternations of pygluster and the libgfapi tool (median kept).
        runtime: seconds per timed workload run.
        size: image size; random offsets fall anywhere in it, sequential
            runs wrap around at its end, and cp-rss copies all of it.
        only: names from :data:`NAMES` to run (all when empty).
        keep: leave the image in place afterwards.
        force: reuse (truncate) an existing image at ``uri``.
        direct: both sides open the image O_DIRECT (fio ``--direct=1``,
            ``open_async(direct=True)``); default both buffered.
    """

    uri: GlusterURI
    rounds: int = DEFAULT_ROUNDS
    runtime: float = DEFAULT_RUNTIME
    size: int = DEFAULT_SIZE
    only: tuple[str, ...] = ()
    keep: bool = False
    force: bool = False
    direct: bool = False
    fio: str = "fio"
    qemu_img: str = "qemu-img"
    qemu_io: str = "qemu-io"
    python: str = sys.executable

    def selected(self, name: str) -> bool:
        return not self.only or name in self.only


@dataclass(slots=True)
class Report:
    """Everything one benchmark run measured, with where and when."""

    config: BenchConfig
    machine: dict[str, Any]
    started: str
    seconds: float = 0.0
    fill_mib_s: float = 0.0
    retries: int = 0
    workloads: list[WorkloadResult] = field(default_factory=list)
    cold_open: ColdOpenResult | None = None
    copy: CopyResult | None = None

    def to_json(self) -> dict[str, Any]:
        c = self.config
        return {
            "pygluster_version": __version__,
            "date": self.started,
            "duration_s": round(self.seconds, 1),
            "machine": self.machine,
            "uri": str(c.uri),
            "rounds": c.rounds,
            "runtime_s": c.runtime,
            "size": c.size,
            "direct": c.direct,
            "fill_mib_s": round(self.fill_mib_s, 1),
            "retries": self.retries,
            "workloads": [w.to_json() for w in self.workloads],
            "cold_open": None if self.cold_open is None else self.cold_open.to_json(),
            "copy": None if self.copy is None else self.copy.to_json(),
        }

    def format_table(self) -> str:
        """The report as Markdown (README-ready): one table per kind."""
        c = self.config
        m = self.machine
        lines = [
            f"pygluster {__version__} vs libgfapi ({m.get('glusterfs', '?')}; "
            f"{m.get('fio', 'fio')}), {self.started}",
            f"machine: {m.get('cpu', '?')}, {m.get('cpus', '?')} CPUs, "
            f"{m.get('memory_gib', '?')} GiB RAM, {m.get('kernel', '?')}, "
            f"Python {m.get('python', '?')}",
            f"image: {c.uri} ({_size_text(c.size)}), {c.rounds} rounds of "
            f"{c.runtime:g} s per side (each round alternating which goes first), "
            f"{'O_DIRECT' if c.direct else 'buffered'} on both sides, medians; "
            "ratio = pygluster / libgfapi MiB/s",
            "",
        ]
        if self.workloads:
            lines += [
                "| workload | pygluster MiB/s | libgfapi MiB/s | ratio | target "
                "| pygluster IOPS | libgfapi IOPS | pygluster p50 / p99 µs "
                "| libgfapi p50 / p99 µs | pygluster CPU s/GiB "
                "| libgfapi CPU s/GiB | met |",
                "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|",
            ]
            for result in self.workloads:
                pyg = result.median("pygluster")
                ref = result.median("libgfapi")
                lines.append(
                    f"| {result.workload.name} | {_num(pyg['mib_s'], 1)} "
                    f"| {_num(ref['mib_s'], 1)} | {_num(result.ratio, 2)} "
                    f"| ≥ {result.workload.target:.1f} | {_num(pyg['iops'], 0)} "
                    f"| {_num(ref['iops'], 0)} | {_lat(pyg)} | {_lat(ref)} "
                    f"| {_num(pyg['cpu_s_per_gib'], 2)} "
                    f"| {_num(ref['cpu_s_per_gib'], 2)} "
                    f"| {'yes' if result.met else 'NO'} |"
                )
            lines.append("")
        if self.cold_open is not None and self.cold_open.pygluster:
            co = self.cold_open
            total = co.pyg_median("total")
            qemu_img, qemu_io = _median(co.qemu_img), _median(co.qemu_io)
            verdict = "met" if co.met else "MISSED"
            in_process = sum(co.pyg_median(p) for p in ("open", "read", "close"))
            lines += [
                "| cold open + 4 KiB read + close, spawn to exit (median) "
                "| seconds | pygluster / this |",
                "|---|--:|--:|",
                f"| pygluster, fresh `python -c` (target ≤ {COLD_OPEN_TARGET_S:g} s: "
                f"{verdict}) | {total:.3f} | |",
                f"| · interpreter start | {co.pyg_median('interpreter'):.3f} | |",
                f"| · import trio + pygluster | {co.pyg_median('import'):.3f} | |",
                f"| · open + read 4 KiB + close | {in_process:.3f} | |",
                f"| · interpreter exit | {co.pyg_median('exit'):.3f} | |",
                f"| `qemu-img info` | {qemu_img:.2f} | {_ratio(total, qemu_img)} |",
                f"| `qemu-io -c 'read 0 4k'` | {qemu_io:.2f} "
                f"| {_ratio(total, qemu_io)} |",
                "",
            ]
        if self.copy is not None and self.copy.runs:
            cp = self.copy
            lines += [
                f"| `pygluster cp` {_size_text(cp.runs[0].bytes)} to /dev/null "
                "| peak RSS MB | CPU s/GiB | MiB/s | met (RSS ≤ "
                f"{RSS_TARGET_MB:g} MB) |",
                "|---|--:|--:|--:|:-:|",
                f"| median of {len(cp.runs)} (RSS: worst) | {cp.peak_rss_mb:.1f} "
                f"| {cp.cpu_s_per_gib:.2f} | {cp.mib_s:.0f} "
                f"| {'yes' if cp.met else 'NO'} |",
                f"| · `python -c 'import pygluster.cli'` alone "
                f"| {cp.baseline_rss_kib * 1024 / 1e6:.1f} | | | |",
                "",
            ]
        return "\n".join(lines).rstrip() + "\n"


def _num(value: float | None, digits: int) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    return f"{value:,.{digits}f}"


def _lat(values: dict[str, float | None]) -> str:
    return f"{_num(values['p50_us'], 0)} / {_num(values['p99_us'], 0)}"


def _ratio(mine: float, theirs: float) -> str:
    return f"{mine / theirs:.3f}" if theirs else "-"


def _size_text(n: int) -> str:
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"


# --- the pygluster side ----------------------------------------------------------


def _cpu_seconds(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def _percentile(sorted_ns: Sequence[int], fraction: float) -> float:
    """Nearest-rank percentile (as fio reports them) of sorted latencies, in µs."""
    if not sorted_ns:
        return float("nan")
    rank = max(1, min(len(sorted_ns), round(fraction * len(sorted_ns) + 0.5)))
    return sorted_ns[rank - 1] / 1000


async def run_pygluster(
    uri: GlusterURI,
    workload: Workload,
    *,
    runtime: float,
    size: int,
    round_no: int = 1,
    direct: bool = False,
) -> Sample:
    """Run one workload for ``runtime`` seconds through pygluster.

    The image is opened once (chunk_size = block size, max_in_flight = queue
    depth, so every operation is one RPC) before the clock starts. ``qd``
    tasks each loop: take the next offset (a shared sequential cursor that
    wraps at ``size``, or a random block-aligned offset below ``size``), then
    ``readinto`` a buffer of their own (fio reads into a buffer too; ``pread``
    adds one bytes copy) or ``pwrite`` one random block, timing each call.
    """
    bs = workload.bs
    blocks = size // bs
    if blocks < 1:
        raise BenchError(f"image size {size} is smaller than the block size {bs}")
    payload = os.urandom(bs)
    rng = random.Random()
    cursor = 0
    latencies: list[int] = []

    def next_offset() -> int:
        nonlocal cursor
        if not workload.sequential:
            return rng.randrange(blocks) * bs
        offset = cursor * bs
        cursor = (cursor + 1) % blocks
        return offset

    async with blockdev.open_async(
        uri, "r+", chunk_size=bs, max_in_flight=workload.qd, direct=direct
    ) as device:
        deadline = time.perf_counter_ns() + int(runtime * 1e9)

        async def worker() -> None:
            buffer = bytearray(bs)
            clock = time.perf_counter_ns
            record = latencies.append
            while clock() < deadline:
                offset = next_offset()
                start = clock()
                if workload.writes:
                    await device.pwrite(payload, offset)
                else:
                    await device.readinto(buffer, offset)
                record(clock() - start)

        usage = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter_ns()
        await run_all([worker] * workload.qd)
        elapsed = (time.perf_counter_ns() - started) / 1e9
        cpu = _cpu_seconds(resource.getrusage(resource.RUSAGE_SELF)) - _cpu_seconds(
            usage
        )
    latencies.sort()
    moved = len(latencies) * bs
    return Sample(
        side="pygluster",
        round_no=round_no,
        mib_s=moved / MiB / elapsed,
        iops=len(latencies) / elapsed,
        p50_us=_percentile(latencies, 0.50),
        p99_us=_percentile(latencies, 0.99),
        seconds=elapsed,
        ops=len(latencies),
        cpu_s_per_gib=cpu / (moved / GiB) if moved else None,
    )


# --- the libgfapi side: fio ------------------------------------------------------


def _tcp_server(uri: GlusterURI) -> str:
    """The host libgfapi tools connect to (they take no port or socket)."""
    server = uri.servers[0]
    if server.transport != "tcp" or server.port != DEFAULT_PORT:
        raise BenchError(
            f"{uri}: fio and qemu are given the first server as a host name, so it "
            f"must be tcp on port {DEFAULT_PORT} (not {server})"
        )
    return server.host


def fio_command(
    fio: str,
    uri: GlusterURI,
    workload: Workload,
    *,
    runtime: float,
    size: int,
    direct: bool = False,
) -> list[str]:
    """The fio command line running ``workload`` on the image through libgfapi.

    Queue depth 1 uses the synchronous ``gfapi`` engine, deeper ones
    ``gfapi_async --iodepth=N``. ``--lat_percentiles=1`` makes fio report
    percentiles of the whole latency (submit to completion), which is what
    the pygluster side times too; ``--norandommap`` gives plain random
    offsets like the pygluster side's.
    """
    if workload.qd == 1:
        engine = ["--ioengine=gfapi"]
    else:
        engine = ["--ioengine=gfapi_async", f"--iodepth={workload.qd}"]
    return [
        fio,
        f"--name={workload.name}",
        *engine,
        f"--volume={uri.volume}",
        f"--brick={_tcp_server(uri)}",
        f"--filename={uri.image_path.lstrip('/')}",
        f"--rw={workload.rw}",
        f"--bs={workload.bs}",
        f"--size={size}",
        f"--runtime={max(1, round(runtime * 1000))}ms",
        "--time_based",
        "--norandommap",
        "--randrepeat=0",
        "--lat_percentiles=1",
        "--output-format=json",
        *(["--direct=1"] if direct else []),
    ]


def parse_fio(text: str, workload: Workload, *, round_no: int = 1) -> Sample:
    """A :class:`Sample` from fio's ``--output-format=json`` output.

    Raises:
        BenchError: the output is not fio JSON with one job that moved data.
    """
    # fio may print notes (e.g. "the async interface is still very
    # experimental") before the JSON document.
    start = text.find("{")
    try:
        document = json.loads(text[start:]) if start >= 0 else None
        job = document["jobs"][0] if isinstance(document, dict) else None
        stats = job["write" if workload.writes else "read"] if job else None
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise BenchError(f"fio output is not the expected JSON ({exc})") from None
    if not job or not stats or not stats.get("io_bytes"):
        raise BenchError(f"fio moved no data in {workload.name}: {text[:400]!r}")
    latency = stats.get("lat_ns", {})
    if "percentile" not in latency:
        latency = stats["clat_ns"]
    percentiles = latency.get("percentile", {})
    seconds = stats["runtime"] / 1000
    # usr_cpu/sys_cpu are percentages of the job's run time.
    job_runtime = job.get("job_runtime", stats["runtime"]) / 1000
    cpu = (job.get("usr_cpu", 0.0) + job.get("sys_cpu", 0.0)) / 100 * job_runtime
    return Sample(
        side="libgfapi",
        round_no=round_no,
        mib_s=stats["bw_bytes"] / MiB,
        iops=stats["iops"],
        p50_us=percentiles.get("50.000000", float("nan")) / 1000,
        p99_us=percentiles.get("99.000000", float("nan")) / 1000,
        seconds=seconds,
        ops=stats.get("total_ios", 0),
        cpu_s_per_gib=cpu / (stats["io_bytes"] / GiB),
    )


async def run_fio(
    config: BenchConfig, workload: Workload, *, round_no: int = 1
) -> Sample:
    """Run one workload through fio (libgfapi) on the benchmark image."""
    command = fio_command(
        config.fio,
        config.uri,
        workload,
        runtime=config.runtime,
        size=config.size,
        direct=config.direct,
    )
    with trio.move_on_after(config.runtime + _SUBPROCESS_SLACK) as scope:
        done = await trio.run_process(
            command, capture_stdout=True, capture_stderr=True, check=False
        )
    if scope.cancelled_caught:
        raise BenchError(f"fio did not finish: {' '.join(command)}")
    if done.returncode != 0:
        raise BenchError(
            f"fio exited with status {done.returncode}: "
            f"{_tail(done.stderr or done.stdout)} ({' '.join(command)})"
        )
    return parse_fio(done.stdout.decode(errors="replace"), workload, round_no=round_no)


def _tail(output: bytes) -> str:
    lines = output.decode(errors="replace").strip().splitlines()
    return " / ".join(lines[-3:]) if lines else "no output"


# --- cold open and copy (timed subprocesses) ---------------------------------------

# Runs in a fresh interpreter. time.monotonic() is CLOCK_MONOTONIC on Linux,
# one clock for all processes, so the parent can subtract its spawn time.
_COLD_OPEN_SCRIPT = """\
import time
t0 = time.monotonic()
import json, sys
import trio
from pygluster import blockdev
t1 = time.monotonic()
marks = {}

async def main():
    async with blockdev.open_async(sys.argv[1], "r") as device:
        marks["opened"] = time.monotonic()
        data = await device.pread(4096, 0)
        marks["read"] = time.monotonic()
    marks["closed"] = time.monotonic()
    if len(data) != 4096:
        raise SystemExit(f"short read: {len(data)} bytes")

trio.run(main)
print(json.dumps({"start": t0, "imported": t1, **marks}))
"""


def _package_root() -> str:
    """The folder holding this ``pygluster`` package (a checkout, or site-packages)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(pygluster.__file__)))


def _child_env() -> dict[str, str]:
    """The environment for Python children: they import this pygluster."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (_package_root(), env.get("PYTHONPATH", "")) if p
    )
    return env


@dataclass(frozen=True, slots=True)
class _Finished:
    status: int
    stdout: bytes
    stderr: bytes
    spawned: float
    exited: float
    usage: resource.struct_rusage


def _run_timed(command: Sequence[str], env: dict[str, str] | None) -> _Finished:
    """Run a command to completion (blocking); wall clock and wait4() rusage.

    The child is reaped with wait4() for its own rusage (RUSAGE_CHILDREN would
    be a maximum over every child so far), so its output goes to temporary
    files rather than pipes that communicate() would wait on; a pidfd tells
    when it exits without polling.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        spawned = time.monotonic()
        process = subprocess.Popen(
            list(command), stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env
        )
        pidfd = os.pidfd_open(process.pid)
        try:
            ready, _, _ = select.select([pidfd], [], [], _SUBPROCESS_SLACK)
            if not ready:
                process.kill()
        finally:
            os.close(pidfd)
        _, status, usage = os.wait4(process.pid, 0)
        exited = time.monotonic()
        process.returncode = os.waitstatus_to_exitcode(status)
        if not ready:
            raise BenchError(f"timed out: {' '.join(command)}")
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    return _Finished(process.returncode, stdout, stderr, spawned, exited, usage)


async def _timed(
    command: Sequence[str], env: dict[str, str] | None = None
) -> _Finished:
    finished = await trio.to_thread.run_sync(_run_timed, command, env)
    if finished.status != 0:
        raise BenchError(
            f"{command[0]} exited with status {finished.status}: "
            f"{_tail(finished.stderr or finished.stdout)} ({' '.join(command)})"
        )
    return finished


async def cold_open_pygluster(config: BenchConfig) -> dict[str, float]:
    """Spawn-to-exit seconds of a fresh ``python -c`` open/read/close, in parts."""
    done = await _timed(
        [config.python, "-c", _COLD_OPEN_SCRIPT, str(config.uri)], _child_env()
    )
    marks = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return {
        "total": done.exited - done.spawned,
        "interpreter": marks["start"] - done.spawned,
        "import": marks["imported"] - marks["start"],
        "open": marks["opened"] - marks["imported"],
        "read": marks["read"] - marks["opened"],
        "close": marks["closed"] - marks["read"],
        "exit": done.exited - marks["closed"],
    }


def qemu_commands(config: BenchConfig) -> tuple[list[str], list[str]]:
    """``qemu-img info`` and ``qemu-io -c 'read 0 4k'`` on the image."""
    _tcp_server(config.uri)
    uri = str(config.uri)
    return (
        [config.qemu_img, "info", uri],
        [config.qemu_io, "-r", "-f", "raw", "-c", "read 0 4k", uri],
    )


# Runs the CLI in a fresh interpreter and prints the peak RSS of its own
# memory (VmHWM, KiB). wait4()'s ru_maxrss cannot be used for this: Python
# spawns with vfork(), and exec() then credits the child with the *parent's*
# peak RSS (linux exec_mmap: setmax_mm_hiwater_rss(&signal->maxrss, old_mm)).
_RSS_SCRIPT = """\
import sys
status = 0
from pygluster.cli import main
if sys.argv[1:]:
    status = main(sys.argv[1:])
with open("/proc/self/status", encoding="ascii") as f:
    for line in f:
        if line.startswith("VmHWM:"):
            print(int(line.split()[1]))
sys.exit(status)
"""


def copy_command(config: BenchConfig) -> list[str]:
    """The ``pygluster cp`` arguments that cp-rss runs."""
    return ["cp", "--no-progress", str(config.uri), "/dev/null"]


async def _peak_rss_run(config: BenchConfig, args: Sequence[str]) -> _Finished:
    return await _timed([config.python, "-c", _RSS_SCRIPT, *args], _child_env())


def _vm_hwm(done: _Finished) -> int:
    return int(done.stdout.decode().split()[-1])


async def import_only_rss(config: BenchConfig) -> int:
    """Peak RSS (KiB) of a child that imports the CLI and exits."""
    return _vm_hwm(await _peak_rss_run(config, []))


async def copy_to_devnull(config: BenchConfig) -> CopyRun:
    """``pygluster cp IMAGE /dev/null``: peak RSS and CPU time of that process."""
    done = await _peak_rss_run(config, copy_command(config))
    return CopyRun(
        bytes=config.size,
        seconds=done.exited - done.spawned,
        peak_rss_kib=_vm_hwm(done),
        cpu_s=_cpu_seconds(done.usage),
    )


# --- the run ------------------------------------------------------------------------


def _first_line(command: Sequence[str]) -> str:
    try:
        out = subprocess.run(
            list(command), capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    return out.strip().splitlines()[0] if out.strip() else "?"


def machine_info(config: BenchConfig) -> dict[str, Any]:
    """Where the numbers come from: CPU, memory, kernel, tool versions."""
    cpu = platform.processor() or "?"
    memory = 0
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.partition(":")[2].strip()
                    break
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    memory = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    return {
        "hostname": platform.node(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gib": round(memory / GiB, 1),
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "pygluster_commit": _first_line(
            ["git", "-C", _package_root(), "describe", "--always", "--dirty"]
        ),
        "glusterfs": _first_line(["glusterfs", "--version"]),
        "fio": _first_line([config.fio, "--version"]),
        "qemu_img": _first_line([config.qemu_img, "--version"]),
    }


def _check_tools(config: BenchConfig) -> None:
    needed = []
    if any(config.selected(w.name) for w in WORKLOADS):
        needed.append(config.fio)
    if config.selected(COLD_OPEN):
        needed += [config.qemu_img, config.qemu_io]
    missing = [tool for tool in needed if shutil.which(tool) is None]
    if missing:
        raise BenchError(f"not found: {', '.join(missing)} (libgfapi reference tools)")


async def _fill(config: BenchConfig) -> float:
    """Write data over all of the (new) image; return MiB/s."""
    block = os.urandom(_FILL_CHUNK)
    started = time.perf_counter()
    async with blockdev.open_async(config.uri, "r+") as device:
        for offset in range(0, config.size, _FILL_CHUNK):
            await device.pwrite(block[: config.size - offset], offset)
        await device.flush()
    return config.size / MiB / (time.perf_counter() - started)


def _describe(sample: Sample) -> str:
    return (
        f"{sample.mib_s:,.1f} MiB/s, {sample.iops:,.0f} IOPS, "
        f"p50 {sample.p50_us:,.0f} µs, p99 {sample.p99_us:,.0f} µs"
    )


async def run_benchmark(
    config: BenchConfig, progress: Callable[[str], None] = lambda _: None
) -> Report:
    """Run every selected measurement; the image is removed afterwards.

    Args:
        config: where and what to run.
        progress: called with one line of text before and after each step.

    Raises:
        BenchError: fio, qemu-img/qemu-io or a child python failed.
        FopError: the image exists (without ``force``), or I/O failed.
    """
    if config.rounds < 1 or config.runtime <= 0 or config.size <= 0:
        raise ValueError("rounds, runtime and size must be positive")
    unknown = [name for name in config.only if name not in NAMES]
    if unknown:
        raise ValueError(f"unknown workload(s) {', '.join(unknown)}")
    _check_tools(config)
    report = Report(
        config=config,
        machine=await trio.to_thread.run_sync(machine_info, config),
        started=datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    )
    began = time.monotonic()
    workloads = [w for w in WORKLOADS if config.selected(w.name)]
    steps = len(workloads) * 2 * config.rounds
    if config.selected(COLD_OPEN):
        steps += 3 * config.rounds
    if config.selected(COPY_RSS):
        steps += config.rounds
    step = 0

    def say(text: str) -> None:
        elapsed = int(time.monotonic() - began)
        progress(f"[{step}/{steps} {elapsed // 60}:{elapsed % 60:02d}] {text}")

    async def retrying(call: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(_RETRIES + 1):
            try:
                return await call()
            except GlusterError as exc:  # BenchError, FopError, TransportError...
                if attempt == _RETRIES:
                    raise
                report.retries += 1
                say(f"failed: {exc}; trying again in {_RETRY_PAUSE:g} s")
                await trio.sleep(_RETRY_PAUSE)
        raise AssertionError("unreachable")

    say(f"creating {config.uri} ({_size_text(config.size)}) and filling it")
    await blockdev.create_async(config.uri, config.size, exist_ok=config.force)
    try:
        report.fill_mib_s = await _fill(config)
        say(f"filled at {report.fill_mib_s:,.0f} MiB/s")
        for workload in workloads:
            report.workloads.append(WorkloadResult(workload))
        # Round-major: every workload once per round, so slow drift on the
        # machine spreads over all workloads instead of hitting one.
        for round_no in range(1, config.rounds + 1):
            for result in report.workloads:
                w = result.workload
                # Odd rounds pygluster first, even rounds libgfapi first: a
                # side favoured by going first (or second) is so equally.
                sides = ("pygluster", "libgfapi")
                for side in sides if round_no % 2 else sides[::-1]:
                    step += 1
                    tool = "pygluster" if side == "pygluster" else "libgfapi (fio)"
                    say(f"{w.name} round {round_no}/{config.rounds}: {tool} ...")
                    if side == "pygluster":
                        sample = await retrying(
                            functools.partial(
                                run_pygluster,
                                config.uri,
                                w,
                                runtime=config.runtime,
                                size=config.size,
                                round_no=round_no,
                                direct=config.direct,
                            )
                        )
                    else:
                        sample = await retrying(
                            functools.partial(run_fio, config, w, round_no=round_no)
                        )
                    result.samples.append(sample)
                    say(f"{w.name} round {round_no}: {tool}: {_describe(sample)}")
        if config.selected(COLD_OPEN):
            report.cold_open = ColdOpenResult()
            qemu_img, qemu_io = qemu_commands(config)
            for round_no in range(1, config.rounds + 1):
                step += 1
                say(f"cold open round {round_no}/{config.rounds}: pygluster ...")
                parts = await retrying(functools.partial(cold_open_pygluster, config))
                report.cold_open.pygluster.append(parts)
                say(f"cold open: pygluster {parts['total']:.3f} s")
                for command, times in (
                    (qemu_img, report.cold_open.qemu_img),
                    (qemu_io, report.cold_open.qemu_io),
                ):
                    step += 1
                    say(f"cold open round {round_no}: {' '.join(command[:2])} ...")
                    done = await retrying(functools.partial(_timed, command))
                    times.append(done.exited - done.spawned)
                    say(f"cold open: {command[0]} {times[-1]:.2f} s")
        if config.selected(COPY_RSS):
            report.copy = CopyResult(copy_command(config))
            report.copy.baseline_rss_kib = await import_only_rss(config)
            for round_no in range(1, config.rounds + 1):
                step += 1
                say(f"cp to /dev/null round {round_no}/{config.rounds} ...")
                run = await retrying(functools.partial(copy_to_devnull, config))
                report.copy.runs.append(run)
                say(
                    f"cp: peak RSS {run.peak_rss_mb:.1f} MB, "
                    f"{run.cpu_s_per_gib:.2f} CPU s/GiB, {run.mib_s:,.0f} MiB/s"
                )
    finally:
        if not config.keep:
            with trio.CancelScope(shield=True), trio.move_on_after(60):
                try:
                    await blockdev.remove_async(config.uri)
                except GlusterError as exc:  # keep the run's own error, if any
                    progress(f"could not remove {config.uri}: {exc}")
    report.seconds = time.monotonic() - began
    say(f"done in {report.seconds:.0f} s")
    return report
