#include "support/fake_results.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

const char TK_FAKE_HOSTILE_WORD[] = "<script>alert('x')</script>&amp;\"q\"\xff\xfe\x01";
const char TK_FAKE_SCRIPT_WORD[] = "a\xe2\x80\xa8" "b</SCRIPT ><!--\\\xe2\x80\xa9";

void tk_fake_results_default(tk_fake_results_spec *s)
{
    memset(s, 0, sizeof *s);
    s->n_reviews = 60;
    s->n_methods = 3;
    s->n_classes = 2;
    s->vocab_size = 200;
    s->min_len = 5;
    s->max_len = 40;
    s->seed = 42;
    s->planted_id = -1;
    s->planted_score = 5.0f;
    s->planted_class = -1;
}


static double unif(uint64_t *s)
{
    return (double)(tk_rng_u64(s) >> 11) / 9007199254740992.0;
}

static int write_ds(hid_t f, const char *path, hid_t type, int rank, const hsize_t *dims, const void *data)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(f, path, type, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    int rc = d >= 0 && H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0 ? 0 : -1;
    if (d >= 0)
        H5Dclose(d);
    H5Sclose(sp);
    H5Pclose(lcpl);
    if (rc)
        fprintf(stderr, "fake_results: cannot write %s\n", path);
    return rc;
}

static void attr_str(hid_t obj, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, &value);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
}

static void attr_num(hid_t obj, const char *name, hid_t type, const void *v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, type, v);
    H5Aclose(a);
    H5Sclose(sp);
}

