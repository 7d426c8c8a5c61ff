/*
 * acquire.h - the queue orders (which galaxy to show next) and the
 * acquisition functions behind them.  One table in acquire.c names each
 * order and says what it does: the CLI's --order, the labeler's order menu
 * and the stored queue's "order" all read it, so a new order is one row
 * there (plus its scores in core_learn_run).
 */
#ifndef ZOOSH_CORE_ACQUIRE_H
#define ZOOSH_CORE_ACQUIRE_H

typedef enum {
    CORE_ORDER_UNCERTAIN = 0,   /* BALD: where the ensemble's members disagree */
    CORE_ORDER_LIKELY,          /* highest probability of the chosen answer */
    CORE_ORDER_INTEREST,        /* expected improvement of the GP of ratings */
    CORE_ORDER_ANOMALY,         /* isolation forest, blended with predicted interest */
    CORE_ORDER_RANDOM,
    CORE_ORDER_CATALOG,         /* import order */
    CORE_ORDER_MIXED,           /* 70% likely / 20% uncertain / 10% random */
    CORE_ORDER_N
} core_order;

/* 0 with *out, or -1 for an unknown (or NULL) name. */
int core_order_parse(const char *name, core_order *out);
/* "uncertain", ...; "?" out of range.  Static. */
const char *core_order_name(core_order o);
/* What the order does, in a few words for a menu ("where the model is least
 * sure").  Static. */
const char *core_order_help(core_order o);
/* "uncertain, likely, interest, anomaly, random, catalog, mixed" (static). */
const char *core_order_names(void);

/* Expected improvement over best by more than xi (maximising); UCB mu + kappa sd. */
float core_acquire_ei(float mu, float sd, float best, float xi);
float core_acquire_ucb(float mu, float sd, float kappa);

#endif
