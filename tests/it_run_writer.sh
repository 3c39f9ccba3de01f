#!/bin/bash
# The two results writers (job key `writer`): `ranks` (each computing rank
# pwrites its units into rank 0's file) and `root` (rank 0 writes every
# result with HDF5) give the same file, bit for bit in every results
# dataset (tests/support/h5_same.py), on 1, 2 and 3 ranks, with every
# kind of dataset a unit fills (scores, IG steps and error estimates,
# faithfulness curves); the run summary is the same; and a rank whose
# results path is another file than rank 0's (a node-local path, here one
# rank's job in another directory) is refused with the path and the host
# named (also a byte-identical copy of rank 0's file: a fresh nonce per
# start), while the root writer runs there; a run killed (-9) with one
# writer and resumed (--resume --allow-job-edit) with the other equals an
# uninterrupted run.
# labels: mpi
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}" "${TOKATTR_BUILD:?}" "${TOKATTR_SOURCE:?}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d "${TMPDIR:-/tmp}/it_run_writer.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0
die() { echo "FAIL: $*"; fail=1; }

data="$TOKATTR_BUILD/it_run_imdb.h5"
if [ ! -f "$data" ]; then
    "$TOKATTR_BIN" prepare --shared "$TOKATTR_SHARED" --quiet \
        --word-index "$TOKATTR_SHARED/models/imdb_word_index.json" --out "$work/imdb.h5" >/dev/null
    mv -n "$work/imdb.h5" "$data"
fi

job() { # job DIR WRITER: a job whose results are DIR/out/r.h5
    mkdir -p "$1/out"
    cat > "$1/job.yaml" <<YAML
model: shared:models/imdb_cnn.h5
dataset: $data
word_index: shared:models/imdb_word_index.json
select: {first: 0, count: 23}
methods:
  - {name: saliency, method: saliency}
  - {name: ig, method: integrated_gradients, rule: adaptive, tolerance: 1e-3, max_steps: 64}
  - {name: lrp, method: lrp_epsilon}
results: out/r.h5
chunk_size: 2
checkpoint_seconds: 0
faithfulness: {k: 3}
$2
YAML
}
run() { # run N DIR: the job of DIR on N ranks, log in DIR/logN
    mpirun -n "$1" "$TOKATTR_BIN" run "$2/job.yaml" --force --shared "$TOKATTR_SHARED" \
        --quiet > "$2/log$1" 2>&1
}

job "$work/root" "writer: root"
job "$work/ranks" "writer: ranks"
job "$work/default" ""
for n in 1 2 3; do
    for w in root ranks default; do
        run $n "$work/$w" || { die "$w on $n ranks failed"; cat "$work/$w/log$n"; continue; }
        cp "$work/$w/out/r.h5" "$work/$w-$n.h5"
    done
done
[ $fail = 0 ] || exit 1
for n in 1 2 3; do
    for w in root ranks default; do
        /usr/bin/python3 "$TOKATTR_SOURCE/tests/support/h5_same.py" "$work/root-1.h5" \
            "$work/$w-$n.h5" > "$work/same" 2>&1 ||
            { die "$w on $n ranks differs from root on 1 rank"; head -20 "$work/same"; }
    done
    # the summary's figures come from per-unit statistics with the ranks
    # writer, from the whole results with the root writer: the same lines
    # (sorted: the warnings go to stderr, interleaved anywhere)
    diff <(grep -E "axiom error|faithfulness|tolerance|steps" "$work/root/log$n" | sort) \
         <(grep -E "axiom error|faithfulness|tolerance|steps" "$work/ranks/log$n" | sort) ||
        die "the summaries differ between the writers on $n ranks"
done
grep -q "faithfulness: mean AOPC" "$work/ranks/log2" || die "no faithfulness summary"
# the inputs' digests, hashed while the work ran, are sha256sum's
/usr/bin/python3 - "$work/ranks-3.h5" "$data" "$TOKATTR_SHARED/models/imdb_cnn.h5" <<'PY' || fail=1
import sys, hashlib, h5py, numpy as np
def digest(path):
    return hashlib.sha256(open(path, 'rb').read()).hexdigest()
def attr(f, name):
    v = f.attrs[name]
    return v.decode() if isinstance(v, bytes) else str(v)
with h5py.File(sys.argv[1]) as f:
    assert attr(f, 'dataset_sha256') == digest(sys.argv[2]), 'dataset_sha256'
    assert attr(f, 'model_sha256') == digest(sys.argv[3]), 'model_sha256'
    assert f['/progress/done'][:].all()
    assert f.attrs['finish_time'].startswith(b'20') or str(f.attrs['finish_time']).startswith('20')
    ig = f['/attributions/ig']
    assert (ig['steps'][:] > 0).all() and np.isfinite(ig['error_estimate'][:]).all()
    assert f['/faithfulness/lrp/curve'].shape == (23, 4)
    assert np.isfinite(f['/attributions/saliency/score'][:]).all()
PY

