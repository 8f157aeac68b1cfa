"""The leverage-cycle experiment's report: an interactive page (report.html) and the README's figures as
PNG (peg.png, losses.png, mix.png), all from `leverage_cycle.json`'s result alone."""
from __future__ import annotations

import io

from sim.metrics import LOSS_CLASSES

SIGN_WORDS = {"higher": "resolved: higher", "lower": "resolved: lower", "unresolved": "not resolved (interval spans 0)"}


def _label(result: dict, design: str, mix: str) -> str:
    """A curve's name: the design, and the mix when there are several."""
    return design if len(result["mixes"]) == 1 else f"{design} · {mix}"


def _curve(result: dict, design: str, mix: str) -> list[dict]:
    return sorted((q for q in result["points"] if q["design"] == design and q["mix"] == mix), key=lambda q: q["max_ltv"])


def _ci(q: dict, key: str) -> list[float]:
    return q.get(f"{key}_ci95") or [q[key]] * 2


def figures(result: dict) -> list:
    """Peg against leverage (with 95 % intervals), who bears the loss, the order of events, and the mixes'
    paired differences."""
    import plotly.graph_objects as go

    out, dashes = [], ("solid", "dash", "dot", "dashdot")
    fig = go.Figure()
    for des in result["designs"]:
        for k, mix in enumerate(result["mixes"]):
            p, name = _curve(result, des, mix), _label(result, des, mix)
            ci = [_ci(q, "depeg_probability") for q in p]
            fig.add_trace(go.Scatter(
                x=[q["max_ltv"] for q in p], y=[q["depeg_probability"] for q in p], mode="lines+markers", name=name,
                line={"dash": dashes[k % len(dashes)]},
                error_y={"type": "data", "array": [c[1] - q["depeg_probability"] for c, q in zip(ci, p)],
                         "arrayminus": [q["depeg_probability"] - c[0] for c, q in zip(ci, p)], "width": 3},
                hovertemplate=f"{name}: max LTV %{{x}}: %{{y:.0%}}<extra></extra>"))
    fig.update_layout(title={"text": "Depeg probability against looper leverage (95 % Clopper-Pearson)", "x": 0.01},
                      xaxis={"title": {"text": "looper max LTV"}}, yaxis={"tickformat": ".0%", "range": [0, 1]},
                      hovermode="closest", height=380)
    out.append(fig)
    des, mix = result["designs"][0], result["mixes"][0]
    p = _curve(result, des, mix)
    fig = go.Figure()
    for cls in (c for c in LOSS_CLASSES if c != "treasury_companies"):
        fig.add_trace(go.Bar(x=[str(q["max_ltv"]) for q in p], y=[q["loss_share_by_class"].get(cls, 0.0) for q in p],
                             name=cls.replace("_", " "), hovertemplate=f"{cls}: %{{y:.0%}}<extra></extra>"))
    fig.update_layout(barmode="stack", title={"text": f"Who bears the loss ({_label(result, des, mix)})", "x": 0.01},
                      height=380, xaxis={"title": {"text": "looper max LTV"}}, yaxis={"tickformat": ".0%"},
                      hovermode="x unified")
    out.append(fig)
    fig = go.Figure()
    for e in p[0]["event_hours_median"]:
        xs = [q["max_ltv"] for q in p if q["event_hours_median"][e] is not None]
        ys = [q["event_hours_median"][e] for q in p if q["event_hours_median"][e] is not None]
        ci = [q["event_hours_median_ci95"][e] for q in p if q["event_hours_median"][e] is not None]
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="markers", name=e.replace("_", " "), marker={"size": 9},
            error_y={"type": "data", "array": [(c[1] - y) if c[1] is not None else 0 for c, y in zip(ci, ys)],
                     "arrayminus": [(y - c[0]) if c[0] is not None else 0 for c, y in zip(ci, ys)]}))
    fig.update_layout(title={"text": f"Median hour of each event's first occurrence, 95 % order-statistic interval "
                                     f"({_label(result, des, mix)})", "x": 0.01}, height=380,
                      xaxis={"title": {"text": "looper max LTV"}}, yaxis={"ticksuffix": " h"}, hovermode="closest")
    out.append(fig)
    if result.get("mix_differences"):
        fig = go.Figure()
        first = result["mixes"][0]
        for d in result["designs"]:
            for mix in result["mixes"][1:]:
                rows = sorted((x for x in result["mix_differences"] if x["design"] == d and x["first"] == first
                               and x["second"] == mix), key=lambda x: x["max_ltv"])
                dd = [x["paired_differences"]["depeg_probability"] for x in rows]
                fig.add_trace(go.Scatter(
                    x=[x["max_ltv"] for x in rows], y=[v["diff"] for v in dd], mode="lines+markers",
                    name=f"{d}: {mix} - {first}",
                    error_y={"type": "data", "array": [v["ci95"][1] - v["diff"] for v in dd],
                             "arrayminus": [v["diff"] - v["ci95"][0] for v in dd], "width": 3}))
        fig.add_hline(y=0, line={"color": "#888", "width": 1})
        fig.update_layout(title={"text": "Depeg probability: paired difference between mixes (same seeds, Newcombe 95 %)",
                                 "x": 0.01}, height=380, xaxis={"title": {"text": "looper max LTV"}},
                          yaxis={"tickformat": "+.0%"}, hovermode="closest")
        out.append(fig)
    return out


