"""Tripod's simulator of a delta-neutral hybrid stablecoin (HUSD).

    import sim
    result = sim.run("scenarios/baseline.yaml", runs=100, seed=1)
    result.metrics["depeg_probability"]; result.frame; result.write("out/baseline")

Importing `sim` never imports Ape, web3 or cadCAD (cadCAD loads only when its engine runs).
"""
from sim.config import Scenario, ScenarioError, load_scenario, parse_scenario
from sim.results import Result
from sim.runner import run, shipped_scenarios

__version__ = "0.1.0"
__all__ = ["Result", "Scenario", "ScenarioError", "load_scenario", "parse_scenario", "run", "shipped_scenarios"]
