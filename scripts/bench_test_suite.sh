#!/usr/bin/env bash
# Wall time of the test tiers on this machine (run it idle): the whole suite serial and on every core
# (`make test`), and `make test-fast`. Docker tests are skipped unless BENCH_DOCKER=1.
# Usage: scripts/bench_test_suite.sh [make test arguments, e.g. TEST_WORKERS=4]
set -uo pipefail
cd "$(dirname "$0")/.."
[ "${BENCH_DOCKER:-0}" = 1 ] || export RLDOJO_SKIP_DOCKER=1
make --quiet setup builds >/dev/null

timed() {
  local label=$1 start status
  shift
  start=$(date +%s)
  "$@" >"/tmp/bench_test_suite.$label.log" 2>&1
  status=$?
  printf '| %-22s | %6ss | %-40s |\n' "$label" "$(($(date +%s) - start))" \
    "exit $status, $(grep -Eo '[0-9]+ (passed|failed)[^=]*' "/tmp/bench_test_suite.$label.log" | tail -1)"
}

echo "cores: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| %-22s | %7s | %-40s |\n' tier wall result
timed test-fast make test-fast "$@"
timed test-parallel make test "$@"
timed test-serial make test TEST_WORKERS=0