def _critical_line(c: dict) -> str:
    from sim.report.fmt import fmt_ci
    from sim.report.page import esc

    name = esc(c["design"] if c.get("mix") is None else f"{c['design']} · {c['mix']}")
    if c.get("max_ltv") is None:
        return f"<li>{name}: no jump in depeg probability</li>"
    ci = c.get("jump_ci95")
    verdict = ("" if ci is None else " — resolved: the paired interval excludes zero" if c.get("resolved")
               else " — <b>not resolved</b> at these runs: the paired interval includes zero")
    return (f"<li>{name}: largest jump between max LTV {c.get('from_ltv', '?')} and {c['max_ltv']}: "
            f"{c['depeg_probability_jump']:+.0%}" + (f" {esc(fmt_ci(ci, 'pct'))} (paired, same seeds)" if ci else "")
            + verdict + "</li>")


def _diff_cell(d: dict, unit: str) -> str:
    from sim.report.fmt import fmt, fmt_ci

    if d.get("diff") is None:
        return "—"
    sign = "+" if d["diff"] > 0 else ""
    return f"{sign}{fmt(d['diff'], unit)} {fmt_ci(d['ci95'], unit)} {'↑' if d['sign'] == 'higher' else '↓' if d['sign'] == 'lower' else ''}"


