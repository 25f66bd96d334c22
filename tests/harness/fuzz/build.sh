#!/usr/bin/env bash
# Builds mp-fuzz: libFuzzer (-sanitize=fuzzer) over the MPLanguage module
# (lexer, parser, evaluator) with FuzzEntry.swift compiled into it.
# Usage: tests/harness/fuzz/build.sh [OUT_DIR]   (default .build/fuzz)
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=${1:-.build/fuzz}
mkdir -p "$out/include"
# CMPShim as a Clang module, as SwiftPM would present it.
cp Sources/CMPShim/include/*.h "$out/include/"
printf 'module CMPShim {\n  umbrella header "mpshim.h"\n  export *\n}\n' > "$out/include/module.modulemap"
objects=()
for c in Sources/CMPShim/*.c; do
  o="$out/$(basename "$c" .c).o"
  clang -c -O1 -fsanitize=fuzzer-no-link -I Sources/CMPShim/include "$c" -o "$o"
  objects+=("$o")
done
mapfile -t sources < <(find Sources/MPLanguage -name '*.swift' | sort)
swiftc -sanitize=fuzzer -parse-as-library -O -module-name MPLanguage -swift-version 5 \
  -I "$out/include" "${sources[@]}" tests/harness/fuzz/FuzzEntry.swift "${objects[@]}" -o "$out/mp-fuzz"
echo "$out/mp-fuzz"
