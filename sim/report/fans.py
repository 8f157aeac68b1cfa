"""Fan charts over runs: median, 50 % and 90 % bands, and one whole run drawn on top (the drill-down).

The series drawn are declared once in `FAN_SERIES`: add a `FanSeries` and every run report, the
notebook view and the dashboard draw it. A key ending in `*` draws one fan per matching trajectory
column (per-venue prices, per-asset funding...). A series whose column a run did not record is
skipped.

There is no "worst run" line made of the minimum over runs at each hour (it stitches different runs
together); the line on top is always one real run, picked by the reader.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass

import numpy as np

FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
MAX_PLOT_POINTS = 1500  # more points than pixels only slows the page


@dataclass(frozen=True)
class FanSeries:
    key: str
    """Trajectory column (or a pattern ending in `*`)."""
    title: str
    unit: str = ""
    """`sim.report.fmt` unit of the drawn values: usd, price, ratio, pct, bps..."""
    scale: float = 1.0
    """Drawn value = column x scale (funding per 8 h x 1095 = APR)."""
    hline: float | str | None = None
    """A reference line: a number, or "threshold" for the scenario's depeg threshold."""
    group: str = "protocol"
    """"protocol" (what the design controls) or "market" (inputs)."""
    min_matches: int = 1
    """A pattern is drawn only when at least this many columns match (per-venue fans: only with several
    venues; with one, its price is the pool price above)."""


FAN_SERIES: list[FanSeries] = [
    FanSeries("peg_price", "HUSD pool price (USDC per HUSD)", "price", hline="threshold"),
    FanSeries("backing_ratio", "Backing / supply", "ratio", hline=1.0),
    FanSeries("reserve_fund_usd", "Reserve fund", "usd"),
    FanSeries("supply", "HUSD supply", "usd"),
    FanSeries("hyb_price", "Backstop token HYB (USDC)", "price"),
    FanSeries("margin_ratio", "Hedge margin / notional (lowest open short; 0 with none open)", "ratio"),
    FanSeries("price_*", "HUSD price by venue", "price", hline="threshold", min_matches=2),
    FanSeries("lp_pull_*", "Liquidity pulled by LPs, share, by venue", "ratio"),
    FanSeries("btc_margin_usd", "BTC perp margin posted", "usd"),
    FanSeries("xau_margin_usd", "Gold perp margin posted", "usd"),
    FanSeries("btc_usd", "BTC price (market input)", "usd", group="market"),
    FanSeries("funding_rate_8h_*", "Perp funding, APR (market input)", "pct", scale=3 * 365, hline=0.0,
              group="market"),
]


def expand(series: list[FanSeries], columns) -> list[tuple[str, FanSeries]]:
    """(column, series) for every declared series the columns have, patterns expanded in order."""
    cols = list(columns)
    out = []
    for s in series:
        if s.key.endswith("*"):
            matched = [c for c in cols if fnmatch.fnmatch(c, s.key)]
            if len(matched) >= s.min_matches:
                out.extend((c, s) for c in matched)
        elif s.key in cols:
            out.append((s.key, s))
    return out


def report_series(columns) -> tuple[str, ...]:
    """The trajectory columns the fans need (what a streamed run keeps in memory)."""
    return tuple(c for c, _ in expand(FAN_SERIES, columns))


def time_axis(steps: int, step_hours: float, start_date: dt.date | None = None):
    """Hours, or dates for a historical run (its dates, not 'hour 3,000'), as epoch milliseconds."""
    hours = np.arange(steps + 1) * step_hours
    if start_date is None:
        return hours, "hour"
    # milliseconds since the epoch on a date axis: a compact number array instead of a date string per point
    t0 = np.datetime64(start_date.isoformat(), "ms").astype(np.int64)
    return t0 + hours * 3_600_000.0, "date"


def grid(xs) -> dict:
    """x0 and dx for an evenly spaced axis (every trace of a figure would otherwise repeat the array)."""
    xs = np.asarray(xs, dtype=float)
    return {"x0": float(xs[0]), "dx": float(xs[1] - xs[0]) if len(xs) > 1 else 1.0}


def stride_for(n: int) -> int:
    return max(1, int(np.ceil(n / MAX_PLOT_POINTS)))


def bands(values: np.ndarray, stride: int) -> np.ndarray:
    """Quantiles over runs at every step, thinned; shape (len(FAN_QUANTILES), thinned steps)."""
    return np.quantile(values[::stride], FAN_QUANTILES, axis=1).astype(np.float32)


def run_path(values: np.ndarray, run_index: int, stride: int) -> np.ndarray:
    """One run's path thinned by keeping, per block, the point farthest from the block's mean (dips survive)."""
    v = values[:, run_index]
    if stride == 1:
        return v.astype(np.float32)
    n = int(np.ceil(len(v) / stride))
    pad = np.full(n * stride, np.nan)
    pad[: len(v)] = v
    blocks = pad.reshape(n, stride)
    mean = np.nanmean(blocks, axis=1, keepdims=True)
    pick = np.nanargmax(np.abs(np.nan_to_num(blocks - mean, nan=-np.inf)), axis=1)
    return blocks[np.arange(n), pick].astype(np.float32)


# scripted market moves are marked on the charts of what they move (pool depth moves the peg)
SCRIPTED_ON = {"pool_depth": ("peg_price",), "funding_rate_8h_xau": ()}


