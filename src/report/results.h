/* Reading a results file (DESIGN.md, "Results file") into memory for the
 * report. Everything in the file is untrusted: shapes are checked against
 * each other, a missing required dataset is an error naming the file and the
 * dataset, a missing optional one leaves its pointer NULL so that the report
 * omits the section. */
#ifndef TOKATTR_REPORT_RESULTS_H
#define TOKATTR_REPORT_RESULTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"

/* One attribute of the root or of a group, rendered as text. */
typedef struct tk_results_attr {
    char *name;
    char *value;
} tk_results_attr;

/* /faithfulness/<method>, all (N) or (N, k1) row-major; NULL when absent. */
typedef struct tk_results_faith {
    int k1;                   /* K + 1 points of the deletion curves */
    float *curve;             /* (N, k1) */
    float *random_curve;      /* (N, k1), or NULL */
    float *aopc;              /* (N), or NULL */
    float *comprehensiveness; /* (N), or NULL */
    float *sufficiency;       /* (N), or NULL */
} tk_results_faith;

typedef struct tk_results_method {
    char *name;              /* the group name under /attributions */
    float *score;            /* (T) per-token scores */
    float *padding_score;    /* (N), or NULL */
    float *axiom_error;      /* (N), or NULL */
    int32_t *target;         /* (N) class this method explained, or NULL */
    double *f_input;         /* (N) explained scalar at the input, or NULL */
    double *f_baseline;      /* (N) at the baseline, or NULL */
    tk_results_attr *attrs;  /* (n_attrs): method and parameters */
    int n_attrs;
    tk_results_faith *faith; /* NULL when /faithfulness/<name> is absent */
} tk_results_method;

/* A string dataset read into one buffer: s[i] points into buf. */
typedef struct tk_results_strings {
    int64_t n;
    char **s;                /* (n), NUL-terminated, bytes as stored */
    char *buf;
} tk_results_strings;

typedef struct tk_results {
    char *path;
    int64_t n;               /* reviews */
    int64_t t;               /* tokens */
    int64_t v;               /* vocabulary entries (0 without /vocab/word) */
    int c;                   /* columns of /predictions/prob */

    int64_t *review_id;      /* (N) */
    int64_t *index;          /* (N) position in the split, or NULL */
    int32_t *label;          /* (N) */
    int32_t *rating;         /* (N), or NULL */
    int64_t *token_offset;   /* (N + 1), ascending, [0] = 0, [N] = T */
    int32_t *token_id;       /* (T) */
    int32_t *word_pos;       /* (T), or NULL */
    float *prob;             /* (N, C) row-major */
    int32_t *predicted;      /* (N) /predictions/predicted, or NULL: then from prob */
    int32_t *target;         /* (N), or NULL */
    uint8_t *done;           /* (N) 1 = results on disk; all 1 when /progress/done is absent */
    char **vocab;            /* (V) valid or not UTF-8 as stored, or NULL */
    /* The words (files before them lack these: n = 0, pointers NULL). */
    tk_results_strings token_word;  /* (T) /tokens/word_{offset,text} */
    tk_results_strings doc_id;      /* (N) /reviews/doc_id */
    tk_results_strings class_name;  /* (n) /classes/name */
    int32_t *truncated;      /* (N) words cut by truncation, or NULL */
    bool truncating_post;    /* they were cut after the kept words */
    int32_t pad_id, start_id, oov_id; /* /tokens attrs; 0, 1, 2 when absent */
    int vocab_first_id;      /* token id of vocab[0]: 4 (DATA.md: word of rank r is
                                vocab[r-1], id = r + 3), or 0 when vocab[0] is "<pad>" */

    tk_results_method *methods; /* (n_methods), in file order */
    int n_methods;

    tk_results_attr *root_attrs; /* (n_root_attrs) */
    int n_root_attrs;
} tk_results;

tk_status tk_results_load(const char *path, tk_results **out, tk_error *err);

