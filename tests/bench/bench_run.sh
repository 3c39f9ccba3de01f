#!/bin/bash
# Benchmark of `tokattr run` (not a test): runs a job on each rank count
# given and prints time, reviews/s, scaling efficiency against the first
# count, rank 0's time spent receiving/writing, and every rank's PSS
# (/proc/<pid>/smaps_rollup, sampled while the work runs).
#
#   tests/bench/bench_run.sh [JOB] [RANKS...]     default: jobs/ig_cnn_test.yaml 1 2
#   TOKATTR_BIN=build/tokattr TOKATTR_SHARED=../shared  (environment)
#
# It runs whole jobs: do not run it on a machine others are measuring on.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${TOKATTR_BIN:-$here/build/tokattr}
job=${1:-$here/jobs/ig_cnn_test.yaml}
shift || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1 2)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
shared=()
[ -n "${TOKATTR_SHARED:-}" ] && shared=(--shared "$TOKATTR_SHARED")
log=$(mktemp)
base_rate=""
printf "%-6s %9s %11s %11s %12s  %s\n" ranks seconds reviews/s efficiency rank0_write "PSS per rank (MB)"
for n in "${counts[@]}"; do
    mpirun -n "$n" "$bin" run "$job" "${shared[@]}" --force --quiet > "$log" 2>&1 &
    mp=$!
    pss=""
    # sample once the ranks are past start-up, keep the largest sample
    for i in $(seq 60); do
        sleep 1
        kill -0 $mp 2>/dev/null || break
        kids=$(pgrep -P $mp || true)
        [ -n "$kids" ] || continue
        now=""
        for k in $kids; do
            v=$(awk '/^Pss:/ {print $2}' /proc/$k/smaps_rollup 2>/dev/null || echo 0)
            now="$now $((v / 1024))"
        done
        pss=$now
        [ "$i" -ge 8 ] && break
    done
    wait $mp || { cat "$log"; exit 1; }
    line=$(grep "computed now" "$log")
    secs=$(sed -n 's/.* in \([0-9.]*\) s on.*/\1/p' <<<"$line")
    rate=$(sed -n 's/.*: \([0-9.]*\) reviews\/s.*/\1/p' <<<"$line")
    w0=$(sed -n 's/.*rank 0 writing \([0-9.]*\) s.*/\1/p' <<<"$line")
    [ -n "$base_rate" ] || base_rate=$rate
    eff=$(awk -v r="$rate" -v b="$base_rate" -v n="$n" -v n0="${counts[0]}" 'BEGIN { printf "%.0f%%", 100 * r / (b * n / n0) }')
    printf "%-6s %9s %11s %11s %12s  %s\n" "$n" "$secs" "$rate" "$eff" "$w0 s" "$pss"
done
rm -f "$log"
