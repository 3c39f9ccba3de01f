#!/bin/bash
# it_run_kill with 20 kills (issue 18: "kill -9 at 20 random moments during
# a parallel-write run, resume each: bitwise identical"); several minutes,
# so outside the default suite. TOKATTR_KILL_SEED picks other moments.
# labels: mpi slow
export TOKATTR_KILLS=${TOKATTR_KILLS:-20}
# IG with 512 steps: the units take about as long as the start-up and the
# layout, so that the kills drawn after the .partial appears (every other
# one) land among the writers at work, not after the end
export KL_IG_STEPS=${KL_IG_STEPS:-512}
exec bash "$TOKATTR_SOURCE/tests/it_run_kill.sh"
