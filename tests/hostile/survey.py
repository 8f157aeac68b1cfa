"""The corpus figures: every case in a fresh process (`python -m sim.cli ...`) against a checkout, under
a time and memory limit, each outcome classified. Not a test (it takes minutes); the README and the
issue note quote its output.

    python tests/hostile/survey.py                      # this checkout
    python tests/hostile/survey.py --checkout /tmp/old  # another one (e.g. main before this work)

Classes: clean (the expected outcome), traceback, hang (no end within --timeout), memory (a
MemoryError under the memory limit, or killed), accepted nonsense (exit 0 on a refused case),
unclear (refused, but not with exit 2 and one line naming the file and the field), refused valid.
"""
from __future__ import annotations

import argparse
import collections
import os
import resource
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from hostile.corpus import Outcome, argv, judge, load_cases  # noqa: E402


def classify(c: dict, o: Outcome, problem: str) -> str:
    if not problem:
        return "clean"
    if o.crashed == "hang":
        return "hang"
    if "MemoryError" in o.stderr or o.crashed.startswith("signal 9") or "memory" in o.crashed:
        return "memory"
    if "Traceback" in o.stderr or o.crashed:
        return "traceback"
    if c["outcome"] == "accepted":
        return "refused valid"
    return "accepted nonsense" if o.code == 0 else "unclear"


def run(c: dict, checkout: Path, timeout: float, mem_gb: float) -> tuple[dict, str, str]:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        args = argv(c, tmp)

        def limits():
            resource.setrlimit(resource.RLIMIT_AS, (int(mem_gb * 2**30), int(mem_gb * 2**30)))
            os.setsid()

        env = {**os.environ, "PYTHONPATH": str(checkout), "CI": "1"}
        p = subprocess.Popen([sys.executable, "-m", "sim.cli", *args], cwd=tmp, env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
                             preexec_fn=limits)
        try:
            _out, err = p.communicate(timeout=timeout)
            o = Outcome(p.returncode, err, "" if p.returncode >= 0 else f"signal {-p.returncode}")
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
            p.communicate()
            o = Outcome(None, "", "hang")
        problem = judge(c, o, tmp)
        return c, classify(c, o, problem), problem


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkout", default=str(Path(__file__).resolve().parents[2]))
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--memory-gb", type=float, default=4.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--show", default="", help="comma-separated classes whose cases to list")
    a = ap.parse_args()
    cases = load_cases()
    with ThreadPoolExecutor(a.jobs) as pool:
        results = list(pool.map(lambda c: run(c, Path(a.checkout), a.timeout, a.memory_gb), cases))
    counts = collections.Counter(k for _, k, _ in results)
    files = len({c["file"] for c in cases if c["file"]})
    print(f"{a.checkout}: {len(cases)} cases ({files} distinct files): " +
          ", ".join(f"{n} {k}" for k, n in counts.most_common()))
    show = set(filter(None, a.show.split(",")))
    for c, k, problem in results:
        if k in show:
            print(f"  [{k}] {c['command']} {c['file'] or ''} {' '.join(c['args'])[:60]}: {problem[:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
