/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Watching the processes of a tenant segment, so that one that exits, even
 * by SIGKILL, gives its reservations back at once: a pidfd per slot (it
 * cannot outlive or mistake its process), polled together with whatever
 * else the caller waits for. Used by `cuslice run` and by cusliced.
 */
#pragma once

#include <poll.h>

#include "policy/segment.h"

struct proc_watch;

struct proc_watch *proc_watch_new(struct cuslice_segment *seg);
struct proc_watch *proc_watch_free(struct proc_watch *w);

/* Picks up processes that registered since, and gives back what processes
 * already gone held. Cheap: run it every few tens of milliseconds. */
void proc_watch_scan(struct proc_watch *w);

/* Adds a pollfd (POLLIN) per watched process to `fds`, at most `max`;
 * returns how many. */
int proc_watch_fds(struct proc_watch *w, struct pollfd *fds, int max);

/* Gives back what the processes whose pidfds in `fds[0..n)` turned readable held. */
void proc_watch_reap(struct proc_watch *w, const struct pollfd *fds, int n);
