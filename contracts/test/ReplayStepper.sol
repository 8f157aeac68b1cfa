// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

interface IMockToken {
    function mint(address to, uint256 amount) external;
    function burn(address from, uint256 amount) external;
}

interface ICustodian {
    function moveCollateral(address asset, address to, uint256 amount) external;
}

interface IReserve {
    function deposit(address token, uint256 amount) external;
    function payFunding(address token, address to, uint256 amount) external;
    function buyBack(uint256 usdcIn, uint256 minHusdOut, uint160 sqrtPriceLimitX96)
        external
        returns (uint256 usdcSpent, uint256 husdBought);
}

interface IHusd {
    function mint(address to, uint256 amount) external;
    function burnFrom(address from, uint256 amount) external;
}

interface IV3Pool {
    function token0() external view returns (address);
    function token1() external view returns (address);
    function slot0() external view returns (uint160, int24, uint16, uint16, uint16, uint8, bool);
    function swap(address recipient, bool zeroForOne, int256 amountSpecified, uint160 sqrtPriceLimitX96, bytes calldata data)
        external
        returns (int256 amount0, int256 amount1);
    function burn(int24 tickLower, int24 tickUpper, uint128 amount) external returns (uint256, uint256);
    function collect(address recipient, int24 tickLower, int24 tickUpper, uint128 amount0Requested, uint128 amount1Requested)
        external
        returns (uint128, uint128);
}

