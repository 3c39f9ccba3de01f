/* Sliding-window geometry of Conv1D and the pooling layers, with Keras'
 * (TensorFlow's) rules, written once for the model, the attribution rules
 * and the fast paths:
 *  - "valid": out = floor((n - span) / stride) + 1 (0 when n < span),
 *    where span = dilation * (size - 1) + 1;
 *  - "same": out = ceil(n / stride); the total padding
 *    max((out - 1) * stride + span - n, 0) is split with the odd one on the
 *    right (pad_left = total / 2).
 * Tap k of output t reads input position t * stride + k * dilation - pad_left,
 * which is padding (zero for Conv1D, skipped by pooling) outside [0, n). */
#ifndef TOKATTR_MODEL_WINDOW_H
#define TOKATTR_MODEL_WINDOW_H

#include <stdbool.h>

#include "model/model.h"

typedef struct tk_window {
    int size;     /* taps */
    int stride;   /* >= 1 */
    int dilation; /* >= 1 */
    bool same;    /* "same" padding, else "valid" */
} tk_window;

/* The window of a Conv1D layer and of a (Max|Average)Pooling1D layer. */
static inline tk_window tk_window_conv(const tk_layer *l)
{
    return (tk_window){l->kernel_size, l->strides < 1 ? 1 : l->strides,
                       l->dilation < 1 ? 1 : l->dilation, l->padding_same};
}

static inline tk_window tk_window_pool(const tk_layer *l)
{
    return (tk_window){l->pool_size, l->pool_strides < 1 ? 1 : l->pool_strides, 1,
                       l->pool_padding_same};
}

static inline int tk_window_span(tk_window w)
{
    return w.dilation * (w.size - 1) + 1;
}

/* Output positions over n input positions (0: the input is too short). */
static inline int tk_window_out(tk_window w, int n)
{
    if (w.same)
        return (n + w.stride - 1) / w.stride;
    int span = tk_window_span(w);
    return n < span ? 0 : (n - span) / w.stride + 1;
}

/* Zeros in front of the input ("same" only). */
static inline int tk_window_pad_left(tk_window w, int n)
{
    if (!w.same)
        return 0;
    int total = (tk_window_out(w, n) - 1) * w.stride + tk_window_span(w) - n;
    return total > 0 ? total / 2 : 0;
}

/* Input position of tap k of output t; outside [0, n) it is padding. */
static inline int tk_window_pos(tk_window w, int n, int t, int k)
{
    return t * w.stride + k * w.dilation - tk_window_pad_left(w, n);
}

/* Output t's valid input positions [*lo, *hi) for a window without
 * dilation (pooling), clipped to [0, n); *hi - *lo is the count pooling
 * averages over (TensorFlow excludes the padding). */
static inline void tk_window_range(tk_window w, int n, int t, int *lo, int *hi)
{
    int first = t * w.stride - tk_window_pad_left(w, n), last = first + w.size;
    *lo = first < 0 ? 0 : first;
    *hi = last > n ? n : last;
}

/* The taps of output t that read real input: [*first_tap, *last_tap];
 * returns their number (less than size at the borders of "same"). */
static inline int tk_window_taps(tk_window w, int n, int t, int *first_tap, int *last_tap)
{
    int first = w.size, last = -1;
    for (int k = 0; k < w.size; k++) {
        int p = tk_window_pos(w, n, t, k);
        if (p >= 0 && p < n) {
            if (k < first)
                first = k;
            last = k;
        }
    }
    if (first_tap)
        *first_tap = first;
    if (last_tap)
        *last_tap = last;
    return last >= first ? last - first + 1 : 0;
}

#endif
