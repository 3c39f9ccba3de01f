/* The run's messages (pipeline/wire.h): each packs and parses back to what
 * went in, the size functions bound what is packed, and a message whose
 * size does not fit its format is refused. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/wire.h"
#include "support/testutil.h"

static void test_work_round_trip(void)
{
    enum { CS = 4 };
    int64_t pos[3] = {7, 8, 12}, tok[4] = {100, 130, 150, 199};
    tk_wire_work w = {.chunk = 5, .first = 20, .count = 3, .tok0 = 100, .pos = pos, .tok_off = tok};
    unsigned char buf[512];
    size_t n = tk_wire_pack_work(&w, buf);
    CU_ASSERT_TRUE(n <= tk_wire_work_bytes(CS));
    int64_t p2[CS], t2[CS + 1];
    tk_wire_work got;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_wire_parse_work(buf, n, CS, &got, p2, t2, &err), TK_OK);
    CU_ASSERT_EQUAL(got.chunk, 5);
    CU_ASSERT_EQUAL(got.first, 20);
    CU_ASSERT_EQUAL(got.count, 3);
    CU_ASSERT_EQUAL(got.tok0, 100);
    CU_ASSERT_EQUAL(memcmp(got.pos, pos, sizeof pos), 0);
    CU_ASSERT_EQUAL(memcmp(got.tok_off, tok, sizeof tok), 0);
    /* the largest unit fills the bound exactly */
    int64_t p4[CS] = {1, 2, 3, 4}, t4[CS + 1] = {0, 1, 2, 3, 4};
    tk_wire_work full = {.count = CS, .pos = p4, .tok_off = t4};
    CU_ASSERT_EQUAL(tk_wire_pack_work(&full, buf), tk_wire_work_bytes(CS));
    /* STOP */
    tk_wire_work stop = {.chunk = -1};
    n = tk_wire_pack_work(&stop, buf);
    CU_ASSERT_EQUAL_FATAL(tk_wire_parse_work(buf, n, CS, &got, p2, t2, &err), TK_OK);
    CU_ASSERT_EQUAL(got.count, 0);
    /* refused: cut short, one byte more, more reviews than a unit holds */
    n = tk_wire_pack_work(&w, buf);
    CU_ASSERT_EQUAL(tk_wire_parse_work(buf, n - 8, CS, &got, p2, t2, &err), TK_E_INTERNAL);
    CU_ASSERT_EQUAL(tk_wire_parse_work(buf, n + 1, CS, &got, p2, t2, &err), TK_E_INTERNAL);
    CU_ASSERT_EQUAL(tk_wire_parse_work(buf, n, 2, &got, p2, t2, &err), TK_E_INTERNAL);
    CU_ASSERT_EQUAL(tk_wire_parse_work(buf, 7, CS, &got, p2, t2, &err), TK_E_INTERNAL);
}

/* Every array of a chunk result, with and without the faithfulness step,
 * comes back bit for bit. */
