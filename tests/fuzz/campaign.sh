#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run one libFuzzer campaign and fold what it found back into the corpus.
#   tests/fuzz/campaign.sh BUILD_DIR NAME SECONDS
# BUILD_DIR is a clang build with -Dfuzzing=true (and, usually, sanitizers).
# New coverage is merged (minimised) into tests/fuzz/corpus/NAME; a crash
# leaves its input in tests/fuzz/crashes/NAME/ and fails the script.
set -eu

[ $# -eq 3 ] || { echo "usage: $0 BUILD_DIR NAME SECONDS" >&2; exit 2; }
build=$1; name=$2; seconds=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
fuzzer="$build/tests/fuzz/fuzz-$name"
corpus="$top/tests/fuzz/corpus/$name"
crashes="$top/tests/fuzz/crashes/$name"
[ -x "$fuzzer" ] || { echo "$fuzzer: not built (meson setup with -Dfuzzing=true)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$crashes"
cp "$corpus"/* "$work/corpus/"

echo "fuzz-$name: ${seconds}s"
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$crashes/" "$work/corpus" \
  >"$work/log" 2>&1 || { tail -n 40 "$work/log"; exit 1; }
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$work/log" || true
grep -E '#[0-9]+.*DONE' "$work/log" | tail -n 1 || true

# Keep the corpus small: add only the new inputs that add coverage to what
# is there (the named seeds stay, as documentation of the input forms).
before=$(ls "$corpus" | wc -l)
"$fuzzer" -merge=1 "$corpus" "$work/corpus" >/dev/null 2>&1
echo "fuzz-$name: corpus $before -> $(ls "$corpus" | wc -l) files"
rmdir "$crashes" 2>/dev/null || true
