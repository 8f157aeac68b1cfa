"""The model's trades, one by one, read from its trade tape (`sim.model.tape`).

A trajectory keeps each step's end state, not the trades inside it. `pool_trades(sc, run)` simulates run
`run` alone with a tape (randomness is keyed by (seed, run), so the run alone reproduces it) and returns
its trades per step on both pools: HUSD/USDC (retail, institutions, loopers, liquidations, arbitrage
legs, treasury companies) and HYB/USDC (the backstop's sales, treasury companies'). The replay sends each
as a transaction of its own, in the model's order, ending where the model's trade ended.

No Ape import: numpy and the simulator only.
"""
from __future__ import annotations

import numpy as np

_CACHE: dict[tuple[str, int], tuple[list, "np.ndarray"]] = {}  # (scenario json, run) -> (trades per step, sqrt)


def label(trade) -> str:
    """A trade's name in the replay's records: who, and for arbitrage the side."""
    if trade.who == "arbitrage":
        return "arbitrage sell" if trade.sell else "arbitrage buy"
    return trade.who.replace("_", " ")


def simulate_tape(sc, run: int):
    """Run `run` of `sc` simulated alone with a tape: (per-step trades, pool sqrt price per step)."""
    from sim.engines.batch import run_batch
    from sim.model import Model
    from sim.model.tape import Tape

    m = Model.build(sc, np.array([run]))
    tape = Tape()
    traj = run_batch(m.params, m.genesis, m.paths, record=("pool_sqrt_price",), tape=tape)
    return tape.steps(0, m.paths.steps), traj.data["pool_sqrt_price"][:, 0]


def pool_trades(sc, run: int, expect_sqrt=None) -> list[list] | None:
    """Per step (index = the trajectory's row: 0 is genesis, empty), the tape's trades (`sim.model.tape.Trade`)
    of run `run`.

    `expect_sqrt`: the recorded pool sqrt price per row; if the re-simulation does not reproduce it
    (the model changed since the run was recorded), None is returned and the replay falls back to
    one swap per step and pool.
    """
    key = (sc.model_dump_json(), int(run))
    if key not in _CACHE:  # a suite replays the same simulated run several times
        while len(_CACHE) >= 4:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = simulate_tape(sc, run)
    out, got = _CACHE[key]
    if expect_sqrt is not None:
        want = np.asarray(expect_sqrt, float)
        if got.shape[0] < want.shape[0] or not np.allclose(got[: want.shape[0]], want, rtol=1e-12, atol=0):
            return None
    return out
