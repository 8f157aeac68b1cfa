"""`tripod replay` end to end: a run directory replayed on a fork it starts and stops; user errors."""
import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.fork


def _tripod(*args):
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], capture_output=True, text=True, timeout=300)


def test_replay_cli_writes_the_comparison(simulate, tmp_path):
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(simulate("btc-crash"), run_dir)
    r = _tripod("replay", str(run_dir), "--steps", "4")
    assert r.returncode == 0, r.stderr
    assert "pool_price" in r.stdout and "reverts:" in r.stdout
    summary = json.loads((run_dir / "chain_replay.json").read_text())
    assert summary["steps"] == 4 and summary["divergence"]["pool_price"]["max_rel"] < 1e-12
    assert (run_dir / "chain_replay.parquet").stat().st_size > 0
    assert not list(run_dir.glob("*.tmp"))


@pytest.mark.parametrize("args", [["replay", "no-such-thing"], ["replay", "{run}", "--run", "7"],
                                  ["replay", "{run}", "--network", "ethereum:nowhere:x", "--steps", "1"]])
def test_replay_cli_user_errors_are_one_line(simulate, args):
    run_dir = str(simulate("btc-crash"))
    r = _tripod(*[a.format(run=run_dir) for a in args])
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in r.stderr