static void test_result_round_trip(void)
{
    for (int faith = 0; faith < 2; faith++) {
        enum { COUNT = 3, TC = 11, CLASSES = 2, METHODS = 2, K1 = 4 };
        tk_chunk_result a, b;
        tk_error err = {0};
        CU_ASSERT_EQUAL_FATAL(tk_chunk_result_alloc(&a, COUNT, TC, CLASSES, METHODS, &err), TK_OK);
        CU_ASSERT_EQUAL_FATAL(tk_chunk_result_alloc(&b, COUNT, TC, CLASSES, METHODS, &err), TK_OK);
        if (faith) {
            CU_ASSERT_EQUAL_FATAL(tk_chunk_result_alloc_faith(&a, COUNT, K1, &err), TK_OK);
            CU_ASSERT_EQUAL_FATAL(tk_chunk_result_alloc_faith(&b, COUNT, K1, &err), TK_OK);
        }
        a.first = 40;
        a.count = COUNT;
        a.tc = TC;
        for (int i = 0; i < COUNT * CLASSES; i++)
            a.prob[i] = 0.25f * (float)i;
        for (int i = 0; i < COUNT; i++)
            a.predicted[i] = i % 2;
        for (int i = 0; i < METHODS * COUNT; i++) {
            a.target[i] = i;
            a.padding_score[i] = -1.5f * (float)i;
            a.axiom_error[i] = 1e-7 * i;
            a.f_input[i] = 0.5 + i;
            a.f_baseline[i] = -0.5 - i;
            a.steps[i] = 50 + i;
            a.error_estimate[i] = 1e-5 * i;
            if (faith) {
                a.faith_aopc[i] = 0.1f * (float)i;
                a.faith_comp[i] = 0.2f * (float)i;
                a.faith_suff[i] = 0.3f * (float)i;
            }
        }
        for (int i = 0; i < METHODS * TC; i++)
            a.score[i] = (float)i / 7.0f;
        for (int i = 0; faith && i < METHODS * COUNT * K1; i++) {
            a.faith_curve[i] = (float)i;
            a.faith_random[i] = -(float)i;
        }
        size_t bound = tk_wire_result_bytes(COUNT, TC, CLASSES, METHODS, faith ? K1 : 0);
        unsigned char *buf = malloc(bound);
        CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
        size_t n = tk_wire_pack_result(&a, 9, 1, buf);
        CU_ASSERT_EQUAL(n, bound);
        int64_t chunk = 0, stop = 0;
        tk_wire_unpack_result(buf, &b, &chunk, &stop);
        CU_ASSERT_EQUAL(chunk, 9);
        CU_ASSERT_EQUAL(stop, 1);
        CU_ASSERT_EQUAL(b.first, 40);
        CU_ASSERT_EQUAL(b.count, COUNT);
        CU_ASSERT_EQUAL(b.tc, TC);
        size_t mc = (size_t)METHODS * COUNT;
        CU_ASSERT_EQUAL(memcmp(a.prob, b.prob, COUNT * CLASSES * sizeof *a.prob), 0);
        CU_ASSERT_EQUAL(memcmp(a.predicted, b.predicted, COUNT * sizeof *a.predicted), 0);
        CU_ASSERT_EQUAL(memcmp(a.target, b.target, mc * sizeof *a.target), 0);
        CU_ASSERT_EQUAL(memcmp(a.score, b.score, METHODS * TC * sizeof *a.score), 0);
        CU_ASSERT_EQUAL(memcmp(a.padding_score, b.padding_score, mc * sizeof(float)), 0);
        CU_ASSERT_EQUAL(memcmp(a.axiom_error, b.axiom_error, mc * sizeof(double)), 0);
        CU_ASSERT_EQUAL(memcmp(a.f_input, b.f_input, mc * sizeof(double)), 0);
        CU_ASSERT_EQUAL(memcmp(a.f_baseline, b.f_baseline, mc * sizeof(double)), 0);
        CU_ASSERT_EQUAL(memcmp(a.steps, b.steps, mc * sizeof(int32_t)), 0);
        CU_ASSERT_EQUAL(memcmp(a.error_estimate, b.error_estimate, mc * sizeof(double)), 0);
        if (faith) {
            CU_ASSERT_EQUAL(memcmp(a.faith_curve, b.faith_curve, mc * K1 * sizeof(float)), 0);
            CU_ASSERT_EQUAL(memcmp(a.faith_random, b.faith_random, mc * K1 * sizeof(float)), 0);
            CU_ASSERT_EQUAL(memcmp(a.faith_aopc, b.faith_aopc, mc * sizeof(float)), 0);
            CU_ASSERT_EQUAL(memcmp(a.faith_comp, b.faith_comp, mc * sizeof(float)), 0);
            CU_ASSERT_EQUAL(memcmp(a.faith_suff, b.faith_suff, mc * sizeof(float)), 0);
        }
        free(buf);
        tk_chunk_result_free(&a);
        tk_chunk_result_free(&b);
    }
}

