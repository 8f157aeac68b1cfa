"""Constants mirrored from the Solidity sources (kept in one place for the tests)."""

from enum import Enum

from eth_utils import keccak

BPS = 10_000
WAD = 10**18
HOUR = 3_600
DAY = 86_400


class Role(bytes, Enum):
    """AccessControl role ids, as the contracts compute them (keccak256 of the name)."""

    DEFAULT_ADMIN = b"\x00" * 32
    MINTER = keccak(text="MINTER_ROLE")
    REDEEMER = keccak(text="REDEEMER_ROLE")
    GUARDIAN = keccak(text="GUARDIAN_ROLE")
    TREASURER = keccak(text="TREASURER_ROLE")
    OPERATOR = keccak(text="OPERATOR_ROLE")
    KEEPER = keccak(text="KEEPER_ROLE")
    REWARDER = keccak(text="REWARDER_ROLE")
    ORACLE_ADMIN = keccak(text="ORACLE_ADMIN_ROLE")
    FUNDING_PAYER = keccak(text="FUNDING_PAYER_ROLE")
    COVERER = keccak(text="COVERER_ROLE")
    BUYBACK = keccak(text="BUYBACK_ROLE")
    BURNER = keccak(text="BURNER_ROLE")
