"""Writes the hostile-input corpus: `cases/` (the files) and `expected.yaml` (per case: the command,
its arguments and the outcome it must have). Run it after changing a case; the files are committed.

    python tests/hostile/make_corpus.py

Every case is one thing a user (or a fuzzer) can hand `tripod`: a file in a bad encoding or of the
wrong kind, YAML that explodes or nests or repeats a key, a value of the wrong type or out of its
range, a time outside the horizon, a size that cannot fit, a name or path that escapes, a sweep that
cannot be resumed, and the same for every command that reads a file. Outcome `refused`: exit 2 and
one line on stderr holding every string in `names` (the file and the field). `accepted`: exit 0.
`{file}` is the case file, `{tmp}` a fresh folder per case, `{cases}` this folder's `cases/`;
`make:` names something built at test time (a FIFO, a file too large to commit, a read-only folder).
"""
from __future__ import annotations

import math
import shutil
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
BASE = {"name": "h", "horizon_hours": 48, "runs": 2, "seed": 1}
SMALL = {"name": "small-ok", "horizon_hours": 48, "runs": 2, "seed": 1}
RUN = ["--runs", "2", "--out", "{tmp}/o"]

cases: list[dict] = []
if CASES.exists():
    shutil.rmtree(CASES)
CASES.mkdir()


def write(name: str, body) -> str:
    p = CASES / name
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(body, bytes):
        p.write_bytes(body)
    elif isinstance(body, str):
        p.write_text(body)
    else:
        p.write_text(yaml.safe_dump(body, sort_keys=False))
    return name


def case(file: str | None, command: str, names: list[str] | None = None, args: list[str] | None = None,
         outcome: str = "refused", make: str | None = None, why: str = "") -> None:
    c = {"file": file, "command": command, "args": args or [], "outcome": outcome, "names": names or []}
    if make:
        c["make"] = make
    if why:
        c["why"] = why
    cases.append(c)


def nested(path: str, value) -> dict:
    d = dict(BASE)
    node = d
    keys = path.split(".")
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    node[keys[-1]] = value
    return d


def scenario(name: str, body, names: list[str], run_too: bool = False, outcome: str = "refused", why: str = ""):
    """A scenario file checked by `validate` (and by `run` when `run_too`)."""
    f = write(name, body)
    case(f, "validate", [f, *names] if outcome == "refused" else [], outcome=outcome, why=why)
    if run_too:
        case(f, "run", [f, *names] if outcome == "refused" else [], RUN, outcome=outcome, why=why)


