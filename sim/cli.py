"""The `tripod` command: parse arguments, call the Python API, print. Nothing else lives here."""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

EXIT_USER_ERROR = 2


def _progress_wanted() -> bool:
    from sim.progress import wanted
    return wanted()


def _default_out(*parts: str) -> Path:
    """out/<parts joined by '-'>: every distinct job its own folder by default."""
    return Path("out") / "-".join(p for p in parts if p)


def _overrides_tag(assignments) -> str:
    """A short stable tag for a set of --set overrides (so their default folder differs from the plain run's)."""
    import hashlib

    if not assignments:
        return ""
    return "set-" + hashlib.sha256("\n".join(assignments).encode()).hexdigest()[:8]


def check_runs_and_seed(args) -> None:
    """--runs and --seed within what a scenario's own fields allow, named as the user typed them."""
    from sim.config import ScenarioError

    if getattr(args, "runs", None) is not None and not 1 <= args.runs <= 1_000_000:
        raise ScenarioError("--runs", [f"must be at least 1 and at most 1,000,000 (got {args.runs})"])
    if getattr(args, "seed", None) is not None and not 0 <= args.seed < 2**63:
        raise ScenarioError("--seed", [f"must be >= 0 (got {args.seed})"])


class Parser(argparse.ArgumentParser):
    """argparse with one error line (its usage block is what `--help` is for)."""

    def error(self, message):
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def cmd_run(args) -> int:
    from sim.atomic import OutputDir
    from sim.config import load_scenario
    from sim.progress import stage
    from sim.runner import apply_overrides, resolve_scenario, run

    check_runs_and_seed(args)
    sc = load_scenario(resolve_scenario(args.scenario))
    if args.set:
        sc = apply_overrides(sc, args.set)
    out = Path(args.out) if args.out else _default_out(sc.name, _overrides_tag(args.set))
    _refuse_shipped(out, getattr(args, "force", False), "--out")
    # locked; trajectories stream into a staging directory beside `out` while the engine runs, and
    # only the finished run replaces `out`, in one rename
    with OutputDir(out) as od:
        staging = od.stage()
        result = run(sc, runs=args.runs, seed=args.seed, engine=args.engine, progress=_progress_wanted(),
                     record="all" if args.all_columns else "trajectory", stream_to=staging)
        if args.set:
            result.manifest["overrides"] = list(args.set)
        with stage(f"writing {out}/ (report, metrics, trajectories)"):
            result.write_into(staging)
        od.commit()
    m = result.metrics
    print(f"{result.scenario.name}: {m['runs']} runs x {m['horizon_hours']:.0f} h, seed {result.manifest['seed']}, "
          f"engine {args.engine}, {result.manifest['wall_seconds']:.1f} s")
    ci = lambda k: "[{:.3f}, {:.3f}]".format(*m[f"{k}_ci95"]) if f"{k}_ci95" in m else ""  # noqa: E731
    print(f"  depeg probability (< {m['depeg_threshold']}): {m['depeg_probability']:.3f} {ci('depeg_probability')}   "
          f"max depeg p95: {m['max_depeg_bps']['p95']:.1f} bps   "
          f"insolvency probability: {m['insolvency_probability']:.3f} {ci('insolvency_probability')}")
    print(f"  reserve depletion probability: {m['reserve_depletion_probability']:.3f} {ci('reserve_depletion_probability')}   "
          f"staker APY (mean): {m['staker_apy']['mean']:.2%}   min backing ratio p5: {m['min_backing_ratio']['p5']:.4f}")
    print(f"  wrote {out}/ (trajectories.parquet, metrics.json, report.html, manifest.json)")
    return 0


def cmd_scenarios(args) -> int:
    from sim.runner import shipped_scenarios

    heads = {"": "scenarios/", "calibrated": "scenarios/calibrated/ (fitted market)",
             "events": "scenarios/events/ (historical stresses)"}
    last = None
    for group, name, sc in shipped_scenarios(groups=True):
        if group != last:
            print(("" if last is None else "\n") + heads.get(group, group))
            last = group
        desc = " ".join(sc.description.split())
        desc = desc if len(desc) <= 90 else desc[:89] + "…"
        print(f"  {name:24s} {sc.horizon_hours:>6d} h  {sc.market.source:10s}  {desc}")
    print("\nrun one by name: tripod run NAME (files work too: tripod run path/to/scenario.yaml)")
    return 0


