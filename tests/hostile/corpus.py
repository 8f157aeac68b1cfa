"""Running the hostile-input corpus (`expected.yaml`, written by make_corpus.py): building each case's
command line and judging its outcome. Used by test_corpus.py (in CI) and survey.py (figures)."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
CASES_DIR = HERE / "cases"
READ_ONLY_AS_ROOT = "/sys/tripod-hostile-corpus"  # root writes through chmod; /sys refuses even root


def load_cases() -> list[dict]:
    return yaml.safe_load((HERE / "expected.yaml").read_text())


def case_id(i: int, c: dict) -> str:
    return f"{i:03d}-{c['command']}-{Path(c['file'] or c.get('make') or 'args').name}"


def argv(c: dict, tmp: Path) -> list[str]:
    """The command line of case `c`, with what it needs built in `tmp` (a fresh folder)."""
    make, file = c.get("make"), c["file"]
    if make == "fifo":
        os.mkfifo(tmp / "fifo.yaml")
        file = str(tmp / "fifo.yaml")
    elif make == "large":
        (tmp / "large.yaml").write_text("name: large\n" + "# padding\n" * 220_000)  # 2.2 MB of comments
        file = str(tmp / "large.yaml")
    elif make == "afile":
        (tmp / "afile").write_text("not a folder\n")
    elif make == "notours":
        (tmp / "notours").mkdir()
        (tmp / "notours" / "thesis.txt").write_text("someone's work\n")
    elif make == "readonly":
        (tmp / "ro").mkdir()
        (tmp / "ro").chmod(0o555)
    elif make == "parts-only":
        (tmp / "parts-only" / "parts").mkdir(parents=True)
        (tmp / "parts-only" / "parts" / "point-00000_runs-0000000-0000002.parquet").write_bytes(b"PAR1 from elsewhere")
    elif make == "bad-meta":
        (tmp / "bad-meta").mkdir()
        (tmp / "bad-meta" / "sweep.json").write_text("{oops")
    elif make == "other-sweep":
        (tmp / "other-sweep").mkdir()
        (tmp / "other-sweep" / "sweep.json").write_text('{"name": "another", "config_hash": "0123456789abcdef"}')
    elif make == "copy-run-dir":
        shutil.copytree(CASES_DIR / file, tmp / Path(file).name)
        file = str(tmp / Path(file).name)
    if file and make not in ("fifo", "large", "copy-run-dir") and not file.startswith("/"):
        file = str(CASES_DIR / file)
    subs = {"{tmp}": str(tmp), "{cases}": str(CASES_DIR)}
    args = []
    for a in c["args"]:
        for k, v in subs.items():
            a = a.replace(k, v)
        if make == "readonly" and os.geteuid() == 0:
            a = a.replace(f"{tmp}/ro", READ_ONLY_AS_ROOT)
        args.append(a)
    return [c["command"], *([file] if file else []), *args]


@dataclass
class Outcome:
    code: int | None  # None: did not end (hang)
    stderr: str
    crashed: str = ""  # "traceback", "memory", "hang", "signal N"


def judge(c: dict, o: Outcome, tmp: Path) -> str:
    """'' when the outcome is what the case expects, else what is wrong."""
    if o.crashed:
        return o.crashed
    if "Traceback" in o.stderr:
        return "traceback"
    if c["outcome"] == "accepted":
        return "" if o.code == 0 else f"refused (exit {o.code}): {o.stderr.strip()[-200:]}"
    if o.code == 0:
        return "accepted nonsense (exit 0)"
    lines = [ln for ln in o.stderr.splitlines() if ln.strip()]
    if o.code != 2:
        return f"exit {o.code}: {lines[-1][:200] if lines else ''}"
    if not 1 <= len(lines) <= 2:  # ours: one line; argparse's: usage + one line
        return f"{len(lines)} lines on stderr"
    # a field must be named by the message itself, not found inside the case's own file name
    body, own = o.stderr, set()
    if c["file"]:
        own = {c["file"], Path(c["file"]).name}
        for path in sorted({str(CASES_DIR / c["file"]), c["file"]}, key=len, reverse=True):
            body = body.replace(path, "<file>")
    missing = [n for n in c["names"] if n not in (o.stderr if n in own else body)]
    if missing:
        return f"does not name {missing}: {lines[-1][:200]}"
    partial = [p for p in ("o", "s", "e", "w", "sr", "r") if (tmp / p).exists() and any((tmp / p).iterdir())]
    if partial:
        return f"left output in {partial}"
    return ""
