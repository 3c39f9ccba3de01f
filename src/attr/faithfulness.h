/* Faithfulness of per-token scores (METHODS.md, "Faithfulness"): does
 * removing the tokens a method ranks highest change the model's output
 * more than removing tokens in a random order?
 *
 * For one review x with per-position scores s and the explained scalar F:
 * - deletion curve: c[k] = F(x without its k top-scored tokens), k = 0..K
 *   (c[0] = F(x)); AOPC = (1/(K+1)) sum_k (F(x) - c[k]) (Samek et al. 2017).
 * - ERASER (DeYoung et al. 2020), for q in {1, 5, 10, 20, 50}%, with
 *   m = ceil(q * n) top tokens (at least 1) of the n candidate tokens:
 *   comprehensiveness = F(x) - F(x without the m top tokens),
 *   sufficiency = F(x) - F(only the m top tokens kept), each averaged over q.
 * - the same numbers for a random order of the candidates, drawn from a
 *   generator seeded with (seed, review key): the baseline, reproducible and
 *   independent of which reviews ran before or beside.
 * Candidates are the positions holding a word: not padding (pad_id) and
 * not the start marker (id 1), unless the caller passes its own mask.
 * "Removing" replaces the token by pad_id in place (TK_FAITH_PAD, default),
 * or deletes it and pads at the front as DATA.md's "pre" padding does
 * (TK_FAITH_REMOVE). Ties in the scores go to the earlier position.
 *
 * All variants of one review (1 + 2K + 4 * n_q sequences) go to the model
 * in ONE batch through an evaluator callback; tk_faith_model_eval is the
 * one for a tk_model (model.h), and tests can plug in a model whose answer
 * is known.
 *
 * Wiring a `faithfulness:` job step (pipeline): per review and method, call
 * tk_faith_review with the stored /attributions/<m>/score mapped back to
 * the model-input positions, and store
 *   /faithfulness/<m>/curve [N, K+1], random_curve [N, K+1], aopc [N],
 *   comprehensiveness [N], sufficiency [N]
 * (float32). `tokattr report` reads exactly these. */
#ifndef TOKATTR_ATTR_FAITHFULNESS_H
#define TOKATTR_ATTR_FAITHFULNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "attr/attr.h"
#include "core/status.h"
#include "model/model.h"

#define TK_FAITH_MAX_Q 8

typedef enum tk_faith_mode { TK_FAITH_PAD, TK_FAITH_REMOVE } tk_faith_mode;

typedef struct tk_faith_params {
    int k_max;               /* K: deletion curve points 0..K (default 10) */
    tk_faith_mode mode;      /* default TK_FAITH_PAD */
    int32_t pad_id;          /* default 0 */
    uint64_t seed;           /* random baseline (default 1) */
    double q[TK_FAITH_MAX_Q];/* fractions for ERASER (default .01 .05 .10 .20 .50) */
    int n_q;
} tk_faith_params;

void tk_faith_params_default(tk_faith_params *p);

/* F for a batch of id sequences: ids (batch, steps) row-major -> f (batch).
 * Row b's value must depend only on row b. */
typedef tk_status (*tk_faith_eval_fn)(void *ctx, const int32_t *ids, int batch, int steps, double *f,
                                      tk_error *err);

/* Per review results. curve and random_curve are (K+1), owned by the caller
 * (either may be NULL when not wanted). */
typedef struct tk_faith_result {
    float *curve;                   /* (K+1) */
    float *random_curve;            /* (K+1) */
    double f_input;                 /* F(x) */
    double aopc, random_aopc;
    double comprehensiveness, sufficiency;
    double random_comprehensiveness, random_sufficiency;
    int n_candidates;               /* positions that could be removed */
} tk_faith_result;

typedef struct tk_faith_workspace tk_faith_workspace;

/* Scratch for reviews of up to max_steps positions. */
tk_faith_workspace *tk_faith_workspace_create(const tk_faith_params *p, int max_steps, tk_error *err);
void tk_faith_workspace_destroy(tk_faith_workspace *ws);

/* Variants in the one batch for these parameters: 1 + 2K + 4 n_q. */
int tk_faith_batch_size(const tk_faith_params *p);

/* One review: ids (steps), score (steps) per position, candidate (steps)
 * 1 = may be removed, or NULL for the rule above. review_key seeds the
 * random order together with p->seed (e.g. the review's index or id). */
tk_status tk_faith_review(tk_faith_workspace *ws, const tk_faith_params *p, tk_faith_eval_fn eval,
                          void *eval_ctx, const int32_t *ids, const float *score,
                          const uint8_t *candidate, int steps, uint64_t review_key,
                          tk_faith_result *out, tk_error *err);

/* An evaluator over a tk_model: F = tk_explained_scalar(output, target) of
 * the logits, with the target fixed for the review (set `target` before
 * each review: the class explained at x, so every variant is scored for
 * the same class). Create once per worker; batches up to max_batch. */
typedef struct tk_faith_model_ctx tk_faith_model_ctx;

tk_faith_model_ctx *tk_faith_model_ctx_create(const tk_model *model, tk_output_kind output,
                                              int max_batch, int max_steps, tk_error *err);
void tk_faith_model_ctx_destroy(tk_faith_model_ctx *ctx);
void tk_faith_model_set_target(tk_faith_model_ctx *ctx, int target);
tk_status tk_faith_model_eval(void *ctx, const int32_t *ids, int batch, int steps, double *f,
                              tk_error *err);

#endif
