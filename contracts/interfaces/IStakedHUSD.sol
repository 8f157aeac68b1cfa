// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// What the Minter calls on the sHUSD vault: staker rewards into its vesting path.
interface IStakedHUSD {
    /// Pull `amount` HUSD from the caller (REWARDER_ROLE); it vests over the vault's vesting period.
    function transferInRewards(uint256 amount) external;
}
