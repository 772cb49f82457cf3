#!/usr/bin/env bash
# `npm test`: the parallel group, then the two serial groups of tests/support/serial-suites.cjs (it says why each
# suite is in which): the deadline group two suites at a time, with the type check and the dependency rule (`npm run
# lint`, one process on one core for about 25 s) beside it, then the timing group one at a time with nothing beside
# it. Any failure fails the run (a failed group stops it before the next); the lint's output follows the deadline
# group's.
# Three workers on two cores (since stop 54): the parallel group waits on the servers, its timers and its child
# processes more than it computes. On the machine of stop 54 it took 677 s on two workers (jest's processes used
# 1.5 of the 2 cores) and 540 s on three, all 2,772 tests passing; the suites whose assertions have a deadline that
# load could push them past are in the serial groups. Four workers took 706 s: past three, they contend for the cores.
# The serial groups were one group run one suite at a time until stop 59, when vmstat showed it kept the two cores
# only 20-45% busy for its 230 s (the parallel group: 97-100%): its deadline suites wait, they do not compute.
set -uo pipefail
cd "$(dirname "$0")/.."

# Temporary files on tmpfs, when the machine has one and TMPDIR is not set: the suites copy a 39 MB migrated PGlite
# cluster into a fresh directory for every embedded app or store they start (about a hundred), PGlite writes its
# pages there, and each is removed at the end. On this machine's ext4 (mounted with discard) one such copy cost
# 0.3-0.4 s and its removal 0.1 s, against 0.07 s and 0.02 s on /dev/shm; an embedded app's start went from 3.7-4.3 s
# to 2.5-2.9 s of CPU. The directory is the user's own (0700) and kept between runs, as /tmp's files are (jest's
# transform cache and the migrated template live there too).
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
  shm_tmp="/dev/shm/auth-service-tests-$(id -u)"
  mkdir -p -m 0700 "$shm_tmp" 2>/dev/null
  if [ -d "$shm_tmp" ] && [ -O "$shm_tmp" ] && [ ! -L "$shm_tmp" ]; then
    chmod 0700 "$shm_tmp"
    export TMPDIR="$shm_tmp"
  fi
fi

serial="$(node tests/support/serial-suites.cjs all)"
deadline="$(node tests/support/serial-suites.cjs deadline)"
timing="$(node tests/support/serial-suites.cjs timing)"
lint_log="$(mktemp)"
trap 'rm -f "$lint_log"' EXIT

# At the lowest priority, so that it takes the CPU the suites leave, not theirs (alone it takes 21 s), and beside the
# deadline group (since stop 59), which leaves the cores half idle, rather than the parallel group, which leaves them
# none: the three workers' group took 540 s without it and 588-602 s beside it (stop 54). A nice-19 process cannot
# push a deadline suite past its deadline where two busy loops at the default priority did not (stop 59: the deadline
# group passed beside them, 100 s instead of 72-74 s).
# A worker whose memory passed 1 GB after a suite is replaced before the next (since 2026-12-08): on the thirty-ninth
# machine the three workers grew to 1.3-1.6 GB each and the group took 703 s at 155% CPU; replaced, 625 s at 174%
# (one run each, the same suites but one scan merged; the rest of the time went to collecting those heaps).
npx jest --maxWorkers=3 --workerIdleMemoryLimit=1GB --testPathIgnorePatterns "$serial"
parallel=$?
if [ "$parallel" -ne 0 ]; then
  # Its output may say why (a type error), so it still runs, on its own.
  npm run lint --silent
  echo "--- npm run lint (type check, dependency rule): exit $?"
  exit "$parallel"
fi

nice -n 19 npm run lint --silent >"$lint_log" 2>&1 &
lint_pid=$!

npx jest --maxWorkers=2 "$deadline"
deadline_run=$?

wait "$lint_pid"
lint=$?
echo "--- npm run lint (type check, dependency rule): exit $lint"
cat "$lint_log"
[ "$lint" -eq 0 ] || exit "$lint"
[ "$deadline_run" -eq 0 ] || exit "$deadline_run"

npx jest --runInBand "$timing"
