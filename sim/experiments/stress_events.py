"""The stress-events experiment: the model against history.

Each scenario in scenarios/events is a real stress (USDT in May 2022, USDR, stETH, GHO, FDUSD, USDe,
DAI/MKR) written from public facts; its `validation:` list holds the facts, each with the per-run figure
that measures it and a tolerance band fixed before the model was ever run on the event. This runs every
event, takes each figure's median and 5-95 % range over the runs, and says whether the median is inside
the band. A fact the model cannot express (`metric: none`) stays in the table as "not modelled".

Figures are those of `sim.metrics` plus a few derived here from the recorded series (`DERIVED`): a
redemption or supply change over a window shorter than the run, a venue's mean price over a window, its
highest premium, and the backstop's average HYB sale price.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import re
import time
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from sim.config import Scenario, ScenarioError, format_validation_error, load_scenario
from sim.metrics import PER_RUN_METRICS, PER_VENUE_METRICS, MetricsAccumulator
from sim.results import dump_json, provenance
from sim.runner import SCENARIO_DIR

EVENTS_DIR = SCENARIO_DIR / "events"
NOT_MODELLED = "none"
_VENUE = r"[a-z][a-z0-9_]{0,23}"
# Derived per-run figures: name pattern -> what it means (the README's table).
DERIVED = {
    rf"redeemed_share_h(?P<a>\d+)_h(?P<b>\d+)": "HUSD redeemed between hours a and b, over supply at hour a",
    r"supply_change_h(?P<b>\d+)": "supply at hour b over supply at hour 0, minus 1",
    rf"mean_price_(?P<venue>{_VENUE})_h(?P<a>\d+)_h(?P<b>\d+)": "the venue's mean price over hours a to b",
    rf"max_premium_bps_(?P<venue>{_VENUE})": "the venue's highest price above par, in bps",
    r"backstop_avg_price_usd": "USD the backstop raised / HYB it sold",
}


def event_files(directory: Path = EVENTS_DIR) -> list[Path]:
    return sorted(Path(directory).glob("*.yaml"))


def venue_names(sc: Scenario) -> list[str]:
    return [sc.pool.name, *(v.name for v in sc.venues)]


def _derived_match(name: str):
    for pattern in DERIVED:
        m = re.fullmatch(pattern, name)
        if m:
            return pattern, m.groupdict()
    return None, None


def check_facts(sc: Scenario, source: str) -> None:
    """Every fact names a figure this scenario can produce (and windows inside the run): one line per
    problem, naming the fact, before anything is simulated."""
    venues = venue_names(sc)
    known = set(PER_RUN_METRICS) | {f"{f}_{v}" for f in PER_VENUE_METRICS for v in venues} | {NOT_MODELLED}
    problems = []
    if not sc.validation:
        problems.append("validation: an event scenario needs at least one fact")
    for i, f in enumerate(sc.validation):
        if f.metric in known:
            continue
        pattern, g = _derived_match(f.metric)
        hours = [int(g[k]) for k in ("a", "b") if g and g.get(k) is not None]
        if pattern is None:
            problems.append(f"validation.{i}.metric: unknown figure {f.metric!r} (per-run metrics, per-venue "
                            f"'<figure>_<venue>' for venues {venues}, derived {list(DERIVED)} or 'none')")
        elif g.get("venue") is not None and g["venue"] not in venues:
            problems.append(f"validation.{i}.metric: no venue {g['venue']!r} in {f.metric!r} (venues: {venues})")
        elif any(h > sc.horizon_hours for h in hours) or (len(hours) == 2 and hours[0] >= hours[1]):
            problems.append(f"validation.{i}.metric: window {f.metric!r} must lie inside the run's "
                            f"{sc.horizon_hours} h with its start before its end")
    if problems:
        raise ScenarioError(source, problems)


def load_events(names: list[str] | None = None, directory: Path = EVENTS_DIR) -> list[tuple[Path, Scenario]]:
    files = event_files(directory)
    if names:
        missing = sorted(set(names) - {f.stem for f in files})
        if missing:
            raise ScenarioError("--events", [f"no event named {m!r} in {directory} (have {[f.stem for f in files]})"
                                             for m in missing])
        files = [f for f in files if f.stem in names]
    if not files:
        raise ScenarioError(str(directory), ["no event scenarios (*.yaml) here"])
    out = []
    for f in files:
        sc = load_scenario(f)
        check_facts(sc, str(f))
        out.append((f, sc))
    return out


def simulate(sc: Scenario) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per-run figures of the scenario's runs, and the few series the derived figures read ((T + 1, R))."""
    from sim.engines.batch import run_batch
    from sim.model import Model

    m = Model.build(sc)
    venues = m.params["venues"]
    acc = MetricsAccumulator(sc.step_hours, sc.depeg_threshold, sc.repeg_level, venues)
    keep = ("supply", "redeemed_usd", *(v.price_key for v in venues))
    traj = run_batch(m.params, m.genesis, m.paths, record=keep, observer=acc)
    return acc.per_run(traj.final), traj.data


