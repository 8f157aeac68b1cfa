# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation: {extension: .py, format_name: percent}
#   kernelspec: {display_name: Python 3, language: python, name: python3}
# ---

# %% [markdown]
# # Tripod from a notebook: a scenario, two designs compared, a small sweep
#
# Open with jupytext (`jupytext --to notebook examples/tour.py`) or run it as a script
# (`python examples/tour.py`; CI runs it). Outputs go to `$TRIPOD_EXAMPLES_OUT` (default `out/examples`).
# Every probability comes with its 95 % interval; every result carries its seed and config hash.

# %%
import os
from pathlib import Path

import yaml

import sim
from sim import compare as cmp
from sim.sweep import run_sweep

OUT = Path(os.environ.get("TRIPOD_EXAMPLES_OUT", "out/examples"))
RUNS = int(os.environ.get("TRIPOD_EXAMPLES_RUNS", "40"))
HOURS = int(os.environ.get("TRIPOD_EXAMPLES_HOURS", "240"))
try:  # in a notebook, results draw themselves (Result._repr_html_); as a script, they print
    from IPython.display import display
    if get_ipython() is None:  # noqa: F821
        raise NameError
except (ImportError, NameError):
    display = print

# %% [markdown]
# ## 1. Run a scenario
# `sim.run` keeps the documented core columns (not every state variable: ask with `record="all"`).

# %%
crash = sim.run("btc-crash", runs=RUNS, seed=7, overrides=[f"horizon_hours={HOURS}"])
display(crash)
m = crash.metrics
print(f"depeg probability {m['depeg_probability']:.3f}, 95 % interval {m['depeg_probability_ci95']}")
print(f"reserve depletion {m['reserve_depletion_probability']:.3f}, 95 % interval {m['reserve_depletion_probability_ci95']}")
crash.write(OUT / "btc-crash")  # report.html: fans, worst runs, figures with intervals

# %% [markdown]
# ## 2. Compare two designs on the same seeds
# The same crash with half the reserve: both run the same run ids on the same seed, so the difference
# is paired run by run (much sharper than the two sides' own intervals).

# %%
half = OUT / "half-reserve.yaml"
half.parent.mkdir(parents=True, exist_ok=True)
half.write_text(yaml.safe_dump({"include": [str(sim.runner.resolve_scenario("btc-crash").resolve())],
                                "name": "half-reserve", "protocol": {"reserve": {"initial_usd": 2.0e7}}}))
res = cmp.compare(["btc-crash", str(half)], runs=RUNS, seed=7, overrides=[f"horizon_hours={HOURS}"])
cmp.write(res, OUT / "compare")
diff = res["differences"][0]["paired_differences"]
for key in ("reserve_depletion_probability", "reserve_fund_min_usd.p50", "depeg_probability"):
    d = diff[key]
    print(f"{res['differences'][0]['of']}: {key} {d['diff']:+.4g}, 95 % interval {d['ci95']} ({d['method']})")

# %% [markdown]
# ## 3. A small sweep, and whether its target is resolved
# Reserve size x BTC share; the report draws the target where the point estimate meets it and where it
# is met with 95 % confidence, and says how many runs per point would resolve the rest.

# %%
sweep_file = OUT / "small-sweep.yaml"
sweep_file.write_text(yaml.safe_dump({
    "name": "tour-sweep", "base": str(sim.runner.resolve_scenario("btc-crash").resolve()), "design": "grid",
    "parameters": [{"path": "protocol.reserve.initial_usd", "values": [0, 1.0e7, 4.0e7]},
                   {"path": "protocol.weights.btc", "values": [0.2, 0.4], "balance": "protocol.weights.tbill"}],
    "runs_per_point": max(RUNS // 2, 4), "run_batch": max(RUNS // 2, 4), "seed": 3, "horizon_hours": HOURS,
    "target": {"metric": "reserve_depletion_probability", "max": 0.05}}))
# In a notebook (or a script without a __main__ guard) use an in-process Dask cluster: worker processes
# would re-import this file. `tripod sweep` from a terminal starts worker processes itself.
from dask.distributed import LocalCluster  # noqa: E402

with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
    man = run_sweep(sweep_file, OUT / "sweep", scheduler=cluster.scheduler_address)
import pandas as pd  # noqa: E402

summary = pd.read_csv(OUT / "sweep" / "summary.csv")
cols = ["reserve_initial_usd", "weights_btc", "reserve_depletion_probability",
        "reserve_depletion_probability_ci95_low", "reserve_depletion_probability_ci95_high"]
display(summary[cols])
print(f"wrote {OUT}/ (btc-crash/report.html, compare/compare.html, sweep/report.html); "
      f"open them, or `tripod dashboard {OUT}`")
