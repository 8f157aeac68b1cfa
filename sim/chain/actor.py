"""The replay's actor: a `ReplayStepper` contract that sends a step's calls as one transaction.

`Actor.add(action, contract, method, *args)` queues a call; `flush()` sends the queue as ONE
`ReplayStepper.step(calls)` transaction, which runs each call on its own and emits `CallFailed(index,
reason)` for a refused one without undoing the others: each refusal is recorded (step, action, decoded
custom error). `read_words` reads many views in one `eth_call`.

On anvil (Ape's foundry provider) the transaction goes out raw (`eth_sendTransaction` from an account
the node holds: the node fills nonce and fees) and its logs are decoded here (`RawReceipt`): 2-3 RPCs a
step where Ape's transaction path takes ~25. Elsewhere Ape's path is used. A node that stops answering
raises `ReplayNodeError`.
"""
from __future__ import annotations

import time
from types import SimpleNamespace

STEP_GAS_LIMIT = 25_000_000


class ReplayError(RuntimeError):
    """A replay that cannot start (bad run directory, run index, network, scenario)."""


class ReplayNodeError(ReplayError):
    """The node stopped answering mid-replay."""


class Actor:
    def __init__(self, admin, stepper, node=None, selectors: dict[str, str] | None = None):
        from ape import chain

        self.chain, self.admin, self.stepper, self.node = chain, admin, stepper, node
        self.selectors = selectors or {}
        self.fast = chain.provider.name == "foundry"  # anvil: raw transaction and raw eth_call
        self.calls: list[tuple[str, str, bytes]] = []
        self.reverts: list[dict] = []
        self.gas = 0
        self.step = 0
        self.last_receipt, self.last_calls = None, []

    # -- time

    def advance(self, ts: int) -> None:
        """The next transaction lands at `ts` (Ape's set_timestamp; anvil: evm_setNextBlockTimestamp)."""
        try:
            self.chain.pending_timestamp = int(ts)
        except Exception as err:  # noqa: BLE001 - a provider without it: mine an empty block at ts instead
            self.check_node(err)
            self.chain.mine(1, timestamp=int(ts))

    # -- calls

    def add(self, action: str, contract, method: str, *args) -> None:
        """Queue one call of the current step."""
        data = getattr(contract, method).encode_input(*args)
        self.calls.append((action, contract.address, bytes(data)))

    def flush(self):
        """Send the queued calls as one `step` transaction; record each refused call. Returns the receipt."""
        from ape.exceptions import ContractLogicError, TransactionError

        calls, self.calls = self.calls, []
        if not calls:
            return None
        try:
            if self.fast:
                receipt = self._send_raw(self.stepper.step.encode_input([(t, d) for _a, t, d in calls]))
                if receipt.status == 0:
                    self.gas += receipt.gas_used
                    self.reverts.append({"step": self.step, "action": "step", "reason": "transaction reverted (status 0)"})
                    return None
            else:
                receipt = self.stepper.step([(t, d) for _a, t, d in calls], sender=self.admin, gas_limit=STEP_GAS_LIMIT)
        except (ContractLogicError, TransactionError) as err:  # the whole step refused (out of gas, ...)
            self.check_node()
            self.reverts.append({"step": self.step, "action": "step", "reason": reason(err)})
            return None
        except Exception as err:  # noqa: BLE001 - a dead node surfaces as many exception types
            self.check_node(err)
            raise
        self.gas += int(getattr(receipt, "gas_used", 0) or 0)
        for ev in receipt.decode_logs(self.stepper.CallFailed):
            self.reverts.append({"step": self.step, "action": calls[int(ev.index)][0], "reason": self.decode_error(bytes(ev.reason))})
        self.last_receipt, self.last_calls = receipt, calls
        return receipt

    def transact(self, action: str, fn, *args) -> None:
        """One transaction of its own from the admin (a call the stepper may not make); a refusal is recorded."""
        try:
            fn(*args, sender=self.admin)
        except Exception as err:  # noqa: BLE001
            self.check_node(err)
            self.reverts.append({"step": self.step, "action": action, "reason": reason(err)})

    def failed_indices(self, receipt) -> set[int]:
        return {int(ev.index) for ev in receipt.decode_logs(self.stepper.CallFailed)} if receipt is not None else set()

    def read_words(self, reads: list[tuple[object, str, tuple]]) -> list[int | None]:
        """Each (contract, view, args) read as one uint256 word, in one eth_call; a reverting read is None."""
        data = [bytes(getattr(c, m).encode_input(*a)) for c, m, a in reads]
        targets = [c.address for c, _m, _a in reads]
        if self.fast:
            from eth_abi import decode

            call = {"to": self.stepper.address, "data": "0x" + bytes(self.stepper.readWords.encode_input(targets, data)).hex()}
            out = self.chain.provider.web3.provider.make_request("eth_call", [call, "latest"])
            if "error" in out:
                raise RuntimeError(f"eth_call readWords: {out['error']}")
            words, ok = decode(["uint256[]", "bool[]"], bytes.fromhex(out["result"][2:]))
        else:
            words, ok = self.stepper.readWords(targets, data)
        return [int(v) if good else None for v, good in zip(words, ok)]

    # -- errors and the node

    def decode_error(self, data: bytes) -> str:
        if len(data) < 4:
            return "reverted without data"
        name = self.selectors.get(data[:4].hex())
        if name is None and data[:4].hex() == "08c379a0":
            from eth_abi import decode

            return decode(["string"], data[4:])[0]
        args = [str(int.from_bytes(data[k:k + 32], "big", signed=False)) for k in range(4, len(data), 32)][:4]
        return f"{name or '0x' + data[:4].hex()}({', '.join(args)})"

    def check_node(self, err: Exception | None = None) -> None:
        dead = self.node is not None and not self.node.alive()
        if not dead and err is not None:
            try:
                self.chain.provider.web3.eth.chain_id  # noqa: B018
            except Exception:  # noqa: BLE001
                dead = True
        if dead:
            where = self.node.uri if self.node else "the node"
            raise ReplayNodeError(f"{where} stopped answering at step {self.step}") from err

    def _send_raw(self, data) -> "RawReceipt":
        """The step transaction straight to anvil, receipt by hash (automine)."""
        req = self.chain.provider.web3.provider.make_request
        tx = {"from": self.admin.address, "to": self.stepper.address, "data": "0x" + bytes(data).hex(), "gas": hex(STEP_GAS_LIMIT)}
        out = req("eth_sendTransaction", [tx])
        if "error" in out:
            raise RuntimeError(f"eth_sendTransaction: {out['error']}")
        for wait in (0.0, 0.001, 0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0):
            time.sleep(wait)
            raw = req("eth_getTransactionReceipt", [out["result"]]).get("result")
            if raw is not None:
                return RawReceipt(raw)
        raise RuntimeError("no receipt after 4 s (is the node automining?)")


