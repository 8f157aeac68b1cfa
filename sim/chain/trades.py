"""The model's pool trades, one by one, for the chain replay.

A trajectory keeps each step's end state, not the trades inside it (retail order flow and panic
sales, institutional sales, looper lever/unwind, liquidators' sales, the arbitrageurs' pool legs).
`pool_trades(sc, run)` simulates run `run` again (same seed: randomness is keyed by (seed, run)) with
a recorder around the trading block's one pool-swap helper (`sim.model.parts.trading._swap`), so the
replay can send each trade as its own exact-input swap on the real pool, in the model's order and with
the model's price limits. Treasury companies' HUSD sales (`sim.model.parts.dats`, which call the pool
maths directly) are recorded through a stand-in for that module's `amm` that passes every call through.
Nothing in `sim/model` changes: the wrappers live for the duration of the simulation and are restored.

No Ape import: numpy and the simulator only.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager

import numpy as np

_LABELS = {"_buy_to": "arbitrage buy", "_sell_to": "arbitrage sell"}


def _at(x, k: int):
    a = np.asarray(x)
    return a.reshape(-1)[k if a.size > 1 else 0]


@contextmanager
def _recording(run: int, steps: list):
    """Wrap trading._swap (and mark each step at its first agent) while simulating."""
    from sim.model import amm
    from sim.model.parts import dats, trading

    swap, first = trading._swap, trading._retail_and_institutions
    looper_calls = {"n": 0}

    def step_marker(p, s, x):
        steps.append([])
        looper_calls["n"] = 0
        return first(p, s, x)

    def recorded(p, s, amount, sell_husd, sqrt_limit=None):
        before = s["pool_sqrt_price"]
        out, used = swap(p, s, amount, sell_husd, sqrt_limit)
        if steps and float(_at(amount, run)) > 0 and float(_at(used, run)) > 0:
            caller = sys._getframe(1)
            name = caller.f_code.co_name
            if name == "_trade_class":
                label = caller.f_locals.get("cls", "holder")
            elif name == "_loopers":
                label = "looper" if looper_calls["n"] == 0 else "liquidation"
            else:
                label = _LABELS.get(name, name)
            lim = None if sqrt_limit is None else float(_at(sqrt_limit, run))
            steps[-1].append({
                "label": label, "sell_husd": bool(_at(sell_husd, run)), "amount": float(_at(amount, run)),
                "limit": lim if lim is not None and 0.0 < lim < np.inf else None,
                "used": float(_at(used, run)), "out": float(_at(out, run)),
                "sqrt_before": float(_at(before, run)), "sqrt_after": float(_at(s["pool_sqrt_price"], run)),
            })
        if sys._getframe(1).f_code.co_name == "_loopers":
            looper_calls["n"] += 1
        return out, used

    class _DatAmm:
        """`sim.model.parts.dats.amm` for the simulation: records the HUSD-pool sales, passes all through."""

        def __getattr__(self, name):
            return getattr(amm, name)

        @staticmethod
        def swap_exact_in(sqrt_p, amount_in, zero_for_one, curve, depth=1.0, fee=None, **kw):
            res = amm.swap_exact_in(sqrt_p, amount_in, zero_for_one, curve, depth,
                                    amm.DEFAULT_FEE if fee is None else fee, **kw)
            caller = sys._getframe(1)
            p = caller.f_locals.get("p")
            if (steps and caller.f_code.co_name == "_sell_holdings" and isinstance(p, dict) and curve is p.get("curve")
                    and float(_at(amount_in, run)) > 0 and float(_at(res[3], run)) > 0):
                steps[-1].append({
                    "label": "treasury company", "sell_husd": bool(_at(zero_for_one, run)),
                    "amount": float(_at(amount_in, run)), "limit": None, "used": float(_at(res[3], run)),
                    "out": float(_at(res[0], run)), "sqrt_before": float(_at(sqrt_p, run)),
                    "sqrt_after": float(_at(res[1], run)),
                })
            return res

    dats_amm = dats.amm
    trading._swap, trading._retail_and_institutions, dats.amm = recorded, step_marker, _DatAmm()
    try:
        yield
    finally:
        trading._swap, trading._retail_and_institutions, dats.amm = swap, first, dats_amm


_CACHE: dict[tuple[str, int], tuple[list[list[dict]], "np.ndarray"]] = {}  # (scenario json, run) -> (trades, sqrt)


def pool_trades(sc, run: int, expect_sqrt=None) -> list[list[dict]] | None:
    """Per step (index = the trajectory's row: 0 is genesis, empty), the model's pool trades of run `run`.

    `expect_sqrt`: the recorded pool sqrt price per row; if the re-simulation does not reproduce it
    (the model changed since the run was recorded), None is returned and the replay falls back to
    one swap per step.
    """
    from sim.runner import run as simulate

    key = (sc.model_dump_json(), int(run))
    if key not in _CACHE:  # a suite replays the same simulated run several times
        steps: list[list[dict]] = []
        with _recording(run, steps):
            res = simulate(sc, runs=run + 1, record="all")
        f = res.frame
        while len(_CACHE) >= 4:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = ([[]] + steps, f.loc[f["run"] == run].sort_values("hour")["pool_sqrt_price"].to_numpy(float))
    out, got = _CACHE[key]
    if expect_sqrt is not None:
        want = np.asarray(expect_sqrt, float)
        if got.shape[0] < want.shape[0] or not np.allclose(got[: want.shape[0]], want, rtol=1e-12, atol=0):
            return None
    return out
