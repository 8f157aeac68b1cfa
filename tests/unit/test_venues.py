"""A venue sells only HUSD that exists: a purchase is cut to what the venues hold (the float less the
inventories arbitrageurs, patient capital and liquidators keep off them)."""
import numpy as np

from sim.config import Scenario
from sim.engines import run_engine
from sim.model import Model
from sim.model import venues as V

BOOK = V.Venue("book0", "order_book", V.book_curve([(10.0, 10e6), (50.0, 20e6)]), 0.0005, {})


def _state(float_husd, **held_off):
    s = {BOOK.sqrt_key: np.array([1.0, 1.0]), BOOK.pull_key: np.array([0.0, 0.0]),
         "float_husd": np.asarray(float_husd, dtype=float), "parb_husd": np.zeros(2), "liquidator_queue_husd": np.zeros(2),
         f"xarb_transit_{BOOK.name}": np.zeros(2), f"xarb_ready_{BOOK.name}": np.zeros(2)}
    s.update({k: np.asarray(v, dtype=float) for k, v in held_off.items()})
    return s, {"pool_depth": np.array([1.0, 1.0])}


def test_a_purchase_larger_than_the_float__gets_only_the_float__and_keeps_the_rest_of_its_usdc():
    s, x = _state([1e6, 50e6])
    out, used = V.swap(BOOK, s, x, "retail", np.array([5e6, 5e6]), np.zeros(2, dtype=bool))
    assert out[0] <= 1e6 and out[0] > 1e6 * (1 - 1e-9)  # the whole float, no more
    assert used[0] < 1.01e6  # what that cost: the rest of the $5M was not spent
    assert out[1] > 4.9e6 and used[1] == 5e6  # a float that holds it: the purchase goes through whole
    assert s[BOOK.sqrt_key][0] < s[BOOK.sqrt_key][1]  # the cut purchase moved the price less


def test_a_scalar_purchase__as_the_cadcad_engine_makes_it__is_cut_the_same_way():
    s = {k: float(v[0]) for k, v in _state([1e6, 1e6])[0].items()}
    out, used = V.swap(BOOK, s, {"pool_depth": 1.0}, "retail", 5e6, False)
    assert np.ndim(out) == 0 and 1e6 * (1 - 1e-9) < out <= 1e6 and used < 1.01e6


def test_held_husd__is_the_float_less_what_is_held_off_the_venues():
    s, _x = _state([10e6, 10e6], parb_husd=[2e6, 0.0], liquidator_queue_husd=[1e6, 0.0],
                   **{f"xarb_transit_{BOOK.name}": [3e6, 0.0], f"xarb_ready_{BOOK.name}": [1e6, 12e6]})
    assert V.held_husd(s).tolist() == [3e6, 0.0]  # never below nothing
    s, x = _state([10e6, 10e6], parb_husd=[9e6, 0.0])
    out, _used = V.swap(BOOK, s, x, "arbitrage", np.array([5e6, 5e6]), np.zeros(2, dtype=bool))
    assert out[0] <= 1e6 and out[1] > 4.9e6  # patient capital's $9M is not for sale


def test_a_book_that_refills_faster_than_the_float__never_sells_husd_nobody_holds():
    """The property test's find: a gold-only protocol whose one order book quotes $26.5M within 1 bp and refills
    30 %/h, at 15-minute steps; the book used to sell HUSD the float did not have (float -$2.56 at step 80)."""
    sc = Scenario(name="refill").model_dump(mode="json")
    sc.update(horizon_hours=24, step_hours=0.25, runs=1)
    sc["protocol"]["weights"] = {"tbill": 0.0, "btc": 0.0, "xau": 1.0, "buffer": 0.0}
    sc["venues"] = [{"kind": "order_book", "name": "book0", "bid_depth_usd": [[1.0, 26503383.0]], "refill_per_hour": 0.3,
                     "fee_fraction": 0.0005, "transfer_latency_hours": 1.0,
                     "flow_share": {"retail": 0.0, "institutional": 0.0}}]
    m = Model.build(Scenario.model_validate(sc))
    d = run_engine("batch", m.params, m.genesis, m.paths).data
    assert d["float_husd"].min() >= 0.0
