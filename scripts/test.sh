#!/usr/bin/env bash
# Quick start 2: install everything the tests need (PostgreSQL, ffmpeg and Chromium from Debian, the Kafka-protocol
# broker from PyPI) and run lint plus the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
STOPLINE_APT_PACKAGES="postgresql ffmpeg chromium" scripts/bootstrap.sh test,ultralytics,paddleocr

echo "== ruff format --check"
.venv/bin/ruff format --check .
echo "== ruff check"
.venv/bin/ruff check .
echo "== pytest"
status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ "$status" = 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$status"
