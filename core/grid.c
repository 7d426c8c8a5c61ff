/*
 * grid.c - a page of galaxies labelled at once (see grid.h): which galaxies
 * are on the page, the marks, and the page as answers through the session.
 * No terminal; the labeler's grid (tui/label/) draws it and maps keys.
 */
#include "core/grid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define ANSWER_MARKED 0     /* the question's first answer: the feature */
#define ANSWER_PLAIN  1     /* its second */

struct core_grid {
    core_session *ses;
    const core_schema *schema;
    int cap, n;
    uint32_t *gids;     /* (cap) */
    uint8_t *marks;     /* (cap) */
};

core_grid *core_grid_new(core_session *s, const core_schema *schema, int cap)
{
    core_grid *g = xcalloc(1, sizeof *g);
    g->ses = s;
    g->schema = schema;
    g->cap = cap > 0 ? cap : 1;
    g->gids = xcalloc((size_t)g->cap, sizeof *g->gids);
    g->marks = xcalloc((size_t)g->cap, sizeof *g->marks);
    return g;
}

void core_grid_free(core_grid *g)
{
    if (!g) return;
    free(g->gids);
    free(g->marks);
    free(g);
}

int core_grid_can_label(const core_schema *schema, char *why, size_t len)
{
    if (schema->kind != CORE_TASK_TREE) {
        snprintf(why, len, "task %s is a rating: rate one galaxy at a time", schema->name);
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
    memset(g->marks, 0, (size_t)g->cap);
    g->n = 0;
    uint32_t cur = core_session_gid(g->ses);
    if (cur) {
        g->gids[g->n++] = cur;
        g->n += core_session_peek(g->ses, g->gids + 1, n - 1);
    }
    return g->n;
}

int core_grid_set(core_grid *g, const uint32_t *gids, int n)
{
    n = n < 0 ? 0 : n > g->cap ? g->cap : n;
    memset(g->marks, 0, (size_t)g->cap);
    memcpy(g->gids, gids, (size_t)n * sizeof *gids);
    g->n = n;
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

int core_grid_commit(core_grid *g, int n)
{
    char why[160];
    if (!core_grid_can_label(g->schema, why, sizeof why)) return 1;
    int *choice = xmalloc((size_t)(g->n > 0 ? g->n : 1) * sizeof *choice);
    for (int i = 0; i < g->n; i++) choice[i] = g->marks[i] ? ANSWER_MARKED : ANSWER_PLAIN;
    int rc = core_session_answer_page(g->ses, g->gids, choice, g->n);
    free(choice);
    if (rc == 0) core_grid_fill_queue(g, n > 0 ? n : g->n);
    return rc;
}

int core_grid_undo(core_grid *g, int n)
{
    int rc = core_session_undo(g->ses);
    if (rc) return rc;
    core_grid_fill_queue(g, n);
    uint32_t *gids = xmalloc((size_t)g->cap * sizeof *gids);
    int *choice = xmalloc((size_t)g->cap * sizeof *choice);
    int k = core_session_undone(g->ses, gids, choice, g->cap);
    for (int i = 0; i < k; i++)
        for (int j = 0; j < g->n; j++)
            if (g->gids[j] == gids[i]) g->marks[j] = choice[i] == ANSWER_MARKED;
    free(gids);
    free(choice);
    return 0;
}
