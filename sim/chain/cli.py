"""`tripod replay`: replay one simulated run as transactions on a local fork and compare.

`register(subparsers)` is called from `sim/cli.py: build_parser()`. Ape is imported only when the
command runs.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path


def cmd_replay(args) -> int:
    from sim.atomic import OutputDir
    from sim.chain.network import FORK
    from sim.chain.replay import ReplayError, ReplayNodeError, replay, write_results

    if args.run < 0 or (args.steps is not None and args.steps < 1):
        print("error: --run must be >= 0 and --steps >= 1", file=sys.stderr)
        return 2
    target = Path(args.target)
    if target.is_dir():  # replay a run directory: its files are carried over, the replay's added
        _check_run_dir(target)
        out, path = target, None
        carry = [n for n in os.listdir(target) if not n.startswith(".") and not n.startswith("chain_replay.")]
    else:  # a scenario: simulate runs 0..K, replay run K, commit both as one directory
        path, sc = _scenario(args)
        if sc.fine_steps:
            from sim.chain.replay import FINE_STEPS_NOT_REPLAYED

            print(f"error: {path}: {FINE_STEPS_NOT_REPLAYED}", file=sys.stderr)
            return 2
        out = Path(args.out) if args.out else Path("out") / f"{sc.name}-replay"
        carry = []
    from sim.progress import wanted

    code = 0
    with OutputDir(out) as od:
        stage = od.stage(carry)
        try:
            if path is not None:
                from sim.runner import run

                run(path, runs=args.run + 1, record="all", progress=wanted()).write_into(stage)
            if wanted():  # node start-up and deployment take a while before the first step
                print(f"replaying {out} run {args.run} on {args.network or FORK}: starting the chain and deploying ...",
                      file=sys.stderr, flush=True)
            res = replay(stage, run=args.run, network=args.network or FORK, steps=args.steps, block=args.block,
                         write=False, progress=_progress_bar())
            res.summary["run_dir"] = str(od.path)
            write_results(stage, res)
        except ReplayNodeError as err:
            print(f"error: {err}; {out} left as it was", file=sys.stderr)
            code = 1
        except ReplayError as err:
            print(f"error: {str(err).replace(str(stage), str(out))}", file=sys.stderr)
            code = 2
        if code == 0:
            od.commit()
    if code:
        _exit(code)
    run_dir = out
    s = res.summary
    print(f"{s['scenario']} run {s['run']}: {s['steps']} steps replayed on {s['network']} in {s['wall_seconds']:.1f} s "
          f"({s['seconds_per_step'] * 1000:.0f} ms/step, set-up {s['setup_seconds']:.1f} s), gas {s['gas_used']:,}")
    for f, v in s["divergence"].items():
        print(f"  {f:16s} max |chain - sim| {v['max_abs']:.6g} (rel {v['max_rel']:.3g}) at step {v['step']}")
    pm = s["pool_maths"]
    print(f"  pool swap vs sim pool maths: HUSD rel {pm['husd']['max_rel']:.3g}, USDC rel {pm['usdc']['max_rel']:.3g}")
    tr = s.get("trades", {})
    if tr.get("replayed"):
        print(f"  model trades sent one by one: {tr['count']} on the HUSD pool ({tr.get('hyb_count', 0)} on the HYB pool), "
              f"proceeds vs pool maths on the chain's curve max rel "
              f"{tr['maths_max_rel']:.3g}, vs the model's trades (its exact curve) {tr['out_max_rel']:.3g}; "
              f"closing swap to the model's price at most {tr['closing_swap_max_usdc']:.6g} USDC")
    bs = s.get("backstop", {})
    if bs.get("sales"):
        print(f"  backstop HYB sales: {bs['sales']}, USDC raised chain {bs['usdc_chain']:,.2f} vs model "
              f"{bs['usdc_model']:,.2f} (max rel {bs['max_rel']:.3g})")
    bb = s.get("buy_backs", {})
    if bb.get("count"):
        print(f"  reserve buy-backs: {bb['count']}, USDC spent chain {bb['usdc_chain']:,.2f} vs model {bb['usdc_model']:,.2f} "
              f"(max rel {bb['usdc_max_rel']:.3g}), HUSD bought chain {bb['husd_chain']:,.2f} vs model "
              f"{bb['husd_model']:,.2f} (max rel {bb['husd_max_rel']:.3g})")
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


def _check_run_dir(d: Path) -> None:
    """A run directory's scenario.json and trajectories.parquet, checked before any node starts:
    a bad file is one line naming it (exit 2), never a traceback from deep inside the replay."""
    from sim.config import ScenarioError, parse_scenario, read_json_file
    from sim.parquet import read_metadata

    scen, traj = d / "scenario.json", d / "trajectories.parquet"
    if scen.exists():
        parse_scenario(read_json_file(scen), str(scen))
    if traj.exists():
        try:
            read_metadata(traj)
        except Exception as err:  # noqa: BLE001 - whatever pyarrow calls a bad file, it is one line here
            raise ScenarioError(str(traj), [f"not a readable Parquet file ({str(err).splitlines()[0][:120]})"]) from None


def _scenario(args):
    """(path, Scenario) of a scenario file or shipped name, or a one-line error."""
    from sim.config import ScenarioError, load_scenario
    from sim.runner import resolve_scenario

    path = resolve_scenario(args.target)
    if not path.exists():
        raise ScenarioError(str(args.target), ["no such run directory, scenario file or shipped scenario"])
    return path, load_scenario(path)


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
