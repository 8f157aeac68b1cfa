// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Base} from "../utils/Base.sol";
import {ProtocolHandler} from "./ProtocolHandler.sol";

/// Sequences the invariant campaigns once broke, replayed exactly (Liquity's "anchored" tests): each
/// stays as a regression test once its cause is fixed.
contract AnchoredSequences is Base {
    ProtocolHandler internal h;

    function setUp() public {
        h = new ProtocolHandler();
    }

    /// USDC pushed far past its band (unpriced: counts zero), a gold hedge loss, then a T-bill mint: the
    /// backing view floors at zero, which hid the loss until the mint brought backing back above zero.
    /// The handler now measures backing - supply without the floor (500 runs x 50, seed 0x7419, run 196).
    function test_anchored_mintWhileUsdcUnpriced_keepsSurplus() public {
        int256 s0 = h.surplus();
        h.moveOracle(12, 22, true, 1e20);
        int256 s1 = h.surplus();
        h.reportHedge(false, 2342770513385092843542355288590596234222270277666139125138, 2862046944178549912811307820751898,
            36306128600263533703582661734560223545925097050553704206);
        int256 s2 = h.surplus();
        h.mint(23180729335951623353158959710215061429027762184666, 62171089, 32892553466049593592459774937904615181800150757736171265571621698, false);
        int256 s3 = h.surplus();
        if (h.surplusDecreases() != 0) {
            revert(string.concat("surplus ", _i(s0), " ", _i(s1), " ", _i(s2), " ", _i(s3)));
        }
    }

    function _i(int256 v) internal pure returns (string memory) {
        return v < 0 ? string.concat("-", _str(uint256(-v))) : _str(uint256(v));
    }
}
