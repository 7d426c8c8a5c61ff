/*
 * acquire.h - the queue orders (which galaxy to show next) and the
 * acquisition functions behind them.  One table in acquire.c names each
 * order and says what it does: the CLI's --order, the labeler's order menu
 * and the stored queue's "order" all read it, and core_acquire_rank scores
 * and ranks by it, so a new order is one row there plus its scoring
 * function.
 *
 * Legend: n rows (galaxies with features).
 */
#ifndef ZOOSH_CORE_ACQUIRE_H
#define ZOOSH_CORE_ACQUIRE_H

#include <stdint.h>

typedef enum {
    CORE_ORDER_UNCERTAIN = 0,   /* BALD: where the ensemble's members disagree */
    CORE_ORDER_LIKELY,          /* highest probability of the chosen answer */
    CORE_ORDER_INTEREST,        /* expected improvement of the GP of ratings */
    CORE_ORDER_ANOMALY,         /* isolation forest, blended with predicted interest by its trust */
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

/* Whether order o ranks by anomaly scores (core_acquire_in.anomaly), given
 * whether there is an interest GP: anomaly always, interest without a GP. */
int core_order_needs_anomaly(core_order o, int have_gp);

/* What the orders score from: arrays of n, borrowed.  A tree task's model
 * gives likely / unc (the chosen answer's probability, BALD), a rating
 * task's GP its mean / sd; both NULL before there is a model. */
typedef struct {
    int n;
    uint64_t seed;           /* for the random orders (and mixed's random tenth) */
    const float *likely;     /* (n) higher = more likely what is hunted; NULL = no model */
    const float *unc;        /* (n) higher = less sure */
    const float *mu, *sd;    /* (n) the interest GP's predicted rating and sd; NULL = no GP */
    float best;              /* the GP's best rating so far (for EI) */
    const float *anomaly;    /* (n) anomaly scores when core_order_needs_anomaly */
    int n_rated;             /* galaxies rated: anomaly hands over to interest as they grow */
    const float *rating;     /* (n) the ratings so far (NAN = none), for the prior's trust; may be NULL */
} core_acquire_in;

/* score (n, higher first) and rank (n, rows best first) of order o.
 * Returns 1 when a model ranked them (worth a diversity guard), 0 for a
 * fixed or random order, -1 for an order out of range. */
int core_acquire_rank(core_order o, const core_acquire_in *in, float *score, int *rank);

/* How far the anomaly prior is trusted: the rank (Spearman) correlation of
 * prior (n) with rating (n, NAN = not rated) over the rated rows, ties
 * sharing their mean rank; NAN with fewer than CORE_TRUST_MIN rated rows or
 * no spread.  *m (may be NULL) gets the rows used. */
#define CORE_TRUST_MIN 5
double core_acquire_trust(const float *prior, const float *rating, int n, int *m);
/* The weight the anomaly order gives its prior after n_rated ratings whose
 * rank correlation with it is trust (NAN: not known yet): hands over to
 * predicted interest as ratings grow (half at 20), and only as far as the
 * prior has ranked them: full weight at a correlation of 0.5 or more, none
 * at 0 or below. */
double core_acquire_prior_weight(int n_rated, double trust);

/* Expected improvement over best by more than xi (maximising); UCB mu + kappa sd. */
float core_acquire_ei(float mu, float sd, float best, float xi);
float core_acquire_ucb(float mu, float sd, float kappa);

#endif
