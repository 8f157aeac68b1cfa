// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ZeroAmount, ZeroAddress} from "./Errors.sol";

/// @title ReserveFund: the first-loss buffer
/// @notice Receives its share of revenue (and mint/redeem/PSM fees); pays negative funding to the
/// hedge venues and covers deficits, each under a per-day payout limit counted in token units.
contract ReserveFund is AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;

    bytes32 public constant FUNDING_PAYER_ROLE = keccak256("FUNDING_PAYER_ROLE");
    bytes32 public constant COVERER_ROLE = keccak256("COVERER_ROLE");
    uint256 public constant DAY = 1 days;

    mapping(address token => uint256) public maxPayoutPerDay;
    mapping(address token => mapping(uint256 day => uint256)) public paidOnDay;

    error PayoutLimitExceeded(address token, uint256 requested, uint256 remaining);

    event RevenueReceived(address indexed token, address indexed from, uint256 amount);
    event FundingPaid(address indexed token, address indexed to, uint256 amount, address indexed by);
    event DeficitCovered(address indexed token, address indexed to, uint256 amount, address indexed by);
    event PayoutLimitSet(address indexed token, uint256 maxPayoutPerDay);

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
