"""`include:` in scenario files: included mappings deep-merged under the file's own keys."""
import pytest

from sim.config import ScenarioError, load_scenario


def write(p, text):
    p.write_text(text)
    return p


def test_include__deep_merges_and_own_keys_win(tmp_path):
    write(tmp_path / "m.yaml", "provenance: {note: docs only}\nmarket:\n  stochastic:\n    btc_usd_start: 50000\n"
                               "    calm: {btc_vol_annual: 0.3, xau_vol_annual: 0.1}\nhorizon_hours: 48\n")
    s = write(tmp_path / "s.yaml", "name: s\ninclude: [m.yaml]\nhorizon_hours: 24\n"
                                   "market:\n  stochastic:\n    calm: {btc_vol_annual: 0.9}\n")
    sc = load_scenario(s)
    assert sc.horizon_hours == 24
    assert sc.market.stochastic.btc_usd_start == 50000
    assert sc.market.stochastic.calm.btc_vol_annual == 0.9  # own key wins
    assert sc.market.stochastic.calm.xau_vol_annual == 0.1  # sibling from the include kept


def test_include__a_single_name_and_nested_includes(tmp_path):
    write(tmp_path / "a.yaml", "horizon_hours: 10\nseed: 4\n")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "b.yaml", "include: ../a.yaml\nseed: 5\n")
    sc = load_scenario(write(tmp_path / "s.yaml", "name: s\ninclude: sub/b.yaml\n"))
    assert (sc.horizon_hours, sc.seed) == (10, 5)


def test_include__errors_name_the_file(tmp_path):
    with pytest.raises(ScenarioError, match="included file not found"):
        load_scenario(write(tmp_path / "s.yaml", "name: s\ninclude: [nope.yaml]\n"))
    write(tmp_path / "x.yaml", "include: [y.yaml]\n")
    write(tmp_path / "y.yaml", "include: [x.yaml]\n")
    with pytest.raises(ScenarioError, match="include cycle"):
        load_scenario(write(tmp_path / "s2.yaml", "name: s\ninclude: [x.yaml]\n"))
    with pytest.raises(ScenarioError, match="include: must be"):
        load_scenario(write(tmp_path / "s3.yaml", "name: s\ninclude: {a: 1}\n"))
    # provenance is dropped only from included files: in a scenario it is still an unknown key
    with pytest.raises(ScenarioError, match="provenance"):
        load_scenario(write(tmp_path / "s4.yaml", "name: s\nprovenance: {}\n"))


def test_shipped_calibrated_scenario_carries_the_calibrated_market(root):
    import yaml

    sc = load_scenario(root / "scenarios" / "calibrated" / "pure-delta-neutral.yaml")
    block = yaml.safe_load((root / "scenarios" / "calibrated" / "market.yaml").read_text())["market"]["stochastic"]
    assert sc.market.stochastic.model_dump(mode="json") == block
    assert sc.protocol.weights.tbill == 0 and sc.protocol.weights.xau == 0
