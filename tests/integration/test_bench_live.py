"""``pygluster bench`` end to end on a tiny image against the real cluster.

No timing asserts: this checks that every side runs (pygluster in process,
fio through libgfapi, the cp child under wait4) and that the report keeps its
shape. Each fio run costs ~10 s of libgfapi start and stop, so two workloads
and one round; cold-open (two qemu runs, ~20 s) stays out.
"""

from __future__ import annotations

import json
import math
import uuid

from pygluster.tools import bench
from pygluster.uri import GlusterURI
from tests.integration.conftest import run_cli

MiB = 1024 * 1024
SIDES = ("pygluster", "libgfapi")
MEDIAN_KEYS = {"mib_s", "iops", "p50_us", "p99_us", "cpu_s_per_gib"}


def test_bench_runs_end_to_end(host: str, tmp_path) -> None:
    uri = f"gluster://{host}/pyg_single/bench-test-{uuid.uuid4().hex[:8]}.img"
    output = tmp_path / "report.json"
    result = run_cli(
        "bench",
        "--runtime",
        "1",
        "--rounds",
        "1",
        "--size",
        "16M",
        "--only",
        "seq-read-1m-qd1,randread-4k-qd1",
        "--only",
        "cp-rss",
        "--json",
        "--output",
        str(output),
        uri,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads(result.stdout)
    assert json.loads(output.read_text()) == report

    assert report["uri"] == uri
    assert (report["rounds"], report["runtime_s"], report["size"]) == (1, 1.0, 16 * MiB)
    assert report["machine"]["cpus"] >= 1
    assert [w["name"] for w in report["workloads"]] == [
        "seq-read-1m-qd1",
        "randread-4k-qd1",
    ]
    for workload in report["workloads"]:
        assert [s["side"] for s in workload["samples"]] == list(SIDES)
        for side in SIDES:
            median = workload[side]
            assert set(median) == MEDIAN_KEYS
            assert median["mib_s"] > 0
            assert median["iops"] > 0
            assert 0 < median["p50_us"] <= median["p99_us"]
        assert workload["ratio"] > 0
        assert isinstance(workload["met"], bool)
        assert workload["target_ratio"] in (0.8, 0.9)
    assert report["cold_open"] is None

    copy = report["copy"]
    assert copy["bytes"] == 16 * MiB
    assert copy["command"] == ["pygluster", "cp", "--no-progress", uri, "/dev/null"]
    assert 0 < copy["import_only_rss_mb"] <= copy["peak_rss_mb"]
    assert copy["cpu_s_per_gib"] > 0
    assert len(copy["runs"]) == 1

    # Progress went to stderr, one line per step; the image is gone again.
    progress = result.stderr.decode()
    assert "seq-read-1m-qd1 round 1/1: libgfapi (fio)" in progress
    assert "done in" in progress
    gone = run_cli("info", uri)
    assert gone.returncode == 1
    assert "No such file" in gone.stderr.decode()


def test_bench_rejects_unknown_workload(host: str) -> None:
    result = run_cli("bench", "--only", "seq-read-9m", f"gluster://{host}/pyg_single/x")
    assert result.returncode == 2
    assert "unknown workload seq-read-9m" in result.stderr.decode()


def test_fio_command_line_and_json() -> None:
    """The fio half without running fio: the command and the JSON it reads."""
    uri = GlusterURI.parse("gluster://vm/pyg_single/dir/b.img")
    deep = next(w for w in bench.WORKLOADS if w.name == "randread-4k-qd16")
    command = bench.fio_command("fio", uri, deep, runtime=2.5, size=16 * MiB)
    assert command[:4] == [
        "fio",
        "--name=randread-4k-qd16",
        "--ioengine=gfapi_async",
        "--iodepth=16",
    ]
    for option in (
        "--volume=pyg_single",
        "--brick=vm",
        "--filename=dir/b.img",
        "--rw=randread",
        "--bs=4096",
        f"--size={16 * MiB}",
        "--runtime=2500ms",
        "--time_based",
        "--output-format=json",
    ):
        assert option in command
    shallow = next(w for w in bench.WORKLOADS if w.qd == 1)
    assert "--ioengine=gfapi" in bench.fio_command(
        "fio", uri, shallow, runtime=1, size=MiB
    )

    stats = {
        "io_bytes": 2 * MiB,
        "bw_bytes": MiB,
        "iops": 256.0,
        "runtime": 2000,
        "total_ios": 512,
        "lat_ns": {"percentile": {"50.000000": 3000, "99.000000": 9000}},
        "clat_ns": {},
    }
    job = {"read": stats, "write": {}, "usr_cpu": 10.0, "sys_cpu": 5.0}
    text = "note: experimental\n" + json.dumps({"jobs": [job]})
    sample = bench.parse_fio(text, deep)
    assert sample.side == "libgfapi"
    assert (sample.mib_s, sample.iops, sample.ops) == (1.0, 256.0, 512)
    assert (sample.p50_us, sample.p99_us) == (3.0, 9.0)
    assert sample.cpu_s_per_gib is not None
    assert math.isclose(sample.cpu_s_per_gib, 0.3 * 512)
