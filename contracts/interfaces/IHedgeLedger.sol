// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// What the Minter and the Guardian call on the HedgeLedger.
interface IHedgeLedger {
    function isHedged(address asset) external view returns (bool);

    /// Reverts if a mint of `asset` would leave its sleeve outside the drift bound, or its hedge
    /// report is older than the maximum report age.
    function checkDelta(address asset) external view;

    function isCustodian(address account) external view returns (bool);

    /// Backing at strict oracle prices (reverts on an unhealthy feed); hedge equity from fresh reports.
    function totalBacking() external view returns (uint256);

    /// Backing that counts no unrealised hedge gain (and no gain from a stale report): what rewards
    /// may be minted against. Reverts on an unhealthy feed.
    function realisedBacking() external view returns (uint256);

    /// Backing that never reverts: an asset without a healthy price counts zero, `unpriced` of them.
    function backingFloor() external view returns (uint256 backing, uint256 unpriced);
}
