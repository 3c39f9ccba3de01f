# Helpers of the kill tests (tests/it_run_kill*.sh), sourced. They treat
# tokattr as a black box: a job is started with mpirun, killed from outside
# (or from gdb at a chosen HDF5 call), resumed with --resume, and the result
# compared with an uninterrupted run by tests/support/h5_same.py. Nothing
# here knows which rank writes or how; a writer that is not rank 0 alone
# passes or fails the same checks.
#
# Outcomes of one kill + resume (kl_resume):
#   identical  the resumed file equals the reference bit for bit
#   refused    --resume exited non-zero with a message naming the file, the
#              file left as it was, no crash (counted, allowed)
#   FAIL       anything else: a different result (silently wrong), a crash
#              (signal, sanitizer), a hang, a refusal that names no file.
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}" "${TOKATTR_BUILD:?}" "${TOKATTR_SOURCE:?}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
KL_PY=/usr/bin/python3
KL_SAME="$TOKATTR_SOURCE/tests/support/h5_same.py"
kl_fail=0
kl_n_identical=0 kl_n_refused=0 kl_n_failed=0

kl_die() { echo "FAIL: $*"; kl_fail=1; }

# kl_dataset: a small dataset of the first 300 test reviews of the shared
# IMDB archive (with the IMDB word index), made once per build directory.
# Small so that a run's setup is short and a kill test can do many runs.
kl_dataset() {
    KL_DATA="$TOKATTR_BUILD/it_run_kill.h5"
    [ -f "$KL_DATA" ] && return 0
    local tmp; tmp=$(mktemp -d "${TMPDIR:-/tmp}/kl_data.XXXXXX")
    "$KL_PY" - "$TOKATTR_SHARED/data/aclImdb_v1.tar.gz" "$tmp/small.csv" <<'PY' || return 1
import csv, re, sys, tarfile
n = 0
with tarfile.open(sys.argv[1], "r:gz") as t, open(sys.argv[2], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "label", "text"])
    for m in t:
        mm = re.match(r"aclImdb/test/(pos|neg)/(\d+_\d+)\.txt$", m.name)
        if mm:
            text = t.extractfile(m).read().decode("utf-8")
            w.writerow([mm.group(2), 1 if mm.group(1) == "pos" else 0, text])
            n += 1
            if n == 300:
                break
PY
    "$TOKATTR_BIN" prepare --source "$tmp/small.csv" --label-column label --id-column id \
        --tokenizer "tokattr-imdb:$TOKATTR_SHARED/models/imdb_word_index.json" \
        --out "$tmp/small.h5" --quiet > "$tmp/prepare.log" 2>&1 ||
        { cat "$tmp/prepare.log"; return 1; }
    mv -n "$tmp/small.h5" "$KL_DATA"
    rm -rf "$tmp"
}

# kl_job FILE RESULTS: the CNN, saliency and 8-step IG (KL_IG_STEPS) over the 300 reviews,
# 4 reviews a unit and a checkpoint after each (~75 checkpoints, ~150
# flushes on a writer like today's): many on-disk states for a kill to hit.
kl_job() {
    cat > "$1" <<YAML
model: shared:models/imdb_cnn.h5
dataset: $KL_DATA
word_index: shared:models/imdb_word_index.json
methods:
  - {name: saliency, method: saliency}
  - {name: ig, method: integrated_gradients, n_steps: ${KL_IG_STEPS:-8}}
results: $2
chunk_size: 4
checkpoint_seconds: 0
YAML
}

# kl_start NRANKS LOG ARGS...: starts "mpirun -n NRANKS ARGS" in the
# background; KL_PID is mpirun's pid.
kl_start() {
    local n=$1 log=$2
    shift 2
    mpirun -n "$n" "$@" > "$log" 2>&1 &
    KL_PID=$!
}

# kl_tree PID: PID and all its descendants
kl_tree() {
    local p
    echo "$1"
    for p in $(pgrep -P "$1"); do kl_tree "$p"; done
}

# kl_kill_job PID: a crash of the whole job: every process of the tree is
# stopped first, then killed, so that none runs on after another died.
kl_kill_job() {
    local pids; pids=$(kl_tree "$1")
    kill -STOP $pids 2>/dev/null
    kill -KILL $pids 2>/dev/null
    wait "$1" 2>/dev/null
    local p
    for p in $pids; do while kill -0 "$p" 2>/dev/null; do sleep 0.05; done; done
}

# kl_rank_pid PID R: the pid of rank R of the job under mpirun PID
kl_rank_pid() {
    local p
    for p in $(kl_tree "$1"); do
        [ "$(cat /proc/$p/comm 2>/dev/null)" = tokattr ] || continue
        tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2" && echo "$p"
    done | head -n 1
}

# kl_wait PID SECONDS: waits for the background job PID; its exit status, or
# 124 after SECONDS (the job is then killed).
kl_wait() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$1" 2>/dev/null; then
        kl_kill_job "$1"
        return 124
    fi
    wait "$1" 2>/dev/null
}

