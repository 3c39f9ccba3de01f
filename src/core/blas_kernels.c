#define _POSIX_C_SOURCE 200809L /* setenv, execv */
#include "core/blas_kernels.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *better_core(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return "Haswell";
#endif
    return NULL;
}

void tk_blas_kernels_fix(char **argv)
{
    if (getenv("OPENBLAS_CORETYPE") != NULL)
        return;
    const char *core = openblas_get_corename();
    /* the generic x86-64 choices of a DYNAMIC_ARCH build */
    if (core == NULL || (strcasecmp(core, "prescott") != 0 && strcasecmp(core, "core2") != 0 &&
                         strcasecmp(core, "nehalem") != 0 && strcasecmp(core, "katmai") != 0))
        return;
    const char *better = better_core();
    if (better == NULL || setenv("OPENBLAS_CORETYPE", better, 1) != 0)
        return;
    execv("/proc/self/exe", argv);
    /* exec failed: go on with the kernels we have (and the variable set, so
     * children do better) */
}
