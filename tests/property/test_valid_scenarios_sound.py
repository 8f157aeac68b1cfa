"""Property: any scenario the loader accepts gives sound numbers on the batch engine: every recorded
value finite, no balance below zero, metrics.json strict JSON with null only where a figure is
undefined.

Scenarios are drawn from the models themselves: every numeric field of every block (including fields
added later) may be drawn anywhere in the range its type declares (`sim/types.py`), booleans and
choices too, plus pool ranges, treasury companies, scripted paths and events inside the horizon, and a
window of finer steps.
Cross-field rules (weights summing to 1, holder shares, the pool within the float...) are the
loader's: a draw it refuses is discarded (`assume`), one it accepts must run soundly. Runs and
horizon are small so each example takes a fraction of a second."""
from __future__ import annotations

import json
import math
import typing

import numpy as np
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from sim.config import (LiquidityRange, OrderBookVenue, PoolVenue, Scenario, ScenarioError, Strict, TreasuryCompany,
                        parse_scenario)
from sim.engines import run_engine
from sim.metrics import compute_metrics
from sim.model import Model
from sim.results import dump_json, null_paths

BALANCES = ("supply", "inst_husd", "retail_husd", "vault_husd", "vault_shares", "float_husd", "buffer_usd", "psm_usdc",
            "reserve_fund_usd", "tbill_units", "tbill_pending_usd", "btc_units", "btc_short_units", "xau_units",
            "xau_short_units", "looper_shares", "looper_debt_usd", "staker_shares", "hyb_sqrt_price", "psm_minted",
            "btc_usd", "xau_usd", "peg_price", "hyb_price")
# undefined, hence null, by definition: no depeg episode ended, no finite runway (the reserve never shrinks)
MAY_BE_NULL = ("time_to_repeg_hours.", "reserve_runway_days.",
               "min_margin_ratio.")  # a book with no crypto sleeve never has a short open: no margin ratio
# and an interval side the runs cannot bound (a mean of one run, a p99 of a few runs): `sim.intervals`
INTERVAL = "_ci95."
SKIP = {"name", "description", "runs", "seed", "horizon_hours", "step_hours", "market", "pool", "scripted", "events",
        "treasury_companies", "start_date", "end_date", "venues", "kind", "ranges", "bid_depth_usd", "flow_share"}


def _bounds(field) -> tuple[float, float, bool, bool]:
    lo, hi, lo_open, hi_open = -1e15, 1e15, False, False
    for m in field.metadata:
        for name, attr, is_open in (("ge", "lo", False), ("gt", "lo", True), ("le", "hi", False), ("lt", "hi", True)):
            v = getattr(m, name, None)
            if v is not None:
                if attr == "lo":
                    lo, lo_open = float(v), is_open
                else:
                    hi, hi_open = float(v), is_open
    return lo, hi, lo_open, hi_open


def _number(field, integer: bool):
    lo, hi, lo_open, hi_open = _bounds(field)
    if integer:
        return st.integers(int(math.ceil(lo + lo_open)), int(math.floor(hi - hi_open)))
    # anywhere in the range, with its edges and small values likely (hypothesis favours them)
    return st.floats(lo, hi, exclude_min=lo_open, exclude_max=hi_open, allow_nan=False, allow_infinity=False)


@st.composite
def block(draw, cls: type[BaseModel], every: bool = False):
    """A dict of some (or `every`) of `cls`'s fields drawn within their declared ranges (the rest default)."""
    out = {}
    for name, f in cls.model_fields.items():
        if name in SKIP or not (every or draw(st.booleans())):
            continue
        ann = f.annotation
        args = typing.get_args(ann)
        inner = next((a for a in args if a is not type(None)), ann) if type(None) in args else ann
        if isinstance(inner, type) and issubclass(inner, Strict):
            out[name] = draw(block(inner))
        elif inner is bool:
            out[name] = draw(st.booleans())
        elif inner is float or inner is int:
            out[name] = draw(_number(f, inner is int))
        elif typing.get_origin(inner) is typing.Literal:
            out[name] = draw(st.sampled_from(typing.get_args(inner)))
    return out


