#!/bin/bash
# The multi-node guard of slurm/tokattr-slurm.sh (sourced, no Slurm needed):
# tk_slurm_node_local tells node-local paths (tmpfs, /tmp, /var/tmp,
# $TMPDIR, TOKATTR_NODE_LOCAL, through symlinks, not-yet-existing results)
# from others; tk_slurm_check_shared refuses a 2-node job whose dataset or
# results directory is node-local, naming each, and lets 1 node or
# TOKATTR_ALLOW_NODE_LOCAL=1 pass; tk_slurm_main stops with status 2 before
# launching anything; tk_slurm_check_visible (srun on every node) refuses
# when a node does not see the results directory (srun faked here).
set -uo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}" "${TOKATTR_BUILD:?}" "${TOKATTR_SOURCE:?}"
# shellcheck source=slurm/tokattr-slurm.sh
source "$TOKATTR_SOURCE/slurm/tokattr-slurm.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/it_slurm_paths.XXXXXX")
fail=0
bad() { echo "FAIL: $*"; fail=1; }
unset TOKATTR_NODE_LOCAL TOKATTR_ALLOW_NODE_LOCAL SLURM_JOB_ID

# is_local PATH NEEDLE: node-local, and the reason contains NEEDLE
is_local() {
    local why
    why=$(tk_slurm_node_local "$1") || { bad "$1 not seen as node-local"; return; }
    case "$why" in *"$2"*) ;; *) bad "$1: reason '$why' lacks '$2'" ;; esac
}
not_local() {
    local why
    if why=$(tk_slurm_node_local "$1"); then bad "$1 seen as node-local ($why)"; fi
}

