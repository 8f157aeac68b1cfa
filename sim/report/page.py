"""The page every report shares: plotly.js inlined once (no CDN: pages open offline and stay
readable in ten years), a small stylesheet, figures as JSON drawn on load, tables that scroll
instead of being cut off, the manifest as a readable list.

Why Plotly: hover, zoom, range selection, click events and legends toggling come built in; its
figures are plain JSON, so the same figure objects feed the static pages, the notebook view
(`Result._repr_html_`) and the Dash dashboard; the Python package ships the exact plotly.js it was
built with, so pinning `plotly` pins the charting code of every page.
"""
from __future__ import annotations

import html
import json
from functools import lru_cache

# A small template: every figure carries it, so keep it to the layout a reader sees.
LAYOUT = {
    "font": {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12, "color": "#222"},
    "margin": {"l": 64, "r": 20, "t": 40, "b": 44},
    "paper_bgcolor": "white", "plot_bgcolor": "white",
    "hovermode": "x unified",
    "xaxis": {"gridcolor": "#eee", "zeroline": False, "showline": True, "linecolor": "#999"},
    "yaxis": {"gridcolor": "#eee", "zeroline": False, "showline": True, "linecolor": "#999", "exponentformat": "SI"},
    "legend": {"orientation": "h", "y": -0.18, "font": {"size": 11}},
    "colorway": ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"],
}
CONFIG = {"displaylogo": False, "responsive": True, "toImageButtonOptions": {"format": "png", "scale": 2}}

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1120px;margin:1.5em auto;padding:0 1em;color:#222}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
h3{margin:1.2em 0 .3em;font-size:1.05em}.sub{color:#555;margin-top:0}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:13px;margin:.6em 0}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:right;white-space:nowrap}
th{background:#f5f5f5;position:sticky;top:0}td.l,th.l{text-align:left}
tr:hover td{background:#fafaf0}.ci{color:#666;font-size:12px}
.note{background:#f6f8fa;border-left:3px solid #1f77b4;padding:.5em .8em;margin:.8em 0}
.warn{border-left-color:#d62728}.fig{width:100%;min-height:300px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:0 1em}
dl.man{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;font-size:13px}dl.man dt{color:#555}
dl.man dd{margin:0;font-family:ui-monospace,monospace;word-break:break-all}
select,button{font-size:13px;padding:2px 6px}code{font-size:12px}
details pre{font-size:11px;background:#f8f8f8;padding:8px;overflow:auto;max-height:400px}
.met{color:#2ca02c;font-weight:600}.missed{color:#d62728;font-weight:600}.unresolved{color:#b8860b;font-weight:600}
"""


@lru_cache(maxsize=1)
def plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def plotly_version() -> str:
    import plotly

    return plotly.__version__


def esc(s) -> str:
    return html.escape(str(s))


class Page:
    """An HTML page built section by section; `html()` inlines plotly.js once, then the figures."""

    def __init__(self, title: str):
        self.title = title
        self.parts: list[str] = []
        self.figures: dict[str, dict] = {}
        self.scripts: list[str] = []
        self.data: dict[str, object] = {}

    def add(self, *parts: str) -> "Page":
        self.parts.extend(parts)
        return self

    def figure(self, fig, height: int | None = None, div_id: str | None = None) -> str:
        """Register a plotly figure; returns the div to place (drawn when the page loads)."""
        div_id = div_id or f"fig{len(self.figures)}"
        spec = fig_json(fig)
        if height:
            spec["layout"]["height"] = height
        self.figures[div_id] = spec
        return f'<div id="{div_id}" class="fig"></div>'

    def html(self) -> str:
        figs = json.dumps(self.figures, separators=(",", ":"))
        data = json.dumps(self.data, separators=(",", ":"), default=_default)
        return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>{esc(self.title)}</title><style>{CSS}</style>"
                f'<script type="text/javascript">{plotly_js()}</script></head><body>\n'
                + "\n".join(self.parts)
                + f"\n<script>const TRIPOD_FIGS={figs};const TRIPOD_DATA={data};const TRIPOD_CONFIG={json.dumps(CONFIG)};"
                  "for(const [id,f] of Object.entries(TRIPOD_FIGS)){Plotly.newPlot(id,f.data,f.layout,TRIPOD_CONFIG);}"
                + "\n".join(self.scripts) + "</script></body></html>\n")


def fig_json(fig) -> dict:
    """A figure as the {data, layout} Plotly.newPlot takes; numpy arrays stay compact typed arrays."""
    spec = json.loads(fig.to_json(validate=False, remove_uids=True))
    layout = spec.get("layout", {})
    layout.pop("template", None)
    spec["layout"] = _merge(LAYOUT, layout)
    return spec


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(base[k], v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return out


def _default(o):
    """numpy arrays as lists; scalars and dates as `sim.results` writes them."""
    if hasattr(o, "tolist") and getattr(o, "ndim", 0):
        return o.tolist()
    from sim.results import _json_default

    return _json_default(o)


def table(rows: list[list], header: list[str], left: int = 1, cls: str = "") -> str:
    """An HTML table (cells already formatted strings, escaped here) that scrolls when wide."""
    head = "".join(f'<th class="{"l" if i < left else ""}">{esc(h)}</th>' for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(f'<td class="{"l" if i < left else ""}">{c if isinstance(c, Raw) else esc(c)}</td>'
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f'<div class="scroll"><table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


class Raw(str):
    """A cell that is already HTML."""


def manifest_html(manifest: dict) -> str:
    """Provenance as a list a reader can scan, with the raw JSON folded away."""
    rows = []
    for k, v in manifest.items():
        if isinstance(v, dict):
            v = ", ".join(f"{a} {b}" for a, b in v.items() if b is not None)
        rows.append(f"<dt>{esc(k.replace('_', ' '))}</dt><dd>{esc(v)}</dd>")
    raw = esc(json.dumps(manifest, indent=1, default=_default))
    return (f'<dl class="man">{"".join(rows)}</dl><details><summary>manifest.json</summary><pre>{raw}</pre></details>')
