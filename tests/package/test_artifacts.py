"""Package: the contracts the wheel ships (sim/chain/contracts.json) are the contracts in contracts/.

The cheap test compares source checksums (any edit to contracts/, ape-config.yaml or Uniswap's artifacts
since the last `python scripts/build_artifacts.py`); the slow one compiles the checkout afresh and
compares every contract type (ABI and both bytecodes) with the shipped manifest.
"""
import json
from pathlib import Path

import pytest

from sim.chain import artifacts

ROOT = Path(__file__).resolve().parents[2]
DEPLOYED = ("HUSD", "StakedHUSD", "Minter", "OracleRouter", "HedgeLedger", "ReserveFund", "PegStabilityModule", "HYB",
            "Backstop", "Guardian", "PoolRouter", "MockERC20", "MockAggregator", "ReplayStepper", "UniswapV3Factory",
            "UniswapV3Pool")


def test_shipped_manifest__sources_unchanged_since_it_was_built():
    stale = artifacts.stale_sources(ROOT)
    assert not stale, f"sim/chain/contracts.json is out of date for {stale}: run python scripts/build_artifacts.py"


def test_shipped_manifest__is_an_ethpm_package_with_every_contract_the_deployer_needs():
    from ethpm_types import PackageManifest

    m = PackageManifest.model_validate_json(artifacts.MANIFEST.read_text())
    assert m.manifest == "ethpm/3" and m.name == "tripod"
    for name in DEPLOYED:
        ct = m.contract_types[name]
        assert ct.abi and len(ct.deployment_bytecode.bytecode) > 100, name
    assert set(m.compilers[0].contractTypes) <= set(m.contract_types)


@pytest.mark.slow
def test_shipped_manifest__equals_a_fresh_compile_of_the_checkout():
    fresh = artifacts.build(ROOT, "0")
    shipped = json.loads(artifacts.MANIFEST.read_text())
    assert set(fresh["contractTypes"]) == set(shipped["contractTypes"])
    differ = [n for n, ct in fresh["contractTypes"].items() if ct != shipped["contractTypes"][n]]
    assert not differ, f"{differ} differ from a fresh compile: run python scripts/build_artifacts.py"
    assert fresh["sources"] == shipped["sources"] and fresh["compilers"] == shipped["compilers"]
