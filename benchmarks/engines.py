"""cadCAD against the batched engine on the full model, same scenario and seeds, in one run.

    python benchmarks/engines.py                       # the sizes issue #6 asks for
    python benchmarks/engines.py --cadcad-runs 2 --batch-runs 200 --big-runs 2000 --big-hours 720   # quick

1. cadCAD on a few runs x 720 steps (it is ~200 run-steps/s, so 1,000 runs would take over an hour;
   its per-run-step rate is measured on --cadcad-runs and scaled), batch on 1,000 runs x 720: the
   ratio of per-run-step rates, and the largest difference between the two on the shared runs.
2. batch on 10,000 runs x 720 steps: the ratio at 10,000.
3. batch on 10,000 runs x 8,760 steps, streaming metrics (no trajectory held), split into run chunks
   over a 2-worker Dask LocalCluster: wall time and peak memory per worker.
Prints figures; never fails on timing.
"""
from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np

import sim
from sim.engines import run_engine
from sim.metrics import metric_series
from sim.model import Model

ROOT = Path(__file__).resolve().parent.parent


def timed_engine(sc, engine, runs, record=None):
    t0 = time.perf_counter()
    m = Model.build(sc, runs, sc.seed)
    paths, p, g = m.paths, m.params, m.genesis
    traj = run_engine(engine, p, g, paths, record=record)
    return time.perf_counter() - t0, traj


def chunk_task(scenario_json: str, start: int, stop: int) -> dict:
    from sim import Scenario
    from sim.runner import simulate_runs

    t0 = time.perf_counter()
    per_run, _ = simulate_runs(Scenario.model_validate_json(scenario_json), np.arange(start, stop))
    return {"seconds": time.perf_counter() - t0, "depeg": float((per_run["min_peg_price"] < 0.99).sum()),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.yaml"))
    ap.add_argument("--cadcad-runs", type=int, default=4)
    ap.add_argument("--batch-runs", type=int, default=1000)
    ap.add_argument("--hours", type=int, default=720)
    ap.add_argument("--big-runs", type=int, default=10_000)
    ap.add_argument("--big-hours", type=int, default=8760)
    ap.add_argument("--chunk", type=int, default=2500)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    base = sim.load_scenario(a.scenario).with_overrides(seed=1)
    sc = base.with_overrides(horizon_hours=a.hours)

    tc, c = timed_engine(sc, "cadcad", a.cadcad_runs)
    tb, b = timed_engine(sc, "batch", a.batch_runs)
    rate_c = a.cadcad_runs * sc.steps / tc
    rate_b = a.batch_runs * sc.steps / tb
    diff = max(float(np.max(np.abs(c.data[k] - b.data[k][:, :a.cadcad_runs]) / np.maximum(1e-12, np.abs(c.data[k]))))
               for k in c.data)
    print(f"1. cadCAD  {a.cadcad_runs:>6} runs x {sc.steps} steps: {tc:8.1f} s  ({rate_c:,.0f} run-steps/s)")
    print(f"   batch   {a.batch_runs:>6} runs x {sc.steps} steps: {tb:8.1f} s  ({rate_b:,.0f} run-steps/s)")
    print(f"   ratio per run-step at {a.batch_runs} runs: {rate_b / rate_c:,.0f}x   "
          f"(cadCAD measured on {a.cadcad_runs} runs and scaled); max rel diff on shared runs {diff:.1e}")

    tb2, _ = timed_engine(sc, "batch", a.big_runs, record=metric_series(Model.build(sc, 1).genesis))
    rate_b2 = a.big_runs * sc.steps / tb2
    print(f"2. batch   {a.big_runs:>6} runs x {sc.steps} steps: {tb2:8.1f} s  ({rate_b2:,.0f} run-steps/s), "
          f"ratio {rate_b2 / rate_c:,.0f}x")

    from dask.distributed import Client, LocalCluster

    big = base.with_overrides(horizon_hours=a.big_hours, runs=a.big_runs)
    with LocalCluster(n_workers=a.workers, threads_per_worker=1, dashboard_address=":0") as cluster, Client(cluster) as cl:
        js = big.model_dump_json()
        t0 = time.perf_counter()
        futs = [cl.submit(chunk_task, js, s, min(s + a.chunk, a.big_runs), pure=False)
                for s in range(0, a.big_runs, a.chunk)]
        res = cl.gather(futs)
        t3 = time.perf_counter() - t0
    rate3 = a.big_runs * big.steps / t3
    peak = max(r["peak_rss_mb"] for r in res)
    print(f"3. batch   {a.big_runs:>6} runs x {big.steps} steps, streaming, {len(res)} chunks of {a.chunk} on "
          f"{a.workers} workers: {t3:.1f} s ({rate3:,.0f} run-steps/s, {rate3 / rate_c:,.0f}x cadCAD's rate), "
          f"peak worker memory {peak:,.0f} MB")


if __name__ == "__main__":
    main()
