/*
 * featio.c - feature vectors from Zoobot HDF5, CSV and .npy (see featio.h).
 *
 * HDF5 `predictions` is read in blocks of galaxies (hyperslabs) converted by
 * the library to double, averaged over the sample axis in double and stored
 * as float: with one sample a float32 file comes back bit for bit.
 *
 * DESIGN (threads, processes): libhdf5 here is the serial, not thread-safe
 * build; call these from one thread at a time (the importer reads features
 * on one extra thread while its main thread parses the catalog, before its
 * decode pool starts).  libhdf5 1.10 can crash on a damaged file (a corrupt
 * global heap behind the vlen id_str strings makes H5HG_read memcpy
 * terabytes: tests/fuzz/regress/feat_hdf5), so the HDF5 reader runs in a
 * forked child that H5Dreads the vectors straight into a shared mapping of
 * an anonymous memory file the parent then maps; a crash there becomes an
 * error message.  The child only mallocs (glibc's fork leaves malloc
 * usable), runs libhdf5 (which no thread of the parent touches) and
 * _exit()s, so forking while the importer's catalog thread runs is safe;
 * fork from nowhere that holds other locks the child would need.
 */
#include "core/featio.h"

#include <ctype.h>
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/catalog.h"
#include "core/util.h"

#define FEAT_MAX_DIM   (1 << 20)
#define FEAT_MAX_VALUES (1ull << 31)   /* n * dim (8 GiB of floats) */
#define FEAT_BLOCK_BYTES (64u << 20)


void core_featset_free(core_featset *fs)
{
    if (!fs) return;
    if (fs->ids) for (int i = 0; i < fs->n; i++) free(fs->ids[i]);
    free(fs->ids);
    if (fs->x_map_len) munmap(fs->x, fs->x_map_len);
    else free(fs->x);
    free(fs->lines);
    memset(fs, 0, sizeof *fs);
}

static void abs_path(const char *path, char *out, size_t len)
{
    if (path[0] == '/') { snprintf(out, len, "%s", path); return; }
    char cwd[2048];
    if (!getcwd(cwd, sizeof cwd)) { snprintf(out, len, "%s", path); return; }
    snprintf(out, len, "%.2047s/%.2000s", cwd, path);
}

