/*
 * t_schema.c - the built-in decision trees and the schema text format.
 */
#include "core/schema.h"
#include "tests/zt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static core_schema S;   /* large: keep it off the stack */

/* The parent of question qkey as "question_answer", or "" when none. */
static const char *parent_of(const core_schema *s, const char *qkey)
{
    static char buf[128];
    int q = core_schema_question(s, qkey);
    ZT_CHECK(q >= 0, "no question %s", qkey);
    if (s->q[q].parent_q < 0) return "";
    const core_question *p = &s->q[s->q[q].parent_q];
    snprintf(buf, sizeof buf, "%s_%s", p->key, p->answers[s->q[q].parent_a].key);
    return buf;
}

static void decals_has_10_questions_34_answers(void)
{
    ZT_OK(core_schema_builtin("gz-decals", &S));
    ZT_CHECK(S.kind == CORE_TASK_TREE, "kind %d", S.kind);
    ZT_CHECK(S.n_questions == 10, "%d questions", S.n_questions);
    ZT_CHECK(core_schema_n_columns(&S) == 34, "%d columns", core_schema_n_columns(&S));
    char col[128];
    int q, a;
    ZT_OK(core_schema_column(&S, 0, col, sizeof col, &q, &a));
    ZT_CHECK(strcmp(col, "smooth-or-featured_smooth") == 0, "first column %s", col);
    ZT_OK(core_schema_column(&S, 33, col, sizeof col, &q, &a));
    ZT_CHECK(strcmp(col, "merging_merger") == 0, "last column %s", col);
    ZT_CHECK(core_schema_column(&S, 34, col, sizeof col, &q, &a) != 0, "column 34 exists");
    /* Every column name is unique and has no -dr5 suffix. */
    for (int i = 0; i < 34; i++) {
        char ci[128], cj[128];
        core_schema_column(&S, i, ci, sizeof ci, NULL, NULL);
        ZT_CHECK(!strstr(ci, "-dr5"), "%s", ci);
        for (int j = i + 1; j < 34; j++) {
            core_schema_column(&S, j, cj, sizeof cj, NULL, NULL);
            ZT_CHECK(strcmp(ci, cj) != 0, "duplicate column %s", ci);
        }
    }
}

static void decals_dependencies_match_zoobot(void)
{
    ZT_OK(core_schema_builtin("gz-decals", &S));
    static const char *deps[][2] = {
        {"smooth-or-featured", ""},
        {"disk-edge-on", "smooth-or-featured_featured-or-disk"},
        {"has-spiral-arms", "disk-edge-on_no"},
        {"bar", "disk-edge-on_no"},
        {"bulge-size", "disk-edge-on_no"},
        {"how-rounded", "smooth-or-featured_smooth"},
        {"edge-on-bulge", "disk-edge-on_yes"},
        {"spiral-winding", "has-spiral-arms_yes"},
        {"spiral-arm-count", "has-spiral-arms_yes"},
        {"merging", ""},
    };
    for (int i = 0; i < 10; i++) {
        ZT_CHECK(strcmp(S.q[i].key, deps[i][0]) == 0, "question %d is %s, expected %s", i, S.q[i].key, deps[i][0]);
        const char *p = parent_of(&S, deps[i][0]);
        ZT_CHECK(strcmp(p, deps[i][1]) == 0, "%s requires '%s', expected '%s'", deps[i][0], p, deps[i][1]);
    }
    static const int n_answers[10] = {3, 2, 2, 3, 5, 3, 3, 3, 6, 4};
    for (int i = 0; i < 10; i++)
        ZT_CHECK(S.q[i].n_answers == n_answers[i], "%s has %d answers", S.q[i].key, S.q[i].n_answers);
}

/* Walks the tree choosing answers by key; writes the question keys asked. */
static int walk(const core_schema *s, const char *const *choices, char asked[][48])
{
    int given[CORE_SCHEMA_MAX_Q];
    for (int i = 0; i < CORE_SCHEMA_MAX_Q; i++) given[i] = -1;
    int n = 0, q;
    while ((q = core_schema_next(s, given)) >= 0) {
        ZT_CHECK(n < CORE_SCHEMA_MAX_Q, "the walk does not end");
        snprintf(asked[n++], 48, "%s", s->q[q].key);
        int a = -1;
        for (int c = 0; choices[c]; c += 2)
            if (strcmp(choices[c], s->q[q].key) == 0) a = core_schema_answer(s, q, choices[c + 1]);
        ZT_CHECK(a >= 0, "no choice given for %s", s->q[q].key);
        given[q] = a;
    }
    return n;
}

