"""Unit: sweep files, designs and points."""
import numpy as np
import pytest
import yaml

from sim import ScenarioError
from sim.sweep.config import load_sweep
from sim.sweep.plan import design_values, plan


def _write(tmp_path, body: dict, name="s.yaml"):
    f = tmp_path / name
    f.write_text(yaml.safe_dump(body))
    return f


BASE = {"name": "t", "base": "venue-failure", "runs_per_point": 6, "run_batch": 4, "horizon_hours": 96,
        "parameters": [{"path": "protocol.reserve.initial_usd", "values": [0, 1e7]},
                       {"path": "protocol.weights.btc", "values": [0.2, 0.4], "balance": "protocol.weights.tbill"}]}


def test_grid__points_are_the_product_and_chunks_cover_every_run(tmp_path):
    f = _write(tmp_path, BASE)
    cfg = load_sweep(f)
    base, values, scenarios, chunks = plan(cfg, f)
    assert len(values) == 4 and len(scenarios) == 4
    assert {(v["protocol.reserve.initial_usd"], v["protocol.weights.btc"]) for v in values} == {
        (0, 0.2), (0, 0.4), (1e7, 0.2), (1e7, 0.4)}
    assert [(c.point, c.run_start, c.run_stop) for c in chunks if c.point == 0] == [(0, 0, 4), (0, 4, 6)]
    assert all(sc.horizon_hours == 96 and sc.runs == 6 for sc in scenarios)


def test_balance__keeps_weights_summing_to_one(tmp_path):
    f = _write(tmp_path, BASE)
    _, values, scenarios, _ = plan(load_sweep(f), f)
    for v, sc in zip(values, scenarios):
        w = sc.protocol.weights
        assert w.btc == v["protocol.weights.btc"]
        assert w.tbill + w.btc + w.xau + w.buffer == pytest.approx(1.0)


def test_lhs__one_sample_per_stratum_and_seeded(tmp_path):
    body = {**BASE, "design": "lhs", "points": 8, "parameters": [
        {"path": "protocol.reserve.initial_usd", "low": 0, "high": 8e6},
        {"path": "protocol.fees.redeem_fee_bps", "low": 0, "high": 80}]}
    cfg = load_sweep(_write(tmp_path, body))
    v = design_values(cfg)
    r = np.array([p["protocol.reserve.initial_usd"] for p in v])
    assert sorted(np.floor(r / 1e6).astype(int)) == list(range(8))
    assert design_values(cfg) == v


@pytest.mark.parametrize("mutate,field", [
    (lambda b: b.__setitem__("colour", 1), "colour"),
    (lambda b: b["parameters"][0].pop("values"), "parameters.0"),
    (lambda b: b.__setitem__("design", "lhs"), "points"),
    (lambda b: b.__setitem__("runs_per_point", -1), "runs_per_point"),
])
def test_load_sweep__bad_file__names_the_field(tmp_path, mutate, field):
    body = yaml.safe_load(yaml.safe_dump(BASE))
    mutate(body)
    with pytest.raises(ScenarioError) as ei:
        load_sweep(_write(tmp_path, body))
    assert field in str(ei.value)


def test_point__invalid_value__names_the_point_and_field(tmp_path):
    body = {**BASE, "parameters": [{"path": "protocol.weights.btc", "values": [0.9]}]}  # no balance: sum != 1
    f = _write(tmp_path, body)
    with pytest.raises(ScenarioError) as ei:
        plan(load_sweep(f), f)
    assert "protocol.weights" in str(ei.value) and "0.9" in str(ei.value)


def test_point__unknown_path__refused(tmp_path):
    f = _write(tmp_path, {**BASE, "parameters": [{"path": "protocol.nope.x", "values": [1]}]})
    with pytest.raises(ScenarioError, match="protocol.nope.x"):
        plan(load_sweep(f), f)


def test_shipped_sweeps__plan(root):
    for f in sorted((root / "sweeps").glob("*.yaml")):
        base, values, scenarios, chunks = plan(load_sweep(f), f)
        assert len(values) >= 16 and chunks