def render(result: dict) -> str:
    from sim.report.fmt import fmt, fmt_ci
    from sim.report.page import Page, esc, table

    several = len(result["mixes"]) > 1
    rows = [[p["design"], *([p["mix"]] if several else []), f"{p['max_ltv']:g}",
             f"{fmt(p['depeg_probability'], 'pct')} {fmt_ci(p.get('depeg_probability_ci95'), 'pct')}",
             f"{fmt(p['insolvency_probability'], 'pct')} {fmt_ci(p.get('insolvency_probability_ci95'), 'pct')}",
             fmt(p["max_depeg_bps_p95"], "bps"), fmt(p["hyb_drawdown_p50"], "pct"),
             f"{fmt(p['story_order_full_share'], 'pct')} {fmt_ci(p.get('story_order_full_share_ci95'), 'pct')}",
             f"{fmt(p['story_order_consistent_share'], 'pct')} {fmt_ci(p.get('story_order_consistent_share_ci95'), 'pct')}",
             ", ".join(f"{k.replace('_', ' ')} {v:.0%}" for k, v in p["loss_share_by_class"].items() if v >= 0.005)]
            for p in result["points"]]
    head = ["design", *(["mix"] if several else []), "max LTV", "depeg probability [95 %]", "insolvency [95 %]",
            "max depeg p95", "HYB drawdown p50", "story order (all four) [95 %]", "story order (consistent) [95 %]",
            "loss shares"]
    des, mix = result["designs"][0], result["mixes"][0]
    order = [[f"{p['max_ltv']:g}", *[
        f"{fmt(p['event_hours_median'][e], 'hours')} {fmt_ci(p['event_hours_median_ci95'][e], 'hours')} "
        f"({fmt(p['event_probability'][e], 'pct')} of runs)" for e in p["event_hours_median"]]]
        for p in sorted((q for q in result["points"] if q["design"] == des and q["mix"] == mix), key=lambda q: q["max_ltv"])]
    events = list(result["points"][0]["event_hours_median"])
    page = Page("Tripod — leverage cycle")
    page.add("<h1>Leverage-cycle experiment</h1>",
             f"<p>{result['runs']} runs per point, seed {result['seed']}, scenario {esc(result['scenario'])}, "
             f"config hash <code>{esc(result['config_hash'])}</code>. Story tested: {esc(' → '.join(result['story']))}. "
             f"{esc(result.get('paired', ''))}.</p>",
             "<h2>Critical leverage</h2><ul>" + "".join(_critical_line(c) for c in result["critical_leverage"]) + "</ul>")
    if several:
        w = result["mix_weights"]
        page.add("<h2>Sleeve mixes</h2>",
                 table([[m, *(fmt(w[m][k], "pct") for k in ("tbill", "btc", "xau", "buffer"))] for m in result["mixes"]],
                       ["mix", "T-bills", "BTC (hedged)", "gold (hedged)", "buffer"], left=1),
                 "<h3>Paired differences between mixes (same runs; ↑/↓: the 95 % interval excludes zero)</h3>",
                 table([[x["design"], f"{x['max_ltv']:g}", x["of"],
                         _diff_cell(x["paired_differences"]["depeg_probability"], "pct"),
                         _diff_cell(x["paired_differences"]["insolvency_probability"], "pct"),
                         _diff_cell(x["paired_differences"]["max_depeg_bps.p95"], "bps"),
                         _diff_cell(x["paired_differences"].get("min_backing_ratio.p50", {}), "ratio"),
                         _diff_cell(x["paired_differences"]["looper_liquidated_usd.mean"], "usd"),
                         _diff_cell(x["paired_differences"]["story_order_consistent_share"], "pct")]
                        for x in result["mix_differences"]],
                       ["design", "max LTV", "difference", "depeg probability", "insolvency", "max depeg p95",
                        "lowest backing ratio (median)", "looper liquidations (mean)", "story order (consistent)"],
                       left=3),
                 "<h3>Story order by mix (range over the grid's points)</h3>",
                 table([[m, f"{s['points']}", " – ".join(fmt(v, "pct") for v in s["full_share_range"]),
                         " – ".join(fmt(v, "pct") for v in s["consistent_share_range"])]
                        for m, s in result["story_by_mix"].items()],
                       ["mix", "points", "all four in order", "events that happened in order"], left=1))
    page.add("<h2>Every point</h2>", table(rows, head, left=2 if several else 1),
             f"<h2>Order of events ({esc(_label(result, des, mix))}): median hour [95 %] over the runs where it happened</h2>",
             table(order, ["max LTV", *(e.replace("_", " ") for e in events)], left=1),
             f'<div class="grid">{"".join(page.figure(f) for f in figures(result))}</div>')
    return page.html()


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    _plt().close(fig)
    return buf.getvalue()


