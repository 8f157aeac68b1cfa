// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Test-only: run several calls in one transaction (so one block), bubbling up the first
/// failure's revert data unchanged, so tests can hit per-block caps and see the contract's own error.
contract Batcher {
    struct Call {
        address target;
        bytes data;
    }

    function execute(Call[] calldata calls) external returns (bytes[] memory results) {
        results = new bytes[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            (bool ok, bytes memory ret) = calls[i].target.call(calls[i].data);
            if (!ok) {
                assembly {
                    revert(add(ret, 32), mload(ret))
                }
            }
            results[i] = ret;
        }
    }
}
