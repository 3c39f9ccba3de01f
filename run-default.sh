#!/usr/bin/env bash
# The main job on its default data. Step 1: build tokattr
# in build/ (Release) if needed, then turn the IMDB reviews into out/dataset.h5
# (token ids, labels, vocabulary; DATA.md) and print the summary.
# The data come from $TOKATTR_DATA, else <shared>/data/aclImdb_v1.tar.gz
# (shared = $TOKATTR_SHARED, else ../shared), else the official download.
set -euo pipefail
cd "$(dirname "$0")"

# Debian's OpenBLAS 0.3.21 does not recognise some recent AVX-512 CPUs and
# falls back to its AVX2 kernels, at half the speed. It reads this variable
# when it loads, so it is set here, before tokattr starts; a value the user
# set wins. (Bitwise identity holds between runs with the same kernels.)
if [ -z "${OPENBLAS_CORETYPE:-}" ] &&
   grep -q -w avx512f /proc/cpuinfo && grep -q -w avx512bw /proc/cpuinfo &&
   grep -q -w avx512vl /proc/cpuinfo && grep -q -w avx512dq /proc/cpuinfo; then
  export OPENBLAS_CORETYPE=SkylakeX
fi

if [ ! -x build/tokattr ] || [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build -j "$(nproc)" >/dev/null

mkdir -p out
shared_args=()
if [ -n "${TOKATTR_SHARED:-}" ]; then
  shared_args=(--shared "$TOKATTR_SHARED")
fi
echo "== prepare: IMDB reviews -> out/dataset.h5"
build/tokattr prepare "${shared_args[@]}" --out out/dataset.h5

# Step 2: the model. The shared CNN when it is there, else train it.
shared_dir=${TOKATTR_SHARED:-../shared}
job=jobs/ig_cnn_test.yaml
if [ ! -f "$shared_dir/models/keras_imdb_cnn.h5" ]; then
  echo "== train: no $shared_dir/models/keras_imdb_cnn.h5, training the CNN (configs/cnn_imdb.yaml)"
  build/tokattr train configs/cnn_imdb.yaml --dataset out/dataset.h5 --output out/imdb_cnn.h5
  # the same job over the model just trained (paths in a job are relative to it)
  sed 's|^model: .*|model: imdb_cnn.h5|; s|^tokenizer: .*|tokenizer: dataset|' "$job" > out/ig_cnn_test.yaml
  sed -i 's|\.\./out/|./|g' out/ig_cnn_test.yaml
  job=out/ig_cnn_test.yaml
fi

# Step 3: Integrated Gradients for all 25,000 test reviews on every core.
ranks=$(nproc)
mpi_args=(-n "$ranks")
if [ "$(id -u)" = 0 ]; then
  mpi_args+=(--allow-run-as-root)
fi
results=$(sed -n 's|^results: *\([^ ]*\).*|\1|p' "$job")
echo "== run: $job on $ranks ranks"
mode=(--force)
if [ -f "$(dirname "$job")/$results.partial" ]; then
  mode=(--resume) # an earlier run of this script was interrupted: continue it
fi
mpirun "${mpi_args[@]}" build/tokattr run "$job" "${shared_args[@]}" "${mode[@]}"

# Step 4: the HTML report of the run.
results_path="$(dirname "$job")/$results"
echo "== report: $results_path -> out/report/index.html"
build/tokattr report "$results_path" --out out/report
echo "results: $(realpath "$results_path")"
echo "report:  $(realpath out/report/index.html)"
