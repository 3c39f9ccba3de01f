/* Inside src/attr: the DeepLIFT/DeepSHAP and epsilon-LRP rules of SimpleRNN,
 * GRU and Bidirectional over each (issue 16; README "Methods"). Called
 * from deeplift.c and lrp.c's per-kind dispatch; the activations come from
 * tk_dl_forward, which runs these layers through the model module
 * (tk_layer_forward_alone) and keeps their state blocks in acts->state. */
#ifndef TOKATTR_ATTR_RULES_RNN_H
#define TOKATTR_ATTR_RULES_RNN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"
#include "model/model.h"

/* SimpleRNN, GRU or Bidirectional over one of them. */
bool tk_rules_rnn_kind(const tk_layer *l);

/* Floats of the DeepLIFT work buffer for nb references of si. */
size_t tk_rules_rnn_deeplift_work(const tk_layer *l, int nb, tk_shape si);

/* DeepLIFT multipliers backwards through the layer: mo (nb, out rows,
 * out channels) -> min (nb, si.steps, si.channels), overwritten. state_x
 * is the review's state block (batch 1), state_r the references' (batch
 * nb), both from tk_dl_forward on si.steps steps. Rescale rule for every
 * activation, Shapley split for the products z h_{t-1}, (1 - z) hh and the
 * reset gate's product. Merge 'mul' is refused at create time. */
void tk_rules_rnn_deeplift(const tk_layer *l, tk_shape si, tk_shape so, int nb,
                           const float *state_x, const float *state_r, const float *mo, float *min,
                           float *work);

/* epsilon-LRP relevance backwards through the layer for one sequence:
 * a (si) the layer's input, ro (out) -> ri (si), overwritten. Adds what
 * biases and eps take to *absorbed and what reaches h_{-1} to *init_state.
 * Merge 'concat' only (refused otherwise at create time). */
tk_status tk_rules_rnn_lrp(const tk_layer *l, tk_shape si, tk_shape so, const float *a,
                           const double *ro, double *ri, double eps, double bias_factor,
                           double *absorbed, double *init_state, tk_error *err);

/* Multiply-adds of one forward pass (x and h projections of every gate). */
double tk_rules_rnn_macs(const tk_layer *l, tk_shape si);

#endif
