#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 60) from its seed corpus (tests/fuzz/corpus, taken
# from the simulator's output) and prints libFuzzer's final stats line per target. Needs the
# nightly toolchain and cargo-fuzz (installed when missing). New inputs go to a scratch corpus,
# never into the checked-in seeds; a crash leaves its input in tests/fuzz/artifacts and fails.
#
#   bash tests/fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in message observations_response aggregates_response; do
  mkdir -p "$scratch/$target"
  cargo +nightly fuzz run --fuzz-dir tests/fuzz "$target" "$scratch/$target" \
    "tests/fuzz/corpus/$target" -- -max_total_time="$seconds" -max_len=65536 \
    2>"$scratch/$target.log" || { tail -40 "$scratch/$target.log"; exit 1; }
  echo "$target: $(grep -E '^Done|#[0-9]+.*DONE' "$scratch/$target.log" | tail -1)"
done
