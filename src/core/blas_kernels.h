/* OpenBLAS picks its kernels from the CPU model when the library loads; a
 * model its table does not know (seen: a virtualised "Intel Xeon
 * Processor" with AVX-512) gets the SSE3 "Prescott" kernels, 4-8x slower
 * for every GEMM outside the IG fast paths. OPENBLAS_CORETYPE overrides
 * the choice, but only before the library is loaded, so the fix is to set
 * it and start the program again. */
#ifndef TOKATTR_CORE_BLAS_KERNELS_H
#define TOKATTR_CORE_BLAS_KERNELS_H

/* When OPENBLAS_CORETYPE is unset and OpenBLAS chose its generic kernels on
 * a CPU with AVX-512 (SkylakeX) or AVX2 + FMA (Haswell), sets the variable
 * and re-executes /proc/self/exe with argv (before MPI or any file is
 * opened). Returns only when nothing is to be done or the exec failed;
 * the variable set by hand, or to anything, is left alone. */
void tk_blas_kernels_fix(char **argv);

#endif
