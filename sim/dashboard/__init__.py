"""The dashboard (`tripod dashboard`): a local Dash app over result folders, reading Parquet through DuckDB."""
