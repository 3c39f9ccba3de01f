/* Benchmark (not a test): what preparing model inputs costs where they are
 * used. (a) the way rank 0 did it before: the whole dataset read, then
 * every review prepared; (b) the way a computing rank does it now: the
 * split's documents read unit by unit (tk_unit_input) and prepared. CPU
 * seconds of this process (clock()), per review, over the whole split.
 *
 *   bench_unit_input DATASET.h5 [SPLIT=test] [MAXLEN=100] [UNIT=16] [ORDER=file|random]
 *
 * ORDER random hands the units out in a shuffled order (as a run's
 * most-tokens-first order does): each unit then finds little in the
 * chunk caches. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/rng.h"
#include "data/dataset.h"
#include "data/model_input.h"
#include "pipeline/unit_input.h"

static double cpu(void)
{
    return (double)clock() / CLOCKS_PER_SEC;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATASET.h5 [SPLIT] [MAXLEN] [UNIT]\n", argv[0]);
        return 2;
    }
    const char *path = argv[1], *split = argc > 2 ? argv[2] : "test";
    int maxlen = argc > 3 ? atoi(argv[3]) : 100, unit = argc > 4 ? atoi(argv[4]) : 16;
    int random_order = argc > 5 && argv[5][0] == 'r';
    if (maxlen < 1 || unit < 1) {
        fprintf(stderr, "MAXLEN and UNIT must be positive\n");
        return 2;
    }
    tk_error err = {0};
    tk_input_spec spec;
    tk_input_spec_default(&spec, 10000, maxlen);
    int32_t *row = malloc((size_t)unit * (size_t)maxlen * sizeof *row);
    int32_t *labels = malloc((size_t)unit * sizeof *labels);
    int64_t *pos = malloc((size_t)unit * sizeof *pos);
    if (!row || !labels || !pos)
        return 1;

    double t0 = cpu();
    tk_dataset *ds = NULL;
    if (tk_dataset_read(path, &ds, &err) != TK_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const tk_split *sp = tk_dataset_split(ds, split, &err);
    if (!sp) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    int64_t n = sp->n;
    long long check_a = 0;
    for (int64_t i = 0; i < n; i++) {
        tk_prepare_input_ex(&spec, sp->ids + sp->offset[i], sp->offset[i + 1] - sp->offset[i], row,
                            NULL, NULL);
        check_a += row[maxlen - 1];
    }
    double ta = cpu() - t0;
    tk_dataset_destroy(ds);

    t0 = cpu();
    tk_docs_reader *r = NULL;
    if (tk_docs_open(path, split, &r, &err) != TK_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    tk_unit_docs u = {0};
    long long check_b = 0;
    int64_t n_units = (n + unit - 1) / unit;
    int64_t *order = malloc((size_t)(n_units > 0 ? n_units : 1) * sizeof *order);
    if (!order)
        return 1;
    uint64_t state = 1;
    for (int64_t k = 0; k < n_units; k++)
        order[k] = k;
    for (int64_t k = n_units - 1; random_order && k > 0; k--) {
        int64_t j = (int64_t)(tk_rng_u64(&state) % (uint64_t)(k + 1)), t = order[k];
        order[k] = order[j];
        order[j] = t;
    }
    for (int64_t k = 0; k < n_units; k++) {
        int64_t f = order[k] * unit, c = n - f < unit ? n - f : unit;
        for (int64_t i = 0; i < c; i++)
            pos[i] = f + i;
        if (tk_unit_input(r, &spec, pos, c, &u, row, labels, &err) != TK_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        for (int64_t i = 0; i < c; i++)
            check_b += row[i * maxlen + maxlen - 1];
    }
    double tb = cpu() - t0;
    tk_unit_docs_free(&u);
    tk_docs_close(r);
    free(order);
    printf("%lld reviews of '%s', maxlen %d, units of %d in %s order\n", (long long)n, split, maxlen,
           unit, random_order ? "random" : "file");
    printf("whole file then prepare (rank 0 before): %.3f s CPU, %.4f ms/review\n", ta,
           1e3 * ta / (double)n);
    printf("unit by unit (computing rank now):      %.3f s CPU, %.4f ms/review\n", tb,
           1e3 * tb / (double)n);
    printf("inputs %s\n", check_a == check_b ? "identical (checksum)" : "DIFFER");
    free(row);
    free(labels);
    free(pos);
    return check_a == check_b ? 0 : 1;
}