static void walking_decals_follows_the_answers(void)
{
    ZT_OK(core_schema_builtin("gz-decals", &S));
    char asked[CORE_SCHEMA_MAX_Q][48];
    const char *smooth[] = {"smooth-or-featured", "smooth", "how-rounded", "round", "merging", "none", NULL};
    int n = walk(&S, smooth, asked);
    ZT_CHECK(n == 3, "smooth path asks %d questions", n);
    ZT_CHECK(strcmp(asked[1], "how-rounded") == 0 && strcmp(asked[2], "merging") == 0, "%s %s", asked[1], asked[2]);

    const char *spiral[] = {"smooth-or-featured", "featured-or-disk", "disk-edge-on", "no", "has-spiral-arms", "yes",
                            "bar", "weak", "bulge-size", "small", "spiral-winding", "tight", "spiral-arm-count", "2",
                            "merging", "none", NULL};
    n = walk(&S, spiral, asked);
    ZT_CHECK(n == 8, "spiral path asks %d questions", n);
    const char *order[] = {"smooth-or-featured", "disk-edge-on", "has-spiral-arms", "bar", "bulge-size",
                           "spiral-winding", "spiral-arm-count", "merging"};
    for (int i = 0; i < 8; i++) ZT_CHECK(strcmp(asked[i], order[i]) == 0, "question %d is %s", i, asked[i]);

    const char *edge[] = {"smooth-or-featured", "featured-or-disk", "disk-edge-on", "yes", "edge-on-bulge", "boxy",
                          "merging", "merger", NULL};
    n = walk(&S, edge, asked);
    ZT_CHECK(n == 4 && strcmp(asked[2], "edge-on-bulge") == 0, "edge-on path: %d, %s", n, asked[2]);
    /* A finished tree has no next question. */
    int given[CORE_SCHEMA_MAX_Q];
    for (int i = 0; i < CORE_SCHEMA_MAX_Q; i++) given[i] = -1;
    given[0] = 2;   /* artifact: only merging (no parent) remains */
    ZT_CHECK(core_schema_next(&S, given) == core_schema_question(&S, "merging"), "after artifact");
    given[core_schema_question(&S, "merging")] = 0;
    ZT_CHECK(core_schema_next(&S, given) == -1, "tree should be complete");
}

/* Zoobot's GZ2 schema (label_metadata.py gz2_ortho_pairs and
 * gz2_ortho_dependencies), written out here as the facts to check. */
