"""Build a (params, state, x) triple for calling one policy directly."""
import numpy as np

from sim import Scenario, parse_scenario
from sim.model import Model


def setup(overrides: dict | None = None, t: int = 1):
    sc = parse_scenario({"name": "unit", "horizon_hours": 48, "runs": 1, **(overrides or {})})
    m = Model.build(sc, 1)
    paths, p, s = m.paths, m.params, m.genesis
    x = paths.inputs(t, 0)
    # a quiet step unless a test says otherwise
    x.update(flow_noise=0.0, btc_usd=x["btc_usd_prev"], xau_usd=x["xau_usd_prev"])
    return sc, p, s, x


def after(policy, p, s, x):
    """The state after applying one policy."""
    out = policy(p, s, x)
    return {**s, **{k: float(np.asarray(v)) for k, v in out.items()}}
