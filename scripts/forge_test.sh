#!/usr/bin/env bash
# The Foundry invariant suite (tests/forge) at foundry.toml's sizes, compiled offline through the solc shim.
# Default profile (CI): 500 runs x depth 50 per invariant, fail_on_revert on the handler.
# FOUNDRY_PROFILE=campaign: 10,000 runs (scripts/forge_campaign.sh). Extra arguments go to `forge test`.
# Exits non-zero on any failing test, even where forge itself would exit 0, and prints the figures last.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$SECONDS
set +e
# CI runs each invariant as its own campaign; the long campaign runs invariant_all (every property at once)
if [[ ${FOUNDRY_PROFILE:-default} == campaign ]]; then pick=(--match-test invariant_all); else pick=(--no-match-test invariant_all); fi
forge test --match-path 'tests/forge/**' "${pick[@]}" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
python3 - "$log" "$rc" "$((SECONDS - start))" "${FOUNDRY_PROFILE:-default}" <<'PY'
import re, sys
log, rc, took, profile = open(sys.argv[1], errors="replace").read(), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
log = re.sub(r"\x1b\[[0-9;]*m", "", log)
# "[PASS] invariant_x() (runs: R, calls: C, reverts: V)"; a failure prints "[FAIL: reason]", the sequence, then the
# same figures without the status: a test takes the status printed last before its figures
rows, status = {}, None
for m in re.finditer(r"\[(PASS|FAIL[^\]]*)\]|(invariant\w*)\(\)\s*\(runs:\s*(\d+),\s*calls:\s*(\d+),\s*reverts:\s*(\d+)\)", log):
    if m.group(1):
        status = "PASS" if m.group(1) == "PASS" else "FAIL"
        continue
    if rows.get(m.group(2), ("",))[0] != "FAIL":
        rows[m.group(2)] = (status or "?", int(m.group(3)), int(m.group(4)), int(m.group(5)))
    status = None
rows = [(st, name, r, c, v) for name, (st, r, c, v) in rows.items()]
failed = sum(int(n) for n in re.findall(r"Encountered a total of (\d+) failing test", log))
runs = sum(int(r[2]) for r in rows)
calls = sum(int(r[3]) for r in rows)
print(f"\nforge invariants ({profile} profile, {took} s wall incl. compile): {len(rows)} invariants, "
      f"{sum(r[0] == 'PASS' for r in rows)} passed; {runs} runs, {calls} calls "
      f"({calls // max(runs, 1)} per run), {sum(int(r[4]) for r in rows)} handler reverts")
sys.exit(1 if rc or failed or any(r[0] != "PASS" for r in rows) or not rows else 0)
PY
