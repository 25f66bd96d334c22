#!/usr/bin/env bash
# The long runs TESTING.md reports: 500 chaos rounds, 30 minutes each of the
# libFuzzer target and the program generator, the full soak and five passes
# of the signal matrix. They run side by side at the lowest priority; logs
# go to OUT_DIR (default /tmp/mp-long). Takes about 40 minutes.
# Usage: tests/harness/long.sh [OUT_DIR]
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${1:-/tmp/mp-long}
mkdir -p "$out"
mp=${MP_BINARY:-.build/debug/mp}
[ -x .build/fuzz/mp-fuzz ] || tests/harness/fuzz/build.sh >/dev/null
echo "long runs at $(git rev-parse --short HEAD), logs in $out"
nice -n 19 python3 tests/harness/chaos.py --rounds 500 --seconds 2 --mp "$mp" --keep "$out/chaos-failures" > "$out/chaos.log" 2>&1 &
nice -n 19 tests/harness/fuzz/run.sh 1800 > "$out/fuzz.log" 2>&1 &
nice -n 19 python3 tests/harness/gen.py --seconds 1800 --mp "$mp" --keep "$out/gen-failures" > "$out/gen.log" 2>&1 &
wait
nice -n 19 python3 tests/harness/soak.py --scale 1 --mp "$mp" > "$out/soak.log" 2>&1
nice -n 19 python3 tests/harness/signals.py --repeat 5 --mp "$mp" > "$out/signals.log" 2>&1
tail -n 3 "$out"/*.log
