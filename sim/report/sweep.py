"""The sweep report: risk surfaces with the target drawn twice (where the point estimate meets it, and
where it is met with 95 % confidence), how many runs per point would resolve the rest, every
probability (not only the target's) with its interval, and a click on a cell opening its runs."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from sim.intervals import resolved, runs_to_resolve
from sim.report.fmt import fmt, label, unit_of
from sim.report.page import Page, Raw, esc, table

PROBABILITIES = ("depeg_probability", "insolvency_probability", "reserve_depletion_probability",
                 "hedge_liquidation_probability")
DETAIL_METRICS = ("max_depeg_bps", "min_backing_ratio", "reserve_fund_min_usd", "hours_below_threshold")
MAX_EMBEDDED_VALUES = 300_000  # per-run values carried in the page for the click-through


def target_column(cfg, summary: pd.DataFrame) -> str:
    return cfg.target.metric if cfg.target.metric in summary else f"{cfg.target.metric}_mean"


def probability_columns(summary: pd.DataFrame) -> list[str]:
    return [c for c in summary.columns if c.endswith("_probability")]


def with_resolution(summary: pd.DataFrame, col: str, target: float) -> pd.DataFrame:
    """status (met / missed / unresolved at 95 %) and the runs per point that would resolve it."""
    s = summary.copy()
    lo, hi = s.get(f"{col}_ci95_low"), s.get(f"{col}_ci95_high")
    if lo is None or hi is None:
        s["status"], s["runs_to_resolve"] = "no interval", np.nan
        return s
    s["status"] = [resolved(p, a, b, target) for p, a, b in zip(s[col], lo, hi)]
    is_prob = col.endswith("_probability")
    s["runs_to_resolve"] = [np.nan if st != "unresolved" or not is_prob else (runs_to_resolve(p, target) or np.inf)
                            for p, st in zip(s[col], s["status"])]
    return s


def resolution_note(s: pd.DataFrame, col: str, target: float, runs: int) -> str:
    n = len(s)
    counts = {k: int((s["status"] == k).sum()) for k in ("met", "missed", "unresolved")}
    text = (f"At {runs} runs per point, {counts['met']} of {n} points meet {label(col).lower()} &le; {fmt(target, unit_of(col))} "
            f"with 95 % confidence (<span class='met'>met</span>), {counts['missed']} miss it "
            f"(<span class='missed'>missed</span>) and {counts['unresolved']} are <span class='unresolved'>unresolved</span> "
            "(the interval straddles the target).")
    need = s.loc[s["status"] == "unresolved", "runs_to_resolve"].to_numpy(float)
    finite = need[np.isfinite(need)]
    if finite.size:
        text += (f" Resolving them at their observed rates needs about {int(np.median(finite)):,} runs per point "
                 f"(median; up to {int(finite.max()):,})")
        if (~np.isfinite(need)).any():
            text += f"; {int((~np.isfinite(need)).sum())} sit on the target itself and no run count resolves them"
        text += "."
    zero = target > 0 and col.endswith("_probability")
    if zero:
        text += (f" With no event at all a point needs {runs_to_resolve(0.0, target):,} runs for its upper bound to "
                 f"reach {fmt(target, 'pct')}.")
    return text


def _grid(summary: pd.DataFrame, x: str, y: str, col: str) -> pd.DataFrame:
    return summary.groupby([y, x])[col].mean().unstack(x)


def surface_figure(summary: pd.DataFrame, x: str, y: str, col: str, target: float | None):
    """Heatmap of `col` over two parameters (mean over any others) with hover intervals; the target's
    point-estimate contour (solid) and its 95 %-confidence contour (dashed, on the upper bound)."""
    import plotly.graph_objects as go

    z = _grid(summary, x, y, col)
    xs, ys = z.columns.to_numpy(float), z.index.to_numpy(float)
    lo = _grid(summary, x, y, f"{col}_ci95_low") if f"{col}_ci95_low" in summary else z * np.nan
    hi = _grid(summary, x, y, f"{col}_ci95_high") if f"{col}_ci95_high" in summary else z * np.nan
    pid = summary.groupby([y, x])["point"].first().unstack(x)
    status = (summary.groupby([y, x])["status"].first().unstack(x) if "status" in summary and target is not None
              else pd.DataFrame("", index=z.index, columns=z.columns))
    unit = unit_of(col)
    is_prob = col.endswith("_probability")
    zmax = float(np.nanmax(hi.to_numpy())) if is_prob and np.isfinite(hi.to_numpy()).any() else float(np.nanmax(z.to_numpy()))
    zmin = 0.0 if is_prob else float(np.nanmin(z.to_numpy()))
    if target is not None and is_prob:
        zmax = max(zmax, target)
    if zmax <= zmin:
        zmax = zmin + (abs(zmin) * 0.01 or 1e-9)
    custom = np.dstack([lo.to_numpy(), hi.to_numpy(), pid.to_numpy(), status.to_numpy(dtype=object)])
    fmt_d3 = ".2~%" if unit == "pct" else ".4~g"
    fig = go.Figure(go.Heatmap(
        x=xs, y=ys, z=z.to_numpy(), zmin=zmin, zmax=zmax, colorscale="RdYlGn_r", customdata=custom,
        colorbar={"title": {"text": label(col), "side": "right"}, "tickformat": fmt_d3},
        hovertemplate=(f"{esc(label(x))}: %{{x:{_axis_fmt(x)}}}<br>{esc(label(y))}: %{{y:{_axis_fmt(y)}}}<br>"
                       f"{esc(label(col))}: %{{z:{fmt_d3}}} [%{{customdata[0]:{fmt_d3}}}, %{{customdata[1]:{fmt_d3}}}]"
                       "<br>%{customdata[3]}<br>point %{customdata[2]}: click for its runs<extra></extra>")))
    notes = []
    if target is not None:
        zz, hh = z.to_numpy(float), hi.to_numpy(float)
        for grid, dash, name in ((zz, "solid", "target, point estimate"), (hh, "dash", "target met with 95 % confidence")):
            if np.isfinite(grid).all() and grid.min() < target < grid.max() and min(grid.shape) >= 2:
                fig.add_trace(go.Contour(x=xs, y=ys, z=grid, showscale=False, hoverinfo="skip", name=name, showlegend=True,
                                         contours={"start": target, "end": target, "size": 1, "coloring": "none"},
                                         line={"color": "black", "width": 2.2, "dash": dash}))
        if not (np.isfinite(hh).all() and hh.min() <= target):
            notes.append("no point meets the target with 95 % confidence")
    if is_prob and float(np.nanmax(z.to_numpy())) == 0:
        notes.append(f"no event at any point; 95 % upper bounds up to {fmt(float(np.nanmax(hi.to_numpy())), 'pct')}")
    fig.update_layout(
        title={"text": f"{label(col)}" + (f" — target ≤ {fmt(target, unit)}" if target is not None else ""), "x": 0.01},
        xaxis={"title": {"text": label(x)}, "tickformat": _axis_fmt(x), "tickprefix": "$" if unit_of(x) == "usd" else ""},
        yaxis={"title": {"text": label(y)}, "tickformat": _axis_fmt(y), "tickprefix": "$" if unit_of(y) == "usd" else ""},
        hovermode="closest", height=430, legend={"y": -0.22},
        annotations=[{"text": n, "xref": "paper", "yref": "paper", "x": 0.5, "y": 1.0, "yanchor": "bottom",
                      "showarrow": False, "font": {"size": 11, "color": "#b00"}} for n in notes[:1]])
    return fig


def _axis_fmt(col: str) -> str:
    return {"usd": ".3~s", "pct": ".0%", "bps": ".3~s"}.get(unit_of(col), ".4~g")


def lines_figure(summary: pd.DataFrame, x: str, cols: list[str], target_col: str, target: float | None):
    """Every probability (and the target) against one parameter, each with its 95 % band."""
    import plotly.graph_objects as go

    s = summary.sort_values(x)
    fig = go.Figure()
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]
    for i, c in enumerate(dict.fromkeys([target_col, *cols])):
        if c not in s:
            continue
        color = palette[i % len(palette)]
        if f"{c}_ci95_low" in s:
            fig.add_trace(go.Scatter(x=s[x], y=s[f"{c}_ci95_high"], line={"width": 0}, showlegend=False, hoverinfo="skip"))
            fig.add_trace(go.Scatter(x=s[x], y=s[f"{c}_ci95_low"], line={"width": 0}, fill="tonexty", showlegend=False,
                                     fillcolor=_rgba(color, 0.15), hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=s[x], y=s[c], mode="lines+markers", name=label(c), line={"color": color},
                                 customdata=np.stack([s.get(f"{c}_ci95_low", s[c]), s.get(f"{c}_ci95_high", s[c]), s["point"]], axis=1),
                                 hovertemplate=f"{esc(label(c))}: %{{y:.3~%}} [%{{customdata[0]:.3~%}}, %{{customdata[1]:.3~%}}]<extra></extra>"))
    if target is not None:
        fig.add_hline(y=target, line={"dash": "dash", "color": "#444"}, annotation_text=f"target {fmt(target, unit_of(target_col))}")
    fig.update_layout(title="Probabilities against the swept parameter (95 % bands)", height=420,
                      xaxis={"title": {"text": label(x)}, "tickformat": _axis_fmt(x)}, yaxis={"tickformat": ".0%"})
    return fig


def _rgba(hex_color: str, a: float) -> str:
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{a})"


def point_rows(summary: pd.DataFrame, param_cols: list[str], target_col: str) -> tuple[list[str], list[list]]:
    probs = probability_columns(summary)
    medians = [f"{m}_p50" for m in DETAIL_METRICS if f"{m}_p50" in summary]
    header = ["point", *(label(c) for c in param_cols), "runs",
              *(f"{label(c)} [95 %]" for c in probs), "target", "runs to resolve",
              *(f"{label(c[:-4])}: median" for c in medians)]
    rows = []
    for _, r in summary.iterrows():
        cells = [str(int(r["point"])), *(fmt(r[c], unit_of(c)) for c in param_cols), fmt(r["runs"], "count")]
        for c in probs:
            cells.append(f"{fmt(r[c], 'pct')} [{fmt(r.get(f'{c}_ci95_low'), 'pct')}, {fmt(r.get(f'{c}_ci95_high'), 'pct')}]")
        st = r.get("status", "")
        cells.append(Raw(f'<span class="{esc(st)}">{esc(st)}</span>'))
        need = r.get("runs_to_resolve", np.nan)
        cells.append("" if not isinstance(need, float) or np.isnan(need) else ("never" if np.isinf(need) else f"{int(need):,}"))
        cells += [fmt(r[c], unit_of(c[:-4])) for c in medians]
        rows.append(cells)
    return header, rows


def render(cfg, summary: pd.DataFrame, param_cols: list[str], results: pd.DataFrame | None = None) -> str:
    tcol = target_column(cfg, summary)
    target = cfg.target.max
    s = with_resolution(summary, tcol, target)
    page = Page(f"Tripod sweep — {cfg.name}")
    page.add(f"<h1>Sweep: {esc(cfg.name)}</h1>", f'<p class="sub">{esc(cfg.description)}</p>',
             f"<p>{len(s)} points &times; {cfg.runs_per_point} runs on the same seeds (common random numbers), "
             f"seed {cfg.seed}; swept: {esc(', '.join(label(c) for c in param_cols))}. "
             f"Target: <b>{esc(label(tcol))} &le; {esc(fmt(target, unit_of(tcol)))}</b>.</p>",
             f'<div class="note">{resolution_note(s, tcol, target, cfg.runs_per_point)}</div>')
    probs = probability_columns(s)
    if len(param_cols) >= 2:
        x, y = param_cols[0], param_cols[1]
        if len(param_cols) > 2:
            page.add(f"<p>Surfaces average over {esc(', '.join(label(c) for c in param_cols[2:]))}.</p>")
        page.add("<h2>Risk surfaces</h2><p>Solid line: where the point estimate meets the target; dashed: where it is "
                 "met with 95 % confidence (the upper bound of the interval). Hover a cell for its interval; click it "
                 "for its runs.</p>")
        divs = []
        for col in dict.fromkeys([tcol, *probs]):
            if col in s and not _scattered(s, x, y):
                divs.append(page.figure(surface_figure(s, x, y, col, target if col == tcol else None),
                                        div_id=f"surf{len(divs)}"))
            elif col in s:
                divs.append(page.figure(_scatter_figure(s, x, y, col, target if col == tcol else None),
                                        div_id=f"surf{len(divs)}"))
        page.add(f'<div class="grid">{"".join(divs)}</div>')
        page.data["surfaces"] = [f"surf{i}" for i in range(len(divs))]
    elif param_cols:
        page.add("<h2>Every probability against the parameter</h2>",
                 page.figure(lines_figure(s, param_cols[0], probs, tcol, target), div_id="surf0"))
        page.data["surfaces"] = ["surf0"]
    page.add('<h2>Runs of a point</h2><p id="pointhint">Click a cell (or a point) above to see its runs.</p>'
             '<div id="pointdetail"></div><div id="pointhist" class="fig" style="display:none"></div>')
    header, rows = point_rows(s, param_cols, tcol)
    page.data["points"] = {str(int(r[0])): dict(zip(header, [str(c) for c in r])) for r in rows}
    page.data["perrun"] = _per_run_values(results)
    page.scripts.append(_CLICK_JS)
    page.add("<h2>Every point</h2>", table(rows, header, left=1),
             "<p>summary.csv has every figure with <code>_ci95_low</code> / <code>_ci95_high</code> columns; "
             "results.parquet has one row per point and run.</p>",
             f"<details><summary>sweep file</summary><pre>{esc(json.dumps(cfg.model_dump(mode='json'), indent=1))}</pre></details>")
    return page.html()


def _scattered(s: pd.DataFrame, x: str, y: str) -> bool:
    """A Latin hypercube (not a full grid): each x has its own y."""
    return s.groupby([y, x]).size().unstack(x).isna().any().any()


def _scatter_figure(s: pd.DataFrame, x: str, y: str, col: str, target):
    import plotly.graph_objects as go

    symbols = {"met": "circle", "missed": "x", "unresolved": "diamond-open"}
    fig = go.Figure(go.Scatter(
        x=s[x], y=s[y], mode="markers", marker={"color": s[col], "colorscale": "RdYlGn_r", "size": 12, "showscale": True,
                                                "symbol": [symbols.get(v, "circle") for v in s.get("status", [""] * len(s))],
                                                "cmin": 0 if col.endswith("_probability") else None},
        customdata=np.stack([s.get(f"{col}_ci95_low", s[col]), s.get(f"{col}_ci95_high", s[col]), s["point"]], axis=1),
        hovertemplate=f"{esc(label(col))}: %{{marker.color:.3~g}} [%{{customdata[0]:.3~g}}, %{{customdata[1]:.3~g}}]"
                      "<br>point %{customdata[2]}: click for its runs<extra></extra>"))
    fig.update_layout(title=label(col), xaxis={"title": {"text": label(x)}}, yaxis={"title": {"text": label(y)}},
                      hovermode="closest", height=430)
    return fig


def _per_run_values(results: pd.DataFrame | None) -> dict:
    """{point: {metric: per-run values}} for the click-through, when small enough to carry."""
    if results is None:
        return {}
    cols = [c for c in DETAIL_METRICS if c in results]
    if not cols or len(results) * len(cols) > MAX_EMBEDDED_VALUES:
        return {}
    out = {}
    for point, g in results.groupby("point", sort=True):
        out[str(int(point))] = {c: [None if not np.isfinite(v) else float(f"{v:.5g}") for v in g[c].to_numpy(float)]
                                for c in cols}
    return out


_CLICK_JS = """
function tripodShowPoint(pid){
  const row = TRIPOD_DATA.points[pid]; if(!row) return;
  let h = '<div class="scroll"><table><tbody>';
  for (const [k,v] of Object.entries(row)) h += '<tr><td class="l">'+k+'</td><td>'+v+'</td></tr>';
  document.getElementById('pointdetail').innerHTML = h + '</tbody></table></div>';
  document.getElementById('pointhint').textContent = 'Point ' + pid + ':';
  const runs = TRIPOD_DATA.perrun[pid];
  const el = document.getElementById('pointhist');
  if (!runs) { el.style.display='none'; return; }
  el.style.display='block';
  const traces = Object.entries(runs).map(([k,v],i)=>({type:'histogram', x:v, name:k, visible: i==0 ? true : 'legendonly'}));
  Plotly.react(el, traces, {title:{text:'Per-run values at point '+pid+' (pick a metric in the legend)', x:0.01},
    height:320, barmode:'overlay', hovermode:'closest', margin:{l:60,r:20,t:40,b:40}}, TRIPOD_CONFIG);
}
for (const id of (TRIPOD_DATA.surfaces||[])){
  const el = document.getElementById(id);
  el.on('plotly_click', function(ev){
    const p = ev.points[0]; if(!p) return;
    const cd = p.customdata; const pid = Array.isArray(cd) ? cd[2] : null;  // every trace carries the point third
    if (pid !== null && pid !== undefined) tripodShowPoint(String(pid));
  });
}
"""
