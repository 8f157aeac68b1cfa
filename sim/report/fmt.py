"""Numbers and names as a reader wants them: units from the key's suffix, a few significant digits,
labels instead of dotted paths. One place, used by every report, the notebook view and the dashboard."""
from __future__ import annotations

import math

# Suffix (or whole-name) rules, first match wins: (test, unit, kind).
_PERCENT_WORDS = ("probability", "share", "apy", "apr", "drawdown", "supply_change", "_pct_")


def unit_of(key: str) -> str:
    """'usd', 'bps', 'pct', 'hours', 'days', 'ratio', 'price', 'count' or '' from a metric or column name."""
    k = key.lower()
    if k.endswith("_usd") or k.endswith("_usd_mean") or "_usd_" in k or k.startswith("loss_"):
        return "usd"
    if k.endswith("_bps") or "_bps_" in k:
        return "bps"
    if k.endswith("_pct"):
        return "pct100"
    if any(w in k for w in _PERCENT_WORDS) or k.endswith("_apr") or k.startswith("weights_") or k == "tbill_yield":
        return "pct"
    if k.endswith("_hours") or "_hours_" in k or k == "hour" or k.startswith("hours_"):
        return "hours"
    if k.endswith("_days") or "_days_" in k:
        return "days"
    if "ratio" in k:
        return "ratio"
    if "price" in k or k.startswith("peg") or k.endswith("_level") or k.endswith("threshold"):
        return "price"
    if k in ("runs", "episodes", "unrecovered_episodes", "depeg_episodes", "point", "run", "seed"):
        return "count"
    return ""


def sig(v: float, digits: int = 3) -> str:
    """`digits` significant digits, no exponent for everyday magnitudes, thousands separated."""
    if v == 0:
        return "0"
    mag = math.floor(math.log10(abs(v)))
    decimals = max(0, digits - 1 - mag)
    if abs(v) >= 1e15 or abs(v) < 1e-6:
        return f"{v:.{digits - 1}e}"
    return f"{v:,.{decimals}f}"


def usd(v: float) -> str:
    a = abs(v)
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{'-' if v < 0 else ''}${sig(a / div)}{suffix}"
    return f"{'-' if v < 0 else ''}${sig(a)}"


def fmt(v, unit: str = "", digits: int = 3) -> str:
    """One value in its unit; None/NaN as an em dash, infinity as 'never'."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, str):
        return v
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(v):
        return "—"
    if math.isinf(v):
        return "never" if unit in ("days", "hours") else ("∞" if v > 0 else "-∞")
    if unit == "usd":
        return usd(v)
    if unit == "bps":
        return f"{sig(v, digits)} bps"
    if unit == "pct":
        return f"{sig(v * 100, digits)} %"
    if unit == "pct100":
        return f"{sig(v, digits)} %"
    if unit == "hours":
        return f"{sig(v, digits)} h"
    if unit == "days":
        return f"{sig(v, digits)} d"
    if unit == "ratio":
        return f"{v:.5f}" if abs(v - 1) < 0.01 else sig(v, 4)
    if unit == "price":
        return f"{v:.4f}" if abs(v) < 10 else sig(v, 4)
    if unit == "count":
        return f"{v:,.0f}"
    return sig(v, digits)


def fmt_ci(ci, unit: str = "") -> str:
    """'[low, high]' in the unit; a side with too few runs to bound shows as '?'."""
    if not ci or not isinstance(ci, (list, tuple)) or len(ci) != 2:
        return ""
    lo, hi = ci
    return f"[{'?' if lo is None else fmt(lo, unit)}, {'?' if hi is None else fmt(hi, unit)}]"


# Words a reader knows; the rest of a name is de-underscored.
_WORDS = {"usd": "($)", "bps": "(bps)", "pct": "(%)", "btc": "BTC", "xau": "gold", "hyb": "HYB", "husd": "HUSD",
          "tbill": "T-bill", "apy": "APY", "apr": "APR", "psm": "PSM", "ltv": "LTV", "8h": "(per 8 h)",
          "p5": "p5", "p50": "median", "p95": "p95", "p99": "p99", "ci95": "95 % CI", "dat": "treasury co."}
_LABELS = {
    "reserve_initial_usd": "Initial reserve fund ($)", "weights_btc": "BTC share of backing",
    "weights_tbill": "T-bill share of backing", "weights_xau": "Gold share of backing",
    "weights_buffer": "USDC buffer share", "depeg_probability": "Depeg probability",
    "insolvency_probability": "Insolvency probability", "reserve_depletion_probability": "Reserve-depletion probability",
    "hedge_liquidation_probability": "Hedge-liquidation probability", "max_depeg_bps": "Max depeg (bps)",
    "min_peg_price": "Lowest pool price", "peg_price": "HUSD pool price", "backing_ratio": "Backing ratio",
    "reserve_fund_usd": "Reserve fund ($)", "supply": "HUSD supply ($)", "hyb_price": "HYB price",
    "btc_usd": "BTC price ($)", "funding_rate_8h_btc": "BTC funding (per 8 h)",
    "hours_below_threshold": "Hours below the depeg threshold", "time_to_repeg_hours": "Time to re-peg (h)",
    "min_backing_ratio": "Lowest backing ratio", "reserve_fund_min_usd": "Lowest reserve fund ($)",
    "reserve_runway_days": "Reserve runway (days)", "staker_apy": "Staker APY", "hyb_drawdown": "HYB drawdown",
    "redeemed_usd": "Redeemed ($)", "losses_by_class_usd": "Mean loss by holder class ($)",
}


def label(name: str) -> str:
    """'protocol.reserve.initial_usd' or 'reserve_initial_usd' -> 'Initial reserve fund ($)'."""
    key = name.split(".")[-2] + "_" + name.split(".")[-1] if "." in name else name
    if key in _LABELS:
        return _LABELS[key]
    if name in _LABELS:
        return _LABELS[name]
    words = [_WORDS.get(w, w) for w in key.split("_") if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:]
