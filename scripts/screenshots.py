"""The README's pictures, made from real outputs: run the commands the README shows, open the pages
in headless chromium (Debian's, driven by Playwright) and save screenshots to docs/.

    python scripts/screenshots.py            # ~3-5 minutes on 2 cores
    python scripts/screenshots.py --quick    # fewer runs, for a check that the script works

Writes docs/run-report.png, docs/sweep-report.png, docs/compare-report.png, docs/dashboard-run.png,
docs/dashboard-sweep.png; the results stay in out/screenshots/ (open them, or `tripod dashboard out/screenshots`).
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sim.dashboard.app import free_port

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
TRIPOD = shutil.which("tripod", path=str(Path(sys.executable).parent)) or "tripod"


def tripod(*args) -> None:
    print("$ tripod", " ".join(map(str, args)), flush=True)
    subprocess.run([TRIPOD, *map(str, args)], check=True, cwd=ROOT, env={**os.environ, "CI": "1"})


def make_results(out: Path, runs: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tripod("run", "btc-crash", "--runs", runs, "--seed", 7, "--out", out / "btc-crash")
    tripod("sweep", "reserve-vs-mix", "--out", out / "reserve-vs-mix")
    lean = out / "no-reserve.yaml"
    lean.write_text(f"include: [{ROOT / 'scenarios' / 'btc-crash.yaml'}]\nname: no-reserve\n"
                    "protocol: {reserve: {initial_usd: 0.0}}\n")
    tripod("compare", "btc-crash", lean, "--runs", runs, "--seed", 7, "--out", out / "compare")


def shoot(page, path: Path, height: int = 1500) -> None:
    page.wait_for_timeout(800)
    page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": 1280, "height": height})
    print("wrote", path.relative_to(ROOT), flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20 runs instead of 200")
    ap.add_argument("--out", default=str(ROOT / "out" / "screenshots"))
    ap.add_argument("--reuse", action="store_true", help="keep the results already in --out (only new pictures)")
    args = ap.parse_args()
    out = Path(args.out)
    if not (args.reuse and (out / "compare" / "compare.json").exists()):
        make_results(out, 20 if args.quick else 200)
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    port = free_port()
    dash = subprocess.Popen([TRIPOD, "dashboard", str(out), "--port", str(port)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto((out / "btc-crash" / "report.html").as_uri())
            page.wait_for_selector("#fan0 .main-svg")
            shoot(page, DOCS / "run-report.png", 1700)
            page.goto((out / "reserve-vs-mix" / "report.html").as_uri())
            page.wait_for_selector("#surf0 .main-svg")
            box = page.locator("#surf0 .nsewdrag").bounding_box()
            page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
            shoot(page, DOCS / "sweep-report.png", 1150)
            page.goto((out / "compare" / "compare.html").as_uri())
            page.wait_for_selector(".js-plotly-plot .main-svg")
            shoot(page, DOCS / "compare-report.png", 1500)
            url = f"http://127.0.0.1:{port}/"
            for _ in range(120):
                try:
                    urllib.request.urlopen(url, timeout=2)
                    break
                except OSError:
                    time.sleep(0.5)
            page.goto(url)
            page.get_by_role("link", name="btc-crash", exact=True).click()
            page.wait_for_selector("#run-fan .main-svg")
            page.locator("#decay-t").scroll_into_view_if_needed()
            handle = page.locator("#decay-t .rc-slider-handle, #decay-t [role=slider]").first
            hb = handle.bounding_box()
            page.mouse.move(hb["x"] + 3, hb["y"] + 3)
            page.mouse.down()
            page.mouse.move(hb["x"] + 420, hb["y"] + 3)
            page.mouse.up()
            page.wait_for_timeout(2500)
            page.evaluate("window.scrollTo(0, 0)")
            shoot(page, DOCS / "dashboard-run.png", 1500)
            page.goto(url)
            page.get_by_role("link", name="reserve-vs-mix").click()
            page.wait_for_selector("#sweep-surface .main-svg")
            box = page.locator("#sweep-surface .nsewdrag").first.bounding_box()
            for attempt in range(5):  # the first click can land before plotly binds its click handler (busy machine)
                page.mouse.click(box["x"] + box["width"] * 0.15, box["y"] + box["height"] * 0.8)
                try:
                    page.wait_for_selector("#point-title", timeout=10_000)
                    break
                except PlaywrightTimeout:
                    if attempt == 4:
                        raise
            shoot(page, DOCS / "dashboard-sweep.png", 1300)
            browser.close()
    finally:
        os.killpg(dash.pid, signal.SIGTERM)
        dash.wait(15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
