#!/usr/bin/env bash
# The whole test suite, as CI runs it: simulator tests, the forge invariant suite and Slither, then the Ape
# contract suite on py-evm and anvil, then the fork suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
python scripts/stage_solidity_deps.py >/dev/null  # idempotent; also clears a stale whole-package cache
python -m pytest tests --ignore=tests/contracts --ignore=tests/fork -q -p no:cacheprovider "$@"
bash scripts/forge_test.sh  # forge test: invariants at 500 runs x depth 50, fail_on_revert (foundry.toml)
bash scripts/slither.sh     # static analysis: fails on a High/Medium finding not accepted in slither-triage.json
if [[ -d tests/contracts ]]; then
  ape test tests/contracts --network ethereum:local:test -q -p no:cacheprovider
  # anvil: the same suite with half the random sequences (py-evm runs 200 stateful + 60 model-oracle ones)
  TRIPOD_FUZZ_EXAMPLES=100 TRIPOD_ORACLE_EXAMPLES=30 ape test tests/contracts --network ethereum:local:foundry -q -p no:cacheprovider
fi
if [[ -d tests/fork ]]; then
  ape test tests/fork -q -p no:cacheprovider
fi
