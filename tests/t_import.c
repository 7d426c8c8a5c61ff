/*
 * t_import.c - `zoosh import` and `zoosh export` on real catalogs and real
 * files: the DECaLS ring set (PNG, ring + vote fractions), the Galaxy Zoo
 * tutorial set (JPEG), Zoobot HDF5 written by h5py at run time, every kind
 * of bad input (which must name file, line and column and leave the
 * workspace's data file byte for byte unchanged), --skip-bad, re-import,
 * and the exports read back.  Also the CSV reader itself.
 */
#include "tests/zt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fitsio.h>

#include "core/catalog.h"
#include "core/export.h"
#include "core/image.h"
#include "core/import.h"
#include "core/thumb.h"
#include "core/util.h"
#include "store/store.h"

#define PY "/usr/bin/python3"

static char ring_cat[1024], ring_dir[1024], tut_cat[1024];

static void paths(void)
{
    snprintf(ring_dir, sizeof ring_dir, "%s/decals_rings", ZT_SHARED);
    snprintf(ring_cat, sizeof ring_cat, "%s/decals_rings/catalog.csv", ZT_SHARED);
    snprintf(tut_cat, sizeof tut_cat, "%s/gz_tutorial/catalog.csv", ZT_SHARED);
}

static void init_ws(const char *ws)
{
    paths();
    int rc = zt_sh("init.out", "'%s' init %s", ZT_ZOOSH, ws);
    char *o = zt_slurp("init.out", NULL);
    ZT_CHECK(rc == 0, "zoosh init failed (%d): %s", rc, o ? o : "");
    free(o);
}

/* Runs zoosh with args ("$ZT_SHARED" stands for the data folder); returns
 * the exit status; output in out.txt / err.txt. */
static int zoosh(const char *args)
{
    char buf[8192];
    size_t n = 0;
    for (const char *p = args; *p && n < sizeof buf - 1200;) {
        if (strncmp(p, "$ZT_SHARED", 10) == 0) { n += (size_t)snprintf(buf + n, sizeof buf - n, "%s", ZT_SHARED); p += 10; }
        else buf[n++] = *p++;
    }
    buf[n] = 0;
    return zt_sh(NULL, "'%s' %s >out.txt 2>err.txt", ZT_ZOOSH, buf);
}

static char *err_text(void)
{
    char *e = zt_slurp("err.txt", NULL);
    return e ? e : xstrdup("");
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ZT_CHECK(f != NULL, "%s", path);
    fputs(text, f);
    fclose(f);
}

static zs_store *open_ro(const char *ws)
{
    zs_store *st = NULL;
    ZT_OK(store_open(&st, ws, STORE_RDONLY));
    return st;
}

static int python(const char *script)
{
    write_text("fixture.py", script);
    return zt_sh("py.out", PY " fixture.py");
}

static void ring_ids(char ***ids, int *n, double **ring)
{
    core_catalog c;
    char err[512];
    ZT_OK(core_catalog_load(ring_cat, &c, err, sizeof err));
    *n = (int)c.n_rows;
    *ids = xmalloc(sizeof(char *) * (size_t)c.n_rows);
    *ring = xmalloc(sizeof(double) * (size_t)c.n_rows);
    int ic = core_catalog_col(&c, "id"), rc = core_catalog_col(&c, "ring");
    for (long i = 0; i < c.n_rows; i++) {
        (*ids)[i] = xstrdup(c.cells[i][ic]);
        (*ring)[i] = atof(c.cells[i][rc]);
    }
    core_catalog_free(&c);
}

/* Galaxy gid's stored thumbnail decoded (core_thumb_get, what every reader
 * uses) into an owned image. */
static void thumb_pixels(zs_txn *t, uint32_t gid, core_image *out)
{
    int w, h;
    const uint8_t *px;
    uint8_t owned;
    char err[256] = "";
    ZT_CHECK(core_thumb_get(t, gid, &w, &h, &px, &owned, err, sizeof err) == 0, "thumbnail %u: %s", gid, err);
    ZT_OK(core_image_alloc(out, w, h));
    memcpy(out->px, px, (size_t)w * (size_t)h * 3);
    if (owned) free((void *)px);
}

/* Squared error summed over every channel of two images of one size. */
static double sq_err(const core_image *a, const core_image *b)
{
    double s = 0;
    for (size_t i = 0; i < (size_t)a->w * (size_t)a->h * 3; i++) {
        double d = (double)a->px[i] - (double)b->px[i];
        s += d * d;
    }
    return s;
}

static double psnr(double sq, double n) { return sq > 0 ? 10 * log10(255.0 * 255.0 * n / sq) : 99.0; }

/* ------------------------------------------------------------- cases */

static void imports_the_ring_catalog(void)
{
    init_ws("ws");
    int rc = zoosh("import ws \"$ZT_SHARED/decals_rings/catalog.csv\"");
    char *e = err_text();
    ZT_CHECK(rc == 0, "import exited %d: %s", rc, e);
    free(e);
    core_catalog c;
    char err[512];
    ZT_OK(core_catalog_load(ring_cat, &c, err, sizeof err));
    zs_store *st = open_ro("ws");
    zs_txn *t;
    ZT_OK(store_read_begin(st, &t));
    ZT_CHECK(store_galaxy_count(t) == 200, "%u galaxies", store_galaxy_count(t));
    const char *pcols[4] = {"ring", "smooth-or-featured_featured-or-disk_fraction", "disk-edge-on_no_fraction",
                            "has-spiral-arms_no_fraction"};
    for (long i = 0; i < c.n_rows; i++) {
        uint32_t gid;
        ZT_OK(store_galaxy_find(t, c.cells[i][0], &gid));
        for (int k = 0; k < 4; k++) {
            double v, want = strtod(c.cells[i][core_catalog_col(&c, pcols[k])], NULL);
            ZT_OK(store_prior_get(t, gid, pcols[k], &v));
            ZT_CHECK(v == want, "%s %s: stored %.17g, catalog %.17g", c.cells[i][0], pcols[k], v, want);
        }
        store_thumb th;
        ZT_OK(store_thumb_get(t, gid, &th));
        ZT_CHECK(th.w == 256 && th.h == 256, "thumbnail %dx%d", th.w, th.h);
        ZT_CHECK(th.codec == STORE_THUMB_JPEG, "stored as codec %d, not JPEG", th.codec);
        store_galaxy g;
        ZT_OK(store_galaxy_get(t, gid, &g));
        char want_file[2048];
        snprintf(want_file, sizeof want_file, "%s/%s", ring_dir, c.cells[i][1]);
        ZT_CHECK(strcmp(g.file, want_file) == 0, "file %s, want %s", g.file, want_file);
        ZT_CHECK(isnan(g.ra), "ra should be NaN without a column");
        int has_src = 0;
        for (int m = 0; m < g.n_meta; m++) has_src |= strcmp(g.meta_key[m], "source_path") == 0 &&
                                                    strcmp(g.meta_val[m], c.cells[i][6]) == 0;
        ZT_CHECK(has_src, "source_path not kept as meta");
        store_galaxy_free(&g);
    }
    double dummy;
    uint32_t g1;
    ZT_OK(store_galaxy_find(t, c.cells[0][0], &g1));
    ZT_CHECK(store_prior_get(t, g1, "source_path", &dummy) == STORE_ENOTFOUND, "a text column became a prior");
    store_read_end(t);
    store_close(st);
    core_catalog_free(&c);
}

static void imports_the_tutorial_jpegs(void)
{
    init_ws("ws");
    int rc = zoosh("import ws \"$ZT_SHARED/gz_tutorial/catalog.csv\" --threads 2");
    char *e = err_text();
    ZT_CHECK(rc == 0, "import exited %d: %s", rc, e);
    free(e);
    core_catalog c;
    char err[512];
    ZT_OK(core_catalog_load(tut_cat, &c, err, sizeof err));
    zs_store *st = open_ro("ws");
    zs_txn *t;
    ZT_OK(store_read_begin(st, &t));
    ZT_CHECK(store_galaxy_count(t) == (uint32_t)c.n_rows, "%u galaxies for %ld rows", store_galaxy_count(t), c.n_rows);
    int qt = core_catalog_col(&c, "question_text");
    int checked = 0;
    for (long i = 0; i < c.n_rows; i++) {
        uint32_t gid;
        ZT_OK(store_galaxy_find(t, c.cells[i][0], &gid));
        core_image th;
        thumb_pixels(t, gid, &th);
        ZT_CHECK((th.w == 256 || th.h == 256) && th.w <= 256 && th.h <= 256, "thumbnail %dx%d", th.w, th.h);
        core_image_free(&th);
        if (strchr(c.cells[i][qt], ',')) {   /* a quoted field with a comma survives */
            store_galaxy g;
            ZT_OK(store_galaxy_get(t, gid, &g));
            int ok = 0;
            for (int m = 0; m < g.n_meta; m++)
                ok |= !strcmp(g.meta_key[m], "question_text") && !strcmp(g.meta_val[m], c.cells[i][qt]);
            ZT_CHECK(ok, "question_text of %s not kept verbatim", c.cells[i][0]);
            store_galaxy_free(&g);
            checked++;
        }
    }
    ZT_CHECK(checked > 0, "no quoted field with a comma in the tutorial catalog?");
    store_read_end(t);
    store_close(st);
    core_catalog_free(&c);
}

typedef struct {
    char **ids;
    double *ring;
    int n;
} truth;

/* Appends user's retraction of answer seq on galaxy gid (task). */
static int retract(zs_txn *t, uint32_t gid, const char *user, const char *task, uint64_t seq)
{
    store_answer r = {.gid = gid, .kind = STORE_ANS_RETRACT, .retracts = seq};
    snprintf(r.user, sizeof r.user, "%s", user);
    snprintf(r.task, sizeof r.task, "%s", task);
    return store_answer_append(t, &r, &seq);
}

static int answer_ring(zs_txn *t, void *ctx)
{
    truth *tr = ctx;
    for (int i = 0; i < tr->n; i++) {
        uint32_t gid;
        int rc = store_galaxy_find(t, tr->ids[i], &gid);
        if (rc) return rc;
        const char *yes = tr->ring[i] > 0.5 ? "yes" : "no", *wrong = tr->ring[i] > 0.5 ? "no" : "yes";
        store_answer a = {.gid = gid, .kind = STORE_ANS_TREE, .n_steps = 1};
        snprintf(a.task, sizeof a.task, "ring");
        snprintf(a.steps[0].question, STORE_KEY_MAX, "ring");
        uint64_t seq;
        /* alice always answers right */
        snprintf(a.user, sizeof a.user, "alice");
        snprintf(a.steps[0].answer, STORE_KEY_MAX, "%s", yes);
        if ((rc = store_answer_append(t, &a, &seq))) return rc;
        if (i == 0) {
            /* dave disagrees and nobody breaks the tie: galaxy 0 is left out */
            snprintf(a.user, sizeof a.user, "dave");
            snprintf(a.steps[0].answer, STORE_KEY_MAX, "%s", wrong);
            if ((rc = store_answer_append(t, &a, &seq))) return rc;
            continue;
        }
        if (i % 2 == 0) {
            snprintf(a.user, sizeof a.user, "bob");
            snprintf(a.steps[0].answer, STORE_KEY_MAX, "%s", yes);
            if ((rc = store_answer_append(t, &a, &seq))) return rc;
        }
        if (i % 5 == 1) {
            /* carol answers wrong, then undoes it: the retraction must count */
            snprintf(a.user, sizeof a.user, "carol");
            snprintf(a.steps[0].answer, STORE_KEY_MAX, "%s", wrong);
            if ((rc = store_answer_append(t, &a, &seq))) return rc;
            if ((rc = retract(t, gid, "carol", "ring", seq))) return rc;
        }
    }
    return 0;
}

