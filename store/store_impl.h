/*
 * store_impl.h - what the store's own files share; private to store/ (the
 * public interface is store.h alone).
 *
 *   store.c          the environment (open, close, map growth), transactions,
 *                    error codes and the thread's last error
 *   store_records.c  the record encodings and every per-database getter and
 *                    putter (meta, galaxies, thumbnails, features, priors,
 *                    answers, blobs)
 *   store_check.c    whole-file maintenance: the data.mdb length check at
 *                    open, store_check, store_backup, the page sanity test
 *                    and the damage marker
 *   store_salvage.c  store_salvage (check --repair)
 *
 * The locking rules (st->resize, tl_held) are store.c's DESIGN paragraph:
 * every transaction, and a backup's copy, holds st->resize as a reader
 * through store_impl_hold / store_impl_unhold.
 */
#ifndef ZOOSH_STORE_IMPL_H
#define ZOOSH_STORE_IMPL_H

#include "store/store.h"

#include <lmdb.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_MAGIC        "zoosh-workspace"
#define STORE_META_KEY     "zoosh"
#define REC_V1             1

enum { DB_META, DB_GALAXIES, DB_IDS, DB_THUMBS, DB_FEATSETS, DB_FEATURES,
       DB_PRIORS, DB_ANSWERS, DB_SCORES, DB_MODELS, DB_N };

struct zs_store {
    MDB_env *env;
    MDB_dbi dbi[DB_N];
    char *dir;
    unsigned flags;
    int readonly;
    int lockless;               /* read-only without the lock table (no permission on lock.mdb) */
    pthread_rwlock_t resize;    /* readers: open transactions; writer: map resize */
    int fd_data, fd_lock;       /* the files as store_open checked them (-1: none); closed after LMDB's */
    char damage[256];           /* why it opens for reading only (store_damage), "" when whole */
};

struct zs_txn {
    zs_store *st;
    MDB_txn *t;
    int write;
    int mapfull;                /* an operation hit MDB_MAP_FULL: store_write grows and re-runs */
    int layout;                 /* write: the magic's layout version once read (0: not yet) */
};

/* The handle of database `db` (DB_*) for this transaction's environment. */
static inline MDB_dbi D(zs_txn *txn, int db) { return txn->st->dbi[db]; }

/* Big-endian integer keys (gids, seqs) sort in numeric order under LMDB's memcmp. */
static inline void be32(unsigned char *k, uint32_t v) { k[0] = v >> 24; k[1] = v >> 16; k[2] = v >> 8; k[3] = (unsigned char)v; }
static inline uint32_t get_be32(const unsigned char *k) { return (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3]; }
static inline void be64(unsigned char *k, uint64_t v) { for (int i = 0; i < 8; i++) k[i] = (unsigned char)(v >> (56 - 8 * i)); }
static inline uint64_t get_be64(const unsigned char *k)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | k[i];
    return v;
}

/* ---- store.c */
/* Sets this thread's store_last_error text. */
void store_impl_set_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Maps an LMDB / errno code from `what` to ours, keeping the detail. */
int  store_impl_lmdb_rc(int rc, const char *what);
/* As store_impl_lmdb_rc, and records MDB_MAP_FULL on txn so store_write grows the map. */
int  store_impl_txn_rc(zs_txn *txn, int rc, const char *what);
/* Takes / drops st->resize as a reader for the life of a transaction (or a copy). */
void store_impl_hold(zs_store *st);
void store_impl_unhold(zs_store *st);
/* The layout version in a magic record "zoosh-workspace N"; -1 when the
 * record is not a zoosh magic at all. */
long store_impl_magic_layout(const MDB_val *v);
int  store_impl_path_exists(const char *p);
/* Bytes shown safely: printable ASCII as is, others as \xNN, cut with "...". */
void store_impl_show_bytes(char *out, size_t cap, const void *p, size_t n);

/* ---- store_records.c: decoders (STORE_ECORRUPT when a record does not parse) */
int  store_impl_gid_exists(zs_txn *txn, uint32_t gid);
/* Decodes into g (malloc'ed parts, store_galaxy_free). */
int  store_impl_galaxy_decode(const MDB_val *v, uint32_t gid, store_galaxy *g);
/* out may be NULL (check). */
int  store_impl_thumb_parse(const MDB_val *v, store_thumb *out);
/* dim and prov may be NULL; *prov malloc'ed. */
int  store_impl_featset_decode(const MDB_val *v, int *dim, char **prov);
/* store_answer_append for a record copied from another workspace
 * (store_salvage): A's uid (STORE_UID_NONE for a first-form record) and user
 * name are kept, not replaced by this process's. */
int  store_impl_answer_copy(zs_txn *txn, const store_answer *a, uint64_t *seq_out);
int  store_impl_answer_decode(const MDB_val *v, uint64_t seq, store_answer *a);

/* ---- store_check.c */
/* 0, or STORE_ECORRUPT when data.mdb (path `data`) is shorter than the pages
 * its meta page names; call right after mdb_env_open, before any other read. */
int  store_impl_check_length(zs_store *st, const char *data);
/* 0 when the workspace may be written: its magic parses (st->damage
 * empty), no failed check left its DAMAGED marker, and its B-tree pages
 * pass store_pages_sane; else STORE_ECORRUPT with the reason. */
int  store_impl_writable(zs_store *st, const char *data);

#endif