def _is_sweep_file(path: Path) -> bool:
    """A sweep file names a base scenario and the parameters to vary. The file is read with the limits
    every file gets (`sim.config.read_yaml_file`): a bad one raises its one-line error here."""
    from sim.config import read_yaml_file

    data = read_yaml_file(path)
    return isinstance(data, dict) and "parameters" in data and "base" in data


def cmd_validate(args) -> int:
    from sim.config import ScenarioError, load_scenario
    from sim.runner import resolve_scenario, resolve_sweep

    path = resolve_scenario(args.file)
    if not path.exists():
        path = resolve_sweep(args.file)
    if not path.exists():
        raise ScenarioError(str(args.file), ["no such file, shipped scenario or shipped sweep (see `tripod scenarios`)"])
    if _is_sweep_file(path):
        from sim.sweep.config import load_sweep
        from sim.sweep.execute import _metric_columns
        from sim.sweep.plan import plan

        cfg = load_sweep(path)
        base, values, _scenarios, chunks = plan(cfg, path)
        _metric_columns(cfg, str(path))
        print(f"{path}: ok (sweep {cfg.name}: {len(values)} points x {cfg.runs_per_point} runs over {base.name}, "
              f"{len(chunks)} chunks, target {cfg.target.metric} <= {cfg.target.max:g}, "
              f"config hash {cfg.config_hash(base.config_hash())})")
        return 0
    sc = load_scenario(path)
    print(f"{path}: ok ({sc.name}, {sc.horizon_hours} h, {sc.runs} runs, config hash {sc.config_hash()})")
    return 0


def _refuse_shipped(path, force: bool, flag: str) -> None:
    """Nothing shipped with the project is overwritten without --force."""
    from sim.config import ScenarioError
    from sim.runner import is_shipped

    if path is not None and is_shipped(path) and not force:
        raise ScenarioError(str(path), [f"{flag} would overwrite a file shipped with the project; "
                                        "choose another path or pass --force"])


def cmd_sweep(args) -> int:
    from sim.runner import resolve_sweep
    from sim.sweep.execute import SweepInterrupted, run_sweep

    args.sweep = str(resolve_sweep(args.sweep))
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
    from sim.atomic import OutputDir
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
    check_runs_and_seed(args)
    bad = [d for d in designs if d not in lc.DESIGNS]
    if bad or any(not 0 <= v < 0.93 for v in ltvs) or args.runs < 1:
        raise ScenarioError("experiment", [f"--designs must be among {list(lc.DESIGNS)}, --ltvs in [0, 0.93), "
                                           f"--runs >= 1 (got designs {list(designs)}, ltvs {list(ltvs)}, runs {args.runs})"])
    mixes = lc.parse_mixes(args.mixes)
    out = Path(args.out) if args.out else _experiment_out(args, ltvs, designs, lc, mixes)
    with OutputDir(out, markers=lc.MARKERS) as od:
        result = lc.run_experiment(base, args.runs, args.seed, ltvs, designs, mixes, progress=_progress_wanted())
        lc.write_into(result, od.stage())
        od.commit()
    print(f"leverage-cycle: {len(result['points'])} points x {args.runs} runs, {result['wall_seconds']:.1f} s")
    for p in result["points"]:
        print(f"  {p['design']:13s} max LTV {p['max_ltv']:.2f} mix {p['mix']:17s}: depeg {p['depeg_probability']:.2f}, "
              f"max depeg p95 {p['max_depeg_bps_p95']:.0f} bps, story order {p['story_order_full_share']:.2f} "
              f"(consistent {p['story_order_consistent_share']:.2f})")
    for c in result["critical_leverage"]:
        jump = ("no jump in depeg probability" if c["max_ltv"] is None else
                f"max LTV {c['from_ltv']:g} -> {c['max_ltv']:g}: {c['depeg_probability_jump']:+.2f} "
                f"[{c['jump_ci95'][0]:+.2f}, {c['jump_ci95'][1]:+.2f}] paired, {'resolved' if c['resolved'] else 'not resolved'}")
        print(f"  critical leverage, {c['design']} / {c['mix']}: {jump}")
    for x in result["mix_differences"]:
        d = x["paired_differences"]["depeg_probability"]
        print(f"  {x['design']:13s} max LTV {x['max_ltv']:.2f} {x['of']}: depeg {d['diff']:+.2f} "
              f"[{d['ci95'][0]:+.2f}, {d['ci95'][1]:+.2f}] paired ({d['sign']})")
    print(f"  wrote {out}/ (leverage_cycle.json, report.html, {', '.join(n for n in ('peg.png', 'losses.png', 'mix.png') if (out / n).exists())})")
    return 0


