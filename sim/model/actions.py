"""The protocol's own actions, one function each, as the contracts expose them.

The policies decide *when* and *how much*; these functions say *what happens* to the protocol's books
when the Minter mints or redeems, the PSM swaps, the reserve fund pays or is paid, the backstop sells
HYB, or rewards go to the sHUSD vault. Each mutates the state dict `s` in place (scalars or arrays
over runs) and keeps the value ledger (`cum_*`) and the holder balances in step, so supply always
equals the sum of balances. The contract tests apply the same functions to check the chain against
the model action by action.

Caps are the callers' business (they size `husd` with `*_room`, over a step of `dt` hours); the
functions record their use.
"""
from __future__ import annotations

import numpy as np

from sim.model.parts.common import pay_out, redeem_capacity, safe_div


# --- Minter -----------------------------------------------------------------------------------------
def mint_room(p: dict, s: dict, dt):
    """HUSD the Minter can issue this step: what is left of the step's cap, nothing while paused."""
    cap = p["mint_cap_per_hour"] * s["cap_multiplier"] * dt
    return np.where(s["mint_paused"] > 0, 0.0, np.maximum(cap - s["mint_cap_used_usd"], 0.0))


def redeem_room(p: dict, s: dict, dt):
    """HUSD the Minter can redeem this step: the step's cap and the instant liquidity behind it."""
    cap_left = np.maximum(p["redeem_cap_per_hour"] * s["cap_multiplier"] * dt - s["redeem_cap_used_usd"], 0.0)
    return np.minimum(cap_left, redeem_capacity(p, s, dt) / (1 - p["redeem_fee"]))


def issue(s: dict, husd, collateral_usd) -> None:
    """New HUSD against collateral that entered the backing: supply and the value ledger move together."""
    s["supply"] = s["supply"] + husd
    s["minted_husd"] = s["minted_husd"] + husd
    s["cum_collateral_in"] = s["cum_collateral_in"] + collateral_usd


def minter_mint(p: dict, s: dict, husd, to: str = "float_husd", fee=None):
    """Minter.mint: `husd` issued to balance `to` for husd / (1 - fee) of USDC into the buffer (the fee
    stays in the backing as surplus). Returns the USDC paid."""
    fee = p["mint_fee"] if fee is None else fee
    paid = safe_div(husd, 1 - fee)
    s["buffer_usd"] = s["buffer_usd"] + paid
    s["mint_cap_used_usd"] = s["mint_cap_used_usd"] + husd
    s[to] = s[to] + husd
    issue(s, husd, paid)
    return paid


def minter_redeem(p: dict, s: dict, husd, holder: str = "float_husd"):
    """Minter.redeem: burn `husd` from `holder`, pay husd x (1 - fee) out of the backing in waterfall
    order (buffer, instant T-bills, crypto unwinds). Returns the USD paid."""
    paid = husd * (1 - p["redeem_fee"])
    pay_out(p, s, paid)
    s[holder] = s[holder] - husd
    _burn(s, husd)
    s["redeem_cap_used_usd"] = s["redeem_cap_used_usd"] + husd
    return paid


def _burn(s: dict, husd) -> None:
    s["supply"] = s["supply"] - husd
    s["burned_husd"] = s["burned_husd"] + husd
    s["redeemed_usd"] = s["redeemed_usd"] + husd


# --- PSM --------------------------------------------------------------------------------------------
def psm_swap_out(p: dict, s: dict, husd, holder: str = "float_husd"):
    """PSM.swapOut: `husd` in, burned; USDC out of the PSM at 1 - fee. Returns the USDC paid."""
    paid = husd * (1 - p["psm_fee"])
    s["psm_usdc"] = s["psm_usdc"] - paid
    s["psm_minted"] = np.maximum(s["psm_minted"] - husd, 0.0)
    s[holder] = s[holder] - husd
    _burn(s, husd)
    s["cum_collateral_out"] = s["cum_collateral_out"] + paid
    return paid


