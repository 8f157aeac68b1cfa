"""Named stress scenarios replayed as transactions on a fork of node A, with assertions on chain state.

Every replay is held to rounding: supply, pool price, reserve fund, backing, PSM USDC and the caps
used agree with the model to base-unit / feed-decimal rounding at every step
(`sim.chain.compare.assert_rounding_only`, which names the first step and field beyond it), and the
chain refuses nothing the model did not refuse (no revert in a replay).
"""
import pytest

from sim.chain.compare import assert_rounding_only
from sim.chain.deploy import market_id
from sim.chain.evm import feed_answer, usd_wad
from sim.parquet import read_frame

pytestmark = pytest.mark.fork


def test_btc_crash_replay_tracks_the_model(simulate, replay_on_fork):
    """BTC -50 % in 12 h (hours 48-60) with deeply negative funding: replay through the crash."""
    run_dir = simulate("btc-crash")

    def check(res):
        p = res.chain["protocol"]
        return {
            "btc_feed": int(p.feeds["WBTC"].latestAnswer()),
            "mint_paused": bool(p.minter.mintPaused()),
            "backing": int(p.ledger.totalBacking()),
            "supply": int(p.husd.totalSupply()),
        }

    res, chain = replay_on_fork(run_dir, steps=66, check=check)
    s, f = res.summary, res.frame
    # rounding only, every field at every step: supply, pool price, reserve, backing, PSM USDC, caps used
    assert_rounding_only(res)
    assert s["reverts"] == [], s["reverts"]  # the model refused nothing here, nor may the chain
    # the model's pool trades ran one by one on the real pool; each one's proceeds equal the simulator's
    # pool maths on the same (tick-snapped) curve, and the closing swap to the model's price is small
    assert s["trades"]["count"] > 50 and s["trades"]["maths_max_rel"] < 1e-7, s["trades"]
    assert s["pool_maths"]["usdc"]["max_abs"] < 0.01 and s["trades"]["closing_swap_max_usdc"] < 1e4
    # the crash happened on chain: the oracle carries the model's last BTC price
    last = f.iloc[-1]
    traj = read_frame(run_dir / "trajectories.parquet")
    assert chain["btc_feed"] == feed_answer(float(traj.loc[traj["hour"] == 66, "btc_usd"].iloc[0]), 8)
    assert chain["btc_feed"] / 1e8 < 0.7 * 90_000
    # delta-neutral: backing held through the crash (hedge equity re-marked each step)
    assert chain["backing"] >= 0.98 * chain["supply"]
    assert not chain["mint_paused"]
    # honest redemptions through the Minter within the hourly cap never reverted; oracle pushes never did
    bad = [r for r in s["reverts"] if r["action"].startswith(("minter redeem", "oracle"))]
    assert not bad, bad
    assert last["step"] == 66 and s["gas_used"] > 0


def test_ape_fork_provider_path_replays_to_rounding(simulate, node_a):
    """The issue's path: Ape's own fork provider (custom network `tripod-node-a` in ape-config.yaml,
    ape-foundry forking node A, upstream given per connection) runs the same replay to rounding."""
    from sim.chain.node import rpc
    from sim.chain.network import APE_FORK
    from sim.chain.replay import replay

    pin = int(rpc(node_a.uri, "eth_blockNumber"), 16)  # the block pin, as TRIPOD_FORK_BLOCK on mainnet
    seen = {}

    def head(result):
        from ape import chain
        seen["chain_id"], seen["fork_head"] = chain.chain_id, chain.blocks.head.number

    res = replay(simulate("btc-crash"), steps=6, network=APE_FORK, upstream=node_a.uri, base=node_a.base_state,
                 block=pin, write=False, keep_connected=head)
    assert res.summary["network"].startswith(APE_FORK) and res.summary["base_state"] is True
    assert f"block {pin}" in res.summary["network"] and seen["fork_head"] > pin
    assert_rounding_only(res)
    assert res.summary["reverts"] == []