def cmd_stress_events(args) -> int:
    from sim.atomic import OutputDir
    from sim.experiments import stress_events as se

    check_runs_and_seed(args)
    names = args.events.split(",") if args.events else None
    tags = [f"r{args.runs}" if args.runs is not None else "", f"s{args.seed}" if args.seed is not None else "",
            "_".join(names or ())]
    out = Path(args.out) if args.out else _default_out("stress-events", *tags)
    with OutputDir(out, markers=se.MARKERS) as od:
        result = se.run_experiment(args.runs, args.seed, names, progress=_progress_wanted())
        se.write_into(result, od.stage())
        od.commit()
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


def _experiment_out(args, ltvs, designs, lc, mixes=None) -> Path:
    """out/leverage-cycle for the default grid at 20 runs; any other grid, runs or seed its own folder."""
    tags = []
    if args.runs != 20 or args.seed != 8:
        tags.append(f"r{args.runs}-s{args.seed}")
    if tuple(ltvs) != tuple(lc.DEFAULT_LTVS):
        tags.append("ltv" + "_".join(f"{v:g}" for v in ltvs))
    if tuple(designs) != tuple(lc.DESIGNS):
        tags.append("_".join(designs))
    if mixes is not None and tuple(mixes) != tuple(lc.DEFAULT_MIXES):
        tags.append("mix-" + "_".join(mixes))
    if args.scenario:
        tags.append(Path(args.scenario).stem)
    return _default_out("leverage-cycle", *tags)


def _version() -> str:
    import sim

    return f"tripod {sim.__version__}"


def build_parser() -> argparse.ArgumentParser:
    ap = Parser(prog="tripod", description="Design and stress-test a delta-neutral hybrid stablecoin.")
    ap.add_argument("--version", action="version", version=_version())
    ap.set_defaults(func=lambda _args: (ap.print_help(), 0)[1])  # bare `tripod`: the help, exit 0
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    r = sub.add_parser("run", help="simulate a scenario and write trajectories, metrics, report and manifest")
    r.add_argument("scenario", help="scenario YAML file, or the name of a shipped scenario (see `tripod scenarios`)")
    r.add_argument("--runs", type=int, help="number of Monte Carlo runs (default: the scenario's)")
    r.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    r.add_argument("--engine", default="batch", choices=("batch", "cadcad"),
                   help="batch: all runs at once in numpy (default); cadcad: the reference cadCAD engine")
    r.add_argument("--out", help="output directory (default: out/<scenario name>)")
    r.add_argument("--all-columns", action="store_true",
                   help="write every state variable (the value ledger, caps used, ...), not just the core columns")
    add_set_option(r)
    r.add_argument("--force", action="store_true", help="allow --out to overwrite a file shipped with the project")
    r.set_defaults(func=cmd_run)
    w = sub.add_parser("sweep", help="run (or resume) a parameter sweep on Dask")
    w.add_argument("sweep", help="sweep YAML file, or the name of a shipped sweep (see sweeps/)")
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
    e.add_argument("--mixes", help="leverage-cycle: comma-separated sleeve mixes, among scenario (the base scenario's "
                                   "own weights, the default), treasury-heavy, baseline, crypto-gold-heavy")
    e.add_argument("--events", help="stress-events: comma-separated event names (default: all in scenarios/events)")
    e.add_argument("--out", help="output directory (default: out/<experiment>)")
    e.set_defaults(func=cmd_experiment)
    s = sub.add_parser("scenarios", help="list the shipped scenarios (with the calibrated and event ones)")
    s.set_defaults(func=cmd_scenarios)
    v = sub.add_parser("validate", help="check a scenario or sweep file (or a shipped one, by name)")
    v.add_argument("file", help="scenario or sweep YAML file, or a shipped name")
    v.set_defaults(func=cmd_validate)
    register_results(sub)  # compare, dashboard
    __import__("sim.calibration.cli", fromlist=["register"]).register(sub)  # calibrate, size-reserve, stress-windows
    __import__("sim.chain.cli", fromlist=["register"]).register(sub)  # replay (imports Ape only when run)
    return ap


