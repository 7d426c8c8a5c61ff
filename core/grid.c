/*
 * grid.c - a page of galaxies labelled at once (see grid.h): which galaxies
 * are on the page, the marks, and the page as answers through the session.
 * No terminal; the labeler's grid (tui/label/) draws it and maps keys.
 */
#include "core/grid.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cluster.h"
#include "core/repr.h"
#include "core/util.h"

#define ANSWER_MARKED 0     /* the question's first answer: the feature */
#define ANSWER_PLAIN  1     /* its second */
#define UNRATED INT_MIN     /* a rating page's tile not rated yet */

enum { FROM_QUEUE, FROM_LIST, FROM_CLUSTERS };

struct core_grid {
    core_session *ses;
    const core_schema *schema;
    int cap, n;
    uint32_t *gids;     /* (cap) */
    uint8_t *marks;     /* (cap) */
    int *rating;        /* (cap) rating pages: each tile's rating, UNRATED when none */
    float *dist;        /* (cap) cluster pages: each tile's distance to its cluster's centre */
    int from;           /* FROM_*: where the page came from (and the next one comes from) */
    core_cluster_walk *walk;    /* the cluster pages' clusters (NULL before core_grid_clusters_open) */
    int walk_pos;       /* the cluster on the page: its place in the walk's show order */
    int walk_left;      /* its galaxies left unlabelled for this user, the page's included */
    char set[STORE_FEATNAME_MAX + 1];   /* the feature set clustered */
};

core_grid *core_grid_new(core_session *s, const core_schema *schema, int cap)
{
    core_grid *g = xcalloc(1, sizeof *g);
    g->ses = s;
    g->schema = schema;
    g->cap = cap > 0 ? cap : 1;
    g->gids = xcalloc((size_t)g->cap, sizeof *g->gids);
    g->marks = xcalloc((size_t)g->cap, sizeof *g->marks);
    g->dist = xcalloc((size_t)g->cap, sizeof *g->dist);
    g->rating = xcalloc((size_t)g->cap, sizeof *g->rating);
    return g;
}

void core_grid_free(core_grid *g)
{
    if (!g) return;
    free(g->gids);
    free(g->marks);
    free(g->dist);
    free(g->rating);
    core_cluster_walk_free(g->walk);
    free(g);
}

/* A new page: no marks, no ratings. */
static void page_clear(core_grid *g)
{
    memset(g->marks, 0, (size_t)g->cap);
    for (int i = 0; i < g->cap; i++) g->rating[i] = UNRATED;
}

int core_grid_can_label(const core_schema *schema, char *why, size_t len)
{
    if (schema->kind != CORE_TASK_TREE) {
        snprintf(why, len, "task %s is a rating: a digit rates the page's tiles (the marked ones, else all)",
                 schema->name);
        return 0;
    }
    if (schema->n_questions != 1 || schema->q[0].n_answers < 2) {
        snprintf(why, len, "task %s asks %d questions: pages label one-question tasks (ring)", schema->name,
                 schema->n_questions);
        return 0;
    }
    if (why && len) why[0] = 0;
    return 1;
}

static int clamp(const core_grid *g, int n) { return n <= 0 || n > g->cap ? g->cap : n; }

int core_grid_fill_queue(core_grid *g, int n)
{
    n = clamp(g, n);
    page_clear(g);
    g->from = FROM_QUEUE;
    g->n = core_session_claim_page(g->ses, NULL, 0, g->gids, n);
    return g->n;
}

int core_grid_set(core_grid *g, const uint32_t *gids, int n)
{
    n = n < 0 ? 0 : n > g->cap ? g->cap : n;
    page_clear(g);
    memcpy(g->gids, gids, (size_t)n * sizeof *gids);
    g->n = n;
    g->from = FROM_LIST;
    return n;
}

void core_grid_truncate(core_grid *g, int n)
{
    if (n >= 0 && n < g->n) g->n = n;
}

int core_grid_n(const core_grid *g) { return g->n; }

uint32_t core_grid_gid(const core_grid *g, int i) { return i >= 0 && i < g->n ? g->gids[i] : 0; }

int core_grid_marked(const core_grid *g, int i) { return i >= 0 && i < g->n && g->marks[i]; }

