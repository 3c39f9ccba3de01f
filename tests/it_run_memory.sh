#!/bin/bash
# Rank 0 keeps a few integers per *selected* review and nothing per review
# of the dataset (issue 18): the same 2,048 reviews selected from a corpus
# of 10,000 and from one of 200,000 (tests/bench/make_corpus.py, prepared
# with the corpus readers) cost each rank the same peak memory, within
# 1.5 MB. Before the fix rank 0 read the dataset's 17-byte-per-review index
# of the whole split: 190,000 more reviews were 3.3 MB more (measured;
# the same runs now differ by < 0.2 MB). Also: the two results files hold
# the same attributions. And select.reviews, which matches the split's doc
# ids, reads them in blocks: rank 0 within 16 MB of the range run.
# labels: mpi
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}" "${TOKATTR_SOURCE:?}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is needed to read each rank's peak memory"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/it_run_memory.XXXXXX")
trap 'rm -rf "$work"' EXIT
index=$TOKATTR_SHARED/models/imdb_word_index.json
limit_kb=1536

for n in 10000 200000; do
    python3 "$TOKATTR_SOURCE/tests/bench/make_corpus.py" "$index" "$n" "$work/c$n.txt"
    "$TOKATTR_BIN" prepare --shared "$TOKATTR_SHARED" --quiet --format lines \
        --tokenizer "tokattr-imdb:$index" --source "$work/c$n.txt" --out "$work/c$n.h5" > /dev/null
    rm "$work/c$n.txt"
    cat > "$work/job$n.yaml" <<YAML
model: shared:models/imdb_cnn.h5
dataset: $work/c$n.h5
word_index: shared:models/imdb_word_index.json
select: {first: 0, count: 2048}
methods:
  - {name: saliency, method: saliency}
results: $work/r$n.h5
YAML
    mpirun -n 2 sh -c 'exec /usr/bin/time -f "%M" -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' "$work/rss$n" \
        "$TOKATTR_BIN" run "$work/job$n.yaml" --shared "$TOKATTR_SHARED" --quiet > "$work/log$n" 2>&1 ||
        { cat "$work/log$n"; exit 1; }
done

# select.reviews matches doc ids: rank 0 reads them in blocks, not the
# whole split with its words (before: +370 MB at 200,000 reviews)
sed -e 's/^select: .*/select: {reviews: "3, 150000"}/' -e "s#r200000.h5#rsel.h5#" \
    "$work/job200000.yaml" > "$work/jobsel.yaml"
mpirun -n 2 sh -c 'exec /usr/bin/time -f "%M" -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' "$work/rsssel" \
    "$TOKATTR_BIN" run "$work/jobsel.yaml" --shared "$TOKATTR_SHARED" --quiet > "$work/logsel" 2>&1 ||
    { cat "$work/logsel"; exit 1; }

fail=0
a=$(tail -n 1 "$work/rss200000.0") b=$(tail -n 1 "$work/rsssel.0")
echo "rank 0 peak RSS: $a KB (first 2,048), $b KB (select.reviews, 2 of 200,000)"
if [ $((b - a)) -gt 16384 ]; then
    echo "FAIL: select.reviews costs rank 0 $((b - a)) KB more than a range (limit 16 MB)"
    fail=1
fi
h5dump -d /reviews/index -y -w 0 "$work/rsel.h5" | grep -q "^ *3, 150000$" ||
    { echo "FAIL: select.reviews did not select reviews 3 and 150000"; fail=1; }
for r in 0 1; do
    a=$(tail -n 1 "$work/rss10000.$r") b=$(tail -n 1 "$work/rss200000.$r")
    echo "rank $r peak RSS: $a KB (10,000 reviews in the dataset), $b KB (200,000)"
    if [ $((b - a)) -gt $limit_kb ]; then
        echo "FAIL: rank $r grew by $((b - a)) KB for 190,000 reviews it does not explain (limit $limit_kb KB)"
        fail=1
    fi
done
for d in /attributions/saliency/score /predictions/prob /reviews/index; do
    h5dump -d "$d" -y -w 0 "$work/r10000.h5" | sed 1,2d > "$work/a.txt"
    h5dump -d "$d" -y -w 0 "$work/r200000.h5" | sed 1,2d > "$work/b.txt"
    if ! cmp -s "$work/a.txt" "$work/b.txt" || [ ! -s "$work/a.txt" ]; then
        echo "FAIL: $d differs between the two corpora's first 2,048 reviews"
        fail=1
    fi
done
exit $fail
