#!/bin/bash
# slurm/run.sbatch and slurm/array.sbatch on a real single-node Slurm
# (tests/slurm_helper.sh): the smoke job submitted to Slurm
# must give results bitwise equal (h5diff, /attributions and /predictions)
# to the same job run directly with mpirun, through both launchers
# (srun --mpi=pmix and mpirun inside the allocation) and through
# run-multinode.sbatch (on one node); its log must show the
# job, the version and plain progress lines; an array of two job files must
# finish both; resubmitting a finished job (sbatch --wait) changes nothing;
# a missing job file fails the job (sbatch --wait exits non-zero) with a message.
# labels: slurm mpi
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}" "${TOKATTR_SOURCE:?}"
export TOKATTR_BIN TOKATTR_SHARED
source "$TOKATTR_SOURCE/tests/slurm_helper.sh"
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== [$SECONDS s] $*"; }

dataset=$(slurm_test_dataset) || fail "tokattr prepare failed"
slurm_up || fail "could not start Slurm"
work=$SLURM_TEST_DIR/work
mkdir -p "$work"
cd "$work"

# The shipped smoke job with its dataset and results here.
sed -e "s#^dataset:.*#dataset: $dataset#" -e 's#^results:.*#results: smoke.h5#' \
    "$TOKATTR_SOURCE/jobs/smoke.yaml" >smoke.yaml
grep -q '^results: smoke.h5$' smoke.yaml || fail "jobs/smoke.yaml has no results: line"

step "direct mpirun run"
# The reference: mpirun by hand, outside Slurm.
env -u SLURM_CONF mpirun -np 2 "$TOKATTR_BIN" run smoke.yaml --quiet >direct.out 2>&1 ||
    { cat direct.out; fail "direct mpirun run failed"; }
mv smoke.h5 direct.h5

same_results() {
    h5diff "$1" "$2" /attributions /attributions && h5diff "$1" "$2" /predictions /predictions
}

step "sbatch, srun"
# 1. srun --mpi=pmix (this Slurm has the pmix plugin).
srun --mpi=list 2>&1 | grep -qw pmix || fail "srun --mpi=list has no pmix"
id=$(sbatch --parsable "$TOKATTR_SOURCE/slurm/run.sbatch" smoke.yaml)
slurm_wait_gone "$id" 300 || fail "job $id did not end"
log=tokattr-$id.out
[ -f "$log" ] || fail "no log $log (log named by job id)"
cat "$log"
[ "$(slurm_job_state "$id")" = COMPLETED ] || fail "job $id is $(slurm_job_state "$id")"
grep -q "launcher srun" "$log" || fail "srun was not chosen"
grep -q "binary: .*tokattr [0-9]" "$log" || fail "log lacks tokattr --version"
grep -q "^select: {first: 12480, count: 40}" "$log" || fail "log lacks the job"
grep -q "attributions: 40/40 reviews" "$log" || fail "log lacks tokattr's progress lines"
if grep -q $'\r' "$log"; then fail "log has a progress bar (carriage returns)"; fi
grep -q "done: .*smoke.h5 complete" "$log" || fail "log lacks the completion line"
same_results direct.h5 smoke.h5 || fail "srun results differ from the direct mpirun run"

step "resubmission"
# Submitting again finds the results complete and does not touch them
# (sbatch --wait: its exit status is the job's).
before=$(stat -c %Y smoke.h5)
id=$(sbatch --parsable --wait "$TOKATTR_SOURCE/slurm/run.sbatch" smoke.yaml) ||
    { cat "tokattr-$id.out"; fail "resubmission failed"; }
grep -q "already complete; nothing to do" "tokattr-$id.out" || fail "resubmission recomputed"
[ "$(stat -c %Y smoke.h5)" = "$before" ] || fail "resubmission rewrote the results"

step "sbatch, mpirun"
# 2. mpirun inside the allocation (what happens where Slurm lacks pmix).
mv smoke.h5 srun.h5
# (Polled rather than sbatch --wait, which sleeps in doubling steps.)
id=$(TOKATTR_LAUNCHER=mpirun sbatch --parsable "$TOKATTR_SOURCE/slurm/run.sbatch" smoke.yaml)
slurm_wait_gone "$id" 300 || fail "mpirun-launched job did not end"
[ "$(slurm_job_state "$id")" = COMPLETED ] || { cat "tokattr-$id.out"; fail "mpirun-launched job failed"; }
grep -q "launcher mpirun" "tokattr-$id.out" || fail "mpirun was not used"
grep -q "on 2 ranks" "tokattr-$id.out" || fail "mpirun job did not run 2 ranks"
same_results direct.h5 smoke.h5 || fail "mpirun-in-Slurm results differ from the direct run"

step "run-multinode.sbatch on the one node there is"
# Only one node here: the script's multi-node arithmetic with --nodes=1.
mv smoke.h5 mpirun.h5
id=$(sbatch --parsable --nodes=1 "$TOKATTR_SOURCE/slurm/run-multinode.sbatch" smoke.yaml)
slurm_wait_gone "$id" 300 || fail "multinode job did not end"
[ "$(slurm_job_state "$id")" = COMPLETED ] || { cat "tokattr-$id.out"; fail "multinode job failed"; }
grep -q "1 node(s) x 2 rank(s) = 2 rank(s)" "tokattr-$id.out" || fail "multinode layout"
same_results direct.h5 smoke.h5 || fail "multinode results differ from the direct run"

step "array"
# 3. An array of two job files, one task each.
sed -e 's#^results:.*#results: a1.h5#' smoke.yaml >a1.yaml
sed -e 's#^results:.*#results: a2.h5#' -e 's#count: 40#count: 12#' smoke.yaml >a2.yaml
printf '# two jobs\na1.yaml\n\na2.yaml\n' >jobs.list
id=$(sbatch --parsable --array=1-2 "$TOKATTR_SOURCE/slurm/array.sbatch" jobs.list)
slurm_wait_gone "$id" 300 || fail "array job did not end"
for t in 1 2; do
    [ "$(slurm_job_state "${id}_$t")" = COMPLETED ] ||
        { cat "tokattr-${id}_$t.out"; fail "array task $t failed"; }
    grep -q "array task $t of job $id: .*a$t.yaml" "tokattr-${id}_$t.out" ||
        { cat "tokattr-${id}_$t.out"; fail "array task $t did not run a$t.yaml"; }
done
same_results direct.h5 a1.h5 || fail "array task 1 results differ"
[ "$(h5dump -y -d /progress/done -H a2.h5 | grep -c '( 12 )')" = 1 ] || fail "array task 2 wrong size"

step "missing job file"
# 4. A job file that does not exist: the job fails, the log says why.
rc=0
id=$(sbatch --parsable --wait "$TOKATTR_SOURCE/slurm/run.sbatch" missing.yaml) || rc=$?
[ "$rc" != 0 ] || fail "a missing job file did not fail the job"
grep -q "job file .*missing.yaml does not exist" "tokattr-$id.out" || fail "no message for a missing job file"

step "PASS it_slurm_run"
