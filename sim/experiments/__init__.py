"""Experiments: designed comparisons over several scenarios, with their own report."""
