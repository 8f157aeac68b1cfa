"""Helpers shared by the Ape contract tests (mirror the contracts' constants and accounting)."""