static void export_labels_gives_back_the_ring_labels(void)
{
    init_ws("ws");
    ZT_CHECK(zoosh("import ws \"$ZT_SHARED/decals_rings/catalog.csv\" --no-thumbs") == 0, "import failed");
    truth tr;
    ring_ids(&tr.ids, &tr.n, &tr.ring);
    zs_store *st;
    ZT_OK(store_open(&st, "ws", 0));
    ZT_OK(store_write(st, answer_ring, &tr));
    store_close(st);
    int rc = zoosh("export ws --format labels --task ring -o labels.csv");
    char *e = err_text();
    ZT_CHECK(rc == 0, "export exited %d: %s", rc, e);
    free(e);
    core_catalog c;
    char err[512];
    ZT_OK(core_catalog_load("labels.csv", &c, err, sizeof err));
    ZT_CHECK(c.n_cols == 3 && !strcmp(c.cols[0], "id_str") && !strcmp(c.cols[1], "file_loc") && !strcmp(c.cols[2], "ring"),
             "header %s,%s,...", c.cols[0], c.n_cols > 1 ? c.cols[1] : "");
    ZT_CHECK(c.n_rows == tr.n - 1, "%ld rows; want %d (the tied galaxy left out)", c.n_rows, tr.n - 1);
    for (long i = 0; i < c.n_rows; i++) {
        int k = -1;
        for (int j = 0; j < tr.n; j++) if (!strcmp(tr.ids[j], c.cells[i][0])) k = j;
        ZT_CHECK(k > 0, "unexpected id %s", c.cells[i][0]);
        ZT_CHECK(atoi(c.cells[i][2]) == (int)tr.ring[k], "%s: exported %s, catalog %g", c.cells[i][0], c.cells[i][2], tr.ring[k]);
        ZT_CHECK(c.cells[i][1][0] == '/' && access(c.cells[i][1], R_OK) == 0, "file_loc %s is not a readable absolute path", c.cells[i][1]);
    }
    core_catalog_free(&c);
    /* the raw log has every answer, retractions included */
    ZT_CHECK(zoosh("export ws --format answers -o answers.csv") == 0, "answers export failed");
    ZT_OK(core_catalog_load("answers.csv", &c, err, sizeof err));
    int n_retract = 0, kind = core_catalog_col(&c, "kind"), ret = core_catalog_col(&c, "retracts");
    for (long i = 0; i < c.n_rows; i++)
        if (!strcmp(c.cells[i][kind], "retract")) { n_retract++; ZT_CHECK(atol(c.cells[i][ret]) > 0, "retracts column empty"); }
    ZT_CHECK(n_retract == 40, "%d retractions in the log, want 40", n_retract);
    ZT_CHECK(c.n_rows == 200 + 1 + 99 + 80, "%ld answers in the log", c.n_rows);
    core_catalog_free(&c);
    ZT_CHECK(zoosh("export ws --format answers --task gz-decals -o none.csv") == 0, "answers export of another task failed");
    ZT_OK(core_catalog_load("none.csv", &c, err, sizeof err));
    ZT_CHECK(c.n_rows == 0 && c.n_cols == 11, "--task gz-decals kept %ld ring answers", c.n_rows);
    core_catalog_free(&c);
    for (int i = 0; i < tr.n; i++) free(tr.ids[i]);
    free(tr.ids); free(tr.ring);
}

static int answer_tree(zs_txn *t, void *ctx)
{
    (void)ctx;
    uint32_t gid = 1;
    store_answer a = {.gid = gid, .kind = STORE_ANS_TREE};
    snprintf(a.task, sizeof a.task, "gz-decals");
    uint64_t seq;
    int rc;
    /* u0 first says smooth, then changes their mind (only the latest counts) */
    snprintf(a.user, sizeof a.user, "u0");
    a.n_steps = 1;
    snprintf(a.steps[0].question, STORE_KEY_MAX, "smooth-or-featured");
    snprintf(a.steps[0].answer, STORE_KEY_MAX, "smooth");
    if ((rc = store_answer_append(t, &a, &seq))) return rc;
    /* two users say featured -> not edge-on -> spiral; one says smooth */
    for (int u = 0; u < 2; u++) {
        snprintf(a.user, sizeof a.user, "u%d", u);
        a.n_steps = 3;
        snprintf(a.steps[0].question, STORE_KEY_MAX, "smooth-or-featured");
        snprintf(a.steps[0].answer, STORE_KEY_MAX, "featured-or-disk");
        snprintf(a.steps[1].question, STORE_KEY_MAX, "disk-edge-on");
        snprintf(a.steps[1].answer, STORE_KEY_MAX, "no");
        snprintf(a.steps[2].question, STORE_KEY_MAX, "has-spiral-arms");
        snprintf(a.steps[2].answer, STORE_KEY_MAX, "yes");
        if ((rc = store_answer_append(t, &a, &seq))) return rc;
    }
    snprintf(a.user, sizeof a.user, "u2");
    a.n_steps = 1;
    snprintf(a.steps[0].question, STORE_KEY_MAX, "smooth-or-featured");
    snprintf(a.steps[0].answer, STORE_KEY_MAX, "smooth");
    return store_answer_append(t, &a, &seq);
}

static void export_zoobot_sums_votes_and_fractions(void)
{
    init_ws("ws");
    ZT_CHECK(zoosh("import ws \"$ZT_SHARED/decals_rings/catalog.csv\" --no-thumbs") == 0, "import failed");
    zs_store *st;
    ZT_OK(store_open(&st, "ws", 0));
    ZT_OK(store_write(st, answer_tree, NULL));
    store_close(st);
    int rc = zoosh("export ws --format zoobot -o votes.csv");
    char *e = err_text();
    ZT_CHECK(rc == 0, "export exited %d: %s", rc, e);
    free(e);
    core_catalog c;
    char err[512];
    ZT_OK(core_catalog_load("votes.csv", &c, err, sizeof err));
    ZT_CHECK(c.n_cols == 2 + 34 * 2 + 10, "%d columns; want id_str, file_loc, 34 counts, 10 total-votes, 34 fractions",
             c.n_cols);
    ZT_CHECK(c.n_rows == 1, "%ld rows: only galaxies with answers", c.n_rows);
#define CELL(name) c.cells[0][core_catalog_col(&c, name) < 0 ? 0 : core_catalog_col(&c, name)]
    ZT_CHECK(core_catalog_col(&c, "smooth-or-featured_featured-or-disk") >= 0, "no vote column");
    ZT_CHECK(!strcmp(CELL("smooth-or-featured_featured-or-disk"), "2"), "featured %s", CELL("smooth-or-featured_featured-or-disk"));
    ZT_CHECK(!strcmp(CELL("smooth-or-featured_smooth"), "1"), "smooth %s", CELL("smooth-or-featured_smooth"));
    ZT_CHECK(!strcmp(CELL("has-spiral-arms_yes"), "2"), "spiral %s", CELL("has-spiral-arms_yes"));
    ZT_CHECK(fabs(atof(CELL("smooth-or-featured_smooth_fraction")) - 1.0 / 3) < 1e-5, "fraction %s", CELL("smooth-or-featured_smooth_fraction"));
    ZT_CHECK(!strcmp(CELL("bar_no_fraction"), ""), "a question nobody answered has an empty fraction, got '%s'", CELL("bar_no_fraction"));
    ZT_CHECK(!strcmp(CELL("smooth-or-featured_total-votes"), "3") && !strcmp(CELL("has-spiral-arms_total-votes"), "2") &&
             !strcmp(CELL("bar_total-votes"), "0"), "total-votes %s %s %s", CELL("smooth-or-featured_total-votes"),
             CELL("has-spiral-arms_total-votes"), CELL("bar_total-votes"));
    ZT_CHECK(core_catalog_col(&c, "smooth-or-featured_total-votes") == 2 + 34 &&
             core_catalog_col(&c, "smooth-or-featured_smooth_fraction") == 2 + 34 + 10, "counts, totals, fractions in order");
#undef CELL
    core_catalog_free(&c);
}

/* h5py writes a Zoobot representation file: float32 predictions
 * (galaxy, feature, sample), variable-length UTF-8 id_str and label_cols. */
static const char *h5_script =
    "import h5py, numpy as np, csv, sys\n"
    "ids = [r['id'] for r in csv.DictReader(open(sys.argv[1] if len(sys.argv) > 1 else '%s'))]\n"
    "rng = np.random.default_rng(7)\n"
    "def make(name, dim, samples, n=len(ids)):\n"
    "    x = (rng.standard_normal((n, dim, samples)) * 10.0 ** rng.uniform(-6, 6, (n, dim, samples))).astype(np.float32)\n"
    "    with h5py.File(name, 'w') as f:\n"
    "        f.create_dataset('predictions', data=x)\n"
    "        dt = h5py.string_dtype(encoding='utf-8')\n"
    "        f.create_dataset('id_str', data=ids[:n], dtype=dt)\n"
    "        f.create_dataset('label_cols', data=['feat_%%d' %% j for j in range(dim)], dtype=dt)\n"
    "    m = x.astype(np.float64).mean(axis=2).astype(np.float32)\n"
    "    m.tofile(name + '.expected')\n"
    "    return m\n"
    "m = make('z64.h5', 64, 1)\n"
    "make('z5.h5', 8, 5)\n"
    "make('z32.h5', 32, 1)\n"
    "x2 = rng.standard_normal((len(ids), 8)).astype(np.float32)\n"
    "with h5py.File('z2d.h5', 'w') as f:\n"
    "    f.create_dataset('predictions', data=x2)\n"
    "    f.create_dataset('id_str', data=np.array(ids, dtype='S'))\n"
    "x2.tofile('z2d.h5.expected')\n"
    "np.save('z64.npy', m)\n"
    "open('z64.ids', 'w').write('id_str\\n' + '\\n'.join(ids) + '\\n')\n"
    "with open('z64.csv', 'w') as f:\n"
    "    f.write('id_str,' + ','.join('feat_%%d' %% j for j in range(64)) + '\\n')\n"
    "    for i, r in zip(ids, m):\n"
    "        f.write(i + ',' + ','.join(repr(float(v)) for v in r) + '\\n')\n";

static void make_h5_fixtures(void)
{
    char script[4096];
    snprintf(script, sizeof script, h5_script, ring_cat);
    int rc = python(script);
    if (rc != 0) {
        char *o = zt_slurp("py.out", NULL);
        ZT_CHECK(0, "python fixture failed (%d): %s", rc, o ? o : "");
    }
}

static void check_set(const char *ws, const char *set, const char *expected_file, int dim)
{
    size_t len;
    float *want = (float *)zt_slurp(expected_file, &len);
    ZT_CHECK(want && len == 200 * (size_t)dim * sizeof(float), "%s: %zu bytes", expected_file, len);
    char **ids;
    double *ring;
    int n;
    ring_ids(&ids, &n, &ring);
    zs_store *st = open_ro(ws);
    zs_txn *t;
    ZT_OK(store_read_begin(st, &t));
    int d0;
    char *prov = NULL;
    ZT_OK(store_featset_get(t, set, &d0, &prov));
    ZT_CHECK(d0 == dim, "set %s has dim %d", set, d0);
    ZT_CHECK(prov && prov[0], "set %s has no provenance", set);
    free(prov);
    for (int i = 0; i < n; i++) {
        uint32_t gid;
        ZT_OK(store_galaxy_find(t, ids[i], &gid));
        const float *v;
        int d;
        ZT_OK(store_feature_get(t, set, gid, &v, &d));
        float got[64];
        memcpy(got, v, sizeof(float) * (size_t)d);
        ZT_CHECK(memcmp(got, want + (size_t)i * (size_t)dim, sizeof(float) * (size_t)dim) == 0,
                 "%s %s: feature values differ (first %.9g vs %.9g)", set, ids[i], got[0], want[(size_t)i * (size_t)dim]);
        free(ids[i]);
    }
    store_read_end(t);
    store_close(st);
    free(ids); free(ring); free(want);
}

