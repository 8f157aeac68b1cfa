"""Digital-asset treasury companies (DATs): listed holders of BTC, HUSD and HYB financed with equity
and debt. Their equity trades at NAV x mNAV; mNAV follows sentiment. Below NAV they sell holdings to
buy back stock; when the LTV covenant binds, or the debt falls due while they trade below NAV, the
sale is forced. Sales go HYB first, then BTC, then HUSD — into the HYB and HUSD pools."""
from __future__ import annotations

import numpy as np

from sim.model import amm
from sim.model.parts.common import per_step, safe_div
from sim.model.state import COMPANY_VARS
from sim.model.tape import HYB_POOL

SENTIMENT_HORIZON_HOURS = 720.0  # sentiment reads as a 30-day NAV log return

def dats_vars(p: dict) -> tuple[str, ...]:
    """What the block owns: the pools it sells into, the float, and each company's books."""
    return ("hyb_sqrt_price", "pool_sqrt_price", "float_husd",
            *(f"dat{i}_{k}" for i in range(len(p["dats"])) for k in COMPANY_VARS))


def _sell_holdings(p, o, x, i, usd):
    """Raise about `usd` by selling company i's HYB, then BTC, then HUSD. Returns USD raised.
    Both pool sales go on the tape, if the step carries one."""
    tape = x.get("tape")
    btc, hyb_price = o["btc_usd"], o["hyb_sqrt_price"] ** 2
    # HYB into its pool (HYB is token0: selling it lowers its price)
    hyb_amt = np.minimum(o[f"dat{i}_hyb"], safe_div(np.maximum(usd, 0.0), hyb_price))
    before = o["hyb_sqrt_price"]
    got_hyb, s_new, _f, used = amm.swap_exact_in(before, hyb_amt, np.ones_like(hyb_amt, dtype=bool),
                                                 p["hyb_curve"], 1.0, p["hyb_fee"])
    if tape is not None:
        tape.record("treasury_company", HYB_POOL, True, hyb_amt, used, got_hyb, before, s_new)
    o["hyb_sqrt_price"] = s_new
    o[f"dat{i}_hyb"] = o[f"dat{i}_hyb"] - used
    rest = np.maximum(usd - got_hyb, 0.0)
    # BTC at the market price (the BTC market is deep next to these sales: no impact modelled)
    btc_amt = np.minimum(o[f"dat{i}_btc_units"], safe_div(rest, btc))
    o[f"dat{i}_btc_units"] = o[f"dat{i}_btc_units"] - btc_amt
    got_btc = btc_amt * btc
    rest = np.maximum(rest - got_btc, 0.0)
    # HUSD into the HUSD/USDC pool
    price = o["pool_sqrt_price"] ** 2
    husd_amt = np.minimum(o[f"dat{i}_husd"], safe_div(rest, price))
    before = o["pool_sqrt_price"]
    got_husd, sp, _f, used_h = amm.swap_exact_in(before, husd_amt, np.ones_like(husd_amt, dtype=bool),
                                                 p["curve"], o["pool_depth"], p["pool_fee"])
    if tape is not None:
        tape.record("treasury_company", p["venues"][0].name, True, husd_amt, used_h, got_husd, before, sp)
    o["pool_sqrt_price"] = sp
    o[f"dat{i}_husd"] = o[f"dat{i}_husd"] - used_h
    o["float_husd"] = o["float_husd"] + used_h
    o[f"dat{i}_loss_usd"] = o[f"dat{i}_loss_usd"] + (used_h - got_husd)
    return got_hyb + got_btc + got_husd


def p_dats(p: dict, s: dict, x: dict) -> dict:
    """Spec: equity = holdings x mNAV, mNAV follows sentiment (recent returns); when mNAV < 1 or a
    covenant binds they sell holdings (HYB first, then BTC/HUSD), feeding the pools."""
    # Parameters
    dt = x["dt_hours"]
    w = 1 - np.exp(-dt / SENTIMENT_HORIZON_HOURS)  # sentiment: an exponential average read over ~30 days
    # State Variables
    o = {k: s[k] for k in dats_vars(p)}
    o.update(btc_usd=s["btc_usd"], pool_depth=s["pool_depth"])
    hour = x["hour"]
    for i, c in enumerate(p["dats"]):
        price, hyb_price = o["pool_sqrt_price"] ** 2, o["hyb_sqrt_price"] ** 2
        assets = o[f"dat{i}_btc_units"] * o["btc_usd"] + o[f"dat{i}_husd"] * price + o[f"dat{i}_hyb"] * hyb_price
        # sentiment: an exponential average of the holdings' log return, read over 30 days
        r = np.log(np.maximum(assets, 1.0) / np.maximum(o[f"dat{i}_assets_usd"], 1.0))
        sent = o[f"dat{i}_sentiment"] + w * (r * SENTIMENT_HORIZON_HOURS / dt - o[f"dat{i}_sentiment"])
        target = np.clip(c["mnav_start"] * np.exp(c["mnav_beta"] * sent), 0.2, 5.0)
        mnav = o[f"dat{i}_mnav"] + min(1.0, c["mnav_adjust_per_day"] * dt / 24) * (target - o[f"dat{i}_mnav"])
        debt = o[f"dat{i}_debt_usd"]
        # forced: back under 90 % of the covenant, or repay (over ~20 h) debt due while below NAV
        cov = 0.9 * c["covenant_ltv"]
        over = (debt > 0) & (safe_div(debt, assets) > c["covenant_ltv"])
        need = np.where(over, (debt - cov * assets) / (1 - cov), 0.0)
        due = (debt > 0) & (hour >= c["maturity_hour"]) & (mnav < 1)
        need = np.maximum(need, np.where(due, np.minimum(debt, debt * 0.05 * dt + 1.0), 0.0))
        raised = _sell_holdings(p, o, x, i, need)
        repaid = np.minimum(raised, debt)
        o[f"dat{i}_debt_usd"] = np.where(debt - repaid < 1.0, 0.0, debt - repaid)  # no dust loans
        o[f"dat{i}_forced_usd"] = o[f"dat{i}_forced_usd"] + raised
        # below NAV (and not forced): sell a slice of holdings to buy back stock
        price, hyb_price = o["pool_sqrt_price"] ** 2, o["hyb_sqrt_price"] ** 2
        assets = o[f"dat{i}_btc_units"] * o["btc_usd"] + o[f"dat{i}_husd"] * price + o[f"dat{i}_hyb"] * hyb_price
        buy_back = np.where((mnav < 1) & (need <= 0), per_step(c["buyback_per_hour"], dt) * assets, 0.0)
        o[f"dat{i}_buyback_usd"] = o[f"dat{i}_buyback_usd"] + _sell_holdings(p, o, x, i, buy_back)
        price, hyb_price = o["pool_sqrt_price"] ** 2, o["hyb_sqrt_price"] ** 2
        o[f"dat{i}_assets_usd"] = (o[f"dat{i}_btc_units"] * o["btc_usd"] + o[f"dat{i}_husd"] * price
                                   + o[f"dat{i}_hyb"] * hyb_price)
        o[f"dat{i}_mnav"] = mnav
        o[f"dat{i}_sentiment"] = sent
    del o["btc_usd"], o["pool_depth"]
    return o
