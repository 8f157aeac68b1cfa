"""Replay one simulated run as real transactions and compare the chain's state with the model's: the loop.

    res = replay(run_dir, run=K, network="fork", steps=None)   # writes chain_replay.{parquet,json}, chain_deployment.json

Reads `RUN_DIR/trajectories.parquet` and `scenario.json` (`load_run`), the model's pool trades of run K
(`sim.chain.trades`), connects (`sim.chain.network`), runs genesis (`sim.chain.genesis`: deploy the
scenario's `ProtocolSpec`, write the deployment file, work from it), then one `ReplayChain.run_step` per
model step (`sim.chain.steps`), reading the chain back after each, and compares (`sim.chain.compare`).

A transaction the chain refuses is recorded (step, action, reason) and the replay goes on: that is a
finding, never hidden. A node that stops answering raises `ReplayNodeError`; results are written only at
the end, atomically, so a killed node leaves no file behind. Ape is imported inside the functions only.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.chain import compare
from sim.chain.actor import ReplayError, ReplayNodeError
from sim.chain.compare import write_results
from sim.chain.network import FORK, connected
from sim.chain.spec import CHOICES, ProtocolSpec, SpecError

__all__ = ["ReplayError", "ReplayNodeError", "ReplayResult", "load_run", "replay", "write_results"]

NEEDED_COLUMNS = {
    "run", "hour", "btc_usd", "xau_usd", "supply", "minted_husd", "burned_husd", "psm_usdc", "psm_minted",
    "reserve_fund_usd", "pool_sqrt_price", "pool_depth", "backing_usd", "tbill_units", "tbill_nav", "btc_units",
    "xau_units", "buffer_usd", "btc_margin_usd", "xau_margin_usd", "btc_short_units", "xau_short_units",
    "hyb_price", "mint_cap_used_usd", "redeem_cap_used_usd", "tbill_pending_usd", "staker_rewards_usd",
    "hyb_sqrt_price", "hyb_sold", "cum_backstop_in", "mint_paused", "cap_multiplier", "reserve_added_usd", "reserve_husd"}
# recorded columns a re-simulation must reproduce before it stands in for the run directory
_CHECKED = ("supply", "backing_usd", "reserve_fund_usd", "peg_price", "psm_usdc", "minted_husd", "burned_husd")


@dataclass
class ReplayResult:
    frame: "object"  # pandas DataFrame, one row per step
    summary: dict
    reverts: list[dict] = field(default_factory=list)
    chain: dict = field(default_factory=dict)  # "protocol" and "replay" (a ReplayChain) while connected
    deployment: dict = field(default_factory=dict)  # the deployment file the replay worked from (chain_deployment.json)


def load_run(run_dir: str | os.PathLike, run: int = 0, steps: int | None = None):
    """(scenario, per-step DataFrame of run `run`) from a `tripod run` directory.

    A directory written without `--all-columns` lacks state the replay needs (the PSM's debt, the pool's
    sqrt price, ...): run `run` is then simulated again from its scenario.json (same seed; randomness is
    keyed by (seed, run)) with every column, and checked against the columns that were recorded.
    """
    from sim.config import parse_scenario
    from sim.parquet import read_frame

    run_dir = Path(run_dir)
    traj, scen = run_dir / "trajectories.parquet", run_dir / "scenario.json"
    if not traj.exists() or not scen.exists():
        raise ReplayError(f"{run_dir}: not a run directory (needs trajectories.parquet and scenario.json from `tripod run`)")
    sc = parse_scenario(json.loads(scen.read_text()), str(scen))
    check_step_hours(sc.step_hours, scen)
    df = read_frame(traj)  # single-threaded: a threaded read can abort the process at exit (sim.parquet)
    runs = sorted(int(r) for r in df["run"].unique())
    if run not in runs:
        raise ReplayError(f"{traj}: no run {run} (runs {runs[0]}..{runs[-1]})")
    d = df[df["run"] == run].sort_values("hour").reset_index(drop=True)
    missing = sorted(NEEDED_COLUMNS - set(df.columns))
    if missing:
        d = _resimulate(sc, run, d, traj, missing)
    if steps is not None:
        d = d.iloc[: steps + 1].reset_index(drop=True)
    return sc, d


def check_step_hours(step_hours: float, where) -> None:
    """The chain counts caps per hour: a step must divide an hour (0.25, 0.5) or be whole hours (2, 4)."""
    n = 1 / step_hours if step_hours < 1 else step_hours
    if abs(n - round(n)) > 1e-9:
        raise ReplayError(f"{where}: step_hours {step_hours:g} cannot be replayed: the Minter counts caps per "
                          "chain hour, so a step must divide an hour (0.25, 0.5, ...) or be whole hours (2, 3, ...)")


def _resimulate(sc, run: int, recorded, traj: Path, missing: list[str]):
    """Run `run` of `sc` with every column, after checking it reproduces the recorded columns."""
    from sim.runner import run as simulate

    full = simulate(sc, runs=run + 1, record="all").frame
    d = full[full["run"] == run].sort_values("hour").reset_index(drop=True)
    for col in _CHECKED:
        if col in recorded.columns and col in d.columns:
            a, b = recorded[col].to_numpy(float), d[col].to_numpy(float)
            if a.shape != b.shape or not np.allclose(a, b, rtol=1e-9, atol=1e-6, equal_nan=True):
                raise ReplayError(f"{traj}: recorded without {missing[:3]}... and simulating run {run} again does not "
                                  f"reproduce its {col!r} (the model changed?): run the scenario with "
                                  f"`tripod run ... --all-columns`")
    d.attrs["resimulated"] = f"run {run} simulated again from scenario.json (seed {sc.seed}) for {len(missing)} missing columns"
    return d


FINE_STEPS_NOT_REPLAYED = ("fine_steps: the replay sends each recorded step as one block of transactions, and a "
                           "fine-step window has several model steps per recorded step; replay the scenario without it")


def replay(run_dir: str | os.PathLike, run: int = 0, network: str = FORK, steps: int | None = None,
           write: bool = True, progress=None, keep_connected=None, upstream: str | None = None,
           base: dict | None = None, fork: str | None = None, block: int | None = None,
           trades: bool = True) -> ReplayResult:
    """Replay run `run` of `run_dir` on `network` (`fork`: node A + a fork of it, started and stopped
    here; or an Ape network choice such as `ethereum:local:foundry`). Writes chain_replay.parquet,
    chain_replay.json and chain_deployment.json into `run_dir` (atomically) unless `write=False`.

    On the fork the protocol is deployed over node A's base state (its tokens, feeds and factory; the
    actor is funded by impersonating node A's whale). `upstream`/`base`: a node A already running and its
    base-state addresses (only the fork is started). `fork`: a fork of node A already running (nothing is
    started): the replay runs between `chain.snapshot()` and `chain.restore()`, so one fork serves many
    scenarios. `trades`: send the model's pool trades one by one; the closing swap to the model's price
    then carries only rounding and the curve's tick snapping.

    `keep_connected(result)` is called while still connected, with `result.chain` holding the deployed
    protocol and the ReplayChain (the stress tests assert on chain state there).
    """
    run_dir = Path(run_dir).resolve()
    sc, d = load_run(run_dir, run, steps)
    if sc.fine_steps:
        raise ReplayError(f"{run_dir / 'scenario.json'}: {FINE_STEPS_NOT_REPLAYED}")
    try:  # a scenario the contracts cannot take fails here, before any node starts
        ProtocolSpec.from_scenario(sc)
    except SpecError as err:
        raise ReplayError(f"{run_dir / 'scenario.json'}: {err}") from None
    per_trade = None
    if trades:
        from sim.chain.trades import pool_trades

        per_trade = pool_trades(sc, run, d["pool_sqrt_price"].to_numpy(float))
    if fork is not None and base is None:
        raise ReplayError("replay on a running fork needs node A's base-state addresses (base=...)")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tripod-replay-") as tmp:
        deployment_file = Path(tmp) / "chain_deployment.json"
        with connected(network, upstream=upstream, base=base, fork=fork, block=block) as conn:
            from ape import chain

            node = conn["nodes"][-1] if conn["nodes"] else None
            snap = chain.snapshot() if fork is not None else None
            try:
                try:
                    result = _replay_connected(sc, d, node, progress, conn["base"], per_trade, deployment_file)
                except ReplayNodeError:
                    raise
                except Exception as err:  # noqa: BLE001
                    if node is not None and not node.alive():
                        raise ReplayNodeError(f"{node.uri} stopped answering") from err
                    raise
                result.summary.update(network=conn["network"], run=run, run_dir=str(run_dir), scenario=sc.name,
                                      base_state=bool(conn["base"]),
                                      trajectory=d.attrs.get("resimulated", "recorded (every column)"))
                if keep_connected is not None:
                    keep_connected(result)
            finally:
                if snap is not None:
                    chain.restore(snap)  # the shared fork is back to node A's base state for the next scenario
        result.summary["wall_seconds"] = round(time.perf_counter() - t0, 3)
        result.deployment = json.loads(deployment_file.read_text())
    if write:
        write_results(run_dir, result)
    return result


def _replay_connected(sc, d, node, progress, base, per_trade, deployment_file: Path) -> ReplayResult:
    import pandas as pd
    from ape import chain

    from sim.chain.deploy import spec_mismatches
    from sim.chain.genesis import genesis
    from sim.chain.steps import hours_in_step

    t_setup = time.perf_counter()
    rows = list(d.itertuples(index=False))
    rc = genesis(sc, rows[0], deployment_file, node, base)
    mismatches = spec_mismatches(rc.p)
    t0 = (int(chain.pending_timestamp) // 3600 + 2) * 3600  # hour-aligned start, in the future of the node's clock
    step_s = 3600 * float(sc.step_hours)
    setup_s = time.perf_counter() - t_setup
    out, chain_hours = [], []
    t_loop = time.perf_counter()
    prev_ts = t0
    for k, row in enumerate(rows):
        rc.actor.step = k
        ts = t0 + int(round(k * step_s))
        gas0 = rc.actor.gas
        trades = per_trade[k] if per_trade is not None else None  # the step's tape entries
        if k == 0:
            rc.advance(ts)
            rc.push_prices(row, ts // 3600)
            receipt = rc.flush()
        else:
            receipt = rc.run_step(rows[k - 1], row, trades, ts, prev_ts)
        rec = {"step": k, "hour": float(row.hour), "gas": rc.actor.gas - gas0,
               "reverts": sum(1 for r in rc.reverts if r["step"] == k)}
        rec.update(rc.swap_amounts(receipt if k > 0 else None))
        rec.update(rc.trade_outcomes(receipt, trades))
        rec.update(rc.buy_backs(receipt if k > 0 else None, trades))
        rec["backstop_usdc_chain"] = rc.backstop_raised(receipt) if k > 0 else 0.0
        rec["backstop_usdc_model"] = float(row.cum_backstop_in) - float(rows[k - 1].cum_backstop_in) if k > 0 else 0.0
        got, sim = rc.read(ts // 3600), compare.sim_fields(row)
        for f in compare.FIELDS:
            rec[f"sim_{f}"], rec[f"chain_{f}"] = sim[f], got[f]
        out.append(rec)
        chain_hours.append(ts // 3600)
        prev_ts = ts
        if progress:
            progress(k, len(rows))
    loop_s = time.perf_counter() - t_loop
    frame = pd.DataFrame(out)
    for f in compare.CAP_FIELDS:  # the model counts caps per step, the Minter per chain hour
        frame[f"sim_{f}"] = compare.cap_used_per_chain_hour(frame[f"sim_{f}"], chain_hours, hours_in_step(sc.step_hours))
    summary = {
        "steps": len(rows) - 1,
        "step_hours": float(sc.step_hours),
        "setup_seconds": round(setup_s, 3),
        "replay_seconds": round(loop_s, 3),
        "seconds_per_step": round(loop_s / max(len(rows) - 1, 1), 4),
        "gas_used": int(rc.actor.gas),
        "divergence": compare.divergence(frame),
        "pool_maths": compare.pool_maths_divergence(frame),
        "backstop": compare.backstop_divergence(frame),
        "buy_backs": compare.buy_back_divergence(frame),
        "trades": compare.trades_summary(frame) if per_trade is not None else {"replayed": False},
        "rounding": compare.rounding_check(frame),
        "reverts": rc.reverts,
        "revert_count": len(rc.reverts),
        "rounding_clamps": rc.clamps,
        "husd_is_token0": rc.husd0,
        "deployment": {"file": "chain_deployment.json", "spec_on_chain": "matches" if not mismatches else mismatches,
                       "choices": CHOICES},
        "notes": [
            "custody balances are synced to the model's sleeves by treasury transfers (moveCollateral out, inventory in), netted per step",
            "replayed per step: guardian mint pause (admin unpause), oracle rounds, hedge reports, PSM swaps, Minter "
            "mint/redeem, staker rewards into sHUSD, reserve deposits/payouts, the reserve's buy-backs through "
            "ReserveFund.buyBack (its budget, trigger, burn or hold), pool depth, the model's trades one by one from its trade tape (HUSD pool: "
            "retail, institutions, loopers, liquidations, arbitrage legs, treasury companies; HYB pool: the backstop "
            "through Backstop.recapitalize, treasury companies), each ending at the model's post-trade price, then a "
            "closing swap on each pool to the model's price (rounding)",
        ],
    }
    return ReplayResult(frame=frame, summary=summary, reverts=rc.reverts, chain={"protocol": rc.p, "replay": rc})
