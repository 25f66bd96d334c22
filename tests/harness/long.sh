#!/usr/bin/env bash
# The long runs TESTING.md reports: 500 chaos rounds, 30 minutes each of the
# libFuzzer target and the program generator, the full soak and five passes
# of the signal matrix. Chaos, fuzz and the generator run side by side at
# the lowest priority, then soak and signals; logs go to OUT_DIR (default
# /tmp/mp-long). About 45 minutes on a shared 2-core machine.
# Usage: tests/harness/long.sh [OUT_DIR [PART...]]   PART: chaos fuzz gen soak signals
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${1:-/tmp/mp-long}
shift || true
parts=${*:-chaos fuzz gen soak signals}
mkdir -p "$out"
mp=${MP_BINARY:-.build/debug/mp}
want() { [[ " $parts " == *" $1 "* ]]; }
echo "long runs ($parts) at $(git rev-parse --short HEAD), logs in $out"
if want fuzz; then
  [ -x .build/fuzz/mp-fuzz ] || tests/harness/fuzz/build.sh >/dev/null
  nice -n 19 tests/harness/fuzz/run.sh 1800 > "$out/fuzz.log" 2>&1 &
fi
want chaos && nice -n 19 python3 tests/harness/chaos.py --rounds 500 --seconds 2 --mp "$mp" \
  --keep "$out/chaos-failures" > "$out/chaos.log" 2>&1 &
want gen && nice -n 19 python3 tests/harness/gen.py --seconds 1800 --mp "$mp" \
  --keep "$out/gen-failures" > "$out/gen.log" 2>&1 &
wait
want soak && nice -n 19 python3 tests/harness/soak.py --scale 1 --mp "$mp" > "$out/soak.log" 2>&1
want signals && nice -n 19 python3 tests/harness/signals.py --repeat 5 --mp "$mp" > "$out/signals.log" 2>&1
tail -n 3 "$out"/*.log
