"""Hostile input, end to end: every case of the corpus (tests/hostile/expected.yaml, >= 150 files)
through the `tripod` command line. In process (fast) for every case, with a time limit each; a few
in fresh processes through the installed `tripod` to prove the exit codes and that no traceback,
hang or memory crash reaches the user. Refused cases must exit 2 with one line naming the file and
the field, and leave no output behind."""
from __future__ import annotations

import contextlib
import io
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hostile.corpus import CASES_DIR, Outcome, argv, case_id, judge, load_cases

CASES = load_cases()
TRIPOD = shutil.which("tripod", path=str(Path(sys.executable).parent)) or "tripod"
SECONDS_PER_CASE = 60


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang()


def run_in_process(args: list[str]) -> Outcome:
    from sim.cli import main

    err, out = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SECONDS_PER_CASE)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(args)
    except SystemExit as e:  # argparse
        code = e.code if isinstance(e.code, int) else 2
    except _Hang:
        return Outcome(None, err.getvalue(), "hang")
    except MemoryError:
        return Outcome(None, err.getvalue(), "memory")
    except BaseException as e:  # noqa: BLE001 - anything escaping main() would be a traceback for the user
        return Outcome(None, err.getvalue() + f"\nTraceback: {type(e).__name__}: {e}"[:2000], "traceback")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return Outcome(code, err.getvalue())


def test_corpus__is_large_and_every_case_has_an_outcome():
    files = [p for p in CASES_DIR.rglob("*") if p.is_file() and p.name != ".keep"]
    assert len(files) >= 150
    assert len(CASES) >= 150
    commands = {c["command"] for c in CASES}
    assert commands >= {"run", "validate", "sweep", "replay", "size-reserve", "stress-windows", "calibrate", "experiment"}
    for c in CASES:
        assert c["outcome"] in ("refused", "accepted")
        assert c["outcome"] == "accepted" or c["names"], c


@pytest.mark.parametrize("i", range(len(CASES)), ids=[case_id(i, c) for i, c in enumerate(CASES)])
def test_hostile_case(i, tmp_path, monkeypatch):
    c = CASES[i]
    monkeypatch.chdir(tmp_path)  # a default output folder (out/<name>) lands here, never in the checkout
    o = run_in_process(argv(c, tmp_path))
    problem = judge(c, o, tmp_path)
    assert not problem, f"{c}: {problem}\n{o.stderr[-1500:]}"


# one of each kind, through the installed command in a fresh process, under a memory limit
SUBPROCESS = ["enc-latin1.yaml", "bomb-runs.yaml", "/dev/zero", "dup-top.yaml", "size-runs-1e6-5y.yaml",
              "sweep-grid-1e8-points.yaml", "deep-flow-1000.yaml", "num-nan-protocol-initial_supply_usd.yaml"]
PICKED = [i for i, c in enumerate(CASES) if c["file"] in SUBPROCESS and c["command"] in ("run", "sweep")][:10]


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))


@pytest.mark.parametrize("i", PICKED, ids=[case_id(i, CASES[i]) for i in PICKED])
def test_hostile_case__in_a_fresh_process(i, tmp_path):
    c = CASES[i]
    try:
        r = subprocess.run([TRIPOD, *argv(c, tmp_path)], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                           preexec_fn=_limit_memory, env={"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
                                                          "CI": "1"})
        o = Outcome(r.returncode, r.stderr, "" if r.returncode >= 0 else f"signal {-r.returncode}")
    except subprocess.TimeoutExpired:
        o = Outcome(None, "", "hang")
    problem = judge(c, o, tmp_path)
    assert not problem, f"{c}: {problem}\n{o.stderr[-1500:]}"


def test_subprocess_cases_cover_run_and_sweep():
    assert {CASES[i]["command"] for i in PICKED} == {"run", "sweep"} and len(PICKED) >= 6
