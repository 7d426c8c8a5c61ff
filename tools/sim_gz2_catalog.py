#!/usr/bin/python3
"""sim_gz2_catalog.py - a `zoosh sim` catalog as Kaggle GZ2 vote fractions, so
`zoosh pretrain` can train on simulated galaxies beside the real GZ2 ones.

  tools/sim_gz2_catalog.py SIM_DIR/catalog.csv [--merge GZ2_CATALOG.csv] > train.csv

With --merge, the rows of a real Kaggle-style catalog (id, file, ClassQ.A)
come first, so one catalog holds both; file paths are written absolute.

The simulator writes simulated volunteer votes for the GZ DECaLS questions
(<question>_<answer> counts) and the true parameters.  Each GZ2 question is
mapped from its GZ DECaLS twin, cumulative as Kaggle's columns are (an
answer's fraction times the fraction that reached its question):
Class1 smooth/featured/artifact, Class2 edge-on, Class3 bar (strong + weak),
Class4 spiral, Class5 bulge (none / small / moderate + large / dominant),
Class7 roundness, Class9 edge-on bulge, Class10 winding, Class11 arm count.
GZ DECaLS has no "anything odd?" question, so Class6 and Class8 come from the
truth: a ring (Class8.1), a lens or arc (8.2), a merger or major disturbance
(8.6), else nothing odd (6.2).  Columns: id, file, Class1.1 .. Class11.6.
"""
import csv
import os
import sys

GZ2 = ["1.1", "1.2", "1.3", "2.1", "2.2", "3.1", "3.2", "4.1", "4.2", "5.1", "5.2", "5.3", "5.4",
       "6.1", "6.2", "7.1", "7.2", "7.3", "8.1", "8.2", "8.3", "8.4", "8.5", "8.6", "8.7",
       "9.1", "9.2", "9.3", "10.1", "10.2", "10.3", "11.1", "11.2", "11.3", "11.4", "11.5", "11.6"]


def main():
    args = sys.argv[1:]
    real = None
    if len(args) == 3 and args[1] == "--merge":
        real = args[2]
        args = args[:1]
    if len(args) != 1:
        sys.exit(__doc__.strip().split("\n\n")[1])
    path = args[0]
    sdir = os.path.dirname(os.path.abspath(path))
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["id", "file"] + ["Class" + c for c in GZ2])
    if real:
        merge(real, out)
    with open(path, newline="") as f:
        r = csv.DictReader(f)
        need = ["id_str", "file_loc", "ring", "merger", "lens_r", "smooth-or-featured_smooth"]
        miss = [c for c in need if c not in (r.fieldnames or [])]
        if miss:
            sys.exit("%s: line 1: not a zoosh sim catalog (no column %s)" % (path, ", ".join(miss)))
        for ln, row in enumerate(r, start=2):
            def count(col, what="a vote count"):
                try:
                    return float(row[col])
                except (KeyError, TypeError, ValueError):
                    sys.exit("%s: line %d: column %s: %r is not %s" % (path, ln, col, row.get(col), what))

            def frac(q, answers, reach):
                n = [count(q + "_" + a) for a in answers]
                tot = sum(n)
                return [reach * x / tot if tot > 0 else 0.0 for x in n]

            c1 = frac("smooth-or-featured", ["smooth", "featured-or-disk", "artifact"], 1.0)
            c2 = frac("disk-edge-on", ["yes", "no"], c1[1])
            bar = frac("bar", ["strong", "weak", "no"], c2[1])
            c3 = [bar[0] + bar[1], bar[2]]
            c4 = frac("has-spiral-arms", ["yes", "no"], c2[1])
            b = frac("bulge-size", ["none", "small", "moderate", "large", "dominant"], c2[1])
            c5 = [b[0], b[1], b[2] + b[3], b[4]]
            odd = None
            if count("ring", "0 or 1") > 0:
                odd = 0
            elif count("lens_r", "a radius") > 0:
                odd = 1
            elif row["merger"] in ("merger", "major-disturbance"):
                odd = 5
            c6 = [1.0, 0.0] if odd is not None else [0.0, 1.0]
            c7 = frac("how-rounded", ["round", "in-between", "cigar-shaped"], c1[0])
            c8 = [0.0] * 7
            if odd is not None:
                c8[odd] = 1.0
            e = frac("edge-on-bulge", ["rounded", "boxy", "none"], c2[0])
            c10 = frac("spiral-winding", ["tight", "medium", "loose"], c4[0])
            c11 = frac("spiral-arm-count", ["1", "2", "3", "4", "more-than-4", "cant-tell"], c4[0])
            vals = c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + e + c10 + c11
            out.writerow([row["id_str"], os.path.join(sdir, row["file_loc"])] + ["%.4f" % x for x in vals])


def merge(path, out):
    """The rows of a real catalog: id, absolute file, the 37 columns."""
    d = os.path.dirname(os.path.abspath(path))
    with open(path, newline="") as f:
        r = csv.DictReader(f)
        miss = [c for c in ["id", "file"] + ["Class" + c for c in GZ2] if c not in (r.fieldnames or [])]
        if miss:
            sys.exit("%s: line 1: no column %s" % (path, ", ".join(miss[:3])))
        for row in r:
            out.writerow([row["id"], os.path.join(d, row["file"])] + [row["Class" + c] for c in GZ2])


if __name__ == "__main__":
    main()