THIN_RESERVE = """name: venue-failure-thin-reserve
description: a venue holding a third of the BTC hedge fails and the BTC oracle goes stale for 6 h,
  with a $1M reserve, so the backstop must sell HYB
horizon_hours: 120
runs: 1
seed: 4
scripted:
  - {variable: btc_usd, mode: multiply, points: [[24, 1.0], [72, 0.8]]}
events:
  - {type: venue_failure, hour: 72, share_of_hedge: 0.33, recovery_rate: 0.3}
  - {type: oracle_stale, hour: 72, duration_hours: 6}
protocol:
  reserve: {initial_usd: 1000000}
"""


def test_backstop_sale_and_guardian_pause_follow_the_model(simulate, replay_on_fork, tmp_path_factory):
    """The model pauses minting on the stale oracle (hours 72-77) and, with the reserve spent, sells HYB
    through the backstop: on chain the guardian pauses and the admin restarts at the same steps, the
    Backstop's sale into the real HYB pool raises what the model raised, HYB's price follows the model."""
    path = tmp_path_factory.mktemp("scen") / "venue-failure-thin-reserve.yaml"
    path.write_text(THIN_RESERVE)
    run_dir = simulate(str(path))
    res, _ = replay_on_fork(run_dir, steps=80)
    s, f = res.summary, res.frame
    assert_rounding_only(res)  # includes mint_paused (exact) and hyb_price
    assert s["reverts"] == [], s["reverts"]
    paused = f.loc[f["chain_mint_paused"] > 0, "step"].tolist()
    assert paused == [72, 73, 74, 75, 76, 77], paused
    assert s["backstop"]["sales"] >= 1 and s["backstop"]["usdc_model"] > 1e6
    assert s["backstop"]["max_rel"] < 1e-6, s["backstop"]
    assert f["chain_hyb_price"].iloc[-1] < 0.5 * f["chain_hyb_price"].iloc[0]  # HYB took the hit


def _bank_run(step_hours: float) -> str:
    return f"""name: bank-run-{step_hours:g}h-steps
description: holders exit 40 % over three days from hour 12 against a $1.5M/h redemption cap, in {step_hours:g} h steps
horizon_hours: 20
step_hours: {step_hours}
runs: 1
seed: 5
events:
  - {{type: bank_run, hour: 12, duration_hours: 72, share_of_holdings: 0.4}}
  - {{type: tbill_freeze, hour: 12, duration_hours: 96}}
protocol:
  caps: {{redeem_cap_usd_per_hour: 1500000}}
"""


@pytest.mark.parametrize("step_hours", [0.25, 2.0])
def test_bank_run_in_other_step_lengths_agrees_to_rounding(simulate, replay_on_fork, tmp_path_factory, step_hours):
    """15-minute and 2-hour steps with the redemption cap binding: the per-block cap is one chain hour of
    a step at most (ProtocolSpec), a 2-hour step's Minter flow goes out an hour at a time, and the chain's
    per-hour counter reads what the model's steps put in that hour (rounding only, nothing refused)."""
    path = tmp_path_factory.mktemp("dt") / f"bank-run-{step_hours:g}h.yaml"
    path.write_text(_bank_run(step_hours))
    res, caps = replay_on_fork(simulate(str(path)), check=lambda r: (int(r.chain["protocol"].minter.maxRedeemPerBlock()),
                                                                       int(r.chain["protocol"].minter.maxRedeemPerHour())))
    assert_rounding_only(res)
    assert res.summary["reverts"] == [] and res.summary["step_hours"] == step_hours
    assert caps == (usd_wad(1.5e6 * min(step_hours, 1.0)), usd_wad(1.5e6))
    f = res.frame
    at_cap = f["chain_redeem_cap_used"] >= 1.5e6 * (1 - 1e-9)  # the hour's cap is used up on chain, as in the model
    assert at_cap.sum() >= 3, f[["step", "sim_redeem_cap_used", "chain_redeem_cap_used"]].tail(12)
    assert (f["chain_redeem_cap_used"] <= 1.5e6 * (1 + 1e-12)).all()


