"""The compiled contracts the package deploys, shipped in the wheel as an ethPM v3 manifest.

`sim/chain/contracts.json` holds the ABI and bytecode of every contract compiled from `contracts/`
(the protocol, its interfaces and the test doubles the replay uses: MockERC20, MockAggregator,
ReplayStepper) and of Uniswap v3's Factory and Pool (the npm package's compiled artifacts), with a
sha256 checksum of every source it came from. `sim.chain` deploys from it, so a pip-installed Tripod
needs no checkout, no compiler and no node_modules.

It is generated from the sources (`python scripts/build_artifacts.py`, after any contract change);
`stale_sources(root)` names the sources that changed since (cheap: checksums), and
tests/package/test_artifacts.py holds the shipped file equal to a fresh compile.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

MANIFEST = Path(__file__).with_name("contracts.json")
UNISWAP = {"UniswapV3Factory": "contracts/UniswapV3Factory.sol", "UniswapV3Pool": "contracts/UniswapV3Pool.sol"}
UNISWAP_PACKAGE = Path("node_modules") / "@uniswap" / "v3-core"
_KEEP = ("contractName", "sourceId", "abi", "deploymentBytecode", "runtimeBytecode")


class ArtifactsError(RuntimeError):
    """The shipped manifest is missing or names no such contract."""


class Contracts:
    """Contract types by name, deployable with Ape: `C.Minter` is a ContractContainer, `C.at("Minter", a)`
    a contract at `a`. `Contracts.shipped()` is the package's manifest; `Contracts.from_project(project)`
    the contracts a checkout's Ape project just compiled (Uniswap's still from the manifest)."""

    def __init__(self, types: dict):
        self.types = types  # name -> ethpm_types.ContractType

    @classmethod
    def shipped(cls) -> "Contracts":
        return _shipped()

    @classmethod
    def from_project(cls, project) -> "Contracts":
        own = {name: c.contract_type for name, c in project.load_contracts().items()}
        return cls({**cls.shipped().types, **own})

    def container(self, name: str):
        from ape.contracts import ContractContainer

        if name not in self.types:
            raise ArtifactsError(f"no contract {name!r} in the artifacts ({', '.join(sorted(self.types))})")
        return ContractContainer(self.types[name])

    def __getattr__(self, name: str):
        if name.startswith("_") or name == "types":
            raise AttributeError(name)
        return self.container(name)

    def at(self, name: str, address: str):
        from ape import Contract

        return Contract(address, contract_type=self.types[name])

    def error_selectors(self) -> dict[str, str]:
        """4-byte selector (hex, no 0x) -> custom error name, over every contract."""
        from eth_utils import keccak

        out = {}
        for ct in self.types.values():
            for e in ct.errors:
                sig = f"{e.name}({','.join(i.canonical_type for i in e.inputs)})"
                out[keccak(text=sig)[:4].hex()] = e.name
        return out


@lru_cache(maxsize=1)
def _shipped() -> Contracts:
    from ethpm_types import PackageManifest

    if not MANIFEST.is_file():
        raise ArtifactsError(f"{MANIFEST} is missing: the package was built without its contracts "
                             "(python scripts/build_artifacts.py in a checkout)")
    manifest = PackageManifest.model_validate_json(MANIFEST.read_text())
    return Contracts(dict(manifest.contract_types or {}))


# ----------------------------------------------------------------------------- building (in a checkout)


def source_checksums(root: Path) -> dict[str, str]:
    """sha256 of every source the manifest is built from: contracts/**/*.sol, Uniswap's artifacts,
    ape-config.yaml (compiler version and settings, remappings) and the staged OpenZeppelin version."""
    root = Path(root)
    files = [p for p in (root / "contracts").rglob("*.sol") if ".cache" not in p.parts]
    files += [root / UNISWAP_PACKAGE / "artifacts" / f"{src}/{name}.json" for name, src in UNISWAP.items()]
    files += [root / "ape-config.yaml", root / ".deps" / "openzeppelin.version"]
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(files)}


def stale_sources(root: Path) -> list[str]:
    """Sources added, removed or changed since the shipped manifest was built (empty: up to date)."""
    shipped = json.loads(MANIFEST.read_text()).get("sources", {}) if MANIFEST.is_file() else {}
    now = source_checksums(root)
    was = {k: v["checksum"]["hash"] for k, v in shipped.items()}
    return sorted(k for k in set(now) | set(was) if now.get(k) != was.get(k))


def build(root: Path, version: str) -> dict:
    """The manifest from a fresh compile of `root`'s Ape project plus Uniswap's npm artifacts."""
    from ape import Project

    root = Path(root)
    project = Project(root)
    compiled = project.load_contracts(use_cache=False)  # a fresh compile: a stale .build cache must not leak in
    types = {name: _slim(c.contract_type.model_dump(by_alias=True, mode="json", exclude_none=True))
             for name, c in compiled.items()}
    for name, src in UNISWAP.items():
        art = json.loads((root / UNISWAP_PACKAGE / "artifacts" / src / f"{name}.json").read_text())
        types[name] = {"contractName": name, "sourceId": f"@uniswap/v3-core/{src}", "abi": art["abi"],
                       "deploymentBytecode": {"bytecode": art["bytecode"]},
                       "runtimeBytecode": {"bytecode": art["deployedBytecode"]}}
    solc = project.config.get_config("solidity")
    uni_version = json.loads((root / UNISWAP_PACKAGE / "package.json").read_text())["version"]
    return {
        "manifest": "ethpm/3",
        "name": "tripod",
        "version": version,
        "meta": {"description": "Tripod's contracts as sim.chain deploys them (compiled from contracts/; Uniswap "
                                f"v3-core {uni_version}'s Factory and Pool from npm)", "license": "MIT"},
        "sources": {k: {"checksum": {"algorithm": "sha256", "hash": h}} for k, h in source_checksums(root).items()},
        "compilers": [{"name": "solidity", "version": str(solc.version),
                       "settings": {"evmVersion": solc.evm_version, "optimizer": {"enabled": bool(solc.optimize),
                                                                                   "runs": int(solc.optimization_runs)}},
                       "contractTypes": sorted(n for n in types if n not in UNISWAP)}],
        "contractTypes": dict(sorted(types.items())),
    }


def write(manifest: dict, path: Path = MANIFEST) -> Path:
    """Write atomically (temp file + rename); sorted keys, so a rebuild of the same sources is byte-identical."""
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)
    _shipped.cache_clear()
    return path


def _slim(ct: dict) -> dict:
    return {k: ct[k] for k in _KEEP if k in ct}
