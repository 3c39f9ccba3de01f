#!/bin/bash
# tokattr prepare on the user's own corpus: a 20-document CSV with string
# labels, user ids, quotes, commas and newlines inside fields, prepared with
# a word-index tokenizer and a Keras Tokenizer JSON. The ids, doc_id order,
# labels and classes are checked against an independent python3 version of
# the rules (read back with h5dump); the JSONL and gzip'd copies give the
# same datasets; bad input exits non-zero with file:line and leaves nothing.
# labels: data
set -euo pipefail
: "${TOKATTR_BIN:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$work"

# The corpus, its JSONL twin, a word index and a Keras Tokenizer JSON.
python3 - <<'EOF'
import csv, json
texts = [
    'The app crashes when I open settings.',
    'Great support, thanks a lot!',
    'I was charged twice, "refund" please',
    'Login fails:\nerror 500 on the second try',
    'Love the new dark mode',
    'Billing page shows the wrong total, again.',
    'It crashes, crashes, crashes.',
    'Thanks!! Works great now',
    'Why was my card charged? "Unknown" merchant',
    'Dark mode makes the text unreadable',
    'Refund still not received after 2 weeks',
    'The "Export" button does nothing\n\nat all',
    'Fantastic update, great work team',
    'Invoice total is wrong; please fix',
    'Settings page freezes then crashes',
    'Support was quick and kind',
    'Charged for a plan I cancelled',
    'Crash on startup since the update',
    'Really great app, love it',
    'Double charge on my invoice, "twice"',
]
labels = ['bug', 'praise', 'billing', 'bug', 'praise', 'billing', 'bug', 'praise', 'billing', 'bug',
          'billing', 'bug', 'praise', 'billing', 'bug', 'praise', 'billing', 'bug', 'praise', 'billing']
ids = ['T-%03d' % (7 * i % 23) for i in range(20)]
with open('tickets.csv', 'w', newline='') as f:
    w = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator='\r\n')
    w.writerow(['ticket', 'body', 'topic'])
    for i, t, l in zip(ids, texts, labels):
        w.writerow([i, t, l])
with open('tickets.jsonl', 'w') as f:
    for i, t, l in zip(ids, texts, labels):
        f.write(json.dumps({'topic': l, 'body': t, 'ticket': i}) + '\n')
json.dump({'texts': texts, 'labels': labels, 'ids': ids}, open('truth.json', 'w'))

# Keras text_to_word_sequence with the default filters.
FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
def words(text, filters=FILTERS, lower=True, split=' '):
    if lower:
        text = text.lower()
    text = text.translate(str.maketrans({c: split for c in filters}))
    return [w for w in text.split(split) if w]
counts = {}
for t in texts:
    for w in words(t):
        counts[w] = counts.get(w, 0) + 1
# A word index of the words seen twice or more (the rest are OOV), ranks by
# count then word.
ranked = sorted((w for w in counts if counts[w] >= 2), key=lambda w: (-counts[w], w))
wi = {w: r + 1 for r, w in enumerate(ranked)}
json.dump(wi, open('wi.json', 'w'))
# A Keras Tokenizer as to_json() writes it: no oov_token, so unknown words
# are dropped; ids from 1 in word_index order.
keras_wi = {w: r + 1 for r, w in enumerate(sorted(counts, key=lambda w: (-counts[w], w))) if counts[w] >= 2}
cfg = {'num_words': None, 'filters': FILTERS, 'lower': True, 'split': ' ', 'char_level': False,
       'oov_token': None, 'document_count': len(texts), 'word_counts': json.dumps(counts),
       'word_docs': '{}', 'index_docs': '{}', 'index_word': json.dumps({str(v): k for k, v in keras_wi.items()}),
       'word_index': json.dumps(keras_wi)}
json.dump({'class_name': 'Tokenizer', 'config': cfg}, open('keras_tok.json', 'w'))
# The expected ids of each tokenizer.
exp_wi = [[wi[w] + 3 if w in wi else 2 for w in words(t)] for t in texts]
exp_keras = [[keras_wi[w] for w in words(t) if w in keras_wi] for t in texts]
exp_words_wi = [words(t) for t in texts]
exp_words_keras = [[w for w in words(t) if w in keras_wi] for t in texts]
json.dump({'word-index': [exp_wi, exp_words_wi], 'keras-tokenizer': [exp_keras, exp_words_keras]},
          open('expected.json', 'w'))
EOF

