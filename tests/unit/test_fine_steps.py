"""Fine steps around a shock without a fine step for the whole run (`fine_steps`, `sim.markets.grid`):
the engine steps finer inside a window, results stay on the scenario's grid, the market at every
recorded hour is the one a run without the window sees, and random order flow keeps its variance."""
import numpy as np
import pytest

import sim
from sim.config import ScenarioError
from sim.engines import run_engine
from sim.markets import grid
from sim.model import Model

WINDOW = [{"start_hour": 66, "end_hour": 84, "step_hours": 0.25}]  # the venue fails at hour 72


def _scenario(root, fine_steps=(), **kw):
    sc = sim.load_scenario(root / "scenarios" / "venue-failure.yaml")
    return sim.Scenario.model_validate({**sc.model_dump(), "horizon_hours": 120, "runs": 3, "seed": 5,
                                        "fine_steps": list(fine_steps), **kw})


def test_engine_hours__split_inside_the_window_only__exact_at_the_recorded_hours(root):
    hours, recorded = grid.engine_hours(_scenario(root, WINDOW))
    assert len(recorded) == 121 and len(hours) == 121 + 18 * 3
    assert hours[recorded].tolist() == [float(h) for h in range(121)]
    dt = np.diff(hours)
    inside = (hours[1:] > 66) & (hours[1:] <= 84)
    assert np.allclose(dt[inside], 0.25) and np.allclose(dt[~inside], 1.0)
    plain_hours, plain_recorded = grid.engine_hours(_scenario(root))
    assert plain_recorded.tolist() == list(range(121)) and plain_hours.tolist() == [float(h) for h in range(121)]


def test_refined_market__the_same_at_every_recorded_hour__noise_pieces_add_up_to_the_step(root):
    plain, fine = Model.build(_scenario(root), 3, 5).paths, Model.build(_scenario(root, WINDOW), 3, 5).paths
    for k in ("btc_usd", "xau_usd", "tbill_yield", "funding_rate_8h_btc", "pool_depth", "stress"):
        np.testing.assert_array_equal(fine.per_run[k][fine.recorded], plain.per_run[k], err_msg=k)
    # a step's flow is noise x sqrt(dt): the window's four pieces of 15 min carry the hour's draw exactly
    z, r = fine.per_run["flow_noise"], fine.recorded
    for t in range(67, 85):
        pieces = z[r[t - 1] + 1:r[t] + 1]
        np.testing.assert_allclose(pieces.sum(axis=0) * np.sqrt(0.25), plain.per_run["flow_noise"][t], rtol=1e-12)
    assert not np.allclose(z[r[66] + 1], z[r[66] + 2])  # and the pieces differ from each other


def test_noise_pieces__are_standard_normal():
    rec = np.concatenate([[0], 1 + 12 * np.arange(1, 2001)])  # step 1 whole, then 2,000 steps of 12 pieces
    hours = np.concatenate([[0.0, 1.0], 1.0 + np.arange(1, 24_001) / 12])
    z = np.random.default_rng(0).standard_normal((2001, 1))
    out = grid.refine({"flow_noise": z}, hours, rec, np.array([0]), 1)["flow_noise"][2:, 0]
    assert abs(out.mean()) < 0.03 and abs(out.std() - 1.0) < 0.02


@pytest.mark.slow
def test_cadcad_and_batch__a_fine_window__same_trajectories(root):
    """A venue failure (at hour 72) inside a window of 15-minute steps: both engines step the window alike
    and record the scenario's hours."""
    sc = _scenario(root, WINDOW)
    m = Model.build(sc, sc.runs, sc.seed)
    b = run_engine("batch", m.params, m.genesis, m.paths).data
    c = run_engine("cadcad", m.params, m.genesis, m.paths).data
    assert b["supply"].shape == (121, 3)
    for k in b:
        np.testing.assert_allclose(b[k], c[k], rtol=1e-9, atol=1e-9, err_msg=k)


def test_a_window__changes_what_happens_inside_it(root):
    plain = sim.run(_scenario(root), record="all").trajectory.data
    fine = sim.run(_scenario(root, WINDOW), record="all").trajectory.data
    np.testing.assert_array_equal(fine["supply"][:67], plain["supply"][:67])  # the same run up to the window
    assert not np.allclose(fine["pool_sqrt_price"][67:85], plain["pool_sqrt_price"][67:85])


@pytest.mark.parametrize("window, words", [
    ({"start_hour": 24, "end_hour": 36, "step_hours": 0.3}, "fine_steps.0.step_hours: 0.3 must divide step_hours 1"),
    ({"start_hour": 24, "end_hour": 36, "step_hours": 1.0}, "fine_steps.0.step_hours: 1 must divide"),
    ({"start_hour": 24.5, "end_hour": 36, "step_hours": 0.25}, "fine_steps.0.start_hour: 24.5 must be a multiple"),
    ({"start_hour": 24, "end_hour": 80, "step_hours": 0.25}, "fine_steps.0.end_hour: 80 must be a multiple of step_hours 1 inside"),
    ({"start_hour": 36, "end_hour": 24, "step_hours": 0.25}, "end_hour must be after start_hour"),
])
def test_a_bad_window__is_one_clear_line(root, window, words):
    with pytest.raises(ScenarioError) as err:
        sim.parse_scenario({"name": "w", "horizon_hours": 72, "fine_steps": [window]})
    assert words in str(err.value)


def test_overlapping_windows__are_refused():
    with pytest.raises(ScenarioError, match="must be in time order and must not overlap"):
        sim.parse_scenario({"name": "w", "horizon_hours": 72, "fine_steps": [
            {"start_hour": 10, "end_hour": 20, "step_hours": 0.5}, {"start_hour": 15, "end_hour": 30, "step_hours": 0.25}]})


def test_a_shorter_horizon__cuts_the_window():
    sc = sim.parse_scenario({"name": "w", "horizon_hours": 120, "fine_steps": WINDOW})
    assert sc.with_horizon(80).fine_steps[0].end_hour == 80 and sc.with_horizon(60).fine_steps == []


def test_the_lowest_price_between_two_recorded_hours__reaches_the_metrics(root):
    """Inside a window the recorded price is the hour's last; `low_price_<venue>` keeps the lowest of its
    fine steps, and the metrics' lowest price and deepest discount read it. Outside, the two are one."""
    r = sim.run(_scenario(root, WINDOW), record="all")
    d, ref = r.trajectory.data, "uniswap"
    low, last = d[f"low_price_{ref}"], d[f"price_{ref}"]
    assert (low <= last).all()
    np.testing.assert_array_equal(low[:67], last[:67])
    np.testing.assert_array_equal(low[85:], last[85:])
    assert (low[67:85] < last[67:85]).any()
    assert r.metrics["max_depeg_bps"]["max"] == pytest.approx((1 - low.min()) * 1e4)
