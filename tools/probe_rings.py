#!/usr/bin/python3
"""probe_rings.py - linear-probe report on the DECaLS ring set.

How well does a representation separate rings from the (matched, featured)
non-rings with few labels?  For each feature set: 5-fold stratified CV; in
each fold the test fold is held out and a training set of N galaxies
(balanced, drawn from the other folds) is used, N in 20/50/100/160.  The
probe is a logistic regression on standardised features; its L2 strength
(and, for raw pixels, the number of PCA components) is chosen by an inner
cross-validation on the training set only.  Reported: mean and spread of
ROC AUC and accuracy over folds x repeats.

Inputs are CSVs written by `zoosh export WS --format features --set NAME`
(id_str,feat_0..) and the catalog (id, ring).  Driven by tools/probe_rings.sh.

  probe_rings.py CATALOG.csv NAME=FILE.csv [NAME=FILE.csv ...]
                 [--combine A+B] [--folds 5] [--sizes 20,50,100,160] [--repeats 3]
                 [--seed 0] [--tsv OUT.tsv]

NAME 'pixels' gets the raw-pixel pipeline (PCA inside the fold, the floor);
a NAME starting 'pca' (zoosh's stored PCA of a set, fitted on the whole
workspace without labels, as the product does) is used as it is.
--combine A+B concatenates two sets, each block scaled by 1/sqrt(its width)
after standardising so a wide block does not drown a narrow one.
"""
import argparse
import atexit
import csv
import shutil
import sys
import tempfile
import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

warnings.filterwarnings("ignore", category=ConvergenceWarning)
warnings.filterwarnings("ignore", category=UserWarning)
CACHE = tempfile.mkdtemp(prefix="zoosh-probe-cache.")
atexit.register(shutil.rmtree, CACHE, True)


