"""Reserve sizing: the smallest reserve fund whose depletion probability over a horizon is <= P.

One batch per configuration, not a search. The reserve fund is read by one rule only (the treasury
covers a deficit from it, within a per-hour limit, while it is not empty): with a reserve too large to
run out, every run's path is the same whatever the initial reserve R, and the reserve's balance is
R + C_t, where C_t is the cumulative net flow (additions - draws). A run with initial reserve R
would follow that same path until the reserve runs dry, so it depletes (balance <= max(1 %·R, $1),
the rule of `sim.metrics`) exactly when R <= R*_run = max(-min C / 0.99, 1 - min C), the minimum taken
over the horizon. The depletion probability at R is the share of runs with R*_run >= R, and the
smallest R with probability <= P is just above the ceil((1 - P) N)-th order statistic of R*. Its
confidence interval is the distribution-free (binomial order-statistic) interval of that quantile.
`verify=True` re-runs the scenario with that reserve through `sim.run` and checks the metric agrees.
"""
from __future__ import annotations

import math

import numpy as np

from sim.config import Scenario
from sim.intervals import binom_cdf

BIG_RESERVE_USD = 1e11
DEPLETION_FRACTION = 0.01  # sim.metrics: depleted when the reserve falls to 1 % of its start (or $1)
# Pure delta-neutral books compared with public figures (supply in USD -> reserve in USD, source)
PUBLIC_FIGURES = [
    {"supply_usd": 5.0e9, "reserve_usd": 40e6, "source": "CryptoQuant, Apr 2024"},
    {"supply_usd": 7.5e9, "reserve_usd": 60e6, "source": "CryptoQuant, Apr 2024"},
    {"supply_usd": 10.0e9, "reserve_usd": 80e6, "source": "CryptoQuant, Apr 2024"},
    {"supply_usd": 5.3e9, "reserve_usd": 36.2e6, "source": "LlamaRisk, Jul 2025"},
]


def scale_liquidity(sc: Scenario, supply_usd: float) -> Scenario:
    """Set the supply and scale what grows with a stablecoin's size by the same factor: pool ranges,
    HYB pool, mint/redeem caps, T-bill instant limit, unwind cap, reserve draw limit, PSM, backstop
    sale limit, lending-market supply and retail noise flow. Shares and fees stay."""
    k = supply_usd / sc.protocol.initial_supply_usd
    d = sc.model_dump(mode="python")
    p, pool, ag = d["protocol"], d["pool"], d["agents"]
    p["initial_supply_usd"] = supply_usd
    for r in pool["ranges"]:
        r["usd"] *= k
    pool["hyb_pool_usd"] *= k
    for key in ("redeem_cap_usd_per_hour", "mint_cap_usd_per_hour"):
        p["caps"][key] *= k
    p["tbill"]["instant_redemption_limit_usd_per_day"] *= k
    p["rebalance"]["max_unwind_usd_per_hour"] *= k
    p["reserve"]["max_draw_usd_per_hour"] *= k
    p["reserve"]["initial_usd"] *= k
    for key in ("ceiling_usd", "initial_usdc_usd"):
        p["psm"][key] *= k
    p["backstop"]["max_sale_usd_per_day"] *= k
    ag["loopers"]["lending_supply_usd"] *= k
    ag["retail"]["noise_flow_usd_per_hour"] *= k
    return Scenario.model_validate(d)


def with_reserve(sc: Scenario, reserve_usd: float, horizon_hours: int | None = None) -> Scenario:
    d = sc.model_dump(mode="python")
    d["protocol"]["reserve"]["initial_usd"] = float(reserve_usd)
    if horizon_hours is not None:
        d["horizon_hours"] = int(horizon_hours)
    return Scenario.model_validate(d)


def with_weights(sc: Scenario, tbill: float, btc: float, xau: float, buffer: float) -> Scenario:
    d = sc.model_dump(mode="python")
    d["protocol"]["weights"] = {"tbill": tbill, "btc": btc, "xau": xau, "buffer": buffer}
    return Scenario.model_validate(d)


def reserve_flows(sc: Scenario, runs: int, seed: int, chunk: int = 500, progress: bool = False) -> np.ndarray:
    """C_t = reserve balance - start, shape (steps + 1, runs), with a reserve that never runs out."""
    from sim.engines import run_engine
    from sim.model import Model
    from sim.progress import bar

    big = with_reserve(sc, BIG_RESERVE_USD)
    out = np.empty((big.steps + 1, runs))
    ticks = bar(total=runs, desc=f"sizing {sc.name}", unit="run", enabled=progress)
    for lo in range(0, runs, chunk):
        ids = np.arange(lo, min(runs, lo + chunk))
        m = Model.build(big, ids, seed)
        traj = run_engine("batch", m.params, m.genesis, m.paths, record=("reserve_fund_usd",), progress=progress)
        out[:, ids] = traj.data["reserve_fund_usd"] - BIG_RESERVE_USD
        ticks.update(len(ids))
    ticks.close()
    return out


def needed_per_run(flows: np.ndarray, steps: int | None = None) -> np.ndarray:
    """R*_run: a run depletes exactly when its initial reserve R <= R*_run (over the first `steps`)."""
    c = flows if steps is None else flows[: steps + 1]
    m = np.minimum(c.min(axis=0), 0.0)
    return np.maximum(-m / (1 - DEPLETION_FRACTION), 1.0 - m)


def depletion_probability(needed: np.ndarray, reserve_usd: float) -> float:
    return float((needed >= reserve_usd).mean())


def margin(x: float) -> float:
    return max(1.0, 1e-7 * abs(x))


