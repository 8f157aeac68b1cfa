"""End-to-end: a designer runs the `tripod` command the way the README says, and reads the outputs."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.parquet import read_frame
from utils.pages import assert_self_contained

TRIPOD = shutil.which("tripod", path=str(Path(sys.executable).parent)) or "tripod"


def tripod(*args, cwd=None):
    env = {**os.environ, "CI": "1"}
    return subprocess.run([TRIPOD, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


@pytest.fixture(scope="module")
def crash_run(tmp_path_factory, root):
    out = tmp_path_factory.mktemp("crash")
    r = tripod("run", root / "scenarios" / "btc-crash.yaml", "--runs", 6, "--seed", 11, "--out", out)
    assert r.returncode == 0, r.stderr
    return out, r


def test_run__writes_every_promised_file_metric_and_column(crash_run):
    out, r = crash_run
    for f in ("trajectories.parquet", "metrics.json", "report.html", "manifest.json"):
        assert (out / f).exists(), f
    m = json.loads((out / "metrics.json").read_text())
    for k in ("depeg_probability", "max_depeg_bps", "hours_below_threshold", "time_to_repeg_hours",
              "insolvency_probability", "min_backing_ratio", "reserve_depletion_probability", "reserve_fund_min_usd",
              "redeemed_usd", "staker_apy", "hyb_drawdown", "losses_by_class_usd"):
        assert k in m, k
    assert set(m["max_depeg_bps"]) >= {"p50", "p95", "p99", "max"}
    assert set(m["losses_by_class_usd"]) == {"reserve_fund", "backstop", "stakers", "institutional", "retail", "loopers",
                                             "treasury_companies"}
    t = read_frame(out / "trajectories.parquet")
    for c in ("run", "timestep", "hour", "peg_price", "supply", "backing_usd", "backing_ratio", "reserve_fund_usd",
              "btc_usd", "xau_usd", "tbill_yield", "funding_rate_8h_btc", "hyb_price"):
        assert c in t.columns, c
    assert t["run"].nunique() == 6 and len(t) == 6 * 721
    assert "depeg probability" in r.stdout


def test_run__manifest_makes_it_reproducible(crash_run):
    out, _ = crash_run
    man = json.loads((out / "manifest.json").read_text())
    assert man["seed"] == 11 and man["runs"] == 6 and len(man["config_hash"]) == 16
    assert man["versions"]["numpy"] and man["versions"]["cadCAD"] and man["command"].startswith("tripod run")


def test_run__report_is_self_contained_and_interactive(crash_run):
    html = (crash_run[0] / "report.html").read_text()
    figs = assert_self_contained(html, min_figures=7)
    # the line over the bands is one real run, picked from the worst ones, never a min over runs
    assert 'id="runpick"' in html and "worst by depeg #1" in html and "lowest reserve" in html
    peg = next(f for f in figs.values() if "pool price" in f["layout"]["title"]["text"])
    assert peg["data"][3]["name"].startswith("run ")
    assert "95 % interval" in html and "Clopper-Pearson" in html


def test_run__metrics_carry_intervals(crash_run):
    m = json.loads((crash_run[0] / "metrics.json").read_text())
    for k in [k for k in m if k.endswith("_probability")]:
        lo, hi = m[f"{k}_ci95"]
        assert 0 <= lo <= m[k] <= hi <= 1 and lo < hi
    assert set(m["max_depeg_bps_ci95"]) == {"p50", "p95", "p99"}
    assert m["intervals"]["probability"].startswith("Clopper-Pearson")


def test_run__same_seed_twice__identical_trajectories(crash_run, tmp_path, root):
    r = tripod("run", root / "scenarios" / "btc-crash.yaml", "--runs", 6, "--seed", 11, "--out", tmp_path)
    assert r.returncode == 0
    a = read_frame(crash_run[0] / "trajectories.parquet")
    b = read_frame(tmp_path / "trajectories.parquet")
    assert a.equals(b)


def test_run__shipped_name__resolves(tmp_path):
    r = tripod("run", "venue-failure", "--runs", 2, "--out", tmp_path / "v")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "v" / "metrics.json").exists()


@pytest.mark.parametrize("mutate,field", [
    (lambda d: d["protocol"].__setitem__("initial_supply_usd", "lots"), "initial_supply_usd"),
    (lambda d: d["protocol"]["caps"].__setitem__("redeem_cap_usd_per_hour", -1), "redeem_cap_usd_per_hour"),
    (lambda d: d["protocol"]["weights"].__setitem__("btc", 0.9), "weights"),
    (lambda d: d.__setitem__("colour", "blue"), "colour"),
    (lambda d: d.__setitem__("market", {"source": "historical"}), "historical"),
])
def test_run__malformed_scenario__one_clear_line_naming_the_field(mutate, field, tmp_path, root):
    d = yaml.safe_load((root / "scenarios" / "baseline.yaml").read_text())
    mutate(d)
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(d))
    r = tripod("run", f, "--runs", 2, "--out", tmp_path / "o")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr + r.stdout
    assert field in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_run__missing_file_and_bad_engine__clear_errors(tmp_path):
    r = tripod("run", tmp_path / "nope.yaml")
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr
    r = tripod("run", "baseline", "--runs", "0")
    assert r.returncode == 2 and "runs" in r.stderr and "Traceback" not in r.stderr


def test_scenarios_and_validate(root):
    r = tripod("scenarios")
    assert r.returncode == 0
    names = [line.split()[0] for line in r.stdout.splitlines() if line.startswith("  ")]
    assert {"baseline", "btc-crash", "funding-drought", "venue-failure", "bank-run", "historical-2022",
            "pure-delta-neutral"} <= set(names)
    assert "market" not in names  # an include fragment, not a scenario
    r = tripod("validate", root / "scenarios" / "bank-run.yaml")
    assert r.returncode == 0 and "ok" in r.stdout


@pytest.mark.slow
def test_run__cadcad_engine__same_numbers_as_batch(tmp_path, root):
    args = ("run", root / "scenarios" / "venue-failure.yaml", "--runs", 2, "--seed", 3)
    assert tripod(*args, "--engine", "cadcad", "--out", tmp_path / "c").returncode == 0
    assert tripod(*args, "--engine", "batch", "--out", tmp_path / "b").returncode == 0
    c = read_frame(tmp_path / "c" / "trajectories.parquet")
    b = read_frame(tmp_path / "b" / "trajectories.parquet")
    pd.testing.assert_frame_equal(c, b, rtol=1e-9, atol=1e-9)


def test_run__all_columns__writes_the_value_ledger_too(tmp_path):
    r = tripod("run", "venue-failure", "--runs", 2, "--out", tmp_path / "a", "--all-columns")
    assert r.returncode == 0, r.stderr
    cols = read_frame(tmp_path / "a" / "trajectories.parquet").columns
    assert {"cum_collateral_in", "cum_spot_pnl", "redeem_cap_used_usd"} <= set(cols)
