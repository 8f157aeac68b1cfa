"""End-to-end: the example notebook (a jupytext percent script) runs as CI runs it, at a small size."""
import os
import subprocess
import sys

import pandas as pd
import pytest

from utils.pages import assert_self_contained


@pytest.mark.slow
def test_examples_tour__runs_and_writes_its_pages(tmp_path, root):
    env = {**os.environ, "CI": "1", "TRIPOD_EXAMPLES_OUT": str(tmp_path), "TRIPOD_EXAMPLES_RUNS": "8",
           "TRIPOD_EXAMPLES_HOURS": "72"}
    r = subprocess.run([sys.executable, str(root / "examples" / "tour.py")], capture_output=True, text=True,
                       env=env, cwd=root, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "<sim.Result btc-crash: 8 runs" in r.stdout and "95 % interval" in r.stdout
    assert "half-reserve - btc-crash: reserve_depletion_probability" in r.stdout
    for page in ("btc-crash/report.html", "compare/compare.html", "sweep/report.html"):
        assert_self_contained((tmp_path / page).read_text())
    s = pd.read_csv(tmp_path / "sweep" / "summary.csv")
    assert len(s) == 6 and (s["reserve_depletion_probability_ci95_high"] >= s["reserve_depletion_probability"]).all()


def test_readme_python_api__in_a_fresh_interpreter__writes_the_run(tmp_path, root):
    # The README's snippet, alone in a new process: nothing else has imported pandas, so the Parquet
    # thread imports it while the report is drawn (this crashed with "partially initialized module 'pandas'")
    code = ("import sim, sys\n"
            "res = sim.run('btc-crash', runs=4, seed=7, overrides=['protocol.reserve.initial_usd=0'])\n"
            "res.write(sys.argv[1])\n")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "crash")], capture_output=True, text=True,
                       env={**os.environ, "CI": "1"}, cwd=root, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert {"report.html", "metrics.json", "trajectories.parquet", "manifest.json"} <= {
        p.name for p in (tmp_path / "crash").iterdir()}