static void zoobot_hdf5_imports_with_identical_values(void)
{
    init_ws("ws");
    make_h5_fixtures();
    int rc = zoosh("import ws \"$ZT_SHARED/decals_rings/catalog.csv\" --no-thumbs --features z64.h5");
    char *e = err_text();
    ZT_CHECK(rc == 0, "import exited %d: %s", rc, e);
    free(e);
    check_set("ws", "zoobot", "z64.h5.expected", 64);
    zs_store *st = open_ro("ws");
    zs_txn *t;
    ZT_OK(store_read_begin(st, &t));
    char *def = NULL, *prov = NULL;
    int d;
    ZT_OK(store_meta_get(t, "features.default", &def));
    ZT_CHECK(!strcmp(def, "zoobot"), "features.default is %s", def);
    ZT_OK(store_featset_get(t, "zoobot", &d, &prov));
    ZT_CHECK(strstr(prov, "zoobot hdf5") && strstr(prov, "z64.h5"), "provenance '%s'", prov);
    free(def); free(prov);
    store_read_end(t);
    store_close(st);
    /* five samples per galaxy are averaged */
    rc = zoosh("import ws \"$ZT_SHARED/decals_rings/catalog.csv\" --no-thumbs --features z5.h5 --features-name five");
    ZT_CHECK(rc == 0, "import of the 5-sample file exited %d", rc);
    check_set("ws", "five", "z5.h5.expected", 8);
    /* a 2-D predictions dataset with fixed-length byte-string ids and no label_cols */
    rc = zoosh("import ws \"$ZT_SHARED/decals_rings/catalog.csv\" --no-thumbs --features z2d.h5 --features-name flat");
    e = err_text();
    ZT_CHECK(rc == 0, "import of the 2-D file exited %d: %s", rc, e);
    free(e);
    check_set("ws", "flat", "z2d.h5.expected", 8);
}

static void npy_and_csv_features_import_the_same_values(void)
{
    init_ws("ws");
    make_h5_fixtures();
    ZT_CHECK(zoosh("import ws \"$ZT_SHARED/decals_rings/catalog.csv\" --no-thumbs --features z64.npy --ids z64.ids --features-name fromnpy") == 0,
             "npy import failed");
    ZT_CHECK(zoosh("import ws \"$ZT_SHARED/decals_rings/catalog.csv\" --no-thumbs --features z64.csv --features-name fromcsv") == 0,
             "csv import failed");
    check_set("ws", "fromnpy", "z64.h5.expected", 64);
    check_set("ws", "fromcsv", "z64.h5.expected", 64);
    /* and the features export reads back to the same floats */
    int rc = zoosh("export ws --format features --set fromnpy -o back.csv");
    ZT_CHECK(rc == 0, "features export exited %d", rc);
    ZT_CHECK(zt_sh(NULL, "sed 's/^id_str,/id_str,/' back.csv > back2.csv") == 0, "sed");
    init_ws("ws2");
    ZT_CHECK(zoosh("import ws2 \"$ZT_SHARED/decals_rings/catalog.csv\" --no-thumbs --features back.csv") == 0, "re-import of the export failed");
    check_set("ws2", "zoobot", "z64.h5.expected", 64);
}

/* A small good catalog of real images, by --root. */
static void small_catalog(const char *path, int from, int n)
{
    char **ids;
    double *ring;
    int nn;
    ring_ids(&ids, &nn, &ring);
    FILE *f = fopen(path, "w");
    fprintf(f, "id,file,ring\n");
    for (int i = from; i < from + n; i++) fprintf(f, "%s,images/%s.png,%d\n", ids[i], ids[i], (int)ring[i]);
    fclose(f);
    for (int i = 0; i < nn; i++) free(ids[i]);
    free(ids); free(ring);
}

typedef struct {
    const char *name;
    const char *catalog;       /* text; "@N" = the small catalog of rows N.. plus a bad line appended */
    const char *extra;         /* extra import arguments */
    const char *want;          /* substring of the error */
} bad_case;

static void bad_inputs_name_the_place_and_change_nothing(void)
{
    init_ws("ws");
    paths();
    small_catalog("good.csv", 0, 5);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "import ws good.csv --root '%s'", ring_dir);
    ZT_CHECK(zoosh(cmd) == 0, "the good import failed");
    make_h5_fixtures();
    snprintf(cmd, sizeof cmd, "import ws '%s' --no-thumbs --features z64.h5", ring_cat);
    ZT_CHECK(zoosh(cmd) == 0, "the features import failed");
    /* damaged images and odd files */
    size_t len;
    char src[1200];
    snprintf(src, sizeof src, "%s/images/J002658.19-014709.9.png", ring_dir);
    char *png = zt_slurp(src, &len);
    ZT_CHECK(png != NULL, "%s", src);
    FILE *f = fopen("trunc.png", "wb");
    fwrite(png, 1, len / 2, f);
    fclose(f);
    free(png);
    write_text("notimage.png", "this is not an image\n");
    write_text("feat.txt", "just some text\nand more\n");
    write_text("short.csv", "id_str,feat_0,feat_1,feat_2\nJ002658.19-014709.9,1,2,3\nJ003422.97+001633.1,1,2\n");
    char abs_trunc[2048], abs_not[2048], cwd[1024];
    ZT_CHECK(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
    snprintf(abs_trunc, sizeof abs_trunc, "%s/trunc.png", cwd);
    snprintf(abs_not, sizeof abs_not, "%s/notimage.png", cwd);

    char c_fields[512], c_quote[512], c_missing[512], c_corrupt[2600], c_dup[512], c_notimg[2600], c_nan[512];
    const char *g1 = "J002658.19-014709.9", *g2 = "J003422.97+001633.1";
    snprintf(c_fields, sizeof c_fields, "id,file,ring\n%s,images/%s.png,1\nnew1,images/%s.png\n", g1, g1, g2);
    snprintf(c_quote, sizeof c_quote, "id,file,ring\n%s,images/%s.png,1\nnew1,images/\"%s\".png,0\n", g1, g1, g2);
    snprintf(c_missing, sizeof c_missing, "id,file,ring\n%s,images/%s.png,1\nnew1,images/no-such-galaxy.png,0\n", g1, g1);
    snprintf(c_corrupt, sizeof c_corrupt, "id,file,ring\n%s,images/%s.png,1\nnew1,%s,0\n", g1, g1, abs_trunc);
    snprintf(c_dup, sizeof c_dup, "id,file,ring\nnew1,images/%s.png,1\nnew2,images/%s.png,0\nnew1,images/%s.png,0\n", g1, g2, g2);
    snprintf(c_notimg, sizeof c_notimg, "id,file,ring\nnew1,%s,0\n", abs_not);
    snprintf(c_nan, sizeof c_nan, "id,file,ring\nnew1,images/%s.png,abc\n", g1);
    char big[1100];
    snprintf(big, sizeof big, "'%s' --no-thumbs", ring_cat);
    const bad_case cases[] = {
        {"a row with a missing field", c_fields, "", "bad.csv:3: column ring: missing"},
        {"a quote inside an unquoted field", c_quote, "", "bad.csv:3: malformed CSV"},
        {"a missing image", c_missing, "", "bad.csv:3: column file: image"},
        {"a truncated PNG", c_corrupt, "", "bad.csv:3: column file: image"},
        {"a duplicate id", c_dup, "", "bad.csv:4: column id: duplicate id 'new1' (first on line 2)"},
        {"a file that is no image", c_notimg, "", "bad.csv:2: column file: image"},
        {"a vote column that is not a number", c_nan, "", "bad.csv:2: column ring: not a number 'abc'"},
        {"features of another dimension", NULL, "--features z32.h5", "feature dimension 32 differs from the workspace's set 'zoobot' (64)"},
        {"a features CSV row of the wrong length", NULL, "--features short.csv --features-name s3", "short.csv:3: 3 fields, the header has 4"},
        {"a features file of unknown format", NULL, "--features feat.txt --features-name t", "feat.txt:1: the header must start id_str"},
        {"a features file that does not exist", NULL, "--features nope.h5", "nope.h5: cannot open"},
    };
    size_t before_len;
    char *before = zt_slurp("ws/data.mdb", &before_len);
    ZT_CHECK(before != NULL, "no ws/data.mdb");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        if (cases[k].catalog) {
            write_text("bad.csv", cases[k].catalog);
            snprintf(cmd, sizeof cmd, "import ws bad.csv --root '%s' %s", ring_dir, cases[k].extra);
        } else
            snprintf(cmd, sizeof cmd, "import ws %s %s", big, cases[k].extra);
        int rc = zoosh(cmd);
        char *e = err_text();
        ZT_CHECK(rc == 1, "%s: exit %d (want 1): %s", cases[k].name, rc, e);
        ZT_CHECK(strstr(e, cases[k].want) != NULL, "%s: the message lacks '%s': %s", cases[k].name, cases[k].want, e);
        if (k == 3) ZT_CHECK(strstr(e, "truncated") != NULL, "the decoder's reason is missing: %s", e);
        if (k == 5) ZT_CHECK(strstr(e, "not a PNG/JPEG/FITS file") != NULL, "the decoder's reason is missing: %s", e);
        free(e);
        size_t after_len;
        char *after = zt_slurp("ws/data.mdb", &after_len);
        ZT_CHECK(after && after_len == before_len && memcmp(before, after, before_len) == 0,
                 "%s: the workspace changed", cases[k].name);
        free(after);
    }
    free(before);
}

static void skip_bad_imports_the_rest_and_lists_what_it_skipped(void)
{
    init_ws("ws");
    paths();
    char **ids;
    double *ring;
    int n;
    ring_ids(&ids, &n, &ring);
    FILE *f = fopen("mixed.csv", "w");
    fprintf(f, "id,file,ring\n");
    for (int i = 0; i < 6; i++) fprintf(f, "%s,images/%s.png,%d\n", ids[i], ids[i], (int)ring[i]);
    fprintf(f, "ghost,images/ghost.png,1\n");                           /* line 8: missing image */
    fprintf(f, "%s,images/%s.png,0\n", ids[2], ids[2]);                   /* line 9: duplicate */
    fprintf(f, "short,images/%s.png\n", ids[7]);                          /* line 10: missing field */
    fclose(f);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "import ws mixed.csv --root '%s' --skip-bad", ring_dir);
    int rc = zoosh(cmd);
    char *e = err_text();
    ZT_CHECK(rc == 0, "exit %d: %s", rc, e);
    ZT_CHECK(strstr(e, "mixed.csv:8: column file") && strstr(e, "mixed.csv:9: column id: duplicate") &&
             strstr(e, "mixed.csv:10: column ring: missing"), "the skipped rows are not all listed: %s", e);
    free(e);
    zs_store *st = open_ro("ws");
    zs_txn *t;
    ZT_OK(store_read_begin(st, &t));
    ZT_CHECK(store_galaxy_count(t) == 6, "%u galaxies, want 6", store_galaxy_count(t));
    uint32_t gid;
    ZT_CHECK(store_galaxy_find(t, "ghost", &gid) == STORE_ENOTFOUND, "the bad row was imported");
    double v;
    ZT_OK(store_galaxy_find(t, ids[2], &gid));
    ZT_OK(store_prior_get(t, gid, "ring", &v));
    ZT_CHECK(v == ring[2], "the duplicate row overwrote the first (%g)", v);
    store_read_end(t);
    store_close(st);
    for (int i = 0; i < n; i++) free(ids[i]);
    free(ids); free(ring);
}

