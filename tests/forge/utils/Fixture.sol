// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Base} from "./Base.sol";
import {HUSD} from "../../../contracts/HUSD.sol";
import {HYB} from "../../../contracts/HYB.sol";
import {StakedHUSD} from "../../../contracts/StakedHUSD.sol";
import {Minter} from "../../../contracts/Minter.sol";
import {OracleRouter} from "../../../contracts/OracleRouter.sol";
import {HedgeLedger} from "../../../contracts/HedgeLedger.sol";
import {ReserveFund} from "../../../contracts/ReserveFund.sol";
import {PegStabilityModule} from "../../../contracts/PegStabilityModule.sol";
import {Backstop} from "../../../contracts/Backstop.sol";
import {Guardian} from "../../../contracts/Guardian.sol";
import {PoolRouter} from "../../../contracts/periphery/PoolRouter.sol";
import {MockERC20} from "../../../contracts/test/MockERC20.sol";
import {MockAggregator} from "../../../contracts/test/MockAggregator.sol";
import {IUniswapV3PoolMinimal} from "../../../contracts/interfaces/IUniswapV3PoolMinimal.sol";

interface IUniswapV3Factory {
    function createPool(address tokenA, address tokenB, uint24 fee) external returns (address pool);
    function enableFeeAmount(uint24 fee, int24 tickSpacing) external;
}

interface IUniswapV3PoolInit {
    function initialize(uint160 sqrtPriceX96) external;
}

