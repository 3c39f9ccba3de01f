#!/usr/bin/env python3
"""An independent implementation of the tokenizer rules tokattr reproduces
(Keras' imdb.load_data ids, Tokenizer.texts_to_sequences, TextVectorization
and DATA.md), written from the rules, python3 stdlib only.

  tokenizer_reference.py make DIR
      writes a small tricky corpus (DIR/doc_K.txt, DIR/texts.json), the
      tokenizer files fitted on it and DIR/cases.txt: one case a line,
      "SPEC<TAB>extra options".
  tokenizer_reference.py tokenize SPEC TEXTS.json [--num-words N] [--maxlen L]
                         [--shared DIR]
      prints, per text, the JSON line `tokattr tokenize` prints:
      {"words", "ids", "input", "truncated"}.
  tokenizer_reference.py imdb-reviews ARCHIVE N DIR
      writes the first N test reviews of the IMDB archive to DIR/review_K.txt.
  tokenizer_reference.py imdb-tree ARCHIVE N DIR
      writes N reviews of each of train/test x pos/neg as DIR/aclImdb/...
  tokenizer_reference.py compare A.jsonl B.jsonl
      exit 1 with the first difference.
"""
import json
import os
import re
import sys
import tarfile

KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
TV_STRIP = re.compile(rb'[!"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~\']')
ASCII_UPPER = {c: c + 32 for c in range(ord('A'), ord('Z') + 1)}


# ---- words ---------------------------------------------------------------

def words_data_md(text, ascii_only):
    """DATA.md: lowercase each character by its simple mapping (ASCII A-Z
    only for keras-imdb), filters to spaces, split on ' ', drop empties."""
    if ascii_only:
        low = text.translate(ASCII_UPPER)
    else:
        # The simple mapping is the one-character lowercase; only U+0130
        # has a longer full mapping, whose first character is the simple one.
        low = ''.join(c.lower()[0] if c.lower() else c for c in text)
    table = {ord(c): ' ' for c in KERAS_FILTERS}
    return [w for w in low.translate(table).split(' ') if w]


def words_keras_tokenizer(text, cfg):
    """Tokenizer.texts_to_sequences' words: str.lower() of the whole text
    (Python's own full mapping), then text_to_word_sequence's translate and
    split, or every character when char_level."""
    if cfg.get('lower', True):
        text = text.lower()
    if cfg.get('char_level', False):
        return list(text)
    split = cfg.get('split', ' ')
    filters = cfg.get('filters', KERAS_FILTERS)
    if filters is None:
        filters = ''
    table = {ord(c): split for c in filters}
    return [w for w in text.translate(table).split(split) if w]


def words_text_vectorization(text, strip):
    """On the UTF-8 bytes: bytes.lower() (ASCII only, like tf.strings.lower),
    delete the punctuation class, split on ASCII whitespace."""
    b = text.encode('utf-8')
    if strip:
        b = TV_STRIP.sub(b'', b.lower())
    return [w.decode('utf-8') for w in b.split()]


# ---- ids -----------------------------------------------------------------

def pad(seq, maxlen, post_pad, post_trunc):
    if maxlen is None:
        return seq, 0
    cut = max(0, len(seq) - maxlen)
    seq = seq[:maxlen] if post_trunc else seq[len(seq) - min(len(seq), maxlen):]
    fill = [0] * (maxlen - len(seq))
    return (seq + fill if post_pad else fill + seq), cut


def parse_spec(spec):
    head, _, path = spec.partition(':')
    kind, *opts = head.split(',')
    options = dict(o.split('=', 1) for o in opts)
    return kind, options, path


