/* Inside src/attr: the attribution rules of every layer kind, in one table
 * parallel to the model's (src/model/layer_ops.h), so that DeepLIFT,
 * DeepSHAP, epsilon-LRP and the FLOP counts walk the layers without
 * switching on the kind. One rules file per layer family (rules_dense.c,
 * rules_conv.c, rules_pool.c, rules_lstm.c, rules_identity.c) defines its
 * tk_attr_rules; rules.c indexes them by tk_layer_kind. A new layer is one
 * model file plus one rules file (README.md).
 *
 * The rules read the activations of the model's own forward pass
 * (deeplift_net.h: tk_dl_side, from a workspace that keeps
 * pre-activations); the maths of each rule is in ../shared/docs/METHODS.md. */
#ifndef TOKATTR_ATTR_RULES_H
#define TOKATTR_ATTR_RULES_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attr/deeplift_net.h"
#include "core/status.h"
#include "model/activation.h"
#include "model/model.h"

/* One cell (reference b, position t, channel c) of a (references, steps,
 * channels) multiplier buffer. The three coordinates are kept, not the flat
 * index: a layer behind global max pooling visits 2 cells per (reference,
 * filter), and recovering them from a flat index took three 64-bit
 * divisions per cell, more time than the multiply-adds it then did. */
typedef struct tk_dl_cell {
    int32_t b, t, c;
    int32_t ref; /* its index in the references' own cells (dl_ref_cells), or -1 */
} tk_dl_cell;

/* The cells of a (references, size) multiplier buffer that may be nonzero,
 * with their values, so that the layers behind global max pooling touch
 * only those. While valid the multipliers ARE the list (val), and the
 * buffer holds nothing defined: global max pooling lets 2 cells per
 * (reference, filter) through, and clearing and reading 100 references x
 * 100 positions x 250 filters a review, one cell a cache line, cost more
 * than the sparse pass itself. A rule that takes the list says so
 * (dl_sparse_in); for any other the driver writes the list into a cleared
 * buffer first. */
typedef struct tk_dl_sparse {
    tk_dl_cell *cell; /* (n) */
    float *val;       /* (n) */
    size_t n;
    bool valid;       /* false: the buffer holds every multiplier */
    /* Room for a rule to visit the list by reference (tk_dl_sparse_by_row):
     * order (capacity), row_start (references + 1). */
    size_t *order;
    size_t *row_start;
} tk_dl_sparse;

/* Lists the cells of nz reference by reference, each reference's in the
 * list's order (a stable counting sort): the cells of reference b are
 * order[row_start[b]] .. order[row_start[b + 1] - 1]. */
static inline void tk_dl_sparse_by_row(tk_dl_sparse *nz, int nb)
{
    size_t *start = nz->row_start;
    for (int b = 0; b <= nb; b++)
        start[b] = 0;
    for (size_t e = 0; e < nz->n; e++)
        start[nz->cell[e].b + 1]++;
    for (int b = 0; b < nb; b++)
        start[b + 1] += start[b];
    /* start[b] is now where reference b's cells begin; it moves on while
     * they are placed, ending where b + 1's begin, so shift it back after */
    for (size_t e = 0; e < nz->n; e++)
        nz->order[start[nz->cell[e].b]++] = e;
    for (int b = nb; b > 0; b--)
        start[b] = start[b - 1];
    start[0] = 0;
}

/* The flat index of a cell in a buffer of rows of `size` = steps x ch. */
static inline size_t tk_dl_cell_index(tk_dl_cell e, size_t size, int ch)
{
    return (size_t)e.b * size + (size_t)e.t * (size_t)ch + (size_t)e.c;
}

/* DeepLIFT/DeepSHAP: one layer, backwards, for nb references at once.
 * The driver (deeplift.c) has already taken mo through the layer's output
 * activation (rescale, from side.pre) when the layer has one. */
typedef struct tk_dl_layer {
    const tk_layer *layer;
    int nb;              /* references (DeepLIFT 1, DeepSHAP B) */
    tk_shape in, out;    /* per sample */
    tk_dl_side x;        /* the review: 1 row */
    tk_dl_side ref;      /* the references: nb rows */
    float *mo;           /* (nb, out size) multipliers of the layer's output */
    float *mi;           /* (nb, in size) written: multipliers of its input */
    tk_dl_sparse *nz;    /* in: where mo may be nonzero; out: the same for mi */
    void *aux;           /* what dl_prepare made for this layer */
    float *scratch;      /* dl_scratch(...) floats, not kept */
} tk_dl_layer;

/* epsilon-LRP: one layer, backwards, one review. Relevance is double. */
typedef struct tk_lrp_layer {
    const tk_layer *layer;
    tk_shape in, out;
    const float *a;      /* (in size) the layer's input */
    const double *ro;    /* (out size) relevance of the outputs */
    double *ri;          /* (in size) written: relevance of the inputs */
    double eps, bias_factor;
    double *absorbed;    /* += the relevance biases and eps take */
    double *init_state;  /* += the relevance left on initial recurrent states */
    double *scratch;     /* lrp_scratch(...) doubles, not kept */
} tk_lrp_layer;

/* How a global max pooling's one-position-per-channel gradient travels
 * (FLOP counts): blocked by a layer with weights, passed on unchanged by an
 * element-wise layer. */
