#!/bin/bash
# Kill-and-resume: SIGKILL to mpirun and its ranks at random moments,
# several times, then --resume until done: the results equal an
# uninterrupted run bit for bit. SIGTERM to the ranks (what Slurm sends)
# and SIGUSR1 to mpirun (which forwards it) give exit status 3 and a file
# that --resume completes.
# labels: mpi
set -uo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}" "${TOKATTR_BUILD:?}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d "${TMPDIR:-/tmp}/it_run_resume.XXXXXX")
fail=0

data="$TOKATTR_BUILD/it_run_imdb.h5"
if [ ! -f "$data" ]; then
    "$TOKATTR_BIN" prepare --shared "$TOKATTR_SHARED" --quiet \
        --word-index "$TOKATTR_SHARED/models/imdb_word_index.json" --out "$work/imdb.h5" >/dev/null
    mv -n "$work/imdb.h5" "$data"
fi
mkdir -p "$work/ref" "$work/out"
job() {
    # The LSTM (~100 reviews/s on 2 ranks), not the CNN (~1,000): the signals
    # below must land while work remains, however idle the machine is.
    cat <<YAML
model: shared:models/imdb_lstm.h5
dataset: $data
tokenizer: tokattr-imdb
select: {first: 12100, count: 800}
methods:
  - {name: ig50, method: integrated_gradients, n_steps: 50}
  - {name: grad_input, method: grad_input}
results: $1/r.h5
chunk_size: 8
checkpoint_seconds: 0   # a flush per unit: many states for a kill to land in
YAML
}
job ref > "$work/ref.yaml"
job out > "$work/job.yaml"

run() { "$TOKATTR_BIN" run "$@" --shared "$TOKATTR_SHARED" --quiet; }
same() { # same FILE: the results datasets equal the reference's
    local g ok=0
    for g in attributions predictions tokens reviews classes; do
        h5diff "$work/ref/r.h5" "$1" "/$g" "/$g" > "$work/diff" 2>&1 \
            || { echo "FAIL: /$g differs from the uninterrupted run"; head "$work/diff"; ok=1; }
    done
    return $ok
}
# kills mpirun $1 and the ranks it started, as a crash would
kill_all() {
    local kids; kids=$(pgrep -P "$1" || true)
    kill -KILL "$1" $kids 2>/dev/null
    wait "$1" 2>/dev/null
    for k in $kids; do while kill -0 "$k" 2>/dev/null; do sleep 0.1; done; done
}

run "$work/ref.yaml" > "$work/ref.log" 2>&1 || { echo "FAIL: reference run"; cat "$work/ref.log"; exit 1; }

# several SIGKILLs at random moments (from start-up to late in the work)
mode=--force
for i in 1 2 3 4; do
    delay=$(awk -v r=$RANDOM 'BEGIN { printf "%.1f", 0.1 + 5.0 * r / 32767 }')
    mpirun -n 2 "$TOKATTR_BIN" run "$work/job.yaml" $mode --shared "$TOKATTR_SHARED" --quiet \
        > "$work/kill$i.log" 2>&1 &
    mp=$!
    # the first kill lands in start-up, the others while results are written
    if [ $i -gt 1 ]; then
        for _ in $(seq 200); do [ -f "$work/out/r.h5.partial" ] && break; sleep 0.05; done
    fi
    sleep "$delay"
    echo "kill $i after $delay s$([ $i -gt 1 ] && echo ' of work')"
    kill_all $mp
    mode=--resume
done
if [ -f "$work/out/r.h5.partial" ]; then
        /usr/bin/python3 -c "import h5py,sys; print('done before the final resume:', int(h5py.File(sys.argv[1],'r')['/progress/done'][:].sum()))" "$work/out/r.h5.partial"
fi
mpirun -n 2 "$TOKATTR_BIN" run "$work/job.yaml" --resume --shared "$TOKATTR_SHARED" --quiet > "$work/final.log" 2>&1 \
    || { echo "FAIL: final resume"; cat "$work/final.log"; fail=1; }
cat "$work/final.log" | grep "reviews" || true
same "$work/out/r.h5" || fail=1

# SIGTERM to every rank: status 3, resumable
rm -f "$work/out/"*
mpirun -n 2 "$TOKATTR_BIN" run "$work/job.yaml" --shared "$TOKATTR_SHARED" --quiet > "$work/term.log" 2>&1 &
mp=$!
for _ in $(seq 100); do [ -f "$work/out/r.h5.partial" ] && break; sleep 0.1; done
sleep 1
kill -TERM $(pgrep -P $mp) 2>/dev/null
wait $mp
rc=$?
[ $rc = 3 ] || { echo "FAIL: SIGTERM gave exit $rc, expected 3"; cat "$work/term.log"; fail=1; }
grep -q -- "--resume" "$work/term.log" || { echo "FAIL: no resume hint"; cat "$work/term.log"; fail=1; }
[ -f "$work/out/r.h5.partial" ] || { echo "FAIL: no .partial after SIGTERM"; fail=1; }
h5dump -H "$work/out/r.h5.partial" > /dev/null || { echo "FAIL: h5dump cannot read the stopped file"; fail=1; }

# SIGUSR1 to mpirun (forwarded to the ranks), resuming the stopped file
mpirun -n 2 "$TOKATTR_BIN" run "$work/job.yaml" --resume --shared "$TOKATTR_SHARED" --quiet > "$work/usr1.log" 2>&1 &
mp=$!
sleep 2
kill -USR1 $mp
wait $mp
rc=$?
[ $rc = 3 ] || [ $rc = 0 ] || { echo "FAIL: SIGUSR1 gave exit $rc"; cat "$work/usr1.log"; fail=1; }
run "$work/job.yaml" --resume > "$work/last.log" 2>&1 || { echo "FAIL: resume after signals"; cat "$work/last.log"; fail=1; }
same "$work/out/r.h5" || fail=1

# resuming with another job is refused
sed 's/n_steps: 50/n_steps: 49/' "$work/job.yaml" > "$work/other.yaml"
touch "$work/out/r.h5.partial" && cp "$work/out/r.h5" "$work/out/r.h5.partial"
run "$work/other.yaml" --resume > "$work/other.log" 2>&1 && { echo "FAIL: resumed with another job"; fail=1; }
grep -q "different job" "$work/other.log" || { echo "FAIL: no 'different job' message"; cat "$work/other.log"; fail=1; }

[ $fail = 0 ] && rm -rf "$work"
exit $fail
