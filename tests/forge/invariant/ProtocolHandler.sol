// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Fixture} from "../utils/Fixture.sol";
import {Vm} from "../utils/Base.sol";
import {Minter} from "../../../contracts/Minter.sol";
import {OracleRouter} from "../../../contracts/OracleRouter.sol";
import {HedgeLedger} from "../../../contracts/HedgeLedger.sol";
import {PegStabilityModule} from "../../../contracts/PegStabilityModule.sol";
import {StakedHUSD} from "../../../contracts/StakedHUSD.sol";
import {ReserveFund} from "../../../contracts/ReserveFund.sol";
import {Backstop} from "../../../contracts/Backstop.sol";
import {Guardian} from "../../../contracts/Guardian.sol";
import {HYB} from "../../../contracts/HYB.sol";
import {ZeroAmount, SlippageExceeded} from "../../../contracts/Errors.sol";

/// Actors and keepers driving the deployed protocol with bounded inputs. Every action either succeeds
/// or reverts with one of the named errors its preconditions allow (anything else is counted in
/// `unexpectedReverts`); no action itself reverts (the suite runs with fail_on_revert). Ghost state
/// records what the invariants compare with the chain.
contract ProtocolHandler is Fixture {
    uint256 internal constant HOUR = 3600;
    uint256 internal constant DAY = 86_400;
    uint256 internal constant TOL = 8;
    bytes4 internal constant ERROR_STRING = 0x08c379a0; // Error(string), Uniswap v3's require messages // wei of floor rounding an action may cost the surplus (4 assets, 2 custodians)

    address[3] public actors = [address(0xA1), address(0xA2), address(0xA3)];
    address public stranger = address(0x5752);
    int256[N_ASSETS] public goodAnswer; // the last in-band answer pushed per feed (8 decimals)

    // ghosts
    uint256 public initialMinted;
    uint256 public ghostMinted; // HUSD minted by role holders through the handler (mint, swapIn, rewards)
    uint256 public ghostBurned;
    uint256[N_ASSETS] public ghostCustody; // the Minter's balance of each asset as its flows say
    int256 public recordedLoss; // surplus lost to market actions (prices, hedge reports, time)
    uint256 public roundingAllowance;
    uint256 public unexpectedReverts;
    bytes4 public lastUnexpected;
    uint256 public mintsWhilePaused;
    uint256 public coveredRedeemsRefused;
    uint256 public sharePriceFalls;
    uint256 public lastSharePrice;
    uint256 public unauthorizedSuccesses;
    uint256 public missingEvents;
    uint256 public surplusDecreases; // a non-market action that lowered backing - supply
    uint256 public maxCeiling;
    uint256 public capsExceeded; // a block or hour whose mint/redeem use passed the largest cap in force in it
    uint256 public buyBacksPastLimits; // a buy-back that left HUSD above the trigger or the hour over its budget
    uint256 public buyBacksDone;
    uint256[] public touchedDays;
    mapping(uint256 => bool) internal _seenDay;
    mapping(uint256 => uint256[4]) public capInForceBlock; // max (mint, redeem) caps in force in a block
    mapping(uint256 => uint256[4]) public capInForceHour;
    mapping(uint256 => uint256) public payoutLimitInForceDay;
    mapping(bytes4 => uint256) public calls;

    constructor() {
        deployProtocol();
        initialMinted = husd.totalMinted();
        for (uint256 i = 0; i < N_ASSETS; i++) goodAnswer[i] = PRICE_8DP[i];
        vm.startPrank(gov);
        for (uint256 a = 0; a < actors.length; a++) {
            minter.grantRole(minter.MINTER_ROLE(), actors[a]);
            minter.grantRole(minter.REDEEMER_ROLE(), actors[a]);
        }
        vm.stopPrank();
        for (uint256 a = 0; a < actors.length; a++) {
            vm.startPrank(actors[a]);
            for (uint256 i = 0; i < N_ASSETS; i++) tokens[i].approve(address(minter), type(uint256).max);
            tokens[0].approve(address(psm), type(uint256).max);
            tokens[0].approve(address(router), type(uint256).max);
            tokens[0].approve(address(reserve), type(uint256).max);
            husd.approve(address(minter), type(uint256).max);
            husd.approve(address(psm), type(uint256).max);
            husd.approve(address(shusd), type(uint256).max);
            husd.approve(address(router), type(uint256).max);
            vm.stopPrank();
        }
        lastSharePrice = shusd.convertToAssets(WAD);
        maxCeiling = psm.ceiling();
        _touch();
    }

    // ------------------------------------------------------------------ users

    function mint(uint256 actorSeed, uint256 assetSeed, uint256 usdSeed, bool preHedge) external {
        _begin(this.mint.selector);
        address actor = actors[actorSeed % actors.length];
        uint256 i = assetSeed % N_ASSETS;
        uint256 amount = _units(i, _bound(usdSeed, 1, 1_500_000));
        tokens[i].mint(actor, amount);
        if (preHedge && i >= 2) _hedgeIncoming(i, amount);
        bool paused = minter.mintPaused();
        int256 s0 = surplus();
        vm.recordLogs();
        vm.prank(actor);
        try minter.mint(address(tokens[i]), amount, 0, actor) returns (uint256 out) {
            ghostMinted += out;
            ghostCustody[i] += amount;
            if (paused) mintsWhilePaused++;
            _expectEvent(address(minter), Minter.Minted.selector);
        } catch (bytes memory err) {
            bytes4 e = bytes4(err);
            if (paused && e != Minter.MintPaused.selector) mintsWhilePaused++;
            _allow(
                e,
                _any(e, Minter.MintPaused.selector, Minter.PerBlockCapExceeded.selector, Minter.PerHourCapExceeded.selector)
                    || _oracleError(e) || e == HedgeLedger.DeltaDriftExceeded.selector
                    || e == HedgeLedger.StaleHedgeReport.selector || e == ZeroAmount.selector
            );
        }
        _nonMarket(s0, false);
    }

    function redeem(uint256 actorSeed, uint256 assetSeed, uint256 fracBps) external {
        _begin(this.redeem.selector);
        address actor = actors[actorSeed % actors.length];
        uint256 i = assetSeed % N_ASSETS;
        uint256 husdIn = husd.balanceOf(actor) * _bound(fracBps, 0, 10_000) / 10_000;
        bool covered = _redeemCovered(i, husdIn);
        int256 s0 = surplus();
        vm.recordLogs();
        vm.prank(actor);
        try minter.redeem(address(tokens[i]), husdIn, 0, actor) returns (uint256 out) {
            ghostBurned += husdIn;
            ghostCustody[i] -= out;
            _expectEvent(address(minter), Minter.Redeemed.selector);
        } catch (bytes memory err) {
            bytes4 e = bytes4(err);
            if (covered) coveredRedeemsRefused++; // a mint pause must never stop a redemption the backing covers
            _allow(
                e,
                _any(e, Minter.RedeemPaused.selector, Minter.PerBlockCapExceeded.selector, Minter.PerHourCapExceeded.selector)
                    || _oracleError(e) || e == Minter.InsufficientCollateral.selector || e == ZeroAmount.selector
            );
        }
        _nonMarket(s0, false);
    }

    /// The PSM swaps at par inside USDC's band: the gap to the oracle price (a small depeg) is a market
    /// loss or gain of the swap, recorded; the rest must not lower the surplus.
    function psmSwapIn(uint256 actorSeed, uint256 usdSeed) external {
        _begin(this.psmSwapIn.selector);
        address actor = actors[actorSeed % actors.length];
        uint256 amount = _bound(usdSeed, 1, 3_000_000) * 1e6;
        tokens[0].mint(actor, amount);
        bool paused = psm.paused();
        int256 s0 = surplus();
        vm.prank(actor);
        try psm.swapIn(amount, actor) returns (uint256 out) {
            ghostMinted += out;
            if (paused) mintsWhilePaused++;
            s0 -= _parGap(amount, true);
        } catch (bytes memory err) {
            bytes4 e = bytes4(err);
            _allow(e, e == PegStabilityModule.PsmPaused.selector || e == PegStabilityModule.CeilingExceeded.selector || _oracleError(e));
        }
        _nonMarket(s0, false);
    }

    function psmSwapOut(uint256 actorSeed, uint256 fracBps) external {
        _begin(this.psmSwapOut.selector);
        address actor = actors[actorSeed % actors.length];
        uint256 husdIn = husd.balanceOf(actor) * _bound(fracBps, 0, 10_000) / 10_000;
        int256 s0 = surplus();
        vm.prank(actor);
        try psm.swapOut(husdIn, actor) returns (uint256 out) {
            ghostBurned += husdIn;
            s0 -= _parGap(out, false);
        } catch (bytes memory err) {
            bytes4 e = bytes4(err);
            _allow(
                e,
                _any(e, PegStabilityModule.PsmPaused.selector, PegStabilityModule.InsufficientReserves.selector, ZeroAmount.selector)
            );
        }
        _nonMarket(s0, false);
    }

    /// A trade on the HUSD/USDC pool (the secondary market): HUSD moves between holders, supply does not.
    function poolSwap(uint256 actorSeed, bool sellHusd, uint256 usdSeed) external {
        _begin(this.poolSwap.selector);
        address actor = actors[actorSeed % actors.length];
        uint256 usd = _bound(usdSeed, 1, 200_000);
        address tokenIn;
        uint256 amount;
        if (sellHusd) {
            amount = usd * WAD;
            if (amount > husd.balanceOf(actor)) amount = husd.balanceOf(actor);
            tokenIn = address(husd);
        } else {
            amount = usd * 1e6;
            tokens[0].mint(actor, amount);
            tokenIn = address(tokens[0]);
        }
        if (amount == 0) return;
        int256 s0 = surplus();
        vm.prank(actor);
        try router.exactInput(husdPool, tokenIn, amount, 0, actor) {}
        catch (bytes memory err) {
            _allow(bytes4(err), bytes4(err) == ERROR_STRING); // the pool's own require: price at its limit
        }
        _nonMarket(s0, false);
    }

    function stake(uint256 actorSeed, uint256 fracBps) external {
        _begin(this.stake.selector);
        address actor = actors[actorSeed % actors.length];
        uint256 assets = husd.balanceOf(actor) * _bound(fracBps, 0, 10_000) / 10_000;
        if (assets == 0) return;
        vm.prank(actor);
        try shusd.deposit(assets, actor) {}
        catch (bytes memory err) {
            _allow(bytes4(err), false);
        }
        _sharePrice();
    }

    function cooldown(uint256 actorSeed, uint256 fracBps) external {
        _begin(this.cooldown.selector);
        address actor = actors[actorSeed % actors.length];
        uint256 shares = shusd.balanceOf(actor) * _bound(fracBps, 0, 10_000) / 10_000;
        if (shares == 0) return;
        vm.prank(actor);
        try shusd.cooldownShares(shares) {}
        catch (bytes memory err) {
            _allow(bytes4(err), bytes4(err) == ZeroAmount.selector);
        }
        _sharePrice();
    }

    function unstake(uint256 actorSeed) external {
        _begin(this.unstake.selector);
        address actor = actors[actorSeed % actors.length];
        vm.prank(actor);
        try shusd.unstake(actor) {}
        catch (bytes memory err) {
            bytes4 e = bytes4(err);
            _allow(e, e == StakedHUSD.NothingToUnstake.selector || e == StakedHUSD.CooldownNotFinished.selector);
        }
        _sharePrice();
    }

    // ------------------------------------------------------------------ operators, keepers, treasury

    /// The hedge operator reports a short: notional near the sleeve's spot value, margin and PnL (a loss
    /// or a gain at the venue is a market event).
    function reportHedge(bool btc, uint256 notionalBps, uint256 marginUsd, uint256 pnlSeed) external {
        _begin(this.reportHedge.selector);
        uint256 i = btc ? 2 : 3;
        int256 s0 = surplus();
        uint256 spot;
        try ledger.spotValue(address(tokens[i])) returns (uint256 v) {
            spot = v;
        } catch {
            return; // no price: the operator waits for the feed
        }
        uint256 notional = spot * _bound(notionalBps, 9_000, 11_000) / 10_000;
        int256 pnl = (int256(_bound(pnlSeed, 0, 400_000)) - 200_000) * int256(WAD);
        vm.recordLogs();
        vm.prank(operator);
        ledger.report(btc ? BTC_PERP : XAU_PERP, notional, _bound(marginUsd, 0, 500_000) * WAD, pnl, "VENUE");
        _expectEvent(address(ledger), HedgeLedger.HedgeReported.selector);
        _market(s0);
    }

    /// A keeper or the feed moves a price: mostly within the jump bound, sometimes far past the band.
    function moveOracle(uint256 assetSeed, uint256 bpsSeed, bool up, uint256 modeSeed) external {
        _begin(this.moveOracle.selector);
        uint256 i = assetSeed % N_ASSETS;
        int256 s0 = surplus();
        if (modeSeed % 16 == 0) {
            feeds[i].setAnswer(up ? goodAnswer[i] * 1000 : goodAnswer[i] / 1000); // past the band: unhealthy
        } else {
            uint256 bps = _bound(bpsSeed, 0, MAX_JUMP_BPS[i] * 9 / 10) / 2; // half the bound: within the drift bound too
            int256 next = up ? goodAnswer[i] * int256(10_000 + bps) / 10_000 : goodAnswer[i] * int256(10_000 - bps) / 10_000;
            uint256 next18 = uint256(next) * 1e10;
            if (next18 < MIN_USD[i] || next18 > MAX_USD[i]) next = goodAnswer[i];
            goodAnswer[i] = next;
            feeds[i].setAnswer(next);
        }
        _market(s0);
    }

    /// Keepers push a fresh round of the last good price on every feed.
    function refreshFeeds() external {
        _begin(this.refreshFeeds.selector);
        int256 s0 = surplus();
        for (uint256 i = 0; i < N_ASSETS; i++) feeds[i].setAnswer(goodAnswer[i]);
        _market(s0);
    }

    function warp(uint256 secondsSeed, uint256 blocksSeed) external {
        _begin(this.warp.selector);
        int256 s0 = surplus();
        vm.warp(block.timestamp + _bound(secondsSeed, 1, 8 hours));
        vm.roll(block.number + _bound(blocksSeed, 1, 50));
        _market(s0);
        _touch();
    }

    function recapitalize(uint256 hybSeed) external {
        _begin(this.recapitalize.selector);
        uint256 amount = _bound(hybSeed, 1, 2_000_000) * WAD;
        int256 s0 = surplus();
        vm.recordLogs();
        vm.prank(keeper);
        try backstop.recapitalize(amount, 0) {
            _expectEvent(address(backstop), Backstop.Recapitalized.selector);
        } catch (bytes memory err) {
            bytes4 e = bytes4(err);
            // ERROR_STRING: the pool's own "SPL" once HYB sits at the backstop's floor price
            _allow(e, e == Backstop.DailyLimitExceeded.selector || e == HYB.EmissionBudgetExceeded.selector || e == ERROR_STRING);
        }
        _nonMarket(s0, false);
    }

    function distributeRewards(uint256 amountSeed) external {
        _begin(this.distributeRewards.selector);
        int256 s0 = surplus();
        uint256 cap = s0 > 0 ? uint256(s0) * 2 : 1_000 * WAD;
        uint256 amount = _bound(amountSeed, 1, cap);
        vm.recordLogs();
        vm.prank(treasurer);
        try minter.distributeRewards(amount) {
            ghostMinted += amount;
            _expectEvent(address(minter), Minter.RewardsDistributed.selector);
        } catch (bytes memory err) {
            bytes4 e = bytes4(err);
            _allow(e, e == Minter.RewardsExceedSurplus.selector || e == StakedHUSD.StillVesting.selector || _oracleError(e));
        }
        _nonMarket(s0, true);
        _sharePrice();
    }

    function reserveDeposit(uint256 actorSeed, uint256 usdSeed) external {
        _begin(this.reserveDeposit.selector);
        address actor = actors[actorSeed % actors.length];
        uint256 amount = _bound(usdSeed, 1, 2_000_000) * 1e6;
        tokens[0].mint(actor, amount);
        vm.prank(actor);
        reserve.deposit(address(tokens[0]), amount);
    }

    /// Negative funding paid to the venue, or a deficit covered into custody, under the daily limit.
    function reservePayout(bool funding, uint256 usdSeed) external {
        _begin(this.reservePayout.selector);
        uint256 amount = _bound(usdSeed, 1, 1_500_000) * 1e6;
        int256 s0 = surplus();
        vm.recordLogs();
        try this.payoutAs(funding, amount) {
            _expectEvent(
                address(reserve), funding ? ReserveFund.FundingPaid.selector : ReserveFund.DeficitCovered.selector
            );
            if (!funding) ghostCustody[0] += amount;
        } catch (bytes memory err) {
            bytes4 e = bytes4(err);
            _allow(e, e == ReserveFund.PayoutLimitExceeded.selector || e == IERC20Errors.ERC20InsufficientBalance.selector);
        }
        _nonMarket(s0, false);
        _touchDay();
    }

    /// The reserve buys HUSD back on the pool (exact USDC in, or exact HUSD out) and burns it: only below the
    /// trigger, within the hour's budget, with the reserve's own USDC; never past the trigger or the budget.
    function reserveBuyBack(uint256 usdSeed, bool exactOut, uint256 limitSeed) external {
        _begin(this.reserveBuyBack.selector);
        uint256 usd = _bound(usdSeed, 1, 800_000);
        (uint160 sqrtNow,,,,,,) = husdPool.slot0();
        uint160 limit = limitSeed % 3 == 0 ? sqrtNow : 0; // a caller limit at the current price: the pool refuses it
        int256 s0 = surplus();
        vm.recordLogs();
        try this.buyBackAs(usd, exactOut, limit) returns (uint256, uint256 bought) {
            ghostBurned += bought;
            buyBacksDone++;
            _expectEvent(address(reserve), ReserveFund.BoughtBack.selector);
            (uint160 sqrtAfter,,,,,,) = husdPool.slot0();
            uint160 trigger = reserve.buyBackTriggerX96();
            bool past = reserve.husdIsToken0() ? sqrtAfter > trigger : sqrtAfter < trigger;
            if (past || reserve.boughtBackInHour(block.timestamp / HOUR) > reserve.maxBuyBackPerHour()) buyBacksPastLimits++;
        } catch (bytes memory err) {
            bytes4 e = bytes4(err);
            _allow(e, _any(e, ReserveFund.NotBelowTrigger.selector, ReserveFund.BuyBackBudgetExceeded.selector,
                           IERC20Errors.ERC20InsufficientBalance.selector)
                || e == SlippageExceeded.selector || e == ERROR_STRING); // exact out beyond max in; the pool's "SPL"
        }
        _nonMarket(s0, false);
    }

    /// The operator's buy-back, through the handler itself so one `try` covers both kinds (not a fuzz target).
    function buyBackAs(uint256 usd, bool exactOut, uint160 limit) external returns (uint256, uint256) {
        require(msg.sender == address(this));
        vm.prank(operator);
        if (exactOut) return reserve.buyBackExactOut(usd * WAD, usd * 1e6 * 11 / 10, limit);
        return reserve.buyBack(usd * 1e6, 0, limit);
    }

    /// The reserve's two payouts, through the handler itself so one `try` covers both (not a fuzz target).
    function payoutAs(bool funding, uint256 amount) external {
        require(msg.sender == address(this));
        vm.prank(funding ? treasurer : gov);
        if (funding) reserve.payFunding(address(tokens[0]), venue, amount);
        else reserve.coverDeficit(address(tokens[0]), address(minter), amount);
    }

    /// Treasury moves custody to the PSM or a venue (where the operator reports it as margin), or tries
    /// an unregistered account, which must be refused.
    function moveCollateral(uint256 assetSeed, uint256 destSeed, uint256 fracBps) external {
        _begin(this.moveCollateral.selector);
        uint256 i = assetSeed % N_ASSETS;
        uint256 amount = tokens[i].balanceOf(address(minter)) * _bound(fracBps, 1, 5_000) / 10_000;
        if (amount == 0) return;
        uint256 dest = destSeed % 3;
        if (dest == 2) {
            vm.prank(treasurer);
            try minter.moveCollateral(address(tokens[i]), stranger, amount) {
                unauthorizedSuccesses++;
            } catch (bytes memory err) {
                _allow(bytes4(err), bytes4(err) == Minter.UnregisteredDestination.selector);
            }
            return;
        }
        uint256 value;
        if (dest == 1) {
            if (!oracle.isHealthy(address(tokens[i]))) return; // margin cannot be valued: the desk waits
            value = amount * oracle.price(address(tokens[i])) / 10 ** DECIMALS[i];
        }
        int256 s0 = surplus();
        vm.recordLogs();
        vm.prank(treasurer);
        minter.moveCollateral(address(tokens[i]), dest == 0 ? address(psm) : venue, amount);
        _expectEvent(address(minter), Minter.CollateralMoved.selector);
        ghostCustody[i] -= amount;
        if (dest == 1) {
            (, uint256 notional, uint256 margin, int256 pnl,,) = ledger.hedges(BTC_PERP);
            vm.prank(operator);
            ledger.report(BTC_PERP, notional, margin + value, pnl, "VENUE");
        }
        _nonMarket(s0, false);
    }

    // ------------------------------------------------------------------ guardian and admin

    /// Anyone trips a breaker whose condition holds.
    function tripBreakers(bool backing) external {
        _begin(this.tripBreakers.selector);
        vm.recordLogs();
        try this.tripAs(backing) {
            _expectEvent(address(guardian), Guardian.CircuitBreakerTripped.selector);
        } catch (bytes memory err) {
            _allow(bytes4(err), bytes4(err) == Guardian.NothingToTrip.selector);
        }
    }

    function tripAs(bool backing) external {
        require(msg.sender == address(this));
        vm.prank(stranger);
        if (backing) guardian.checkBacking();
        else guardian.checkOracles();
    }

    /// The guardian key pauses (mint, PSM; redemptions only rarely), the admin unpauses.
    function pauseOrUnpause(uint256 whatSeed, bool pause) external {
        _begin(this.pauseOrUnpause.selector);
        uint256 what = whatSeed % 8; // 0-3 mint, 4-6 PSM, 7 redeem
        vm.recordLogs();
        if (pause) {
            vm.prank(guardianKey);
            if (what < 4) guardian.pauseMint();
            else if (what < 7) guardian.pausePsm();
            else guardian.pauseRedeem();
            _expectEvent(address(guardian), Guardian.GuardianPause.selector);
        } else {
            vm.prank(gov);
            if (what < 4) minter.setMintPaused(false);
            else if (what < 7) psm.setPaused(false);
            else minter.setRedeemPaused(false);
            _expectEvent(what < 4 || what == 7 ? address(minter) : address(psm),
                what < 4 ? Minter.MintPausedSet.selector : what < 7 ? PegStabilityModule.PausedSet.selector : Minter.RedeemPausedSet.selector);
        }
    }

    /// The admin retunes caps, fees or the PSM ceiling; the guardian key lowers the mint caps.
    function changeParameters(uint256 whatSeed, uint256 valueSeed) external {
        _begin(this.changeParameters.selector);
        uint256 what = whatSeed % 4;
        vm.recordLogs();
        if (what == 0) {
            uint256 blockCap = _bound(valueSeed, 1_000, 2_000_000) * WAD;
            vm.prank(gov);
            minter.setCaps(blockCap, blockCap * 5, blockCap, blockCap * 5);
            _expectEvent(address(minter), Minter.CapsSet.selector);
        } else if (what == 1) {
            uint256 perBlock = minter.maxMintPerBlock() * _bound(valueSeed, 5_000, 10_000) / 10_000;
            uint256 perHour = minter.maxMintPerHour() * _bound(valueSeed, 5_000, 10_000) / 10_000;
            vm.prank(guardianKey);
            guardian.lowerMintCaps(perBlock, perHour);
            _expectEvent(address(minter), Minter.CapsSet.selector);
        } else if (what == 2) {
            vm.prank(gov);
            minter.setFees(_bound(valueSeed, 0, 50), _bound(valueSeed >> 8, 0, 50));
            _expectEvent(address(minter), Minter.FeesSet.selector);
        } else {
            uint256 ceiling = psm.debt() + _bound(valueSeed, 0, 20_000_000) * WAD; // never below the debt
            vm.prank(gov);
            psm.setCeiling(ceiling);
            if (ceiling > maxCeiling) maxCeiling = ceiling;
            _expectEvent(address(psm), PegStabilityModule.CeilingSet.selector);
        }
        _touch();
    }

    /// A stranger tries a privileged call: every one must be refused by AccessControl.
    function strangerCall(uint256 whichSeed) external {
        _begin(this.strangerCall.selector);
        uint256 w = whichSeed % 16;
        address t;
        bytes memory data;
        if (w == 0) (t, data) = (address(husd), abi.encodeCall(husd.mint, (stranger, 1)));
        else if (w == 1) (t, data) = (address(minter), abi.encodeCall(minter.mint, (address(tokens[0]), 1e6, 0, stranger)));
        else if (w == 2) (t, data) = (address(minter), abi.encodeCall(minter.redeem, (address(tokens[0]), WAD, 0, stranger)));
        else if (w == 3) (t, data) = (address(minter), abi.encodeCall(minter.moveCollateral, (address(tokens[0]), address(psm), 1)));
        else if (w == 4) (t, data) = (address(minter), abi.encodeCall(minter.distributeRewards, (1)));
        else if (w == 5) (t, data) = (address(minter), abi.encodeCall(minter.setCaps, (1, 1, 1, 1)));
        else if (w == 6) (t, data) = (address(minter), abi.encodeCall(minter.setDestination, (stranger, true)));
        else if (w == 7) (t, data) = (address(psm), abi.encodeCall(psm.setCeiling, (0)));
        else if (w == 8) (t, data) = (address(ledger), abi.encodeCall(ledger.report, (BTC_PERP, 0, 1e30, 0, "X")));
        else if (w == 9) (t, data) = (address(oracle), abi.encodeCall(oracle.setGracePeriod, (0)));
        else if (w == 10) (t, data) = (address(reserve), abi.encodeCall(reserve.payFunding, (address(tokens[0]), stranger, 1)));
        else if (w == 11) (t, data) = (address(backstop), abi.encodeCall(backstop.recapitalize, (WAD, 0)));
        else if (w == 12) (t, data) = (address(shusd), abi.encodeCall(shusd.transferInRewards, (1)));
        else if (w == 14) (t, data) = (address(reserve), abi.encodeCall(reserve.buyBack, (1e6, 0, 0)));
        else if (w == 15) (t, data) = (address(husd), abi.encodeCall(husd.burn, (1)));
        else (t, data) = (address(minter), abi.encodeCall(minter.setMintPaused, (false)));
        vm.prank(w == 13 ? guardianKey : stranger); // the guardian key may pause, never unpause
        (bool ok, bytes memory err) = t.call(data);
        if (ok || bytes4(err) != IAccessControl.AccessControlUnauthorizedAccount.selector) unauthorizedSuccesses++;
    }

    // ------------------------------------------------------------------ views for the invariants

    function holders() external view returns (address[] memory h) {
        h = new address[](12);
        (h[0], h[1], h[2]) = (actors[0], actors[1], actors[2]);
        (h[3], h[4], h[5], h[6]) = (lp, address(husdPool), address(shusd), address(minter));
        (h[7], h[8], h[9], h[10], h[11]) = (address(psm), address(router), address(reserve), stranger, address(this));
    }

    function touchedDayCount() external view returns (uint256) {
        return touchedDays.length;
    }

    function capsInForceBlock(uint256 b) external view returns (uint256, uint256) {
        return (capInForceBlock[b][0], capInForceBlock[b][2]);
    }

    function capsInForceHour(uint256 h) external view returns (uint256, uint256) {
        return (capInForceHour[h][1], capInForceHour[h][3]);
    }

    /// Backing minus supply, 18-decimal USD, as HedgeLedger.backingFloor values it (an asset without a
    /// healthy price counts zero) but not floored at zero, so a loss stays visible while backing is negative.
    function surplus() public view returns (int256 s) {
        for (uint256 i = 0; i < N_ASSETS; i++) {
            uint256 bal = ledger.custodyBalance(address(tokens[i]));
            if (bal == 0) continue;
            try oracle.price(address(tokens[i])) returns (uint256 px) {
                s += int256(bal * px / 10 ** DECIMALS[i]);
            } catch {}
        }
        s += ledger.hedgeEquity() - int256(husd.totalSupply());
    }

    // ------------------------------------------------------------------ internal

    function _begin(bytes4 sel) internal {
        calls[sel]++;
        _checkCaps(); // the buckets the previous action used, before this one may move the clock
        _touch();
    }

    /// A block's or hour's use changes only by actions in it: checking the current buckets after every
    /// action (and at the start of the next) covers every bucket ever used.
    function _checkCaps() internal {
        uint256 b = block.number;
        uint256 h = block.timestamp / HOUR;
        if (
            minter.mintedInBlock(b) > capInForceBlock[b][0] || minter.redeemedInBlock(b) > capInForceBlock[b][2]
                || minter.mintedInHour(h) > capInForceHour[h][1] || minter.redeemedInHour(h) > capInForceHour[h][3]
        ) capsExceeded++;
    }

    /// Remember the caps in force in this block and hour, so each bucket is checked against the largest it saw.
    function _touch() internal {
        uint256 b = block.number;
        uint256 h = block.timestamp / HOUR;
        uint256[4] memory caps =
            [minter.maxMintPerBlock(), minter.maxMintPerHour(), minter.maxRedeemPerBlock(), minter.maxRedeemPerHour()];
        for (uint256 k = 0; k < 4; k++) {
            if (caps[k] > capInForceBlock[b][k]) capInForceBlock[b][k] = caps[k];
            if (caps[k] > capInForceHour[h][k]) capInForceHour[h][k] = caps[k];
        }
    }

    function _touchDay() internal {
        uint256 d = block.timestamp / DAY;
        if (!_seenDay[d]) {
            _seenDay[d] = true;
            touchedDays.push(d);
        }
        uint256 limit = reserve.maxPayoutPerDay(address(tokens[0]));
        if (limit > payoutLimitInForceDay[d]) payoutLimitInForceDay[d] = limit;
    }

    /// After a non-market action: backing - supply may not fall (beyond floor rounding); rewards may
    /// spend the surplus but never below zero.
    function _nonMarket(int256 before, bool rewards) internal {
        int256 afterS = surplus();
        roundingAllowance += TOL;
        if (rewards) {
            if (afterS < before && afterS < -int256(TOL)) surplusDecreases++;
        } else if (afterS + int256(TOL) < before) {
            surplusDecreases++;
        }
        _sharePrice();
    }

    /// What a PSM swap of `usdc` units at par costs the surplus at the oracle's USDC price (recorded as a
    /// market loss): USDC in below $1, or out above $1. Zero when USDC has no healthy price (counts zero).
    function _parGap(uint256 usdc, bool into) internal returns (int256 loss) {
        if (!oracle.isHealthy(address(tokens[0]))) return 0;
        int256 px = int256(oracle.price(address(tokens[0])));
        int256 gap = into ? int256(WAD) - px : px - int256(WAD);
        if (gap <= 0) return 0;
        loss = int256(usdc) * 1e12 * gap / int256(WAD) + 1;
        recordedLoss += loss;
    }

    /// After a market action (prices, hedge reports, time): a fall of the surplus is a recorded loss.
    function _market(int256 before) internal {
        int256 afterS = surplus();
        if (afterS < before) recordedLoss += before - afterS;
        _sharePrice();
    }

    function _sharePrice() internal {
        uint256 p = shusd.convertToAssets(WAD);
        if (p < lastSharePrice) sharePriceFalls++;
        lastSharePrice = p;
    }

    /// Whether a redemption of `husdIn` in asset `i` is one the backing covers and nothing but a mint pause
    /// could refuse: redemptions open, price healthy, within caps, custody holds the payout.
    function _redeemCovered(uint256 i, uint256 husdIn) internal view returns (bool) {
        if (husdIn == 0 || minter.redeemPaused() || !oracle.isHealthy(address(tokens[i]))) return false;
        if (minter.redeemedInBlock(block.number) + husdIn > minter.maxRedeemPerBlock()) return false;
        if (minter.redeemedInHour(block.timestamp / HOUR) + husdIn > minter.maxRedeemPerHour()) return false;
        (uint256 out,) = minter.previewRedeem(address(tokens[i]), husdIn);
        return out != 0 && out <= tokens[i].balanceOf(address(minter));
    }

    /// The operator pre-hedges a hedged mint: the short grows by the value about to arrive.
    function _hedgeIncoming(uint256 i, uint256 amount) internal {
        if (!oracle.isHealthy(address(tokens[i]))) return;
        bytes32 market = i == 2 ? BTC_PERP : XAU_PERP;
        uint256 spot = ledger.spotValue(address(tokens[i])) + amount * oracle.price(address(tokens[i])) / 10 ** DECIMALS[i];
        (,, uint256 margin, int256 pnl,,) = ledger.hedges(market);
        int256 s0 = surplus();
        vm.prank(operator);
        ledger.report(market, spot, margin, pnl, "VENUE");
        _market(s0);
    }

    function _expectEvent(address emitter, bytes32 topic) internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 k = 0; k < logs.length; k++) {
            if (logs[k].emitter == emitter && logs[k].topics.length != 0 && logs[k].topics[0] == topic) return;
        }
        missingEvents++;
    }

    function _allow(bytes4 e, bool allowed) internal {
        if (!allowed) {
            unexpectedReverts++;
            lastUnexpected = e;
        }
    }

    function _any(bytes4 e, bytes4 a, bytes4 b, bytes4 c) internal pure returns (bool) {
        return e == a || e == b || e == c;
    }

    function _oracleError(bytes4 e) internal pure returns (bool) {
        return e == OracleRouter.StalePrice.selector || e == OracleRouter.PriceOutOfBounds.selector
            || e == OracleRouter.PriceDeviation.selector || e == OracleRouter.PriceDrift.selector
            || e == OracleRouter.RoundMissing.selector;
    }

    function _units(uint256 i, uint256 usd) internal view returns (uint256) {
        uint256 units = usd * 10 ** DECIMALS[i] * 1e8 / uint256(goodAnswer[i]);
        return units == 0 ? 1 : units;
    }

    function _bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        return lo + x % (hi - lo + 1);
    }
}
