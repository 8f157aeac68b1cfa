"""`ape run deploy --network <ecosystem:network:provider>`: deploy the whole Tripod protocol.

Deploys the mock tokens and feeds (local chains), the protocol contracts, the real Uniswap v3 factory
with the HUSD/USDC (0.01%) and HYB/USDC pools seeded in their configured ranges, and writes addresses +
the `ProtocolSpec` used (human units) to a JSON file, the deployment file `sim.chain.deploy.load_deployment`
reads. A thin wrapper around `sim.chain.deploy` with this checkout's compiled contracts.

Environment:
  TRIPOD_DEPLOYMENT_FILE  output path (default deployments/<network>.json, e.g. deployments/local-test.json)
  TRIPOD_SCENARIO         deploy a scenario's protocol (a shipped name or a YAML file: ProtocolSpec.from_scenario)
  TRIPOD_DEPLOY_PARAMS    JSON/YAML file of spec overrides (the deployment file's `params` layout), applied last
  TRIPOD_DEPLOYER         account alias to deploy from on a live network (default: first test account)
No prompts: everything comes from the environment. A bad file or field: one line naming it, exit 2.
"""

import json
import os
import sys
import time
from pathlib import Path

from ape import accounts, chain, project

from sim.chain.artifacts import Contracts
from sim.chain.deploy import deploy_protocol, write_deployment
from sim.chain.spec import ProtocolSpec, SpecError


def _spec() -> ProtocolSpec:
    spec = ProtocolSpec.defaults()
    name = os.environ.get("TRIPOD_SCENARIO")
    if name:
        from sim.config import load_scenario
        from sim.runner import resolve_scenario

        spec = ProtocolSpec.from_scenario(load_scenario(resolve_scenario(name)))
    path = os.environ.get("TRIPOD_DEPLOY_PARAMS")
    if path:
        text = Path(path).read_text()
        if path.endswith((".yaml", ".yml")):
            import yaml

            over = yaml.safe_load(text) or {}
        else:
            over = json.loads(text)
        spec = spec.with_overrides(over, where=path)
    return spec


def _deployer():
    alias = os.environ.get("TRIPOD_DEPLOYER")
    if alias:
        return accounts.load(alias)
    return accounts.test_accounts[0]


def main():
    try:
        spec = _spec()
    except (SpecError, ValueError, OSError) as err:  # ScenarioError is a ValueError
        print(f"error: {err}".splitlines()[0], file=sys.stderr)
        sys.exit(2)
    network = chain.provider.network
    label = f"{network.name}-{chain.provider.name}" if network.ecosystem.name == "ethereum" else f"{network.ecosystem.name}-{network.name}"
    out = os.environ.get("TRIPOD_DEPLOYMENT_FILE") or str(Path("deployments") / f"{label}.json")
    t0 = time.perf_counter()
    protocol = deploy_protocol(_deployer(), spec, contracts=Contracts.from_project(project))
    path = write_deployment(protocol, out)
    print(f"deployed Tripod on {label} in {time.perf_counter() - t0:.1f}s -> {path}")
    for name, addr in protocol.contracts_json().items():
        print(f"  {name:10s} {addr}")
    for name, info in protocol.pools.items():
        print(f"  pool {name:10s} {info.pool.address} fee={info.fee} ticks=[{info.tick_lower}, {info.tick_upper}]")
