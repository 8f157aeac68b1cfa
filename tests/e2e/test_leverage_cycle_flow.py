"""End-to-end: the leverage-cycle experiment from the CLI, at CI size."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from utils.pages import assert_self_contained

TRIPOD = shutil.which("tripod", path=str(Path(sys.executable).parent)) or "tripod"


@pytest.mark.slow
def test_experiment_leverage_cycle__small__writes_order_losses_and_critical_leverage(tmp_path):
    r = subprocess.run([TRIPOD, "experiment", "leverage-cycle", "--runs", "3", "--ltvs", "0,0.9",
                        "--designs", "reserve-only,big-backstop", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=900, env={**os.environ, "CI": "1"})
    assert r.returncode == 0, r.stderr
    res = json.loads((tmp_path / "leverage_cycle.json").read_text())
    assert len(res["points"]) == 4
    for p in res["points"]:
        assert set(p["event_hours_median"]) == {"hyb_drawdown_50", "dat_below_nav", "dat_forced_sale",
                                                "institutional_exit_25", "retail_loss_peak", "peg_below_099"}
        shares = p["loss_share_by_class"]
        assert abs(sum(shares.values()) - 1) < 1e-9 or sum(shares.values()) == 0
        assert "treasury_companies" not in shares and p["treasury_company_equity_loss_usd"] > 0
        assert 0 <= p["story_order_full_share"] <= p["story_order_consistent_share"] <= 1
    by = {(p["design"], p["max_ltv"]): p for p in res["points"]}
    # no leverage, no looper liquidations
    assert by[("reserve-only", 0.0)]["looper_liquidated_usd_mean"] == 0.0
    assert set(res["critical_leverage"]) == {"reserve-only", "big-backstop"}
    for des, c in res["critical_leverage"].items():
        if c["max_ltv"] is not None:  # the jump carries its paired interval and says whether it is resolved
            lo, hi = c["jump_ci95"]
            assert -1 <= lo <= c["depeg_probability_jump"] <= hi <= 1 and c["resolved"] == (lo > 0)
    for p in res["points"]:
        lo, hi = p["depeg_probability_ci95"]
        assert lo <= p["depeg_probability"] <= hi
    assert_self_contained((tmp_path / "report.html").read_text(), min_figures=3)


def test_experiment__bad_arguments__clear_error():
    r = subprocess.run([TRIPOD, "experiment", "leverage-cycle", "--designs", "nope"], capture_output=True, text=True)
    assert r.returncode == 2 and "designs" in r.stderr and "Traceback" not in r.stderr
