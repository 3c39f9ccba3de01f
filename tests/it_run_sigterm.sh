#!/usr/bin/env bash
# labels: mpi
# Ctrl-C (SIGINT) or SIGTERM sent to the real Open MPI `mpirun` of a
# 2-rank run. Open MPI 4 does not forward these: it aborts the job, sending
# the ranks SIGCONT, SIGTERM one odls_base_sigkill_timeout (1 s) later and
# SIGKILL one more later, and exits 1 itself. The ranks must still stop as
# resumable: rank 0 with status 3 (seen through a wrapper that records each
# rank's status; no rank with another), its message with the command to
# resume, and a .partial file that --resume completes bit for bit like an
# uninterrupted run.
set -uo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}" "${TOKATTR_BUILD:?}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d "${TMPDIR:-/tmp}/it_run_sigterm.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0
die() { echo "FAIL: $*"; fail=1; }

data="$TOKATTR_BUILD/it_run_imdb.h5" # the dataset it_run_resume makes, shared
if [ ! -f "$data" ]; then
    "$TOKATTR_BIN" prepare --shared "$TOKATTR_SHARED" --quiet \
        --word-index "$TOKATTR_SHARED/models/imdb_word_index.json" --out "$work/imdb.h5" >/dev/null
    mv -n "$work/imdb.h5" "$data"
fi
job() { # the LSTM: slow enough that the signal lands while work remains
    cat <<YAML
model: shared:models/imdb_lstm.h5
dataset: $data
tokenizer: tokattr-imdb
select: {first: 300, count: 800}
methods:
  - {name: ig, method: integrated_gradients, n_steps: 32}
results: $1/r.h5
chunk_size: 8
checkpoint_seconds: 0
YAML
}
mkdir -p "$work/ref" "$work/out"
job "$work/ref" > "$work/ref.yaml"
job "$work/out" > "$work/job.yaml"
mpirun -n 2 "$TOKATTR_BIN" run "$work/ref.yaml" --shared "$TOKATTR_SHARED" --quiet > "$work/ref.log" 2>&1 ||
    { cat "$work/ref.log"; die "reference run"; exit 1; }

# Each rank through a wrapper that records its exit status; the wrapper
# itself outlives SIGTERM/SIGINT/SIGCONT (bash only notes them), and the
# rank gets mpirun's signals directly (Open MPI signals the process group).
{
    echo '#!/bin/bash'
    echo "trap ':' TERM INT CONT"
    echo "\"$TOKATTR_BIN\" \"\$@\" & child=\$!"
    echo 'while :; do wait $child; rc=$?; kill -0 $child 2>/dev/null || break; done'
    echo "echo \"rank \$OMPI_COMM_WORLD_RANK status \$rc\" >> \"$work/status\""
    echo 'exit $rc'
} > "$work/rank.sh"
chmod +x "$work/rank.sh"

for sig in TERM INT; do
    rm -f "$work/status" "$work/out/r.h5" "$work/out/r.h5.partial"
    mpirun -n 2 "$work/rank.sh" run "$work/job.yaml" --shared "$TOKATTR_SHARED" --force \
        > "$work/$sig.log" 2>&1 &
    mp=$!
    # wait for the work to start (rank 0 has laid out the .partial), then signal
    for _ in $(seq 1200); do
        [ -e "$work/out/r.h5.partial" ] && break
        sleep 0.1
    done
    sleep 1.5
    kill -"$sig" "$mp"
    wait "$mp"
    echo "SIG$sig: mpirun exit status $? (Open MPI's own for an aborted job)"
    grep -v "^attributions:" "$work/$sig.log"
    grep -q "r.h5.partial.*resumable: run the same command with --resume" "$work/$sig.log" ||
        die "SIG$sig: no message with the command to resume"
    [ -e "$work/out/r.h5.partial" ] || die "SIG$sig: no .partial left"
    [ -e "$work/out/r.h5" ] && die "SIG$sig: the run finished before the signal"
    cat "$work/status" 2>/dev/null
    # rank 0 (which writes the file) leaves first with 3; Open MPI then
    # kills the other at once, so its status is recorded only when it
    # was as quick
    grep -q "^rank 0 status 3$" "$work/status" || die "SIG$sig: rank 0 did not exit with status 3"
    grep -v " status 3$" "$work/status" && die "SIG$sig: a rank exited with another status than 3"
    mpirun -n 2 "$TOKATTR_BIN" run "$work/job.yaml" --shared "$TOKATTR_SHARED" --resume --quiet \
        > "$work/resume.log" 2>&1 || { cat "$work/resume.log"; die "SIG$sig: --resume"; }
    grep -q "computed now" "$work/resume.log" || die "SIG$sig: no summary after the resume"
    for g in attributions predictions tokens reviews; do
        h5diff "$work/ref/r.h5" "$work/out/r.h5" "/$g" "/$g" > /dev/null ||
            die "SIG$sig: /$g differs from the uninterrupted run"
    done
done
exit $fail