def reason(err: Exception) -> str:
    msg = str(getattr(err, "revert_message", None) or err).strip().splitlines()
    return (msg[0] if msg else type(err).__name__)[:300]


class RawReceipt:
    """A raw eth_getTransactionReceipt with Ape's `decode_logs(contract.Event)` for the replay's events."""

    def __init__(self, raw: dict):
        self.logs = raw.get("logs", [])
        self.gas_used = int(raw.get("gasUsed", "0x0"), 16)
        self.status = int(raw.get("status", "0x1"), 16)

    def decode_logs(self, event) -> list:
        from eth_abi import decode
        from eth_utils import keccak

        abi = event.abi
        topic0 = "0x" + keccak(text=abi.selector).hex()
        where = str(event.contract.address).lower()
        indexed = [i for i in abi.inputs if i.indexed]
        plain = [i for i in abi.inputs if not i.indexed]
        out = []
        for log in self.logs:
            topics = [t if isinstance(t, str) else "0x" + bytes(t).hex() for t in log["topics"]]
            if not topics or topics[0].lower() != topic0 or str(log["address"]).lower() != where:
                continue
            vals = {inp.name: decode([inp.canonical_type], bytes.fromhex(t[2:]))[0] for inp, t in zip(indexed, topics[1:])}
            data = log["data"] if isinstance(log["data"], str) else "0x" + bytes(log["data"]).hex()
            vals.update({inp.name: v for inp, v in zip(plain, decode([i.canonical_type for i in plain], bytes.fromhex(data[2:])))})
            out.append(SimpleNamespace(**vals))
        return out
