#!/usr/bin/env bash
# The whole test suite, as CI runs it: simulator tests, then the Ape contract suite on py-evm and anvil.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
python scripts/stage_solidity_deps.py >/dev/null  # idempotent; also clears a stale whole-package cache
python -m pytest tests --ignore=tests/contracts --ignore=tests/fork -q -p no:cacheprovider "$@"
if [[ -d tests/contracts ]]; then
  ape test tests/contracts --network ethereum:local:test -q -p no:cacheprovider
  ape test tests/contracts --network ethereum:local:foundry -q -p no:cacheprovider
fi
if [[ -d tests/fork ]]; then
  ape test tests/fork -q -p no:cacheprovider
fi
