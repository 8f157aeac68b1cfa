"""Unit: the leverage-cycle experiment's grid (design x max LTV x sleeve mix), its --mixes validation,
the mixes applied to the scenario on common random numbers, and the paired statistics over points."""
import numpy as np
import pytest

from sim.config import ScenarioError, load_scenario
from sim.experiments import leverage_cycle as lc
from sim.model import Model
from sim.runner import resolve_scenario


@pytest.fixture(scope="module")
def base():
    return load_scenario(resolve_scenario("leverage-cycle"))


def test_grid__is_design_x_ltv_x_mix_every_point_once():
    g = lc.grid((0.0, 0.9), ("reserve-only", "backstop"), ("treasury-heavy", "crypto-gold-heavy"))
    assert len(g) == 8 and len(set(g)) == 8
    assert {m for _, _, m in g} == {"treasury-heavy", "crypto-gold-heavy"}
    assert g[0] == ("reserve-only", 0.0, "treasury-heavy") and g[1] == ("reserve-only", 0.0, "crypto-gold-heavy")


def test_mixes__sum_to_one_keep_the_buffer_and_order_the_anchor():
    for w in lc.MIXES.values():
        assert sum(w.values()) == pytest.approx(1.0)
        assert w["buffer"] == lc.MIXES["baseline"]["buffer"]  # only the anchor moves
    th, cg = lc.MIXES["treasury-heavy"], lc.MIXES["crypto-gold-heavy"]
    assert th["tbill"] > lc.MIXES["baseline"]["tbill"] > cg["tbill"]
    assert th["btc"] + th["xau"] < cg["btc"] + cg["xau"]


def test_parse_mixes__default_is_the_scenario_s_own_book():
    assert lc.parse_mixes(None) == (lc.SCENARIO_MIX,)
    assert lc.parse_mixes("treasury-heavy, baseline") == ("treasury-heavy", "baseline")


@pytest.mark.parametrize("text, words", [("nope", ["unknown mix", "'nope'", "treasury-heavy"]),
                                         ("baseline,baseline", ["listed twice"]), ("", ["unknown mix"]),
                                         ("baseline,", ["unknown mix"])])
def test_parse_mixes__bad__names_the_option(text, words):
    with pytest.raises(ScenarioError) as err:
        lc.parse_mixes(text)
    assert err.value.source == "--mixes"
    assert all(w in str(err.value) for w in words)


def test_point_scenario__sets_the_mix_and_nothing_else(base):
    a = lc.point_scenario(base, 0.8, "reserve-only", "crypto-gold-heavy")
    b = lc.point_scenario(base, 0.8, "reserve-only", "treasury-heavy")
    assert a.protocol.weights.model_dump() == lc.MIXES["crypto-gold-heavy"]
    da, db = a.model_dump(), b.model_dump()
    da["protocol"].pop("weights"), db["protocol"].pop("weights")
    assert da == db
    # the scenario's own book is left alone
    assert lc.point_scenario(base, 0.8, "reserve-only").protocol.weights == base.protocol.weights


def test_mixes__share_every_random_draw(base):
    """Common random numbers: the market paths of run k are the same whatever the mix."""
    built = [Model.build(lc.point_scenario(base, 0.9, "backstop", m).with_overrides(runs=3, horizon_hours=760))
             for m in ("treasury-heavy", "crypto-gold-heavy")]
    pa, pb = built[0].paths, built[1].paths
    for part in ("per_step", "per_run", "per_run_const"):
        a, b = getattr(pa, part), getattr(pb, part)
        assert set(a) == set(b)
        for k in a:
            np.testing.assert_array_equal(a[k], b[k], err_msg=f"{part}.{k}")
    # and the books differ as configured (BTC spot plus its margin)
    ga, gb = built[0].genesis, built[1].genesis
    sa, sb = lc.sleeve_shares(ga), lc.sleeve_shares(gb)
    assert sb["btc"] / sa["btc"] == pytest.approx(0.45 / 0.10) and sb["xau"] / sa["xau"] == pytest.approx(0.30 / 0.05)
    assert sum(sa.values()) == pytest.approx(1.0) and sa["tbill"] > 0.69


