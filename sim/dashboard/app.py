"""`tripod dashboard [DIR ...]`: a local web app over run, sweep and compare folders.

Why Dash: it is Plotly's own app framework, so the dashboard draws the very figures the static
reports draw (`sim.report`), serves its JavaScript from the installed package (no CDN, works
offline), is plain HTTP + JSON callbacks (a browser test can click through it), and runs as a
standard WSGI app we start and stop ourselves (SIGTERM closes the socket and exits 0).

Pages: `/` lists every result found; `/run?id=` a run (fans over any column from DuckDB, the worst
runs by depeg / reserve / backing drawn whole, the reserve's decay played hour by hour); `/sweep?id=`
a sweep's surfaces (click a cell: that point's runs); `/compare?id=` a compare folder's figures and
paired differences; `/pair` two runs side by side. Each result's own HTML report is served under
`/files/<id>/`.
"""
from __future__ import annotations

import hashlib
import signal
import sys
from pathlib import Path
from urllib.parse import parse_qs

from sim.dashboard import data
from sim.report.fmt import fmt, label, unit_of

RESERVE = "reserve_fund_usd"
PICKS = (("peg_price", "worst by depeg", "pool price"), (RESERVE, "worst by reserve", "reserve"),
         ("backing_ratio", "worst by backing", "backing ratio"))


def _id(path: Path) -> str:
    return hashlib.sha256(str(path).encode()).hexdigest()[:10]


class Catalog:
    """The result folders under the served dirs, found again on every visit of the index."""

    def __init__(self, dirs):
        self.dirs = [Path(d) for d in dirs]
        self.refresh()

    def refresh(self) -> list[data.Entry]:
        self.entries = {_id(e.path): e for e in data.discover(self.dirs)}
        return list(self.entries.values())

    def get(self, key: str | None) -> data.Entry | None:
        if key and key not in self.entries:
            self.refresh()
        return self.entries.get(key or "")


def build_app(dirs):
    import dash
    from dash import Input, Output, State, dcc, html

    cat = Catalog(dirs)
    app = dash.Dash(__name__, title="Tripod dashboard", serve_locally=True, suppress_callback_exceptions=True,
                    update_title=None)
    app.index_string = _index_string(cat)
    _static_files(app, cat)

    @app.server.before_request
    def _fresh_listing():  # the no-JavaScript listing follows new results too
        from flask import request

        if request.path == "/":
            cat.refresh()
            app.index_string = _index_string(cat)
    app.layout = html.Div([
        dcc.Location(id="url"),
        html.Div([dcc.Link("Tripod dashboard", href="/", className="brand"), " · ",
                  dcc.Link("compare two runs", href="/pair")], className="nav"),
        html.Div(id="page"),
    ], className="wrap")

    @app.callback(Output("page", "children"), Input("url", "pathname"), Input("url", "search"))
    def route(path, search):
        q = {k: v[0] for k, v in parse_qs((search or "").lstrip("?")).items()}
        if path == "/run":
            return run_page(cat.get(q.get("id")))
        if path == "/sweep":
            return sweep_page(cat.get(q.get("id")))
        if path == "/compare":
            return compare_page(cat.get(q.get("id")))
        if path == "/pair":
            return pair_page(cat)
        return index_page(cat.refresh())

    @app.callback(Output("run-fan", "figure"), Input("run-series", "value"), Input("run-pick", "value"),
                  State("run-id", "data"))
    def run_fan(column, run, key):
        e = cat.get(key)
        return fan_figure(e.path, column, None if run in (None, "") else int(run))

    @app.callback(Output("decay-hist", "figure"), Output("decay-text", "children"), Input("decay-t", "value"),
                  State("run-id", "data"))
    def decay(t, key):
        return decay_view(cat.get(key).path, int(t or 0))

    @app.callback(Output("decay-tick", "disabled"), Output("decay-play", "children"), Input("decay-play", "n_clicks"),
                  State("decay-tick", "disabled"), prevent_initial_call=True)
    def play(_n, disabled):
        return (not disabled), ("Pause" if disabled else "Play")

    @app.callback(Output("decay-t", "value"), Input("decay-tick", "n_intervals"), State("decay-t", "value"),
                  State("decay-t", "max"), State("decay-t", "step"), prevent_initial_call=True)
    def tick(_n, t, tmax, step):
        t = (t or 0) + (step or 1) * 12
        return 0 if t > tmax else t

    @app.callback(Output("sweep-surface", "figure"), Input("sweep-metric", "value"), State("sweep-id", "data"))
    def sweep_surface(metric, key):
        return surface(cat.get(key).path, metric)

    @app.callback(Output("sweep-point", "children"), Input("sweep-surface", "clickData"), State("sweep-id", "data"))
    def sweep_click(click, key):
        if not click or not click.get("points"):
            return html.P("Click a cell to list its runs.", className="sub")
        point = clicked_point(cat.get(key).path, click["points"][0])
        return point_view(cat.get(key).path, point) if point is not None else html.P("no point here")

    @app.callback(Output("pair-view", "children"), Input("pair-a", "value"), Input("pair-b", "value"),
                  Input("pair-series", "value"))
    def pair(a, b, column):
        ea, eb = cat.get(a), cat.get(b)
        if not ea or not eb:
            return html.P("Pick two runs.", className="sub")
        return pair_view(ea, eb, column)

    return app


