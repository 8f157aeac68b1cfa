"""`tripod calibrate`, `tripod size-reserve`, `tripod stress-windows`: parse, call the API, print.

`register(subparsers)` is called from `sim/cli.py: build_parser()`.
"""
from __future__ import annotations

import datetime as dt
import math
import time
from pathlib import Path

from sim.cli import check_runs_and_seed

MAX_HORIZON_DAYS = 366 * 5  # the scenario's own horizon limit
MAX_VALIDATION_PATHS = 10_000  # 200 paths take ~3 min


def _date(s: str) -> dt.date:
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        import argparse
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {s!r}") from None


def _manifest(args, started: float, **extra) -> dict:
    from sim.results import provenance

    return {**provenance(),
            "started_utc": dt.datetime.fromtimestamp(started, dt.timezone.utc).isoformat(timespec="seconds"),
            "wall_seconds": round(time.time() - started, 3), **extra}


def _dump(obj) -> str:
    from sim.results import dump_json
    return dump_json(obj)


def _user_error(source: str, msg: str):
    from sim.config import ScenarioError
    return ScenarioError(source, [msg])


def cmd_calibrate(args) -> int:
    from sim.atomic import OutputDir

    started = time.time()
    if args.from_ and args.to and args.to <= args.from_:
        raise _user_error("--from/--to", "--to must be after --from")
    if not 0 <= args.paths <= MAX_VALIDATION_PATHS:
        raise _user_error("--paths", f"must be between 0 and {MAX_VALIDATION_PATHS:,} (got {args.paths})")
    if args.seed < 0:
        raise _user_error("--seed", f"must be >= 0 (got {args.seed})")
    out = Path(args.out)
    from sim.cli import _refuse_shipped

    _refuse_shipped(out, args.force, "--out")
    if out.is_dir():
        raise _user_error(str(out), "--out: is a directory; give the market file to write, e.g. market.yaml")
    with OutputDir(args.report_dir, option="--report-dir") as rep_dir:
        return _calibrate(args, started, out, rep_dir)


def _calibrate(args, started: float, out: Path, rep_dir) -> int:
    from sim.calibration.fit import calibrate, market_yaml
    from sim.calibration.report import calibration_html
    from sim.calibration.validate import validate
    from sim.cli import _progress_wanted
    from sim.progress import stage
    from sim.results import atomic_write, command_line

    try:
        with stage("fitting the market to the shipped history", _progress_wanted()):
            cal = calibrate(args.from_, args.to)
    except ValueError as err:
        raise _user_error("calibrate", str(err)) from None
    try:
        atomic_write(out, market_yaml(cal, command_line(), out.name))
    except OSError as err:
        raise _user_error(str(out), f"--out: cannot write the market file ({err.strerror})") from None
    m = cal.market
    print(f"calibrated market -> {out}  (BTC {cal.report['sample']['btc_usd']['from']}..{cal.report['sample']['btc_usd']['to']})")
    for name, r in (("calm", m.calm), ("stress", m.stress)):
        print(f"  {name:6s} BTC vol {r.btc_vol_annual:.1%}  jumps {r.btc_jump_rate_per_year:.2f}/y "
              f"N({r.btc_jump_mean:+.3f}, {r.btc_jump_std:.3f})  gold vol {r.xau_vol_annual:.1%}  "
              f"corr {r.btc_xau_correlation:+.2f}  funding level (latent) {r.funding_mean_8h_btc * 1095:.1%} APR")
    print(f"  regimes: calm->stress {m.p_calm_to_stress_per_hour:.2e}/h, stress->calm {m.p_stress_to_calm_per_hour:.2e}/h "
          f"(stress {cal.report['regimes']['stress_share_of_days']:.0%} of days)")
    f = m.funding_btc
    hot_share = f.hot.p_enter_per_hour / max(f.hot.p_enter_per_hour + f.hot.p_exit_per_hour, 1e-12)
    print(f"  funding: latent premium kappa {f.mean_reversion_per_day:.3f}/day, vol {f.vol_8h_per_sqrt_day:.2e} quiet / "
          f"{f.hot.vol_8h_per_sqrt_day:.2e} hot per 8h/sqrt(day), beta {f.price_beta_8h:.2e}; hot {hot_share:.0%} of the "
          f"time in {1 / max(f.hot.p_exit_per_hour, 1e-12) / 24:.0f}-day spells (+{f.hot.level_offset_8h * 1095:.0%} APR); "
          f"venue clamp at {f.interest_8h:.4%}/8h, width {f.clamp_width_8h:.2%}")
    print(f"  T-bill start {m.tbill_yield_start:.2%}, long-run {m.tbill.long_run_yield:.2%}")
    val = None
    if args.paths > 0:
        val = validate(m, paths=args.paths, seed=args.seed, start=args.from_, end=args.to, progress=_progress_wanted())
        print(f"  validation over {args.paths} simulated paths: {val['passed']}/{val['total']} within tolerance")
        for r in val["rows"]:
            print(f"    {'ok  ' if r['pass'] else 'FAIL'} {r['label']:52s} data {r['data']:9.4f}  sim {r['sim_median']:9.4f} "
                  f"[{r['sim_p5']:.4f}, {r['sim_p95']:.4f}]  tol {r['tolerance']:g} ({r['kind']})")
    manifest = _manifest(args, started, paths=args.paths, seed=args.seed, market_file=str(out))
    body = {"market": m.model_dump(mode="json"), "fit": cal.report, "validation": val and {k: v for k, v in val.items() if k != "simulated"}}
    staging = rep_dir.stage()
    (staging / "calibration.json").write_text(_dump(body))
    (staging / "calibration.html").write_text(calibration_html(cal, val, manifest))
    (staging / "manifest.json").write_text(_dump(manifest))
    rep_dir.commit()
    print(f"  wrote {args.report_dir}/ (calibration.json, calibration.html, manifest.json)")
    return 0


