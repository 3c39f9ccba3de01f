#!/bin/bash
# The multi-node path on one host, through simulated nodes
# (--ranks-per-node / TOKATTR_RANKS_PER_NODE): a smoke job on 4 ranks as
# 2 nodes x 2, 4 x 1 and 1 x 4 (oversubscribed) gives /attributions,
# /predictions, /tokens, /reviews and /faithfulness bitwise identical to 1
# rank; the kernel's view of the weight windows (TOKATTR_DEBUG_WINDOW: every
# rank's mapping of its window and its PSS, read while all ranks map it)
# shows one copy per simulated node, shared by that node's ranks only; a
# node leader whose broadcast copy of the weights is wrong ends every rank
# with one message; a bad node size is refused.
# labels: mpi
set -uo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}" "${TOKATTR_BUILD:?}" "${TOKATTR_SOURCE:?}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
unset TOKATTR_RANKS_PER_NODE TOKATTR_DEBUG_WINDOW TK_PRELOAD_CORRUPT_RANK
work=$(mktemp -d "${TMPDIR:-/tmp}/it_run_nodes.XXXXXX")
fail=0

# The prepared dataset shared by the run tests (see it_run_ranks.sh).
data="$TOKATTR_BUILD/it_run_imdb.h5"
if [ ! -f "$data" ]; then
    "$TOKATTR_BIN" prepare --shared "$TOKATTR_SHARED" --quiet \
        --word-index "$TOKATTR_SHARED/models/imdb_word_index.json" --out "$work/imdb.h5" >/dev/null
    mv -n "$work/imdb.h5" "$data"
fi

# A smoke job (as jobs/smoke.yaml: 40 reviews, 3 methods + faithfulness)
# on the CNN of that dataset's vocabulary.
cat > "$work/job.yaml" <<YAML
model: shared:models/imdb_cnn.h5
dataset: $data
word_index: shared:models/imdb_word_index.json
select: {first: 12480, count: 40}
methods:
  - {name: saliency, method: saliency}
  - {name: grad_input, method: grad_input}
  - {name: ig8, method: integrated_gradients, n_steps: 8}
results: out/r.h5
chunk_size: 4
faithfulness: {k: 10}
YAML
mkdir -p "$work/out"

# run NAME RANKS [ARGS...]: one run, results kept as NAME.h5, log NAME.log
mpirun_extra=()
run() {
    local name=$1 n=$2
    shift 2
    if ! timeout 600 mpirun "${mpirun_extra[@]}" -n "$n" "$TOKATTR_BIN" run "$work/job.yaml" --force \
            --shared "$TOKATTR_SHARED" --quiet "$@" > "$work/$name.log" 2>&1; then
        echo "FAIL: $name: run failed"; cat "$work/$name.log"; fail=1; return 1
    fi
    grep -q "40 reviews" "$work/$name.log" || { echo "FAIL: $name: no summary"; cat "$work/$name.log"; fail=1; }
    mv "$work/out/r.h5" "$work/$name.h5"
}

# check_windows NAME NODES PER_NODE: the window lines of NAME.log
check_windows() {
    local name=$1 nodes=$2 per=$3
    grep -q "nodes: $nodes x $per rank" "$work/$name.log" ||
        { echo "FAIL: $name: summary lacks 'nodes: $nodes x $per'"; cat "$work/$name.log"; fail=1; }
    # weights in kB, from the window header line
    awk -v nodes="$nodes" -v per="$per" -v name="$name" '
        /^windows:/ { for (i = 1; i <= NF; i++) if ($i == "bytes") wkb = $(i - 1) / 1024 }
        /^window: rank/ {
            r = $3; node = $5; file = $7; map = $9; pss = $13; rpss = $17
            ranks++
            nodeof[r] = node; fileof[r] = file
            if (file == "0:0") file = "private-" r   # a one-rank window: plain memory
            if (!(file in sum)) { windows++; sum[file] = 0; mapkb[file] = map; nodeoffile[file] = node }
            sum[file] += pss; members[file]++
            if (nodeoffile[file] != node) { printf "FAIL: %s: ranks of nodes %s and %s share window %s\n", name, nodeoffile[file], node, file; bad = 1 }
            if (node in filenode && filenode[node] != file) { printf "FAIL: %s: node %s has two windows\n", name, node; bad = 1 }
            filenode[node] = file
            # a private window lies in a larger anonymous mapping: count the weights
            share = file ~ /^private/ && pss > wkb ? wkb : pss
            total += share
            printf "  %s rank %d: node %d, PSS %.1f MB (its share of the weights %.2f MB%s)\n", name, r, node, rpss / 1024, share / 1024, file ~ /^private/ ? ", private memory" : ""
        }
        END {
            if (wkb <= 0) { printf "FAIL: %s: no window header line\n", name; exit 1 }
            if (ranks != nodes * per) { printf "FAIL: %s: %d window lines, expected %d\n", name, ranks, nodes * per; exit 1 }
            if (windows != nodes) { printf "FAIL: %s: %d distinct windows, expected one per node (%d)\n", name, windows, nodes; exit 1 }
            for (f in sum) {
                if (members[f] != per) { printf "FAIL: %s: window %s mapped by %d ranks, expected %d\n", name, f, members[f], per; bad = 1 }
                # a shared window: its pages are resident once, so its
                # ranks shares add up to one copy of the weights
                if (f !~ /^private/ && (sum[f] < wkb * 0.98 || sum[f] > mapkb[f] + 64)) {
                    printf "FAIL: %s: window %s PSS over its ranks %d kB, weights %d kB\n", name, f, sum[f], wkb; bad = 1 }
                if (f ~ /^private/ && sum[f] < wkb * 0.98) {
                    printf "FAIL: %s: private window PSS %d kB < weights %d kB\n", name, sum[f], wkb; bad = 1 }
            }
            printf "  %s: %d window(s); PSS of the weights over all ranks %.2f MB = %.2f copies of %.2f MB\n", name, windows, total / 1024, total / wkb, wkb / 1024
            if (total < nodes * wkb * 0.98 || total > nodes * (wkb + 128)) {
                printf "FAIL: %s: the ranks hold %.2f copies of the weights, expected %d\n", name, total / wkb, nodes; bad = 1 }
            exit bad
        }' "$work/$name.log" || fail=1
}

