"""A replay's genesis: deploy the scenario's protocol, put the model's hour-0 state on chain.

`genesis(sc, row0, ...)` deploys `ProtocolSpec.from_scenario(sc)` (over node A's tokens, feeds and
factory on a fork: `base`), deploys the replay's actor (a ReplayStepper holding the roles a keeper,
treasurer and guardian would), funds it (half of node A's whale, impersonated, or the mock faucet), mints
the model's initial supply at par (fees 0, caps lifted: `ProtocolSpec.for_genesis`), places the model's
pool positions and the HYB position, then sets the scenario's fees and caps. It writes the deployment
file and returns a `ReplayChain` built from that file, so everything after genesis reads the deployed
parameters and addresses from what the deployer wrote.
"""
from __future__ import annotations

from pathlib import Path

from sim.chain import evm
from sim.chain.actor import Actor, ReplayError
from sim.chain.artifacts import Contracts
from sim.chain.deploy import deploy_protocol, load_deployment, set_fees_and_caps, write_deployment
from sim.chain.network import WHALE_HOLDINGS
from sim.chain.spec import UNBOUNDED_USD, ProtocolSpec
from sim.chain.steps import ReplayChain

STEPPER_ROLES = (("minter", "MINTER_ROLE"), ("minter", "REDEEMER_ROLE"), ("minter", "TREASURER_ROLE"), ("ledger", "OPERATOR_ROLE"),
                 ("reserve", "FUNDING_PAYER_ROLE"), ("reserve", "BUYBACK_ROLE"), ("backstop", "KEEPER_ROLE"),
                 ("guardian", "GUARDIAN_ROLE"))


def genesis(sc, row0, deployment_file: Path, node=None, base: dict | None = None) -> ReplayChain:
    from ape import accounts

    C = Contracts.shipped()
    admin, arb = accounts.test_accounts[0], accounts.test_accounts[1]
    prices = {"WBTC": float(row0.btc_usd), "PAXG": float(row0.xau_usd), "TBILL": float(row0.tbill_nav), "USDC": 1.0}
    spec = ProtocolSpec.from_scenario(sc, prices)
    existing = None
    if base:  # the chain's tokens, feeds and factory (node A's, or mainnet's); feeds open at the run's first prices
        existing = {k: base[k] for k in ("tokens", "feeds", "factory") if k in base}
        for sym, px in prices.items():
            if sym in base.get("feeds", {}):
                feed = C.at("MockAggregator", base["feeds"][sym])
                feed.setAnswer(evm.feed_answer(px, int(feed.decimals())), sender=admin)
    p = deploy_protocol(admin, spec.for_genesis(), roles={"minter": [arb], "redeemer": [arb]}, seed_pools=False,
                        existing=existing, contracts=C)

    # The stepper: the replay's arbitrageur, hedge operator, LP, treasurer and funding payer.
    tx = {"sender": admin}
    S = admin.deploy(C.ReplayStepper)
    for name, role in STEPPER_ROLES:
        c = getattr(p, name)
        c.grantRole(getattr(c, role)(), S, **tx)
    for tok in (p.husd, p.usdc):
        for spender in (p.minter, p.psm, p.router, p.reserve):
            S.approve(tok, spender, **tx)
    S.approve(p.hyb, p.router, **tx)
    p.minter.setDestination(S, True, **tx)  # the stepper is also the treasury desk: custody moves out to it
    if spec.reserve.buy_budget_usd_per_hour > 0:  # the replay settles each buy-back's HUSD leg (ReplayStepper.buyBackSettled)
        p.husd.grantRole(p.husd.MINTER_ROLE(), S, **tx)
        p.reserve.setPayoutLimit(p.husd, evm.to_units(UNBOUNDED_USD, 18), **tx)  # held HUSD the settlement pays back
    p.backstop.setReserveFund(p.minter, **tx)  # the model puts the backstop's proceeds in the buffer: on chain, custody
    p.hyb.transfer(S, int(p.hyb.balanceOf(admin)), **tx)  # HYB inventory for the model's HYB sales
    actor = Actor(admin, S, node, C.error_selectors())
    rc = ReplayChain(p, actor, sc, *_positions(sc, p))
    rc.arb = arb  # a whitelisted minter/redeemer that is not the actor (stress tests act as it)
    _fund(rc, base or {}, accounts)

    # The model's hour 0: the PSM leg through the PSM, the rest minted with USDC, all held by the stepper.
    psm_usdc0 = evm.to_units(float(row0.psm_usdc), 6)
    rest = float(row0.supply) - float(row0.psm_minted)
    if psm_usdc0:
        rc.add("psm swapIn", p.psm, "swapIn", psm_usdc0, S)
    if rest > 0:
        rc.add("minter mint", p.minter, "mint", p.usdc, evm.to_units(rest, 6), 0, S)
    rc.report_hedges(row0)
    rc.sync_custody(row0)
    if row0.reserve_fund_usd > 0:
        rc.add("reserve deposit", p.reserve, "deposit", p.usdc, evm.to_units(float(row0.reserve_fund_usd), 6))
    rc.set_depth(float(row0.pool_depth))
    t_lo, t_hi, L_raw = rc.hyb_position
    rc.add("hyb pool add liquidity", p.router, "addLiquidity", rc.hyb_info.pool, t_lo, t_hi, L_raw, S)
    rc.flush()
    if actor.reverts:
        raise ReplayError(f"genesis failed on chain: {actor.reverts}")
    set_fees_and_caps(p, spec)

    # From here on the deployment file is the record: the replay works from what it says.
    write_deployment(p, deployment_file)
    rc.use(load_deployment(deployment_file, admin, C))
    rc.psm_state = (int(p.usdc.balanceOf(p.psm)), int(p.psm.debt()))
    rc.move_pool(float(row0.pool_sqrt_price))
    rc.move_hyb_pool(float(row0.hyb_sqrt_price))
    rc.flush()
    return rc


