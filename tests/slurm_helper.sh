# Sourced by tests/it_slurm*.sh: brings up a private single-node Slurm
# (munged, slurmctld, slurmd on localhost) for the calling test and stops
# everything it started when the test exits.
#
#   source "$TOKATTR_SOURCE/tests/slurm_helper.sh"
#   slurm_up                  # exports SLURM_CONF; the node is idle on return
#   sbatch ...                # talks to this private cluster only
#   slurm_job_state JOBID     # PENDING / RUNNING / COMPLETED / ...
#   slurm_wait_job JOBID SECS # waits for a terminal state, prints it
#
# Why a private cluster rather than the machine's: CI runs as root on a
# fresh machine with nothing configured, and a developer may already run a
# munged or a Slurm of their own. Everything here lives in one temporary
# directory with its own munge socket, its own ports and its own state, and
# every daemon is stopped by the pid we started, never by name. Nothing uses
# cgroups (proctrack/pgid, task/none), so no systemd is needed.
#
# Facts this relies on (docs/INFRA.md in the shared directory): Slurm 22.05
# from Debian, no slurmdbd (so no sacct: state comes from `scontrol show
# job`, kept for MinJobAge), `srun --mpi=pmix` works with Debian's Open MPI.

SLURM_TEST_DIR=""
SLURM_TEST_PIDS=()   # daemons we started, stopped in reverse order

slurm_log() { echo "slurm_helper: $*" >&2; }

# Installs the Debian packages when a daemon or client is missing. Only root
# can do that; anyone else gets a message that says what to install.
slurm_install() {
    local need=0 tool
    for tool in slurmctld slurmd sbatch munged mungekey; do
        command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || need=1
    done
    [ "$need" = 0 ] && return 0
    if [ "$(id -u)" != 0 ]; then
        slurm_log "Slurm is not installed and we are not root: install the Debian packages" \
                  "'slurmctld slurmd slurm-client munge' (or run the tests as root)"
        return 1
    fi
    slurm_log "installing slurmctld slurmd slurm-client munge"
    if ! { apt-get update -qq >/dev/null &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            slurmctld slurmd slurm-client munge >/dev/null; }; then
        slurm_log "apt-get install of the Slurm packages failed"
        return 1
    fi
    # Debian's postinst may start daemons through init scripts where there
    # is no systemd; ours run on their own socket and ports, so they do not
    # meet, and we leave those alone.
}

