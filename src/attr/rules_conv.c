/* Rules of Conv1D: every (position, filter) unit is a linear map over its
 * window (model/window.h); taps in the padding read zero. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attr/rules.h"
#include "core/gemm.h"
#include "core/isa.h"
#include "model/window.h"

/* Rows of the sparse paths are padded to whole 64-byte lines: a window's
 * rows then start on a line and end on one, so successive windows of
 * nearby positions never half-overlap a store still in flight (the
 * store-forwarding stalls perf showed with 50-float rows) and need no tail. */
static int padded(int ch)
{
    return (ch + 15) / 16 * 16;
}

/* aux: the kernel transposed, (filters, kernel, padded channels), zero in
 * the padding, so that one filter's taps are contiguous for the sparse
 * paths. */
static tk_status conv_dl_prepare(const tk_layer *l, tk_shape in, tk_shape out, int nb, void **aux,
                                 tk_error *err)
{
    (void)out;
    (void)nb;
    int ch = in.channels, chp = padded(ch), kcp = l->kernel_size * chp;
    /* on a 64-byte line, as every filter's block (kcp floats) then is */
    size_t bytes = sizeof(float) * (size_t)kcp * l->filters;
    float *wt = aligned_alloc(64, bytes);
    if (!wt)
        return tk_error_set(err, TK_E_NOMEM, "out of memory allocating %zu bytes", bytes);
    memset(wt, 0, bytes);
    for (int tap = 0; tap < l->kernel_size; tap++)
        for (int c = 0; c < ch; c++)
            for (int f = 0; f < l->filters; f++)
                wt[(size_t)f * kcp + (size_t)tap * chp + c] =
                    l->kernel[((size_t)tap * ch + c) * l->filters + f];
    *aux = wt;
    return TK_OK;
}

/* im2col rows of the multipliers, (nb * out steps, kernel * channels), or
 * one reference's padded rows (in steps, padded channels) and room to
 * align them. */
static size_t conv_dl_scratch(const tk_layer *l, tk_shape in, tk_shape out, int nb)
{
    size_t cols = (size_t)nb * (size_t)out.steps * (size_t)l->kernel_size * (size_t)in.channels;
    size_t rows = (size_t)in.steps * (size_t)padded(in.channels) + 16;
    return cols > rows ? cols : rows;
}

/* One (reference, position, filter) multiplier v through filter f's taps
 * wf (kernel, padded channels) into rows of n floats (stride ld). */
TK_ALWAYS_INLINE static inline void scatter_unit(const tk_layer *l, tk_window w, tk_shape si,
                                                 const float *wf, int wld, float v, int t,
                                                 float *dst_b, int ld, int n)
{
    for (int tap = 0; tap < l->kernel_size; tap++) {
        int p = tk_window_pos(w, si.steps, t, tap);
        if (p < 0 || p >= si.steps)
            continue;
        float *dst = dst_b + (size_t)p * ld;
        const float *src = wf + (size_t)tap * wld;
        for (int c = 0; c < n; c++)
            dst[c] += v * src[c];
    }
}

/* Global max pooling's sparse list (tk_dl_sparse) through the kernel: the
 * bulk of DeepSHAP's counted work on a CNN (2 windows per (reference,
 * filter)), compiled per ISA level. A multiply then an add per element in
 * every copy (no contraction: isa.h), so each ISA gives the same bits.
 * Reference by reference into one reference's padded rows (rows, in L1),
 * copied out to min after: a cell of min only ever receives from its own
 * reference's cells, and those keep the list's order (the padding adds
 * v x 0 to cells never read), so every sum is the one a scatter in list
 * order straight into min makes. */
TK_ISA_CLONES
static void scatter_sparse(const tk_layer *l, tk_window w, tk_shape si, const float *wt,
                           tk_dl_sparse *nz, int nb, float *min, float *rows)
{
    int ch = si.channels, chp = padded(ch), kcp = l->kernel_size * chp;
    size_t isz = (size_t)si.steps * ch;
    float *buf = __builtin_assume_aligned(rows, 64);
    tk_dl_sparse_by_row(nz, nb);
    for (int b = 0; b < nb; b++) {
        memset(buf, 0, sizeof(float) * (size_t)si.steps * chp);
        for (size_t o = nz->row_start[b]; o < nz->row_start[b + 1]; o++) {
            size_t e = nz->order[o];
            float v = nz->val[e];
            if (v == 0.0f)
                continue;
            const float *wf = __builtin_assume_aligned(wt + (size_t)nz->cell[e].c * kcp, 64);
            scatter_unit(l, w, si, wf, chp, v, nz->cell[e].t, buf, chp, chp);
        }
        float *min_b = min + (size_t)b * isz;
        for (int p = 0; p < si.steps; p++)
            memcpy(min_b + (size_t)p * ch, buf + (size_t)p * chp, sizeof(float) * (size_t)ch);
    }
}

/* DeepLIFT: the transpose of the linear map. Only the few cells that carry
 * a multiplier after global max pooling are scattered through the kernel;
 * a sparse map the same per nonzero; a dense map takes the im2col GEMM. */
