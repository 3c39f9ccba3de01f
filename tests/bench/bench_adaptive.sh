#!/bin/bash
# Benchmark of IG rule adaptive (not a test): for one Keras IMDB model on the
# prepared test split, with `tokattr run` on 2 ranks,
#  1. the share of reviews meeting the tolerance, over N_SHARE reviews;
#  2. the per-token error of adaptive and of IG-50 GL against IG with
#     REF_STEPS GL steps on N_REF reviews (and the reference's own error
#     against REF_STEPS / 2, which bounds what the comparison can show);
#  3. the rate of adaptive and of IG-50 GL, measured side by side on the
#     same N_RATE reviews, alternating twice (the machine is shared).
# Reviews are taken evenly over the split (every split_size / N-th).
#
#   tests/bench/bench_adaptive.sh MODEL DATASET [TOLERANCE]
#   N_SHARE=25000 N_REF=200 N_RATE=1000 REF_STEPS=2000 MAX_STEPS=2000 TOKENIZER=keras-imdb
#   TOKATTR_BIN=build/tokattr TOKATTR_SHARED=../shared
#
# MODEL is e.g. ../shared/models/keras_imdb_cnn.h5, DATASET a `tokattr
# prepare` output (Keras' ids, the default). Prints `uptime` first and last.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${TOKATTR_BIN:-$here/build/tokattr}
model=$(readlink -f "$1")
data=$(readlink -f "$2")
tol=${3:-1e-4}
n_share=${N_SHARE:-25000}
n_ref=${N_REF:-200}
n_rate=${N_RATE:-1000}
ref_steps=${REF_STEPS:-2000}
max_steps=${MAX_STEPS:-2000}
tokenizer=${TOKENIZER:-keras-imdb} # what keras_imdb_*.h5 were trained with
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
shared=()
[ -n "${TOKATTR_SHARED:-}" ] && shared=(--shared "$TOKATTR_SHARED")
work=$(mktemp -d "${TMPDIR:-/tmp}/bench_adaptive.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "load before: $(uptime)"

ids() { # N evenly spaced test reviews as a YAML list
    /usr/bin/python3 -c "import sys; n=int(sys.argv[1]); print('[' + ', '.join(str(i * 25000 // n) for i in range(n)) + ']')" "$1"
}
job() { # name ids methods... -> job file
    local name=$1 sel=$2
    shift 2
    {
        echo "model: $model"
        echo "dataset: $data"
        echo "tokenizer: $tokenizer"
        echo "split: test"
        echo "select: {ids: $sel}"
        echo "methods:"
        for m in "$@"; do echo "  - $m"; done
        echo "results: $work/$name.h5"
        echo "chunk_size: 8"
    } > "$work/$name.yaml"
}
run() { # name -> log; prints reviews/s
    mpirun -n 2 "$bin" run "$work/$1.yaml" "${shared[@]}" --force --quiet > "$work/$1.log" 2>&1 ||
        { cat "$work/$1.log" >&2; exit 1; }
    sed -n 's/.* \([0-9.]*\) reviews\/s.*/\1/p' "$work/$1.log" | head -1
}
ada="{name: adaptive, method: integrated_gradients, rule: adaptive, tolerance: $tol, max_steps: $max_steps}"
ig50="{name: ig50, method: integrated_gradients, n_steps: 50}"

# 1. share meeting the tolerance
job share "$(ids "$n_share")" "$ada"
rate=$(run share)
echo "share: $n_share reviews, tolerance $tol, max_steps $max_steps, $rate reviews/s on 2 ranks"
grep -E "adaptive: |did not meet" "$work/share.log" || true
/usr/bin/python3 - "$work/share.h5" "$tol" <<'PY'
import sys, h5py, numpy as np
g = h5py.File(sys.argv[1], "r")["/attributions/adaptive"]
st, est = g["steps"][...], g["error_estimate"][...]
tol = float(sys.argv[2])
ok = est <= tol
print(f"  within tolerance: {ok.sum()} of {len(est)} = {100 * ok.mean():.3f}%; "
      f"evaluations mean {st.mean():.1f}, median {np.median(st):.0f}, p99 {np.percentile(st, 99):.0f}, max {st.max()}")
PY

# 2. per-token error against the GL reference
job ref "$(ids "$n_ref")" "$ada" "$ig50" "{name: ref, method: integrated_gradients, n_steps: $ref_steps}" \
    "{name: half, method: integrated_gradients, n_steps: $((ref_steps / 2))}"
run ref > /dev/null
/usr/bin/python3 - "$work/ref.h5" "$ref_steps" <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
A = f["/attributions"]
off = f["/reviews/token_offset"][...]
ref = A["ref"]["score"][...]
df = np.abs(A["ref"]["f_input"][...] - A["ref"]["f_baseline"][...])
scale = np.maximum(df, 1e-3)
print(f"per-token error against IG-{sys.argv[2]} GL on {len(df)} reviews "
      "(absolute; relative = max over a review's tokens / max(|F(x)-F(x')|, 1e-3)):")
for name in ("adaptive", "ig50", "half"):
    s = A[name]["score"][...]
    err = np.abs(s.astype(np.float64) - ref)
    rel = np.array([err[off[i]:off[i + 1]].max() if off[i + 1] > off[i] else 0 for i in range(len(df))]) / scale
    print(f"  {name:9s} token |err| mean {err.mean():.3g}, max {err.max():.3g}; "
          f"per review rel max: median {np.median(rel):.3g}, p99 {np.percentile(rel, 99):.3g}, worst {rel.max():.3g}")
est = A["adaptive"]["error_estimate"][...]
print(f"  adaptive estimate: median {np.median(est):.3g}, worst {est.max():.3g}; "
      f"completeness |delta|/scale worst: adaptive {np.max(np.abs(A['adaptive']['axiom_error'][...]) / scale):.3g}, "
      f"ig50 {np.max(np.abs(A['ig50']['axiom_error'][...]) / scale):.3g}, ref {np.max(np.abs(A['ref']['axiom_error'][...]) / scale):.3g}")
PY

# 3. rate side by side, alternating
job ra "$(ids "$n_rate")" "$ada"
job rg "$(ids "$n_rate")" "$ig50"
for i in 1 2; do
    a=$(run ra)
    b=$(run rg)
    echo "rate round $i on $n_rate reviews, 2 ranks: adaptive $a reviews/s, IG-50 GL $b reviews/s, ratio $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')"
done
echo "load after: $(uptime)"
