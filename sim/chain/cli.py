"""`tripod replay`: replay one simulated run as transactions on a local fork and compare.

`register(subparsers)` is called from `sim/cli.py: build_parser()`. Ape is imported only when the
command runs.
"""
from __future__ import annotations

import sys
from pathlib import Path


def cmd_replay(args) -> int:
    from sim.chain.replay import FORK, ReplayError, ReplayNodeError, replay

    if args.run < 0 or (args.steps is not None and args.steps < 1):
        print("error: --run must be >= 0 and --steps >= 1", file=sys.stderr)
        return 2
    target = Path(args.target)
    try:
        if target.is_dir():
            run_dir = target
        else:
            run_dir = _simulate(args)
        from sim.progress import wanted

        if wanted():  # node start-up and deployment take a while before the first step
            print(f"replaying {run_dir} run {args.run} on {args.network or FORK}: starting the chain and deploying ...",
                  file=sys.stderr, flush=True)
        res = replay(run_dir, run=args.run, network=args.network or FORK, steps=args.steps, block=args.block,
                     progress=_progress_bar())
    except ReplayNodeError as err:
        print(f"error: {err}; no result file was written", file=sys.stderr)
        _exit(1)
    except ReplayError as err:
        print(f"error: {err}", file=sys.stderr)
        _exit(2)
    s = res.summary
    print(f"{s['scenario']} run {s['run']}: {s['steps']} steps replayed on {s['network']} in {s['wall_seconds']:.1f} s "
          f"({s['seconds_per_step'] * 1000:.0f} ms/step, set-up {s['setup_seconds']:.1f} s), gas {s['gas_used']:,}")
    for f, v in s["divergence"].items():
        print(f"  {f:16s} max |chain - sim| {v['max_abs']:.6g} (rel {v['max_rel']:.3g}) at step {v['step']}")
    pm = s["pool_maths"]
    print(f"  pool swap vs sim pool maths: HUSD rel {pm['husd']['max_rel']:.3g}, USDC rel {pm['usdc']['max_rel']:.3g}")
    tr = s.get("trades", {})
    if tr.get("replayed"):
        print(f"  model pool trades sent one by one: {tr['count']}, proceeds vs pool maths on the chain's curve max rel "
              f"{tr['maths_max_rel']:.3g}, vs the model's trades (its exact curve) {tr['out_max_rel']:.3g}; "
              f"closing swap to the model's price at most {tr['closing_swap_max_usdc']:.6g} USDC")
    bs = s.get("backstop", {})
    if bs.get("sales"):
        print(f"  backstop HYB sales: {bs['sales']}, USDC raised chain {bs['usdc_chain']:,.2f} vs model "
              f"{bs['usdc_model']:,.2f} (max rel {bs['max_rel']:.3g})")
    bad = {f: v for f, v in s["rounding"].items() if not v["ok"]}
    print("  rounding only: " + ("yes, every field at every step" if not bad else "NO: " + "; ".join(
        f"{f} from step {v['first_step']} (chain {v['chain']:.9g} vs sim {v['sim']:.9g})" for f, v in bad.items())))
    if s.get("rounding_clamps"):
        print(f"  PSM amounts trimmed for base-unit rounding: {len(s['rounding_clamps'])}")
    print(f"  reverts: {s['revert_count']}")
    for r in s["reverts"][:10]:
        print(f"    step {r['step']}: {r['action']}: {r['reason']}")
    print(f"  wrote {run_dir}/chain_replay.parquet, chain_replay.json")
    return 0


def _progress_bar():
    """A `progress(k, n)` callback drawing a bar on a terminal (None elsewhere: the replay stays quiet)."""
    from sim.progress import bar, wanted

    if not wanted():
        return None
    state = {}

    def progress(k: int, n: int) -> None:
        if "bar" not in state:
            state["bar"] = bar(total=n, desc="replaying", unit="step", enabled=True)
        state["bar"].update(k + 1 - state["bar"].n)
        if k + 1 >= n:
            state["bar"].close()

    return progress


def _exit(code: int) -> None:
    """Leave now. Reading a Parquet file after `sim.config` was imported makes the interpreter abort
    at exit ("terminate called without an active exception", exit 134) when Ape was not imported;
    the result files are already written (or deliberately not), so skip the interpreter teardown."""
    import os

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _simulate(args) -> Path:
    """A scenario (file or shipped name): simulate run 0..K with every column, then replay run K."""
    from sim.config import ScenarioError
    from sim.runner import resolve_scenario, run

    path = resolve_scenario(args.target)
    if not path.exists():
        raise ScenarioError(str(args.target), ["no such run directory, scenario file or shipped scenario"])
    from sim.progress import wanted

    result = run(path, runs=args.run + 1, record="all", progress=wanted())
    out = Path(args.out) if args.out else Path("out") / f"{result.scenario.name}-replay"
    result.write(out)
    return out


def register(sub) -> None:
    r = sub.add_parser("replay", help="replay a simulated run as transactions on a local fork and compare with the model")
    r.add_argument("target", help="run directory written by `tripod run ... --all-columns`, or a scenario (file or shipped name)")
    r.add_argument("--network", default="fork",
                   help="fork (default: start anvil node A, fork it with `anvil --fork-url`, stop both after), "
                        "ethereum:tripod-node-a-fork:foundry (node A forked by Ape's own foundry fork provider), "
                        "ethereum:mainnet-fork:foundry (TRIPOD_FORK_RPC_URL, TRIPOD_FORK_WHALES), "
                        "or another Ape network choice, e.g. ethereum:local:foundry")
    r.add_argument("--block", type=int, help="pin an Ape fork (ethereum:tripod-node-a-fork:foundry, "
                   "ethereum:mainnet-fork:foundry) at this upstream block (mainnet: or TRIPOD_FORK_BLOCK)")
    r.add_argument("--run", type=int, default=0, help="which run of the trajectory to replay (default 0)")
    r.add_argument("--steps", type=int, help="replay only the first N steps (default: the whole horizon)")
    r.add_argument("--out", help="with a scenario: where to write the simulated run (default out/<name>-replay)")
    r.set_defaults(func=cmd_replay)
