"""Browser: the static reports as a reader opens them from disk, offline."""
import pytest

pytestmark = pytest.mark.slow


def test_run_report__drill_down_redraws_every_fan_with_the_picked_run(page, results):
    page.goto((results / "crash" / "report.html").as_uri())
    page.wait_for_selector("#fan0 .main-svg")
    assert page.evaluate("document.querySelectorAll('.js-plotly-plot').length") >= 7
    options = page.eval_on_selector_all("#runpick option", "els => els.map(e => e.value)")
    assert len(options) >= 3
    page.select_option("#runpick", options[2])
    names = page.evaluate("TRIPOD_DATA.fans.map(f => document.getElementById(f.div).data[3].name)")
    assert set(names) == {f"run {options[2]}"}
    # the drawn run is one real run: its points are that run's own path
    ys = page.evaluate("document.getElementById('fan0').data[3].y")
    assert len(ys) > 100
    # zoom in (drag on the first chart) and the axis range follows
    box = page.locator("#fan0 .nsewdrag").bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 160, box["y"] + 80)
    page.mouse.up()
    page.wait_for_timeout(300)
    rng = page.evaluate("document.getElementById('fan0').layout.xaxis.range")
    assert rng[1] - rng[0] < 168 * 0.9
    assert not page.errors and not page.external


def test_sweep_report__clicking_a_cell_opens_its_runs(page, results):
    page.goto((results / "sweep" / "report.html").as_uri())
    page.wait_for_selector("#surf0 .main-svg")
    assert "runs per point" in page.inner_text(".note")
    box = page.locator("#surf0 .nsewdrag").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.15, box["y"] + box["height"] * 0.8)
    page.wait_for_function("document.getElementById('pointdetail').innerText.length > 0")
    assert page.inner_text("#pointhint").startswith("Point ")
    assert page.is_visible("#pointhist")
    assert not page.errors and not page.external


def test_compare_report__overlaid_fans_and_differences(page, results):
    page.goto((results / "cmp" / "compare.html").as_uri())
    page.wait_for_selector(".js-plotly-plot .main-svg")
    text = page.inner_text("body")
    assert "venue-failure - btc-crash [95 %]" in text and "Depeg probability" in text
    assert not page.errors and not page.external
