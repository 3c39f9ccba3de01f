#!/usr/bin/env bash
# The report as a user browses it, in a real headless Chromium: the index's
# search (driven by the URL hash "#q=...", which the page applies on load)
# lists exactly the reviews that contain a word (computed here from
# `tokattr export`, not from the page), the hostile vocabulary word
# included; a class filter works; clicking a header sorts a table (the hash
# "sort=TABLE:COL" clicks it); a review page draws every method's words in
# order and links back; no page makes a network request (Chromium's net
# log, checked against a canary page that does make one); no script error.
# labels: chromium
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_BUILD:?}"
work=$(mktemp -d "${TMPDIR:-/tmp}/tokattr-it-report-browse-XXXXXX")
SRC=${TOKATTR_SOURCE:-$(cd "$(dirname "$0")/.." && pwd)}
. "$SRC/tests/support/chromium.sh"

"$TOKATTR_BUILD/test_report" --write-fake "$work/res.h5" 300 hostile faith
"$TOKATTR_BIN" report "$work/res.h5" --out "$work/rep" --min-count 2 --quiet
"$TOKATTR_BIN" export "$work/res.h5" --out "$work/tokens.csv"
"$TOKATTR_BIN" export "$work/res.h5" --per-review --out "$work/reviews.csv"

dom() { # dom NAME URL: the DOM after the scripts ran -> NAME.html, net log NAME.net.json
    chromium_run "$work/$1.html" "$work/$1.err" --virtual-time-budget=10000 \
        --log-net-log="$work/$1.net.json" --dump-dom "$2" ||
        fail "chromium --dump-dom $2 failed (see $work/$1.err)"
}

# The queries: a word found in a few reviews, the hostile word (id 4, as the
# page shows it: invalid bytes as U+FFFD), and a class filter.
python3 - "$work" <<'PY' || fail "cannot choose the queries"
import csv, collections, json, sys, urllib.parse
w = sys.argv[1]
rows = collections.defaultdict(set)
hostile, script_rows = set(), set()
with open(f"{w}/tokens.csv", newline="", encoding="utf-8", errors="replace") as f:
    for t in csv.DictReader(f):
        if int(t["position"]) < 0:
            continue
        rows[t["word"]].add(int(t["review"]))
        if t["token_id"] == "4":
            hostile.add(int(t["review"]))
        if t["token_id"] == "6":
            script_rows.add(int(t["review"]))
word = sorted(k for k, v in rows.items() if k.startswith("w") and 3 <= len(v) <= 30)[0]
revs = list(csv.DictReader(open(f"{w}/reviews.csv", newline="")))
wrong_pos = {int(r["review"]) for r in revs if r["label"] == "1" and r["predicted"] != "1"}
errs = lambda r: [abs(float(r[k])) for k in r if k.endswith("_axiom_error") and r[k] != ""]
err_neg = {int(r["review"]) for r in revs if r["predicted"] == "0" and errs(r) and max(errs(r)) > 1e-3}
assert 0 < len(err_neg) <= 200 and 0 < len(rows["constructor"]) <= 200, (len(err_neg), len(rows["constructor"]))
assert 0 < len(wrong_pos) <= 200 and 0 < len(hostile) <= 200, (len(wrong_pos), len(hostile))
shown_hostile = "<script>alert('x')</script>&amp;\"q\"\ufffd\ufffd\ufffd"
both = sorted(hostile & script_rows)
assert both, "no review holds both hostile words"
json.dump({"word": word, "word_rows": sorted(rows[word]), "hostile": shown_hostile,
           "hostile_rows": sorted(hostile), "wrong_pos": sorted(wrong_pos), "page_row": both[0],
           "err_neg": sorted(err_neg), "proto_rows": sorted(rows["constructor"])},
          open(f"{w}/queries.json", "w"))
q = lambda s: urllib.parse.quote(s, safe="")
open(f"{w}/urls", "w").write("\n".join([
    f"q_word #q={q(word)}&sort=results:4:desc",
    f"q_hostile #q={q(shown_hostile)}",
    f"q_class #q={q('label:positive wrong')}",
    f"q_err #q={q('err>1e-3 pred:negative')}",
    f"q_proto #q={q('Constructor')}",
    "sorted #sort=t-words-0-1:2",
]) + "\n")
PY

