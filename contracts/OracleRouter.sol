// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";
import {IOracleRouter} from "./interfaces/IOracleRouter.sol";
import {ZeroAddress} from "./Errors.sol";

/// @title OracleRouter: every price the protocol uses goes through here
/// @notice One Chainlink-style feed per asset with four checks in one place: staleness (the feed's
/// heartbeat plus a router-wide grace period, so a round that is a little late is not an outage), a
/// hard price band [minPrice, maxPrice] that every feed must have, a maximum jump from the previous
/// round and a maximum drift from the round DRIFT_ROUNDS back (a walk of small jumps is bounded too).
/// A round the checks need that is missing (an aggregator phase change) fails closed. A failing check
/// reverts with a named error; a zero or negative answer is never returned.
contract OracleRouter is AccessControl, IOracleRouter {
    bytes32 public constant ORACLE_ADMIN_ROLE = keccak256("ORACLE_ADMIN_ROLE");
    uint256 internal constant BPS = 10_000;
    /// Rounds back the drift bound looks (one extra read per price).
    uint80 public constant DRIFT_ROUNDS = 6;
    uint32 public constant MAX_GRACE_PERIOD = 1 hours;

    struct Feed {
        AggregatorV3Interface aggregator;
        uint32 heartbeat; // seconds between the feed's rounds at the latest (its published heartbeat)
        uint16 maxDeviationBps; // largest allowed move from the previous round
        uint16 maxDriftBps; // largest allowed move from the round DRIFT_ROUNDS back
        uint8 decimals; // the aggregator's decimals, cached
        uint256 minPrice; // 18 decimals, > 0
        uint256 maxPrice; // 18 decimals, > minPrice
    }

    mapping(address asset => Feed) public feeds;
    /// Seconds a round may be late beyond its heartbeat before the price is stale.
    uint32 public gracePeriod;

    error FeedNotSet(address asset);
    error InvalidPrice(address asset, int256 answer);
    error StalePrice(address asset, uint256 updatedAt, uint256 heartbeat);
    error IncompleteRound(address asset, uint80 roundId, uint80 answeredInRound);
    error PriceOutOfBounds(address asset, uint256 price, uint256 minPrice, uint256 maxPrice);
    error PriceDeviation(address asset, uint256 price, uint256 previousPrice, uint256 maxDeviationBps);
    error PriceDrift(address asset, uint256 price, uint256 referencePrice, uint256 maxDriftBps);
    error RoundMissing(address asset, uint80 roundId);
    error InvalidFeedConfig();
    error InvalidGracePeriod(uint32 gracePeriod);

    event FeedSet(
        address indexed asset,
        address indexed aggregator,
        uint32 heartbeat,
        uint16 maxDeviationBps,
        uint16 maxDriftBps,
        uint256 minPrice,
        uint256 maxPrice
    );
    event FeedRemoved(address indexed asset);
    event GracePeriodSet(uint32 gracePeriod);

    constructor(address admin, uint32 gracePeriod_) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ORACLE_ADMIN_ROLE, admin);
        _setGracePeriod(gracePeriod_);
    }

    /// @notice Every feed has a heartbeat, a per-round jump bound, a drift bound and a price band.
    function setFeed(
        address asset,
        AggregatorV3Interface aggregator,
        uint32 heartbeat,
        uint16 maxDeviationBps,
        uint16 maxDriftBps,
        uint256 minPrice,
        uint256 maxPrice
    ) external onlyRole(ORACLE_ADMIN_ROLE) {
        if (asset == address(0) || address(aggregator) == address(0)) revert ZeroAddress();
        if (
            heartbeat == 0 || maxDeviationBps == 0 || maxDeviationBps > BPS || maxDriftBps == 0 || maxDriftBps > BPS
                || minPrice == 0 || maxPrice <= minPrice
        ) revert InvalidFeedConfig();
        feeds[asset] = Feed(aggregator, heartbeat, maxDeviationBps, maxDriftBps, aggregator.decimals(), minPrice, maxPrice);
        emit FeedSet(asset, address(aggregator), heartbeat, maxDeviationBps, maxDriftBps, minPrice, maxPrice);
    }

    function setGracePeriod(uint32 gracePeriod_) external onlyRole(ORACLE_ADMIN_ROLE) {
        _setGracePeriod(gracePeriod_);
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
        uint256 maxAge = uint256(f.heartbeat) + gracePeriod;
        if (updatedAt == 0 || updatedAt > block.timestamp || block.timestamp - updatedAt > maxAge) {
            revert StalePrice(asset, updatedAt, maxAge);
        }
        if (answeredInRound < roundId) revert IncompleteRound(asset, roundId, answeredInRound);
        uint256 p = _scale(uint256(answer), f.decimals);
        if (p < f.minPrice || p > f.maxPrice) revert PriceOutOfBounds(asset, p, f.minPrice, f.maxPrice);
        if (roundId > 1) {
            uint256 prev = _roundPrice(f, asset, roundId - 1);
            if (_moveBps(p, prev) > f.maxDeviationBps) revert PriceDeviation(asset, p, prev, f.maxDeviationBps);
            // The first rounds of a feed compare with its first round.
            uint256 ref = roundId > DRIFT_ROUNDS ? _roundPrice(f, asset, roundId - DRIFT_ROUNDS) : _roundPrice(f, asset, 1);
            if (_moveBps(p, ref) > f.maxDriftBps) revert PriceDrift(asset, p, ref, f.maxDriftBps);
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

    /// @dev A round the checks compare with, scaled; a missing or non-positive one fails closed (an
    /// aggregator phase change leaves the previous round id empty: the admin re-points the feed).
    function _roundPrice(Feed memory f, address asset, uint80 roundId) internal view returns (uint256) {
        try f.aggregator.getRoundData(roundId) returns (uint80, int256 answer, uint256, uint256 updatedAt, uint80) {
            if (answer <= 0 || updatedAt == 0) revert RoundMissing(asset, roundId);
            return _scale(uint256(answer), f.decimals);
        } catch {
            revert RoundMissing(asset, roundId);
        }
    }

    /// @dev |p - ref| / ref in bps, rounded up (a move a hair above the bound is above it).
    function _moveBps(uint256 p, uint256 ref) internal pure returns (uint256) {
        uint256 diff = p > ref ? p - ref : ref - p;
        return (diff * BPS + ref - 1) / ref;
    }

    function _setGracePeriod(uint32 gracePeriod_) internal {
        if (gracePeriod_ > MAX_GRACE_PERIOD) revert InvalidGracePeriod(gracePeriod_);
        gracePeriod = gracePeriod_;
        emit GracePeriodSet(gracePeriod_);
    }

    function _scale(uint256 answer, uint8 decimals) internal pure returns (uint256) {
        if (decimals == 18) return answer;
        if (decimals < 18) return answer * 10 ** (18 - decimals);
        return answer / 10 ** (decimals - 18);
    }
}