static bool conv_dl(tk_dl_layer *c)
{
    const tk_layer *l = c->layer;
    tk_shape si = c->in, so = c->out;
    tk_window w = tk_window_conv(l);
    int nb = c->nb, ch = si.channels, kc = l->kernel_size * ch, nf = l->filters;
    int kcp = l->kernel_size * padded(ch);
    const float *wt = c->aux;
    const float *mz = c->mo;
    float *min = c->mi;
    size_t osz = (size_t)so.steps * nf;
    size_t isz = (size_t)si.steps * ch;
    if (c->nz->valid) {
        /* 64-byte aligned rows inside the scratch (malloc aligns to 16) */
        float *rows = c->scratch + ((64 - (uintptr_t)c->scratch % 64) % 64) / sizeof(float);
        scatter_sparse(l, w, si, wt, c->nz, nb, min, rows);
        c->nz->valid = false;
        return true;
    }
    memset(min, 0, sizeof(float) * (size_t)nb * si.steps * ch);
    size_t cells = (size_t)nb * osz, nnz = 0;
    for (size_t i = 0; i < cells; i++)
        nnz += mz[i] != 0.0f;
    if (nnz * 8 < cells) {
        for (int b = 0; b < nb; b++)
            for (int t = 0; t < so.steps; t++) {
                const float *row = mz + ((size_t)b * so.steps + t) * nf;
                for (int f = 0; f < nf; f++)
                    if (row[f] != 0.0f)
                        scatter_unit(l, w, si, wt + (size_t)f * kcp, padded(ch), row[f], t,
                                     min + (size_t)b * isz, ch, ch);
            }
        return true;
    }
    float *cols = c->scratch; /* (nb * out steps, kernel * channels) */
    tk_sgemm(false, true, nb * so.steps, kc, nf, 1.0f, mz, nf, l->kernel, nf, 0.0f, cols, kc);
    for (int b = 0; b < nb; b++)
        for (int t = 0; t < so.steps; t++)
            for (int tap = 0; tap < l->kernel_size; tap++) {
                int p = tk_window_pos(w, si.steps, t, tap);
                if (p < 0 || p >= si.steps)
                    continue;
                const float *src = cols + ((size_t)b * so.steps + t) * kc + (size_t)tap * ch;
                float *dst = min + ((size_t)b * si.steps + p) * ch;
                for (int k = 0; k < ch; k++)
                    dst[k] += src[k];
            }
    return true;
}

/* epsilon-LRP: N = the inputs the window really reads. Units without
 * relevance (all but the arg-max after global max pooling) are skipped. */
static void conv_lrp(tk_lrp_layer *c)
{
    const tk_layer *l = c->layer;
    tk_shape si = c->in, so = c->out;
    tk_window w = tk_window_conv(l);
    int ch = si.channels, nf = l->filters;
    const float *a = c->a;
    memset(c->ri, 0, sizeof(double) * (size_t)si.steps * ch);
    double out_sum = 0, in_sum = 0;
    for (int t = 0; t < so.steps; t++) {
        int first, last;
        int taps = tk_window_taps(w, si.steps, t, &first, &last);
        int n = taps * ch;
        for (int f = 0; f < nf; f++) {
            double rj = c->ro[(size_t)t * nf + f];
            if (rj == 0.0 || n == 0)
                continue;
            double b = l->use_bias && l->bias ? l->bias[f] : 0.0, z = b;
            for (int k = first; k <= last; k++) {
                int p = tk_window_pos(w, si.steps, t, k);
                if (p < 0 || p >= si.steps)
                    continue;
                const float *wk = l->kernel + (size_t)k * ch * nf + f;
                for (int i = 0; i < ch; i++)
                    z += (double)a[(size_t)p * ch + i] * wk[(size_t)i * nf];
            }
            double q = tk_lrp_share_q(rj, z, c->eps), share = tk_lrp_bias_share(c, b, z, q, n);
            out_sum += rj;
            for (int k = first; k <= last; k++) {
                int p = tk_window_pos(w, si.steps, t, k);
                if (p < 0 || p >= si.steps)
                    continue;
                const float *wk = l->kernel + (size_t)k * ch * nf + f;
                for (int i = 0; i < ch; i++) {
                    double v = (double)a[(size_t)p * ch + i] * wk[(size_t)i * nf] * q + share;
                    c->ri[(size_t)p * ch + i] += v;
                    in_sum += v;
                }
            }
        }
    }
    *c->absorbed += out_sum - in_sum;
}

/* Behind global max pooling only the routed windows per filter. */
static double conv_macs(const tk_layer *l, tk_shape in, tk_shape out, const tk_backward_cost *cost)
{
    return (double)(cost->routed ? cost->routed_windows : out.steps) * l->kernel_size *
           in.channels * l->filters;
}

const tk_attr_rules tk_rules_conv = {
    .dl_backward = conv_dl,
    .dl_sparse_in = true,
    .dl_prepare = conv_dl_prepare,
    .dl_scratch = conv_dl_scratch,
    .lrp_backward = conv_lrp,
    .backward_macs = conv_macs,
};
