"""Unit: engine parity — cadCAD (reference) and the batched engine give the same trajectories on the
same seeds, for every shipped scenario (shortened), because they run the same functions on the
same exogenous arrays."""
import numpy as np
import pytest

import sim
from sim.engines import run_engine
from sim.model import Model

SHIPPED = ["baseline", "btc-crash", "funding-drought", "venue-failure", "bank-run", "historical-2022", "custody-freeze"]


def _short(name, root, hours=96):
    sc = sim.load_scenario(root / "scenarios" / f"{name}.yaml")
    # keep every scripted event inside the window by shifting nothing: 96 h covers the shipped shocks' starts
    return sc.with_overrides(horizon_hours=hours, runs=3, seed=7)


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_cadcad_and_batch__same_seeds__same_trajectories(name, root):
    sc = _short(name, root)
    m = Model.build(sc, sc.runs, sc.seed)
    paths, p, g = m.paths, m.params, m.genesis
    b = run_engine("batch", p, g, paths).data
    c = run_engine("cadcad", p, g, paths).data
    assert b.keys() == c.keys()
    for k in b:
        np.testing.assert_allclose(b[k], c[k], rtol=1e-9, atol=1e-9, err_msg=k)


def test_run__same_seed__bit_for_bit_reproducible(small):
    a = sim.run(small).frame
    b = sim.run(small).frame
    assert a.equals(b)
    assert not a.equals(sim.run(small.with_overrides(seed=small.seed + 1)).frame)


def test_run__run_k__independent_of_how_many_runs(small):
    a = sim.run(small, runs=2).frame
    b = sim.run(small, runs=5).frame
    num = a.select_dtypes("number").columns
    assert a[num].equals(b[b["run"] < 2][num].reset_index(drop=True))


def test_import_sim__does_not_import_ape_web3_or_cadcad():
    import subprocess
    import sys

    code = "import sys, sim; print(sorted(m for m in ('ape', 'web3', 'cadCAD') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_run__recording_only_metric_series__same_metrics(small):
    full = sim.run(small)
    lean = sim.run(small, record="metrics")
    assert lean.metrics == full.metrics
    assert set(lean.trajectory.data) < set(full.trajectory.data)


@pytest.mark.slow
def test_cadcad_and_batch__margin_operations__same_trajectories(root):
    """Runs with different numbers of sub-steps in one batch (a crash and rebound, with per-run noise),
    transfers in flight, an outage, partial liquidations and a venue claim paid out: each run as cadCAD
    runs it alone."""
    sc = sim.load_scenario(root / "scenarios" / "baseline.yaml")
    sc = sim.Scenario.model_validate({
        **sc.model_dump(), "horizon_hours": 120, "runs": 3, "seed": 9,
        "protocol": {**sc.protocol.model_dump(), "weights": {"tbill": 0.55, "btc": 0.30, "xau": 0.15, "buffer": 0.0},
                     "hedge": {**sc.protocol.hedge.model_dump(), "liquidation_fill_per_hour": 0.5}},
        "scripted": [{"variable": "btc_usd", "mode": "multiply", "points": [[20, 1.0], [26, 0.6], [29, 0.75]]}],
        "events": [{"type": "venue_outage", "hour": 27, "duration_hours": 4, "assets": ["btc"]},
                   {"type": "venue_failure", "hour": 40, "share_of_hedge": 0.3, "recovery_rate": 0.5,
                    "final_recovery_rate": 0.4, "recovery_delay_hours": 20, "recovery_payout_hours": 30}]})
    m = Model.build(sc, sc.runs, sc.seed)
    b = run_engine("batch", m.params, m.genesis, m.paths).data
    c = run_engine("cadcad", m.params, m.genesis, m.paths).data
    assert b["hedge_liquidations"][-1].min() > 0 and b["venue_claim_recovered_usd"][-1].min() > 0
    for k in b:
        # numpy's array and scalar maths differ in the last ulp (the pool price); with no buffer some
        # balances are differences of large numbers, so the tolerance is relative to each series' scale
        scale = np.nanmax(np.abs(np.where(np.isfinite(c[k]), c[k], np.nan))) if np.isfinite(c[k]).any() else 1.0
        np.testing.assert_allclose(b[k], c[k], rtol=1e-9, atol=1e-9 * max(scale, 1.0), err_msg=k)
