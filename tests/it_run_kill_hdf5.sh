#!/bin/bash
# kill -9 inside HDF5 (issue 20, crash consistency): a 2-rank run with one
# rank under gdb (batch mode, no hook in the product), stopped at its n-th
# H5Fflush or H5Dwrite (or fdatasync: the ranks writer's sync of the units
# a rank pwrote itself), or at the j-th write system call after it (inside
# the flush or the write; after a sync, the next units' pwrites), and
# killed there: the whole job (every process
# stopped, then killed) or that rank alone. Then --resume to the end, which
# must give the uninterrupted run's results bit for bit or refuse with a
# message naming the file (tests/support/kill_lib.sh). Black-box: a
# calibration run under gdb counts each rank's HDF5 calls, and the kills go
# to the ranks that make them, whichever writer the build has.
#
# Then the file of such a kill, truncated at random byte offsets (and 0,
# and one byte short), and the finished file truncated, each given to
# --resume: refused with a message naming the file, or resumed to the same
# results; never a crash, never a different result.
#
# Two reproducers (below), then TOKATTR_GDB_KILLS (default 3) random
# kills; TOKATTR_TRUNCATIONS (default 6) random offsets; all drawn from
# TOKATTR_KILL_SEED (printed). it_run_kill_hdf5_slow runs 20 and 20.
# labels: mpi
set -uo pipefail
source "$TOKATTR_SOURCE/tests/support/kill_lib.sh"
G=${TOKATTR_GDB_KILLS:-3}
T=${TOKATTR_TRUNCATIONS:-6}
seed=${TOKATTR_KILL_SEED:-2026}
RANDOM=$seed
command -v gdb > /dev/null || { echo "FAIL: gdb is not installed (install-deps.sh installs it)"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/it_run_kill_hdf5.XXXXXX")

kl_dataset || { echo "FAIL: cannot make the test dataset"; exit 1; }
kl_reference "$work/ref" || { echo "FAIL: reference run"; exit 1; }
echo "seed $seed; reference run $KL_REF_MS ms on 2 ranks"
out="$work/out"
mkdir -p "$out"
job="$work/job.yaml"
kl_job "$job" "$out/r.h5"
run_args=(run "$job" --shared "$TOKATTR_SHARED" --quiet)

# The whole job, from inside gdb: stop every process of mpirun's tree, then
# kill them (gdb and its stopped inferior among them).
cat > "$work/killjob.sh" <<EOF
source "$TOKATTR_SOURCE/tests/support/kill_lib.sh"
while [ ! -s "$work/mpirun.pid" ]; do sleep 0.05; done
# not this script nor its parent (gdb's shell), which are in the tree too
pids=\$(kl_tree \$(cat "$work/mpirun.pid") | grep -vx -e \$\$ -e \$PPID)
kill -STOP \$pids; kill -KILL \$pids
EOF

# rank.sh R SCRIPT ARGS...: rank R runs under gdb with SCRIPT (its output
# in $work/gdb<R>.txt), the others run plainly; R = all: every rank.
cat > "$work/rank.sh" <<'EOF'
r=$1 script=$2 work=$3
shift 3
if [ "$r" = all ] || [ "$r" = "$OMPI_COMM_WORLD_RANK" ]; then
    exec gdb -q -batch -x "$script" --args "$@" > "$work/gdb$OMPI_COMM_WORLD_RANK.txt" 2>&1
fi
exec "$@"
EOF
gdb_head() {
    cat <<'EOF'
set pagination off
set confirm off
set print thread-events off
set print inferior-events off
set breakpoint pending on
handle SIGUSR1 SIGUSR2 SIGTERM SIGINT SIGPIPE nostop noprint pass
EOF
}
SYSCALLS="pwrite64 pwritev pwritev2 write writev"

# calibration: how often each rank calls H5Fflush, H5Dwrite and fdatasync in a whole
# fresh run (gdb counts the hits of breakpoints it is told to ignore)
{
    gdb_head
    echo "break H5Fflush"
    echo "break H5Dwrite"
    echo "break fdatasync"
    echo "ignore 1 100000000"
    echo "ignore 2 100000000"
    echo "ignore 3 100000000"
    echo "run"
    echo "info breakpoints"
} > "$work/cal.gdb"
rm -f "$out"/r.h5*
mpirun -n 2 bash "$work/rank.sh" all "$work/cal.gdb" "$work" "$TOKATTR_BIN" "${run_args[@]}" \
    > "$work/cal.log" 2>&1 || { echo "FAIL: the calibration run under gdb"; cat "$work/cal.log" "$work"/gdb*.txt; exit 1; }
"$KL_PY" "$KL_SAME" "$KL_REF" "$out/r.h5" || { echo "FAIL: the run under gdb differs"; exit 1; }
declare -A hits
writers=()
for r in 0 1; do
    f=$(awk '/<H5Fflush/ { b = 1 } /<H5Dwrite/ { b = 2 } /fdatasync/ { b = 3 } /already hit/ { n[b] = $4 }
             END { print n[1] + 0, n[2] + 0, n[3] + 0 }' "$work/gdb$r.txt")
    read -r hits[$r,flush] hits[$r,write] hits[$r,sync] <<< "$f"
    echo "rank $r: ${hits[$r,flush]} H5Fflush, ${hits[$r,write]} H5Dwrite, ${hits[$r,sync]} fdatasync in a whole run"
    [ "${hits[$r,flush]}" -gt 0 ] || [ "${hits[$r,sync]}" -gt 0 ] && writers+=("$r")
done
[ ${#writers[@]} -gt 0 ] || { echo "FAIL: no rank calls H5Fflush (is the binary linked to HDF5 dynamically?)"; cat "$work/gdb0.txt"; exit 1; }

# gdb_kill_script FILE FUNC N J VICTIM: stop at the N-th call of FUNC, or
# with J > 0 at the J-th write system call stop (entry or return) after it;
# then kill VICTIM (job | rank)
gdb_kill_script() {
    local file=$1 func=$2 n=$3 j=$4 victim=$5 killcmd
    [ "$victim" = job ] && killcmd="shell bash $work/killjob.sh" || killcmd="kill"
    {
        gdb_head
        echo "catch syscall $SYSCALLS"
        echo "disable 1"
        echo "commands 1"
        echo "shell touch $work/hit"
        echo "$killcmd"
        echo "end"
        echo "break $func"
        [ "$n" -gt 1 ] && echo "ignore 2 $((n - 1))"
        echo "commands 2"
        if [ "$j" -gt 0 ]; then
            echo "enable 1"
            [ "$j" -gt 1 ] && echo "ignore 1 $((j - 1))"
            echo "continue"
        else
            echo "shell touch $work/hit"
            echo "$killcmd"
        fi
        echo "end"
        echo "run"
    } > "$file"
}

# First the reproducers of kills that once damaged the file (with today's
# counts: H5Fflush call 145 of 151, and H5Dwrite call 1051 of 1214, whose
# next write syscalls are those of the following flush; both killed the
# whole job while the flush wrote the data chunks): at the same share of
# the run on the first writing rank. Then G random kills.
# TOKATTR_GDB_AT="RANK:FUNC:N:J:VICTIM:RANKS ..." replaces them all (to
# replay one kill that failed).
w0=0
[ "${hits[0,flush]}" -gt 0 ] || w0=1
fixed=("$w0:H5Fflush:$((hits[$w0,flush] * 145 / 151)):19:job:2"
       "$w0:H5Dwrite:$((hits[$w0,write] * 1051 / 1214)):7:job:2")
[ -n "${TOKATTR_GDB_AT:-}" ] && read -r -a fixed <<< "$TOKATTR_GDB_AT"
nfixed=${#fixed[@]}
G=$((G + nfixed))
[ -n "${TOKATTR_GDB_AT:-}" ] && G=$nfixed
for ((i = 1; i <= G; i++)); do
    rm -f "$out"/r.h5* "$work/hit" "$work/mpirun.pid"
    r=${writers[$(kl_rand ${#writers[@]})]}
    max=0
    while [ "$max" = 0 ]; do # a call this rank makes
        case $(kl_rand 6) in
        0) func=H5Fflush j=0 ;;
        1) func=H5Fflush j=$((1 + $(kl_rand 24))) ;;
        2) func=H5Dwrite j=0 ;;
        3) func=H5Dwrite j=$((1 + $(kl_rand 8))) ;;
        4) func=fdatasync j=0 ;;
        5) func=fdatasync j=$((1 + $(kl_rand 24))) ;;
        esac
        case $func in
        H5Fflush) max=${hits[$r,flush]} ;;
        H5Dwrite) max=${hits[$r,write]} ;;
        fdatasync) max=${hits[$r,sync]} ;;
        esac
    done
    n=$((1 + $(kl_rand $max)))
    [ $(kl_rand 3) = 0 ] && victim=rank || victim=job
    ranks=$((1 + $(kl_rand 2)))
    [ $i -le $nfixed ] && IFS=: read -r r func n j victim ranks <<< "${fixed[i - 1]}"
    gdb_kill_script "$work/kill$i.gdb" $func $n $j $victim
    where="rank $r at $func call $n"
    [ $j -gt 0 ] && where="$where, write syscall stop $j after its entry"
    kl_start 2 "$out/run$i.log" bash "$work/rank.sh" $r "$work/kill$i.gdb" "$work" "$TOKATTR_BIN" "${run_args[@]}"
    echo $KL_PID > "$work/mpirun.pid"
    kl_wait $KL_PID 300
    [ $? = 124 ] && kl_die "gdb kill $i: the job hung (killed after 300 s)"
    if [ -f "$work/hit" ]; then
        state="killed ($victim)"
        [ -f "$out/r.h5.partial" ] && state="$state, $("$KL_PY" -c "import h5py,sys; d=h5py.File(sys.argv[1],'r')['/progress/done'][()]; print(f'{int(d.sum())}/{d.size} done')" "$out/r.h5.partial" 2>/dev/null || echo "the .partial does not open")"
        [ $i = $((nfixed + 1)) ] && [ -f "$out/r.h5.partial" ] && cp "$out/r.h5.partial" "$work/victim.h5"
    else
        state="not reached: the run ended first"
    fi
    [ -f "$out/r.h5.partial" ] && cp "$out/r.h5.partial" "$work/killed$i.h5" # kept on failure
    kl_resume gdb$i "$out" "$job" $ranks
    echo "gdb kill $i: $where, $victim -> $state; --resume on $ranks rank(s): $KL_OUTCOME"
