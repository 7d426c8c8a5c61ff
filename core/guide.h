/*
 * guide.h - the field guide: example images for each answer of a question.
 *
 * A guide is a folder DIR, in one of two forms:
 *  - the Galaxy Zoo tutorial (../shared/data/gz_tutorial: DIR/catalog.csv
 *    with columns file, survey, question_id, question_text, answer_text):
 *    the examples Galaxy Zoo shows its volunteers.  gz-decals (and ring)
 *    take the "decals" rows, gz2 / gz2-kaggle the "sloan" rows; a question
 *    matches when the tutorial's question text is ours or begins it (case
 *    and center/centre aside), an answer when the texts are equal or ours
 *    is the tutorial's followed by " -" ("Yes - edge on disk"); a few answers
 *    Galaxy Zoo words otherwise are mapped by a table (strong / weak bar ->
 *    Bar, ring yes -> Ring, merging merger -> Merging, none -> Neither).
 *  - any tree: DIR/<question key>/<answer key>/ holding PNG, JPEG or FITS
 *    files (name order, the first CORE_GUIDE_PER).
 * Files are regular files inside DIR, never a symbolic link (lstat); the
 * tutorial's file names may not leave DIR ("..", absolute paths).
 */
#ifndef ZOOSH_CORE_GUIDE_H
#define ZOOSH_CORE_GUIDE_H

#include <stddef.h>

#include "core/schema.h"

#define CORE_GUIDE_PER 4    /* examples per answer */

typedef struct {
    int n_answers;
    int n[CORE_SCHEMA_MAX_A];                       /* examples found per answer */
    char path[CORE_SCHEMA_MAX_A][CORE_GUIDE_PER][4096];
} core_guide_page;

/* The examples for question q of s from the guide folder dir into *out.
 * 0 (answers may have none), or -1 with "DIR: reason" in err when dir is
 * not a guide (missing, unreadable, a tutorial catalog that does not parse). */
int core_guide_load(const char *dir, const core_schema *s, int q, core_guide_page *out, char *err, size_t errlen);

#endif
