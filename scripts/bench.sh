#!/usr/bin/env bash
# make bench: speed figures of kmodsim (see scripts/bench.py).
set -euo pipefail
exec /usr/bin/python3 "$(dirname "$0")/bench.py" "${1:-build/kmodsim}" "${@:2}"
