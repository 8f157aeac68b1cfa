"""Flatten a Scenario into the params dict the policies read.

Policies take plain numbers (bps already turned into fractions; rates and caps per hour, which a
policy turns into per-step amounts with the step's length `x["dt_hours"]`, so a run can take finer
steps through a shock) so the maths reads like the spec; the flattening lives here, once.
"""
from __future__ import annotations

import numpy as np

from sim.config import Behaviour, Scenario, SignalWeights
from sim.model import amm
from sim.model.venues import HOLDER_CLASSES, build_venues


def hyb_liquidity(pool_usd: float, price: float, width: float = 20.0) -> tuple[float, float, float]:
    """L and sqrt bounds of the HYB/USDC position: `pool_usd` of value between price/width and price*width."""
    s, sa, sb = np.sqrt(price), np.sqrt(price / width), np.sqrt(price * width)
    usd_per_L = (1 / s - 1 / sb) * price + (s - sa)
    return pool_usd / usd_per_L, sa, sb


def make_params(sc: Scenario) -> dict:
    p, a, pool = sc.protocol, sc.agents, sc.pool
    hyb_L, hyb_sa, hyb_sb = hyb_liquidity(pool.hyb_pool_usd, pool.hyb_price_start)
    venues = build_venues(sc)
    buy = p.reserve.buy
    lp = a.liquidity_providers
    return {
        "depeg_threshold": sc.depeg_threshold,
        # pool
        "curve": venues[0].curve,
        "venues": venues,
        "pool_fee": pool.fee_fraction,
        "hyb_curve": amm.Curve.from_positions([(hyb_sa**2, hyb_sb**2, hyb_L)]),
        "hyb_fee": pool.hyb_fee_fraction,
        # sleeves and hedge
        "w_tbill": p.weights.tbill, "w_btc": p.weights.btc, "w_xau": p.weights.xau, "w_buffer": p.weights.buffer,
        "initial_margin": p.hedge.initial_margin_ratio,
        "maintenance_margin": p.hedge.maintenance_margin_ratio,
        "liquidation_penalty": p.hedge.liquidation_penalty_bps / 1e4,
        "margin_sweep": p.hedge.margin_sweep_ratio,
        "rehedge_per_hour": p.hedge.rehedge_per_hour,
        "premium_per_funding": p.hedge.premium_per_funding_8h,
        "margin_waterfall": tuple(p.hedge.margin_waterfall),
        "transfer_latency_hours": p.hedge.transfer_latency_hours,
        "liquidation_fill_per_hour": p.hedge.liquidation_fill_per_hour,
        "max_substep_move": p.hedge.max_move_per_substep_bps / 1e4,
        "max_substeps": p.hedge.max_substeps,
        "tbill_instant_limit_day": p.tbill.instant_redemption_limit_usd_per_day,
        "tbill_settlement_hours": p.tbill.settlement_hours,
        # fees, caps (per hour: a step of dt hours gets dt x the hourly cap)
        "mint_fee": p.fees.mint_fee_bps / 1e4,
        "redeem_fee": p.fees.redeem_fee_bps / 1e4,
        "redeem_cap_per_hour": p.caps.redeem_cap_usd_per_hour,
        "mint_cap_per_hour": p.caps.mint_cap_usd_per_hour,
        # revenue, reserve, backstop, PSM, breakers
        "staker_share": p.revenue.staker_share,
        "distribution_interval": p.revenue.distribution_interval_hours,
        "distribute_carry_only": p.revenue.distribute == "carry",
        "reserve_draw_per_hour": p.reserve.max_draw_usd_per_hour,
        "reserve_buy": buy.enabled,
        "reserve_buy_trigger": buy.trigger_price,
        "reserve_buy_per_hour": buy.budget_usd_per_hour,
        "reserve_buy_venue": next(i for i, v in enumerate(venues) if v.name == (buy.venue or pool.name)),
        "reserve_buy_burns": buy.then == "burn",
        "reserve_buy_backstop": buy.fund_with_backstop,
        "publish_interval_hours": p.disclosure.publish_interval_hours,
        "tbill_bank_hours": sc.calendar.tbill_redemption == "bank_hours",
        "backstop_enabled": p.backstop.enabled,
        "backstop_sale_day": p.backstop.max_sale_usd_per_day,
        "backstop_trigger": p.backstop.trigger_deficit_bps / 1e4,
        "psm_enabled": p.psm.enabled,
        "psm_fee": p.psm.fee_bps / 1e4,
        "psm_ceiling": p.psm.ceiling_usd,
        "pause_on_stale": p.circuit_breaker.pause_mint_on_stale_oracle,
        "max_oracle_deviation_bps": p.circuit_breaker.max_oracle_deviation_bps,
        "rebalance_per_hour": p.rebalance.speed_per_hour,
        "rebalance_cost": p.rebalance.cost_bps / 1e4,
        "unwind_cost": p.rebalance.unwind_cost_bps / 1e4,
        "unwind_cap_per_hour": p.rebalance.max_unwind_usd_per_hour,
        # agents
        "arb_enabled": a.arbitrageurs.enabled,
        "arb_edge": a.arbitrageurs.min_edge_bps / 1e4,
        "arb_gas_usd": a.arbitrageurs.gas_usd,
        "xarb_capital_usd": a.arbitrageurs.cross_venue_capital_usd,
        "parb_capital_usd": a.arbitrageurs.patient_capital_usd,
        "parb_hurdle_apr": a.arbitrageurs.patient_hurdle_apr,
        "holders": {c: behaviour(getattr(a, c).behaviour) for c in HOLDER_CLASSES},
        "loopers_derisk": behaviour(a.loopers.derisk),
        "staker_cooldown_hours": a.stakers.cooldown_hours,
        "lp_weights": weights(lp.weights),
        "lp_threshold": lp.threshold,
        "lp_pull_per_alarm": lp.pull_per_alarm,
        "lp_max_pull": lp.max_pull,
        "lp_pull_hours": lp.pull_hours,
        "lp_return_hours": lp.return_hours,
        "retail_noise_per_hour": a.retail.noise_flow_usd_per_hour,
        "loop_max_ltv": a.loopers.max_ltv,
        "loop_liq_ltv": a.loopers.liquidation_ltv,
        "loop_liq_bonus": a.loopers.liquidation_bonus_bps / 1e4,
        "loop_close_factor": a.loopers.close_factor,
        "loop_liquidations_per_hour": a.loopers.liquidations_per_hour,
        "loop_speed_per_hour": a.loopers.lever_speed_per_hour,
        "loop_min_spread": a.loopers.min_spread_apr,
        "lending_supply": a.loopers.lending_supply_usd,
        "borrow_base": a.loopers.borrow_rate.base_apr,
        "borrow_slope": a.loopers.borrow_rate.slope_apr,
        "borrow_kink": a.loopers.borrow_rate.kink,
        "borrow_jump": a.loopers.borrow_rate.jump_slope_apr,
        "retail_btc_leverage": a.retail.btc_leverage,
        "growth_enabled": a.growth.enabled,
        "growth_base_day": a.growth.base_rate_per_day,
        "growth_yield_sens_day": a.growth.yield_sensitivity_per_day,
        "growth_depeg_penalty_day": a.growth.depeg_penalty_per_day,
        "growth_max_day": a.growth.max_rate_per_day,
        "holder_weights": _holder_weights(sc),
        "dats": tuple({
            "covenant_ltv": c.covenant_ltv,
            "maturity_hour": np.inf if c.maturity_hours is None else c.maturity_hours,
            "mnav_beta": c.mnav_sentiment_beta,
            "mnav_adjust_per_day": c.mnav_adjust_per_day,
            "mnav_start": c.mnav_start,
            "buyback_per_hour": c.sell_rate_below_nav_per_hour,
        } for c in a.treasury_companies),
    }


SIGNALS = tuple(SignalWeights.model_fields)


def weights(w: SignalWeights) -> tuple[float, ...]:
    """Signal weights in the order of SIGNALS."""
    return tuple(float(getattr(w, k)) for k in SIGNALS)


def behaviour(b: Behaviour) -> dict:
    return {"reaction_hours": b.reaction_hours, "cohorts": b.cohorts, "exit_per_hour": b.exit_rate_per_hour,
            "exit_span": b.exit_span,
            "weights": weights(b.weights), "limit_price": max(1 - b.sell_limit_discount_bps / 1e4, 0.0)}


def _holder_weights(sc: Scenario) -> tuple[float, float, float]:
    """How new deposits split between institutions, retail and stakers (their shares of supply)."""
    a = sc.agents
    w = np.array([a.institutional.share_of_supply, a.retail.share_of_supply, a.stakers.share_of_supply])
    return tuple((w / w.sum()).tolist()) if w.sum() > 0 else (1.0, 0.0, 0.0)
