// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// What the Guardian (and keepers) call on the Minter.
interface IMinter {
    function setMintPaused(bool paused) external;

    function setRedeemPaused(bool paused) external;

    function lowerMintCaps(uint256 mintPerBlock, uint256 mintPerHour) external;

    function mintPaused() external view returns (bool);

    function redeemPaused() external view returns (bool);
}
