#!/usr/bin/env bash
# The short versions of the reliability harness, as .ci/run runs them
# (about two minutes on a loaded 2-core machine). Each prints its seed, so
# a failure can be replayed: see TESTING.md. The long versions: long.sh.
set -uo pipefail
cd "$(dirname "$0")/../.."
mp=${MP_BINARY:-.build/debug/mp}
status=0
run() {
  echo "== $*"
  "$@" || status=1
}
# --tolerate-arena-leaks until the last rare arena leak under chaos is
# found (about 1 round in 40 still keeps 160 bytes; TESTING.md, "Open"):
# such a round is reported as KNOWN, every other check still fails CI.
# The long run does not use it.
run python3 tests/harness/chaos.py --rounds 6 --seconds 3 --mp "$mp" --quiet --tolerate-arena-leaks
run python3 tests/harness/gen.py --seconds 15 --mp "$mp"
run python3 tests/harness/signals.py --mp "$mp"
run python3 tests/harness/soak.py --scale 0.02 --mp "$mp"
exit $status
