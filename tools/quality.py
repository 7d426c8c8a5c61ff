#!/usr/bin/python3
"""quality.py - issue 18's figures, measured with the plain user commands.

Driven by tools/quality.sh (`make quality`); see its header and
docs/encoder.md "Measuring quality" for the protocol.  Every figure comes from
`zoosh init / import / embed / train / export / simulate` with their defaults,
on workspaces made here from ../shared/data:

  rings    DECaLS rings (REPORT set): 200 galaxies, fixed seeded stratified
           5-fold split x REPEATS; per fold the 160 training galaxies' `ring`
           imported as catalog labels, `zoosh train --task ring`, `zoosh export
           --format predictions`, AUC on the 40 others; beside it a logistic
           probe (sklearn, standardised features, C by 5-fold CV) on the
           default set (`zoosh export --format features`).
  gz2rings GZ2 ring votes (CHOOSE set): the same on the 320 galaxies of
           tools/gz2_ringval.sh --labels.
  tags     DECaLS DR5 tags (CHOOSE set): 7 tags, each a yes/no task of its
           own (schema file `tag`), 200 labels per tag (seeded stratified),
           AUC on the other galaxies; the same probe beside it.
  rmse     GZ2 votes RMSE over the 37 Kaggle columns: the encoder's `votes`
           set turned back into Kaggle's cumulative fractions, on the split of
           tools/gz2_split.sh and on the 320 ring-vote galaxies; the mean
           predictor (catalog mean of the galaxies outside both) beside it.
  hsc      HSC anomalies: `zoosh simulate --task interest --rate-from
           human_interesting --budget 50`, SEEDS seeds, interest order and
           random order, on the labelled rows, half A (choose) and half B
           (report): labelled rows sorted by id, even / odd positions.

Prints progress on stderr and one Markdown table on stdout.
"""
import argparse
import csv
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

sk = None   # sklearn's parts, imported (slowly) once the options and the data are checked


def import_sklearn():
    global sk
    import types
    try:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import roc_auc_score
        from sklearn.model_selection import GridSearchCV, StratifiedKFold, StratifiedShuffleSplit
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
    except ImportError as e:
        die("%s: %s (apt-get install python3-sklearn)" % (sys.executable, e))
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    sk = types.SimpleNamespace(LogisticRegression=LogisticRegression, roc_auc_score=roc_auc_score,
                               GridSearchCV=GridSearchCV, StratifiedKFold=StratifiedKFold,
                               StratifiedShuffleSplit=StratifiedShuffleSplit, make_pipeline=make_pipeline,
                               StandardScaler=StandardScaler)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TAGS = ["spiral_arms_yes", "cigar_shaped", "merging_merger", "artifact",
        "bulge_boxy", "central_bulge_dominant", "strong_bar"]
TAG_SCHEMA = 'task tag\nquestion tag "Does the galaxy carry the tag?"\n  answer yes "Yes"\n  answer no "No"\n'
# Kaggle's cumulative fractions: each class is reached through this answer
# (None: the root, reached by everyone)
KAGGLE_PARENT = {1: None, 2: "Class1.2", 3: "Class2.2", 4: "Class2.2", 5: "Class2.2", 6: None,
                 7: "Class1.1", 8: "Class6.1", 9: "Class2.1", 10: "Class4.1", 11: "Class4.1"}
SETS = ("rings", "gz2rings", "tags", "rmse", "hsc")


def log(msg):
    print("quality: " + msg, file=sys.stderr, flush=True)


def die(msg, code=1):
    print("quality: " + msg, file=sys.stderr, flush=True)
    sys.exit(code)


