"""Build a (params, state, x) triple for calling one policy directly."""
import numpy as np

from sim import Scenario, parse_scenario
from sim.markets import build_market
from sim.model.params import make_params
from sim.model.state import genesis_state


def setup(overrides: dict | None = None, t: int = 1):
    sc = parse_scenario({"name": "unit", "horizon_hours": 48, "runs": 1, **(overrides or {})})
    paths = build_market(sc, 1)
    p = make_params(sc)
    s = genesis_state(sc, paths.inputs(0, 0))
    x = paths.inputs(t, 0)
    # a quiet step unless a test says otherwise
    x.update(flow_noise=0.0, btc_usd=x["btc_usd_prev"], xau_usd=x["xau_usd_prev"])
    return sc, p, s, x


def after(policy, p, s, x):
    """The state after applying one policy."""
    out = policy(p, s, x)
    return {**s, **{k: float(np.asarray(v)) for k, v in out.items()}}
