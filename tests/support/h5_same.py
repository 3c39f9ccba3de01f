#!/usr/bin/python3
"""h5_same.py REF FILE: exit 0 when FILE holds the same results as REF, bit
for bit; else print what differs and exit 1 (2 when a file cannot be read).

Compared: every dataset under the result groups (/attributions,
/predictions, /faithfulness, /tokens, /reviews, /classes, /vocab) by name,
dtype, shape and raw bytes (so NaN == NaN only when the bits are equal, and
-0.0 != 0.0). Both files must hold the same set of datasets: a dataset
missing from either side is a difference (h5diff passes when both lack
one). FILE's /progress/done must be all ones. Provenance (root attributes,
times) is not compared: a resumed run legitimately differs there.

Used by the kill tests (tests/it_run_kill*.sh); needs h5py and numpy, which
the system python has."""
import sys

import h5py
import numpy as np

GROUPS = ("attributions", "predictions", "faithfulness", "tokens", "reviews", "classes", "vocab")


def datasets(f):
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            out[name] = obj

    for g in GROUPS:
        if g in f:
            f[g].visititems(lambda n, o, g=g: visit(g + "/" + n, o))
    return out


def raw(d):
    a = d[()]
    if d.dtype.kind == "O":  # vlen strings: compare the bytes of each
        return [x if isinstance(x, bytes) else str(x).encode() for x in np.ravel(a)]
    return np.ascontiguousarray(a).tobytes()


def main():
    if len(sys.argv) != 3:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    ref_path, path = sys.argv[1], sys.argv[2]
    try:
        ref, got = h5py.File(ref_path, "r"), h5py.File(path, "r")
    except OSError as e:
        print(f"{path}: cannot open: {e}")
        return 2
    a, b = datasets(ref), datasets(got)
    bad = []
    for name in sorted(set(a) - set(b)):
        bad.append(f"/{name}: missing")
    for name in sorted(set(b) - set(a)):
        bad.append(f"/{name}: not in the reference")
    for name in sorted(set(a) & set(b)):
        x, y = a[name], b[name]
        if x.dtype != y.dtype or x.shape != y.shape:
            bad.append(f"/{name}: {y.dtype}{y.shape}, reference {x.dtype}{x.shape}")
            continue
        if raw(x) != raw(y):
            msg = f"/{name}: contents differ"
            if x.dtype.kind in "fiu" and x.size:
                xv, yv = x[()].ravel(), y[()].ravel()
                rows = lambda v: v.view(np.uint8).reshape(v.size, -1)
                diff = np.flatnonzero(np.any(rows(xv) != rows(yv), axis=1))
                msg += f" at {diff.size} of {xv.size} elements (first {diff[0]}: {yv[diff[0]]!r}, " \
                       f"reference {xv[diff[0]]!r})"
            bad.append(msg)
    if "progress/done" not in got:
        bad.append("/progress/done: missing")
    else:
        done = got["progress/done"][()]
        if done.size and not np.all(done == 1):
            bad.append(f"/progress/done: {int(np.sum(done != 1))} of {done.size} reviews not done")
    if not a:
        bad.append(f"{ref_path}: the reference holds no result datasets")
    for line in bad:
        print(f"{path}: {line}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
