/*
 * t_fuzzreplay.c - `make test` replays every saved fuzz input.
 *
 * Each fuzz target tests/fuzz/fuzz_NAME.c is #included here with its entry
 * point renamed, so the gcc build (and `make SANITIZE=address test`) runs the
 * very code libFuzzer ran.  For every target, every file in
 * tests/fuzz/seeds/NAME/ (small hand-made inputs) and tests/fuzz/regress/NAME/
 * (each crash, hang or out-of-memory input `make fuzz` ever found, kept
 * forever, as libsixel's tests/issue/) is replayed in its own forked process
 * with a time limit: a signal, a non-zero exit or a timeout fails the case
 * and names the file.
 */
#include "tests/zt.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LLVMFuzzerTestOneInput fuzz_one_image
#include "tests/fuzz/fuzz_image.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_catalog
#include "tests/fuzz/fuzz_catalog.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_feat_csv
#include "tests/fuzz/fuzz_feat_csv.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_feat_npy
#include "tests/fuzz/fuzz_feat_npy.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_feat_hdf5
#include "tests/fuzz/fuzz_feat_hdf5.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_safetensors
#include "tests/fuzz/fuzz_safetensors.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_schema
#include "tests/fuzz/fuzz_schema.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_term
#include "tests/fuzz/fuzz_term.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_keys
#include "tests/fuzz/fuzz_keys.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_store
#include "tests/fuzz/fuzz_store.c"
#undef LLVMFuzzerTestOneInput

typedef int (*fr_fn)(const uint8_t *, size_t);

#define FR_FILE_TIMEOUT_S 20

/* Replays one file in a child process; 0 when it returned normally, else a
 * description of what happened in why. */
static int fr_replay_file(fr_fn fn, const char *path, char *why, size_t wlen)
{
    size_t len = 0;
    char *buf = zt_slurp(path, &len);
    if (!buf) { snprintf(why, wlen, "cannot read: %s", strerror(errno)); return -1; }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) { free(buf); snprintf(why, wlen, "fork: %s", strerror(errno)); return -1; }
    if (pid == 0) {
        alarm(FR_FILE_TIMEOUT_S);
        /* stderr of the parsers (libhdf5, cfitsio) is noise here */
        if (!freopen("/dev/null", "w", stderr)) _exit(99);
        fn((const uint8_t *)buf, len);
        _exit(0);
    }
    free(buf);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
    if (WIFSIGNALED(st))
        snprintf(why, wlen, "%s", WTERMSIG(st) == SIGALRM ? "hang (over 20 s)" : strsignal(WTERMSIG(st)));
    else
        snprintf(why, wlen, "exit status %d", WEXITSTATUS(st));
    return -1;
}

/* Replays every file of seeds/NAME and regress/NAME; returns how many files
 * there were, fails the case at the first one that crashes. */
static int fr_replay_target(const char *name, fr_fn fn)
{
    static const char *const dirs[] = {"seeds", "regress"};
    int n = 0;
    for (int d = 0; d < 2; d++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/tests/fuzz/%s/%s", ZT_ROOT, dirs[d], name);
        DIR *dp = opendir(dir);
        if (!dp) continue;
        struct dirent *e;
        while ((e = readdir(dp))) {
            if (e->d_name[0] == '.') continue;
            char path[8192], why[128];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (fr_replay_file(fn, path, why, sizeof why))
                zt_fail_at(__FILE__, __LINE__, "%s: %s", path, why);
            n++;
        }
        closedir(dp);
    }
    return n;
}

#define FR_CASE(NAME, MIN) \
    static void fr_##NAME(void) { \
        int n = fr_replay_target(#NAME, fuzz_one_##NAME); \
        if ((MIN) == 0 && n == 0) zt_skip("no saved inputs for " #NAME " yet"); \
        ZT_CHECK(n >= (MIN), "only %d inputs under tests/fuzz/*/" #NAME, n); \
    }
FR_CASE(image, 3)
FR_CASE(catalog, 2)
FR_CASE(feat_csv, 2)
FR_CASE(feat_npy, 2)
#ifdef __SANITIZE_THREAD__
/* Under ThreadSanitizer the input that makes libhdf5 memcpy ~1.5 TB does
 * not crash its reader child quickly: TSan walks the shadow of the whole
 * range (a hang, not a finding); the plain and ASan builds replay it. */
static void fr_feat_hdf5(void) { zt_skip("HDF5 replays are left to the plain and ASan builds under TSan"); }
#else
FR_CASE(feat_hdf5, 1)
#endif
FR_CASE(safetensors, 2)
FR_CASE(schema, 2)
FR_CASE(term, 2)
FR_CASE(keys, 1)
FR_CASE(store, 1)

/* The replay must be able to fail: an input that crashes is reported. */
static int fr_crasher(const uint8_t *data, size_t size)
{
    if (size >= 4 && memcmp(data, "BOOM", 4) == 0) abort();
    return 0;
}
static void fr_catches_a_crash(void)
{
    FILE *f = fopen("boom.bin", "wb");
    ZT_CHECK(f != NULL, "cannot write boom.bin");
    fputs("BOOM!", f);
    fclose(f);
    char why[128] = "";
    ZT_CHECK(fr_replay_file(fr_crasher, "boom.bin", why, sizeof why) != 0, "a crash went unnoticed");
    ZT_CHECK(strstr(why, "Abort") || strstr(why, "abort"), "why = %s", why);
    f = fopen("calm.bin", "wb");
    fputs("calm", f);
    fclose(f);
    ZT_CHECK(fr_replay_file(fr_crasher, "calm.bin", why, sizeof why) == 0, "why = %s", why);
}

const zt_case zt_suite_fuzzreplay[] = {
    {"a replayed input that crashes is caught and named", fr_catches_a_crash, 0},
    {"every saved PNG/JPEG/FITS input decodes or is refused without a crash", fr_image, 0},
    {"every saved catalog CSV input is read or refused without a crash", fr_catalog, 0},
    {"every saved features CSV input is read or refused without a crash", fr_feat_csv, 0},
    {"every saved .npy features input is read or refused without a crash", fr_feat_npy, 0},
    {"every saved HDF5 features input is read or refused without a crash", fr_feat_hdf5, 0},
    {"every saved safetensors input is read or refused without a crash", fr_safetensors, 0},
    {"every saved schema file input is parsed or refused without a crash", fr_schema, 0},
    {"every saved terminal reply input is parsed without a crash", fr_term, 0},
    {"every saved key remapping input is parsed without a crash", fr_keys, 0},
    {"every saved damaged store record is refused without a crash", fr_store, 0},
    {0}
};
