#!/bin/bash
# Benchmark (not a test): rank 0's cost per review - receiving a result,
# putting it into the file, flushing, and writing the file's layout (which
# it does during the work) - for saliency, IG-50 and epsilon-LRP
# on the CNN, from the run's own timers (the `rank 0 per review` line and
# the phase table `tokattr run` prints), and the cluster rate at which
# rank 0 would saturate (1 / that cost), for both results writers side by
# side (job key `writer`): `root`, where every result travels to rank 0
# and it writes them with HDF5, and `ranks`, where each computing rank
# writes its own units and rank 0 receives a small message per unit and
# marks units done. With `ranks`, rank 0's own units' pwrite and sync are
# its computing side (the phase table's write / flush rows), not its
# coordinating cost. The last lines compare the writers per method: job
# rate, and rank 0's CPU per review.
#
#   tests/bench/bench_rank0.sh [DATASET] [RANKS] [COUNT]
#       DATASET  a dataset prepared with --tokenizer tokattr-imdb (default
#                out/dataset.h5, as ./run-default.sh makes it; made when missing)
#       RANKS    default 2: rank 0 computes too and receives half the results
#       COUNT    test reviews per method (default 25000, all)
#   TOKATTR_BIN=build/tokattr TOKATTR_SHARED=../shared  (environment)
#
# Receiving is paid per review another rank computed, writing and flushing
# per review; flushes happen every checkpoint_seconds (2 s), so their share
# per review shrinks as the rate grows: "sat, 2 s" is the rate at which
# receive + write + layout per review plus one flush per 2 s fill rank 0 (assuming
# a flush costs what it cost here). Each figure is given in wall time
# and in rank 0's CPU time (user + system): on a core shared with other
# processes the wall figures include the time rank 0 waited for the core,
# the CPU ones are what the work costs on a core of its own. It runs whole
# jobs: do not run it where others are measuring.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${TOKATTR_BIN:-$here/build/tokattr}
data=${1:-$here/out/dataset.h5}
ranks=${2:-2}
count=${3:-25000}
shared=()
[ -n "${TOKATTR_SHARED:-}" ] && shared=(--shared "$TOKATTR_SHARED")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
# the CNN's vocabulary is tokattr's IMDB word index (models/README.md)
if [ ! -f "$data" ]; then
    mkdir -p "$(dirname "$data")"
    "$bin" prepare "${shared[@]}" --quiet --tokenizer tokattr-imdb --out "$data" >/dev/null
fi
data=$(readlink -f "$data")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
     "$(grep -c ^processor /proc/cpuinfo) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "CNN (imdb_cnn.h5), $count test reviews, $ranks ranks, chunk_size 16, checkpoint_seconds 2"
printf "%-9s %-6s %-5s %8s %10s %9s %9s %9s %9s %9s %11s %8s %9s %12s\n" method writer clock seconds \
    reviews/s "recv ms" "write ms" "flush ms" "layout ms" "total ms" saturation "rank0 %" "ms/flush" "sat, 2 s"
declare -A job_rate cpu_total
for m in saliency ig50 lrp; do
  for wr in root ranks; do
    case $m in
    saliency) spec="{name: saliency, method: saliency}" ;;
    ig50) spec="{name: ig50, method: integrated_gradients, n_steps: 50}" ;;
    lrp) spec="{name: lrp, method: lrp_epsilon}" ;;
    esac
    cat > "$work/$m.yaml" <<YAML
model: shared:models/imdb_cnn.h5
dataset: $data
word_index: shared:models/imdb_word_index.json
select: {first: 0, count: $count}
methods:
  - $spec
results: $work/$m.h5
writer: $wr
YAML
    mpirun -n "$ranks" "$bin" run "$work/$m.yaml" "${shared[@]}" --force --quiet > "$work/$m.log" 2>&1 ||
        { cat "$work/$m.log"; exit 1; }
    line=$(grep "computed now" "$work/$m.log")
    job_rate[$m.$wr]=$(sed -n 's/.*: \([0-9.]*\) reviews\/s.*/\1/p' <<<"$line")
    secs=$(sed -n 's/.* in \([0-9.]*\) s on.*/\1/p' <<<"$line")
    rate=$(sed -n 's/.*: \([0-9.]*\) reviews\/s.*/\1/p' <<<"$line")
    for clock in wall CPU; do
        r0=$(grep "rank 0 per review ($clock)" "$work/$m.log")
        read -r recv write flush lay total sat < <(sed -n \
            's/.*receive \([0-9.]*\) + write \([0-9.]*\) + flush \([0-9.]*\) + layout \([0-9.]*\) = \([0-9.]*\) ms: saturates at \([0-9]*\).*/\1 \2 \3 \4 \5 \6/p' <<<"$r0")
        # share of the run's wall time rank 0 spent on results
        busy=$(awk -v t="$total" -v r="$rate" 'BEGIN { printf "%.1f", t * r / 10 }')
        # flushes come every checkpoint_seconds whatever the rate: at
        # saturation a flush costs its time once per 2 s, the rest is
        # receive + write per review
        each=$(sed -n 's/.*flushes, \([0-9.]*\) ms each.*/\1/p' <<<"$r0")
        sat2=$(awk -v e="${each:-0}" -v r="$recv" -v w="$write" -v l="$lay" \
            'BEGIN { if (r + w + l > 0) printf "%.0f/s", (1 - e / 2000) / ((r + w + l) / 1000) }')
        printf "%-9s %-6s %-5s %8s %10s %9s %9s %9s %9s %9s %11s %8s %9s %12s\n" "$m" "$wr" "$clock" "$secs" \
            "$rate" "$recv" "$write" "$flush" "$lay" "$total" "${sat:-inf}/s" "$busy" "${each:--}" "$sat2"
        [ "$clock" = CPU ] && cpu_total[$m.$wr]=$total
    done
    sed -n '/timer (s)/,/flush /p' "$work/$m.log" | sed 's/^/    /'
  done
done
echo "side by side (same run): job reviews/s root -> ranks; rank 0 CPU ms per review root -> ranks"
for m in saliency ig50 lrp; do
    awk -v m="$m" -v jr="${job_rate[$m.root]}" -v jk="${job_rate[$m.ranks]}" \
        -v cr="${cpu_total[$m.root]}" -v ck="${cpu_total[$m.ranks]}" 'BEGIN {
        printf "  %-9s job %s -> %s reviews/s (x%.2f); rank 0 CPU %s -> %s ms/review (x%.1f less)\n",
            m, jr, jk, (jr > 0 ? jk / jr : 0), cr, ck, (ck > 0 ? cr / ck : 0) }'
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
