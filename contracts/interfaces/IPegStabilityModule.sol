// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// What the Guardian calls on the PegStabilityModule.
interface IPegStabilityModule {
    function setPaused(bool paused_) external;

    function paused() external view returns (bool);
}
