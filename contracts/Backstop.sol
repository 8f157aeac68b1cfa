// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {HYB} from "./HYB.sol";
import {IUniswapV3PoolMinimal} from "./interfaces/IUniswapV3PoolMinimal.sol";
import {ZeroAmount, ZeroAddress, SlippageExceeded} from "./Errors.sol";

/// @title Backstop: recapitalize the reserve by selling newly minted HYB into the HYB/USDC pool
/// @notice A keeper sells at most `maxHybPerDay` HYB a day, never pushing the pool past
/// `sqrtPriceLimitX96` (the price floor for HYB), with a minimum USDC out. HYB is minted inside the
/// swap callback for exactly the amount the pool takes, and the USDC goes straight to the reserve.
contract Backstop is AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;

    bytes32 public constant KEEPER_ROLE = keccak256("KEEPER_ROLE");
    uint256 public constant DAY = 1 days;

    HYB public immutable hyb;
    IERC20 public immutable usdc;
    IUniswapV3PoolMinimal public immutable pool;
    bool public immutable hybIsToken0;
    address public reserveFund;
    uint256 public maxHybPerDay;
    uint160 public sqrtPriceLimitX96;
    mapping(uint256 day => uint256) public soldOnDay;
    bool internal _inSwap;

    error DailyLimitExceeded(uint256 requested, uint256 remaining);
    error PoolMismatch(address pool);
    error UnauthorizedCallback(address caller);
    error InvalidPriceLimit(uint160 sqrtPriceLimitX96);

    event Recapitalized(address indexed keeper, uint256 hybSold, uint256 usdcRaised, uint160 sqrtPriceAfterX96);
    event LimitsSet(uint256 maxHybPerDay, uint160 sqrtPriceLimitX96);
    event ReserveFundSet(address indexed reserveFund);

    constructor(
        address admin,
        HYB hyb_,
        IERC20 usdc_,
        IUniswapV3PoolMinimal pool_,
        address reserveFund_,
        uint256 maxHybPerDay_,
        uint160 sqrtPriceLimitX96_
    ) {
        if (admin == address(0) || reserveFund_ == address(0) || address(pool_) == address(0)) revert ZeroAddress();
        address t0 = pool_.token0();
        address t1 = pool_.token1();
        if (!((t0 == address(hyb_) && t1 == address(usdc_)) || (t1 == address(hyb_) && t0 == address(usdc_)))) {
            revert PoolMismatch(address(pool_));
        }
        hyb = hyb_;
        usdc = usdc_;
        pool = pool_;
        hybIsToken0 = t0 == address(hyb_);
        reserveFund = reserveFund_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        emit ReserveFundSet(reserveFund_);
        _setLimits(maxHybPerDay_, sqrtPriceLimitX96_);
    }

    function remainingToday() public view returns (uint256) {
        uint256 used = soldOnDay[block.timestamp / DAY];
        return used >= maxHybPerDay ? 0 : maxHybPerDay - used;
    }

    /// @notice Sell up to `hybAmount` HYB; returns what was actually sold (less if the floor is hit).
    function recapitalize(uint256 hybAmount, uint256 minUsdcOut)
        external
        nonReentrant
        onlyRole(KEEPER_ROLE)
        returns (uint256 hybSold, uint256 usdcRaised)
    {
        if (hybAmount == 0) revert ZeroAmount();
        uint256 remaining = remainingToday();
        if (hybAmount > remaining) revert DailyLimitExceeded(hybAmount, remaining);
        _inSwap = true;
        (int256 a0, int256 a1) = pool.swap(reserveFund, hybIsToken0, int256(hybAmount), sqrtPriceLimitX96, "");
        _inSwap = false;
        (int256 hybDelta, int256 usdcDelta) = hybIsToken0 ? (a0, a1) : (a1, a0);
        hybSold = uint256(hybDelta);
        usdcRaised = uint256(-usdcDelta);
        if (usdcRaised < minUsdcOut) revert SlippageExceeded(usdcRaised, minUsdcOut);
        soldOnDay[block.timestamp / DAY] += hybSold;
        (uint160 sqrtAfter,,,,,,) = pool.slot0();
        emit Recapitalized(msg.sender, hybSold, usdcRaised, sqrtAfter);
    }

    /// @dev Uniswap v3 swap callback: mint exactly the HYB the pool is owed.
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata) external {
        if (msg.sender != address(pool) || !_inSwap) revert UnauthorizedCallback(msg.sender);
        int256 owed = hybIsToken0 ? amount0Delta : amount1Delta;
        if (owed > 0) hyb.mint(address(pool), uint256(owed));
    }

    function setLimits(uint256 maxHybPerDay_, uint160 sqrtPriceLimitX96_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setLimits(maxHybPerDay_, sqrtPriceLimitX96_);
    }

    function setReserveFund(address reserveFund_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (reserveFund_ == address(0)) revert ZeroAddress();
        reserveFund = reserveFund_;
        emit ReserveFundSet(reserveFund_);
    }

    function _setLimits(uint256 maxHybPerDay_, uint160 sqrtPriceLimitX96_) internal {
        if (sqrtPriceLimitX96_ == 0) revert InvalidPriceLimit(sqrtPriceLimitX96_);
        maxHybPerDay = maxHybPerDay_;
        sqrtPriceLimitX96 = sqrtPriceLimitX96_;
        emit LimitsSet(maxHybPerDay_, sqrtPriceLimitX96_);
    }
}
