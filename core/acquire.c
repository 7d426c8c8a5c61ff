/*
 * acquire.c - the order table and the acquisition functions (see acquire.h).
 */
#include "core/acquire.h"

#include <math.h>
#include <string.h>

static const struct {
    const char *name;
    const char *help;
} orders[CORE_ORDER_N] = {
    [CORE_ORDER_UNCERTAIN] = {"uncertain", "where the model is least sure (BALD)"},
    [CORE_ORDER_LIKELY]    = {"likely", "most likely to show the feature first"},
    [CORE_ORDER_INTEREST]  = {"interest", "most likely to interest you (GP of your ratings)"},
    [CORE_ORDER_ANOMALY]   = {"anomaly", "the oddest-looking first, then by predicted interest"},
    [CORE_ORDER_RANDOM]    = {"random", "a random order (a fair sample)"},
    [CORE_ORDER_CATALOG]   = {"catalog", "the catalog's own order"},
    [CORE_ORDER_MIXED]     = {"mixed", "70% likely, 20% uncertain, 10% random"},
};

int core_order_parse(const char *name, core_order *out)
{
    for (int i = 0; i < CORE_ORDER_N; i++)
        if (name && strcmp(name, orders[i].name) == 0) { *out = (core_order)i; return 0; }
    return -1;
}

const char *core_order_name(core_order o) { return o >= 0 && o < CORE_ORDER_N ? orders[o].name : "?"; }
const char *core_order_help(core_order o) { return o >= 0 && o < CORE_ORDER_N ? orders[o].help : "?"; }
const char *core_order_names(void) { return "uncertain, likely, interest, anomaly, random, catalog, mixed"; }

float core_acquire_ei(float mu, float sd, float best, float xi)
{
    float imp = mu - best - xi;
    if (sd <= 1e-9f) return imp > 0 ? imp : 0;
    float z = imp / sd;
    float cdf = 0.5f * erfcf(-z * (float)M_SQRT1_2);
    float pdf = expf(-0.5f * z * z) * 0.39894228f;
    float ei = imp * cdf + sd * pdf;
    return ei > 0 ? ei : 0;
}

float core_acquire_ucb(float mu, float sd, float kappa) { return mu + kappa * sd; }
