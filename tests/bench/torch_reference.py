#!/usr/bin/env python3
"""The peers' way of computing IG-50 Gauss-Legendre, for bench_attr to beat.

Captum-style: all n_steps interpolated inputs of a review are one batch that
goes forward and backward through the whole network in PyTorch (no reuse of
the linear first layer, no caching of the baseline). Same .h5 weights, float32,
one thread. Inputs: random in-vocabulary token ids with the models' lengths
(speed does not depend on the words). Prints reviews/s per model.

usage: torch_reference.py [--shared DIR] [--reviews N] [--steps N] [--threads N]

--threads (default 1) sizes PyTorch's intra-op pool, for comparing against
tokattr on as many ranks. OpenBLAS stays at one thread inside torch's
threads: letting both spawn threads oversubscribes the cores (measured: the
LSTM at 4 reviews/s on 2 cores against 25 on one).
"""
import argparse
import os
import sys
import time


def _threads_from_argv():
    for i, arg in enumerate(sys.argv):
        if arg == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return "1"


# torch's intra-op pool (set_num_threads below) and its OpenMP/MKL pools get
# --threads; the BLAS it calls into one thread, as in a tokattr rank. The
# libraries read these variables when they load.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _threads_from_argv()
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402




class CNN(torch.nn.Module):
    def __init__(self, path):
        super().__init__()
        f = h5py.File(path, "r")
        w = lambda n: torch.tensor(f["model_weights/" + n][()])
        self.emb = w("embedding/embedding/embeddings:0")
        self.conv = torch.nn.Conv1d(50, 250, 3)
        self.conv.weight.data = w("conv1d/conv1d/kernel:0").permute(2, 1, 0).contiguous()
        self.conv.bias.data = w("conv1d/conv1d/bias:0")
        self.d1 = torch.nn.Linear(250, 250)
        self.d1.weight.data = w("dense/dense/kernel:0").T.contiguous()
        self.d1.bias.data = w("dense/dense/bias:0")
        self.d2 = torch.nn.Linear(250, 2)
        self.d2.weight.data = w("dense_1/dense_1/kernel:0").T.contiguous()
        self.d2.bias.data = w("dense_1/dense_1/bias:0")
        self.maxlen = 100

    def forward(self, x):  # x (batch, steps, 50) -> probs (batch, 2)
        h = torch.relu(self.conv(x.transpose(1, 2))).amax(dim=2)
        return torch.softmax(self.d2(torch.relu(self.d1(h))), dim=1)


class LSTM(torch.nn.Module):
    def __init__(self, path):
        super().__init__()
        f = h5py.File(path, "r")
        w = lambda n: torch.tensor(f["model_weights/" + n][()])
        self.emb = w("embedding/embedding/embeddings:0")
        self.lstm = torch.nn.LSTM(128, 128, batch_first=True)
        self.lstm.weight_ih_l0.data = w("lstm/lstm/lstm_cell/kernel:0").T.contiguous()
        self.lstm.weight_hh_l0.data = w("lstm/lstm/lstm_cell/recurrent_kernel:0").T.contiguous()
        self.lstm.bias_ih_l0.data = w("lstm/lstm/lstm_cell/bias:0")
        self.lstm.bias_hh_l0.data.zero_()
        self.d = torch.nn.Linear(128, 1)
        self.d.weight.data = w("dense/dense/kernel:0").T.contiguous()
        self.d.bias.data = w("dense/dense/bias:0")
        self.maxlen = 80

    def forward(self, x):  # x (batch, steps, 128) -> p (batch, 1)
        _, (h, _) = self.lstm(x)
        return torch.sigmoid(self.d(h[-1]))


def ig(model, ids, alphas, weights_):
    """Captum's IntegratedGradients with method='gausslegendre', baseline pad."""
    x = model.emb[ids]                      # (steps, D)
    xb = model.emb[0].expand_as(x)          # pad baseline
    with torch.no_grad():
        target = int(model(x[None]).argmax(dim=1)) if model.emb.shape[1] == 50 else 0
    path = xb[None] + alphas[:, None, None] * (x - xb)[None]  # (n, steps, D)
    path.requires_grad_(True)
    out = model(path)[:, target].sum()
    (g,) = torch.autograd.grad(out, path)
    return ((x - xb) * (weights_[:, None, None] * g).sum(0)).sum(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.environ.get("TOKATTR_SHARED", "../shared"))
    ap.add_argument("--reviews", type=int, default=100)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    xi, wi = np.polynomial.legendre.leggauss(a.steps)
    alphas = torch.tensor(0.5 * (xi + 1), dtype=torch.float32)
    wts = torch.tensor(0.5 * wi, dtype=torch.float32)
    rng = np.random.default_rng(1)
    for name, cls, fname in (("cnn", CNN, "imdb_cnn.h5"), ("lstm", LSTM, "imdb_lstm.h5")):
        model = cls(os.path.join(a.shared, "models", fname)).eval()
        vocab = model.emb.shape[0]
        ids = torch.tensor(rng.integers(4, vocab, size=(a.reviews, model.maxlen)))
        ig(model, ids[0], alphas, wts)  # warm-up
        t0 = time.perf_counter()
        for r in range(a.reviews):
            ig(model, ids[r], alphas, wts)
        dt = time.perf_counter() - t0
        print(f"torch {name} integrated_gradients gausslegendre-{a.steps}: "
              f"{a.reviews / dt:.2f} reviews/s ({1e3 * dt / a.reviews:.2f} ms/review, "
              f"{a.threads} thread{'s' if a.threads > 1 else ''})")


if __name__ == "__main__":
    main()
