// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

interface IBal {
    function balanceOf(address) external view returns (uint256);
    function totalSupply() external view returns (uint256);
}

/// @notice Test-only: batch raw reads (balances, counters) into one eth_call so the stateful test
/// can check its invariants after every step without a dozen RPC round trips. It returns raw storage
/// reads only; all the accounting is recomputed in Python.
contract ProtocolLens {
    /// @return out the results of `target.staticcall(data[i])`, each decoded as one uint256 word
    function readWords(address[] calldata targets, bytes[] calldata data) external view returns (uint256[] memory out) {
        out = new uint256[](targets.length);
        for (uint256 i = 0; i < targets.length; i++) {
            (bool ok, bytes memory ret) = targets[i].staticcall(data[i]);
            require(ok && ret.length >= 32, "lens: read failed");
            out[i] = abi.decode(ret, (uint256));
        }
    }
}
