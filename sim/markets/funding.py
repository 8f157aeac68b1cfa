"""Perp funding as a venue prints it: a latent premium, two funding regimes and the venue's clamp.

The latent premium y (a rate per 8 h) is an hourly OU with the price beta of the old process:

    y' = y + kappa dt (level - y) + vol_regime sqrt(dt) z + beta r,   clipped to [floor, cap + width]

where `level` is the market regime's funding level (`Regime.funding_mean_8h_*`) plus the funding
regime's offset, and the funding regime (quiet / hot: crowded longs, a high and noisy premium) is a
two-state Markov chain of its own (uniform shocks `u`, switching like the market regime).

The venue prints the premium through its clamp (Binance: F = P + clamp(I - P, -0.05 %, +0.05 %),
interest I = 0.01 %/8h): with y = P + 0.05 %, a premium below the interest rate prints as is, one
within `width` (= 0.1 %) above it prints exactly the interest rate, and one above that prints
y - width. The dead zone is why a quarter of the data's days sit at exactly 0.01 %/8h and why
negative funding needs the premium to fall through it: negative days are rarer and shorter than a
Gaussian process with the same mean and variance gives. Fat tails come from the mixture of the two
regimes' noise and from price jumps through beta.

With width 0 and the hot regime never entered, this is the plain OU of earlier versions, number for
number (same operations in the same order).
"""
from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@_jit
def venue_rate(y, interest, width):
    """The printed rate of latent premium y (scalar): as is below the interest rate, the interest rate
    inside the dead zone [interest, interest + width], y - width above it."""
    if y < interest:
        return y
    if y <= interest + width:
        return interest
    return y - width


@_jit
def latent_paths(y0, stress, level_calm, level_stress, kappa, sd_quiet, sd_hot, hot_offset, z, beta_r, u, p_up,
                 p_down, lo, hi, interest, width, f_out):
    """Fill f_out (steps + 1, R) with the printed funding; row 0 from the starting latent y0 (R,).

    stress, z, beta_r, u: (steps, R); row t holds the market regime, the normal shock, beta x log
    return and the funding-regime uniform of the move from step t to t + 1, which happens in the
    funding regime of step t + 1 (as for the market regime). Every run starts quiet.
    """
    steps, R = z.shape
    y = y0.copy()
    hot = np.zeros(R)
    for j in range(R):
        f_out[0, j] = venue_rate(y[j], interest, width)
    for t in range(steps):
        for j in range(R):
            if hot[j] > 0:
                hot[j] = 0.0 if u[t, j] < p_down else 1.0
            else:
                hot[j] = 1.0 if u[t, j] < p_up else 0.0
            m = level_stress if stress[t, j] > 0 else level_calm
            sd = sd_quiet
            if hot[j] > 0:
                m, sd = m + hot_offset, sd_hot
            yn = y[j] + kappa * (m - y[j]) + sd * z[t, j] + beta_r[t, j]
            y[j] = min(max(yn, lo), hi)
            f_out[t + 1, j] = venue_rate(y[j], interest, width)


def latent_start(level0: np.ndarray, interest: float, width: float) -> np.ndarray:
    """The latent premium whose print is the starting level: inverts `venue_rate` (a level at the
    interest rate starts at the dead zone's lower edge)."""
    return np.where(level0 > interest, level0 + width, level0)
