/*
 * guide.c - the field guide's examples (see guide.h): the Galaxy Zoo
 * tutorial catalog or a folder per answer.
 */
#include "core/guide.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/csv.h"
#include "core/util.h"

/* A regular file, not a symbolic link. */
static int regular(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int image_name(const char *n)
{
    const char *dot = strrchr(n, '.');
    if (!dot || n[0] == '.') return 0;
    return !strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") ||
           !strcasecmp(dot, ".fits") || !strcasecmp(dot, ".fit");
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* ---- a folder per answer */

static void folder_answer(const char *dir, const char *qkey, const char *akey, core_guide_page *out, int a)
{
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/%s/%s", dir, qkey, akey);
    struct stat sb;
    if (lstat(sub, &sb) != 0 || !S_ISDIR(sb.st_mode)) return;
    DIR *d = opendir(sub);
    if (!d) return;
    char **names = NULL;
    int n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL && n < 10000;) {
        if (!image_name(e->d_name)) continue;
        if (n == cap) { cap = cap ? cap * 2 : 16; names = xrealloc(names, (size_t)cap * sizeof *names); }
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) {
        char p[4096];
        int l = snprintf(p, sizeof p, "%s/%s", sub, names[i]);
        if (l > 0 && (size_t)l < sizeof p && out->n[a] < CORE_GUIDE_PER && regular(p))
            memcpy(out->path[a][out->n[a]++], p, (size_t)l + 1);
        free(names[i]);
    }
    free(names);
}

/* ---- the Galaxy Zoo tutorial */

static const struct { const char *task, *q, *a, *tq, *ta; } extra[] = {
    {"gz-decals", "bar", "strong", "decals-2", "Bar"},
    {"gz-decals", "bar", "weak", "decals-2", "Bar"},
    {"gz-decals", "merging", "merger", "decals-9", "Merging"},
    {"gz-decals", "merging", "none", "decals-9", "Neither"},
    {"ring", "ring", "yes", "decals-10", "Ring"},
};

/* Lower case, "center" as "centre", into out. */
static void norm(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; *in && n + 1 < cap; in++) {
        if (!strncasecmp(in, "center", 6) && n + 7 < cap) {
            memcpy(out + n, "centre", 6);
            n += 6;
            in += 5;
            continue;
        }
        out[n++] = (char)tolower((unsigned char)*in);
    }
    out[n] = 0;
}

static int question_matches(const char *tut, const char *ours)
{
    char a[256], b[256];
    norm(tut, a, sizeof a);
    norm(ours, b, sizeof b);
    return a[0] && strncmp(a, b, strlen(a)) == 0;
}

static int answer_matches(const char *tut, const char *ours)
{
    size_t n = strlen(tut);
    if (!n) return 0;
    if (!strcasecmp(tut, ours)) return 1;
    return !strncasecmp(tut, ours, n) && !strncmp(ours + n, " -", 2);
}

typedef struct {
    const char *dir, *survey;
    const core_schema *s;
    int q;
    core_guide_page *out;
    int c_file, c_survey, c_qid, c_qtext, c_atext;
} tut_ctx;

static int tut_row(const core_csv_row *r, void *p)
{
    tut_ctx *t = p;
    if (r->index == 0) {
        t->c_file = t->c_survey = t->c_qid = t->c_qtext = t->c_atext = -1;
        for (int i = 0; i < r->n; i++) {
            if (!strcmp(r->f[i], "file")) t->c_file = i;
            else if (!strcmp(r->f[i], "survey")) t->c_survey = i;
            else if (!strcmp(r->f[i], "question_id")) t->c_qid = i;
            else if (!strcmp(r->f[i], "question_text")) t->c_qtext = i;
            else if (!strcmp(r->f[i], "answer_text")) t->c_atext = i;
        }
        return t->c_file < 0 || t->c_survey < 0 || t->c_qid < 0 || t->c_qtext < 0 || t->c_atext < 0 ? 1 : 0;
    }
    int need = t->c_file;
    if (t->c_survey > need) need = t->c_survey;
    if (t->c_qid > need) need = t->c_qid;
    if (t->c_qtext > need) need = t->c_qtext;
    if (t->c_atext > need) need = t->c_atext;
    if (r->n <= need || strcmp(r->f[t->c_survey], t->survey) != 0) return 0;
    const char *file = r->f[t->c_file];
    if (!file[0] || file[0] == '/' || strstr(file, "..")) return 0;
    const core_question *cq = &t->s->q[t->q];
    for (int a = 0; a < cq->n_answers; a++) {
        int hit = question_matches(r->f[t->c_qtext], cq->text) && answer_matches(r->f[t->c_atext], cq->answers[a].text);
        for (size_t k = 0; !hit && k < sizeof extra / sizeof extra[0]; k++)
            hit = !strcmp(extra[k].task, t->s->name) && !strcmp(extra[k].q, cq->key) && !strcmp(extra[k].a, cq->answers[a].key) &&
                  !strcmp(extra[k].tq, r->f[t->c_qid]) && !strcmp(extra[k].ta, r->f[t->c_atext]);
        if (!hit || t->out->n[a] >= CORE_GUIDE_PER) continue;
        char path[4096];
        int l = snprintf(path, sizeof path, "%s/%s", t->dir, file);
        if (l > 0 && (size_t)l < sizeof path && regular(path)) memcpy(t->out->path[a][t->out->n[a]++], path, (size_t)l + 1);
    }
    return 0;
}

int core_guide_load(const char *dir, const core_schema *s, int q, core_guide_page *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (q < 0 || q >= s->n_questions) return 0;
    out->n_answers = s->q[q].n_answers;
    struct stat sb;
    if (!dir || stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        core_set_err(err, errlen, "%s: not a folder (%s)", dir ? dir : "(none)", dir ? strerror(errno ? errno : ENOTDIR) : "no --guide");
        return -1;
    }
    char cat[4096];
    snprintf(cat, sizeof cat, "%s/catalog.csv", dir);
    if (regular(cat)) {
        tut_ctx t = {.dir = dir, .s = s, .q = q, .out = out};
        t.survey = !strncmp(s->name, "gz2", 3) ? "sloan" : "decals";
        char e[512];
        int rc = core_csv_read(cat, tut_row, &t, e, sizeof e);
        if (rc == 1) {
            core_set_err(err, errlen, "%s: not a tutorial catalog (needs file, survey, question_id, question_text, answer_text)", cat);
            return -1;
        }
        if (rc) { core_set_err(err, errlen, "%s", e); return -1; }
        return 0;
    }
    for (int a = 0; a < s->q[q].n_answers; a++) folder_answer(dir, s->q[q].key, s->q[q].answers[a].key, out, a);
    return 0;
}
