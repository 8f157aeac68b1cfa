"""Local anvil nodes: start on a free port, wait until they answer, stop the whole process group.

Pure Python (subprocess + urllib): no Ape, no web3. Node A is the "mainnet-like" upstream (chain id
`UPSTREAM_CHAIN_ID`, not 31337); a fork node runs `anvil --fork-url <node A>`. Every node started
here is also registered with `atexit`, and `stop()` kills the process group (SIGTERM, then SIGKILL),
so no anvil outlives the Python process that started it, even when a test fails.

Nothing is left on disk either. Past ~500 blocks anvil moves each block's state into a temp folder
(`~/.foundry/anvil/tmp/anvil-state-*`, ~80-150 KB a block) that it never removes, not even on a
clean SIGTERM (measured: 2,000 blocks left 1,990 files, 301 MB): a year's replay left gigabytes, and
the test suite filled the disk. Every node started here, and Ape's foundry provider (network.py),
runs with `off_disk_args()`: anvil keeps the last `HISTORY_BLOCKS` block states in memory (what it
held in memory anyway) and writes none; a fork of a local node also skips anvil's RPC storage cache
(`~/.foundry/cache/rpc/<chain>/<block>/`, one per pin, useless for a node that dies with the test).
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

def anvil_binary() -> Path | None:
    """Foundry's anvil: TRIPOD_ANVIL, else `anvil` on PATH. npm's `node_modules/.bin/anvil` is a Node wrapper
    (a process more per node, whose anvil child outlives it on a stop): its platform package's native
    binary is used instead when it is there."""
    found = os.environ.get("TRIPOD_ANVIL") or shutil.which("anvil")
    if not found:
        return None
    path = Path(found)
    if path.parent.name == ".bin" and path.parent.parent.name == "node_modules":
        native = sorted((path.parent.parent / "@foundry-rs").glob("anvil-*/bin/anvil"))
        if native:
            return native[0]
    return path


UPSTREAM_CHAIN_ID = 7_357  # node A ("mainnet-like"); anything but 31337/1337
MNEMONIC = "test test test test test test test test test test test junk"  # Ape's and anvil's default

HISTORY_BLOCKS = 500  # block states kept (in memory): anvil's own in-memory window; state older than that is dropped

_LIVE: set["AnvilNode"] = set()


def off_disk_args(fork_url: str | None = None, history_blocks: int = HISTORY_BLOCKS) -> list[str]:
    """anvil flags that keep a node off the disk: no state files, and no RPC cache for a fork of a local node.
    Snapshots and reverts still work (they hold their own copy); a query older than `history_blocks` blocks
    fails with anvil's BlockOutOfRangeError, as on a pruned node."""
    args = ["--prune-history", str(int(history_blocks))]
    if fork_url and urlparse(fork_url).hostname in ("127.0.0.1", "localhost", "::1"):
        args.append("--no-storage-caching")
    return args


class NodeError(RuntimeError):
    """A node could not start or stopped answering."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rpc(uri: str, method: str, params: list | None = None, timeout: float = 5.0):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(uri, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        out = json.loads(r.read())
    if "error" in out:
        raise NodeError(f"{method}: {out['error']}")
    return out["result"]


def _group_gone(pgid: int, timeout: float) -> bool:
    """Wait until no process is left in group `pgid` (True), or `timeout` seconds pass (False)."""
    end = time.monotonic() + timeout
    while True:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(0.02)


class AnvilNode:
    """One anvil process. Use as a context manager, or call start()/stop()."""

    def __init__(self, chain_id: int = UPSTREAM_CHAIN_ID, fork_url: str | None = None, port: int | None = None,
                 accounts: int = 10, balance_eth: int = 1_000_000, log_path: str | os.PathLike | None = None,
                 extra_args: list[str] | None = None, history_blocks: int = HISTORY_BLOCKS):
        self.chain_id = chain_id
        self.fork_url = fork_url
        self.port = port
        self.accounts = accounts
        self.balance_eth = balance_eth
        self.log_path = Path(log_path) if log_path else None
        self.extra_args = list(extra_args or [])
        self.history_blocks = history_blocks
        self.proc: subprocess.Popen | None = None
        self._log = None
        self.binary = anvil_binary()

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [str(self.binary), "--host", "127.0.0.1", "--port", str(self.port), "--accounts", str(self.accounts),
               "--balance", str(self.balance_eth), "--mnemonic", MNEMONIC,
               "--gas-limit", "30000000", "--code-size-limit", "100000"]
        if self.fork_url:
            cmd += ["--fork-url", self.fork_url]
        else:
            cmd += ["--chain-id", str(self.chain_id)]
        return cmd + off_disk_args(self.fork_url, self.history_blocks) + self.extra_args

    def start(self, timeout: float = 20.0) -> "AnvilNode":
        if self.binary is None or not self.binary.exists():
            raise NodeError("anvil not found: put Foundry's anvil on PATH (this checkout: source scripts/env.sh; "
                            "or npm install @foundry-rs/anvil) or set TRIPOD_ANVIL")
        for attempt in range(3):
            self.port = self.port or free_port()
            self._log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
            # A new session = a new process group: stop() kills the wrapper and anvil together.
            self.proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
            _LIVE.add(self)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    rpc(self.uri, "eth_chainId", timeout=1.0)
                    return self
                except (OSError, urllib.error.URLError, NodeError):
                    time.sleep(0.05)
            self.stop()
            self.port = None  # port taken between free_port() and bind: try another one
        raise NodeError(f"anvil did not start ({' '.join(self.command())})")

    def alive(self) -> bool:
        if self.proc is None or self.proc.poll() is not None:
            return False
        try:
            rpc(self.uri, "eth_chainId", timeout=1.0)
            return True
        except (OSError, urllib.error.URLError, NodeError):
            return False

    def stop(self, timeout: float = 5.0) -> None:
        proc, self.proc = self.proc, None
        _LIVE.discard(self)
        if proc is not None:
            # the whole group: node_modules/.bin/anvil may be a wrapper whose anvil child outlives it (anvil
            # takes ~1.5 s to leave on SIGTERM and keeps no state worth a graceful exit: a short grace, then KILL)
            for sig, wait in ((signal.SIGTERM, min(timeout, 0.3)), (signal.SIGKILL, timeout)):
                try:
                    os.killpg(proc.pid, sig)
                except (ProcessLookupError, PermissionError):
                    break
                try:
                    proc.wait(wait)
                except subprocess.TimeoutExpired:
                    continue
                if _group_gone(proc.pid, wait):
                    break
        if proc is not None:
            try:  # reap the group leader; children died with the group
                proc.wait(0.1)
            except subprocess.TimeoutExpired:
                pass
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()
        self._log = None

    def __enter__(self) -> "AnvilNode":
        return self.start() if self.proc is None else self

    def __exit__(self, *exc) -> None:
        self.stop()


@atexit.register
def _stop_all() -> None:
    for node in list(_LIVE):
        node.stop(timeout=2.0)
