#define _POSIX_C_SOURCE 200809L
#include "data/keras_tokenizer_json.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "data/keras_text.h"

void tk_keras_tokenizer_config_free(tk_keras_tokenizer_config *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->filters);
    free(cfg->filter_cps);
    free(cfg->split);
    free(cfg->oov_token);
    free(cfg->word_index);
    memset(cfg, 0, sizeof *cfg);
}

/* A string value of config, or def when the key is absent; null allowed
 * only when nullable (then *out stays NULL). */
static tk_status get_string(const cJSON *config, const char *key, const char *def, bool nullable,
                            const char *path, char **out, tk_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(config, key);
    const char *v = def;
    if (it != NULL) {
        if (cJSON_IsNull(it) && nullable)
            v = NULL;
        else if (cJSON_IsString(it))
            v = it->valuestring;
        else
            return tk_error_set(err, TK_E_FORMAT, "%s: config.%s must be a string%s", path, key,
                                nullable ? " or null" : "");
    }
    *out = NULL;
    if (v == NULL)
        return TK_OK;
    if (strlen(v) > 1024)
        return tk_error_set(err, TK_E_UNSUPPORTED, "%s: config.%s is longer than 1024 bytes", path,
                            key);
    *out = strdup(v);
    if (*out == NULL)
        return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", path);
    return TK_OK;
}

static tk_status get_bool(const cJSON *config, const char *key, bool def, const char *path,
                          bool *out, tk_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(config, key);
    *out = def;
    if (it == NULL)
        return TK_OK;
    if (!cJSON_IsBool(it))
        return tk_error_set(err, TK_E_FORMAT, "%s: config.%s must be true or false", path, key);
    *out = cJSON_IsTrue(it);
    return TK_OK;
}

/* The code points of a UTF-8 string; invalid UTF-8 is refused. */
static tk_status code_points(const char *s, const char *path, const char *key, int32_t **out,
                             size_t *n, tk_error *err)
{
    size_t len = strlen(s);
    *n = 0;
    *out = tk_malloc(len ? len : 1, sizeof **out, err);
    if (*out == NULL)
        return TK_E_NOMEM;
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t used =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (used <= 0)
            return tk_error_set(err, TK_E_FORMAT, "%s: config.%s is not valid UTF-8", path, key);
        (*out)[(*n)++] = cp;
        i += (size_t)used;
    }
    return TK_OK;
}

tk_status tk_keras_tokenizer_config_parse(const char *path, const char *text, size_t len,
                                          tk_keras_tokenizer_config *cfg, tk_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    tk_status st = TK_OK;
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (root == NULL) {
        const char *at = cJSON_GetErrorPtr();
        st = tk_error_set(err, TK_E_FORMAT,
                          "%s: not valid JSON (near byte %ld); a Keras Tokenizer is saved with "
                          "tokenizer.to_json()",
                          path, at && at >= text ? (long)(at - text) : -1L);
        goto done;
    }
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(root, "class_name");
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(root, "config");
    if (!cJSON_IsObject(root) || !cJSON_IsString(cls) || strcmp(cls->valuestring, "Tokenizer") != 0) {
        st = tk_error_set(err, TK_E_FORMAT,
                          "%s: not a Keras Tokenizer: class_name must be \"Tokenizer\" (the "
                          "JSON of tokenizer.to_json())", path);
        goto done;
    }
    if (!cJSON_IsObject(config)) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: key \"config\" must be an object", path);
        goto done;
    }
    const cJSON *nw = cJSON_GetObjectItemCaseSensitive(config, "num_words");
    if (nw != NULL && !cJSON_IsNull(nw)) {
        double v = cJSON_IsNumber(nw) ? nw->valuedouble : -1;
        if (v < 0 || v > INT32_MAX || v != floor(v)) {
            st = tk_error_set(err, TK_E_FORMAT,
                              "%s: config.num_words must be null or a non-negative integer", path);
            goto done;
        }
        cfg->num_words = (int32_t)v;
    }
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(config, "analyzer");
    if (an != NULL && !cJSON_IsNull(an)) {
        st = tk_error_set(err, TK_E_UNSUPPORTED,
                          "%s: config.analyzer is set: a custom analyzer function cannot be "
                          "reproduced; give the words' rules with filters/lower/split", path);
        goto done;
    }
    if ((st = get_string(config, "filters", TK_KERAS_DEFAULT_FILTERS, true, path, &cfg->filters, err)) != TK_OK ||
        (st = get_string(config, "split", " ", false, path, &cfg->split, err)) != TK_OK ||
        (st = get_string(config, "oov_token", NULL, true, path, &cfg->oov_token, err)) != TK_OK ||
        (st = get_bool(config, "lower", true, path, &cfg->lower, err)) != TK_OK ||
        (st = get_bool(config, "char_level", false, path, &cfg->char_level, err)) != TK_OK)
        goto done;
    if (cfg->filters == NULL && (cfg->filters = strdup("")) == NULL) {
        st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if (cfg->split[0] == '\0' && !cfg->char_level) {
        st = tk_error_set(err, TK_E_FORMAT,
                          "%s: config.split is empty (Python's str.split refuses an empty "
                          "separator)", path);
        goto done;
    }
    int32_t *split_cps = NULL;
    size_t n_split = 0;
    st = code_points(cfg->split, path, "split", &split_cps, &n_split, err);
    free(split_cps);
    if (st != TK_OK || (st = code_points(cfg->filters, path, "filters", &cfg->filter_cps,
                                         &cfg->n_filters, err)) != TK_OK)
        goto done;
    const cJSON *wi = cJSON_GetObjectItemCaseSensitive(config, "word_index");
    if (cJSON_IsString(wi)) {
        cfg->word_index = strdup(wi->valuestring);
    } else if (cJSON_IsObject(wi)) {
        cfg->word_index = cJSON_PrintUnformatted(wi);
    } else {
        st = tk_error_set(err, TK_E_FORMAT,
                          "%s: config.word_index must be a JSON-encoded string (as to_json "
                          "writes it) or an object, not %s",
                          path, wi == NULL ? "missing" : "another type");
        goto done;
    }
    if (cfg->word_index == NULL) {
        st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", path);
        goto done;
    }
    cfg->word_index_len = strlen(cfg->word_index);
done:
    cJSON_Delete(root);
    if (st != TK_OK)
        tk_keras_tokenizer_config_free(cfg);
    return st;
}
