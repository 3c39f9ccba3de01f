#!/usr/bin/env bash
# The main job on its default data. Step 1 (this script so far): build tokattr
# in build/ (Release) if needed, then turn the IMDB reviews into work/dataset.h5
# (token ids, labels, vocabulary; DATA.md) and print the summary.
# The data come from $TOKATTR_DATA, else <shared>/data/aclImdb_v1.tar.gz
# (shared = $TOKATTR_SHARED, else ../shared), else the official download.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x build/tokattr ] || [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build -j "$(nproc)" >/dev/null

mkdir -p work
shared_args=()
if [ -n "${TOKATTR_SHARED:-}" ]; then
  shared_args=(--shared "$TOKATTR_SHARED")
fi
echo "== prepare: IMDB reviews -> work/dataset.h5"
build/tokattr prepare "${shared_args[@]}" --out work/dataset.h5