# A directory outside those places and not on tmpfs/overlay: the build
# directory when it is (checked here with stat independently), else root's
# home or /etc.
shared_dir=""
for d in "$TOKATTR_BUILD" "$TOKATTR_SOURCE" /root /etc; do
    real=$(readlink -f "$d")
    case "$real/" in /tmp/* | /var/tmp/* | /dev/shm/* | /run/*) continue ;; esac
    case "$(stat -f -c %T "$real")" in tmpfs | ramfs | overlay | overlayfs) continue ;; esac
    shared_dir=$real
    break
done
[ -n "$shared_dir" ] || bad "no directory on a non-local filesystem to test with"
is_local /dev/shm "tmpfs"
is_local /dev/shm/no/such/results.h5 "tmpfs"   # not there yet: its nearest directory counts
# /tmp and /var/tmp: by name whatever their filesystem (a disk here, or tmpfs)
for d in /tmp /var/tmp; do
    case "$(stat -f -c %T "$d")" in tmpfs) why=tmpfs ;; *) why="under $d" ;; esac
    is_local "$d/a/b.h5" "$why"
done
# $TMPDIR and TOKATTR_NODE_LOCAL name more node-local directories (made
# here in a non-local one, so that only they can be the reason)
if [ -n "$shared_dir" ] && [ -w "$shared_dir" ]; then
    loc=$(mktemp -d "$shared_dir/it_slurm_paths_local.XXXXXX")
    mkdir -p "$loc/scratch/job" "$loc/site/local"
    not_local "$loc/scratch/job/r.h5"
    TMPDIR=$loc/scratch is_local "$loc/scratch/job/r.h5" "under $loc/scratch"
    TOKATTR_NODE_LOCAL=/nonexistent:$loc/site is_local "$loc/site/local/data.h5" "under $loc/site"
    rm -rf "$loc"
else
    bad "no writable non-local directory for the TMPDIR checks"
fi
mkdir -p "$work/plain"
ln -s /dev/shm "$work/plain/link"
is_local "$work/plain/link/r.h5" "tmpfs"

[ -n "$shared_dir" ] && not_local "$shared_dir" && not_local "$shared_dir/not/yet/results.h5"

# A 2-node job with its dataset on /dev/shm and results under /tmp.
mkdir -p "$work/job"
cat > "$work/job/local.yaml" <<YAML
model: shared:models/imdb_cnn.h5
dataset: /dev/shm/tokattr-it-dataset.h5
methods:
  - {name: s, method: saliency}
results: /tmp/tokattr-it-nowhere/r.h5
YAML
out=$(tk_slurm_check_shared 2 "$work/job/local.yaml" "$TOKATTR_BIN" --shared "$TOKATTR_SHARED")
rc=$?
[ "$rc" = 2 ] || bad "check_shared: status $rc for node-local paths, expected 2"
echo "$out"
grep -q "error: the dataset /dev/shm/tokattr-it-dataset.h5 is node-local (on a tmpfs filesystem), but this job runs on 2 nodes" <<<"$out" ||
    bad "no message for the dataset"
grep -q "error: the results directory /tmp/tokattr-it-nowhere is node-local (under /tmp)" <<<"$out" ||
    bad "no message for the results directory"
grep -q "the model" <<<"$out" && bad "the shared model was refused"
out=$(tk_slurm_check_shared 1 "$work/job/local.yaml" "$TOKATTR_BIN") || bad "check_shared refused one node: $out"
out=$(TOKATTR_ALLOW_NODE_LOCAL=1 tk_slurm_check_shared 4 "$work/job/local.yaml" "$TOKATTR_BIN") ||
    bad "TOKATTR_ALLOW_NODE_LOCAL=1 did not pass: $out"
# a job file tokattr cannot read is reported, not taken for "all shared"
printf 'model: [\n' > "$work/job/broken.yaml"
out=$(tk_slurm_check_shared 2 "$work/job/broken.yaml" "$TOKATTR_BIN")
[ $? = 2 ] && grep -q "broken.yaml" <<<"$out" || bad "a broken job file passed the check: $out"

# The same job through tk_slurm_main on 2 nodes: refused before launching.
out=$(cd "$work" && SLURM_JOB_NUM_NODES=2 TOKATTR_BIN=$TOKATTR_BIN TOKATTR_LAUNCHER=mpirun \
    tk_slurm_main 1 "$work/job/local.yaml" --shared "$TOKATTR_SHARED" 2>&1)
rc=$?
mkdir -p "$work/fakebin"
[ "$rc" = 2 ] || bad "tk_slurm_main: status $rc for a node-local 2-node job, expected 2"
grep -q "dataset /dev/shm/tokattr-it-dataset.h5 is node-local" <<<"$out" || bad "tk_slurm_main: no message: $out"
grep -q "running:" <<<"$out" && bad "tk_slurm_main launched the node-local job"

# Every node sees the files: srun faked as "run the command here" passes;
# a fake whose second node lacks the results directory's marker refuses.
if [ -n "$shared_dir" ] && [ -w "$shared_dir" ]; then
    res=$(mktemp -d "$shared_dir/it_slurm_paths.XXXXXX")
    cat > "$res/job.yaml" <<YAML
model: shared:models/imdb_cnn.h5
dataset: $TOKATTR_BUILD/it_run_imdb.h5
methods:
  - {name: s, method: saliency}
results: $res/r.h5
YAML
    cat > "$work/fakebin/srun" <<'SH'
#!/bin/bash
while [[ $1 == --* ]]; do shift; done
exec "$@"
SH
    cat > "$work/fakebin/srun-hiding" <<'SH'
#!/bin/bash
# node 1 sees everything; "node 2" runs with the marker hidden
while [[ $1 == --* ]]; do shift; done
"$@"
for a; do case "$a" in *.tokattr-visible-*) mv "$a" "$a.away"; h=$a ;; esac; done
HOSTNAME=n2 "$@"
mv "$h.away" "$h"
SH
    chmod +x "$work/fakebin/srun" "$work/fakebin/srun-hiding"
    out=$(PATH=$work/fakebin:$PATH tk_slurm_check_visible 2 "$res/job.yaml" "$TOKATTR_BIN" \
        --shared "$TOKATTR_SHARED" 2>&1) || bad "check_visible refused files every node sees: $out"
    cp "$work/fakebin/srun-hiding" "$work/fakebin/srun"
    out=$(PATH=$work/fakebin:$PATH tk_slurm_check_visible 2 "$res/job.yaml" "$TOKATTR_BIN" \
        --shared "$TOKATTR_SHARED" 2>&1)
    rc=$?
    echo "$out"
    [ "$rc" = 2 ] || bad "check_visible: status $rc when a node lacks the results directory"
    grep -q "not every node of the job sees its files" <<<"$out" || bad "check_visible: no message"
    grep -q "$res/.tokattr-visible-.* is not there" <<<"$out" || bad "check_visible: the missing file is not named"
    ls -a "$res" | grep -q tokattr-visible && bad "check_visible left its marker behind"
    rm -rf "$res"
else
    bad "no writable non-local directory for the visibility check"
fi

[ $fail = 0 ] && rm -rf "$work" && echo "PASS it_slurm_paths"
exit $fail