def tokenize(spec, texts, num_words=None, maxlen=None, shared='../shared'):
    kind, options, path = parse_spec(spec)
    out = []
    if kind in ('keras-imdb', 'tokattr-imdb', 'word-index'):
        if not path:
            path = os.path.join(shared, 'models', 'keras_imdb_word_index.json'
                                if kind == 'keras-imdb' else 'imdb_word_index.json')
        with open(path, encoding='utf-8') as f:
            index = json.load(f)
        index_from = int(options.get('index_from', 3))
        start = int(options.get('start_char', 1))
        oov = int(options.get('oov_char', 2))
        for text in texts:
            words = words_data_md(text, kind == 'keras-imdb')
            ids = [index[w] + index_from if w in index else oov for w in words]
            seq = [start] + [i if not num_words or i < num_words else oov for i in ids]
            seq, cut = pad(seq, maxlen, False, False)
            cut_words = max(0, cut - 1) if maxlen is not None else 0
            out.append({'words': words, 'ids': ids, 'input': seq, 'truncated': cut_words})
    elif kind == 'keras-tokenizer':
        with open(path, encoding='utf-8') as f:
            cfg = json.load(f)['config']
        index = json.loads(cfg['word_index'])
        oov_token = cfg.get('oov_token')
        oov_index = index.get(oov_token) if oov_token is not None else None
        num_words = num_words or cfg.get('num_words')
        for text in texts:
            words = words_keras_tokenizer(text, cfg)
            ids, seq = [], []
            for w in words:
                i = index.get(w)
                if i is not None:
                    ids.append(i)
                    if num_words and i >= num_words:
                        if oov_index is not None:
                            seq.append(oov_index)
                    else:
                        seq.append(i)
                else:
                    ids.append(oov_index if oov_index is not None else -1)
                    if oov_index is not None:
                        seq.append(oov_index)
            seq, cut = pad(seq, maxlen, False, False)
            out.append({'words': words, 'ids': ids, 'input': seq, 'truncated': cut})
    elif kind == 'text-vectorization':
        with open(path, encoding='utf-8') as f:
            vocab = f.read().split('\n')
        if vocab and vocab[-1] == '':
            vocab.pop()
        if vocab[:2] != ['', '[UNK]']:
            vocab = ['', '[UNK]'] + vocab
        lookup = {w: k for k, w in enumerate(vocab)}
        strip = options.get('standardize', 'lower_and_strip_punctuation') != 'none'
        length = maxlen or int(options.get('output_sequence_length', 0)) or None
        for text in texts:
            words = words_text_vectorization(text, strip)
            ids = [lookup.get(w, 1) for w in words]
            seq = [i if not num_words or i < num_words else 1 for i in ids]
            seq, cut = pad(seq, length, True, True)
            out.append({'words': words, 'ids': ids, 'input': seq, 'truncated': cut})
    else:
        raise SystemExit('unknown kind ' + kind)
    return out


# ---- the corpus and the files fitted on it ---------------------------------

CORPUS = [
    'The movie was GREAT!!! I loved it.',
    'It\'s the actors\' "best" work... isn\'t it?<br /><br />Really.',
    'Line one\nline two\tafter a tab\r\nand a CR',
    'CAFÉ au lait at the Café; ÉCOLE and école.',
    'Äänekoski is a town. ÄÄNEKOSKI too!',
    'İstanbul and ISTANBUL; ΟΔΟΣ ΣΟΦΙΑΣ; ΣΑΣ. ΣΣ',
    'Punctuation runs: ?!?!... ---- ((())) [[]] {{}} ~~~ `code` @home #tag $5 100% a&b',
    'quotes "double" \'single\' `back` and «guillemets» “curly” ‘single curly’',
    'non-breaking\u00a0space and\u2003em space, ﬁ ligature, straße STRASSE',
    'emoji 😀😀 and mixed CaSe WoRdS, the the the THE',
    "don't won't can't shouldn't — dashes – and more's",
    'great movie great acting great plot; bad ending',
    '   leading and trailing spaces   ',
    'a|b|c split|test with pipes||and doubles',
    'ünïcödé words: naïve résumé coöperate',
    'the end.',
]


