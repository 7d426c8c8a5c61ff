/*
 * fuzz_schema.c - fuzz target: the schema text format (core_schema_parse).
 * A parsed schema must be usable: its columns name "<q>_<a>", parents point
 * to earlier questions, and walking it with core_schema_next ends.
 */
#include "core/schema.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT) return 0;
    char *text = fuzz_strdup(data, size);
    static core_schema fsch_s;
    char err[256];
    if (core_schema_parse(text, "fuzz.schema", &fsch_s, err, sizeof err) == 0) {
        int n = core_schema_n_columns(&fsch_s);
        char col[128];
        for (int i = 0; i < n; i++) {
            int q, a;
            if (core_schema_column(&fsch_s, i, col, sizeof col, &q, &a) != 0 || !strchr(col, '_')) abort();
        }
        for (int q = 0; q < fsch_s.n_questions; q++)
            if (fsch_s.q[q].parent_q >= q || fsch_s.q[q].n_answers < 2) abort();
        int given[CORE_SCHEMA_MAX_Q];
        for (int i = 0; i < CORE_SCHEMA_MAX_Q; i++) given[i] = -1;
        int steps = 0, q;
        while ((q = core_schema_next(&fsch_s, given)) >= 0) {
            if (++steps > CORE_SCHEMA_MAX_Q) abort();
            given[q] = steps % fsch_s.q[q].n_answers;
        }
    } else if (strncmp(err, "fuzz.schema:", 12) != 0) {
        abort();   /* every error names the file and line */
    }
    free(text);
    return 0;
}
