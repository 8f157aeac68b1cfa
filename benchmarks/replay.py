"""A 30-day hourly replay on a local fork: wall time (issue 5 target: <= 120 s).

    python benchmarks/replay.py                          # btc-crash, run 0, 720 hourly steps
    python benchmarks/replay.py --scenario bank-run --hours 168

Simulates one run of the scenario (every column), then `sim.chain.replay.replay` on a fork of a
fresh anvil node A (both started and stopped here): prints set-up time, replay time, ms per step,
gas, reverts and the largest sim-vs-chain divergence per field. Never fails on timing.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="btc-crash")
    ap.add_argument("--hours", type=int, default=720, help="steps to replay (hourly scenarios: hours)")
    ap.add_argument("--run", type=int, default=0)
    args = ap.parse_args()

    from sim.chain.replay import replay
    from sim.runner import resolve_scenario, run

    with tempfile.TemporaryDirectory(prefix="tripod-replay-bench-") as tmp:
        t = time.perf_counter()
        run(resolve_scenario(args.scenario), runs=args.run + 1, record="all").write(Path(tmp))
        sim_s = time.perf_counter() - t
        t = time.perf_counter()
        res = replay(tmp, run=args.run, steps=args.hours)
        total = time.perf_counter() - t
    s = res.summary
    print(f"{args.scenario} run {args.run}: {s['steps']} steps; simulate {sim_s:.1f} s; replay total {total:.1f} s "
          f"(nodes + deploy + genesis {total - s['replay_seconds']:.1f} s, steps {s['replay_seconds']:.1f} s = "
          f"{s['seconds_per_step'] * 1000:.0f} ms/step); target <= 120 s: {'met' if total <= 120 else 'NOT met'}")
    print(f"  gas {s['gas_used']:,}, reverts {s['revert_count']}")
    for r in s["reverts"][:10]:
        print(f"    step {r['step']}: {r['action']}: {r['reason']}")
    for f, v in s["divergence"].items():
        print(f"  {f:16s} max |chain - sim| {v['max_abs']:.6g} (rel {v['max_rel']:.3g}) at step {v['step']}")
    pm = s["pool_maths"]
    print(f"  pool swap vs sim pool maths: HUSD rel {pm['husd']['max_rel']:.3g}, USDC rel {pm['usdc']['max_rel']:.3g}")
    tr = s["trades"]
    if tr.get("replayed"):
        print(f"  model trades one by one: {tr['count']} on the HUSD pool, {tr['hyb_count']} on the HYB pool (vs pool maths on the chain's curve: max rel "
              f"{tr['maths_max_rel']:.3g}); closing swap to the model's price at most {tr['closing_swap_max_usdc']:.6g} USDC")
    print(f"  deployment: {s['deployment']['spec_on_chain']} (spec read back from the contracts); rounding clamps {len(s['rounding_clamps'])}")
    bad = [f"{f} from step {v['first_step']}" for f, v in s["rounding"].items() if not v["ok"]]
    print("  rounding only: " + ("yes, every field at every step" if not bad else "NO: " + ", ".join(bad)))


if __name__ == "__main__":
    main()
