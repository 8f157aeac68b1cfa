"""The leverage-cycle experiment: calm reflexive growth, then a volatility shock, over a grid of
backstop designs x looper leverage limits x sleeve mixes. It tests a story — HYB falls first, then the
treasury companies, then institutions leave, then retail takes the loss — and a claim: a stablecoin
anchored more on BTC and gold than on Treasuries makes the cycle gentler. It reports what the model finds.

Per run it times six events; per grid point it attributes losses by class and measures the peg;
across leverage it finds the critical max LTV where depeg probability jumps (per design and mix).
Every point runs the same run ids on the same seed (common random numbers), so differences between
leverage limits and between mixes are paired run by run (`sim.intervals`).
"""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np

from sim.atomic import commit_dir
from sim.config import Scenario, ScenarioError
from sim.intervals import clopper_pearson, paired_bootstrap_diff, paired_proportion_diff, quantile_ci
from sim.metrics import LOSS_CLASSES
from sim.results import dump_json, provenance

DEFAULT_LTVS = (0.0, 0.5, 0.7, 0.8, 0.9)
# Backstop designs: how the loss is absorbed once the shock hits.
DESIGNS = {
    "reserve-only": {"reserve": {"initial_usd": 25e6}, "backstop": {"enabled": False}},
    "backstop": {"reserve": {"initial_usd": 0.0}, "backstop": {"enabled": True, "max_sale_usd_per_day": 10e6}},
    "big-backstop": {"reserve": {"initial_usd": 0.0}, "backstop": {"enabled": True, "max_sale_usd_per_day": 50e6}},
}
# Sleeve mixes (protocol.weights: tbill / btc / xau / buffer). The buffer stays at 15 % in every mix so
# only the anchor moves, Treasuries against hedged BTC and gold.
MIXES = {
    # the T-bill-heavy end of the README's reserve-sizing table (70 / 15 / 0 / 15, sweeps/reserve-vs-mix.yaml)
    # with 5 points of gold kept so every sleeve is present; near fiat-backed coins' books (issue 14: USDT
    # ~48 % T-bills + ~24 % commercial paper in May 2022, FDUSD ~85 % T-bills in April 2025)
    "treasury-heavy": {"tbill": 0.70, "btc": 0.10, "xau": 0.05, "buffer": 0.15},
    # the protocol's default book (sim.config.Weights, scenarios/baseline.yaml, leverage-cycle.yaml's own)
    "baseline": {"tbill": 0.40, "btc": 0.30, "xau": 0.15, "buffer": 0.15},
    # the story's "anchored more on BTC and gold than on Treasuries": treasury-heavy mirrored (75 % hedged
    # BTC and gold, 10 % T-bills), near a basis-trade book (the README's USDe mapping: 60 % hedged crypto)
    "crypto-gold-heavy": {"tbill": 0.10, "btc": 0.45, "xau": 0.30, "buffer": 0.15},
}
SCENARIO_MIX = "scenario"  # the base scenario's own weights, untouched (the default: one mix)
DEFAULT_MIXES = (SCENARIO_MIX,)
EVENTS = ("hyb_drawdown_50", "dat_below_nav", "dat_forced_sale", "institutional_exit_25", "retail_loss_peak",
          "peg_below_099")
STORY = ("hyb_drawdown_50", "dat_below_nav", "institutional_exit_25", "retail_loss_peak")
RETAIL_LOSS_WINDOW_HOURS = 168.0
# what the events need, recorded at every step (nothing else of the trajectory is held)
EVENT_SERIES = ("peg_price", "hyb_price", "inst_exited_husd", "inst_husd", "loss_retail", "retail_husd")
# per-run figures compared between mixes, run by run: probabilities by Newcombe, the rest by paired bootstrap
PAIRED_PROBABILITIES = {"depeg_probability": "depegged", "insolvency_probability": "insolvent",
                        "story_order_full_share": "story_full", "story_order_consistent_share": "story_consistent"}
PAIRED_STATS = {"max_depeg_bps.p50": ("max_depeg_bps", 0.5), "max_depeg_bps.p95": ("max_depeg_bps", 0.95),
                "looper_liquidated_usd.mean": ("looper_liquidated_usd", None),
                "hyb_drawdown.p50": ("hyb_drawdown", 0.5), "min_backing_ratio.p50": ("min_backing_ratio", 0.5),
                "funding_income_usd.mean": ("funding_income_usd", None)}