static int dims_ok(const char *path, long long n, long long dim, long long s, char *err, size_t errlen)
{
    if (n <= 0 || dim <= 0 || s <= 0) {
        core_set_err(err, errlen, "%s: empty feature array (%lld x %lld x %lld)", path, n, dim, s);
        return 0;
    }
    if (dim > FEAT_MAX_DIM || n > INT32_MAX || (unsigned long long)n * (unsigned long long)dim > FEAT_MAX_VALUES ||
        (unsigned long long)dim * (unsigned long long)s > FEAT_MAX_DIM) {   /* samples: fuzz_feat_npy found an overflow */
        core_set_err(err, errlen, "%s: feature array too large (%lld x %lld)", path, n, dim);
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ HDF5 */

/* Reads a 1-D string (or integer) dataset of length n into malloc'ed strings. */
static int h5_read_strings(hid_t fid, const char *name, const char *path, long long *n_out,
                           char ***out, char *err, size_t errlen)
{
    int ok = 0;
    hid_t did = -1, sid = -1, tid = -1, mid = -1;
    char **res = NULL;
    long long n = 0;
    did = H5Dopen2(fid, name, H5P_DEFAULT);
    if (did < 0) { core_set_err(err, errlen, "%s: no dataset '%s'", path, name); goto end; }
    sid = H5Dget_space(did);
    int nd = H5Sget_simple_extent_ndims(sid);
    hsize_t dims[2] = {0, 0};
    if (nd == 2) {
        H5Sget_simple_extent_dims(sid, dims, NULL);
        if (dims[1] != 1) nd = -1;
    } else if (nd == 1) H5Sget_simple_extent_dims(sid, dims, NULL);
    if (nd != 1 && nd != 2) { core_set_err(err, errlen, "%s: dataset '%s' is not a list", path, name); goto end; }
    n = (long long)dims[0];
    if (n > INT32_MAX) { core_set_err(err, errlen, "%s: dataset '%s' too long", path, name); goto end; }
    tid = H5Dget_type(did);
    H5T_class_t cls = H5Tget_class(tid);
    res = xcalloc((size_t)(n ? n : 1), sizeof(char *));
    if (cls == H5T_STRING && H5Tis_variable_str(tid) > 0) {
        mid = H5Tcopy(H5T_C_S1);
        H5Tset_size(mid, H5T_VARIABLE);
        H5Tset_cset(mid, H5Tget_cset(tid));
        char **tmp = xcalloc((size_t)(n ? n : 1), sizeof(char *));
        if (H5Dread(did, mid, H5S_ALL, H5S_ALL, H5P_DEFAULT, tmp) < 0) {
            free(tmp);
            core_set_err(err, errlen, "%s: cannot read '%s'", path, name);
            goto end;
        }
        for (long long i = 0; i < n; i++) res[i] = xstrdup(tmp[i] ? tmp[i] : "");
        H5Dvlen_reclaim(mid, sid, H5P_DEFAULT, tmp);
        free(tmp);
    } else if (cls == H5T_STRING) {
        size_t sz = H5Tget_size(tid);
        mid = H5Tcopy(H5T_C_S1);
        H5Tset_size(mid, sz + 1);
        H5Tset_strpad(mid, H5T_STR_NULLTERM);
        H5Tset_cset(mid, H5Tget_cset(tid));
        char *tmp = xcalloc((size_t)(n ? n : 1), sz + 1);
        if (H5Dread(did, mid, H5S_ALL, H5S_ALL, H5P_DEFAULT, tmp) < 0) {
            free(tmp);
            core_set_err(err, errlen, "%s: cannot read '%s'", path, name);
            goto end;
        }
        for (long long i = 0; i < n; i++) {
            char *s = tmp + (size_t)i * (sz + 1);
            s[sz] = 0;
            res[i] = xstrdup(s);
        }
        free(tmp);
    } else if (cls == H5T_INTEGER) {
        long long *tmp = xcalloc((size_t)(n ? n : 1), sizeof(long long));
        if (H5Dread(did, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, tmp) < 0) {
            free(tmp);
            core_set_err(err, errlen, "%s: cannot read '%s'", path, name);
            goto end;
        }
        for (long long i = 0; i < n; i++) {
            char b[32];
            snprintf(b, sizeof b, "%lld", tmp[i]);
            res[i] = xstrdup(b);
        }
        free(tmp);
    } else {
        core_set_err(err, errlen, "%s: dataset '%s' holds neither strings nor integers", path, name);
        goto end;
    }
    ok = 1;
end:
    if (mid >= 0) H5Tclose(mid);
    if (tid >= 0) H5Tclose(tid);
    if (sid >= 0) H5Sclose(sid);
    if (did >= 0) H5Dclose(did);
    if (!ok && res) {
        for (long long i = 0; i < n; i++) free(res[i]);
        free(res);
        res = NULL;
    }
    *out = res;
    *n_out = n;
    return ok ? 0 : -1;
}

/* h5_load's home for the vectors: when fd >= 0, a shared mapping of fd from
 * offset at on (the reply file the parent maps, so the child's H5Dread lands
 * where the parent reads it, with no copy); else malloc.  NULL if the mapping
 * fails. */
static float *h5_alloc_x(core_featset *out, size_t bytes, int fd, off_t at)
{
    if (fd < 0) return xmalloc(bytes);
    if (ftruncate(fd, at + (off_t)bytes) != 0) return NULL;
    void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, at);
    if (m == MAP_FAILED) return NULL;
    out->x_map_len = bytes;
    return m;
}

static int h5_load(const char *path, core_featset *out, int map_fd, off_t map_at, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int ok = 0;
    hid_t fid = -1, did = -1, sid = -1, mid = -1;
    double *blk = NULL;
    char **labels = NULL;
    long long n_labels = 0;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);   /* no HDF5 error stacks on stderr */
    if (access(path, R_OK) != 0) { core_set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno)); return -1; }
    fid = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (fid < 0) { core_set_err(err, errlen, "%s: not a readable HDF5 file", path); goto end; }
    did = H5Dopen2(fid, "predictions", H5P_DEFAULT);
    if (did < 0) { core_set_err(err, errlen, "%s: no dataset 'predictions' (a Zoobot representation file has predictions, id_str, label_cols)", path); goto end; }
    sid = H5Dget_space(did);
    int nd = H5Sget_simple_extent_ndims(sid);
    hsize_t dims[3] = {0, 0, 1};
    if (nd != 2 && nd != 3) { core_set_err(err, errlen, "%s: 'predictions' has %d axes (need galaxy, feature[, sample])", path, nd); goto end; }
    H5Sget_simple_extent_dims(sid, dims, NULL);
    if (nd == 2) dims[2] = 1;
    {
        hid_t t = H5Dget_type(did);
        H5T_class_t cls = H5Tget_class(t);
        H5Tclose(t);
        if (cls != H5T_FLOAT && cls != H5T_INTEGER) { core_set_err(err, errlen, "%s: 'predictions' is not numeric", path); goto end; }
    }
    long long n = (long long)dims[0], dim = (long long)dims[1], ns = (long long)dims[2];
    if (!dims_ok(path, n, dim, ns, err, errlen)) goto end;
    long long n_ids = 0;
    if (h5_read_strings(fid, "id_str", path, &n_ids, &out->ids, err, errlen)) goto end;
    if (n_ids != n) { core_set_err(err, errlen, "%s: 'id_str' has %lld entries but 'predictions' %lld galaxies", path, n_ids, n); goto end; }
    out->n = (int)n;   /* ids are owned from here on */
    if (H5Lexists(fid, "label_cols", H5P_DEFAULT) > 0) {
        char e2[256];
        if (h5_read_strings(fid, "label_cols", path, &n_labels, &labels, e2, sizeof e2) == 0 && n_labels != dim) {
            core_set_err(err, errlen, "%s: 'label_cols' names %lld columns but 'predictions' has %lld features", path, n_labels, dim);
            goto end;
        }
    }
    out->dim = (int)dim;
    out->n_samples = (int)ns;
    out->x = h5_alloc_x(out, sizeof(float) * (size_t)n * (size_t)dim, map_fd, map_at);
    if (!out->x) { core_set_err(err, errlen, "%s: no memory for %lld x %lld features: %s", path, n, dim, strerror(errno)); goto end; }
    int is_f32 = 0;
    {
        hid_t t = H5Dget_type(did);
        is_f32 = H5Tget_class(t) == H5T_FLOAT && H5Tget_size(t) == 4;
        H5Tclose(t);
    }
    if (is_f32 && ns == 1) {
        /* the common Zoobot case: float32, one sample: read straight into place */
        if (H5Dread(did, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out->x) < 0) {
            core_set_err(err, errlen, "%s: cannot read 'predictions' (corrupt or truncated file)", path);
            goto end;
        }
    } else {
        size_t row_vals = (size_t)dim * (size_t)ns;
        long long bn = (long long)(FEAT_BLOCK_BYTES / (row_vals * sizeof(double)));
        if (bn < 1) bn = 1;
        if (bn > n) bn = n;
        blk = xmalloc(sizeof(double) * (size_t)bn * row_vals);   /* (bn, dim, ns) */
        for (long long r0 = 0; r0 < n; r0 += bn) {
            long long b = n - r0 < bn ? n - r0 : bn;
            hsize_t start[3] = {(hsize_t)r0, 0, 0}, count[3] = {(hsize_t)b, (hsize_t)dim, (hsize_t)ns};
            if (H5Sselect_hyperslab(sid, H5S_SELECT_SET, start, NULL, count, NULL) < 0) { core_set_err(err, errlen, "%s: hyperslab failed", path); goto end; }
            if (mid >= 0) H5Sclose(mid);
            mid = H5Screate_simple(nd, count, NULL);
            if (H5Dread(did, H5T_NATIVE_DOUBLE, mid, sid, H5P_DEFAULT, blk) < 0) {
                core_set_err(err, errlen, "%s: cannot read 'predictions' rows %lld..%lld (corrupt or truncated file)", path, r0, r0 + b - 1);
                goto end;
            }
            /* the mean over samples in double, then rounded once to float */
            for (long long i = 0; i < b; i++)
                for (long long j = 0; j < dim; j++) {
                    const double *v = blk + ((size_t)i * (size_t)dim + (size_t)j) * (size_t)ns;
                    double s = 0;
                    for (long long k = 0; k < ns; k++) s += v[k];
                    out->x[(size_t)(r0 + i) * (size_t)dim + (size_t)j] = (float)(s / (double)ns);
                }
        }
    }
    char ap[4096];
    abs_path(path, ap, sizeof ap);
    snprintf(out->format, sizeof out->format, "hdf5");
    if (labels && n_labels > 0)
        snprintf(out->provenance, sizeof out->provenance, "zoobot hdf5 %.360s (label_cols %.40s..%.40s, %lld sample%s averaged)",
                 ap, labels[0], labels[n_labels - 1], ns, ns == 1 ? "" : "s");
    else
        snprintf(out->provenance, sizeof out->provenance, "zoobot hdf5 %.400s (%lld sample%s averaged)", ap, ns, ns == 1 ? "" : "s");
    ok = 1;
