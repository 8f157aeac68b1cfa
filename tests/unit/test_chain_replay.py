"""Unit: the chain replay's pure parts (no node): step attribution and the rounding-only check."""
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim.chain.compare import FIELDS, assert_rounding_only, cap_used_per_chain_hour, rounding_check
from sim.chain.steps import step_flows
from sim.parquet import read_frame

FEES = {"mint": 5, "redeem": 10, "psm": 5}


def _row(**kw):
    base = dict(psm_usdc=10e6, staker_rewards_usd=0.0, mint_cap_used_usd=0.0, redeem_cap_used_usd=0.0)
    return SimpleNamespace(**{**base, **kw})


def test_step_flows__psm_swap_out__is_attributed_by_usdc_paid_and_the_minter_by_its_cap_use():
    """The PSM pays out 9,995 USDC for 10,000 HUSD; the Minter redeemed what the model's cap recorded."""
    prev, row = _row(), _row(psm_usdc=10e6 - 9_995.0, redeem_cap_used_usd=15_000.0)
    f = step_flows(prev, row, FEES)
    assert f["psm_out_husd"] == pytest.approx(10_000.0)
    assert f["minter_burn_husd"] == 15_000.0
    assert f["psm_in_usdc"] == 0.0 and f["minter_mint_husd"] == 0.0


def test_step_flows__staker_rewards_and_psm_swap_in__are_not_minter_mints():
    prev = _row(staker_rewards_usd=7.0)
    row = _row(psm_usdc=10e6 + 1_000.0, mint_cap_used_usd=3_000.0, staker_rewards_usd=57.0)
    f = step_flows(prev, row, FEES)
    assert f["psm_in_usdc"] == pytest.approx(1_000.0)
    assert f["rewards_husd"] == pytest.approx(50.0)
    assert f["minter_mint_husd"] == 3_000.0


def test_step_flows__the_minter_legs_equal_the_supply_changes_they_explain():
    """Over a simulated run, the model's cap use is what its cumulative mints and burns say went through the
    Minter (PSM and rewards taken out), to float noise: the replay's Minter legs are the model's."""
    from sim.config import load_scenario
    from sim.runner import resolve_scenario, run

    sc = load_scenario(resolve_scenario("bank-run")).with_overrides(horizon_hours=96, runs=1)  # the run from hour 48
    d = run(sc, record="all").frame.sort_values("hour")
    rows = list(d.itertuples(index=False))
    fee = {"mint": 5, "redeem": 10, "psm": 5}
    for prev, row in zip(rows[:-1], rows[1:]):
        f = step_flows(prev, row, fee)
        burned = row.burned_husd - prev.burned_husd - f["psm_out_husd"]
        minted = row.minted_husd - prev.minted_husd - f["psm_in_usdc"] * (1 - 5e-4) - f["rewards_husd"]
        assert abs(f["minter_burn_husd"] - burned) < 1e-6 and abs(f["minter_mint_husd"] - minted) < 1e-6


def _frame(n=5):
    d = {"step": np.arange(n)}
    for f in FIELDS:
        d[f"sim_{f}"] = np.full(n, 1e6)
        d[f"chain_{f}"] = np.full(n, 1e6)
    return pd.DataFrame(d)


def test_rounding_check__base_unit_gaps__pass():
    fr = _frame()
    fr["chain_supply"] += 3e-6
    fr["chain_backing"] += 1e-3
    assert all(v["ok"] for v in rounding_check(fr).values())
    assert_rounding_only(fr)


def test_assert_rounding_only__a_real_gap__names_step_and_field():
    fr = _frame()
    fr.loc[3:, "chain_supply"] += 5_000.0
    fr.loc[4, "chain_reserve_fund"] = np.nan  # a failed chain read is beyond rounding too
    with pytest.raises(AssertionError, match=r"supply: step 3: .*\n.*reserve_fund: step 4"):
        assert_rounding_only(fr)


