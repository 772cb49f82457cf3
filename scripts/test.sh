#!/usr/bin/env bash
# `npm test`: the type check and the dependency rule (`npm run lint`) run beside the suites of the parallel group,
# then the serial group runs on its own (tests/support/serial-suites.cjs says why each suite is there). The lint
# is one process on one core for about 25 s, time the two jest workers, mostly waiting on the servers, leave
# spare (it used to run first, on its own). Any failure fails the run; the lint's output follows the parallel
# group's.
set -uo pipefail
cd "$(dirname "$0")/.."

serial="$(node tests/support/serial-suites.cjs)"
lint_log="$(mktemp)"
trap 'rm -f "$lint_log"' EXIT

npm run lint --silent >"$lint_log" 2>&1 &
lint_pid=$!

npx jest --maxWorkers=2 --testPathIgnorePatterns "$serial"
parallel=$?

wait "$lint_pid"
lint=$?
echo "--- npm run lint (type check, dependency rule): exit $lint"
cat "$lint_log"
[ "$lint" -eq 0 ] || exit "$lint"
[ "$parallel" -eq 0 ] || exit "$parallel"

npx jest --runInBand "$serial"
