"""Self-contained HTML (plots as base64 PNG) for the calibration and the stress windows; the sizing plot."""
from __future__ import annotations

import base64
import html
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


def _img(png: bytes) -> str:
    return f'<img alt="chart" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _fmt(v) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}"
    return html.escape(str(v))


def _table(rows: list[dict], cols: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(r.get(c))}</td>" for c in cols) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


STYLE = ("<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}"
         "table{border-collapse:collapse;font-size:13px;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}"
         "th{background:#f4f4f4}.fail{color:#b00}pre{font-size:12px;background:#f8f8f8;padding:1em;overflow:auto}</style>")


def validation_chart(validation: dict) -> bytes:
    plt = _plt()
    rows = validation["rows"]
    fig, axes = plt.subplots(2, (len(rows) + 1) // 2, figsize=(13, 5))
    for ax, r in zip(axes.flat, rows):
        sims = np.asarray(validation["simulated"][r["stat"]], dtype=float)
        sims = sims[np.isfinite(sims)]
        ax.hist(sims, bins=20, color="C0", alpha=0.6)
        ax.axvline(r["data"], color="C3", lw=2, label="data")
        if r["kind"] == "abs":
            ax.axvspan(r["data"] - r["tolerance"], r["data"] + r["tolerance"], color="C2", alpha=0.12)
        ax.set_title(r["stat"].replace("_", " "), fontsize=7)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(rows):]:
        ax.axis("off")
    fig.suptitle("Simulated (histogram over paths) vs data (red); green: tolerance", fontsize=9)
    return _png_bytes(fig, 90)


def calibration_html(cal, validation: dict | None, manifest: dict) -> str:
    parts = [f"<html><head><meta charset='utf-8'><title>Tripod calibration</title>{STYLE}</head><body>",
             "<h1>Market calibration and validation</h1>"]
    s = cal.report["sample"]
    parts.append(f"<p>BTC {s['btc_usd']['from']}..{s['btc_usd']['to']} ({s['btc_usd']['days']} days); funding "
                 f"{s['funding_rate_8h_btc'].get('from')}..{s['funding_rate_8h_btc'].get('to')} (aligned one day back); "
                 f"gold monthly {s['xau_usd']['from']}..{s['xau_usd']['to']}; T-bill {s['tbill'].get('from')}..{s['tbill'].get('to')}.</p>")
    if validation:
        parts.append(f"<h2>Stylized facts: data vs {validation['paths']} simulated paths "
                     f"({validation['passed']}/{validation['total']} within tolerance)</h2>")
        rows = [{**r, "pass": r["pass"]} for r in validation["rows"]]
        parts.append(_table(rows, ["label", "data", "sim_median", "sim_p5", "sim_p95", "kind", "tolerance", "error",
                                   "pass", "data_in_sim_90pct_band"]))
        parts.append(_img(validation_chart(validation)))
    parts.append("<h2>Fitted market block</h2><pre>" + html.escape(json.dumps(cal.market.model_dump(mode="json"), indent=1)) + "</pre>")
    parts.append("<h2>Fit details</h2><pre>" + html.escape(json.dumps(cal.report, indent=1, default=float)) + "</pre>")
    if cal.posterior_stress is not None:
        plt = _plt()
        fig, ax = plt.subplots(figsize=(10, 2.4))
        ps = cal.posterior_stress
        ax.plot(ps.index, ps.to_numpy(), lw=0.5)
        ax.set_ylabel("P(stress)")
        ax.set_title("Smoothed stress-regime probability (2-state HMM on daily BTC returns)", fontsize=9)
        parts.append(_img(_png_bytes(fig, 90)))
    parts.append("<h2>Manifest</h2><pre>" + html.escape(json.dumps(manifest, indent=1)) + "</pre></body></html>")
    return "\n".join(parts)


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
    plt = _plt()
    df = res["frame"]
    x = np.array(df["start"], dtype="datetime64[D]")
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(10, 4.5), sharex=True)
    a1.plot(x, df["reserve_drawdown_pct"], lw=0.8)
    a1.set_ylabel("reserve drawdown, %")
    a2.plot(x, df["max_depeg_bps"], lw=0.8, color="C3")
    a2.set_ylabel("max depeg, bps")
    a2.set_xlabel("window start")
    fig.suptitle(f"Every {res['window_days']}-day window of the shipped data through '{res['scenario']}'", fontsize=9)
    cols = ["start", "end", "reserve_drawdown_usd", "reserve_drawdown_pct", "reserve_depleted", "max_depeg_bps",
            "hours_below_threshold", "min_backing_ratio", "btc_return_pct", "btc_max_drawdown_pct", "funding_mean_apr_pct",
            "funding_negative_hours_share"]
    parts = [f"<html><head><meta charset='utf-8'><title>Tripod stress windows</title>{STYLE}</head><body>",
             f"<h1>Historical stress windows: {res['windows']} windows of {res['window_days']} days "
             f"(every {res['stride_days']} d, {res['first_start']}..{res['last_start']})</h1>",
             f"<p>Scenario <b>{html.escape(res['scenario'])}</b>: supply ${res['supply_usd'] / 1e6:,.0f}M, reserve "
             f"${res['reserve_start_usd'] / 1e6:,.1f}M, weights {res['weights']}. Reserve depleted in "
             f"{res['share_depleted']:.1%} of windows; peg below threshold in {res['share_depegged']:.1%}.</p>",
             _img(_png_bytes(fig, 90)),
             "<h2>Worst windows by reserve drawdown (non-overlapping)</h2>", _table(res["worst_by_reserve_drawdown"], cols),
             "<h2>Worst windows by max depeg (non-overlapping)</h2>", _table(res["worst_by_max_depeg"], cols),
             "<h2>Manifest</h2><pre>" + html.escape(json.dumps(manifest, indent=1)) + "</pre></body></html>"]
    return "\n".join(parts)


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