def _parse_weights(s: str) -> tuple[float, float, float, float]:
    import argparse
    try:
        w = tuple(float(v) for v in s.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"weights are four numbers tbill,btc,xau,buffer: {s!r}") from None
    if len(w) != 4:
        raise argparse.ArgumentTypeError(f"weights are four numbers tbill,btc,xau,buffer: {s!r}")
    return w


def cmd_size_reserve(args) -> int:
    from pydantic import ValidationError

    from sim.atomic import OutputDir
    from sim.calibration.sizing import scale_liquidity, set_path, with_weights
    from sim.config import ScenarioError, format_validation_error, load_scenario
    from sim.runner import resolve_scenario

    started = time.time()
    for p in args.target_prob:
        if not 0 < p < 1:
            raise _user_error("--target-prob", f"must be between 0 and 1 (got {p})")
    check_runs_and_seed(args)
    if args.horizon_days is not None and not 1 / 24 <= args.horizon_days <= MAX_HORIZON_DAYS:
        raise _user_error("--horizon-days", f"must be between 1/24 and {MAX_HORIZON_DAYS} (got {args.horizon_days})")
    for supply in args.supply_usd or []:
        if not math.isfinite(supply) or supply <= 0:
            raise _user_error("--supply-usd", f"must be a positive finite amount (got {supply})")
    path = resolve_scenario(args.scenario)
    base = load_scenario(path)
    try:
        if args.set:
            base = set_path(base, args.set)
        if args.horizon_days is not None:
            base = base.with_overrides(horizon_hours=int(round(args.horizon_days * 24)))  # scripted paths cut there
        configs = []
        for supply in args.supply_usd or [base.protocol.initial_supply_usd]:
            sc = scale_liquidity(base, supply) if supply != base.protocol.initial_supply_usd else base
            for w in args.weights or [None]:
                configs.append(with_weights(sc, *w) if w else sc)
    except ValidationError as err:
        raise ScenarioError("command line", format_validation_error(err)) from None
    except ValueError as err:
        raise _user_error("--set", str(err).splitlines()[0]) from None
    from sim.budget import check_memory

    runs = args.runs or base.runs  # simulated 500 at a time; each run's reserve path is kept
    check_memory("--runs", min(runs, 500), base.steps, 1, hint="lower --runs or --horizon-days",
                 extra_bytes=8 * (base.steps + 1) * runs)
    out = Path(args.out) if args.out else Path("out") / f"size-reserve-{base.name}"
    with OutputDir(out) as od:
        return _size_reserve(args, started, path, configs, out, od)


