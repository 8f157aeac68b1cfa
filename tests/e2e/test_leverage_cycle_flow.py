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
    assert {(c["design"], c["mix"]) for c in res["critical_leverage"]} == {("reserve-only", "scenario"),
                                                                            ("big-backstop", "scenario")}
    for c in res["critical_leverage"]:
        if c["max_ltv"] is not None:  # the jump carries its paired interval and says whether it is resolved
            lo, hi = c["jump_ci95"]
            assert -1 <= lo <= c["depeg_probability_jump"] <= hi <= 1 and c["resolved"] == (lo > 0)
    for p in res["points"]:
        lo, hi = p["depeg_probability_ci95"]
        assert lo <= p["depeg_probability"] <= hi
    assert_self_contained((tmp_path / "report.html").read_text(), min_figures=3)


@pytest.mark.slow
def test_experiment_leverage_cycle__mixes__paired_differences_per_design_and_ltv(tmp_path):
    """The sleeve mix as a dimension: every point carries its mix and book, the critical leverage is per
    design and mix, mixes are compared run by run, and the CLI says so."""
    mixes = ["treasury-heavy", "crypto-gold-heavy"]
    r = subprocess.run([TRIPOD, "experiment", "leverage-cycle", "--runs", "2", "--ltvs", "0.5,0.9",
                        "--designs", "reserve-only", "--mixes", ",".join(mixes), "--out", str(tmp_path / "mix")],
                       capture_output=True, text=True, timeout=900, env={**os.environ, "CI": "1"})
    assert r.returncode == 0, r.stderr
    res = json.loads((tmp_path / "mix" / "leverage_cycle.json").read_text())
    assert res["mixes"] == mixes and res["mix_weights"]["crypto-gold-heavy"]["btc"] == 0.45
    assert [(p["max_ltv"], p["mix"]) for p in res["points"]] == [(0.5, mixes[0]), (0.5, mixes[1]),
                                                                  (0.9, mixes[0]), (0.9, mixes[1])]
    for p in res["points"]:
        assert p["weights"] == res["mix_weights"][p["mix"]]
        assert p["sleeve_share_start"]["btc"] == pytest.approx(p["weights"]["btc"], rel=0.01)
        lo, hi = p["story_order_full_share_ci95"]
        assert lo <= p["story_order_full_share"] <= hi
    assert {(c["design"], c["mix"]) for c in res["critical_leverage"]} == {("reserve-only", m) for m in mixes}
    assert [(d["max_ltv"], d["of"]) for d in res["mix_differences"]] == [(0.5, "crypto-gold-heavy - treasury-heavy"),
                                                                        (0.9, "crypto-gold-heavy - treasury-heavy")]
    for d in res["mix_differences"]:
        dep = d["paired_differences"]["depeg_probability"]
        assert dep["ci95"][0] <= dep["diff"] <= dep["ci95"][1] and dep["method"].startswith("Newcombe")
    assert "mix crypto-gold-heavy" in r.stdout and "crypto-gold-heavy - treasury-heavy" in r.stdout
    for name in ("peg.png", "losses.png", "mix.png"):
        assert (tmp_path / "mix" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (tmp_path / "mix" / "report.html").read_text()
    assert_self_contained(html, min_figures=4)
    assert "Paired differences between mixes" in html


def test_experiment__bad_arguments__clear_error():
    r = subprocess.run([TRIPOD, "experiment", "leverage-cycle", "--designs", "nope"], capture_output=True, text=True)
    assert r.returncode == 2 and "designs" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("mixes", ["nope", "baseline,baseline", ""])
def test_experiment__bad_mixes__one_line_exit_2_nothing_written(tmp_path, mixes):
    out = tmp_path / "never"
    r = subprocess.run([TRIPOD, "experiment", "leverage-cycle", "--mixes", mixes, "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "--mixes" in r.stderr
    assert not out.exists()
