"""Policies (`p_*`) and their helpers, one module per domain. Each policy takes
(params, state, x) — x being the exogenous inputs of the step — and returns the new values of the
state variables it owns as a dict of named signals. All maths is elementwise numpy, so the same
function runs on a scalar state (cadCAD) and on arrays over runs (batched engine)."""