def smallest_reserve(needed: np.ndarray, target_prob: float, confidence: float = 0.95) -> dict:
    """Smallest R with share(needed >= R) <= target_prob, and a CI from the order statistics."""
    x = np.sort(needed)
    n = len(x)
    q = int(math.floor(target_prob * n + 1e-9))  # runs allowed to deplete
    idx = n - q - 1  # 0-based: the (n - q)-th smallest; R must exceed it
    # a dollar (or 1e-7) above the order statistic: clear of the float noise in C_t
    r_req = float(x[idx] + margin(x[idx])) if idx >= 0 else 0.0
    # distribution-free CI for the (1 - P) quantile: ranks l, u with P(l <= B < u) >= confidence
    p = 1 - target_prob
    cdf = binom_cdf(n, p)
    a = (1 - confidence) / 2
    lo_rank = int(np.searchsorted(cdf, a))  # B ~ Bin(n, p): x_(lo_rank) <= quantile with prob >= 1 - a
    hi_rank = int(np.searchsorted(cdf, 1 - a)) + 1
    lo = float(x[max(lo_rank - 1, 0)]) if lo_rank >= 1 else 0.0
    hi = float(x[hi_rank - 1]) if hi_rank <= n else float("inf")
    return {"reserve_usd": r_req, "order_statistic_usd": float(x[idx]) if idx >= 0 else 0.0, "ci_low_usd": lo, "ci_high_usd": hi, "confidence": confidence,
            "runs_depleting_at_answer": int((needed >= r_req).sum()), "runs": n,
            "ci_note": None if hi_rank <= n else "too few runs for an upper bound at this target: add runs"}


def set_path(sc: Scenario, assignments: list[str]) -> Scenario:
    """Apply `a.b.c=value` overrides (value parsed as YAML) and re-validate. A new `horizon_hours` goes
    through `Scenario.with_horizon` (scripted paths cut there), as `--horizon-days` and sweeps set it."""
    from sim.config import parse_yaml

    d = sc.model_dump(mode="python")
    horizon = None
    for a in assignments:
        if "=" not in a:
            raise ValueError(f"--set {a!r}: expected key.path=value")
        key, val = a.split("=", 1)
        node = d
        parts = key.strip().split(".")
        for k in parts[:-1]:
            if not isinstance(node.get(k), dict):
                raise ValueError(f"--set {key}: {k!r} is not a block of the scenario")
            node = node[k]
        if parts[-1] not in node:
            raise ValueError(f"--set {key}: {parts[-1]!r} is not a field of that block")
        node[parts[-1]] = parse_yaml(val, f"--set {key}")
        if parts == ["horizon_hours"]:
            horizon = node.pop("horizon_hours")
            node["horizon_hours"] = sc.horizon_hours
    out = Scenario.model_validate(d)
    return out if horizon is None else out.with_horizon(horizon)


def size_reserve(sc: Scenario, target_probs: float | list[float], horizon_days: float | None = None,
                 runs: int | None = None, seed: int | None = None,
                 extra_horizons_days: tuple[float, ...] = (30, 90, 180), verify: bool = False,
                 chunk: int = 500, progress: bool = False) -> dict:
    """Smallest reserve for each target depletion probability over the horizon (and shorter horizons)."""
    targets = [target_probs] if np.isscalar(target_probs) else list(target_probs)
    runs = runs or sc.runs
    seed = sc.seed if seed is None else seed
    if horizon_days is not None:
        sc = sc.with_overrides(horizon_hours=int(round(horizon_days * 24)))
    flows = reserve_flows(sc, runs, seed, chunk=chunk, progress=progress)
    days = sc.horizon_hours / 24
    supply = sc.protocol.initial_supply_usd
    horizons = sorted({d for d in extra_horizons_days if d < days} | {days})
    answers = []
    for p in targets:
        by_h = {}
        for d in horizons:
            ans = smallest_reserve(needed_per_run(flows, int(round(d * 24 / sc.step_hours))), p)
            ans["pct_of_supply"] = ans["reserve_usd"] / supply * 100
            by_h[f"{d:g}"] = ans
        answers.append({"target_prob": p, **by_h[f"{days:g}"], "by_horizon_days": by_h})
    need = needed_per_run(flows)
    dd = -np.minimum(flows.min(axis=0), 0.0)
    grid = np.unique(np.concatenate([[0.0], np.quantile(need, np.linspace(0, 1, 201))]))
    out = {
        "scenario": sc.name, "config_hash": sc.config_hash(), "supply_usd": supply,
        "weights": sc.protocol.weights.model_dump(),
        "premium_per_funding_8h": sc.protocol.hedge.premium_per_funding_8h,
        "horizon_days": days, "runs": runs, "seed": seed, "engine": "batch",
        "answers": answers,
        "net_reserve_flow_usd": {"p5": float(np.quantile(flows[-1], 0.05)), "p50": float(np.median(flows[-1])),
                                 "mean": float(flows[-1].mean())},
        "worst_drawdown_usd": {"p50": float(np.median(dd)), "p95": float(np.quantile(dd, 0.95)), "max": float(dd.max())},
        "curve": {"reserve_usd": grid.tolist(), "depletion_probability": [depletion_probability(need, g) for g in grid]},
    }
    if verify:
        import sim

        checks = []
        for a in answers:
            r = a["reserve_usd"]
            at = sim.run(with_reserve(sc, r), runs=runs, seed=seed, record="metrics", progress=progress)
            x = a["order_statistic_usd"]
            below = sim.run(with_reserve(sc, max(x - margin(x), 0.0)), runs=runs, seed=seed, record="metrics",
                            progress=progress)
            checks.append({"target_prob": a["target_prob"], "reserve_usd": r,
                           "depletion_probability_at_answer": at.metrics["reserve_depletion_probability"],
                           "depletion_probability_just_below": below.metrics["reserve_depletion_probability"]})
        out["verified"] = checks
    return out
