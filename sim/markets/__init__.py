"""Exogenous market paths, drawn up front as arrays keyed by (seed, run).

Policies never draw random numbers: both engines read the same arrays, so a cadCAD run and a
batched run with the same seed see the same market. `build_market` picks the source (stochastic
generator or historical replay), then applies the scenario's scripted paths and events on top.
"""
from sim.markets.paths import MarketPaths, build_market

__all__ = ["MarketPaths", "build_market"]