def psm_swap_in(p: dict, s: dict, husd, to: str = "float_husd"):
    """PSM.swapIn: USDC in (husd / (1 - fee)), `husd` issued up to the ceiling. Returns the USDC paid."""
    paid = safe_div(husd, 1 - p["psm_fee"])
    s["psm_usdc"] = s["psm_usdc"] + paid
    s["psm_minted"] = s["psm_minted"] + husd
    s[to] = s[to] + husd
    issue(s, husd, paid)
    return paid


def psm_room_out(p: dict, s: dict):
    """HUSD the PSM can take this step: as much as its USDC pays for."""
    return safe_div(s["psm_usdc"], 1 - p["psm_fee"])


def psm_room_in(p: dict, s: dict):
    """HUSD the PSM can issue: what is left under its ceiling."""
    return np.maximum(p["psm_ceiling"] - s["psm_minted"], 0.0)


# --- Reserve fund, backstop, sHUSD vault -------------------------------------------------------------
def reserve_pay(p: dict, s: dict, usd, dt):
    """ReserveFund.payFunding: up to `usd` from the reserve into the buffer, within its hourly limit over
    a step of dt hours. Returns what was paid."""
    draw = np.minimum(np.minimum(usd, s["reserve_fund_usd"]), p["reserve_draw_per_hour"] * dt)
    s["reserve_fund_usd"] = s["reserve_fund_usd"] - draw
    s["reserve_drawn_usd"] = s["reserve_drawn_usd"] + draw
    s["buffer_usd"] = s["buffer_usd"] + draw
    return draw


def reserve_deposit(s: dict, usd):
    """ReserveFund.deposit: up to `usd` moved from the buffer into the reserve. Returns what moved."""
    moved = np.minimum(usd, np.maximum(s["buffer_usd"], 0.0))
    s["buffer_usd"] = s["buffer_usd"] - moved
    s["reserve_fund_usd"] = s["reserve_fund_usd"] + moved
    s["reserve_added_usd"] = s["reserve_added_usd"] + moved
    return moved


def hyb_sale_for_usd(p: dict, sqrt_p, usd):
    """HYB to sell into the HYB/USDC pool to raise `usd` (exact output), and the new sqrt price.

    Closed form on the single HYB position: selling HYB lowers s by Δy/L; the fee is on the HYB in.
    The sale stops at the position's lower bound (no liquidity below).
    """
    curve = p["hyb_curve"]
    L, s_lo = curve.seg_L[0], curve.bounds[0]
    dy = np.minimum(usd, np.maximum(sqrt_p - s_lo, 0.0) * L)
    s_new = sqrt_p - dy / L
    hyb_in = safe_div(L * (1 / s_new - 1 / sqrt_p), 1 - p["hyb_fee"])
    return hyb_in, s_new, dy


def backstop_sale_room(p: dict, s: dict):
    """USD the backstop may still raise today (its daily sale limit)."""
    return np.maximum(p["backstop_sale_day"] - s["backstop_day_used_usd"], 0.0)


def backstop_recapitalize(p: dict, s: dict, usd, tape=None):
    """Backstop.recapitalize: sell HYB into its pool for up to `usd` of USDC into the buffer. Returns
    the USD raised."""
    before = s["hyb_sqrt_price"]
    hyb_in, s_new, raised = hyb_sale_for_usd(p, before, usd)
    s["hyb_sqrt_price"] = s_new
    s["hyb_sold"] = s["hyb_sold"] + hyb_in
    s["buffer_usd"] = s["buffer_usd"] + raised
    s["backstop_day_used_usd"] = s["backstop_day_used_usd"] + raised
    s["cum_backstop_in"] = s["cum_backstop_in"] + raised
    if tape is not None:
        from sim.model.tape import HYB_POOL

        tape.record("backstop", HYB_POOL, True, hyb_in, hyb_in, raised, before, s_new)
    return raised


def distribute_rewards(s: dict, husd) -> None:
    """Minter.distributeRewards: `husd` issued into the sHUSD vault (the share price rises). The
    backing already holds the surplus it pays out, so nothing enters the value ledger."""
    s["supply"] = s["supply"] + husd
    s["minted_husd"] = s["minted_husd"] + husd
    s["vault_husd"] = s["vault_husd"] + husd
    s["staker_rewards_usd"] = s["staker_rewards_usd"] + husd

