"""A Result in a notebook: a compact card (key figures with intervals, a small fan of the peg as
inline SVG: no JavaScript, a few kilobytes), instead of tens of thousands of characters of dicts."""
from __future__ import annotations

import numpy as np

from sim.report.fans import FAN_QUANTILES
from sim.report.page import esc
from sim.report.tables import headline_rows

W, H, PAD = 360, 110, 4


def fan_svg(values: np.ndarray, threshold: float | None = None, points: int = 240) -> str:
    """Median and 5-95 % / 25-75 % bands of (T + 1, R) values as a small SVG."""
    k = max(1, int(np.ceil(values.shape[0] / points)))
    q = np.quantile(values[::k], FAN_QUANTILES, axis=1)
    lo, hi = float(np.nanmin(q[0])), float(np.nanmax(q[-1]))
    if threshold is not None:
        lo = min(lo, threshold)
    span = hi - lo or max(abs(hi), 1.0) * 1e-3
    xs = np.linspace(PAD, W - PAD, q.shape[1])

    def y(v):
        return H - PAD - (v - lo) / span * (H - 2 * PAD)

    def band(a, b, alpha):
        pts = [f"{x:.1f},{y(v):.1f}" for x, v in zip(xs, a)] + [f"{x:.1f},{y(v):.1f}" for x, v in zip(xs[::-1], b[::-1])]
        return f'<polygon points="{" ".join(pts)}" fill="#1f77b4" fill-opacity="{alpha}" stroke="none"/>'

    median = " ".join(f"{x:.1f},{y(v):.1f}" for x, v in zip(xs, q[2]))
    ref = (f'<line x1="{PAD}" x2="{W - PAD}" y1="{y(threshold):.1f}" y2="{y(threshold):.1f}" stroke="#444" '
           f'stroke-dasharray="3,3" stroke-width="0.8"/>' if threshold is not None else "")
    return (f'<svg width="{W}" height="{H}" viewBox="0 0 {W} {H}" xmlns="http://www.w3.org/2000/svg">'
            f'<rect width="{W}" height="{H}" fill="white" stroke="#ddd"/>{band(q[0], q[4], 0.18)}{band(q[1], q[3], 0.32)}'
            f'<polyline points="{median}" fill="none" stroke="#1f77b4" stroke-width="1.4"/>{ref}'
            f'<text x="{W - PAD}" y="12" font-size="9" text-anchor="end" fill="#555">{hi:.4f}</text>'
            f'<text x="{W - PAD}" y="{H - 6}" font-size="9" text-anchor="end" fill="#555">{lo:.4f}</text></svg>')


def result_html(result) -> str:
    m, man, sc = result.metrics, result.manifest, result.scenario
    rows = "".join(f"<tr><td style='text-align:left'>{esc(r[1])}</td><td>{esc(r[2])}</td>"
                   f"<td style='color:#666'>{esc(r[3])}</td></tr>" for r in headline_rows(m))
    d = getattr(result.trajectory, "data", {}) or {}
    fan = (f"<div style='font-size:11px;color:#555'>pool price over {m['horizon_hours']:,.0f} h: median, 50 % and 90 % "
           f"of runs; dashed: depeg threshold</div>{fan_svg(d['peg_price'], sc.depeg_threshold)}"
           if "peg_price" in d else "")
    return (f"<div style='font-family:system-ui,sans-serif;font-size:12px'>"
            f"<b>sim.Result</b>: {esc(sc.name)} — {m['runs']:,} runs &times; {m['horizon_hours']:,.0f} h, seed "
            f"{man.get('seed')}, engine {esc(man.get('engine'))}, config hash <code>{esc(man.get('config_hash'))}</code>"
            f"<div style='display:flex;gap:16px;align-items:flex-start;margin-top:4px'>"
            f"<table style='border-collapse:collapse'><tr><th style='text-align:left'>figure</th><th>value</th>"
            f"<th>95 % interval</th></tr>{rows}</table><div>{fan}</div></div>"
            f"<div style='color:#777;font-size:11px'>.metrics (every figure), .frame (trajectories), .write(dir) "
            f"(report.html and the rest)</div></div>")
