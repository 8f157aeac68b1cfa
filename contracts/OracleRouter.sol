// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";
import {IOracleRouter} from "./interfaces/IOracleRouter.sol";
import {ZeroAddress} from "./Errors.sol";

/// @title OracleRouter: every price the protocol uses goes through here
/// @notice One Chainlink-style feed per asset with three checks in one place: staleness
/// (heartbeat), a hard price band [minPrice, maxPrice] and a maximum jump from the previous round.
/// A failing check reverts with a named error; a zero or negative answer is never returned.
contract OracleRouter is AccessControl, IOracleRouter {
    bytes32 public constant ORACLE_ADMIN_ROLE = keccak256("ORACLE_ADMIN_ROLE");
    uint256 internal constant BPS = 10_000;

    struct Feed {
        AggregatorV3Interface aggregator;
        uint32 heartbeat; // seconds a round may age before it is stale
        uint16 maxDeviationBps; // largest allowed move from the previous round; 0 disables
        uint8 decimals; // the aggregator's decimals, cached
        uint256 minPrice; // 18 decimals; 0 disables
        uint256 maxPrice; // 18 decimals; 0 disables
    }

    mapping(address asset => Feed) public feeds;

    error FeedNotSet(address asset);
    error InvalidPrice(address asset, int256 answer);
    error StalePrice(address asset, uint256 updatedAt, uint256 heartbeat);
    error IncompleteRound(address asset, uint80 roundId, uint80 answeredInRound);
    error PriceOutOfBounds(address asset, uint256 price, uint256 minPrice, uint256 maxPrice);
    error PriceDeviation(address asset, uint256 price, uint256 previousPrice, uint256 maxDeviationBps);
    error InvalidFeedConfig();

    event FeedSet(
        address indexed asset,
        address indexed aggregator,
        uint32 heartbeat,
        uint16 maxDeviationBps,
        uint256 minPrice,
        uint256 maxPrice
    );
    event FeedRemoved(address indexed asset);

    constructor(address admin) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ORACLE_ADMIN_ROLE, admin);
    }

    function setFeed(
        address asset,
        AggregatorV3Interface aggregator,
        uint32 heartbeat,
        uint16 maxDeviationBps,
        uint256 minPrice,
        uint256 maxPrice
    ) external onlyRole(ORACLE_ADMIN_ROLE) {
        if (asset == address(0) || address(aggregator) == address(0)) revert ZeroAddress();
        if (heartbeat == 0 || maxDeviationBps > BPS || (maxPrice != 0 && maxPrice < minPrice)) {
            revert InvalidFeedConfig();
        }
        feeds[asset] = Feed(aggregator, heartbeat, maxDeviationBps, aggregator.decimals(), minPrice, maxPrice);
        emit FeedSet(asset, address(aggregator), heartbeat, maxDeviationBps, minPrice, maxPrice);
    }

    function removeFeed(address asset) external onlyRole(ORACLE_ADMIN_ROLE) {
        delete feeds[asset];
        emit FeedRemoved(asset);
    }

    /// @inheritdoc IOracleRouter
    function price(address asset) public view returns (uint256) {
        Feed memory f = feeds[asset];
        if (address(f.aggregator) == address(0)) revert FeedNotSet(asset);
        (uint80 roundId, int256 answer,, uint256 updatedAt, uint80 answeredInRound) = f.aggregator.latestRoundData();
        if (answer <= 0) revert InvalidPrice(asset, answer);
        if (updatedAt == 0 || updatedAt > block.timestamp || block.timestamp - updatedAt > f.heartbeat) {
            revert StalePrice(asset, updatedAt, f.heartbeat);
        }
        if (answeredInRound < roundId) revert IncompleteRound(asset, roundId, answeredInRound);
        uint256 p = _scale(uint256(answer), f.decimals);
        if ((f.minPrice != 0 && p < f.minPrice) || (f.maxPrice != 0 && p > f.maxPrice)) {
            revert PriceOutOfBounds(asset, p, f.minPrice, f.maxPrice);
        }
        if (f.maxDeviationBps != 0 && roundId > 1) {
            // The previous round may be missing (aggregator phase change): then there is nothing to compare.
            try f.aggregator.getRoundData(roundId - 1) returns (uint80, int256 prevAnswer, uint256, uint256, uint80) {
                if (prevAnswer > 0) {
                    uint256 prev = _scale(uint256(prevAnswer), f.decimals);
                    uint256 diff = p > prev ? p - prev : prev - p;
                    if (diff * BPS > prev * f.maxDeviationBps) {
                        revert PriceDeviation(asset, p, prev, f.maxDeviationBps);
                    }
                }
            } catch {}
        }
        return p;
    }

    /// @inheritdoc IOracleRouter
    function isHealthy(address asset) external view returns (bool) {
        try this.price(asset) returns (uint256) {
            return true;
        } catch {
            return false;
        }
    }

    function _scale(uint256 answer, uint8 decimals) internal pure returns (uint256) {
        if (decimals == 18) return answer;
        if (decimals < 18) return answer * 10 ** (18 - decimals);
        return answer / 10 ** (decimals - 18);
    }
}
