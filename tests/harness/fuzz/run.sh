#!/usr/bin/env bash
# Runs the libFuzzer target for SECONDS (default 60), seeded with every .mp
# file in the repository. Findings (crash-*, timeout-*, oom-*) are written
# to tests/harness/fuzz/crashes/, to be kept as fixtures: FuzzFixtureTests
# replays every file there in `swift test`.
# Usage: tests/harness/fuzz/run.sh [SECONDS] [FUZZER]
set -euo pipefail
cd "$(dirname "$0")/../../.."
seconds=${1:-60}
fuzzer=${2:-.build/fuzz/mp-fuzz}
[ -x "$fuzzer" ] || tests/harness/fuzz/build.sh >/dev/null
work=$(mktemp -d /tmp/mp-fuzz-corpus.XXXXXX)
trap 'rm -rf "$work"' EXIT
n=0
while IFS= read -r -d '' f; do cp "$f" "$work/seed-$n.mp"; n=$((n + 1)); done \
  < <(find . -name '*.mp' -not -path './.build/*' -print0)
cp tests/harness/fuzz/crashes/* "$work/" 2>/dev/null || true
echo "mp-fuzz: $n seed files, $seconds s"
# -timeout: a unit running 60 s despite the step limit is a finding (a
# hang); it is wall-clock time, and at nice 19 on a loaded machine a unit
# of 0.9 s took 11. -rss_limit_mb: memory beyond 1 GiB is a finding too.
# -fork=1 with -ignore_*: a finding is written down and fuzzing goes on.
"$fuzzer" -max_total_time="$seconds" -max_len=4096 -timeout=60 -rss_limit_mb=1024 \
  -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
  -artifact_prefix=tests/harness/fuzz/crashes/ -print_final_stats=1 "$work" 2>&1 \
  | grep -E "^#[0-9]+:? |stat::|ERROR|finding|SUMMARY|Test unit written|artifact|INFO: fuzzed|DONE" || true
ls tests/harness/fuzz/crashes/ | grep -v README | sed 's/^/finding: /' || true
