#include "model/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/progress.h"
#include "model/activation.h"
#include "model/build.h"
#include "model/init.h"

void tk_train_options_default(tk_train_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->epochs = 1;
    opt->batch_size = 32;
    opt->seed = 1;
    tk_optim_config_default(&opt->optim, TK_OPTIM_ADAM);
}

void tk_train_data_destroy(tk_train_data *data)
{
    if (data == NULL)
        return;
    free(data->ids);
    free(data->y);
    free(data);
}

static tk_train_data *data_alloc(int64_t n, int steps, tk_error *err)
{
    tk_train_data *d = tk_calloc(1, sizeof *d, err);
    if (d == NULL)
        return NULL;
    d->n = n;
    d->steps = steps;
    d->ids = tk_malloc((size_t)(n ? n : 1) * (size_t)steps, sizeof *d->ids, err);
    d->y = tk_malloc((size_t)(n ? n : 1), sizeof *d->y, err);
    if (d->ids == NULL || d->y == NULL) {
        tk_train_data_destroy(d);
        return NULL;
    }
    return d;
}

tk_status tk_train_data_from_split(const tk_split *split, const tk_input_spec *spec,
                                   tk_train_target target, tk_train_data **out, tk_error *err)
{
    *out = NULL;
    if (spec->maxlen <= 0)
        return tk_error_set(err, TK_E_INVALID, "training data: maxlen must be positive");
    tk_train_data *d = data_alloc(split->n, spec->maxlen, err);
    if (d == NULL)
        return TK_E_NOMEM;
    for (int64_t i = 0; i < split->n; i++) {
        int64_t a = split->offset[i], b = split->offset[i + 1];
        tk_prepare_input(spec, split->ids + a, b - a, d->ids + i * spec->maxlen, NULL);
        if (target == TK_TRAIN_TARGET_LABEL) {
            d->y[i] = split->label[i] ? 1 : 0;
            continue;
        }
        int r = split->rating[i];
        /* 4 buckets of the 8 ratings IMDB has (5 and 6 never occur). */
        d->y[i] = r <= 2 ? 0 : r <= 4 ? 1 : r <= 8 ? 2 : 3;
        if (r < 1 || r > 10 || r == 5 || r == 6) {
            tk_train_data_destroy(d);
            return tk_error_set(err, TK_E_FORMAT,
                                "training data: review %lld has rating %d, outside the "
                                "buckets 1-2, 3-4, 7-8, 9-10",
                                (long long)i, r);
        }
    }
    *out = d;
    return TK_OK;
}

static void shuffle(int64_t *perm, int64_t n, uint64_t *state)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)tk_rng_below(state, (uint64_t)i + 1);
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

tk_status tk_train_data_hold_out(tk_train_data *data, double fraction, uint64_t seed,
                                 tk_train_data **held, tk_error *err)
{
    *held = NULL;
    int64_t n_held = (int64_t)(fraction * (double)data->n);
    if (!(fraction > 0 && fraction < 1) || n_held < 1 || n_held >= data->n)
        return tk_error_set(err, TK_E_INVALID,
                            "training data: validation fraction %g leaves no rows on one side",
                            fraction);
    int64_t n_keep = data->n - n_held, T = data->steps;
    int64_t *perm = tk_malloc((size_t)data->n, sizeof *perm, err);
    tk_train_data *keep = data_alloc(n_keep, data->steps, err);
    tk_train_data *h = data_alloc(n_held, data->steps, err);
    if (perm == NULL || keep == NULL || h == NULL) {
        free(perm);
        tk_train_data_destroy(keep);
        tk_train_data_destroy(h);
        return TK_E_NOMEM;
    }
    for (int64_t i = 0; i < data->n; i++)
        perm[i] = i;
    uint64_t state = seed ^ 0x6a09e667f3bcc909ULL;
    shuffle(perm, data->n, &state);
    for (int64_t i = 0; i < data->n; i++) {
        tk_train_data *dst = i < n_keep ? keep : h;
        int64_t row = i < n_keep ? i : i - n_keep;
        memcpy(dst->ids + row * T, data->ids + perm[i] * T, sizeof(int32_t) * (size_t)T);
        dst->y[row] = data->y[perm[i]];
    }
    free(perm);
    /* data keeps its identity for the caller: swap in the kept rows. */
    free(data->ids);
    free(data->y);
    *data = *keep;
    free(keep);
    *held = h;
    return TK_OK;
}

/* Loss of one batch, number of correct predictions and, when d_logits is not
 * NULL, d(mean loss)/d logits. logits, d_logits (batch, C). The gradients of
 * cross-entropy through sigmoid / softmax are p - y (Bishop 2006, 4.3.2). */
