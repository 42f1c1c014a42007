#!/usr/bin/env bash
# Fuzzes the parsers at the edge (fuzz/fuzz_targets/) with cargo fuzz and libFuzzer, each
# target for SECONDS (default 300), from the seeds in fuzz/seeds/ and the corpus earlier runs
# grew in target/fuzz/corpus/. A target that panics fails the run; its input is saved in
# target/fuzz/artifacts/<target>/, and this replays it:
#   cargo fuzz run --fuzz-dir fuzz -s none --target-dir target/fuzz <target> <file>
#
#   scripts/fuzz.sh            5 minutes a target (35 minutes for the seven)
#   scripts/fuzz.sh 10         the short run CI makes
#
# The targets build on stable Rust (`--sanitizer none`: the parsers are safe Rust, so
# AddressSanitizer, which needs nightly, would find nothing more) and only the domain crate,
# so the build takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-300}"
CARGO_FUZZ_VERSION=0.13.2
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  echo "installing cargo-fuzz $CARGO_FUZZ_VERSION (once)"
  cargo install --quiet --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi

out="$PWD/target/fuzz"
fuzz=(--fuzz-dir fuzz --sanitizer none --target-dir "$out")
targets=$(cargo fuzz list --fuzz-dir fuzz)
if [[ -z "$targets" ]]; then
  echo "no fuzz target found in fuzz/" >&2
  exit 1
fi
echo "== building the fuzz targets: $(echo $targets)"
cargo fuzz build "${fuzz[@]}"

failed=()
summary=()
for target in $targets; do
  corpus="$out/corpus/$target"
  artifacts="$out/artifacts/$target/"
  mkdir -p "$corpus" "$artifacts"
  log="$out/$target.log"
  echo "== fuzzing $target for ${seconds} s"
  if cargo fuzz run "${fuzz[@]}" "$target" "$corpus" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -artifact_prefix="$artifacts" -print_final_stats=1 >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    summary+=("$(printf '%-14s %12s runs  %-10s corpus %s inputs' "$target" "$runs" "$cov" "$(ls "$corpus" | wc -l)")")
  else
    grep -E "panicked|SUMMARY|Test unit written" "$log" || tail -20 "$log"
    failed+=("$target")
    summary+=("$(printf '%-14s FAILED (%s)' "$target" "$log")")
  fi
done

echo "== fuzz summary (${seconds} s a target)"
printf '%s\n' "${summary[@]}"
if ((${#failed[@]})); then
  echo "fuzzing found a failure in: ${failed[*]}" >&2
  exit 1
fi
