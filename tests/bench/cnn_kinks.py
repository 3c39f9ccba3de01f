# Counts the pieces of the IMDB CNN's path integrand (not a test): along
# x' + alpha (x - x'), alpha in [0, 1], with the pad baseline, the logit of
# Conv1D(relu, valid, kernel 3) -> GlobalMaxPooling1D -> Dense(relu) ->
# Dense is piecewise linear in alpha; its kinks are the relu crossings and
# winner changes of each filter's upper envelope, then the dense relu
# crossings between those. Between two kinks the gradient of the logit is
# constant, so IG is exact with one fast-path point per piece (weighted by
# the piece's exact integral of the output nonlinearity). This prints how
# many pieces the reviews have, i.e. what an exact CNN rule would cost.
#
#   /usr/bin/python3 tests/bench/cnn_kinks.py MODEL.h5 DATASET.h5 N   (h5py, numpy)
# for the keras_imdb_cnn.h5 layout (maxlen 100, num_words 10000, pre padding).
import h5py, numpy as np, sys
f = h5py.File(sys.argv[1], 'r')['model_weights']
E = f['embedding/embedding/embeddings:0'][...].astype(np.float64)
K = f['conv1d/conv1d/kernel:0'][...].astype(np.float64); cb = f['conv1d/conv1d/bias:0'][...]
W1 = f['dense/dense/kernel:0'][...].astype(np.float64); b1 = f['dense/dense/bias:0'][...]
d = h5py.File(sys.argv[2], 'r')['test']
ids_all, off = d['ids'][...], d['offset'][...]
def conv(X):
    out = X.shape[0] - 2
    z = np.tile(cb.astype(np.float64), (out, 1))
    for j in range(3):
        z += X[j:j + out] @ K[j]
    return z
def pooled(a, b, al):  # (P,) alphas -> (P, f)
    return np.maximum(0, (a[None] + al[:, None, None] * b[None]).max(axis=1))
counts = []
for r in range(0, 25000, 25000 // int(sys.argv[3])):
    ids = ids_all[off[r]:off[r + 1]][-100:].copy()
    ids[ids >= 10000] = 2
    ids = np.concatenate([np.zeros(100 - len(ids), dtype=ids.dtype), ids])
    X, XB = E[ids], E[np.zeros(100, dtype=int)]
    a = conv(XB); b = conv(X) - a
    bps = set()
    for q in range(a.shape[1]):
        A, B = a[:, q], b[:, q]
        al = 0.0
        c = max(range(len(A)), key=lambda t: (A[t], B[t]))
        while True:
            cand = [((A[c] - A[t]) / (B[t] - B[c]), t) for t in range(len(A)) if B[t] > B[c]]
            cand = [(x, t) for x, t in cand if x > al + 1e-15]
            nxt = min(cand) if cand else (2.0, c)
            hi = min(nxt[0], 1.0)
            # relu kink inside [al, hi] on line c
            if B[c] != 0:
                z = -A[c] / B[c]
                if al < z < hi:
                    bps.add(z)
            if nxt[0] >= 1.0:
                break
            bps.add(nxt[0]); al = nxt[0]
            ties = [t for x, t in cand if x == nxt[0]]
            c = max(ties, key=lambda t: B[t])
    b1s = np.array(sorted(bps | {0.0, 1.0}))
    pre = pooled(a, b, b1s) @ W1 + b1  # (P, 250), linear between consecutive points
    s0, s1 = pre[:-1], pre[1:]
    cross = (s0 * s1) < 0
    n2 = int(cross.sum())
    counts.append((len(bps), n2, len(bps) + n2 + 1))
c = np.array(counts)
print(f"{len(c)} reviews: conv/pool/relu kinks mean {c[:,0].mean():.1f} max {c[:,0].max()}; dense relu kinks mean {c[:,1].mean():.1f} max {c[:,1].max()}; pieces mean {c[:,2].mean():.1f}, median {np.median(c[:,2]):.0f}, max {c[:,2].max()}")
