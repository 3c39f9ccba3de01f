#include "attr/rules_norm.h"

#include <stdlib.h>

static tk_status affine(const tk_layer *l, double **sc, double **sh, tk_error *err)
{
    int C = l->input_dim;
    float *a = tk_malloc(2 * (size_t)C, sizeof(float), err);
    *sc = tk_malloc(2 * (size_t)C, sizeof(double), err);
    if (!a || !*sc) {
        free(a);
        free(*sc);
        return TK_E_NOMEM;
    }
    tk_batchnorm_affine(l, a, a + C);
    *sh = *sc + C;
    for (int c = 0; c < 2 * C; c++)
        (*sc)[c] = a[c];
    free(a);
    return TK_OK;
}

void tk_rules_norm_deeplift(const tk_layer *l, int nb, tk_shape si, const float *mo, float *min,
                            float *work)
{
    int C = si.channels;
    tk_batchnorm_affine(l, work, work + C);
    size_t rows = (size_t)nb * (si.steps > 0 ? si.steps : 1);
    for (size_t r = 0; r < rows; r++)
        for (int c = 0; c < C; c++)
            min[r * C + c] = work[c] * mo[r * C + c];
}

tk_status tk_rules_norm_lrp(const tk_layer *l, tk_shape si, const float *a, const double *ro,
                            double *ri, double eps, double bias_factor, double *absorbed,
                            tk_error *err)
{
    double *sc, *sh;
    tk_status st = affine(l, &sc, &sh, err);
    if (st != TK_OK)
        return st;
    int C = si.channels;
    size_t rows = (size_t)(si.steps > 0 ? si.steps : 1);
    double out_sum = 0, in_sum = 0;
    for (size_t r = 0; r < rows; r++)
        for (int c = 0; c < C; c++) {
            double x = a[r * C + c], z = sc[c] * x + sh[c], s = z >= 0 ? eps : -eps;
            double den = z + s, q = den != 0.0 ? ro[r * C + c] / den : 0.0;
            ri[r * C + c] = sc[c] * x * q + bias_factor * (sh[c] + s) * q;
            out_sum += ro[r * C + c];
            in_sum += ri[r * C + c];
        }
    *absorbed += out_sum - in_sum;
    free(sc);
    return TK_OK;
}
