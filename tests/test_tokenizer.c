/* tokenizer: the Keras text_to_word_sequence rules of DATA.md, case by case. */
#include <CUnit/CUnit.h>
#include <stdarg.h>
#include <string.h>

#include "data/tokenizer.h"
#include "support/testutil.h"

/* Tokenizes text (len bytes) and checks the tokens against the NULL-terminated
 * expected list. */
static void expect_tokens(const char *text, size_t len, ...)
{
    tk_tokens t;
    tk_error err = {0};
    tk_tokens_init(&t);
    CU_ASSERT_EQUAL_FATAL(tk_tokenize(&t, text, len, &err), TK_OK);
    va_list ap;
    va_start(ap, len);
    size_t i = 0;
    for (const char *want; (want = va_arg(ap, const char *)) != NULL; i++) {
        CU_ASSERT_TRUE(i < t.n);
        if (i >= t.n)
            break;
        uint32_t n;
        const char *got = tk_token(&t, i, &n);
        CU_ASSERT_EQUAL(n, strlen(want));
        CU_ASSERT_TRUE(n == strlen(want) && memcmp(got, want, n) == 0);
    }
    va_end(ap);
    CU_ASSERT_EQUAL(t.n, i);
    tk_tokens_free(&t);
}

#define TOK(s, ...) expect_tokens(s, sizeof(s) - 1, __VA_ARGS__, (const char *)NULL)
#define NO_TOKENS(s) expect_tokens(s, sizeof(s) - 1, (const char *)NULL)

static void test_html_breaks(void)
{
    TOK("Great.<br /><br />Really", "great", "br", "br", "really");
}

static void test_apostrophes_kept(void)
{
    TOK("It's the actors' 'best'", "it's", "the", "actors'", "'best'");
}

static void test_every_filter_char(void)
{
    /* Each filter between two letters splits them. */
    const char *filters = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";
    for (const char *f = filters; *f; f++) {
        char text[4] = {'a', *f, 'b', '\0'};
        expect_tokens(text, 3, "a", "b", (const char *)NULL);
    }
    /* No other printable ASCII character does. */
    for (int c = 0x20; c < 0x7f; c++) {
        if (c == ' ' || strchr(filters, c) != NULL)
            continue;
        char text[4] = {'a', (char)c, 'b', '\0'};
        char want[4] = {'a', (char)(c >= 'A' && c <= 'Z' ? c + 32 : c), 'b', '\0'};
        expect_tokens(text, 3, want, (const char *)NULL);
    }
}

static void test_unicode_lowercase(void)
{
    TOK("\xc3\x89T\xc3\x89 \xce\xa3\xce\x9f\xce\xa6\xce\x99\xce\x91", "\xc3\xa9t\xc3\xa9",
        "\xcf\x83\xce\xbf\xcf\x86\xce\xb9\xce\xb1"); /* ÉTÉ -> été, ΣΟΦΙΑ -> σοφια */
    /* U+023A (2 bytes) lowercases to U+2C65 (3 bytes): the text grows. */
    TOK("\xc8\xba\xc8\xba", "\xe2\xb1\xa5\xe2\xb1\xa5");
}

static void test_invalid_utf8_kept(void)
{
    /* A lone continuation byte, a truncated sequence and 0xff stay as they are. */
    TOK("A\x80Z \xc3 \xffQ", "a\x80z", "\xc3", "\xffq");
    TOK("end\xe2\x82", "end\xe2\x82");
}

static void test_cr_and_nbsp_inside_words(void)
{
    TOK("one\rtwo three\xc2\xa0" "four", "one\rtwo", "three\xc2\xa0" "four");
    TOK("tab\there\nnew", "tab", "here", "new");
}

static void test_empty_and_punctuation_only(void)
{
    NO_TOKENS("");
    NO_TOKENS("   ");
    NO_TOKENS("!?... --- <\"#$%&()*+,-./:;=>@[\\]^_`{|}~\t\n>");
    TOK("... <br /> ...", "br");
    TOK("  spaced   out  ", "spaced", "out");
}

static void test_embedded_nul_is_a_character(void)
{
    static const char text[] = {'a', '\0', 'b', ' ', 'c'};
    /* "a\0b" is one 3-byte token, then "c". */
    tk_tokens t;
    tk_tokens_init(&t);
    CU_ASSERT_EQUAL_FATAL(tk_tokenize(&t, text, sizeof text, NULL), TK_OK);
    CU_ASSERT_EQUAL(t.n, 2);
    CU_ASSERT_EQUAL(t.len[0], 3);
    tk_tokens_free(&t);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    static const tk_test_case cases[] = {
        {"<br /><br /> becomes br br", test_html_breaks},
        {"apostrophes stay inside tokens", test_apostrophes_kept},
        {"every Keras filter splits, nothing else does", test_every_filter_char},
        {"code points lowercased by utf8proc", test_unicode_lowercase},
        {"invalid UTF-8 bytes kept, no crash", test_invalid_utf8_kept},
        {"CR and non-ASCII spaces stay inside words", test_cr_and_nbsp_inside_words},
        {"empty review, only punctuation", test_empty_and_punctuation_only},
        {"embedded NUL is part of a word", test_embedded_nul_is_a_character},
        {NULL, NULL},
    };
    tk_test_add_suite("tokenizer", cases);
    return tk_test_run_all();
}
