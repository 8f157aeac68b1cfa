"""Fork stress suite: node A is started here (anvil, chain id 7357, base state deployed) for the
session and stopped at the end, even when a test fails; each scenario replays a simulated run on a
fresh fork of node A (`sim.chain.replay`), which starts and stops the fork node itself.

`ape test tests/fork -q -p no:cacheprovider` (scripts/test.sh). Every test is marked `fork`.
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("SOLCX_BINARY_PATH", str(ROOT / ".solcx"))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

from sim.chain.node import AnvilNode  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "fork: replays a simulated run on a local fork of anvil node A")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/fork" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.fork)


@pytest.fixture(scope="session")
def node_a():
    """Anvil node A with the mainnet-like base state; stopped (process group) at session end."""
    from sim.chain.replay import deploy_base_state

    node = AnvilNode().start()
    try:
        node.base_state = deploy_base_state(node.uri)
        yield node
    finally:
        node.stop()
    assert not node.alive()


@pytest.fixture(scope="session")
def simulate(tmp_path_factory):
    """simulate(name) -> run directory with every column, run 0 only (cached per scenario)."""
    from sim.runner import resolve_scenario, run

    cache = {}

    def _sim(name: str) -> Path:
        if name not in cache:
            out = tmp_path_factory.mktemp(name)
            run(resolve_scenario(name), runs=1, record="all").write(out)
            cache[name] = out
        return cache[name]

    return _sim


@pytest.fixture(scope="session")
def replay_on_fork(node_a):
    """replay_on_fork(run_dir, steps, check=None) -> (ReplayResult, whatever `check(result)` returned
    while the fork was still up: chain-state assertions go there)."""
    from sim.chain.replay import replay

    def _replay(run_dir, steps, check=None):
        seen = {}

        def keep(result):
            if check is not None:
                seen["value"] = check(result)

        res = replay(run_dir, run=0, steps=steps, upstream=node_a.uri, keep_connected=keep)
        return res, seen.get("value")

    return _replay


def assert_within(summary: dict, field: str, max_rel: float, max_abs: float | None = None):
    """Fail naming the field and the step where chain and model drift apart beyond rounding."""
    d = summary["divergence"][field]
    ok = d["max_rel"] <= max_rel or (max_abs is not None and d["max_abs"] <= max_abs)
    assert ok, (f"{field}: chain vs sim diverges by {d['max_abs']:.6g} (rel {d['max_rel']:.3g}) at step {d['step']}, "
                f"beyond rounding (rel {max_rel:g})")
