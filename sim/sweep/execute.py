"""Running a sweep on Dask: one task per chunk (point x run batch) whose rows come back to the client,
which writes each as its own Parquet part atomically, so a sweep killed at any moment resumes without
redoing or losing finished chunks, and workers need no file system shared with the client."""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import Scenario, ScenarioError, read_json_file
from sim.atomic import OutputDir, atomic_write, atomic_write_parquet, clean_temp_files
from sim.parquet import read_metadata, read_table
from sim.results import dump_json, provenance
from sim.sweep.config import PROBABILITY_METRICS, SweepConfig, load_sweep
from sim.sweep.plan import Chunk, check_chunk_memory, plan


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


def run_chunk(scenario_json: str, point: int, run_start: int, run_stop: int, params: dict,
              metrics: list[str]) -> tuple["pd.DataFrame", float]:
    """One Dask task: simulate a run batch of one point; its rows go back to the client through Dask,
    which writes the part. A worker needs no file system shared with the client: it runs anywhere,
    in any folder."""
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
    return frame, time.perf_counter() - t0


def _metric_columns(cfg: SweepConfig, source: str) -> list[str]:
    from sim.metrics import PER_RUN_METRICS

    cols = list(dict.fromkeys([*cfg.metrics, "min_peg_price", "insolvent", "reserve_depleted"]))
    bad = [m for m in cols if m not in PER_RUN_METRICS]
    if bad:
        raise ScenarioError(source, [f"metrics: unknown per-run metric(s) {bad}; known: {list(PER_RUN_METRICS)}"])
    if cfg.target.metric not in PROBABILITY_METRICS and cfg.target.metric not in cols:
        raise ScenarioError(source, [f"target.metric: {cfg.target.metric!r} is neither a probability "
                                      f"({sorted(PROBABILITY_METRICS)}) nor a kept metric"])
    return cols


def _client(scheduler: str | None, workers: int | None):
    from dask.distributed import Client, LocalCluster

    # A worker's failure reaches this process through its future (fut.result() re-raises it), so distributed's
    # own log lines are only noise: at Ctrl-C a worker's heartbeat meets the closed scheduler and logs a
    # traceback at ERROR, which is not what an interrupted sweep should print.
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    if scheduler:
        return Client(scheduler), None
    # Workers are spawned with SIGINT ignored (the disposition survives exec and Python keeps it), so
    # Ctrl-C reaches only this process, which cancels the work and keeps finished chunks.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        cluster = LocalCluster(n_workers=workers or min(2, os.cpu_count() or 1), threads_per_worker=1,
                               processes=True, dashboard_address=":0", silence_logs=logging.CRITICAL)
    finally:
        signal.signal(signal.SIGINT, previous)
    return Client(cluster), cluster


