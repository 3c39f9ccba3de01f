/* Tags tokattr puts on the model files it trains: root string attributes
 * that say which vocabulary the model was trained on, so a job can check
 * that a dataset's token ids are the model's (issue 15). Keras ignores
 * them. The same two functions read and write a root string attribute of
 * any HDF5 file (the dataset's tokenizer_kind, say). */
#ifndef TOKATTR_MODEL_MODEL_TAGS_H
#define TOKATTR_MODEL_MODEL_TAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

/* The dataset's word_index_sha256 (its tokenizer's vocabulary digest). */
#define TK_MODEL_TAG_VOCAB_SHA256 "tokattr_vocab_sha256"
/* The tokenizer kind ("keras-imdb", "tokattr-imdb", ...). */
#define TK_MODEL_TAG_TOKENIZER "tokattr_tokenizer"

/* Writes (or replaces) the variable-length UTF-8 string attribute name on
 * the root group of the HDF5 file at path. */
tk_status tk_model_tag_write(const char *path, const char *name, const char *value, tk_error *err);

/* Reads it into buf (size bytes, NUL-terminated); *found false and buf ""
 * when the file has no such attribute. A value that does not fit, or is
 * not a string, is TK_E_FORMAT. */
tk_status tk_model_tag_read(const char *path, const char *name, char *buf, size_t size, bool *found,
                            tk_error *err);

#endif
