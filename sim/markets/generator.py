"""Stochastic market: two-regime (calm/stress) correlated BTC and gold with jumps, perp funding as a
venue prints it (a latent premium tied to price moves, quiet/hot funding regimes, the venue's clamp:
`sim.markets.funding`), Vasicek T-bill yield, pool depth that follows the regime.

Random draws are made per run from `default_rng([seed, run])`, so run k's path does not depend on
how many runs are drawn or in which batch. The time recursion is then vectorised over runs.
"""
from __future__ import annotations

import numpy as np

from sim.arrays import transpose
from sim.config import StochasticMarket
from sim.markets.funding import latent_paths, latent_start
from sim.types import HOURS_PER_YEAR


# New kinds go at the end: run k's earlier kinds then keep their numbers.
SHOCKS = ("u_regime", "z_btc", "z_xau", "n_btc_jump", "z_btc_jump", "n_xau_jump", "z_xau_jump",
          "z_fund_btc", "z_fund_xau", "z_tbill", "z_flow", "u_fund_regime_btc", "u_fund_regime_xau")


class Shocks:
    """Standard shocks of shape (steps, R), drawn one kind at a time, in the order of SHOCKS.

    Each run has its own generator `default_rng([seed, run])` and draws `steps` numbers of every kind
    in that order, so run k's numbers do not depend on the batch. Drawing kind by kind (for all runs)
    rather than run by run keeps one kind in memory at a time: at 2,500 runs x a year of hours, all
    eleven at once were 1.9 GB, and fresh memory is not free (see benchmarks/README.md).
    """

    def __init__(self, seed: int, runs: np.ndarray, steps: int):
        self._rngs = [np.random.default_rng([seed, int(run)]) for run in runs]
        self._steps = steps
        self._next = 0

    def draw(self, kind: str) -> np.ndarray:
        if SHOCKS[self._next] != kind:
            raise RuntimeError(f"shock {kind!r} drawn out of order (next is {SHOCKS[self._next]!r})")
        self._next += 1
        uniform = kind.startswith(("u_", "n_"))  # u_*: regime chains; n_*: jump counts, once rates are known
        by_run = np.empty((len(self._rngs), self._steps))
        for j, rng in enumerate(self._rngs):
            by_run[j] = rng.random(self._steps) if uniform else rng.standard_normal(self._steps)
        return transpose(by_run)


