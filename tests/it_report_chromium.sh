#!/usr/bin/env bash
# The HTML report renders in a real browser: headless Chromium takes a
# screenshot (non-trivial PNG, not one colour), logs no console errors, and
# its DOM holds every section, with hostile text shown as text, not markup
# (the page's only scripts are its own two: the JSON index and the code).
# labels: chromium
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_BUILD:?}"
work=$(mktemp -d "${TMPDIR:-/tmp}/tokattr-it-report-chromium-XXXXXX")
SRC=${TOKATTR_SOURCE:-$(cd "$(dirname "$0")/.." && pwd)}
. "$SRC/tests/support/chromium.sh"

"$TOKATTR_BUILD/test_report" --write-fake "$work/results.h5" 300 hostile faith
"$TOKATTR_BIN" report "$work/results.h5" --out "$work/report" --review id:1007 --min-count 2
[ -s "$work/report/index.html" ] || fail "no index.html"

url="file://$work/report/index.html"
chromium_run "$work/shot.out" "$work/shot.err" --screenshot="$work/shot.png" --window-size=1280,2000 \
    "$url" || fail "chromium screenshot failed (see $work/shot.err)"
chromium_run "$work/dom.html" "$work/dom.err" --dump-dom "$url" ||
    fail "chromium --dump-dom failed (see $work/dom.err)"

# Console errors (scripts, blocked resources) appear as CONSOLE lines.
if grep -E "Uncaught|CONSOLE\(|ERR_FILE_NOT_FOUND|Refused to" "$work/shot.err" "$work/dom.err"; then
    fail "the browser reported console errors"
fi

size=$(stat -c %s "$work/shot.png")
[ "$size" -gt 30000 ] || fail "screenshot too small ($size bytes): nothing rendered?"
# Width, height and colour variety, decoding the PNG with the standard library.
/usr/bin/python3 - "$work/shot.png" <<'PY' || fail "screenshot is not a rendered page"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w, h, ctype = 8, b"", 0, 0, 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), "unexpected PNG format"
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
assert (w, h) == (1280, 2000), f"size {w}x{h}"
raw = zlib.decompress(idat)
bpp = 3 if ctype == 2 else 4
stride = w * bpp
prev = bytearray(stride)
colours = set()
for y in range(h):  # undo the PNG row filters to get real pixels
    f = raw[y * (stride + 1)]
    row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: row[i] = (row[i] + a) & 255
        elif f == 2: row[i] = (row[i] + b) & 255
        elif f == 3: row[i] = (row[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = row
    if y % 8 == 0:
        for x in range(0, w, 4):
            colours.add(bytes(row[x * bpp:x * bpp + 3]))
assert len(colours) > 50, f"only {len(colours)} colours"
print(f"screenshot {w}x{h}, {len(colours)} colours sampled")
PY

for want in "tokattr report" "Overview" "Axiom error per method" "Most confident right" \
    "Most confident wrong" "Random sample" "Words toward each class" "Method agreement" \
    "Faithfulness" "review 1007" "Find reviews"; do
    grep -q "$want" "$work/dom.html" || fail "the rendered page lacks '$want'"
done
# The hostile vocabulary word and command line stay text: the DOM has no
# script element but the page's own two, and shows them escaped.
n_script=$(grep -o -i "<script" "$work/dom.html" | wc -l)
[ "$n_script" -eq 2 ] || fail "expected the page's 2 script elements, found $n_script"
grep -q '<script type="application/json" id="tk-index">' "$work/dom.html" || fail "no search index"
grep -q "&lt;script&gt;alert(1)&lt;/script&gt;" "$work/dom.html" || fail "hostile command line not shown as text"
n_svg=$(grep -o "<svg" "$work/dom.html" | wc -l)
[ "$n_svg" -ge 8 ] || fail "expected inline SVG charts, found $n_svg"
echo "ok: screenshot $size bytes, $n_svg charts; files in $work"
