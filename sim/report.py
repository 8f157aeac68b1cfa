"""A self-contained HTML report: plots embedded as base64 PNG, no external links."""
from __future__ import annotations

import base64
import html
import io
import json

import numpy as np

FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
# the time series the report draws (a streamed run keeps these, and the metrics', in memory)
REPORT_SERIES = ("peg_price", "backing_ratio", "reserve_fund_usd", "supply", "hyb_price", "btc_usd",
                 "funding_rate_8h_btc", "margin_ratio")


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)  # layout is fixed at creation: "tight" would draw every figure twice
    import matplotlib.pyplot as plt
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


MAX_PLOT_POINTS = 1500  # more points than pixels only slows the report


def fan_chart(hours, values, title, ylabel, hline=None):
    """Median with 50 % and 90 % bands over runs; values shape (T + 1, R).

    Long horizons are thinned to about MAX_PLOT_POINTS steps for the bands; the worst-run line
    keeps the minimum of each thinned block, so no dip is lost.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    stride = max(1, int(np.ceil(len(hours) / MAX_PLOT_POINTS)))
    worst_all = values.min(axis=1)
    n_blocks = int(np.ceil(len(hours) / stride))
    worst = np.array([worst_all[i * stride:(i + 1) * stride].min() for i in range(n_blocks)])
    hours, values = hours[::stride], values[::stride]
    q = np.quantile(values, FAN_QUANTILES, axis=1)
    fig, ax = plt.subplots(figsize=(7.5, 3.0), layout="constrained")
    ax.fill_between(hours, q[0], q[4], alpha=0.2, color="C0", label="5-95 %")
    ax.fill_between(hours, q[1], q[3], alpha=0.35, color="C0", label="25-75 %")
    ax.plot(hours, q[2], color="C0", lw=1.2, label="median")
    ax.plot(hours, worst, color="C3", lw=0.6, ls=":", label="worst run")
    if hline is not None:
        ax.axhline(hline, color="k", lw=0.7, ls="--")
    ax.set_title(title)
    ax.set_xlabel("hour")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7, loc="best")
    return _png(fig)


def losses_chart(losses: dict) -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7.5, 2.8), layout="constrained")
    names, vals = list(losses), [losses[k] / 1e6 for k in losses]
    ax.bar(names, vals, color=["C3" if v > 0 else "C2" for v in vals])
    ax.axhline(0, color="k", lw=0.6)
    ax.set_ylabel("mean loss, $M (negative = gain)")
    ax.set_title("Losses by holder class")
    return _png(fig)


def render(traj, metrics: dict, manifest: dict, scenario) -> str:
    d = traj.data
    hours = np.arange(d["peg_price"].shape[0]) * traj.step_hours
    th = scenario.depeg_threshold
    charts = [
        ("Peg (pool price, USDC per HUSD)", fan_chart(hours, d["peg_price"], "HUSD pool price", "USDC", hline=th)),
        ("Backing ratio", fan_chart(hours, d["backing_ratio"], "Backing / supply", "ratio", hline=1.0)),
        ("Reserve fund", fan_chart(hours, d["reserve_fund_usd"] / 1e6, "Reserve fund", "$M")),
        ("Supply", fan_chart(hours, d["supply"] / 1e6, "HUSD supply", "$M")),
        ("HYB price", fan_chart(hours, d["hyb_price"], "Backstop token HYB", "USDC")),
        ("BTC price (market input)", fan_chart(hours, d["btc_usd"], "BTC", "USD")),
        ("BTC funding (market input)", fan_chart(hours, d["funding_rate_8h_btc"] * 3 * 365, "BTC perp funding", "APR", hline=0.0)),
        ("Margin ratio (lowest hedge, margin / notional; 0 with no short open)",
         fan_chart(hours, d["margin_ratio"], "Margin / notional", "ratio", hline=scenario.protocol.hedge.maintenance_margin_ratio)),
        ("Losses by class", losses_chart(metrics["losses_by_class_usd"])),
    ]
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td><code>{html.escape(json.dumps(v))}</code></td></tr>" for k, v in metrics.items())
    imgs = "".join(f"<h3>{html.escape(t)}</h3><img alt='{html.escape(t)}' src='data:image/png;base64,{b}'/>"
                   for t, b in charts)
    man = html.escape(json.dumps(manifest, indent=1))
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Tripod — {html.escape(scenario.name)}</title>
<style>body{{font-family:sans-serif;max-width:900px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;font-size:13px}}td{{border:1px solid #ccc;padding:3px 6px;vertical-align:top}}
img{{max-width:100%}}pre{{background:#f5f5f5;padding:8px;font-size:11px;overflow:auto}}</style></head>
<body><h1>Tripod run: {html.escape(scenario.name)}</h1>
<p>{html.escape(scenario.description)}</p>
<p>{metrics['runs']} runs &times; {metrics['horizon_hours']:.0f} h, seed {manifest['seed']},
engine {html.escape(manifest['engine'])}, config hash <code>{manifest['config_hash']}</code>.</p>
<h2>Risk figures</h2><table>{rows}</table>
<h2>Paths</h2>{imgs}
<h2>Manifest</h2><pre>{man}</pre></body></html>"""
