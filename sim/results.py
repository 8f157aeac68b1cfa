"""Writing results: atomically (temp file + rename), with a manifest that makes them reproducible."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

VERSIONED_PACKAGES = ("tripod", "numpy", "numba", "pandas", "pydantic", "cadCAD", "pyarrow", "matplotlib")


def package_versions() -> dict:
    out = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit() -> str | None:
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                           cwd=Path(__file__).resolve().parent)
        return r.stdout.strip() or None if r.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write to a temp file in the same directory, fsync, then rename over the target."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "w" if isinstance(data, str) else "wb"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_parquet(path: Path, frame) -> None:
    """Write a DataFrame, a dict of equal-length numpy columns (no pandas copy), or an iterator of
    such dicts (one row group each, so only one block is ever held), atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        if isinstance(frame, dict):
            pq.write_table(pa.table(frame), tmp, use_dictionary=False)  # float columns: dictionaries only cost time
        elif not hasattr(frame, "to_parquet"):
            writer = None
            try:
                for block in frame:
                    table = pa.table(block)
                    writer = writer or pq.ParquetWriter(tmp, table.schema, use_dictionary=False)
                    writer.write_table(table)
            finally:
                if writer is not None:
                    writer.close()
        else:
            frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
                path = self.stream.path if self.stream.path.exists() else self.stream.tmp
                import pandas as pd

                self._frame = pd.read_parquet(path)
            else:
                self._frame = self.trajectory.to_frame()
        return self._frame

    def write(self, out_dir: str | Path, report: bool = True) -> Path:
        from sim.report import render

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        target = out / "trajectories.parquet"
        # The Parquet encoder runs without the GIL, so the report is drawn meanwhile on this thread.
        with ThreadPoolExecutor(max_workers=1) as pool:
            if self.stream is not None:
                parquet = pool.submit(self.stream.commit, target)
            else:
                parquet = pool.submit(atomic_write_parquet, target, self.trajectory.row_blocks())
            atomic_write(out / "metrics.json", dump_json(self.metrics))
            atomic_write(out / "scenario.json", self.scenario.model_dump_json(indent=2) + "\n")
            if report:
                atomic_write(out / "report.html", render(self.trajectory, self.metrics, self.manifest, self.scenario))
            parquet.result()
        # the manifest goes last: its presence says the directory is complete
        atomic_write(out / "manifest.json", dump_json(self.manifest))
        return out


def dump_json(obj) -> str:
    """JSON text for results: numpy scalars and dates become plain values."""
    return json.dumps(obj, indent=2, default=_json_default) + "\n"


def _json_default(o):
    if hasattr(o, "item"):
        return o.item()
    if hasattr(o, "isoformat"):
        return o.isoformat()
    raise TypeError(f"not JSON serialisable: {type(o)}")


def command_line() -> str:
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