# a node-local results path: rank 1's job is the same text in another
# directory, so its results path names another file. The ranks writer
# refuses on rank 1 (naming the path and the host), before any work.
job "$work/a" ""
job "$work/b" ""
# refused_locally CASE MODE FILE: rank 0 runs a's job, rank 1 b's, with
# MODE (--force or --resume); the run must fail with one message naming
# b's FILE (a fresh run's file is r.h5.partial.new until its layout is
# written, a resumed one r.h5.partial) and the host
refused_locally() {
    if mpirun -n 1 "$TOKATTR_BIN" run "$work/a/job.yaml" "$2" --shared "$TOKATTR_SHARED" --quiet : \
            -n 1 "$TOKATTR_BIN" run "$work/b/job.yaml" "$2" --shared "$TOKATTR_SHARED" --quiet \
            > "$work/local" 2>&1; then
        die "$1: the ranks writer wrote into a file that is not rank 0's"
    fi
    grep -q "$work/b/out/$3 on host $(hostname) is not the file rank 0 created" "$work/local" ||
        { die "$1: no message naming the path and the host"; cat "$work/local"; }
    grep -q "writer: root" "$work/local" || die "$1: the message does not name the root writer"
    grep -c "tokattr run:" "$work/local" | grep -qx 1 || { die "$1: not one message"; cat "$work/local"; }
}
refused_locally missing --force r.h5.partial.new
cp "$work/ranks-1.h5" "$work/b/out/r.h5.partial.new"
refused_locally stale --force r.h5.partial.new
# a refused fresh run leaves no half-written output behind on rank 0
for f in r.h5 r.h5.partial r.h5.partial.new; do
    [ ! -e "$work/a/out/$f" ] || die "the refused run left $f"
done
# a byte-identical copy of rank 0's file on "another node" (copied there
# for a resume) is refused too: each start writes a fresh run nonce into
# the metadata the proof hashes (src/core/results_schema.h). The file to
# resume: the same job's finished file with no review marked done.
cp "$work/default-1.h5" "$work/a/out/r.h5.partial"
/usr/bin/python3 -c "import h5py,sys; f=h5py.File(sys.argv[1],'r+'); f['/progress/done'][:]=0; f.close()" \
    "$work/a/out/r.h5.partial"
cp "$work/a/out/r.h5.partial" "$work/b/out/r.h5.partial"
refused_locally copy --resume r.h5.partial
# the root writer needs no shared path: it runs, and equals the others
printf 'writer: root\n' >> "$work/a/job.yaml"
printf 'writer: root\n' >> "$work/b/job.yaml"
mpirun -n 1 "$TOKATTR_BIN" run "$work/a/job.yaml" --force --shared "$TOKATTR_SHARED" --quiet : \
    -n 1 "$TOKATTR_BIN" run "$work/b/job.yaml" --force --shared "$TOKATTR_SHARED" --quiet \
    > "$work/local" 2>&1 || { die "the root writer failed with a node-local path"; cat "$work/local"; }
/usr/bin/python3 "$TOKATTR_SOURCE/tests/support/h5_same.py" "$work/root-1.h5" "$work/a/out/r.h5" ||
    die "the root writer's file differs"

# kill -9 with one writer, --resume --allow-job-edit with the other: the
# same file as an uninterrupted run (the writer changes who writes, not
# what; the job key table says so)
set +e
source "$TOKATTR_SOURCE/tests/support/kill_lib.sh"
# kill_lib's job with a heavier IG: the standard job is mostly start-up and
# the layout, and the kills land after the reference run's .partial
# appeared (units are marked done from then on), so that one finds some
# but not all units done
KL_IG_STEPS=512
kl_dataset || die "cannot make the kill test dataset"
kl_reference "$work/kref" || die "reference run"
echo "kill reference: $KL_REF_MS ms on 2 ranks, its .partial from $KL_PARTIAL_MS ms"
for from in ranks root; do
    [ $from = ranks ] && to=root || to=ranks
    d="$work/switch-$from"
    mkdir -p "$d"
    killed=""
    for pct in 40 60 25 80 50 70 30 90; do # a moment with some but not all units done
        rm -f "$d"/r.h5*
        kl_job "$d/job.yaml" "$d/r.h5"
        echo "writer: $from" >> "$d/job.yaml"
        kl_start 2 "$d/run.log" "$TOKATTR_BIN" run "$d/job.yaml" --shared "$TOKATTR_SHARED" --quiet
        kl_ms_sleep $((KL_PARTIAL_MS + (KL_REF_MS - KL_PARTIAL_MS) * pct / 100))
        kl_kill_job "$KL_PID"
        n=$(/usr/bin/python3 -c "import h5py,sys; print(int(h5py.File(sys.argv[1],'r')['/progress/done'][()].sum()))" \
            "$d/r.h5.partial" 2>/dev/null)
        [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -lt 300 ] && { killed=$n; break; }
        echo "  $from writer, kill at $pct% of the marking: ${n:-no file} done"
    done
    [ -n "$killed" ] || { die "$from: no kill left a partly done file"; continue; }
    sed -i "s/^writer: $from/writer: $to/" "$d/job.yaml"
    mpirun -n 2 "$TOKATTR_BIN" run "$d/job.yaml" --resume --allow-job-edit --shared "$TOKATTR_SHARED" \
        --quiet > "$d/resume.log" 2>&1 || { die "$from -> $to: resume failed"; cat "$d/resume.log"; continue; }
    grep -q "records the edited job" "$d/resume.log" || die "$from -> $to: the edit is not recorded"
    /usr/bin/python3 "$TOKATTR_SOURCE/tests/support/h5_same.py" "$KL_REF" "$d/r.h5" ||
        die "$from -> $to: killed at $killed/300 done, resumed with the other writer: differs"
    echo "killed ($from writer) at $killed/300 done, resumed with the $to writer: identical"
done
set -e

# a bad value is refused with the key named
job "$work/bad" "writer: everyone"
run 1 "$work/bad" && die "writer: everyone accepted"
grep -q "key 'writer': unknown value 'everyone' (expected one of ranks, root)" "$work/bad/log1" ||
    { die "bad writer: message"; cat "$work/bad/log1"; }
[ $fail = 0 ] && echo "ok: both writers, 1-3 ranks, bitwise identical; node-local path refused"
exit $fail
