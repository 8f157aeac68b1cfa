"""What every report page must be: self-contained (nothing fetched from the network), one copy of
plotly.js, its figures present as JSON, small enough to mail."""
import json
import re

EXTERNAL = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.I)
MAX_PAGE_BYTES = 8_000_000


def figures(html: str) -> dict:
    """The page's figures ({div id: {data, layout}}) as the page draws them."""
    m = re.search(r"const TRIPOD_FIGS=(\{.*?\});const TRIPOD_DATA=", html, re.S)
    assert m, "no figure registry in the page"
    return json.loads(m.group(1))


def assert_self_contained(html: str, min_figures: int = 1) -> dict:
    assert not EXTERNAL.findall(html), EXTERNAL.findall(html)[:3]
    assert html.count("* plotly.js v") == 1, "plotly.js must be inlined exactly once"
    assert len(html.encode()) < MAX_PAGE_BYTES
    figs = figures(html)
    assert len(figs) >= min_figures, f"{len(figs)} figures, expected >= {min_figures}"
    for div in figs:
        assert f'id="{div}"' in html, f"figure {div} has no place in the page"
    return figs