def test_stale_and_deviating_oracle_pauses_mint(simulate, replay_on_fork):
    """A BTC feed that stops updating (or jumps past its band) must pause minting; redemptions go on."""
    run_dir = simulate("btc-crash")

    def check(res):
        from ape import chain
        p, r = res.chain["protocol"], res.chain["replay"]
        out = {"healthy_before": bool(p.guardian.oraclesHealthy())}
        # stale: 2 h without a BTC round (heartbeat 1 h); anyone may trip the breaker
        chain.mine(1, timestamp=chain.blocks.head.timestamp + 7_200)
        for sym in ("USDC", "TBILL", "PAXG"):  # the other feeds stay fresh
            p.feeds[sym].setAnswer(int(p.feeds[sym].latestAnswer()), sender=r.admin)
        out["healthy_stale"] = bool(p.guardian.oraclesHealthy())
        p.guardian.checkOracles(sender=r.arb)
        out["mint_paused"] = bool(p.minter.mintPaused())
        n = len(r.reverts)
        r.add("mint while paused", p.minter, "mint", p.usdc, 10**6, 0, r.stepper)
        r.flush()
        out["mint_reverted"] = [x["reason"] for x in r.reverts[n:]]
        # a redemption within caps still works while minting is paused
        before = int(p.husd.totalSupply())
        r.add("redeem while mint paused", p.minter, "redeem", p.usdc, 1_000 * 10**18, 0, r.stepper)
        r.flush()
        out["redeemed"] = before - int(p.husd.totalSupply())
        # deviating: a fresh BTC round 40 % off the last one (max jump 15 %) is unhealthy too
        ans = int(p.feeds["WBTC"].latestAnswer())
        p.feeds["WBTC"].setAnswer(ans * 6 // 10, sender=r.admin)
        out["healthy_jump"] = bool(p.guardian.oraclesHealthy())
        return out

    res, got = replay_on_fork(run_dir, steps=3, check=check)
    assert got["healthy_before"] is True
    assert got["healthy_stale"] is False
    assert got["mint_paused"] is True
    assert len(got["mint_reverted"]) == 1 and got["mint_reverted"][0].startswith("MintPaused"), got["mint_reverted"]
    assert got["redeemed"] > 0
    assert got["healthy_jump"] is False


def test_bank_run_with_tbill_freeze(simulate, replay_on_fork):
    """40 % of holdings exit over three days from hour 48 while the T-bill sleeve is frozen and LPs
    pull half the pool: replay the first 12 hours of the run."""
    run_dir = simulate("bank-run")

    def check(res):
        p = res.chain["protocol"]
        cap = int(p.minter.maxRedeemPerHour())
        return {"cap": cap, "supply": int(p.husd.totalSupply()), "backing": int(p.ledger.totalBacking())}

    res, chain = replay_on_fork(run_dir, steps=60, check=check)
    s, f = res.summary, res.frame
    assert_rounding_only(res)
    assert s["reverts"] == [], s["reverts"]
    assert s["trades"]["maths_max_rel"] < 1e-7, s["trades"]
    # the run happened: supply fell on chain as in the model
    assert f["chain_supply"].iloc[-1] < f["chain_supply"].iloc[47]
    # caps hold: the chain never let more than the hourly cap out through the Minter
    assert (f["chain_redeem_cap_used"] <= chain["cap"] / 1e18 * (1 + 1e-12)).all()
    # honest redemptions within the cap never reverted
    within = {int(st) for st in f.loc[f["sim_redeem_cap_used"] <= chain["cap"] / 1e18, "step"]}
    bad = [r for r in s["reverts"] if r["action"] == "minter redeem" and r["step"] in within]
    assert not bad, bad
    # no insolvency: the backing covers the supply (reserve not even needed)
    assert chain["backing"] >= 0.99 * chain["supply"]


def test_killed_node_gives_a_clear_error_and_no_result_file(simulate, node_a, tmp_path):
    """The fork node dies mid-replay: ReplayNodeError naming the node and step, no chain_replay.* left."""
    import shutil

    from sim.chain import node as nodes
    from sim.chain.replay import ReplayNodeError, replay

    run_dir = tmp_path / "run"
    shutil.copytree(simulate("btc-crash"), run_dir)
    for old in run_dir.glob("chain_replay*"):  # results of earlier tests on the same simulated run
        old.unlink()

    before = set(nodes._LIVE)  # the session's node A and fork live on

    def kill_fork(k, n):
        if k == 3:
            for nd in list(nodes._LIVE - before):  # only the fork this replay started
                nd.stop()

    with pytest.raises(ReplayNodeError, match="stopped answering"):
        replay(run_dir, steps=10, upstream=node_a.uri, base=node_a.base_state, progress=kill_fork)
    assert not list(run_dir.glob("chain_replay*"))
    assert node_a.alive()


def test_hedge_venue_failure_trips_the_backing_breaker(simulate, replay_on_fork):
    """Half of the BTC hedge's venue is lost: backing falls under the guardian's ratio (99 %) and anyone
    can trip the breaker, which pauses minting; redemptions stay open."""
    from sim.chain.stress import Stress

    def check(res):
        kit, p = Stress(res.chain["replay"]), res.chain["protocol"]
        out = {"ratio_before": kit.backing_ratio(), "under_before": bool(p.guardian.isUnderBacked())}
        margin = kit.hedge("BTC-PERP")["margin"]
        out["reverts"] = kit.fail_venue("BTC-PERP", share=1.0) + kit.hedge_loss("XAU-PERP", 0.0)
        out["margin_after"] = kit.hedge("BTC-PERP")["margin"]
        out["margin_before"] = margin
        out["ratio_after"] = kit.backing_ratio()
        out["under_after"] = bool(p.guardian.isUnderBacked())
        p.guardian.checkBacking(sender=res.chain["replay"].arb)
        out["mint_paused"] = bool(p.minter.mintPaused())
        out["redeem_reverts"] = kit.bank_run(0.001, hours=1)
        return out

    _res, got = replay_on_fork(simulate("venue-failure"), steps=3, check=check)
    assert got["under_before"] is False and got["ratio_before"] >= 0.99
    assert got["reverts"] == [] and got["margin_after"] == 0 and got["margin_before"] > 0
    assert got["ratio_after"] < 0.99 and got["under_after"] is True
    assert got["mint_paused"] is True
    assert got["redeem_reverts"] == []


def test_bank_run_caps_hold(simulate, replay_on_fork):
    """A run of 5 % of supply in one hour against a $10M/h redemption cap: redemptions within the cap
    go through, the excess is refused (named cap error); next hour the cap is fresh."""
    from sim.chain.stress import Stress

    def check(res):
        kit, p = Stress(res.chain["replay"]), res.chain["protocol"]
        cap = int(p.minter.maxRedeemPerHour())
        supply0 = int(p.husd.totalSupply())
        over = kit.bank_run(0.05, hours=1)
        within = kit.bank_run(cap / supply0 * 0.999, hours=1)
        return {"cap": cap, "over": over, "within": within, "burned": supply0 - int(p.husd.totalSupply())}

    _res, got = replay_on_fork(simulate("bank-run"), steps=2, check=check)
    # at 1 h steps the per-block cap is the hourly cap (ProtocolSpec: one chain hour of a step): either names it
    assert len(got["over"]) == 1 and got["over"][0]["reason"].startswith(("PerBlockCapExceeded", "PerHourCapExceeded"))
    assert got["within"] == []
    assert 0 < got["burned"] <= got["cap"]


def test_gold_gap_down_on_a_weekend_with_the_kit(tripod_simulate, tripod_replay, stress):
    """The README's user test: gold gaps down 8 % while the perps trade; the hedge re-mark keeps backing."""
    def check(res):
        kit = stress(res)
        before = kit.backing_ratio()
        h = kit.hedge("XAU-PERP")
        px = int(kit.p.feeds["PAXG"].latestAnswer()) / 1e8
        kit.move_oracle("PAXG", [px * 0.96, px * 0.92], hours_per_round=0.25)  # BTC feed stays fresh (1 h)
        kit.hedge_loss("XAU-PERP", -h["notional"] * 0.08)     # the short gains what the spot lost
        return before, kit.backing_ratio()

    _res, (before, after) = tripod_replay(tripod_simulate("baseline"), steps=2, check=check)
    assert after == pytest.approx(before, abs=2e-3)


def test_tbill_freeze_with_a_bank_run(simulate, replay_on_fork):
    """The T-bill fund freezes: redemptions paid in TBILL are refused, USDC redemptions within the cap go on."""
    from sim.chain.stress import Stress

    def check(res):
        kit, r, p = Stress(res.chain["replay"]), res.chain["replay"], res.chain["protocol"]
        kit.freeze_tbill()
        n = len(r.reverts)
        r.add("redeem in TBILL", p.minter, "redeem", p.tokens["TBILL"], 10**24, 0, r.stepper)
        r.flush()
        tbill = [x["reason"] for x in r.reverts[n:]]
        usdc = kit.bank_run(0.002, hours=2)
        return tbill, usdc

    _res, (tbill, usdc) = replay_on_fork(simulate("bank-run"), steps=2, check=check)
    assert len(tbill) == 1 and tbill[0].startswith("UnsupportedCollateral"), tbill
    assert usdc == []


def test_looper_unwind_into_a_thin_pool_matches_the_pool_maths(simulate, replay_on_fork):
    """Loopers dump $8M of HUSD into the pool at half depth: the real pool's price and proceeds equal
    the simulator's Uniswap v3 maths on the same curve, to rounding."""
    from sim.chain import evm as U
    from sim.chain.stress import Stress
    from sim.model import amm

    def check(res):
        kit, r = Stress(res.chain["replay"]), res.chain["replay"]
        r.set_depth(0.5)
        r.flush()
        s0 = U.sim_sqrt_from_x96(int(r.pool.slot0()[0]), r.husd0)
        usdc0 = int(kit.p.usdc.balanceOf(r.stepper))
        assert kit.sell_into_pool(8e6) == []
        s1 = U.sim_sqrt_from_x96(int(r.pool.slot0()[0]), r.husd0)
        got = (int(kit.p.usdc.balanceOf(r.stepper)) - usdc0) / 1e6
        out, s_model, _fee, used = amm.swap_exact_in(s0, 8e6, True, r.ref_curve, depth=0.5, fee=r.fee_fraction)
        return s1, float(s_model), got, float(out), float(used)

    _res, (s_chain, s_model, usdc_chain, usdc_model, used) = replay_on_fork(simulate("leverage-cycle"), steps=1, check=check)
    assert used == pytest.approx(8e6)  # within the liquid range: a full fill
    assert s_chain == pytest.approx(s_model, rel=1e-9)
    assert usdc_chain == pytest.approx(usdc_model, rel=1e-9)
    assert s_chain**2 < 0.9995  # the dump moves a half-depth pool off the peg


def test_sandwich_on_shusd_reward_vesting_earns_nothing(simulate, replay_on_fork):
    """An attacker stakes just before a reward batch and leaves just after: vesting means the batch is
    not in the share price yet, and the cooldown pins what leaves, so the attacker takes nothing but
    the vesting of the seconds it held (none when both land in the same second); the honest staker
    gets the rest of the batch once it has vested."""

    def check(res):
        from ape import chain

        r, p = res.chain["replay"], res.chain["protocol"]
        attacker, admin, S = r.arb, r.admin, r.stepper
        stake, reward = 10_000_000 * 10**18, 100_000 * 10**18
        S.approve(p.husd, p.shusd, sender=admin)
        r.add("honest stake", p.shusd, "deposit", stake, S)
        r.add("fund attacker", p.husd, "transfer", attacker, stake)
        r.add("fund rewarder", p.husd, "transfer", admin, reward)
        r.flush()
        assert not r.reverts, r.reverts
        p.husd.approve(p.shusd, 2**256 - 1, sender=attacker)
        p.husd.approve(p.shusd, 2**256 - 1, sender=admin)
        p.shusd.deposit(stake, attacker, sender=attacker)          # front-run
        t_reward = p.shusd.transferInRewards(reward, sender=admin).timestamp  # the reward batch
        shares = int(p.shusd.balanceOf(attacker))
        t_exit = p.shusd.cooldownShares(shares, sender=attacker).timestamp  # back-run
        cooling = int(p.shusd.cooldowns(attacker).underlyingAmount)
        chain.mine(1, timestamp=chain.blocks.head.timestamp + 8 * 86_400)
        p.shusd.unstake(attacker, sender=attacker)
        honest = int(p.shusd.previewRedeem(p.shusd.balanceOf(S)))
        return {"cooling": cooling, "attacker_husd": int(p.husd.balanceOf(attacker)), "honest": honest,
                "stake": stake, "reward": reward,
                "vested_while_held": reward * (t_exit - t_reward) // int(p.shusd.vestingPeriod())}

    _res, g = replay_on_fork(simulate("baseline"), steps=1, check=check)
    cap = g["stake"] + g["vested_while_held"]  # at most the part of the batch that vested while it held
    assert g["cooling"] <= cap and g["attacker_husd"] <= cap, g
    assert g["vested_while_held"] <= g["reward"] // 100  # a sandwich is seconds, not hours
    assert g["honest"] == pytest.approx(g["stake"] + g["reward"] - (g["cooling"] - g["stake"]), rel=1e-9)


RESERVE_BUYS = """name: reserve-buys-into-a-dump
description: retail dumps 30 % of its HUSD with no redemption access (no PSM, redemption cap 0); the reserve
  buys HUSD below 0.995 on the pool, {budget} USD an hour, and {then}s it
horizon_hours: 40
runs: 1
seed: 21
market:
  stochastic: {{p_calm_to_stress_per_hour: 0.0, calm: {{btc_jump_rate_per_year: 0.0}}}}
events:
  - {{type: bank_run, hour: 6, duration_hours: 12, share_of_holdings: 0.3, classes: [retail]}}
agents: {{arbitrageurs: {{patient_capital_usd: 0}}}}
protocol:
  caps: {{redeem_cap_usd_per_hour: 0}}
  psm: {{enabled: false}}
  reserve: {{initial_usd: 100000000, buy: {{enabled: true, trigger_price: 0.995, budget_usd_per_hour: {budget}, then: {then}}}}}
"""


@pytest.mark.parametrize("then", ["burn", "hold"])
def test_reserve_buy_backs_go_through_the_reserve_fund_and_agree_to_rounding(simulate, replay_on_fork, tmp_path_factory, then):
    """The model's reserve buys HUSD below its trigger within its hourly budget: on chain each purchase is a
    ReserveFund.buyBack (its USDC, its budget, never past the trigger), burned or held. Supply, the reserve's
    USDC and the HUSD it holds agree with the model to rounding; the chain's pool, a tick-snapped copy of the
    model's curve, prices each purchase within 0.1 % of the model's (the settled gap, reported)."""
    path = tmp_path_factory.mktemp("scen") / f"reserve-buys-{then}.yaml"
    path.write_text(RESERVE_BUYS.format(budget=3_000_000, then=then))
    run_dir = simulate(str(path))
    traj = read_frame(run_dir / "trajectories.parquet")

    res, _ = replay_on_fork(run_dir)
    s, f = res.summary, res.frame
    assert_rounding_only(res)
    assert s["reverts"] == []
    bb = s["buy_backs"]
    assert bb["count"] >= 3 and bb["usdc_model"] > 5e6
    assert bb["usdc_model"] == pytest.approx(float(traj["reserve_buy_usd"].iloc[-1]), rel=1e-9)
    assert bb["usdc_max_rel"] < 1e-3 and bb["husd_max_rel"] < 1e-3
    # within the hourly budget on chain, step by step (each step is one hour here)
    assert f["buy_back_usdc_chain"].max() <= 3_000_000 * (1 + 1e-9)
    if then == "hold":
        assert f["chain_reserve_husd"].iloc[-1] > 5e6
    else:
        assert f["chain_reserve_husd"].max() == 0.0


@pytest.mark.parametrize("name, steps", [("venue-failure", 80), ("custody-freeze", 30)])
def test_claims_on_a_failed_venue_or_frozen_custody_are_backing_on_chain_too(simulate, replay_on_fork, name, steps):
    """A failed venue's margin (hour 72) and cash frozen at a failed bank (hour 24) become claims at their
    marked recovery: the operator reports them as the claims market's unrealised PnL, so the chain's backing
    follows the model's to rounding through the event, while realised backing (what rewards may be minted
    from) leaves them out, as the model's staker rule does."""
    def check(res):
        p = res.chain["protocol"]
        h = p.ledger.hedges(market_id(p.spec.hedge.claims_market))
        return {"claims_pnl": int(h.unrealizedPnl), "backing": int(p.ledger.totalBacking()),
                "realised": int(p.ledger.realisedBacking())}

    res, got = replay_on_fork(simulate(name), steps=steps, check=check)
    assert_rounding_only(res)
    assert res.summary["reverts"] == [], res.summary["reverts"]
    assert got["claims_pnl"] > 0  # the claim is still open at the last step replayed
    assert got["backing"] - got["realised"] == got["claims_pnl"]