int core_grid_n_marked(const core_grid *g)
{
    int k = 0;
    for (int i = 0; i < g->n; i++) k += g->marks[i];
    return k;
}

void core_grid_toggle(core_grid *g, int i)
{
    if (i >= 0 && i < g->n) g->marks[i] = !g->marks[i];
}

/* ---- cluster pages */

int core_grid_clusters_open(core_grid *g, zs_store *st, const char *set, uint64_t seed, char *err, size_t errlen)
{
    zs_txn *txn;
    float *x = NULL;            /* (n, d) */
    uint32_t *gids = NULL;      /* (n) */
    int n = 0, d = 0;
    char name[STORE_FEATNAME_MAX + 1];
    int rc = store_read_begin(st, &txn);
    if (rc) { snprintf(err, errlen, "reading the workspace: %s", store_strerror(rc)); return rc; }
    rc = core_repr_pick_set(txn, set, name, sizeof name, NULL);
    if (rc == 0) rc = store_features_load(txn, name, &x, &gids, &n, &d);
    store_read_end(txn);
    if (rc == STORE_ENOTFOUND) {
        snprintf(err, errlen, "cluster pages need representations: zoosh embed first");
        return rc;
    }
    if (rc) { snprintf(err, errlen, "reading feature set %s: %s", name, store_strerror(rc)); return rc; }
    int m = 0;                  /* the galaxies unlabelled for this user, packed to the front */
    for (int i = 0; i < n; i++) {
        if (!core_session_unlabelled(g->ses, gids[i])) continue;
        if (m != i) memmove(x + (size_t)m * d, x + (size_t)i * d, (size_t)d * sizeof *x);
        gids[m++] = gids[i];
    }
    core_cluster_walk *w = m > 0 ? core_cluster_walk_new(x, gids, m, d, 0, seed) : NULL;
    free(x);
    free(gids);
    if (!w) {
        snprintf(err, errlen, "no unlabelled galaxy has a vector in feature set %s", name);
        return -1;
    }
    core_cluster_walk_free(g->walk);
    g->walk = w;
    g->walk_pos = 0;
    snprintf(g->set, sizeof g->set, "%s", name);
    if (errlen) err[0] = 0;
    return 0;
}

/* The page of cluster g->walk_pos from cand[0..n_cand) (its members, or
 * the page an undo brought back): at most n tiles claimed, marks cleared,
 * each tile's distance to the centre looked up. */
static int cluster_page(core_grid *g, const uint32_t *cand, int n_cand, int n)
{
    int nc = core_cluster_walk_n(g->walk);
    g->walk_pos = nc > 0 ? ((g->walk_pos % nc) + nc) % nc : 0;
    const uint32_t *mem;
    const float *dist;
    int m = core_cluster_walk_get(g->walk, g->walk_pos, &mem, &dist, NULL, NULL);
    page_clear(g);
    g->from = FROM_CLUSTERS;
    g->n = core_session_claim_page(g->ses, cand, n_cand, g->gids, n);
    g->walk_left = 0;
    for (int j = 0; j < m; j++) g->walk_left += core_session_unlabelled(g->ses, mem[j]);
    for (int i = 0; i < g->n; i++) {
        g->dist[i] = NAN;
        for (int j = 0; j < m; j++)
            if (mem[j] == g->gids[i]) { g->dist[i] = dist[j]; break; }
    }
    return g->n;
}

int core_grid_fill_cluster(core_grid *g, int n)
{
    n = clamp(g, n);
    int nc = core_cluster_walk_n(g->walk);
    g->from = FROM_CLUSTERS;
    g->n = 0;
    for (int tries = 0; tries < nc; tries++, g->walk_pos++) {   /* the first cluster with a galaxy left */
        const uint32_t *mem;
        int m = core_cluster_walk_get(g->walk, ((g->walk_pos % nc) + nc) % nc, &mem, NULL, NULL, NULL);
        if (cluster_page(g, mem, m, n) > 0) return g->n;
    }
    return 0;
}

int core_grid_next_cluster(core_grid *g, int n)
{
    if (!g->walk) return 0;
    g->walk_pos++;
    return core_grid_fill_cluster(g, n);
}

