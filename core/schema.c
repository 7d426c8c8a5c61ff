/*
 * schema.c - decision trees and rating tasks (see schema.h).
 *
 * Built-in tasks (facts from ../shared/data/decision_trees.txt):
 *   gz-decals  GZ DECaLS DR5 = GZ DESI: 10 questions, 34 answers, Zoobot's
 *              dependencies and column order (desi_pairs: no -dr5 suffix).
 *   gz2        Galaxy Zoo 2 as Zoobot's GZ2 schema (gz2_ortho_pairs and
 *              gz2_ortho_dependencies): 10 questions, 30 answers, its keys,
 *              column order and dependencies (disk-edge-on, has-spiral-arms,
 *              bar and bulge-size under smooth-or-featured-gz2_featured-or-disk;
 *              bulge-shape under disk-edge-on-gz2_yes; something-odd always).
 *   gz2-kaggle Galaxy Zoo 2 in the order of the Kaggle "Galaxy Challenge"
 *              columns: 11 questions, 37 answers, column i is the i-th of
 *              Class1.1 .. Class11.6; dependencies as the Kaggle sums (Class2
 *              under 1.2; Class3-5 under 2.2; Class7 under 1.1; Class8 under
 *              6.1; Class9 under 2.1; Class10-11 under 4.1).  The same keys as
 *              gz2, plus "odd-feature-gz2" (Class8), which Zoobot's schema
 *              lacks.  zoosh's encoder predicts exactly these 37 (set votes).
 *   ring       one question "ring", answers "yes" / "no" (ring_yes, ring_no);
 *              prior votes:Class8.1 (GZ2's "ring" answer as zoosh's encoder
 *              predicts it).
 *   interest   a 0-5 rating (CORE_TASK_RATING, no questions).
 *
 * The text format for users' own trees
 * ------------------------------------
 *   # a comment (from '#' to the end of a line, outside quotes)
 *   task my-tree                       optional: the task's name (default: the
 *                                      file's base name without extension)
 *   question shape "Is it smooth or featured?"
 *     answer smooth "Smooth"
 *     answer featured "Features or disk"
 *   question bar "Is there a bar?" requires shape_featured
 *     answer yes "Bar"
 *     answer no "No bar"
 *   rating 0 5                         instead of questions: a rating task
 *   prior votes:Class8.1               optional: what the task starts from
 *                                      before anyone answers (core/learn.h).
 *                                      For one yes/no question, SET:COLUMN, a
 *                                      column of a feature set (0..1) that
 *                                      predicts its "yes" (else first) answer;
 *                                      for a tree, SET, a feature set with one
 *                                      column per answer in the tree's column
 *                                      order, each question's summing to 1
 *
 * - One statement per line; `answer` lines belong to the question above them
 *   (indent them for the reader; indentation is not significant).
 * - Keys: letters, digits, '-' and '.', at most 47 characters; no '_', which
 *   joins question and answer in column names ("shape_featured").  Task
 *   names: the same, at most 31.  Texts: in double quotes (\" and \\ escape),
 *   optional (default: the key); at most 159 characters for a question, 63
 *   for an answer.
 * - `requires QUESTION_ANSWER` names an answer of an EARLIER question: the
 *   question is asked only when that answer was given.  Without it the
 *   question is always asked.  Questions are asked in file order.
 * - A question needs 2..10 answers (keys 1-9, 0); at most 32 questions, at
 *   most STORE_STEPS_MAX (16) asked on one path; keys are unique; no key
 *   starts with '-'; the task name 'pca' is reserved.  A rating is 0..5.
 * Errors are reported as "FILE:LINE: reason".
 */
#include "core/schema.h"
#include "core/util.h"
#include "store/store.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const core_schema_builtin_names[] = {"gz-decals", "gz2", "gz2-kaggle", "ring", "interest", NULL};

/* ------------------------------------------------------------ built-in tables */

typedef struct {
    const char *key, *text;
    const char *parent;               /* "question_answer" or NULL */
    const char *answers[CORE_SCHEMA_MAX_A][2];   /* {key, text}, NULL-terminated */
} qdef;