def _point(ltv, depegged):
    return {"max_ltv": ltv, "depeg_probability": float(np.mean(depegged)), "depegged_runs": list(depegged)}


def test_critical_leverage__largest_jump_with_its_paired_interval():
    pts = [_point(0.0, [0, 0, 0, 0]), _point(0.8, [1, 0, 0, 0]), _point(0.9, [1, 1, 1, 1])]
    c = lc.critical_leverage(pts)
    assert c["max_ltv"] == 0.9 and c["from_ltv"] == 0.8 and c["depeg_probability_jump"] == pytest.approx(0.75)
    lo, hi = c["jump_ci95"]
    assert lo <= 0.75 <= hi and c["resolved"] == (lo > 0)
    assert lc.critical_leverage([_point(0.0, [1, 0]), _point(0.9, [1, 0])])["max_ltv"] is None


def test_mix_differences__paired_with_intervals_and_a_sign():
    n = 40
    first = {"depegged": np.zeros(n, bool), "insolvent": np.zeros(n, bool), "story_full": np.zeros(n, bool),
             "story_consistent": np.zeros(n, bool), "max_depeg_bps": np.full(n, 10.0),
             "looper_liquidated_usd": np.zeros(n), "hyb_drawdown": np.full(n, 0.5), "min_backing_ratio": np.ones(n),
             "funding_income_usd": np.linspace(0, 1e6, n)}
    second = {**first, "depegged": np.ones(n, bool), "max_depeg_bps": np.full(n, 30.0)}
    d = lc.mix_differences(first, second)
    assert set(d) == set(lc.PAIRED_PROBABILITIES) | set(lc.PAIRED_STATS)
    assert d["depeg_probability"]["diff"] == 1.0 and d["depeg_probability"]["sign"] == "higher"
    assert d["max_depeg_bps.p95"]["diff"] == pytest.approx(20.0) and d["max_depeg_bps.p95"]["sign"] == "higher"
    assert d["insolvency_probability"]["diff"] == 0.0 and d["insolvency_probability"]["sign"] == "unresolved"
    for v in d.values():
        lo, hi = v["ci95"]
        assert lo <= v["diff"] <= hi


def test_story_by_mix__ranges_over_each_mix_s_points():
    pts = [{"mix": m, "story_order_full_share": f, "story_order_consistent_share": c,
            "event_probability": {e: f for e in lc.EVENTS}}
           for m, f, c in (("a", 0.0, 0.1), ("a", 0.2, 0.5), ("b", 0.1, 0.1))]
    s = lc.story_by_mix(pts, ("a", "b"))
    assert s["a"]["points"] == 2 and s["a"]["full_share_range"] == [0.0, 0.2]
    assert s["a"]["consistent_share_range"] == [0.1, 0.5] and s["b"]["full_share_range"] == [0.1, 0.1]


def test_run_experiment__runs_that_cannot_fit__refused_before_any_simulation(base):
    with pytest.raises(ScenarioError) as err:
        lc.run_experiment(base, runs=1_000_000, seed=8, ltvs=(0.9,), designs=("reserve-only",))
    assert err.value.source == "--runs" and "memory" in str(err.value)


def test_default_folder__a_mix_grid_gets_its_own():
    from argparse import Namespace
    from pathlib import Path

    from sim.cli import _experiment_out

    args = Namespace(runs=20, seed=8, scenario=None)
    plain = _experiment_out(args, lc.DEFAULT_LTVS, tuple(lc.DESIGNS), lc, lc.DEFAULT_MIXES)
    mixed = _experiment_out(args, lc.DEFAULT_LTVS, tuple(lc.DESIGNS), lc, ("treasury-heavy", "crypto-gold-heavy"))
    assert plain == Path("out/leverage-cycle") and mixed != plain and "crypto-gold-heavy" in mixed.name
