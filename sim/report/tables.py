"""Risk figures as rows a reader can scan: label, value in its unit, 95 % interval. Generic over the
metrics dict (new metrics appear without edits): numbers, {stat: number} dicts, and one more level
for per-venue or per-class dicts."""
from __future__ import annotations

from sim.report.fmt import fmt, fmt_ci, label, unit_of

SKIP = {"runs", "horizon_hours", "depeg_threshold", "intervals"}
STAT_WORDS = {"p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "mean", "max", "min"}


def _unit(key: str, sub: str | None = None) -> str:
    if sub is not None and sub not in STAT_WORDS:
        u = unit_of(sub)
        if u:
            return u
    return unit_of(key)


def _stat(sub: str) -> str:
    return {"p50": "median", "mean": "mean"}.get(sub, sub)


def metric_rows(metrics: dict) -> list[tuple[str, str, str, str]]:
    """(key path, label, value, interval) for every figure in a metrics dict."""
    rows = []
    for key, value in metrics.items():
        if key in SKIP or key.endswith("_ci95") or isinstance(value, (str, list)):
            continue
        ci = metrics.get(f"{key}_ci95")
        if isinstance(value, dict):
            for sub, v in value.items():
                sub_ci = ci.get(sub) if isinstance(ci, dict) else None
                if isinstance(v, dict):  # per venue / per company: one more level
                    for stat, x in v.items():
                        c = sub_ci.get(stat) if isinstance(sub_ci, dict) else None
                        rows.append((f"{key}.{sub}.{stat}", f"{label(key)}: {sub}, {_stat(stat)}",
                                     fmt(x, _unit(key, stat)), fmt_ci(c, _unit(key, stat))))
                else:
                    rows.append((f"{key}.{sub}", f"{label(key)}: {_stat(sub).replace('_', ' ')}",
                                 fmt(v, _unit(key, sub)), fmt_ci(sub_ci, _unit(key, sub))))
        else:
            rows.append((key, label(key), fmt(value, unit_of(key)), fmt_ci(ci, unit_of(key))))
    return rows


HEADLINE = ("depeg_probability", "max_depeg_bps.p95", "insolvency_probability", "reserve_depletion_probability",
            "min_backing_ratio.p5", "staker_apy.mean")


def headline_rows(metrics: dict) -> list[tuple[str, str, str, str]]:
    """The few figures a committee reads first (those present), in a fixed order."""
    rows = {r[0]: r for r in metric_rows(metrics)}
    return [rows[k] for k in HEADLINE if k in rows]


def methods_note(metrics: dict) -> str:
    m = metrics.get("intervals") or {}
    if not m:
        return ""
    return (f"95 % intervals: probabilities by {m.get('probability')}; quantiles by {m.get('quantile')}; means by "
            f"{m.get('mean')}. '?' marks a side that {metrics.get('runs')} runs cannot bound (a p99 needs "
            f"hundreds of runs).")