# check DATASET KIND: ids, offsets, words, doc_id order, labels and classes
# against the python reference, read back with h5dump.
check() {
    python3 - "$1" "$2" <<'EOF' || fail "$1 ($2) does not match the python reference"
import json, re, subprocess, sys
path, kind = sys.argv[1], sys.argv[2]
def dump(name):
    out = subprocess.run(['h5dump', '-y', '-w', '0', '-d', name, path], capture_output=True, text=True,
                         check=True).stdout
    body = re.search(r'DATA \{\n(.*?)\n   \}', out, re.S).group(1)
    if '"' in body:
        return [json.loads('"' + s + '"') for s in re.findall(r'"((?:[^"\\]|\\.)*)"', body)]
    return [int(x) for x in body.replace('\n', ' ').split(',') if x.strip()]
truth = json.load(open('truth.json'))
exp_ids, exp_words = json.load(open('expected.json'))[kind]
ids, off = dump('/test/ids'), dump('/test/offset')
got = [ids[off[i]:off[i + 1]] for i in range(len(off) - 1)]
assert got == exp_ids, ('ids', got[:3], exp_ids[:3])
woff = dump('/test/word_offset')
subprocess.run(['h5dump', '-y', '-w', '0', '-b', 'LE', '-o', 'wt.bin', '-d', '/test/word_text', path],
                     capture_output=True, check=True)
wt = open('wt.bin', 'rb').read()
words = [wt[woff[k]:woff[k + 1]].decode('utf-8') for k in range(len(woff) - 1)]
assert [words[off[i]:off[i + 1]] for i in range(len(off) - 1)] == exp_words, 'stored words'
assert dump('/test/doc_id') == truth['ids'], ('doc_id order', dump('/test/doc_id'))
classes = dump('/classes/name')
assert classes == ['bug', 'praise', 'billing'], ('classes in order of first appearance', classes)
assert [classes[l] for l in dump('/test/label')] == truth['labels'], 'labels'
print('  %s (%s): %d documents, %d tokens match' % (path, kind, len(got), len(ids)))
EOF
}

cols=(--text-column body --label-column topic --id-column ticket)
"$TOKATTR_BIN" prepare --quiet --source tickets.csv "${cols[@]}" --tokenizer word-index:wi.json --out csv.h5 \
    >summary.txt
grep -q "test      20 documents (labelled)" summary.txt || fail "summary: $(cat summary.txt)"
grep -q "classes: 3" summary.txt || fail "summary classes: $(cat summary.txt)"
check csv.h5 word-index
"$TOKATTR_BIN" inspect csv.h5 --split test --review 3 >insp.txt
grep -q "test review 3: id T-021 (bug)" insp.txt || fail "inspect: $(cat insp.txt)"
grep -q "words: login fails error 500 on the second try" insp.txt || fail "inspect words: $(cat insp.txt)"

# The JSONL twin and the gzip'd CSV give the same dataset.
"$TOKATTR_BIN" prepare --quiet --source tickets.jsonl "${cols[@]}" --tokenizer word-index:wi.json --out jsonl.h5 >/dev/null
gzip -k tickets.csv
"$TOKATTR_BIN" prepare --quiet --source tickets.csv.gz "${cols[@]}" --tokenizer word-index:wi.json --out gz.h5 >/dev/null
for d in /test/ids /test/offset /test/label /test/doc_id /test/review_id /test/word_offset /test/word_text \
         /classes/name /vocab/word; do
    h5diff csv.h5 jsonl.h5 "$d" "$d" || fail "$d differs between CSV and JSONL"
    h5diff csv.h5 gz.h5 "$d" "$d" || fail "$d differs between CSV and CSV.gz"
done

# --split and --index-from: the split named, ids shifted.
"$TOKATTR_BIN" prepare --quiet --source tickets.csv "${cols[@]}" --split dev --tokenizer word-index:wi.json \
    --index-from 10 --oov-char 5 --out dev.h5 >/dev/null
python3 - <<'EOF' || fail "--split dev --index-from 10 --oov-char 5"
import json, subprocess
out = subprocess.run(['h5dump', '-y', '-w', '0', '-d', '/dev/ids', 'dev.h5'], capture_output=True, text=True,
                     check=True).stdout
ids = [int(x) for x in out[out.index('DATA {') + 6:].split('}')[0].split(',')]
exp = [i + 7 if i != 2 else 5 for doc in json.load(open('expected.json'))['word-index'][0] for i in doc]
assert ids == exp, (ids[:10], exp[:10])
EOF

# The Keras Tokenizer JSON: words not in its word_index are dropped.
"$TOKATTR_BIN" prepare --quiet --source tickets.csv "${cols[@]}" --tokenizer keras-tokenizer:keras_tok.json \
    --out keras.h5 >/dev/null
check keras.h5 keras-tokenizer
"$TOKATTR_BIN" prepare --quiet --source tickets.jsonl "${cols[@]}" --tokenizer keras-tokenizer:keras_tok.json \
    --out keras_jsonl.h5 >/dev/null
h5diff keras.h5 keras_jsonl.h5 /test/ids /test/ids || fail "keras-tokenizer ids differ between CSV and JSONL"

