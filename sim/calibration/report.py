"""Interactive, self-contained pages (`sim.report.page`: Plotly inlined once) for the calibration, the
stress windows and reserve sizing; the sizing curves also as PNG (sizing.png, the README's figures)."""
from __future__ import annotations

import io
import json

import numpy as np


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _png_bytes(fig, dpi: int = 100) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    _plt().close(fig)
    return buf.getvalue()


def _fmt_cell(col: str, v) -> str:
    from sim.report.fmt import fmt, unit_of

    if isinstance(v, bool) or v is None or isinstance(v, str):
        return fmt(v)
    return fmt(v, unit_of(col), 4)


def _rows(rows: list[dict], cols: list[str]) -> list[list[str]]:
    return [[_fmt_cell(c, r.get(c)) for c in cols] for r in rows]


def validation_figure(validation: dict):
    """One small histogram per statistic: simulated paths, the data (red), the tolerance (green)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    rows = validation["rows"]
    ncols = (len(rows) + 1) // 2
    fig = make_subplots(rows=2, cols=ncols, subplot_titles=[r["label"][:38] for r in rows], vertical_spacing=0.2)
    for i, r in enumerate(rows):
        rr, cc = i // ncols + 1, i % ncols + 1
        sims = np.asarray(validation["simulated"][r["stat"]], dtype=float)
        sims = sims[np.isfinite(sims)]
        fig.add_trace(go.Histogram(x=sims, nbinsx=20, marker_color="#1f77b4", opacity=0.7, showlegend=False,
                                   hovertemplate="%{x}: %{y} paths<extra></extra>"), row=rr, col=cc)
        fig.add_vline(x=r["data"], line={"color": "#d62728", "width": 2}, row=rr, col=cc)
        if r["kind"] == "abs":
            fig.add_vrect(x0=r["data"] - r["tolerance"], x1=r["data"] + r["tolerance"], fillcolor="#2ca02c",
                          opacity=0.12, line_width=0, row=rr, col=cc)
    fig.update_annotations(font_size=10)
    fig.update_layout(height=520, title={"text": "Simulated paths (histogram) vs data (red line); green: tolerance",
                                         "x": 0.01}, hovermode="closest", margin={"t": 70})
    return fig


def calibration_html(cal, validation: dict | None, manifest: dict) -> str:
    import plotly.graph_objects as go

    from sim.report.page import Page, esc, manifest_html, table

    page = Page("Tripod calibration")
    s = cal.report["sample"]
    page.add("<h1>Market calibration and validation</h1>",
             f"<p>BTC {s['btc_usd']['from']}..{s['btc_usd']['to']} ({s['btc_usd']['days']:,} days); funding "
             f"{s['funding_rate_8h_btc'].get('from')}..{s['funding_rate_8h_btc'].get('to')} (aligned one day back); "
             f"gold monthly {s['xau_usd']['from']}..{s['xau_usd']['to']}; T-bill {s['tbill'].get('from')}..{s['tbill'].get('to')}.</p>")
    if validation:
        cols = ["label", "data", "sim_median", "sim_p5", "sim_p95", "kind", "tolerance", "error", "pass",
                "data_in_sim_90pct_band"]
        page.add(f"<h2>Stylized facts: data vs {validation['paths']} simulated paths "
                 f"({validation['passed']}/{validation['total']} within tolerance)</h2>",
                 table(_rows(validation["rows"], cols),
                       ["fact", "data", "simulated median", "p5", "p95", "kind", "tolerance", "error", "within",
                        "data in the 90 % band"]),
                 page.figure(validation_figure(validation)))
    if cal.posterior_stress is not None:
        ps = cal.posterior_stress
        fig = go.Figure(go.Scatter(x=[d.isoformat() for d in ps.index.date], y=ps.to_numpy(), line={"width": 0.8},
                                   name="P(stress)", hovertemplate="%{x}: %{y:.2f}<extra></extra>"))
        fig.update_layout(title={"text": "Smoothed stress-regime probability (2-state HMM on daily BTC returns)", "x": 0.01},
                          height=260, yaxis={"range": [0, 1]})
        page.add("<h2>Regimes</h2>", page.figure(fig))
    flat = _flatten(cal.market.model_dump(mode="json"))
    page.add("<h2>Fitted market block</h2>", table([[k, _fmt_cell(k, v)] for k, v in flat.items()], ["field", "value"]),
             "<details><summary>fit details (JSON)</summary><pre>"
             + esc(json.dumps(cal.report, indent=1, default=float)) + "</pre></details>",
             "<h2>Provenance</h2>", manifest_html(manifest))
    return page.html()


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def sizing_plot(results: list[dict], public: list[dict] | None = None, title: str | None = None) -> bytes:
    """Depletion probability vs reserve (% of supply), one curve per configuration."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for i, r in enumerate(results):
        x = np.asarray(r["curve"]["reserve_usd"]) / r["supply_usd"] * 100
        y = np.asarray(r["curve"]["depletion_probability"])
        ax.step(x, y, where="post", color=f"C{i % 10}", lw=1.3, label=r.get("label") or r["scenario"])
    if public:
        for p in public:
            ax.axvline(p["reserve_usd"] / p["supply_usd"] * 100, color="k", lw=0.8, ls=":")
        ax.text(public[0]["reserve_usd"] / public[0]["supply_usd"] * 100, 0.95, " public estimates", fontsize=7,
                va="top")
    ax.set_yscale("log")
    ax.set_ylim(max(0.5 / max(r["runs"] for r in results), 1e-4), 1.05)
    ax.set_xlabel("initial reserve fund, % of supply")
    ax.set_ylabel(f"P(reserve depleted within {results[0]['horizon_days']:g} days)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    ax.set_title(title or "Reserve-depletion probability vs reserve size", fontsize=10)
    return _png_bytes(fig, 110)


def windows_html(res: dict, manifest: dict) -> str:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from sim.report.page import Page, esc, manifest_html, table

    df = res["frame"]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=["reserve drawdown over the window (%)", "max depeg (bps)"])
    fig.add_trace(go.Scatter(x=df["start"], y=df["reserve_drawdown_pct"], line={"width": 1}, name="reserve drawdown",
                             customdata=df[["end", "btc_return_pct"]].to_numpy(),
                             hovertemplate="%{x} .. %{customdata[0]}: %{y:.2f} %, BTC %{customdata[1]:+.0f} %<extra></extra>"),
                  row=1, col=1)
    fig.add_trace(go.Scatter(x=df["start"], y=df["max_depeg_bps"], line={"width": 1, "color": "#d62728"}, name="max depeg",
                             hovertemplate="%{x}: %{y:.1f} bps<extra></extra>"), row=2, col=1)
    fig.update_layout(height=480, showlegend=False, hovermode="x unified",
                      title={"text": f"Every {res['window_days']}-day window of the shipped data through "
                                     f"'{res['scenario']}' (x: window start)", "x": 0.01})
    cols = ["start", "end", "reserve_drawdown_usd", "reserve_drawdown_pct", "reserve_depleted", "max_depeg_bps",
            "hours_below_threshold", "min_backing_ratio", "btc_return_pct", "btc_max_drawdown_pct", "funding_mean_apr_pct",
            "funding_negative_hours_share"]
    heads = ["start", "end", "reserve drawdown", "drawdown %", "depleted", "max depeg", "hours below", "lowest backing",
             "BTC over window", "BTC max drawdown", "mean funding APR", "negative-funding hours"]
    page = Page("Tripod stress windows")
    page.add(f"<h1>Historical stress windows: {res['windows']:,} windows of {res['window_days']} days</h1>",
             f"<p>Every {res['stride_days']} d, starts {res['first_start']}..{res['last_start']}. Scenario "
             f"<b>{esc(res['scenario'])}</b>: supply ${res['supply_usd'] / 1e6:,.0f}M, reserve "
             f"${res['reserve_start_usd'] / 1e6:,.1f}M, weights {esc(res['weights'])}. Reserve depleted in "
             f"{res['share_depleted']:.1%} of windows; peg below threshold in {res['share_depegged']:.1%}.</p>",
             page.figure(fig),
             "<h2>Worst windows by reserve drawdown (non-overlapping)</h2>",
             table(_rows(res["worst_by_reserve_drawdown"], cols), heads, left=2),
             "<h2>Worst windows by max depeg (non-overlapping)</h2>",
             table(_rows(res["worst_by_max_depeg"], cols), heads, left=2),
             "<h2>Provenance</h2>", manifest_html(manifest))
    return page.html()


