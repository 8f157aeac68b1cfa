"""End-to-end: `tripod calibrate`, `tripod size-reserve`, `tripod stress-windows` as a designer runs them."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from utils.pages import assert_self_contained

TRIPOD = shutil.which("tripod", path=str(Path(sys.executable).parent)) or "tripod"


def tripod(*args, cwd=None):
    env = {**os.environ, "CI": "1"}
    return subprocess.run([TRIPOD, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


@pytest.mark.slow
def test_calibrate__writes_an_includable_market_and_the_validation_report(tmp_path):
    out, rep = tmp_path / "market.yaml", tmp_path / "rep"
    r = tripod("calibrate", "--from", "2019-01-01", "--out", out, "--report-dir", rep, "--paths", 3, "--seed", 1)
    assert r.returncode == 0, r.stderr
    assert "within tolerance" in r.stdout and "venue clamp" in r.stdout
    head = out.read_text().splitlines()[:3]
    assert "2019-01-01" in head[1]  # the fit's sample, in the file
    (tmp_path / "s.yaml").write_text("name: s\ninclude: [market.yaml]\nhorizon_hours: 24\n")
    v = tripod("validate", tmp_path / "s.yaml")
    assert v.returncode == 0, v.stderr
    body = json.loads((rep / "calibration.json").read_text())
    assert body["fit"]["sample"]["btc_usd"]["from"] == "2019-01-01"
    assert {r["stat"] for r in body["validation"]["rows"]} >= {"btc_vol_annual", "funding_negative_share", "gold_btc_corr"}
    assert all("tolerance" in r and "pass" in r for r in body["validation"]["rows"])
    html = (rep / "calibration.html").read_text()
    assert_self_contained(html, min_figures=2)
    assert (rep / "manifest.json").exists()


def test_calibrate__bad_dates_exit_2_with_one_line(tmp_path):
    r = tripod("calibrate", "--from", "2022-01-01", "--to", "2022-01-10", "--out", tmp_path / "m.yaml", "--paths", 0)
    assert r.returncode == 2 and r.stderr.startswith("error:") and "need at least 60" in r.stderr
    assert not (tmp_path / "m.yaml").exists()
    r = tripod("calibrate", "--from", "yesterday")
    assert r.returncode == 2 and "not a date" in r.stderr


@pytest.mark.slow
def test_size_reserve__grid_of_supplies_and_mixes_with_verification(root, tmp_path):
    sc = root / "scenarios" / "calibrated" / "pure-delta-neutral.yaml"
    r = tripod("size-reserve", sc, "--target-prob", 0.2, "--horizon-days", 3, "--runs", 10, "--seed", 2,
               "--supply-usd", 5e9, "--supply-usd", 1e10, "--weights", "0,0.85,0,0.15", "--weights", "0.5,0.35,0,0.15",
               "--verify", "--out", tmp_path / "s")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("P(depletion) <= 0.2") == 4 and "verified with sim.run" in r.stdout
    t = pd.read_csv(tmp_path / "s" / "sizing.csv")
    assert len(t) == 4 and set(t["supply_usd"]) == {5e9, 1e10}
    pure = t[(t.w_tbill == 0) & (t.w_xau == 0)]
    assert set(pure["public_reserve_usd"]) == {40e6, 80e6}  # the public figure next to Tripod's
    res = json.loads((tmp_path / "s" / "sizing.json").read_text())["results"]
    for x in res:
        for v in x["verified"]:
            assert v["depletion_probability_at_answer"] <= 0.2 < v["depletion_probability_just_below"]
    assert (tmp_path / "s" / "sizing.png").read_bytes()[:4] == b"\x89PNG"
    assert_self_contained((tmp_path / "s" / "sizing.html").read_text(), min_figures=1)


@pytest.mark.parametrize("args, msg", [
    (["--target-prob", "1.5"], "between 0 and 1"),
    (["--target-prob", "0.1", "--weights", "0.5,0.5,0.5,0"], "weights must sum to 1"),
    (["--target-prob", "0.1", "--set", "protocol.nope=1"], "not a field"),
    (["--target-prob", "0.1", "--runs", "0"], "at least 1"),
])
def test_size_reserve__bad_arguments_exit_2(root, tmp_path, args, msg):
    r = tripod("size-reserve", root / "scenarios" / "calibrated" / "pure-delta-neutral.yaml", *args,
               "--horizon-days", 1, "--out", tmp_path / "x")
    assert r.returncode == 2, r.stdout
    assert msg in r.stderr and r.stderr.startswith("error:")
    assert not (tmp_path / "x").exists()


def test_stress_windows__report_of_the_worst_windows(tmp_path):
    r = tripod("stress-windows", "baseline", "--days", 10, "--stride-days", 45, "--from", "2022-03-01",
               "--to", "2022-12-31", "--top", 2, "--out", tmp_path / "w")
    assert r.returncode == 0, r.stderr
    assert "worst by reserve drawdown" in r.stdout
    df = pd.read_csv(tmp_path / "w" / "windows.csv")
    assert len(df) == 7 and {"start", "end", "max_depeg_bps", "reserve_drawdown_usd"} <= set(df.columns)
    j = json.loads((tmp_path / "w" / "windows.json").read_text())
    assert len(j["worst_by_reserve_drawdown"]) == 2 and j["window_days"] == 10
    assert_self_contained((tmp_path / "w" / "windows.html").read_text(), min_figures=1)