static void gz2_is_zoobots_gz2_schema(void)
{
    static const char *const cols[30] = {
        "smooth-or-featured-gz2_smooth", "smooth-or-featured-gz2_featured-or-disk", "smooth-or-featured-gz2_artifact",
        "disk-edge-on-gz2_yes", "disk-edge-on-gz2_no", "has-spiral-arms-gz2_yes", "has-spiral-arms-gz2_no",
        "bar-gz2_yes", "bar-gz2_no", "bulge-size-gz2_dominant", "bulge-size-gz2_obvious",
        "bulge-size-gz2_just-noticeable", "bulge-size-gz2_no", "something-odd-gz2_yes", "something-odd-gz2_no",
        "how-rounded-gz2_round", "how-rounded-gz2_in-between", "how-rounded-gz2_cigar", "bulge-shape-gz2_round",
        "bulge-shape-gz2_boxy", "bulge-shape-gz2_no-bulge", "spiral-winding-gz2_tight", "spiral-winding-gz2_medium",
        "spiral-winding-gz2_loose", "spiral-arm-count-gz2_1", "spiral-arm-count-gz2_2", "spiral-arm-count-gz2_3",
        "spiral-arm-count-gz2_4", "spiral-arm-count-gz2_more-than-4", "spiral-arm-count-gz2_cant-tell"};
    static const char *const deps[][2] = {
        {"smooth-or-featured-gz2", ""}, {"disk-edge-on-gz2", "smooth-or-featured-gz2_featured-or-disk"},
        {"has-spiral-arms-gz2", "smooth-or-featured-gz2_featured-or-disk"},
        {"bar-gz2", "smooth-or-featured-gz2_featured-or-disk"},
        {"bulge-size-gz2", "smooth-or-featured-gz2_featured-or-disk"}, {"how-rounded-gz2", "smooth-or-featured-gz2_smooth"},
        {"bulge-shape-gz2", "disk-edge-on-gz2_yes"}, {"spiral-winding-gz2", "has-spiral-arms-gz2_yes"},
        {"spiral-arm-count-gz2", "has-spiral-arms-gz2_yes"}, {"something-odd-gz2", ""}};
    ZT_OK(core_schema_builtin("gz2", &S));
    ZT_CHECK(S.n_questions == 10, "%d questions", S.n_questions);
    ZT_CHECK(core_schema_n_columns(&S) == 30, "%d columns", core_schema_n_columns(&S));
    char col[160];
    for (int i = 0; i < 30; i++) {
        ZT_OK(core_schema_column(&S, i, col, sizeof col, NULL, NULL));
        ZT_CHECK(strcmp(col, cols[i]) == 0, "column %d is %s, Zoobot's %s", i, col, cols[i]);
    }
    for (size_t i = 0; i < sizeof deps / sizeof deps[0]; i++)
        ZT_CHECK(strcmp(parent_of(&S, deps[i][0]), deps[i][1]) == 0, "%s hangs on '%s', Zoobot's on '%s'", deps[i][0],
                 parent_of(&S, deps[i][0]), deps[i][1]);
    /* the encoder's 37 Kaggle votes give each of the 30 its own column */
    int map[64];
    ZT_OK(core_schema_prior_map(&S, CORE_SCHEMA_KAGGLE_N, map));
    char kc[160];
    for (int i = 0; i < 30; i++) {
        ZT_OK(core_schema_kaggle_column(map[i], kc, sizeof kc, NULL));
        ZT_CHECK(strcmp(kc, cols[i]) == 0, "column %s takes Kaggle's %s", cols[i], kc);
    }
    ZT_CHECK(map[9] == core_schema_kaggle_index("Class5.4") && map[12] == core_schema_kaggle_index("Class5.1"),
             "bulge-size dominant..no are Kaggle's Class5.4..5.1 (%d, %d)", map[9], map[12]);
    ZT_CHECK(map[13] == core_schema_kaggle_index("Class6.1"), "something-odd_yes is Class6.1 (%d)", map[13]);
    ZT_CHECK(core_schema_prior_map(&S, 31, map) == -1, "a 31-column set maps to nothing");
    ZT_CHECK(core_schema_kaggle_index("Class11.6") == 36 && core_schema_kaggle_index("Class1.1") == 0 &&
             core_schema_kaggle_index("Class11.7") == -1 && core_schema_kaggle_index("Class01.1") == -1 &&
             core_schema_kaggle_index("Class1.1x") == -1, "ClassN.M parsing");
    ZT_OK(core_schema_builtin("gz-decals", &S));
    ZT_CHECK(core_schema_prior_map(&S, CORE_SCHEMA_KAGGLE_N, map) == -1, "gz-decals is not among the Kaggle answers");
}