def sizing_html(results: list[dict], public: list[dict], manifest: dict) -> str:
    """Depletion probability against reserve (% of supply) per configuration, the answers with their
    intervals, the public figures marked: interactive, with the curve's own run-count floor."""
    import plotly.graph_objects as go

    from sim.report.fmt import fmt
    from sim.report.page import Page, manifest_html, table

    fig = go.Figure()
    for r in results:
        x = np.asarray(r["curve"]["reserve_usd"]) / r["supply_usd"] * 100
        y = np.maximum(np.asarray(r["curve"]["depletion_probability"]), 0.5 / r["runs"])
        fig.add_trace(go.Scatter(x=x, y=y, line={"shape": "hv"}, name=r.get("label") or r["scenario"],
                                 customdata=np.asarray(r["curve"]["reserve_usd"]) / 1e6,
                                 hovertemplate="reserve %{x:.2f} % of supply ($%{customdata:,.0f}M): P = %{y:.3~%}<extra></extra>"))
    for p in public or []:
        fig.add_vline(x=p["reserve_usd"] / p["supply_usd"] * 100, line={"dash": "dot", "color": "#444"},
                      annotation_text=p["source"].split(",")[0], annotation_font_size=9)
    fig.update_layout(title={"text": "Reserve-depletion probability against reserve size", "x": 0.01}, height=460,
                      xaxis={"title": {"text": "initial reserve fund, % of supply"}},
                      yaxis={"type": "log", "title": {"text": f"P(depleted within {results[0]['horizon_days']:g} days)"},
                             "tickformat": ".1~%"}, hovermode="closest")
    rows = []
    for r in results:
        for a in r["answers"]:
            rows.append([r.get("label") or r["scenario"], fmt(a["target_prob"], "pct"), fmt(a["reserve_usd"], "usd"),
                         f"{a['pct_of_supply']:.2f} %", f"[{fmt(a['ci_low_usd'], 'usd')}, {fmt(a['ci_high_usd'], 'usd')}]",
                         fmt(r["runs"], "count"), a.get("ci_note") or ""])
    page = Page("Tripod reserve sizing")
    page.add("<h1>Reserve sizing</h1>",
             "<p>The smallest initial reserve whose depletion probability over the horizon is at most the target, with "
             "its 95 % distribution-free (order-statistic) interval. Curves stop at half a run's share: below it the "
             "runs cannot see.</p>",
             table(rows, ["configuration", "target P", "reserve", "% of supply", "95 % interval", "runs", "note"]),
             page.figure(fig), "<h2>Provenance</h2>", manifest_html(manifest))
    return page.html()


