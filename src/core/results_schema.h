/* The results file's dataset paths (README "Results file"), in one place:
 * pipeline/writer.c writes them, report/results.c and the commands that
 * read results (report, export, inspect) open them. A path changes here or
 * nowhere. Per-method paths are "<TK_RS_ATTRIBUTIONS>/<method>/<name>". */
#ifndef TOKATTR_CORE_RESULTS_SCHEMA_H
#define TOKATTR_CORE_RESULTS_SCHEMA_H

/* groups */
#define TK_RS_REVIEWS "/reviews"
#define TK_RS_TOKENS "/tokens"
#define TK_RS_PREDICTIONS "/predictions"
#define TK_RS_ATTRIBUTIONS "/attributions"
#define TK_RS_FAITHFULNESS "/faithfulness"
#define TK_RS_VOCAB "/vocab"
#define TK_RS_CLASSES "/classes"
#define TK_RS_PROGRESS "/progress"

/* (N) per review */
#define TK_RS_REVIEW_INDEX "/reviews/index"        /* int64: position in the split */
#define TK_RS_REVIEW_ID "/reviews/id"              /* int32: the dataset's review id */
#define TK_RS_REVIEW_DOC_ID "/reviews/doc_id"      /* vlen UTF-8: the user's id as written */
#define TK_RS_REVIEW_LABEL "/reviews/label"        /* int32: class index, -1 unlabelled */
#define TK_RS_REVIEW_RATING "/reviews/rating"      /* int32 */
#define TK_RS_REVIEW_TRUNCATED "/reviews/truncated" /* int32: words cut by truncation;
                                                      attr "truncating" = "pre" | "post" */
#define TK_RS_TOKEN_OFFSET "/reviews/token_offset" /* int64 (N + 1) */

/* (T) per scored token; /tokens attrs pad_id, start_id, oov_id (int32, -1 none) */
#define TK_RS_TOKEN_ID "/tokens/id"                /* int32: model-input id */
#define TK_RS_TOKEN_WORD_POS "/tokens/word_pos"    /* int32: word index, -1 start marker */
/* The word of token t as tokenized ("<start>" for the start marker) is
 * word_text[word_offset[t] .. word_offset[t + 1]), UTF-8, the layout of the
 * dataset file's words: one vlen string per token would keep 2.4 M small
 * heap objects (64 MB for the 25k IMDB test split, 6x the rest of the
 * file); these two compress (about 8 MB). */
#define TK_RS_TOKEN_WORD_OFFSET "/tokens/word_offset" /* int64 (T + 1) */
#define TK_RS_TOKEN_WORD_TEXT "/tokens/word_text"     /* uint8 (bytes) */
#define TK_RS_TOKEN_ATTR_PAD "pad_id"
#define TK_RS_TOKEN_ATTR_START "start_id"
#define TK_RS_TOKEN_ATTR_OOV "oov_id"

/* Root attribute: 32 hex digits drawn afresh each time a run starts writing
 * (create or resume), the first attribute of the root group so that it lies
 * in the metadata the ranks writer's file proof hashes (slab_writer.h): a
 * byte-identical copy of the file on another node misses the new value. */
#define TK_RS_ATTR_RUN_NONCE "run_nonce"
#define TK_RS_RUN_NONCE_LEN 32

#define TK_RS_PROB "/predictions/prob"             /* float32 (N, C) */
#define TK_RS_PREDICTED "/predictions/predicted"   /* int32 (N) */
#define TK_RS_TARGET "/predictions/target"         /* int32 (N): the first method's */

#define TK_RS_CLASS_NAME "/classes/name"           /* vlen UTF-8 (C, or 2 for one sigmoid) */
#define TK_RS_VOCAB_WORD "/vocab/word"             /* vlen UTF-8 (V) */
#define TK_RS_DONE "/progress/done"                /* uint8 (N) */

/* under /attributions/<method>/ */
#define TK_RS_M_SCORE "score"                 /* float32 (T) */
#define TK_RS_M_PADDING_SCORE "padding_score" /* float32 (N) */
#define TK_RS_M_AXIOM_ERROR "axiom_error"     /* float64 (N) */
#define TK_RS_M_F_INPUT "f_input"             /* float64 (N) */
#define TK_RS_M_F_BASELINE "f_baseline"       /* float64 (N) */
#define TK_RS_M_TARGET "target"               /* int32 (N) */
/* integrated_gradients only: */
#define TK_RS_M_STEPS "steps"  /* int32 (N): integrand evaluations used (adaptive CNN kinks: affine pieces) */
#define TK_RS_M_ERROR_ESTIMATE "error_estimate" /* float64 (N): rule adaptive only */

/* under /faithfulness/<method>/ */
#define TK_RS_F_CURVE "curve"                   /* float32 (N, K + 1) */
#define TK_RS_F_RANDOM_CURVE "random_curve"     /* float32 (N, K + 1) */
#define TK_RS_F_AOPC "aopc"                     /* float32 (N) */
#define TK_RS_F_COMPREHENSIVENESS "comprehensiveness"
#define TK_RS_F_SUFFICIENCY "sufficiency"

#endif