run one 1
# 2 x 2 through the environment, the others through the option
TOKATTR_DEBUG_WINDOW=1 TOKATTR_RANKS_PER_NODE=2 run n2x2 4 && check_windows n2x2 2 2
TOKATTR_DEBUG_WINDOW=1 run n4x1 4 --ranks-per-node 1 && check_windows n4x1 4 1
TOKATTR_DEBUG_WINDOW=1 run n1x4 4 --ranks-per-node 4 && check_windows n1x4 1 4
# a node size that does not divide the ranks: nodes of 3 and 1
TOKATTR_DEBUG_WINDOW=1 run n3p1 4 --ranks-per-node 3 &&
    { grep -q "nodes: 2 of 1-3 ranks" "$work/n3p1.log" || { echo "FAIL: 3+1 layout"; cat "$work/n3p1.log"; fail=1; }; }

for name in n2x2 n4x1 n1x4 n3p1; do
    [ -f "$work/$name.h5" ] || continue
    for g in attributions predictions tokens reviews faithfulness; do
        if ! h5diff "$work/one.h5" "$work/$name.h5" "/$g" "/$g" > "$work/diff" 2>&1; then
            echo "FAIL: /$g differs between 1 rank and $name"; head -20 "$work/diff"; fail=1
        fi
    done
done

# The cross-node broadcast failing: rank 2, leader of the second node,
# holds a wrong copy (tests/support/preload/corrupt_bcast.c, loaded into
# the ranks, flips one bit of the floats it receives).
# Every rank ends, with status 1 and one message naming the rank; no
# results file is published.
rm -rf "$work/out" && mkdir -p "$work/out"
rc=0
corrupt=(-x LD_PRELOAD="$TOKATTR_BUILD/libtk_corrupt_bcast.so" -x TK_PRELOAD_CORRUPT_RANK=2)
[ -f "$TOKATTR_BUILD/libtk_corrupt_bcast.so" ] || { echo "FAIL: $TOKATTR_BUILD/libtk_corrupt_bcast.so is not built"; exit 1; }
timeout 300 mpirun "${corrupt[@]}" -n 4 "$TOKATTR_BIN" run "$work/job.yaml" \
    --shared "$TOKATTR_SHARED" --quiet --ranks-per-node 2 > "$work/corrupt.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || { echo "FAIL: corrupt weights: exit $rc, expected 1"; cat "$work/corrupt.log"; fail=1; }
[ "$(grep -c '^tokattr run:' "$work/corrupt.log")" = 1 ] ||
    { echo "FAIL: corrupt weights: not exactly one message"; cat "$work/corrupt.log"; fail=1; }
grep -q "^tokattr run: rank 2 (leader of node 1): the model weights it received from rank 0 differ" \
    "$work/corrupt.log" || { echo "FAIL: corrupt weights: message"; cat "$work/corrupt.log"; fail=1; }
[ -e "$work/out/r.h5" ] && { echo "FAIL: corrupt weights: results published"; fail=1; }
# ... and the same run on real nodes (one host = one node: rank 2 is no
# leader, gets no broadcast) is fine
mpirun_extra=("${corrupt[@]}")
run plain 4 || true
mpirun_extra=()
[ -f "$work/plain.h5" ] && ! h5diff -q "$work/one.h5" "$work/plain.h5" /attributions /attributions &&
    { echo "FAIL: 4 ranks on one node differ from 1 rank"; fail=1; }

# Bad node sizes: usage errors naming the option or the variable.
for bad in 0 -2 two; do
    rc=0
    "$TOKATTR_BIN" run "$work/job.yaml" --ranks-per-node "$bad" > "$work/bad.log" 2>&1 || rc=$?
    [ "$rc" = 2 ] && grep -q "\-\-ranks-per-node must be a positive number of ranks, not '$bad'" "$work/bad.log" ||
        { echo "FAIL: --ranks-per-node $bad: exit $rc"; cat "$work/bad.log"; fail=1; }
done
rc=0
TOKATTR_RANKS_PER_NODE=1.5 "$TOKATTR_BIN" run "$work/job.yaml" > "$work/bad.log" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "TOKATTR_RANKS_PER_NODE must be a positive number" "$work/bad.log" ||
    { echo "FAIL: TOKATTR_RANKS_PER_NODE=1.5: exit $rc"; cat "$work/bad.log"; fail=1; }

[ $fail = 0 ] && rm -rf "$work" && echo "PASS it_run_nodes"
exit $fail
