// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IOracleRouter} from "./interfaces/IOracleRouter.sol";
import {IHedgeLedger} from "./interfaces/IHedgeLedger.sol";
import {IMinter} from "./interfaces/IMinter.sol";
import {IPegStabilityModule} from "./interfaces/IPegStabilityModule.sol";
import {ZeroAddress} from "./Errors.sol";

/// @title Guardian: the circuit breakers
/// @notice Anyone may trip a breaker whose condition holds on chain (an unhealthy feed of a watched
/// asset, backing under the minimum ratio); GUARDIAN_ROLE holders may also pause and tighten caps at
/// their discretion. Nothing here unpauses: restarting is the admin's call on each contract. The
/// backing breaker reads a backing that values an asset without a healthy price at zero, so it still
/// works during an oracle outage. A delisted asset is unwatched by the admin, so its dead feed no
/// longer pauses minting.
contract Guardian is AccessControl {
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    uint256 internal constant BPS = 10_000;

    IMinter public immutable minter;
    IPegStabilityModule public immutable psm;
    IOracleRouter public immutable oracle;
    IHedgeLedger public immutable ledger;
    IERC20 public immutable husd;
    uint256 public minBackingRatioBps;
    address[] internal _watched;
    mapping(address asset => bool) public isWatched;

    error NothingToTrip();
    error InvalidRatio(uint256 ratioBps);
    error AlreadyWatched(address asset);
    error NotWatched(address asset);

    event CircuitBreakerTripped(bytes32 indexed reason, address indexed asset, address indexed by);
    event GuardianPause(bytes32 indexed what, address indexed by);
    event MintCapsLowered(uint256 mintPerBlock, uint256 mintPerHour, address indexed by);
    event AssetWatched(address indexed asset);
    event AssetUnwatched(address indexed asset);
    event MinBackingRatioSet(uint256 ratioBps);

    constructor(
        address admin,
        IMinter minter_,
        IPegStabilityModule psm_,
        IOracleRouter oracle_,
        IHedgeLedger ledger_,
        IERC20 husd_,
        uint256 minBackingRatioBps_
    ) {
        if (admin == address(0) || address(minter_) == address(0) || address(oracle_) == address(0)) revert ZeroAddress();
        minter = minter_;
        psm = psm_;
        oracle = oracle_;
        ledger = ledger_;
        husd = husd_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GUARDIAN_ROLE, admin);
        _setMinBackingRatio(minBackingRatioBps_);
    }

    // ------------------------------------------------------------------ permissionless breakers

    /// @notice Pause minting if any watched feed is stale, out of bounds or jumping.
    function checkOracles() external returns (bool tripped) {
        for (uint256 i = 0; i < _watched.length; i++) {
            if (!oracle.isHealthy(_watched[i])) {
                if (!minter.mintPaused()) minter.setMintPaused(true);
                emit CircuitBreakerTripped("ORACLE", _watched[i], msg.sender);
                tripped = true;
            }
        }
        if (!tripped) revert NothingToTrip();
    }

    /// @notice Pause minting when backing / supply falls below the minimum ratio. The backing read
    /// never reverts: an asset without a healthy price counts zero (an outage cannot hide a shortfall).
    function checkBacking() external returns (bool tripped) {
        if (!isUnderBacked()) revert NothingToTrip();
        if (!minter.mintPaused()) minter.setMintPaused(true);
        emit CircuitBreakerTripped("BACKING", address(0), msg.sender);
        return true;
    }

    function isUnderBacked() public view returns (bool) {
        uint256 supply = husd.totalSupply();
        if (supply == 0) return false;
        (uint256 backing,) = ledger.backingFloor();
        return backing * BPS < supply * minBackingRatioBps;
    }

    function oraclesHealthy() external view returns (bool) {
        uint256 n = _watched.length;
        for (uint256 i = 0; i < n; i++) {
            if (!oracle.isHealthy(_watched[i])) return false;
        }
        return true;
    }

    // ------------------------------------------------------------------ guardian actions

    function pauseMint() external onlyRole(GUARDIAN_ROLE) {
        minter.setMintPaused(true);
        emit GuardianPause("MINT", msg.sender);
    }

    function pauseRedeem() external onlyRole(GUARDIAN_ROLE) {
        minter.setRedeemPaused(true);
        emit GuardianPause("REDEEM", msg.sender);
    }

    function pausePsm() external onlyRole(GUARDIAN_ROLE) {
        psm.setPaused(true);
        emit GuardianPause("PSM", msg.sender);
    }

    function lowerMintCaps(uint256 mintPerBlock, uint256 mintPerHour) external onlyRole(GUARDIAN_ROLE) {
        minter.lowerMintCaps(mintPerBlock, mintPerHour);
        emit MintCapsLowered(mintPerBlock, mintPerHour, msg.sender);
    }

    // ------------------------------------------------------------------ admin

    function watchAsset(address asset) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (asset == address(0)) revert ZeroAddress();
        if (isWatched[asset]) revert AlreadyWatched(asset);
        isWatched[asset] = true;
        _watched.push(asset);
        emit AssetWatched(asset);
    }

    /// @notice Stop watching a delisted asset (its feed may be removed or dead).
    function unwatchAsset(address asset) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!isWatched[asset]) revert NotWatched(asset);
        isWatched[asset] = false;
        uint256 n = _watched.length;
        for (uint256 i = 0; i < n; i++) {
            if (_watched[i] == asset) {
                _watched[i] = _watched[n - 1];
                _watched.pop();
                break;
            }
        }
        emit AssetUnwatched(asset);
    }

    function setMinBackingRatio(uint256 ratioBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMinBackingRatio(ratioBps);
    }

    function watchedAssets() external view returns (address[] memory) {
        return _watched;
    }

    function _setMinBackingRatio(uint256 ratioBps) internal {
        if (ratioBps > 2 * BPS) revert InvalidRatio(ratioBps);
        minBackingRatioBps = ratioBps;
        emit MinBackingRatioSet(ratioBps);
    }
}