int core_grid_cluster_info(const core_grid *g, core_grid_cluster *out)
{
    memset(out, 0, sizeof *out);
    if (g->from != FROM_CLUSTERS || !g->walk) return -1;
    out->index = g->walk_pos;
    out->n_clusters = core_cluster_walk_n(g->walk);
    out->size = core_cluster_walk_get(g->walk, g->walk_pos, NULL, NULL, &out->why, &out->unusual);
    out->left = g->walk_left;
    out->set = g->set;
    return 0;
}

float core_grid_dist(const core_grid *g, int i)
{
    return g->from == FROM_CLUSTERS && i >= 0 && i < g->n ? g->dist[i] : NAN;
}

int core_grid_claim(core_grid *g) { return core_session_claim_gids(g->ses, g->gids, g->n); }

void core_grid_invert(core_grid *g)
{
    for (int i = 0; i < g->n; i++) g->marks[i] = !g->marks[i];
}

int core_grid_can_rate(const core_schema *schema) { return schema->kind == CORE_TASK_RATING; }

int core_grid_rate(core_grid *g, int rating)
{
    if (!core_grid_can_rate(g->schema) || rating < g->schema->rating_min || rating > g->schema->rating_max) return 0;
    int marked = core_grid_n_marked(g), k = 0;
    for (int i = 0; i < g->n; i++) {
        if (marked ? !g->marks[i] : g->rating[i] != UNRATED) continue;
        g->rating[i] = rating;
        g->marks[i] = 0;
        k++;
    }
    return k;
}

int core_grid_rating(const core_grid *g, int i, int *rating)
{
    if (i < 0 || i >= g->n || g->rating[i] == UNRATED) return 0;
    *rating = g->rating[i];
    return 1;
}

int core_grid_n_rated(const core_grid *g)
{
    int k = 0;
    for (int i = 0; i < g->n; i++) k += g->rating[i] != UNRATED;
    return k;
}

int core_grid_commit(core_grid *g, int n)
{
    char why[160];
    int rate = core_grid_can_rate(g->schema);
    if (!rate && !core_grid_can_label(g->schema, why, sizeof why)) return 1;
    int *choice = xmalloc((size_t)(g->n > 0 ? g->n : 1) * sizeof *choice);
    uint32_t *gids = xmalloc((size_t)(g->n > 0 ? g->n : 1) * sizeof *gids);
    int k = 0;
    for (int i = 0; i < g->n; i++) {
        if (rate && g->rating[i] == UNRATED) continue;     /* an unrated tile stays unlabelled */
        gids[k] = g->gids[i];
        choice[k++] = rate ? g->rating[i] : g->marks[i] ? ANSWER_MARKED : ANSWER_PLAIN;
    }
    int rc = core_session_answer_page(g->ses, gids, choice, k);
    free(choice);
    free(gids);
    if (rc) return rc;
    n = n > 0 ? n : g->n;
    if (g->from == FROM_CLUSTERS) {     /* the next cluster's page */
        g->walk_pos++;
        core_grid_fill_cluster(g, n);
    } else {
        core_grid_fill_queue(g, n);
    }
    return 0;
}

int core_grid_undo(core_grid *g, int n)
{
    int rc = core_session_undo(g->ses);
    if (rc) return rc;
    uint32_t *gids = xmalloc((size_t)g->cap * sizeof *gids);
    int *choice = xmalloc((size_t)g->cap * sizeof *choice);
    int k = core_session_undone(g->ses, gids, choice, g->cap);
    int pos = g->from == FROM_CLUSTERS && k > 0 ? core_cluster_walk_find(g->walk, gids[0]) : -1;
    if (pos >= 0) {      /* the cluster's page comes back as it was */
        g->walk_pos = pos;
        cluster_page(g, gids, k, n);
    } else {
        core_grid_fill_queue(g, n);
    }
    for (int i = 0; i < k; i++)
        for (int j = 0; j < g->n; j++) {
            if (g->gids[j] != gids[i]) continue;
            if (core_grid_can_rate(g->schema)) g->rating[j] = choice[i];
            else g->marks[j] = choice[i] == ANSWER_MARKED;
        }
    free(gids);
    free(choice);
    return 0;
}
