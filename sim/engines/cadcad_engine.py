"""The reference engine: the model as a cadCAD configuration, one cadCAD run per simulated run.

cadCAD hands policies (params, substep, history, state); the adapter below turns that into the
model's (params, state, x) signature, reading x from the exogenous arrays at the state's step and
run. State updates are the generic `update_from_signal`.
"""
from __future__ import annotations

import contextlib
import io

import numpy as np

from sim.engines.common import Trajectory
from sim.model.psubs import block_variables, check_writes, enabled_blocks


def _scalar(v):
    return float(v) if np.ndim(v) == 0 else v


def _policy(block, paths, tick=None):
    fn, is_market = block["policy"], block["label"] == "market"

    def policy(params, substep, state_history, state):
        col = int(state["run"]) - 1  # cadCAD numbers runs from 1
        t = int(state["step"]) + (1 if is_market else 0)
        x = paths.inputs(t, col)
        if tick is not None and is_market:  # the market block runs once per step of each run
            tick(1)
        signal = fn(params["model"], state, x)
        if t == 1 and col == 0:  # once: each policy writes exactly the variables its block owns
            check_writes(block, params["model"], signal)
        return signal

    return policy


def update_from_signal(var: str):
    def update(params, substep, state_history, state, signal):
        return var, _scalar(signal[var])

    return update


def run_cadcad(params: dict, genesis: dict, paths, progress: bool = False) -> Trajectory:
    from cadCAD.configuration import Experiment
    from cadCAD.configuration.utils import config_sim
    from cadCAD.engine import ExecutionContext, ExecutionMode, Executor

    from sim.progress import bar

    R, T = len(paths.runs), paths.steps
    blocks = enabled_blocks()
    ticks = bar(total=R * T, desc="cadCAD", unit="step", enabled=progress, leave=False)
    tick = ticks.update if progress else None
    psubs = [{"label": b["label"], "policies": {b["label"]: _policy(b, paths, tick)},
              "variables": {k: update_from_signal(k) for k in block_variables(b, params)}} for b in blocks]
    exp = Experiment()
    exp.append_model(initial_state={k: float(v) for k, v in genesis.items()}, partial_state_update_blocks=psubs,
                     sim_configs=config_sim({"N": R, "T": range(T), "M": {"model": [params]}}))
    ctx = ExecutionContext(context=ExecutionMode().single_mode)
    with contextlib.redirect_stdout(io.StringIO()):  # cadCAD prints a banner and per-run lines
        records, _tensor, _sessions = Executor(exec_context=ctx, configs=exp.configs, supress_print=True).execute()
    ticks.close()
    # keep the last substep of each timestep, in (timestep, run) order, at the scenario's steps (inside a
    # fine-step window several cadCAD timesteps make one)
    keys = list(genesis.keys())
    row_of = paths.record_row
    data = {k: np.empty((len(paths.recorded), R)) for k in keys}
    last_substep = len(psubs)
    for rec in records:
        if (rec["substep"] == last_substep or rec["timestep"] == 0) and row_of[rec["timestep"]] >= 0:
            t, c = row_of[rec["timestep"]], rec["run"] - 1
            for k in keys:
                data[k][t, c] = rec[k]
    return Trajectory(runs=paths.runs, step_hours=paths.step_hours, data=data)