def _poisson_from_uniform(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Jump counts 0, 1 or 2 by inverse CDF; per-step rates are far below 1, so 3+ is negligible."""
    p0 = np.exp(-lam)
    p1 = p0 * lam
    return np.where(u < p0, 0.0, np.where(u < p0 + p1, 1.0, 2.0))


def generate(m: StochasticMarket, seed: int, runs: np.ndarray, steps: int, step_hours: float) -> dict[str, np.ndarray]:
    """Paths of shape (steps + 1, R); row 0 is the starting point.

    Only what feeds back on itself is a loop over time (the regime chain, funding clipped to its
    bounds, the T-bill yield, pool depth); everything else is one array operation over (steps, R).
    Intermediate arrays are dropped as soon as they are used (`del`): each is steps x R floats.
    """
    shocks = Shocks(seed, runs, steps)
    R = len(runs)
    dt_y = step_hours / HOURS_PER_YEAR
    dt_d = step_hours / 24.0

    def regime_param(name: str, stress: np.ndarray) -> np.ndarray:
        return np.where(stress > 0, getattr(m.stress, name), getattr(m.calm, name))

    out = {k: np.empty((steps + 1, R)) for k in
           ("btc_usd", "xau_usd", "tbill_yield", "funding_rate_8h_btc", "funding_rate_8h_xau", "pool_depth",
            "stress", "flow_noise")}

    # the calm/stress regime: a two-state Markov chain per run
    stress = out["stress"]
    stress[0] = 1.0 if m.start_in_stress else 0.0
    p_up = min(1.0, m.p_calm_to_stress_per_hour * step_hours)
    p_down = min(1.0, m.p_stress_to_calm_per_hour * step_hours)
    u = shocks.draw("u_regime")
    for t in range(steps):
        stress[t + 1] = np.where(stress[t] > 0, np.where(u[t] < p_down, 0.0, 1.0), np.where(u[t] < p_up, 1.0, 0.0))
    del u
    st = stress[1:]  # the regime each step's moves are drawn in

    def log_returns(asset: str, z: np.ndarray) -> np.ndarray:
        """Diffusion on the correlated shock z plus compound-Poisson jumps, in the regime of each step."""
        n = _poisson_from_uniform(shocks.draw(f"n_{asset}_jump"), regime_param(f"{asset}_jump_rate_per_year", st) * dt_y)
        j = (n * regime_param(f"{asset}_jump_mean", st)
             + np.sqrt(n) * regime_param(f"{asset}_jump_std", st) * shocks.draw(f"z_{asset}_jump"))
        del n
        v = regime_param(f"{asset}_vol_annual", st)
        return (regime_param(f"{asset}_drift_annual", st) - 0.5 * v**2) * dt_y + v * np.sqrt(dt_y) * z + j

    # correlated log returns with jumps (shocks are drawn in SHOCKS order: both z's, then each jump pair)
    zb = shocks.draw("z_btc")
    rho = regime_param("btc_xau_correlation", st)
    zx = rho * zb + np.sqrt(1 - rho**2) * shocks.draw("z_xau")
    del rho
    rb = log_returns("btc", zb)
    del zb
    rx = log_returns("xau", zx)
    del zx
    for key, start, r in (("btc_usd", m.btc_usd_start, rb), ("xau_usd", m.xau_usd_start, rx)):
        log_p = out[key]
        log_p[0] = np.log(start)
        log_p[1:] = r
        np.cumsum(log_p, axis=0, out=log_p)  # a running sum in step order: the same sums as a loop
        np.exp(log_p, out=log_p)

    # funding noise and price terms now; the paths after the regime uniforms, drawn last (SHOCKS order)
    funding = []
    for key, fp, r in (("funding_rate_8h_btc", m.funding_btc, rb), ("funding_rate_8h_xau", m.funding_xau, rx)):
        z = shocks.draw(key.replace("funding_rate_8h", "z_fund"))
        funding.append((key, fp, z, fp.price_beta_8h * r))
    del rb, rx, r, z
    tb = m.tbill
    y = out["tbill_yield"]
    y[0] = m.tbill_yield_start
    noise = tb.vol_per_sqrt_year * np.sqrt(dt_y) * shocks.draw("z_tbill")
    for t in range(steps):
        y[t + 1] = y[t] + tb.mean_reversion_per_year * (tb.long_run_yield - y[t]) * dt_y + noise[t]
    del noise

    # LPs pull or return liquidity over about half a day.
    depth = out["pool_depth"]
    depth[0] = regime_param("pool_depth_factor", stress[0]) * np.ones(R)
    target = regime_param("pool_depth_factor", st)
    k = min(1.0, step_hours / 12.0)
    for t in range(steps):
        depth[t + 1] = depth[t] + k * (target[t] - depth[t])
    del target

    out["flow_noise"][0] = 0.0
    out["flow_noise"][1:] = shocks.draw("z_flow")

    # funding: a latent premium mean-reverting to the regime's level, moved by price returns, in its
    # own quiet/hot regime, printed through the venue's clamp (sim.markets.funding)
    while funding:
        key, fp, z, beta_r = funding.pop(0)
        u = shocks.draw(key.replace("funding_rate_8h", "u_fund_regime"))
        asset = key.rsplit("_", 1)[1]
        calm_level, stress_level = getattr(m.calm, f"funding_mean_8h_{asset}"), getattr(m.stress, f"funding_mean_8h_{asset}")
        level0 = regime_param(f"funding_mean_8h_{asset}", stress[0]) * np.ones(R)
        latent_paths(latent_start(level0, fp.interest_8h, fp.clamp_width_8h), st, calm_level, stress_level,
                     min(1.0, fp.mean_reversion_per_day * dt_d), fp.vol_8h_per_sqrt_day * np.sqrt(dt_d),
                     fp.hot.vol_8h_per_sqrt_day * np.sqrt(dt_d), fp.hot.level_offset_8h, z, beta_r, u,
                     min(1.0, fp.hot.p_enter_per_hour * step_hours), min(1.0, fp.hot.p_exit_per_hour * step_hours),
                     fp.floor_8h, fp.cap_8h + fp.clamp_width_8h, fp.interest_8h, fp.clamp_width_8h, out[key])
        del u, z, beta_r
    return out
