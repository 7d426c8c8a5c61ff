/*
 * zt_ws.h - fixtures shared by the suites that drive the labeling rules on a
 * real workspace (t_session, t_answers, t_label): a workspace of n galaxies
 * "G0001".. with synthetic 32x32 thumbnails, a built-in schema, and a
 * session opened as a given user.  Static inline: each suite takes what it
 * uses.
 */
#ifndef ZOOSH_TESTS_ZT_WS_H
#define ZOOSH_TESTS_ZT_WS_H

#include <stdint.h>
#include <stdio.h>

#include "core/schema.h"
#include "core/session.h"
#include "store/store.h"
#include "tests/zt.h"

static inline int zt_ws_fill(zs_txn *txn, void *vn)
{
    int n = *(const int *)vn;
    uint8_t px[32 * 32 * 3];
    for (int i = 1; i <= n; i++) {
        char id[32];
        snprintf(id, sizeof id, "G%04d", i);
        store_galaxy g = {.id_str = id, .file = "none.png", .ra = 10.0 + i, .dec = -1.0};
        uint32_t gid;
        int created;
        int rc = store_galaxy_put(txn, &g, &gid, &created);
        if (rc) return rc;
        for (int p = 0; p < 32 * 32; p++) {
            px[3 * p] = (uint8_t)(p % 32 * 8);
            px[3 * p + 1] = (uint8_t)(p / 32 * 8);
            px[3 * p + 2] = (uint8_t)i;
        }
        rc = store_thumb_put(txn, gid, 32, 32, px);
        if (rc) return rc;
    }
    return 0;
}

/* A new workspace "ws" in the case's temp folder with n galaxies. */
static inline zs_store *make_ws(int n)
{
    zs_store *st;
    ZT_OK(store_open(&st, "ws", STORE_CREATE));
    ZT_OK(store_write(st, zt_ws_fill, &n));
    return st;
}

static inline core_schema schema_of(const char *name)
{
    core_schema s;
    ZT_CHECK(core_schema_builtin(name, &s) == 0, "no built-in %s", name);
    return s;
}

static inline core_session *open_as(zs_store *st, const core_schema *s, const char *user, int retire)
{
    core_session *ses;
    char err[256];
    core_session_opts o = {.user = user, .retire = retire};
    ZT_CHECK(core_session_open(&ses, st, s, &o, err, sizeof err) == 0, "open: %s", err);
    return ses;
}

#endif