# ---- pages -------------------------------------------------------------------------------------

def index_page(entries):
    from dash import dcc, html

    if not entries:
        return html.Div([html.H1("No results yet"),
                         html.P("Run `tripod run baseline`, `tripod sweep reserve-vs-mix` or `tripod compare A B`, "
                                "then reload.")])
    rows = [html.Tr([html.Th("kind"), html.Th("result"), html.Th("what"), html.Th("folder"), html.Th("report")])]
    for key, e in ((_id(e.path), e) for e in entries):
        report = {"run": "report.html", "sweep": "report.html", "compare": "compare.html"}[e.kind]
        rows.append(html.Tr([html.Td(e.kind), html.Td(dcc.Link(e.name, href=f"/{e.kind}?id={key}", className="open")),
                             html.Td(e.detail), html.Td(str(e.path), className="path"),
                             html.Td(html.A(report, href=f"/files/{key}/{report}", target="_blank"))]))
    return html.Div([html.H1("Results"), html.P(f"{len(entries)} result folders found.", className="sub"),
                     html.Table(rows, className="tbl")])


def _metrics_table(m: dict, keys=None):
    from dash import html

    from sim.report.tables import headline_rows, metric_rows

    rows = headline_rows(m) if keys == "headline" else metric_rows(m)
    return html.Table([html.Tr([html.Th("figure"), html.Th("value"), html.Th("95 % interval")])]
                      + [html.Tr([html.Td(r[1], className="l"), html.Td(r[2]), html.Td(r[3], className="ci")]) for r in rows],
                      className="tbl")


