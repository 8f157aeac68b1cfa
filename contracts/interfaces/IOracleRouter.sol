// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// What the Minter, HedgeLedger and Guardian call on the OracleRouter.
interface IOracleRouter {
    /// USD price of one whole unit of `asset`, 18 decimals. Reverts (named error) if the feed is
    /// missing, stale past its heartbeat and the grace period, non-positive, outside its band, jumped
    /// more than allowed since its previous round, drifted more than allowed over the last rounds, or
    /// if a round it must compare with is missing.
    function price(address asset) external view returns (uint256);

    function isHealthy(address asset) external view returns (bool);
}
