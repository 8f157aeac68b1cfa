"""Running a sweep on Dask: one task per chunk (point x run batch), each writing its own Parquet part
atomically, so a sweep killed at any moment resumes without redoing or losing finished chunks."""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import Scenario, ScenarioError
from sim.results import atomic_write, atomic_write_parquet, command_line, git_commit, package_versions
from sim.sweep.config import PROBABILITY_METRICS, SweepConfig, load_sweep
from sim.sweep.plan import Chunk, plan


class SweepConflict(ScenarioError):
    """The output directory holds a different sweep."""


class SweepInterrupted(Exception):
    def __init__(self, done: int, total: int):
        self.done, self.total = done, total
        super().__init__(f"stopped with {done}/{total} chunks finished")


def param_column(path: str) -> str:
    """`protocol.reserve.initial_usd` -> `reserve_initial_usd`: short, unique, SQL-friendly."""
    parts = path.split(".")
    return "_".join(parts[-2:]) if len(parts) > 1 else parts[0]


def run_chunk(scenario_json: str, point: int, run_start: int, run_stop: int, params: dict, metrics: list[str],
              part_path: str) -> dict:
    """One Dask task: simulate a run batch of one point, write its rows to `part_path` atomically."""
    from sim.runner import simulate_runs

    t0 = time.perf_counter()
    sc = Scenario.model_validate_json(scenario_json)
    runs = np.arange(run_start, run_stop)
    per_run, _episodes = simulate_runs(sc, runs)
    frame = pd.DataFrame({"point": np.full(runs.size, point, dtype=np.int64), "run": runs.astype(np.int64)})
    for col, v in params.items():
        frame[col] = float(v)
    for m in metrics:
        frame[m] = per_run[m]
    atomic_write_parquet(Path(part_path), frame)
    return {"part": part_path, "rows": int(runs.size), "seconds": time.perf_counter() - t0}


def _metric_columns(cfg: SweepConfig) -> list[str]:
    from sim.metrics import PER_RUN_METRICS

    cols = list(dict.fromkeys([*cfg.metrics, "min_peg_price", "insolvent", "reserve_depleted"]))
    bad = [m for m in cols if m not in PER_RUN_METRICS]
    if bad:
        raise ScenarioError("sweep", [f"metrics: unknown per-run metric(s) {bad}; known: {list(PER_RUN_METRICS)}"])
    if cfg.target.metric not in PROBABILITY_METRICS and cfg.target.metric not in cols:
        raise ScenarioError("sweep", [f"target.metric: {cfg.target.metric!r} is neither a probability "
                                      f"({sorted(PROBABILITY_METRICS)}) nor a kept metric"])
    return cols


def _client(scheduler: str | None, workers: int | None):
    from dask.distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)
    if scheduler:
        return Client(scheduler), None
    # Workers are spawned with SIGINT ignored (the disposition survives exec and Python keeps it), so
    # Ctrl-C reaches only this process, which cancels the work and keeps finished chunks.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        cluster = LocalCluster(n_workers=workers or min(2, os.cpu_count() or 1), threads_per_worker=1,
                               processes=True, dashboard_address=":0", silence_logs=logging.ERROR)
    finally:
        signal.signal(signal.SIGINT, previous)
    return Client(cluster), cluster


def run_sweep(sweep_file: str | Path, out_dir: str | Path, scheduler: str | None = None, workers: int | None = None,
              progress: bool = False) -> dict:
    """Run (or resume) a sweep into `out_dir`; returns the manifest. Raises SweepConflict when
    `out_dir` holds a sweep with another configuration, SweepInterrupted on Ctrl-C."""
    sweep_file = Path(sweep_file)
    cfg = load_sweep(sweep_file)
    base, values, scenarios, chunks = plan(cfg, sweep_file)
    metrics = _metric_columns(cfg)
    chash = cfg.config_hash(base.config_hash())
    out = Path(out_dir)
    parts = out / "parts"
    meta_path = out / "sweep.json"
    if meta_path.exists():
        old = json.loads(meta_path.read_text())
        if old.get("config_hash") != chash:
            raise SweepConflict(str(out), [f"holds sweep {old.get('name')!r} with config hash {old.get('config_hash')}, "
                                           f"this sweep file hashes to {chash}; use another --out"])
    parts.mkdir(parents=True, exist_ok=True)
    for stale in parts.glob(".*.tmp"):  # a temp file from a killed writer is never a result
        stale.unlink(missing_ok=True)
    param_cols = {p.path: param_column(p.path) for p in cfg.parameters}
    points = [{param_cols[k]: v for k, v in vals.items()} for vals in values]
    if not meta_path.exists():
        atomic_write(meta_path, json.dumps({"name": cfg.name, "config_hash": chash, "sweep": cfg.model_dump(mode="json"),
                                            "base_scenario": base.name, "points": points}, indent=1) + "\n")
    done = {p.stem for p in parts.glob("*.parquet")}
    todo = [c for c in chunks if c.name not in done]
    started = time.time()
    if todo:
        _execute(todo, scenarios, points, metrics, parts, scheduler, workers, progress, len(chunks))
    from sim.sweep.outputs import write_outputs

    summary = write_outputs(out, cfg, points, scenarios)
    manifest = {
        "sweep": cfg.name, "config_hash": chash, "seed": cfg.seed, "points": len(values), "chunks": len(chunks),
        "chunks_run_now": len(todo), "runs_per_point": cfg.runs_per_point, "horizon_hours": base.horizon_hours,
        "scheduler": scheduler or f"LocalCluster({workers or min(2, os.cpu_count() or 1)} workers)",
        "versions": package_versions(), "git_commit": git_commit(), "command": command_line(),
        "finished_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(time.time() - started, 3), "rows": int(summary["runs"].sum()),
    }
    atomic_write(out / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return manifest


def _execute(todo: list[Chunk], scenarios, points, metrics, parts: Path, scheduler, workers, progress, total):
    from dask.distributed import as_completed

    client, cluster = _client(scheduler, workers)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=total, initial=total - len(todo), unit="chunk", desc="sweep")
    finished = total - len(todo)
    futures = []
    try:
        # each point's scenario is sent once and shared by its chunks
        sc_json = {}
        for c in todo:
            if c.point not in sc_json:
                sc_json[c.point] = scenarios[c.point].model_dump_json()
            futures.append(client.submit(run_chunk, sc_json[c.point], c.point, c.run_start, c.run_stop,
                                         points[c.point], metrics, str(parts / f"{c.name}.parquet"),
                                         key=f"chunk-{parts.resolve()}-{c.name}", pure=False))
        for fut in as_completed(futures):
            fut.result()  # re-raise a worker's error here
            finished += 1
            if bar:
                bar.update(1)
    except KeyboardInterrupt:
        client.cancel(futures)
        raise SweepInterrupted(finished, total) from None
    finally:
        if bar:
            bar.close()
        client.close()
        if cluster is not None:
            cluster.close()
