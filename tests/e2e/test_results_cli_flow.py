"""End-to-end: a risk committee's analyst uses the CLI as one tool: help, version, names anywhere, --set,
validate of sweeps, compare of two designs, nothing shipped overwritten, quiet when piped."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from utils.pages import assert_self_contained

TRIPOD = shutil.which("tripod", path=str(Path(sys.executable).parent)) or "tripod"


def tripod(*args, cwd=None, env=None):
    return subprocess.run([TRIPOD, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "CI": "1", **(env or {})}, timeout=900)


def test_bare_tripod__prints_help_and_exits_0():
    r = tripod()
    assert r.returncode == 0 and "usage: tripod" in r.stdout
    for cmd in ("run", "sweep", "compare", "dashboard", "validate", "scenarios"):
        assert cmd in r.stdout


def test_version():
    import sim

    r = tripod("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"tripod {sim.__version__}"


@pytest.mark.parametrize("ref,says", [("baseline", "ok (baseline"), ("pure-delta-neutral", "ok (pure-delta-neutral"),
                                      ("reserve-vs-mix", "ok (sweep reserve-vs-mix: 30 points"),
                                      ("sweeps/caps-vs-fees.yaml", "ok (sweep caps-vs-fees")])
def test_validate__names_and_sweep_files(ref, says, root):
    r = tripod("validate", ref, cwd=root)
    assert r.returncode == 0 and says in r.stdout, r.stderr


def test_validate__unknown_name__one_line_exit_2():
    r = tripod("validate", "no-such-scenario")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no-such-scenario" in r.stderr


def test_validate__bad_sweep__names_the_field(tmp_path, root):
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump({"name": "x", "base": str(root / "scenarios" / "btc-crash.yaml"),
                                 "parameters": [{"path": "protocol.reserve.initial_usd"}]}))
    r = tripod("validate", f)
    assert r.returncode == 2 and "parameters" in r.stderr and "Traceback" not in r.stderr


def test_run_set__recorded_and_simulated(tmp_path):
    out = tmp_path / "r"
    r = tripod("run", "btc-crash", "--runs", 3, "--set", "protocol.reserve.initial_usd=0",
               "--set", "horizon_hours=72", "--out", out)
    assert r.returncode == 0, r.stderr
    sc = json.loads((out / "scenario.json").read_text())
    assert sc["protocol"]["reserve"]["initial_usd"] == 0 and sc["horizon_hours"] == 72
    man = json.loads((out / "manifest.json").read_text())
    assert man["overrides"] == ["protocol.reserve.initial_usd=0", "horizon_hours=72"]
    t = pd.read_parquet(out / "trajectories.parquet", columns=["timestep", "reserve_fund_usd"])
    assert (t[t.timestep == 0].reserve_fund_usd == 0).all() and t.timestep.max() == 72


@pytest.mark.parametrize("bad,word", [("protocol.reserve.nope=1", "nope"), ("protocol.reserve.initial_usd=-5", "initial_usd"),
                                      ("no_equals_sign", "key.path=value")])
def test_run_set__bad__one_clear_line(bad, word, tmp_path):
    r = tripod("run", "btc-crash", "--runs", 2, "--set", bad, "--out", tmp_path / "x")
    assert r.returncode == 2 and word in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x").exists()


def test_calibrate__out_onto_a_shipped_file__refused_without_force(root):
    shipped = root / "scenarios" / "calibrated" / "market.yaml"
    before = shipped.read_bytes()
    r = tripod("calibrate", "--out", shipped, "--paths", 0, "--report-dir", "/tmp/never-written-by-tripod-test")
    assert r.returncode == 2 and "--force" in r.stderr
    assert shipped.read_bytes() == before


def test_experiment_default_folders__quick_and_full_differ():
    from argparse import Namespace

    from sim.cli import _experiment_out
    from sim.experiments import leverage_cycle as lc

    full = _experiment_out(Namespace(runs=20, seed=8, scenario=None), lc.DEFAULT_LTVS, tuple(lc.DESIGNS), lc)
    quick = _experiment_out(Namespace(runs=3, seed=8, scenario=None), (0.0, 0.9), ("reserve-only", "big-backstop"), lc)
    assert full == Path("out/leverage-cycle") and quick != full


def test_run_defaults__set_runs_get_their_own_folder():
    from sim.cli import _default_out, _overrides_tag

    assert _default_out("baseline", _overrides_tag(None)) == Path("out/baseline")
    assert _default_out("baseline", _overrides_tag(["protocol.reserve.initial_usd=0"])) != Path("out/baseline")


def test_run__piped__prints_no_progress(tmp_path):
    r = tripod("run", "btc-crash", "--runs", 2, "--set", "horizon_hours=72", "--out", tmp_path / "q", env={"CI": ""})
    assert r.returncode == 0 and r.stderr == ""


@pytest.fixture(scope="module")
def compared(tmp_path_factory, root):
    d = tmp_path_factory.mktemp("cmp")
    lean = d / "lean.yaml"
    lean.write_text(yaml.safe_dump({"include": [str(root / "scenarios" / "btc-crash.yaml")], "name": "lean-reserve",
                                    "protocol": {"reserve": {"initial_usd": 0.0}}}))
    r = tripod("compare", "btc-crash", lean, "--runs", 12, "--set", "horizon_hours=120", "--out", d / "out")
    assert r.returncode == 0, r.stderr
    return d / "out", r


def test_compare__json_has_both_sides_with_intervals_and_paired_differences(compared):
    out, r = compared
    c = json.loads((out / "compare.json").read_text())
    assert c["compare"] == ["btc-crash", "lean-reserve"] and c["paired"]
    for s in c["sides"]:
        assert s["runs"] == 12 and s["seed"] == c["sides"][0]["seed"] and s["horizon_hours"] == 120
        assert s["metrics"]["depeg_probability_ci95"][0] <= s["metrics"]["depeg_probability"]
    d = c["differences"][0]["paired_differences"]
    for k in ("depeg_probability", "insolvency_probability", "reserve_depletion_probability"):
        lo, hi = d[k]["ci95"]
        assert -1 <= lo <= d[k]["diff"] <= hi <= 1
    # removing the reserve empties it: the paired difference is certain, the sides' own intervals are wide
    dep = d["reserve_depletion_probability"]
    assert dep["diff"] > 0.5 and dep["ci95"][0] > 0
    assert "reserve_fund_min_usd.p50" in d and d["reserve_fund_min_usd.p50"]["ci95"][1] < 0
    assert "paired" in r.stdout


def test_compare__page_is_self_contained_with_overlaid_fans(compared):
    html = (compared[0] / "compare.html").read_text()
    figs = assert_self_contained(html, min_figures=5)
    peg = next(f for f in figs.values() if "pool price" in f["layout"]["title"]["text"])
    names = {t.get("name") for t in peg["data"]}
    assert {"btc-crash: median", "lean-reserve: median"} <= names


def test_compare__run_folders__reproduced(compared, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out, extra in ((a, []), (b, ["--set", "protocol.reserve.initial_usd=0"])):
        assert tripod("run", "btc-crash", "--runs", 4, "--seed", 5, "--set", "horizon_hours=72", *extra,
                      "--out", out).returncode == 0
    r = tripod("compare", a, b, "--out", tmp_path / "c")
    assert r.returncode == 0, r.stderr
    c = json.loads((tmp_path / "c" / "compare.json").read_text())
    assert [s["source"] for s in c["sides"]] == ["run folder", "run folder"]
    assert all(s["reproduced_run_folder"] for s in c["sides"]) and c["paired"]


def test_compare__one_target__clear_error():
    r = tripod("compare", "baseline")
    assert r.returncode == 2 and "at least two" in r.stderr
