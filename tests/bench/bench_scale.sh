#!/bin/bash
# Benchmark (not a test): a synthetic corpus of N reviews (tests/bench/
# make_corpus.py, seeded; prepared with the corpus readers as `--format
# lines --tokenizer tokattr-imdb`) through saliency on the CNN: the rate,
# each rank's peak resident memory (getrusage's maxrss, via /usr/bin/time)
# and the results file's size, for each N given.
#
#   tests/bench/bench_scale.sh [RANKS] N...     (default: 2 25000 250000)
#   TOKATTR_BIN=build/tokattr TOKATTR_SHARED=../shared BENCH_DIR=dir (environment;
#   BENCH_DIR keeps the corpora between runs, default a temporary directory)
#
# It runs whole jobs: do not run it where others are measuring.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(readlink -f "${TOKATTR_BIN:-$here/build/tokattr}")
shared=$(readlink -f "${TOKATTR_SHARED:-$here/../shared}")
ranks=${1:-2}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(25000 250000)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
if [ -n "${BENCH_DIR:-}" ]; then
    work=$(readlink -f "$BENCH_DIR")
    mkdir -p "$work"
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
index=$shared/models/imdb_word_index.json
echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
     "$(grep -c ^processor /proc/cpuinfo) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "CNN (imdb_cnn.h5), saliency, $ranks ranks, chunk_size 16"
printf "%9s %9s %10s %12s %s\n" reviews seconds reviews/s "file MB" "peak RSS per rank (MB)"
for n in "${sizes[@]}"; do
    data=$work/corpus$n.h5
    if [ ! -f "$data" ]; then
        python3 "$here/tests/bench/make_corpus.py" "$index" "$n" "$work/corpus$n.txt"
        "$bin" prepare --shared "$shared" --quiet --format lines --tokenizer "tokattr-imdb:$index" \
            --source "$work/corpus$n.txt" --out "$data" > /dev/null
        rm -f "$work/corpus$n.txt"
    fi
    cat > "$work/job$n.yaml" <<YAML
model: shared:models/imdb_cnn.h5
dataset: $data
word_index: shared:models/imdb_word_index.json
methods:
  - {name: saliency, method: saliency}
results: $work/results$n.h5
YAML
    rm -f "$work"/rss$n.*
    # each rank under /usr/bin/time: its own peak RSS, named by its rank
    mpirun -n "$ranks" sh -c 'exec /usr/bin/time -f "%M" -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' \
        "$work/rss$n" "$bin" run "$work/job$n.yaml" --shared "$shared" --force --quiet \
        > "$work/log$n" 2>&1 || { cat "$work/log$n"; exit 1; }
    line=$(grep "computed now" "$work/log$n")
    secs=$(sed -n 's/.* in \([0-9.]*\) s on.*/\1/p' <<<"$line")
    rate=$(sed -n 's/.*: \([0-9.]*\) reviews\/s.*/\1/p' <<<"$line")
    rss=""
    for ((r = 0; r < ranks; r++)); do
        rss+="$(awk '{printf "%.0f", $1 / 1024}' "$work/rss$n.$r") "
    done
    size=$(stat -c %s "$work/results$n.h5" | awk '{printf "%.1f", $1 / 1e6}')
    printf "%9s %9s %10s %12s %s\n" "$n" "$secs" "$rate" "$size" "$rss"
done