def run_sweep(sweep_file: str | Path, out_dir: str | Path, scheduler: str | None = None, workers: int | None = None,
              progress: bool = False) -> dict:
    """Run (or resume) a sweep into `out_dir`; returns the manifest. Raises SweepConflict when
    `out_dir` holds a sweep with another configuration (or parts of an unknown one), SweepInterrupted
    on Ctrl-C, OutputDirError when another command writes `out_dir`.

    `out_dir` is locked for the whole sweep. Each finished chunk is written to `out_dir/parts` as it
    arrives (a file whole or absent); the outputs (results.parquet, summary.csv, report.html,
    manifest.json) are committed together with the parts in one rename (`sim.atomic`)."""
    if workers is not None and workers < 1:
        raise ScenarioError("--workers", [f"must be at least 1 (got {workers})"])
    sweep_file = Path(sweep_file)
    cfg = load_sweep(sweep_file)
    base, values, scenarios, chunks = plan(cfg, sweep_file)
    metrics = _metric_columns(cfg, str(sweep_file))
    check_chunk_memory(cfg, base, workers if not scheduler else 1, metrics, str(sweep_file))
    chash = cfg.config_hash(base.config_hash())
    with OutputDir(out_dir, markers=("sweep.json", "manifest.json")) as od:
        out = od.path  # absolute: nothing relative leaves this process
        parts = out / "parts"
        meta_path = out / "sweep.json"
        if meta_path.exists():
            old = _read_meta(meta_path)
            if old.get("config_hash") != chash:
                raise SweepConflict(str(out_dir), [f"holds sweep {old.get('name')!r} with config hash {old.get('config_hash')}, "
                                                   f"this sweep file hashes to {chash}; use another --out"])
        elif parts.is_dir() and any(parts.iterdir()):
            raise SweepConflict(str(out_dir), ["parts/ holds chunks but there is no sweep.json saying which sweep made "
                                               "them; use another --out (or delete the folder)"])
        parts.mkdir(parents=True, exist_ok=True)
        clean_temp_files(parts)  # a temp file from a killed writer is never a result
        param_cols = {p.path: param_column(p.path) for p in cfg.parameters}
        points = [{param_cols[k]: v for k, v in vals.items()} for vals in values]
        if not meta_path.exists():
            atomic_write(meta_path, json.dumps({"name": cfg.name, "config_hash": chash, "sweep": cfg.model_dump(mode="json"),
                                                "base_scenario": base.name, "points": points}, indent=1) + "\n")
        columns = ["point", "run", *points[0], *metrics]
        todo = [c for c in chunks if not _part_ok(parts / f"{c.name}.parquet", c, columns)]
        started = time.time()
        if todo:
            _execute(todo, scenarios, points, metrics, parts, scheduler, workers, progress, len(chunks))
        from sim.sweep.outputs import write_outputs

        stage = od.stage(carry=("sweep.json", "parts"))
        summary = write_outputs(stage, cfg, points, scenarios, [stage / "parts" / f"{c.name}.parquet" for c in chunks])
        manifest = {
            "sweep": cfg.name, "config_hash": chash, "seed": cfg.seed, "points": len(values), "chunks": len(chunks),
            "chunks_run_now": len(todo), "runs_per_point": cfg.runs_per_point, "horizon_hours": base.horizon_hours,
            "scheduler": scheduler or f"LocalCluster({workers or min(2, os.cpu_count() or 1)} workers)",
            **provenance(),
            "finished_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "wall_seconds": round(time.time() - started, 3), "rows": int(summary["runs"].sum()),
        }
        (stage / "manifest.json").write_text(dump_json(manifest))
        od.commit()
    return manifest


def _read_meta(meta_path: Path) -> dict:
    try:
        meta = read_json_file(meta_path)
    except ScenarioError as err:
        meta = err
    if not isinstance(meta, dict):
        raise SweepConflict(str(meta_path), ["unreadable, not a sweep this command wrote: use another --out"])
    return meta


def _part_ok(path: Path, chunk: Chunk, columns: list[str]) -> bool:
    """A finished chunk: the part exists, its footer reads, and it holds the chunk's rows and columns.
    A truncated or foreign part is named on stderr, removed, and its chunk redone."""
    if not path.exists():
        return False
    try:
        meta = read_metadata(path)
        ok = meta.num_rows == chunk.run_stop - chunk.run_start and meta.schema.to_arrow_schema().names == columns
        if ok:  # and its rows are this chunk's (a part copied or renamed from another chunk is not)
            ids = read_table(path, columns=["point", "run"])
            ok = (set(ids.column("point").to_pylist()) == {chunk.point}
                  and ids.column("run").to_pylist() == list(range(chunk.run_start, chunk.run_stop)))
        why = "" if ok else "holds rows that are not this chunk's"
    except Exception as err:  # noqa: BLE001 - any unreadable file is redone, whatever pyarrow calls it
        ok, why = False, f"unreadable ({str(err).splitlines()[0][:120]})"
    if not ok:
        print(f"warning: {path}: {why}; redoing that chunk", file=sys.stderr)
        path.unlink(missing_ok=True)
    return ok


def _execute(todo: list[Chunk], scenarios, points, metrics, parts: Path, scheduler, workers, progress, total):
    from dask.distributed import as_completed

    client, cluster = _client(scheduler, workers)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=total, initial=total - len(todo), unit="chunk", desc="sweep")
    finished = total - len(todo)
    futures = {}
    try:
        # each point's scenario is sent once and shared by its chunks
        sc_json = {}
        for c in todo:
            if c.point not in sc_json:
                sc_json[c.point] = scenarios[c.point].model_dump_json()
            fut = client.submit(run_chunk, sc_json[c.point], c.point, c.run_start, c.run_stop, points[c.point], metrics,
                                key=f"chunk-{parts}-{c.name}", pure=False)
            futures[fut] = c
        for fut in as_completed(list(futures)):
            frame, _seconds = fut.result()  # re-raises a worker's error here
            atomic_write_parquet(parts / f"{futures[fut].name}.parquet", frame)
            fut.release()
            finished += 1
            if bar:
                bar.update(1)
    except KeyboardInterrupt:
        client.cancel(list(futures))
        raise SweepInterrupted(finished, total) from None
    finally:
        if bar:
            bar.close()
        client.close()
        if cluster is not None:
            cluster.close()
