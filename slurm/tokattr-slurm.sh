# Shared body of slurm/run.sbatch, slurm/run-multinode.sbatch and
# slurm/array.sbatch (sourced by them, never submitted itself).
#
# tk_slurm_main RANKS_PER_NODE JOB [TOKATTR-RUN-ARGS...]
#   Runs `tokattr run JOB` on every node of the allocation, RANKS_PER_NODE
#   MPI ranks per node, and turns Slurm's time-limit warning into a requeue:
#
#   - Slurm sends SIGUSR1 to this batch shell (#SBATCH --signal=B:USR1@SECS)
#     some time before the limit. We forward it to the job step; tokattr
#     stops handing out work, flushes the results file and exits with 3
#     ("stopped, resumable").
#   - On 3 we `scontrol requeue` the job (it needs #SBATCH --requeue). When
#     it starts again (SLURM_RESTART_COUNT > 0), or whenever the results file
#     exists but is not complete, we pass --resume, which recomputes only the
#     reviews not yet on disk. This repeats until the file is complete.
#   - A plain scancel sends SIGTERM: tokattr stops the same way, but a
#     cancelled job is not requeued (resubmit it; see README "Cluster users").
#
# Environment (all optional):
#   TOKATTR_BIN          the tokattr binary (default: build/tokattr under the
#                        submit directory, i.e. where you ran sbatch)
#   TOKATTR_LAUNCHER     srun | mpirun (default: srun --mpi=pmix when this
#                        Slurm has the pmix plugin, else mpirun)
#   TOKATTR_RESULTS      the results file, when the job's "results:" line is
#                        not a plain path this script can read
#   TOKATTR_MAX_REQUEUES give up after this many requeues (default 20), so a
#                        job that never makes progress does not loop forever
#   TOKATTR_NODE_LOCAL   more node-local directories (colon-separated, e.g.
#                        /scratch/local) that a job on several nodes refuses
#   TOKATTR_ALLOW_NODE_LOCAL=1  skip that check, for a path that looks
#                        node-local but is shared on this cluster

tk_slurm_say() { echo "[tokattr-slurm $(date -u +%H:%M:%S)] $*"; }