def fit_counts(word_lists):
    counts = {}
    for ws in word_lists:
        for w in ws:
            counts[w] = counts.get(w, 0) + 1
    return counts


def keras_tokenizer_json(texts, num_words=None, filters=KERAS_FILTERS, lower=True, split=' ',
                         char_level=False, oov_token=None):
    """What Tokenizer(...).fit_on_texts(texts); to_json() holds: words by
    count, ties in first-seen order; the oov_token at index 1."""
    cfg = {'lower': lower, 'split': split, 'filters': filters, 'char_level': char_level}
    counts = fit_counts(words_keras_tokenizer(t, cfg) for t in texts)
    order = sorted(counts, key=lambda w: -counts[w])  # stable: first seen first
    if oov_token is not None:
        order = [oov_token] + order
    word_index = {w: k + 1 for k, w in enumerate(order)}
    config = {'num_words': num_words, 'filters': filters, 'lower': lower, 'split': split,
              'char_level': char_level, 'oov_token': oov_token, 'document_count': len(texts),
              'word_counts': json.dumps(counts), 'word_docs': json.dumps({}),
              'index_docs': json.dumps({}), 'index_word': json.dumps(
                  {str(v): k for k, v in word_index.items()}),
              'word_index': json.dumps(word_index)}
    return json.dumps({'class_name': 'Tokenizer', 'config': config})


def make(d):
    os.makedirs(d, exist_ok=True)
    train, test = CORPUS[:10], CORPUS
    for k, t in enumerate(test):
        with open(os.path.join(d, 'doc_%02d.txt' % k), 'w', encoding='utf-8', newline='') as f:
            f.write(t)
    with open(os.path.join(d, 'texts.json'), 'w', encoding='utf-8') as f:
        json.dump(test, f, ensure_ascii=False)
    cases = []

    def tok(name, **kw):
        with open(os.path.join(d, name), 'w', encoding='utf-8') as f:
            f.write(keras_tokenizer_json(train, **kw))
        return name

    cases.append('keras-tokenizer:%s\t' % tok('tok_oov.json', num_words=20, oov_token='<OOV>'))
    cases.append('keras-tokenizer:%s\t' % tok('tok_nooov.json', num_words=15))
    cases.append('keras-tokenizer:%s\t' % tok('tok_all.json'))
    cases.append('keras-tokenizer:%s\t--maxlen 6' % 'tok_oov.json')
    cases.append('keras-tokenizer:%s\t' % tok('tok_nolower.json', lower=False, filters='.,!?'))
    cases.append('keras-tokenizer:%s\t' % tok('tok_split.json', split='--', filters='|;:'))
    cases.append('keras-tokenizer:%s\t' % tok('tok_char.json', char_level=True, num_words=30,
                                              oov_token='?'))
    # TextVectorization vocabularies: by count, ties by the word.
    for strip in (True, False):
        counts = fit_counts(words_text_vectorization(t, strip) for t in train)
        vocab = sorted(counts, key=lambda w: (-counts[w], w))
        suffix = 'strip' if strip else 'none'
        with open(os.path.join(d, 'tv_%s_full.txt' % suffix), 'w', encoding='utf-8') as f:
            f.write('\n'.join(['', '[UNK]'] + vocab) + '\n')
        with open(os.path.join(d, 'tv_%s_plain.txt' % suffix), 'w', encoding='utf-8') as f:
            f.write('\n'.join(vocab))
    cases.append('text-vectorization:tv_strip_full.txt\t')
    cases.append('text-vectorization:tv_strip_plain.txt\t')
    cases.append('text-vectorization,output_sequence_length=8:tv_strip_plain.txt\t')
    cases.append('text-vectorization,standardize=none:tv_none_full.txt\t--maxlen 30')
    # Plain word indexes: by count, ties by the UTF-8 bytes (DATA.md).
    for kind, ascii_only in (('word', False), ('kimdb', True)):
        counts = fit_counts(words_data_md(t, ascii_only) for t in train)
        order = sorted(counts, key=lambda w: (-counts[w], w.encode('utf-8')))
        with open(os.path.join(d, '%s_index.json' % kind), 'w', encoding='utf-8') as f:
            json.dump({w: k + 1 for k, w in enumerate(order)}, f, ensure_ascii=False)
    cases.append('word-index:word_index.json\t')
    cases.append('word-index,index_from=4,start_char=1,oov_char=3:word_index.json\t--num-words 12')
    cases.append('tokattr-imdb:word_index.json\t--maxlen 7')
    cases.append('keras-imdb:kimdb_index.json\t--num-words 10')
    cases.append('keras-imdb\t')
    cases.append('tokattr-imdb\t--num-words 10000')
    with open(os.path.join(d, 'cases.txt'), 'w', encoding='utf-8') as f:
        f.write('\n'.join(cases) + '\n')


