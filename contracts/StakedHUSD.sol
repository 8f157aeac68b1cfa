// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IStakedHUSD} from "./interfaces/IStakedHUSD.sol";
import {ZeroAmount, ZeroAddress} from "./Errors.sol";

/// @title StakedHUSD (sHUSD): ERC-4626 vault over HUSD with an unstaking cooldown and vested rewards
/// @notice Rewards sent by REWARDER_ROLE vest linearly over `vestingPeriod`, so the share price rises
/// smoothly and a sandwich around the reward transfer gains nothing. With a cooldown set, ERC-4626
/// withdraw/redeem are closed: holders call `cooldownShares`/`cooldownAssets`, which burns the shares
/// at the current price and parks the HUSD, then `unstake` after the cooldown.
contract StakedHUSD is ERC4626, AccessControl, ReentrancyGuard, IStakedHUSD {
    using SafeERC20 for IERC20;

    bytes32 public constant REWARDER_ROLE = keccak256("REWARDER_ROLE");
    uint256 public constant MAX_COOLDOWN = 90 days;

    struct Cooldown {
        uint104 cooldownEnd;
        uint152 underlyingAmount;
    }

    uint256 public vestingPeriod;
    uint256 public vestingAmount;
    uint256 public lastDistribution;
    uint256 public cooldownDuration;
    uint256 public totalCooling; // HUSD parked for unstakers, excluded from totalAssets
    mapping(address => Cooldown) public cooldowns;

    error CooldownActive();
    error CooldownNotFinished(uint256 cooldownEnd);
    error NothingToUnstake();
    error StillVesting(uint256 unvested);
    error InvalidCooldown(uint256 duration);
    error ExcessiveRedeem(uint256 shares, uint256 maxShares);
    error ExcessiveWithdraw(uint256 assets, uint256 maxAssets);

    event RewardsReceived(uint256 amount, uint256 vestingAmount);
    event CooldownStarted(address indexed owner, uint256 assets, uint256 shares, uint256 cooldownEnd);
    event Unstaked(address indexed owner, address indexed receiver, uint256 assets);
    event CooldownDurationSet(uint256 previous, uint256 duration);
    event VestingPeriodSet(uint256 vestingPeriod);

    constructor(address admin, IERC20 husd, uint256 cooldownDuration_, uint256 vestingPeriod_)
        ERC20("Staked Hybrid USD", "sHUSD")
        ERC4626(husd)
    {
        if (admin == address(0) || address(husd) == address(0)) revert ZeroAddress();
        if (cooldownDuration_ > MAX_COOLDOWN) revert InvalidCooldown(cooldownDuration_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        cooldownDuration = cooldownDuration_;
        vestingPeriod = vestingPeriod_;
        emit CooldownDurationSet(0, cooldownDuration_);
        emit VestingPeriodSet(vestingPeriod_);
    }

    // ------------------------------------------------------------------ rewards

    /// @notice Add `amount` HUSD of rewards; it vests over `vestingPeriod`. Only when the last batch
    /// has fully vested, so the schedule is never reset under stakers' feet.
    function transferInRewards(uint256 amount) external nonReentrant onlyRole(REWARDER_ROLE) {
        if (amount == 0) revert ZeroAmount();
        uint256 unvested = unvestedAmount();
        if (unvested != 0) revert StillVesting(unvested);
        vestingAmount = amount;
        lastDistribution = block.timestamp;
        IERC20(asset()).safeTransferFrom(msg.sender, address(this), amount);
        emit RewardsReceived(amount, amount);
    }

    function unvestedAmount() public view returns (uint256) {
        uint256 elapsed = block.timestamp - lastDistribution;
        if (elapsed >= vestingPeriod) return 0;
        return vestingAmount * (vestingPeriod - elapsed) / vestingPeriod;
    }

    /// @notice HUSD held minus what is still vesting minus what is parked for unstakers.
    function totalAssets() public view override returns (uint256) {
        return IERC20(asset()).balanceOf(address(this)) - unvestedAmount() - totalCooling;
    }

    // ------------------------------------------------------------------ cooldown

    function cooldownShares(uint256 shares) external nonReentrant returns (uint256 assets) {
        if (shares == 0) revert ZeroAmount();
        uint256 maxShares = super.maxRedeem(msg.sender);
        if (shares > maxShares) revert ExcessiveRedeem(shares, maxShares);
        assets = previewRedeem(shares);
        if (assets == 0) revert ZeroAmount();
        _startCooldown(assets, shares);
    }

    function cooldownAssets(uint256 assets) external nonReentrant returns (uint256 shares) {
        if (assets == 0) revert ZeroAmount();
        uint256 maxAssets = super.maxWithdraw(msg.sender);
        if (assets > maxAssets) revert ExcessiveWithdraw(assets, maxAssets);
        shares = previewWithdraw(assets);
        _startCooldown(assets, shares);
    }

    function unstake(address receiver) external nonReentrant returns (uint256 assets) {
        if (receiver == address(0)) revert ZeroAddress();
        Cooldown memory c = cooldowns[msg.sender];
        assets = c.underlyingAmount;
        if (assets == 0) revert NothingToUnstake();
        // A cooldown ended early if governance shortened (or zeroed) the duration.
        if (block.timestamp < c.cooldownEnd && cooldownDuration != 0) revert CooldownNotFinished(c.cooldownEnd);
        delete cooldowns[msg.sender];
        totalCooling -= assets;
        IERC20(asset()).safeTransfer(receiver, assets);
        emit Unstaked(msg.sender, receiver, assets);
    }

    function setCooldownDuration(uint256 duration) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (duration > MAX_COOLDOWN) revert InvalidCooldown(duration);
        emit CooldownDurationSet(cooldownDuration, duration);
        cooldownDuration = duration;
    }

    function setVestingPeriod(uint256 vestingPeriod_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 unvested = unvestedAmount();
        if (unvested != 0) revert StillVesting(unvested);
        vestingPeriod = vestingPeriod_;
        emit VestingPeriodSet(vestingPeriod_);
    }

    // ------------------------------------------------------------------ ERC-4626 exits gated

    function maxWithdraw(address owner) public view override returns (uint256) {
        return cooldownDuration == 0 ? super.maxWithdraw(owner) : 0;
    }

    function maxRedeem(address owner) public view override returns (uint256) {
        return cooldownDuration == 0 ? super.maxRedeem(owner) : 0;
    }

    function withdraw(uint256 assets, address receiver, address owner) public override nonReentrant returns (uint256) {
        if (cooldownDuration != 0) revert CooldownActive();
        return super.withdraw(assets, receiver, owner);
    }

    function redeem(uint256 shares, address receiver, address owner) public override nonReentrant returns (uint256) {
        if (cooldownDuration != 0) revert CooldownActive();
        return super.redeem(shares, receiver, owner);
    }

    function deposit(uint256 assets, address receiver) public override nonReentrant returns (uint256) {
        if (assets == 0) revert ZeroAmount();
        return super.deposit(assets, receiver);
    }

    function mint(uint256 shares, address receiver) public override nonReentrant returns (uint256) {
        if (shares == 0) revert ZeroAmount();
        return super.mint(shares, receiver);
    }

    function _startCooldown(uint256 assets, uint256 shares) internal {
        uint256 end = block.timestamp + cooldownDuration;
        Cooldown storage c = cooldowns[msg.sender];
        c.cooldownEnd = uint104(end);
        c.underlyingAmount += uint152(assets);
        totalCooling += assets;
        _burn(msg.sender, shares);
        emit Withdraw(msg.sender, address(this), msg.sender, assets, shares);
        emit CooldownStarted(msg.sender, assets, shares, end);
    }
}