typedef enum tk_route { TK_ROUTE_BLOCK, TK_ROUTE_PASS, TK_ROUTE_ONE } tk_route;

typedef struct tk_backward_cost {
    bool routed;        /* a global max pooling follows (through element-wise layers) */
    int routed_windows; /* then: windows per filter that carry gradient */
    int lstm_gates;     /* recurrent layers: gate blocks the pass goes through */
} tk_backward_cost;

typedef struct tk_attr_rules {
    /* DeepLIFT/DeepSHAP. dl_backward NULL: the kind has no rule and the
     * method refuses the model. dl_backward returns false when the
     * multipliers pass unchanged (identity on the same layout: no copy). */
    bool (*dl_backward)(tk_dl_layer *c);
    /* Optional: checks and per-layer data (*aux, freed with free()). */
    tk_status (*dl_prepare)(const tk_layer *l, tk_shape in, tk_shape out, int nb, void **aux,
                            tk_error *err);
    /* Optional: after every forward of the references (c->x and mo unset). */
    void (*dl_refs)(tk_dl_layer *c);
    /* Optional, for a rule that lists sparse cells: after dl_refs, the
     * cells of its input that the references alone fix (global max
     * pooling: each reference's arg-max per channel), at most nb x
     * dl_sparse(...) of them, in the order that the `ref` of its listed
     * cells counts; returns how many. The driver reads the layers below at
     * those cells once per background instead of once per review, where
     * they lie a cache line apart. */
    size_t (*dl_ref_cells)(const tk_dl_layer *c, tk_dl_cell *cells);
    /* true: dl_backward takes a sparse mo as the list (tk_dl_sparse);
     * false: the driver makes mo dense before calling it. */
    bool dl_sparse_in;
    /* Optional: scratch floats, and the most sparse cells per reference it lists. */
    size_t (*dl_scratch)(const tk_layer *l, tk_shape in, tk_shape out, int nb);
    size_t (*dl_sparse)(const tk_layer *l, tk_shape in, tk_shape out);

    /* epsilon-LRP. lrp_backward NULL: no rule, the method refuses the model. */
    void (*lrp_backward)(tk_lrp_layer *c);
    tk_status (*lrp_check)(const tk_layer *l, tk_error *err);          /* optional */
    size_t (*lrp_scratch)(const tk_layer *l, tk_shape in, tk_shape out); /* optional, doubles */

    /* Multiply-adds of one DeepLIFT/LRP backward pass of one reference
     * (NULL: none), and how max pooling's routing crosses the kind. */
    double (*backward_macs)(const tk_layer *l, tk_shape in, tk_shape out,
                            const tk_backward_cost *cost);
    tk_route route;
} tk_attr_rules;

/* The rules of a kind; never NULL for a kind of model.h. */
const tk_attr_rules *tk_attr_rules_of(tk_layer_kind kind);

/* Per family (rules_*.c). */
extern const tk_attr_rules tk_rules_none;       /* no rules (Embedding: never in the body) */
extern const tk_attr_rules tk_rules_identity;   /* InputLayer, Flatten, Dropout */
extern const tk_attr_rules tk_rules_activation; /* Activation */
extern const tk_attr_rules tk_rules_dense;
extern const tk_attr_rules tk_rules_conv;
extern const tk_attr_rules tk_rules_max_pool;   /* MaxPooling1D */
extern const tk_attr_rules tk_rules_global_max_pool; /* GlobalMaxPooling1D */
extern const tk_attr_rules tk_rules_avg_pool;   /* AveragePooling1D and GlobalAveragePooling1D */
extern const tk_attr_rules tk_rules_lstm;       /* LSTM and Bidirectional(LSTM) */
extern const tk_attr_rules tk_rules_rnn;        /* SimpleRNN, GRU and Bidirectional over each */
extern const tk_attr_rules tk_rules_batch_norm; /* BatchNormalization */

/* ---- shared pieces of the rules ---- */

static inline size_t tk_rules_size(tk_shape s)
{
    return (size_t)(s.steps > 0 ? s.steps : 1) * (size_t)s.channels;
}

/* DeepLIFT's rescale: m = Δf / Δz from the stored values (so that m Δz = Δy
 * to rounding), or f'((z + z') / 2) when the difference is too small to
 * divide by. */
static inline float tk_dl_rescale(tk_activation act, float zx, float zr, float yx, float yr)
{
    float dz = zx - zr;
    if (fabsf(dz) < 1e-6f)
        return (float)tk_act_grad(act, 0.5 * ((double)zx + zr));
    return (yx - yr) / dz;
}

/* epsilon-LRP: z + eps·s (s = sign(z), sign(0) = +1), and q = R / that (0
 * when it is 0, which only eps = 0 allows: that relevance is then lost and
 * shows in the conservation error). */
static inline double tk_lrp_share_q(double r, double z, double eps)
{
    double den = z + (z >= 0 ? eps : -eps);
    return den != 0.0 ? r / den : 0.0;
}

/* The bias/eps share bias_factor·(b_j + eps·s_j)/N · q_j that every one of
 * the N inputs of unit j receives. */
static inline double tk_lrp_bias_share(const tk_lrp_layer *c, double b, double z, double q, int n)
{
    return c->bias_factor * (b + (z >= 0 ? c->eps : -c->eps)) * q / n;
}

#endif