def load_features(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        head = next(r)
        if not head or head[0] not in ("id_str", "id"):
            sys.exit("%s: line 1: expected id_str,feat_0,... not %s" % (path, ",".join(head[:3])))
        ids, rows = [], []
        for ln, row in enumerate(r, start=2):
            if len(row) != len(head):
                sys.exit("%s: line %d: %d fields, header has %d" % (path, ln, len(row), len(head)))
            ids.append(row[0])
            try:
                rows.append([float(v) for v in row[1:]])
            except ValueError as e:
                sys.exit("%s: line %d: %s" % (path, ln, e))
    return ids, np.asarray(rows, dtype=np.float64)


def load_labels(path):
    with open(path, newline="") as f:
        r = csv.DictReader(f)
        if "ring" not in r.fieldnames:
            sys.exit("%s: no 'ring' column" % path)
        key = "id_str" if "id_str" in r.fieldnames else "id"
        return {row[key]: int(float(row["ring"])) for row in r if row["ring"] != ""}


def block_scaler(widths):
    """Standardised columns -> each block divided by sqrt(its width)."""
    scale = np.concatenate([np.full(w, 1 / np.sqrt(w)) for w in widths])
    return FunctionTransformer(lambda z: z * scale)


def make_model(kind, n_train, widths=None):
    """kind: 'pixels' (standardise, PCA in the fold, logistic), 'raw' (zoosh's
    stored PCA projections, used as they are: standardising them again would
    blow up the noisy last components), else standardised features."""
    inner = max(2, min(5, n_train // 2 // 2))   # at least 2 of each class per inner fold
    cs = np.logspace(-5, 2, 15)
    if kind == "pixels":
        ncomp = [c for c in (5, 10, 20, 40) if c < n_train * (inner - 1) / inner]
        # the scaler + PCA of each inner fold are cached, not refitted for every C
        pipe = make_pipeline(StandardScaler(), PCA(random_state=0),
                             LogisticRegression(max_iter=3000), memory=CACHE)
        grid = {"pca__n_components": ncomp, "logisticregression__C": cs}
    elif kind == "raw":
        pipe = make_pipeline(LogisticRegression(max_iter=3000))
        grid = {"logisticregression__C": cs}
    else:
        steps = [StandardScaler()]
        if widths:
            steps.append(block_scaler(widths))
        steps.append(LogisticRegression(max_iter=3000))
        pipe = make_pipeline(*steps)
        grid = {"logisticregression__C": cs}
    return GridSearchCV(pipe, grid, cv=StratifiedKFold(inner, shuffle=True, random_state=0),
                        scoring="roc_auc", n_jobs=1)


def probe(X, y, kind, sizes, folds, repeats, seed, widths=None):
    out = {}
    for n in sizes:
        aucs, accs = [], []
        for rep in range(repeats):
            skf = StratifiedKFold(folds, shuffle=True, random_state=seed + rep)
            for k, (tr, te) in enumerate(skf.split(X, y)):
                rng = np.random.RandomState(1000 * (seed + rep) + k)
                if n < len(tr):
                    pos = rng.permutation(tr[y[tr] == 1])[: n // 2]
                    neg = rng.permutation(tr[y[tr] == 0])[: n - n // 2]
                    tr = np.concatenate([pos, neg])
                m = make_model(kind, len(tr), widths)
                m.fit(X[tr], y[tr])
                p = m.predict_proba(X[te])[:, 1]
                aucs.append(roc_auc_score(y[te], p))
                accs.append(accuracy_score(y[te], p > 0.5))
        out[n] = (np.mean(aucs), np.std(aucs), np.mean(accs), np.std(accs), len(aucs))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("catalog")
    ap.add_argument("sets", nargs="+", help="NAME=FILE.csv")
    ap.add_argument("--combine", action="append", default=[])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--sizes", default="20,50,100,160")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tsv")
    a = ap.parse_args()

    labels = load_labels(a.catalog)
    data = {}
    for s in a.sets:
        if "=" not in s:
            sys.exit("expected NAME=FILE.csv, not %s" % s)
        name, path = s.split("=", 1)
        ids, X = load_features(path)
        data[name] = dict(zip(ids, X))
    common = sorted(set(labels).intersection(*[set(d) for d in data.values()]))
    if len(common) < 2 * a.folds:
        sys.exit("only %d galaxies have both a ring label and features" % len(common))
    y = np.array([labels[i] for i in common])
    sizes = [int(v) for v in a.sizes.split(",")]
    max_train = len(common) - len(common) // a.folds
    sizes = [min(n, max_train) for n in sizes]

    runs = []
    for name, d in data.items():
        X = np.array([d[i] for i in common])
        kind = "pixels" if name.startswith("pixels") else "raw" if (name.startswith("pca") or "_pca" in name) else "features"
        runs.append((name, X, kind, None))
    for c in a.combine:
        parts = c.split("+")
        if any(p not in data for p in parts):
            sys.exit("--combine %s: unknown set" % c)
        blocks = [np.array([data[p][i] for i in common]) for p in parts]
        runs.append((c, np.hstack(blocks), "features", [b.shape[1] for b in blocks]))

    print("ring linear probe: %d galaxies (%d rings), %d-fold CV x %d repeats, "
          "L2 (and pixel PCA size) by inner CV" % (len(common), y.sum(), a.folds, a.repeats))
    print("%-22s %5s %6s  %-13s %-13s" % ("representation", "dims", "n_train", "AUC", "accuracy"))
    rows = []
    for name, X, kind, widths in runs:
        res = probe(X, y, kind, sizes, a.folds, a.repeats, a.seed, widths)
        for n, (am, asd, cm, csd, nf) in res.items():
            print("%-22s %5d %6d   %.3f +- %.3f  %.3f +- %.3f" % (name, X.shape[1], n, am, asd, cm, csd))
            rows.append((name, X.shape[1], n, am, asd, cm, csd, nf))
        sys.stdout.flush()
    if a.tsv:
        with open(a.tsv, "w") as f:
            f.write("set\tdims\tn_train\tauc\tauc_sd\taccuracy\taccuracy_sd\tn_fits\n")
            for r in rows:
                f.write("%s\t%d\t%d\t%.4f\t%.4f\t%.4f\t%.4f\t%d\n" % r)


if __name__ == "__main__":
    main()