static const qdef gz_decals[] = {
    {"smooth-or-featured", "Is the galaxy simply smooth and rounded, with no sign of a disk?", NULL,
     {{"smooth", "Smooth"}, {"featured-or-disk", "Features or disk"}, {"artifact", "Star or artifact"}}},
    {"disk-edge-on", "Could this be a disk viewed edge-on?", "smooth-or-featured_featured-or-disk",
     {{"yes", "Yes - edge on disk"}, {"no", "No - something else"}}},
    {"has-spiral-arms", "Is there any sign of a spiral arm pattern?", "disk-edge-on_no",
     {{"yes", "Spiral"}, {"no", "No spiral"}}},
    {"bar", "Is there any sign of a bar feature through the centre of the galaxy?", "disk-edge-on_no",
     {{"strong", "Strong bar"}, {"weak", "Weak bar"}, {"no", "No bar"}}},
    {"bulge-size", "How prominent is the central bulge, compared with the rest of the galaxy?", "disk-edge-on_no",
     {{"dominant", "Dominant"}, {"large", "Large"}, {"moderate", "Moderate"}, {"small", "Small"}, {"none", "No bulge"}}},
    {"how-rounded", "How rounded is it?", "smooth-or-featured_smooth",
     {{"round", "Completely round"}, {"in-between", "In between"}, {"cigar-shaped", "Cigar shaped"}}},
    {"edge-on-bulge", "Does the galaxy have a bulge at its centre? If so, what shape?", "disk-edge-on_yes",
     {{"boxy", "Boxy"}, {"none", "No bulge"}, {"rounded", "Rounded"}}},
    {"spiral-winding", "How tightly wound do the spiral arms appear?", "has-spiral-arms_yes",
     {{"tight", "Tight"}, {"medium", "Medium"}, {"loose", "Loose"}}},
    {"spiral-arm-count", "How many spiral arms are there?", "has-spiral-arms_yes",
     {{"1", "1"}, {"2", "2"}, {"3", "3"}, {"4", "4"}, {"more-than-4", "More than 4"}, {"cant-tell", "Can't tell"}}},
    {"merging", "Is the galaxy merging or disturbed?", NULL,
     {{"none", "None"}, {"minor-disturbance", "Minor disturbance"}, {"major-disturbance", "Major disturbance"},
      {"merger", "Merging"}}},
    {NULL, NULL, NULL, {{NULL, NULL}}},
};

static const qdef gz2[] = {
    {"smooth-or-featured-gz2", "Is the galaxy simply smooth and rounded, with no sign of a disk?", NULL,
     {{"smooth", "Smooth"}, {"featured-or-disk", "Features or disk"}, {"artifact", "Star or artifact"}}},
    {"disk-edge-on-gz2", "Could this be a disk viewed edge-on?", "smooth-or-featured-gz2_featured-or-disk",
     {{"yes", "Yes"}, {"no", "No"}}},
    {"has-spiral-arms-gz2", "Is there any sign of a spiral arm pattern?", "smooth-or-featured-gz2_featured-or-disk",
     {{"yes", "Spiral"}, {"no", "No spiral"}}},
    {"bar-gz2", "Is there any sign of a bar feature through the centre of the galaxy?", "smooth-or-featured-gz2_featured-or-disk",
     {{"yes", "Bar"}, {"no", "No bar"}}},
    {"bulge-size-gz2", "How prominent is the central bulge, compared with the rest of the galaxy?", "smooth-or-featured-gz2_featured-or-disk",
     {{"dominant", "Dominant"}, {"obvious", "Obvious"}, {"just-noticeable", "Just noticeable"}, {"no", "No bulge"}}},
    {"something-odd-gz2", "Is there anything odd?", NULL,
     {{"yes", "Yes"}, {"no", "No"}}},
    {"how-rounded-gz2", "How rounded is it?", "smooth-or-featured-gz2_smooth",
     {{"round", "Completely round"}, {"in-between", "In between"}, {"cigar", "Cigar shaped"}}},
    {"bulge-shape-gz2", "Does the galaxy have a bulge at its centre? If so, what shape?", "disk-edge-on-gz2_yes",
     {{"round", "Rounded"}, {"boxy", "Boxy"}, {"no-bulge", "No bulge"}}},
    {"spiral-winding-gz2", "How tightly wound do the spiral arms appear?", "has-spiral-arms-gz2_yes",
     {{"tight", "Tight"}, {"medium", "Medium"}, {"loose", "Loose"}}},
    {"spiral-arm-count-gz2", "How many spiral arms are there?", "has-spiral-arms-gz2_yes",
     {{"1", "1"}, {"2", "2"}, {"3", "3"}, {"4", "4"}, {"more-than-4", "More than 4"}, {"cant-tell", "Can't tell"}}},
    {NULL, NULL, NULL, {{NULL, NULL}}},
};

