"""scripts/stage_solidity_deps.py stages only the OpenZeppelin sources contracts/ imports, closed under import."""
import importlib.util
import posixpath
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("stage_solidity_deps", ROOT / "scripts" / "stage_solidity_deps.py")
stage = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stage)


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_needed__follows_absolute_relative_and_named_imports_but_nothing_unimported(tmp_path):
    pkg = _package(tmp_path / "oz", {
        "token/ERC20.sol": 'import {IERC20} from "./IERC20.sol";\nimport "../utils/Context.sol";',
        "token/IERC20.sol": "interface IERC20 {}",
        "utils/Context.sol": 'import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";',
        "utils/math/Math.sol": "library Math {}",
        "governance/Governor.sol": "contract Governor {}",
    })
    contracts = _package(tmp_path / "contracts", {
        "A.sol": 'import {ERC20} from "@openzeppelin/contracts/token/ERC20.sol";\nimport "./B.sol";',
        "B.sol": "contract B {}",
        ".cache/openzeppelin/governance/Governor.sol": 'import "@openzeppelin/contracts/governance/Governor.sol";',
    })
    assert stage.needed(pkg, contracts) == {"token/ERC20.sol", "token/IERC20.sol", "utils/Context.sol",
                                            "utils/math/Math.sol"}


def test_needed__on_the_checkout__is_closed_under_import_and_far_below_the_whole_package():
    got = stage.needed()
    assert 10 < len(got) < 100
    for rel in got:
        for imp in stage.imports((stage.PACKAGE / rel).read_text()):
            target = imp[len(stage.PREFIX):] if imp.startswith(stage.PREFIX) else \
                posixpath.normpath(posixpath.join(posixpath.dirname(rel), imp))
            assert target in got, f"{rel} imports {imp}, not staged"
