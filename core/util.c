/*
 * util.c - allocation, clocks, random numbers (see util.h).
 */
#include "core/util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void (*fatal_hook)(void);

void core_set_fatal_hook(void (*hook)(void)) { fatal_hook = hook; }

void core_fatal(const char *fmt, ...)
{
    if (fatal_hook) fatal_hook();
    va_list ap;
    va_start(ap, fmt);
    fputs("zoosh: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(70);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) core_fatal("out of memory (%zu bytes)", n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) core_fatal("out of memory (%zu x %zu bytes)", n, size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) core_fatal("out of memory (%zu bytes)", n);
    return q;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

void core_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int64_t core_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

double core_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void core_rng_seed(core_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t core_rng_u64(core_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double core_rng_uniform(core_rng *r) { return (double)(core_rng_u64(r) >> 11) * 0x1.0p-53; }

double core_rng_normal(core_rng *r)
{
    double u1 = core_rng_uniform(r), u2 = core_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

uint32_t core_rng_below(core_rng *r, uint32_t n)
{
    return n ? (uint32_t)(((core_rng_u64(r) >> 32) * (uint64_t)n) >> 32) : 0;
}

double core_rng_poisson(core_rng *r, double lambda)
{
    if (lambda <= 0) return 0;
    if (lambda > 30) {   /* normal approximation: exact enough for pixel noise */
        double v = lambda + sqrt(lambda) * core_rng_normal(r);
        return v < 0 ? 0 : floor(v + 0.5);
    }
    double l = exp(-lambda), p = 1.0;
    int k = 0;
    do { k++; p *= core_rng_uniform(r); } while (p > l);
    return k - 1;
}

/* ---- string map */

static uint64_t strmap_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

void core_strmap_init(core_strmap *m, size_t n)
{
    m->cap = 16;
    while (m->cap < n * 2 + 16) m->cap *= 2;
    m->key = xcalloc(m->cap, sizeof(char *));
    m->val = xcalloc(m->cap, sizeof(int));
    m->n = 0;
}

void core_strmap_free(core_strmap *m) { free(m->key); free(m->val); memset(m, 0, sizeof *m); }

int core_strmap_put(core_strmap *m, const char *key, int val)
{
    if ((m->n + 1) * 2 > m->cap) {
        core_strmap old = *m;
        core_strmap_init(m, old.cap);
        for (size_t i = 0; i < old.cap; i++)
            if (old.key[i]) core_strmap_put(m, old.key[i], old.val[i]);
        core_strmap_free(&old);
    }
    size_t i = strmap_hash(key) & (m->cap - 1);
    while (m->key[i]) {
        if (strcmp(m->key[i], key) == 0) return m->val[i];
        i = (i + 1) & (m->cap - 1);
    }
    m->key[i] = key;
    m->val[i] = val;
    m->n++;
    return -1;
}

int core_strmap_get(const core_strmap *m, const char *key)
{
    if (!m->cap) return -1;
    size_t i = strmap_hash(key) & (m->cap - 1);
    while (m->key[i]) {
        if (strcmp(m->key[i], key) == 0) return m->val[i];
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}
