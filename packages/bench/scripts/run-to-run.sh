#!/usr/bin/env bash
# Two back-to-back runs of a suite (default: the quick suite) and their run-to-run spread of decode tokens/s.
# Usage (from the repo root, after `pnpm build`): packages/bench/scripts/run-to-run.sh [suite.json] [work-dir]
# Writes <work-dir>/run-1, <work-dir>/run-2 (each: results.json, report.md, report.html) and
# <work-dir>/run-to-run.md; exits 1 when a cell's spread is over 10%. Each run holds /tmp/slmkit-measure.lock
# (when flock exists) so no other measurement overlaps it.
set -u -o pipefail
suite="${1:-packages/bench/suites/quick.json}"
work="${2:-bench-run-to-run}"
lock() { if command -v flock >/dev/null; then flock /tmp/slmkit-measure.lock "$@"; else "$@"; fi; }
mkdir -p "$work"
for i in 1 2; do
  echo "run $i: $(uptime)" >&2
  # Exit code 2 (some cell failed) still leaves results to compare.
  lock node packages/cli/dist/bin.js bench --suite "$suite" --out "$work/run-$i" --cache "$work/cache" >/dev/null
done
node packages/cli/dist/bin.js bench compare "$work/run-1/results.json" "$work/run-2/results.json" --spread \
  | tee "$work/run-to-run.md"