def event_marks(scenario) -> list[tuple[float, float, str, tuple | None]]:
    """(start hour, end hour, label, columns or None for every chart) for events and scripted moves;
    marks starting at the same hour share one label."""
    marks = []
    for e in getattr(scenario, "events", []) or []:
        h = float(e.hour)
        marks.append((h, h + float(getattr(e, "duration_hours", 0) or 0), e.type.replace("_", " "), None))
    for s in getattr(scenario, "scripted", []) or []:
        on = SCRIPTED_ON.get(s.variable, (s.variable,))
        marks.append((float(s.points[0][0]), float(s.points[-1][0]), s.variable.replace("_", " "), on))
    return marks


def _marks_for(marks, column: str) -> list[tuple[float, float, str]]:
    kept = [(h0, h1, text) for h0, h1, text, on in marks if on is None or column in on]
    out, seen = [], {}
    for h0, h1, text in kept:  # one label per start hour
        if h0 in seen:
            out[seen[h0]] = (h0, max(h1, out[seen[h0]][1]), out[seen[h0]][2] + ", " + text)
        else:
            seen[h0] = len(out)
            out.append((h0, h1, text))
    return out


def _x_at(hour: float, start_date):
    if start_date is None:
        return hour
    return float(time_axis(0, 1.0, start_date)[0][0] + hour * 3_600_000.0)


def fan_figure(x, values: np.ndarray, series: FanSeries, column: str, threshold: float, marks=(), start_date=None,
               selected: tuple[int, str] | None = None):
    """A plotly figure: bands, median, one selected run (trace index 3), reference line, event marks."""
    import plotly.graph_objects as go

    stride = stride_for(len(x))
    xs = grid(x[::stride])
    q = bands(values * series.scale, stride)
    hover = _hover(series.unit)
    title = series.title if column == series.key else f"{series.title}: {column}"
    fig = go.Figure()
    band = "rgba(31,119,180,{})"
    fig.add_trace(go.Scatter(**xs, y=q[0], line={"width": 0}, showlegend=False, hoverinfo="skip", name="p5"))
    fig.add_trace(go.Scatter(**xs, y=q[4], fill="tonexty", fillcolor=band.format(0.18), line={"width": 0},
                             name="5-95 % of runs", hovertemplate=None, hoverinfo="skip"))
    fig.add_trace(go.Scatter(**xs, y=q[2], line={"color": "#1f77b4", "width": 1.6}, name="median",
                             hovertemplate=f"median {hover}<extra></extra>",
                             customdata=np.stack([q[0], q[1], q[3], q[4]], axis=1)))
    sel_name, sel_y = (selected[1], run_path(values * series.scale, selected[0], stride)) if selected else ("run", [])
    fig.add_trace(go.Scatter(**xs, y=sel_y, line={"color": "#d62728", "width": 1.1}, name=sel_name,
                             hovertemplate=f"{sel_name} {hover}<extra></extra>"))
    fig.add_trace(go.Scatter(**xs, y=q[1], line={"width": 0}, showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(**xs, y=q[3], fill="tonexty", fillcolor=band.format(0.32), line={"width": 0},
                             name="25-75 %", hoverinfo="skip"))
    fig.data[2].hovertemplate = (f"median {hover}<br>50 %: %{{customdata[1]:{_d3(series.unit)}}} .. "
                                 f"%{{customdata[2]:{_d3(series.unit)}}}<br>90 %: %{{customdata[0]:{_d3(series.unit)}}} .. "
                                 f"%{{customdata[3]:{_d3(series.unit)}}}<extra></extra>")
    ref = threshold if series.hline == "threshold" else series.hline
    shapes, notes = [], []
    if ref is not None:
        shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": ref, "y1": ref,
                       "line": {"color": "#444", "width": 1, "dash": "dash"}})
    for h0, h1, text in _marks_for(marks, column):
        x0, x1 = _x_at(h0, start_date), _x_at(h1, start_date)
        shapes.append({"type": "rect" if h1 > h0 else "line", "xref": "x", "yref": "paper", "x0": x0, "x1": x1,
                       "y0": 0, "y1": 1, "line": {"color": "#ff7f0e", "width": 1, "dash": "dot"},
                       "fillcolor": "rgba(255,127,14,0.08)", "layer": "below"})
        notes.append({"x": x0, "y": 1, "yref": "paper", "text": text, "showarrow": False, "xanchor": "left",
                      "yanchor": "bottom", "font": {"size": 10, "color": "#b35900"}})
    if float(np.nanmin(q[0])) == float(np.nanmax(q[4])):  # constant in every run: say so, no fake scale
        v = float(q[0][0])
        notes.append({"x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper", "showarrow": False,
                      "text": f"the same in every run at every time: {v:.6g}", "font": {"size": 12, "color": "#555"}})
        fig.update_yaxes(range=[v - max(abs(v), 1) * 0.01, v + max(abs(v), 1) * 0.01])
    fig.update_layout(title={"text": title, "font": {"size": 14}, "x": 0.01, "xanchor": "left"}, shapes=shapes,
                      annotations=notes, height=340, margin={"b": 80}, legend={"y": -0.3},
                      yaxis={"tickformat": _d3(series.unit), "ticksuffix": " bps" if series.unit == "bps" else "",
                             "tickprefix": "$" if series.unit == "usd" else ""},
                      xaxis={"ticksuffix": "" if start_date else " h", "type": "date" if start_date else "linear"})
    return fig


def _d3(unit: str) -> str:
    return {"usd": ".3~s", "pct": ".2~%", "price": ".4f", "ratio": ".6~f", "bps": ".3~s"}.get(unit, ".4~g")


def _hover(unit: str) -> str:
    pre = "$" if unit == "usd" else ""
    post = " bps" if unit == "bps" else ""
    return f"{pre}%{{y:{_d3(unit)}}}{post}"
