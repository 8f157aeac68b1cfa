"""Fork stress suite: node A is started here (anvil, chain id 7357, base state deployed) for the
session and stopped at the end, even when a test fails, and so is one fork of it; each scenario
replays a simulated run on that fork between a snapshot and a restore (`sim.chain.replay`), so every
scenario starts from node A's base state. The killed-node test starts (and kills) a fork of its own.

`ape test tests/fork -q -p no:cacheprovider` (scripts/test.sh). Every test is marked `fork`.
"""
import os
import sys
from pathlib import Path

import pytest

from sim.chain import artifacts

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("SOLCX_BINARY_PATH", str(ROOT / ".solcx"))  # `ape test` compiles the checkout's project
sys.path.insert(0, str(ROOT))
from scripts import stage_solidity_deps  # noqa: E402

stage_solidity_deps.main(quiet=True)  # the compile needs .deps/openzeppelin (ape-config.yaml)


def pytest_sessionstart(session):
    """The suite replays on the package's shipped contracts: stop at once if contracts/ changed since they were built."""
    stale = artifacts.stale_sources(ROOT)
    if stale:
        pytest.exit(f"sim/chain/contracts.json is out of date ({', '.join(stale[:4])}{' ...' if len(stale) > 4 else ''} "
                    "changed): run python scripts/build_artifacts.py", returncode=1)


def pytest_configure(config):
    config.addinivalue_line("markers", "fork: replays a simulated run on a local fork of anvil node A")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/fork" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.fork)


# The project's suite is written with the stress kit users get: sim/chain/pytest_plugin.py, loaded through
# the package's pytest11 entry point (tripod_node_a, tripod_fork, tripod_simulate, tripod_replay, stress).


@pytest.fixture(scope="session")
def node_a(tripod_node_a):
    return tripod_node_a


@pytest.fixture(scope="session")
def simulate(tripod_simulate):
    return tripod_simulate


@pytest.fixture(scope="session")
def replay_on_fork(tripod_replay):
    return tripod_replay
