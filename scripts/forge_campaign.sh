#!/usr/bin/env bash
# The long invariant campaign: the same suite as CI at 10,000 runs x depth 50 per invariant (foundry.toml's
# `campaign` profile, its own seed). About 30 min on 2 quiet cores; prints the figures for the report.
set -euo pipefail
cd "$(dirname "$0")/.."
FOUNDRY_PROFILE=campaign exec bash scripts/forge_test.sh "$@"
