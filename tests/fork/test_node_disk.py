"""Nodes Tripod starts leave nothing on disk: anvil writes each block's state past ~500 blocks into
`~/.foundry/anvil/tmp` and never removes it (69 GB had piled up from test runs), and a pinned fork
writes an RPC cache under `~/.foundry/cache/rpc`. Each test points HOME at a temporary folder (anvil
finds `~/.foundry` through it), so what a node writes is measured exactly, whatever else runs on the
machine, and checks that folder is still empty after the node is killed.
"""
import os
import signal
import subprocess
from pathlib import Path

import pytest

from sim.chain.node import AnvilNode, free_port, rpc

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # the mnemonic's first account, funded at genesis
BLOCKS = 1_200  # well past anvil's 500 in-memory states, where it starts writing to disk


def files_under(home: Path) -> list[Path]:
    return [p for p in (home / ".foundry").rglob("*") if p.is_file()] if (home / ".foundry").exists() else []


def kill_hard(node: AnvilNode) -> None:
    """The worst case: the node dies without a chance to clean up (a killed test run), then stop() reaps it."""
    os.killpg(node.proc.pid, signal.SIGKILL)
    node.stop()


def test_plain_anvil_leaves_state_files_the_measure_can_see_them(tmp_path, monkeypatch):
    """The control: anvil without Tripod's flags fills HOME/.foundry/anvil/tmp, so the tests below can fail."""
    monkeypatch.setenv("HOME", str(tmp_path))
    node = AnvilNode(port=free_port())
    node.command = lambda: [str(node.binary), "--port", str(node.port)]  # anvil's defaults, none of Tripod's flags
    node.start()
    rpc(node.uri, "anvil_mine", [hex(BLOCKS)], timeout=60)
    kill_hard(node)
    left = files_under(tmp_path)
    assert len(left) > BLOCKS // 2 and all("anvil/tmp" in str(p) for p in left)


def test_node_and_pinned_fork_leave_nothing_when_killed(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with AnvilNode() as node_a:
        rpc(node_a.uri, "anvil_mine", [hex(BLOCKS)], timeout=60)
        pin = int(rpc(node_a.uri, "eth_blockNumber"), 16)
        fork = AnvilNode(fork_url=node_a.uri, extra_args=["--fork-block-number", str(pin)]).start()
        rpc(fork.uri, "anvil_mine", [hex(BLOCKS)], timeout=60)
        # the window of history it keeps still answers; the pinned upstream state was read through the fork
        assert int(rpc(fork.uri, "eth_getBalance", [ACCOUNT_0, hex(pin + BLOCKS - 100)]), 16) > 0
        kill_hard(fork)
        kill_hard(node_a)
    assert files_under(tmp_path) == []


@pytest.mark.slow
def test_ape_test_on_foundry_leaves_nothing(tmp_path):
    """`ape test --network ethereum:local:foundry` starts anvil through ape-foundry, not AnvilNode: the stress
    kit's plugin gives it the same flags (sim.chain.network.keep_ape_anvil_off_disk). Run as a user would."""
    (tmp_path / "home").mkdir()
    test = tmp_path / "test_mine.py"
    test.write_text("def test_mine(chain):\n"
                    f"    chain.provider.make_request('anvil_mine', [hex({BLOCKS})])\n"
                    f"    assert chain.blocks.head.number >= {BLOCKS}\n"
                    "    assert '--prune-history' in chain.provider.build_command()\n")
    env = {**os.environ, "HOME": str(tmp_path / "home")}
    out = subprocess.run(["ape", "test", str(test), "--network", "ethereum:local:foundry", "-q", "-p", "no:cacheprovider"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, (out.stdout + out.stderr)[-2000:]
    assert "1 passed" in out.stdout
    assert files_under(tmp_path / "home") == []