end:
    if (labels) { for (long long i = 0; i < n_labels; i++) free(labels[i]); free(labels); }
    free(blk);
    if (mid >= 0) H5Sclose(mid);
    if (sid >= 0) H5Sclose(sid);
    if (did >= 0) H5Dclose(did);
    if (fid >= 0) H5Fclose(fid);
    if (!ok) core_featset_free(out);
    return ok ? 0 : -1;
}

/* All n bytes written (wr) or read, through EINTR: 0, or -1 on an error or
 * an early end of file. */
static int full_io(int fd, void *buf, size_t n, int wr)
{
    char *p = buf;
    while (n) {
        ssize_t k = wr ? write(fd, p, n) : read(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t n) { return full_io(fd, (void *)buf, n, 1); }
static int read_full(int fd, void *buf, size_t n) { return full_io(fd, buf, n, 0); }

#define H5_REPLY_PAGE ((off_t)65536)   /* where the vectors start in the reply file: page aligned */

typedef struct {
    int32_t rc, n, dim, n_samples;
    char format[8];
    char provenance[512];
    char err[512];
} h5_reply;

int core_feat_load_hdf5(const char *path, core_featset *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    /* the child writes its reply into an anonymous memory file; the parent
     * reads it once the child is gone (no pipe ping-pong for 256 MB) */
    int fd = memfd_create("zoosh-hdf5", MFD_CLOEXEC);
    if (fd < 0) { core_set_err(err, errlen, "%s: memfd_create: %s", path, strerror(errno)); return -1; }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        core_set_err(err, errlen, "%s: fork: %s", path, strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* the child: read, write the reply, leave without atexit handlers */
        core_featset fs;
        h5_reply r;
        memset(&r, 0, sizeof r);
        r.rc = h5_load(path, &fs, fd, H5_REPLY_PAGE, r.err, sizeof r.err);
        if (r.rc == 0) {
            r.n = fs.n; r.dim = fs.dim; r.n_samples = fs.n_samples;
            memcpy(r.format, fs.format, sizeof r.format);
            memcpy(r.provenance, fs.provenance, sizeof r.provenance);
        }
        /* layout: the reply, the vectors from H5_REPLY_PAGE on (the parent
         * maps them in place), then the ids */
        off_t ids_at = H5_REPLY_PAGE + (off_t)(sizeof(float) * (size_t)fs.n * (size_t)fs.dim);
        int bad = write_full(fd, &r, sizeof r);
        if (r.rc == 0 && !bad) bad = lseek(fd, ids_at, SEEK_SET) != ids_at;   /* the vectors are in place */
        if (r.rc == 0 && !bad) {
            size_t tot = 0;
            for (int i = 0; i < fs.n; i++) tot += sizeof(uint32_t) + strlen(fs.ids[i]);
            char *b = xmalloc(tot ? tot : 1), *q = b;
            for (int i = 0; i < fs.n; i++) {
                uint32_t l = (uint32_t)strlen(fs.ids[i]);
                memcpy(q, &l, sizeof l);
                memcpy(q + sizeof l, fs.ids[i], l);
                q += sizeof l + l;
            }
            bad = write_full(fd, b, tot);
        }
        _exit(bad ? 1 : 0);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (WIFSIGNALED(st)) {
        close(fd);
        core_set_err(err, errlen, "%s: corrupt HDF5 file (libhdf5 crashed reading it: signal %d)", path, WTERMSIG(st));
        return -1;
    }
    h5_reply r;
    int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0 && lseek(fd, 0, SEEK_SET) == 0 &&
             read_full(fd, &r, sizeof r) == 0;
    if (ok && r.rc == 0) {
        ok = r.n > 0 && r.dim > 0;
        out->n = r.n;
        out->dim = r.dim;
        out->n_samples = r.n_samples;
        memcpy(out->format, r.format, sizeof out->format);
        out->format[sizeof out->format - 1] = 0;
        memcpy(out->provenance, r.provenance, sizeof out->provenance);
        out->provenance[sizeof out->provenance - 1] = 0;
        if (ok) {
            size_t xb = sizeof(float) * (size_t)r.n * (size_t)r.dim;
            void *m = mmap(NULL, xb, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_POPULATE, fd, H5_REPLY_PAGE);   /* writes copy */
            ok = m != MAP_FAILED && lseek(fd, H5_REPLY_PAGE + (off_t)xb, SEEK_SET) == H5_REPLY_PAGE + (off_t)xb;
            if (m != MAP_FAILED) { out->x = m; out->x_map_len = xb; }
        }
        /* the ids: the rest of the file, read at once and cut up */
        out->ids = xcalloc((size_t)(r.n > 0 ? r.n : 1), sizeof(char *));
        struct stat sb;
        off_t at = lseek(fd, 0, SEEK_CUR);
        ok = ok && at > 0 && fstat(fd, &sb) == 0 && sb.st_size >= at;
        size_t rest = ok ? (size_t)(sb.st_size - at) : 0;
        char *idbuf = ok ? xmalloc(rest ? rest : 1) : NULL;
        ok = ok && read_full(fd, idbuf, rest) == 0;
        size_t pos = 0;
        for (int i = 0; ok && i < r.n; i++) {
            uint32_t l;
            ok = pos + sizeof l <= rest;
            if (!ok) break;
            memcpy(&l, idbuf + pos, sizeof l);
            pos += sizeof l;
            ok = l <= rest - pos;
            if (!ok) break;
            out->ids[i] = xmalloc((size_t)l + 1);
            memcpy(out->ids[i], idbuf + pos, l);
            out->ids[i][l] = 0;
            pos += l;
        }
        free(idbuf);
    }
    close(fd);
    if (!ok) {
        core_featset_free(out);
        core_set_err(err, errlen, "%s: could not read the HDF5 file (reader process failed)", path);
        return -1;
    }
    if (r.rc != 0) {
        core_featset_free(out);
        r.err[sizeof r.err - 1] = 0;
        core_set_err(err, errlen, "%s", r.err);
        return -1;
    }
    return 0;
}

/* One dataset of rank dims from data (memory type mtype) into fid as ftype:
 * 0, or -1 with "<path>: cannot write <name>". */
static int h5_write(hid_t fid, const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims,
                    const void *data, const char *path, char *err, size_t errlen)
{
    hid_t sid = H5Screate_simple(rank, dims, NULL);
    hid_t did = H5Dcreate2(fid, name, ftype, sid, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = did < 0 || H5Dwrite(did, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0 ? -1 : 0;
    if (rc) core_set_err(err, errlen, "%s: cannot write %s", path, name);
    if (did >= 0) H5Dclose(did);
    if (sid >= 0) H5Sclose(sid);
    return rc;
}

int core_feat_save_hdf5(FILE *out, const char *path, const core_featset *fs, char *const *cols, char *err,
                        size_t errlen)
{
    int ok = 0;
    hid_t fid = -1, tid = -1, fapl = -1;
    char **labels = NULL;
    void *image = NULL;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    /* in memory (core driver, no backing store); the image goes to out */
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && H5Pset_fapl_core(fapl, 1 << 20, 0) < 0) { H5Pclose(fapl); fapl = -1; }
    fid = fapl < 0 ? -1 : H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (fid < 0) { core_set_err(err, errlen, "%s: cannot create", path); goto end; }
    hsize_t d3[3] = {(hsize_t)fs->n, (hsize_t)fs->dim, 1};
    if (h5_write(fid, "predictions", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, d3, fs->x, path, err, errlen)) goto end;
    tid = H5Tcopy(H5T_C_S1);
    H5Tset_size(tid, H5T_VARIABLE);
    H5Tset_cset(tid, H5T_CSET_UTF8);
    hsize_t d1 = (hsize_t)fs->n;
    if (h5_write(fid, "id_str", tid, tid, 1, &d1, fs->ids, path, err, errlen)) goto end;
    labels = xmalloc(sizeof(char *) * (size_t)fs->dim);
    for (int j = 0; j < fs->dim; j++) {
        char b[32];
        snprintf(b, sizeof b, "feat_%d", j);
        labels[j] = xstrdup(cols ? cols[j] : b);
    }
    d1 = (hsize_t)fs->dim;
    if (h5_write(fid, "label_cols", tid, tid, 1, &d1, labels, path, err, errlen)) goto end;
    if (H5Fflush(fid, H5F_SCOPE_GLOBAL) < 0) { core_set_err(err, errlen, "%s: cannot finish the file", path); goto end; }
    ssize_t size = H5Fget_file_image(fid, NULL, 0);
    if (size <= 0) { core_set_err(err, errlen, "%s: cannot finish the file", path); goto end; }
    image = xmalloc((size_t)size);
    if (H5Fget_file_image(fid, image, (size_t)size) != size) { core_set_err(err, errlen, "%s: cannot finish the file", path); goto end; }
    if (fwrite(image, 1, (size_t)size, out) != (size_t)size) { core_set_err(err, errlen, "%s: write failed", path); goto end; }
    ok = 1;
end:
    free(image);
    if (fapl >= 0) H5Pclose(fapl);
    if (labels) { for (int j = 0; j < fs->dim; j++) free(labels[j]); free(labels); }
    if (tid >= 0) H5Tclose(tid);
    if (fid >= 0 && H5Fclose(fid) < 0 && ok) { core_set_err(err, errlen, "%s: cannot close", path); ok = 0; }
    return ok ? 0 : -1;
}

/* ------------------------------------------------------------------- CSV */

typedef struct {
    core_featset *fs;
    const char *path;
    char *err; size_t errlen;
    size_t cap;
} csv_ctx;

static int csv_feat_row(const core_csv_row *row, void *vctx)
{
    csv_ctx *c = vctx;
    core_featset *fs = c->fs;
    if (row->index == 0) {
        if (row->n < 2 || (strcmp(row->f[0], "id_str") != 0 && strcmp(row->f[0], "id") != 0)) {
            core_set_err(c->err, c->errlen, "%s:%ld: the header must start id_str (or id) then feat_0, feat_1, ...", c->path, row->line);
            return 1;
        }
        for (int j = 1; j < row->n; j++) {
            char want[32];
            snprintf(want, sizeof want, "feat_%d", j - 1);
            if (strcmp(row->f[j], want) != 0) {
                core_set_err(c->err, c->errlen, "%s:%ld: column %d: expected '%s', found '%s'", c->path, row->line, j + 1, want, row->f[j]);
                return 1;
            }
        }
        fs->dim = row->n - 1;
        return 0;
    }
    if (row->n != fs->dim + 1) {
        core_set_err(c->err, c->errlen, "%s:%ld: %d fields, the header has %d (feature dimension mismatch)", c->path, row->line, row->n, fs->dim + 1);
        return 1;
    }
    if ((size_t)fs->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        if ((unsigned long long)c->cap * (unsigned long long)fs->dim > FEAT_MAX_VALUES) c->cap = FEAT_MAX_VALUES / (size_t)fs->dim;
        if ((size_t)fs->n == c->cap) { core_set_err(c->err, c->errlen, "%s:%ld: too many rows", c->path, row->line); return 1; }
        fs->x = xrealloc(fs->x, sizeof(float) * c->cap * (size_t)fs->dim);
        fs->ids = xrealloc(fs->ids, sizeof(char *) * c->cap);
        fs->lines = xrealloc(fs->lines, sizeof(long) * c->cap);
    }
    float *v = fs->x + (size_t)fs->n * (size_t)fs->dim;
    for (int j = 0; j < fs->dim; j++)
        if (core_parse_float(row->f[j + 1], &v[j])) {
            core_set_err(c->err, c->errlen, "%s:%ld: column feat_%d: not a number '%.40s'", c->path, row->line, j, row->f[j + 1]);
            return 1;
        }
    if (!row->f[0][0]) { core_set_err(c->err, c->errlen, "%s:%ld: column %s: empty id", c->path, row->line, "id_str"); return 1; }
    fs->ids[fs->n] = xstrdup(row->f[0]);
    fs->lines[fs->n] = row->line;
    fs->n++;
    return 0;
}

int core_feat_load_csv(const char *path, core_featset *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    csv_ctx c = {.fs = out, .path = path, .err = err, .errlen = errlen};
    if (err && errlen) err[0] = 0;
    int rc = core_csv_read(path, csv_feat_row, &c, err, errlen);
    if (rc == 0 && out->dim == 0) { core_set_err(err, errlen, "%s:1: no header row", path); rc = -1; }
    if (rc == 0 && out->n == 0) { core_set_err(err, errlen, "%s: no feature rows", path); rc = -1; }
    if (rc) { core_featset_free(out); return -1; }
    char ap[4096];
    abs_path(path, ap, sizeof ap);
    snprintf(out->format, sizeof out->format, "csv");
    snprintf(out->provenance, sizeof out->provenance, "features csv %.480s", ap);
    out->n_samples = 1;
    return 0;
}

/* ------------------------------------------------------------------- NPY */

/* Finds 'key': in a .npy header dict and returns a pointer past the colon. */
static const char *npy_key(const char *h, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(h, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ') p++;
    if (*p != ':') return NULL;
    p++;
    while (*p == ' ') p++;
    return p;
}

static int read_ids_file(const char *ids_path, char ***ids, long long *n, char *err, size_t errlen)
{
    FILE *f = fopen(ids_path, "r");
    if (!f) { core_set_err(err, errlen, "%s: cannot open: %s", ids_path, strerror(errno)); return -1; }
    char *line = NULL;
    size_t cap = 0, k = 0, kc = 0;
    ssize_t got;
    long ln = 0;
    char **v = NULL;
    while ((got = getline(&line, &cap, f)) >= 0) {
        ln++;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r')) line[--got] = 0;
        if (ln == 1 && got >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {   /* a UTF-8 byte-order mark */
            memmove(line, line + 3, (size_t)got - 2);
            got -= 3;
        }
        if (ln == 1 && (strcmp(line, "id_str") == 0 || strcmp(line, "id") == 0)) continue;
        if (got == 0) continue;
        if (k == kc) { kc = kc ? kc * 2 : 1024; v = xrealloc(v, sizeof(char *) * kc); }
        v[k++] = xstrdup(line);
    }
    free(line);
    fclose(f);
    *ids = v;
    *n = (long long)k;
    return 0;
}

int core_feat_load_npy(const char *path, const char *ids_path, core_featset *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int ok = 0;
    char *hdr = NULL;
    void *blk = NULL;
    char **ids = NULL;
    long long n_ids = 0;
    FILE *f = fopen(path, "rb");
    if (!f) { core_set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno)); return -1; }
    unsigned char pre[12];
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) { core_set_err(err, errlen, "%s: not a .npy file", path); goto end; }
    size_t hlen;
    if (pre[6] == 1) hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    else if (pre[6] == 2 || pre[6] == 3) {
        if (fread(pre + 10, 1, 2, f) != 2) { core_set_err(err, errlen, "%s: truncated .npy header", path); goto end; }
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    } else { core_set_err(err, errlen, "%s: unknown .npy version %d", path, pre[6]); goto end; }
    if (hlen > 1 << 20) { core_set_err(err, errlen, "%s: .npy header too long", path); goto end; }
    hdr = xmalloc(hlen + 1);
    if (fread(hdr, 1, hlen, f) != hlen) { core_set_err(err, errlen, "%s: truncated .npy header", path); goto end; }
    hdr[hlen] = 0;
    const char *d = npy_key(hdr, "descr"), *fo = npy_key(hdr, "fortran_order"), *sh = npy_key(hdr, "shape");
    if (!d || !fo || !sh) { core_set_err(err, errlen, "%s: .npy header lacks descr/fortran_order/shape", path); goto end; }
    int isz;
    int swap = 0;
    if (strncmp(d, "'<f4'", 5) == 0 || strncmp(d, "'=f4'", 5) == 0) isz = 4;
    else if (strncmp(d, "'<f8'", 5) == 0 || strncmp(d, "'=f8'", 5) == 0) isz = 8;
    else if (strncmp(d, "'>f4'", 5) == 0) { isz = 4; swap = 1; }
    else if (strncmp(d, "'>f8'", 5) == 0) { isz = 8; swap = 1; }
    else {
        int dl = 0;     /* the quoted descr, e.g. '<i8' */
        while (d[dl] && d[dl] != ',' && d[dl] != '}' && dl < 24) dl++;
        core_set_err(err, errlen, "%s: .npy dtype %.*s is not float32 or float64 (save it with .astype('float32'))", path, dl, d);
        goto end;
    }
    if (strncmp(fo, "False", 5) != 0) { core_set_err(err, errlen, "%s: .npy in Fortran order is not supported (save it C-ordered)", path); goto end; }
    if (*sh != '(') { core_set_err(err, errlen, "%s: bad .npy shape", path); goto end; }
    long long shp[3] = {0, 0, 1};
    int nd = 0;
    const char *p = sh + 1;
    while (*p && *p != ')') {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        if (!isdigit((unsigned char)*p) || nd == 3) { core_set_err(err, errlen, "%s: .npy shape must be (galaxy, feature[, sample])", path); goto end; }
        shp[nd++] = strtoll(p, (char **)&p, 10);
    }
    if (nd != 2 && nd != 3) { core_set_err(err, errlen, "%s: .npy has %d axes (need galaxy, feature[, sample])", path, nd); goto end; }
    long long n = shp[0], dim = shp[1], ns = nd == 3 ? shp[2] : 1;
    if (!dims_ok(path, n, dim, ns, err, errlen)) goto end;
    if (!ids_path) { core_set_err(err, errlen, "%s: a .npy needs an id list (--ids FILE, one id per line)", path); goto end; }
    if (read_ids_file(ids_path, &ids, &n_ids, err, errlen)) goto end;
    if (n_ids != n) { core_set_err(err, errlen, "%s: %lld ids for %lld rows of %s", ids_path, n_ids, n, path); goto end; }
    out->ids = ids; ids = NULL;
    out->n = (int)n;
    out->dim = (int)dim;
    out->n_samples = (int)ns;
    out->x = xmalloc(sizeof(float) * (size_t)n * (size_t)dim);
    size_t row_vals = (size_t)dim * (size_t)ns;
    long long bn = (long long)(FEAT_BLOCK_BYTES / (row_vals * (size_t)isz));
    if (bn < 1) bn = 1;
    if (bn > n) bn = n;
    blk = xmalloc((size_t)bn * row_vals * (size_t)isz);
    for (long long r0 = 0; r0 < n; r0 += bn) {
        long long b = n - r0 < bn ? n - r0 : bn;
        size_t want = (size_t)b * row_vals;
        if (fread(blk, (size_t)isz, want, f) != want) {
            core_set_err(err, errlen, "%s: truncated .npy data (expected %lld x %lld x %lld values)", path, n, dim, ns);
            goto end;
        }
        for (size_t t = 0; swap && t < want; t++) {
            unsigned char *q = (unsigned char *)blk + t * (size_t)isz;
            for (int a = 0, z = isz - 1; a < z; a++, z--) { unsigned char c = q[a]; q[a] = q[z]; q[z] = c; }
        }
        for (long long i = 0; i < b; i++)
            for (long long j = 0; j < dim; j++) {
                size_t o = ((size_t)i * (size_t)dim + (size_t)j) * (size_t)ns;
                double s = 0;
                for (long long k = 0; k < ns; k++)
                    s += isz == 4 ? (double)((float *)blk)[o + (size_t)k] : ((double *)blk)[o + (size_t)k];
                out->x[(size_t)(r0 + i) * (size_t)dim + (size_t)j] = (float)(s / (double)ns);
            }
    }
    char ap[4096];
    abs_path(path, ap, sizeof ap);
    snprintf(out->format, sizeof out->format, "npy");
    snprintf(out->provenance, sizeof out->provenance, "npy %.440s (float%d, %lld sample%s averaged)", ap, isz * 8, ns, ns == 1 ? "" : "s");
    ok = 1;
end:
    if (ids) { for (long long i = 0; i < n_ids; i++) free(ids[i]); free(ids); }
    free(hdr);
    free(blk);
    fclose(f);
    if (!ok) core_featset_free(out);
    return ok ? 0 : -1;
}

/* A NaN or infinity in a representation poisons every distance, the PCA
 * and the head fitted on it: refuse the file, naming the first bad value. */
static int all_finite(const char *path, core_featset *fs, char *err, size_t errlen)
{
    for (size_t i = 0; i < (size_t)fs->n; i++) {
        const float *v = fs->x + i * (size_t)fs->dim;
        for (int j = 0; j < fs->dim; j++)
            if (!isfinite(v[j])) {
                char where[64] = "";
                if (fs->lines && fs->lines[i] > 0) snprintf(where, sizeof where, ":%ld", fs->lines[i]);
                core_set_err(err, errlen, "%s%s: galaxy '%.80s' (row %zu), feature %d: %s (features must be finite numbers)",
                             path, where, fs->ids[i], i + 1, j, isnan(v[j]) ? "NaN" : "infinite");
                core_featset_free(fs);
                return -1;
            }
    }
    return 0;
}

static int load_any(const char *path, const char *ids_path, core_featset *out, char *err, size_t errlen);

int core_feat_load(const char *path, const char *ids_path, core_featset *out, char *err, size_t errlen)
{
    if (load_any(path, ids_path, out, err, errlen)) return -1;
    return all_finite(path, out, err, errlen);
}

static int load_any(const char *path, const char *ids_path, core_featset *out, char *err, size_t errlen)
{
    unsigned char m[8] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) { core_set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno)); memset(out, 0, sizeof *out); return -1; }
    size_t got = fread(m, 1, 8, f);
    fclose(f);
    if (got == 8 && memcmp(m, "\x89HDF\r\n\x1a\n", 8) == 0) return core_feat_load_hdf5(path, out, err, errlen);
    if (got >= 6 && memcmp(m, "\x93NUMPY", 6) == 0) return core_feat_load_npy(path, ids_path, out, err, errlen);
    return core_feat_load_csv(path, out, err, errlen);
}