/// The whole protocol as sim.chain.deploy deploys it (same parameters, same wiring), with the real
/// Uniswap v3 factory and pools deployed from v3-core's compiled artifacts (node_modules).
abstract contract Fixture is Base {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant N_ASSETS = 4; // USDC, TBILL, WBTC, PAXG

    address internal gov = address(0xA11CE);
    address internal guardianKey = address(0x6A4D);
    address internal operator = address(0x0BE7);
    address internal keeper = address(0x4EE9);
    address internal treasurer = address(0x7EA5);
    address internal venue = address(0xBEEF);
    address internal lp = address(0x1B);

    MockERC20[N_ASSETS] public tokens;
    MockAggregator[N_ASSETS] public feeds;
    OracleRouter public oracle;
    HUSD public husd;
    StakedHUSD public shusd;
    Minter public minter;
    HedgeLedger public ledger;
    ReserveFund public reserve;
    PegStabilityModule public psm;
    HYB public hyb;
    Backstop public backstop;
    Guardian public guardian;
    PoolRouter public router;
    IUniswapV3PoolMinimal public husdPool;
    IUniswapV3PoolMinimal public hybPool;

    // sim.chain.spec.ProtocolSpec.defaults(), in base units
    uint8[N_ASSETS] internal DECIMALS = [uint8(6), 6, 8, 18];
    int256[N_ASSETS] internal PRICE_8DP = [int256(1e8), 1e8, 95_000e8, 2_650e8];
    uint32[N_ASSETS] internal HEARTBEAT = [uint32(86_400), 86_400, 3_600, 86_400];
    uint16[N_ASSETS] internal MAX_JUMP_BPS = [uint16(200), 100, 1_500, 1_000];
    uint16[N_ASSETS] internal MAX_DRIFT_BPS = [uint16(500), 300, 4_000, 2_500];
    uint256[N_ASSETS] internal MIN_USD = [uint256(0.95e18), 0.9e18, 1_000e18, 100e18];
    uint256[N_ASSETS] internal MAX_USD = [uint256(1.05e18), 2e18, 10_000_000e18, 100_000e18];
    bytes32 internal constant BTC_PERP = bytes32("BTC-PERP");
    bytes32 internal constant XAU_PERP = bytes32("XAU-PERP");

    function deployProtocol() internal {
        vm.warp(1_750_000_000);
        vm.roll(20_000_000);
        string[4] memory sym = ["USDC", "TBILL", "WBTC", "PAXG"];
        for (uint256 i = 0; i < N_ASSETS; i++) {
            tokens[i] = new MockERC20(string.concat("Mock ", sym[i]), sym[i], DECIMALS[i]);
            feeds[i] = new MockAggregator(8, string.concat(sym[i], " / USD"), PRICE_8DP[i]);
            vm.label(address(tokens[i]), sym[i]);
        }
        oracle = new OracleRouter(gov, 900);
        vm.startPrank(gov);
        for (uint256 i = 0; i < N_ASSETS; i++) {
            oracle.setFeed(address(tokens[i]), feeds[i], HEARTBEAT[i], MAX_JUMP_BPS[i], MAX_DRIFT_BPS[i], MIN_USD[i], MAX_USD[i]);
        }
        vm.stopPrank();
        husd = new HUSD(gov);
        reserve = new ReserveFund(gov);
        minter = new Minter(gov, husd, oracle, 5, 10, [uint256(1_000_000e18), 5_000_000e18, 1_000_000e18, 5_000_000e18]);
        psm = new PegStabilityModule(gov, husd, tokens[0], 0, 5, 50_000_000e18);
        ledger = new HedgeLedger(gov, oracle, address(minter), 200, 10_000e18, 6 hours);
        shusd = new StakedHUSD(gov, husd, 7 days, 8 hours);
        hyb = new HYB(gov, 1_000_000_000e18, 10_000_000e18, lp, 100_000_000e18);

        vm.startPrank(gov);
        husd.grantRole(husd.MINTER_ROLE(), address(minter));
        husd.grantRole(husd.MINTER_ROLE(), address(psm));
        shusd.grantRole(shusd.REWARDER_ROLE(), address(minter));
        minter.setRewardVault(shusd);
        for (uint256 i = 0; i < N_ASSETS; i++) {
            minter.setCollateral(address(tokens[i]), true);
            ledger.trackAsset(address(tokens[i]));
        }
        ledger.addMarket(BTC_PERP, address(tokens[2]));
        ledger.addMarket(XAU_PERP, address(tokens[3]));
        minter.setHedgeLedger(ledger);
        ledger.addCustodian(address(psm));
        reserve.setPayoutLimit(address(tokens[0]), 1_000_000e6);
        minter.setDestination(venue, true);
        psm.setOracle(oracle);
        vm.stopPrank();

        _deployPools();
        guardian = new Guardian(gov, minter, psm, oracle, ledger, husd, 9_900);
        vm.startPrank(gov);
        hyb.grantRole(hyb.MINTER_ROLE(), address(backstop));
        minter.grantRole(minter.GUARDIAN_ROLE(), address(guardian));
        psm.grantRole(psm.GUARDIAN_ROLE(), address(guardian));
        for (uint256 i = 0; i < N_ASSETS; i++) guardian.watchAsset(address(tokens[i]));
        guardian.grantRole(guardian.GUARDIAN_ROLE(), guardianKey);
        minter.grantRole(minter.TREASURER_ROLE(), treasurer);
        ledger.grantRole(ledger.OPERATOR_ROLE(), operator);
        backstop.grantRole(backstop.KEEPER_ROLE(), keeper);
        reserve.grantRole(reserve.FUNDING_PAYER_ROLE(), treasurer);
        reserve.grantRole(reserve.COVERER_ROLE(), gov);
        vm.stopPrank();
    }

    function _deployPools() internal {
        string memory art = vm.readFile(
            "node_modules/@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json"
        );
        bytes memory code = vm.parseJsonBytes(art, ".bytecode");
        address factory;
        assembly {
            factory := create(0, add(code, 0x20), mload(code))
        }
        require(factory != address(0), "factory deploy failed");
        IUniswapV3Factory(factory).enableFeeAmount(100, 1);
        router = new PoolRouter();

        // HUSD/USDC, 0.01 %, +-1 % around $1; the LP's HUSD comes through the PSM (backed 1:1)
        husdPool = IUniswapV3PoolMinimal(IUniswapV3Factory(factory).createPool(address(husd), address(tokens[0]), 100));
        _initialize(husdPool, address(husd), 1e18, 18, 6);
        vm.startPrank(lp);
        tokens[0].mint(lp, 4_200_000e6);
        tokens[0].approve(address(psm), type(uint256).max);
        psm.swapIn(2_100_000e6, lp);
        husd.approve(address(router), type(uint256).max);
        tokens[0].approve(address(router), type(uint256).max);
        (, int24 tick,,,,,) = husdPool.slot0();
        router.addLiquidity(husdPool, tick - 100, tick + 100, 4e20, lp);
        vm.stopPrank();

        // HYB/USDC, 0.3 %, from $0.05 to $5 around $0.5; the backstop's floor is $0.1
        hybPool = IUniswapV3PoolMinimal(IUniswapV3Factory(factory).createPool(address(hyb), address(tokens[0]), 3000));
        _initialize(hybPool, address(hyb), 0.5e18, 18, 6);
        vm.startPrank(lp);
        tokens[0].mint(lp, 2_500_000e6);
        hyb.approve(address(router), type(uint256).max);
        (, tick,,,,,) = hybPool.slot0();
        int24 lo = (tick - 23_040) / 60 * 60;
        int24 hi = (tick + 23_040) / 60 * 60;
        router.addLiquidity(hybPool, lo, hi, 4e18, lp);
        vm.stopPrank();
        backstop = new Backstop(gov, hyb, tokens[0], hybPool, address(reserve), 5_000_000e18, _sqrtPriceX96(hybPool, address(hyb), 0.1e18, 18, 6));

        // the reserve's buy-back on HUSD/USDC below $0.995, $500k an hour, burning what it buys (operator runs it)
        vm.startPrank(gov);
        reserve.configureBuyBack(husd, tokens[0], husdPool, _sqrtPriceX96(husdPool, address(husd), 0.995e18, 18, 6), 500_000e6, true);
        husd.grantRole(husd.BURNER_ROLE(), address(reserve));
        reserve.grantRole(reserve.BUYBACK_ROLE(), operator);
        vm.stopPrank();
    }

    /// sqrtPriceX96 of the pool when one whole `base` token (dBase decimals) is worth `priceWad` USDC (dQuote decimals).
    function _sqrtPriceX96(IUniswapV3PoolMinimal pool, address base, uint256 priceWad, uint8 dBase, uint8 dQuote)
        internal
        view
        returns (uint160)
    {
        // raw price (quote base units per base base unit) = priceWad * 10^dQuote / (1e18 * 10^dBase)
        uint256 num = priceWad * 10 ** dQuote;
        uint256 den = WAD * 10 ** dBase;
        if (pool.token0() == base) return uint160(Math.sqrt(Math.mulDiv(num, 1 << 192, den)));
        return uint160(Math.sqrt(Math.mulDiv(den, 1 << 192, num)));
    }

    function _initialize(IUniswapV3PoolMinimal pool, address base, uint256 priceWad, uint8 dBase, uint8 dQuote) internal {
        IUniswapV3PoolInit(address(pool)).initialize(_sqrtPriceX96(pool, base, priceWad, dBase, dQuote));
    }
}