def figure(name: str, per_run: dict, series: dict, step_hours: float) -> np.ndarray | None:
    """The per-run values of a fact's figure (None for 'not modelled')."""
    if name == NOT_MODELLED:
        return None
    if name in per_run:
        return per_run[name]
    pattern, g = _derived_match(name)

    def at(hour):  # the step at (or just before) an hour
        return min(int(np.floor(int(hour) / step_hours + 1e-9)), series["supply"].shape[0] - 1)

    if pattern.startswith("redeemed_share"):
        a, b = at(g["a"]), at(g["b"])
        return (series["redeemed_usd"][b] - series["redeemed_usd"][a]) / series["supply"][a]
    if pattern.startswith("supply_change"):
        return series["supply"][at(g["b"])] / series["supply"][0] - 1
    if pattern.startswith("mean_price"):
        return series[f"price_{g['venue']}"][at(g["a"]):at(g["b"]) + 1].mean(axis=0)
    if pattern.startswith("max_premium"):
        return np.maximum(series[f"price_{g['venue']}"].max(axis=0) - 1, 0.0) * 1e4
    with np.errstate(divide="ignore", invalid="ignore"):  # backstop_avg_price_usd: NaN where nothing was sold
        return np.where(per_run["backstop_hyb_sold"] > 0, per_run["loss_backstop_usd"] / per_run["backstop_hyb_sold"],
                        np.nan)


def edge_share(name: str, per_run: dict, venues: list[str]) -> float | None:
    """For a figure read at a venue's low (its lowest price, deepest discount, composition there): the share
    of runs where that low sat at the edge of the venue's liquidity. The figure is then a floor set by the
    venue's depth as the scenario describes it, not a price anyone chose."""
    for v in venues:
        at_low = [f"min_price_{v}", f"max_depeg_bps_{v}", f"husd_share_at_low_{v}"]
        if v == venues[0]:
            at_low += ["min_peg_price", "max_depeg_bps"]
        if name in at_low and f"exhausted_{v}" in per_run:
            return float(np.mean(per_run[f"exhausted_{v}"]))
    return None


def compare(values: np.ndarray | None, low: float, high: float) -> dict:
    """Median and 5-95 % over the runs, and whether the median is inside [low, high]."""
    if values is None:
        return {"model_median": None, "model_p5": None, "model_p95": None, "within": "no (not modelled)",
                "within_tolerance": False}
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"model_median": None, "model_p5": None, "model_p95": None, "within": "no (no value in any run)",
                "within_tolerance": False}
    med, p5, p95 = (float(np.quantile(v, q)) for q in (0.5, 0.05, 0.95))
    ok = low <= med <= high
    return {"model_median": med, "model_p5": p5, "model_p95": p95, "within": "yes" if ok else "no",
            "within_tolerance": ok}


def run_experiment(runs: int | None = None, seed: int | None = None, names: list[str] | None = None,
                   directory: Path = EVENTS_DIR, progress: bool = False) -> dict:
    """Every event (or the named ones) at `runs` runs from `seed` (default: each scenario's own)."""
    started = time.time()
    events = load_events(names, directory)
    rows, meta = [], []
    it = events
    if progress:
        from tqdm import tqdm
        it = tqdm(events, desc="stress-events", unit="event")
    for path, sc in it:
        try:
            sc = sc.with_overrides(**{k: v for k, v in (("runs", runs), ("seed", seed)) if v is not None})
        except ValidationError as err:
            raise ScenarioError("command line", format_validation_error(err)) from None
        t0 = time.time()
        try:
            per_run, series, skipped = *simulate(sc), None
        except NotImplementedError as err:  # an event the model describes but does not simulate yet
            per_run, series, skipped = {}, {}, str(err)
        meta.append({"event": sc.name, "file": str(path), "runs": sc.runs, "seed": sc.seed,
                     "horizon_hours": sc.horizon_hours, "config_hash": sc.config_hash(),
                     "wall_seconds": round(time.time() - t0, 2), "not_run": skipped})
        for f in sc.validation:
            got = compare(None if skipped else figure(f.metric, per_run, series, sc.step_hours), f.low, f.high)
            got["edge_share"] = edge_share(f.metric, per_run, venue_names(sc))
            if got["edge_share"]:
                got["within"] += f" (at the venue's liquidity edge in {got['edge_share']:.0%} of runs)"
            if skipped and f.metric != NOT_MODELLED:
                got["within"] = f"no (not run: {skipped})"
            rows.append({"event": sc.name, "fact": f.fact, "source": f.source, "metric": f.metric,
                         "observed": f.observed, "low": f.low, "high": f.high, "mapping": f.mapping, **got})
    return {
        "experiment": "stress-events", "events": meta, "rows": rows,
        "within": sum(r["within_tolerance"] for r in rows),
        "not_modelled": sum(r["metric"] == NOT_MODELLED for r in rows),
        **provenance(),
        "finished_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(time.time() - started, 2),
    }


