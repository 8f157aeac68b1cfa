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
