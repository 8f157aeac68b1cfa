"""Stage the OpenZeppelin sources our contracts import as Ape's local dependency.

Ape 0.8 copies a dependency's whole folder into `contracts/.cache/` on the first compile, and lists only
the first 500 files of the contracts folder (`get_all_files_in_directory(..., max_files=500)`). The npm
package holds 507 files (259 of them compiled JSON artifacts), so a whole copy pushed our own sources
out of Ape's listing, depending on directory order. Even its 248 `.sol` files plus our own came to 275,
over half the limit. So only the sources `contracts/` imports, with everything they import in turn, are
staged (about 30 for 5.7.0) into `.deps/openzeppelin/` (ape-config.yaml points there), and an Ape cache
that differs from the staged set is removed (Ape unpacks it again on the next compile).

Run by scripts/setup.sh and scripts/test.sh; idempotent and quick. After adding an OpenZeppelin import
to a contract, run it again (`python scripts/stage_solidity_deps.py`). Forge and Slither read
node_modules directly (foundry.toml, scripts/slither.sh).
"""
from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "node_modules" / "@openzeppelin" / "contracts"
PREFIX = "@openzeppelin/contracts/"
CONTRACTS = ROOT / "contracts"
STAGED = ROOT / ".deps" / "openzeppelin"
CACHE = CONTRACTS / ".cache" / "openzeppelin"
APE_PACKAGES = Path(os.environ.get("APE_DATA_FOLDER", ROOT / ".ape")) / "packages"  # scripts/env.sh sets it per checkout
IMPORT = re.compile(r'^\s*import\s+(?:[^"\']*\sfrom\s+)?["\']([^"\']+)["\']', re.M)


def imports(text: str) -> list[str]:
    return IMPORT.findall(text)


def needed(package: Path = PACKAGE, contracts: Path = CONTRACTS) -> set[str]:
    """Paths (relative to the package) of the OpenZeppelin sources `contracts` imports, transitively."""
    todo = [imp[len(PREFIX):] for src in contracts.rglob("*.sol") if ".cache" not in src.relative_to(contracts).parts
            for imp in imports(src.read_text()) if imp.startswith(PREFIX)]
    seen: set[str] = set()
    while todo:
        rel = todo.pop()
        if rel in seen:
            continue
        if not (package / rel).is_file():
            raise FileNotFoundError(f"{PREFIX}{rel} is imported but not in {package}")
        seen.add(rel)
        for imp in imports((package / rel).read_text()):
            if imp.startswith(PREFIX):
                todo.append(imp[len(PREFIX):])
            elif imp.startswith("."):
                todo.append(posixpath.normpath(posixpath.join(posixpath.dirname(rel), imp)))
    return seen


def sources(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.sol")}


def main(quiet: bool = False) -> int:
    """Stage (idempotent); `quiet` prints only errors (the Ape suites' conftests stage before their compile)."""
    if not PACKAGE.is_dir():
        print(f"stage_solidity_deps: {PACKAGE} is missing: run npm ci (scripts/setup.sh)", file=sys.stderr)
        return 1
    version = json.loads((PACKAGE / "package.json").read_text())["version"]
    try:
        wanted = {rel: (PACKAGE / rel).read_bytes() for rel in sorted(needed())}
    except FileNotFoundError as err:
        print(f"stage_solidity_deps: {err}", file=sys.stderr)
        return 1
    stamp = STAGED.with_name("openzeppelin.version")
    if not STAGED.is_dir() or sources(STAGED) != wanted or not stamp.is_file() or stamp.read_text().strip() != version:
        tmp = STAGED.with_name(STAGED.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        for rel, data in wanted.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(data)
        shutil.rmtree(STAGED, ignore_errors=True)
        tmp.rename(STAGED)
        stamp.write_text(version + "\n")
    # A copy made from another staging (the whole npm package, another version, other imports) is stale:
    # Ape's unpacked cache in contracts/ and its installed package (same name and version, so Ape keeps it)
    if CACHE.is_dir() and sources(CACHE) != wanted:
        shutil.rmtree(CACHE)
    for installed in APE_PACKAGES.glob("projects/*_.deps_openzeppelin"):
        if any(sources(v) != wanted for v in installed.iterdir() if v.is_dir()):
            for kind in ("projects", "api", "manifests"):
                shutil.rmtree(APE_PACKAGES / kind / installed.name, ignore_errors=True)
    if not quiet:
        print(f"staged {len(wanted)} OpenZeppelin {version} sources in {STAGED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
