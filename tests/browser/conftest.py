"""Browser tests: Debian's chromium driven by Playwright (Playwright's own browser download cannot work
here; scripts/setup.sh installs chromium). Every page is opened as a reader would, offline: any request
that leaves this machine fails the test."""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.dashboard.app import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
TRIPOD = shutil.which("tripod", path=str(Path(sys.executable).parent)) or "tripod"


def tripod(*args, **kw):
    return subprocess.run([TRIPOD, *map(str, args)], capture_output=True, text=True, timeout=900,
                          env={**os.environ, "CI": "1"}, **kw)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: run ./scripts/setup.sh (it installs Debian's chromium)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A page that records script errors and refuses any request off this machine."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.errors, pg.external = [], []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))

    def gate(route):
        url = route.request.url
        if url.startswith(("file://", "data:", "http://127.0.0.1", "http://localhost", "blob:")):
            return route.continue_()
        pg.external.append(url)
        return route.abort()

    pg.route("**/*", gate)
    yield pg
    ctx.close()


@pytest.fixture(scope="session")
def results(tmp_path_factory):
    """A run, a sweep and a compare, small, written by the CLI."""
    root = Path(__file__).resolve().parents[2]
    d = tmp_path_factory.mktemp("results")
    r = tripod("run", "btc-crash", "--runs", 8, "--seed", 4, "--set", "horizon_hours=168", "--out", d / "crash")
    assert r.returncode == 0, r.stderr
    r = tripod("run", "venue-failure", "--runs", 4, "--seed", 4, "--set", "horizon_hours=96", "--out", d / "venue")
    assert r.returncode == 0, r.stderr
    sweep = d / "sweep.yaml"
    sweep.write_text(f"""name: browser-sweep
base: {root / 'scenarios' / 'btc-crash.yaml'}
parameters:
  - {{path: protocol.reserve.initial_usd, values: [0, 5000000, 20000000]}}
  - {{path: protocol.weights.btc, values: [0.2, 0.4], balance: protocol.weights.tbill}}
runs_per_point: 6
run_batch: 6
seed: 2
horizon_hours: 96
target: {{metric: reserve_depletion_probability, max: 0.05}}
""")
    r = tripod("sweep", sweep, "--out", d / "sweep", "--workers", 1)
    assert r.returncode == 0, r.stderr
    r = tripod("compare", "btc-crash", "venue-failure", "--runs", 6, "--set", "horizon_hours=96", "--out", d / "cmp")
    assert r.returncode == 0, r.stderr
    return d


@pytest.fixture
def dashboard(results):
    """`tripod dashboard` in its own process group on a free port; stopped with SIGTERM by the test."""
    import urllib.request

    port = free_port()
    proc = subprocess.Popen([TRIPOD, "dashboard", str(results), "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                break
        except OSError:
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.25)
    else:
        proc.kill()
        pytest.fail("the dashboard never answered")
    yield proc, url, port
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)
