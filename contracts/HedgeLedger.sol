// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IOracleRouter} from "./interfaces/IOracleRouter.sol";
import {IHedgeLedger} from "./interfaces/IHedgeLedger.sol";
import {ZeroAddress} from "./Errors.sol";

/// @title HedgeLedger: the off-chain short perp legs, reported on chain
/// @notice An operator reports each hedge (short notional, margin, unrealized PnL, venue). The net
/// delta of a hedged sleeve is spot value in custody minus short notional; it must stay within
/// `maxDriftBps` of the spot value plus a fixed `driftBufferUsd`. Backing is the on-chain collateral held
/// by the custodians (Minter, PSM; every tracked asset, hedged or not) plus the hedge equity
/// (margin + PnL) at the venues. The reserve fund is deliberately not backing: it is first-loss capital.
/// A report older than `maxReportAge` is stale: its equity counts only if negative (a loss stays
/// counted, an unverified gain does not) and mints of its asset stop until the next report.
contract HedgeLedger is AccessControl, IHedgeLedger {
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    uint256 internal constant BPS = 10_000;

    struct Hedge {
        address asset; // the spot token this short hedges
        uint256 notional; // short notional, 18-decimal USD
        uint256 margin; // margin posted at the venue, 18-decimal USD
        int256 unrealizedPnl; // 18-decimal USD, negative when the short is losing
        bytes32 venue;
        uint64 updatedAt;
    }

    IOracleRouter public oracle;
    address[] internal _custodians;
    mapping(address => bool) public isCustodian;
    uint256 public maxDriftBps;
    uint256 public driftBufferUsd;
    uint256 public maxReportAge; // seconds a hedge report counts as current

    address[] internal _assets; // every collateral counted in backing
    mapping(address asset => bool) public tracked;
    mapping(address asset => bytes32 market) public marketOf; // 0 when the asset is not hedged
    mapping(bytes32 market => Hedge) public hedges;
    bytes32[] internal _markets;

    error UnknownMarket(bytes32 market);
    error MarketExists(bytes32 market);
    error DeltaDriftExceeded(address asset, int256 netDelta, uint256 bound);
    error AssetNotHedged(address asset);
    error StaleHedgeReport(bytes32 market, uint256 updatedAt, uint256 maxReportAge);
    error InvalidReportAge(uint256 maxReportAge);

    event AssetTracked(address indexed asset);
    event MarketAdded(bytes32 indexed market, address indexed asset);
    event HedgeReported(
        bytes32 indexed market, bytes32 indexed venue, uint256 notional, uint256 margin, int256 unrealizedPnl, int256 netDelta
    );
    event DeltaDriftBreached(bytes32 indexed market, int256 netDelta, uint256 bound);
    event DriftBoundSet(uint256 maxDriftBps, uint256 driftBufferUsd);
    event CustodianAdded(address indexed custodian);
    event CustodianRemoved(address indexed custodian);
    event OracleSet(address indexed oracle);
    event MaxReportAgeSet(uint256 maxReportAge);

    constructor(
        address admin,
        IOracleRouter oracle_,
        address custody_,
        uint256 maxDriftBps_,
        uint256 driftBufferUsd_,
        uint256 maxReportAge_
    ) {
        if (admin == address(0) || address(oracle_) == address(0) || custody_ == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        oracle = oracle_;
        maxDriftBps = maxDriftBps_;
        driftBufferUsd = driftBufferUsd_;
        emit OracleSet(address(oracle_));
        _addCustodian(custody_);
        emit DriftBoundSet(maxDriftBps_, driftBufferUsd_);
        _setMaxReportAge(maxReportAge_);
    }

    // ------------------------------------------------------------------ configuration

    function trackAsset(address asset) public onlyRole(DEFAULT_ADMIN_ROLE) {
        if (asset == address(0)) revert ZeroAddress();
        if (tracked[asset]) return;
        tracked[asset] = true;
        _assets.push(asset);
        emit AssetTracked(asset);
    }

    function addMarket(bytes32 market, address asset) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (hedges[market].asset != address(0)) revert MarketExists(market);
        trackAsset(asset);
        hedges[market].asset = asset;
        marketOf[asset] = market;
        _markets.push(market);
        emit MarketAdded(market, asset);
    }

    function setDriftBound(uint256 maxDriftBps_, uint256 driftBufferUsd_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        maxDriftBps = maxDriftBps_;
        driftBufferUsd = driftBufferUsd_;
        emit DriftBoundSet(maxDriftBps_, driftBufferUsd_);
    }

    function setMaxReportAge(uint256 maxReportAge_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMaxReportAge(maxReportAge_);
    }

    function addCustodian(address custodian) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (custodian == address(0)) revert ZeroAddress();
        _addCustodian(custodian);
    }

    function removeCustodian(address custodian) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!isCustodian[custodian]) return;
        isCustodian[custodian] = false;
        for (uint256 i = 0; i < _custodians.length; i++) {
            if (_custodians[i] == custodian) {
                _custodians[i] = _custodians[_custodians.length - 1];
                _custodians.pop();
                break;
            }
        }
        emit CustodianRemoved(custodian);
    }

    function _setMaxReportAge(uint256 maxReportAge_) internal {
        if (maxReportAge_ == 0) revert InvalidReportAge(maxReportAge_);
        maxReportAge = maxReportAge_;
        emit MaxReportAgeSet(maxReportAge_);
    }

    function _addCustodian(address custodian) internal {
        if (isCustodian[custodian]) return;
        isCustodian[custodian] = true;
        _custodians.push(custodian);
        emit CustodianAdded(custodian);
    }

    function setOracle(IOracleRouter oracle_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(oracle_) == address(0)) revert ZeroAddress();
        oracle = oracle_;
        emit OracleSet(address(oracle_));
    }

    // ------------------------------------------------------------------ operator

    /// @notice Record the current state of one short perp position. A report that leaves the sleeve
    /// outside its drift bound is still recorded (the ledger must reflect reality) but emits
    /// DeltaDriftBreached, and further mints of that asset revert until the hedge is fixed. A report
    /// never depends on the oracle: during an outage of the asset's feed it is recorded all the same
    /// (a venue loss must reach the backing breaker), with netDelta 0 in the event and no drift check.
    function report(bytes32 market, uint256 notional, uint256 margin, int256 unrealizedPnl, bytes32 venue)
        external
        onlyRole(OPERATOR_ROLE)
    {
        Hedge storage h = hedges[market];
        if (h.asset == address(0)) revert UnknownMarket(market);
        h.notional = notional;
        h.margin = margin;
        h.unrealizedPnl = unrealizedPnl;
        h.venue = venue;
        h.updatedAt = uint64(block.timestamp);
        try this.netDelta(h.asset) returns (int256 net, uint256 bound) {
            emit HedgeReported(market, venue, notional, margin, unrealizedPnl, net);
            if (_abs(net) > bound) emit DeltaDriftBreached(market, net, bound);
        } catch {
            emit HedgeReported(market, venue, notional, margin, unrealizedPnl, 0);
        }
    }

    // ------------------------------------------------------------------ views

    function isHedged(address asset) external view returns (bool) {
        return marketOf[asset] != bytes32(0);
    }

    /// @notice Units of `asset` held by all custodians.
    function custodyBalance(address asset) public view returns (uint256 bal) {
        uint256 n = _custodians.length;
        for (uint256 i = 0; i < n; i++) {
            bal += IERC20(asset).balanceOf(_custodians[i]);
        }
    }

    function spotValue(address asset) public view returns (uint256) {
        uint256 bal = custodyBalance(asset);
        if (bal == 0) return 0;
        return bal * oracle.price(asset) / 10 ** IERC20Metadata(asset).decimals();
    }

    /// @return net spot value minus short notional (18-decimal USD; positive = net long)
    /// @return bound the largest |net| allowed
    function netDelta(address asset) public view returns (int256 net, uint256 bound) {
        bytes32 market = marketOf[asset];
        if (market == bytes32(0)) revert AssetNotHedged(asset);
        uint256 spot = spotValue(asset);
        net = int256(spot) - int256(hedges[market].notional);
        bound = spot * maxDriftBps / BPS + driftBufferUsd;
    }

    /// @inheritdoc IHedgeLedger
    function checkDelta(address asset) external view {
        bytes32 market = marketOf[asset];
        Hedge storage h = hedges[market];
        // A hedge never reported has no short to be stale; one reported long ago cannot vouch for the delta.
        if (h.updatedAt != 0 && !isFresh(market)) revert StaleHedgeReport(market, h.updatedAt, maxReportAge);
        (int256 net, uint256 bound) = netDelta(asset);
        if (_abs(net) > bound) revert DeltaDriftExceeded(asset, net, bound);
    }

    /// @notice Whether `market`'s last report is at most `maxReportAge` old.
    function isFresh(bytes32 market) public view returns (bool) {
        uint256 reportedAt = hedges[market].updatedAt;
        return reportedAt != 0 && block.timestamp - reportedAt <= maxReportAge;
    }

    /// @notice Hedge equity across all venues: margin + unrealized PnL of fresh reports; a stale
    /// report counts only its loss (may be negative).
    function hedgeEquity() public view returns (int256) {
        return _hedgeEquity(false);
    }

    /// @notice Hedge equity without unrealised gains: margin + min(PnL, 0) of fresh reports.
    function realisedHedgeEquity() public view returns (int256) {
        return _hedgeEquity(true);
    }

    function collateralValue() public view returns (uint256 total) {
        uint256 n = _assets.length;
        for (uint256 i = 0; i < n; i++) {
            total += spotValue(_assets[i]);
        }
    }

    /// @notice Backing = on-chain collateral in custody + hedge equity, floored at zero. Reverts if an
    /// asset held has no healthy price (see `backingFloor` for a view that never does).
    function totalBacking() external view returns (uint256) {
        return _floor(int256(collateralValue()) + hedgeEquity());
    }

    /// @inheritdoc IHedgeLedger
    function realisedBacking() external view returns (uint256) {
        return _floor(int256(collateralValue()) + realisedHedgeEquity());
    }

    /// @inheritdoc IHedgeLedger
    function backingFloor() external view returns (uint256 backing, uint256 unpriced) {
        uint256 collateral = 0;
        uint256 n = _assets.length;
        for (uint256 i = 0; i < n; i++) {
            address a = _assets[i];
            uint256 bal = custodyBalance(a);
            if (bal == 0) continue;
            try oracle.price(a) returns (uint256 p) {
                collateral += bal * p / 10 ** IERC20Metadata(a).decimals();
            } catch {
                unpriced++;
            }
        }
        backing = _floor(int256(collateral) + hedgeEquity());
    }

    /// @notice The parts of the backing, for accounting checks: (collateral, hedge equity).
    function backingBreakdown() external view returns (uint256 collateral, int256 equity) {
        return (collateralValue(), hedgeEquity());
    }

    function custodians() external view returns (address[] memory) {
        return _custodians;
    }

    function assets() external view returns (address[] memory) {
        return _assets;
    }

    function markets() external view returns (bytes32[] memory) {
        return _markets;
    }

    function _hedgeEquity(bool realisedOnly) internal view returns (int256 equity) {
        uint256 n = _markets.length;
        for (uint256 i = 0; i < n; i++) {
            bytes32 m = _markets[i];
            Hedge storage h = hedges[m];
            int256 pnl = h.unrealizedPnl;
            if (realisedOnly && pnl > 0) pnl = 0;
            int256 e = int256(h.margin) + pnl;
            if (!isFresh(m) && e > 0) e = 0;
            equity += e;
        }
    }

    function _floor(int256 x) internal pure returns (uint256) {
        return x > 0 ? uint256(x) : 0;
    }

    function _abs(int256 x) internal pure returns (uint256) {
        return x >= 0 ? uint256(x) : uint256(-x);
    }
}