base="file://$work/rep/index.html"
while read -r name hash; do
    dom "$name" "$base$hash"
done <"$work/urls"
row=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['page_row'])" "$work/queries.json")
[ -f "$work/rep/reviews/r$row.html" ] || fail "no page for review row $row"
dom page "file://$work/rep/reviews/r$row.html"

# A canary that does make requests: the net-log check must see them.
printf '<!DOCTYPE html><img src="http://198.51.100.7/x.png"><script>fetch("http://tokattr.invalid/y").catch(function(){})</script>\n' \
    >"$work/canary-page.html"
dom canary "file://$work/canary-page.html"

python3 - "$work" <<'PY' || fail "the browsed report is wrong"
import collections, html, html.parser, json, os, sys, csv
w = sys.argv[1]
Q = json.load(open(f"{w}/queries.json"))

class Dom(html.parser.HTMLParser):
    """Rows of every table by id, texts of spans under #words, attributes."""
    def __init__(self):
        super().__init__()
        self.tables, self.stack, self.cols, self.attrs = {}, [], [], {}
        self.table = self.row = self.cell = self.span = None
        self.in_words = 0
        self.text = {}
    def handle_starttag(self, tag, a):
        a = dict(a)
        if a.get("id"):
            self.attrs[a["id"]] = a
            self.text.setdefault(a["id"], "")
        if tag == "html":
            self.attrs["<html>"] = a
        if tag == "table":
            self.table = a.get("id")
            self.tables[self.table] = {"head": [], "body": []}
            self.part = "body"
        if tag == "thead":
            self.part = "head"
        if tag == "tbody":
            self.part = "body"
        if tag == "tr" and self.table is not None:
            self.row = []
            self.tables[self.table][self.part].append(self.row)
        if tag in ("td", "th") and self.row is not None:
            self.cell = [a, ""]
            self.row.append(self.cell)
        if self.in_words:
            self.in_words += 1
            if tag == "div" and a.get("class") == "col":
                self.cols.append([])
            if tag == "span":
                self.span = [a, ""]
                self.cols[-1].append(self.span)
        elif a.get("id") == "words":
            self.in_words = 1
        if a.get("id") == "qinfo":
            self.qinfo = True
    def handle_endtag(self, tag):
        if self.in_words:
            self.in_words -= 1
            if tag == "span":
                self.span = None
        if tag in ("td", "th"):
            self.cell = None
        if tag == "tr":
            self.row = None
        if tag == "table":
            self.table = None
        if getattr(self, "qinfo", False) and tag == "span":
            self.qinfo = False
    def handle_data(self, d):
        if self.cell is not None:
            self.cell[1] += d
        if self.span is not None:
            self.span[1] += d
        if getattr(self, "qinfo", False):
            self.text["qinfo"] += d

def load(name):
    d = Dom()
    d.feed(open(f"{w}/{name}.html", encoding="utf-8").read())
    assert d.attrs.get("<html>", {}).get("data-ready") == "1", f"{name}: the page script did not finish"
    err = open(f"{w}/{name}.err", encoding="utf-8", errors="replace").read()
    assert "Uncaught" not in err and "CONSOLE(" not in err, f"{name}: script errors:\n{err[-2000:]}"
    return d

def results(d):
    return [int(r[0][1]) for r in d.tables["results"]["body"]]

# 1. A word: exactly the reviews that contain it, the results sorted by p
#    descending (the hash clicked the header twice).
d = load("q_word")
got = results(d)
assert sorted(got) == Q["word_rows"], (Q["word"], sorted(got), Q["word_rows"])
p = [float(r[4][1]) for r in d.tables["results"]["body"]]
assert p == sorted(p, reverse=True), p
assert d.tables["results"]["head"][0][4][0].get("aria-sort") == "descending"
assert d.text["qinfo"].startswith(f"{len(got)} review"), d.text["qinfo"]
# each result links to its page
assert all(r[0][1] for r in d.tables["results"]["body"])

# 2. The hostile word, searched as the page shows it.
d = load("q_hostile")
assert sorted(results(d)) == Q["hostile_rows"], (sorted(results(d)), Q["hostile_rows"])

# 3. label:positive wrong.
d = load("q_class")
assert sorted(results(d)) == Q["wrong_pos"], (len(results(d)), len(Q["wrong_pos"]))