def fmt(v) -> str:
    if v is None:
        return "n/a"
    return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:.4g}"


def table(result: dict) -> list[dict[str, str]]:
    """The rows as printed: event, fact, observed, model median [5-95 %], band, within."""
    out = []
    for i, r in enumerate(result["rows"], 1):
        model = "not modelled" if r["metric"] == NOT_MODELLED else "not run" if r["within"].startswith("no (not run") else (
            "n/a" if r["model_median"] is None else f"{fmt(r['model_median'])} [{fmt(r['model_p5'])}, {fmt(r['model_p95'])}]")
        out.append({"#": str(i), "event": r["event"], "fact": r["fact"], "observed": fmt(r["observed"]),
                    "model median [5-95 %]": model, "band": f"[{fmt(r['low'])}, {fmt(r['high'])}]",
                    "within": r["within"]})
    return out


def text_table(result: dict) -> str:
    rows = table(result)
    cols = list(rows[0])
    width = {c: max(len(c), *(len(r[c]) for r in rows)) for c in cols}
    line = lambda cells: "| " + " | ".join(cells[c].ljust(width[c]) for c in cols) + " |"  # noqa: E731
    rule = "|" + "|".join("-" * (width[c] + 2) for c in cols) + "|"
    notes = "\n".join(f"  [{i}] {r['metric']}: {r['mapping']}" for i, r in enumerate(result["rows"], 1))
    return "\n".join([line({c: c for c in cols}), rule, *(line(r) for r in rows)]) + "\n\nmapping notes:\n" + notes


def render(result: dict) -> str:
    """A small self-contained HTML page: the table, each row's source and mapping, the provenance."""
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in (*table(result)[0], "source", "mapping"))
    body = ""
    for t, r in zip(table(result), result["rows"]):
        cls = "yes" if r["within_tolerance"] else ("nm" if r["metric"] == NOT_MODELLED else "no")
        cells = "".join(f"<td class='{cls}'>{e(v)}</td>" if k == "within" else f"<td>{e(v)}</td>" for k, v in t.items())
        body += f"<tr>{cells}<td class='small'>{e(r['source'])}</td><td class='small'>{e(r['metric'])}: {e(r['mapping'])}</td></tr>"
    runs = "".join(f"<li>{e(m['event'])}: {m['runs']} runs, seed {m['seed']}, {m['horizon_hours']} h, config "
                   f"{e(m['config_hash'])}, {m['wall_seconds']} s</li>" for m in result["events"])
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Tripod - validation against history</title>
<style>body{{font-family:sans-serif;max-width:1400px;margin:2em auto}}table{{border-collapse:collapse;font-size:12px}}
td,th{{border:1px solid #ccc;padding:3px 6px;vertical-align:top}}.yes{{background:#d7f5d7}}.no{{background:#f8d7d7}}
.nm{{background:#eee}}.small{{font-size:11px;max-width:380px}}</style></head><body>
<h1>Validation against history</h1>
<p>{result['within']} of {len(result['rows'])} facts within tolerance ({result['not_modelled']} not modelled).
Each band was fixed in the scenario file before the model was run on the event; the model figure is the
median over the runs, with its 5-95 % range.</p>
<table><tr>{head}</tr>{body}</table>
<h3>Runs</h3><ul>{runs}</ul>
<p class="small">git {e(str(result['git_commit']))}, {e(result['finished_utc'])}, {result['wall_seconds']} s,
<code>{e(result['command'])}</code>, versions <code>{e(json.dumps(result['versions']))}</code></p></body></html>"""


MARKERS = ("stress_events.json",)  # what shows an existing directory is this experiment's


def write_into(result: dict, stage: Path) -> None:
    """report.html and stress_events.json into a staging directory (`sim.atomic`: committed whole)."""
    (stage / "report.html").write_text(render(result))
    (stage / "stress_events.json").write_text(dump_json(result))