static double batch_loss(const tk_model *m, int batch, const float *logits, const int32_t *y,
                         float *d_logits, int64_t *correct)
{
    int C = m->n_outputs;
    double total = 0;
    for (int b = 0; b < batch; b++) {
        const float *z = logits + (size_t)b * C;
        if (C == 1) {
            double zz = z[0], t = y[b] ? 1.0 : 0.0;
            /* -[t log p + (1 - t) log(1 - p)], p = sigmoid(z), without overflow */
            total += fmax(zz, 0.0) - t * zz + log1p(exp(-fabs(zz)));
            double p = tk_act_value_d(TK_ACT_SIGMOID, zz);
            *correct += (p > 0.5) == (y[b] == 1);
            if (d_logits)
                d_logits[b] = (float)((p - t) / batch);
            continue;
        }
        double zmax = z[0];
        int arg = 0;
        for (int c = 1; c < C; c++)
            if (z[c] > zmax) {
                zmax = z[c];
                arg = c;
            }
        double sum = 0;
        for (int c = 0; c < C; c++)
            sum += exp(z[c] - zmax);
        total += log(sum) - (z[y[b]] - zmax);
        *correct += arg == y[b];
        if (d_logits)
            for (int c = 0; c < C; c++)
                d_logits[(size_t)b * C + c] =
                    (float)((exp(z[c] - zmax) / sum - (c == y[b] ? 1.0 : 0.0)) / batch);
    }
    return total;
}

static tk_status check_model(const tk_model *m, const tk_train_data *data, tk_error *err)
{
    if (!m->has_embedding)
        return tk_error_set(err, TK_E_UNSUPPORTED, "training: the model needs an Embedding");
    bool binary = m->n_outputs == 1 && m->output_activation == TK_ACT_SIGMOID;
    bool categorical = m->n_outputs > 1 && m->output_activation == TK_ACT_SOFTMAX;
    if (!binary && !categorical)
        return tk_error_set(err, TK_E_UNSUPPORTED,
                            "training: the last layer must be Dense(1, sigmoid) or "
                            "Dense(C > 1, softmax)");
    int classes = binary ? 2 : m->n_outputs;
    for (int64_t i = 0; i < data->n; i++)
        if (data->y[i] < 0 || data->y[i] >= classes)
            return tk_error_set(err, TK_E_INVALID,
                                "training: row %lld has class %d but the model has %d classes",
                                (long long)i, data->y[i], classes);
    return tk_model_check_steps(m, data->steps, err);
}

tk_status tk_train_evaluate(const tk_model *model, const tk_train_data *data, int batch_size,
                            double *loss, double *accuracy, tk_error *err)
{
    tk_status st = check_model(model, data, err);
    if (st != TK_OK)
        return st;
    int B = batch_size > 0 ? batch_size : 256, T = data->steps, D = model->input_dim;
    int C = model->n_outputs;
    tk_workspace *ws = tk_workspace_create(model, B, T, err);
    float *x = tk_malloc((size_t)B * T * D, sizeof *x, err); /* (B, T, D) */
    float *logits = tk_malloc((size_t)B * C, sizeof *logits, err); /* (B, C) */
    if (ws == NULL || x == NULL || logits == NULL) {
        st = err && err->status != TK_OK ? err->status : TK_E_NOMEM;
        goto done;
    }
    double total = 0;
    int64_t correct = 0;
    for (int64_t i = 0; i < data->n; i += B) {
        int nb = (int)(data->n - i < B ? data->n - i : B);
        st = tk_model_embed(model, data->ids + i * T, nb, T, x, err);
        if (st == TK_OK)
            st = tk_model_forward(model, ws, nb, T, x, logits, err);
        if (st != TK_OK)
            goto done;
        total += batch_loss(model, nb, logits, data->y + i, NULL, &correct);
    }
    *loss = data->n ? total / (double)data->n : NAN;
    *accuracy = data->n ? (double)correct / (double)data->n : NAN;
done:
    free(x);
    free(logits);
    tk_workspace_destroy(ws);
    return st;
}

/* Scratch of one training run, sized once for the largest batch. */
typedef struct train_scratch {
    tk_workspace *ws;
    tk_optim *opt;
    int64_t *perm;    /* (n) row order of the epoch */
    int32_t *ids;     /* (B, T) */
    int32_t *y;       /* (B) */
    float *x, *dx;    /* (B, T, D) */
    float *logits;    /* (B, C) */
    float *d_logits;  /* (B, C) */
    float *grad;      /* (n_params), laid out like model->params */
} train_scratch;