def test_load_run__directory_without_every_column__simulates_the_run_again(tmp_path):
    """`tripod run` without --all-columns: the replay re-simulates run K from scenario.json (same seed)
    and checks it against the recorded columns before using it."""
    from sim.chain.replay import NEEDED_COLUMNS, load_run
    from sim.runner import run

    run("baseline", runs=2, seed=5, record="trajectory").write(tmp_path, report=False)
    assert "psm_minted" not in read_frame(tmp_path / "trajectories.parquet").columns
    sc, d = load_run(tmp_path, run=1, steps=24)
    assert NEEDED_COLUMNS <= set(d.columns) and len(d) == 25 and sc.seed == 5
    assert "simulated again" in d.attrs["resimulated"]


def test_pool_trades__read_from_the_tape__end_where_the_model_ends_each_step():
    """`sim.chain.trades.pool_trades` re-simulates run K alone with the model's trade tape: each step's
    last HUSD-pool trade ends at the step's pool price (no treasury companies here), for a run other than 0 too."""
    from sim.chain.trades import label, pool_trades
    from sim.config import load_scenario
    from sim.runner import resolve_scenario, run

    sc = load_scenario(resolve_scenario("btc-crash")).with_overrides(runs=2, seed=2)
    res = run(sc, record="all")
    f = res.frame
    sqrt = f.loc[f["run"] == 1].sort_values("hour")["pool_sqrt_price"].to_numpy(float)
    tr = pool_trades(sc, 1, sqrt)
    assert tr is not None and len(tr) == len(sqrt) and tr[0] == []
    husd = [[t for t in step if t.venue == sc.pool.name] for step in tr]  # the reference pool
    labels = {label(t) for step in husd for t in step}
    assert {"retail", "looper", "arbitrage buy"} <= labels, labels
    ends = [(k, step[-1].sqrt_after) for k, step in enumerate(husd) if step]
    assert len(ends) > 100
    assert all(abs(s - sqrt[k]) < 1e-12 for k, s in ends)


def test_cap_used_per_chain_hour__quarter_hour_steps__add_up_within_the_chain_hour():
    """The Minter counts per chain hour: four 15-minute steps in one hour read as their running sum."""
    used = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    hours = [10, 10, 10, 10, 11, 11]  # steps 0..3 in hour 10, 4..5 in hour 11
    assert cap_used_per_chain_hour(used, hours, 1).tolist() == [0.0, 1.0, 3.0, 6.0, 4.0, 9.0]


def test_cap_used_per_chain_hour__two_hour_steps__each_hour_holds_half():
    assert cap_used_per_chain_hour([0.0, 8.0, 6.0], [10, 12, 14], 2).tolist() == [0.0, 4.0, 3.0]


@pytest.mark.parametrize("husd0", [True, False])
def test_sqrt_x96__sim_round_trip__exact_to_a_float_ulp(husd0):
    from sim.chain import evm

    for s in (0.5, 0.999, 1.0, 1.0001234, 1.7):
        x96 = evm.sqrt_x96_from_sim(s, husd0)
        assert abs(evm.sim_sqrt_from_x96(x96, husd0) / s - 1) < 1e-15
    # HUSD (18 dp) as token0: sqrtPriceX96 = s * 2**96 / 1e6
    assert evm.sqrt_x96_from_sim(1.0, True) == 2**96 // 10**6


def test_psm_rounding__as_the_contract_computes__fee_and_dust_stay():
    from sim.chain import evm

    assert evm.psm_swap_in(1_000, 5) == 1_000 * 10**12 - 1_000 * 10**12 * 5 // 10_000
    # 1 HUSD out at 5 bps: 0.9995 USDC, the sub-unit dust stays in the PSM
    assert evm.psm_swap_out(10**18, 5) == 999_500
    assert evm.psm_swap_out(10**18 + 10**11, 0) == 1_000_000  # rounded down