def _positions(sc, p):
    """The model's pool on the chain's ticks: (tick_lower, tick_upper, L_raw at depth 1) per range of the
    HUSD/USDC pool (the model's own L per range, `amm.Curve.from_usd`), the chain's curve in the model's
    convention (bounds snapped to the pool's tick spacing), and the model's one HYB position."""
    from sim.model import amm
    from sim.model.params import hyb_liquidity

    husd_info, hyb_info = p.pools["HUSD/USDC"], p.pools["HYB/USDC"]
    husd0, hyb0 = husd_info.token0.address == p.husd.address, hyb_info.token0.address == p.hyb.address
    spacing = evm.TICK_SPACING[husd_info.fee]
    positions, snapped = [], []
    for r in sc.pool.ranges:
        L = float(amm.Curve.from_usd([(r.price_lower, r.price_upper, r.usd)], 1.0).seg_L[0])
        t_lo, t_hi = (int(amm.tick_at_price(x, spacing)) for x in (r.price_lower, r.price_upper))
        a, b = evm.husd_tick_to_pool_tick(t_lo, husd0), evm.husd_tick_to_pool_tick(t_hi, husd0)
        positions.append((min(a, b), max(a, b), evm.liquidity_raw(L)))
        snapped.append((r.price_lower, r.price_upper, evm.liquidity_whole(evm.liquidity_raw(L))))
    ref_curve = amm.Curve.from_positions(snapped, tick_spacing=spacing)

    hyb_L, *bounds = hyb_liquidity(sc.pool.hyb_pool_usd, sc.pool.hyb_price_start)
    hyb_spacing = evm.TICK_SPACING[hyb_info.fee]
    lo, hi = (int(amm.tick_at_price(float(b) ** 2)) for b in bounds)  # HYB is 18 decimals like HUSD: same tick convention
    t_lo, t_hi = evm.usable_tick(lo, hyb_spacing, "floor"), evm.usable_tick(hi, hyb_spacing, "ceil")
    a, b = evm.husd_tick_to_pool_tick(t_lo, hyb0), evm.husd_tick_to_pool_tick(t_hi, hyb0)
    return positions, (min(a, b), max(a, b), evm.liquidity_raw(float(hyb_L))), ref_curve


def _fund(rc: ReplayChain, base: dict, accounts) -> None:
    """Half of each token's whale (impersonated: anvil_impersonateAccount; ETH for gas by set_balance),
    or the mock faucet for a token the protocol deployed itself."""
    S = rc.stepper
    for sym, tok in rc.p.tokens.items():
        holder = base.get("whales", {}).get(sym) or (base.get("whale") if sym in base.get("tokens", {}) else None)
        if holder:
            whale = accounts[holder]  # impersonated: nobody has its key
            whale.balance = 10**21
            tok.transfer(S, int(tok.balanceOf(whale)) // 2, sender=whale)
        elif sym in base.get("tokens", {}):
            raise ReplayError(f"no whale to fund the replay with {sym}: name one in TRIPOD_FORK_WHALES ({sym}=0x...)")
        else:
            rc.add(f"{sym} faucet", tok, "mint", S, WHALE_HOLDINGS[sym] // 2 * 10 ** rc.p.decimals(sym))
