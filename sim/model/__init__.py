"""The model: a scenario's params, genesis state and market paths, put together once.

    model = Model.build(scenario, runs=100)      # or runs=np.array([...]) for chosen run ids
    run_engine("batch", model.params, model.genesis, model.paths)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Model:
    scenario: "Scenario"
    params: dict
    genesis: dict
    paths: "MarketPaths"

    @classmethod
    def build(cls, sc: "Scenario", runs: int | np.ndarray | None = None, seed: int | None = None,
              paths: "MarketPaths | None" = None) -> "Model":
        """Market paths for `runs` (a count, run ids, or the scenario's runs), the params and the genesis
        state at the paths' first point. `paths`: ready-made paths (e.g. historical windows) instead."""
        from sim.markets import build_market
        from sim.model.params import make_params
        from sim.model.state import genesis_state

        if paths is None:
            paths = build_market(sc, sc.runs if runs is None else runs, seed)
        params = make_params(sc)
        return cls(sc, params, genesis_state(sc, paths.inputs(0, 0), params), paths)
