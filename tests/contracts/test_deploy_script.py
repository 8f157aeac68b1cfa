"""Script (contract layer): `ape run deploy` end to end on the current network, into a temp file."""

import json

from ape import Contract


def test_deploy_main__on_current_network__writes_json_the_simulator_can_read(tmp_path, monkeypatch, chain):
    from scripts import deploy

    out = tmp_path / "deployment.json"
    overrides = tmp_path / "params.json"
    overrides.write_text(json.dumps({"minter": {"mint_fee_bps": 3}, "pools": {"HUSD/USDC": {"husd": 500_000, "usdc": 500_000}}}))
    monkeypatch.setenv("TRIPOD_DEPLOYMENT_FILE", str(out))
    monkeypatch.setenv("TRIPOD_DEPLOY_PARAMS", str(overrides))

    deploy.main()

    data = json.loads(out.read_text())
    assert data["chain_id"] == chain.chain_id
    assert set(data["contracts"]) >= {"husd", "shusd", "minter", "oracle", "ledger", "reserve", "psm", "hyb", "backstop", "guardian", "factory"}
    minter = Contract(data["contracts"]["minter"])
    assert minter.mintFeeBps() == 3 == data["params"]["minter"]["mint_fee_bps"]  # overrides applied and recorded
    assert data["params"]["minter"]["redeem_fee_bps"] == 10  # defaults kept
    pool = data["pools"]["HUSD/USDC"]
    assert pool["fee"] == 100 and pool["tick_lower"] < pool["tick_upper"] and int(pool["liquidity"]) > 0
    assert data["tokens"]["USDC"]["decimals"] == 6
