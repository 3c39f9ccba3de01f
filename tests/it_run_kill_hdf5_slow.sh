#!/bin/bash
# it_run_kill_hdf5 with 20 random kills inside HDF5 calls and 20 random
# truncations; several minutes, so outside the default suite.
# labels: mpi slow
export TOKATTR_GDB_KILLS=${TOKATTR_GDB_KILLS:-20} TOKATTR_TRUNCATIONS=${TOKATTR_TRUNCATIONS:-20}
exec bash "$TOKATTR_SOURCE/tests/it_run_kill_hdf5.sh"
