/* data/corpus.h: every reader on tricky inputs written to a temp dir
 * (quotes, doubled quotes, newlines inside fields, CRLF, TSV, gzip, JSONL
 * escapes and unicode, a directory tree, plain lines), and each bad input
 * refused with the file:line where it is. */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/corpus.h"
#include "data/corpus_readers.h"
#include "support/testutil.h"

/* What the readers handed over, one line per document:
 * split|label|id|text (NULL shown as "-"), and the last `where`. */
typedef struct seen {
    char out[16384];
    size_t len;
    int n;
    char where[4200];
} seen;

static tk_status collect(void *ctx, const tk_corpus_doc *d, tk_error *err)
{
    (void)err;
    seen *s = ctx;
    int k = snprintf(s->out + s->len, sizeof s->out - s->len, "%s|%s|%s|%.*s\n", d->split,
                     d->label ? d->label : "-", d->id ? d->id : "-", (int)d->len, d->text);
    if (k > 0)
        s->len += (size_t)k;
    snprintf(s->where, sizeof s->where, "%s", d->where);
    s->n++;
    return TK_OK;
}

static const char *put(const char *name, const char *text, size_t len)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", tk_test_tmpdir(), name);
    char *slash = strrchr(path, '/');
    for (char *p = path + strlen(tk_test_tmpdir()) + 1; p <= slash; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fwrite(text, 1, len, f);
    fclose(f);
    return path;
}

#define PUT(name, lit) put(name, lit, sizeof(lit) - 1)

static tk_status read_as(const char *path, tk_corpus_format fmt, const char *label, const char *id,
                         const char *split_col, seen *s, tk_error *err)
{
    memset(s, 0, sizeof *s);
    tk_error_clear(err);
    tk_corpus_options opt = {.source = path, .format = fmt, .label_column = label, .id_column = id,
                             .split_column = split_col, .split = "test"};
    return tk_corpus_read(&opt, collect, s, err);
}

static void test_csv_quoting(void)
{
    /* Quoted commas, doubled quotes, a newline inside a field (the record
     * starts on line 3, the next on line 5), CRLF endings, a BOM. */
    const char *p = PUT("q.csv", "\xEF\xBB\xBFid,text,label\r\n"
                                 "a1,\"Hello, world\",pos\r\n"
                                 "a2,\"She said \"\"no\"\"\nthen left\",neg\r\n"
                                 "a3,plain text,pos\r\n");
    seen s;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(read_as(p, TK_CORPUS_CSV, "label", "id", NULL, &s, &err), TK_OK);
    CU_ASSERT_EQUAL(s.n, 3);
    CU_ASSERT_STRING_EQUAL(s.out, "test|pos|a1|Hello, world\n"
                                  "test|neg|a2|She said \"no\"\nthen left\n"
                                  "test|pos|a3|plain text\n");
    /* The last record starts on line 5 (the quoted newline took line 4). */
    CU_ASSERT_PTR_NOT_NULL(strstr(s.where, "q.csv:5"));
    /* Spaces are kept; no final newline is fine. */
    p = PUT("sp.csv", "text\n  two  spaces  \nlast");
    CU_ASSERT_EQUAL_FATAL(read_as(p, TK_CORPUS_CSV, NULL, NULL, NULL, &s, &err), TK_OK);
    CU_ASSERT_STRING_EQUAL(s.out, "test|-|-|  two  spaces  \ntest|-|-|last\n");
}

static void test_tsv_and_split_column(void)
{
    const char *p = PUT("t.tsv", "split\ttext\tlabel\ntrain\ta, b\t1\ndev\t\"q\ttab\"\t0\n");
    seen s;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(read_as(p, TK_CORPUS_TSV, "label", NULL, "split", &s, &err), TK_OK);
    CU_ASSERT_STRING_EQUAL(s.out, "train|1|-|a, b\ndev|0|-|q\ttab\n");
}

static void test_gzip(void)
{
    const char *plain = PUT("g.csv", "text,label\n\"multi\nline\",x\nsecond,y\n");
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "gzip -kf '%s'", plain);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    char gz[4200];
    snprintf(gz, sizeof gz, "%s.gz", plain);
    seen a, b;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(read_as(plain, TK_CORPUS_CSV, "label", NULL, NULL, &a, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(read_as(gz, TK_CORPUS_CSV, "label", NULL, NULL, &b, &err), TK_OK);
    CU_ASSERT_EQUAL(a.n, 2);
    CU_ASSERT_STRING_EQUAL(a.out, b.out);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.where, "g.csv.gz:4"));
    tk_corpus_format f;
    CU_ASSERT_EQUAL(tk_corpus_format_guess(gz, &f, &err), TK_OK);
    CU_ASSERT_EQUAL(f, TK_CORPUS_CSV);
}

