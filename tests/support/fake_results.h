/* A synthetic results file following DESIGN.md ("Results file"), for the
 * report's tests before (and independently of) the pipeline: hostile
 * vocabulary and attribute text, a planted token, faithfulness curves. */
#ifndef TOKATTR_TESTS_FAKE_RESULTS_H
#define TOKATTR_TESTS_FAKE_RESULTS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct tk_fake_results_spec {
    int n_reviews;
    int n_methods;      /* named m0, m1, ... unless hostile (then one name is hostile) */
    int n_classes;      /* columns of /predictions/prob (1 = sigmoid) */
    int vocab_size;     /* >= 8 */
    int min_len, max_len; /* words per review, without the start marker */
    uint64_t seed;
    bool hostile;       /* markup, quotes, ampersands, invalid UTF-8 in words and attributes */
    int planted_id;     /* >= 4: this token is in every review with score +planted_score; -1: none */
    float planted_score;
    bool faithfulness;  /* write /faithfulness/<method>/... */
    bool partial;       /* /progress/done = 0 for every 5th review */
    bool omit_optional; /* no rating, word_pos, target, vocab, progress, attributes */
    int planted_class;  /* >= 0: the planted token is evidence for this class: its score is
                           +planted_score where the target is this class, -planted_score
                           elsewhere (default -1: +planted_score everywhere) */
} tk_fake_results_spec;

void tk_fake_results_default(tk_fake_results_spec *s);

/* The hostile vocabulary word at id 4 when spec.hostile. */
extern const char TK_FAKE_HOSTILE_WORD[];
/* The word at id 6 when spec.hostile: what breaks a JSON text inside an
 * HTML <script> element (</script, <!--, U+2028, U+2029, a backslash). */
extern const char TK_FAKE_SCRIPT_WORD[];

/* Writes the file; returns 0, or -1 with a message on stderr. */
int tk_fake_results_write(const char *path, const tk_fake_results_spec *spec);

#endif
