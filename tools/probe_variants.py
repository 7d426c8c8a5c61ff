#!/usr/bin/python3
"""probe_variants.py - other linear probes of the features zoosh stores (issue 5).

tools/probe_rings.sh probes each stored set one way (logistic regression, L2
by inner CV).  This asks whether another linear probe, another PCA size or
other block weights would move the ring AUC, on the sets `zoosh embed`
stores (morph, convnext, votes, pca40):

  tools/probe_rings.sh --catalog CAT --keep      (says which directory it kept:
      morph.csv, convnext.csv, votes.csv, pca40_default.csv)
  tools/probe_variants.py DIR CAT [DIR CAT ...]

Each variant: 160 balanced labels, 5-fold x 3 (the same draws as
tools/embed_variants.py), mean ROC AUC.  Variants: the stored PCA-40 with
logistic regression (the default) or shrinkage LDA; the balanced blocks
without PCA; PCA-20/60/100 of them; PCA-40 with one block weighted 2x or
0.5x.  About 1.5 minutes a set on 2 cores.  Debian's python3-sklearn.
"""
import os
import sys
import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from probe_rings import load_features, load_labels  # noqa: E402

warnings.filterwarnings("ignore")
CS = np.logspace(-5, 2, 15)


def load(d, cat):
    lab = load_labels(cat)
    blocks, ids0 = {}, None
    for s in ("morph", "convnext", "votes", "pca40_default"):
        ids, X = load_features(os.path.join(d, s + ".csv"))
        if ids0 is not None and ids != ids0:
            sys.exit("%s/%s.csv: galaxies differ from %s/morph.csv" % (d, s, d))
        ids0, blocks[s] = ids, X
    missing = [i for i in ids0 if i not in lab]
    if missing:
        sys.exit("%s: no ring label for %s" % (cat, missing[0]))
    return blocks, np.array([lab[i] for i in ids0])


def balanced(blocks, w):
    return np.hstack([wi * (b - b.mean(0)) / (b.std(0) + 1e-9) / np.sqrt(b.shape[1])
                      for b, wi in zip(blocks, w)])


def cv(X, y, fit, n=160, reps=3):
    a = []
    for rep in range(reps):
        for k, (tr, te) in enumerate(StratifiedKFold(5, shuffle=True, random_state=rep).split(X, y)):
            rng = np.random.RandomState(1000 * rep + k)
            tr = np.concatenate([rng.permutation(tr[y[tr] == 1])[:n // 2],
                                 rng.permutation(tr[y[tr] == 0])[:n - n // 2]])
            a.append(roc_auc_score(y[te], fit(X[tr], y[tr], X[te])))
    return float(np.mean(a))


def logistic(scale):
    def fit(xtr, ytr, xte):
        steps = ([StandardScaler()] if scale else []) + [LogisticRegression(max_iter=3000)]
        m = GridSearchCV(make_pipeline(*steps), {"logisticregression__C": CS},
                         cv=StratifiedKFold(5, shuffle=True, random_state=0), scoring="roc_auc")
        return m.fit(xtr, ytr).predict_proba(xte)[:, 1]
    return fit


def lda(xtr, ytr, xte):
    s = StandardScaler().fit(xtr)
    m = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(s.transform(xtr), ytr)
    return m.decision_function(s.transform(xte))


def main():
    a = sys.argv[1:]
    if not a or len(a) % 2:
        sys.exit("usage: tools/probe_variants.py DIR CATALOG.csv [DIR CATALOG.csv ...]")
    print("set\tvariant\tauc_160")
    for d, cat in zip(a[::2], a[1::2]):
        B, y = load(d, cat)
        name = os.path.basename(os.path.dirname(os.path.abspath(cat)))
        raw = [B["morph"], B["convnext"], B["votes"]]
        comb = balanced(raw, [1, 1, 1])
        variants = [("stored pca40, logistic (the default)", lambda: cv(B["pca40_default"], y, logistic(False))),
                    ("stored pca40, shrinkage LDA", lambda: cv(B["pca40_default"], y, lda)),
                    ("no PCA, balanced blocks, logistic", lambda: cv(comb, y, logistic(True)))]
        for k in (20, 60, 100):
            variants.append(("PCA-%d, logistic" % k,
                             lambda k=k: cv(PCA(k, random_state=0).fit_transform(comb), y, logistic(False))))
        for w in ([2, 1, 1], [1, 2, 1], [1, 1, 2], [0.5, 1, 1], [1, 0.5, 1]):
            variants.append(("PCA-40, weights morph:encoder:votes %g:%g:%g" % tuple(w),
                             lambda w=w: cv(PCA(40, random_state=0).fit_transform(balanced(raw, w)), y,
                                            logistic(False))))
        for label, run in variants:
            print("%s\t%s\t%.3f" % (name, label, run()), flush=True)


if __name__ == "__main__":
    main()
