"""A 64-point sweep on 1 Dask worker, then on 2: wall times, the speed-up, and that results agree.

    python benchmarks/sweep_workers.py                 # 8 x 8 grid, 40 runs per point, 240 h
    python benchmarks/sweep_workers.py --hours 48      # quick

The grid is caps-vs-fees' (hourly redemption cap x redemption fee, bank-run base) widened to 8 x 8.
Prints figures; never fails on timing (it exits 1 only if the two sweeps' results differ).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent


def sweep_file(folder: Path, hours: int, runs: int) -> Path:
    cfg = {
        "name": "bench-64",
        "base": str(ROOT / "scenarios" / "bank-run.yaml"),
        "design": "grid",
        "parameters": [
            {"path": "protocol.caps.redeem_cap_usd_per_hour",
             "values": [1e6, 2e6, 3e6, 4e6, 6e6, 8e6, 12e6, 16e6]},
            {"path": "protocol.fees.redeem_fee_bps", "values": [0, 5, 10, 20, 30, 45, 60, 90]},
        ],
        "runs_per_point": runs,
        "run_batch": runs,
        "seed": 1,
        "horizon_hours": hours,
        "target": {"metric": "depeg_probability", "max": 0.05},
    }
    path = folder / "bench-64.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def main() -> int:
    from sim.sweep.execute import run_sweep

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=int, default=240)
    ap.add_argument("--runs", type=int, default=40)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=ROOT / "out" if (ROOT / "out").is_dir() else None) as tmp:
        tmp = Path(tmp)
        f = sweep_file(tmp, a.hours, a.runs)
        times, results = {}, {}
        for workers in (1, 2):
            t0 = time.perf_counter()
            run_sweep(f, tmp / f"w{workers}", workers=workers)
            times[workers] = time.perf_counter() - t0
            results[workers] = pd.read_parquet(tmp / f"w{workers}" / "results.parquet")
        key = [c for c in ("point", "run") if c in results[1].columns]
        same = results[1].sort_values(key).reset_index(drop=True).equals(
            results[2].sort_values(key).reset_index(drop=True))
    print(f"64 points x {a.runs} runs x {a.hours} h: 1 worker {times[1]:.1f} s, 2 workers {times[2]:.1f} s, "
          f"speed-up {times[1] / times[2]:.2f}x; results {'identical' if same else 'DIFFER'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