def sizing_figure(modelled: list[dict], carry: list[dict], public: list[dict]) -> bytes:
    """Two panels (protocol as modelled / funding carry only): depletion probability vs reserve, per mix.

    Each list holds `tripod size-reserve` results (sizing.json "results") for the same supply."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), sharey=True)
    for ax, results, title in ((axes[0], modelled, "protocol as modelled (basis marked to market)"),
                               (axes[1], carry, "funding carry only (premium_per_funding_8h = 0)")):
        for i, r in enumerate(results):
            x = np.asarray(r["curve"]["reserve_usd"]) / r["supply_usd"] * 100
            y = np.asarray(r["curve"]["depletion_probability"])
            w = r["weights"]
            ax.step(x, y, where="post", lw=1.4, color=f"C{i}",
                    label=f"T-bill {w['tbill']:.0%} / BTC {w['btc']:.0%} / gold {w['xau']:.0%} / buffer {w['buffer']:.0%}")
        for p in public:
            ax.axvline(p["reserve_usd"] / p["supply_usd"] * 100, color="k", lw=0.8, ls=":")
        ax.axhline(0.01, color="grey", lw=0.6)
        ax.set_yscale("log")
        ax.set_ylim(1.0 / max(r["runs"] for r in results), 1.05)
        ax.set_xlim(left=0)
        ax.set_xlabel("initial reserve fund, % of supply")
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel(f"P(reserve depleted within {modelled[0]['horizon_days']:g} days)")
    axes[1].legend(fontsize=7, loc="upper right")
    axes[0].text(0.05, 0.03, "dotted: public estimates for a pure\ndelta-neutral book (0.68-0.80 % of supply)",
                 transform=axes[0].transAxes, fontsize=7)
    fig.suptitle(f"Reserve sizing on the calibrated market: ${modelled[0]['supply_usd'] / 1e9:g}B supply, "
                 f"{modelled[0]['runs']} runs", fontsize=10)
    return _png_bytes(fig, 100)
