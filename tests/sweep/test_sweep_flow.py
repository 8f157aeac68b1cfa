"""End-to-end: a designer runs `tripod sweep` on a 2-worker Dask LocalCluster, kills it, resumes."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.parquet import read_frame
from utils.pages import assert_self_contained

TRIPOD = shutil.which("tripod", path=str(Path(sys.executable).parent)) or "tripod"
SWEEP = {"name": "flow", "base": "bank-run", "runs_per_point": 6, "run_batch": 3, "horizon_hours": 72, "seed": 4,
         "parameters": [{"path": "protocol.caps.redeem_cap_usd_per_hour", "values": [2e6, 2e7]},
                        {"path": "protocol.fees.redeem_fee_bps", "values": [0, 40]}],
         "target": {"metric": "depeg_probability", "max": 0.5}}


def tripod(*args, **kw):
    return subprocess.run([TRIPOD, *map(str, args)], capture_output=True, text=True, timeout=900,
                          env={**os.environ, "CI": "1"}, **kw)


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory):
    f = tmp_path_factory.mktemp("sw") / "flow.yaml"
    f.write_text(yaml.safe_dump(SWEEP))
    return f


@pytest.fixture(scope="module")
def clean(sweep_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    r = tripod("sweep", sweep_file, "--out", out, "--workers", 2)
    assert r.returncode == 0, r.stderr
    return out, r


def test_sweep__two_workers__writes_results_summary_report(clean):
    out, r = clean
    res = read_frame(out / "results.parquet")
    assert len(res) == 4 * 6 and res.groupby("point").size().eq(6).all()
    assert {"point", "run", "caps_redeem_cap_usd_per_hour", "fees_redeem_fee_bps", "max_depeg_bps"} <= set(res.columns)
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 4 and "depeg_probability" in summary and "max_depeg_bps_p95" in summary
    # tighter caps cannot defend the peg better than looser ones
    by_cap = summary.groupby("caps_redeem_cap_usd_per_hour")["max_depeg_bps_p50"].mean()
    assert by_cap[2e6] >= by_cap[2e7]
    for col in ("depeg_probability", "insolvency_probability", "max_depeg_bps_p95"):
        lo, hi = summary[f"{col}_ci95_low"], summary[f"{col}_ci95_high"]  # NaN: too few runs to bound that side
        assert (lo.isna() | (lo <= summary[col])).all() and (hi.isna() | (summary[col] <= hi)).all()
        assert lo.notna().any() or hi.notna().any()
    html = (out / "report.html").read_text()
    figs = assert_self_contained(html, min_figures=2)
    surface = next(iter(figs.values()))
    assert surface["data"][0]["type"] == "heatmap"
    points = {int(c[2]) for row in surface["data"][0]["customdata"] for c in row}  # a click opens the cell's point
    assert points == set(summary["point"])
    assert "runs per point" in html and "met with 95 % confidence" in html
    assert len(list((out / "parts").glob("*.parquet"))) == 8
    assert "8 of 8 chunks run now" in r.stdout


def test_sweep__layout_is_duckdb_readable(clean):
    import duckdb

    out, _ = clean
    n = duckdb.sql(f"select count(*) from read_parquet('{out}/parts/*.parquet')").fetchall()[0][0]
    m = duckdb.sql(f"select max(max_depeg_bps) from '{out}/results.parquet'").fetchall()[0][0]
    assert n == 24 and m > 0


def test_sweep__rerun__skips_finished_chunks_and_gives_same_results(clean, sweep_file):
    out, _ = clean
    before = read_frame(out / "results.parquet")
    r = tripod("sweep", sweep_file, "--out", out, "--workers", 1)
    assert r.returncode == 0 and "0 of 8 chunks run now" in r.stdout
    assert read_frame(out / "results.parquet").equals(before)


def test_sweep__changed_file_on_existing_dir__refused(clean, tmp_path):
    out, _ = clean
    f = tmp_path / "changed.yaml"
    f.write_text(yaml.safe_dump({**SWEEP, "seed": 5}))
    r = tripod("sweep", f, "--out", out)
    assert r.returncode == 2 and "config hash" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_sweep__killed_with_kill_9_and_resumed__identical_to_uninterrupted(clean, sweep_file, tmp_path):
    out = tmp_path / "killed"
    p = subprocess.Popen([TRIPOD, "sweep", str(sweep_file), "--out", str(out), "--workers", "2"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and len(list((out / "parts").glob("*.parquet"))) < 2 and p.poll() is None:
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL)  # the CLI and its Dask workers, mid-sweep
    p.wait()
    finished = len(list((out / "parts").glob("*.parquet")))
    assert not (out / "results.parquet").exists() or finished == 8
    r = tripod("sweep", sweep_file, "--out", out, "--workers", 2)
    assert r.returncode == 0, r.stderr
    assert f"{8 - finished} of 8 chunks run now" in r.stdout
    a = read_frame(clean[0] / "results.parquet")
    b = read_frame(out / "results.parquet")
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.slow
def test_sweep__ctrl_c__stops_cleanly_keeping_finished_chunks(sweep_file, tmp_path):
    out = tmp_path / "interrupted"
    p = subprocess.Popen([TRIPOD, "sweep", str(sweep_file), "--out", str(out), "--workers", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not list((out / "parts").glob("*.parquet")) and p.poll() is None:
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's foreground group
    _, err = p.communicate(timeout=120)
    kept = list((out / "parts").glob("*.parquet"))
    if p.returncode == 0:  # the sweep finished before the signal landed
        return
    assert p.returncode == 130, err
    assert "Traceback" not in err and "resume" in err
    assert kept and not list((out / "parts").glob(".*.tmp"))
    r = tripod("sweep", sweep_file, "--out", out, "--workers", 1)
    assert r.returncode == 0 and f"{8 - len(kept)} of 8 chunks run now" in r.stdout