class Terminated(KeyboardInterrupt):
    """SIGTERM: unwind like Ctrl-C, so staging directories are removed and the message is true."""


def _terminate(signum, frame):
    raise Terminated()


def error_line(err) -> str:
    """One line for a ScenarioError: the file, the first problem (its field), and how many more."""
    first, more = err.lines[0] if err.lines else "invalid", err.lines[1:]
    line = f"error: {err.source}: {first}"
    if more:
        fields = ", ".join(dict.fromkeys(m.split(":", 1)[0] for m in more[:5]))
        line += f" (and {len(more)} more: {fields}{', ...' if len(more) > 5 else ''})"
    return line if len(line) <= 600 else line[:597] + "..."


def main(argv: list[str] | None = None) -> int:
    from sim.config import ScenarioError

    args = build_parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.func(args)
    except ScenarioError as err:
        print(error_line(err), file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt as err:
        from sim.atomic import interruption_report

        print(f"{'terminated' if isinstance(err, Terminated) else 'interrupted'}: {interruption_report()}", file=sys.stderr)
        return 143 if isinstance(err, Terminated) else 130
    except MemoryError:
        from sim.atomic import interruption_report

        print(f"error: out of memory; {interruption_report()}", file=sys.stderr)
        return 1
    except OSError as err:  # a disk full or a folder gone mid-run: one line, outputs as the lock left them
        from sim.atomic import interruption_report

        where = f"{err.filename}: " if err.filename else ""
        print(f"error: {where}{err.strerror or err}; {interruption_report()}", file=sys.stderr)
        return 1


def add_set_option(p) -> None:
    """`--set key.path=value` (repeatable): one definition for every command that takes it."""
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a scenario field, e.g. protocol.reserve.initial_usd=0 (value read as YAML; repeat for several)")


def cmd_compare(args) -> int:
    from sim.compare import compare_cli

    _refuse_shipped(args.out, False, "--out")
    return compare_cli(args)


def cmd_dashboard(args) -> int:
    from sim.dashboard.app import serve

    return serve(args.dirs or ["out"], host=args.host, port=args.port)


def register_results(sub) -> None:
    c = sub.add_parser("compare", help="two or more designs side by side on the same seeds: intervals, paired "
                                       "differences, overlaid fans (compare.html, compare.json)")
    c.add_argument("targets", nargs="+", metavar="RUN_OR_SCENARIO",
                   help="run folders (written by `tripod run`) or scenarios (files or shipped names), at least two")
    c.add_argument("--runs", type=int, help="runs per scenario named (default: the first scenario's); run folders keep theirs")
    c.add_argument("--seed", type=int, help="seed for the scenarios named (default: the first scenario's)")
    add_set_option(c)
    c.add_argument("--out", help="output folder (default: out/compare-<names>)")
    c.set_defaults(func=cmd_compare)
    d = sub.add_parser("dashboard", help="a local web app over run, sweep and compare folders")
    d.add_argument("dirs", nargs="*", metavar="DIR", help="folders to serve: result folders or folders holding them "
                                                           "(default: out)")
    d.add_argument("--port", type=int, default=8050, help="port (default 8050; 0 picks a free one)")
    d.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    d.set_defaults(func=cmd_dashboard)


if __name__ == "__main__":
    sys.exit(main())
