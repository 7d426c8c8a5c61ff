/*
 * sim.h - a simulator of survey galaxy cutouts whose true morphology is known,
 * in the style of DESI Legacy Survey (DECaLS) g/r/z colour cutouts as Galaxy
 * Zoo DECaLS shows them (424x424, 0.262"/px, asinh "dr2-style" colour stretch).
 *
 * One galaxy is drawn as parameters (core_sim_draw, from (seed, index) only,
 * so the n-th galaxy never depends on threads or on n), rendered to surface
 * brightness (core_sim_render_flux, bands g, r, z) and stretched to
 * RGB8 (core_sim_stretch).  core_sim_write does the whole catalog on threads.
 *
 * Determinism: every random number comes from core_rng seeded from the
 * galaxy's seed; pixel noise uses a fixed table of normal deviates; exp, log,
 * pow, sin, cos, atan2 and asinh are the simulator's own (only IEEE-exact
 * operations), so the same seed gives the same bytes on any machine.
 */
#ifndef ZOOSH_CORE_SIM_H
#define ZOOSH_CORE_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "core/image.h"

#define CORE_SIM_PIXSCALE 0.262     /* arcsec per pixel at 424 px */
#define CORE_SIM_SIDE 424           /* default cutout side, pixels */

/* Morphology classes (the --mix keys). A ring is a face-on disc with a ring. */
typedef enum {
    CORE_SIM_SMOOTH = 0,  /* elliptical: Sersic n 2.5-4, any axis ratio */
    CORE_SIM_DISK,        /* featured face-on disc without arms (bar / lens-like) */
    CORE_SIM_SPIRAL,      /* disc with logarithmic arms */
    CORE_SIM_EDGEON,      /* edge-on disc, dust lane, boxy/rounded/no bulge */
    CORE_SIM_RING,        /* disc (maybe barred, maybe spiral) with an inner/outer ring */
    CORE_SIM_MERGER,      /* two galaxies, tails, shells */
    CORE_SIM_LENS,        /* red elliptical with a blue arc */
    CORE_SIM_ARTIFACT,    /* satellite trail / saturated star dominating */
    CORE_SIM_N_CLASSES
} core_sim_class;

extern const char *const core_sim_class_names[CORE_SIM_N_CLASSES];

/* Everything that defines one galaxy.  Lengths in pixels of a 424 px cutout
 * (core_sim_render_flux scales them to the requested side), angles in degrees. */
typedef struct {
    uint64_t seed;          /* of the noise, knots, background objects */
    int cls;                /* core_sim_class */
    double flux_r;          /* total r-band flux of the main galaxy, nanomaggies */
    double pa;              /* position angle of the major axis, degrees (0 = +x, counter-clockwise) */
    double q;               /* projected axis ratio of the disc (or of the elliptical) */
    /* bulge / elliptical: Sersic */
    double n_sersic, r_eff, bulge_q, bulge_frac; /* bulge_frac: bulge / total in r */
    int    bulge_boxy;      /* 1: boxy isophotes (edge-on boxy bulge) */
    /* disc: exponential */
    double disc_h;          /* scale length, px (0 = no disc) */
    double disc_z;          /* scale height for edge-on discs, px */
    double clump;           /* patchiness of the disc light 0..0.4 (a smooth random field, in log) */
    double dust;            /* dust lane depth 0..1 (g band; r, z less) */
    /* spiral arms: logarithmic, I ~ ((1 + cos(m (phi - ln(R)/tan(pitch)))) / 2)^k */
    int    n_arms;          /* 0 = none */
    double pitch;           /* pitch angle, degrees (tight < 15 < medium < 25 < loose) */
    int    winding;         /* 0 tight 1 medium 2 loose */
    double arm_amp;         /* arm contrast 0..1 */
    int    n_knots;         /* star-forming knots along the arms */
    /* bar */
    int    bar;             /* 0 none, 1 weak, 2 strong */
    double bar_len, bar_pa; /* semi-length px, position angle in the disc plane, degrees */
    /* ring */
    int    ring;            /* 0 none, 1 inner (bar end), 2 outer */
    double ring_r, ring_w, ring_frac; /* radius, width px (deprojected), flux fraction */
    /* merger / tidal */
    int    merger;          /* 0 none, 1 minor disturbance, 2 major disturbance, 3 merger */
    double comp_dx, comp_dy, comp_flux, comp_reff; /* companion offset px, flux ratio, size */
    int    n_tails, n_shells;
    /* lens */
    double lens_r;          /* Einstein radius px (0 = no arc) */
    double arc_angle, arc_span; /* centre and full span of the arc, degrees */
    /* artefacts */
    int    trail;           /* satellite trail across the image */
    int    bright_star;     /* saturated star with spikes in the frame */
    /* derived (filled by core_sim_draw) */
    double r_half;          /* approximate half-light radius of the main galaxy, px */
    int    edge_bulge;      /* edge-on: 0 none, 1 rounded, 2 boxy (answers) */
    int    bulge_size;      /* 0 dominant .. 4 none (answers) */
    int    round;           /* smooth: 0 round, 1 in-between, 2 cigar */
    /* switches for tests: no noise, no background objects/stars */
    int    no_noise, no_background;
} core_sim_params;