def pngs(result: dict) -> dict[str, bytes]:
    """The README's figures: peg against leverage (every design and mix, 95 % intervals), who bears the loss
    (first design and mix), and, with several mixes, depeg probability against leverage by mix per design."""
    plt = _plt()
    out = {}
    styles = ("-", "--", ":", "-.")
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    for des in result["designs"]:
        for k, mix in enumerate(result["mixes"]):
            p = _curve(result, des, mix)
            x, y = [q["max_ltv"] for q in p], [q["depeg_probability"] for q in p]
            ci = [_ci(q, "depeg_probability") for q in p]
            ax.errorbar(x, y, yerr=[[v - c[0] for v, c in zip(y, ci)], [c[1] - v for v, c in zip(y, ci)]], marker="o",
                        linestyle=styles[k % len(styles)], capsize=3, label=_label(result, des, mix), alpha=0.85)
    ax.set(xlabel="looper max LTV", ylabel="depeg probability (< 0.99)", ylim=(-0.02, 1.02),
           title=f"Peg outcome against leverage ({result['runs']} runs/point, 95 % CI)")
    ax.legend(fontsize=7, loc="upper left")
    out["peg.png"] = _png(fig)
    des, mix = result["designs"][0], result["mixes"][0]
    p = _curve(result, des, mix)
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    bottom = [0.0] * len(p)
    for cls in (c for c in LOSS_CLASSES if c != "treasury_companies"):
        v = [q["loss_share_by_class"].get(cls, 0.0) for q in p]
        ax.bar([str(q["max_ltv"]) for q in p], v, bottom=bottom, label=cls)
        bottom = [b + x for b, x in zip(bottom, v)]
    ax.set(xlabel="looper max LTV", ylabel="share of total loss", ylim=(0, 1),
           title=f"Who bears the loss ({_label(result, des, mix)})")
    ax.legend(fontsize=7, bbox_to_anchor=(1.01, 1), loc="upper left")
    out["losses.png"] = _png(fig)
    if len(result["mixes"]) > 1:
        out["mix.png"] = _mix_png(result)
    return out


def _mix_png(result: dict) -> bytes:
    """Per design (columns): depeg, insolvency and the depth of the depeg (rows) against leverage, one line
    per mix, each with its 95 % interval; mixes side by side at each max LTV."""
    plt = _plt()
    rows = (("depeg_probability", "depeg probability", lambda q: _ci(q, "depeg_probability")),
            ("insolvency_probability", "insolvency probability", lambda q: _ci(q, "insolvency_probability")),
            ("max_depeg_bps_p95", "max depeg p95 (bps)",
             lambda q: (q.get("max_depeg_bps_ci95") or {}).get("p95") or [None, None]))
    designs, mixes = result["designs"], result["mixes"]
    fig, axes = plt.subplots(len(rows), len(designs), figsize=(3.4 * len(designs), 2.4 * len(rows)), sharex=True,
                             sharey="row", squeeze=False)
    for j, des in enumerate(designs):
        for i, (key, label, ci_of) in enumerate(rows):
            ax = axes[i][j]
            for k, mix in enumerate(mixes):
                p = _curve(result, des, mix)
                x = [q["max_ltv"] + 0.012 * (k - (len(mixes) - 1) / 2) for q in p]
                y = [q[key] for q in p]
                ci = [ci_of(q) for q in p]
                lo = [v - c[0] if c[0] is not None else 0 for v, c in zip(y, ci)]
                hi = [c[1] - v if c[1] is not None else 0 for v, c in zip(y, ci)]
                ax.errorbar(x, y, yerr=[lo, hi], marker="o", ms=4, capsize=2, label=mix)
            if i == 0:
                ax.set_title(des, fontsize=10)
            if j == 0:
                ax.set_ylabel(label, fontsize=8)
            if i < 2:
                ax.set_ylim(-0.03, 1.03)
            if i == len(rows) - 1:
                ax.set_xlabel("looper max LTV")
    axes[0][0].legend(fontsize=7, loc="center left")
    fig.suptitle(f"Sleeve mixes on the same seeds ({result['runs']} runs/point, seed {result['seed']}, 95 % CI)",
                 fontsize=10)
    return _png(fig)
