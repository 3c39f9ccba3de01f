/* Compiling a hot loop once per x86-64 ISA level (AVX-512, AVX2 + FMA, the
 * baseline) and letting the loader pick the widest the CPU has. The build
 * is ISO C11 (-ffp-contract=off), so every copy rounds the same way for
 * element-wise work; one machine always runs the same copy anyway, so
 * results stay bitwise identical across its ranks. */
#ifndef TOKATTR_CORE_ISA_H
#define TOKATTR_CORE_ISA_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TK_ISA_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TK_ISA_CLONES
#endif
/* Helpers called from a cloned function must be inlined into each copy, or
 * GCC may outline them once, for the baseline ISA only. */
#define TK_ALWAYS_INLINE __attribute__((always_inline))

#endif