static const qdef gz2_kaggle[] = {
    {"smooth-or-featured-gz2", "Is the galaxy simply smooth and rounded, with no sign of a disk?", NULL,
     {{"smooth", "Smooth"}, {"featured-or-disk", "Features or disk"}, {"artifact", "Star or artifact"}}},
    {"disk-edge-on-gz2", "Could this be a disk viewed edge-on?", "smooth-or-featured-gz2_featured-or-disk",
     {{"yes", "Yes"}, {"no", "No"}}},
    {"bar-gz2", "Is there any sign of a bar feature through the centre of the galaxy?", "disk-edge-on-gz2_no",
     {{"yes", "Bar"}, {"no", "No bar"}}},
    {"has-spiral-arms-gz2", "Is there any sign of a spiral arm pattern?", "disk-edge-on-gz2_no",
     {{"yes", "Spiral"}, {"no", "No spiral"}}},
    {"bulge-size-gz2", "How prominent is the central bulge, compared with the rest of the galaxy?", "disk-edge-on-gz2_no",
     {{"no", "No bulge"}, {"just-noticeable", "Just noticeable"}, {"obvious", "Obvious"}, {"dominant", "Dominant"}}},
    {"something-odd-gz2", "Is there anything odd?", NULL,
     {{"yes", "Yes"}, {"no", "No"}}},
    {"how-rounded-gz2", "How rounded is it?", "smooth-or-featured-gz2_smooth",
     {{"round", "Completely round"}, {"in-between", "In between"}, {"cigar", "Cigar shaped"}}},
    {"odd-feature-gz2", "What is the odd feature?", "something-odd-gz2_yes",
     {{"ring", "Ring"}, {"lens-or-arc", "Lens or arc"}, {"disturbed", "Disturbed"}, {"irregular", "Irregular"},
      {"other", "Other"}, {"merger", "Merger"}, {"dust-lane", "Dust lane"}}},
    {"bulge-shape-gz2", "Does the galaxy have a bulge at its centre? If so, what shape?", "disk-edge-on-gz2_yes",
     {{"round", "Rounded"}, {"boxy", "Boxy"}, {"no-bulge", "No bulge"}}},
    {"spiral-winding-gz2", "How tightly wound do the spiral arms appear?", "has-spiral-arms-gz2_yes",
     {{"tight", "Tight"}, {"medium", "Medium"}, {"loose", "Loose"}}},
    {"spiral-arm-count-gz2", "How many spiral arms are there?", "has-spiral-arms-gz2_yes",
     {{"1", "1"}, {"2", "2"}, {"3", "3"}, {"4", "4"}, {"more-than-4", "More than 4"}, {"cant-tell", "Can't tell"}}},
    {NULL, NULL, NULL, {{NULL, NULL}}},
};

static const qdef ring[] = {
    {"ring", "Does the galaxy have a ring?", NULL, {{"yes", "Ring"}, {"no", "No ring"}}},
    {NULL, NULL, NULL, {{NULL, NULL}}},
};

/* Copies src into dst[cap], truncating (callers check lengths first). */
static void copy(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    if (n) memcpy(dst, src, n);
    dst[n] = 0;
}

/* Splits "question_answer" at the first '_' and finds both among questions
 * 0..before-1.  0 on success. */
static int find_parent(const core_schema *s, const char *qa, int before, int *pq, int *pa)
{
    const char *u = strchr(qa, '_');
    if (!u) return -1;
    char q[48];
    size_t ql = (size_t)(u - qa);
    if (ql == 0 || ql >= sizeof q) return -1;
    memcpy(q, qa, ql);
    q[ql] = 0;
    for (int i = 0; i < before; i++) {
        if (strcmp(s->q[i].key, q) != 0) continue;
        int a = core_schema_answer(s, i, u + 1);
        if (a < 0) return -1;
        *pq = i;
        *pa = a;
        return 0;
    }
    return -1;
}

static void from_table(core_schema *s, const char *name, const qdef *t)
{
    memset(s, 0, sizeof *s);
    copy(s->name, sizeof s->name, name);
    s->kind = CORE_TASK_TREE;
    for (int i = 0; t[i].key; i++) {
        core_question *q = &s->q[s->n_questions];
        copy(q->key, sizeof q->key, t[i].key);
        copy(q->text, sizeof q->text, t[i].text);
        q->parent_q = q->parent_a = -1;
        for (int a = 0; a < CORE_SCHEMA_MAX_A && t[i].answers[a][0]; a++) {
            copy(q->answers[a].key, sizeof q->answers[a].key, t[i].answers[a][0]);
            copy(q->answers[a].text, sizeof q->answers[a].text, t[i].answers[a][1]);
            q->n_answers = a + 1;
        }
        if (t[i].parent && find_parent(s, t[i].parent, s->n_questions, &q->parent_q, &q->parent_a) != 0)
            core_fatal("built-in schema %s: bad parent %s", name, t[i].parent);  /* a bug in the table */
        s->n_questions++;
    }
}

int core_schema_builtin(const char *name, core_schema *out)
{
    if (!name) return -1;
    if (strcmp(name, "gz-decals") == 0) { from_table(out, name, gz_decals); return 0; }
    if (strcmp(name, "gz2") == 0 || strcmp(name, "gz2-kaggle") == 0) {
        /* both start from the 37 Kaggle answers zoosh's encoder predicts
         * (set votes): gz2-kaggle column for column, gz2 its 30 of them
         * (core_schema_prior_map) */
        from_table(out, name, name[3] ? gz2_kaggle : gz2);
        copy(out->prior, sizeof out->prior, "votes");
        return 0;
    }
    if (strcmp(name, "ring") == 0) {
        from_table(out, name, ring);
        copy(out->prior, sizeof out->prior, "votes:Class8.1");
        return 0;
    }
    if (strcmp(name, "interest") == 0) {
        memset(out, 0, sizeof *out);
        copy(out->name, sizeof out->name, name);
        out->kind = CORE_TASK_RATING;
        out->rating_min = 0;
        out->rating_max = 5;
        return 0;
    }
    return -1;
}