class Zoosh:
    """Runs the zoosh binary; any failure stops the run with its message."""

    def __init__(self, path, threads, opts):
        self.path, self.threads, self.opts = path, threads, opts

    def __call__(self, *args):
        r = subprocess.run([self.path] + [str(a) for a in args], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            die("zoosh %s failed (exit %d): %s" % (" ".join(str(a) for a in args), r.returncode,
                                                 (r.stderr or r.stdout).strip()[-600:]))
        return r.stdout


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def load_features(path):
    ids, X = [], []
    with open(path, newline="") as f:
        r = csv.reader(f)
        next(r)
        for row in r:
            ids.append(row[0])
            X.append([float(v) for v in row[1:]])
    return ids, np.asarray(X, dtype=np.float64)


def label_free_order(rows, salt=1):
    """rows (id first) in the order of a hash of salt and id.  Catalogs come
    grouped by label (hsc_anomalies lists its interesting galaxies first and
    last) and zoosh ranks ties in import order, so an import in catalog order
    can carry the labels into a ranking."""
    return sorted(rows, key=lambda r: hashlib.sha1(("%d:%s" % (salt, r[0])).encode()).digest())


def base_workspace(z, work, name, rows, schema=None, root=None, header=("id", "file"), salt=1):
    """A workspace of rows (tuples matching header, id first), imported in a
    label-free order and embedded with the defaults.  Returns its path."""
    ws = os.path.join(work, name)
    cat = ws + ".csv"
    write_csv(cat, header, label_free_order(rows, salt))
    z("init", ws, *(["--schema", schema] if schema else []))
    z("import", ws, cat, "--threads", z.threads, *(["--root", root] if root else []))
    z("embed", ws, "--quiet", "--threads", z.threads, *z.opts["embed"])
    return ws


def train_predict(z, work, base, name, task, labelled, file_of):
    """Copy of the embedded workspace base; the labelled galaxies ({id: 0/1})
    imported as the task's catalog labels; zoosh train --task; the yes
    probability zoosh export --format predictions gives every galaxy."""
    ws = os.path.join(work, name)
    shutil.copytree(base, ws, symlinks=True)
    cat = ws + ".csv"
    write_csv(cat, ("id", "file", task), [(i, file_of[i], y) for i, y in labelled.items()])
    z("import", ws, cat, "--no-thumbs")
    z("train", ws, "--task", task, *z.opts["train"])
    pred = ws + ".pred.csv"
    z("export", ws, "--format", "predictions", "--task", task, "-o", pred)
    col = task + "_yes_pred"
    out = {r["id_str"]: float(r[col]) for r in read_csv(pred)}
    shutil.rmtree(ws)
    return out


PROBE_SCALE = True


def probe_scores(X, y, tr, te):
    """The issue's probe: logistic regression on standardised features, C by
    5-fold CV (stratified, fewer folds when a class is smaller).  Without
    PROBE_SCALE (--probe-raw) the features go in as exported."""
    inner = int(max(2, min(5, np.bincount(y[tr], minlength=2).min())))
    steps = [sk.StandardScaler()] if PROBE_SCALE else []
    pipe = sk.make_pipeline(*steps, sk.LogisticRegression(max_iter=5000))
    g = sk.GridSearchCV(pipe, {"logisticregression__C": np.logspace(-4, 2, 13)},
                        cv=sk.StratifiedKFold(inner, shuffle=True, random_state=0), scoring="roc_auc")
    g.fit(X[tr], y[tr])
    return g.predict_proba(X[te])[:, 1]


def auc(y, p):
    return sk.roc_auc_score(y, p) if 0 < y.sum() < len(y) else float("nan")


def mean_sd(v):
    v = np.asarray([x for x in v if x == x], dtype=np.float64)
    if len(v) == 0:
        return float("nan"), float("nan"), 0
    return v.mean(), (v.std(ddof=1) if len(v) > 1 else 0.0), len(v)


class Table:
    """Rows of the printed table.  Each row keeps the values it is the mean
    of (folds, splits, seeds; for an RMSE the galaxies' squared errors), so a
    saved run can be compared with another on the same units (--against)."""

    def __init__(self, against=None):
        self.rows, self.notes, self.against = [], [], against or {}

    def add(self, key, dataset, role, figure, units, values, kind="mean", secs=None, fmt="%.3f"):
        v = np.asarray(values, dtype=np.float64)
        fmt0 = fmt.replace("+", "")
        if kind == "rmse":
            value = fmt % np.sqrt(v.mean())
            noise = ("+-" + fmt0 + " bootstrap sd") % np.std(boot_rmse(v, None))
        else:
            m, s, n = mean_sd(v)
            value, noise = fmt % m, ("+-" + fmt0 + " sd of %d %s") % (s, n, units)
        self.rows.append(dict(key=key, cells=[dataset, role, figure, value, noise,
                                              "" if secs is None else "%.0f s" % secs],
                              kind=kind, values=[float(x) for x in v], fmt=fmt))

    def change(self, r):
        old = self.against.get(r["key"])
        if not old or old["kind"] != r["kind"] or len(old["values"]) != len(r["values"]):
            return "-"
        new, old = np.asarray(r["values"]), np.asarray(old["values"])
        fmt = r["fmt"].replace("+", "")
        if r["kind"] == "rmse":
            d = boot_rmse(new, old)
            return ("%+" + fmt[1:] + " +-" + fmt) % (np.sqrt(new.mean()) - np.sqrt(old.mean()), np.std(d))
        d = new - old
        ok = d == d
        if not ok.any():
            return "-"
        se = d[ok].std(ddof=1) / np.sqrt(ok.sum()) if ok.sum() > 1 else 0.0
        return ("%+" + fmt[1:] + " +-" + fmt + " se") % (d[ok].mean(), se)

    def show(self, head):
        print(head)
        print()
        cmp = " | change (paired) |" if self.against else " |"
        print("| set | role | figure | value | noise | time" + cmp)
        print("|---|---|---|---|---|---|" + ("---|" if self.against else ""))
        for r in self.rows:
            print("| " + " | ".join(r["cells"]) + (" | " + self.change(r) + " |" if self.against else " |"))
        for n in self.notes:
            print()
            print(n)
        sys.stdout.flush()

    def save(self, path):
        with open(path, "w") as f:
            f.write("{\n" + ",\n".join("%s: %s" % (json.dumps(r["key"]), json.dumps(dict(
                kind=r["kind"], cells=r["cells"], values=[round(v, 6) for v in r["values"]])))
                for r in self.rows) + "\n}\n")


def boot_rmse(new, old, n=500):
    """Bootstrap (over galaxies, seeded) of sqrt(mean(new)) [- sqrt(mean(old))]."""
    rng = np.random.RandomState(0)
    out = []
    for _ in range(n):
        i = rng.randint(0, len(new), len(new))
        out.append(np.sqrt(new[i].mean()) - (np.sqrt(old[i].mean()) if old is not None else 0))
    return np.array(out)


def cv_set(z, a, work, tab, key, dataset, role, catalog_rows):
    """rings / gz2rings: catalog_rows = [(id, absolute file, 0/1)]."""
    t0 = time.time()
    ids = [r[0] for r in catalog_rows]
    file_of = {r[0]: r[1] for r in catalog_rows}
    y = np.array([int(r[2]) for r in catalog_rows])
    log("%s: %d galaxies (%d positive): import, embed" % (dataset, len(ids), y.sum()))
    base = base_workspace(z, work, key, [(i, file_of[i]) for i in ids], schema="ring")
    fx = os.path.join(work, key + ".features.csv")
    z("export", base, "--format", "features", "-o", fx)
    fids, F = load_features(fx)
    row = {g: k for k, g in enumerate(fids)}
    X = F[[row[i] for i in ids]]
    train_auc, probe_auc = [], []
    for rep in range(a.repeats):
        skf = sk.StratifiedKFold(a.folds, shuffle=True, random_state=rep)
        for k, (tr, te) in enumerate(skf.split(X, y)):
            if k >= a.max_folds:
                break
            if a.labels and a.labels < len(tr):   # fewer labels: a stratified draw of the training fold
                tr = np.array(stratified_subset(list(tr), y[tr], a.labels, seed=1000 * rep + k))
            p = train_predict(z, work, base, "%s_r%d_f%d" % (key, rep, k), "ring",
                              {ids[i]: int(y[i]) for i in tr}, file_of)
            train_auc.append(auc(y[te], np.array([p[ids[i]] for i in te])))
            probe_auc.append(auc(y[te], probe_scores(X, y, tr, te)))
            log("%s: repeat %d fold %d: train %.3f probe %.3f" % (dataset, rep, k, train_auc[-1], probe_auc[-1]))
    secs = time.time() - t0
    n_tr = len(ids) - len(ids) // a.folds
    n_tr = min(n_tr, a.labels) if a.labels else n_tr
    tab.add(key + ".train", dataset, role, "ring AUC, `zoosh train` + predictions, %d labels" % n_tr,
            "folds", train_auc, secs=secs)
    tab.add(key + ".probe", dataset, role, "ring AUC, probe on the default set (%d-d)" % X.shape[1],
            "folds", probe_auc)
    tab.add(key + ".train-probe", dataset, role, "train - probe, same folds", "folds",
            np.array(train_auc) - np.array(probe_auc), fmt="%+.3f")


def ring_rows(catalog, n_quick):
    rows = read_csv(catalog)
    d = os.path.dirname(os.path.abspath(catalog))
    out = [(r["id"], r["file"] if os.path.isabs(r["file"]) else os.path.join(d, r["file"]), int(r["ring"]))
           for r in rows if r.get("ring", "") != ""]
    if n_quick:
        out = stratified_subset(out, [r[2] for r in out], n_quick)
    return out


def stratified_subset(items, labels, n, seed=0):
    """n items, each class in proportion (seeded), in their original order."""
    if n >= len(items):
        return items
    sss = sk.StratifiedShuffleSplit(n_splits=1, train_size=n, random_state=seed)
    keep, _ = next(sss.split(np.zeros(len(items)), labels))
    return [items[i] for i in sorted(keep)]


def tags_set(z, a, work, tab, shared):
    t0 = time.time()
    catalog = os.path.join(shared, "decals_dr5_tagged", "catalog.csv")
    d = os.path.dirname(catalog)
    rows = read_csv(catalog)
    tags = TAGS
    if a.quick:   # three tags, a few of each, so every tag has positives on both sides
        tags, keep = (TAGS[0], TAGS[2], TAGS[6]), set()
        for t in TAGS:
            keep.update([r["id"] for r in rows if r[t] == "1"][: a.quick // 5])
        rows = [r for r in rows if r["id"] in keep]
    ids = [r["id"] for r in rows]
    file_of = {r["id"]: os.path.join(d, r["file"]) for r in rows}
    n_lab = min(a.labels or 200, len(ids) * 2 // 3)
    log("decals tags: %d galaxies: import, embed" % len(ids))
    schema = os.path.join(work, "tag.schema")
    with open(schema, "w") as f:
        f.write(TAG_SCHEMA)
    base = base_workspace(z, work, "tags", [(i, file_of[i]) for i in ids], schema=schema)
    fx = os.path.join(work, "tags.features.csv")
    z("export", base, "--format", "features", "-o", fx)
    fids, F = load_features(fx)
    row = {g: k for k, g in enumerate(fids)}
    X = F[[row[i] for i in ids]]
    tr_auc = np.full((len(tags), a.repeats), np.nan)
    pr_auc = np.full((len(tags), a.repeats), np.nan)
    for t, tag in enumerate(tags):
        y = np.array([int(r[tag]) for r in rows])
        for rep in range(a.repeats):
            sss = sk.StratifiedShuffleSplit(n_splits=1, train_size=n_lab, random_state=rep)
            tr, te = next(sss.split(X, y))
            p = train_predict(z, work, base, "tags_%d_r%d" % (t, rep), "tag", {ids[i]: int(y[i]) for i in tr}, file_of)
            tr_auc[t, rep] = auc(y[te], np.array([p[ids[i]] for i in te]))
            pr_auc[t, rep] = auc(y[te], probe_scores(X, y, tr, te))
        log("decals tags: %-22s train %.3f probe %.3f (%d positive of %d)" %
            (tag, np.nanmean(tr_auc[t]), np.nanmean(pr_auc[t]), y.sum(), len(y)))
    secs = time.time() - t0
    for k, name, m in (("train", "`zoosh train` + predictions", tr_auc), ("probe", "probe on the default set", pr_auc)):
        tab.add("tags." + k, "DECaLS DR5 tags (%d galaxies)" % len(ids), "choose",
                "mean AUC of %d tags, %s, %d labels each" % (len(tags), name, n_lab),
                "splits", np.nanmean(m, axis=0), secs=secs if m is tr_auc else None)
    tab.notes.append("Per tag, AUC of `zoosh train` / probe (mean of %d splits): " % a.repeats + "; ".join(
        "%s %.3f / %.3f" % (t, np.nanmean(tr_auc[k]), np.nanmean(pr_auc[k])) for k, t in enumerate(tags)))


def encoder_metadata(path):
    try:
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            return json.loads(f.read(n)).get("__metadata__", {}) or {}
    except (OSError, ValueError, struct.error):
        return {}


def votes_provenance(z, ws):
    """The provenance of the workspace's `votes` set, None without one."""
    st = json.loads(z("stats", ws, "--json"))
    for s in st.get("feature_sets", []):
        if s["name"] == "votes":
            return s["provenance"]
    return None


def to_kaggle(votes, answers):
    """Per-question softmax fractions (columns named ClassN.M) -> Kaggle's
    cumulative fractions: multiplied along the path to the question."""
    col = {a: k for k, a in enumerate(answers)}
    out = np.zeros_like(votes)
    for cls in sorted(KAGGLE_PARENT):   # parents are lower-numbered classes
        par = KAGGLE_PARENT[cls]
        w = 1.0 if par is None else out[:, col[par]]
        for a, k in col.items():
            if a.split(".")[0] == "Class%d" % cls:
                out[:, k] = votes[:, k] * w
    return out


def rmse_set(z, a, work, tab, shared):
    t0 = time.time()
    catalog = os.path.join(shared, "kaggle_gz2_votes", "catalog.csv")
    d = os.path.dirname(catalog)
    env = dict(os.environ, ZT_SHARED=shared)

    def ids_of(*args):
        r = subprocess.run([os.path.join(ROOT, "tools", "gz2_split.sh")] + list(args) + [catalog],
                           stdout=subprocess.PIPE, text=True, env=env)
        if r.returncode != 0:
            die("tools/gz2_split.sh failed")
        return r.stdout.split()

    split = ids_of()
    excl = set(ids_of("--exclude"))
    ringval = [i for i in ids_of("--exclude") if i not in set(split)]
    rows = read_csv(catalog)
    cols = ["Class%s" % c for c in (
        "1.1 1.2 1.3 2.1 2.2 3.1 3.2 4.1 4.2 5.1 5.2 5.3 5.4 6.1 6.2 7.1 7.2 7.3 8.1 8.2 8.3 8.4 8.5 8.6 8.7 "
        "9.1 9.2 9.3 10.1 10.2 10.3 11.1 11.2 11.3 11.4 11.5 11.6").split()]
    truth = {r["id"]: np.array([float(r[c]) for c in cols]) for r in rows}
    mean_pred = np.mean([truth[r["id"]] for r in rows if r["id"] not in excl], axis=0)
    if a.quick:
        split, ringval = split[: a.quick], ringval[: a.quick]
    file_of = {r["id"]: os.path.join(d, r["file"]) for r in rows}
    log("gz2 rmse: %d + %d galaxies: import, embed" % (len(split), len(ringval)))
    ws = base_workspace(z, work, "gz2votes", [(i, file_of[i]) for i in split + ringval])
    prov = votes_provenance(z, ws)
    answers = prov.split("answers ", 1)[1].split(",") if prov and "answers " in prov else []
    if sorted(answers) != sorted(cols):
        log("no GZ2 RMSE: %s" % ("the votes set's answers are not Kaggle's 37 columns: %s" % prov if prov else
                                 "`zoosh embed` made no `votes` set (an encoder without a vote head)"))
        tab.notes.append("No GZ2 votes RMSE: the encoder `zoosh embed` used predicts no Kaggle votes (set `votes`).")
        return
    vx = os.path.join(work, "gz2votes.votes.csv")
    z("export", ws, "--format", "features", "--set", "votes", "-o", vx)
    vids, V = load_features(vx)
    K = to_kaggle(V, answers)
    order = [answers.index(c) for c in cols]
    pred = {g: K[k, order] for k, g in enumerate(vids)}
    enc = prov.split("(", 1)[1].split(",", 1)[0] if "(" in prov else ""
    meta = encoder_metadata(enc)
    excluded = meta.get("excluded", "none")
    try:
        n_excl = int(excluded.split()[0])
    except (ValueError, IndexError):
        n_excl = 0
    held = n_excl >= len(excl)
    secs = time.time() - t0
    for key, name, ids, note in (
            ("rmse.split", "GZ2 split id%%10==3 (%d galaxies)" % len(split), split,
             "held out" if held else "NOT held out for this encoder"),
            ("rmse.ringval", "GZ2 ring-vote set (%d galaxies)" % len(ringval), ringval, "held out")):
        E = np.array([pred[i] for i in ids])
        T = np.array([truth[i] for i in ids])
        for k, fig, P in (("votes", "votes RMSE, 37 Kaggle columns, encoder's `votes`", E),
                          ("mean", "votes RMSE, mean predictor", np.broadcast_to(mean_pred, T.shape))):
            tab.add(key + "." + k, name, note, fig, "galaxies", ((P - T) ** 2).mean(axis=1), kind="rmse",
                    fmt="%.4f", secs=secs if k == "votes" and ids is split else None)
    tab.notes.append("Encoder %s: metadata `excluded` = \"%s\"; tools/gz2_split.sh --exclude lists %d ids, so "
                     "the id%%10==3 split is %s." % (enc or "?", excluded, len(excl),
                                                   "held out (by the count it claims)" if held else
                                                   "NOT held out: the encoder may have trained on it"))


def hsc_set(z, a, work, tab, shared):
    d = os.path.join(shared, "hsc_anomalies")
    with open(os.path.join(d, "catalog.csv"), newline="") as f:
        r = csv.reader(f)
        header = next(r)
        body = list(r)
    hi = header.index("human_interesting")
    lab = sorted((row for row in body if row[hi] != ""), key=lambda row: row[0].encode())
    budget, seeds = 50, a.seeds
    halves = [("hsc.all", "HSC all labelled", "report", lab), ("hsc.A", "HSC half A", "choose", lab[0::2]),
              ("hsc.B", "HSC half B", "REPORT", lab[1::2])]
    if a.quick:
        halves = [("hsc.quick", "HSC half A, quick subset", "choose",
                   stratified_subset(lab[0::2], [row[hi] for row in lab[0::2]], a.quick + 20))]
        budget = 20
    for k, (key, name, role, rows) in enumerate(halves):
        t0 = time.time()
        base = sum(int(float(row[hi])) for row in rows) / len(rows)
        log("%s: %d galaxies: import (two label-free orders), embed" % (name, len(rows)))
        ws = [base_workspace(z, work, "hsc%d_%d" % (k, salt), rows, root=d, header=header, salt=salt)
              for salt in (1, 2)]
        res = {}
        # the interest order twice: the same galaxies imported in another order
        # must give the same figure within its noise; when they do not, ties
        # in the ranking are decided by import order
        for run, order, w in (("interest", "interest", ws[0]), ("interest2", "interest", ws[1]),
                              ("random", "random", ws[0])):
            prec, shown = [], []
            for s in range(1, seeds + 1):
                out = z("simulate", w, "--task", "interest", "--rate-from", "human_interesting",
                        "--budget", budget, "--order", order, "--seed", s, *z.opts["simulate"])
                last = [ln.split("\t") for ln in out.splitlines() if ln.split("\t")[0] == str(budget)]
                if not last:
                    die("zoosh simulate printed no line for %d ratings:\n%s" % (budget, out))
                prec.append(float(last[-1][1]))
                shown.append(float(last[-1][3]))
            res[run] = (prec, shown)
        secs = time.time() - t0
        label = "%s (%d, base rate %.3f)" % (name, len(rows), base)
        for run, what in (("interest", "interest order"), ("interest2", "interest order, import order 2"),
                          ("random", "random order")):
            prec, shown = res[run]
            tab.add("%s.%s.precision" % (key, run), label, role, "top-30 precision after %d, %s" % (budget, what),
                    "seeds", prec, secs=secs if run == "interest" else None)
            tab.add("%s.%s.shown" % (key, run), label, role, "interesting shown in the %d, %s" % (budget, what),
                    "seeds", shown, fmt="%.1f")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--zoosh", default=os.environ.get("ZOOSH", os.path.join(ROOT, "zoosh")))
    ap.add_argument("--shared", default=os.environ.get("ZT_SHARED", os.path.join(os.path.dirname(ROOT), "shared", "data")))
    ap.add_argument("--quick", action="store_true", help="tiny mode: 40 galaxies a set, 1 fold, 1 seed")
    ap.add_argument("--only", default=",".join(SETS), help="sets to measure (default: all): " + ",".join(SETS))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--labels", type=int, default=0, help="train on this many labels (a stratified draw of each "
                    "training fold; default: the whole fold, 200 for the tags)")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--threads", default="2")
    ap.add_argument("--keep", help="make the workspaces in this folder and keep them")
    ap.add_argument("--save", help="write every row's values (folds, seeds, galaxies) to this JSON file")
    ap.add_argument("--against", help="a --save file of an earlier run: add each row's paired change")
    for c in ("embed", "train", "simulate"):
        ap.add_argument("--%s-opts" % c, default="", help="more options for every `zoosh %s` (a variant, "
                        "not the defaults the figures are about)" % c)
    ap.add_argument("--probe-raw", action="store_true", help="probe the exported features without standardising "
                    "them (a variant; the issue's probe standardises)")
    a = ap.parse_args()
    global PROBE_SCALE
    PROBE_SCALE = not a.probe_raw
    a.folds, a.max_folds = 5, 5
    only = [s for s in a.only.split(",") if s]
    bad = [s for s in only if s not in SETS]
    if bad:
        die("--only: unknown set %s (one of %s)" % (",".join(bad), ",".join(SETS)), 2)
    if a.quick:
        a.quick, a.repeats, a.seeds, a.max_folds = 40, 1, 1, 1
    else:
        a.quick = 0
    need = {"rings": "decals_rings", "gz2rings": "kaggle_gz2_votes", "tags": "decals_dr5_tagged",
            "rmse": "kaggle_gz2_votes", "hsc": "hsc_anomalies"}
    missing = sorted({need[s] for s in only if not os.path.isfile(os.path.join(a.shared, need[s], "catalog.csv"))})
    if missing:
        die("missing data: %s (the sets of ../shared/data, see its README.md; "
            "ZT_SHARED names another folder; --only measures fewer sets)" %
            ", ".join(os.path.join(a.shared, m, "catalog.csv") for m in missing))
    if not os.access(a.zoosh, os.X_OK):
        die("no zoosh binary at %s (make zoosh first)" % a.zoosh)
    against = None
    if a.against:
        try:
            with open(a.against) as f:
                against = json.load(f)
        except (OSError, ValueError) as e:
            die("--against %s: %s" % (a.against, e))
    import_sklearn()
    z = Zoosh(os.path.abspath(a.zoosh), a.threads,
              {c: getattr(a, c + "_opts").split() for c in ("embed", "train", "simulate")})
    work = a.keep or tempfile.mkdtemp(prefix="zoosh-quality.")
    os.makedirs(work, exist_ok=True)
    t0 = time.time()
    tab = Table(against)
    try:
        if "rings" in only:
            cv_set(z, a, work, tab, "rings", "DECaLS rings (200)" if not a.quick else "DECaLS rings (quick)",
                   "REPORT", ring_rows(os.path.join(a.shared, "decals_rings", "catalog.csv"), a.quick))
        if "gz2rings" in only:
            val = os.path.join(work, "gz2_ringval.csv")
            with open(val, "w") as f:
                r = subprocess.run([os.path.join(ROOT, "tools", "gz2_ringval.sh"), "--labels",
                                    os.path.join(a.shared, "kaggle_gz2_votes", "catalog.csv")], stdout=f)
            if r.returncode != 0:
                die("tools/gz2_ringval.sh failed")
            cv_set(z, a, work, tab, "gz2rings", "GZ2 ring votes (320)" if not a.quick else "GZ2 ring votes (quick)",
                   "choose", ring_rows(val, a.quick))
        if "tags" in only:
            tags_set(z, a, work, tab, a.shared)
        if "rmse" in only:
            rmse_set(z, a, work, tab, a.shared)
        if "hsc" in only:
            hsc_set(z, a, work, tab, a.shared)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    total = time.time() - t0
    variant = " ".join(["%s %s" % (c, getattr(a, c + "_opts")) for c in ("embed", "train", "simulate")
                        if getattr(a, c + "_opts")] + (["probe unstandardised"] if a.probe_raw else []) +
                       (["%d labels" % a.labels] if a.labels else []))
    tab.show("zoosh quality%s: %s, %s; %.0f s in all (%s threads)%s%s" % (
        " (--quick: tiny subsets, NOT figures)" if a.quick else "", os.path.abspath(a.zoosh),
        time.strftime("%Y-%m-%d %H:%M"), total, a.threads,
        "; VARIANT: " + variant if variant else "", "; change against " + a.against if a.against else ""))
    if a.save:
        tab.save(a.save)


if __name__ == "__main__":
    main()
