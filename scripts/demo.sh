#!/usr/bin/env bash
# Quick start 1: install stopline and run the demo intersection end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/stopline demo --out "${STOPLINE_DEMO_OUT:-demo-output}" "$@"
