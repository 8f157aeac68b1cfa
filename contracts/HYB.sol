// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Capped} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Capped.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ZeroAmount, ZeroAddress} from "./Errors.sol";

/// @title HYB, the backstop / governance token
/// @notice Emission is capped twice: a hard supply cap (ERC20Capped) and a per-period emission
/// budget, so a compromised minter cannot dilute holders faster than the budget allows.
contract HYB is ERC20Capped, AccessControl {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    uint256 public constant EMISSION_PERIOD = 1 days;
    uint256 public emissionPerPeriod;
    mapping(uint256 period => uint256 minted) public mintedInPeriod;

    error EmissionBudgetExceeded(uint256 requested, uint256 remaining);

    event EmissionPerPeriodSet(uint256 emissionPerPeriod);

    /// @param genesisRecipient receives `genesisAmount` at deployment (treasury / pool seed), outside the budget
    constructor(address admin, uint256 cap_, uint256 emissionPerPeriod_, address genesisRecipient, uint256 genesisAmount)
        ERC20("Hybrid Backstop", "HYB")
        ERC20Capped(cap_)
    {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (genesisAmount != 0) _mint(genesisRecipient, genesisAmount);
        emissionPerPeriod = emissionPerPeriod_;
        emit EmissionPerPeriodSet(emissionPerPeriod_);
    }

    function setEmissionPerPeriod(uint256 emissionPerPeriod_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emissionPerPeriod = emissionPerPeriod_;
        emit EmissionPerPeriodSet(emissionPerPeriod_);
    }

    function remainingEmission() public view returns (uint256) {
        uint256 used = mintedInPeriod[block.timestamp / EMISSION_PERIOD];
        return used >= emissionPerPeriod ? 0 : emissionPerPeriod - used;
    }

    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        if (amount == 0) revert ZeroAmount();
        uint256 remaining = remainingEmission();
        if (amount > remaining) revert EmissionBudgetExceeded(amount, remaining);
        mintedInPeriod[block.timestamp / EMISSION_PERIOD] += amount;
        _mint(to, amount); // ERC20Capped reverts with ERC20ExceededCap past the hard cap
    }
}
