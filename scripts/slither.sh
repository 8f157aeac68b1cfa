#!/usr/bin/env bash
# Slither over contracts/ (mocks under contracts/test excluded) with the project's own solc (the solcjs
# shim, --solc-standard-json): nothing is downloaded. Writes out/slither.json, then scripts/slither_gate.py
# compares the findings with the triage file slither-triage.json: CI fails on any High or Medium finding
# that the triage does not accept with a reason.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
[[ -x .venv-slither/bin/slither ]] || { echo "slither: .venv-slither missing: run scripts/setup.sh" >&2; exit 2; }
mkdir -p out
rm -f out/slither.json
.venv-slither/bin/slither contracts --solc "$SOLCX_BINARY_PATH/solc-v0.8.37" --solc-standard-json \
  --solc-remaps "@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/" \
  --filter-paths "node_modules|contracts/test/" --exclude-dependencies --json out/slither.json >out/slither.log 2>&1 || true
[[ -s out/slither.json ]] || { tail -20 out/slither.log; echo "slither: no report written" >&2; exit 1; }
exec python3 scripts/slither_gate.py out/slither.json slither-triage.json
