"""Compile contracts/ and write the manifest the package ships (sim/chain/contracts.json).

    python scripts/build_artifacts.py            # after any change to contracts/ or ape-config.yaml
    python scripts/build_artifacts.py --check    # exit 1 naming the sources changed since the last build

A thin wrapper around `sim.chain.artifacts` (run from the checkout root, with scripts/env.sh sourced).
"""
from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

from sim.chain import artifacts

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check that the shipped manifest is up to date")
    args = ap.parse_args(argv)
    stale = artifacts.stale_sources(ROOT)
    if args.check:
        if stale:
            print(f"{artifacts.MANIFEST.relative_to(ROOT)} is out of date ({len(stale)} sources changed: "
                  f"{', '.join(stale[:5])}{' ...' if len(stale) > 5 else ''}): run python scripts/build_artifacts.py",
                  file=sys.stderr)
            return 1
        print(f"{artifacts.MANIFEST.relative_to(ROOT)} is up to date")
        return 0
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    path = artifacts.write(artifacts.build(ROOT, version))
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} kB, {len(stale)} sources changed since the last build)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
