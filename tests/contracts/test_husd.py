"""Unit (contract layer): HUSD — minter-only mint/burn, supply bookkeeping, EIP-2612 permit."""

import ape
from eth_account import Account
from eth_account.messages import encode_typed_data

from utils.checks import check_supply_accounting
from utils.constants import Role


def test_mint__by_minter_role__increases_supply_and_lifetime_total(husd, gov, fish):
    husd.grantRole(Role.MINTER.value, gov, sender=gov)
    supply, minted = husd.totalSupply(), husd.totalMinted()
    tx = husd.mint(fish, 123, sender=gov)
    assert husd.balanceOf(fish) == 123
    assert husd.totalSupply() == supply + 123 and husd.totalMinted() == minted + 123
    ev = tx.decode_logs(husd.Transfer)[0]
    assert ev["from"] == "0x" + "00" * 20 and ev.to == fish.address and ev.value == 123
    check_supply_accounting(husd)


def test_mint__without_minter_role__reverts_AccessControlUnauthorizedAccount(husd, fish):
    with ape.reverts(husd.AccessControlUnauthorizedAccount, account=fish.address, neededRole=Role.MINTER.value):
        husd.mint(fish, 1, sender=fish)


def test_mint__with_zero_amount__reverts_ZeroAmount(husd, gov, fish):
    husd.grantRole(Role.MINTER.value, gov, sender=gov)
    with ape.reverts(husd.ZeroAmount):
        husd.mint(fish, 0, sender=gov)


def test_burn_from__other_account_without_allowance__reverts_ERC20InsufficientAllowance(husd, gov, fish):
    husd.grantRole(Role.MINTER.value, gov, sender=gov)
    husd.mint(fish, 10, sender=gov)
    with ape.reverts(husd.ERC20InsufficientAllowance, spender=gov.address, allowance=0, needed=10):
        husd.burnFrom(fish, 10, sender=gov)
    husd.approve(gov, 10, sender=fish)
    husd.burnFrom(fish, 10, sender=gov)
    assert husd.balanceOf(fish) == 0
    check_supply_accounting(husd)


def _permit_signature(husd, owner, spender, value, nonce, deadline, chain_id):
    data = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {"name": "Hybrid USD", "version": "1", "chainId": chain_id, "verifyingContract": husd.address},
        "message": {"owner": owner.address, "spender": spender.address, "value": value, "nonce": nonce, "deadline": deadline},
    }
    signed = Account.sign_message(encode_typed_data(full_message=data), owner.private_key)
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


def test_permit__with_valid_signature__sets_allowance_without_owner_tx(husd, staker, fish, chain):
    deadline = chain.pending_timestamp + 3_600
    v, r, s = _permit_signature(husd, staker, fish, 10**18, husd.nonces(staker), deadline, chain.chain_id)
    husd.permit(staker, fish, 10**18, deadline, v, r, s, sender=fish)
    assert husd.allowance(staker, fish) == 10**18
    assert husd.nonces(staker) == 1


def test_permit__after_deadline__reverts_ERC2612ExpiredSignature(husd, staker, fish, chain):
    deadline = chain.pending_timestamp - 1
    v, r, s = _permit_signature(husd, staker, fish, 1, husd.nonces(staker), deadline, chain.chain_id)
    with ape.reverts(husd.ERC2612ExpiredSignature):
        husd.permit(staker, fish, 1, deadline, v, r, s, sender=fish)


def test_permit__signed_by_someone_else__reverts_ERC2612InvalidSigner(husd, staker, fish, chain):
    deadline = chain.pending_timestamp + 3_600
    v, r, s = _permit_signature(husd, fish, fish, 1, husd.nonces(staker), deadline, chain.chain_id)
    with ape.reverts(husd.ERC2612InvalidSigner):
        husd.permit(staker, fish, 1, deadline, v, r, s, sender=fish)