/// @notice Test helper for the chain replay (sim/chain/replay.py): one simulated step = one
/// transaction. The stepper is the replay's actor (arbitrageur, hedge operator, LP, reserve payer):
/// it runs a list of calls, each on its own -- a call that reverts is reported (`CallFailed` with the
/// revert data) and the others still run, so the replay records what the chain refused. It also moves
/// a Uniswap v3 pool to a price (swap bounded by sqrtPriceLimitX96), owns the pool positions, sets
/// mock-token balances, and reads many words in one eth_call without failing on one bad read.
contract ReplayStepper {
    using SafeERC20 for IERC20;

    struct Call {
        address target;
        bytes data;
    }

    address public immutable owner;
    address private _activePool;

    event CallFailed(uint256 indexed index, bytes reason);
    event Moved(address indexed pool, int256 amount0, int256 amount1, uint160 sqrtBefore, uint160 sqrtAfter);
    event Traded(address indexed pool, int256 amount0, int256 amount1, uint160 sqrtBefore, uint160 sqrtAfter);
    event BuyBackSettled(uint256 husdBought, uint256 husdModel);

    error NotOwner();
    error UnauthorizedCallback(address caller);

    constructor() {
        owner = msg.sender;
    }

    modifier onlyOwnerOrSelf() {
        if (msg.sender != owner && msg.sender != address(this)) revert NotOwner();
        _;
    }

    function step(Call[] calldata calls) external onlyOwnerOrSelf returns (uint256 failed) {
        for (uint256 i = 0; i < calls.length; i++) {
            (bool ok, bytes memory ret) = calls[i].target.call(calls[i].data);
            if (!ok) {
                failed++;
                emit CallFailed(i, ret);
            }
        }
    }

    function approve(address token, address spender) external onlyOwnerOrSelf {
        IERC20(token).forceApprove(spender, type(uint256).max);
    }

    /// @notice Mock-token balance of `holder` := `target` (mint or burn the difference).
    function setBalance(address token, address holder, uint256 target) external onlyOwnerOrSelf {
        uint256 bal = IERC20(token).balanceOf(holder);
        if (target > bal) IMockToken(token).mint(holder, target - bal);
        else if (bal > target) IMockToken(token).burn(holder, bal - target);
    }

    /// @notice `custodian`'s balance of `token` := `target` the way a treasury does it: the excess moves
    /// out through the custodian's `moveCollateral` (this contract holds its TREASURER_ROLE), a shortfall
    /// is paid in from this contract's inventory (funded by a whale on the fork). Works with real tokens.
    function syncCustody(address token, address custodian, uint256 target) external onlyOwnerOrSelf {
        uint256 bal = IERC20(token).balanceOf(custodian);
        if (target > bal) IERC20(token).safeTransfer(custodian, target - bal);
        else if (bal > target) ICustodian(custodian).moveCollateral(token, address(this), bal - target);
    }

    /// @notice The reserve's `token` balance := `target`: a deposit from here, or a payout to here (FUNDING_PAYER_ROLE).
    /// The replay settles what a buy-back spent on the chain's pool beyond the model's spend on its own curve.
    function syncReserve(address token, address reserve, uint256 target) external onlyOwnerOrSelf {
        uint256 bal = IERC20(token).balanceOf(reserve);
        if (target > bal) IReserve(reserve).deposit(token, target - bal);
        else if (bal > target) IReserve(reserve).payFunding(token, address(this), bal - target);
    }

    /// @notice The reserve's buy-back of the model's trade (`usdcIn` of the reserve's USDC, through
    /// `ReserveFund.buyBack` as its BUYBACK_ROLE operator), then the HUSD leg settled to the model's `husdModel`:
    /// the chain's tick-snapped curve gives a little more or less HUSD for the same USDC. Burned: the supply is
    /// put where the model's burn left it (mint the excess here, or burn the shortfall from here; needs HUSD's
    /// MINTER_ROLE); held: the reserve's HUSD is topped up from here or the excess paid out here.
    function buyBackSettled(IReserve reserve, address husd, uint256 usdcIn, uint160 sqrtLimitX96, uint256 husdModel, bool burned)
        external
        onlyOwnerOrSelf
    {
        (, uint256 bought) = reserve.buyBack(usdcIn, 0, sqrtLimitX96);
        if (bought > husdModel) {
            if (burned) IHusd(husd).mint(address(this), bought - husdModel);
            else reserve.payFunding(husd, address(this), bought - husdModel);
        } else if (husdModel > bought) {
            if (burned) IHusd(husd).burnFrom(address(this), husdModel - bought);
            else IERC20(husd).safeTransfer(address(reserve), husdModel - bought);
        }
        emit BuyBackSettled(bought, husdModel);
    }

    /// @notice One exact-input trade (an agent's pool trade in the model): `amountIn` of the input token,
    /// stopping at `sqrtLimitX96` if the price gets there first; paid from here. A price already at or past
    /// the limit is a no-op (the trade would not move it further), not a revert.
    function swapExactIn(IV3Pool pool, bool zeroForOne, uint256 amountIn, uint160 sqrtLimitX96) external onlyOwnerOrSelf {
        (uint160 before,,,,,,) = pool.slot0();
        if (zeroForOne ? sqrtLimitX96 >= before : sqrtLimitX96 <= before) {
            emit Traded(address(pool), 0, 0, before, before);
            return;
        }
        _activePool = address(pool);
        (int256 a0, int256 a1) = pool.swap(address(this), zeroForOne, int256(amountIn), sqrtLimitX96, "");
        _activePool = address(0);
        (uint160 afterP,,,,,,) = pool.slot0();
        emit Traded(address(pool), a0, a1, before, afterP);
    }

    /// @notice Swap until the pool's price reaches `sqrtTargetX96` (or liquidity runs out), paying from here.
    function swapToPrice(IV3Pool pool, uint160 sqrtTargetX96) external onlyOwnerOrSelf {
        (uint160 before,,,,,,) = pool.slot0();
        if (before == sqrtTargetX96) return;
        bool zeroForOne = sqrtTargetX96 < before;
        _activePool = address(pool);
        (int256 a0, int256 a1) = pool.swap(address(this), zeroForOne, type(int128).max, sqrtTargetX96, "");
        _activePool = address(0);
        (uint160 afterP,,,,,,) = pool.slot0();
        emit Moved(address(pool), a0, a1, before, afterP);
    }

    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata) external {
        if (msg.sender != _activePool) revert UnauthorizedCallback(msg.sender);
        IV3Pool pool = IV3Pool(msg.sender);
        if (amount0Delta > 0) IERC20(pool.token0()).safeTransfer(msg.sender, uint256(amount0Delta));
        if (amount1Delta > 0) IERC20(pool.token1()).safeTransfer(msg.sender, uint256(amount1Delta));
    }

    /// @notice Withdraw `amount` of liquidity from one of this contract's positions (burn + collect).
    function removeLiquidity(IV3Pool pool, int24 tickLower, int24 tickUpper, uint128 amount) external onlyOwnerOrSelf {
        pool.burn(tickLower, tickUpper, amount);
        pool.collect(address(this), tickLower, tickUpper, type(uint128).max, type(uint128).max);
    }

    /// @return out each `targets[i].staticcall(data[i])` decoded as one word; ok[i] false if it reverted
    function readWords(address[] calldata targets, bytes[] calldata data)
        external
        view
        returns (uint256[] memory out, bool[] memory ok)
    {
        out = new uint256[](targets.length);
        ok = new bool[](targets.length);
        for (uint256 i = 0; i < targets.length; i++) {
            (bool s, bytes memory ret) = targets[i].staticcall(data[i]);
            if (s && ret.length >= 32) {
                out[i] = abi.decode(ret, (uint256));
                ok[i] = true;
            }
        }
    }
}
