/*
 * plot.h - a learning curve as a PNG (zoosh simulate --plot): y against x on
 * a 640x400 white canvas, grid lines and axis numbers, no text library.
 */
#ifndef ZOOSH_CORE_PLOT_H
#define ZOOSH_CORE_PLOT_H

#include <stddef.h>

/* Draws y against x (n points; x from 0 to xmax) with the y axis from lo to
 * hi, gridlines every step, and a second series (dashed grey) when y2 !=
 * NULL; points that are not finite are skipped.  Writes the PNG to path
 * (core_image_save_png: temp + rename for a regular file).  0, or -1 with a
 * reason in err. */
int core_plot_curve(const char *path, const double *x, const double *y, const double *y2, int n, double xmax,
                    double lo, double hi, double step, char *err, size_t errlen);

#endif
