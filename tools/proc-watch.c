/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "policy/procstat.h"
#include "policy/quota.h"
#include "proc-watch.h"
#include "procfs.h"

struct watched {
	int pidfd; /* -1: none */
	pid_t pid;
	uint64_t start;
};

struct proc_watch {
	struct cuslice_segment *seg;
	struct watched slots[CUSLICE_MAX_PROCS];
};

struct proc_watch *proc_watch_new(struct cuslice_segment *seg)
{
	struct proc_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->seg = seg;
	for (int i = 0; i < CUSLICE_MAX_PROCS; i++)
		w->slots[i].pidfd = -1;
	return w;
}

struct proc_watch *proc_watch_free(struct proc_watch *w)
{
	for (int i = 0; w && i < CUSLICE_MAX_PROCS; i++)
		if (w->slots[i].pidfd >= 0)
			close(w->slots[i].pidfd);
	free(w);
	return NULL;
}

/* Start time and whether the process has exited (a zombie still has one). */
/* Start time and whether the process has exited (a zombie still has one). */
static int stat_of(pid_t pid, uint64_t *ret_start, bool *ret_exited)
{
	char buf[1024];
	int r = procfs_read(pid, "stat", buf, sizeof(buf));

	if (r < 0)
		return r;
	char state = policy_stat_state(buf);
	*ret_exited = state == 'Z' || state == 'X';
	return policy_stat_start_time(buf, ret_start);
}

static void forget(struct watched *s)
{
	if (s->pidfd >= 0)
		close(s->pidfd);
	*s = (struct watched){.pidfd = -1};
}

/* Checked after the pidfd is open, so the pidfd names this very process. */
static void watch(struct proc_watch *w, int i, pid_t pid, uint64_t start)
{
	struct watched *s = &w->slots[i];
	uint64_t now;
	bool exited;

	if (s->pid == pid && s->start == start && s->pidfd >= 0)
		return;
	forget(s);
	*s = (struct watched){
		.pidfd = (int)syscall(SYS_pidfd_open, pid, 0), .pid = pid, .start = start};
	if (stat_of(pid, &now, &exited) < 0 || now != start || exited) {
		quota_proc_reclaim(w->seg, &w->seg->procs[i], pid, start);
		forget(s);
	}
	/* without pidfds (old kernels) the next scan looks again */
}

void proc_watch_scan(struct proc_watch *w)
{
	for (int i = 0; i < CUSLICE_MAX_PROCS; i++) {
		struct cuslice_proc *p = &w->seg->procs[i];
		pid_t pid = __atomic_load_n(&p->pid, __ATOMIC_ACQUIRE);
		uint64_t start = __atomic_load_n(&p->start_time, __ATOMIC_ACQUIRE);
		if (pid > 0)
			watch(w, i, pid, start);
		else if (w->slots[i].pidfd >= 0)
			forget(&w->slots[i]); /* the process gave its slot back itself */
	}
}

int proc_watch_fds(struct proc_watch *w, struct pollfd *fds, int max)
{
	int n = 0;

	for (int i = 0; i < CUSLICE_MAX_PROCS && n < max; i++)
		if (w->slots[i].pidfd >= 0)
			fds[n++] = (struct pollfd){.fd = w->slots[i].pidfd, .events = POLLIN};
	return n;
}

void proc_watch_reap(struct proc_watch *w, const struct pollfd *fds, int n)
{
	for (int k = 0; k < n; k++) {
		if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		for (int i = 0; i < CUSLICE_MAX_PROCS; i++) {
			struct watched *s = &w->slots[i];
			if (s->pidfd != fds[k].fd)
				continue;
			quota_proc_reclaim(w->seg, &w->seg->procs[i], s->pid, s->start);
			forget(s);
			break;
		}
	}
}