static void reimport_updates_and_never_duplicates(void)
{
    init_ws("ws");
    paths();
    small_catalog("a.csv", 0, 10);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "import ws a.csv --root '%s' --no-thumbs", ring_dir);
    ZT_CHECK(zoosh(cmd) == 0, "first import");
    ZT_CHECK(zoosh(cmd) == 0, "second import");
    /* the same ids with the ring column flipped, plus 5 new galaxies */
    char **ids;
    double *ring;
    int n;
    ring_ids(&ids, &n, &ring);
    FILE *f = fopen("b.csv", "w");
    fprintf(f, "id,file,ring\n");
    for (int i = 0; i < 15; i++) fprintf(f, "%s,images/%s.png,%d\n", ids[i], ids[i], 1 - (int)ring[i]);
    fclose(f);
    snprintf(cmd, sizeof cmd, "import ws b.csv --root '%s' --no-thumbs", ring_dir);
    ZT_CHECK(zoosh(cmd) == 0, "third import");
    char *o = zt_slurp("out.txt", NULL);
    ZT_CHECK(o && strstr(o, "5 new, 10 updated"), "summary: %s", o ? o : "");
    free(o);
    zs_store *st = open_ro("ws");
    zs_txn *t;
    ZT_OK(store_read_begin(st, &t));
    ZT_CHECK(store_galaxy_count(t) == 15, "%u galaxies", store_galaxy_count(t));
    for (int i = 0; i < 15; i++) {
        uint32_t gid;
        double v;
        ZT_OK(store_galaxy_find(t, ids[i], &gid));
        ZT_CHECK(gid == (uint32_t)i + 1, "%s has gid %u, want %d (import order, kept on update)", ids[i], gid, i + 1);
        ZT_OK(store_prior_get(t, gid, "ring", &v));
        ZT_CHECK(v == 1 - ring[i], "ring of %s not updated", ids[i]);
    }
    store_read_end(t);
    store_close(st);
    for (int i = 0; i < n; i++) free(ids[i]);
    free(ids); free(ring);
}

/* The thumbnails of two workspaces are the same records (codec, size, bytes). */
static void same_thumbs(const char *a, const char *b, int n)
{
    zs_store *sa = open_ro(a), *sb = open_ro(b);
    zs_txn *ta, *tb;
    ZT_OK(store_read_begin(sa, &ta));
    ZT_OK(store_read_begin(sb, &tb));
    ZT_CHECK(store_galaxy_count(ta) == (uint32_t)n && store_galaxy_count(tb) == (uint32_t)n, "%u and %u galaxies, want %d",
             store_galaxy_count(ta), store_galaxy_count(tb), n);
    for (uint32_t gid = 1; gid <= (uint32_t)n; gid++) {
        store_thumb a1, b1;
        ZT_OK(store_thumb_get(ta, gid, &a1));
        ZT_OK(store_thumb_get(tb, gid, &b1));
        ZT_CHECK(a1.codec == b1.codec && a1.w == b1.w && a1.h == b1.h && a1.len == b1.len &&
                 memcmp(a1.bytes, b1.bytes, a1.len) == 0, "thumbnail %u differs", gid);
    }
    store_read_end(ta); store_read_end(tb);
    store_close(sa); store_close(sb);
}

static void big_imports_stream_thumbnails_with_the_same_result(void)
{
    /* ZOOSH_IMPORT_MEM_MB=1 makes 200 thumbnails "too many to keep": an atomic
     * import then spills them to a file (or, without, decodes twice: check,
     * write); --skip-bad decodes once while writing */
    init_ws("keep");
    init_ws("twice");
    init_ws("once");
    paths();
    ZT_CHECK(zoosh("import keep \"$ZT_SHARED/decals_rings/catalog.csv\"") == 0, "import keep");
    int rc = zt_sh("err.txt", "ZOOSH_IMPORT_MEM_MB=1 '%s' import spill '%s' --threads 3", ZT_ZOOSH, ring_cat);
    ZT_CHECK(rc == 3, "import into a missing workspace should exit 3 (exit %d)", rc);
    init_ws("spill");
    rc = zt_sh("err.txt", "ZOOSH_IMPORT_MEM_MB=1 '%s' import spill '%s' --threads 3", ZT_ZOOSH, ring_cat);
    ZT_CHECK(rc == 0, "import through the spill file exited %d", rc);
    same_thumbs("keep", "spill", 200);
    rc = zt_sh("err.txt", "ls -A spill | grep -v -x -e data.mdb -e lock.mdb");
    ZT_CHECK(rc != 0, "the spill file was left in the workspace folder");
    rc = zt_sh("err.txt", "ZOOSH_IMPORT_MEM_MB=1 ZOOSH_IMPORT_NO_SPILL=1 '%s' import twice '%s' --threads 3", ZT_ZOOSH, ring_cat);
    ZT_CHECK(rc == 0, "import twice exited %d", rc);
    same_thumbs("keep", "twice", 200);
    /* a catalog with a truncated image in the middle, streamed with --skip-bad */
    size_t len;
    char src[1200];
    snprintf(src, sizeof src, "%s/images/J002658.19-014709.9.png", ring_dir);
    char *png = zt_slurp(src, &len);
    FILE *f = fopen("trunc.png", "wb");
    fwrite(png, 1, len / 3, f);
    fclose(f);
    free(png);
    char cwd[1024];
    ZT_CHECK(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
    char **ids;
    double *ring;
    int n;
    ring_ids(&ids, &n, &ring);
    f = fopen("cat.csv", "w");
    fprintf(f, "id,file\n");
    for (int i = 0; i < n; i++) {
        if (i == 100) fprintf(f, "broken,%s/trunc.png\n", cwd);
        fprintf(f, "%s,images/%s.png\n", ids[i], ids[i]);
    }
    fclose(f);
    rc = zt_sh("err.txt", "ZOOSH_IMPORT_MEM_MB=1 '%s' import once cat.csv --root '%s' --skip-bad --threads 2", ZT_ZOOSH, ring_dir);
    char *e = zt_slurp("err.txt", NULL);
    ZT_CHECK(rc == 0, "streamed --skip-bad import exited %d: %s", rc, e ? e : "");
    ZT_CHECK(e && strstr(e, "cat.csv:102: column file: image") && strstr(e, "truncated"), "the bad image is not listed: %s", e ? e : "");
    free(e);
    same_thumbs("keep", "once", 200);
    /* and without --skip-bad the streamed check refuses it all */
    init_ws("none");
    rc = zt_sh("err.txt", "ZOOSH_IMPORT_MEM_MB=1 '%s' import none cat.csv --root '%s'", ZT_ZOOSH, ring_dir);
    ZT_CHECK(rc == 1, "atomic streamed import of a bad image exited %d", rc);
    zs_store *st = open_ro("none");
    zs_txn *t;
    ZT_OK(store_read_begin(st, &t));
    ZT_CHECK(store_galaxy_count(t) == 0, "%u galaxies written", store_galaxy_count(t));
    store_read_end(t);
    store_close(st);
    for (int i = 0; i < n; i++) free(ids[i]);
    free(ids); free(ring);
}

static int answer_lens(zs_txn *t, void *ctx)
{
    (void)ctx;
    for (uint32_t gid = 1; gid <= 3; gid++) {
        store_answer a = {.gid = gid, .kind = STORE_ANS_TREE, .n_steps = 1};
        snprintf(a.task, sizeof a.task, "lens");
        snprintf(a.steps[0].question, STORE_KEY_MAX, "lensed");
        snprintf(a.steps[0].answer, STORE_KEY_MAX, "%s", gid == 2 ? "yes" : "no");
        uint64_t seq;
        int rc = store_answer_append(t, &a, &seq);
        if (rc) return rc;
    }
    return 0;
}

static void a_workspace_tree_names_priors_and_exports(void)
{
    paths();
    write_text("lens.txt", "task lens\nquestion lensed \"Is it a lens?\"\n  answer yes \"Yes\"\n  answer no \"No\"\n");
    int rc = zoosh("init ws --schema lens.txt");
    ZT_CHECK(rc == 0, "init with a schema file exited %d", rc);
    char **ids;
    double *ring;
    int n;
    ring_ids(&ids, &n, &ring);
    FILE *f = fopen("cat.csv", "w");
    fprintf(f, "id,file,lens,lensed_yes_fraction,lensed_no,other,RA,dec\n");
    for (int i = 0; i < 3; i++) fprintf(f, "%s,images/%s.png,%d,0.5,3,7,%d.25,%s\n", ids[i], ids[i], i == 1, 100 + i, i == 2 ? "" : "-5.5");
    fclose(f);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "import ws cat.csv --root '%s' --no-thumbs", ring_dir);
    rc = zoosh(cmd);
    char *o = zt_slurp("out.txt", NULL);
    ZT_CHECK(rc == 0 && o && strstr(o, "3 prior columns (9 values)"), "lens, lensed_yes_fraction, lensed_no should be priors: %s", o ? o : "");
    free(o);
    zs_store *st;
    ZT_OK(store_open(&st, "ws", 0));
    ZT_OK(store_write(st, answer_lens, NULL));
    zs_txn *t;
    ZT_OK(store_read_begin(st, &t));
    double v;
    ZT_CHECK(store_prior_get(t, 1, "other", &v) == STORE_ENOTFOUND, "'other' is not a vote column of any task");
    store_galaxy g;
    ZT_OK(store_galaxy_get(t, 2, &g));
    ZT_CHECK(g.ra == 101.25 && g.dec == -5.5, "ra/dec %g %g", g.ra, g.dec);
    store_galaxy_free(&g);
    ZT_OK(store_galaxy_get(t, 3, &g));
    ZT_CHECK(g.ra == 102.25 && isnan(g.dec), "an empty dec is NaN: %g %g", g.ra, g.dec);
    store_galaxy_free(&g);
    store_read_end(t);
    store_close(st);
    rc = zoosh("export ws --format labels --task lens -o lens.csv");
    char *e = err_text();
    ZT_CHECK(rc == 0, "export of the workspace's own task exited %d: %s", rc, e);
    free(e);
    core_catalog c;
    char err[256];
    ZT_OK(core_catalog_load("lens.csv", &c, err, sizeof err));
    ZT_CHECK(c.n_rows == 3 && !strcmp(c.cols[2], "lens"), "%ld rows, column %s", c.n_rows, c.n_cols > 2 ? c.cols[2] : "?");
    for (long i = 0; i < c.n_rows; i++)
        ZT_CHECK(atoi(c.cells[i][2]) == (i == 1), "row %ld: %s", i, c.cells[i][2]);
    core_catalog_free(&c);
    for (int i = 0; i < n; i++) free(ids[i]);
    free(ids); free(ring);
}

static int rate(zs_txn *t, void *ctx)
{
    (void)ctx;
    /* galaxy 1: two users; 2: one user changes their mind (1 -> 0); 3: see below */
    int ratings[][3] = {{1, 5, 0}, {1, 4, 1}, {2, 1, 0}, {2, 0, 0}, {3, 2, 0}, {3, 3, 0}};
    uint64_t seq = 0;
    for (size_t i = 0; i < sizeof ratings / sizeof ratings[0]; i++) {
        store_answer a = {.gid = (uint32_t)ratings[i][0], .kind = STORE_ANS_RATING, .rating = (int8_t)ratings[i][1]};
        snprintf(a.user, sizeof a.user, "%s", ratings[i][2] ? "bob" : "alice");
        snprintf(a.task, sizeof a.task, "interest");
        int rc = store_answer_append(t, &a, &seq);
        if (rc) return rc;
    }
    /* the last rating of galaxy 3 is undone */
    return retract(t, 3, "alice", "interest", seq);
}