# kl_kill_rank PID R: SIGKILL to rank R alone; mpirun must then end the job
# by itself (a hang is a failure). Returns 1 when the rank was not found.
kl_kill_rank() {
    local rp; rp=$(kl_rank_pid "$1" "$2")
    [ -n "$rp" ] || return 1
    kill -KILL "$rp" 2>/dev/null
    kl_wait "$1" 60
    [ $? = 124 ] && { kl_die "the job hung for 60 s after rank $2 was killed"; }
    return 0
}

# kl_ms_sleep MS
kl_ms_sleep() { sleep "$(awk -v m="$1" 'BEGIN { printf "%.3f", m / 1000 }')"; }

# kl_rand N: a seeded random integer in [0, N) (RANDOM seeded by the test)
kl_rand() { echo $(((RANDOM * 32768 + RANDOM) % $1)); }

# kl_check_log LOG RC: is a failed run's log a proper refusal? Prints the
# verdict; returns 0 for a refusal naming the file, 1 for a crash or a
# message without a file name.
kl_check_log() {
    local log=$1 rc=$2
    if [ "$rc" = 124 ]; then echo "hang"; return 1; fi
    if [ "$rc" -ge 128 ] || grep -qE "exited on signal|Segmentation|AddressSanitizer|runtime error|core dumped|Aborted" "$log"; then
        echo "crash (exit $rc)"; return 1
    fi
    if ! grep -qF "$KL_OUTNAME" "$log"; then echo "refusal without the file's name"; return 1; fi
    return 0
}

# kl_resume TAG OUTDIR JOB NRANKS: resumes the job to the end and
# classifies the outcome against $KL_REF (see the top of this file).
kl_resume() {
    local tag=$1 dir=$2 job=$3 n=$4 log="$2/resume_$1.log" before="" rc
    KL_OUTNAME=r.h5
    [ -f "$dir/r.h5.partial" ] && before=$(sha256sum < "$dir/r.h5.partial")
    timeout 600 mpirun -n "$n" "$TOKATTR_BIN" run "$job" --resume --shared "$TOKATTR_SHARED" \
        --quiet > "$log" 2>&1
    rc=$?
    if [ $rc = 0 ]; then
        if [ ! -f "$dir/r.h5" ] || [ -e "$dir/r.h5.partial" ]; then
            KL_OUTCOME="FAIL: exit 0 but no finished file"
        elif "$KL_PY" "$KL_SAME" "$KL_REF" "$dir/r.h5" > "$dir/same_$tag.txt" 2>&1; then
            KL_OUTCOME="identical"
        else
            KL_OUTCOME="FAIL: SILENTLY WRONG: $(head -n 3 "$dir/same_$tag.txt" | tr '\n' ' ')"
        fi
    else
        local why
        if why=$(kl_check_log "$log" $rc); then
            KL_OUTCOME="refused: $(grep -m1 -F "$KL_OUTNAME" "$log")"
            if [ -n "$before" ] && [ "$(sha256sum < "$dir/r.h5.partial" 2>/dev/null)" != "$before" ]; then
                KL_OUTCOME="FAIL: the refusal changed or removed $dir/r.h5.partial"
            fi
        else
            KL_OUTCOME="FAIL: resume: $why: $(tail -n 3 "$log" | tr '\n' ' ')"
        fi
    fi
    case $KL_OUTCOME in
    identical) kl_n_identical=$((kl_n_identical + 1)) ;;
    refused*) kl_n_refused=$((kl_n_refused + 1)) ;;
    *) kl_n_failed=$((kl_n_failed + 1)); kl_fail=1 ;;
    esac
}

# kl_reference DIR: the uninterrupted 2-rank run; KL_REF is its file and
# KL_REF_MS its wall time.
# kl_reference DIR: the uninterrupted run (KL_REF), its wall time
# (KL_REF_MS) and when its .partial appeared (KL_PARTIAL_MS: the file has
# its layout, units are being marked done; seen within 5 ms)
kl_reference() {
    mkdir -p "$1"
    kl_job "$1/job.yaml" "$1/r.h5"
    local t0 pid; t0=$(date +%s%N)
    mpirun -n 2 "$TOKATTR_BIN" run "$1/job.yaml" --shared "$TOKATTR_SHARED" --quiet \
        > "$1/run.log" 2>&1 &
    pid=$!
    KL_PARTIAL_MS=""
    while kill -0 $pid 2>/dev/null; do
        if [ -z "$KL_PARTIAL_MS" ] && [ -e "$1/r.h5.partial" ]; then
            KL_PARTIAL_MS=$((($(date +%s%N) - t0) / 1000000))
        fi
        sleep 0.005
    done
    wait $pid || { cat "$1/run.log"; return 1; }
    KL_REF_MS=$((($(date +%s%N) - t0) / 1000000))
    KL_PARTIAL_MS=${KL_PARTIAL_MS:-0}
    KL_REF="$1/r.h5"
}

kl_summary() {
    echo "outcomes: $kl_n_identical resumed identical, $kl_n_refused refused with a message," \
        "$kl_n_failed failed; $SECONDS s in all"
}
