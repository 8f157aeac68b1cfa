"""The `tripod` command: parse arguments, call the Python API, print. Nothing else lives here."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

EXIT_USER_ERROR = 2


def _progress_wanted() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


def cmd_run(args) -> int:
    from sim.runner import resolve_scenario, run

    from sim.config import load_scenario

    sc = load_scenario(resolve_scenario(args.scenario))
    out = Path(args.out) if args.out else Path("out") / sc.name
    # trajectories stream into `out` while the engine runs; only a finished run is renamed into place
    result = run(sc, runs=args.runs, seed=args.seed, engine=args.engine, progress=_progress_wanted(),
                 record="all" if args.all_columns else "trajectory", stream_to=out)
    result.write(out)
    m = result.metrics
    print(f"{result.scenario.name}: {m['runs']} runs x {m['horizon_hours']:.0f} h, seed {result.manifest['seed']}, "
          f"engine {args.engine}, {result.manifest['wall_seconds']:.1f} s")
    print(f"  depeg probability (< {m['depeg_threshold']}): {m['depeg_probability']:.3f}   "
          f"max depeg p95: {m['max_depeg_bps']['p95']:.1f} bps   "
          f"insolvency probability: {m['insolvency_probability']:.3f}")
    print(f"  reserve depletion probability: {m['reserve_depletion_probability']:.3f}   "
          f"staker APY (mean): {m['staker_apy']['mean']:.2%}   min backing ratio p5: {m['min_backing_ratio']['p5']:.4f}")
    print(f"  wrote {out}/ (trajectories.parquet, metrics.json, report.html, manifest.json)")
    return 0


def cmd_scenarios(args) -> int:
    from sim.runner import shipped_scenarios

    for name, sc in shipped_scenarios():
        desc = sc.description.strip().splitlines()[0] if sc.description.strip() else ""
        print(f"{name:18s} {sc.horizon_hours:>6d} h  {sc.market.source:10s}  {desc}")
    return 0


def cmd_validate(args) -> int:
    from sim.config import load_scenario

    sc = load_scenario(args.file)
    print(f"{args.file}: ok ({sc.name}, {sc.horizon_hours} h, {sc.runs} runs, config hash {sc.config_hash()})")
    return 0


def cmd_sweep(args) -> int:
    from sim.sweep.execute import SweepInterrupted, run_sweep

    out = Path(args.out) if args.out else Path("out") / Path(args.sweep).stem
    try:
        man = run_sweep(args.sweep, out, scheduler=args.scheduler, workers=args.workers, progress=_progress_wanted())
    except SweepInterrupted as err:
        print(f"stopped: {err.done}/{err.total} chunks finished and kept in {out}/parts; "
              f"run the same command to resume", file=sys.stderr)
        return 130
    print(f"{man['sweep']}: {man['points']} points x {man['runs_per_point']} runs, {man['chunks_run_now']} of "
          f"{man['chunks']} chunks run now, {man['wall_seconds']:.1f} s on {man['scheduler']}")
    print(f"  wrote {out}/ (results.parquet, summary.csv, report.html, manifest.json, parts/)")
    return 0


def cmd_experiment(args) -> int:
    from sim.config import ScenarioError, load_scenario
    from sim.experiments import leverage_cycle as lc
    from sim.runner import resolve_scenario

    if args.name == "stress-events":
        return cmd_stress_events(args)
    args.runs, args.seed = 20 if args.runs is None else args.runs, 8 if args.seed is None else args.seed
    base = load_scenario(resolve_scenario(args.scenario or "leverage-cycle"))
    try:
        ltvs = tuple(float(v) for v in args.ltvs.split(",")) if args.ltvs else lc.DEFAULT_LTVS
    except ValueError:
        raise ScenarioError("--ltvs", [f"not a comma-separated list of numbers: {args.ltvs!r}"]) from None
    designs = tuple(args.designs.split(",")) if args.designs else tuple(lc.DESIGNS)
    bad = [d for d in designs if d not in lc.DESIGNS]
    if bad or any(not 0 <= v < 0.93 for v in ltvs) or args.runs < 1:
        raise ScenarioError("experiment", [f"--designs must be among {list(lc.DESIGNS)}, --ltvs in [0, 0.93), "
                                           f"--runs >= 1 (got designs {list(designs)}, ltvs {list(ltvs)}, runs {args.runs})"])
    result = lc.run_experiment(base, args.runs, args.seed, ltvs, designs, progress=_progress_wanted())
    out = Path(args.out) if args.out else Path("out") / "leverage-cycle"
    lc.write(result, out)
    print(f"leverage-cycle: {len(result['points'])} points x {args.runs} runs, {result['wall_seconds']:.1f} s")
    for p in result["points"]:
        print(f"  {p['design']:13s} max LTV {p['max_ltv']:.2f}: depeg {p['depeg_probability']:.2f}, "
              f"story order {p['story_order_full_share']:.2f} (consistent {p['story_order_consistent_share']:.2f})")
    print(f"  critical leverage: {result['critical_leverage']}")
    print(f"  wrote {out}/ (leverage_cycle.json, report.html)")
    return 0


def cmd_stress_events(args) -> int:
    from sim.config import ScenarioError
    from sim.experiments import stress_events as se

    if args.runs is not None and args.runs < 1:
        raise ScenarioError("--runs", [f"must be >= 1 (got {args.runs})"])
    names = args.events.split(",") if args.events else None
    result = se.run_experiment(args.runs, args.seed, names, progress=_progress_wanted())
    out = Path(args.out) if args.out else Path("out") / "stress-events"
    se.write(result, out)
    print(f"stress-events: {len(result['events'])} events, {result['wall_seconds']:.1f} s "
          f"(bands fixed in scenarios/events before any run)")
    for m in result["events"]:
        print(f"  {m['event']}: {m['runs']} runs, seed {m['seed']}, {m['horizon_hours']} h, {m['wall_seconds']:.1f} s")
    print()
    print(se.text_table(result))
    print()
    print(f"{result['within']} of {len(result['rows'])} facts within tolerance ({result['not_modelled']} not modelled)")
    print(f"wrote {out}/ (stress_events.json, report.html)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="tripod", description="Design and stress-test a delta-neutral hybrid stablecoin.")
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="simulate a scenario and write trajectories, metrics, report and manifest")
    r.add_argument("scenario", help="scenario YAML file, or the name of a shipped scenario (see `tripod scenarios`)")
    r.add_argument("--runs", type=int, help="number of Monte Carlo runs (default: the scenario's)")
    r.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    r.add_argument("--engine", default="batch", choices=("batch", "cadcad"),
                   help="batch: all runs at once in numpy (default); cadcad: the reference cadCAD engine")
    r.add_argument("--out", help="output directory (default: out/<scenario name>)")
    r.add_argument("--all-columns", action="store_true",
                   help="write every state variable (the value ledger, caps used, ...), not just the core columns")
    r.set_defaults(func=cmd_run)
    w = sub.add_parser("sweep", help="run (or resume) a parameter sweep on Dask")
    w.add_argument("sweep", help="sweep YAML file (see sweeps/)")
    w.add_argument("--out", help="output directory (default: out/<sweep file name>); rerun to resume")
    w.add_argument("--scheduler", help="address of an existing Dask scheduler, e.g. tcp://host:8786")
    w.add_argument("--workers", type=int, help="workers of the embedded LocalCluster (default: 2)")
    w.set_defaults(func=cmd_sweep)
    e = sub.add_parser("experiment", help="designed experiments (leverage-cycle, stress-events)")
    e.add_argument("name", choices=("leverage-cycle", "stress-events"))
    e.add_argument("--runs", type=int, help="runs per grid point (leverage-cycle, default 20) or per event "
                                            "(stress-events, default: each scenario's)")
    e.add_argument("--seed", type=int, help="seed (leverage-cycle default 8; stress-events: each scenario's)")
    e.add_argument("--scenario", help="base scenario (default: scenarios/leverage-cycle.yaml)")
    e.add_argument("--ltvs", help="comma-separated looper max LTVs (default 0,0.5,0.7,0.8,0.9)")
    e.add_argument("--designs", help="comma-separated backstop designs (default: reserve-only,backstop,big-backstop)")
    e.add_argument("--events", help="stress-events: comma-separated event names (default: all in scenarios/events)")
    e.add_argument("--out", help="output directory (default: out/<experiment>)")
    e.set_defaults(func=cmd_experiment)
    s = sub.add_parser("scenarios", help="list the shipped scenarios")
    s.set_defaults(func=cmd_scenarios)
    v = sub.add_parser("validate", help="check a scenario file")
    v.add_argument("file")
    v.set_defaults(func=cmd_validate)
    __import__("sim.calibration.cli", fromlist=["register"]).register(sub)  # calibrate, size-reserve, stress-windows
    __import__("sim.chain.cli", fromlist=["register"]).register(sub)  # replay (imports Ape only when run)
    return ap


def main(argv: list[str] | None = None) -> int:
    from sim.config import ScenarioError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ScenarioError as err:
        for line in err.lines:
            print(f"error: {err.source}: {line}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted; nothing partial was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
