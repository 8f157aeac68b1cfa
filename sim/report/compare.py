"""compare.html: every figure of every design side by side with its interval, the paired difference
with its interval (marked when it excludes zero), the fans overlaid, losses side by side."""
from __future__ import annotations

from sim.report.fans import FAN_QUANTILES, FAN_SERIES, expand, grid, stride_for, time_axis
from sim.report.fmt import fmt, fmt_ci, unit_of
from sim.report.page import Page, Raw, esc, table
from sim.report.run import start_date
from sim.report.tables import metric_rows

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


def _diff_cell(d: dict | None, unit: str) -> Raw:
    if not d or d.get("diff") is None:
        return Raw("")
    lo, hi = d["ci95"]
    sharp = lo is not None and hi is not None and (lo > 0 or hi < 0)
    u = "pct" if unit == "pct" else unit
    sign = "+" if d["diff"] > 0 else ""
    text = f"{sign}{fmt(d['diff'], u)} {fmt_ci([lo, hi], u)}"
    return Raw(f'<span style="{"font-weight:600" if sharp else "color:#666"}" title="{esc(d.get("method", ""))}">'
               f"{esc(text)}</span>")


def figures_table(result: dict) -> str:
    sides = result["sides"]
    rows_by_side = [{r[0]: r for r in metric_rows(s["metrics"])} for s in sides]
    keys = list(dict.fromkeys(k for rows in rows_by_side for k in rows))
    diffs = [d["paired_differences"] for d in result["differences"]]
    header = ["figure", *(s["name"] for s in sides), *(f"{d['of']} [95 %]" for d in result["differences"])]
    out = []
    for k in keys:
        cells = [next(by_key[k][1] for by_key in rows_by_side if k in by_key)]
        for by_key in rows_by_side:
            r = by_key.get(k)
            cells.append(Raw(f"{esc(r[2])} <span class='ci'>{esc(r[3])}</span>") if r else "—")
        for d in diffs:
            cells.append(_diff_cell(d.get(k), unit_of(k.split(".")[0])))
        out.append(cells)
    return table(out, header)


def fan_overlay(sides, column: str, series):
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, s in enumerate(sides):
        q = s.fans.get(column) if s.fans else None
        if q is None:
            continue
        x, _ = time_axis(q.shape[0] - 1, s.scenario.step_hours, start_date(s.scenario))
        st = stride_for(len(x))
        xs, qq = grid(x[::st]), q[::st] * series.scale
        c = COLORS[i % len(COLORS)]
        rgba = f"rgba({int(c[1:3], 16)},{int(c[3:5], 16)},{int(c[5:7], 16)},0.15)"
        fig.add_trace(go.Scatter(**xs, y=qq[:, 0], line={"width": 0}, showlegend=False, hoverinfo="skip", legendgroup=s.name))
        fig.add_trace(go.Scatter(**xs, y=qq[:, -1], fill="tonexty", fillcolor=rgba, line={"width": 0}, hoverinfo="skip",
                                 name=f"{s.name}: 5-95 %", legendgroup=s.name))
        fig.add_trace(go.Scatter(**xs, y=qq[:, FAN_QUANTILES.index(0.5)], line={"color": c, "width": 1.6},
                                 name=f"{s.name}: median", legendgroup=s.name))
    ref = sides[0].scenario.depeg_threshold if series.hline == "threshold" else series.hline
    if ref is not None:
        fig.add_hline(y=ref, line={"dash": "dash", "color": "#444", "width": 1})
    dated = start_date(sides[0].scenario) is not None
    fig.update_layout(title={"text": series.title, "x": 0.01}, height=340, legend={"y": -0.3}, margin={"b": 80},
                      xaxis={"type": "date" if dated else "linear", "ticksuffix": "" if dated else " h"},
                      yaxis={"tickprefix": "$" if series.unit == "usd" else "",
                             "tickformat": {"usd": ".3~s", "pct": ".2~%", "price": ".4f", "ratio": ".4f"}.get(series.unit, ".4~g")})
    return fig


def losses_overlay(result: dict):
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, s in enumerate(result["sides"]):
        losses = s["metrics"].get("losses_by_class_usd") or {}
        ci = s["metrics"].get("losses_by_class_usd_ci95") or {}
        names = list(losses)
        vals = [losses[k] for k in names]
        lo = [v - ci[k][0] if ci.get(k) and ci[k][0] is not None else 0 for k, v in zip(names, vals)]
        hi = [ci[k][1] - v if ci.get(k) and ci[k][1] is not None else 0 for k, v in zip(names, vals)]
        fig.add_trace(go.Bar(x=[n.replace("_", " ") for n in names], y=vals, name=s["name"],
                             marker_color=COLORS[i % len(COLORS)],
                             error_y={"type": "data", "array": hi, "arrayminus": lo}))
    fig.update_layout(title={"text": "Mean loss per holder class, 95 % interval", "x": 0.01}, barmode="group",
                      yaxis={"tickprefix": "$", "tickformat": ".3~s"}, hovermode="closest", height=340)
    return fig


def render(result: dict) -> str:
    sides = result["_sides"]
    names = ", ".join(s["name"] for s in result["sides"])
    page = Page(f"Tripod compare — {names}")
    head = [[s["name"], s["source"], s["scenario"], fmt(s["runs"], "count"), str(s["seed"]), fmt(s["horizon_hours"], "hours"),
             Raw(f"<code>{esc(s['config_hash'])}</code>"),
             "" if s["reproduced_run_folder"] is None else ("yes" if s["reproduced_run_folder"] else "NO")]
            for s in result["sides"]]
    page.add(f"<h1>Compare: {esc(names)}</h1>",
             table(head, ["design", "from", "scenario", "runs", "seed", "horizon", "config hash", "folder reproduced"]),
             f'<div class="note">{esc(result["note"])}. Differences are each design minus <b>{esc(result["sides"][0]["name"])}</b>, '
             "with 95 % intervals: probabilities by Newcombe's paired score interval, means and quantiles by a paired "
             "bootstrap over runs. Bold: the interval excludes zero.</div>")
    page.add("<h2>Every figure</h2>", figures_table(result))
    divs = []
    cols = list(dict.fromkeys(c for s in sides for c in (s.fans or {})))
    for column, series in expand(FAN_SERIES, cols):
        divs.append(page.figure(fan_overlay(sides, column, series)))
    page.add("<h2>Paths over runs, overlaid</h2>", f'<div class="grid">{"".join(divs)}</div>')
    if any("losses_by_class_usd" in s["metrics"] for s in result["sides"]):
        page.add("<h2>Who bears the loss</h2>", page.figure(losses_overlay(result)))
    page.add(f"<p class='sub'>{esc(result.get('command', ''))} · commit {esc(str(result.get('git_commit'))[:10])} · "
             f"{result.get('wall_seconds', 0):.1f} s</p>")
    return page.html()
