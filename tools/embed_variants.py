#!/usr/bin/python3
"""embed_variants.py - embed-time variants of zoosh's shipped encoder, probed.

A PyTorch copy of the network (tools/make_fixtures.py's ConvNeXt with timm's
names) loads sample_data/encoder.safetensors; each galaxy's central half is
box-resampled to 64 px with PIL (zoosh's embed does the same in C, from the
stored thumbnail, so figures differ from zoosh's by about 0.003).  Each
variant is probed as tools/probe_rings.py probes a set: logistic regression
on standardised features, L2 by inner CV, 160 balanced labels, 5-fold x 3,
mean ROC AUC.  Variants: pooling (mean as shipped, max, both, stage 3) and
matching the pixels to the training images' statistics (per-channel mean and
spread, per-channel histogram, one histogram), no labels used; and test-time
augmentation (the embedding averaged over the 8 rotations and flips, alone
and with a second crop of 0.7 of the frame).

  tools/embed_variants.py [RING_CATALOG.csv ...]   (id, file, ring; default
      ../shared/data/decals_rings/catalog.csv; the GZ2 ring-vote set from
      tools/gz2_ringval.sh --labels > val.csv is the other one used)
Debian's python3-torch, python3-sklearn, python3-pil.
"""
import csv
import json
import os
import random
import struct
import sys
import warnings

import numpy as np
import torch
from PIL import Image
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("ZT_SHARED", os.path.join(os.path.dirname(ROOT), "shared", "data"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from make_fixtures import ConvNeXt  # noqa: E402

warnings.filterwarnings("ignore", category=ConvergenceWarning)
torch.set_num_threads(2)


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        head = json.loads(f.read(n))
        meta = head.pop("__metadata__", {})
        out = {}
        for k, v in head.items():
            if v["dtype"] != "F32":
                sys.exit("%s: tensor %s is %s, expected F32" % (path, k, v["dtype"]))
            a, b = v["data_offsets"]
            f.seek(8 + n + a)
            out[k] = torch.tensor(np.frombuffer(f.read(b - a), dtype=np.float32).reshape(v["shape"]).copy())
    return out, meta


def encoder(path):
    t, meta = load_safetensors(path)
    depths = [1 + max(int(k.split(".")[3]) for k in t if k.startswith("stages.%d.blocks." % i)) for i in range(4)]
    dims = [t["stages.%d.blocks.0.gamma" % i].numel() for i in range(4)]
    m = ConvNeXt(depths, dims).eval()
    sd = {k: (v[:, :, None, None] if ".mlp.fc" in k and v.ndim == 2 else v)
          for k, v in t.items() if not k.startswith("head.fc")}
    m.load_state_dict(sd, strict=True)
    return m, int(meta.get("zoosh_input_size", 64)), float(meta.get("zoosh_crop", 0.5))


def crop(path, frac, size):
    im = Image.open(path).convert("RGB")
    w, h = im.size
    s = min(w, h) * frac
    im = im.crop(((w - s) / 2, (h - s) / 2, (w + s) / 2, (h + s) / 2)).resize((size, size), Image.BOX)
    return np.asarray(im, dtype=np.float32) / 255


def ring_set(cat, frac, size):
    X, y = [], []
    base = os.path.dirname(cat)
    with open(cat, newline="") as f:
        for ln, r in enumerate(csv.DictReader(f), start=2):
            try:
                y.append(int(float(r["ring"])))
            except (KeyError, ValueError):
                sys.exit("%s: line %d: no 0/1 ring" % (cat, ln))
            X.append(crop(os.path.join(base, r["file"]), frac, size))
    return np.stack(X), np.array(y)


def probe(X, y, n=160, folds=5, reps=3):
    aucs = []
    for rep in range(reps):
        for k, (tr, te) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=rep).split(X, y)):
            rng = np.random.RandomState(1000 * rep + k)
            if n < len(tr):
                tr = np.concatenate([rng.permutation(tr[y[tr] == 1])[:n // 2],
                                     rng.permutation(tr[y[tr] == 0])[:n - n // 2]])
            m = GridSearchCV(make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)),
                             {"logisticregression__C": np.logspace(-5, 2, 15)},
                             cv=StratifiedKFold(5, shuffle=True, random_state=0), scoring="roc_auc")
            m.fit(X[tr], y[tr])
            aucs.append(roc_auc_score(y[te], m.predict_proba(X[te])[:, 1]))
    return float(np.mean(aucs))


def balanced(*blocks):
    return np.hstack([(b - b.mean(0)) / (b.std(0) + 1e-9) / np.sqrt(b.shape[1]) for b in blocks])


def main():
    cats = sys.argv[1:] or [os.path.join(SHARED, "decals_rings", "catalog.csv")]
    m, size, frac = encoder(os.path.join(ROOT, "sample_data", "encoder.safetensors"))
    gz = os.path.join(SHARED, "kaggle_gz2_votes")
    with open(os.path.join(gz, "catalog.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    random.seed(0)
    train = np.stack([crop(os.path.join(gz, r["file"]), frac, size) for r in random.sample(rows, 600)])
    tf = train.reshape(-1, 3)
    q = np.linspace(0, 1, 257)
    tq, tqa = np.quantile(tf, q, axis=0), np.quantile(tf.ravel(), q)

    def run(X):
        with torch.no_grad():
            x = torch.tensor(X, dtype=torch.float32).permute(0, 3, 1, 2)
            h3 = m.stages[:3](m.stem(x))
            h = m.stages[3](h3)
            return m.head(h).numpy(), h.amax((2, 3)).numpy(), h3.mean((2, 3)).numpy()

    def dihedral(X):
        """The shipped embedding averaged over the 8 rotations and flips."""
        with torch.no_grad():
            x = torch.tensor(X, dtype=torch.float32).permute(0, 3, 1, 2)
            views = [torch.rot90(x, k, (2, 3)) for k in range(4)]
            views += [torch.flip(v, (3,)) for v in views]
            return np.mean([m.head(m.stages(m.stem(v))).numpy() for v in views], 0)

    print("set\tvariant\tauc_160")
    for cat in cats:
        X, y = ring_set(cat, frac, size)
        xf = X.reshape(-1, 3)
        mean, mx, s3 = run(X)
        wq = np.quantile(xf, q, axis=0)
        variants = [
            ("mean pool (as shipped)", mean), ("max pool", mx), ("mean + max", balanced(mean, mx)),
            ("stage-3 mean", s3), ("last + stage 3", balanced(mean, s3)),
            ("pixels: channel mean/spread matched", run(np.clip((X - xf.mean(0)) / xf.std(0) * tf.std(0) + tf.mean(0), 0, 1))[0]),
            ("pixels: channel histograms matched", run(np.stack([np.interp(X[..., c], wq[:, c], tq[:, c]) for c in range(3)], -1))[0]),
            ("pixels: one histogram matched", run(np.interp(X, np.quantile(xf.ravel(), q), tqa))[0]),
        ]
        tta = dihedral(X)
        variants += [("8 rotations/flips averaged", tta),
                     ("8 views, crops 0.5 + 0.7", balanced(tta, dihedral(ring_set(cat, 0.7, size)[0])))]
        for name, E in variants:
            print("%s\t%s\t%.3f" % (os.path.basename(os.path.dirname(cat)) or cat, name, probe(E, y)), flush=True)


if __name__ == "__main__":
    main()
