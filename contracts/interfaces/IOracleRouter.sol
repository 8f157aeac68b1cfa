// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

interface IOracleRouter {
    /// USD price of one whole unit of `asset`, 18 decimals. Reverts (named error) if the feed is
    /// missing, stale, non-positive, out of its bounds or jumped more than allowed since its last round.
    function price(address asset) external view returns (uint256);

    function isHealthy(address asset) external view returns (bool);
}

interface IHedgeLedger {
    function isHedged(address asset) external view returns (bool);

    function checkDelta(address asset) external view;
}

interface IMintable {
    function mint(address to, uint256 amount) external;

    function burnFrom(address from, uint256 amount) external;
}

interface IPausable {
    function setMintPaused(bool paused) external;

    function setRedeemPaused(bool paused) external;
}
