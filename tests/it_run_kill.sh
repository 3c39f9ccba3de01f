#!/bin/bash
# kill -9 at random moments of a 2-rank run (issue 18's must-show, issue
# 20's crash consistency), black-box: whatever the writer, each killed run
# resumed with --resume to the end must equal an uninterrupted run bit for
# bit in every result dataset (tests/support/h5_same.py), or the resume
# must be refused with a message naming the file and leave it untouched.
# A different result, a crash or a hang fails.
#
# Each of K kills (TOKATTR_KILLS, default 5; it_run_kill_slow runs 20):
# a fresh run, SIGKILL at a moment drawn from [0, the reference run's
# wall time] (odd kills) or from the part of it after the reference's
# .partial appeared (even kills: the writers at work, units being marked
# done; else most kills land in start-up and the layout) to the whole job (mpirun and the ranks, stopped together, as a
# node crash) or to one rank alone (mpirun then ends the job itself); every
# other time the first --resume is killed too; then --resume, on 1 or 2
# ranks, to the end. The draws come from TOKATTR_KILL_SEED (printed, default
# fixed): the same seed gives the same moments and victims (not the same
# program states: the machine's speed varies).
# labels: mpi
set -uo pipefail
source "$TOKATTR_SOURCE/tests/support/kill_lib.sh"
K=${TOKATTR_KILLS:-5}
seed=${TOKATTR_KILL_SEED:-2026}
RANDOM=$seed
work=$(mktemp -d "${TMPDIR:-/tmp}/it_run_kill.XXXXXX")

kl_dataset || { echo "FAIL: cannot make the test dataset"; exit 1; }
kl_reference "$work/ref" || { echo "FAIL: reference run"; exit 1; }
echo "seed $seed, $K kills; reference run $KL_REF_MS ms on 2 ranks, its .partial from $KL_PARTIAL_MS ms"
span=$KL_REF_MS

out="$work/out"
mkdir -p "$out"
kl_job "$work/job.yaml" "$out/r.h5"
for ((i = 1; i <= K; i++)); do
    rm -f "$out"/r.h5*
    at=$(kl_rand $span)
    if [ $((i % 2)) = 0 ] && [ "$KL_PARTIAL_MS" -lt "$span" ]; then
        at=$((KL_PARTIAL_MS + $(kl_rand $((span - KL_PARTIAL_MS)))))
    fi
    victim=$(kl_rand 3) # 0: the whole job, 1: rank 0 alone, 2: rank 1 alone
    kill_resume=$((i % 2 == 0))
    resume_at=$(kl_rand $span)
    ranks=$((1 + $(kl_rand 2)))
    kl_start 2 "$out/run$i.log" "$TOKATTR_BIN" run "$work/job.yaml" --shared "$TOKATTR_SHARED" --quiet
    kl_ms_sleep $at
    what="job"
    if [ $victim = 0 ]; then
        kl_kill_job $KL_PID
    else
        what="rank $((victim - 1))"
        kl_kill_rank $KL_PID $((victim - 1)) || { what="nothing (rank gone)"; kl_wait $KL_PID 60; }
    fi
    state="no file"
    [ -f "$out/r.h5.partial" ] && state=$("$KL_PY" -c "import h5py,sys; d=h5py.File(sys.argv[1],'r')['/progress/done'][()]; print(f'{int(d.sum())}/{d.size} done')" "$out/r.h5.partial" 2>/dev/null || echo "unreadable .partial")
    [ -f "$out/r.h5" ] && state="finished before the kill"
    line="kill $i: at $at ms, $what -> $state"
    if [ $kill_resume = 1 ] && [ ! -f "$out/r.h5" ]; then
        kl_start 2 "$out/resume$i.log" "$TOKATTR_BIN" run "$work/job.yaml" --resume \
            --shared "$TOKATTR_SHARED" --quiet
        kl_ms_sleep $resume_at
        kl_kill_job $KL_PID
        line="$line; --resume killed at $resume_at ms"
    fi
    [ -f "$out/r.h5.partial" ] && cp "$out/r.h5.partial" "$work/killed$i.h5" # kept on failure
    kl_resume $i "$out" "$work/job.yaml" $ranks
    echo "$line; --resume on $ranks rank(s): $KL_OUTCOME"
    [ -e "$out/r.h5.partial.new" ] && kl_die "kill $i: r.h5.partial.new left behind"
done
kl_summary
[ $kl_fail = 0 ] && rm -rf "$work"
exit $kl_fail
