"""Unit: scenario validation names the field and refuses what a designer must be told about."""
import pytest
import yaml

from sim import ScenarioError, load_scenario, parse_scenario


def _base(root):
    return yaml.safe_load((root / "scenarios" / "baseline.yaml").read_text())


def _error(data) -> str:
    with pytest.raises(ScenarioError) as ei:
        parse_scenario(data, "test.yaml")
    return "\n".join(ei.value.lines)


def test_every_shipped_scenario_validates(root):
    names = sorted(p.stem for p in (root / "scenarios").glob("*.yaml"))
    assert {"baseline", "btc-crash", "funding-drought", "venue-failure", "bank-run", "historical-2022"} <= set(names)
    for n in names:
        assert load_scenario(root / "scenarios" / f"{n}.yaml").name == n


def test_parse__with_unknown_key__names_the_key(root):
    d = _base(root)
    d["protocol"]["fees"]["redeem_fee_bsp"] = 3
    assert "protocol.fees.redeem_fee_bsp" in _error(d)


def test_parse__with_negative_size__names_the_field(root):
    d = _base(root)
    d["protocol"]["initial_supply_usd"] = -5
    assert "protocol.initial_supply_usd" in _error(d)


def test_parse__with_wrong_type__names_the_field(root):
    d = _base(root)
    d["protocol"]["caps"]["redeem_cap_usd_per_hour"] = "lots"
    assert "protocol.caps.redeem_cap_usd_per_hour" in _error(d)


def test_parse__with_weights_not_summing_to_one__refused(root):
    d = _base(root)
    d["protocol"]["weights"]["btc"] = 0.5
    msg = _error(d)
    assert "protocol.weights" in msg and "sum to 1" in msg


def test_parse__historical_without_range__refused():
    msg = _error({"name": "h", "market": {"source": "historical"}})
    assert "market" in msg and "historical" in msg
    msg = _error({"name": "h", "market": {"source": "historical", "historical": {"start_date": "2022-01-01"}}})
    assert "market.historical.end_date" in msg


def test_parse__historical_outside_data__refused_when_run():
    import sim

    sc = parse_scenario({"name": "h", "horizon_hours": 48, "runs": 1, "market": {
        "source": "historical", "historical": {"start_date": "2010-01-01", "end_date": "2010-02-01"}}})
    with pytest.raises(ScenarioError) as ei:
        sim.run(sc)
    assert "start_date" in str(ei.value)


def test_parse__horizon_longer_than_history__refused():
    msg = _error({"name": "h", "horizon_hours": 24 * 40, "market": {
        "source": "historical", "historical": {"start_date": "2022-01-01", "end_date": "2022-01-31"}}})
    assert "horizon_hours" in msg


def test_parse__maintenance_above_initial_margin__refused():
    msg = _error({"name": "m", "protocol": {"hedge": {"initial_margin_ratio": 0.05, "maintenance_margin_ratio": 0.06}}})
    assert "maintenance_margin_ratio" in msg


def test_parse__scripted_points_not_increasing__refused():
    msg = _error({"name": "s", "scripted": [{"variable": "btc_usd", "points": [[10, 1.0], [5, 0.8]]}]})
    assert "scripted.0.points" in msg or "scripted.0" in msg


def test_parse__unknown_event_type__refused():
    assert "events.0" in _error({"name": "e", "events": [{"type": "meteor", "hour": 3}]})


def test_config_hash__ignores_runs_and_seed__changes_with_params(root):
    d = _base(root)
    a = parse_scenario(d)
    assert a.config_hash() == a.with_overrides(runs=7, seed=9).config_hash()
    d["protocol"]["fees"]["redeem_fee_bps"] = 11
    assert parse_scenario(d).config_hash() != a.config_hash()


def test_parse__holder_threshold_or_exit_span_near_zero__refused(root):
    # a cohort's exit target divides by exit_span x threshold: both are bounded away from an underflow to 0
    d = _base(root)
    d.setdefault("agents", {}).setdefault("retail", {})["behaviour"] = {"threshold": 1e-300}
    assert "agents.retail.behaviour.threshold" in _error(d)
    d["agents"]["retail"]["behaviour"] = {"exit_span": 1e-300}
    assert "agents.retail.behaviour.exit_span" in _error(d)


def test_holders_at_the_lowest_threshold_and_span__exit_finitely(root):
    # the smallest thresholds the loader takes, spread as far down as allowed, with alarms that start at 0
    import numpy as np

    from sim.engines import run_engine
    from sim.model import Model

    d = _base(root)
    d.update(horizon_hours=24, runs=8)
    low = {"threshold": 1e-6, "exit_span": 0.01, "threshold_spread": 3.0, "threshold_run_spread": 3.0}
    d.setdefault("agents", {})
    for cls in ("institutional", "retail", "stakers"):
        d["agents"].setdefault(cls, {})["behaviour"] = low
    sc = parse_scenario(d, "test.yaml")
    m = Model.build(sc, sc.runs, sc.seed)
    out = run_engine("batch", m.params, m.genesis, m.paths).data
    assert all(np.isfinite(out[k]).all() for k in ("supply", "inst_husd", "retail_husd", "vault_husd"))
