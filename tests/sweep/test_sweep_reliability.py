"""End-to-end: a sweep resumed over a truncated or foreign part names it and redoes that chunk; a folder
with parts but no sweep.json is refused; a second sweep on the same folder is refused while the first
runs; the outputs are committed whole (no staging left, parts carried over)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sim.atomic import OutputDir
from sim.parquet import read_frame

TRIPOD = shutil.which("tripod", path=str(Path(sys.executable).parent)) or "tripod"
SWEEP = {"name": "rel", "base": "bank-run", "runs_per_point": 4, "run_batch": 2, "horizon_hours": 72, "seed": 2,
         "parameters": [{"path": "protocol.fees.redeem_fee_bps", "values": [0, 40]}]}


def tripod(*args):
    return subprocess.run([TRIPOD, *map(str, args)], capture_output=True, text=True, timeout=900,
                          env={**os.environ, "CI": "1"})


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    d = tmp_path_factory.mktemp("rel")
    (d / "rel.yaml").write_text(yaml.safe_dump(SWEEP))
    r = tripod("sweep", d / "rel.yaml", "--out", d / "out", "--workers", 1)
    assert r.returncode == 0, r.stderr
    return d


@pytest.mark.slow
def test_sweep__outputs_committed_whole(done):
    out = done / "out"
    assert {p.name for p in out.iterdir()} == {"parts", "sweep.json", "results.parquet", "summary.csv", "report.html",
                                                "manifest.json"}
    assert len(list((out / "parts").glob("*.parquet"))) == 4
    assert [n for n in os.listdir(done) if n.startswith(".out.") and "lock" not in n] == []


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncated", "foreign"])
def test_resume__over_a_bad_part__names_it_and_redoes_that_chunk(done, tmp_path, damage):
    out = tmp_path / "out"
    shutil.copytree(done / "out", out)
    part = sorted((out / "parts").glob("*.parquet"))[1]
    if damage == "truncated":
        part.write_bytes(part.read_bytes()[:100])  # a writer killed without the atomic rename, or a broken copy
    else:
        shutil.copy(sorted((out / "parts").glob("*.parquet"))[0], part)  # another chunk's rows
    r = tripod("sweep", done / "rel.yaml", "--out", out, "--workers", 1)
    assert r.returncode == 0, r.stderr
    assert part.name in r.stderr and "redoing that chunk" in r.stderr and "Traceback" not in r.stderr
    assert "1 of 4 chunks run now" in r.stdout
    assert read_frame(out / "results.parquet").equals(read_frame(done / "out" / "results.parquet"))


def test_folder_with_parts_but_no_sweep_json__refused(done, tmp_path):
    out = tmp_path / "out"
    (out / "parts").mkdir(parents=True)
    shutil.copy(next((done / "out" / "parts").glob("*.parquet")), out / "parts")
    r = tripod("sweep", done / "rel.yaml", "--out", out, "--workers", 1)
    assert r.returncode == 2 and "sweep.json" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in out.rglob("*")) == ["parts", next((done / "out" / "parts").glob("*.parquet")).name]


def test_second_sweep_on_the_same_folder__refused(done, tmp_path):
    out = tmp_path / "out"
    with OutputDir(out, markers=("sweep.json", "manifest.json")):
        r = tripod("sweep", done / "rel.yaml", "--out", out, "--workers", 1)
    assert r.returncode == 2 and "another tripod command" in r.stderr


def test_workers_zero_or_negative__refused(done, tmp_path):
    for n in (0, -2):
        r = tripod("sweep", done / "rel.yaml", "--out", tmp_path / "o", "--workers", n)
        assert r.returncode == 2 and "--workers" in r.stderr and not (tmp_path / "o").exists()