/* What a file handed to a command as results is (issue 20: a damaged
 * results file is not "not a results file"). */
typedef enum tk_results_kind {
    TK_RESULTS_ABSENT,   /* cannot be opened at all (missing, no permission) */
    TK_RESULTS_FOREIGN,  /* not HDF5, or HDF5 with neither the results datasets nor
                            the root attributes only the results writer writes */
    TK_RESULTS_IN_USE,   /* HDF5 will not open it: locked by a process writing it */
    TK_RESULTS_DAMAGED,  /* tokattr's results attributes are there (in the bytes,
                            when HDF5 cannot open it) but the file does not read:
                            truncated, torn by a kill, its datasets missing */
    TK_RESULTS_READABLE, /* opens, with /reviews/token_offset and /attributions */
} tk_results_kind;

/* Classifies path; for anything but READABLE, err gets one line naming path
 * and what is wrong with it (DAMAGED: "PATH: a damaged tokattr results file
 * (...)", to which the caller adds what the user can do). */
tk_results_kind tk_results_examine(const char *path, tk_error *err);

/* True for a results file, readable or DAMAGED (a previous output that
 * --force may replace); false for anything else, a missing file and one in
 * use by another process included. */
bool tk_results_probe(const char *path);

/* Before a run reopens (resume) or replaces (replace) an existing output:
 * TK_OK when path is not a regular file or is a foreign one (the caller's
 * tk_outpath_replaceable refuses those), readable, or damaged with replace;
 * else the refusal naming path: damaged (cannot be resumed: use --force),
 * or in use by another process (neither resumed nor removed under it). */
tk_status tk_results_check_reuse(const char *path, bool replace, tk_error *err);
void tk_results_destroy(tk_results *r); /* NULL is fine */

/* The text of token id: DATA.md's special names for 0..3 ("<pad>",
 * "<start>", "<oov>", "<unused>"), the vocabulary word, or "#id" when the
 * id is outside the vocabulary. Not escaped; buf (size >= 24) may be used. */
const char *tk_results_word(const tk_results *r, int32_t id, char *buf, size_t size);

/* The word of token t: /tokens/word when the file has it, else
 * tk_results_word of its id. */
const char *tk_results_token_word(const tk_results *r, int64_t t, char *buf, size_t size);

/* Token t is out of the model's vocabulary (its id is the OOV id). */
bool tk_results_token_is_oov(const tk_results *r, int64_t t);

/* The name of class c: /classes/name[c], else its number in buf. */
const char *tk_results_class_name(const tk_results *r, int c, char *buf, size_t size);

/* Reads only what an accuracy needs: the labels (-1 unlabelled) and the
 * predicted class of the reviews marked done. *n_labelled counts those
 * with a label, *correct the right ones among them, *majority the reviews
 * of the most frequent label (what always guessing it would get right). */
tk_status tk_results_accuracy(const char *path, int64_t *n_labelled, int64_t *correct,
                              int64_t *majority, tk_error *err);

/* Whether attribute `name` of method m is one of its own parameters (or
 * common to all: method, target, output, reduction), worth showing; a
 * class or token number only when the target / baseline uses it. */
bool tk_results_method_own_param(const tk_results_method *m, const char *name);

/* What method m's scores are of: "logit" (LRP always, or output logit) or
 * "prob" (the explained class's probability). */
const char *tk_results_method_output(const tk_results_method *m);

/* The value of an attribute by name, or NULL. */
const char *tk_results_attr_find(const tk_results_attr *attrs, int n, const char *name);

/* The predicted class of review i: /predictions/predicted when the file has
 * it, else from /predictions/prob: arg-max with ties to the lower class; a
 * single column predicts 1 when p > 0.5. */
int tk_results_predicted(const tk_results *r, int64_t i);
/* The probability of the predicted class. */
double tk_results_confidence(const tk_results *r, int64_t i);
/* Number of classes: C, or 2 for a single sigmoid column. */
int tk_results_n_classes(const tk_results *r);

#endif
