"""Unit and CLI: output directories are committed whole (sim.atomic). The old complete result or the
new one, never a mix; what killed commands leave beside a directory is cleared by the next; a second
writer is refused with one line; files follow the umask; the CLI tells the truth on Ctrl-C; the
manifest says whether the code differed from its commit."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim import atomic
from sim.atomic import OutputDir, OutputDirError, commit_dir

TRIPOD = [sys.executable, "-m", "sim.cli"]


def _result(d: Path, tag: str) -> None:
    d.mkdir(parents=True, exist_ok=True)
    for name in ("a.txt", "b.txt", "manifest.json"):
        (d / name).write_text(f"{tag} {name}\n")


def _contents(d: Path) -> dict:
    return {p.name: p.read_text() for p in d.iterdir()}


def _beside(d: Path) -> list[str]:
    """What is left beside `d` (a finished command leaves nothing: its lock file goes too)."""
    return sorted(n for n in os.listdir(d.parent) if n != d.name)


def test_commit__replaces_the_whole_directory(tmp_path):
    d = tmp_path / "D"
    _result(d, "old")
    (d / "old-only.txt").write_text("x")
    with commit_dir(d) as stage:
        _result(stage, "new")
    assert _contents(d) == {n: f"new {n}\n" for n in ("a.txt", "b.txt", "manifest.json")}
    assert _beside(d) == []


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_commit__error_or_ctrl_c_midway__old_result_untouched_and_no_staging_left(tmp_path, exc):
    d = tmp_path / "D"
    _result(d, "old")
    with pytest.raises(type(exc)):
        with commit_dir(d) as stage:
            (stage / "a.txt").write_text("new a\n")
            raise exc
    assert _contents(d) == {n: f"old {n}\n" for n in ("a.txt", "b.txt", "manifest.json")}
    assert _beside(d) == []
    assert "left as it was" in atomic.interruption_report()


def test_commit__without_renameat2__two_renames_and_a_kill_between_is_repaired(tmp_path, monkeypatch):
    d = tmp_path / "D"
    _result(d, "old")
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    with commit_dir(d) as stage:
        _result(stage, "new")
    assert _contents(d)["a.txt"] == "new a.txt\n" and _beside(d) == []
    # a kill between the two renames leaves only .D.old-*: the next command puts it back first
    os.rename(d, tmp_path / ".D.old-123-0000dead")
    with OutputDir(d) as od:
        assert _contents(d)["a.txt"] == "new a.txt\n"
        assert od.path == d.resolve()
    assert _beside(d) == []


def test_stale_staging_from_a_killed_command__removed_by_the_next(tmp_path):
    d = tmp_path / "D"
    _result(d, "old")
    stale = tmp_path / ".D.stage-99999-deadbeef"
    stale.mkdir()
    (stale / "trajectories.parquet").write_bytes(b"x" * 1000)
    with commit_dir(d) as stage:
        _result(stage, "new")
    assert not stale.exists() and _beside(d) == []


def test_kill_9_while_writing__old_result_intact__next_command_cleans(tmp_path):
    d = tmp_path / "D"
    _result(d, "old")
    code = ("import sys, time; from sim.atomic import commit_dir\n"
            f"with commit_dir({str(d)!r}) as s:\n"
            "    (s / 'a.txt').write_text('new'); print('writing', flush=True); time.sleep(60)\n")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "writing"
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert _contents(d)["a.txt"] == "old a.txt\n"
    assert _beside(d) != []  # the killed command's staging directory
    with commit_dir(d) as stage:
        _result(stage, "new")
    assert _beside(d) == [] and _contents(d)["a.txt"] == "new a.txt\n"


def test_second_writer__refused_with_one_line_naming_the_holder(tmp_path):
    d = tmp_path / "D"
    with OutputDir(d):
        with pytest.raises(OutputDirError) as ei:
            with OutputDir(d):
                pass
    assert f"pid {os.getpid()}" in ei.value.lines[0] and "another tripod command" in ei.value.lines[0]
    with OutputDir(d):  # released
        pass


def test_second_writer_through_the_cli__exit_2_one_line(tmp_path):
    d = tmp_path / "D"
    with OutputDir(d):
        r = subprocess.run([*TRIPOD, "run", "btc-crash", "--runs", "2", "--out", str(d)], capture_output=True, text=True)
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "another tripod command" in lines[0] and "Traceback" not in r.stderr
    assert not d.exists()


def test_lock_file_removed_on_release__a_writer_holding_the_old_file_does_not_count(tmp_path):
    import fcntl

    d = tmp_path / "D"
    od = OutputDir(d).__enter__()
    stale = os.open(od._lock_path, os.O_RDWR)  # opened just before the holder finished
    od.__exit__(None, None, None)
    assert not od._lock_path.exists()
    fcntl.flock(stale, fcntl.LOCK_EX | fcntl.LOCK_NB)  # it gets a lock, but on a file no longer there
    try:
        with OutputDir(d) as again:  # the next writer locks the file that is there now
            assert os.fstat(again._lock_fd).st_ino != os.fstat(stale).st_ino
    finally:
        os.close(stale)


@pytest.mark.parametrize("kind", ["file", "not ours"])
def test_out_that_is_a_file_or_someone_elses_folder__refused_untouched(tmp_path, kind):
    d = tmp_path / "D"
    if kind == "file":
        d.write_text("keep me")
    else:
        d.mkdir()
        (d / "thesis.tex").write_text("keep me")
    with pytest.raises(OutputDirError) as ei:
        with commit_dir(d):
            pass
    assert "--out" in ei.value.lines[0]
    assert (d.read_text() if kind == "file" else (d / "thesis.tex").read_text()) == "keep me"


def test_files_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        with commit_dir(tmp_path / "D") as stage:
            (stage / "manifest.json").write_text("{}")
        atomic.atomic_write(tmp_path / "single.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "D" / "manifest.json").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "D").stat().st_mode & 0o777 == 0o750
    assert (tmp_path / "single.txt").stat().st_mode & 0o777 == 0o640


def test_run_written_under_umask_022__every_file_0644(tmp_path):
    r = subprocess.run(["sh", "-c", f"umask 022 && {sys.executable} -m sim.cli run btc-crash --runs 2 --out {tmp_path}/r"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in (tmp_path / "r").iterdir()}
    assert set(modes.values()) == {"0o644"}, modes
    assert set(modes) == {"trajectories.parquet", "metrics.json", "scenario.json", "report.html", "manifest.json"}


def test_ctrl_c_during_a_run__says_the_truth_and_leaves_the_old_result(tmp_path):
    d = tmp_path / "r"
    assert subprocess.run([*TRIPOD, "run", "btc-crash", "--runs", "2", "--out", str(d)], capture_output=True).returncode == 0
    before = {p.name: p.read_bytes() for p in d.iterdir()}
    p = subprocess.Popen([*TRIPOD, "run", "baseline", "--runs", "300", "--out", str(d)], stderr=subprocess.PIPE, text=True)
    time.sleep(4)  # imports done, simulating into the staging directory
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert "left as it was" in err and "nothing partial" not in err
    assert {p.name: p.read_bytes() for p in d.iterdir()} == before
    assert _beside(d) == []


def test_git_state__dirty_tree_and_its_hash(tmp_path):
    from sim.results import git_state

    git = ["git", "-C", str(tmp_path), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (tmp_path / "model.py").write_text("x = 1\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "c"], check=True)
    clean = git_state(tmp_path)
    assert clean["git_dirty"] is False and clean["git_diff_sha256"] is None and len(clean["git_commit"]) == 40
    (tmp_path / "model.py").write_text("x = 2\n")
    a = git_state(tmp_path)
    (tmp_path / "model.py").write_text("x = 3\n")
    b = git_state(tmp_path)
    assert a["git_dirty"] and b["git_dirty"] and a["git_diff_sha256"] != b["git_diff_sha256"]
    assert a["git_commit"] == b["git_commit"] == clean["git_commit"]
    (tmp_path / "model.py").write_text("x = 1\n")
    (tmp_path / "new.py").write_text("y = 1\n")  # an untracked file changes results too
    assert git_state(tmp_path)["git_dirty"]
    assert git_state(tmp_path.parent / "nowhere") == {"git_commit": None, "git_dirty": None, "git_diff_sha256": None}


def test_run_manifest__records_commit_dirty_flag_and_null_metrics(tmp_path):
    import json

    import sim

    sim.run("btc-crash", runs=2, seed=1).write(tmp_path / "r")
    m = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert {"git_commit", "git_dirty", "git_diff_sha256", "null_metrics"} <= set(m)
    text = (tmp_path / "r" / "metrics.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in metrics.json"))