static void scratch_free(train_scratch *s)
{
    tk_workspace_destroy(s->ws);
    tk_optim_destroy(s->opt);
    free(s->perm);
    free(s->ids);
    free(s->y);
    free(s->x);
    free(s->dx);
    free(s->logits);
    free(s->d_logits);
    free(s->grad);
}

static tk_status scratch_alloc(train_scratch *s, const tk_model *m, const tk_train_options *opt,
                               int64_t n, int T, tk_error *err)
{
    size_t B = (size_t)opt->batch_size, D = (size_t)m->input_dim, C = (size_t)m->n_outputs;
    memset(s, 0, sizeof *s);
    s->ws = tk_workspace_create(m, opt->batch_size, T, err);
    if (s->ws == NULL)
        return err && err->status != TK_OK ? err->status : TK_E_NOMEM;
    s->opt = tk_optim_create(&opt->optim, m->n_params, err);
    s->perm = tk_malloc((size_t)n, sizeof *s->perm, err);
    s->ids = tk_malloc(B * (size_t)T, sizeof *s->ids, err);
    s->y = tk_malloc(B, sizeof *s->y, err);
    s->x = tk_malloc(B * (size_t)T * D, sizeof *s->x, err);
    s->dx = tk_malloc(B * (size_t)T * D, sizeof *s->dx, err);
    s->logits = tk_malloc(B * C, sizeof *s->logits, err);
    s->d_logits = tk_malloc(B * C, sizeof *s->d_logits, err);
    s->grad = tk_malloc(m->n_params, sizeof *s->grad, err);
    if (!s->opt || !s->perm || !s->ids || !s->y || !s->x || !s->dx || !s->logits ||
        !s->d_logits || !s->grad)
        return TK_E_NOMEM;
    return TK_OK;
}

/* L2 kernel regularisation: adds l2 * sum w^2 to the loss (returned) and
 * 2 l2 w to the gradient, as Keras' regularizers.l2 does. */
static double add_l2(const tk_model *m, const float *kernel_l2, float *grad)
{
    if (kernel_l2 == NULL)
        return 0;
    double penalty = 0;
    for (int i = 0; i < m->n_layers; i++) {
        float l2 = kernel_l2[i];
        size_t off, count;
        tk_layer_kernel_range(m, i, &off, &count);
        if (l2 == 0 || count == 0)
            continue;
        const float *w = m->params + off;
        double sq = 0;
        for (size_t k = 0; k < count; k++) {
            sq += (double)w[k] * w[k];
            grad[off + k] += 2.0f * l2 * w[k];
        }
        penalty += l2 * sq;
    }
    return penalty;
}

/* Loss (summed over the nb rows of s->ids / s->y, L2 excluded) and its
 * gradient w.r.t. every parameter into s->grad (overwritten), for the mean
 * loss over the batch. training: dropout masks from *drop_state. */
static tk_status batch_gradient(const tk_model *m, train_scratch *s, int nb, int T,
                                bool training, uint64_t *drop_state, double *loss,
                                int64_t *correct, tk_error *err)
{
    int D = m->input_dim;
    size_t emb_off = (size_t)(m->layers[0].embeddings - m->params);
    tk_status st = tk_model_embed(m, s->ids, nb, T, s->x, err);
    if (st == TK_OK)
        st = training ? tk_model_forward_train(m, s->ws, nb, T, s->x, s->logits, drop_state, err)
                      : tk_model_forward(m, s->ws, nb, T, s->x, s->logits, err);
    if (st != TK_OK)
        return st;
    *loss = batch_loss(m, nb, s->logits, s->y, s->d_logits, correct);
    memset(s->grad, 0, sizeof(float) * m->n_params);
    st = tk_model_backward(m, s->ws, s->d_logits, s->dx, s->grad, err);
    if (st != TK_OK)
        return st;
    /* The Embedding is a lookup: its gradient is dx added to the rows that
     * were looked up (padding rows included, as Keras does). */
    for (size_t p = 0; p < (size_t)nb * T; p++) {
        float *row = s->grad + emb_off + (size_t)s->ids[p] * D;
        const float *d = s->dx + p * D;
        for (int k = 0; k < D; k++)
            row[k] += d[k];
    }
    return TK_OK;
}