# The results path from the job file's top-level "results:" key: relative
# to the job file's directory; "shared:" paths live in the shared directory
# and are not reported (tokattr resolves them; set TOKATTR_RESULTS if it
# matters). Only the simple one-line form is understood.
tk_slurm_results_path() {
    local job=$1 value dir
    if [ -n "${TOKATTR_RESULTS:-}" ]; then
        echo "$TOKATTR_RESULTS"
        return 0
    fi
    value=$(sed -n 's/^results:[[:space:]]*//p' "$job" | head -n 1)
    value=${value%%[[:space:]]#*}                     # trailing comment
    value=$(printf '%s' "$value" | sed 's/[[:space:]]*$//; s/^"\(.*\)"$/\1/; s/^'"'"'\(.*\)'"'"'$/\1/')
    case "$value" in
    "" | shared:*) return 1 ;;
    /*) echo "$value" ;;
    *)
        dir=$(cd "$(dirname "$job")" && pwd) || return 1
        echo "$dir/$value"
        ;;
    esac
}

# The values of /progress/done, one per line (none if unreadable).
tk_slurm_done_values() {
    h5dump -y -w 0 -d /progress/done "$1" 2>/dev/null |
        sed -n '/DATA {/,/}/p' | sed '1d;$d' | tr -cs '0-9' '\n' | grep -x '[0-9][0-9]*'
}

# Complete = /progress/done exists and holds no 0 (tokattr sets a review's
# flag only once its results are flushed). Unreadable counts as incomplete.
# Without h5dump (Debian: hdf5-tools) we trust tokattr, which gives the
# final name only to a complete file.
tk_slurm_results_complete() {
    local values
    [ -f "$1" ] || return 1
    command -v h5dump >/dev/null 2>&1 || return 0
    values=$(tk_slurm_done_values "$1")
    [ -n "$values" ] && ! printf '%s\n' "$values" | grep -qx '0'
}

# Reviews done, for the log: "done/total".
tk_slurm_results_progress() {
    local values
    values=$(tk_slurm_done_values "$1")
    [ -n "$values" ] || { echo "?"; return; }
    echo "$(printf '%s\n' "$values" | grep -cvx 0)/$(printf '%s\n' "$values" | wc -l)"
}

# ---- several nodes: what the job touches must be the same file everywhere

# tk_slurm_node_local PATH: succeeds, printing why, when PATH (or, if it
# does not exist yet, the nearest directory above it) is node-local: under
# /tmp, /var/tmp, /dev/shm, /run, $TMPDIR or a $TOKATTR_NODE_LOCAL
# directory, or on a tmpfs, ramfs or overlay filesystem (stat -f). A
# filesystem this cannot tell (a node's own ext4 scratch disk) is caught by
# tk_slurm_check_visible.
tk_slurm_node_local() {
    local d=$1 real pre fs
    while [ ! -e "$d" ] && [ "$d" != / ] && [ "$d" != . ]; do d=$(dirname "$d"); done
    real=$(readlink -f -- "$d" 2>/dev/null) || real=$d
    fs=$(stat -f -c %T -- "$real" 2>/dev/null) || fs=""
    case "$fs" in tmpfs | ramfs | devtmpfs | overlay | overlayfs)
        echo "on a $fs filesystem"
        return 0
        ;;
    esac
    local dirs=()
    IFS=: read -r -a dirs <<<"/tmp:/var/tmp:/dev/shm:/run:${TMPDIR:-}:${TOKATTR_NODE_LOCAL:-}"
    for pre in "${dirs[@]}"; do
        [ -n "$pre" ] || continue
        pre=$(readlink -f -- "$pre" 2>/dev/null || printf '%s' "$pre")
        pre=${pre%/}
        [ -n "$pre" ] || continue # "/" itself is no node-local directory
        case "$real/" in "$pre"/*)
            echo "under $pre"
            return 0
            ;;
        esac
    done
    return 1
}

# tk_slurm_job_paths JOB BIN [TOKATTR-RUN-ARGS...]: "what<TAB>path" lines for
# the job file, the binary and every file the job reads or writes (from
# `tokattr run JOB --list-paths`, which resolves them as the run will; only
# --shared DIR of the run's options matters). The results file becomes its
# directory.
tk_slurm_job_paths() {
    local job=$1 bin=$2 a prev="" shared=() list key path
    shift 2
    for a in "$@"; do
        [ "$prev" = --shared ] && shared=(--shared "$a")
        prev=$a
    done
    list=$("$bin" run "$job" --list-paths "${shared[@]}" 2>&1) || {
        echo "$list" >&2
        return 1
    }
    printf 'job file\t%s\nbinary\t%s\n' "$job" "$bin"
    while IFS=$'\t' read -r key path; do
        [ -n "$key" ] || continue
        if [ "$key" = results ]; then
            printf 'results directory\t%s\n' "$(dirname "$path")"
        else
            printf '%s\t%s\n' "${key/_/ }" "$path"
        fi
    done <<<"$list"
}

# tk_slurm_check_shared NODES JOB BIN [TOKATTR-RUN-ARGS...]: on more than
# one node, refuses (status 2, one line per path) a job whose files are
# node-local: the ranks of other nodes would not find the binary or the job
# file, and a requeued job, whose rank 0 may land on another node, would
# find neither its model and dataset nor its partial results.
tk_slurm_check_shared() {
    local nodes=$1 job=$2 bin=$3 paths what path why bad=0
    shift 3
    [ "$nodes" -gt 1 ] || return 0
    [ "${TOKATTR_ALLOW_NODE_LOCAL:-0}" = 1 ] && return 0
    if ! paths=$(tk_slurm_job_paths "$job" "$bin" "$@" 2>&1); then
        tk_slurm_say "error: $paths"
        return 2
    fi
    while IFS=$'\t' read -r what path; do
        [ -n "$what" ] || continue
        if why=$(tk_slurm_node_local "$path"); then
            tk_slurm_say "error: the $what $path is node-local ($why), but this job runs on" \
                         "$nodes nodes, which must all see the same files: put it on a shared" \
                         "filesystem (README \"Cluster users\"; TOKATTR_ALLOW_NODE_LOCAL=1 if it is shared)"
            bad=1
        fi
    done <<<"$paths"
    return $((bad * 2))
}

# tk_slurm_check_visible NODES JOB BIN [TOKATTR-RUN-ARGS...]: on more than
# one node, every node must see the job file, the binary, the inputs and a
# file this shell creates in the results directory (one task per node via
# srun): this catches node-local disks that tk_slurm_check_shared cannot
# tell from shared ones.
tk_slurm_check_visible() {
    local nodes=$1 job=$2 bin=$3 paths what path files=() marker="" out rc=0
    shift 3
    [ "$nodes" -gt 1 ] || return 0
    [ "${TOKATTR_ALLOW_NODE_LOCAL:-0}" = 1 ] && return 0
    command -v srun >/dev/null 2>&1 || return 0
    paths=$(tk_slurm_job_paths "$job" "$bin" "$@" 2>/dev/null) || return 0
    while IFS=$'\t' read -r what path; do
        [ -n "$what" ] || continue
        if [ "$what" = "results directory" ]; then
            marker=$path/.tokattr-visible-${SLURM_JOB_ID:-$$}
            : >"$marker" 2>/dev/null || {
                tk_slurm_say "error: cannot write to the results directory $path"
                return 2
            }
            files+=("$marker")
        else
            files+=("$path")
        fi
    done <<<"$paths"
    # shellcheck disable=SC2016
    out=$(srun --nodes="$nodes" --ntasks="$nodes" --ntasks-per-node=1 bash -c \
        'for f; do [ -e "$f" ] || echo "node $(hostname): $f is not there"; done' _ "${files[@]}" 2>&1) || rc=$?
    [ -n "$marker" ] && rm -f "$marker"
    if [ "$rc" != 0 ] || [ -n "$out" ]; then
        tk_slurm_say "error: not every node of the job sees its files (they must be on a" \
                     "shared filesystem, README \"Cluster users\"):"
        printf '%s\n' "$out"
        return 2
    fi
}

# The batch shell's trap (runs inside tk_slurm_main, whose locals signal,
# interrupted and step it sets and reads). tokattr stops the same way on
# SIGUSR1 and SIGTERM; we always pass on SIGUSR1 because mpirun turns its
# own SIGTERM into a kill of the ranks but forwards SIGUSR1 (srun forwards
# both).
# shellcheck disable=SC2154,SC2034
tk_slurm_forward() {
    signal=$1
    interrupted=1
    tk_slurm_say "received SIG$1 ($2): asking tokattr to stop"
    [ "$step" -gt 0 ] && kill -USR1 "$step" 2>/dev/null
}

tk_slurm_main() {
    local per_node=$1 job=$2
    shift 2
    local extra=("$@")
    local submit=${SLURM_SUBMIT_DIR:-$PWD}
    # From here on Slurm's signal is taken (the sbatch scripts catch one
    # that comes even earlier in tk_early_signal).
    local step=0 signal="" interrupted=0 rc
    trap 'tk_slurm_forward USR1 "time limit near"' USR1
    trap 'tk_slurm_forward TERM cancelled' TERM
    [ -n "${tk_early_signal:-}" ] && tk_slurm_forward USR1 "time limit near, before the start"

    if [ -z "$job" ]; then
        tk_slurm_say "error: no job file given (usage: sbatch slurm/run.sbatch JOB.yaml [tokattr run options])"
        return 2
    fi
    case "$job" in /*) ;; *) job=$submit/$job ;; esac
    if [ ! -r "$job" ]; then
        tk_slurm_say "error: job file $job does not exist or is not readable"
        return 2
    fi

    local bin=${TOKATTR_BIN:-$submit/build/tokattr}
    if [ ! -x "$bin" ]; then
        tk_slurm_say "error: tokattr binary $bin not found or not executable" \
                     "(build it, or set TOKATTR_BIN)"
        return 2
    fi

    local nodes=${SLURM_JOB_NUM_NODES:-${SLURM_NNODES:-1}}
    local ranks=$((nodes * per_node))
    tk_slurm_check_shared "$nodes" "$job" "$bin" "${extra[@]}" || return 2
    tk_slurm_check_visible "$nodes" "$job" "$bin" "${extra[@]}" || return 2
    local launcher=${TOKATTR_LAUNCHER:-}
    if [ -z "$launcher" ]; then
        if srun --mpi=list 2>&1 | grep -qw pmix; then launcher=srun; else launcher=mpirun; fi
    fi
    local launch
    case "$launcher" in
    srun) launch=(srun --mpi=pmix --nodes="$nodes" --ntasks="$ranks"
                  --ntasks-per-node="$per_node" --cpus-per-task=1 --kill-on-bad-exit=1) ;;
    mpirun) launch=(mpirun -np "$ranks" --npernode "$per_node") ;;
    *)
        tk_slurm_say "error: TOKATTR_LAUNCHER must be srun or mpirun, not '$launcher'"
        return 2
        ;;
    esac

    # One BLAS thread per rank: the ranks are the parallelism (tokattr also
    # sets this itself; the variable covers libraries loaded before it does).
    export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

    local restarts=${SLURM_RESTART_COUNT:-0}
    local results=""
    results=$(tk_slurm_results_path "$job") || results=""

    tk_slurm_say "job ${SLURM_JOB_ID:-?} (${SLURM_JOB_NAME:-?}) start $restarts on ${SLURM_JOB_NODELIST:-?}:" \
                 "$nodes node(s) x $per_node rank(s) = $ranks rank(s), launcher $launcher"
    tk_slurm_say "binary: $bin ($("$bin" --version 2>&1 | head -n 1))"
    tk_slurm_say "job file: $job"
    tk_slurm_say "results: ${results:-(resolved by tokattr)}"
    echo "----- job file -----"
    cat "$job"
    echo "--------------------"

    # tokattr writes an unfinished run to RESULTS.partial and renames it to
    # RESULTS once every review is done; --resume continues a .partial,
    # starts afresh when there is none, and checks that it belongs to the
    # same job (job text, model and dataset checksums).
    local force=0 a resume=() partial=""
    [ -n "$results" ] && partial=$results.partial
    for a in "${extra[@]}"; do
        case "$a" in --force) force=1 ;; --resume) resume=(--resume) ;; esac
    done
    if [ "$force" = 0 ] && [ ${#resume[@]} = 0 ]; then
        if [ -n "$results" ] && [ -e "$results" ]; then
            if tk_slurm_results_complete "$results"; then
                tk_slurm_say "results file is already complete; nothing to do" \
                             "(pass --force after the job file to recompute)"
                return 0
            fi
            tk_slurm_say "$results exists but is not complete: resuming (tokattr checks it)"
            resume=(--resume)
        elif [ -n "$partial" ] && [ -e "$partial" ]; then
            tk_slurm_say "an interrupted run left $partial ($(tk_slurm_results_progress "$partial") reviews done): resuming"
            resume=(--resume)
        elif [ "$restarts" -gt 0 ]; then
            tk_slurm_say "restarted after a requeue: resuming"
            resume=(--resume)
        fi
    fi

    # The step runs in the background so this shell can take Slurm's signal
    # while it waits (bash runs a trap only between commands). A signal that
    # comes before the step exists is passed on as soon as it does.
    tk_slurm_say "running: ${launch[*]} $bin run $job ${resume[*]} ${extra[*]}"
    "${launch[@]}" "$bin" run "$job" "${resume[@]}" "${extra[@]}" &
    step=$!
    [ -n "$signal" ] && kill -USR1 "$step" 2>/dev/null
    while :; do
        interrupted=0
        wait "$step"
        rc=$?
        # wait returns >128 when one of our traps cut it short: the step is
        # still running (or its status is still held), so wait again.
        if [ "$interrupted" = 1 ] && [ "$rc" -gt 128 ]; then continue; fi
        break
    done
    trap - USR1 TERM
    tk_slurm_say "tokattr exited with status $rc"

    case "$rc" in
    0)
        if [ -n "$results" ] && ! tk_slurm_results_complete "$results"; then
            tk_slurm_say "error: tokattr succeeded but $results is not complete"
            return 1
        fi
        tk_slurm_say "done: ${results:-results} complete"
        return 0
        ;;
    3 | 138)
        # 138 = killed by the SIGUSR1 we forwarded, which happens when it
        # lands before tokattr has set its handler (in its first second):
        # nothing was written yet, so that run too resumes.
        if [ "$rc" = 138 ] && [ "$signal" != USR1 ]; then
            tk_slurm_say "error: tokattr was killed by SIGUSR1 (status 138); not requeued"
            return "$rc"
        fi
        if [ -n "$partial" ] && [ -e "$partial" ]; then
            tk_slurm_say "stopped cleanly; $(tk_slurm_results_progress "$partial") reviews on disk"
        else
            tk_slurm_say "stopped before any results were written"
        fi
        if [ "$signal" = TERM ]; then
            tk_slurm_say "cancelled: not requeued; resubmit the same command to resume"
            return 3
        fi
        if [ "$restarts" -ge "${TOKATTR_MAX_REQUEUES:-20}" ]; then
            tk_slurm_say "error: already requeued $restarts times; giving up (resubmit to continue)"
            return 3
        fi
        if [ -z "${SLURM_JOB_ID:-}" ]; then
            tk_slurm_say "not under Slurm: run again with --resume to continue"
            return 3
        fi
        tk_slurm_say "requeueing job $SLURM_JOB_ID to resume"
        if ! scontrol requeue "$SLURM_JOB_ID"; then
            tk_slurm_say "error: scontrol requeue failed (was the job submitted with --requeue?);" \
                         "resubmit to resume"
            return 3
        fi
        # Slurm now ends this run and queues the job again.
        return 0
        ;;
    *)
        tk_slurm_say "error: tokattr failed (status $rc); not requeued"
        return "$rc"
        ;;
    esac
}
