"""Writing results: a run directory committed whole (`sim.atomic`), with a manifest that makes it reproducible."""
from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from sim.atomic import OutputDir, atomic_write, atomic_write_parquet, write_parquet  # noqa: F401 (re-exported)

UNTRACKED_HASH_MAX_BYTES = 1 << 20
VERSIONED_PACKAGES = ("tripod", "numpy", "numba", "pandas", "pydantic", "cadCAD", "pyarrow", "matplotlib")


def package_versions() -> dict:
    out = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _git(args: list[str], cwd: Path) -> bytes | None:
    try:
        r = subprocess.run(["git", *args], capture_output=True, timeout=10, cwd=cwd)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout if r.returncode == 0 else None


def git_commit() -> str | None:
    out = _git(["rev-parse", "HEAD"], Path(__file__).resolve().parent)
    return (out.decode().strip() or None) if out else None


def git_state(where: str | os.PathLike | None = None) -> dict:
    """The commit the code came from, whether the working tree differs from it (tracked changes or
    untracked files), and a hash of that difference: two results with the same commit and config
    hash but different code never look the same. All None outside a git checkout. `where`: a folder
    of the checkout (default: this package's)."""
    here = Path(where) if where is not None else Path(__file__).resolve().parent
    top = _git(["rev-parse", "--show-toplevel"], here)
    out = _git(["rev-parse", "HEAD"], here)
    commit = (out.decode().strip() or None) if out else None
    if top is None or commit is None:
        return {"git_commit": None, "git_dirty": None, "git_diff_sha256": None}
    root = Path(top.decode().strip())
    status = _git(["status", "--porcelain", "-z", "--untracked-files=all"], root) or b""
    if not status:
        return {"git_commit": commit, "git_dirty": False, "git_diff_sha256": None}
    h = hashlib.sha256(_git(["diff", "HEAD", "--binary"], root) or b"")
    for entry in status.split(b"\0"):
        if entry.startswith(b"?? "):  # untracked: its name and content (size and mtime when large)
            rel = entry[3:]
            f = root / os.fsdecode(rel)
            h.update(b"\0" + rel + b"\0")
            try:
                size = f.stat().st_size
                h.update(f.read_bytes() if size <= UNTRACKED_HASH_MAX_BYTES else f"{size}:{f.stat().st_mtime_ns}".encode())
            except OSError:
                pass
    return {"git_commit": commit, "git_dirty": True, "git_diff_sha256": h.hexdigest()[:16]}


def provenance() -> dict:
    """What every manifest records about the code that made a result."""
    return {"versions": package_versions(), **git_state(), "command": command_line()}


@dataclass
class Result:
    """One simulation: its scenario, trajectories, metrics and provenance.

    `stream` is set when the trajectories were written to Parquet during the run (`run(stream_to=...)`):
    then `trajectory` holds only the series the metrics and the report need, and `frame` reads the file.
    """

    scenario: object
    trajectory: object
    metrics: dict
    manifest: dict
    stream: object = None
    _frame: "pd.DataFrame | None" = field(default=None, repr=False)

    def __repr__(self) -> str:
        m = self.metrics
        ci = m.get("depeg_probability_ci95") or [float("nan")] * 2
        return (f"<sim.Result {self.scenario.name}: {m.get('runs')} runs x {m.get('horizon_hours', 0):,.0f} h, seed "
                f"{self.manifest.get('seed')}, depeg probability {m.get('depeg_probability', float('nan')):.3f} "
                f"[{ci[0]:.3f}, {ci[1]:.3f}], insolvency {m.get('insolvency_probability', float('nan')):.3f}>")

    def _repr_html_(self) -> str:
        from sim.report.notebook import result_html

        return result_html(self)

    @property
    def frame(self) -> "pd.DataFrame":
        """One row per run x timestep (run-major from memory; as written, (timestep, run), from a stream)."""
        if self._frame is None:
            if self.stream is not None:
                from sim.parquet import read_frame

                self._frame = read_frame(self.stream.path if self.stream.path.exists() else self.stream.tmp)
            else:
                self._frame = self.trajectory.to_frame()
        return self._frame

    def write(self, out_dir: str | Path, report: bool = True) -> Path:
        """Write the run directory whole: `out_dir` ends as the previous result or this one, never a
        mix (`sim.atomic.commit_dir`); a second writer on the same directory is refused."""
        with OutputDir(out_dir) as od:
            self.write_into(od.stage(), report=report)
            od.commit()
        self.committed_to(od.path)
        return Path(out_dir)

    def committed_to(self, out: Path) -> None:
        """The staging directory became `out`: the streamed file now lives there."""
        if self.stream is not None:
            self.stream.path = Path(out) / "trajectories.parquet"

    def write_into(self, stage: str | Path, report: bool = True) -> Path:
        """Write the files into `stage`, a staging directory the caller commits (as `tripod run` does
        with the directory it streamed the trajectories into)."""
        from sim.report import render

        stage = Path(stage)
        target = stage / "trajectories.parquet"
        self.manifest.setdefault("null_metrics", null_paths(self.metrics))
        # The Parquet encoder runs without the GIL, so the report is drawn meanwhile on this thread.
        # pyarrow imports pandas on its first table; imported here first, or plotly on this thread can meet
        # the half-imported module (AttributeError: partially initialized module 'pandas').
        import pandas  # noqa: F401
        with ThreadPoolExecutor(max_workers=1) as pool:
            if self.stream is not None:
                parquet = pool.submit(self.stream.commit, target)
            else:
                parquet = pool.submit(write_parquet, target, self.trajectory.row_blocks())
            (stage / "metrics.json").write_text(dump_json(self.metrics))
            (stage / "scenario.json").write_text(self.scenario.model_dump_json(indent=2) + "\n")
            if report:
                (stage / "report.html").write_text(render(self.trajectory, self.metrics, self.manifest, self.scenario))
            parquet.result()
        (stage / "manifest.json").write_text(dump_json(self.manifest))
        return stage


def dump_json(obj) -> str:
    """Strict JSON text for results: numpy scalars and dates become plain values, and a value that is
    not a finite number (NaN: undefined, e.g. no depeg episode ended; inf) becomes null, because
    strict parsers refuse the NaN and Infinity tokens."""
    return json.dumps(_finite(obj), indent=2, default=_json_default, allow_nan=False) + "\n"


def _finite(o):
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite(v) for v in o]
    if hasattr(o, "item") and getattr(o, "ndim", 0) == 0:
        o = o.item()
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return o


def null_paths(obj, prefix: str = "") -> list[str]:
    """Dotted keys whose value `dump_json` writes as null (not a finite number), for the manifest."""
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in null_paths(v, f"{prefix}{k}.")]
    if isinstance(obj, (list, tuple)):
        return [p for i, v in enumerate(obj) for p in null_paths(v, f"{prefix}{i}.")]
    v = obj.item() if hasattr(obj, "item") and getattr(obj, "ndim", 0) == 0 else obj
    return [prefix.rstrip(".")] if v is None or (isinstance(v, float) and not math.isfinite(v)) else []


def _json_default(o):
    if hasattr(o, "item"):
        return _finite(o.item())
    if hasattr(o, "tolist"):
        return _finite(o.tolist())
    if hasattr(o, "isoformat"):
        return o.isoformat()
    raise TypeError(f"not JSON serialisable: {type(o)}")


def command_line() -> str:
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