def parse_mixes(text: str | None) -> tuple[str, ...]:
    """`--mixes a,b,c` -> names, each known and listed once; else a ScenarioError naming the option."""
    if text is None:
        return DEFAULT_MIXES
    names = tuple(n.strip() for n in text.split(","))
    known = [*MIXES, SCENARIO_MIX]
    bad = [n for n in names if n not in known]
    if bad:
        raise ScenarioError("--mixes", [f"unknown mix {bad[0]!r}; choose among {', '.join(known)}"])
    twice = [n for i, n in enumerate(names) if n in names[:i]]
    if twice:
        raise ScenarioError("--mixes", [f"mix {twice[0]!r} listed twice"])
    return names


def grid(ltvs, designs, mixes) -> list[tuple[str, float, str]]:
    """(design, max LTV, mix) for every point: design x max LTV x mix."""
    return [(des, ltv, mix) for des in designs for ltv in ltvs for mix in mixes]


def point_scenario(base: Scenario, max_ltv: float, design: str, mix: str = SCENARIO_MIX) -> Scenario:
    d = base.model_dump(mode="python")
    d["agents"]["loopers"].update(max_ltv=max_ltv, initial_ltv=min(d["agents"]["loopers"]["initial_ltv"], max_ltv),
                                  liquidation_ltv=min(0.99, max_ltv + 0.06))
    for block, values in DESIGNS[design].items():
        d["protocol"][block].update(values)
    if mix != SCENARIO_MIX:
        d["protocol"]["weights"] = dict(MIXES[mix])
    return Scenario.model_validate(d)


