#!/usr/bin/python3
"""tools/realism.py - simple statistics of simulated vs real cutouts.

    /usr/bin/python3 tools/realism.py SIM_DIR REAL_DIR [--n N] [--json OUT]

Each DIR is a folder of images (PNG/JPEG; a folder holding images/ is fine).
For every image (the first N in name order), on 8-bit RGB as shown to people:
  sky_median, sky_mad   median and MAD of the 20 px border, per channel (R, G, B)
  r50                   half-light radius (px) of the background-subtracted grey
                        light inside 0.4 * side around the centre
  c80_20                concentration R80 / R20 of that light
  centre_rg, centre_bg  colour of the centre (r < 0.5 r50): R/G and B/G
  annulus_rg, annulus_bg  the same in the annulus r50 .. 2 r50 (the disc)
Prints one row per statistic: median and quartiles of sim, of real, and the
ratio of medians.  Nothing here passes or fails: it is a report.
"""
import glob
import json
import os
import sys

import numpy as np
from PIL import Image


def files(d):
    if os.path.isdir(os.path.join(d, "images")):
        d = os.path.join(d, "images")
    fs = sorted(glob.glob(os.path.join(d, "*.png")) + glob.glob(os.path.join(d, "*.jpg")))
    return fs


def stats(path):
    a = np.asarray(Image.open(path).convert("RGB")).astype(np.float64)
    h, w, _ = a.shape
    b = 20
    border = np.concatenate([a[:b].reshape(-1, 3), a[-b:].reshape(-1, 3),
                             a[b:-b, :b].reshape(-1, 3), a[b:-b, -b:].reshape(-1, 3)])
    med = np.median(border, 0)
    mad = np.median(np.abs(border - med), 0)
    grey = a.mean(2) - med.mean()
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot(xx + 0.5 - w / 2, yy + 0.5 - h / 2)
    rmax = 0.4 * min(h, w)
    m = r < rmax
    rs = r[m]
    v = np.clip(grey[m], 0, None)
    order = np.argsort(rs)
    cum = np.cumsum(v[order])
    tot = cum[-1] if cum.size and cum[-1] > 0 else 1.0

    def rad(f):
        i = np.searchsorted(cum, f * tot)
        return float(rs[order][min(i, len(order) - 1)])

    r20, r50, r80 = rad(0.2), rad(0.5), rad(0.8)
    out = {"sky_median_R": med[0], "sky_median_G": med[1], "sky_median_B": med[2],
           "sky_mad_R": mad[0], "sky_mad_G": mad[1], "sky_mad_B": mad[2],
           "r50": r50, "c80_20": r80 / max(r20, 0.5)}
    sub = a - med
    for name, sel in (("centre", r < max(0.5 * r50, 2)), ("annulus", (r >= r50) & (r < 2 * r50))):
        s = np.clip(sub[sel], 0, None).sum(0) + 1e-9
        out[name + "_rg"] = s[0] / s[1]
        out[name + "_bg"] = s[2] / s[1]
    return {k: float(x) for k, x in out.items()}


def main():
    args = sys.argv[1:]
    n, jout = 200, None
    if "--n" in args:
        i = args.index("--n"); n = int(args[i + 1]); del args[i:i + 2]
    if "--json" in args:
        i = args.index("--json"); jout = args[i + 1]; del args[i:i + 2]
    if len(args) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        sys.exit(2)
    res = {}
    for name, d in (("sim", args[0]), ("real", args[1])):
        fs = files(d)[:n]
        if not fs:
            print("realism.py: no images in %s" % d, file=sys.stderr)
            sys.exit(1)
        res[name] = [stats(f) for f in fs]
    keys = list(res["sim"][0].keys())
    print("statistic\tsim median [q25, q75]\treal median [q25, q75]\tsim/real")
    summary = {}
    for k in keys:
        s = np.array([x[k] for x in res["sim"]]); r = np.array([x[k] for x in res["real"]])
        qs, qr = np.percentile(s, [25, 50, 75]), np.percentile(r, [25, 50, 75])
        ratio = qs[1] / qr[1] if qr[1] else float("nan")
        summary[k] = {"sim": list(qs), "real": list(qr), "ratio": ratio}
        print("%s\t%.3f [%.3f, %.3f]\t%.3f [%.3f, %.3f]\t%.2f" % (k, qs[1], qs[0], qs[2], qr[1], qr[0], qr[2], ratio))
    print("images\t%d\t%d\t-" % (len(res["sim"]), len(res["real"])))
    if jout:
        with open(jout, "w") as f:
            json.dump({"n_sim": len(res["sim"]), "n_real": len(res["real"]), "stats": summary}, f, indent=1)


if __name__ == "__main__":
    main()
