"""Model vs chain: the compared figures, what "rounding only" means, the divergence reports, the files.

Pure numpy/pandas over the replay's frame (one row per step, `sim_<f>` and `chain_<f>` per field);
no Ape. `assert_rounding_only(result)` is what the fork suite and users' stress tests assert.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

FIELDS = ("supply", "pool_price", "reserve_fund", "backing", "hyb_price", "psm_usdc", "mint_cap_used", "redeem_cap_used",
          "mint_paused", "reserve_husd")
CAP_FIELDS = ("mint_cap_used", "redeem_cap_used")

# What "rounding only" means per field: |chain - sim| <= abs_per_step x (step + 1) + rel x |sim|.
# Base units are floored once per call (USDC 1e-6, so a few 1e-6 per step, accumulating in supply, reserve
# and PSM USDC); feeds answer with 8 decimals (a relative 5e-9 on each sleeve's price, hence backing);
# the pool price goes through sqrtPriceX96 (exact to ~1e-15 relative).
ROUNDING_TOLERANCE = {
    "supply": (1e-5, 1e-12),
    "pool_price": (0.0, 1e-12),
    "reserve_fund": (1e-5, 1e-12),
    "backing": (1e-2, 1e-8),
    "psm_usdc": (1e-5, 1e-12),
    "mint_cap_used": (1e-5, 1e-12),
    "redeem_cap_used": (1e-5, 1e-12),
    "hyb_price": (0.0, 1e-9),
    "mint_paused": (0.0, 0.0),
    "reserve_husd": (1e-5, 1e-12),  # HUSD the reserve bought back and holds
}


def sim_fields(row) -> dict:
    """The model's side of each compared field at one step (caps used: in the step; `cap_used_per_chain_hour`
    turns them into what the Minter's per-hour counter holds)."""
    return {
        "supply": float(row.supply), "pool_price": float(row.pool_sqrt_price) ** 2,
        "reserve_fund": float(row.reserve_fund_usd), "backing": float(row.backing_usd), "hyb_price": float(row.hyb_price),
        "psm_usdc": float(row.psm_usdc), "mint_cap_used": float(row.mint_cap_used_usd),
        "redeem_cap_used": float(row.redeem_cap_used_usd), "mint_paused": float(float(row.mint_paused) > 0),
        "reserve_husd": float(row.reserve_husd),
    }


def cap_used_per_chain_hour(used, chain_hour, hours_per_step: int):
    """The model's cap use per step -> what the Minter's per-hour counter reads at that step's chain hour.

    Steps of an hour or less: the hour's counter holds every step in it so far (the model caps each step at
    cap x step_hours, so an hour's steps stay within the hourly cap). A step of n whole hours is sent a chain
    hour at a time: the counter of its last hour holds 1/n of it.
    """
    used, chain_hour = np.asarray(used, float), np.asarray(chain_hour)
    if hours_per_step > 1:
        return used / hours_per_step
    out = np.empty_like(used)
    run, last = 0.0, None
    for k, (u, h) in enumerate(zip(used, chain_hour)):
        run = run + u if h == last else u
        out[k], last = run, h
    return out


def rounding_check(frame, fields=None) -> dict:
    """Per field: whether every step is within rounding (ROUNDING_TOLERANCE), and the first step that
    is not, with the sim and chain values there. Steps where the chain read failed (NaN) count as beyond."""
    out = {}
    steps = frame["step"].to_numpy(float)
    for f in fields or ROUNDING_TOLERANCE:
        abs_step, rel = ROUNDING_TOLERANCE[f]
        s, ch = frame[f"sim_{f}"].to_numpy(float), frame[f"chain_{f}"].to_numpy(float)
        tol = abs_step * (steps + 1) + rel * np.abs(s)
        bad = ~(np.abs(ch - s) <= tol)
        if bad.any():
            i = int(np.argmax(bad))
            out[f] = {"ok": False, "first_step": int(steps[i]), "sim": float(s[i]), "chain": float(ch[i]),
                      "tolerance": float(tol[i]), "steps_beyond": int(bad.sum())}
        else:
            out[f] = {"ok": True}
    return out


def assert_rounding_only(result_or_frame, fields=None) -> None:
    """Raise AssertionError naming the first step and field whose sim-vs-chain gap is beyond rounding."""
    frame = getattr(result_or_frame, "frame", result_or_frame)
    bad = {f: v for f, v in rounding_check(frame, fields).items() if not v["ok"]}
    if bad:
        lines = [f"{f}: step {v['first_step']}: chain {v['chain']!r} vs sim {v['sim']!r} "
                 f"(|gap| {abs(v['chain'] - v['sim']):.6g} > rounding {v['tolerance']:.3g}; {v['steps_beyond']} steps beyond)"
                 for f, v in sorted(bad.items(), key=lambda kv: kv[1]["first_step"])]
        raise AssertionError("sim vs chain beyond rounding:\n  " + "\n  ".join(lines))


