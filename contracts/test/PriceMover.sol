// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

interface IUniswapV3PoolSwap {
    function token0() external view returns (address);
    function token1() external view returns (address);
    function swap(address recipient, bool zeroForOne, int256 amountSpecified, uint160 sqrtPriceLimitX96, bytes calldata data)
        external
        returns (int256 amount0, int256 amount1);
}

/// @notice Test helper for the chain replay (sim/chain): swap on a Uniswap v3 pool up to a
/// sqrtPriceLimit, paying from the caller, so the pool lands on the simulator's price.
contract PriceMover {
    using SafeERC20 for IERC20;

    address private _activePool;
    address private _payer;

    event Moved(address indexed pool, int256 amount0, int256 amount1);

    error UnauthorizedCallback(address caller);

    function swapToPrice(IUniswapV3PoolSwap pool, bool zeroForOne, uint256 maxAmountIn, uint160 sqrtPriceLimitX96)
        external
        returns (int256 amount0, int256 amount1)
    {
        _activePool = address(pool);
        _payer = msg.sender;
        (amount0, amount1) = pool.swap(msg.sender, zeroForOne, int256(maxAmountIn), sqrtPriceLimitX96, "");
        _activePool = address(0);
        emit Moved(address(pool), amount0, amount1);
    }

    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata) external {
        if (msg.sender != _activePool) revert UnauthorizedCallback(msg.sender);
        IUniswapV3PoolSwap pool = IUniswapV3PoolSwap(msg.sender);
        if (amount0Delta > 0) IERC20(pool.token0()).safeTransferFrom(_payer, msg.sender, uint256(amount0Delta));
        if (amount1Delta > 0) IERC20(pool.token1()).safeTransferFrom(_payer, msg.sender, uint256(amount1Delta));
    }
}
