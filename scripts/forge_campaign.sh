#!/usr/bin/env bash
# The long invariant campaign: the same handler and properties as CI, all checked after every call
# (invariant_all), at 10,000 runs x depth 50 (foundry.toml's `campaign` profile, its own seed).
# Prints the figures for the report.
set -euo pipefail
cd "$(dirname "$0")/.."
FOUNDRY_PROFILE=campaign exec bash scripts/forge_test.sh "$@"
