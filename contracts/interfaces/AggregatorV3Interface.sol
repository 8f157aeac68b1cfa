// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// Chainlink's price feed interface (the five functions of the chainlink npm package's AggregatorV3Interface,
/// declared here because that npm package cannot be installed offline).
interface AggregatorV3Interface {
    function decimals() external view returns (uint8);

    function description() external view returns (string memory);

    function version() external view returns (uint256);

    function getRoundData(uint80 _roundId)
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}