# A TCP port nobody listens on (bash's /dev/tcp connects if one does).
slurm_free_port() {
    local port tries=0
    while [ $tries -lt 200 ]; do
        port=$((20000 + RANDOM % 20000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
        tries=$((tries + 1))
    done
    return 1
}

# Starts one daemon in the foreground-mode, in the background, and records its
# pid: the pid of the daemon itself, since setpriv and exec do not fork.
slurm_start() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 &
    SLURM_TEST_PIDS+=($!)
}

slurm_down() {
    local rc=$?
    if [ -n "$SLURM_TEST_DIR" ] && [ -n "${SLURM_CONF:-}" ]; then
        # Jobs first, so no slurmstepd outlives slurmd and keeps a rank alive.
        local jobs
        jobs=$(squeue -h -o %A 2>/dev/null | tr '\n' ' ') || true
        if [ -n "${jobs// /}" ]; then
            # shellcheck disable=SC2086
            scancel $jobs 2>/dev/null || true
            local i
            for i in $(seq 1 30); do
                [ -z "$(squeue -h -o %A 2>/dev/null || true)" ] && break
                sleep 1
            done
        fi
    fi
    local i pid
    for ((i = ${#SLURM_TEST_PIDS[@]} - 1; i >= 0; i--)); do
        pid=${SLURM_TEST_PIDS[$i]}
        kill -TERM "$pid" 2>/dev/null || continue
        local t
        for ((t = 0; t < 50; t++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    SLURM_TEST_PIDS=()
    if [ -n "$SLURM_TEST_DIR" ]; then
        if [ "$rc" != 0 ]; then
            # A failed test leaves the daemons' logs where its output shows them.
            local f
            for f in "$SLURM_TEST_DIR"/log/*.log; do
                [ -s "$f" ] || continue
                echo "---- last lines of $(basename "$f")" >&2
                tail -n 15 "$f" >&2
            done
        fi
        [ -n "${SLURM_KEEP:-}" ] || rm -rf "$SLURM_TEST_DIR"
        SLURM_TEST_DIR=""
    fi
    return "$rc"
}

slurm_up() {
    slurm_install || return 1
    SLURM_TEST_DIR=$(mktemp -d /tmp/tokattr-slurm.XXXXXX) || return 1
    trap slurm_down EXIT
    trap 'exit 130' INT TERM
    local d=$SLURM_TEST_DIR
    # munged (not root) must be able to walk into its directory below ours.
    chmod 755 "$d"
    mkdir -p "$d/state" "$d/spool" "$d/log" "$d/munge"

    # munge: the packaged key if there is one, else a new one. Our munged
    # runs as the munge user on its own socket, so it neither needs nor
    # disturbs one that may be running already.
    if [ ! -s /etc/munge/munge.key ]; then
        mkdir -p /etc/munge
        mungekey --create --keyfile=/etc/munge/munge.key >/dev/null ||
            { slurm_log "mungekey --create failed"; return 1; }
        chown munge:munge /etc/munge/munge.key
        chmod 400 /etc/munge/munge.key
    fi
    chown munge:munge "$d/munge"
    chmod 700 "$d/munge"
    local sock=$d/munge/munge.socket
    slurm_start "$d/log/munged.out" setpriv --reuid=munge --regid=munge --init-groups \
        /usr/sbin/munged --foreground --force --socket="$sock" \
        --pid-file="$d/munge/munged.pid" --log-file="$d/munge/munged.log" \
        --seed-file="$d/munge/munged.seed"
    local i
    for i in $(seq 1 50); do
        munge -S "$sock" -n 2>/dev/null | unmunge -S "$sock" >/dev/null 2>&1 && break
        sleep 0.1
    done
    munge -S "$sock" -n 2>/dev/null | unmunge -S "$sock" >/dev/null 2>&1 ||
        { slurm_log "munged did not start (see $d/munge/munged.log)"; return 1; }

    local cpus mem ctld_port slurmd_port
    cpus=$(nproc)
    # Leave the system some memory: RealMemory above what slurmd measures
    # drains the node.
    mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
    ctld_port=$(slurm_free_port) && slurmd_port=$(slurm_free_port) || return 1
    while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port=$(slurm_free_port); done

    # cred_expire also delays a requeued job's restart (default 120 s), and
    # a job that becomes eligible waits for the next scheduling pass
    # (sched_interval, default 60 s);
    # KillWait is short so a cancelled test does not linger; MinJobAge
    # keeps finished jobs visible to `scontrol show job` (no slurmdbd).
    cat >"$d/slurm.conf" <<EOF
ClusterName=tokattrtest
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sock,cred_expire=10
CredType=cred/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=3
MpiDefault=pmix
ReturnToService=2
EnforcePartLimits=ALL
KillWait=5
MinJobAge=3600
InactiveLimit=0
JobRequeue=1
JobCompType=jobcomp/filetxt
JobCompLoc=$d/log/jobcomp.txt
NodeName=localhost CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
    # slurmstepd's PMIx plugin makes /tmp/spmix_appdir_<uid>_<job>.<step>
    # by default: two test clusters (ctest -j) or a leftover from a killed
    # run, both numbering jobs from 1, then fail each other's launches.
    mkdir -p "$d/pmix"
    echo "PMIxCliTmpDirBase=$d/pmix" >"$d/mpi.conf"
    export SLURM_CONF=$d/slurm.conf
    # Open MPI names its shared-memory files (/dev/shm/vader_segment.*,
    # osc_sm.*) after the PMIx namespace, slurm.pmix.<job>.<step>, the same
    # in every test cluster: two at once mapped each other's segments (a
    # segfault in mca_btl_vader_poll_handle_frag). Jobs inherit these.
    mkdir -p "$d/shm"
    export OMPI_MCA_btl_vader_backing_directory=$d/shm OMPI_MCA_osc_sm_backing_directory=$d/shm

    slurm_start "$d/log/slurmctld.out" /usr/sbin/slurmctld -D -c -f "$SLURM_CONF"
    slurm_start "$d/log/slurmd.out" /usr/sbin/slurmd -D -N localhost -f "$SLURM_CONF"

    local state=""
    for i in $(seq 1 60); do
        state=$(sinfo -h -n localhost -o %t 2>/dev/null) || true
        [ "$state" = idle ] && return 0
        sleep 0.5
    done
    slurm_log "the node did not become idle within 30 s (sinfo says '${state}')"
    return 1
}

# The job's state from slurmctld (kept MinJobAge = 1 h after it ends).
slurm_job_state() {
    scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -n 1
}

# Waits until the job reaches a terminal state (a requeued job passes through
# PENDING again and is waited for too); prints the state. Fails on timeout.
slurm_wait_job() {
    local id=$1 limit=$2 start state
    start=$SECONDS
    while [ $((SECONDS - start)) -lt "$limit" ]; do
        state=$(slurm_job_state "$id") || true
        case "$state" in
        COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE | PREEMPTED)
            echo "$state"
            return 0
            ;;
        esac
        sleep 1
    done
    echo "${state:-UNKNOWN}"
    return 1
}

# Waits until no task of the job (an array: all of them) is queued,
# running or completing. `sbatch --wait` does the same but polls at doubling
# intervals (2, 4, 8, 16 s...), which adds up to half a minute per job.
slurm_wait_gone() {
    local id=$1 limit=$2 start=$SECONDS
    while [ $((SECONDS - start)) -lt "$limit" ]; do
        [ -z "$(squeue -h -j "$id" -o %i 2>/dev/null || echo busy)" ] && return 0
        sleep 1
    done
    slurm_log "job $id still in the queue after $limit s"
    return 1
}

# A dataset for the tests' jobs, made once per build directory by
# `tokattr prepare` (about 10 s) and shared by the Slurm tests; written under
# a temporary name first so a test killed mid-way leaves no half file.
# slurm_test_dataset [TOKENIZER]: prepare's default ids (keras-imdb), or those
# of the tokenizer named (tokattr-imdb for imdb_cnn.h5 / imdb_lstm.h5 jobs).
slurm_test_dataset() {
    local dir=${TOKATTR_BUILD:-${TMPDIR:-/tmp}}/slurm-tests tok=${1:-keras-imdb}
    mkdir -p "$dir"
    if [ ! -s "$dir/imdb_$tok.h5" ]; then
        "$TOKATTR_BIN" prepare --quiet --shared "$TOKATTR_SHARED" --tokenizer "$tok" --out "$dir/imdb_$tok.h5.$$" >&2 ||
            return 1
        mv -f "$dir/imdb_$tok.h5.$$" "$dir/imdb_$tok.h5"
    fi
    echo "$dir/imdb_$tok.h5"
}
