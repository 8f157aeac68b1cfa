"""The bridge to the chain: local anvil nodes, unit conversions, trajectory replay.

Importing `sim.chain` does not import Ape or web3: `sim.chain.node` and `sim.chain.units` are pure
Python; `sim.chain.replay` imports Ape inside its functions. `import sim` never imports this package.
"""