# ------------------------------------------------------------------ encodings and kinds of file
GOOD = yaml.safe_dump(BASE, sort_keys=False)
scenario("enc-latin1.yaml", "name: caf\xe9\nruns: 2\n".encode("latin-1"), ["not UTF-8"], run_too=True)
scenario("enc-latin1-comment.yaml", b"# r\xe9sum\xe9\n" + GOOD.encode(), ["not UTF-8"])
scenario("enc-utf16le.yaml", GOOD.encode("utf-16"), ["UTF-16"], run_too=True)
scenario("enc-utf16be.yaml", b"\xfe\xff" + GOOD.encode("utf-16-be"), ["UTF-16"])
scenario("enc-utf16-nobom.yaml", GOOD.encode("utf-16-le"), ["binary"])
scenario("enc-utf32.yaml", GOOD.encode("utf-32"), ["UTF-16 or UTF-32"])
scenario("kind-png.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), ["binary"], run_too=True)
scenario("kind-gzip.yaml", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + bytes(range(200, 256)) * 3, ["binary"])
scenario("kind-nul-inside.yaml", GOOD.encode() + b"\x00description: x\n", ["NUL"])
scenario("kind-empty.yaml", "", ["mapping"], run_too=True)
scenario("kind-comments-only.yaml", "# nothing here\n# at all\n", ["mapping"])
scenario("kind-list.yaml", "- name: h\n- runs: 2\n", ["mapping"])
scenario("kind-scalar.yaml", "just a sentence\n", ["mapping"])
scenario("kind-json-array.yaml", "[1, 2, 3]\n", ["mapping"])
write("kind-folder.yaml/.keep", "")
case("kind-folder.yaml", "validate", ["kind-folder.yaml", "folder"])
case("kind-folder.yaml", "run", ["kind-folder.yaml", "folder"], RUN)
case("/dev/zero", "validate", ["/dev/zero", "not a regular file"])
case("/dev/zero", "run", ["/dev/zero", "not a regular file"], RUN)
case("/dev/urandom", "validate", ["/dev/urandom", "not a regular file"])
case("/dev/null", "validate", ["/dev/null", "not a regular file"])
case(None, "validate", ["fifo.yaml", "not a regular file"], make="fifo", why="a FIFO would block a reader forever")
case(None, "validate", ["large.yaml", "bytes"], make="large", why="2 MB of YAML")
case(None, "run", ["large.yaml", "bytes"], RUN, make="large")
case("no-such-file.yaml", "validate", ["no-such-file.yaml", "no such file"])
scenario("yaml-tabs.yaml", "name: h\nprotocol:\n\treserve: 1\n", ["not valid YAML", "line 3"])
scenario("yaml-unclosed.yaml", "name: h\nprotocol: {reserve: {initial_usd: 5}\n", ["not valid YAML"])
scenario("yaml-python-tag.yaml", "name: !!python/object/apply:os.system ['echo pwned']\n", ["not valid YAML"], run_too=True)
scenario("yaml-unknown-tag.yaml", "name: h\nruns: !secret 2\n", ["not valid YAML"])
scenario("yaml-merge-scalar.yaml", "name: h\nprotocol:\n  <<: 5\n", ["not valid YAML"])
scenario("yaml-two-documents.yaml", "name: h\n---\nname: g\n", ["not valid YAML"])
# includes of every bad kind
write("inc-target-latin1.yaml", "description: caf\xe9\n".encode("latin-1"))
write("inc-target-utf16.yaml", "description: x\n".encode("utf-16"))
write("inc-target-binary.yaml", bytes(range(256)))
write("inc-target-list.yaml", "- 1\n- 2\n")
write("inc-target-dup.yaml", "protocol:\n  reserve: {initial_usd: 1}\nprotocol:\n  fees: {mint_fee_bps: 1}\n")
scenario("inc-latin1.yaml", {"include": ["inc-target-latin1.yaml"], **BASE}, ["inc-target-latin1.yaml", "not UTF-8"], run_too=True)
scenario("inc-utf16.yaml", {"include": ["inc-target-utf16.yaml"], **BASE}, ["inc-target-utf16.yaml", "UTF-16"])
scenario("inc-binary.yaml", {"include": ["inc-target-binary.yaml"], **BASE}, ["inc-target-binary.yaml", "binary"])
scenario("inc-folder.yaml", {"include": ["kind-folder.yaml"], **BASE}, ["kind-folder.yaml", "folder"])
scenario("inc-devzero.yaml", {"include": ["/dev/zero"], **BASE}, ["/dev/zero", "not a regular file"], run_too=True)
scenario("inc-missing.yaml", {"include": ["nope.yaml"], **BASE}, ["nope.yaml", "not found"])
scenario("inc-self.yaml", {"include": ["inc-self.yaml"], **BASE}, ["inc-self.yaml", "include cycle"])
scenario("inc-list-target.yaml", {"include": ["inc-target-list.yaml"], **BASE}, ["inc-target-list.yaml", "mapping"])
scenario("inc-not-names.yaml", {"include": [1, 2], **BASE}, ["inc-not-names.yaml", "include"])
scenario("inc-dup-keys.yaml", {"include": ["inc-target-dup.yaml"], **BASE}, ["inc-target-dup.yaml", "protocol", "duplicate"])
write("inc-bomb-target.yaml", "x: &a [1,1,1,1,1,1,1,1,1,1]\ny: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
      "z: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nw: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\nv: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n")
scenario("inc-bomb.yaml", {"include": ["inc-bomb-target.yaml"], **BASE}, ["inc-bomb-target.yaml", "alias"])
for i in range(10):  # a chain of includes deeper than the limit
    write(f"inc-chain-{i}.yaml", {"include": [f"inc-chain-{i + 1}.yaml"]} if i < 9 else dict(BASE))
scenario("inc-chain.yaml", {"include": ["inc-chain-0.yaml"]}, ["include", "levels"])
scenario("ok-utf8-bom.yaml", ("\ufeff" + GOOD).encode(), [], outcome="accepted", why="a UTF-8 byte-order mark is fine")
scenario("ok-crlf.yaml", GOOD.replace("\n", "\r\n").encode(), [], run_too=True, outcome="accepted")

# ------------------------------------------------------------------ YAML that explodes, nests, repeats
LAUGHS = ("a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol]\n" + "".join(
    f"{k}: &{k} [{','.join(['*' + p] * 10)}]\n" for p, k in zip("abcdefgh", "bcdefghi")))
for where, field in (("runs", "runs"), ("name", "name"), ("description", "description"),
                     ("protocol: {reserve: {initial_usd: BOMB}}", "protocol.reserve.initial_usd"),
                     ("scripted", "scripted"), ("events", "events"), ("agents: {treasury_companies: BOMB}", "agents.treasury_companies"),
                     ("market: {stochastic: {calm: BOMB}}", "market.stochastic.calm"), ("pool: {ranges: BOMB}", "pool.ranges")):
    line = (where.replace("BOMB", "*i") if "BOMB" in where else f"{where}: *i") + "\n"
    scenario(f"bomb-{field.replace('.', '-')}.yaml", "name: h\n" * (field != "name") + LAUGHS + line, ["alias"],
             run_too=field == "runs")
scenario("bomb-self.yaml", "name: h\nscripted: &s [*s]\n", ["itself"])
scenario("bomb-self-map.yaml", "name: h\nprotocol: &p {reserve: *p}\n", ["itself"])
scenario("bomb-merge.yaml", "name: h\n" + LAUGHS + "protocol:\n  <<: {reserve: {initial_usd: *i}}\n", ["alias"])
scenario("deep-flow-1000.yaml", "name: h\nscripted: " + "[" * 1000 + "]" * 1000 + "\n", ["nested", "levels"], run_too=True)
scenario("deep-flow-100k.yaml", "name: h\nx: " + "{a: " * 40000 + "1" + "}" * 40000 + "\n", ["nested"])
scenario("deep-block-200.yaml", "name: h\n" + "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v: 1\n",
         ["k0", "nested"])
scenario("deep-40.yaml", "name: h\nprotocol: " + "{a: " * 40 + "1" + "}" * 40 + "\n", ["nested"])
scenario("wide-list.yaml", "name: h\nscripted: [" + "1," * 30000 + "1]\n", ["values"])
scenario("dup-top.yaml", "name: h\nprotocol:\n  reserve: {initial_usd: 1}\nprotocol:\n  fees: {mint_fee_bps: 1}\n",
         ["protocol", "duplicate"], run_too=True)
scenario("dup-name.yaml", "name: h\nname: g\n", ["name", "duplicate"])
scenario("dup-nested.yaml", "name: h\nprotocol:\n  reserve:\n    initial_usd: 1\n    initial_usd: 2\n",
         ["protocol.reserve.initial_usd", "duplicate"])
scenario("dup-flow.yaml", "name: h\nprotocol: {fees: {mint_fee_bps: 1, mint_fee_bps: 2}}\n", ["protocol.fees.mint_fee_bps", "duplicate"])
scenario("dup-event.yaml", "name: h\nevents:\n  - {type: oracle_stale, hour: 5, hour: 6, duration_hours: 1}\n",
         ["events.0.hour", "duplicate"])
scenario("dup-scripted.yaml", "name: h\nscripted: []\nscripted: []\n", ["scripted", "duplicate"])
scenario("key-int.yaml", "name: h\n1: x\n", ["key", "not a field name"])
scenario("key-bool.yaml", "name: h\nprotocol:\n  on: 1\n", ["protocol", "not a field name"])
scenario("key-null.yaml", "name: h\n~: 1\n", ["not a field name"])
scenario("key-complex.yaml", "name: h\n? [a, b]\n: 1\n", ["not a field name"])
HIST = {"name": "h", "horizon_hours": 48, "runs": 2, "market": {"source": "historical", "historical": {}}}
for i, (start, end, names) in enumerate([
        ("2022-02-30", "2022-03-30", ["market.historical.start_date", "not a valid date"]),
        ("2022-13-01", "2022-14-01", ["market.historical.start_date", "not a valid date"]),
        ("2021-02-29", "2021-03-29", ["market.historical.start_date", "not a valid date"]),
        ("2022-03-01", "2022-02-31", ["market.historical.end_date", "not a valid date"])]):
    scenario(f"date-invalid-{i}.yaml", f"name: h\nhorizon_hours: 48\nmarket:\n  source: historical\n  historical:\n"
             f"    start_date: {start}\n    end_date: {end}\n", names, run_too=i == 0)
scenario("date-quoted-invalid.yaml", "name: h\nmarket:\n  source: historical\n  historical:\n    start_date: '2022-02-30'\n"
         "    end_date: '2022-03-30'\n", ["market.historical.start_date", "date"])
scenario("date-number.yaml", "name: h\nmarket:\n  source: historical\n  historical: {start_date: 20220101, end_date: 20220301}\n",
         ["market.historical.start_date"])
scenario("date-end-before-start.yaml", "name: h\nmarket:\n  source: historical\n  historical: {start_date: 2022-03-01, "
         "end_date: 2022-01-01}\n", ["market.historical", "end_date"])
scenario("date-outside-data.yaml", "name: h\nhorizon_hours: 48\nmarket:\n  source: historical\n  historical: "
         "{start_date: 1990-01-01, end_date: 1990-03-01}\n", [], outcome="accepted", why="valid, but see the run case")
case("date-outside-data.yaml", "run", ["start_date"], RUN)
scenario("date-horizon-beyond-range.yaml", "name: h\nhorizon_hours: 960\nmarket:\n  source: historical\n  historical: "
         "{start_date: 2022-01-01, end_date: 2022-01-31}\n", ["horizon_hours"])

# ------------------------------------------------------------------ types: booleans and strings for numbers
for name, path, value in [("runs-true", "runs", True), ("runs-string", "runs", "100"), ("runs-float", "runs", 1.5),
                          ("runs-list", "runs", [1]), ("runs-null", "runs", None), ("runs-map", "runs", {"n": 1}),
                          ("horizon-string", "horizon_hours", "48"), ("supply-quoted", "protocol.initial_supply_usd", "1"), ("horizon-bool", "horizon_hours", False),
                          ("seed-string", "seed", "seven"), ("supply-string", "protocol.initial_supply_usd", "1e9 dollars"),
                          ("supply-bool", "protocol.initial_supply_usd", True), ("weight-bool", "protocol.weights.btc", True),
                          ("fee-string", "protocol.fees.redeem_fee_bps", "10bps"),
                          ("reserve-lots", "protocol.reserve.initial_usd", "lots"),
                          ("psm-enabled-string", "protocol.psm.enabled", "yes please"),
                          ("psm-enabled-int", "protocol.psm.enabled", 1), ("name-int", "name", 123),
                          ("name-list", "name", ["a"]), ("source-int", "market.source", 5),
                          ("events-map", "events", {"type": "oracle_stale"}), ("scripted-string", "scripted", "crash"),
                          ("vol-string", "market.stochastic.calm.btc_vol_annual", "high"),
                          ("noise-bool", "agents.retail.noise_flow_usd_per_hour", True),
                          ("ranges-string", "pool.ranges", "deep")]:
    scenario(f"type-{name}.yaml", nested(path, value), [path], run_too=name in ("runs-true", "supply-string"))
scenario("type-points-strings.yaml", nested("scripted", [{"variable": "btc_usd", "points": [["10", 1.0], [20, "0.5"]]}]),
         ["scripted.0.points.0.0"])
scenario("type-points-bools.yaml", nested("scripted", [{"variable": "btc_usd", "points": [[True, 1.0], [20, 0.5]]}]),
         ["scripted.0.points.0.0"])
scenario("ok-exponent-notation.yaml", GOOD + "protocol:\n  reserve: {initial_usd: 4e7}\n", [], outcome="accepted",
         why="YAML 1.2 reads 4e7 as a number")

# ------------------------------------------------------------------ values: NaN, inf, 1e308 and every range
FIELDS = ["runs", "seed", "horizon_hours", "step_hours", "depeg_threshold", "repeg_level",
          "market.stochastic.btc_usd_start", "market.stochastic.xau_usd_start", "market.stochastic.tbill_yield_start",
          "market.stochastic.calm.btc_vol_annual", "market.stochastic.calm.btc_drift_annual",
          "market.stochastic.stress.btc_jump_rate_per_year", "market.stochastic.calm.btc_jump_mean",
          "market.stochastic.calm.funding_mean_8h_btc", "market.stochastic.funding_btc.mean_reversion_per_day",
          "market.stochastic.funding_btc.cap_8h", "market.stochastic.tbill.vol_per_sqrt_year",
          "market.stochastic.p_calm_to_stress_per_hour", "pool.fee_fraction", "pool.hyb_price_start", "pool.hyb_pool_usd",
          "protocol.initial_supply_usd", "protocol.hedge.initial_margin_ratio", "protocol.hedge.premium_per_funding_8h",
          "protocol.tbill.settlement_hours", "protocol.fees.redeem_fee_bps", "protocol.caps.mint_cap_usd_per_hour",
          "protocol.revenue.distribution_interval_hours", "protocol.reserve.initial_usd", "protocol.backstop.hyb_supply",
          "protocol.psm.ceiling_usd", "protocol.rebalance.unwind_cost_bps", "agents.arbitrageurs.gas_usd",
          "agents.retail.noise_flow_usd_per_hour", "agents.retail.btc_leverage", "agents.loopers.lending_supply_usd",
          "agents.loopers.borrow_rate.jump_slope_apr", "agents.growth.base_rate_per_day"]
for path in FIELDS:
    short = path.split(".")[-1]
    for tag, value in (("nan", math.nan), ("inf", math.inf), ("big", 1e308)):
        scenario(f"num-{tag}-{path.replace('.', '-')}.yaml", nested(path, value), [path],
                 run_too=(tag == "nan" and short in ("runs", "initial_supply_usd")) or (tag == "big" and short == "reserve"))
for name, d, names in [
        ("floor-above-cap", nested("market.stochastic.funding_btc", {"floor_8h": 0.01, "cap_8h": -0.01}),
         ["market.stochastic.funding_btc", "floor_8h"]),
        ("funding-cap-huge", nested("market.stochastic.funding_xau.cap_8h", 10.0), ["market.stochastic.funding_xau.cap_8h"]),
        ("set-negative-price", nested("scripted", [{"variable": "btc_usd", "mode": "set", "points": [[1, 90000], [5, -100]]}]),
         ["scripted.0", "btc_usd"]),
        ("set-zero-gold", nested("scripted", [{"variable": "xau_usd", "mode": "set", "points": [[1, 0], [5, 0]]}]),
         ["scripted.0", "xau_usd"]),
        ("set-pool-depth-2", nested("scripted", [{"variable": "pool_depth", "mode": "set", "points": [[1, 2.0], [5, 2.0]]}]),
         ["scripted.0", "pool_depth"]),
        ("set-pool-depth-0", nested("scripted", [{"variable": "pool_depth", "mode": "set", "points": [[1, 0.0], [5, 0.0]]}]),
         ["scripted.0", "pool_depth"]),
        ("multiply-pool-depth-3", nested("scripted", [{"variable": "pool_depth", "points": [[1, 1.0], [5, 3.0]]}]),
         ["scripted.0.points", "pool_depth"]),
        ("multiply-pool-depth-tiny", nested("scripted", [{"variable": "pool_depth", "points": [[1, 1.0], [5, 1e-5]]}]),
         ["scripted.0", "pool_depth"]),
        ("set-funding-100pct", nested("scripted", [{"variable": "funding_rate_8h_btc", "mode": "set", "points": [[1, 1.0], [5, 1.0]]}]),
         ["scripted.0", "funding_rate_8h_btc"]),
        ("set-tbill-500pct", nested("scripted", [{"variable": "tbill_yield", "mode": "set", "points": [[1, 5.0], [5, 5.0]]}]),
         ["scripted.0", "tbill_yield"]),
        ("multiply-btc-1e9", nested("scripted", [{"variable": "btc_usd", "points": [[1, 1.0], [5, 1e9]]}]), ["scripted.0", "btc_usd"]),
        ("multiply-zero", nested("scripted", [{"variable": "btc_usd", "points": [[1, 1.0], [5, 0.0]]}]), ["scripted.0", "positive"]),
        ("scripted-nan-point", nested("scripted", [{"variable": "btc_usd", "points": [[1, 1.0], [5, math.nan]]}]),
         ["scripted.0.points.1.1"]),
        ("scripted-decreasing", nested("scripted", [{"variable": "btc_usd", "points": [[10, 1.0], [5, 0.5]]}]),
         ["scripted.0", "increasing"]),
        ("scripted-one-point", nested("scripted", [{"variable": "btc_usd", "points": [[10, 1.0]]}]), ["scripted.0.points"]),
        ("scripted-unknown-variable", nested("scripted", [{"variable": "eth_usd", "points": [[1, 1.0], [5, 0.5]]}]),
         ["scripted.0.variable"]),
        ("pool-depth-factor-0", nested("market.stochastic.stress.pool_depth_factor", 0.0),
         ["market.stochastic.stress.pool_depth_factor"]),
        ("pool-depth-factor-2", nested("market.stochastic.calm.pool_depth_factor", 2.0), ["market.stochastic.calm.pool_depth_factor"]),
        ("step-100h", nested("step_hours", 100.0), ["step_hours"]),
        ("step-longer-than-horizon", nested("step_hours", 24.0) | {"horizon_hours": 12}, ["step_hours", "horizon_hours"]),
        ("step-not-dividing", nested("step_hours", 0.7), ["step_hours", "divide"]),
        ("step-tiny", nested("step_hours", 1e-6), ["step_hours"]),
        ("step-zero", nested("step_hours", 0), ["step_hours"]),
        ("horizon-zero", nested("horizon_hours", 0), ["horizon_hours"]),
        ("horizon-1e9", nested("horizon_hours", 10**9), ["horizon_hours"]),
        ("unwind-cost-100pct", nested("protocol.rebalance.unwind_cost_bps", 10000), ["protocol.rebalance.unwind_cost_bps"]),
        ("redeem-fee-100pct", nested("protocol.fees.redeem_fee_bps", 10000), ["protocol.fees.redeem_fee_bps"]),
        ("psm-fee-100pct", nested("protocol.psm.fee_bps", 10000), ["protocol.psm.fee_bps"]),
        ("weights-sum", nested("protocol.weights", {"tbill": 0.4, "btc": 0.9, "xau": 0.15, "buffer": 0.15}),
         ["protocol.weights", "sum to 1"]),
        ("weight-negative", nested("protocol.weights", {"tbill": 1.2, "btc": -0.2, "xau": 0.0, "buffer": 0.0}),
         ["protocol.weights.btc"]),
        ("correlation-2", nested("market.stochastic.calm.btc_xau_correlation", 2.0), ["market.stochastic.calm.btc_xau_correlation"]),
        ("staker-share-150pct", nested("protocol.revenue.staker_share", 1.5), ["protocol.revenue.staker_share"]),
        ("supply-1e6-default-pool", nested("protocol.initial_supply_usd", 1e6), ["pool.ranges", "supply"]),
        ("supply-1e14", nested("protocol.initial_supply_usd", 1e14), ["protocol.initial_supply_usd"]),
        ("supply-negative", nested("protocol.initial_supply_usd", -1e9), ["protocol.initial_supply_usd"]),
        ("jump-rate-1e6", nested("market.stochastic.calm.btc_jump_rate_per_year", 1e6), ["market.stochastic.calm.btc_jump_rate_per_year"]),
        ("vol-1000", nested("market.stochastic.stress.btc_vol_annual", 1000.0), ["market.stochastic.stress.btc_vol_annual"]),
        ("hyb-price-zero", nested("pool.hyb_price_start", 0.0), ["pool.hyb_price_start"]),
        ("range-not-straddling", nested("pool.ranges", [{"price_lower": 1.5, "price_upper": 2.0, "usd": 1e6}]),
         ["pool.ranges.0", "straddle"]),
        ("range-lower-zero", nested("pool.ranges", [{"price_lower": 0.0, "price_upper": 2.0, "usd": 1e6}]),
         ["pool.ranges.0.price_lower"]),
        ("range-upper-huge", nested("pool.ranges", [{"price_lower": 0.5, "price_upper": 1e308, "usd": 1e6}]),
         ["pool.ranges.0.price_upper"]),
        ("range-usd-zero", nested("pool.ranges", [{"price_lower": 0.9, "price_upper": 1.1, "usd": 0}]), ["pool.ranges.0.usd"]),
        ("ranges-empty", nested("pool.ranges", []), ["pool.ranges"]),
        ("pool-bigger-than-float", nested("pool.ranges", [{"price_lower": 0.99, "price_upper": 1.01, "usd": 5e8}]),
         ["pool.ranges", "supply no holder class holds"]),
        ("companies-7", nested("agents.treasury_companies", [{"name": f"c{i}"} for i in range(7)]), ["agents.treasury_companies"]),
        ("company-debt-above-holdings", nested("agents.treasury_companies", [{"name": "c", "btc_usd": 1e6, "debt_usd": 2e6}]),
         ["agents.treasury_companies.0", "debt_usd"]),
        ("company-no-name", nested("agents.treasury_companies", [{"btc_usd": 1e6}]), ["agents.treasury_companies.0.name"]),
        ("looper-ltv-order", nested("agents.loopers", {"initial_ltv": 0.9, "max_ltv": 0.8, "liquidation_ltv": 0.86}),
         ["agents.loopers", "ltv"]),
        ("margin-order", nested("protocol.hedge", {"initial_margin_ratio": 0.05, "maintenance_margin_ratio": 0.06}),
         ["protocol.hedge", "maintenance_margin_ratio"]),
        ("repeg-below-depeg", nested("repeg_level", 0.95), ["repeg_level"]),
        ("depeg-threshold-1.5", nested("depeg_threshold", 1.5), ["depeg_threshold"]),
        ("holders-over-supply", nested("agents.institutional.share_of_supply", 0.9), ["agents", "holder shares"]),
        ("reserve-negative", nested("protocol.reserve.initial_usd", -1.0), ["protocol.reserve.initial_usd"]),
        ("gas-negative", nested("agents.arbitrageurs.gas_usd", -5.0), ["agents.arbitrageurs.gas_usd"]),
        ("kink-one", nested("agents.loopers.borrow_rate.kink", 1.0), ["agents.loopers.borrow_rate.kink"]),
        ("unknown-key", nested("protocol.reserve.initial_usdd", 1.0), ["protocol.reserve.initial_usdd", "unknown key"]),
        ("unknown-top-key", nested("no_such_key_xyz", 1), ["no_such_key_xyz"]),
        ("event-unknown-type", nested("events", [{"type": "asteroid", "hour": 1}]), ["events.0"]),
        ("event-share-2", nested("events", [{"type": "venue_failure", "hour": 1, "share_of_hedge": 2.0}]),
         ["events.0.venue_failure.share_of_hedge"]),
        ("bank-run-bad-class", nested("events", [{"type": "bank_run", "hour": 1, "duration_hours": 5,
                                                  "share_of_holdings": 0.5, "classes": ["whales"]}]), ["events.0.bank_run.classes.0"]),
        ("event-duration-zero", nested("events", [{"type": "oracle_stale", "hour": 1, "duration_hours": 0}]),
         ["events.0.oracle_stale.duration_hours"]),
        ("event-duration-inf", nested("events", [{"type": "tbill_freeze", "hour": 1, "duration_hours": math.inf}]),
         ["events.0.tbill_freeze.duration_hours"]),
]:
    scenario(f"val-{name}.yaml", d, names, run_too=name in ("unwind-cost-100pct", "supply-1e6-default-pool", "step-not-dividing"))

# ------------------------------------------------------------------ time: nothing beyond the horizon
for name, d, names in [
        ("venue-failure-hour-100000", nested("events", [{"type": "venue_failure", "hour": 100000, "share_of_hedge": 0.3}]),
         ["events.0", "hour"]),
        ("event-at-horizon", nested("events", [{"type": "oracle_stale", "hour": 48, "duration_hours": 2}]), ["events.0.hour"]),
        ("event-hour-negative", nested("events", [{"type": "oracle_stale", "hour": -1, "duration_hours": 2}]),
         ["events.0.oracle_stale.hour"]),
        ("bank-run-hour-1e308", nested("events", [{"type": "bank_run", "hour": 1e308, "duration_hours": 5,
                                                   "share_of_holdings": 0.5}]), ["events.0.bank_run.hour"]),
        ("scripted-beyond-horizon", nested("scripted", [{"variable": "btc_usd", "points": [[10, 1.0], [1000, 0.5]]}]),
         ["scripted.0.points", "horizon"]),
        ("scripted-starts-after-horizon", nested("scripted", [{"variable": "btc_usd", "points": [[500, 1.0], [600, 0.5]]}]),
         ["scripted.0.points", "horizon"]),
        ("fine-window-beyond-horizon", nested("fine_steps", [{"start_hour": 10, "end_hour": 1000, "step_hours": 0.25}]),
         ["fine_steps.0.end_hour", "horizon"]),
        ("fine-windows-overlap", nested("fine_steps", [{"start_hour": 10, "end_hour": 20, "step_hours": 0.5},
                                                       {"start_hour": 15, "end_hour": 30, "step_hours": 0.25}]),
         ["fine_steps.1", "overlap"]),
        ("fine-step-not-dividing", nested("fine_steps", [{"start_hour": 10, "end_hour": 20, "step_hours": 0.3}]),
         ["fine_steps.0.step_hours", "divide"]),
        ("fine-window-off-grid", nested("fine_steps", [{"start_hour": 10.5, "end_hour": 20, "step_hours": 0.25}]),
         ["fine_steps.0.start_hour"]),
        ("fine-step-nan", nested("fine_steps", [{"start_hour": 10, "end_hour": 20, "step_hours": math.nan}]),
         ["fine_steps.0.step_hours"]),
]:
    scenario(f"time-{name}.yaml", d, names, run_too=name.startswith(("venue", "fine-window-beyond")))
scenario("ok-event-inside.yaml", nested("events", [{"type": "venue_failure", "hour": 47, "share_of_hedge": 0.3}]), [],
         run_too=True, outcome="accepted")
scenario("ok-scripted-to-horizon.yaml", nested("scripted", [{"variable": "btc_usd", "points": [[10, 1.0], [48, 0.5]]}]), [],
         outcome="accepted")
scenario("ok-quarter-hour-steps.yaml", nested("step_hours", 0.25), [], run_too=True, outcome="accepted")
scenario("ok-fine-window.yaml", nested("fine_steps", [{"start_hour": 10, "end_hour": 20, "step_hours": 0.25}]), [],
         run_too=True, outcome="accepted")

# ------------------------------------------------------------------ size
scenario("size-runs-1e7.yaml", nested("runs", 10_000_000), ["runs"], run_too=True)
write("size-runs-1e6-5y.yaml", {**BASE, "runs": 1_000_000, "horizon_hours": 24 * 366 * 5})
case("size-runs-1e6-5y.yaml", "validate", outcome="accepted", why="valid on paper: the run is what cannot fit")
case("size-runs-1e6-5y.yaml", "run", ["runs", "GB"], ["--out", "{tmp}/o"], why="memory estimated before allocating")
case("size-runs-1e6-5y.yaml", "run", ["runs", "GB"], ["--engine", "cadcad", "--out", "{tmp}/o"])
write("size-fine-steps-1min-5y.yaml", {**BASE, "runs": 10_000, "horizon_hours": 24 * 366 * 5,
                                       "fine_steps": [{"start_hour": 0, "end_hour": 24 * 366 * 5, "step_hours": 1 / 60}]})
case("size-fine-steps-1min-5y.yaml", "run", ["runs", "engine steps", "GB"], ["--out", "{tmp}/o"],
     why="a window of 1-minute steps counts in the memory estimate")

# ------------------------------------------------------------------ names and output paths
for name, value in [("dotdot", "../escape"), ("empty", ""), ("slash", "a/b"), ("hidden", ".hidden"), ("long", "x" * 200),
                    ("newline", "a\nb"), ("just-dotdot", ".."), ("space", "has space"), ("absolute", "/etc"),
                    ("backslash", "a\\b"), ("unicode-rtl", "\u202ename")]:
    scenario(f"name-{name}.yaml", nested("name", value), ["name"], run_too=name in ("dotdot", "empty", "absolute"))
write("small-ok.yaml", SMALL)
case("small-ok.yaml", "validate", outcome="accepted")
case("small-ok.yaml", "run", outcome="accepted", args=RUN)
case("small-ok.yaml", "run", ["--out", "file"], ["--out", "{tmp}/afile"], make="afile")
case("small-ok.yaml", "run", ["--out", "not a tripod result"], ["--out", "{tmp}/notours"], make="notours")
case("small-ok.yaml", "run", ["--out", "cannot write"], ["--out", "{tmp}/ro/o"], make="readonly")
case("small-ok.yaml", "run", ["--out", "cannot write"], ["--out", "{tmp}/afile/o"], make="afile")
case("small-ok.yaml", "run", ["--runs"], ["--runs", "0", "--out", "{tmp}/o"])
case("small-ok.yaml", "run", ["--runs"], ["--runs", "-5", "--out", "{tmp}/o"])
case("small-ok.yaml", "run", ["--seed"], ["--seed", "-1", "--out", "{tmp}/o"])
case("small-ok.yaml", "run", ["--runs"], ["--runs", "many"])
case("small-ok.yaml", "run", ["--engine"], ["--engine", "quantum"])

# ------------------------------------------------------------------ sweeps
SWEEP = {"name": "sw", "base": "small-ok.yaml", "parameters": [{"path": "protocol.reserve.initial_usd", "values": [1e7, 2e7]}],
         "runs_per_point": 2, "run_batch": 2, "horizon_hours": 24}


def sweep(name: str, body, names: list[str], args: list[str] | None = None, make: str | None = None, outcome="refused"):
    f = write(name, body)
    case(f, "sweep", [f, *names] if outcome == "refused" and f not in names else names,
         args if args is not None else ["--out", "{tmp}/s", "--workers", "1"], outcome=outcome, make=make)


def sw(**kw):
    return {**SWEEP, **kw}


P = SWEEP["parameters"][0]
sweep("sweep-param-twice.yaml", sw(parameters=[P, P]), ["parameters", "twice"])
sweep("sweep-param-balance-twice.yaml", sw(parameters=[P, {"path": "protocol.weights.btc", "values": [0.3],
                                                           "balance": "protocol.reserve.initial_usd"}]), ["parameters", "twice"])
sweep("sweep-runs.yaml", sw(parameters=[{"path": "runs", "values": [1, 2]}]), ["parameters.0", "runs"])
sweep("sweep-seed.yaml", sw(parameters=[{"path": "seed", "values": [1, 2]}]), ["parameters.0", "seed"])
sweep("sweep-balance-self.yaml", sw(parameters=[{**P, "balance": P["path"]}]), ["parameters.0", "balance"])
sweep("sweep-not-a-field.yaml", sw(parameters=[{"path": "protocol.reserve.nope", "values": [1]}]), ["protocol.reserve.nope"])
sweep("sweep-not-a-number.yaml", sw(parameters=[{"path": "market.source", "values": [1]}]), ["market.source"])
sweep("sweep-values-empty.yaml", sw(parameters=[{"path": P["path"], "values": []}]), ["parameters.0"])
sweep("sweep-values-nan.yaml", sw(parameters=[{"path": P["path"], "values": [math.nan]}]), ["parameters.0.values.0"])
sweep("sweep-values-1e308.yaml", sw(parameters=[{"path": P["path"], "values": [1e308]}]), ["parameters.0.values.0"])
sweep("sweep-value-out-of-range.yaml", sw(parameters=[{"path": "protocol.fees.redeem_fee_bps", "values": [10, 20000]}]),
      ["protocol.fees.redeem_fee_bps", "redeem_fee_bps=20000"])
sweep("sweep-low-above-high.yaml", sw(design="lhs", points=4, parameters=[{"path": P["path"], "low": 5, "high": 1}]),
      ["parameters.0", "high"])
sweep("sweep-lhs-no-points.yaml", sw(design="lhs", parameters=[{"path": P["path"], "low": 1, "high": 5}]), ["points"])
sweep("sweep-lhs-1e9-points.yaml", sw(design="lhs", points=10**9, parameters=[{"path": P["path"], "low": 1, "high": 5}]),
      ["points"])
sweep("sweep-grid-1e8-points.yaml", sw(parameters=[{"path": p, "values": list(range(1, 101))} for p in
                                                   ("protocol.reserve.initial_usd", "protocol.caps.mint_cap_usd_per_hour",
                                                    "protocol.caps.redeem_cap_usd_per_hour", "protocol.psm.ceiling_usd")]),
      ["100,000,000 points"])
sweep("sweep-chunk-memory.yaml", sw(runs_per_point=100000, run_batch=100000, horizon_hours=24 * 366 * 5), ["runs", "GB"])
sweep("sweep-runs-true.yaml", sw(runs_per_point=True), ["runs_per_point"])
sweep("sweep-runs-zero.yaml", sw(runs_per_point=0), ["runs_per_point"])
sweep("sweep-seed-negative.yaml", sw(seed=-1), ["seed"])
sweep("sweep-horizon-zero.yaml", sw(horizon_hours=0), ["horizon_hours"])
sweep("sweep-name-dotdot.yaml", sw(name="../../x"), ["name"])
sweep("sweep-unknown-metric.yaml", sw(metrics=["max_depeg_bps", "vibes"]), ["metrics", "vibes"])
sweep("sweep-unknown-target.yaml", sw(target={"metric": "vibes", "max": 0.1}), ["target.metric"])
sweep("sweep-unknown-key.yaml", sw(paramters=[]), ["paramters"])
sweep("sweep-base-binary.yaml", sw(base="kind-png.yaml"), ["kind-png.yaml", "binary"])
sweep("sweep-base-missing.yaml", sw(base="no-such-base.yaml"), ["no-such-base", "no such file"])
sweep("sweep-base-folder.yaml", sw(base="kind-folder.yaml"), ["kind-folder.yaml", "folder"])
sweep("sweep-base-dup-keys.yaml", sw(base="dup-top.yaml"), ["dup-top.yaml", "duplicate"])
sweep("sweep-base-event-beyond.yaml", sw(base="ok-event-inside.yaml", horizon_hours=24), ["events.0.hour"])
sweep("sweep-latin1.yaml", "name: caf\xe9\n".encode("latin-1"), ["not UTF-8"])
sweep("sweep-utf16.yaml", yaml.safe_dump(SWEEP).encode("utf-16"), ["UTF-16"])
sweep("sweep-bomb.yaml", "name: sw\n" + LAUGHS + "description: *i\n", ["alias"])
sweep("sweep-dup-keys.yaml", yaml.safe_dump(SWEEP, sort_keys=False) + "parameters: []\n", ["parameters", "duplicate"])
sweep("sweep-list.yaml", "- 1\n", ["mapping"])
write("sweep-ok.yaml", SWEEP)
case("sweep-ok.yaml", "sweep", ["--workers"], ["--out", "{tmp}/s", "--workers", "0"])
case("sweep-ok.yaml", "sweep", ["--workers"], ["--out", "{tmp}/s", "--workers", "-3"])
case("sweep-ok.yaml", "sweep", ["sweep.json"], ["--out", "{tmp}/parts-only", "--workers", "1"], make="parts-only",
     why="parts of an unknown sweep are never reused")
case("sweep-ok.yaml", "sweep", ["--out", "file"], ["--out", "{tmp}/afile", "--workers", "1"], make="afile")
case("sweep-ok.yaml", "sweep", ["sweep.json", "unreadable"], ["--out", "{tmp}/bad-meta", "--workers", "1"], make="bad-meta")
case("sweep-ok.yaml", "sweep", ["sw", "config hash"], ["--out", "{tmp}/other-sweep", "--workers", "1"], make="other-sweep")
case("/dev/zero", "sweep", ["/dev/zero", "not a regular file"], ["--out", "{tmp}/s"])
case("kind-folder.yaml", "sweep", ["kind-folder.yaml", "folder"], ["--out", "{tmp}/s"])

# ------------------------------------------------------------------ the other commands that read files
SR = ["--target-prob", "0.1", "--horizon-days", "1", "--runs", "4", "--out", "{tmp}/sr"]
for f, names in (("kind-png.yaml", ["binary"]), ("enc-utf16le.yaml", ["UTF-16"]), ("bomb-runs.yaml", ["alias"]),
                 ("dup-top.yaml", ["duplicate"]), ("num-nan-protocol-initial_supply_usd.yaml", ["protocol.initial_supply_usd"]),
                 ("/dev/zero", ["not a regular file"])):
    case(f, "size-reserve", [f, *names], SR)
for args, names in ((["--supply-usd", "nan"], ["--supply-usd"]), (["--supply-usd", "-1e9"], ["--supply-usd"]),
                    (["--supply-usd", "inf"], ["--supply-usd"]), (["--supply-usd", "1e300"], ["initial_supply_usd"]),
                    (["--horizon-days", "nan"], ["--horizon-days"]), (["--horizon-days", "1e9"], ["--horizon-days"]),
                    (["--runs", "0"], ["--runs"]), (["--runs", "100000000"], ["--runs"]), (["--seed", "-1"], ["--seed"]),
                    (["--target-prob", "nan"], ["--target-prob"]), (["--weights", "a,b,c,d"], ["weights"]),
                    (["--set", "protocol.reserve.initial_usd=.nan"], ["protocol.reserve.initial_usd"]),
                    (["--set", "protocol.reserve.initial_usd=1e308"], ["protocol.reserve.initial_usd"]),
                    (["--set", "protocol.nope=1"], ["--set", "nope"]), (["--set", "garbage"], ["--set"])):
    case("small-ok.yaml", "size-reserve", names, ["--target-prob", "0.1", "--horizon-days", "1", "--runs", "4",
                                                  "--out", "{tmp}/sr", *args])
SW = ["--days", "10", "--stride-days", "200", "--out", "{tmp}/w"]
for f, names in (("kind-png.yaml", ["binary"]), ("bomb-name.yaml", ["alias"]), ("name-dotdot.yaml", ["name"]),
                 ("/dev/zero", ["not a regular file"])):
    case(f, "stress-windows", [f, *names], SW)
for args, names in ((["--days", "0"], ["--days"]), (["--days", "10000000"], ["--days"]), (["--top", "0"], ["--top"]),
                    (["--stride-days", "0"], ["--stride-days"]), (["--seed", "-1"], ["--seed"]),
                    (["--set", "protocol.reserve.initial_usd=.inf"], ["protocol.reserve.initial_usd"]),
                    (["--from", "2022-02-30"], ["--from"])):
    case("small-ok.yaml", "stress-windows", names, ["--days", "10", "--stride-days", "200", "--out", "{tmp}/w", *args])
for args, names in ((["--from", "2022-02-30"], ["--from"]), (["--paths", "-1"], ["--paths"]),
                    (["--paths", "1000000000"], ["--paths"]), (["--seed", "-3"], ["--seed"]),
                    (["--out", "{tmp}"], ["--out", "directory"]), (["--report-dir", "{tmp}/afile"], ["file"])):
    case(None, "calibrate", names, ["--paths", "0", "--out", "{tmp}/m.yaml", "--report-dir", "{tmp}/rep", *args],
         make="afile" if "afile" in " ".join(args) else None)
EXP = ["leverage-cycle", "--runs", "1", "--ltvs", "0", "--designs", "reserve-only", "--out", "{tmp}/e"]
for f, names in (("kind-png.yaml", ["binary"]), ("bomb-scripted.yaml", ["alias"]), ("dup-nested.yaml", ["duplicate"]),
                 ("enc-latin1.yaml", ["not UTF-8"])):
    case(None, "experiment", [f, *names], [*EXP, "--scenario", "{cases}/" + f])
for args, names in ((["--ltvs", "nan"], ["--ltvs"]), (["--ltvs", "0,x"], ["--ltvs"]), (["--runs", "0"], ["--runs"]),
                    (["--designs", "nope"], ["--designs"]), (["--seed", "-1"], ["seed"]),
                    (["--mixes", "nope"], ["--mixes", "unknown mix"]), (["--mixes", "baseline,baseline"], ["--mixes", "twice"])):
    case(None, "experiment", names, ["leverage-cycle", "--runs", "1", "--ltvs", "0", "--designs", "reserve-only", "--out", "{tmp}/e",
                                     "--scenario", "{cases}/small-ok.yaml", *args])
case(None, "experiment", ["--out", "file"], [*EXP, "--scenario", "{cases}/small-ok.yaml", "--out", "{tmp}/afile"], make="afile")
for f, names in (("kind-png.yaml", ["binary"]), ("bomb-runs.yaml", ["alias"]), ("enc-utf16le.yaml", ["UTF-16"]),
                 ("time-venue-failure-hour-100000.yaml", ["events.0", "hour"])):
    case(f, "replay", [f, *names], ["--out", "{tmp}/r"])
write("run-bad-json/scenario.json", "{not json")
write("run-bad-json/trajectories.parquet", b"PAR1 truncated")
write("run-bad-parquet/scenario.json", '{"name": "h", "horizon_hours": 48}')
write("run-bad-parquet/trajectories.parquet", b"PAR1 truncated")
write("run-bad-field/scenario.json", '{"name": "h", "runs": -3}')
write("run-bad-field/trajectories.parquet", b"PAR1")
write("run-bomb-json/scenario.json", "[" * 60000 + "]" * 60000)
write("run-bomb-json/trajectories.parquet", b"PAR1")
case("run-bad-json", "replay", ["scenario.json", "not valid JSON"], make="copy-run-dir")
case("run-bad-parquet", "replay", ["trajectories.parquet", "Parquet"], make="copy-run-dir")
case("run-bad-field", "replay", ["scenario.json", "runs"], make="copy-run-dir")
case("run-bomb-json", "replay", ["scenario.json"], make="copy-run-dir")
case("small-ok.yaml", "replay", ["--run"], ["--run", "-1", "--out", "{tmp}/r"])


(HERE / "expected.yaml").write_text(
    "# Generated by make_corpus.py: one entry per case (see its docstring). Do not edit by hand.\n"
    + yaml.safe_dump(cases, sort_keys=False, allow_unicode=False, width=140))
files = sum(1 for p in CASES.rglob("*") if p.is_file() and p.name != ".keep")
print(f"{len(cases)} cases over {files} files in {CASES}")
