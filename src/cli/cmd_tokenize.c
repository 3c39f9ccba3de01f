/* tokattr tokenize: what a tokenizer makes of a text, as JSON lines: the
 * words, their ids and the model input. For checking a tokenizer against
 * the one a model was trained with, without preparing a dataset. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "cli/commands.h"
#include "core/paths.h"
#include "data/model_input.h"
#include "data/text_tokenizer.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tokattr tokenize --tokenizer KIND[:FILE] [--text T | --text-file F]... [options]\n\n"
            "Prints one JSON line per text: {\"words\": [...], \"ids\": [...], \"input\": [...],\n"
            "\"truncated\": N}. ids are the tokenizer's ids (-1: a word it drops), input\n"
            "the model input (start marker, num_words cut, padding/truncation when a\n"
            "length is known). Without --text/--text-file the text is read from stdin.\n\n"
            "  --tokenizer SPEC  one of: %s\n"
            "  --text T          a text (repeatable)\n"
            "  --text-file F     a file holding one text, '-' for stdin (repeatable)\n"
            "  --lines           each line of the files/stdin is a text of its own\n"
            "  --num-words N     vocabulary cut of the input (default: the tokenizer's,\n"
            "                    else none)\n"
            "  --maxlen L        pad/truncate the input to L (default: text-vectorization's\n"
            "                    output_sequence_length, else no padding)\n"
            "  --index-from N --start-char N --oov-char N   word-index's conventions\n"
            "  --shared DIR      where the default vocabularies are (default: $TOKATTR_SHARED\n"
            "                    or ../shared)\n"
            "  --help            this text\n",
            tk_tokenizer_spellings());
}

/* A JSON string: quotes, backslashes and controls escaped, bytes that
 * are not valid UTF-8 written as U+FFFD. */
static void put_json_string(FILE *out, const char *s, size_t n)
{
    fputc('"', out);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (c == '"' || c == '\\')
                fprintf(out, "\\%c", c);
            else if (c < 0x20)
                fprintf(out, "\\u%04x", c);
            else
                fputc(c, out);
            i++;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t used =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
        if (used <= 0) {
            fputs("\xef\xbf\xbd", out);
            i++;
        } else {
            fwrite(s + i, 1, (size_t)used, out);
            i += (size_t)used;
        }
    }
    fputc('"', out);
}

typedef struct tok_opts {
    const char *spec_text, *shared;
    const char **texts, **files;
    int n_texts, n_files;
    bool lines;
    int num_words, maxlen;
    int32_t index_from, start_char, oov_char;
} tok_opts;

static bool parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

static tk_status print_one(const tk_tokenizer *t, const tok_opts *o, const char *text, size_t len,
                           tk_encoded *e, tk_error *err)
{
    tk_status st = tk_tokenizer_encode(t, text, len, e, err);
    if (st != TK_OK)
        return st;
    tk_id_convention c = tk_tokenizer_convention(t);
    int num_words = o->num_words > 0 ? o->num_words : tk_tokenizer_num_words(t);
    int maxlen = o->maxlen > 0 ? o->maxlen : tk_tokenizer_sequence_length(t);
    if (maxlen <= 0)
        maxlen = (int)(e->n + 1 < (size_t)1 << 30 ? e->n + 1 : (size_t)1 << 30);
    tk_input_spec spec;
    tk_input_spec_from_convention(&spec, &c, num_words, maxlen);
    int32_t *in = tk_malloc((size_t)maxlen, sizeof *in, err);
    if (in == NULL)
        return TK_E_NOMEM;
    int64_t truncated = 0;
    int kept = tk_prepare_input_ex(&spec, e->ids, (int64_t)e->n, in, NULL, &truncated);
    /* Without a length the input is the unpadded sequence. */
    int shown = o->maxlen > 0 || tk_tokenizer_sequence_length(t) > 0 ? maxlen : kept;
    int at = spec.padding_post ? 0 : maxlen - kept;
    if (shown == maxlen)
        at = 0;
    fputs("{\"words\": [", stdout);
    for (size_t i = 0; i < e->n; i++) {
        if (i)
            fputs(", ", stdout);
        put_json_string(stdout, e->buf + e->word_start[i], e->word_len[i]);
    }
    fputs("], \"ids\": [", stdout);
    for (size_t i = 0; i < e->n; i++)
        printf("%s%d", i ? ", " : "", e->ids[i]);
    fputs("], \"input\": [", stdout);
    for (int i = 0; i < shown; i++)
        printf("%s%d", i ? ", " : "", in[at + i]);
    printf("], \"truncated\": %lld}\n", (long long)truncated);
    free(in);
    return TK_OK;
}

