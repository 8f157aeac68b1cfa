"""Start anvil node A (the "mainnet-like" upstream), deploy its base state, serve until Ctrl-C.

    .venv/bin/python scripts/fork_node.py [--port N] [--chain-id N] [--out deployments/node-a.json]

Node A runs Foundry's anvil (`sim.chain.node.anvil_binary()`: on PATH) on a free port (or --port) with chain id 7357 (not 31337) and
gets USDC, a T-bill fund token, WBTC- and PAXG-like tokens, USD feeds and the Uniswap v3 factory
(`sim.chain.network.deploy_base_state`, the package's contracts). Fork it with
`anvil --fork-url <uri>` (what `tripod replay --network fork` and tests/fork do), or point Ape's fork
provider at it (README, "Replay on a fork"). The node is stopped (process group) on exit, Ctrl-C or
SIGTERM. Not an `ape run` script: Ape is only used to deploy the base state.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

from sim.chain.node import UPSTREAM_CHAIN_ID, AnvilNode


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int)
    ap.add_argument("--chain-id", type=int, default=UPSTREAM_CHAIN_ID)
    ap.add_argument("--out", help="write the base state's addresses here (JSON)")
    ap.add_argument("--exit", action="store_true", help="deploy, print, stop (a smoke test)")
    args = ap.parse_args(argv)
    if args.chain_id in (31337, 1337):
        print("error: node A needs a chain id other than 31337/1337", file=sys.stderr)
        return 2
    node = AnvilNode(chain_id=args.chain_id, port=args.port)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    with node:
        from sim.chain.network import deploy_base_state

        base = {"uri": node.uri, "chain_id": args.chain_id, **deploy_base_state(node.uri)}
        text = json.dumps(base, indent=2)
        if args.out:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(text + "\n")
        print(text, flush=True)
        if args.exit:
            return 0
        print(f"node A on {node.uri} (chain id {args.chain_id}); Ctrl-C to stop", flush=True)
        try:
            while node.alive():
                time.sleep(1.0)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
