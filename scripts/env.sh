# Source me: puts the project's venv, npm tools and tool data folders first, so nothing depends on $HOME.
TRIPOD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TRIPOD_ROOT
export APE_DATA_FOLDER="$TRIPOD_ROOT/.ape"
export SOLCX_BINARY_PATH="$TRIPOD_ROOT/.solcx"
export PATH="$TRIPOD_ROOT/.venv/bin:$TRIPOD_ROOT/node_modules/.bin:$PATH"
# Matplotlib must never need a display or write outside the project.
export MPLBACKEND=Agg
export MPLCONFIGDIR="$TRIPOD_ROOT/.cache/matplotlib"
