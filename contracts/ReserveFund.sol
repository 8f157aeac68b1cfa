// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {HUSD} from "./HUSD.sol";
import {IUniswapV3PoolMinimal, UniswapV3Constants} from "./interfaces/IUniswapV3PoolMinimal.sol";
import {ZeroAmount, ZeroAddress, SlippageExceeded} from "./Errors.sol";

/// @title ReserveFund: the first-loss buffer
/// @notice Receives its share of revenue (and mint/redeem/PSM fees); pays negative funding to the
/// hedge venues and covers deficits, each under a per-day payout limit counted in token units.
/// It also defends the peg itself: below a trigger price on the registered HUSD/USDC pool, a
/// BUYBACK_ROLE operator spends the reserve's USDC on HUSD there (`buyBack`), within a per-hour budget
/// and never pushing the price past the trigger, then burns what it bought or holds it.
contract ReserveFund is AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;

    bytes32 public constant FUNDING_PAYER_ROLE = keccak256("FUNDING_PAYER_ROLE");
    bytes32 public constant COVERER_ROLE = keccak256("COVERER_ROLE");
    bytes32 public constant BUYBACK_ROLE = keccak256("BUYBACK_ROLE");
    uint256 public constant DAY = 1 days;
    uint256 public constant HOUR = 1 hours;

    mapping(address token => uint256) public maxPayoutPerDay;
    mapping(address token => mapping(uint256 day => uint256)) public paidOnDay;

    // Buy-backs (unset until `configureBuyBack`): where, below which price, how much USDC an hour, then what.
    HUSD public buyBackHusd;
    IERC20 public buyBackUsdc;
    IUniswapV3PoolMinimal public buyBackPool;
    bool public husdIsToken0;
    uint160 public buyBackTriggerX96; // the pool's sqrtPriceX96 at the trigger price
    uint256 public maxBuyBackPerHour; // USDC base units
    bool public burnBoughtBack; // burn what it buys (else hold it)
    mapping(uint256 hour => uint256) public boughtBackInHour; // USDC spent per hour
    bool internal _inSwap;

    error PayoutLimitExceeded(address token, uint256 requested, uint256 remaining);
    error BuyBackNotConfigured();
    error PoolMismatch(address pool);
    error InvalidTrigger(uint160 triggerX96);
    error NotBelowTrigger(uint160 sqrtPriceX96, uint160 triggerX96);
    error BuyBackBudgetExceeded(uint256 requested, uint256 remaining);
    error UnauthorizedCallback(address caller);

    event RevenueReceived(address indexed token, address indexed from, uint256 amount);
    event FundingPaid(address indexed token, address indexed to, uint256 amount, address indexed by);
    event DeficitCovered(address indexed token, address indexed to, uint256 amount, address indexed by);
    event PayoutLimitSet(address indexed token, uint256 maxPayoutPerDay);
    event BuyBackConfigured(address indexed pool, uint160 triggerX96, uint256 maxBuyBackPerHour, bool burn);
    event BoughtBack(address indexed operator, uint256 usdcSpent, uint256 husdBought, bool burned, uint160 sqrtPriceAfterX96);

    constructor(address admin) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    function deposit(address token, uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        emit RevenueReceived(token, msg.sender, amount);
    }

    /// @notice Pay (negative) funding owed on a hedge to the venue account `to`.
    function payFunding(address token, address to, uint256 amount) external nonReentrant onlyRole(FUNDING_PAYER_ROLE) {
        _payout(token, to, amount);
        emit FundingPaid(token, to, amount, msg.sender);
    }

    /// @notice Cover a deficit (a realized loss on a hedge, a shortfall in the liquidity buffer).
    function coverDeficit(address token, address to, uint256 amount) external nonReentrant onlyRole(COVERER_ROLE) {
        _payout(token, to, amount);
        emit DeficitCovered(token, to, amount, msg.sender);
    }

    function setPayoutLimit(address token, uint256 maxPerDay) external onlyRole(DEFAULT_ADMIN_ROLE) {
        maxPayoutPerDay[token] = maxPerDay;
        emit PayoutLimitSet(token, maxPerDay);
    }

    /// @notice Register the HUSD/USDC pool the reserve buys on, its trigger (the pool's sqrtPriceX96 at the
    /// trigger price: it buys only while HUSD trades below it, and never past it), the USDC it may spend
    /// per hour, and whether it burns what it buys (BURNER_ROLE on HUSD) or holds it. A zero budget stops it.
    function configureBuyBack(
        HUSD husd,
        IERC20 usdc,
        IUniswapV3PoolMinimal pool,
        uint160 triggerX96,
        uint256 maxPerHour,
        bool burn
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(husd) == address(0) || address(usdc) == address(0) || address(pool) == address(0)) revert ZeroAddress();
        address t0 = pool.token0();
        address t1 = pool.token1();
        if (!((t0 == address(husd) && t1 == address(usdc)) || (t0 == address(usdc) && t1 == address(husd)))) {
            revert PoolMismatch(address(pool));
        }
        if (triggerX96 <= UniswapV3Constants.MIN_SQRT_RATIO || triggerX96 >= UniswapV3Constants.MAX_SQRT_RATIO) {
            revert InvalidTrigger(triggerX96);
        }
        buyBackHusd = husd;
        buyBackUsdc = usdc;
        buyBackPool = pool;
        husdIsToken0 = t0 == address(husd);
        buyBackTriggerX96 = triggerX96;
        maxBuyBackPerHour = maxPerHour;
        burnBoughtBack = burn;
        emit BuyBackConfigured(address(pool), triggerX96, maxPerHour, burn);
    }

    /// @notice Spend up to `usdcIn` of the reserve's USDC on HUSD in the registered pool, stopping at the
    /// trigger or at `sqrtPriceLimitX96` if that is nearer (0: the trigger), with at least `minHusdOut`
    /// bought; then burn or hold it. Only while the pool is below the trigger, within the hour's budget
    /// (charged what the pool took).
    function buyBack(uint256 usdcIn, uint256 minHusdOut, uint160 sqrtPriceLimitX96)
        external
        nonReentrant
        onlyRole(BUYBACK_ROLE)
        returns (uint256 usdcSpent, uint256 husdBought)
    {
        if (usdcIn == 0) revert ZeroAmount();
        uint256 remaining = _remainingOrRevert();
        if (usdcIn > remaining) revert BuyBackBudgetExceeded(usdcIn, remaining);
        (usdcSpent, husdBought) = _swapUsdcForHusd(SafeCast.toInt256(usdcIn), _buyLimit(sqrtPriceLimitX96));
        if (husdBought < minHusdOut) revert SlippageExceeded(husdBought, minHusdOut);
        _settle(usdcSpent, husdBought);
    }

    /// @notice Buy exactly `husdOut` HUSD (less if the trigger or `sqrtPriceLimitX96` stops the pool first),
    /// spending at most `maxUsdcIn`; then burn or hold it. Same trigger and hourly budget as `buyBack`.
    function buyBackExactOut(uint256 husdOut, uint256 maxUsdcIn, uint160 sqrtPriceLimitX96)
        external
        nonReentrant
        onlyRole(BUYBACK_ROLE)
        returns (uint256 usdcSpent, uint256 husdBought)
    {
        if (husdOut == 0) revert ZeroAmount();
        uint256 remaining = _remainingOrRevert();
        (usdcSpent, husdBought) = _swapUsdcForHusd(-SafeCast.toInt256(husdOut), _buyLimit(sqrtPriceLimitX96));
        if (usdcSpent > maxUsdcIn) revert SlippageExceeded(usdcSpent, maxUsdcIn);
        if (usdcSpent > remaining) revert BuyBackBudgetExceeded(usdcSpent, remaining);
        _settle(usdcSpent, husdBought);
    }

    function _remainingOrRevert() internal view returns (uint256) {
        if (address(buyBackPool) == address(0)) revert BuyBackNotConfigured();
        return remainingBuyBack();
    }

    /// @dev Charge the hour's budget, burn (or hold) what was bought, and say so.
    function _settle(uint256 usdcSpent, uint256 husdBought) internal {
        boughtBackInHour[block.timestamp / HOUR] += usdcSpent;
        bool burn = burnBoughtBack;
        if (burn && husdBought > 0) buyBackHusd.burn(husdBought);
        (uint160 sqrtAfter,,,,,,) = buyBackPool.slot0();
        emit BoughtBack(msg.sender, usdcSpent, husdBought, burn, sqrtAfter);
    }

    /// @dev The swap's price limit: the trigger, or the caller's limit where it is nearer. Reverts unless
    /// the pool is below the trigger. HUSD's price rises as the reserve buys: sqrtPrice rises when HUSD is
    /// token0 and falls when it is token1.
    function _buyLimit(uint160 callerLimitX96) internal view returns (uint160 limit) {
        (uint160 sqrtNow,,,,,,) = buyBackPool.slot0();
        limit = buyBackTriggerX96;
        bool h0 = husdIsToken0;
        if (h0 ? sqrtNow >= limit : sqrtNow <= limit) revert NotBelowTrigger(sqrtNow, limit);
        if (callerLimitX96 != 0 && (h0 ? callerLimitX96 < limit : callerLimitX96 > limit)) limit = callerLimitX96;
    }

    /// @dev Swap USDC for HUSD to this contract, stopping at `limit`: `amountSpecified` > 0 is the USDC in
    /// (exact input), < 0 the HUSD out (exact output), as Uniswap v3 takes it.
    function _swapUsdcForHusd(int256 amountSpecified, uint160 limit) internal returns (uint256 usdcSpent, uint256 husdBought) {
        bool h0 = husdIsToken0;
        _inSwap = true;
        (int256 a0, int256 a1) = buyBackPool.swap(address(this), !h0, amountSpecified, limit, "");
        _inSwap = false;
        (int256 husdDelta, int256 usdcDelta) = h0 ? (a0, a1) : (a1, a0);
        usdcSpent = uint256(usdcDelta);
        husdBought = uint256(-husdDelta);
    }

    /// @dev Uniswap v3 swap callback: pay the pool the USDC it is owed, from the reserve.
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata) external {
        if (msg.sender != address(buyBackPool) || !_inSwap) revert UnauthorizedCallback(msg.sender);
        int256 owed = husdIsToken0 ? amount1Delta : amount0Delta;
        if (owed > 0) buyBackUsdc.safeTransfer(msg.sender, uint256(owed));
    }

    /// @notice USDC the reserve may still spend on buy-backs this hour.
    function remainingBuyBack() public view returns (uint256) {
        uint256 used = boughtBackInHour[block.timestamp / HOUR];
        uint256 cap = maxBuyBackPerHour;
        return used >= cap ? 0 : cap - used;
    }

    function remainingPayout(address token) public view returns (uint256) {
        uint256 used = paidOnDay[token][block.timestamp / DAY];
        uint256 cap = maxPayoutPerDay[token];
        return used >= cap ? 0 : cap - used;
    }

    function holdings(address token) external view returns (uint256) {
        return IERC20(token).balanceOf(address(this));
    }

    function _payout(address token, address to, uint256 amount) internal {
        if (amount == 0) revert ZeroAmount();
        if (to == address(0)) revert ZeroAddress();
        uint256 remaining = remainingPayout(token);
        if (amount > remaining) revert PayoutLimitExceeded(token, amount, remaining);
        paidOnDay[token][block.timestamp / DAY] += amount;
        IERC20(token).safeTransfer(to, amount);
    }
}
