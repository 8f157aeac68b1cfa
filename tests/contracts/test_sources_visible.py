"""Project layout (contract layer): after a compile, Ape still sees every source in contracts/.

Ape 0.8 lists only the first 500 files of the contracts folder, and ape-solidity unpacks dependencies
into `contracts/.cache/`. When that cache held the whole npm OpenZeppelin package (507 files), our
own sources under contracts/test, contracts/interfaces and contracts/periphery dropped out of the
listing depending on the file system's directory order, and the second `ape test` on a checkout
failed with "'LocalProject' object has no attribute 'MockERC20'".
"""

import subprocess
from pathlib import Path

from ape import project

ROOT = Path(__file__).resolve().parents[2]
APE_LISTING_LIMIT = 500  # ape.managers.project: get_all_files_in_directory(contracts_folder, max_files=500)


def _tracked_sources() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z", "--", "contracts"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    return [ROOT / p for p in out.split("\0") if p.endswith(".sol")]


def test_every_tracked_source__after_a_compile__is_visible_to_ape():
    project.load_contracts()  # a compile (or the cached one): the dependency cache is unpacked by now
    tracked = _tracked_sources()
    assert len(tracked) > 10
    seen = {Path(p).resolve() for p in project.sources.paths}
    missing = [str(p.relative_to(ROOT)) for p in tracked if p.resolve() not in seen]
    assert not missing, f"sources Ape does not list: {missing}"


def test_contracts_folder__with_its_dependency_cache__stays_well_under_apes_listing_limit():
    folder = Path(project.contracts_folder)
    files = [p for p in folder.rglob("*.*") if p.is_file()]
    # Headroom, not just "< 500": a new dependency or a few dozen contracts must not bring the cliff back.
    assert len(files) < APE_LISTING_LIMIT // 2, f"{len(files)} files under {folder} (Ape lists {APE_LISTING_LIMIT})"
    assert not any(p.suffix == ".json" for p in files), "compiled artifacts inside the contracts folder"


def test_named_contracts_from_every_subfolder__resolve_on_the_project():
    for name in ("MockERC20", "ReplayStepper", "PoolRouter", "HUSD", "Minter"):
        assert getattr(project, name).contract_type.name == name