static void test_jsonl(void)
{
    /* Escapes, \u unicode (a surrogate pair), a raw UTF-8 character,
     * numbers as labels and ids, blank lines skipped, CRLF. */
    const char *p = PUT("j.jsonl", "{\"text\": \"line\\none \\\"q\\\"\", \"label\": 3, \"id\": 17}\n"
                                   "\n"
                                   "{\"id\": \"x\", \"label\": \"pos\", \"text\": \"caf\\u00e9 \\ud83d\\ude00 \xc3\xa9\"}\r\n"
                                   "{\"text\": \"t\", \"label\": 2.5, \"id\": -4}\n");
    seen s;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(read_as(p, TK_CORPUS_JSONL, "label", "id", NULL, &s, &err), TK_OK);
    CU_ASSERT_STRING_EQUAL(s.out, "test|3|17|line\none \"q\"\n"
                                  "test|pos|x|caf\xc3\xa9 \xf0\x9f\x98\x80 \xc3\xa9\n"
                                  "test|2.5|-4|t\n");
    CU_ASSERT_PTR_NOT_NULL(strstr(s.where, "j.jsonl:4"));
}

static void test_dir_tree(void)
{
    /* Numeric-aware order: 2_9 before 10_1; a 20-newsgroups-style file
     * without extension; noise that is not a document. */
    PUT("tree/train/pos/10_1.txt", "ten");
    PUT("tree/train/pos/2_9.txt", "two");
    PUT("tree/train/neg/5_3.txt", "five");
    PUT("tree/train/urls.txt", "ignored: not in a class");
    PUT("tree/train/neg/.hidden.txt", "ignored");
    PUT("tree/train/neg/notes.md", "ignored");
    PUT("tree/test/sci.space/60001", "orbit");
    char root[4096];
    snprintf(root, sizeof root, "%s/tree", tk_test_tmpdir());
    tk_corpus_format f;
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_corpus_format_guess(root, &f, &err), TK_OK);
    CU_ASSERT_EQUAL(f, TK_CORPUS_DIR);
    seen s;
    CU_ASSERT_EQUAL_FATAL(read_as(root, TK_CORPUS_DIR, NULL, NULL, NULL, &s, &err), TK_OK);
    CU_ASSERT_STRING_EQUAL(s.out, "test|sci.space|sci.space/60001|orbit\n"
                                  "train|neg|neg/5_3.txt|five\n"
                                  "train|pos|pos/2_9.txt|two\n"
                                  "train|pos|pos/10_1.txt|ten\n");
    CU_ASSERT(tk_corpus_name_cmp("2_9.txt", "10_1.txt") < 0);
    CU_ASSERT(tk_corpus_name_cmp("a10", "a9") > 0);
    CU_ASSERT(tk_corpus_name_cmp("x", "x") == 0);
    CU_ASSERT(tk_corpus_name_cmp("07", "7") > 0);
    /* An empty file is an empty text, named by its path. */
    PUT("tree/train/neg/6_2.txt", " \n ");
    CU_ASSERT_EQUAL(read_as(root, TK_CORPUS_DIR, NULL, NULL, NULL, &s, &err), TK_E_FORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "tree/train/neg/6_2.txt: empty text"));
}

static void test_lines(void)
{
    const char *p = PUT("l.txt", "first doc\r\n\n  \nsecond doc\nthird");
    seen s;
    tk_error err = {0};
    tk_corpus_format f;
    CU_ASSERT_EQUAL(tk_corpus_format_guess(p, &f, &err), TK_OK);
    CU_ASSERT_EQUAL(f, TK_CORPUS_LINES);
    CU_ASSERT_EQUAL_FATAL(read_as(p, TK_CORPUS_LINES, NULL, NULL, NULL, &s, &err), TK_OK);
    CU_ASSERT_STRING_EQUAL(s.out, "test|-|1|first doc\ntest|-|4|second doc\ntest|-|5|third\n");
}

/* Each bad input: one message naming the file and line. */
static void expect(const char *name, const char *text, tk_corpus_format fmt, const char *label, const char *id,
                   const char *needle)
{
    const char *p = put(name, text, strlen(text));
    seen s;
    tk_error err = {0};
    tk_status st = read_as(p, fmt, label, id, NULL, &s, &err);
    CU_ASSERT_NOT_EQUAL(st, TK_OK);
    if (strstr(err.msg, needle) == NULL)
        fprintf(stderr, "\n  %s: expected '%s' in: %s\n", name, needle, err.msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, needle));
}

