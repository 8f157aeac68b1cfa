"""A real cluster: a `dask scheduler` and two `dask worker` processes on 127.0.0.1, each started in
its own folder (as on other machines), `tripod sweep --scheduler` with a relative --out from a third
folder, one worker killed with SIGKILL mid-sweep; the results equal a LocalCluster run of the same
sweep, and nothing is written in the workers' folders (rows come back through Dask)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from sim.parquet import read_frame

BIN = Path(sys.executable).parent
TRIPOD = shutil.which("tripod", path=str(BIN)) or "tripod"
DASK = shutil.which("dask", path=str(BIN)) or "dask"
SWEEP = {"name": "cluster", "base": "bank-run", "design": "grid", "runs_per_point": 8, "run_batch": 2, "seed": 5,
         "horizon_hours": 96, "parameters": [{"path": "protocol.caps.redeem_cap_usd_per_hour", "values": [2e6, 8e6]},
                                             {"path": "protocol.fees.redeem_fee_bps", "values": [0, 30]}]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(cwd: Path, *cmd: str) -> subprocess.Popen:
    cwd.mkdir(parents=True, exist_ok=True)
    log = open(cwd / "log.txt", "wb")
    return subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, env={**os.environ, "CI": "1"})


def _stop(p: subprocess.Popen, sig=signal.SIGTERM) -> None:
    try:
        os.killpg(p.pid, sig)
    except ProcessLookupError:
        return
    try:
        p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=15)


@pytest.mark.slow
def test_sweep_on_a_real_cluster__worker_killed__same_results_as_local(tmp_path):
    sweep_file = tmp_path / "cluster.yaml"
    sweep_file.write_text(yaml.safe_dump(SWEEP))
    addr = f"tcp://127.0.0.1:{_free_port()}"
    procs = []
    try:
        procs.append(_start(tmp_path / "sched", DASK, "scheduler", "--host", "127.0.0.1", "--port", addr.rsplit(":", 1)[1],
                            "--no-dashboard"))
        workers = [_start(tmp_path / f"w{i}", DASK, "worker", addr, "--host", "127.0.0.1", "--nthreads", "1",
                          "--nworkers", "1", "--no-dashboard", "--name", f"w{i}") for i in (1, 2)]
        procs += workers
        from dask.distributed import Client

        with Client(addr, timeout=60) as c:
            c.wait_for_workers(2, timeout=90)
        client_dir = tmp_path / "client"
        client_dir.mkdir()
        sweep = _start(client_dir, TRIPOD, "sweep", str(sweep_file), "--scheduler", addr, "--out", "A")
        procs.append(sweep)
        parts = client_dir / "A" / "parts"
        t0 = time.time()
        while sweep.poll() is None and len(list(parts.glob("*.parquet"))) < 2 and time.time() - t0 < 240:
            time.sleep(0.05)
        assert sweep.poll() is None, "the sweep ended before a worker could be killed: " + (client_dir / "log.txt").read_text()[-500:]
        done_at_kill = len(list(parts.glob("*.parquet")))
        _stop(workers[0], signal.SIGKILL)  # the nanny and its worker process, no goodbye
        assert sweep.wait(timeout=300) == 0, (client_dir / "log.txt").read_text()[-2000:]
        assert done_at_kill < 16  # the kill landed mid-sweep
        a = read_frame(client_dir / "A" / "results.parquet")
        manifest = json.loads((client_dir / "A" / "manifest.json").read_text())
        assert manifest["scheduler"] == addr and manifest["chunks"] == 16
        strays = [p for d in ("w1", "w2", "sched") for p in (tmp_path / d).rglob("*.parquet")]
        assert not strays, f"parts written in the workers' folders: {strays}"
    finally:
        for p in reversed(procs):
            _stop(p)
    from sim.sweep import run_sweep

    run_sweep(sweep_file, tmp_path / "B", workers=2)
    b = read_frame(tmp_path / "B" / "results.parquet")
    cols = sorted(a.columns)
    assert cols == sorted(b.columns) and len(a) == 4 * 8
    a = a[cols].sort_values(["point", "run"]).reset_index(drop=True)
    b = b[cols].sort_values(["point", "run"]).reset_index(drop=True)
    assert a.equals(b)
