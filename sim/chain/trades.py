"""The model's pool trades, one by one, for the chain replay.

A trajectory keeps each step's end state, not the trades inside it. `pool_trades(sc, run)` simulates
run `run` again with a trade tape (`sim.model.tape`: randomness is keyed by (seed, run), so the run
alone reproduces it) and returns its HUSD/USDC pool trades per step (retail, institutions, loopers,
liquidations, arbitrage legs, treasury companies), so the replay can send each as its own exact-input
swap on the real pool, in the model's order and with the model's price limits.

No Ape import: numpy and the simulator only.
"""
from __future__ import annotations

import numpy as np

_CACHE: dict[tuple[str, int], tuple[list[list[dict]], "np.ndarray"]] = {}  # (scenario json, run) -> (trades, sqrt)


def _label(trade) -> str:
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


def pool_trades(sc, run: int, expect_sqrt=None) -> list[list[dict]] | None:
    """Per step (index = the trajectory's row: 0 is genesis, empty), the model's HUSD-pool trades of run `run`.

    `expect_sqrt`: the recorded pool sqrt price per row; if the re-simulation does not reproduce it
    (the model changed since the run was recorded), None is returned and the replay falls back to
    one swap per step.
    """
    key = (sc.model_dump_json(), int(run))
    if key not in _CACHE:  # a suite replays the same simulated run several times
        steps, sqrt = simulate_tape(sc, run)
        trades = [[{"label": _label(t), "sell_husd": t.sell, "amount": t.amount, "limit": t.sqrt_limit, "used": t.used,
                    "out": t.out, "sqrt_before": t.sqrt_before, "sqrt_after": t.sqrt_after}
                   for t in step if t.venue == sc.pool.name] for step in steps]
        while len(_CACHE) >= 4:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = (trades, sqrt)
    out, got = _CACHE[key]
    if expect_sqrt is not None:
        want = np.asarray(expect_sqrt, float)
        if got.shape[0] < want.shape[0] or not np.allclose(got[: want.shape[0]], want, rtol=1e-12, atol=0):
            return None
    return out
