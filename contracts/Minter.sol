// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {HUSD} from "./HUSD.sol";
import {IOracleRouter} from "./interfaces/IOracleRouter.sol";
import {IHedgeLedger} from "./interfaces/IHedgeLedger.sol";
import {IMinter} from "./interfaces/IMinter.sol";
import {IStakedHUSD} from "./interfaces/IStakedHUSD.sol";
import {ZeroAmount, ZeroAddress, SlippageExceeded, FeeTooHigh} from "./Errors.sol";

/// @title Minter: mint HUSD against the collateral basket and redeem HUSD for it
/// @notice 1 HUSD per $1 of collateral at the oracle router's price, less a fee. Only whitelisted
/// accounts (MINTER_ROLE / REDEEMER_ROLE) may mint or redeem. Fees are never minted as HUSD: they stay
/// in custody as surplus collateral (a mint issues the collateral's value less the fee; a redeem burns
/// all the HUSD in and pays out its value less the fee). Both directions have a per-block and a
/// per-hour cap counted in the HUSD that changes hands: issued on a mint, burned on a redeem.
/// The collateral sits in this contract (custody). For hedged sleeves (BTC, gold) a mint must leave
/// the net delta inside the HedgeLedger's bound. Staker rewards are minted by a treasurer into the
/// registered sHUSD vault's vesting path, never more than the realised surplus (`distributeRewards`).
/// Collateral leaves custody only to a registered custodian (HedgeLedger) or a registered destination
/// (an exchange account for hedge margin, the reserve fund).
/// The caps are shared by all redeemers on purpose: they bound how fast the book can be drained,
/// whoever drains it (contracts/README.md, "Decisions").
contract Minter is AccessControl, ReentrancyGuard, IMinter {
    using SafeERC20 for IERC20;

    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    bytes32 public constant REDEEMER_ROLE = keccak256("REDEEMER_ROLE");
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    bytes32 public constant TREASURER_ROLE = keccak256("TREASURER_ROLE");
    uint256 public constant BPS = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant HOUR = 3600;

    struct Collateral {
        bool enabled;
        uint8 decimals;
    }

    HUSD public immutable husd;
    IOracleRouter public oracle;
    IHedgeLedger public hedgeLedger;
    IStakedHUSD public rewardVault;
    /// Where collateral may leave custody to, besides the HedgeLedger's custodians: exchange accounts
    /// holding the hedges' margin, and the reserve fund (its share of the surplus).
    mapping(address account => bool) public isDestination;

    mapping(address asset => Collateral) public collaterals;
    address[] internal _collateralList;

    uint256 public mintFeeBps;
    uint256 public redeemFeeBps;
    uint256 public maxMintPerBlock;
    uint256 public maxMintPerHour;
    uint256 public maxRedeemPerBlock;
    uint256 public maxRedeemPerHour;
    bool public mintPaused;
    bool public redeemPaused;

    mapping(uint256 blockNumber => uint256) public mintedInBlock;
    mapping(uint256 hour => uint256) public mintedInHour;
    mapping(uint256 blockNumber => uint256) public redeemedInBlock;
    mapping(uint256 hour => uint256) public redeemedInHour;

    error UnsupportedCollateral(address asset);
    error MintPaused();
    error RedeemPaused();
    error PerBlockCapExceeded(uint256 requested, uint256 remaining);
    error PerHourCapExceeded(uint256 requested, uint256 remaining);
    error CapNotLowered(uint256 current, uint256 requested);
    error InsufficientCollateral(address asset, uint256 requested, uint256 available);
    error RewardVaultNotSet();
    error HedgeLedgerNotSet();
    error RewardsExceedSurplus(uint256 amount, uint256 surplus);
    error UnregisteredDestination(address to);

    event Minted(
        address indexed account, address indexed asset, uint256 amountIn, uint256 husdOut, uint256 fee, uint256 price
    );
    event Redeemed(
        address indexed account, address indexed asset, uint256 husdIn, uint256 amountOut, uint256 fee, uint256 price
    );
    event CollateralSet(address indexed asset, bool enabled, uint8 decimals);
    event FeesSet(uint256 mintFeeBps, uint256 redeemFeeBps);
    event CapsSet(uint256 maxMintPerBlock, uint256 maxMintPerHour, uint256 maxRedeemPerBlock, uint256 maxRedeemPerHour);
    event MintPausedSet(bool paused, address indexed by);
    event RedeemPausedSet(bool paused, address indexed by);
    event OracleSet(address indexed oracle);
    event HedgeLedgerSet(address indexed hedgeLedger);
    event RewardsDistributed(address indexed vault, uint256 amount, address indexed by);
    event CollateralMoved(address indexed asset, address indexed to, uint256 amount, address indexed by);
    event RewardVaultSet(address indexed vault);
    event DestinationSet(address indexed account, bool allowed);

    constructor(
        address admin,
        HUSD husd_,
        IOracleRouter oracle_,
        uint256 mintFeeBps_,
        uint256 redeemFeeBps_,
        uint256[4] memory caps // maxMintPerBlock, maxMintPerHour, maxRedeemPerBlock, maxRedeemPerHour
    ) {
        if (admin == address(0) || address(husd_) == address(0) || address(oracle_) == address(0)) revert ZeroAddress();
        husd = husd_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GUARDIAN_ROLE, admin);
        oracle = oracle_;
        emit OracleSet(address(oracle_));
        _setFees(mintFeeBps_, redeemFeeBps_);
        _setCaps(caps[0], caps[1], caps[2], caps[3]);
    }

    // ------------------------------------------------------------------ user actions

    /// @notice Deposit `amountIn` of `asset` and receive HUSD worth its oracle value less the mint fee;
    /// the fee's worth of collateral stays in custody as surplus (no HUSD is minted for it).
    function mint(address asset, uint256 amountIn, uint256 minHusdOut, address recipient)
        external
        nonReentrant
        onlyRole(MINTER_ROLE)
        returns (uint256 husdOut)
    {
        if (mintPaused) revert MintPaused();
        if (amountIn == 0) revert ZeroAmount();
        if (recipient == address(0)) revert ZeroAddress();
        Collateral memory c = _collateral(asset);
        uint256 p = oracle.price(asset);
        uint256 gross = amountIn * p / 10 ** c.decimals; // 18-decimal dollars, rounded down
        if (gross == 0) revert ZeroAmount();
        uint256 fee = gross * mintFeeBps / BPS;
        husdOut = gross - fee;
        if (husdOut == 0) revert ZeroAmount();
        _useCap(mintedInBlock, mintedInHour, maxMintPerBlock, maxMintPerHour, husdOut);
        if (husdOut < minHusdOut) revert SlippageExceeded(husdOut, minHusdOut);

        IERC20(asset).safeTransferFrom(msg.sender, address(this), amountIn);
        if (address(hedgeLedger) != address(0) && hedgeLedger.isHedged(asset)) hedgeLedger.checkDelta(asset);
        husd.mint(recipient, husdOut);
        emit Minted(msg.sender, asset, amountIn, husdOut, fee, p);
    }

    /// @notice Burn `husdIn` HUSD (allowance to this contract needed) and receive `asset` worth it less
    /// the fee; the fee's worth of collateral stays in custody as surplus.
    function redeem(address asset, uint256 husdIn, uint256 minAmountOut, address recipient)
        external
        nonReentrant
        onlyRole(REDEEMER_ROLE)
        returns (uint256 amountOut)
    {
        if (redeemPaused) revert RedeemPaused();
        if (husdIn == 0) revert ZeroAmount();
        if (recipient == address(0)) revert ZeroAddress();
        Collateral memory c = _collateral(asset);
        uint256 p = oracle.price(asset);
        _useCap(redeemedInBlock, redeemedInHour, maxRedeemPerBlock, maxRedeemPerHour, husdIn);
        uint256 fee = husdIn * redeemFeeBps / BPS;
        uint256 net = husdIn - fee;
        amountOut = net * 10 ** c.decimals / p; // rounded down: never pays out more than the HUSD burned
        if (amountOut == 0) revert ZeroAmount();
        if (amountOut < minAmountOut) revert SlippageExceeded(amountOut, minAmountOut);
        uint256 available = IERC20(asset).balanceOf(address(this));
        if (amountOut > available) revert InsufficientCollateral(asset, amountOut, available);

        husd.burnFrom(msg.sender, husdIn);
        IERC20(asset).safeTransfer(recipient, amountOut);
        emit Redeemed(msg.sender, asset, husdIn, amountOut, fee, p);
    }

    // ------------------------------------------------------------------ views

    function collateralList() external view returns (address[] memory) {
        return _collateralList;
    }

    /// @notice USD value (18 decimals) of all collateral in custody at oracle prices.
    function collateralValue() external view returns (uint256 total) {
        uint256 n = _collateralList.length;
        for (uint256 i = 0; i < n; i++) {
            address a = _collateralList[i];
            uint256 bal = IERC20(a).balanceOf(address(this));
            if (bal != 0) total += bal * oracle.price(a) / 10 ** collaterals[a].decimals;
        }
    }

    function remainingMintInBlock() external view returns (uint256) {
        return _remaining(maxMintPerBlock, mintedInBlock[block.number]);
    }

    function remainingMintInHour() external view returns (uint256) {
        return _remaining(maxMintPerHour, mintedInHour[block.timestamp / HOUR]);
    }

    function previewMint(address asset, uint256 amountIn) external view returns (uint256 husdOut, uint256 fee) {
        Collateral memory c = _collateral(asset);
        uint256 gross = amountIn * oracle.price(asset) / 10 ** c.decimals;
        fee = gross * mintFeeBps / BPS;
        husdOut = gross - fee;
    }

    function previewRedeem(address asset, uint256 husdIn) external view returns (uint256 amountOut, uint256 fee) {
        Collateral memory c = _collateral(asset);
        fee = husdIn * redeemFeeBps / BPS;
        amountOut = (husdIn - fee) * 10 ** c.decimals / oracle.price(asset);
    }

    // ------------------------------------------------------------------ admin and guardian

    function setCollateral(address asset, bool enabled) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (asset == address(0)) revert ZeroAddress();
        uint8 dec = IERC20Metadata(asset).decimals();
        if (!_listed(asset)) _collateralList.push(asset);
        collaterals[asset] = Collateral(enabled, dec);
        emit CollateralSet(asset, enabled, dec);
    }

    function setFees(uint256 mintFeeBps_, uint256 redeemFeeBps_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setFees(mintFeeBps_, redeemFeeBps_);
    }

    function setCaps(uint256 mintPerBlock, uint256 mintPerHour, uint256 redeemPerBlock, uint256 redeemPerHour)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        _setCaps(mintPerBlock, mintPerHour, redeemPerBlock, redeemPerHour);
    }

    /// @notice Guardians may only tighten the mint caps; raising them is for the admin.
    function lowerMintCaps(uint256 mintPerBlock, uint256 mintPerHour) external onlyRole(GUARDIAN_ROLE) {
        if (mintPerBlock > maxMintPerBlock) revert CapNotLowered(maxMintPerBlock, mintPerBlock);
        if (mintPerHour > maxMintPerHour) revert CapNotLowered(maxMintPerHour, mintPerHour);
        _setCaps(mintPerBlock, mintPerHour, maxRedeemPerBlock, maxRedeemPerHour);
    }

    function setMintPaused(bool paused) external onlyRole(GUARDIAN_ROLE) {
        // Unpausing is the admin's call: a guardian key can stop minting, never restart it.
        if (!paused) _checkRole(DEFAULT_ADMIN_ROLE);
        mintPaused = paused;
        emit MintPausedSet(paused, msg.sender);
    }

    function setRedeemPaused(bool paused) external onlyRole(GUARDIAN_ROLE) {
        if (!paused) _checkRole(DEFAULT_ADMIN_ROLE);
        redeemPaused = paused;
        emit RedeemPausedSet(paused, msg.sender);
    }

    function setOracle(IOracleRouter oracle_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(oracle_) == address(0)) revert ZeroAddress();
        oracle = oracle_;
        emit OracleSet(address(oracle_));
    }

    function setHedgeLedger(IHedgeLedger ledger) external onlyRole(DEFAULT_ADMIN_ROLE) {
        hedgeLedger = ledger;
        emit HedgeLedgerSet(address(ledger));
    }

    /// @notice The one vault staker rewards go to (this contract needs its REWARDER_ROLE).
    function setRewardVault(IStakedHUSD vault) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(vault) == address(0)) revert ZeroAddress();
        rewardVault = vault;
        emit RewardVaultSet(address(vault));
    }

    /// @notice Register (or drop) a destination for collateral: an exchange account (hedge margin) or the reserve fund.
    function setDestination(address account, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (account == address(0)) revert ZeroAddress();
        isDestination[account] = allowed;
        emit DestinationSet(account, allowed);
    }

    /// @notice Mint `amount` HUSD of staker rewards into the registered vault's vesting path, within the
    /// realised surplus: the HedgeLedger's backing without unrealised hedge gains, less the HUSD supply
    /// (revenue: T-bill yield, funding, retained fees). So rewards never leave the supply unbacked.
    /// Not counted in the mint caps (the surplus bounds it); reverts while any held asset's feed is unhealthy.
    function distributeRewards(uint256 amount) external nonReentrant onlyRole(TREASURER_ROLE) {
        if (amount == 0) revert ZeroAmount();
        IStakedHUSD vault = rewardVault;
        if (address(vault) == address(0)) revert RewardVaultNotSet();
        if (address(hedgeLedger) == address(0)) revert HedgeLedgerNotSet();
        uint256 backing = hedgeLedger.realisedBacking();
        uint256 supply = husd.totalSupply();
        uint256 surplus = backing > supply ? backing - supply : 0;
        if (amount > surplus) revert RewardsExceedSurplus(amount, surplus);
        husd.mint(address(this), amount);
        IERC20(address(husd)).forceApprove(address(vault), amount);
        vault.transferInRewards(amount);
        emit RewardsDistributed(address(vault), amount, msg.sender);
    }

    /// @notice Move collateral out of custody: to another registered custodian (e.g. USDC to the PSM
    /// buffer) or a registered destination (spot to an exchange as margin, USDC to the reserve fund).
    /// Nowhere else.
    function moveCollateral(address asset, address to, uint256 amount) external nonReentrant onlyRole(TREASURER_ROLE) {
        if (amount == 0) revert ZeroAmount();
        if (to == address(0)) revert ZeroAddress();
        bool custodian = address(hedgeLedger) != address(0) && hedgeLedger.isCustodian(to);
        if (to == address(this) || !(custodian || isDestination[to])) revert UnregisteredDestination(to);
        IERC20(asset).safeTransfer(to, amount);
        emit CollateralMoved(asset, to, amount, msg.sender);
    }

    // ------------------------------------------------------------------ internal

    function _collateral(address asset) internal view returns (Collateral memory c) {
        c = collaterals[asset];
        if (!c.enabled) revert UnsupportedCollateral(asset);
    }

    function _listed(address asset) internal view returns (bool) {
        uint256 n = _collateralList.length;
        for (uint256 i = 0; i < n; i++) {
            if (_collateralList[i] == asset) return true;
        }
        return false;
    }

    function _useCap(
        mapping(uint256 => uint256) storage perBlock,
        mapping(uint256 => uint256) storage perHour,
        uint256 blockCap,
        uint256 hourCap,
        uint256 amount
    ) internal {
        uint256 usedBlock = perBlock[block.number];
        if (usedBlock + amount > blockCap) revert PerBlockCapExceeded(amount, _remaining(blockCap, usedBlock));
        uint256 hour = block.timestamp / HOUR;
        uint256 usedHour = perHour[hour];
        if (usedHour + amount > hourCap) revert PerHourCapExceeded(amount, _remaining(hourCap, usedHour));
        perBlock[block.number] = usedBlock + amount;
        perHour[hour] = usedHour + amount;
    }

    function _remaining(uint256 cap, uint256 used) internal pure returns (uint256) {
        return used >= cap ? 0 : cap - used;
    }

    function _setFees(uint256 mintFeeBps_, uint256 redeemFeeBps_) internal {
        if (mintFeeBps_ > MAX_FEE_BPS) revert FeeTooHigh(mintFeeBps_, MAX_FEE_BPS);
        if (redeemFeeBps_ > MAX_FEE_BPS) revert FeeTooHigh(redeemFeeBps_, MAX_FEE_BPS);
        mintFeeBps = mintFeeBps_;
        redeemFeeBps = redeemFeeBps_;
        emit FeesSet(mintFeeBps_, redeemFeeBps_);
    }

    function _setCaps(uint256 mintPerBlock, uint256 mintPerHour, uint256 redeemPerBlock, uint256 redeemPerHour) internal {
        maxMintPerBlock = mintPerBlock;
        maxMintPerHour = mintPerHour;
        maxRedeemPerBlock = redeemPerBlock;
        maxRedeemPerHour = redeemPerHour;
        emit CapsSet(mintPerBlock, mintPerHour, redeemPerBlock, redeemPerHour);
    }
}
