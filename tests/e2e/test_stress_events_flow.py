"""End-to-end: `tripod experiment stress-events` as a user runs it - the history table, its JSON and HTML."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim.config import load_scenario
from sim.experiments import stress_events as se

TRIPOD = shutil.which("tripod", path=str(Path(sys.executable).parent)) or "tripod"
EVENTS = ("usdt-2022-05", "usdr-2023-10", "steth-2022-06", "gho-2023", "fdusd-2025-04", "usde-2024-08", "dai-2020-03")


def test_every_event_file__validates_and_has_a_fact_with_a_band(root):
    files = se.event_files()
    assert {f.stem for f in files} == set(EVENTS)
    for f in files:
        r = subprocess.run([TRIPOD, "validate", str(f)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        sc = load_scenario(f)
        se.check_facts(sc, str(f))  # every figure named exists for this scenario
        assert sc.market.source == "historical"
        banded = [v for v in sc.validation if v.metric != se.NOT_MODELLED and v.low < v.high]
        assert banded, f.name
        assert all(v.source.strip() and v.mapping.strip() for v in sc.validation), f.name


@pytest.mark.slow
def test_stress_events__few_runs__prints_and_writes_the_table(tmp_path):
    out = tmp_path / "se"
    r = subprocess.run([TRIPOD, "experiment", "stress-events", "--runs", "2", "--seed", "3", "--out", str(out)],
                       capture_output=True, text=True, timeout=1500, env={**os.environ, "CI": "1"})
    assert r.returncode == 0, r.stderr
    res = json.loads((out / "stress_events.json").read_text())
    facts = sum(len(load_scenario(f).validation) for f in se.event_files())
    assert len(res["rows"]) == facts and len(res["events"]) == len(EVENTS)
    for m in res["events"]:
        assert m["runs"] == 2 and m["seed"] == 3 and len(m["config_hash"]) == 16
    for row in res["rows"]:
        assert row["within"].split()[0] in ("yes", "no")
        assert row["within_tolerance"] == row["within"].startswith("yes")
        if row["metric"] == se.NOT_MODELLED:
            assert row["model_median"] is None and not row["within_tolerance"]
        elif row["model_median"] is not None:
            assert row["model_p5"] <= row["model_median"] <= row["model_p95"]
            assert row["within_tolerance"] == (row["low"] <= row["model_median"] <= row["high"])
    assert res["within"] == sum(r["within_tolerance"] for r in res["rows"])
    # the printed table: one line per fact under a header naming the columns, seeds and runs printed
    lines = r.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if "fact" in line and "model median [5-95 %]" in line)
    assert "within" in lines[header] and "band" in lines[header] and "observed" in lines[header]
    assert sum(1 for line in lines[header + 2:header + 2 + facts] if line.startswith("| ")) == facts
    assert "runs, seed 3" in r.stdout and "mapping notes:" in r.stdout
    html = (out / "report.html").read_text()
    assert "Validation against history" in html and "http://" not in html and "https://" not in html
    assert html.count("<tr>") == facts + 1


def test_stress_events__bad_arguments__one_clear_line():
    for args, word in ((["--events", "nope"], "--events"), (["--runs", "0"], "--runs"), (["--seed", "-1"], "seed")):
        r = subprocess.run([TRIPOD, "experiment", "stress-events", *args], capture_output=True, text=True)
        assert r.returncode == 2 and word in r.stderr and "Traceback" not in r.stderr