tk_status tk_train_loss_grad(const tk_model *model, const int32_t *ids, const int32_t *y,
                             int n, int steps, const float *kernel_l2, float *grad,
                             double *loss, tk_error *err)
{
    tk_train_options opt;
    tk_train_options_default(&opt);
    opt.batch_size = n;
    train_scratch s;
    tk_status st = scratch_alloc(&s, model, &opt, 1, steps, err);
    if (st == TK_OK) {
        memcpy(s.ids, ids, sizeof(int32_t) * (size_t)n * (size_t)steps);
        memcpy(s.y, y, sizeof(int32_t) * (size_t)n);
        int64_t correct = 0;
        double total = 0;
        st = batch_gradient(model, &s, n, steps, false, NULL, &total, &correct, err);
        if (st == TK_OK) {
            *loss = total / n + add_l2(model, kernel_l2, s.grad);
            memcpy(grad, s.grad, sizeof(float) * model->n_params);
        }
    }
    scratch_free(&s);
    return st;
}

/* One epoch over train in the order of s->perm. */
static tk_status run_epoch(tk_model *m, const tk_train_options *opt, const tk_train_data *train,
                           train_scratch *s, uint64_t *drop_state, tk_progress *bar,
                           tk_epoch_stats *stats, tk_error *err)
{
    int B = opt->batch_size, T = train->steps;
    int64_t n_batches = (train->n + B - 1) / B;
    if (opt->max_batches > 0 && opt->max_batches < n_batches)
        n_batches = opt->max_batches;
    double total = 0;
    int64_t correct = 0, seen = 0;
    for (int64_t bi = 0; bi < n_batches; bi++) {
        int64_t first = bi * B;
        int nb = (int)(train->n - first < B ? train->n - first : B);
        for (int b = 0; b < nb; b++) {
            int64_t row = s->perm[first + b];
            memcpy(s->ids + (size_t)b * T, train->ids + row * T, sizeof(int32_t) * (size_t)T);
            s->y[b] = train->y[row];
        }
        double loss = 0;
        tk_status st = batch_gradient(m, s, nb, T, true, drop_state, &loss, &correct, err);
        if (st != TK_OK)
            return st;
        double penalty = add_l2(m, opt->kernel_l2, s->grad);
        tk_optim_step(s->opt, m->params, s->grad);
        total += loss + penalty * nb;
        seen += nb;
        tk_progress_update(bar, bi + 1);
    }
    stats->loss = seen ? total / (double)seen : NAN;
    stats->accuracy = seen ? (double)correct / (double)seen : NAN;
    return TK_OK;
}

tk_status tk_train(tk_model *model, const tk_train_options *opt, const tk_train_data *train,
                   const tk_train_data *val, tk_epoch_stats *last, tk_error *err)
{
    if (opt->epochs < 1 || opt->batch_size < 1)
        return tk_error_set(err, TK_E_INVALID, "training: epochs and batch_size must be >= 1");
    if (train->n < 1)
        return tk_error_set(err, TK_E_INVALID, "training: no training rows");
    tk_status st = check_model(model, train, err);
    if (st == TK_OK && val)
        st = check_model(model, val, err);
    if (st != TK_OK)
        return st;
    train_scratch s;
    st = scratch_alloc(&s, model, opt, train->n, train->steps, err);
    if (st != TK_OK)
        goto done;
    uint64_t shuffle_state = opt->seed;
    uint64_t drop_state = opt->seed ^ 0xbb67ae8584caa73bULL;
    for (int64_t i = 0; i < train->n; i++)
        s.perm[i] = i;
    int64_t n_batches = (train->n + opt->batch_size - 1) / opt->batch_size;
    if (opt->max_batches > 0 && opt->max_batches < n_batches)
        n_batches = opt->max_batches;
    for (int e = 1; e <= opt->epochs; e++) {
        tk_epoch_stats stats = {.epoch = e, .val_loss = NAN, .val_accuracy = NAN};
        char label[48];
        snprintf(label, sizeof label, "epoch %d/%d", e, opt->epochs);
        tk_progress bar;
        tk_progress_start(&bar, opt->progress ? opt->progress : stderr, label, "batches",
                          n_batches, 0, opt->progress != NULL);
        /* Keras shuffles the rows before every epoch (fit(shuffle=True)). */
        shuffle(s.perm, train->n, &shuffle_state);
        double t0 = tk_now();
        st = run_epoch(model, opt, train, &s, &drop_state, &bar, &stats, err);
        if (st != TK_OK)
            goto done;
        stats.seconds = tk_now() - t0;
        tk_progress_finish(&bar);
        if (val && val->n > 0) {
            double t1 = tk_now();
            st = tk_train_evaluate(model, val, opt->batch_size > 64 ? opt->batch_size : 256,
                                   &stats.val_loss, &stats.val_accuracy, err);
            if (st != TK_OK)
                goto done;
            stats.val_seconds = tk_now() - t1;
        }
        if (opt->on_epoch)
            opt->on_epoch(&stats, opt->ctx);
        if (last)
            *last = stats;
    }
done:
    scratch_free(&s);
    return st;
}
