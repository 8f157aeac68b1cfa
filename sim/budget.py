"""What a run will need, estimated before anything is allocated: refused with the figure if it cannot fit.

A run holds float64 arrays of shape (steps + 1, runs): the market paths (8), the generator's
temporaries while it draws them (about 4), and every recorded series (`record`: all ~76 state
variables for `sim.run`, the ~9 the metrics and report need when `tripod run` streams the rest to
disk). Measured on the baseline (a year of hours): 1.37 MB per run streaming, ~5 MB per run with
every column, plus ~0.4 GB for Python and the libraries. cadCAD keeps a dict per step per run:
about 15 times the arrays. The same figures give the Parquet file's size on disk (uncompressed
bound: float columns barely compress).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

MARKET_ARRAYS = 8 + 4
BASE_BYTES = 400 * 2**20
CADCAD_FACTOR = 15


def available_memory_bytes() -> int | None:
    """MemAvailable (Linux), else physical memory; None when the OS does not say."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _gb(n: float) -> str:
    return f"{n / 2**30:,.1f} GB"


def run_bytes(runs: int, steps: int, recorded: int, engine: str = "batch", engine_steps: int | None = None) -> int:
    """`engine_steps`: the engine's steps when fine-step windows add some (the market arrays, and all of
    cadCAD's records, are that long; the recorded series `steps` long)."""
    engine_steps = steps if engine_steps is None else engine_steps
    if engine == "cadcad":
        return BASE_BYTES + (engine_steps + 1) * runs * 8 * (MARKET_ARRAYS + recorded) * CADCAD_FACTOR
    return BASE_BYTES + 8 * runs * ((engine_steps + 1) * MARKET_ARRAYS + (steps + 1) * recorded)


def check_memory(source: str, runs: int, steps: int, recorded: int, engine: str = "batch",
                 hint: str = "lower runs or horizon_hours", extra_bytes: int = 0, engine_steps: int | None = None) -> None:
    """Refuse (ScenarioError naming `runs`) a run whose arrays cannot fit in the memory available now.
    `runs` are the runs simulated at once (one chunk); `extra_bytes` what the caller keeps beside;
    `engine_steps` the engine's steps when fine-step windows add some."""
    from sim.config import ScenarioError

    need = run_bytes(runs, steps, recorded, engine, engine_steps) + extra_bytes
    have = available_memory_bytes()
    if have is not None and need > have:
        finer = f" ({engine_steps + 1:,} engine steps with fine_steps)" if engine_steps not in (None, steps) else ""
        raise ScenarioError(source, [
            f"runs: {runs:,} runs x {steps + 1:,} steps{finer} x {MARKET_ARRAYS + recorded} arrays"
            f"{f' x {CADCAD_FACTOR} (cadCAD)' if engine == 'cadcad' else ''}"
            f"{f' (and {_gb(extra_bytes)} of results)' if extra_bytes else ''} need about {_gb(need)} of memory, "
            f"more than the {_gb(have)} available; {hint}"])


def check_disk(source: str, directory: str | os.PathLike, runs: int, steps: int, columns: int) -> None:
    """Refuse a trajectory file that cannot fit on the disk of `directory`."""
    from sim.config import ScenarioError

    need = 8 * (steps + 1) * runs * (columns + 3)
    d = Path(directory)
    while not d.exists() and d != d.parent:
        d = d.parent
    try:
        free = shutil.disk_usage(d).free
    except OSError:
        return
    if need > free:
        raise ScenarioError(source, [f"runs: trajectories of {runs:,} runs x {steps + 1:,} steps x {columns + 3} columns "
                                     f"need up to {_gb(need)} on disk, {_gb(free)} free at {d}; lower runs or horizon_hours"])
