#!/usr/bin/env bash
# Runs every libFuzzer harness of a fuzz build on its seed corpus.
#
#   tests/fuzz/run.sh [BUILD_DIR] [--runs N | --seconds S] [--only NAME] [--work DIR]
#
# BUILD_DIR (default build-fuzz) is configured with
#   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DTOKATTR_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug
# --runs N: N executions per harness (CI: a short, fixed amount of work);
# --seconds S: S seconds per harness (the long runs; -max_total_time).
# New inputs go to WORK/<name>/ (default BUILD_DIR/fuzz-work), never into the
# checked-in seeds; crashes are written as WORK/<name>/crash-*. Exits non-zero
# when any harness finds a crash, a leak or undefined behaviour. Harnesses run
# one after another under nice (the machine is shared).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=build-fuzz
limit=(-runs=1000)
only=""
work=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) limit=(-runs="$2"); shift 2 ;;
    --seconds) limit=(-max_total_time="$2"); shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) build="$1"; shift ;;
  esac
done
work=${work:-$build/fuzz-work}
# Scratch files (the inputs written for parsers that take a path) in memory
# when the machine has /dev/shm.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
# Leaks are findings too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fail=0
for corpus in "$here"/corpus/*/; do
  name=$(basename "$corpus")
  [ -n "$only" ] && [ "$name" != "$only" ] && continue
  bin="$build/tests/fuzz/fuzz_$name"
  if [ ! -x "$bin" ]; then
    echo "FAIL: $bin is missing (build $build first)"; fail=1; continue
  fi
  mkdir -p "$work/$name"
  log="$work/$name.log"
  # First directory: where new inputs are kept; the seeds are read only.
  nice "$bin" "${limit[@]}" -max_len=65536 -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$work/$name/" "$work/$name" "$corpus" > "$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  if [ $rc -ne 0 ]; then
    echo "FAIL: fuzz_$name (exit $rc), log $log:"; grep -E "ERROR|runtime error|SUMMARY|Test unit written" "$log" | head -5
    fail=1
  else
    echo "ok   fuzz_$name: ${execs:-?} executions, ${cov:-cov: ?}"
  fi
done
exit $fail
