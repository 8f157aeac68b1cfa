"""Packaging glue pyproject.toml cannot say: the shipped scenarios (the top-level scenarios/ folder) go into
the wheel as the package `sim.scenarios`, so `tripod run baseline` works from a pip install. Everything
else is in pyproject.toml."""
from setuptools import find_namespace_packages, setup

setup(packages=find_namespace_packages(include=["sim", "sim.*"], exclude=["*.__pycache__"])
      + ["sim.scenarios", "sim.scenarios.calibrated"],
      package_dir={"sim.scenarios": "scenarios"})
