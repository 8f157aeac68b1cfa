"""Stage the Solidity sources of the pinned npm OpenZeppelin package as Ape's local dependency.

Ape 0.8 copies a dependency's whole folder into `contracts/.cache/` on the first compile, and lists only
the first 500 files of the contracts folder (`get_all_files_in_directory(..., max_files=500)`). The npm
package holds 507 files (259 of them compiled JSON artifacts), so a whole copy pushed our own sources
out of Ape's listing, depending on directory order. Only the `.sol` files are staged (248 for 5.7.0),
into `.deps/openzeppelin/` (ape-config.yaml points there), and a stale whole copy in the cache is removed.

Run by scripts/setup.sh and scripts/test.sh; idempotent and quick.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "node_modules" / "@openzeppelin" / "contracts"
STAGED = ROOT / ".deps" / "openzeppelin"
CACHE = ROOT / "contracts" / ".cache" / "openzeppelin"


def sources(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.sol")}


def main() -> int:
    if not PACKAGE.is_dir():
        print(f"stage_solidity_deps: {PACKAGE} is missing: run npm ci (scripts/setup.sh)", file=sys.stderr)
        return 1
    version = json.loads((PACKAGE / "package.json").read_text())["version"]
    wanted = sources(PACKAGE)
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
    # A cache unpacked from the whole npm package (or from another version) is stale: Ape re-unpacks it.
    if CACHE.is_dir() and any(p.is_file() and p.suffix != ".sol" for p in CACHE.rglob("*")):
        shutil.rmtree(CACHE)
    print(f"staged {len(wanted)} OpenZeppelin {version} sources in {STAGED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
