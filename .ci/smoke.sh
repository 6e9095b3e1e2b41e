#!/usr/bin/env bash
# Placeholder until the dashboard lands: a headless demo of each strategy.
set -euo pipefail
BIN=${1:-./council}
$BIN run --seed 1 --strategy race "How do database indexes work?" >/dev/null
$BIN run --seed 1 --strategy hedge "What makes a good sourdough starter?" >/dev/null
$BIN run --seed 1 --strategy consensus "I was charged twice" >/dev/null
echo "smoke: ok"