/* ------------------------------------------------------------ the text format */

typedef struct {
    const char *fname;
    int line;
    char *err;
    size_t errlen;
} pctx;

static int perr(pctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(pctx *p, const char *fmt, ...)
{
    if (p->err && p->errlen) {
        int n = snprintf(p->err, p->errlen, "%s:%d: ", p->fname, p->line);
        if (n >= 0 && (size_t)n < p->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

static int key_char(int c) { return isalnum(c) || c == '-' || c == '.'; }

/* Reads the next token of line (a word, or a quoted text with quoted=1) into
 * buf.  Returns 1 when a token was read, 0 at the end, -1 on error. */
static int next_token(pctx *p, const char **s, char *buf, size_t cap, int *quoted)
{
    const char *c = *s;
    while (*c == ' ' || *c == '\t' || *c == '\r') c++;
    *quoted = 0;
    if (!*c || *c == '#' || *c == '\n') { *s = c; return 0; }
    size_t n = 0;
    if (*c == '"') {
        *quoted = 1;
        c++;
        for (;;) {
            if (!*c || *c == '\n') return perr(p, "unterminated quoted text");
            if (*c == '"') { c++; break; }
            if (*c == '\\' && (c[1] == '"' || c[1] == '\\')) c++;
            if (n + 1 >= cap) return perr(p, "text longer than %zu characters", cap - 1);
            buf[n++] = *c++;
        }
        if (*c && *c != ' ' && *c != '\t' && *c != '\r' && *c != '\n' && *c != '#')
            return perr(p, "expected a space after the closing quote");
    } else {
        while (*c && *c != ' ' && *c != '\t' && *c != '\r' && *c != '\n' && *c != '#') {
            if (n + 1 >= cap) return perr(p, "word longer than %zu characters", cap - 1);
            buf[n++] = *c++;
        }
    }
    buf[n] = 0;
    *s = c;
    return 1;
}

/* A key: 1..maxlen characters of [A-Za-z0-9.-] (no '_'). */
static int check_key(pctx *p, const char *what, const char *k, size_t maxlen)
{
    size_t n = strlen(k);
    if (n == 0) return perr(p, "empty %s", what);
    if (n > maxlen) return perr(p, "%s '%s' is longer than %zu characters", what, k, maxlen);
    for (size_t i = 0; i < n; i++)
        if (!key_char((unsigned char)k[i])) {
            /* the key up to the bad byte is clean; the byte itself may be
             * half a UTF-8 character or a control: shown by its value */
            unsigned char b = (unsigned char)k[i];
            int printable = 1;
            for (size_t j = 0; j < n; j++) printable &= k[j] > 0x20 && k[j] < 0x7f;
            if (printable)
                return perr(p, "%s '%s': character '%c' not allowed (use ASCII letters, digits, '-' and '.'; "
                               "'_' joins question and answer)", what, k, b);
            return perr(p, "%s '%.*s...': byte 0x%02x not allowed (use ASCII letters, digits, '-' and '.'; "
                           "'_' joins question and answer)", what, (int)i, k, b);
        }
    if (k[0] == '-') return perr(p, "%s '%s' starts with '-' (it would read as an option)", what, k);
    return 0;
}

static int finish_question(pctx *p, core_schema *s, int qline)
{
    if (s->n_questions == 0) return 0;
    core_question *q = &s->q[s->n_questions - 1];
    if (q->n_answers < 2) {
        int l = p->line;
        p->line = qline;
        perr(p, "question '%s' has %d answer%s (needs at least 2)", q->key, q->n_answers, q->n_answers == 1 ? "" : "s");
        p->line = l;
        return -1;
    }
    return 0;
}

int core_schema_parse(const char *text, const char *fname, core_schema *out, char *err, size_t errlen)
{
    pctx p = {fname ? fname : "<schema>", 0, err, errlen};
    if (err && errlen) err[0] = 0;
    memset(out, 0, sizeof *out);
    out->kind = CORE_TASK_TREE;
    int have_rating = 0, have_task = 0, qline = 0, prior_line = 0;
    char word[200], a1[200], a2[200], a3[200];
    const char *line = text ? text : "";
    if (!memcmp(line, "\xef\xbb\xbf", 3)) line += 3;   /* a UTF-8 byte-order mark, as editors on Windows write */
    while (*line || p.line == 0) {
        p.line++;
        const char *eol = strchr(line, '\n');
        const char *c = line;
        int quoted;
        int r = next_token(&p, &c, word, sizeof word, &quoted);
        if (r < 0) return -1;
        if (r == 0) goto next;
        if (quoted) return perr(&p, "expected a statement (task, question, answer, rating), got a quoted text");
        if (strcmp(word, "task") == 0) {
            if (have_task) return perr(&p, "second 'task' line");
            if (next_token(&p, &c, a1, sizeof a1, &quoted) != 1 || quoted) return perr(&p, "'task' needs a name");
            if (check_key(&p, "task name", a1, sizeof out->name - 1)) return -1;
            if (strcmp(a1, "pca") == 0)   /* models of task T are "T/..." blobs, PCAs "pca/SET" (core/repr.c) */
                return perr(&p, "task name 'pca' is reserved (zoosh keeps its PCA models under it)");
            copy(out->name, sizeof out->name, a1);
            have_task = 1;
        } else if (strcmp(word, "question") == 0) {
            if (have_rating) return perr(&p, "a rating task cannot have questions");
            if (finish_question(&p, out, qline)) return -1;
            if (out->n_questions >= CORE_SCHEMA_MAX_Q) return perr(&p, "more than %d questions", CORE_SCHEMA_MAX_Q);
            r = next_token(&p, &c, a1, sizeof a1, &quoted);
            if (r < 0) return -1;
            if (r == 0 || quoted) return perr(&p, "'question' needs a key");
            if (check_key(&p, "question key", a1, sizeof out->q[0].key - 1)) return -1;
            if (core_schema_question(out, a1) >= 0) return perr(&p, "question '%s' defined twice", a1);
            core_question *q = &out->q[out->n_questions];
            memset(q, 0, sizeof *q);
            copy(q->key, sizeof q->key, a1);
            copy(q->text, sizeof q->text, a1);
            q->parent_q = q->parent_a = -1;
            r = next_token(&p, &c, a2, sizeof q->text, &quoted);
            if (r < 0) return -1;
            if (r == 1 && quoted) {
                copy(q->text, sizeof q->text, a2);
                r = next_token(&p, &c, a2, sizeof a2, &quoted);
                if (r < 0) return -1;
            }
            if (r == 1) {
                if (quoted || strcmp(a2, "requires") != 0) return perr(&p, "unexpected '%s' (expected \"text\" or requires QUESTION_ANSWER)", a2);
                r = next_token(&p, &c, a3, sizeof a3, &quoted);
                if (r < 0) return -1;
                if (r == 0 || quoted) return perr(&p, "'requires' needs QUESTION_ANSWER");
                if (!strchr(a3, '_')) return perr(&p, "'requires %s': expected QUESTION_ANSWER, e.g. shape_featured", a3);
                if (find_parent(out, a3, out->n_questions, &q->parent_q, &q->parent_a) != 0)
                    return perr(&p, "'requires %s': no such answer of an earlier question", a3);
                r = next_token(&p, &c, a2, sizeof a2, &quoted);
                if (r < 0) return -1;
                if (r == 1) return perr(&p, "unexpected '%s' after the requirement", a2);
            }
            out->n_questions++;
            qline = p.line;
        } else if (strcmp(word, "answer") == 0) {
            if (out->n_questions == 0) return perr(&p, "'answer' before any 'question'");
            core_question *q = &out->q[out->n_questions - 1];
            if (q->n_answers >= CORE_SCHEMA_MAX_A)
                return perr(&p, "question '%s' has more than %d answers (the labeler's keys are 1-9 and 0)", q->key, CORE_SCHEMA_MAX_A);
            r = next_token(&p, &c, a1, sizeof a1, &quoted);
            if (r < 0) return -1;
            if (r == 0 || quoted) return perr(&p, "'answer' needs a key");
            if (check_key(&p, "answer key", a1, sizeof q->answers[0].key - 1)) return -1;
            if (core_schema_answer(out, out->n_questions - 1, a1) >= 0)
                return perr(&p, "answer '%s' appears twice in question '%s'", a1, q->key);
            copy(q->answers[q->n_answers].key, sizeof q->answers[0].key, a1);
            copy(q->answers[q->n_answers].text, sizeof q->answers[0].text, a1);
            r = next_token(&p, &c, a2, sizeof q->answers[0].text, &quoted);
            if (r < 0) return -1;
            if (r == 1) {
                if (!quoted) return perr(&p, "unexpected '%s' (the answer's text goes in double quotes)", a2);
                copy(q->answers[q->n_answers].text, sizeof q->answers[0].text, a2);
                r = next_token(&p, &c, a3, sizeof a3, &quoted);
                if (r < 0) return -1;
                if (r == 1) return perr(&p, "unexpected '%s' after the answer's text", a3);
            }
            q->n_answers++;
        } else if (strcmp(word, "rating") == 0) {
            if (out->n_questions > 0) return perr(&p, "'rating' in a tree with questions");
            if (have_rating) return perr(&p, "second 'rating' line");
            if (next_token(&p, &c, a1, sizeof a1, &quoted) != 1 || next_token(&p, &c, a2, sizeof a2, &quoted) != 1)
                return perr(&p, "'rating' needs MIN MAX");
            char *e1, *e2;
            long lo = strtol(a1, &e1, 10), hi = strtol(a2, &e2, 10);
            if (*e1 || *e2 || lo < 0 || hi > CORE_SCHEMA_MAX_RATING || lo >= hi)
                return perr(&p, "'rating %s %s': need integers 0 <= MIN < MAX <= %d (one key per value; what zoosh stores)",
                            a1, a2, CORE_SCHEMA_MAX_RATING);
            if (next_token(&p, &c, a3, sizeof a3, &quoted) != 0) return perr(&p, "unexpected text after 'rating MIN MAX'");
            out->kind = CORE_TASK_RATING;
            out->rating_min = (int)lo;
            out->rating_max = (int)hi;
            have_rating = 1;
        } else if (strcmp(word, "prior") == 0) {
            if (prior_line) return perr(&p, "second 'prior' line");
            r = next_token(&p, &c, a1, sizeof a1, &quoted);
            if (r < 0) return -1;
            const char *colon = r == 1 && !quoted ? strrchr(a1, ':') : NULL;
            if (r != 1 || quoted || (colon && (colon == a1 || !colon[1])))
                return perr(&p, "'prior' needs SET:COLUMN (a yes/no task, e.g. votes:Class8.1) or SET (a tree)");
            if (strlen(a1) >= sizeof out->prior)
                return perr(&p, "'prior %s' is longer than %zu characters", a1, sizeof out->prior - 1);
            if (next_token(&p, &c, a2, sizeof a2, &quoted) != 0) return perr(&p, "unexpected text after 'prior %s'", a1);
            copy(out->prior, sizeof out->prior, a1);
            prior_line = p.line;
        } else {
            return perr(&p, "unknown statement '%s' (expected task, question, answer, rating or prior)", word);
        }
    next:
        if (!eol) break;
        line = eol + 1;
    }
    if (finish_question(&p, out, qline)) return -1;
    if (!have_rating && out->n_questions == 0) return perr(&p, "no questions (and no 'rating' line)");
    if (prior_line && have_rating) {
        p.line = prior_line;
        return perr(&p, "'prior' is not for a rating task");
    }
    if (prior_line && strchr(out->prior, ':') && (out->n_questions != 1 || out->q[0].n_answers != 2)) {
        p.line = prior_line;
        return perr(&p, "'prior %s' (SET:COLUMN) is for a task of one yes/no question (this one has %s; "
                    "a tree takes a whole set: prior SET)", out->prior,
                    out->n_questions != 1 ? "several questions" : "more than 2 answers");
    }
    if (!have_task) {
        /* The file's base name without extension. */
        const char *b = strrchr(p.fname, '/');
        b = b ? b + 1 : p.fname;
        char nm[sizeof out->name];
        size_t n = 0;
        while (b[n] && b[n] != '.' && n + 1 < sizeof nm) { nm[n] = b[n]; n++; }
        nm[n] = 0;
        for (size_t i = 0; i < n; i++) if (!key_char((unsigned char)nm[i])) nm[i] = '-';
        if (!n) copy(nm, sizeof nm, "custom");
        copy(out->name, sizeof out->name, nm);
    }
    for (int i = 0; core_schema_builtin_names[i]; i++)
        if (strcmp(out->name, core_schema_builtin_names[i]) == 0) {
            p.line = 1;
            return perr(&p, "task name '%s' is a built-in task (add a 'task NAME' line)", out->name);
        }
    if (!have_task && (strcmp(out->name, "pca") == 0 || out->name[0] == '-')) {
        p.line = 1;
        return perr(&p, "task name '%s' (from the file name) is not allowed: add a 'task NAME' line", out->name);
    }
    int longest = core_schema_longest_path(out);
    if (longest > STORE_STEPS_MAX) {
        p.line = 1;
        return perr(&p, "a galaxy can be asked %d questions in this tree; an answer holds at most %d "
                    "(split the tree into two tasks)", longest, STORE_STEPS_MAX);
    }
    return 0;
}

int core_schema_longest_path(const core_schema *s)
{
    /* most[q]: questions asked from q on, q included, when its answers are
     * chosen to ask the most.  A question is asked after its parent answer,
     * in schema order, so a child comes after its parent; one listed before
     * its parent is never asked. */
    int most[CORE_SCHEMA_MAX_Q] = {0}, total = 0;
    if (s->kind != CORE_TASK_TREE) return 0;
    for (int q = s->n_questions - 1; q >= 0; q--) {
        int best = 0;
        for (int a = 0; a < s->q[q].n_answers; a++) {
            int sum = 0;
            for (int c = q + 1; c < s->n_questions; c++)
                if (s->q[c].parent_q == q && s->q[c].parent_a == a) sum += most[c];
            if (sum > best) best = sum;
        }
        most[q] = 1 + best;
        if (s->q[q].parent_q < 0) total += most[q];
    }
    return total;
}

char *core_schema_read_text(const char *path, char *err, size_t errlen)
{
    if (err && errlen) err[0] = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err) snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = xmalloc(cap);
    size_t k;
    while ((k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (n > (1u << 20)) {
            fclose(f);
            free(buf);
            if (err) snprintf(err, errlen, "%s: larger than 1 MiB, not a schema file", path);
            return NULL;
        }
        if (n + 1 >= cap) { cap *= 2; buf = xrealloc(buf, cap); }
    }
    int bad = ferror(f);
    fclose(f);
    buf[n] = 0;
    if (bad) {
        free(buf);
        if (err) snprintf(err, errlen, "%s: read error", path);
        return NULL;
    }
    if (memchr(buf, 0, n)) {
        free(buf);
        if (err) snprintf(err, errlen, "%s:1: binary file, not a schema", path);
        return NULL;
    }
    return buf;
}

int core_schema_load_file(const char *path, core_schema *out, char *err, size_t errlen)
{
    char *buf = core_schema_read_text(path, err, errlen);
    if (!buf) return -1;
    int rc = core_schema_parse(buf, path, out, err, errlen);
    free(buf);
    return rc;
}

int core_schema_resolve(const char *name_or_file, core_schema *out, char *err, size_t errlen)
{
    if (err && errlen) err[0] = 0;
    if (!name_or_file || !*name_or_file) {
        if (err) snprintf(err, errlen, "empty schema name");
        return -1;
    }
    if (core_schema_builtin(name_or_file, out) == 0) return 0;
    FILE *f = fopen(name_or_file, "rb");
    if (!f) {
        if (err) {
            int n = snprintf(err, errlen, "%s: no built-in schema of that name (", name_or_file);
            for (int i = 0; core_schema_builtin_names[i] && n >= 0 && (size_t)n < errlen; i++)
                n += snprintf(err + n, errlen - (size_t)n, "%s%s", i ? ", " : "", core_schema_builtin_names[i]);
            if (n >= 0 && (size_t)n < errlen) snprintf(err + n, errlen - (size_t)n, ") and no such file");
        }
        return -1;
    }
    fclose(f);
    return core_schema_load_file(name_or_file, out, err, errlen);
}

/* ------------------------------------------------------------ queries */

int core_schema_question(const core_schema *s, const char *qkey)
{
    if (!s || !qkey) return -1;
    for (int i = 0; i < s->n_questions; i++)
        if (strcmp(s->q[i].key, qkey) == 0) return i;
    return -1;
}

int core_schema_answer(const core_schema *s, int q, const char *akey)
{
    if (!s || !akey || q < 0 || q >= s->n_questions) return -1;
    for (int a = 0; a < s->q[q].n_answers; a++)
        if (strcmp(s->q[q].answers[a].key, akey) == 0) return a;
    return -1;
}

int core_schema_n_columns(const core_schema *s)
{
    int n = 0;
    if (!s) return 0;
    for (int i = 0; i < s->n_questions; i++) n += s->q[i].n_answers;
    return n;
}

int core_schema_column(const core_schema *s, int i, char *buf, size_t len, int *q, int *a)
{
    if (!s || i < 0) return -1;
    for (int k = 0; k < s->n_questions; k++) {
        if (i < s->q[k].n_answers) {
            if (buf && len) snprintf(buf, len, "%s_%s", s->q[k].key, s->q[k].answers[i].key);
            if (q) *q = k;
            if (a) *a = i;
            return 0;
        }
        i -= s->q[k].n_answers;
    }
    return -1;
}

int core_schema_next(const core_schema *s, const int *given)
{
    if (!s || s->kind != CORE_TASK_TREE) return -1;
    for (int i = 0; i < s->n_questions; i++) {
        if (given && given[i] >= 0) continue;
        const core_question *q = &s->q[i];
        if (q->parent_q < 0) return i;
        if (given && given[q->parent_q] == q->parent_a) return i;
    }
    return -1;
}

/* ------------------------------------------------------------ Kaggle columns */

static const int kaggle_answers[11] = {3, 2, 2, 2, 4, 2, 3, 7, 3, 3, 6};   /* Class1 .. Class11 */

int core_schema_kaggle_index(const char *name)
{
    int q = 0, a = 0;
    const char *p = name;
    if (!p || strncmp(p, "Class", 5) != 0) return -1;
    p += 5;
    if (*p < '1' || *p > '9') return -1;
    while (*p >= '0' && *p <= '9' && q < 100) q = q * 10 + (*p++ - '0');
    if (*p++ != '.' || *p < '1' || *p > '9') return -1;
    while (*p >= '0' && *p <= '9' && a < 100) a = a * 10 + (*p++ - '0');
    if (*p || q < 1 || q > 11 || a < 1 || a > kaggle_answers[q - 1]) return -1;
    int k = 0;
    for (int i = 0; i < q - 1; i++) k += kaggle_answers[i];
    return k + a - 1;
}

int core_schema_kaggle_column(int k, char *buf, size_t len, int *klass)
{
    if (k < 0 || k >= CORE_SCHEMA_KAGGLE_N) return -1;
    for (int q = 0; gz2_kaggle[q].key; q++) {
        if (k < kaggle_answers[q]) {
            if (buf && len) snprintf(buf, len, "%s_%s", gz2_kaggle[q].key, gz2_kaggle[q].answers[k][0]);
            if (klass) *klass = q + 1;
            return 0;
        }
        k -= kaggle_answers[q];
    }
    return -1;
}

int core_schema_prior_map(const core_schema *s, int set_dim, int *map)
{
    int C = core_schema_n_columns(s);
    if (C <= 0) return -1;
    if (set_dim == C) {
        for (int c = 0; c < C; c++) map[c] = c;
        return 0;
    }
    if (set_dim != CORE_SCHEMA_KAGGLE_N) return -1;
    char col[160], kc[160];
    for (int c = 0; c < C; c++) {
        core_schema_column(s, c, col, sizeof col, NULL, NULL);
        map[c] = -1;
        for (int k = 0; k < CORE_SCHEMA_KAGGLE_N && map[c] < 0; k++)
            if (core_schema_kaggle_column(k, kc, sizeof kc, NULL) == 0 && strcmp(kc, col) == 0) map[c] = k;
        if (map[c] < 0) return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ workspace tasks */

int core_schema_ws_tasks(struct zs_txn *txn, char (*names)[32], int max)
{
    int n = 0, have_interest = 0;
    char *v = NULL;
    if (max <= 0) return 0;
    if (txn && store_meta_get(txn, CORE_SCHEMA_META_TASKS, &v) == 0) {
        char *save = NULL;
        for (char *tok = strtok_r(v, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
            if (strlen(tok) >= 32) continue;
            int dup = 0;
            for (int i = 0; i < n; i++) dup |= strcmp(names[i], tok) == 0;
            if (dup) continue;
            if (strcmp(tok, "interest") == 0) have_interest = 1;
            if (n < max) copy(names[n++], 32, tok);
        }
        free(v);
    }
    if (!have_interest) {
        if (n == max) n--;
        copy(names[n++], 32, "interest");
    }
    return n;
}

int core_schema_ws_get(struct zs_txn *txn, const char *task, core_schema *out, char *err, size_t errlen)
{
    if (err && errlen) err[0] = 0;
    if (!task || !*task) {
        if (err) snprintf(err, errlen, "empty task name");
        return -1;
    }
    char key[64];
    snprintf(key, sizeof key, "%s%.40s", CORE_SCHEMA_META_PREFIX, task);
    char *text = NULL;
    if (txn && strlen(task) < 32 && store_meta_get(txn, key, &text) == 0) {
        char fname[80];
        snprintf(fname, sizeof fname, "workspace:%s", key);
        int rc = core_schema_parse(text, fname, out, err, errlen);
        free(text);
        if (rc == 0) copy(out->name, sizeof out->name, task);
        return rc;
    }
    if (core_schema_builtin(task, out) == 0) return 0;
    if (err) snprintf(err, errlen, "no task '%s' in this workspace (zoosh stats WS lists them)", task);
    return -1;
}

int core_schema_ws_add(struct zs_txn *txn, const core_schema *s, const char *text, int *added, char *err, size_t errlen)
{
    *added = 0;
    if (err && errlen) err[0] = 0;
    char key[64], *tasks = NULL;
    int rc = 0;
    if (text) {
        core_schema *have = xmalloc(sizeof *have);
        char e2[256];
        int found = core_schema_ws_get(txn, s->name, have, e2, sizeof e2) == 0;
        /* parse zeroes the whole struct first, so equal trees compare equal */
        int same = found && memcmp(have, s, sizeof *s) == 0;
        free(have);
        if (found && !same) {
            if (err) snprintf(err, errlen, "the workspace already has a task '%s' that is a different tree "
                                           "(give yours another name: task NAME in the file)", s->name);
            return -1;
        }
        if (same) return 0;
        snprintf(key, sizeof key, "%s%s", CORE_SCHEMA_META_PREFIX, s->name);
        if ((rc = store_meta_put(txn, key, text)) != 0) goto fail;
    }
    rc = store_meta_get(txn, CORE_SCHEMA_META_TASKS, &tasks);
    if (rc != 0 && rc != STORE_ENOTFOUND) goto fail;
    rc = 0;
    int listed = 0;
    if (tasks) {
        char *copy = xstrdup(tasks), *save = NULL;
        for (char *t = strtok_r(copy, " \t\n", &save); t && !listed; t = strtok_r(NULL, " \t\n", &save))
            listed = strcmp(t, s->name) == 0;
        free(copy);
    }
    if (!listed) {
        size_t tl = (tasks ? strlen(tasks) : 0) + strlen(s->name) + 2;
        char *all = xmalloc(tl);
        snprintf(all, tl, "%s%s%s", tasks && *tasks ? tasks : "", tasks && *tasks ? " " : "", s->name);
        rc = store_meta_put(txn, CORE_SCHEMA_META_TASKS, all);
        free(all);
        if (rc) goto fail;
        *added = 1;
    }
    free(tasks);
    return 0;
fail:
    free(tasks);
    if (err) snprintf(err, errlen, "storing task '%s': %s", s->name, store_strerror(rc));
    return rc;
}
