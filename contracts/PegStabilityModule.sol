// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {HUSD} from "./HUSD.sol";
import {IPegStabilityModule} from "./interfaces/IPegStabilityModule.sol";
import {IOracleRouter} from "./interfaces/IOracleRouter.sol";
import {ZeroAmount, ZeroAddress, FeeTooHigh} from "./Errors.sol";

/// @title PegStabilityModule: USDC <-> HUSD at 1:1 with a fee, up to a ceiling
/// @notice `debt` is the HUSD outstanding from this module: minted by `swapIn` (net of the fee, the HUSD
/// the user actually got) and not yet burned; a `swapIn` may not take it past `ceiling`. Fees are never
/// minted as HUSD: they stay here as surplus USDC (swapIn keeps the whole USDC in and mints it less the
/// fee; swapOut burns all the HUSD in and pays it out less the fee). So the USDC held always covers
/// `debt`; `swapOut` pays from the USDC held (its surplus may buy back HUSD minted elsewhere).
/// With an oracle set, `swapIn` needs a healthy USDC price (inside its band): the PSM never mints at
/// par against USDC the router cannot price (a depeg), while `swapOut` stays open.
contract PegStabilityModule is AccessControl, ReentrancyGuard, IPegStabilityModule {
    using SafeERC20 for IERC20;

    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    uint256 public constant BPS = 10_000;
    uint256 public constant MAX_FEE_BPS = 100;

    HUSD public immutable husd;
    IERC20 public immutable usdc;
    uint256 public immutable scale; // 10 ** (18 - usdc decimals)

    uint256 public feeInBps; // USDC -> HUSD
    uint256 public feeOutBps; // HUSD -> USDC
    uint256 public ceiling; // max debt, 18 decimals
    uint256 public debt;
    bool public paused;
    IOracleRouter public oracle; // 0: no price gate

    error CeilingExceeded(uint256 requested, uint256 remaining);
    error InsufficientReserves(uint256 requested, uint256 available);
    error PsmPaused();
    error UnsupportedDecimals(uint8 decimals);

    event SwapIn(address indexed account, address indexed recipient, uint256 usdcIn, uint256 husdOut, uint256 fee);
    event SwapOut(address indexed account, address indexed recipient, uint256 husdIn, uint256 usdcOut, uint256 fee);
    event FeesSet(uint256 feeInBps, uint256 feeOutBps);
    event CeilingSet(uint256 ceiling);
    event PausedSet(bool paused, address indexed by);
    event OracleSet(address indexed oracle);

    constructor(address admin, HUSD husd_, IERC20 usdc_, uint256 feeInBps_, uint256 feeOutBps_, uint256 ceiling_) {
        if (admin == address(0) || address(husd_) == address(0) || address(usdc_) == address(0)) revert ZeroAddress();
        uint8 dec = IERC20Metadata(address(usdc_)).decimals();
        if (dec > 18) revert UnsupportedDecimals(dec);
        husd = husd_;
        usdc = usdc_;
        scale = 10 ** (18 - dec);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GUARDIAN_ROLE, admin);
        _setFees(feeInBps_, feeOutBps_);
        ceiling = ceiling_;
        emit CeilingSet(ceiling_);
    }

    /// @notice Sell `usdcIn` USDC for HUSD 1:1 less the fee (the fee stays here as USDC).
    function swapIn(uint256 usdcIn, address recipient) external nonReentrant returns (uint256 husdOut) {
        if (paused) revert PsmPaused();
        if (usdcIn == 0) revert ZeroAmount();
        if (recipient == address(0)) revert ZeroAddress();
        if (address(oracle) != address(0)) oracle.price(address(usdc)); // reverts (named error) unless healthy
        uint256 gross = usdcIn * scale;
        uint256 fee = gross * feeInBps / BPS;
        husdOut = gross - fee;
        if (husdOut == 0) revert ZeroAmount();
        uint256 room = debt >= ceiling ? 0 : ceiling - debt;
        if (husdOut > room) revert CeilingExceeded(husdOut, room);
        debt += husdOut;
        usdc.safeTransferFrom(msg.sender, address(this), usdcIn);
        husd.mint(recipient, husdOut);
        emit SwapIn(msg.sender, recipient, usdcIn, husdOut, fee);
    }

    /// @notice Sell `husdIn` HUSD (allowance to this contract needed) for USDC 1:1 less the fee: all of
    /// `husdIn` is burned, the fee (and the sub-unit dust) stays here as USDC.
    function swapOut(uint256 husdIn, address recipient) external nonReentrant returns (uint256 usdcOut) {
        if (paused) revert PsmPaused();
        if (husdIn == 0) revert ZeroAmount();
        if (recipient == address(0)) revert ZeroAddress();
        uint256 fee = husdIn * feeOutBps / BPS;
        usdcOut = (husdIn - fee) / scale; // rounded down
        if (usdcOut == 0) revert ZeroAmount();
        fee = husdIn - usdcOut * scale; // the fee actually kept, dust included (18 decimals)
        uint256 available = usdc.balanceOf(address(this));
        if (usdcOut > available) revert InsufficientReserves(usdcOut * scale, available * scale);
        debt -= husdIn < debt ? husdIn : debt; // HUSD minted elsewhere leaves the debt at zero
        husd.burnFrom(msg.sender, husdIn);
        usdc.safeTransfer(recipient, usdcOut);
        emit SwapOut(msg.sender, recipient, husdIn, usdcOut, fee);
    }

    function setFees(uint256 feeInBps_, uint256 feeOutBps_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setFees(feeInBps_, feeOutBps_);
    }

    function setCeiling(uint256 ceiling_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        ceiling = ceiling_;
        emit CeilingSet(ceiling_);
    }

    function setOracle(IOracleRouter oracle_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        oracle = oracle_;
        emit OracleSet(address(oracle_));
    }

    /// @notice Guardians pause; only the admin unpauses.
    function setPaused(bool paused_) external onlyRole(GUARDIAN_ROLE) {
        if (!paused_) _checkRole(DEFAULT_ADMIN_ROLE);
        paused = paused_;
        emit PausedSet(paused_, msg.sender);
    }

    function _setFees(uint256 feeInBps_, uint256 feeOutBps_) internal {
        if (feeInBps_ > MAX_FEE_BPS) revert FeeTooHigh(feeInBps_, MAX_FEE_BPS);
        if (feeOutBps_ > MAX_FEE_BPS) revert FeeTooHigh(feeOutBps_, MAX_FEE_BPS);
        feeInBps = feeInBps_;
        feeOutBps = feeOutBps_;
        emit FeesSet(feeInBps_, feeOutBps_);
    }
}