def _size_reserve(args, started, path, configs, out, od) -> int:
    import pandas as pd

    from sim.calibration.report import sizing_html, sizing_plot
    from sim.calibration.sizing import PUBLIC_FIGURES, size_reserve
    from sim.cli import _progress_wanted

    results = []
    for sc in configs:
        t0 = time.time()
        r = size_reserve(sc, args.target_prob, horizon_days=args.horizon_days, runs=args.runs, seed=args.seed,
                         verify=args.verify, progress=_progress_wanted())
        w = r["weights"]
        r["label"] = (f"${r['supply_usd'] / 1e9:g}B  T-bill {w['tbill']:.0%} BTC {w['btc']:.0%} gold {w['xau']:.0%} "
                      f"buffer {w['buffer']:.0%}")
        results.append(r)
        print(f"{r['label']}: {r['runs']} runs x {r['horizon_days']:g} days, seed {r['seed']}, {time.time() - t0:.0f} s")
        for a in r["answers"]:
            print(f"  P(depletion) <= {a['target_prob']:g}: reserve ${a['reserve_usd'] / 1e6:,.1f}M "
                  f"({a['pct_of_supply']:.3f} % of supply), {a['confidence']:.0%} CI ${a['ci_low_usd'] / 1e6:,.1f}M.."
                  f"${a['ci_high_usd'] / 1e6:,.1f}M" + (f"  [{a['ci_note']}]" if a["ci_note"] else ""))
        print(f"  reserve net flow over the horizon: median ${r['net_reserve_flow_usd']['p50'] / 1e6:,.1f}M; "
              f"worst drawdown median ${r['worst_drawdown_usd']['p50'] / 1e6:,.1f}M, p95 ${r['worst_drawdown_usd']['p95'] / 1e6:,.1f}M")
        for v in r.get("verified", []):
            print(f"  verified with sim.run: depletion {v['depletion_probability_at_answer']:.4f} at the answer, "
                  f"{v['depletion_probability_just_below']:.4f} just below")
    table = []
    for r in results:
        for a in r["answers"]:
            pub = [p for p in PUBLIC_FIGURES if abs(p["supply_usd"] - r["supply_usd"]) < 1 and
                   r["weights"]["tbill"] == 0 and r["weights"]["xau"] == 0]
            table.append({"supply_usd": r["supply_usd"], **{f"w_{k}": v for k, v in r["weights"].items()},
                          "premium_per_funding_8h": r["premium_per_funding_8h"], "horizon_days": r["horizon_days"],
                          "target_prob": a["target_prob"], "reserve_usd": a["reserve_usd"], "pct_of_supply": a["pct_of_supply"],
                          "ci_low_usd": a["ci_low_usd"], "ci_high_usd": a["ci_high_usd"], "runs": r["runs"],
                          "public_reserve_usd": pub[0]["reserve_usd"] if pub else None,
                          "public_source": pub[0]["source"] if pub else None})
    stage = od.stage()
    (stage / "sizing.csv").write_text(pd.DataFrame(table).to_csv(index=False))
    (stage / "sizing.json").write_text(_dump({"results": results, "public_figures": PUBLIC_FIGURES}))
    (stage / "sizing.png").write_bytes(sizing_plot(results, PUBLIC_FIGURES))
    manifest = _manifest(args, started, scenario=str(path), runs=results[0]["runs"], seed=results[0]["seed"], engine="batch")
    (stage / "sizing.html").write_text(sizing_html(results, PUBLIC_FIGURES, manifest))
    (stage / "manifest.json").write_text(_dump(manifest))
    od.commit()
    print(f"  wrote {out}/ (sizing.csv, sizing.json, sizing.html, sizing.png, manifest.json)")
    return 0


def cmd_stress_windows(args) -> int:
    from pydantic import ValidationError

    from sim.atomic import OutputDir
    from sim.config import ScenarioError, format_validation_error, load_scenario
    from sim.runner import resolve_scenario

    started = time.time()
    check_runs_and_seed(args)
    if not 2 <= args.days <= MAX_HORIZON_DAYS or not 1 <= args.stride_days <= MAX_HORIZON_DAYS:
        raise _user_error("--days/--stride-days", f"--days must be between 2 and {MAX_HORIZON_DAYS} and "
                                                  f"--stride-days between 1 and {MAX_HORIZON_DAYS}")
    if args.top < 1:
        raise _user_error("--top", f"must be at least 1 (got {args.top})")
    path = resolve_scenario(args.scenario)
    sc = load_scenario(path)
    if args.set:
        from sim.calibration.sizing import set_path
        try:
            sc = set_path(sc, args.set)
        except ValidationError as err:
            raise ScenarioError("--set", format_validation_error(err)) from None
        except ValueError as err:
            raise _user_error("--set", str(err).splitlines()[0]) from None
    from sim.budget import check_memory

    check_memory("--days", 800, args.days * 24, 5, hint="lower --days")  # 800 windows at a time, 5 series kept
    out = Path(args.out) if args.out else Path("out") / f"stress-windows-{sc.name}"
    with OutputDir(out) as od:
        return _stress_windows(args, started, path, sc, out, od)


