"""Unit: the project's Parquet reads never abort the process at exit.

pyarrow 22 aborted processes at interpreter exit ("terminate called without an active exception",
exit 134) after a threaded `columns=` read of a run's trajectories: 9 of 15 fresh processes on the
development VM. Every read of ours goes through `sim.parquet` (single-threaded, no pre-buffering).
Each read path is repeated here in fresh processes, which must all exit 0."""
from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

REPEATS = 6

READS = {
    "columns": "from sim.parquet import read_frame; read_frame(D / 'trajectories.parquet', columns=['run', 'hour', 'supply'])",
    "whole file": "from sim.parquet import read_table; read_table(D / 'trajectories.parquet')",
    "footer": "from sim.parquet import read_metadata; read_metadata(D / 'trajectories.parquet')",
    "replay's run loader": "from sim.chain.replay import load_run; load_run(D, run=1)",
}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    import sim

    d = tmp_path_factory.mktemp("run")
    sim.run("btc-crash", runs=40, seed=1, record="all").write(d, report=False)  # ~80 columns, several row groups
    return d


@pytest.mark.slow
@pytest.mark.parametrize("what", list(READS))
def test_read__in_fresh_processes__every_process_exits_0(run_dir, what):
    code = f"import sim.config\nfrom pathlib import Path\nD = Path({str(run_dir)!r})\n{READS[what]}\n"

    def once(_):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
        return r.returncode, r.stderr[-300:]

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(once, range(REPEATS)))
    bad = [(rc, err) for rc, err in results if rc != 0]
    assert not bad, f"{len(bad)}/{REPEATS} processes failed: {bad[0]}"