def imdb_reviews(archive, n, d):
    os.makedirs(d, exist_ok=True)
    k = 0
    with tarfile.open(archive, 'r:gz') as tar:
        for m in tar:
            if k >= n:
                break
            if m.isfile() and '/test/' in m.name and m.name.endswith('.txt'):
                with open(os.path.join(d, 'review_%d.txt' % k), 'wb') as f:
                    f.write(tar.extractfile(m).read())
                k += 1
    if k < n:
        raise SystemExit('only %d test reviews in %s' % (k, archive))


def imdb_tree(archive, n, d):
    seen = {}
    with tarfile.open(archive, 'r:gz') as tar:
        for m in tar:
            parts = m.name.split('/')
            if not m.isfile() or len(parts) != 4 or parts[2] not in ('pos', 'neg'):
                continue
            key = (parts[1], parts[2])
            if seen.get(key, 0) < n:
                seen[key] = seen.get(key, 0) + 1
                tar.extract(m, d)


def compare(a, b):
    with open(a, encoding='utf-8') as fa, open(b, encoding='utf-8') as fb:
        la, lb = fa.read().splitlines(), fb.read().splitlines()
    if len(la) != len(lb):
        raise SystemExit('%s has %d lines, %s has %d' % (a, len(la), b, len(lb)))
    for k, (x, y) in enumerate(zip(la, lb)):
        x, y = json.loads(x), json.loads(y)
        for key in ('words', 'ids', 'input', 'truncated'):
            if x[key] != y[key]:
                raise SystemExit('text %d, %s differ:\n  %s: %r\n  %s: %r' % (k, key, a, x[key], b,
                                                                            y[key]))


def main(argv):
    if len(argv) >= 2 and argv[1] == 'make':
        make(argv[2])
    elif len(argv) >= 2 and argv[1] == 'imdb-reviews':
        imdb_reviews(argv[2], int(argv[3]), argv[4])
    elif len(argv) >= 2 and argv[1] == 'imdb-tree':
        imdb_tree(argv[2], int(argv[3]), argv[4])
    elif len(argv) >= 2 and argv[1] == 'compare':
        compare(argv[2], argv[3])
    elif len(argv) >= 4 and argv[1] == 'tokenize':
        spec, texts_path = argv[2], argv[3]
        opts = dict(zip(argv[4::2], argv[5::2]))
        if texts_path.endswith('.json'):
            with open(texts_path, encoding='utf-8') as f:
                texts = json.load(f)
        else:
            texts = []
            for p in texts_path.split(','):
                with open(p, encoding='utf-8', newline='') as f:
                    texts.append(f.read())
        num_words = int(opts['--num-words']) if '--num-words' in opts else None
        maxlen = int(opts['--maxlen']) if '--maxlen' in opts else None
        for o in tokenize(spec, texts, num_words, maxlen, opts.get('--shared', '../shared')):
            print(json.dumps(o, ensure_ascii=False))
    else:
        raise SystemExit(__doc__)


if __name__ == '__main__':
    main(sys.argv)