done

# truncations of a killed run's file (the first random kill's, else one made
# now at the middle flush of a writing rank)
if [ ! -f "$work/victim.h5" ]; then
    rm -f "$out"/r.h5* "$work/hit" "$work/mpirun.pid"
    r=${writers[0]}
    gdb_kill_script "$work/victim.gdb" H5Fflush $(((hits[$r,flush] + 1) / 2)) 0 job
    kl_start 2 "$out/victim.log" bash "$work/rank.sh" $r "$work/victim.gdb" "$work" "$TOKATTR_BIN" "${run_args[@]}"
    echo $KL_PID > "$work/mpirun.pid"
    kl_wait $KL_PID 300
    cp "$out/r.h5.partial" "$work/victim.h5" || { echo "FAIL: no .partial to truncate"; exit 1; }
fi
size=$(stat -c %s "$work/victim.h5")
echo "truncating a killed run's file of $size bytes"
# kl_named FILE: the byte after which FILE's first bytes still name the
# writer's root attribute model_sha256. A file cut after it is a damaged
# results file (issue 20: refused as damaged, --force replaces it); one cut
# before it cannot be told from any other HDF5 file: not a results file.
kl_named() { local o; o=$(grep -boa -m1 model_sha256 "$1" | head -n1 | cut -d: -f1); echo $((${o:-0} + 12)); }
# kl_refusal_says WHAT AT NAMED: a refusal of a file cut at byte AT says
# which of the two it is, naming the file
kl_refusal_says() {
    local what=$1 at=$2 named=$3 name=${KL_OUTNAME//./\\.} want
    case $KL_OUTCOME in refused*) ;; *) return ;; esac
    if [ "$at" -ge "$named" ]; then
        want="$name: a damaged tokattr results file \(truncated\? $at bytes.*cannot be resumed.*--force"
    else
        want="$name: .*not a tokattr results file"
    fi
    grep -Eq -- "$want" <<< "$KL_OUTCOME" || kl_die "$what: the refusal does not match '$want': $KL_OUTCOME"
}
named=$(kl_named "$work/victim.h5")
for ((i = 1; i <= T + 2; i++)); do
    case $i in
    1) at=0 ;;
    2) at=$((size - 1)) ;;
    *) at=$(kl_rand $size) ;;
    esac
    rm -f "$out"/r.h5*
    cp "$work/victim.h5" "$out/r.h5.partial"
    truncate -s $at "$out/r.h5.partial"
    kl_resume trunc$i "$out" "$job" 1
    KL_OUTNAME=r.h5.partial kl_refusal_says "truncated at byte $at" $at $named
    echo "truncated at byte $at: $KL_OUTCOME"
