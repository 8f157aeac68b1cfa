"""The bridge to the chain (the `tripod[chain]` extra): deploy the protocol from the package's compiled
contracts, replay a simulated run as transactions on a fork, compare, and a stress kit for Ape suites.

Importing `sim.chain` imports nothing from Ape or web3; `node`, `evm`, `spec`, `compare`, `trades` and
`pytest_plugin` never do, the others import Ape inside their functions. `import sim` never imports
this package. See sim/chain/README.md for the modules.
"""