static void test_errors(void)
{
    expect("eof_quote.csv", "text\nok\n\"never closed,\nstill open\n", TK_CORPUS_CSV, NULL, NULL,
           "eof_quote.csv:3: a quoted field is never closed");
    expect("bad_quote.csv", "text,label\nok,1\nbro\"ken,2\n", TK_CORPUS_CSV, "label", NULL,
           "bad_quote.csv:3: malformed quoting");
    expect("after_quote.csv", "text\n\"a\"b\n", TK_CORPUS_CSV, NULL, NULL, "after_quote.csv:2: malformed quoting");
    expect("no_col.csv", "body,label\nx,1\n", TK_CORPUS_CSV, "label", NULL,
           "no_col.csv:1: no text column 'text' in the header (columns: body, label)");
    expect("no_label_col.csv", "text\nx\n", TK_CORPUS_CSV, "stars", NULL, "no_label_col.csv:1: no label column 'stars'");
    expect("fields.csv", "text,label\na,1\n\"b\nc\",2,extra\n", TK_CORPUS_CSV, "label", NULL,
           "fields.csv:3: the record has 3 fields, the header has 2");
    expect("empty_label.csv", "text,label\na,1\nb,\n", TK_CORPUS_CSV, "label", NULL,
           "empty_label.csv:3: empty label (column 'label')");
    expect("empty_text.csv", "text,label\na,1\n\"  \",2\n", TK_CORPUS_CSV, "label", NULL,
           "empty_text.csv:3: empty text");
    expect("empty.csv", "", TK_CORPUS_CSV, NULL, NULL, "empty.csv: empty file");
    expect("bad.jsonl", "{\"text\": \"a\"}\n{\"text\": \"b\",}\n", TK_CORPUS_JSONL, NULL, NULL,
           "bad.jsonl:2: not valid JSON");
    expect("array.jsonl", "{\"text\": \"a\"}\n\n[1, 2]\n", TK_CORPUS_JSONL, NULL, NULL,
           "array.jsonl:3: not a JSON object");
    expect("num_text.jsonl", "{\"text\": 5}\n", TK_CORPUS_JSONL, NULL, NULL,
           "num_text.jsonl:1: the text key 'text' is a number, not a string");
    expect("no_label.jsonl", "{\"text\": \"a\", \"y\": 1}\n{\"text\": \"b\"}\n", TK_CORPUS_JSONL, "y", NULL,
           "no_label.jsonl:2: no label key 'y'");
    expect("obj_label.jsonl", "{\"text\": \"a\", \"y\": {}}\n", TK_CORPUS_JSONL, "y", NULL,
           "obj_label.jsonl:1: the label key 'y' is an object");
    expect("trailing.jsonl", "{\"text\": \"a\"} x\n", TK_CORPUS_JSONL, NULL, NULL,
           "trailing.jsonl:1: text after the JSON object");
    expect("blank.txt", "\n \n", TK_CORPUS_LINES, NULL, NULL, "blank.txt: no documents");
    tk_corpus_format f;
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_corpus_format_guess(PUT("x.xml", "<a/>"), &f, &err), TK_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "x.xml"));
    tk_error_clear(&err);
    CU_ASSERT_EQUAL(tk_corpus_format_parse("xml", &f, &err), TK_E_INVALID);
    CU_ASSERT_EQUAL(tk_corpus_format_parse("jsonl", &f, NULL), TK_OK);
    CU_ASSERT_EQUAL(f, TK_CORPUS_JSONL);
    /* Damaged gzip: named. */
    const char *gz = PUT("broken.csv.gz", "\x1f\x8b\x08\x00garbage garbage garbage");
    seen s;
    CU_ASSERT_NOT_EQUAL(read_as(gz, TK_CORPUS_CSV, NULL, NULL, NULL, &s, &err), TK_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "broken.csv.gz"));
}

/* A stop requested by the visitor stops the reading with its message. */
static tk_status stop_at_second(void *ctx, const tk_corpus_doc *d, tk_error *err)
{
    int *n = ctx;
    if (++*n == 2)
        return tk_error_set(err, TK_E_FORMAT, "%s: stop here", d->where);
    return TK_OK;
}

static void test_visitor_stops(void)
{
    const char *p = PUT("stop.csv", "text\na\n\"b\nb\"\nc\n");
    int n = 0;
    tk_error err = {0};
    tk_corpus_options opt = {.source = p, .format = TK_CORPUS_CSV};
    CU_ASSERT_EQUAL(tk_corpus_read(&opt, stop_at_second, &n, &err), TK_E_FORMAT);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "stop.csv:3: stop here"));
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    static const tk_test_case cases[] = {
        {"CSV: quotes, doubled quotes, newlines in fields, CRLF, BOM, spaces kept", test_csv_quoting},
        {"TSV with a split column and a quoted tab", test_tsv_and_split_column},
        {"gzip'd CSV reads like the plain file", test_gzip},
        {"JSONL: escapes, unicode, numbers as labels and ids, blank lines", test_jsonl},
        {"directory tree: numeric-aware order, 20-newsgroups names, noise ignored", test_dir_tree},
        {"lines: one document per line, ids are line numbers", test_lines},
        {"bad input: file:line and the problem", test_errors},
        {"the visitor's error stops the reading", test_visitor_stops},
        {NULL, NULL},
    };
    tk_test_add_suite("corpus readers", cases);
    return tk_test_run_all();
}
