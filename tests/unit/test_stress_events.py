"""Unit: the stress-events experiment's figures, comparison and fact checks (no simulation)."""
import numpy as np
import pytest
import yaml

from sim.config import ScenarioError, parse_scenario
from sim.experiments import stress_events as se


def _scenario(facts, horizon=48):
    return parse_scenario({"name": "t", "horizon_hours": horizon, "validation": facts,
                           "venues": [{"kind": "order_book", "name": "book", "bid_depth_usd": [[10, 1e6]]}]})


def _fact(metric, low=0.0, high=1.0):
    return {"fact": "f", "source": "s", "metric": metric, "observed": 0.5, "low": low, "high": high}


def test_derived_figures__from_recorded_series():
    series = {"supply": np.array([[100.0, 100.0], [90.0, 95.0], [80.0, 95.0]]),
              "redeemed_usd": np.array([[0.0, 0.0], [10.0, 5.0], [20.0, 5.0]]),
              "price_book": np.array([[1.0, 1.0], [0.9, 1.02], [0.95, 1.0]])}
    per_run = {"loss_backstop_usd": np.array([5e6, 0.0]), "backstop_hyb_sold": np.array([2e4, 0.0])}
    fig = lambda name: se.figure(name, per_run, series, 1.0)  # noqa: E731
    assert fig("redeemed_share_h1_h2") == pytest.approx([10 / 90, 0.0])
    assert fig("supply_change_h2") == pytest.approx([-0.2, -0.05])
    assert fig("mean_price_book_h1_h2") == pytest.approx([0.925, 1.01])
    assert fig("max_premium_bps_book") == pytest.approx([0.0, 200.0])
    got = fig("backstop_avg_price_usd")
    assert got[0] == pytest.approx(250.0) and np.isnan(got[1])
    assert fig(se.NOT_MODELLED) is None


def test_compare__median_inside_band_and_missing_values():
    ok = se.compare(np.array([0.1, 0.5, 0.9, np.nan]), 0.4, 0.6)
    assert ok["within"] == "yes" and ok["model_median"] == pytest.approx(0.5)
    assert ok["model_p5"] < ok["model_median"] < ok["model_p95"]
    assert se.compare(np.array([0.1, 0.2, 0.3]), 0.4, 0.6)["within"] == "no"
    assert se.compare(None, 0, 1)["within"] == "no (not modelled)"
    assert se.compare(np.array([np.nan]), 0, 1)["within"].startswith("no (no value")


def test_check_facts__names_each_bad_figure():
    se.check_facts(_scenario([_fact("min_price_book"), _fact("redeemed_share_h0_h24"), _fact("none")]), "x.yaml")
    bad = _scenario([_fact("min_price_nowhere"), _fact("mean_price_nowhere_h0_h4"), _fact("supply_change_h99"),
                     _fact("redeemed_share_h24_h12")])
    with pytest.raises(ScenarioError) as ei:
        se.check_facts(bad, "x.yaml")
    lines = ei.value.lines
    assert ei.value.source == "x.yaml" and len(lines) == 4
    assert [ln.split(":")[0] for ln in lines] == [f"validation.{i}.metric" for i in range(4)]
    with pytest.raises(ScenarioError, match="at least one fact"):
        se.check_facts(_scenario([]), "x.yaml")


def test_load_events__a_bad_file_is_named(tmp_path):
    (tmp_path / "e.yaml").write_text(yaml.safe_dump({"name": "e", "validation": [_fact("no_such_figure")]}))
    with pytest.raises(ScenarioError) as ei:
        se.load_events(directory=tmp_path)
    assert ei.value.source.endswith("e.yaml") and "no_such_figure" in ei.value.lines[0]
    with pytest.raises(ScenarioError, match="no event named"):
        se.load_events(["other"], directory=tmp_path)
