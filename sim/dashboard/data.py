"""What the dashboard reads, through DuckDB over the Parquet files: quantiles per step, a run's path,
the worst runs, one time slice, a sweep point's runs. Nothing is loaded whole: each query returns the
few thousand numbers a chart draws, whatever the size of trajectories.parquet.

Result folders are found by their files: a run has trajectories.parquet + metrics.json, a sweep
summary.csv + results.parquet, a compare compare.json.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MAX_POINTS = 1500  # steps per drawn line (thinned in SQL)
SEARCH_DEPTH = 3


@dataclass(frozen=True)
class Entry:
    kind: str  # run | sweep | compare
    path: Path
    name: str
    detail: str


def _kind(d: Path) -> str | None:
    if (d / "trajectories.parquet").exists() and (d / "metrics.json").exists():
        return "run"
    if (d / "summary.csv").exists() and (d / "results.parquet").exists():
        return "sweep"
    if (d / "compare.json").exists():
        return "compare"
    return None


def _entry(d: Path, kind: str) -> Entry:
    try:
        if kind == "run":
            man = _json(d / "manifest.json")
            m = _json(d / "metrics.json")
            name = man.get("scenario") or d.name
            detail = (f"{m.get('runs', '?')} runs x {m.get('horizon_hours', 0):,.0f} h, seed {man.get('seed')}, "
                      f"depeg probability {m.get('depeg_probability', float('nan')):.3f}")
        elif kind == "sweep":
            man = _json(d / "manifest.json")
            name = man.get("sweep") or d.name
            detail = f"{man.get('points', '?')} points x {man.get('runs_per_point', '?')} runs"
        else:
            c = _json(d / "compare.json")
            name = " vs ".join(c.get("compare", [d.name]))
            detail = f"{(c.get('sides') or [{}])[0].get('runs', '?')} runs, {'paired' if c.get('paired') else 'not paired'}"
    except (OSError, ValueError, TypeError, AttributeError):
        name, detail = d.name, "unreadable manifest"
    return Entry(kind, d.resolve(), name, detail)


def _json(p: Path) -> dict:
    return json.loads(p.read_text()) if p.exists() else {}


def discover(dirs) -> list[Entry]:
    """Result folders under each dir (the dir itself included), a few levels deep, sorted by kind and name."""
    found: dict[Path, Entry] = {}
    for root in map(Path, dirs):
        if not root.is_dir():
            continue
        stack = [(root, 0)]
        while stack:
            d, depth = stack.pop()
            kind = _kind(d)
            if kind:
                found.setdefault(d.resolve(), _entry(d, kind))
            if depth < SEARCH_DEPTH:
                try:
                    stack.extend((c, depth + 1) for c in sorted(d.iterdir()) if c.is_dir() and not c.name.startswith("."))
                except OSError:
                    pass
    order = {"run": 0, "sweep": 1, "compare": 2}
    return sorted(found.values(), key=lambda e: (order[e.kind], e.name, str(e.path)))


def _con():
    import duckdb

    return duckdb.connect()


def _traj(d: Path) -> str:
    return str(Path(d) / "trajectories.parquet").replace("'", "''")


def _ident(col: str, allowed) -> str:
    """A column name checked against the file's own columns (never interpolate what a browser sent)."""
    if col not in allowed:
        raise ValueError(f"no column {col!r}")
    return '"' + col.replace('"', '""') + '"'


def start_ms(d: Path) -> float | None:
    """Epoch milliseconds of hour 0 for a historical run (from its scenario.json), else None."""
    f = Path(d) / "scenario.json"
    if not f.exists():
        return None
    m = (json.loads(f.read_text()).get("market") or {})
    if m.get("source") != "historical":
        return None
    import datetime as dt

    day = dt.date.fromisoformat(m["historical"]["start_date"])
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp() * 1000.0


def _stamp(d: Path) -> tuple[str, float]:
    """A cache key that changes when the run is rewritten."""
    p = Path(d) / "trajectories.parquet"
    return str(p), p.stat().st_mtime


def columns(d: Path) -> list[str]:
    return list(_columns(*_stamp(d)))