# --classes fixes the class order (the model's), labels map by name.
"$TOKATTR_BIN" prepare --quiet --source tickets.csv "${cols[@]}" --classes praise,billing,bug \
    --tokenizer word-index:wi.json --out classes.h5 >/dev/null
python3 - <<'EOF2' || fail "--classes praise,billing,bug"
import json, re, subprocess
def dump(name):
    out = subprocess.run(['h5dump', '-y', '-w', '0', '-d', name, 'classes.h5'], capture_output=True, text=True).stdout
    return re.search(r'DATA \{\n(.*?)\n   \}', out, re.S).group(1)
assert re.findall(r'"(\w+)"', dump('/classes/name')) == ['praise', 'billing', 'bug']
labels = [int(x) for x in dump('/test/label').split(',')]
want = [['praise', 'billing', 'bug'].index(l) for l in json.load(open('truth.json'))['labels']]
assert labels == want, (labels, want)
EOF2

# Invalid UTF-8 is kept for the tokenizer (the bytes as read: "caf\xe9" is
# not "cafe") and stored as U+FFFD in the words and ids.
printf 'id,text\nn\xe9,"caf\xe9 ok great"\n' >latin1.csv
"$TOKATTR_BIN" prepare --quiet --source latin1.csv --id-column id --tokenizer word-index:wi.json --out latin1.h5 >/dev/null
h5dump -y -w 0 -b LE -o latin1_words.bin -d /test/word_text latin1.h5 >/dev/null
python3 - <<'EOF2' || fail "invalid UTF-8 words"
import json, re, subprocess
wi = json.load(open('wi.json'))
out = subprocess.run(['h5dump', '-y', '-w', '0', '-d', '/test/ids', 'latin1.h5'], capture_output=True, text=True).stdout
ids = [int(x) for x in re.search(r'DATA \{\n(.*?)\n   \}', out, re.S).group(1).split(',')]
assert ids == [2, 2, wi['great'] + 3], ids
words = open('latin1_words.bin', 'rb').read()
assert words == b'caf\xef\xbf\xbdokgreat', words
doc = subprocess.run(['h5dump', '-y', '-w', '0', '-d', '/test/doc_id', 'latin1.h5'], capture_output=True).stdout
# h5dump prints bytes >= 0x80 as sign-extended octal: EF BF BD.
assert b'"n\\37777777757\\37777777677\\37777777675"' in doc, doc
EOF2

# TSV with a split column, a tree and plain lines, with the Keras Tokenizer.
python3 - <<'EOF2'
import json, os
t = json.load(open('truth.json'))
with open('tickets.tsv', 'w') as f:
    f.write('split\tbody\ttopic\n')
    for i, (x, l) in enumerate(zip(t['texts'], t['labels'])):
        f.write('%s\t"%s"\t%s\n' % ('train' if i % 4 else 'dev', x.replace('"', '""'), l))
for i, (x, l) in enumerate(zip(t['texts'], t['labels'])):
    d = 'tree/%s/%s' % ('train' if i % 4 else 'dev', l)
    os.makedirs(d, exist_ok=True)
    open('%s/%d_1.txt' % (d, i), 'w').write(x)
open('lines.txt', 'w').write('\n'.join(x.replace('\n', ' ') for x in t['texts']) + '\n')
EOF2
kt=(--tokenizer keras-tokenizer:keras_tok.json)
"$TOKATTR_BIN" prepare --quiet --source tickets.tsv --text-column body --label-column topic --split-column split \
    "${kt[@]}" --out tsv.h5 >/dev/null
"$TOKATTR_BIN" prepare --quiet --source tree "${kt[@]}" --out tree.h5 >/dev/null
"$TOKATTR_BIN" prepare --quiet --source lines.txt "${kt[@]}" --out lines.h5 >/dev/null
python3 - <<'EOF2' || fail "TSV, tree and lines datasets"
import json, re, subprocess
def dump(path, name):
    out = subprocess.run(['h5dump', '-y', '-w', '0', '-d', name, path], capture_output=True, text=True, check=True).stdout
    body = re.search(r'DATA \{\n(.*?)\n   \}', out, re.S).group(1)
    if '"' in body:
        return [json.loads('"' + s + '"') for s in re.findall(r'"((?:[^"\\]|\\.)*)"', body)]
    return [int(x) for x in body.replace('\n', ' ').split(',') if x.strip()]
def docs(path, split):
    ids, off = dump(path, '/%s/ids' % split), dump(path, '/%s/offset' % split)
    return [ids[off[i]:off[i + 1]] for i in range(len(off) - 1)]
