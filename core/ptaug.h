/*
 * ptaug.h - the views `zoosh pretrain` trains on: a rotated, flipped,
 * zoomed crop of a cached base image, then survey augmentations that make
 * one survey's images look like another's (SDSS <-> DECaLS / DESI):
 * the seeing (PSF blur, or sharpening), the resolution (down- then
 * up-sampling), and the jitter (colour balance, brightness, gamma, noise).
 * Every random number comes from the caller's core_rng, in a fixed order.
 */
#ifndef ZOOSH_CORE_PTAUG_H
#define ZOOSH_CORE_PTAUG_H

#include <stdint.h>

#include "core/util.h"

/* One view x (S, S, 3) in [0, 1] of the base image src (Bs, Bs, 3): rotation
 * th, flip, zoom z (> 1 = closer), bilinear, edges clamped. */
void core_pt_aug_view(const uint8_t *src, int Bs, int S, float th, int flip, float z, float *x);

/* Colour and noise jitter of strength a (1 = the ranges below): gain per
 * channel exp(N(0, 0.1a)), saturation about the grey level in
 * [1 - 0.5a, 1 + 0.5a], brightness exp(U(-0.3a, 0.3a)), gamma
 * exp(U(-0.25a, 0.25a)), Gaussian pixel noise of sigma U(0, 0.02a). */
void core_pt_aug_jitter(float *x, int S, float a, core_rng *r);

/* Seeing and resolution of strength a: a PSF of Gaussian sigma U(-0.5a,
 * 1.5a) view pixels (negative: an unsharp mask of that amount, the better
 * seeing of the other survey), then, half of the time, the view sampled
 * down by U(1, 1 + a) and back up (bilinear). */
void core_pt_aug_survey(float *x, int S, float a, core_rng *r);

#endif
