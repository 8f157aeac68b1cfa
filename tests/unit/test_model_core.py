"""Model core (unit): the set-up in one place, blocks that own what they declare, the trade tape and the
protocol's actions."""
import numpy as np
import pytest

from sim import parse_scenario
from sim.engines.batch import run_batch
from sim.model import Model, actions
from sim.model.parts.common import backing, holder_husd
from sim.model.psubs import PSUBS, block_variables, check_writes
from sim.model.tape import Tape


def _scenario(**kw):
    return parse_scenario({"name": "core", "horizon_hours": 48, "runs": 3, "seed": 4, **kw})


def test_state_variables__declared_by_the_blocks_that_write_them__the_rest_never_change():
    sc = _scenario(agents={"treasury_companies": [{"name": "a", "btc_usd": 1e6, "husd_usd": 1e6}]})
    m = Model.build(sc)
    owned = {v for b in PSUBS for v in block_variables(b, m.params)}
    assert owned <= set(m.genesis), owned - set(m.genesis)
    assert "dat0_mnav" in owned  # per-company variables follow the scenario
    traj = run_batch(m.params, m.genesis, m.paths)
    unowned = set(m.genesis) - owned
    assert all((traj.data[k] == traj.data[k][0]).all() for k in unowned), unowned


def test_a_policy_writing_what_its_block_does_not_declare__is_refused_by_the_engine():
    block = dict(PSUBS[1])  # accrue: a fixed tuple of variables
    with pytest.raises(RuntimeError, match="does not declare"):
        check_writes(block, {}, [*block["variables"], "supply"])
    with pytest.raises(RuntimeError, match="misses"):
        check_writes(block, {}, block["variables"][1:])


def test_tape__trades_of_one_run_in_a_batch__equal_the_run_simulated_alone():
    sc = _scenario(events=[{"type": "bank_run", "hour": 5, "duration_hours": 20, "share_of_holdings": 0.3}])
    m = Model.build(sc)
    tape = Tape()
    traj = run_batch(m.params, m.genesis, m.paths, record=("pool_sqrt_price",), tape=tape)
    alone = Model.build(sc, np.array([2]))
    tape2 = Tape()
    run_batch(alone.params, alone.genesis, alone.paths, record=(), tape=tape2)
    a, b = tape.steps(2, m.paths.steps), tape2.steps(0, m.paths.steps)
    assert sum(map(len, a)) > 20 and a == b
    whos = {t.who for step in a for t in step}
    assert {"retail", "arbitrage"} <= whos, whos  # institutions redeem through the Minter while caps allow
    # each step's last HUSD-pool trade ends where the model's pool ends the step
    for k, step in enumerate(a):
        pool = [t for t in step if t.venue == sc.pool.name]
        if pool:
            assert pool[-1].sqrt_after == pytest.approx(traj.data["pool_sqrt_price"][k, 2], rel=1e-15)


def test_actions__keep_supply_equal_to_holders_and_move_backing_by_the_collateral_only():
    m = Model.build(_scenario(runs=1))
    s, p = {k: np.float64(v) for k, v in m.genesis.items()}, m.params

    def books():
        return float(s["supply"]), float(holder_husd(s)), float(backing(s)), float(s["reserve_fund_usd"])

    paid = actions.minter_mint(p, s, 1e6)
    assert actions.mint_room(p, s, 0.5) == pytest.approx(p["mint_cap_per_hour"] * 0.5 - 1e6)
    sup, held, b, _ = books()
    assert sup == pytest.approx(held) and paid == pytest.approx(1e6 / (1 - p["mint_fee"]))
    got = actions.minter_redeem(p, s, 4e5)
    assert books()[0] == pytest.approx(books()[1]) and got == pytest.approx(4e5 * (1 - p["redeem_fee"]))
    assert books()[2] == pytest.approx(b - got)
    actions.psm_swap_in(p, s, 2e5)
    actions.psm_swap_out(p, s, 1e5)
    assert s["psm_minted"] == pytest.approx(m.genesis["psm_minted"] + 1e5)
    r0 = float(s["reserve_fund_usd"])
    drawn = actions.reserve_pay(p, s, 5e6, 0.25)
    assert drawn == pytest.approx(min(5e6, p["reserve_draw_per_hour"] * 0.25, r0)) and books()[3] == pytest.approx(r0 - drawn)
    actions.distribute_rewards(s, 1e4)
    assert books()[0] == pytest.approx(books()[1])
    raised = actions.backstop_recapitalize(p, s, 1e5)
    assert 0 < raised <= 1e5 and s["hyb_sqrt_price"] < m.genesis["hyb_sqrt_price"]
