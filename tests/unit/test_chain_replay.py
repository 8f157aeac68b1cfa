"""Unit: the chain replay's pure parts (no node): step attribution and the rounding-only check."""
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim.chain.replay import FIELDS, assert_rounding_only, rounding_check, step_flows
from sim.parquet import read_frame

FEES = {"mint": 5, "redeem": 10, "psm": 5}


def _row(**kw):
    base = dict(psm_usdc=10e6, minted_husd=0.0, burned_husd=0.0, staker_rewards_usd=0.0)
    return SimpleNamespace(**{**base, **kw})


def test_step_flows__psm_swap_out_past_its_debt__is_attributed_by_usdc_paid_not_debt():
    """The PSM pays out 9,995 USDC for 10,000 HUSD; the Minter redeems the rest of the burn."""
    prev, row = _row(), _row(psm_usdc=10e6 - 9_995.0, burned_husd=25_000.0)
    f = step_flows(prev, row, FEES)
    assert f["psm_out_husd"] == pytest.approx(10_000.0)
    assert f["minter_burn_husd"] == pytest.approx(15_000.0)
    assert f["psm_in_usdc"] == 0.0 and f["minter_mint_husd"] == pytest.approx(0.0)


def test_step_flows__staker_rewards_and_psm_swap_in__are_not_minter_mints():
    prev = _row(minted_husd=100.0, staker_rewards_usd=7.0)
    row = _row(psm_usdc=10e6 + 1_000.0, minted_husd=100.0 + 999.5 + 3_000.0 + 50.0, staker_rewards_usd=57.0)
    f = step_flows(prev, row, FEES)
    assert f["psm_in_usdc"] == pytest.approx(1_000.0)
    assert f["rewards_husd"] == pytest.approx(50.0)
    assert f["minter_mint_husd"] == pytest.approx(3_000.0)


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


def test_pool_trades__recorded_trade_by_trade__end_where_the_model_ends_each_step():
    """`sim.chain.trades.pool_trades` re-simulates run K alone with the model's trade tape: each step's
    last trade ends at the step's pool price (no treasury companies here), for a run other than 0 too."""
    from sim.chain.trades import pool_trades
    from sim.config import load_scenario
    from sim.runner import resolve_scenario, run

    sc = load_scenario(resolve_scenario("btc-crash")).with_overrides(runs=2, seed=2)
    res = run(sc, record="all")
    f = res.frame
    sqrt = f.loc[f["run"] == 1].sort_values("hour")["pool_sqrt_price"].to_numpy(float)
    tr = pool_trades(sc, 1, sqrt)
    assert tr is not None and len(tr) == len(sqrt) and tr[0] == []
    labels = {t["label"] for step in tr for t in step}
    assert {"retail", "looper", "arbitrage buy"} <= labels, labels
    ends = [(k, step[-1]["sqrt_after"]) for k, step in enumerate(tr) if step]
    assert len(ends) > 100
    assert all(abs(s - sqrt[k]) < 1e-12 for k, s in ends)
