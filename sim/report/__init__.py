"""Interactive, self-contained HTML reports (Plotly, its JavaScript inlined once per page: no CDN).

- `run`: a run's report (fans with a drill-down into real runs, figures with intervals, losses)
- `fans`: the fan-chart series, declared once in `FAN_SERIES`
- `sweep`, `compare`, `calibration`, `experiments`: the other pages; `page`, `fmt`, `tables`: shared parts
"""
from sim.report.fans import FAN_QUANTILES, FAN_SERIES, FanSeries, report_series
from sim.report.run import render

# the time series the run report draws (a streamed run keeps these, and the metrics', in memory)
REPORT_SERIES = tuple(s.key for s in FAN_SERIES if not s.key.endswith("*"))

__all__ = ["FAN_QUANTILES", "FAN_SERIES", "FanSeries", "REPORT_SERIES", "render", "report_series"]