static void gz2_kaggle_matches_the_kaggle_columns(void)
{
    ZT_OK(core_schema_builtin("gz2-kaggle", &S));
    ZT_CHECK(S.n_questions == 11, "%d questions", S.n_questions);
    ZT_CHECK(core_schema_n_columns(&S) == 37, "%d columns", core_schema_n_columns(&S));
    /* Kaggle classes 1..11 have 3,2,2,2,4,2,3,7,3,3,6 answers. */
    static const int n_answers[11] = {3, 2, 2, 2, 4, 2, 3, 7, 3, 3, 6};
    for (int i = 0; i < 11; i++) ZT_CHECK(S.q[i].n_answers == n_answers[i], "Class%d has %d", i + 1, S.q[i].n_answers);
    /* Kaggle's sums: Class2 under 1.2, Class3-5 under 2.2, Class7 under 1.1,
     * Class8 under 6.1, Class9 under 2.1, Class10-11 under 4.1, 1 and 6 free. */
    static const int pq[11] = {-1, 0, 1, 1, 1, -1, 0, 5, 1, 3, 3};
    static const int pa[11] = {-1, 1, 1, 1, 1, -1, 0, 0, 0, 0, 0};
    for (int i = 0; i < 11; i++)
        ZT_CHECK(S.q[i].parent_q == pq[i] && S.q[i].parent_a == pa[i], "Class%d parent %d.%d", i + 1,
                 S.q[i].parent_q + 1, S.q[i].parent_a + 1);
    char col[128];
    ZT_OK(core_schema_column(&S, 18, col, sizeof col, NULL, NULL));   /* Class8.1 = 3+2+2+2+4+2+3 */
    ZT_CHECK(strcmp(col, "odd-feature-gz2_ring") == 0, "Class8.1 is %s", col);
    for (int k = 0; k < CORE_SCHEMA_KAGGLE_N; k++) {
        char kc[160];
        ZT_OK(core_schema_column(&S, k, col, sizeof col, NULL, NULL));
        ZT_OK(core_schema_kaggle_column(k, kc, sizeof kc, NULL));
        ZT_CHECK(strcmp(col, kc) == 0, "Kaggle column %d: %s, gz2-kaggle %s", k, kc, col);
    }
    ZT_CHECK(strcmp(S.prior, "votes") == 0, "gz2-kaggle starts from the votes set: '%s'", S.prior);
}

