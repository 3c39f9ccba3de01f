#!/bin/sh
# tokattr against the PyTorch (Captum-style) reference, side by side in one
# invocation, on every OpenBLAS kernel family the CPU has: for each method
# and model, reviews/s, the share of the minimal-FLOP limit and of the
# sgemm peak measured in the same run, and the ratio against PyTorch run
# right after it with the same kernels and one thread.
#
#   TOKATTR_SHARED=../shared tests/bench/bench_compare.sh [BUILD_DIR] [SECONDS]
#
# BUILD_DIR (default build) holds bench_attr and bench_attr2; SECONDS
# (default 3) is roughly how long each tokattr figure is measured. The
# PyTorch reference needs Debian's python3-torch and python3-h5py
# (python3-numpy); without them the ratios are "n/a". PYTHON names the
# interpreter (default: the first of python3, /usr/bin/python3 that
# imports torch). DATASET (a `tokattr prepare` file made with the model's
# tokenizer, tokattr-imdb for the seed models) feeds the LSTM's IG its
# first test reviews instead of random full-length ones: the LSTM path
# skips their leading padding (PyTorch's time does not depend on it).
# Never a test: the figures depend on the machine's load, which is printed
# (uptime) before each family.
set -eu
B=${1:-build}
SECONDS_EACH=${2:-3}
for exe in bench_attr bench_attr2; do
    if [ ! -x "$B/$exe" ]; then
        echo "bench_compare: $B/$exe not found (build first: cmake --build $B)" >&2
        exit 2
    fi
done
HERE=$(dirname "$0")
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
PY=
for p in ${PYTHON:-} python3 /usr/bin/python3; do
    if [ -n "$p" ] && "$p" -c 'import torch, h5py, numpy' >/dev/null 2>&1; then
        PY=$p
        break
    fi
done
[ -n "$PY" ] || echo "bench_compare: no python3 with torch and h5py (Debian python3-torch python3-h5py): ratios n/a"

FAMILIES=default
grep -q ' avx2 ' /proc/cpuinfo 2>/dev/null && FAMILIES="$FAMILIES Haswell"
grep -q ' avx512f ' /proc/cpuinfo 2>/dev/null && FAMILIES="$FAMILIES SkylakeX"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
for fam in $FAMILIES; do
    if [ "$fam" = default ]; then unset OPENBLAS_CORETYPE; else export OPENBLAS_CORETYPE=$fam; fi
    echo
    echo "== OpenBLAS kernels: $fam  (load: $(uptime | sed 's/.*load average: //'))"
    # IG-50 GL: about SECONDS_EACH seconds each at today's rates.
    "$B/bench_attr" --model cnn --method integrated_gradients --reviews $((SECONDS_EACH * 300)) > "$TMP/ig_cnn"
    "$B/bench_attr" --model lstm --method integrated_gradients --reviews $((SECONDS_EACH * 15)) \
        ${DATASET:+--dataset "$DATASET"} > "$TMP/ig_lstm"
    "$B/bench_attr2" --seconds "$SECONDS_EACH" > "$TMP/attr2"
    if [ -n "$PY" ]; then
        "$PY" "$HERE/torch_reference.py" --reviews $((SECONDS_EACH * 4)) > "$TMP/torch" 2>&1 || true
    else
        : > "$TMP/torch"
    fi
    echo "(load after: $(uptime | sed 's/.*load average: //'))"
    printf '%-24s %-6s %12s %10s %10s %12s %8s %s\n' method model "reviews/s" "% minimal" "% sgemm" "PyTorch r/s" ratio \
        "% minimal without the leading padding (LSTM)"
    for m in cnn lstm; do
        awk -v m="$m" -v torch="$TMP/torch" '
            BEGIN { t = "n/a"
                    while ((getline l < torch) > 0) {
                        split(l, f, " ")
                        if (f[1] == "torch" && f[2] == m) t = f[5] } }
            /^single-thread sgemm/ { peak = $4 }
            $2 == "integrated_gradients" {
                rate = $3; pk = $0; sub(/% of sgemm peak.*/, "", pk); n = split(pk, a, " "); pk = a[n]
                mn = "-"; if (match($0, /: [0-9.]+% of the limit/)) { mn = substr($0, RSTART + 2, RLENGTH - 16) }
                np = ""; if (match($0, /padding [0-9.]+ MFLOP\/review: [0-9.]+% of the limit/)) {
                    np = substr($0, RSTART, RLENGTH - 13); sub(/.*: /, "", np) }
                r = t == "n/a" ? "n/a" : sprintf("%.1fx", rate / t)
                printf "%-24s %-6s %12.2f %10s %10s %12s %8s %s\n", "IG-50 GL", m, rate, mn, pk, t, r, np }
        ' "$TMP/ig_$m"
    done
    # bench_attr2 counts the minimal work itself: its share of the peak is
    # the share of the minimal-FLOP limit. No PyTorch reference for these
    # (Captum has no Conv1d/LSTM LRP rules; DeepSHAP's is not in torch_reference.py).
    awk '/reviews\/s/ {
            rate = $3; if ($3 ~ /^\(/) rate = $4
            pk = $0; sub(/% of sgemm peak.*/, "", pk); n = split(pk, a, " "); pk = a[n]
            printf "%-24s %-6s %12.2f %10s %10s %12s %8s\n", $1, $2, rate, pk, pk, "n/a", "n/a" }
    ' "$TMP/attr2"
    grep -i 'sgemm' "$TMP/ig_cnn" | sed 's/^/sgemm peak (bench_attr): /'
done
