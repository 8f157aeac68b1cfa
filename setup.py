"""Packaging glue pyproject.toml cannot say: the shipped scenarios and sweeps (the top-level scenarios/ and
sweeps/ folders, with scenarios/' groups such as calibrated/) go into the wheel as the packages
`sim.scenarios[.group]` and `sim.sweeps`, so `tripod run baseline` works from a pip install. Everything else
is in pyproject.toml."""
from pathlib import Path

from setuptools import find_namespace_packages, setup

groups = sorted(d.name for d in Path("scenarios").iterdir() if d.is_dir() and any(d.glob("*.yaml")))
setup(packages=find_namespace_packages(include=["sim", "sim.*"], exclude=["*.__pycache__"])
      + ["sim.scenarios", *(f"sim.scenarios.{g}" for g in groups), "sim.sweeps"],
      package_dir={"sim.scenarios": "scenarios", "sim.sweeps": "sweeps"})