@st.composite
def scenarios(draw):
    horizon = draw(st.sampled_from([6, 24, 48, 96]))
    step = draw(st.sampled_from([0.25, 0.5, 1.0, 2.0]))
    d = {"name": "prop", "runs": draw(st.integers(1, 3)), "seed": draw(st.integers(0, 2**31)),
         "horizon_hours": horizon, "step_hours": step, **draw(block(Scenario))}
    if draw(st.booleans()):  # a window of finer steps (whole steps inside the horizon)
        first = draw(st.integers(0, int(horizon / step) - 1))
        last = draw(st.integers(first + 1, int(horizon / step)))
        d["fine_steps"] = [{"start_hour": first * step, "end_hour": last * step,
                            "step_hours": step / draw(st.sampled_from([2, 3, 4]))}]
    d["market"] = {"stochastic": draw(block(_model_of("market", "stochastic")))}
    d["pool"] = draw(block(_model_of("pool")))
    if draw(st.booleans()):
        d["pool"]["ranges"] = [draw(block(LiquidityRange, every=True)) for _ in range(draw(st.integers(1, 3)))]
    venues = []
    for i in range(draw(st.integers(0, 2))):
        if draw(st.booleans()):
            venues.append({**draw(block(PoolVenue)), "kind": "pool", "name": f"pool{i}",
                           "ranges": [draw(block(LiquidityRange, every=True)) for _ in range(draw(st.integers(1, 2)))]})
        else:
            bps = sorted(draw(st.lists(st.floats(1, 9000), min_size=1, max_size=3, unique=True)))
            usd = sorted(draw(st.lists(st.floats(1, 1e9), min_size=len(bps), max_size=len(bps), unique=True)))
            venues.append({**draw(block(OrderBookVenue)), "kind": "order_book", "name": f"book{i}",
                           "bid_depth_usd": [list(x) for x in zip(bps, usd)]})
        share = draw(st.floats(0, 0.5))
        venues[-1]["flow_share"] = {"retail": share, "institutional": share}
    d["venues"] = venues
    cuts = sorted(draw(st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3)))
    w = dict(zip(("tbill", "btc", "xau"), np.diff([0.0, *cuts]).tolist()))
    w["buffer"] = 1.0 - sum(w.values())
    d.setdefault("protocol", {})["weights"] = w
    d.setdefault("agents", {})
    if draw(st.booleans()):
        d["agents"]["treasury_companies"] = [{**draw(block(TreasuryCompany)), "name": f"c{i}"}
                                             for i in range(draw(st.integers(1, 2)))]
    if draw(st.booleans()):
        var = draw(st.sampled_from(["btc_usd", "xau_usd", "tbill_yield", "funding_rate_8h_btc", "pool_depth"]))
        mode = draw(st.sampled_from(["multiply", "set"]))
        h = sorted(draw(st.lists(st.floats(0, horizon), min_size=2, max_size=4, unique=True)))
        from sim.config import SCRIPTED_MULTIPLY_RANGE, SCRIPTED_SET_RANGE
        lo, hi = (SCRIPTED_SET_RANGE if mode == "set" else SCRIPTED_MULTIPLY_RANGE)[var]
        d["scripted"] = [{"variable": var, "mode": mode, "points": [[x, draw(st.floats(lo, hi))] for x in h]}]
    events = []
    for kind in draw(st.lists(st.sampled_from(["venue_failure", "oracle_stale", "oracle_deviation", "tbill_freeze",
                                                "bank_run", "custody_freeze"]), max_size=3)):
        ev = {"type": kind, "hour": draw(st.floats(0, horizon, exclude_max=True))}
        if kind != "venue_failure":
            ev["duration_hours"] = draw(st.floats(0.01, 200))
        if kind == "venue_failure":
            ev |= {"share_of_hedge": draw(st.floats(0, 1)), "recovery_rate": draw(st.floats(0, 1))}
        if kind == "oracle_deviation":
            ev["deviation_bps"] = draw(st.floats(0, 10_000))
        if kind == "bank_run":
            ev["share_of_holdings"] = draw(st.floats(0, 1))
        if kind == "custody_freeze":
            ev |= {"share_of_backing": draw(st.floats(0, 1)), "expected_recovery": draw(st.floats(0, 1)),
                   "recovered_share": draw(st.floats(0, 1)),
                   "sleeves": draw(st.lists(st.sampled_from(["tbill", "btc", "xau", "buffer"]), min_size=1, max_size=4))}
        events.append(ev)
    d["events"] = events
    try:
        return parse_scenario(d, "drawn")
    except ScenarioError:
        assume(False)


def _changed(a, b, prefix=""):
    """The fields of `a` that differ from `b` (the defaults), as {dotted.path: value}."""
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: v for key in a for k, v in _changed(a[key], b.get(key), f"{prefix}{key}.").items()}
    return {} if a == b else {prefix.rstrip("."): a}


def _model_of(*path: str) -> type[BaseModel]:
    """The model class of a nested block, e.g. ("market", "stochastic")."""
    obj = Scenario.model_fields[path[0]].default
    for p in path[1:]:
        obj = getattr(obj, p)
    return type(obj)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much], deadline=None)
@given(scenarios())
def test_valid_scenario__finite_outputs_and_no_negative_balance(sc):
    note(f"non-default fields: {_changed(sc.model_dump(mode='json'), Scenario(name='prop').model_dump(mode='json'))}")
    m = Model.build(sc)
    for k, v in m.paths.per_run.items():
        assert np.isfinite(v).all(), f"market path {k} not finite"
    genesis = m.genesis
    traj = run_engine("batch", m.params, genesis, m.paths)
    d = traj.data
    for k, v in d.items():
        assert np.isfinite(v).all(), f"{k} not finite from step {int(np.argmax(~np.isfinite(v).all(axis=1)))}"
    scale = max(float(genesis["supply"]), 1.0) * 1e-9
    holdings = [k for k in d if k.startswith("dat") and k.split("_", 1)[1] in ("btc_units", "husd", "hyb", "debt_usd")]
    for k in (*BALANCES, *holdings):
        assert d[k].min() >= -scale, f"{k} went negative: {d[k].min()}"
    m = compute_metrics(d, sc.step_hours, sc.depeg_threshold, sc.repeg_level, final=traj.final, genesis=genesis)
    text = dump_json(m)
    json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(AssertionError(f"{c} in metrics.json")))
    bad = [p for p in null_paths(m) if not p.startswith(MAY_BE_NULL) and INTERVAL not in p]
    assert not bad, f"undefined metrics {bad}"
