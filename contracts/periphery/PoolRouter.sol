// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IUniswapV3PoolMinimal, UniswapV3Constants} from "../interfaces/IUniswapV3PoolMinimal.sol";
import {ZeroAmount, SlippageExceeded} from "../Errors.sol";

/// @title PoolRouter: the callbacks an EOA needs to use a real Uniswap v3 pool
/// @notice Not an AMM: it forwards to the pool and pays the pool from the caller inside the mint
/// and swap callbacks (the job of v3-periphery's NonfungiblePositionManager/SwapRouter, reduced to
/// what the deploy script, tests and replays need). Liquidity positions are owned by `recipient`.
contract PoolRouter is ReentrancyGuard {
    using SafeERC20 for IERC20;

    address internal _activePool;
    address internal _payer;

    error UnauthorizedCallback(address caller);

    function addLiquidity(IUniswapV3PoolMinimal pool, int24 tickLower, int24 tickUpper, uint128 liquidity, address recipient)
        external
        nonReentrant
        returns (uint256 amount0, uint256 amount1)
    {
        if (liquidity == 0) revert ZeroAmount();
        _activePool = address(pool);
        _payer = msg.sender;
        (amount0, amount1) = pool.mint(recipient, tickLower, tickUpper, liquidity, "");
        _activePool = address(0);
    }

    /// @notice Swap exactly `amountIn` of `tokenIn` for the pool's other token.
    function exactInput(IUniswapV3PoolMinimal pool, address tokenIn, uint256 amountIn, uint256 minAmountOut, address recipient)
        external
        nonReentrant
        returns (uint256 amountOut)
    {
        if (amountIn == 0) revert ZeroAmount();
        bool zeroForOne = tokenIn == pool.token0();
        _activePool = address(pool);
        _payer = msg.sender;
        (int256 a0, int256 a1) = pool.swap(
            recipient,
            zeroForOne,
            int256(amountIn),
            zeroForOne ? UniswapV3Constants.MIN_SQRT_RATIO + 1 : UniswapV3Constants.MAX_SQRT_RATIO - 1,
            ""
        );
        _activePool = address(0);
        amountOut = uint256(-(zeroForOne ? a1 : a0));
        if (amountOut < minAmountOut) revert SlippageExceeded(amountOut, minAmountOut);
    }

    function uniswapV3MintCallback(uint256 amount0Owed, uint256 amount1Owed, bytes calldata) external {
        if (msg.sender != _activePool) revert UnauthorizedCallback(msg.sender);
        IUniswapV3PoolMinimal pool = IUniswapV3PoolMinimal(msg.sender);
        if (amount0Owed != 0) IERC20(pool.token0()).safeTransferFrom(_payer, msg.sender, amount0Owed);
        if (amount1Owed != 0) IERC20(pool.token1()).safeTransferFrom(_payer, msg.sender, amount1Owed);
    }

    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata) external {
        if (msg.sender != _activePool) revert UnauthorizedCallback(msg.sender);
        IUniswapV3PoolMinimal pool = IUniswapV3PoolMinimal(msg.sender);
        if (amount0Delta > 0) IERC20(pool.token0()).safeTransferFrom(_payer, msg.sender, uint256(amount0Delta));
        if (amount1Delta > 0) IERC20(pool.token1()).safeTransferFrom(_payer, msg.sender, uint256(amount1Delta));
    }
}
