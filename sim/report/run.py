"""The run report (`tripod run` -> report.html): key figures with intervals, fan charts with one real
run drawn on top (pick the worst by depeg, by reserve, by backing), losses with intervals, every
figure in a formatted table, and the manifest."""
from __future__ import annotations

import json

import numpy as np

from sim.report.fans import FAN_SERIES, event_marks, expand, fan_figure, run_path, stride_for, time_axis
from sim.report.fmt import fmt
from sim.report.page import Page, Raw, esc, manifest_html, table
from sim.report.tables import headline_rows, methods_note, metric_rows

# How runs are ranked for the drill-down: (id, what the reader picks, column, worst = lowest)
PICKS = (("worst by depeg", "peg_price", 3, "pool price"), ("worst by reserve", "reserve_fund_usd", 2, "reserve"),
         ("worst by backing", "backing_ratio", 2, "backing ratio"))


def start_date(scenario):
    m = getattr(scenario, "market", None)
    if m is not None and getattr(m, "source", "") == "historical" and m.historical is not None:
        return m.historical.start_date
    return None


def pick_runs(data: dict, run_ids) -> list[dict]:
    """The runs a reader can open: the worst few by each criterion, and the median run by depeg."""
    picks, seen = [], set()
    for what, col, n, short in PICKS:
        if col not in data:
            continue
        lows = data[col].min(axis=0)
        for rank, i in enumerate(np.argsort(lows, kind="stable")[:n]):
            picks.append({"index": int(i), "run": int(run_ids[i]), "label": f"{what} #{rank + 1}: run {int(run_ids[i])} "
                          f"(lowest {short} {fmt(lows[i], _unit(col))})"})
    if "peg_price" in data:
        lows = data["peg_price"].min(axis=0)
        i = int(np.argsort(lows, kind="stable")[len(lows) // 2])
        picks.append({"index": i, "run": int(run_ids[i]), "label": f"median run by depeg: run {int(run_ids[i])}"})
    out = []
    for p in picks:
        if p["index"] not in seen:
            seen.add(p["index"])
            out.append(p)
    return out


def _unit(col: str) -> str:
    from sim.report.fmt import unit_of
    return unit_of(col)


def per_run_table(data: dict, picks: list[dict], threshold: float, step_hours: float) -> str:
    rows = []
    for p in picks:
        i = p["index"]
        cells = [p["label"].split(":")[0], str(p["run"])]
        if "peg_price" in data:
            price = data["peg_price"][:, i]
            cells += [fmt(price.min(), "price"), fmt(max(0.0, 1 - price.min()) * 1e4, "bps"),
                      fmt(float((price[1:] < threshold).sum() * step_hours), "hours")]
        for col, unit in (("reserve_fund_usd", "usd"), ("backing_ratio", "ratio"), ("supply", "usd")):
            if col in data:
                v = data[col][:, i]
                cells.append(fmt(v.min() if col != "supply" else v[-1], unit))
        rows.append(cells)
    header = ["pick", "run", "lowest price", "max depeg", "hours below threshold", "lowest reserve", "lowest backing ratio",
              "final supply"]
    return table(rows, header[: len(rows[0])] if rows else header, left=1)


def render(traj, metrics: dict, manifest: dict, scenario) -> str:
    d = traj.data
    steps = d["peg_price"].shape[0] - 1
    sd = start_date(scenario)
    x, _ = time_axis(steps, traj.step_hours, sd)
    run_ids = np.asarray(getattr(traj, "runs", np.arange(d["peg_price"].shape[1])))
    picks = pick_runs(d, run_ids)
    marks = event_marks(scenario)
    page = Page(f"Tripod — {scenario.name}")
    span = (f"{sd.isoformat()} .. {(np.datetime64(sd) + np.timedelta64(int(steps * traj.step_hours), 'h')).astype('datetime64[D]')}"
            if sd else f"{metrics['horizon_hours']:,.0f} h")
    page.add(f"<h1>Tripod run: {esc(scenario.name)}</h1>",
             f'<p class="sub">{esc(scenario.description)}</p>',
             f"<p>{metrics['runs']:,} runs &times; {esc(span)} ({traj.step_hours:g} h steps), seed {manifest.get('seed')}, "
             f"engine {esc(manifest.get('engine'))}, config hash <code>{esc(manifest.get('config_hash'))}</code>"
             f"{', commit <code>' + esc(str(manifest.get('git_commit'))[:10]) + '</code>' if manifest.get('git_commit') else ''}.</p>")
    page.add("<h2>Key figures</h2>",
             table([[r[1], r[2], Raw(f'<span class="ci">{esc(r[3])}</span>')] for r in headline_rows(metrics)],
                   ["figure", "value", "95 % interval"]),
             f'<p class="sub">{esc(methods_note(metrics))}</p>')
    # fans with one real run on top
    fans = []
    divs = []
    first = (picks[0]["index"], f"run {picks[0]['run']}") if picks else None
    for column, s in expand(FAN_SERIES, d):
        div = f"fan{len(fans)}"
        fig = fan_figure(x, d[column], s, column, scenario.depeg_threshold, marks, sd, selected=first)
        divs.append(page.figure(fig, div_id=div))
        fans.append({"div": div, "column": column, "scale": s.scale})
    stride = stride_for(len(x))
    page.data["fans"] = fans
    page.data["runs"] = {str(p["run"]): {f["column"]: _compact(run_path(d[f["column"]] * f["scale"], p["index"], stride))
                                         for f in fans} for p in picks}
    options = "".join(f'<option value="{p["run"]}">{esc(p["label"])}</option>' for p in picks)
    page.add("<h2>Paths over runs</h2>",
             "<p>Bands: 5-95 % and 25-75 % of runs at each time, and the median. The red line is one whole run "
             "(never a mix of runs): pick which.</p>",
             f'<p><label>Run drawn on every chart: <select id="runpick">{options}</select></label></p>',
             per_run_table(d, picks, scenario.depeg_threshold, traj.step_hours),
             f'<div class="grid">{"".join(divs)}</div>')
    page.scripts.append(_PICK_JS)
    if "losses_by_class_usd" in metrics:
        page.add("<h2>Who bears the loss</h2>", page.figure(losses_figure(metrics), height=320))
    page.add("<h2>Every risk figure</h2>",
             table([[r[1], r[2], Raw(f'<span class="ci">{esc(r[3])}</span>')] for r in metric_rows(metrics)],
                   ["figure", "value", "95 % interval"]),
             "<h2>Provenance</h2>", manifest_html(manifest),
             f"<details><summary>scenario</summary><pre>{esc(json.dumps(scenario.model_dump(mode='json'), indent=1))}</pre></details>")
    return page.html()


_PICK_JS = """
document.getElementById('runpick').addEventListener('change', function(){
  const run = this.value, r = TRIPOD_DATA.runs[run];
  for (const f of TRIPOD_DATA.fans){ Plotly.restyle(f.div, {y:[r[f.column]], name:['run '+run]}, [3]); }
});
"""


def _compact(a: np.ndarray) -> list:
    return [None if not np.isfinite(v) else float(f"{v:.6g}") for v in np.asarray(a, dtype=float)]


def losses_figure(metrics: dict):
    import plotly.graph_objects as go

    losses = metrics["losses_by_class_usd"]
    ci = metrics.get("losses_by_class_usd_ci95") or {}
    names = list(losses)
    vals = [losses[k] for k in names]
    lo = [v - (ci.get(k) or [v, v])[0] if (ci.get(k) or [None])[0] is not None else 0 for k, v in zip(names, vals)]
    hi = [(ci.get(k) or [v, v])[1] - v if (ci.get(k) or [None, None])[1] is not None else 0 for k, v in zip(names, vals)]
    fig = go.Figure(go.Bar(x=[n.replace("_", " ") for n in names], y=vals,
                           marker_color=["#d62728" if v > 0 else "#2ca02c" for v in vals],
                           error_y={"type": "data", "array": hi, "arrayminus": lo, "color": "#555"},
                           hovertemplate="%{x}: $%{y:.3~s} mean loss<extra></extra>"))
    fig.update_layout(title="Mean loss per holder class, 95 % interval (negative = gain)",
                      yaxis={"tickprefix": "$", "tickformat": ".3~s"}, hovermode="closest", showlegend=False)
    return fig
