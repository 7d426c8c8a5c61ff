/*
 * model.c - what the labeler knows of its task's model, queue and shown
 * galaxy, read through core/labeler.h (one short transaction each), and
 * when it asks the background trainer (trainer.c) for a retrain.  UI thread
 * only (see ui.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "tui/label/ui.h"
#include "tui/text.h"

/* ---- orders */

const char *label_order_name(int order) { return order == ORDER_RANKED ? "ranked" : core_order_name((core_order)order); }

/* The o menu: catalog first (what a labeler starts from), then the table's
 * orders in the table's sequence. */
int label_menu_order(int i)
{
    if (i == 0) return CORE_ORDER_CATALOG;
    for (int k = 0; k < CORE_ORDER_N; k++)
        if (k != CORE_ORDER_CATALOG && --i == 0) return k;
    return -1;
}

int label_menu_n(void) { return CORE_ORDER_N; }

static int order_parse(const char *name)
{
    core_order o;
    return core_order_parse(name, &o) == 0 ? (int)o : ORDER_RANKED;
}

/* ---- model, queue, predictions */

/* The held-out metric of the last models as a sparkline, low to high on a
 * fixed 0.5 .. 1.0 scale so a rising curve reads as progress. */
static void make_sparkline(ui *u)
{
    static const char *const blocks[8] = {"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83",
        "\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"};
    static const char ascii[] = "_.-:=+*#";
    const core_labeler_model *m = &u->model;
    size_t len = 0;
    u->spark[0] = 0;
    for (int i = 0; i < m->n_curve; i++) {
        if (isnan(m->curve[i])) continue;
        int level = (int)((m->curve[i] - 0.5) / 0.5 * 8);
        level = level < 0 ? 0 : level > 7 ? 7 : level;
        const char *c = u->utf8 ? blocks[level] : (char[2]){ascii[level], 0};
        size_t cl = strlen(c);
        if (len + cl + 1 > sizeof u->spark) break;
        memcpy(u->spark + len, c, cl);
        len += cl;
    }
    u->spark[len] = 0;
}

/* The stored queue into the session: none when the user chose catalog
 * order.  EXPECT (after this labeler's retrain: the order it ranked by) or
 * NULL: a queue another labeler stored by another order is then not taken. */
void label_load_queue(ui *u, const char *expect)
{
    uint32_t *gids = NULL;
    int n = 0;
    core_model_info qinfo;
    int want_catalog = u->chosen == CORE_ORDER_CATALOG;
    if (core_labeler_model_read(u->st, &u->schema, &u->model, want_catalog ? NULL : &gids, &n, &qinfo) != 0) return;
    make_sparkline(u);
    if (n > 0) {
        /* one stored queue per task: another labeler's retrain may have
         * ranked it by another order; this labeler's chosen order stays, on
         * the queue it has, until its own retrain stores one */
        if (expect && strcmp(qinfo.order, expect) != 0) {
            free(gids);
            u->order = order_parse(expect);
            return;
        }
        core_session_set_queue(u->ses, gids, n);
        u->order = order_parse(qinfo.order);
    } else {
        core_session_set_queue(u->ses, NULL, 0);
        u->order = CORE_ORDER_CATALOG;
    }
    free(gids);
    u->pred_gid = 0;
}

/* 1 when the task has priors and features to train on: then a first model
 * ranks the queue before anyone answers.  Names them in u->prior_src. */
int label_starts_from_prior(ui *u)
{
    return core_labeler_has_prior(u->st, &u->schema, u->prior_src, sizeof u->prior_src);
}

void label_load_pred(ui *u, uint32_t gid)
{
    if (u->pred_gid == gid) return;
    u->pred_gid = gid;
    u->n_pred = 0;
    if (gid == 0) return;
    int n = 0;
    if (core_labeler_pred_get(u->st, u->schema.name, gid, u->pred, MAX_PRED, &n) == 0) u->n_pred = n;
}

void label_load_meta(ui *u, uint32_t gid)
{
    if (u->meta_gid == gid) return;
    u->meta_gid = gid;
    u->id[0] = u->radec[0] = u->survey[0] = 0;
    if (gid == 0) return;
    core_labeler_galaxy g;
    if (core_labeler_galaxy_get(u->st, gid, &g) != 0) return;
    if (g.found) {
        tui_text_sanitize(g.id, u->id, sizeof u->id < 80 ? sizeof u->id : 80, !u->utf8);
        if (!isnan(g.ra) && !isnan(g.dec)) snprintf(u->radec, sizeof u->radec, "ra %.5f  dec %+.5f", g.ra, g.dec);
        u->ra = g.ra;
        u->dec = g.dec;
        if (g.survey[0]) tui_text_sanitize(g.survey, u->survey, sizeof u->survey, !u->utf8);
    } else {
        snprintf(u->id, sizeof u->id, "#%u", gid);
    }
}

/* ---- retrains */

void label_retrain_maybe(ui *u, int force)
{
    if (!u->tr) return;
    int every = u->o.retrain_every < 0 ? 10 : u->o.retrain_every;
    int secs = u->o.retrain_secs > 0 ? u->o.retrain_secs : 300;
    if (tui_trainer_busy(u->tr)) return;
    if (force || (every > 0 && u->since_retrain >= every) ||
        (every > 0 && u->since_retrain > 0 && core_mono_s() - u->last_submit > secs)) {
        /* the user's own order, not one another labeler's queue brought */
        const char *ord = u->chosen >= 0 && u->chosen != CORE_ORDER_CATALOG ? core_order_name((core_order)u->chosen)
                        : u->order == CORE_ORDER_CATALOG || u->order == ORDER_RANKED ? NULL
                        : label_order_name(u->order);
        tui_trainer_submit(u->tr, ord);
        u->since_retrain = 0;
        u->last_submit = core_mono_s();
        label_log(u, "retrain submitted (order %s)", label_order_name(u->order));
    }
}

/* A finished retrain: the new queue, switched between two galaxies. */
void label_trainer_poll(ui *u)
{
    int rc;
    core_model_info info;
    char err[256];
    if (!u->tr || !tui_trainer_poll(u->tr, &rc, &info, err, sizeof err)) return;
    if (rc != 0) {
        snprintf(u->msg, sizeof u->msg, "learning failed: %.180s", err);
        label_log(u, "retrain failed (%d): %s", rc, err);
        return;
    }
    const core_labeler_model *m = &u->model;
    int keep = u->order;
    /* catalog order, when the user chose it, stays; else the stored queue is
     * this run's unless another labeler's retrain, by another order,
     * replaced it meanwhile */
    label_load_queue(u, info.order);
    if (keep != CORE_ORDER_CATALOG && !m->have_model) u->order = keep;
    if (strcmp(m->info.metric, "prior") == 0 && u->prior_src[0])
        snprintf(u->msg, sizeof u->msg, "model v%u ready (features %.40s): queue re-ranked by the task's priors (%.60s)",
                 m->info.version, m->info.features, u->prior_src);
    else
        snprintf(u->msg, sizeof u->msg, "model v%u ready (features %.40s): queue re-ranked", m->info.version,
                 m->info.features);
    label_log(u, "retrain done: v%u %s %.3f, features %s", m->info.version, m->info.metric, m->info.value,
              m->info.features);
}