done
# the finished file truncated: --resume only checks it, and must not accept it
size=$(stat -c %s "$KL_REF")
named=$(kl_named "$KL_REF")
for at in $(kl_rand $size) $((size - 1)); do
    rm -f "$out"/r.h5*
    cp "$KL_REF" "$out/r.h5"
    truncate -s $at "$out/r.h5"
    log="$out/finished_trunc.log"
    timeout 300 mpirun -n 1 "$TOKATTR_BIN" run "$job" --resume --shared "$TOKATTR_SHARED" --quiet > "$log" 2>&1
    rc=$?
    if [ $rc = 0 ]; then
        # accepted: only right if the results are all still there
        if "$KL_PY" "$KL_SAME" "$KL_REF" "$out/r.h5" > /dev/null 2>&1; then
            echo "finished file truncated at byte $at: accepted, results intact"
        else
            kl_die "finished file truncated at byte $at: --resume accepted a damaged file"
        fi
    elif why=$(KL_OUTNAME=r.h5 kl_check_log "$log" $rc); then
        KL_OUTCOME="refused: $(grep -m1 -F r.h5 "$log")"
        KL_OUTNAME=r.h5 kl_refusal_says "finished file truncated at byte $at" $at $named
        echo "finished file truncated at byte $at: $KL_OUTCOME"
    else
        kl_die "finished file truncated at byte $at: $why: $(tail -n 3 "$log" | tr '\n' ' ')"
    fi
done

kl_summary
[ $kl_fail = 0 ] && rm -rf "$work"
exit $kl_fail
