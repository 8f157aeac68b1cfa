"""Tripod's stress kit as a pytest plugin: fixtures for users' own Ape suites on their own forks.

Load it with `-p sim.chain.pytest_plugin` (or, once registered, through the package's `pytest11`
entry point: `[project.entry-points.pytest11] tripod = "sim.chain.pytest_plugin"`). Importing it
is cheap: nothing from Ape or web3 is imported until a fixture is used.

Fixtures (session scope unless said):
  tripod_node_a      anvil node A (chain id 7357) with the mainnet-like base state; stopped at the end
  tripod_fork        one anvil fork of node A for the session; stopped at the end
  tripod_simulate    tripod_simulate("btc-crash") -> run directory (one run, every column), cached
  tripod_replay      tripod_replay(run_dir, steps, check) -> (ReplayResult, check(result)) on the session's
                     fork, between a chain.snapshot() and chain.restore() (each scenario starts from node
                     A's base state); `check` runs while connected (assert chain state there)
  stress             function: stress(result) -> sim.chain.stress.Stress (readable verbs)

A user test (tests/fork/test_stress.py runs this one):

    def test_gold_gap_down(tripod_simulate, tripod_replay, stress):
        def check(res):
            kit = stress(res)
            before, h = kit.backing_ratio(), kit.hedge("XAU-PERP")
            px = int(kit.p.feeds["PAXG"].latestAnswer()) / 1e8
            kit.move_oracle("PAXG", [px * 0.96, px * 0.92], hours_per_round=0.25)
            kit.hedge_loss("XAU-PERP", -h["notional"] * 0.08)   # the short gains what the spot lost
            return before, kit.backing_ratio()
        _res, (before, after) = tripod_replay(tripod_simulate("baseline"), steps=2, check=check)
        assert after == pytest.approx(before, abs=2e-3)
"""
from __future__ import annotations

import sys

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "fork: replays a simulated run on a local fork of anvil node A")
    if "ape" in sys.modules:  # under `ape test`: the anvil Ape starts leaves no state files either
        from sim.chain.network import keep_ape_anvil_off_disk

        keep_ape_anvil_off_disk()


@pytest.fixture(scope="session")
def tripod_node_a():
    from sim.chain.network import deploy_base_state
    from sim.chain.node import AnvilNode

    node = AnvilNode().start()
    try:
        node.base_state = deploy_base_state(node.uri)
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="session")
def tripod_fork(tripod_node_a):
    from sim.chain.node import AnvilNode

    node = AnvilNode(fork_url=tripod_node_a.uri).start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="session")
def tripod_simulate(tmp_path_factory):
    from sim.runner import resolve_scenario, run

    cache = {}

    def _sim(name: str, runs: int = 1):
        if (name, runs) not in cache:
            out = tmp_path_factory.mktemp(str(name).replace("/", "_"))
            run(resolve_scenario(name), runs=runs, record="all").write(out)
            cache[(name, runs)] = out
        return cache[(name, runs)]

    return _sim


@pytest.fixture(scope="session")
def tripod_replay(tripod_node_a, tripod_fork):
    from sim.chain.replay import replay

    def _replay(run_dir, steps=None, check=None, run=0, write=True):
        seen = {}

        def keep(result):
            if check is not None:
                seen["value"] = check(result)

        res = replay(run_dir, run=run, steps=steps, fork=tripod_fork.uri, base=tripod_node_a.base_state,
                     keep_connected=keep, write=write)
        return res, seen.get("value")

    return _replay


@pytest.fixture
def stress():
    from sim.chain.stress import Stress

    return lambda result: Stress(result.chain["replay"])