int tk_fake_results_write(const char *path, const tk_fake_results_spec *sp)
{
    uint64_t rng = sp->seed;
    int n = sp->n_reviews, V = sp->vocab_size, C = sp->n_classes, M = sp->n_methods;
    int ncls = C == 1 ? 2 : C;
    int64_t *offset = malloc(sizeof(int64_t) * (size_t)(n + 1)); /* (N + 1) */
    int64_t t_cap = (int64_t)n * (sp->max_len + 2);
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)t_cap);    /* (T) */
    int32_t *pos = malloc(sizeof(int32_t) * (size_t)t_cap);    /* (T) */
    float *score = malloc(sizeof(float) * (size_t)t_cap * (size_t)(M ? M : 1)); /* (M, T) */
    float *prob = malloc(sizeof(float) * (size_t)n * (size_t)C); /* (N, C) */
    int64_t *rid = malloc(sizeof(int64_t) * (size_t)n);
    int32_t *label = malloc(sizeof(int32_t) * (size_t)n), *rating = malloc(sizeof(int32_t) * (size_t)n);
    int32_t *target = malloc(sizeof(int32_t) * (size_t)n);
    uint8_t *done = malloc((size_t)n);
    float *vecs = malloc(sizeof(float) * (size_t)n * 3 * (size_t)(M ? M : 1)); /* (M, N) x3 */
    if (!offset || !ids || !pos || !score || !prob || !rid || !label || !rating || !target || !done || !vecs) {
        fprintf(stderr, "fake_results: out of memory\n");
        return -1;
    }
    int64_t t = 0;
    for (int i = 0; i < n; i++) {
        offset[i] = t;
        rid[i] = 1000 + 7 * (int64_t)i;
        label[i] = (int32_t)(tk_rng_u64(&rng) % (uint64_t)ncls);
        rating[i] = label[i] == 1 ? 7 + (int)(tk_rng_u64(&rng) % 4) : 1 + (int)(tk_rng_u64(&rng) % 4);
        done[i] = sp->partial && i % 5 == 4 ? 0 : 1;
        double p = unif(&rng);
        if (C == 1) {
            prob[i] = (float)p;
            target[i] = p > 0.5;
        } else {
            double sum = 0;
            for (int c = 0; c < C; c++) {
                prob[i * C + c] = (float)(0.05 + unif(&rng));
                sum += prob[i * C + c];
            }
            int best = 0;
            for (int c = 0; c < C; c++) {
                prob[i * C + c] = (float)(prob[i * C + c] / sum);
                if (prob[i * C + c] > prob[i * C + best])
                    best = c;
            }
            target[i] = best;
        }
        int len = sp->min_len + (int)(tk_rng_u64(&rng) % (uint64_t)(sp->max_len - sp->min_len + 1));
        int plant_at = sp->planted_id >= 4 ? (int)(tk_rng_u64(&rng) % (uint64_t)len) : -1;
        ids[t] = 1;
        pos[t] = -1;
        for (int m = 0; m < M; m++)
            score[(int64_t)m * t_cap + t] = 0.01f;
        t++;
        for (int w = 0; w < len; w++, t++) {
            int id = 4 + (int)(tk_rng_u64(&rng) % (uint64_t)(V - 4));
            if (id == sp->planted_id)
                id = 4 + (id - 4 + 1) % (V - 4); /* the planted token only where planted */
            double base = 2 * unif(&rng) - 1;
            if (w == plant_at) {
                id = sp->planted_id;
                base = sp->planted_class < 0 || target[i] == sp->planted_class ? sp->planted_score
                                                                               : -sp->planted_score;
            }
            ids[t] = id;
            pos[t] = w;
            for (int m = 0; m < M; m++)
                score[(int64_t)m * t_cap + t] = (float)(base + (w == plant_at ? 0 : 0.5 * (2 * unif(&rng) - 1)));
        }
        for (int m = 0; m < M; m++) {
            vecs[(size_t)m * n * 3 + (size_t)i] = (float)(1e-6 * pow(10, 4 * unif(&rng)));      /* axiom error */
            vecs[(size_t)m * n * 3 + (size_t)n + (size_t)i] = (float)(0.01 * unif(&rng)); /* padding */
        }
    }
    offset[n] = t;

    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        fprintf(stderr, "fake_results: cannot create %s\n", path);
        return -1;
    }
    int rc = 0;
    hsize_t dn = (hsize_t)n, dn1 = (hsize_t)n + 1, dt = (hsize_t)t, dp[2] = {(hsize_t)n, (hsize_t)C};
    rc |= write_ds(f, "/reviews/id", H5T_NATIVE_INT64, 1, &dn, rid);
    rc |= write_ds(f, "/reviews/label", H5T_NATIVE_INT32, 1, &dn, label);
    rc |= write_ds(f, "/reviews/token_offset", H5T_NATIVE_INT64, 1, &dn1, offset);
    rc |= write_ds(f, "/tokens/id", H5T_NATIVE_INT32, 1, &dt, ids);
    rc |= write_ds(f, "/predictions/prob", H5T_NATIVE_FLOAT, 2, dp, prob);
    if (!sp->omit_optional) {
        rc |= write_ds(f, "/reviews/rating", H5T_NATIVE_INT32, 1, &dn, rating);
        rc |= write_ds(f, "/tokens/word_pos", H5T_NATIVE_INT32, 1, &dt, pos);
        rc |= write_ds(f, "/predictions/target", H5T_NATIVE_INT32, 1, &dn, target);
        rc |= write_ds(f, "/progress/done", H5T_NATIVE_UINT8, 1, &dn, done);
        /* README "Results file": the word of rank r is word[r-1], its id r + 3. */
        int nw = V - 4;
        const char **words = malloc(sizeof(char *) * (size_t)nw);
        char *store = malloc((size_t)V * 16);
        for (int v = 4; v < V; v++) {
            snprintf(store + v * 16, 16, "w%d", v);
            words[v - 4] = store + v * 16;
        }
        if (sp->hostile) {
            words[0] = TK_FAKE_HOSTILE_WORD; /* id 4 */
            if (nw > 1)
                words[1] = "caf\xc3\xa9 \xe2\x80\x94 \"quoted\", comma"; /* id 5 */
            if (nw > 2)
                words[2] = TK_FAKE_SCRIPT_WORD; /* id 6 */
            if (nw > 4) { /* ids 7, 8: names of JavaScript's Object.prototype */
                words[3] = "constructor";
                words[4] = "__proto__";
            }
        }
        hid_t st = H5Tcopy(H5T_C_S1);
        H5Tset_size(st, H5T_VARIABLE);
        H5Tset_cset(st, H5T_CSET_UTF8);
        hsize_t dv = (hsize_t)nw;
        rc |= write_ds(f, "/vocab/word", st, 1, &dv, words);
        H5Tclose(st);
        free(words);
        free(store);
        attr_str(f, "tokattr_version", "0.1.0");
        attr_str(f, "command_line", sp->hostile ? "tokattr run <script>alert(1)</script> & 'x'" : "tokattr run job.yaml");
        attr_str(f, "job", "model: ../shared/models/imdb_cnn.h5\nmethods:\n  - name: ig\n    n_steps: 50\n");
        attr_str(f, "model_sha256", "0123abcd");
        int32_t ranks = 2;
        attr_num(f, "ranks", H5T_NATIVE_INT32, &ranks);
    }
    static const char *const kinds[3] = {"integrated_gradients", "occlusion", "lrp_epsilon"};
    for (int m = 0; m < M && rc == 0; m++) {
        char name[64], p[160];
        if (sp->hostile && m == M - 1)
            snprintf(name, sizeof name, "x<b>&\"'");
        else
            snprintf(name, sizeof name, "m%d", m);
        snprintf(p, sizeof p, "/attributions/%s/score", name);
        rc |= write_ds(f, p, H5T_NATIVE_FLOAT, 1, &dt, score + (int64_t)m * t_cap);
        snprintf(p, sizeof p, "/attributions/%s/axiom_error", name);
        rc |= write_ds(f, p, H5T_NATIVE_FLOAT, 1, &dn, vecs + (size_t)m * n * 3);
        snprintf(p, sizeof p, "/attributions/%s/padding_score", name);
        rc |= write_ds(f, p, H5T_NATIVE_FLOAT, 1, &dn, vecs + (size_t)m * n * 3 + n);
        if (!sp->omit_optional) {
            snprintf(p, sizeof p, "/attributions/%s", name);
            hid_t g = H5Gopen2(f, p, H5P_DEFAULT);
            attr_str(g, "method", kinds[m % 3]);
            int32_t steps = 50;
            double eps = 0.001;
            attr_num(g, "n_steps", H5T_NATIVE_INT32, &steps);
            attr_num(g, "eps", H5T_NATIVE_DOUBLE, &eps);
            H5Gclose(g);
        }
        if (sp->faithfulness) {
            enum { K1 = 11 };
            float *curve = malloc(sizeof(float) * (size_t)n * K1 * 2); /* (2, N, K1) */
            float *aopc = malloc(sizeof(float) * (size_t)n * 3);        /* (3, N) */
            for (int i = 0; i < n; i++) {
                double f0 = C == 1 ? fmax(prob[i], 1 - prob[i]) : prob[i * C + target[i]];
                double a = 0;
                for (int k = 0; k < K1; k++) {
                    curve[i * K1 + k] = (float)(f0 * exp(-0.25 * k * (m + 1)));
                    curve[(size_t)n * K1 + (size_t)i * K1 + k] = (float)(f0 * (1 - 0.01 * k));
                    a += f0 - curve[i * K1 + k];
                }
                aopc[i] = (float)(a / K1);
                aopc[n + i] = (float)(0.3 / (m + 1));
                aopc[2 * n + i] = (float)(0.1 * (m + 1));
            }
            hsize_t dc[2] = {(hsize_t)n, K1};
            snprintf(p, sizeof p, "/faithfulness/%s/curve", name);
            rc |= write_ds(f, p, H5T_NATIVE_FLOAT, 2, dc, curve);
            snprintf(p, sizeof p, "/faithfulness/%s/random_curve", name);
            rc |= write_ds(f, p, H5T_NATIVE_FLOAT, 2, dc, curve + (size_t)n * K1);
            snprintf(p, sizeof p, "/faithfulness/%s/aopc", name);
            rc |= write_ds(f, p, H5T_NATIVE_FLOAT, 1, &dn, aopc);
            snprintf(p, sizeof p, "/faithfulness/%s/comprehensiveness", name);
            rc |= write_ds(f, p, H5T_NATIVE_FLOAT, 1, &dn, aopc + n);
            snprintf(p, sizeof p, "/faithfulness/%s/sufficiency", name);
            rc |= write_ds(f, p, H5T_NATIVE_FLOAT, 1, &dn, aopc + 2 * n);
            free(curve);
            free(aopc);
        }
    }
    H5Fclose(f);
    free(offset);
    free(ids);
    free(pos);
    free(score);
    free(prob);
    free(rid);
    free(label);
    free(rating);
    free(target);
    free(done);
    free(vecs);
    return rc ? -1 : 0;
}