def _first(mask: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Hour of the first True per run (columns), NaN when never."""
    hit = mask.any(axis=0)
    return np.where(hit, hours[np.argmax(mask, axis=0)], np.nan)


def event_times(d: dict, step_hours: float, threshold: float = 0.99) -> dict[str, np.ndarray]:
    hours = np.arange(d["peg_price"].shape[0]) * step_hours
    n_dats = sum(1 for k in d if k.startswith("dat") and k.endswith("_mnav"))
    mnav = np.stack([d[f"dat{i}_mnav"] for i in range(n_dats)]) if n_dats else np.ones((1, *d["peg_price"].shape))
    forced = np.stack([d[f"dat{i}_forced_usd"] for i in range(n_dats)]) if n_dats else np.zeros((1, *d["peg_price"].shape))
    # retail's loss rate: what they realised over the trailing week plus the paper loss on what they
    # hold (cumulative realised loss alone always peaks at the end: everyday trading costs add up)
    lag = max(1, int(round(RETAIL_LOSS_WINDOW_HOURS / step_hours)))
    realised = d["loss_retail"]
    weekly = realised - np.concatenate([np.repeat(realised[:1], lag, axis=0), realised[:-lag]])[: len(realised)]
    loss = weekly + d["retail_husd"] * np.maximum(0.0, 1.0 - d["peg_price"])
    peak = np.where(loss.max(axis=0) > 0, hours[np.argmax(loss, axis=0)], np.nan)
    return {
        "hyb_drawdown_50": _first(d["hyb_price"] <= 0.5 * d["hyb_price"][0], hours),
        "dat_below_nav": _first((mnav < 1).any(axis=0), hours),
        "dat_forced_sale": _first((forced > 0).any(axis=0), hours),
        "institutional_exit_25": _first(d["inst_exited_husd"] >= 0.25 * d["inst_husd"][0], hours),
        "retail_loss_peak": peak,
        "peg_below_099": _first(d["peg_price"] < threshold, hours),
    }


def story_holds(times: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(all four story events happened in the story's order, the events that happened are in order)."""
    t = np.stack([times[e] for e in STORY])  # (4, R)
    happened = np.isfinite(t)
    full = happened.all(axis=0) & (np.diff(t, axis=0) >= 0).all(axis=0)
    consistent = np.ones(t.shape[1], dtype=bool)
    for a in range(len(STORY)):
        for b in range(a + 1, len(STORY)):
            both = happened[a] & happened[b]
            consistent &= ~both | (t[a] <= t[b])
    return full, consistent & (happened.sum(axis=0) >= 2)


def loss_shares(m: dict) -> dict[str, float]:
    """Shares of the stablecoin's own losses (reserve, HYB, stakers, institutions, retail, loopers).
    Treasury companies' equity losses are reported apart: a $5B company's stock falling with BTC would
    otherwise drown every other share."""
    losses = {k: max(v, 0.0) for k, v in m["losses_by_class_usd"].items() if k != "treasury_companies"}
    total = sum(losses.values())
    return {k: (v / total if total > 0 else 0.0) for k, v in losses.items()}


def sleeve_shares(s: dict) -> dict[str, float]:
    """Each sleeve's share of the backing (mean over runs): T-bills (in transit too), BTC and gold
    (spot and margin), buffer (with the PSM's USDC)."""
    from sim.model.parts.common import backing, crypto_value

    total = backing(s)
    parts = {"tbill": s["tbill_units"] * s["tbill_nav"] + s["tbill_pending_usd"], "btc": crypto_value(s, "btc"),
             "xau": crypto_value(s, "xau"), "buffer": s["buffer_usd"] + s["psm_usdc"]}
    return {k: float(np.mean(v / total)) for k, v in parts.items()}


class EventRecorder:
    """Engine observer: the series the events need at every step, and the book at the start and at the shock."""

    def __init__(self, steps: int, step_hours: float, shock_hour: float | None = None):
        self.steps, self.data, self.start, self.at_shock = steps, None, None, None
        self.shock_step = None if shock_hour is None else int(round(shock_hour / step_hours))

    def update(self, state: dict, t: int) -> None:
        if self.data is None:
            runs = np.shape(state["peg_price"])
            keys = EVENT_SERIES + tuple(k for k in state if k.startswith("dat") and k.endswith(("_mnav", "_forced_usd")))
            self.data = {k: np.empty((self.steps + 1, *runs)) for k in keys}
            self.start = sleeve_shares(state)
        for k, a in self.data.items():
            a[t] = state[k]
        if t == self.shock_step:
            self.at_shock = sleeve_shares(state) | {"backing_usd": float(np.mean(state["backing_usd"]))}


def shock_hour(sc: Scenario) -> float | None:
    """The first scripted hour of the BTC path (where the scenario's shock starts), if any."""
    hours = [p[0] for s in sc.scripted if s.variable == "btc_usd" for p in s.points]
    return float(min(hours)) if hours else None


def _share(flags) -> tuple[float, list[float]]:
    flags = np.asarray(flags, dtype=bool)
    return float(flags.mean()), list(clopper_pearson(int(flags.sum()), flags.size))


def _median_ci(v: np.ndarray) -> list:
    v = v[np.isfinite(v)]
    return list(quantile_ci(v, 0.5)) if v.size else [None, None]


def run_point(base: Scenario, runs: int, seed: int, max_ltv: float, design: str, mix: str) -> tuple[dict, dict]:
    """One grid point: (its record, its per-run outcomes for paired comparisons)."""
    from sim.metrics import summarize
    from sim.runner import simulate_runs

    sc = point_scenario(base, max_ltv, design, mix).with_overrides(runs=runs, seed=seed)
    rec = EventRecorder(sc.steps, sc.step_hours, shock_hour(sc))
    r, episodes = simulate_runs(sc, np.arange(runs), observer=rec)
    m = summarize(r, episodes, sc.steps * sc.step_hours, sc.depeg_threshold, sc.repeg_level)
    times = event_times(rec.data, sc.step_hours, sc.depeg_threshold)
    full, consistent = story_holds(times)
    outcomes = {"depegged": r["min_peg_price"] < sc.depeg_threshold, "insolvent": r["insolvent"] > 0.5,
                "story_full": full, "story_consistent": consistent, "max_depeg_bps": r["max_depeg_bps"],
                "looper_liquidated_usd": r["looper_liquidated_usd"], "hyb_drawdown": r["hyb_drawdown"],
                "min_backing_ratio": r["min_backing_ratio"], "funding_income_usd": r["funding_income_usd"]}
    full_share, full_ci = _share(full)
    cons_share, cons_ci = _share(consistent)
    point = {
        "max_ltv": max_ltv, "design": design, "mix": mix, "weights": sc.protocol.weights.model_dump(),
        "config_hash": sc.config_hash(),
        "sleeve_share_start": rec.start, "book_at_shock": rec.at_shock,
        "depeg_probability": m["depeg_probability"], "depeg_probability_ci95": m.get("depeg_probability_ci95"),
        "max_depeg_bps_p50": m["max_depeg_bps"]["p50"], "max_depeg_bps_p95": m["max_depeg_bps"]["p95"],
        "max_depeg_bps_ci95": m.get("max_depeg_bps_ci95"),
        "insolvency_probability": m["insolvency_probability"],
        "insolvency_probability_ci95": m.get("insolvency_probability_ci95"), "hyb_drawdown_p50": m["hyb_drawdown"]["p50"],
        # how deep a shortfall goes (backing / supply at its lowest), not only whether one happens
        "min_backing_ratio_p5": m["min_backing_ratio"]["p5"], "min_backing_ratio_p50": m["min_backing_ratio"]["p50"],
        "min_backing_ratio_ci95": m.get("min_backing_ratio_ci95"),
        "funding_income_usd_mean": m["funding_income_usd"]["mean"],
        "depegged_runs": [int(x) for x in outcomes["depegged"]],
        "looper_liquidated_usd_mean": m["looper_liquidated_usd"]["mean"],
        # where the selling went (issue 14's queues and venues): the pool's edge, the largest day of
        # redemptions, exits still queued at the end, what the reserve bought
        "pool_exhausted_probability": m["pool_exhausted_probability"],
        "pool_exhausted_probability_ci95": m.get("pool_exhausted_probability_ci95"),
        "hours_below_threshold_mean": m["hours_below_threshold"]["mean"],
        "redeemed_24h_max_share_p50": m["redeemed_24h_max_share"]["p50"],
        "queued_exits_usd_mean": m["queued_exits_usd"]["mean"],
        "reserve_bought_husd_mean": m["reserve_bought_husd"]["mean"],
        "losses_by_class_usd": m["losses_by_class_usd"], "losses_by_company_usd": m["losses_by_company_usd"],
        "loss_share_by_class": loss_shares(m),
        "treasury_company_equity_loss_usd": m["losses_by_class_usd"]["treasury_companies"],
        # the hour of each event's first occurrence, over the runs where it happened, with its interval
        "event_hours_median": {e: (float(np.nanmedian(v)) if np.isfinite(v).any() else None) for e, v in times.items()},
        "event_hours_median_ci95": {e: _median_ci(v) for e, v in times.items()},
        "event_probability": {e: float(np.isfinite(v).mean()) for e, v in times.items()},
        "event_probability_ci95": {e: _share(np.isfinite(v))[1] for e, v in times.items()},
        "story_order_full_share": full_share, "story_order_full_share_ci95": full_ci,
        "story_order_consistent_share": cons_share, "story_order_consistent_share_ci95": cons_ci,
        "event_hours_per_run": {e: [None if not np.isfinite(x) else float(x) for x in v] for e, v in times.items()},
    }
    return point, outcomes


def critical_leverage(points: list[dict]) -> dict:
    """The largest jump in depeg probability between neighbouring max LTVs of one design and mix, with
    the paired interval of that jump (the points share their seeds: a difference of the same runs)."""
    pts = sorted(points, key=lambda p: p["max_ltv"])
    jumps = [(b["depeg_probability"] - a["depeg_probability"], a, b) for a, b in zip(pts, pts[1:])]
    big = max(jumps, key=lambda j: j[0]) if jumps else (0.0, None, None)
    out = {"max_ltv": big[2]["max_ltv"] if big[0] > 0 else None, "depeg_probability_jump": big[0]}
    if big[0] > 0:
        d = paired_proportion_diff(np.array(big[2]["depegged_runs"], bool), np.array(big[1]["depegged_runs"], bool))
        out |= {"jump_ci95": d["ci95"], "jump_method": d["method"], "from_ltv": big[1]["max_ltv"],
                "resolved": d["ci95"][0] > 0}
    return out


def mix_differences(first: dict, second: dict) -> dict:
    """second - first for one (design, max LTV): each paired figure with its interval and which side of
    zero the interval lies ('higher', 'lower' or 'unresolved')."""
    out = {}
    for key, flag in PAIRED_PROBABILITIES.items():
        out[key] = paired_proportion_diff(second[flag], first[flag])
    for key, (col, q) in PAIRED_STATS.items():
        fn = (lambda x, axis=None: np.mean(x, axis=axis)) if q is None else (
            lambda x, axis=None, q=q: np.quantile(x, q, axis=axis))
        out[key] = paired_bootstrap_diff(second[col], first[col], fn)
    for d in out.values():
        lo, hi = d["ci95"]
        d["sign"] = ("unresolved" if lo is None or hi is None else "higher" if lo > 0 else "lower" if hi < 0
                     else "unresolved")
    return out


def story_by_mix(points: list[dict], mixes) -> dict:
    """The story-order statistics of each mix over the grid: the range of its points' shares, and at how
    many points each story event happened in most runs."""
    out = {}
    for mix in mixes:
        pts = [p for p in points if p["mix"] == mix]
        out[mix] = {
            "points": len(pts),
            "full_share_range": [min(p["story_order_full_share"] for p in pts), max(p["story_order_full_share"] for p in pts)],
            "consistent_share_range": [min(p["story_order_consistent_share"] for p in pts),
                                       max(p["story_order_consistent_share"] for p in pts)],
            "event_probability_range": {e: [min(p["event_probability"][e] for p in pts),
                                            max(p["event_probability"][e] for p in pts)] for e in EVENTS},
        }
    return out


def run_experiment(base: Scenario, runs: int, seed: int, ltvs=DEFAULT_LTVS, designs=tuple(DESIGNS),
                   mixes=DEFAULT_MIXES, progress: bool = False) -> dict:
    from sim.budget import check_memory
    from sim.progress import bar

    # one point at a time: the engine's arrays and the event series it keeps beside them
    check_memory("--runs", runs, base.steps, len(EVENT_SERIES) + 2 * len(base.agents.treasury_companies),
                 hint="lower --runs", engine_steps=base.engine_steps)
    started = time.time()
    points, outcomes = [], {}
    for des, ltv, mix in bar(grid(ltvs, designs, mixes), desc="leverage-cycle", unit="point", enabled=progress):
        point, outcomes[(des, ltv, mix)] = run_point(base, runs, seed, ltv, des, mix)
        points.append(point)
    critical = [{"design": des, "mix": mix, **critical_leverage([p for p in points if (p["design"], p["mix"]) == (des, mix)])}
                for des in designs for mix in mixes]
    diffs = [{"design": des, "max_ltv": ltv, "first": a, "second": b, "of": f"{b} - {a}",
              "paired_differences": mix_differences(outcomes[(des, ltv, a)], outcomes[(des, ltv, b)])}
             for des in designs for ltv in ltvs for i, a in enumerate(mixes) for b in mixes[i + 1:]]
    return {
        "experiment": "leverage-cycle", "scenario": base.name, "config_hash": base.config_hash(), "runs": runs,
        "seed": seed, "ltvs": list(ltvs), "designs": list(designs), "mixes": list(mixes),
        "mix_weights": {m: (MIXES[m] if m in MIXES else base.protocol.weights.model_dump()) for m in mixes},
        "points": points, "critical_leverage": critical, "mix_differences": diffs,
        "story": list(STORY), "story_by_mix": story_by_mix(points, mixes),
        "paired": "every point runs the same run ids on the same seed: differences between max LTVs and between "
                  "mixes are paired run by run (probabilities: Newcombe hybrid score; quantiles and means: "
                  "paired bootstrap over runs)",
        **provenance(),
        "finished_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(time.time() - started, 2),
    }


MARKERS = ("leverage_cycle.json", "manifest.json")  # what shows an existing directory is this experiment's


def write(result: dict, out: Path) -> None:
    """The experiment's directory, committed whole (`sim.atomic`)."""
    with commit_dir(out, markers=MARKERS) as stage:
        write_into(result, stage)


def write_into(result: dict, stage: Path) -> None:
    from sim.experiments.leverage_cycle_report import pngs, render

    (stage / "leverage_cycle.json").write_text(dump_json(result))
    (stage / "report.html").write_text(render(result))
    for name, data in pngs(result).items():  # the README's figures (docs/leverage-cycle-*.png)
        (stage / name).write_bytes(data)
