"""Time `tripod run` with the cadCAD engine (the reference) and with the batched engine, same
scenario and seeds, and print the figures and the ratio measured in this one run.

    python benchmarks/cadcad_run.py                  # 100 runs x 720 steps, as issue #3 asks
    python benchmarks/cadcad_run.py --runs 10 --hours 240

Not a test: it never fails on timing. It times the Python API (`sim.run`), which is all the CLI
does besides writing files; writing is timed separately.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import sim

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.yaml"))
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--hours", type=int, default=720)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    sc = sim.load_scenario(a.scenario).with_overrides(horizon_hours=a.hours, runs=a.runs, seed=a.seed)
    steps = sc.steps
    print(f"scenario {sc.name}: {a.runs} runs x {steps} steps, seed {a.seed}")
    times = {}
    for engine in ("cadcad", "batch"):
        t0 = time.perf_counter()
        res = sim.run(sc, engine=engine)
        times[engine] = time.perf_counter() - t0
        with tempfile.TemporaryDirectory() as d:
            t1 = time.perf_counter()
            res.write(d)
            w = time.perf_counter() - t1
        rs = a.runs * steps / times[engine]
        print(f"  {engine:6s}: {times[engine]:8.2f} s simulate ({rs:,.0f} run-steps/s), {w:.2f} s write outputs")
    print(f"  batch / cadCAD speed-up on the same runs: {times['cadcad'] / times['batch']:.0f}x")


if __name__ == "__main__":
    main()
