#!/usr/bin/python3
"""make_h5_fixture.py - write a Zoobot-style representation HDF5 for a catalog.

    /usr/bin/python3 tools/make_h5_fixture.py CATALOG.csv OUT.h5 [--dim 640]
        [--samples 1] [--seed 0] [--float64] [--fixed-ids]

The layout is what Zoobot's predictions_to_hdf5 writes and `zoosh import
--features` reads: `predictions` (galaxy, feature, sample), `id_str` and
`label_cols` as variable-length UTF-8 strings (fixed-length bytes with
--fixed-ids).  The values are random normals with a spread of magnitudes (a
test of exact float transfer, not a real representation); ids come from the
catalog's id_str or id column.  Also writes OUT.h5.expected: the float32
means over samples that zoosh must store, raw little-endian, row-major.
Needs Debian's python3-h5py and python3-numpy.
"""
import argparse
import csv

import h5py
import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('catalog')
    ap.add_argument('out')
    ap.add_argument('--dim', type=int, default=640)
    ap.add_argument('--samples', type=int, default=1)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--float64', action='store_true')
    ap.add_argument('--fixed-ids', action='store_true')
    a = ap.parse_args()
    with open(a.catalog, newline='') as f:
        rows = list(csv.DictReader(f))
    key = 'id_str' if rows and 'id_str' in rows[0] else 'id'
    ids = [r[key] for r in rows]
    rng = np.random.default_rng(a.seed)
    shape = (len(ids), a.dim, a.samples)
    x = rng.standard_normal(shape) * 10.0 ** rng.uniform(-4, 4, shape)
    x = x.astype(np.float64 if a.float64 else np.float32)
    dt = h5py.string_dtype(encoding='utf-8')
    with h5py.File(a.out, 'w') as f:
        f.create_dataset('predictions', data=x)
        if a.fixed_ids:
            f.create_dataset('id_str', data=np.array(ids, dtype='S'))
        else:
            f.create_dataset('id_str', data=ids, dtype=dt)
        f.create_dataset('label_cols', data=['feat_%d' % j for j in range(a.dim)], dtype=dt)
    x.astype(np.float64).mean(axis=2).astype('<f4').tofile(a.out + '.expected')
    print('%s: %d galaxies x %d features x %d samples' % (a.out, *shape))


if __name__ == '__main__':
    main()