static tk_status print_file(const tk_tokenizer *t, const tok_opts *o, const char *path,
                            tk_encoded *e, tk_error *err)
{
    char *text = NULL;
    size_t len = 0;
    tk_status st;
    if (strcmp(path, "-") == 0)
        st = tk_read_file("/dev/stdin", &text, &len, err);
    else
        st = tk_read_file(path, &text, &len, err);
    if (st != TK_OK)
        return st;
    if (!o->lines) {
        st = print_one(t, o, text, len, e, err);
    } else {
        for (size_t i = 0; st == TK_OK && i < len;) {
            const char *nl = memchr(text + i, '\n', len - i);
            size_t end = nl ? (size_t)(nl - text) : len;
            st = print_one(t, o, text + i, end - i, e, err);
            i = end + 1;
        }
    }
    free(text);
    return st;
}

int tk_cmd_tokenize(int argc, char **argv)
{
    tok_opts o = {.index_from = -1, .start_char = -1, .oov_char = -1};
    int rc = TK_EXIT_USAGE;
    o.texts = calloc((size_t)argc, sizeof *o.texts);
    o.files = calloc((size_t)argc, sizeof *o.files);
    if (o.texts == NULL || o.files == NULL) {
        fprintf(stderr, "tokattr tokenize: out of memory\n");
        rc = TK_EXIT_FAILURE;
        goto out;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int iv;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            rc = TK_EXIT_OK;
            goto out;
        } else if (strcmp(a, "--lines") == 0) {
            o.lines = true;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "tokattr tokenize: %s needs a value (see --help)\n", a);
            goto out;
        }
        i++;
        if (strcmp(a, "--tokenizer") == 0)
            o.spec_text = v;
        else if (strcmp(a, "--shared") == 0)
            o.shared = v;
        else if (strcmp(a, "--text") == 0)
            o.texts[o.n_texts++] = v;
        else if (strcmp(a, "--text-file") == 0)
            o.files[o.n_files++] = v;
        else if (strcmp(a, "--num-words") == 0 && parse_int(v, 1, 1 << 30, &o.num_words))
            ;
        else if (strcmp(a, "--maxlen") == 0 && parse_int(v, 1, 1 << 20, &o.maxlen))
            ;
        else if (strcmp(a, "--index-from") == 0 && parse_int(v, 0, 1000000, &iv))
            o.index_from = iv;
        else if (strcmp(a, "--start-char") == 0 && parse_int(v, 0, 1000000, &iv))
            o.start_char = iv;
        else if (strcmp(a, "--oov-char") == 0 && parse_int(v, 0, 1000000, &iv))
            o.oov_char = iv;
        else {
            fprintf(stderr, "tokattr tokenize: unknown option or bad value: %s %s (see --help)\n",
                    a, v);
            goto out;
        }
    }
    if (o.spec_text == NULL) {
        fprintf(stderr, "tokattr tokenize: --tokenizer is required (one of: %s)\n",
                tk_tokenizer_spellings());
        goto out;
    }
    tk_error err = {0};
    tk_tokenizer_spec spec;
    if (tk_tokenizer_spec_parse(o.spec_text, &spec, &err) != TK_OK) {
        fprintf(stderr, "tokattr tokenize: %s\n", err.msg);
        goto out;
    }
    if (o.index_from >= 0 || o.start_char >= 0 || o.oov_char >= 0) {
        if (spec.kind != TK_TOKENIZER_WORD_INDEX) {
            fprintf(stderr, "tokattr tokenize: --index-from/--start-char/--oov-char apply to "
                            "word-index only\n");
            goto out;
        }
        if (o.index_from >= 0)
            spec.index_from = o.index_from;
        if (o.start_char >= 0)
            spec.start_char = o.start_char;
        if (o.oov_char >= 0)
            spec.oov_char = o.oov_char;
    }
    rc = TK_EXIT_FAILURE;
    tk_tokenizer *t = NULL;
    if (tk_tokenizer_create(&spec, o.shared, &t, &err) != TK_OK) {
        fprintf(stderr, "tokattr tokenize: %s\n", err.msg);
        goto out;
    }
    tk_encoded e;
    tk_encoded_init(&e);
    tk_status st = TK_OK;
    for (int i = 0; st == TK_OK && i < o.n_texts; i++)
        st = print_one(t, &o, o.texts[i], strlen(o.texts[i]), &e, &err);
    for (int i = 0; st == TK_OK && i < o.n_files; i++)
        st = print_file(t, &o, o.files[i], &e, &err);
    if (st == TK_OK && o.n_texts == 0 && o.n_files == 0)
        st = print_file(t, &o, "-", &e, &err);
    tk_encoded_free(&e);
    tk_tokenizer_destroy(t);
    if (st != TK_OK || fflush(stdout) != 0) {
        fprintf(stderr, "tokattr tokenize: %s\n", st != TK_OK ? err.msg : "cannot write the output");
        goto out;
    }
    rc = TK_EXIT_OK;
out:
    free(o.texts);
    free(o.files);
    return rc;
}