static void ring_and_interest_are_built_in(void)
{
    ZT_OK(core_schema_builtin("ring", &S));
    ZT_CHECK(S.n_questions == 1 && S.q[0].n_answers == 2, "ring shape");
    char col[64];
    ZT_OK(core_schema_column(&S, 0, col, sizeof col, NULL, NULL));
    ZT_CHECK(strcmp(col, "ring_yes") == 0, "%s", col);
    ZT_OK(core_schema_column(&S, 1, col, sizeof col, NULL, NULL));
    ZT_CHECK(strcmp(col, "ring_no") == 0, "%s", col);
    ZT_OK(core_schema_builtin("interest", &S));
    ZT_CHECK(S.kind == CORE_TASK_RATING && S.rating_min == 0 && S.rating_max == 5, "interest");
    ZT_CHECK(core_schema_next(&S, NULL) == -1, "a rating has no questions");
    ZT_CHECK(core_schema_builtin("nope", &S) == -1, "unknown built-in");
    int n = 0;
    while (core_schema_builtin_names[n]) n++;
    ZT_CHECK(n == 5, "%d built-in names (gz-decals, gz2, gz2-kaggle, ring, interest)", n);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ZT_CHECK(f != NULL, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static void a_custom_file_parses(void)
{
    write_file("bars.schema",
               "# my own tree\n"
               "task bars\n"
               "question shape \"Is it smooth or \\\"featured\\\"?\"\n"
               "  answer smooth \"Smooth\"   # a comment\n"
               "  answer featured \"Features\"\n"
               "\n"
               "question bar \"Any bar?\" requires shape_featured\n"
               "  answer yes\n"
               "  answer no \"No bar\"\n"
               "  answer cant-tell \"Can't tell\"\n");
    char err[256];
    int rc = core_schema_resolve("bars.schema", &S, err, sizeof err);
    ZT_CHECK(rc == 0, "%s", err);
    ZT_CHECK(strcmp(S.name, "bars") == 0, "name %s", S.name);
    ZT_CHECK(S.n_questions == 2 && core_schema_n_columns(&S) == 5, "%d q %d cols", S.n_questions, core_schema_n_columns(&S));
    ZT_CHECK(strcmp(S.q[0].text, "Is it smooth or \"featured\"?") == 0, "text %s", S.q[0].text);
    ZT_CHECK(strcmp(S.q[1].answers[0].text, "yes") == 0, "default text %s", S.q[1].answers[0].text);
    ZT_CHECK(S.q[1].parent_q == 0 && S.q[1].parent_a == 1, "bar requires shape_featured");
    int given[CORE_SCHEMA_MAX_Q] = {0};
    for (int i = 0; i < CORE_SCHEMA_MAX_Q; i++) given[i] = -1;
    ZT_CHECK(core_schema_next(&S, given) == 0, "first question");
    given[0] = 0;
    ZT_CHECK(core_schema_next(&S, given) == -1, "smooth ends the tree");
    given[0] = 1;
    ZT_CHECK(core_schema_next(&S, given) == 1, "featured asks bar");

    /* A yes/no task can name the column it starts from. */
    write_file("lens.txt", "task lens\nquestion lens \"Is there a lens?\"\n answer yes\n answer no\nprior votes:Class8.2  # lens or arc\n");
    ZT_OK(core_schema_load_file("lens.txt", &S, err, sizeof err));
    ZT_CHECK(strcmp(S.prior, "votes:Class8.2") == 0, "prior '%s'", S.prior);
    ZT_OK(core_schema_builtin("ring", &S));
    ZT_CHECK(strcmp(S.prior, "votes:Class8.1") == 0, "ring's prior '%s'", S.prior);
    ZT_OK(core_schema_builtin("gz2", &S));
    ZT_CHECK(strcmp(S.prior, "votes") == 0, "gz2 starts from the whole votes set: '%s'", S.prior);
    ZT_OK(core_schema_builtin("gz-decals", &S));
    ZT_CHECK(S.prior[0] == 0, "gz-decals has no prior set (its answers are not GZ2's): '%s'", S.prior);
    write_file("tree.txt", "task tree\nprior mine\nquestion a\n answer x\n answer y\nquestion b\n answer p\n answer q\n");
    ZT_OK(core_schema_load_file("tree.txt", &S, err, sizeof err));
    ZT_CHECK(strcmp(S.prior, "mine") == 0, "a tree's prior set '%s'", S.prior);

    /* Without a task line the name comes from the file name; rating tasks. */
    write_file("stars.txt", "rating 1 5\n");
    ZT_OK(core_schema_load_file("stars.txt", &S, err, sizeof err));
    ZT_CHECK(strcmp(S.name, "stars") == 0 && S.kind == CORE_TASK_RATING && S.rating_max == 5, "%s", S.name);

    /* A UTF-8 byte-order mark (Windows editors write one) is not a statement. */
    write_file("bom.txt", "\xef\xbb\xbftask bom\nquestion a\n answer x\n answer y\n");
    ZT_CHECK(core_schema_load_file("bom.txt", &S, err, sizeof err) == 0 && strcmp(S.name, "bom") == 0, "BOM: %s", err);

    /* The longest path: 16 unconditional questions fit an answer, 17 do not;
     * branches count only the one taken. */
    char tree[4096];
    size_t n = 0;
    for (int q = 0; q < 17; q++) n += (size_t)snprintf(tree + n, sizeof tree - n, "question q%d\n answer y\n answer n\n", q);
    write_file("long.txt", tree);
    ZT_CHECK(core_schema_load_file("long.txt", &S, err, sizeof err) == -1 &&
             strstr(err, "long.txt:1: a galaxy can be asked 17 questions in this tree; an answer holds at most 16"), "%s", err);
    write_file("long.txt", tree + strlen("question q0\n answer y\n answer n\n"));
    ZT_CHECK(core_schema_load_file("long.txt", &S, err, sizeof err) == 0, "16 questions: %s", err);
    ZT_CHECK(core_schema_longest_path(&S) == 16, "longest %d", core_schema_longest_path(&S));
    write_file("branch.txt", "question a\n answer x\n answer y\nquestion b requires a_x\n answer p\n answer q\n"
                             "question c requires a_x\n answer p\n answer q\nquestion d requires a_y\n answer p\n answer q\n"
                             "question e requires b_p\n answer p\n answer q\n");
    ZT_OK(core_schema_load_file("branch.txt", &S, err, sizeof err));
    ZT_CHECK(core_schema_longest_path(&S) == 4, "a, b, e and c: %d", core_schema_longest_path(&S));
}

/* Each bad file gives "FILE:LINE: reason" with the right line. */
static void bad_files_name_file_and_line(void)
{
    static const struct { const char *text, *want; } cases[] = {
        {"question a \"A\"\n  answer x\n  answer y\nquestion b requires a_z\n  answer p\n  answer q\n", "bad.schema:4: "},
        {"question a\n  answer x\n", "bad.schema:1: question 'a' has 1 answer"},
        {"  answer x\n", "bad.schema:1: 'answer' before"},
        {"question a_b\n", "bad.schema:1: question key 'a_b'"},
        {"# c\nquestion a \"unterminated\n", "bad.schema:2: unterminated"},
        {"question a\n answer x\n answer y\nfrobnicate\n", "bad.schema:4: unknown statement 'frobnicate'"},
        {"question a\n answer x\n answer x\n", "bad.schema:3: answer 'x' appears twice"},
        {"question a\n answer x\n answer y\nquestion a\n answer x\n answer y\n", "bad.schema:4: question 'a' defined twice"},
        {"question b requires a_x\n answer x\n answer y\nquestion a\n answer x\n answer y\n", "bad.schema:1: 'requires a_x'"},
        {"# nothing\n", "bad.schema:1: no questions"},
        {"rating 5 1\n", "bad.schema:1: 'rating 5 1'"},
        {"rating 0 10\n", "bad.schema:1: 'rating 0 10': need integers 0 <= MIN < MAX <= 5"},
        {"task pca\nquestion a\n answer x\n answer y\n", "bad.schema:1: task name 'pca' is reserved"},
        {"task -x\nquestion a\n answer x\n answer y\n", "bad.schema:1: task name '-x' starts with '-'"},
        {"question q\xc3\xa9\n answer x\n answer y\n", "bad.schema:1: question key 'q...': byte 0xc3 not allowed"},
        {"question q\x1b[31m\n answer x\n answer y\n", "bad.schema:1: question key 'q...': byte 0x1b not allowed"},
        {"question a\n answer a1\n answer a2\n answer a3\n answer a4\n answer a5\n answer a6\n answer a7\n answer a8\n"
         " answer a9\n answer a10\n answer a11\n", "bad.schema:12: question 'a' has more than 10 answers (the labeler's keys"},
        {"task ring\nquestion a\n answer x\n answer y\n", "is a built-in task"},
        {"prior votes:Class8.1\nquestion a\n answer x\n answer y\n answer z\n", "bad.schema:1: 'prior votes:Class8.1' (SET:COLUMN) is for a task of one yes/no question (this one has more than 2 answers"},
        {"question a\n answer x\n answer y\nquestion b\n answer x\n answer y\nprior votes:Class8.1\n", "bad.schema:7: 'prior votes:Class8.1' (SET:COLUMN) is for a task of one yes/no question (this one has several questions"},
        {"rating 0 5\nprior votes\n", "bad.schema:2: 'prior' is not for a rating task"},
        {"question a\n answer x\n answer y\nprior votes:\n", "bad.schema:4: 'prior' needs SET:COLUMN"},
        {"question a\n answer x\n answer y\nprior \"votes:Class8.1\"\n", "bad.schema:4: 'prior' needs SET:COLUMN"},
        {"question a\n answer x\n answer y\nprior a:b\nprior a:c\n", "bad.schema:5: second 'prior' line"},
        {"question a\n answer x\n answer y\nprior a:b c\n", "bad.schema:4: unexpected text after 'prior a:b'"},
    };
    char err[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file("bad.schema", cases[i].text);
        int rc = core_schema_load_file("bad.schema", &S, err, sizeof err);
        ZT_CHECK(rc == -1, "case %zu parsed", i);
        ZT_CHECK(strstr(err, cases[i].want) != NULL, "case %zu: got \"%s\", want \"%s\"", i, err, cases[i].want);
    }
    int rc = core_schema_resolve("no-such-file.schema", &S, err, sizeof err);
    ZT_CHECK(rc == -1 && strstr(err, "no-such-file.schema") && strstr(err, "gz-decals"), "%s", err);
}

const zt_case zt_suite_schema[] = {
    {"gz-decals has 10 questions and 34 unique columns", decals_has_10_questions_34_answers, 0},
    {"gz-decals dependencies are Zoobot's", decals_dependencies_match_zoobot, 0},
    {"walking gz-decals asks the questions the answers lead to", walking_decals_follows_the_answers, 0},
    {"gz2 is Zoobot's GZ2 schema: 30 columns, its order and dependencies", gz2_is_zoobots_gz2_schema, 0},
    {"gz2-kaggle has the 37 Kaggle columns in order with their dependencies", gz2_kaggle_matches_the_kaggle_columns, 0},
    {"ring and interest are built in", ring_and_interest_are_built_in, 0},
    {"a custom schema file parses and walks", a_custom_file_parses, 0},
    {"bad schema files give FILE:LINE messages", bad_files_name_file_and_line, 0},
    {0},
};
