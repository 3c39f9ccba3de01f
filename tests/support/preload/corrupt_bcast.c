/* A test double for a faulty network, loaded with LD_PRELOAD into the
 * ranks of a test run (tests/it_run_nodes.sh), so that the product has no
 * test hook: through MPI's profiling interface it wraps MPI_Bcast and,
 * on the world rank named by TK_PRELOAD_CORRUPT_RANK, flips one bit of
 * every float broadcast that rank receives (the model weights a node
 * leader gets from rank 0). The run must then refuse the weights. */
#include <mpi.h>
#include <stdlib.h>

int MPI_Bcast(void *buffer, int count, MPI_Datatype datatype, int root, MPI_Comm comm)
{
    int rc = PMPI_Bcast(buffer, count, datatype, root, comm);
    const char *target = getenv("TK_PRELOAD_CORRUPT_RANK");
    if (rc != MPI_SUCCESS || target == NULL || datatype != MPI_FLOAT || count <= 0)
        return rc;
    int world_rank = -1, comm_rank = -1;
    PMPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    PMPI_Comm_rank(comm, &comm_rank);
    if (world_rank == atoi(target) && comm_rank != root)
        ((unsigned char *)buffer)[0] ^= 1;
    return rc;
}