d = load("q_proto")  # a word that is also a property of every JavaScript object
assert sorted(results(d)) == Q["proto_rows"], (len(results(d)), len(Q["proto_rows"]))
d = load("q_err")
assert sorted(results(d)) == Q["err_neg"], (len(results(d)), len(Q["err_neg"]))

# 4. Sorting a word table by count (ascending), which it was not before.
d = load("sorted")
t = d.tables["t-words-0-1"]
counts = [int(r[2][1]) for r in t["body"]]
assert len(counts) > 5 and counts == sorted(counts), counts
assert t["head"][0][2][0].get("aria-sort") == "ascending"
static = Dom()
static.feed(open(f"{w}/rep/index.html", encoding="utf-8").read())
before = [int(r[2][1]) for r in static.tables["t-words-0-1"]["body"]]
assert before != sorted(before) and sorted(before) == counts, before

# 5. The review page: every method's column holds the review's words in
#    order, the hostile ones as text; the page links back to the index.
row = Q["page_row"]
want = []
with open(f"{w}/tokens.csv", newline="", encoding="utf-8", errors="replace") as f:
    for t in csv.DictReader(f):
        if int(t["review"]) == row:
            if t["position"] == "-1":
                want.append("[start]")
            elif t["token_id"] == "4":
                want.append(Q["hostile"])
            else:
                want.append(t["word"])
d = load("page")
assert len(d.cols) == 3, len(d.cols)
for col in d.cols:
    texts = [s[1] for s in col if s[0].get("class") != "cut"]
    assert texts == want, (texts[:8], want[:8])
    assert all("background" in s[0].get("style", "") for s in col if s[0].get("class") != "cut")
assert d.attrs["back"]["href"] == "../index.html"
assert "a\u2028b</SCRIPT ><!--\\\u2029" in want, "the script-breaking word is not in this review"

# 5b. Each word of the word tables links to reviews that contain it, the
#     pages exist, and the link to the search is the word.
import re, urllib.parse
index = open(f"{w}/rep/index.html", encoding="utf-8").read()
words_of = collections.defaultdict(set)
with open(f"{w}/tokens.csv", newline="", encoding="utf-8", errors="replace") as f:
    for t in csv.DictReader(f):
        words_of[int(t["review"])].add(t["word"])
n_links = 0
for word, q, links in re.findall(r'<tr data-w="([^"]*)" data-t="[^"]*"><td class="n">\d+</td><td><a href="#q=([^"]*)">'
                                 r'[^<]*</a></td>(?:<td class="n">[^<]*</td>){4}<td>(.*?)</td></tr>', index):
    word = html.unescape(word)
    assert urllib.parse.unquote(q) == word, (q, word)
    rows = [int(x) for x in re.findall(r'href="reviews/r(\d+)\.html"', links)]
    assert 1 <= len(rows) <= 5, links
    for row_i in rows:
        assert os.path.exists(f"{w}/rep/reviews/r{row_i}.html")
        assert word in words_of[row_i] or word.startswith("<script>"), (word, row_i)
        n_links += 1
assert n_links > 100, n_links

# 6. No page made a request; the canary did (so the check can fail).
def page_requests(name):
    log = json.load(open(f"{w}/{name}.net.json"))
    kinds = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    out = []
    for e in log["events"]:
        p = e.get("params", {})
        # the browser's own requests (updates, time) have no initiating page
        if kinds[e["type"]] == "URL_REQUEST_START_JOB" and p.get("initiator") not in (None, "not an origin"):
            out.append(p.get("url"))
    return out
canary = page_requests("canary")
assert any("198.51.100.7" in u for u in canary) and any("tokattr.invalid" in u for u in canary), canary
for name in ("q_word", "q_hostile", "q_class", "sorted", "page"):
    assert page_requests(name) == [], (name, page_requests(name))
print(f"ok: '{Q['word']}' in {len(Q['word_rows'])} reviews, hostile word in {len(Q['hostile_rows'])}, "
      f"{len(Q['err_neg'])} for err>1e-3 pred:negative, {n_links} word-table links, "
      f"{len(Q['wrong_pos'])} wrong positives, {len(counts)} rows sorted, page r{row}: {len(want)} words x 3 methods; "
      f"no request (canary: {len(canary)})")
PY
rm -rf "$work"
