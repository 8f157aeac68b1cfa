"""Array helpers shared by the market generator and the engines."""
from __future__ import annotations

import numpy as np


def transpose(a: np.ndarray, tile: int = 128) -> np.ndarray:
    """A contiguous copy of `a.T` for a 2-D array, a square tile at a time: both sides of each tile
    stay in cache (a plain strided copy of a year of hourly steps misses it on every number)."""
    n, m = a.shape
    out = np.empty((m, n))
    for i in range(0, n, tile):
        for j in range(0, m, tile):
            out[j:j + tile, i:i + tile] = a[i:i + tile, j:j + tile].T
    return out
