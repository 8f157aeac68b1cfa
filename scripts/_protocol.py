"""This checkout's deployer: `sim.chain.deploy` with the contracts Ape just compiled from contracts/.

The deploy code lives in the package (`sim.chain.deploy`, `sim.chain.spec`); this module only binds it
to the working directory's Ape project, so the contract tests (tests/contracts) and `ape run deploy`
exercise the sources as they are now. The replay and the stress kit deploy the package's shipped
artifacts instead (sim/chain/contracts.json, held equal to a fresh compile by tests/package).
The file name starts with an underscore so `ape run` does not list it as a command.
"""
from __future__ import annotations

from pathlib import Path

from ape import project

from sim.chain import deploy as _deploy
from sim.chain.artifacts import Contracts
from sim.chain.deploy import (  # noqa: F401 - re-exported for the contract tests
    PoolInfo, Protocol, add_liquidity, create_pool, market_id, write_deployment)
from sim.chain.evm import MAX_UINT256, Q96, TICK_SPACING, WAD  # noqa: F401
from sim.chain.spec import ProtocolSpec

ROOT = Path(__file__).resolve().parents[1]


def deploy_protocol(admin, params: ProtocolSpec | dict | None = None, **kw) -> Protocol:
    """`sim.chain.deploy.deploy_protocol` from this checkout's compiled contracts; `params`: a spec, or
    overrides of the defaults in the spec's dict layout."""
    spec = params if isinstance(params, ProtocolSpec) else ProtocolSpec.defaults().with_overrides(params or {})
    return _deploy.deploy_protocol(admin, spec, contracts=Contracts.from_project(project), **kw)