def _stress_windows(args, started, path, sc, out, od) -> int:
    from sim.calibration.report import windows_html
    from sim.calibration.windows import stress_windows
    from sim.cli import _progress_wanted

    try:
        res = stress_windows(sc, days=args.days, stride_days=args.stride_days, start=args.from_, end=args.to,
                             seed=args.seed, top=args.top, progress=_progress_wanted())
    except ValueError as err:
        raise _user_error("stress-windows", str(err)) from None
    manifest = _manifest(args, started, scenario=str(path), engine="batch")
    frame = res.pop("frame")
    stage = od.stage()
    (stage / "windows.csv").write_text(frame.to_csv(index=False))
    (stage / "windows.json").write_text(_dump(res))
    (stage / "windows.html").write_text(windows_html({**res, "frame": frame}, manifest))
    (stage / "manifest.json").write_text(_dump(manifest))
    od.commit()
    print(f"{sc.name}: {res['windows']} windows of {res['window_days']} days, starts {res['first_start']}..{res['last_start']} "
          f"(every {res['stride_days']} d), {manifest['wall_seconds']:.0f} s")
    print(f"  reserve depleted in {res['share_depleted']:.1%} of windows; peg below threshold in {res['share_depegged']:.1%}")
    print("  worst by reserve drawdown:")
    for w in res["worst_by_reserve_drawdown"][:5]:
        print(f"    {w['start']}..{w['end']}  drawdown ${w['reserve_drawdown_usd'] / 1e6:,.2f}M ({w['reserve_drawdown_pct']:.1f} %)  "
              f"max depeg {w['max_depeg_bps']:.1f} bps  BTC {w['btc_return_pct']:+.0f} %  funding {w['funding_mean_apr_pct']:+.1f} % APR")
    print("  worst by max depeg:")
    for w in res["worst_by_max_depeg"][:3]:
        print(f"    {w['start']}..{w['end']}  max depeg {w['max_depeg_bps']:.1f} bps  drawdown ${w['reserve_drawdown_usd'] / 1e6:,.2f}M")
    print(f"  wrote {out}/ (windows.csv, windows.json, windows.html, manifest.json)")
    return 0


def register(sub) -> None:
    c = sub.add_parser("calibrate", help="fit the stochastic market to the shipped history and validate it")
    c.add_argument("--from", dest="from_", type=_date, help="first date of the sample (default: each series' first)")
    c.add_argument("--to", type=_date, help="last date of the sample (default: each series' last)")
    c.add_argument("--out", default="market.yaml", help="market block to write (default: market.yaml); include it "
                   "from a scenario with `include: [market.yaml]`")
    c.add_argument("--report-dir", default="out/calibration", help="where calibration.html/json go (default: out/calibration)")
    c.add_argument("--paths", type=int, default=100, help="simulated paths for the validation (0: skip; default 100)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--force", action="store_true", help="allow --out to overwrite a file shipped with the project "
                   "(e.g. scenarios/calibrated/market.yaml)")
    c.set_defaults(func=cmd_calibrate)

    s = sub.add_parser("size-reserve", help="smallest reserve fund for a reserve-depletion probability <= P")
    s.add_argument("scenario", help="scenario YAML file or shipped scenario name")
    s.add_argument("--target-prob", type=float, action="append", required=True,
                   help="target depletion probability over the horizon (repeat for several)")
    s.add_argument("--horizon-days", type=float, help="horizon (default: the scenario's)")
    s.add_argument("--runs", type=int, help="Monte Carlo runs (default: the scenario's)")
    s.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    s.add_argument("--supply-usd", type=float, action="append",
                   help="size at this supply, with liquidity and limits scaled with it (repeat for several)")
    s.add_argument("--weights", type=_parse_weights, action="append",
                   help="sleeve mix tbill,btc,xau,buffer summing to 1 (repeat for several)")
    s.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a scenario field, e.g. "
                   "protocol.hedge.premium_per_funding_8h=0 (repeat for several)")
    s.add_argument("--verify", action="store_true", help="re-run at the answer (and just below) with sim.run and report")
    s.add_argument("--out", help="output directory (default: out/size-reserve-<scenario>)")
    s.set_defaults(func=cmd_size_reserve)

    w = sub.add_parser("stress-windows", help="replay every rolling window of the real data and report the worst")
    w.add_argument("scenario", nargs="?", default="baseline", help="protocol to replay (default: baseline)")
    w.add_argument("--days", type=int, default=90, help="window length in days (default 90)")
    w.add_argument("--stride-days", type=int, default=1, help="days between window starts (default 1)")
    w.add_argument("--from", dest="from_", type=_date, help="first window start")
    w.add_argument("--to", type=_date, help="last window end")
    w.add_argument("--top", type=int, default=10, help="worst windows listed (default 10)")
    w.add_argument("--seed", type=int, help="order-flow seed (default: the scenario's)")
    w.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a scenario field (repeat for several)")
    w.add_argument("--out", help="output directory (default: out/stress-windows-<scenario>)")
    w.set_defaults(func=cmd_stress_windows)
