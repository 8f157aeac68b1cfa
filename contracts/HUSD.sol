// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ZeroAmount, ZeroAddress} from "./Errors.sol";

/// @title HUSD, the hybrid dollar
/// @notice ERC20 with EIP-2612 permit. Only holders of MINTER_ROLE (the Minter and the PSM) mint and
/// burn; a BURNER_ROLE holder (the ReserveFund, for the HUSD it buys back) can only burn its own.
/// Lifetime minted and burned totals are kept so that supply == minted - burned is checkable.
contract HUSD is ERC20, ERC20Permit, AccessControl {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    bytes32 public constant BURNER_ROLE = keccak256("BURNER_ROLE");

    uint256 public totalMinted;
    uint256 public totalBurned;

    constructor(address admin) ERC20("Hybrid USD", "HUSD") ERC20Permit("Hybrid USD") {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        if (amount == 0) revert ZeroAmount();
        totalMinted += amount;
        _mint(to, amount);
    }

    /// @notice Burn `amount` of `from`'s HUSD; a minter burning someone else's balance spends allowance.
    function burnFrom(address from, uint256 amount) external onlyRole(MINTER_ROLE) {
        if (amount == 0) revert ZeroAmount();
        if (from != msg.sender) _spendAllowance(from, msg.sender, amount);
        totalBurned += amount;
        _burn(from, amount);
    }

    /// @notice Burn `amount` of the caller's own HUSD (the reserve's buy-backs): no mint right comes with it.
    function burn(uint256 amount) external onlyRole(BURNER_ROLE) {
        if (amount == 0) revert ZeroAmount();
        totalBurned += amount;
        _burn(msg.sender, amount);
    }
}
