"""Browser: `tripod dashboard` clicked through its main paths in headless chromium, then stopped with SIGTERM."""
import os
import signal
import socket

import pytest

pytestmark = pytest.mark.slow


def pick(page, dropdown_id: str, text: str) -> None:
    """Choose the option containing `text` in a Dash dropdown."""
    page.click(f"#{dropdown_id}")
    page.get_by_role("option").filter(has_text=text).first.click()


def test_dashboard__browse_run_sweep_compare_then_sigterm(page, dashboard):
    proc, url, port = dashboard
    page.goto(url)
    page.wait_for_selector("a.open")
    listing = page.inner_text("body")
    assert "btc-crash" in listing and "browser-sweep" in listing and "btc-crash vs venue-failure" in listing

    # a run: fans from DuckDB, a worst run drawn whole, the reserve's decay played
    page.get_by_role("link", name="btc-crash", exact=True).click()
    page.wait_for_selector("h1:has-text('Run:')")
    page.wait_for_selector("#run-fan .main-svg")
    assert page.inner_text("h1") == "Run: btc-crash"
    page.wait_for_function("document.querySelector('#run-fan .js-plotly-plot') && "
                           "document.querySelector('#run-fan .js-plotly-plot').data.some(t => (t.name||'').startsWith('run '))")
    pick(page, "run-series", "Reserve fund")
    page.wait_for_function("document.querySelector('#run-fan .gtitle') && "
                           "document.querySelector('#run-fan .gtitle').textContent.includes('Reserve fund')")
    before = page.inner_text("#decay-text")
    page.click("#decay-play")
    page.wait_for_function(f"document.getElementById('decay-text').innerText != {before!r}", timeout=45000)
    assert "median reserve" in page.inner_text("#decay-text")
    page.click("#decay-play")  # pause

    # a sweep: click a cell, get its runs
    page.goto(url)
    page.get_by_role("link", name="browser-sweep").click()
    page.wait_for_selector("#sweep-surface .main-svg")
    box = page.locator("#sweep-surface .nsewdrag").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.15, box["y"] + box["height"] * 0.8)
    page.wait_for_selector("#point-title")
    assert page.inner_text("#point-title").startswith("Point ")
    page.wait_for_selector("#point-runs td")
    assert page.locator("#point-runs tr").count() >= 6

    # a comparison, and two runs side by side
    page.goto(url)
    page.get_by_role("link", name="btc-crash vs venue-failure").click()
    page.wait_for_selector("h1:has-text('Compare:')")
    assert "venue-failure - btc-crash" in page.inner_text("body")
    page.goto(url + "pair")
    page.wait_for_selector("#pair-fan .main-svg")
    legend = page.evaluate("document.querySelector('#pair-fan .legend').textContent")
    assert "btc-crash: median" in legend and "venue-failure: median" in legend
    assert not page.errors and not page.external

    # SIGTERM: exits 0 and frees the port
    os.killpg(proc.pid, signal.SIGTERM)
    assert proc.wait(15) == 0
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.close()


def test_dashboard__missing_folder__clear_error(tmp_path):
    from conftest import tripod

    r = tripod("dashboard", tmp_path / "nope", "--port", "0")
    assert r.returncode == 2 and "nope" in r.stderr and "Traceback" not in r.stderr