static void export_interest_averages_ratings(void)
{
    init_ws("ws");
    paths();
    small_catalog("a.csv", 0, 4);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "import ws a.csv --root '%s' --no-thumbs", ring_dir);
    ZT_CHECK(zoosh(cmd) == 0, "import");
    zs_store *st;
    ZT_OK(store_open(&st, "ws", 0));
    ZT_OK(store_write(st, rate, NULL));
    store_close(st);
    ZT_CHECK(zoosh("export ws --format interest -o i.csv") == 0, "interest export");
    char *t = zt_slurp("i.csv", NULL);
    ZT_CHECK(t && strstr(t, "id_str,file_loc,interest_mean,interest_n\n"), "header: %s", t ? t : "");
    int n = 0;
    for (char *p = t; (p = strchr(p, '\n')); p++) n++;
    ZT_CHECK(n == 4, "%d lines: galaxies 1, 2, 3 rated, 4 not", n);
    /* 1: alice and bob; 2: alice's latest only; 3: the undone 3 leaves her 2 */
    ZT_CHECK(strstr(t, ",4.5,2\n") && strstr(t, ",0,1\n") && strstr(t, ",2,1\n"), "means: %s", t);
    free(t);
}

static void features_reach_galaxies_imported_before(void)
{
    init_ws("ws");
    paths();
    make_h5_fixtures();
    small_catalog("a.csv", 0, 150);
    small_catalog("b.csv", 150, 50);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "import ws a.csv --root '%s' --no-thumbs", ring_dir);
    ZT_CHECK(zoosh(cmd) == 0, "import a");
    /* b.csv has 50 galaxies; the HDF5 has all 200: the other 150 are in the workspace */
    snprintf(cmd, sizeof cmd, "import ws b.csv --root '%s' --no-thumbs --features z64.h5", ring_dir);
    int rc = zoosh(cmd);
    char *e = err_text();
    ZT_CHECK(rc == 0, "import b with features exited %d: %s", rc, e);
    free(e);
    check_set("ws", "zoobot", "z64.h5.expected", 64);
    /* features for a galaxy that is nowhere are bad input */
    init_ws("ws2");
    snprintf(cmd, sizeof cmd, "import ws2 b.csv --root '%s' --no-thumbs --features z64.h5", ring_dir);
    rc = zoosh(cmd);
    e = err_text();
    ZT_CHECK(rc == 1 && strstr(e, "z64.h5:row 1: column id_str: id 'J002658.19-014709.9' is neither in the catalog nor in the workspace"),
             "exit %d: %s", rc, e);
    free(e);
    snprintf(cmd, sizeof cmd, "import ws2 b.csv --root '%s' --no-thumbs --features z64.h5 --skip-bad", ring_dir);
    ZT_CHECK(zoosh(cmd) == 0, "with --skip-bad the known galaxies get their features");
    char *o = zt_slurp("out.txt", NULL);
    ZT_CHECK(o && strstr(o, "50 vectors into feature set 'zoobot'"), "%s", o ? o : "");
    free(o);
}

static void fits_cutouts_import_with_thumbnails(void)
{
    init_ws("ws");
    long ax2[2] = {100, 80}, ax3[3] = {64, 64, 3};
    float *d = xmalloc(sizeof(float) * 100 * 80 * 3);
    for (int i = 0; i < 100 * 80 * 3; i++) d[i] = (float)((i * 37) % 101);
    const char *names[2] = {"a.fits", "b.fits"};
    for (int k = 0; k < 2; k++) {
        fitsfile *f;
        int status = 0;
        char n[64];
        snprintf(n, sizeof n, "!%s", names[k]);
        fits_create_file(&f, n, &status);
        fits_create_img(f, FLOAT_IMG, k ? 3 : 2, k ? ax3 : ax2, &status);
        fits_write_img(f, TFLOAT, 1, k ? 64 * 64 * 3 : 100 * 80, d, &status);
        fits_close_file(f, &status);
        ZT_CHECK(status == 0, "cfitsio %d", status);
    }
    free(d);
    write_text("fits.csv", "id_str,file_loc\ngrey,a.fits\ncolour,b.fits\n");
    int rc = zoosh("import ws fits.csv");
    char *e = err_text();
    ZT_CHECK(rc == 0, "exit %d: %s", rc, e);
    free(e);
    zs_store *st = open_ro("ws");
    zs_txn *t;
    ZT_OK(store_read_begin(st, &t));
    core_image im;
    thumb_pixels(t, 1, &im);
    ZT_CHECK(im.w == 256 && im.h == 205, "grey FITS thumbnail %dx%d (100x80 scaled to 256 wide)", im.w, im.h);
    int grey = 1;   /* JPEG 4:4:4 keeps a grey image grey: Cb = Cr = 128 exactly */
    for (int i = 0; i < im.w * im.h; i++) grey &= abs(im.px[i * 3] - im.px[i * 3 + 1]) <= 1 && abs(im.px[i * 3 + 1] - im.px[i * 3 + 2]) <= 1;
    ZT_CHECK(grey, "a 2-D FITS is grey");
    core_image_free(&im);
    thumb_pixels(t, 2, &im);
    ZT_CHECK(im.w == 256 && im.h == 256, "cube thumbnail %dx%d", im.w, im.h);
    int colour = 0;
    for (int i = 0; i < im.w * im.h; i++) colour |= abs(im.px[i * 3] - im.px[i * 3 + 2]) > 8;
    ZT_CHECK(colour, "a 3-plane cube came out grey");
    core_image_free(&im);
    store_read_end(t);
    store_close(st);
}

typedef struct {
    char got[64][6][64];
    long line[64];
    int nf[64];
    int n;
} rows_seen;

static int see_row(const core_csv_row *r, void *ctx)
{
    rows_seen *s = ctx;
    if (s->n >= 64) return 1;
    s->line[s->n] = r->line;
    s->nf[s->n] = r->n;
    for (int i = 0; i < r->n && i < 6; i++) snprintf(s->got[s->n][i], 64, "%s", r->f[i]);
    s->n++;
    return 0;
}

static void csv_reader_handles_quotes_crlf_and_counts_lines(void)
{
    const char *text =
        "\xEF\xBB\xBFid,text,n\r\n"
        "a,\"one, two\",1\r\n"
        "\r\n"
        "b,\"say \"\"hi\"\"\",2\r\n"
        "c,\"multi\r\nline\",3\r\n"
        "d,plain,4";
    rows_seen s = {0};
    char err[256];
    ZT_OK(core_csv_read_mem(text, strlen(text), "t.csv", see_row, &s, err, sizeof err));
    ZT_CHECK(s.n == 5, "%d rows", s.n);
    ZT_CHECK(!strcmp(s.got[0][0], "id"), "BOM not skipped: '%s'", s.got[0][0]);
    ZT_CHECK(!strcmp(s.got[1][1], "one, two"), "quoted comma: '%s'", s.got[1][1]);
    ZT_CHECK(!strcmp(s.got[2][1], "say \"hi\""), "doubled quotes: '%s'", s.got[2][1]);
    ZT_CHECK(!strcmp(s.got[3][1], "multi\r\nline"), "quoted newline: '%s'", s.got[3][1]);
    ZT_CHECK(!strcmp(s.got[4][2], "4"), "last row without newline: '%s'", s.got[4][2]);
    long want[5] = {1, 2, 4, 5, 7};
    for (int i = 0; i < 5; i++) ZT_CHECK(s.line[i] == want[i], "row %d on line %ld, want %ld", i, s.line[i], want[i]);
    ZT_CHECK(!strcmp(s.got[1][2], "1") && s.nf[1] == 3, "CR kept in the last field: '%s'", s.got[1][2]);
    /* a malformed row names its line, counting the multi-line field */
    const char *bad = "id,x\na,\"x\ny\"\nb,c\"d\n";
    ZT_CHECK(core_csv_read_mem(bad, strlen(bad), "m.csv", see_row, &s, err, sizeof err) == -1, "accepted a stray quote");
    ZT_CHECK(strstr(err, "m.csv:4:") != NULL, "message '%s' should name line 4", err);
    const char *open = "id,x\na,\"never closed\n";
    ZT_CHECK(core_csv_read_mem(open, strlen(open), "o.csv", see_row, &s, err, sizeof err) == -1, "accepted an open quote");
    ZT_CHECK(strstr(err, "o.csv:") && strstr(err, "line 2"), "message '%s'", err);
}

static void export_says_clearly_what_is_missing(void)
{
    init_ws("ws");
    paths();
    small_catalog("a.csv", 0, 3);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "import ws a.csv --root '%s' --no-thumbs", ring_dir);
    ZT_CHECK(zoosh(cmd) == 0, "import");
    int rc = zoosh("export ws --format predictions --task ring");
    char *e = err_text();
    ZT_CHECK(rc == 1 && (strstr(e, "no model") || strstr(e, "no learner")), "predictions without a model: exit %d: %s", rc, e);
    free(e);
    rc = zoosh("export ws --format features");
    e = err_text();
    ZT_CHECK(rc == 1 && strstr(e, "has no feature set; run zoosh embed"), "features without a set: exit %d: %s", rc, e);
    free(e);
    rc = zoosh("export ws --format pictures");
    ZT_CHECK(rc == 2, "an unknown format is a usage error (exit %d)", rc);
    rc = zoosh("export nowhere --format answers");
    ZT_CHECK(rc == 3, "a missing workspace exits 3 (exit %d)", rc);
    rc = zoosh("export ws --format labels --task gz-decals");
    e = err_text();
    ZT_CHECK(rc == 1 && strstr(e, "one-question"), "labels of a tree: exit %d: %s", rc, e);
    free(e);
}

/* A second answer from the same user replaces their first (export labels). */
typedef struct { const char *user, *id, *answer; int retract_it; } vote_in;

static int append_votes(zs_txn *t, void *ctx)
{
    const vote_in *v = ctx;
    for (; v->user; v++) {
        uint32_t gid;
        int rc = store_galaxy_find(t, v->id, &gid);
        if (rc) return rc;
        store_answer a = {.gid = gid, .kind = STORE_ANS_TREE, .n_steps = 1};
        snprintf(a.user, sizeof a.user, "%s", v->user);
        snprintf(a.task, sizeof a.task, "ring");
        snprintf(a.steps[0].question, STORE_KEY_MAX, "ring");
        snprintf(a.steps[0].answer, STORE_KEY_MAX, "%s", v->answer);
        uint64_t seq;
        if ((rc = store_answer_append(t, &a, &seq))) return rc;
        if (v->retract_it) {
            if ((rc = retract(t, gid, v->user, "ring", seq))) return rc;
        }
    }
    return 0;
}

