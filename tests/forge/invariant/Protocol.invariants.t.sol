// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Base} from "../utils/Base.sol";
import {ProtocolHandler} from "./ProtocolHandler.sol";
import {HUSD} from "../../../contracts/HUSD.sol";
import {Minter} from "../../../contracts/Minter.sol";
import {PegStabilityModule} from "../../../contracts/PegStabilityModule.sol";
import {StakedHUSD} from "../../../contracts/StakedHUSD.sol";
import {ReserveFund} from "../../../contracts/ReserveFund.sol";
import {MockERC20} from "../../../contracts/test/MockERC20.sol";

/// The protocol's invariants, each checked after every call of every sequence the handler's actors
/// make (foundry.toml: 500 runs x depth 50 with fail_on_revert in CI; the campaign profile 10,000 runs).
contract ProtocolInvariants is Base {
    ProtocolHandler internal h;
    HUSD internal husd;
    Minter internal minter;
    PegStabilityModule internal psm;
    StakedHUSD internal shusd;
    ReserveFund internal reserve;

    function setUp() public {
        h = new ProtocolHandler();
        (husd, minter, psm, shusd, reserve) = (h.husd(), h.minter(), h.psm(), h.shusd(), h.reserve());
        targetContract(address(h));
        bytes4[] memory s = new bytes4[](23);
        (s[0], s[1], s[2], s[3]) = (h.mint.selector, h.redeem.selector, h.psmSwapIn.selector, h.psmSwapOut.selector);
        (s[4], s[5], s[6], s[7]) = (h.poolSwap.selector, h.stake.selector, h.cooldown.selector, h.unstake.selector);
        (s[8], s[9], s[10], s[11]) = (h.reportHedge.selector, h.moveOracle.selector, h.refreshFeeds.selector, h.warp.selector);
        (s[12], s[13], s[14]) = (h.recapitalize.selector, h.distributeRewards.selector, h.reserveDeposit.selector);
        (s[15], s[16], s[17]) = (h.reservePayout.selector, h.moveCollateral.selector, h.tripBreakers.selector);
        (s[18], s[19], s[20], s[21]) = (h.pauseOrUnpause.selector, h.changeParameters.selector, h.strangerCall.selector, h.mint.selector);
        s[22] = h.reserveBuyBack.selector;
        targetSelector(FuzzSelector(address(h), s));
    }

    /// The buy-back action does reach the chain: HUSD dumped below the trigger, the reserve funded, it buys and
    /// burns within its budget and trigger (the campaigns reach this state only after a run of sales).
    function test_reserveBuyBack_afterADump_buysBurnsAndStaysWithinItsLimits() public {
        for (uint256 a = 0; a < 3; a++) h.psmSwapIn(a, 2_999_999); // $3M of HUSD each, minted at par
        for (uint256 k = 0; k < 9; k++) h.poolSwap(k, true, 199_999); // $1.8M sold into the pool
        h.reserveDeposit(0, 1_999_999);
        h.reserveBuyBack(199_999, false, 1);
        h.reserveBuyBack(99_999, true, 1);
        assertEq(h.buyBacksDone(), 2, "a buy-back below the trigger was refused");
        assertEq(h.buyBacksPastLimits(), 0, "past the trigger or the budget");
        assertEq(h.unexpectedReverts(), 0, "an unexpected revert");
        invariant_supplyCustodyAndPsmDebt();
        invariant_capsAndPayoutLimitsNeverExceeded();
    }

    /// HUSD supply == lifetime minted - burned == the sum of every holder's balance; only role holders
    /// minted or burned it (the handler's ghost counts every successful mint, swap and reward); the
    /// Minter's custody moved only through their calls; the PSM's USDC covers its debt.
    function invariant_supplyCustodyAndPsmDebt() public view {
        uint256 supply = husd.totalSupply();
        assertEq(supply, husd.totalMinted() - husd.totalBurned(), "supply != minted - burned");
        address[] memory holders = h.holders();
        uint256 sum;
        for (uint256 i = 0; i < holders.length; i++) sum += husd.balanceOf(holders[i]);
        assertEq(sum, supply, "sum of balances != supply");
        assertEq(husd.totalMinted() - h.initialMinted(), h.ghostMinted(), "HUSD minted outside the role holders' calls");
        assertEq(husd.totalBurned(), h.ghostBurned(), "HUSD burned outside redemptions");
        for (uint256 i = 0; i < 4; i++) {
            MockERC20 t = h.tokens(i);
            assertEq(t.balanceOf(address(minter)), h.ghostCustody(i), "custody moved outside the role holders' calls");
        }
        assertGe(h.tokens(0).balanceOf(address(psm)) * psm.scale(), psm.debt(), "PSM USDC < debt");
        assertLe(psm.debt(), h.maxCeiling(), "PSM debt above every ceiling set");
    }

    /// No block and no hour saw more minted or redeemed than the largest cap in force in it (the handler
    /// checks each bucket as it is used, this the current one); no day saw the reserve pay out more than
    /// its daily limit; no reserve buy-back went past its trigger or its hour's budget.
    function invariant_capsAndPayoutLimitsNeverExceeded() public view {
        assertEq(h.capsExceeded(), 0, "a block or hour passed its mint or redeem cap");
        assertEq(h.buyBacksPastLimits(), 0, "a reserve buy-back passed its trigger or its hourly budget");
        assertLe(reserve.boughtBackInHour(block.timestamp / 3600), reserve.maxBuyBackPerHour(), "buy-back budget exceeded");
        (uint256 mintCap, uint256 redeemCap) = h.capsInForceBlock(block.number);
        assertLe(minter.mintedInBlock(block.number), mintCap, "per-block mint cap exceeded");
        assertLe(minter.redeemedInBlock(block.number), redeemCap, "per-block redeem cap exceeded");
        (mintCap, redeemCap) = h.capsInForceHour(block.timestamp / 3600);
        assertLe(minter.mintedInHour(block.timestamp / 3600), mintCap, "per-hour mint cap exceeded");
        assertLe(minter.redeemedInHour(block.timestamp / 3600), redeemCap, "per-hour redeem cap exceeded");
        address usdc = address(h.tokens(0));
        for (uint256 k = 0; k < h.touchedDayCount(); k++) {
            uint256 d = h.touchedDays(k);
            assertLe(reserve.paidOnDay(usdc, d), h.payoutLimitInForceDay(d), "reserve paid more than its daily limit");
        }
    }

    /// Only role holders mint, move collateral or change parameters (every stranger's privileged call
    /// was refused by AccessControl, a move to an unregistered account by the Minter); every privileged
    /// action emitted its event; every revert was a named one its preconditions allow.
    function invariant_onlyRolesActAndPrivilegedActionsEmit() public view {
        assertEq(h.unauthorizedSuccesses(), 0, "a privileged call without the role succeeded");
        assertEq(h.missingEvents(), 0, "a privileged action emitted no event");
        if (h.unexpectedReverts() != 0) {
            revert(string.concat("unexpected revert, selector ", _str(uint32(h.lastUnexpected()))));
        }
    }

    /// A mint pause stops every mint (Minter and PSM swapIn); no redemption the backing covers is refused.
    function invariant_pauseStopsMintsNeverCoveredRedemptions() public view {
        assertEq(h.mintsWhilePaused(), 0, "a mint went through a pause");
        assertEq(h.coveredRedeemsRefused(), 0, "a redemption the backing covers was refused");
    }

    /// sHUSD's share price never falls (the vault has no loss to record), and its books balance.
    function invariant_sharePriceNeverFalls() public view {
        assertEq(h.sharePriceFalls(), 0, "sHUSD share price fell");
        assertEq(
            husd.balanceOf(address(shusd)),
            shusd.totalAssets() + shusd.unvestedAmount() + shusd.totalCooling(),
            "sHUSD books"
        );
    }

    /// Backing >= supply unless a loss was recorded: backing - supply moved down only through market
    /// events (prices, hedge reports, time); no other action lowered it beyond floor rounding.
    function invariant_backingCoversSupplyUnlessLossRecorded() public view {
        assertEq(h.surplusDecreases(), 0, "an action other than a market event lowered backing - supply");
        int256 slack = h.surplus() + h.recordedLoss() + int256(h.roundingAllowance());
        assertTrue(slack >= 0, "backing < supply with no loss recorded to explain it");
    }

    /// All of the above in one campaign: the long run (scripts/forge_campaign.sh, 10,000 runs) uses this
    /// one so every property is checked after every call of every sequence at a sixth of the cost.
    function invariant_all() public view {
        invariant_supplyCustodyAndPsmDebt();
        invariant_capsAndPayoutLimitsNeverExceeded();
        invariant_onlyRolesActAndPrivilegedActionsEmit();
        invariant_pauseStopsMintsNeverCoveredRedemptions();
        invariant_sharePriceNeverFalls();
        invariant_backingCoversSupplyUnlessLossRecorded();
    }
}
