/*
 * trainer.h - the labeler's background retrain: one thread that runs
 * core_learn_run (train the head, re-rank the queue, store both) on the
 * labeler's own zs_store while the user keeps labeling.  The UI submits and
 * never waits; it learns that a run finished by polling on its idle tick.
 */
#ifndef ZOOSH_TUI_TRAINER_H
#define ZOOSH_TUI_TRAINER_H

#include <stddef.h>

#include "core/learn.h"
#include "store/store.h"

typedef struct tui_trainer tui_trainer;

/* Starts the thread (idle until a run is submitted).  task is the schema name
 * or file given to core_learn_run, features its feature set (NULL = the
 * workspace default, read again at each run).  Returns 0 or an errno. */
int  tui_trainer_new(tui_trainer **out, zs_store *st, const char *task, const char *features);
/* Fine-tunes the task's encoder from base (core_ft_run, one thread) before
 * every `every`-th run, when the task uses a fine-tuned set (zoosh train
 * --finetune); base NULL = never (the default).  Call before the first
 * submit. */
void tui_trainer_set_finetune(tui_trainer *t, const char *base, int every);
/* Stops it: asks a running core_learn_run to cancel and joins.  NULL is a no-op. */
void tui_trainer_free(tui_trainer *t);
/* Asks for a run with this queue order (NULL = the last one); never blocks
 * on training.  Requests made while a run is going coalesce into one more run. */
void tui_trainer_submit(tui_trainer *t, const char *order);
/* 1 while a run is going or waiting to start. */
int  tui_trainer_busy(tui_trainer *t);
/* 1 when a run finished since the last poll: *rc is its status (0 ok),
 * *info its model and err its reason on failure.  0 otherwise. */
int  tui_trainer_poll(tui_trainer *t, int *rc, core_model_info *info, char *err, size_t errlen);

#endif
