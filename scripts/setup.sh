#!/usr/bin/env bash
# One command from a fresh machine (Python 3.11, Node 20) to a working install.
# Python deps (exact pins in requirements.lock) into .venv; npm toolchain (solcjs, anvil,
# OpenZeppelin, Uniswap v3 artifacts, forge) from package-lock.json; the solc shim for py-solc-x and forge;
# Slither in .venv-slither (requirements-slither.lock).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), "Tripod needs Python 3.11"'

[[ -x .venv/bin/python ]] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade "pip>=24"
.venv/bin/python -m pip install -q -r requirements.lock
.venv/bin/python -m pip install -q --no-deps -e .

# Debian's chromium for the browser tests (Playwright drives it: Playwright's own browser download cannot work here)
if ! command -v chromium >/dev/null; then
  if [[ $(id -u) == 0 ]]; then SUDO=""; else SUDO=$(command -v sudo || true); fi
  if [[ $(id -u) == 0 || -n $SUDO ]]; then
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: chromium missing and no root: the browser tests (tests/browser) will fail" >&2
  fi
fi

# Slither (static analysis, scripts/slither.sh) in a venv of its own: its web3/eth-utils pins conflict with Ape's.
[[ -x .venv-slither/bin/python ]] || "$PY" -m venv .venv-slither
.venv-slither/bin/python -m pip install -q --upgrade "pip>=24"
.venv-slither/bin/python -m pip install -q -r requirements-slither.lock

if [[ -f package-lock.json ]]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi

source scripts/env.sh
python scripts/stage_solidity_deps.py  # OpenZeppelin's .sol files for Ape, outside the contracts folder
mkdir -p "$APE_DATA_FOLDER" "$SOLCX_BINARY_PATH" "$MPLCONFIGDIR"
if [[ -f scripts/install_solc.sh ]]; then bash scripts/install_solc.sh; fi
echo "setup done: source scripts/env.sh (or use .venv/bin/tripod)"
