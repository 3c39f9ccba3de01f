#!/usr/bin/env bash
# Builds tokattr (normal and ASan+UBSan) and runs the test suite.
# TOKATTR_TEST_LABELS (a ctest -L regex) selects tests; by default the slow
# ones (label "slow") are left out. TOKATTR_SANITIZE=0 skips the sanitizer build,
# TOKATTR_FUZZ=0 the fuzz harnesses.
set -euo pipefail
cd "$(dirname "$0")"
./install-deps.sh
jobs=$(nproc)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest_args=(--output-on-failure --timeout 1800)
if [ -n "${TOKATTR_TEST_LABELS:-}" ]; then
  ctest_args+=(-L "$TOKATTR_TEST_LABELS")
else
  ctest_args+=(-LE slow)
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs"
echo "== tests (release build)"
(cd build && ctest "${ctest_args[@]}")

if [ "${TOKATTR_SANITIZE:-1}" != 0 ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTOKATTR_SANITIZE=ON >/dev/null
  cmake --build build-asan -j "$jobs"
  echo "== tests (ASan + UBSan build; label 'unit' only, the integration runs are covered above, and not the"
  echo "   whole-archive checks of label 'corpus', which the release build ran)"
  # Open MPI's own allocations are not ours to fix.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  (cd build-asan && ctest --output-on-failure --timeout 1800 -L unit -LE 'slow|corpus')
fi

# libFuzzer harnesses (tests/fuzz/README.md): built with clang, each run for a
# short fixed number of executions on its seed corpus. TOKATTR_FUZZ=0 skips.
if [ "${TOKATTR_FUZZ:-1}" != 0 ]; then
  cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DTOKATTR_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
  cmake --build build-fuzz -j "$jobs"
  echo "== fuzz harnesses (${TOKATTR_FUZZ_RUNS:-1000} executions each)"
  rm -rf build-fuzz/ci-work # the same fixed work each time: the seeds only
  tests/fuzz/run.sh build-fuzz --runs "${TOKATTR_FUZZ_RUNS:-1000}" --work build-fuzz/ci-work
fi
