/*
 * trainer.c - one background thread running core_learn_run (see trainer.h).
 *
 * DESIGN (as redis bio.c): the UI thread and the trainer thread share one
 * struct guarded by `mu`.  The UI sets `want` (and `order`) and signals `cv`;
 * it never waits for a run, only takes `mu` for a few instructions.  The
 * trainer sleeps on `cv` until `want` or `stop`, copies the request under the
 * lock, runs core_learn_run WITHOUT the lock (it opens its own short LMDB
 * transactions on the shared zs_store; LMDB serialises writers, so a labeler
 * commit waits at most one short training transaction), then stores the
 * result and sets `done` under the lock.  The UI picks the result up on its
 * idle tick (tui_trainer_poll) and switches to the new queue there, so the
 * queue changes only between two galaxies.  `cancel` is the flag
 * core_learn_run polls between batches; tui_trainer_free raises it and joins.
 * The thread is created with every signal blocked: SIGINT/SIGTERM/SIGHUP/
 * SIGWINCH are the UI thread's.  The trainer never touches curses or libsixel.
 * ft_base / ft_every are set under `mu` before the first request and only
 * read by the trainer after it; `runs` is the trainer's alone.
 */
#include "tui/label/trainer.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/finetune.h"
#include "core/util.h"

struct tui_trainer {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    zs_store *st;               /* shared, thread-safe per LMDB's rules */
    char task[256];
    char features[STORE_FEATNAME_MAX + 1];  /* "" = the workspace default */
    char ft_base[4096];         /* the encoder to fine-tune from, "" = never (set before the first run) */
    int ft_every, runs;         /* fine-tune before every ft_every-th run; runs so far (trainer thread only) */
    /* guarded by mu */
    int want, running, stop, done, rc;
    char order[16];
    char err[256];
    core_model_info info;
    volatile int cancel;        /* read by core_learn_run without the lock */
};

static void *trainer_main(void *arg)
{
    tui_trainer *t = arg;
    pthread_mutex_lock(&t->mu);
    for (;;) {
        while (!t->want && !t->stop) pthread_cond_wait(&t->cv, &t->mu);
        if (t->stop) break;
        t->want = 0;
        t->running = 1;
        char order[sizeof t->order];
        memcpy(order, t->order, sizeof order);
        pthread_mutex_unlock(&t->mu);

        /* fine-tuning costs seconds to minutes: less often than the head,
         * only for a task that uses it with this base, cancelled like the
         * head's run */
        if (t->ft_base[0] && t->runs++ % t->ft_every == 0 && core_ft_in_use(t->st, t->task, t->ft_base)) {
            core_ft_opts fo;
            core_ft_opts_default(&fo);
            fo.task = t->task;
            fo.weights = t->ft_base;
            fo.threads = 1;
            fo.cancel = &t->cancel;
            core_ft_result fr;
            char ferr[256];
            core_ft_run(t->st, &fo, &fr, ferr, sizeof ferr);   /* a failure keeps the last encoder and set */
        }
        core_learn_opts o = {.task = t->task, .order = order[0] ? order : NULL,
                             .features = t->features[0] ? t->features : NULL, .seed = 1, .cancel = &t->cancel};
        core_model_info info;
        char err[256] = "";
        memset(&info, 0, sizeof info);
        int rc = core_learn_run(t->st, &o, &info, err, sizeof err);

        pthread_mutex_lock(&t->mu);
        t->running = 0;
        t->done = 1;
        t->rc = rc;
        t->info = info;
        memcpy(t->err, err, sizeof t->err);
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

int tui_trainer_new(tui_trainer **out, zs_store *st, const char *task, const char *features)
{
    tui_trainer *t = xcalloc(1, sizeof *t);
    t->st = st;
    snprintf(t->task, sizeof t->task, "%s", task);
    snprintf(t->features, sizeof t->features, "%s", features ? features : "");
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&t->th, NULL, trainer_main, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->cv);
        free(t);
        *out = NULL;
        return rc;
    }
    *out = t;
    return 0;
}

void tui_trainer_set_finetune(tui_trainer *t, const char *base, int every)
{
    pthread_mutex_lock(&t->mu);
    snprintf(t->ft_base, sizeof t->ft_base, "%s", base ? base : "");
    t->ft_every = every > 0 ? every : 1;
    pthread_mutex_unlock(&t->mu);
}

void tui_trainer_free(tui_trainer *t)
{
    if (!t) return;
    pthread_mutex_lock(&t->mu);
    t->stop = 1;
    t->cancel = 1;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->th, NULL);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t);
}

void tui_trainer_submit(tui_trainer *t, const char *order)
{
    pthread_mutex_lock(&t->mu);
    if (order) snprintf(t->order, sizeof t->order, "%s", order);
    t->want = 1;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

int tui_trainer_busy(tui_trainer *t)
{
    pthread_mutex_lock(&t->mu);
    int b = t->want || t->running;
    pthread_mutex_unlock(&t->mu);
    return b;
}

int tui_trainer_poll(tui_trainer *t, int *rc, core_model_info *info, char *err, size_t errlen)
{
    pthread_mutex_lock(&t->mu);
    int d = t->done;
    if (d) {
        t->done = 0;
        *rc = t->rc;
        *info = t->info;
        snprintf(err, errlen, "%s", t->err);
    }
    pthread_mutex_unlock(&t->mu);
    return d;
}
