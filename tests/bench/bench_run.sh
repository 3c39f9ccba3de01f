#!/bin/bash
# Benchmark of `tokattr run` (not a test): runs a job on each rank count
# given and prints the work's time and reviews/s, the whole job's time
# (setup + work, as the job reports them; and mpirun's wall time, start-up
# included), the scaling efficiency of each against the first count,
# rank 0's time spent receiving/writing, and every rank's PSS
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
base_rate="" base_whole="" base_wall=""
printf "%-6s %9s %11s %9s %8s %8s %8s %8s %8s %12s  %s\n" ranks seconds reviews/s work_eff \
    whole_s whole_eff wall_s wall_eff layout_s rank0_write "PSS per rank (MB)"
for n in "${counts[@]}"; do
    t0=$(date +%s.%N)
    mpirun -n "$n" "$bin" run "$job" "${shared[@]}" --force --quiet > "$log" 2>&1 &
    mp=$!
    pss=""
    # sample PSS once a second up to 8 s (the last sample is kept), and see
    # the end within 50 ms so that the wall time is the job's
    for i in $(seq 1200); do
        sleep 0.05
        kill -0 $mp 2>/dev/null || break
        [ $((i % 20)) = 0 ] && [ "$i" -le 160 ] || continue
        kids=$(pgrep -P $mp || true)
        [ -n "$kids" ] || continue
        now=""
        for k in $kids; do
            v=$(awk '/^Pss:/ {print $2}' /proc/$k/smaps_rollup 2>/dev/null || echo 0)
            now="$now $((v / 1024))"
        done
        pss=$now
    done
    wait $mp || { cat "$log"; exit 1; }
    wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
    line=$(grep "computed now" "$log")
    secs=$(sed -n 's/.* in \([0-9.]*\) s on.*/\1/p' <<<"$line")
    rate=$(sed -n 's/.*: \([0-9.]*\) reviews\/s.*/\1/p' <<<"$line")
    w0=$(sed -n 's/.*rank 0 writing \([0-9.]*\) s.*/\1/p' <<<"$line")
    setup=$(sed -n 's/.*; setup \([0-9.]*\) s.*/\1/p' <<<"$line")
    lay=$(sed -n 's/.*; layout \([0-9.]*\) s.*/\1/p' <<<"$line")
    whole=$(awk -v a="$secs" -v b="${setup:-0}" 'BEGIN { printf "%.2f", a + b }')
    [ -n "$base_rate" ] || { base_rate=$rate; base_whole=$whole; base_wall=$wall; }
    eff() { awk -v t="$1" -v b="$2" -v n="$n" -v n0="${counts[0]}" 'BEGIN { printf "%.1f%%", 100 * b * n0 / (t * n) }'; }
    weff=$(awk -v r="$rate" -v b="$base_rate" -v n="$n" -v n0="${counts[0]}" 'BEGIN { printf "%.1f%%", 100 * r / (b * n / n0) }')
    printf "%-6s %9s %11s %9s %8s %8s %8s %8s %8s %12s  %s\n" "$n" "$secs" "$rate" "$weff" "$whole" \
        "$(eff "$whole" "$base_whole")" "$wall" "$(eff "$wall" "$base_wall")" "${lay:--}" "$w0 s" "$pss"
done
rm -f "$log"