static void export_labels_counts_one_vote_per_user_per_galaxy(void)
{
    init_ws("ws");
    ZT_CHECK(zoosh("import ws \"$ZT_SHARED/decals_rings/catalog.csv\" --no-thumbs") == 0, "import failed");
    char **ids;
    double *ring;
    int n;
    ring_ids(&ids, &n, &ring);
    ZT_CHECK(n >= 4, "%d galaxies", n);
    const char *A = ids[0], *B = ids[1], *C = ids[2], *D = ids[3];
    const vote_in votes[] = {
        /* A: erin says no three times, frank and gina say yes: yes 2 to 1 */
        {"erin", A, "no", 0}, {"erin", A, "no", 0}, {"erin", A, "no", 0}, {"frank", A, "yes", 0}, {"gina", A, "yes", 0},
        /* B: erin changes her mind: her latest answer, no */
        {"erin", B, "yes", 0}, {"erin", B, "no", 0},
        /* C: erin says yes, then no, and takes the no back: yes */
        {"erin", C, "yes", 0}, {"erin", C, "no", 1},
        /* D: erin yes, frank no twice: one each, a tie, left out */
        {"erin", D, "yes", 0}, {"frank", D, "no", 0}, {"frank", D, "no", 0},
        {0}};
    zs_store *st;
    ZT_OK(store_open(&st, "ws", 0));
    ZT_OK(store_write(st, append_votes, (void *)votes));
    store_close(st);
    int rc = zoosh("export ws --format labels --task ring -o labels.csv");
    char *e = err_text();
    ZT_CHECK(rc == 0, "export exited %d: %s", rc, e);
    free(e);
    core_catalog c;
    char err[512];
    ZT_OK(core_catalog_load("labels.csv", &c, err, sizeof err));
    const char *want_id[3] = {A, B, C}, *want[3] = {"1", "0", "1"};
    ZT_CHECK(c.n_rows == 3, "%ld rows; want 3 (A yes, B no, C yes; D tied)", c.n_rows);
    for (int k = 0; k < 3; k++) {
        long row = -1;
        for (long i = 0; i < c.n_rows; i++) if (!strcmp(c.cells[i][0], want_id[k])) row = i;
        ZT_CHECK(row >= 0, "%s is missing from the labels", want_id[k]);
        ZT_CHECK(!strcmp(c.cells[row][2], want[k]), "%s: label %s, want %s", want_id[k], c.cells[row][2], want[k]);
    }
    for (long i = 0; i < c.n_rows; i++) ZT_CHECK(strcmp(c.cells[i][0], D) != 0, "the tied galaxy %s was exported", D);
    core_catalog_free(&c);
    for (int i = 0; i < n; i++) free(ids[i]);
    free(ids);
    free(ring);
}

/* The ring set imported both ways: --thumbs raw stores exactly what
 * core_image_load_thumb makes (the pixels every zoosh before stored, in the
 * layout-1 record), the default JPEG decodes close to it at a seventh of
 * the bytes and marks the workspace layout 2. */
static void jpeg_thumbnails_are_close_to_the_raw_ones_and_raw_stays_exact(void)
{
    init_ws("j");
    init_ws("r");
    char *e;
    ZT_CHECK(zoosh("import j \"$ZT_SHARED/decals_rings/catalog.csv\" --threads 2") == 0, "import: %s", (e = err_text()));
    ZT_CHECK(zoosh("import r \"$ZT_SHARED/decals_rings/catalog.csv\" --threads 2 --thumbs raw") == 0, "import raw: %s", (e = err_text()));
    ZT_CHECK(zoosh("import r \"$ZT_SHARED/decals_rings/catalog.csv\" --thumbs png") == 2, "--thumbs png accepted");
    e = err_text();
    ZT_CHECK(strstr(e, "--thumbs 'png': jpeg, raw or none") != NULL, "message: %s", e);
    free(e);
    zs_store *sj = open_ro("j"), *sr = open_ro("r");
    zs_txn *tj, *tr;
    ZT_OK(store_read_begin(sj, &tj));
    ZT_OK(store_read_begin(sr, &tr));
    ZT_CHECK(store_layout(tj) == 2 && store_layout(tr) == 1, "layouts %d (jpeg) and %d (raw)", store_layout(tj), store_layout(tr));
    double sq = 0, npx = 0, worst = 99, bytes_j = 0, bytes_r = 0;
    for (uint32_t gid = 1; gid <= 200; gid++) {
        store_galaxy g;
        ZT_OK(store_galaxy_get(tj, gid, &g));
        core_image want;
        char err[256];
        ZT_CHECK(core_image_load_thumb(g.file, CORE_THUMB_SIDE, &want, err, sizeof err) == 0, "%s: %s", g.file, err);
        store_galaxy_free(&g);
        store_thumb rj, rr;
        ZT_OK(store_thumb_get(tj, gid, &rj));
        ZT_OK(store_thumb_get(tr, gid, &rr));
        ZT_CHECK(rr.codec == STORE_THUMB_RAW && rr.w == want.w && rr.h == want.h &&
                 memcmp(rr.bytes, want.px, rr.len) == 0, "raw thumbnail %u is not the resize itself", gid);
        ZT_CHECK(rj.codec == STORE_THUMB_JPEG && rj.w == want.w && rj.h == want.h, "jpeg thumbnail %u: %d %dx%d", gid, rj.codec, rj.w, rj.h);
        bytes_j += (double)rj.len;
        bytes_r += (double)rr.len;
        core_image got;
        thumb_pixels(tj, gid, &got);
        ZT_CHECK(got.w == want.w && got.h == want.h, "decoded %dx%d", got.w, got.h);
        double s1 = sq_err(&got, &want), n1 = (double)want.w * want.h * 3;
        if (psnr(s1, n1) < worst) worst = psnr(s1, n1);
        sq += s1;
        npx += n1;
        core_image_free(&got);
        core_image_free(&want);
    }
    double all = psnr(sq, npx);
    printf("  JPEG q%d 4:4:4: %.0f bytes per thumbnail (raw %.0f, %.1fx smaller); PSNR %.2f dB over all, worst galaxy %.2f dB\n",
           CORE_THUMB_JPEG_QUALITY, bytes_j / 200, bytes_r / 200, bytes_r / bytes_j, all, worst);
    /* q92 4:4:4 measured 36.8 dB over all, 34.7 dB worst (most of the error is
     * the sky noise JPEG smooths; q95 would give 38.6 dB at 1.44x the bytes) */
    ZT_CHECK(all >= 36.0 && worst >= 34.0, "PSNR %.2f dB (worst %.2f) against the raw resize", all, worst);
    ZT_CHECK(bytes_r / bytes_j >= 4.0, "JPEG only %.1fx smaller", bytes_r / bytes_j);
    store_read_end(tj);
    store_read_end(tr);
    store_close(sj);
    store_close(sr);
}

/* A workspace of raw thumbnails in layout 1 (what every older zoosh wrote;
 * here made by --thumbs raw, the same records) embeds as before and nearly
 * as its JPEG twin; importing JPEG thumbnails into it raises its layout to 2
 * and check stays clean. */
static void old_raw_workspaces_embed_and_take_jpeg_later(void)
{
    init_ws("r");
    init_ws("j");
    ZT_CHECK(zoosh("import r \"$ZT_SHARED/decals_rings/catalog.csv\" --threads 2 --thumbs raw") == 0, "import raw");
    ZT_CHECK(zoosh("import j \"$ZT_SHARED/decals_rings/catalog.csv\" --threads 2") == 0, "import jpeg");
    char *e;
    ZT_CHECK(zoosh("embed r --threads 2 --quiet") == 0, "embed raw: %s", (e = err_text()));
    ZT_CHECK(zoosh("embed j --threads 2 --quiet") == 0, "embed jpeg: %s", (e = err_text()));
    zs_store *sr = open_ro("r"), *sj = open_ro("j");
    zs_txn *tr, *tj;
    ZT_OK(store_read_begin(sr, &tr));
    ZT_OK(store_read_begin(sj, &tj));
    float *xr, *xj;
    uint32_t *gr, *gj;
    int nr, nj, dr, dj;
    ZT_OK(store_features_load(tr, "morph", &xr, &gr, &nr, &dr));
    ZT_OK(store_features_load(tj, "morph", &xj, &gj, &nj, &dj));
    ZT_CHECK(nr == 200 && nj == 200 && dr == dj, "%d and %d vectors of %d and %d", nr, nj, dr, dj);
    /* per feature: how much of its spread over the galaxies the codec moves
     * (the colour and Fourier terms of the outer annuli, where the sky noise
     * dominates, move most); and whether each galaxy's JPEG vector is still
     * nearest to its own raw one (features standardised by the raw spread) */
    double *sd = xmalloc(sizeof(double) * (size_t)dr), *rel = xmalloc(sizeof(double) * (size_t)dr);
    for (int d = 0; d < dr; d++) {
        double m = 0, v = 0, dd = 0;
        for (int i = 0; i < nr; i++) m += xr[(size_t)i * dr + d];
        m /= nr;
        for (int i = 0; i < nr; i++) {
            double a = xr[(size_t)i * dr + d] - m, b = xr[(size_t)i * dr + d] - xj[(size_t)i * dr + d];
            v += a * a;
            dd += b * b;
        }
        sd[d] = v > 0 ? sqrt(v / nr) : 1;
        rel[d] = v > 0 ? sqrt(dd / v) : 0;
    }
    int same = 0;
    for (int i = 0; i < nr; i++) {
        int best = -1;
        double bd = 0;
        for (int k = 0; k < nr; k++) {
            double s2 = 0;
            for (int d = 0; d < dr; d++) {
                double x = (xj[(size_t)i * dr + d] - xr[(size_t)k * dr + d]) / sd[d];
                s2 += x * x;
            }
            if (best < 0 || s2 < bd) { best = k; bd = s2; }
        }
        same += best == i;
    }
    int below = 0;
    for (int d = 0; d < dr; d++) below += rel[d] < 0.25;
    printf("  morph features, JPEG vs raw thumbnails: %d of %d features move by < 0.25 of their spread; "
           "%d of %d galaxies' JPEG vector is nearest its own raw one\n", below, dr, same, nr);
    ZT_CHECK(below >= dr * 2 / 3, "only %d of %d features are stable under JPEG", below, dr);   /* 201 of 270 measured */
    ZT_CHECK(same >= nr * 95 / 100, "only %d of %d galaxies are nearest their raw selves", same, nr);
    free(sd);
    free(rel);
    free(xr); free(xj); free(gr); free(gj);
    store_read_end(tr);
    store_read_end(tj);
    store_close(sr);
    store_close(sj);
    ZT_CHECK(zoosh("stats r") == 0, "stats");
    e = zt_slurp("out.txt", NULL);
    ZT_CHECK(e && strstr(e, "(layout v1,"), "stats: %s", e ? e : "");
    free(e);
    /* JPEG thumbnails into the old workspace: layout 2, readable, clean */
    ZT_CHECK(zoosh("import r \"$ZT_SHARED/decals_rings/catalog.csv\" --threads 2") == 0, "re-import as JPEG");
    ZT_CHECK(zoosh("check r") == 0, "check after the re-import: %s", (e = zt_slurp("out.txt", NULL)));
    sr = open_ro("r");
    ZT_OK(store_read_begin(sr, &tr));
    store_thumb th;
    ZT_OK(store_thumb_get(tr, 7, &th));
    ZT_CHECK(store_layout(tr) == 2 && th.codec == STORE_THUMB_JPEG, "layout %d, codec %d", store_layout(tr), th.codec);
    store_read_end(tr);
    store_close(sr);
}

typedef struct { const uint8_t *b; size_t len; int codec; } bad_thumb_ctx;

static int put_bad_thumb(zs_txn *txn, void *vctx)
{
    bad_thumb_ctx *c = vctx;
    return store_thumb_put_coded(txn, 3, c->codec, 256, 256, c->b, c->len);
}

/* A damaged JPEG thumbnail reads as STORE_ECORRUPT with the galaxy and the
 * reason, never a crash; embed then reads that galaxy's image file instead. */