t = json.load(open('truth.json'))
exp = json.load(open('expected.json'))['keras-tokenizer'][0]
names = subprocess.run(['h5dump', '-y', '-w', '0', '-a', '/splits/names', 'tsv.h5'], capture_output=True, text=True).stdout
assert re.findall(r'"(\w+)"', names.split('DATA {')[1]) == ['dev', 'train'], names
assert docs('tsv.h5', 'dev') == [exp[i] for i in range(20) if i % 4 == 0]
assert docs('tsv.h5', 'train') == [exp[i] for i in range(20) if i % 4]
assert dump('tsv.h5', '/classes/name') == ['bug', 'praise', 'billing']
# The tree: splits dev, train in name order, classes in name order within
# the first split, files in numeric order within a class.
order = sorted([i for i in range(20) if i % 4 == 0], key=lambda i: (t['labels'][i], i))
assert docs('tree.h5', 'dev') == [exp[i] for i in order], 'tree dev order'
assert dump('tree.h5', '/dev/doc_id') == ['%s/%d_1.txt' % (t['labels'][i], i) for i in order]
assert docs('lines.h5', 'test') == exp and dump('lines.h5', '/test/doc_id') == [str(i + 1) for i in range(20)]
print('  tsv.h5, tree.h5, lines.h5 match')
EOF2

# Bad input: non-zero exit, one message with file:line, nothing left behind.
failures=0
expect_error() {
    local name=$1 needle=$2
    shift 2
    local msg rc=0
    msg=$("$TOKATTR_BIN" prepare --quiet --out "$name.h5" "$@" 2>&1 >/dev/null) || rc=$?
    if [ $rc -eq 0 ]; then echo "FAIL $name: exit status 0"; failures=$((failures + 1)); return; fi
    if ! grep -qF -- "$needle" <<<"$msg"; then
        echo "FAIL $name: message does not name '$needle': $msg"; failures=$((failures + 1)); return
    fi
    if [ "$(grep -c . <<<"$msg")" -gt 1 ]; then echo "FAIL $name: more than one line: $msg"; failures=$((failures + 1)); return; fi
    if [ -e "$name.h5" ] || [ -e "$name.h5.tmp" ]; then echo "FAIL $name: output left behind"; failures=$((failures + 1)); return; fi
    echo "ok   $name: $msg"
}
wi=(--tokenizer word-index:wi.json)
printf 'id,text,label\na,"one",x\nb,"two",y\na,"three",x\n' >dup.csv
expect_error duplicate_id "dup.csv:4: duplicate id 'a' in split 'test'" --source dup.csv --id-column id --label-column label "${wi[@]}"
printf 'id,text,label\na,"one",x\nb,"  \n ",y\n' >empty.csv
expect_error empty_text "empty.csv:3: empty text" --source empty.csv --label-column label "${wi[@]}"
printf 'text,label\none,x\ntwo,\n' >nolabel.csv
expect_error missing_label "nolabel.csv:3: empty label (column 'label')" --source nolabel.csv --label-column label "${wi[@]}"
printf 'text,label\none,x\n"two,\nthree,y\n' >quote.csv
expect_error broken_quote "quote.csv:3: a quoted field is never closed" --source quote.csv --label-column label "${wi[@]}"
printf 'text,label\none,0\ntwo,pos\n' >mixed.csv
expect_error mixed_labels "mixed.csv:3: label 'pos' is not an integer" --source mixed.csv --label-column label "${wi[@]}"
printf '{"text": "one", "label": "a"}\n{"text": "two"}\n' >nolabel.jsonl
expect_error jsonl_missing_label "nolabel.jsonl:2: no label key 'label'" --source nolabel.jsonl --label-column label "${wi[@]}"
expect_error missing_column "tickets.csv:1: no text column 'text' in the header (columns: ticket, body, topic)" \
    --source tickets.csv "${wi[@]}"
printf 'text,split\none,train\ntwo,vocab\n' >split.csv
expect_error bad_split "split.csv:3: split name 'vocab' cannot be used" --source split.csv --split-column split "${wi[@]}"
expect_error no_tokenizer "needs --tokenizer" --source tickets.csv
expect_error outside_classes "tickets.csv:4: label 'billing' is not one of the classes bug,praise" \
    --source tickets.csv "${cols[@]}" --classes bug,praise "${wi[@]}"
# --out is the source, also through a symlink: refused, the source intact.
cp tickets.csv victim.csv
ln -s victim.csv link.csv
sum_before=$(sha256sum victim.csv)
msg=$("$TOKATTR_BIN" prepare --quiet --source victim.csv "${cols[@]}" "${wi[@]}" --out link.csv 2>&1) \
    && fail "--out = --source accepted"
grep -q "is the same file as the source" <<<"$msg" || fail "--out = --source message: $msg"
[ "$(sha256sum victim.csv)" = "$sum_before" ] || fail "the source was touched"
[ ! -e link.csv.tmp ] || fail "temporary file left behind"
echo "ok   out_is_source: $msg"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "it_prepare_corpus: ok"
