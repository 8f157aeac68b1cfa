"""`ape run deploy --network <ecosystem:network:provider>`: deploy the whole Tripod protocol.

Deploys the mock tokens and feeds (local chains), the protocol contracts, the real Uniswap v3
factory with the HUSD/USDC (0.01%) and HYB/USDC pools seeded in their configured ranges, and writes
addresses + the parameters used to a JSON file for the simulator bridge (sim/chain) to read.

Environment:
  TRIPOD_DEPLOYMENT_FILE  output path (default deployments/<network>.json, e.g. deployments/local-test.json)
  TRIPOD_DEPLOY_PARAMS    optional JSON/YAML file of parameter overrides (merged into DEFAULT_PARAMS)
  TRIPOD_DEPLOYER         account alias to deploy from on a live network (default: first test account)
No prompts: everything comes from the environment.
"""

import json
import os
import sys
import time
from pathlib import Path

from ape import accounts, chain

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts._protocol import deploy_protocol, write_deployment  # noqa: E402


def _overrides() -> dict:
    path = os.environ.get("TRIPOD_DEPLOY_PARAMS")
    if not path:
        return {}
    text = Path(path).read_text()
    if path.endswith((".yaml", ".yml")):
        import yaml

        return yaml.safe_load(text) or {}
    return json.loads(text)


def _deployer():
    alias = os.environ.get("TRIPOD_DEPLOYER")
    if alias:
        return accounts.load(alias)
    return accounts.test_accounts[0]


def main():
    network = chain.provider.network
    label = f"{network.name}-{chain.provider.name}" if network.ecosystem.name == "ethereum" else f"{network.ecosystem.name}-{network.name}"
    out = os.environ.get("TRIPOD_DEPLOYMENT_FILE") or str(Path("deployments") / f"{label}.json")
    admin = _deployer()
    t0 = time.perf_counter()
    protocol = deploy_protocol(admin, _overrides())
    path = write_deployment(protocol, out)
    print(f"deployed Tripod on {label} in {time.perf_counter() - t0:.1f}s -> {path}")
    for name, addr in protocol.contracts_json().items():
        print(f"  {name:10s} {addr}")
    for name, info in protocol.pools.items():
        print(f"  pool {name:10s} {info.pool.address} fee={info.fee} ticks=[{info.tick_lower}, {info.tick_upper}]")