/* Class mix: frac[c] >= 0, summing to 1 (core_sim_mix_parse normalises). */
void core_sim_mix_default(double frac[CORE_SIM_N_CLASSES]);
/* "ring=0.5,merger=0.1": the named classes get these fractions, the others share
 * the rest in their default proportions.  -1 with a reason on bad input. */
int  core_sim_mix_parse(const char *s, double frac[CORE_SIM_N_CLASSES], char *err, size_t errlen);

/* The index-th galaxy of a run with this seed (class drawn from frac). */
void core_sim_draw(uint64_t seed, uint64_t index, const double frac[CORE_SIM_N_CLASSES],
                   core_sim_params *p);
/* Parameters of one class (used by core_sim_draw; tests build galaxies with it). */
void core_sim_draw_class(uint64_t seed, int cls, core_sim_params *p);

/* Recomputes the derived fields (r_half, the edge-on axis ratio, bulge_size,
 * round) after a caller changed parameters. */
void core_sim_finish(core_sim_params *p);
/* Largest relative difference between the fast blur / upsampling and their
 * naive reference loops on random data (tests want < 1e-5). */
double core_sim_selfcheck(void);
/* Largest error of the simulator's own exp/log/pow/sin/cos/atan2/asinh (used
 * so that bytes do not depend on the machine's libm) against libm. */
double core_sim_mathcheck(void);
/* Sigma (output px) of the Gaussian PSF core blurring the smooth light at this side. */
double core_sim_psf_sigma(int side);

/* Renders the cutout: flux is (3, side, side), bands g, r, z: surface brightness in
 * nanomaggies per pixel of a 424 px cutout (0.262"), so a smaller side looks
 * like the same cutout shrunk (with less noise per pixel). */
void core_sim_render_flux(const core_sim_params *p, int side, float *flux);
/* The DECaLS colour stretch of (3, side, side) g, r, z fluxes into RGB8. */
void core_sim_stretch(const float *flux, int side, core_image *out);
/* Both: the cutout as RGB8 (out allocated; core_image_free). */
int  core_sim_render(const core_sim_params *p, int side, core_image *out);

/* Gz-decals answers: the true answer index for every question key of the
 * tree (also those off the true path, what a volunteer who took another
 * branch would most likely say), and simulated volunteer vote counts for
 * the 34 columns in core_sim_vote_columns order. */
#define CORE_SIM_N_VOTE_COLS 34
extern const char *const core_sim_vote_columns[CORE_SIM_N_VOTE_COLS];
void core_sim_votes(const core_sim_params *p, int votes[CORE_SIM_N_VOTE_COLS]);

/* One CSV header line (no newline) and one row for galaxy p named id with file file_loc. */
void core_sim_csv_header(char *buf, size_t len);
void core_sim_csv_row(const core_sim_params *p, const char *id, const char *file_loc,
                      int side, char *buf, size_t len);

/* Writes n cutouts OUT_DIR/images/sim_NNNNNN.png and OUT_DIR/catalog.csv, on
 * n_threads threads (0 = online CPUs).  flags: CORE_SIM_NO_IMAGES renders but
 * writes no PNG (benchmarks).  progress (may be NULL) is called from the
 * calling thread now and then.  0 or -1 with a reason in err. */
#define CORE_SIM_NO_IMAGES 1
int  core_sim_write(const char *dir, int n, uint64_t seed, int side,
                    const double frac[CORE_SIM_N_CLASSES], int n_threads, int flags,
                    void (*progress)(int done, int total, void *ctx), void *ctx,
                    char *err, size_t errlen);

#endif