@lru_cache(maxsize=64)
def _columns(path: str, _mtime: float) -> tuple[str, ...]:
    with _con() as con:
        rows = con.execute(f"describe select * from read_parquet('{_q(path)}')").fetchall()
    return tuple(r[0] for r in rows)


def steps(d: Path) -> tuple[int, float]:
    """(last timestep, step in hours)."""
    return _steps(*_stamp(d))


@lru_cache(maxsize=64)
def _steps(path: str, _mtime: float) -> tuple[int, float]:
    with _con() as con:  # the Parquet statistics answer this without reading the columns
        t, h = con.execute(f"select max(timestep), max(hour) from read_parquet('{_q(path)}')").fetchone()
    return int(t), (float(h) / t if t else 1.0)


def _q(path: str) -> str:
    return path.replace("'", "''")


def stride(d: Path) -> int:
    t, _ = steps(d)
    return max(1, -(-(t + 1) // MAX_POINTS))


def fan(d: Path, col: str) -> dict:
    """hour and the 5/25/50/75/95 % quantiles over runs at every kept step."""
    c = _ident(col, columns(d))
    k = stride(d)
    with _con() as con:
        rows = con.execute(
            f"select hour, quantile_cont({c}, [0.05, 0.25, 0.5, 0.75, 0.95]) from read_parquet('{_traj(d)}') "
            f"where timestep % {k} = 0 group by timestep, hour order by timestep").fetchall()
    return {"hour": [r[0] for r in rows], "q": [r[1] for r in rows]}


def worst_runs(d: Path, col: str, n: int = 5) -> list[tuple[int, float]]:
    """The n runs whose lowest value of `col` is lowest."""
    c = _ident(col, columns(d))
    with _con() as con:
        return [(int(r), float(v)) for r, v in con.execute(
            f"select run, min({c}) as low from read_parquet('{_traj(d)}') group by run order by low, run limit {int(n)}").fetchall()]


def run_path(d: Path, run: int, cols: list[str]) -> dict:
    allowed = columns(d)
    sel = ", ".join(_ident(c, allowed) for c in cols)
    k = stride(d)
    with _con() as con:
        rows = con.execute(f"select hour, {sel} from read_parquet('{_traj(d)}') where run = ? and timestep % {k} = 0 "
                           "order by timestep", [int(run)]).fetchall()
    return {"hour": [r[0] for r in rows], **{c: [r[i + 1] for r in rows] for i, c in enumerate(cols)}}


def slice_at(d: Path, col: str, timestep: int) -> list[float]:
    """Every run's value of `col` at one timestep (a histogram's input: one number per run)."""
    c = _ident(col, columns(d))
    with _con() as con:
        return [r[0] for r in con.execute(f"select {c} from read_parquet('{_traj(d)}') where timestep = ?",
                                          [int(timestep)]).fetchall()]


def start_value(d: Path, col: str) -> float:
    """The largest value of `col` at timestep 0 (the reserve every run starts with)."""
    return _start_value(*_stamp(d), col)


@lru_cache(maxsize=64)
def _start_value(path: str, _mtime: float, col: str) -> float:
    c = _ident(col, _columns(path, _mtime))
    with _con() as con:
        (v,) = con.execute(f"select max({c}) from read_parquet('{_q(path)}') where timestep = 0").fetchone()
    return float(v or 0.0)


def depleted_share(d: Path, col: str, upto: int, level: float) -> float:
    """Share of runs whose `col` fell to `level` or below by timestep `upto`."""
    c = _ident(col, columns(d))
    with _con() as con:
        (share,) = con.execute(f"select avg(hit::double) from (select max(({c} <= ?)::int) as hit from "
                               f"read_parquet('{_traj(d)}') where timestep <= ? group by run)", [level, int(upto)]).fetchone()
    return float(share or 0.0)


def sweep_summary(d: Path):
    import pandas as pd

    return pd.read_csv(Path(d) / "summary.csv")


def sweep_point_runs(d: Path, point: int):
    """One point's rows of results.parquet (its runs), as a DataFrame."""
    p = str(Path(d) / "results.parquet").replace("'", "''")
    with _con() as con:
        return con.execute(f"select * from read_parquet('{p}') where point = ? order by run", [int(point)]).df()
