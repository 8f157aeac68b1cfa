"""The notebook API: a Result shows itself compactly and holds only the core columns unless asked."""
import sim
from sim.model.state import trajectory_columns


def test_result__repr_is_one_line_with_the_interval(small):
    r = sim.run(small)
    text = repr(r)
    assert text.startswith("<sim.Result small: 4 runs x 72 h, seed 3") and "\n" not in text and len(text) < 300
    assert "[0.000, 0.602]" in text  # 0 of 4 runs: Clopper-Pearson


def test_result__html_card_is_compact_with_intervals_and_a_fan(small):
    html = sim.run(small)._repr_html_()
    assert len(html) < 20_000 and "<svg" in html and "<script" not in html
    assert "Depeg probability" in html and "95 % interval" in html and "[0 %, 60.2 %]" in html


def test_run__holds_the_core_columns_unless_asked(small):
    lean = sim.run(small)
    assert set(lean.trajectory.data) == set(trajectory_columns(lean.trajectory.final))
    full = sim.run(small, record="all")
    assert len(full.trajectory.data) > len(lean.trajectory.data)


def test_run__overrides_are_applied_and_recorded(small):
    r = sim.run(small, overrides=["protocol.reserve.initial_usd=0"])
    assert r.scenario.protocol.reserve.initial_usd == 0
    assert r.manifest["overrides"] == ["protocol.reserve.initial_usd=0"]
    assert r.trajectory.data["reserve_fund_usd"][0].max() == 0
