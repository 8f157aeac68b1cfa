"""Parameter sweeps: a base scenario, parameters to vary (grid or Latin hypercube), runs per point;
executed on Dask in chunks of point x run batch, each chunk written as its own Parquet part, so an
interrupted sweep resumes where it stopped."""
from sim.sweep.config import SweepConfig, load_sweep
from sim.sweep.execute import run_sweep

__all__ = ["SweepConfig", "load_sweep", "run_sweep"]