static void a_damaged_jpeg_thumbnail_is_an_error_not_a_crash(void)
{
    init_ws("ws");
    ZT_CHECK(zoosh("import ws \"$ZT_SHARED/decals_rings/catalog.csv\" --threads 2") == 0, "import");
    zs_store *st;
    ZT_OK(store_open(&st, "ws", 0));
    zs_txn *t;
    ZT_OK(store_read_begin(st, &t));
    store_thumb th;
    ZT_OK(store_thumb_get(t, 3, &th));
    size_t n = th.len;
    uint8_t *good = xmalloc(n), *bad = xmalloc(n);
    memcpy(good, th.bytes, n);
    store_read_end(t);
    /* the right bytes under a record that says 255 wide */
    core_image im;
    char err[256] = "";
    ZT_CHECK(core_thumb_decode(CORE_THUMB_JPEG, 255, 256, good, n, &im, err, sizeof err) == -1 &&
             strstr(err, "JPEG thumbnail is 256x256, its record says 255x256"), "size mismatch: '%s'", err);
    struct { const char *what; size_t len; int how; const char *reason; } cases[] = {
        {"truncated to half", n / 2, 0, "truncated JPEG"},
        {"garbage after the SOI marker", n, 1, "corrupt JPEG"},
        {"not a JPEG at all", n, 2, "not a JPEG"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        memcpy(bad, good, n);
        if (cases[k].how == 1) for (size_t i = 4; i < n; i += 7) bad[i] ^= 0x5a;
        if (cases[k].how == 2) memset(bad, 'x', n);
        bad_thumb_ctx c = {bad, cases[k].len, CORE_THUMB_JPEG};
        ZT_OK(store_write(st, put_bad_thumb, &c));
        ZT_OK(store_read_begin(st, &t));
        int w, h;
        const uint8_t *px;
        uint8_t owned;
        err[0] = 0;
        int rc = core_thumb_get(t, 3, &w, &h, &px, &owned, err, sizeof err);
        ZT_CHECK(rc == STORE_ECORRUPT && px == NULL, "%s: read as %d", cases[k].what, rc);
        ZT_CHECK(strstr(err, cases[k].reason) && strstr(err, "galaxy 3: thumbnail"), "%s: reason '%s'", cases[k].what, err);
        store_read_end(t);
    }
    store_close(st);
    /* the damaged one (not a JPEG) stays: embed reads that galaxy's file instead */
    char *e;
    ZT_CHECK(zoosh("embed ws --threads 2") == 0, "embed with a damaged thumbnail: %s", (e = err_text()));
    e = zt_slurp("out.txt", NULL);
    ZT_CHECK(e && strstr(e, "200"), "embed output: %s", e ? e : "");
    free(e);
    ZT_CHECK(zoosh("check ws --quick") == 0, "the store's own check passes (the record parses; its bytes are not JPEG)");
    ZT_CHECK(zoosh("check ws") == 3, "the full check finds the JPEG that does not decode");
    e = zt_slurp("out.txt", NULL);
    ZT_CHECK(e && strstr(e, "(gid 3)") && strstr(e, "1 problem"), "check output: %s", e ? e : "");
    free(e);
    free(good);
    free(bad);
}

/* What core_import_run told its progress callback. */
typedef struct {
    int begin, advance, end, steps;
    long last_done;
    char steps_seen[256];
} seen_progress;

static void on_progress(void *ctx, core_import_event ev, const char *what, long done, long total)
{
    seen_progress *sp = ctx;
    (void)total;
    switch (ev) {
    case CORE_IMPORT_BEGIN: sp->begin++; break;
    case CORE_IMPORT_ADVANCE: sp->advance++; break;
    case CORE_IMPORT_END: sp->end++; sp->last_done = done; break;
    case CORE_IMPORT_STEP:
        sp->steps++;
        snprintf(sp->steps_seen + strlen(sp->steps_seen), sizeof sp->steps_seen - strlen(sp->steps_seen), "%s;", what);
        break;
    }
}

static void core_import_and_export_run_without_the_cli(void)
{
    init_ws("ws");
    small_catalog("a.csv", 0, 5);
    FILE *f = fopen("a.csv", "a");
    fputs("gone,images/nope.png,1\n", f);
    fclose(f);
    zs_store *st = NULL;
    ZT_OK(store_open(&st, "ws", STORE_NOSYNC));
    seen_progress sp = {0};
    core_import_opts o = {.ws = "ws", .catalog = "a.csv", .root = ring_dir, .features_name = "zoobot",
                          .codec = CORE_THUMB_JPEG, .threads = 2, .progress = on_progress, .progress_ctx = &sp};
    core_import_report rep;
    char err[1024];
    /* a bad row stops it: the row is listed, err is the line after the list */
    ZT_CHECK(core_import_run(st, &o, &rep, err, sizeof err) == CORE_IMPORT_EINPUT, "a bad row imported");
    ZT_CHECK(rep.problems.n == 1 && strstr(rep.problems.msg[0], "a.csv:7: column file: image ") &&
             strstr(rep.problems.msg[0], "nope.png"), "problem: %s", rep.problems.n ? rep.problems.msg[0] : "(none)");
    ZT_CHECK(strcmp(err, "1 problem; nothing was imported (--skip-bad imports the other rows)") == 0, "err: %s", err);
    core_import_report_free(&rep);
    /* skip_bad: the five good rows, counted; the bad one reported */
    memset(&sp, 0, sizeof sp);
    o.skip_bad = 1;
    ZT_OK(core_import_run(st, &o, &rep, err, sizeof err));
    ZT_CHECK(rep.written == 5 && rep.created == 5 && rep.thumbs == 5 && rep.n_prior == 1 && rep.priors == 5 &&
             !rep.nothing && rep.feat_dim == 0 && rep.fs_dim == 0,
             "report: written %ld created %ld thumbs %ld priors %d/%ld", rep.written, rep.created, rep.thumbs,
             rep.n_prior, rep.priors);
    ZT_CHECK(rep.problems.n == 1, "%d problems", rep.problems.n);
    ZT_CHECK(sp.begin == 2 && sp.end == 2 && sp.advance >= 2 && sp.last_done == 5, "progress: %d begin, %d end, %d advance, last %ld",
             sp.begin, sp.end, sp.advance, sp.last_done);
    ZT_CHECK(strcmp(sp.steps_seen, "catalog read;features read;images decoded;written;synced;") == 0, "steps: %s", sp.steps_seen);
    core_import_report_free(&rep);
    /* export to a FILE: no answers yet, so nothing to export (exit 1 in
     * the CLI, as its --help says); with_priors, the catalog's ring labels */
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    core_export_opts eo = {.ws = "ws", .format = CORE_EXPORT_LABELS};
    core_export_report er;
    ZT_CHECK(core_export_run(st, &eo, mem, &er, err, sizeof err) == CORE_EXPORT_EINPUT &&
             strstr(err, "nothing to export") && strcmp(er.task, "ring") == 0, "labels without answers: %s", err);
    eo.with_priors = 1;
    ZT_CHECK(core_export_run(st, &eo, mem, &er, err, sizeof err) == 0, "labels --with-priors: %s", err);
    fclose(mem);
    ZT_CHECK(er.rows == 5 && er.from_catalog == 5 && strncmp(buf, "id_str,file_loc,ring,source\n", 28) == 0 &&
             strstr(buf, ",catalog\n") && !strstr(buf, ",answers\n"),
             "labels --with-priors: %ld rows, %ld from the catalog, text '%s'", er.rows, er.from_catalog, buf);
    free(buf);
    eo.with_priors = 0;
    eo.format = CORE_EXPORT_FEATURES;
    ZT_CHECK(core_export_run(st, &eo, stdout, &er, err, sizeof err) == CORE_EXPORT_EINPUT &&
             strcmp(err, "ws has no feature set; run zoosh embed or import --features") == 0, "features without a set: %s", err);
    ZT_CHECK(core_export_format_parse("predictions") == CORE_EXPORT_PREDICTIONS && core_export_format_parse("csv") < 0,
             "format names");
    ZT_CHECK(core_export_path_is_hdf5("a/rep.H5") && core_export_path_is_hdf5("rep.hdf5") &&
             !core_export_path_is_hdf5("rep.h5.csv") && !core_export_path_is_hdf5(".h5x"), "HDF5 by extension");
    store_close(st);
}

/* Kaggle's cumulative ClassN.M fractions become gz2's per-question ones:
 * each divided by its class's sum; a class nobody reached is unknown. */
static void kaggle_columns_import_as_per_question_gz2_fractions(void)
{
    paths();
    char kcat[1024], kdir[1024];
    snprintf(kcat, sizeof kcat, "%s/kaggle_gz2_votes/catalog.csv", ZT_SHARED);
    snprintf(kdir, sizeof kdir, "%s/kaggle_gz2_votes", ZT_SHARED);
    core_catalog c;
    char err[512];
    ZT_OK(core_catalog_load(kcat, &c, err, sizeof err));
    FILE *f = fopen("k.csv", "w");
    for (int j = 0; j < c.n_cols; j++) fprintf(f, "%s%s", j ? "," : "", c.cols[j]);
    fputc('\n', f);
    for (long r = 0; r < 12; r++) {
        for (int j = 0; j < c.n_cols; j++) fprintf(f, "%s%s", j ? "," : "", c.cells[r][j]);
        fputc('\n', f);
    }
    fclose(f);
    ZT_CHECK(zoosh("init ws --schema gz2") == 0, "init");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "import ws k.csv --root '%s' --no-thumbs", kdir);
    int rc = zoosh(cmd);
    char *o = zt_slurp("out.txt", NULL);
    ZT_CHECK(rc == 0 && o && strstr(o, "37 prior columns"), "import: %d %s", rc, o ? o : "");
    free(o);
    zs_store *st = open_ro("ws");
    zs_txn *t;
    ZT_OK(store_read_begin(st, &t));
    int col[3][2] = {{core_catalog_col(&c, "Class3.1"), core_catalog_col(&c, "Class3.2")},
                     {core_catalog_col(&c, "Class5.4"), core_catalog_col(&c, "Class5.1")},
                     {core_catalog_col(&c, "Class9.2"), core_catalog_col(&c, "Class9.1")}};
    static const char *const name[3] = {"bar-gz2_yes_fraction", "bulge-size-gz2_dominant_fraction",
                                        "bulge-shape-gz2_boxy_fraction"};
    static const char *const klass[3] = {"Class3.", "Class5.", "Class9."};
    int checked = 0, unknown = 0;
    for (long r = 0; r < 12; r++) {
        uint32_t gid;
        ZT_OK(store_galaxy_find(t, c.cells[r][core_catalog_col(&c, "id")], &gid));
        for (int k = 0; k < 3; k++) {
            double sum = 0, v = NAN;
            for (int j = 0; j < c.n_cols; j++)
                if (!strncmp(c.cols[j], klass[k], 7)) sum += atof(c.cells[r][j]);
            int got = store_prior_get(t, gid, name[k], &v);
            if (sum > 0) {
                double want = atof(c.cells[r][col[k][0]]) / sum;
                ZT_CHECK(got == 0 && fabs(v - want) < 1e-9, "%s %s: %g, want %s / %g = %g", c.cells[r][0], name[k], v,
                         c.cells[r][col[k][0]], sum, want);
                checked++;
            } else {
                ZT_CHECK(got == STORE_ENOTFOUND, "%s: %s of a class nobody reached is stored (%g)", c.cells[r][0], name[k], v);
                unknown++;
            }
        }
        double s1 = 0, x;
        static const char *const q1[3] = {"smooth-or-featured-gz2_smooth_fraction",
                                          "smooth-or-featured-gz2_featured-or-disk_fraction",
                                          "smooth-or-featured-gz2_artifact_fraction"};
        for (int a = 0; a < 3; a++) { ZT_OK(store_prior_get(t, gid, q1[a], &x)); s1 += x; }
        ZT_CHECK(fabs(s1 - 1) < 1e-9, "smooth-or-featured fractions sum to %g", s1);
    }
    ZT_CHECK(checked > 12 && unknown > 0, "%d values checked, %d unknown", checked, unknown);
    store_read_end(t);
    store_close(st);
    /* a catalog giving an answer both ways is refused, naming both */
    write_text("both.csv", "id,file,Class1.1,smooth-or-featured-gz2_smooth_fraction\nx,images/100008.jpg,0.5,0.5\n");
    snprintf(cmd, sizeof cmd, "import ws both.csv --root '%s' --no-thumbs", kdir);
    rc = zoosh(cmd);
    char *e = err_text();
    ZT_CHECK(rc == 1 && strstr(e, "both.csv:1: column smooth-or-featured-gz2_smooth_fraction: Kaggle's Class1.1 is the same answer"),
             "exit %d: %s", rc, e);
    free(e);
    core_catalog_free(&c);
}

