"""Shared fixtures and Hypothesis profiles. `HYPOTHESIS_PROFILE=nightly` runs many more examples."""
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent

settings.register_profile("quick", max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("nightly", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture
def small():
    """A short stochastic scenario for fast tests: 72 hours."""
    from sim import Scenario

    return Scenario(name="small", horizon_hours=72, runs=4, seed=3)