static void test_written_round_trip(void)
{
    enum { METHODS = 3 };
    int64_t synced[4] = {0, 4, 8, 4};
    tk_wire_written m = {.first = 12, .count = 4, .chunk = 3, .stop = 1, .n_synced = 2,
                         .synced = synced};
    for (int k = 0; k < METHODS; k++) {
        snprintf(m.stats[k].name, sizeof m.stats[k].name, "method%d", k);
        m.stats[k].n = 4 + k;
        m.stats[k].max_abs_error = 0.5 * k;
    }
    unsigned char *buf = malloc(tk_wire_written_bytes(METHODS));
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    size_t n = tk_wire_pack_written(&m, METHODS, buf);
    CU_ASSERT_TRUE(n <= tk_wire_written_bytes(METHODS));
    tk_wire_written got;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_wire_parse_written(buf, n, METHODS, &got, &err), TK_OK);
    CU_ASSERT_EQUAL(got.first, 12);
    CU_ASSERT_EQUAL(got.count, 4);
    CU_ASSERT_EQUAL(got.chunk, 3);
    CU_ASSERT_EQUAL(got.stop, 1);
    CU_ASSERT_EQUAL_FATAL(got.n_synced, 2);
    CU_ASSERT_EQUAL(memcmp(got.synced, synced, sizeof synced), 0);
    CU_ASSERT_EQUAL(memcmp(got.stats, m.stats, METHODS * sizeof m.stats[0]), 0);
    /* refused: any other size, or more synced units than a rank may hold */
    CU_ASSERT_EQUAL(tk_wire_parse_written(buf, n - 1, METHODS, &got, &err), TK_E_INTERNAL);
    CU_ASSERT_EQUAL(tk_wire_parse_written(buf, n, METHODS + 1, &got, &err), TK_E_INTERNAL);
    int64_t too_many = TK_WIRE_SYNC_MAX + 1;
    memcpy(buf + 4 * 8, &too_many, 8);
    CU_ASSERT_EQUAL(tk_wire_parse_written(buf, n, METHODS, &got, &err), TK_E_INTERNAL);
    /* the first request: nothing written, nothing synced */
    tk_wire_written none = {.chunk = -1};
    n = tk_wire_pack_written(&none, METHODS, buf);
    CU_ASSERT_EQUAL_FATAL(tk_wire_parse_written(buf, n, METHODS, &got, &err), TK_OK);
    CU_ASSERT_EQUAL(got.count, 0);
    CU_ASSERT_EQUAL(got.n_synced, 0);
    free(buf);
}

static void test_synced_round_trip(void)
{
    int64_t synced[2] = {16, 4};
    unsigned char buf[4096];
    tk_wire_synced m = {.n_synced = 1, .synced = synced};
    size_t n = tk_wire_pack_synced(&m, buf);
    tk_wire_synced got;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_wire_parse_synced(buf, n, &got, &err), TK_OK);
    CU_ASSERT_FALSE(got.failed);
    CU_ASSERT_EQUAL_FATAL(got.n_synced, 1);
    CU_ASSERT_EQUAL(got.synced[0], 16);
    CU_ASSERT_EQUAL(got.synced[1], 4);
    CU_ASSERT_EQUAL(tk_wire_parse_synced(buf, n + 3, &got, &err), TK_E_INTERNAL);
    /* a failed sync carries its message */
    tk_wire_synced bad = {.n_synced = 0, .failed = true, .message = "r.h5.partial: disk full"};
    n = tk_wire_pack_synced(&bad, buf);
    CU_ASSERT_EQUAL_FATAL(tk_wire_parse_synced(buf, n, &got, &err), TK_OK);
    CU_ASSERT_TRUE(got.failed);
    CU_ASSERT_STRING_EQUAL(got.message, "r.h5.partial: disk full");
    /* ... and one that says failed without a message is refused */
    CU_ASSERT_EQUAL(tk_wire_parse_synced(buf, 16, &got, &err), TK_E_INTERNAL);
    CU_ASSERT_EQUAL(tk_wire_parse_synced(buf, 15, &got, &err), TK_E_INTERNAL);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    static const tk_test_case cases[] = {
        {"a work message round trip, STOP, wrong sizes refused", test_work_round_trip},
        {"a chunk result round trip, with and without faithfulness", test_result_round_trip},
        {"a written message round trip, wrong sizes refused", test_written_round_trip},
        {"a synced message round trip, with a failure's message", test_synced_round_trip},
        {NULL, NULL},
    };
    tk_test_add_suite("wire", cases);
    return tk_test_run_all();
}
