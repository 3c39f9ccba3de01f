#!/usr/bin/env bash
# Installs the Debian 12 packages tokattr builds and runs with.
# Uses sudo when not already root.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PACKAGES=(build-essential cmake pkg-config
          libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools
          libopenblas-dev libcunit1-dev libcjson-dev libcyaml-dev libyaml-dev
          libarchive-dev libutf8proc-dev libcsv-dev)
PACKAGES+=(clang libclang-rt-14-dev) # the libFuzzer harnesses (tests/fuzz)
# The integration tests read results files with h5py (Debian's python3).
PACKAGES+=(python3-h5py python3-numpy)
# tests/it_run_kill_hdf5.sh kills a rank inside HDF5 calls from gdb (batch mode).
PACKAGES+=(gdb)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
