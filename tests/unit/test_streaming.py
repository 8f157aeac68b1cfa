"""Unit: trajectories streamed to Parquet during a run (sim.streaming) are the file an in-memory run
writes, a failed run leaves no file behind, and the run-chunked writers keep the same rows."""
import numpy as np
import pandas as pd
import pytest

import sim
from sim.runner import run
from sim.parquet import read_frame


@pytest.fixture
def small(root):
    # 600 steps: more than two stream blocks (256) and a partial last one
    return sim.load_scenario(root / "scenarios" / "btc-crash.yaml").with_overrides(horizon_hours=600, runs=5, seed=4)


def test_stream__same_rows_as_in_memory_write(small, tmp_path):
    streamed = run(small, record="trajectory", stream_to=tmp_path / "s")
    streamed.write(tmp_path / "s")
    held = run(small, record="trajectory")
    held.write(tmp_path / "m")
    a = read_frame(tmp_path / "s" / "trajectories.parquet")
    b = read_frame(tmp_path / "m" / "trajectories.parquet")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert len(a) == 5 * 601 and list(a["timestep"][:5]) == [0] * 5  # (timestep, run) order
    # the figures and the report's series do not depend on how the trajectory was kept
    assert streamed.metrics == held.metrics
    assert not list((tmp_path / "s").glob(".*.tmp"))
    # the streamed result's frame is the file
    assert streamed.frame.equals(a)


def test_stream__failing_run__no_file_left(small, tmp_path, monkeypatch):
    from sim.model.parts import trading

    calls = {"n": 0}
    real = trading.p_trading

    def breaks_at_step_300(p, s, x):
        calls["n"] += 1
        if calls["n"] == 300:
            raise RuntimeError("boom")
        return real(p, s, x)

    from sim.model import psubs

    block = next(b for b in psubs.PSUBS if b["label"] == "trading")
    monkeypatch.setitem(block, "policy", breaks_at_step_300)
    with pytest.raises(RuntimeError, match="boom"):
        run(small, record="trajectory", stream_to=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_row_blocks__cover_every_row_once(small):
    res = run(small, record="metrics")
    blocks = list(res.trajectory.row_blocks(block_steps=256))
    assert [len(b["run"]) for b in blocks] == [256 * 5, 256 * 5, 89 * 5]
    ts = np.concatenate([b["timestep"] for b in blocks])
    assert np.array_equal(np.bincount(ts), np.full(601, 5))
