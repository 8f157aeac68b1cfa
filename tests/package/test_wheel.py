"""Package, end to end: the wheel works outside this checkout, as a user installs it.

1. `pip wheel --no-deps .` from a copy of the checkout (the checkout is not touched);
2. a fresh venv gets `tripod[chain]` (pins from requirements.lock); a new Ape project in a temporary folder
   (its own ape-config.yaml, no contracts) runs a test that uses the stress kit's fixtures
   (tripod_node_a, tripod_simulate, tripod_replay, stress) against a replay: it must pass. Only anvil is
   borrowed from the checkout (node_modules/.bin on PATH); Ape's data folder is the project's own;
3. another fresh venv gets the plain wheel: no Ape, `import sim` works, `tripod run baseline` works.
pip installs from PyPI through its cache (a re-run takes ~2-4 min). Slow: CI runs it.
"""
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

USER_TEST = '''"""A user's own Ape suite, outside the Tripod checkout, with the stress kit of the installed package."""
import sim
from sim.chain.compare import assert_rounding_only


def test_kit__btc_crash_replayed_in_my_project__agrees_to_rounding(tripod_node_a, tripod_simulate, tripod_replay, stress):
    assert "site-packages" in sim.__file__, sim.__file__  # the installed package, not a checkout
    run_dir = tripod_simulate("btc-crash")

    def check(res):
        kit = stress(res)
        return kit.backing_ratio(), kit.bank_run(0.001, hours=1)  # holders redeem 0.1 % within the cap

    res, (ratio, refused) = tripod_replay(run_dir, steps=3, check=check)
    assert_rounding_only(res)
    assert res.summary["revert_count"] == 0 and refused == []
    assert 0.9 < ratio < 1.5
    assert res.summary["deployment"]["spec_on_chain"] == "matches"
    assert (run_dir / "chain_deployment.json").is_file()
'''


def _run(cmd, cwd, env, timeout=900):
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def _clean_env(tmp: Path, path: list[str]) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "TRIPOD_ROOT", "SOLCX_BINARY_PATH", "MPLCONFIGDIR", "APE_DATA_FOLDER")}
    return {**env, "PATH": os.pathsep.join(path + ["/usr/local/bin", "/usr/bin", "/bin"]), "MPLBACKEND": "Agg",
            "APE_DATA_FOLDER": str(tmp / "ape-data")}


def _checkout_copy(dest: Path) -> None:
    skip = {".venv", "venv", "node_modules", "out", "build", "dist", ".cache", ".hypothesis", ".ape", ".solcx", ".deps", ".build"}

    def keep(info: tarfile.TarInfo):
        parts = Path(info.name).parts
        if len(parts) > 1 and parts[1] in skip or "__pycache__" in parts or info.name.endswith(".egg-info"):
            return None
        return info

    archive = dest.with_suffix(".tar")
    with tarfile.open(archive, "w") as t:
        t.add(ROOT, arcname="src", filter=keep)
    with tarfile.open(archive) as t:
        t.extractall(dest.parent, filter="data")
    (dest.parent / "src").rename(dest)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    _checkout_copy(tmp / "checkout")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", ".", "-w", str(tmp / "dist"), "-q"], tmp / "checkout", dict(os.environ))
    (whl,) = (tmp / "dist").glob("tripod-*.whl")
    return whl


def _venv(path: Path) -> Path:
    python = shutil.which("python3.11") or sys.executable
    subprocess.run([python, "-m", "venv", str(path)], check=True, capture_output=True)
    return path / "bin"


def test_wheel__metadata__plain_simulator_and_a_chain_extra(wheel):
    z = zipfile.ZipFile(wheel)
    meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
    lines = z.read(meta).decode().splitlines()
    requires = [ln for ln in lines if ln.startswith("Requires-Dist:")]
    assert "Provides-Extra: chain" in lines
    assert not [r for r in requires if "eth-ape" in r and "extra ==" not in r], requires  # Ape only behind the extra
    names = z.namelist()
    assert "sim/chain/contracts.json" in names and "sim/scenarios/btc-crash.yaml" in names
    assert not [n for n in names if n.startswith(("scripts/", "tests/", "contracts/"))]


def test_wheel__stress_kit_in_a_users_own_ape_project__replays_to_rounding(wheel, tmp_path):
    bin_ = _venv(tmp_path / "venv")
    env = _clean_env(tmp_path, [str(bin_), str(ROOT / "node_modules" / ".bin")])
    _run([bin_ / "pip", "install", "-q", "-c", ROOT / "requirements.lock", f"{wheel}[chain]"], tmp_path, env)
    project = tmp_path / "my-ape-project"
    (project / "tests").mkdir(parents=True)
    (project / "ape-config.yaml").write_text("name: tripod-kit-user\n")
    (project / "tests" / "test_kit.py").write_text(USER_TEST)
    r = _run([bin_ / "ape", "test", "tests", "-q", "-p", "no:cacheprovider"], project, env, timeout=600)
    assert "1 passed" in r.stdout, r.stdout[-2000:]


def test_wheel__plain_install__simulates_without_ape(wheel, tmp_path):
    bin_ = _venv(tmp_path / "venv")
    env = _clean_env(tmp_path, [str(bin_)])
    _run([bin_ / "pip", "install", "-q", "-c", ROOT / "requirements.lock", str(wheel)], tmp_path, env)
    assert subprocess.run([bin_ / "python", "-c", "import ape"], env=env, capture_output=True).returncode != 0
    _run([bin_ / "python", "-c", "import sim, sim.chain.spec, sim.chain.evm"], tmp_path, env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _run([bin_ / "tripod", "run", "baseline", "--runs", "2", "--out", str(tmp_path / "out")], elsewhere, env, timeout=600)
    assert (tmp_path / "out" / "metrics.json").is_file()
