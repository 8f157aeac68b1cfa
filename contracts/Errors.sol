// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// Errors shared by several Tripod contracts (file-level so each contract's ABI carries them).
error ZeroAmount();
error ZeroAddress();
error Paused();
error SlippageExceeded(uint256 amountOut, uint256 minAmountOut);
error FeeTooHigh(uint256 feeBps, uint256 maxFeeBps);

/// @notice Marker so this file yields a compiler artifact: Ape's compile cache tracks sources by the
/// contract types they produce, and a file of free errors alone would be recompiled on every run.
library TripodErrors {
    uint256 internal constant VERSION = 1;
}