static int answer_kinds(zs_txn *t, void *ctx)
{
    (void)ctx;
    /* galaxy 1: spiral 2 to 1; 2: merger; 3: a tie, left out; 4: nobody */
    static const struct { uint32_t gid; const char *user, *ans; } v[] = {
        {1, "a", "spiral"}, {1, "b", "spiral"}, {1, "c", "elliptical"}, {2, "a", "merger"},
        {3, "a", "elliptical"}, {3, "b", "merger"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        store_answer a = {.gid = v[i].gid, .kind = STORE_ANS_TREE, .n_steps = 1};
        snprintf(a.user, sizeof a.user, "%s", v[i].user);
        snprintf(a.task, sizeof a.task, "morph");
        snprintf(a.steps[0].question, STORE_KEY_MAX, "kind");
        snprintf(a.steps[0].answer, STORE_KEY_MAX, "%s", v[i].ans);
        uint64_t seq;
        int rc = store_answer_append(t, &a, &seq);
        if (rc) return rc;
    }
    return 0;
}

/* A three-answer task's labels are integers in the task's answer order,
 * the legend in FILE.legend.csv; --with-priors fills in the catalog's. */
static void labels_of_many_answers_are_integers_with_a_legend(void)
{
    paths();
    write_text("morph.txt", "task morph\nquestion kind \"Kind?\"\n answer elliptical \"Elliptical\"\n"
                            " answer spiral \"Spiral, \\\"arms\\\"\"\n answer merger\n");
    ZT_CHECK(zoosh("init ws --schema morph.txt") == 0, "init");
    char **ids;
    double *ring;
    int n;
    ring_ids(&ids, &n, &ring);
    FILE *f = fopen("m.csv", "w");
    fprintf(f, "id,file,kind_elliptical_fraction,kind_spiral_fraction,kind_merger_fraction\n");
    for (int i = 0; i < 5; i++)
        fprintf(f, "%s,images/%s.png,%s\n", ids[i], ids[i], i == 3 ? "0.7,0.2,0.1" : i == 4 ? "0.4,0.4,0.2" : "0,0,1");
    fclose(f);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "import ws m.csv --root '%s' --no-thumbs", ring_dir);
    ZT_CHECK(zoosh(cmd) == 0, "import");
    zs_store *st;
    ZT_OK(store_open(&st, "ws", 0));
    ZT_OK(store_write(st, answer_kinds, NULL));
    store_close(st);
    ZT_CHECK(zoosh("export ws --format labels --task morph -o lab.csv") == 0, "labels export");
    char *t = zt_slurp("lab.csv", NULL);
    char want[4096];
    snprintf(want, sizeof want, "id_str,file_loc,morph\n%s,%s/images/%s.png,1\n%s,%s/images/%s.png,2\n", ids[0], ring_dir,
             ids[0], ids[1], ring_dir, ids[1]);
    ZT_CHECK(t && strcmp(t, want) == 0, "labels:\n%s\nwant:\n%s", t ? t : "", want);
    free(t);
    t = zt_slurp("lab.legend.csv", NULL);
    ZT_CHECK(t && strcmp(t, "morph,answer,text\n0,elliptical,Elliptical\n1,spiral,\"Spiral, \"\"arms\"\"\"\n2,merger,merger\n") == 0,
             "legend: %s", t ? t : "");
    free(t);
    char *e = err_text();
    ZT_CHECK(strstr(e, "legend (0 = elliptical, 1 = spiral, 2 = merger) to lab.legend.csv"), "message: %s", e);
    free(e);
    /* to standard output the legend is said on stderr */
    ZT_CHECK(zoosh("export ws --format labels --task morph") == 0, "labels to stdout");
    e = err_text();
    ZT_CHECK(strstr(e, "zoosh export: legend: 0 = elliptical, 1 = spiral, 2 = merger"), "message: %s", e);
    free(e);
    /* --with-priors: galaxy 4 from its fractions (elliptical); 3 tied in the
     * answers stays out; 5 tied in the catalog stays out */
    snprintf(cmd, sizeof cmd, "export ws --format labels --task morph --with-priors --relative-to '%s/images/.//' -o lab.csv", ring_dir);
    ZT_CHECK(zoosh(cmd) == 0, "labels --with-priors");
    t = zt_slurp("lab.csv", NULL);
    snprintf(want, sizeof want, "id_str,file_loc,morph,source\n%s,%s.png,1,answers\n%s,%s.png,2,answers\n%s,%s.png,0,catalog\n",
             ids[0], ids[0], ids[1], ids[1], ids[3], ids[3]);
    ZT_CHECK(t && strcmp(t, want) == 0, "labels:\n%s\nwant:\n%s", t ? t : "", want);
    free(t);
    for (int i = 0; i < n; i++) free(ids[i]);
    free(ids); free(ring);
}

static void export_paths_are_normalised(void)
{
    char b[256];
    ZT_OK(core_export_path_normal("/a//b/./c/../d/", b, sizeof b));
    ZT_CHECK(strcmp(b, "/a/b/d") == 0, "%s", b);
    ZT_OK(core_export_path_normal("/../..//x", b, sizeof b));
    ZT_CHECK(strcmp(b, "/x") == 0, "%s", b);
    ZT_OK(core_export_path_normal("/", b, sizeof b));
    ZT_CHECK(strcmp(b, "/") == 0, "%s", b);
    char cwd[1024], want[1100];
    ZT_CHECK(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
    snprintf(want, sizeof want, "%s/sub", cwd);
    ZT_OK(core_export_path_normal("./x/../sub/.", b, sizeof b));
    ZT_CHECK(strcmp(b, want) == 0, "%s, want %s", b, want);
    ZT_CHECK(core_export_path_normal("/a/bcdefgh", b, 6) == -1, "too long");
    core_export_legend_path("out/labels.CSV", b, sizeof b);
    ZT_CHECK(strcmp(b, "out/labels.legend.csv") == 0, "%s", b);
    core_export_legend_path("labels", b, sizeof b);
    ZT_CHECK(strcmp(b, "labels.legend.csv") == 0, "%s", b);
}

/* gz-decals with --suffix dr5: Zoobot's decals_dr5_ortho columns. */
static void export_zoobot_takes_the_dr5_suffix(void)
{
    init_ws("ws");
    ZT_CHECK(zoosh("import ws \"$ZT_SHARED/decals_rings/catalog.csv\" --no-thumbs") == 0, "import failed");
    zs_store *st;
    ZT_OK(store_open(&st, "ws", 0));
    ZT_OK(store_write(st, answer_tree, NULL));
    store_close(st);
    ZT_CHECK(zoosh("export ws --format zoobot --suffix dr5 -o v.csv") == 0, "export --suffix dr5");
    core_catalog c;
    char err[512];
    ZT_OK(core_catalog_load("v.csv", &c, err, sizeof err));
    ZT_CHECK(c.n_cols == 2 + 34 + 10 + 34, "%d columns", c.n_cols);
    ZT_CHECK(!strcmp(c.cols[2], "smooth-or-featured-dr5_smooth") && !strcmp(c.cols[2 + 34], "smooth-or-featured-dr5_total-votes") &&
             !strcmp(c.cols[2 + 44], "smooth-or-featured-dr5_smooth_fraction") &&
             core_catalog_col(&c, "merging-dr5_merger") >= 0 && core_catalog_col(&c, "has-spiral-arms-dr5_yes") >= 0,
             "columns %s %s %s", c.cols[2], c.cols[36], c.cols[46]);
    ZT_CHECK(!strcmp(c.cells[0][core_catalog_col(&c, "has-spiral-arms-dr5_yes")], "2"), "spiral votes");
    core_catalog_free(&c);
    ZT_CHECK(zoosh("export ws --format zoobot --suffix dr9") == 1, "--suffix dr9 accepted");
    char *e = err_text();
    ZT_CHECK(strstr(e, "--suffix dr9: dr5 or dr8"), "%s", e);
    free(e);
}

const zt_case zt_suite_import[] = {
    {"imports the DECaLS ring catalog: 200 galaxies, ring and vote-fraction priors, 256 px thumbnails", imports_the_ring_catalog, 90},
    {"imports the Galaxy Zoo tutorial JPEG catalog with its quoted text columns", imports_the_tutorial_jpegs, 90},
    {"export labels gives back the ring labels after answering, retractions undone, ties left out", export_labels_gives_back_the_ring_labels, 60},
    {"export labels counts one vote per user per galaxy: their latest answer not retracted", export_labels_counts_one_vote_per_user_per_galaxy, 60},
    {"export zoobot sums the votes of all users and gives fractions per question", export_zoobot_sums_votes_and_fractions, 60},
    {"a Zoobot HDF5 written by h5py imports with bit-identical values (samples averaged, 2-D, byte-string ids)", zoobot_hdf5_imports_with_identical_values, 60},
    {"npy + id list and CSV features import the same values, and the features export reads back", npy_and_csv_features_import_the_same_values, 60},
    {"every kind of bad input names file, line and column and leaves the workspace unchanged", bad_inputs_name_the_place_and_change_nothing, 120},
    {"--skip-bad imports the good rows and lists the bad ones", skip_bad_imports_the_rest_and_lists_what_it_skipped, 60},
    {"importing again updates by id and never duplicates", reimport_updates_and_never_duplicates, 60},
    {"catalogs too big to keep thumbnails in memory stream them with the same result", big_imports_stream_thumbnails_with_the_same_result, 120},
    {"a tree stored in the workspace names prior columns and exports its labels; ra/dec are kept", a_workspace_tree_names_priors_and_exports, 60},
    {"export interest gives the mean rating and count per galaxy, retractions undone", export_interest_averages_ratings, 60},
    {"features reach galaxies imported before; ids found nowhere are bad input", features_reach_galaxies_imported_before, 90},
    {"FITS cutouts (2-D and 3-plane cubes) import with thumbnails", fits_cutouts_import_with_thumbnails, 60},
    {"JPEG thumbnails decode close to the raw resize (PSNR); --thumbs raw stores the resize itself, layout 1", jpeg_thumbnails_are_close_to_the_raw_ones_and_raw_stays_exact, 120},
    {"an old raw-thumbnail workspace embeds as before and takes JPEG thumbnails later (layout 2)", old_raw_workspaces_embed_and_take_jpeg_later, 180},
    {"a damaged JPEG thumbnail is an error naming the galaxy, never a crash; embed reads the file", a_damaged_jpeg_thumbnail_is_an_error_not_a_crash, 120},
    {"the CSV reader handles a BOM, CRLF, quotes, multi-line fields and counts lines", csv_reader_handles_quotes_crlf_and_counts_lines, 0},
    {"export says clearly when there is no model, no feature set or no workspace", export_says_clearly_what_is_missing, 60},
    {"core_import_run and core_export_run work without the CLI: counts, progress, problems, a FILE", core_import_and_export_run_without_the_cli, 60},
    {"Kaggle ClassN.M columns import as gz2's per-question fractions", kaggle_columns_import_as_per_question_gz2_fractions, 60},
    {"labels of a three-answer task are integers with a legend file; --with-priors adds the catalog's", labels_of_many_answers_are_integers_with_a_legend, 60},
    {"export paths are normalised: no //, . or ..", export_paths_are_normalised, 0},
    {"export zoobot --suffix dr5 writes Zoobot's -dr5 columns", export_zoobot_takes_the_dr5_suffix, 60},
    {0, 0, 0},
};
