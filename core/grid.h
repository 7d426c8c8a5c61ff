/*
 * grid.h - a page of galaxies labelled at once, with no terminal.
 *
 * For a one-question task (ring: "yes" / "no"), the labeler's grid shows a
 * page of galaxies and the user marks those that show the feature; one key
 * commits the page.  The page (core_grid) is:
 *  - which galaxies: the session's current galaxy and the ones that follow
 *    it in the chosen order (core_session_peek: the queue the one-at-a-time
 *    labeler walks), up to the tiles the screen holds; or a list the caller
 *    gives (the similar galaxies of the `s` grid);
 *  - the marks: marked tiles are answered with the question's first answer
 *    (the feature: "yes"), the others with its second ("no");
 *  - the commit: core_session_answer_page, one record per tile in one
 *    synced write; undo retracts the whole page and brings it back with its
 *    marks (core_grid_undo).
 * Every page is claimed whole when it is filled (core_session_claim_page):
 * another labeler's page never shares a galaxy with it.
 *
 * Cluster pages (triage): core_grid_clusters_open clusters the galaxies
 * unlabelled for this user by their representation (core/cluster.h:
 * k-means, seeded); each page is then one cluster's galaxies, nearest its
 * centre first, and a commit moves on to the next cluster of the walk
 * (the largest and the most unusual in turn), round again when the last
 * is done.
 * Rating tasks (interest) are rated by pages: a rating is given to the
 * marked tiles, or when none is marked to every tile not rated yet
 * (core_grid_rate), so a whole page is rated with one key; the commit saves
 * one rating record per rated tile (the unrated stay unlabelled).
 */
#ifndef ZOOSH_CORE_GRID_H
#define ZOOSH_CORE_GRID_H

#include <stddef.h>
#include <stdint.h>

#include "core/session.h"

typedef struct core_grid core_grid;

/* A page of at most cap galaxies over session s (which outlives it). */
core_grid *core_grid_new(core_session *s, const core_schema *schema, int cap);
void core_grid_free(core_grid *g);

/* 1 when pages label the task: one question of two or more answers, the
 * first the feature marked; else 0 with the reason in why. */
int core_grid_can_label(const core_schema *schema, char *why, size_t len);

/* 1 when pages rate the task (a rating task, core_grid_rate). */
int core_grid_can_rate(const core_schema *schema);
/* Rates the marked tiles (their marks cleared), or when none is marked
 * every tile not rated yet.  Returns how many were rated (0: not a rating
 * task, or out of its range). */
int core_grid_rate(core_grid *g, int rating);
/* 1 with *rating when tile i is rated, else 0. */
int core_grid_rating(const core_grid *g, int i, int *rating);
int core_grid_n_rated(const core_grid *g);

/* The page from the queue: the current galaxy and the next ones, at most
 * n (<= cap); marks cleared.  Returns the page's size. */
int core_grid_fill_queue(core_grid *g, int n);
/* The page given (at most cap of gids[]); marks cleared.  Returns its size. */
int core_grid_set(core_grid *g, const uint32_t *gids, int n);
/* Keeps the first n tiles (the screen shrank). */
void core_grid_truncate(core_grid *g, int n);

/* Clusters the galaxies with a vector in feature set `set` (NULL: the
 * workspace's, core_repr_pick_set) that are unlabelled for the session's
 * user, seeded by seed, for core_grid_fill_cluster; the walk starts at
 * its first cluster.  0; else a store code or -1, with the reason in err
 * (no feature set: "zoosh embed first"; no unlabelled galaxy in it). */
int core_grid_clusters_open(core_grid *g, zs_store *st, const char *set, uint64_t seed, char *err, size_t errlen);
/* The page of the walk's current cluster, or the next one with a galaxy
 * left for this user (round again after the last): at most n (<= cap)
 * of its galaxies, nearest its centre first, claimed; marks cleared.
 * Returns the page's size (0: none left anywhere). */
int core_grid_fill_cluster(core_grid *g, int n);

/* The next cluster's page, this one left for later (its galaxies come
 * again when the walk comes round). */
int core_grid_next_cluster(core_grid *g, int n);

/* What a cluster page shows. */
typedef struct {
    int index, n_clusters;      /* the cluster's place in the walk, of how many */
    int size;                   /* galaxies clustered into it */
    int left;                   /* of them still unlabelled for this user (the page's included) */
    int why;                    /* CORE_CLUSTER_LARGEST / _UNUSUAL: the turn it came up on */
    double unusual;             /* mean distance of its centre to the other centres */
    const char *set;            /* the feature set clustered (borrowed) */
} core_grid_cluster;
/* 0 with out filled when the page is a cluster's; -1 when not. */
int core_grid_cluster_info(const core_grid *g, core_grid_cluster *out);
/* Tile i's distance to its cluster's centre (NAN when not a cluster page). */
float core_grid_dist(const core_grid *g, int i);
/* Renews the claim on the page's galaxies (core_session_claim_gids):
 * the labeler calls it between keys while the page is on screen. */
int core_grid_claim(core_grid *g);

int core_grid_n(const core_grid *g);
uint32_t core_grid_gid(const core_grid *g, int i);
int core_grid_marked(const core_grid *g, int i);
int core_grid_n_marked(const core_grid *g);
void core_grid_toggle(core_grid *g, int i);
/* Every tile's mark turned over (a page mostly of the feature: mark all,
 * then unmark the few without). */
void core_grid_invert(core_grid *g);

/* Commits the page (see above; a rating page: its rated tiles); on success the next page comes (from the
 * queue, or the next cluster) with n tiles (0: as many as it had).  Returns core_session_answer_page's
 * code (1: nothing to save, or not a task pages label). */
int core_grid_commit(core_grid *g, int n);
/* Undo (core_session_undo): after a page's undo, the page comes back
 * (from the queue, or as the cluster page it was) with the marks it was
 * committed with.  Returns
 * core_session_undo's code. */
int core_grid_undo(core_grid *g, int n);

#endif