def divergence(frame) -> dict:
    """Max absolute and relative sim-vs-chain gap per field, with the step where it is largest."""
    out = {}
    for f in FIELDS:
        s, ch = frame[f"sim_{f}"].to_numpy(float), frame[f"chain_{f}"].to_numpy(float)
        a = np.abs(ch - s)
        rel = a / np.maximum(np.abs(s), 1e-12)
        i = int(np.argmax(a)) if a.size else 0
        out[f] = {"max_abs": float(a.max()) if a.size else 0.0, "max_rel": float(rel.max()) if a.size else 0.0,
                  "step": int(frame["step"].iloc[i]) if a.size else 0}
    return out


def pool_maths_divergence(frame) -> dict:
    """Chain swap amounts vs the simulator's pool maths on the same curve (should be rounding only)."""
    out = {}
    for tok in ("husd", "usdc"):
        ch, m = frame[f"pool_{tok}_chain"].to_numpy(float), frame[f"pool_{tok}_maths"].to_numpy(float)
        a = np.abs(ch - m)
        rel = a / np.maximum(np.abs(m), 1e-9)
        moved = np.abs(m) > 1.0  # ignore dust swaps for the relative figure
        out[tok] = {"max_abs": float(a.max()) if a.size else 0.0,
                    "max_rel": float(rel[moved].max()) if moved.any() else 0.0}
    return out


def trades_summary(frame) -> dict:
    """The model's pool trades sent one by one: how many, their proceeds vs the model's, and what the
    closing swap to the model's price still had to move (rounding, the curve's tick snapping)."""
    return {"replayed": True, "count": int(frame["trades"].sum()), "hyb_count": int(frame["hyb_trades"].sum()),
            # vs the simulator's pool maths on the chain's own (tick-snapped) curve: rounding
            "maths_max_rel": float(frame["trade_maths_max_rel"].max()) if len(frame) else 0.0,
            # vs the trade the model recorded on its exact curve: the range bounds' snapping to ticks
            "out_max_rel": float(frame["trade_out_max_rel"].max()) if len(frame) else 0.0,
            "closing_swap_max_usdc": float(frame["pool_usdc_chain"].abs().max()) if len(frame) else 0.0}


def buy_back_divergence(frame) -> dict:
    """The reserve's buy-backs: how many, USDC spent and HUSD bought on chain vs in the model, the largest
    relative gap in a step (0 when the scenario's reserve does not buy)."""
    if "buy_backs" not in frame:
        return {"count": 0}
    out = {"count": int(frame["buy_backs"].sum())}
    for leg in ("usdc", "husd"):
        ch, m = frame[f"buy_back_{leg}_chain"].to_numpy(float), frame[f"buy_back_{leg}_model"].to_numpy(float)
        on = np.abs(m) > 1e-6
        out[f"{leg}_chain"], out[f"{leg}_model"] = float(ch.sum()), float(m.sum())
        out[f"{leg}_max_rel"] = float((np.abs(ch - m)[on] / np.abs(m[on])).max()) if on.any() else 0.0
    return out


def backstop_divergence(frame) -> dict:
    """USDC the backstop's HYB sales raised on chain vs in the model (the chain's HYB position is the
    model's on the pool's tick spacing, so a sale reaching a bound differs by the snapped sliver)."""
    ch, m = frame["backstop_usdc_chain"].to_numpy(float), frame["backstop_usdc_model"].to_numpy(float)
    sold = np.abs(m) > 1.0
    return {"sales": int(sold.sum()), "usdc_chain": float(ch.sum()), "usdc_model": float(m.sum()),
            "max_rel": float((np.abs(ch - m)[sold] / np.abs(m[sold])).max()) if sold.any() else 0.0}


def write_results(run_dir: Path, result) -> tuple[Path, Path]:
    """chain_replay.parquet, chain_replay.json (and chain_deployment.json, the deployment the replay worked
    from), each written to a temp file and renamed: a run directory holds a whole replay's files or none."""
    run_dir = Path(run_dir)
    pq, js, dep = run_dir / "chain_replay.parquet", run_dir / "chain_replay.json", run_dir / "chain_deployment.json"
    tmp = [pq.with_suffix(".parquet.tmp"), js.with_suffix(".json.tmp"), dep.with_suffix(".json.tmp")]
    try:
        result.frame.to_parquet(tmp[0], index=False)
        tmp[1].write_text(json.dumps(result.summary, indent=2, default=_json_default) + "\n")
        if getattr(result, "deployment", None):
            tmp[2].write_text(json.dumps(result.deployment, indent=2) + "\n")
            os.replace(tmp[2], dep)
        os.replace(tmp[0], pq)
        os.replace(tmp[1], js)
    finally:
        for t in tmp:
            t.unlink(missing_ok=True)
    return pq, js


def _json_default(o):
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, (bytes, bytearray)):
        return "0x" + bytes(o).hex()
    return str(o)