def run_page(e):
    import json

    from dash import dcc, html

    if e is None or e.kind != "run":
        return html.P("No such run (the folder may have moved); back to the list.")
    m = json.loads((e.path / "metrics.json").read_text())
    cols = data.columns(e.path)
    numeric = [c for c in cols if c not in ("run", "timestep", "hour")]
    picks = []
    for col, what, short in PICKS:
        if col in cols:
            for rank, (run, low) in enumerate(data.worst_runs(e.path, col, 3)):
                picks.append({"label": f"{what} #{rank + 1}: run {run} (lowest {short} {fmt(low, unit_of(col))})",
                              "value": str(run)})
    seen, options = set(), []
    for p in picks:
        if p["value"] not in seen:
            seen.add(p["value"])
            options.append(p)
    last, step_h = data.steps(e.path)
    k = data.stride(e.path)
    decay = []
    if RESERVE in cols:
        decay = [html.H2("Watch the reserve decay"),
                 html.P("The reserve fund of every run at one time, and the share of runs already depleted. Drag the "
                        "slider or press Play.", className="sub"),
                 html.Button("Play", id="decay-play", n_clicks=0),
                 dcc.Interval(id="decay-tick", interval=700, disabled=True),
                 dcc.Slider(id="decay-t", min=0, max=last, step=k, value=0,
                            marks={int(t): f"{t * step_h:,.0f} h" for t in range(0, last + 1, max(k, last // 6 or 1))}),
                 html.Div(id="decay-text", className="note"), dcc.Graph(id="decay-hist")]
    return html.Div([
        dcc.Store(id="run-id", data=_id(e.path)),
        html.H1(f"Run: {e.name}"), html.P(f"{e.detail} · {e.path}", className="sub"),
        html.H2("Key figures"), _metrics_table(m, "headline"),
        html.H2("Paths over runs"),
        html.Div([html.Label(["Series ", dcc.Dropdown(id="run-series", options=[{"label": label(c), "value": c} for c in numeric],
                                                      value="peg_price" if "peg_price" in numeric else numeric[0],
                                                      clearable=False)], className="field"),
                  html.Label(["Run drawn whole ", dcc.Dropdown(id="run-pick", options=options,
                                                               value=options[0]["value"] if options else None)],
                             className="field wide")], className="row"),
        dcc.Graph(id="run-fan"),
        *decay,
        html.Details([html.Summary("Every risk figure"), _metrics_table(m)]),
    ])


def fan_figure(d: Path, column: str, run: int | None):
    import plotly.graph_objects as go

    f = data.fan(d, column)
    t0 = data.start_ms(d)
    x = _x(f["hour"], t0)
    q = list(zip(*f["q"])) if f["q"] else [[]] * 5
    unit = unit_of(column)
    fig = go.Figure([
        go.Scatter(x=x, y=q[0], line={"width": 0}, showlegend=False, hoverinfo="skip"),
        go.Scatter(x=x, y=q[4], fill="tonexty", line={"width": 0}, fillcolor="rgba(31,119,180,0.18)", name="5-95 %"),
        go.Scatter(x=x, y=q[1], line={"width": 0}, showlegend=False, hoverinfo="skip"),
        go.Scatter(x=x, y=q[3], fill="tonexty", line={"width": 0}, fillcolor="rgba(31,119,180,0.32)", name="25-75 %"),
        go.Scatter(x=x, y=q[2], line={"color": "#1f77b4", "width": 1.6}, name="median"),
    ])
    if run is not None:
        p = data.run_path(d, run, [column])
        fig.add_trace(go.Scatter(x=_x(p["hour"], t0), y=p[column], line={"color": "#d62728", "width": 1.1},
                                 name=f"run {run}"))
    fig.update_layout(title={"text": label(column), "x": 0.01}, hovermode="x unified", height=420,
                      xaxis={"title": {"text": "date" if t0 else "hour"}, "type": "date" if t0 else "linear"},
                      yaxis={"tickprefix": "$" if unit == "usd" else ""},
                      margin={"l": 60, "r": 20, "t": 40, "b": 40}, template="plotly_white")
    return fig


def _x(hours, t0: float | None):
    """Hours, or epoch milliseconds on a date axis for a historical run."""
    return hours if t0 is None else [t0 + h * 3_600_000.0 for h in hours]


def decay_view(d: Path, t: int):
    import plotly.graph_objects as go

    values = data.slice_at(d, RESERVE, t)
    r0 = data.start_value(d, RESERVE)
    level = max(0.01 * r0, 1.0)  # sim.metrics: depleted at 1 % of the start
    share = data.depleted_share(d, RESERVE, t, level)
    _, step_h = data.steps(d)
    fig = go.Figure(go.Histogram(x=values, nbinsx=30, marker_color="#1f77b4"))
    fig.update_layout(title={"text": f"Reserve fund across runs at hour {t * step_h:,.0f}", "x": 0.01}, height=320,
                      xaxis={"range": [0, r0 * 1.05 if r0 > 0 else 1], "tickprefix": "$", "title": {"text": "reserve fund"}},
                      yaxis={"title": {"text": "runs"}}, template="plotly_white", bargap=0.05,
                      margin={"l": 60, "r": 20, "t": 40, "b": 40})
    med = sorted(values)[len(values) // 2] if values else float("nan")
    text = (f"Hour {t * step_h:,.0f}: median reserve {fmt(med, 'usd')} of {fmt(r0, 'usd')}; "
            f"{share:.0%} of runs depleted by now.")
    return fig, text


def surface(d: Path, metric: str):
    import json

    from sim.report.sweep import surface_figure, with_resolution

    s = data.sweep_summary(d)
    sweep = json.loads((d / "sweep.json").read_text()) if (d / "sweep.json").exists() else {}
    target = (sweep.get("sweep") or {}).get("target") or {}
    params = list((sweep.get("points") or [{}])[0].keys())
    tgt = target.get("max") if metric == target.get("metric") else None
    if tgt is not None:
        s = with_resolution(s, metric, tgt)
    if len(params) >= 2:
        fig = surface_figure(s, params[0], params[1], metric, tgt)
    else:
        from sim.report.sweep import lines_figure
        fig = lines_figure(s, params[0], [metric], metric, tgt)
    fig.update_layout(template="plotly_white")
    return fig


def sweep_page(e):
    from dash import dcc, html

    if e is None or e.kind != "sweep":
        return html.P("No such sweep.")
    import json

    s = data.sweep_summary(e.path)
    probs = [c for c in s.columns if c.endswith("_probability")]
    sweep = json.loads((e.path / "sweep.json").read_text()) if (e.path / "sweep.json").exists() else {}
    target = ((sweep.get("sweep") or {}).get("target") or {}).get("metric")
    first = target if target in probs else (probs[0] if probs else None)
    return html.Div([
        dcc.Store(id="sweep-id", data=_id(e.path)),
        html.H1(f"Sweep: {e.name}"), html.P(f"{e.detail} · {e.path}", className="sub"),
        html.Label(["Surface ", dcc.Dropdown(id="sweep-metric", options=[{"label": label(c), "value": c} for c in probs],
                                             value=first, clearable=False)], className="field"),
        dcc.Graph(id="sweep-surface"),
        html.H2("Runs of the point"), html.Div(id="sweep-point"),
    ])


def clicked_point(d: Path, pt: dict) -> int | None:
    """The sweep point under a click: from the trace's customdata, else by the cell's parameter values."""
    import json

    import numpy as np

    cd = pt.get("customdata")
    if isinstance(cd, list) and len(cd) > 2 and cd[2] is not None:
        return int(cd[2])
    s = data.sweep_summary(d)
    params = list((json.loads((d / "sweep.json").read_text()).get("points") or [{}])[0].keys())
    mask = np.ones(len(s), dtype=bool)
    for col, axis in zip(params, ("x", "y")):
        if axis in pt and pt[axis] is not None:
            mask &= np.isclose(s[col].to_numpy(float), float(pt[axis]))
    hits = s.loc[mask, "point"]
    return int(hits.iloc[0]) if len(hits) else None


def point_view(d: Path, point: int):
    import json

    import plotly.graph_objects as go
    from dash import dash_table, dcc, html

    runs = data.sweep_point_runs(d, point)
    cols = [c for c in runs.columns if c not in ("point",)]
    order = "max_depeg_bps" if "max_depeg_bps" in runs else cols[-1]
    runs = runs.sort_values(order, ascending=False)
    table = dash_table.DataTable(
        data=[{c: (fmt(v, unit_of(c)) if c not in ("run",) else int(v)) for c, v in r.items() if c in cols}
              for r in runs.to_dict("records")],
        columns=[{"name": label(c), "id": c} for c in cols], page_size=15, sort_action="native",
        style_table={"overflowX": "auto"}, style_cell={"fontSize": 12, "padding": "2px 6px"}, id="point-runs")
    fig = go.Figure(go.Histogram(x=runs[order], nbinsx=30))
    fig.update_layout(title={"text": f"{label(order)} over the {len(runs)} runs of point {point}", "x": 0.01},
                      height=300, template="plotly_white", margin={"l": 60, "r": 20, "t": 40, "b": 40})
    names = list((json.loads((d / "sweep.json").read_text()).get("points") or [{}])[0].keys())
    params = {c: runs[c].iloc[0] for c in names if c in runs}
    return html.Div([html.P(f"Point {point}: " + ", ".join(f"{label(c)} {fmt(v, unit_of(c))}" for c, v in params.items()),
                            id="point-title"), dcc.Graph(figure=fig), table])


def compare_page(e):
    import json

    from dash import html

    from sim.report.tables import metric_rows

    if e is None or e.kind != "compare":
        return html.P("No such comparison.")
    c = json.loads((e.path / "compare.json").read_text())
    sides = c["sides"]
    by_side = [{r[0]: r for r in metric_rows(s["metrics"])} for s in sides]
    keys = list(dict.fromkeys(k for b in by_side for k in b))
    diffs = [d["paired_differences"] for d in c.get("differences", [])]
    head = html.Tr([html.Th("figure"), *(html.Th(s["name"]) for s in sides),
                    *(html.Th(f"{d['of']} [95 %]") for d in c.get("differences", []))])
    body = []
    for k in keys:
        cells = [html.Td(next(b[k][1] for b in by_side if k in b), className="l")]
        cells += [html.Td(f"{b[k][2]} {b[k][3]}" if k in b else "—") for b in by_side]
        for dd in diffs:
            x = dd.get(k)
            u = unit_of(k.split(".")[0])
            cells.append(html.Td("" if not x or x.get("diff") is None else
                                 f"{fmt(x['diff'], u)} [{fmt(x['ci95'][0], u)}, {fmt(x['ci95'][1], u)}]"))
        body.append(html.Tr(cells))
    key = _id(e.path)
    return html.Div([html.H1(f"Compare: {e.name}"), html.P(c.get("note", ""), className="note"),
                     html.A("open compare.html (overlaid fans)", href=f"/files/{key}/compare.html", target="_blank"),
                     html.Table([head, *body], className="tbl")])


def pair_page(cat: Catalog):
    from dash import dcc, html

    runs = [{"label": f"{e.name} — {e.path}", "value": k} for k, e in cat.entries.items() if e.kind == "run"]
    return html.Div([
        html.H1("Compare two runs"),
        html.P("Two run folders side by side: their figures with intervals and their fans overlaid. For paired "
               "differences on common seeds use `tripod compare`.", className="sub"),
        html.Div([html.Label(["A ", dcc.Dropdown(id="pair-a", options=runs, value=runs[0]["value"] if runs else None)],
                             className="field wide"),
                  html.Label(["B ", dcc.Dropdown(id="pair-b", options=runs,
                                                 value=runs[1]["value"] if len(runs) > 1 else None)], className="field wide"),
                  html.Label(["Series ", dcc.Dropdown(id="pair-series", value="peg_price", clearable=False,
                                                      options=[{"label": label(c), "value": c} for c in
                                                               ("peg_price", "backing_ratio", RESERVE, "supply", "hyb_price")])],
                             className="field")], className="row"),
        html.Div(id="pair-view"),
    ])


def pair_view(ea, eb, column: str):
    import json

    import plotly.graph_objects as go
    from dash import dcc, html

    from sim.report.tables import metric_rows

    fig = go.Figure()
    for e, color in ((ea, "31,119,180"), (eb, "214,39,40")):
        if column not in data.columns(e.path):
            continue
        f = data.fan(e.path, column)
        q = list(zip(*f["q"]))
        fig.add_trace(go.Scatter(x=f["hour"], y=q[0], line={"width": 0}, showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=f["hour"], y=q[4], fill="tonexty", line={"width": 0},
                                 fillcolor=f"rgba({color},0.15)", name=f"{e.name}: 5-95 %"))
        fig.add_trace(go.Scatter(x=f["hour"], y=q[2], line={"color": f"rgb({color})"}, name=f"{e.name}: median"))
    fig.update_layout(title={"text": label(column), "x": 0.01}, height=420, template="plotly_white",
                      hovermode="x unified", margin={"l": 60, "r": 20, "t": 40, "b": 40})
    ma, mb = (json.loads((e.path / "metrics.json").read_text()) for e in (ea, eb))
    ra, rb = ({r[0]: r for r in metric_rows(m)} for m in (ma, mb))
    rows = [html.Tr([html.Th("figure"), html.Th(ea.name), html.Th(eb.name)])]
    for k in dict.fromkeys([*ra, *rb]):
        a, b = ra.get(k), rb.get(k)
        rows.append(html.Tr([html.Td((a or b)[1], className="l"), html.Td(f"{a[2]} {a[3]}" if a else "—"),
                             html.Td(f"{b[2]} {b[3]}" if b else "—")]))
    return html.Div([dcc.Graph(figure=fig, id="pair-fan"), html.Table(rows, className="tbl")])


# ---- serving ------------------------------------------------------------------------------------

CSS = """body{font-family:system-ui,sans-serif;color:#222;margin:0}.wrap{max-width:1150px;margin:0 auto;padding:0 1em 3em}
.nav{padding:.7em 0;border-bottom:1px solid #ddd;margin-bottom:1em}.brand{font-weight:700}
.tbl{border-collapse:collapse;font-size:13px;margin:.5em 0}.tbl td,.tbl th{border:1px solid #ddd;padding:3px 8px;text-align:right}
.tbl th{background:#f5f5f5}.tbl td.l,.tbl td:nth-child(2){text-align:left}.ci{color:#666}.path{color:#777;font-size:11px}
.sub{color:#555}.note{background:#f6f8fa;border-left:3px solid #1f77b4;padding:.4em .8em;margin:.6em 0}
.row{display:flex;gap:1em;flex-wrap:wrap}.field{min-width:260px;display:block}.wide{min-width:420px}"""


def _index_string(cat: Catalog) -> str:
    """Dash's page with our stylesheet and, for readers without JavaScript, the list of results."""
    listing = "".join(f"<li>{_esc(e.kind)}: {_esc(e.name)} ({_esc(e.detail)})</li>" for e in cat.entries.values())
    return ("<!DOCTYPE html><html><head>{%metas%}<title>{%title%}</title>{%favicon%}{%css%}"
            f"<style>{CSS}</style></head><body>{{%app_entry%}}"
            f"<noscript><h1>Tripod dashboard</h1><p>JavaScript is off; results served:</p><ul>{listing}</ul></noscript>"
            "<footer>{%config%}{%scripts%}{%renderer%}</footer></body></html>")


def _esc(s) -> str:
    import html

    return html.escape(str(s))


def _static_files(app, cat: Catalog) -> None:
    """Each result's own report files, read-only, by the result's id (never by a path from the browser)."""
    from flask import abort, send_from_directory

    allowed = {"report.html", "compare.html", "calibration.html", "metrics.json", "summary.csv", "compare.json"}

    @app.server.route("/files/<key>/<name>")
    def files(key, name):
        e = cat.get(key)
        if e is None or name not in allowed or not (e.path / name).exists():
            abort(404)
        return send_from_directory(e.path, name)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now (for tests and scripts that start a dashboard)."""
    import socket

    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def serve(dirs, host: str = "127.0.0.1", port: int = 8050) -> int:
    """Serve until Ctrl-C or SIGTERM; then close the socket and return 0."""
    import logging

    from werkzeug.serving import make_server

    from sim.config import ScenarioError

    missing = [d for d in dirs if not Path(d).is_dir()]
    if missing:
        raise ScenarioError(str(missing[0]), ["no such folder to serve"])
    app = build_app(dirs)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    try:
        server = make_server(host, port, app.server, threaded=True)
    except OSError as err:
        raise ScenarioError(f"--port {port}", [f"cannot listen on {host}:{port}: {err.strerror}"]) from None
    n = len(Catalog(dirs).entries)

    def stop(signum, _frame):
        raise SystemExit(0)

    previous = signal.signal(signal.SIGTERM, stop)
    print(f"tripod dashboard: {n} results from {', '.join(map(str, dirs))} at http://{host}:{server.server_port}/ "
          "(Ctrl-C or SIGTERM stops it)", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
        signal.signal(signal.SIGTERM, previous)
        print("tripod dashboard: stopped", file=sys.stderr, flush=True)
    return 0
