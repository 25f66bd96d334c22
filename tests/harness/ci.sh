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
run python3 tests/harness/chaos.py --rounds 6 --seconds 3 --mp "$mp" --quiet
run python3 tests/harness/gen.py --seconds 15 --mp "$mp"
run python3 tests/harness/bytecode_diff.py --seconds 15 --mp "$mp"
run python3 tests/harness/signals.py --mp "$mp"
run python3 tests/harness/soak.py --scale 0.02 --mp "$mp"
exit $status
