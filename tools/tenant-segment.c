/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy/procstat.h"
#include "policy/quota.h"
#include "tenant-segment.h"

#define SCAN_MS 50

struct watched {
	int pidfd; /* -1: none */
	pid_t pid;
	uint64_t start;
};

struct tenant_segment {
	int fd;
	struct cuslice_segment *seg;
	char path[64];
	struct watched watched[CUSLICE_MAX_PROCS];
};

struct tenant_segment *tenant_segment_new(uint32_t ndevices)
{
	struct tenant_segment *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->fd = memfd_create("cuslice-tenant", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (t->fd < 0 || ftruncate(t->fd, sizeof(struct cuslice_segment)) < 0)
		return tenant_segment_free(t);
	/* the size never changes, so a process that mapped it never faults */
	fcntl(t->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW);
	t->seg = mmap(NULL, sizeof(*t->seg), PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
	if (t->seg == MAP_FAILED) {
		t->seg = NULL;
		return tenant_segment_free(t);
	}
	quota_segment_init(t->seg, ndevices);
	snprintf(t->path, sizeof(t->path), "/proc/%d/fd/%d", (int)getpid(), t->fd);
	for (int i = 0; i < CUSLICE_MAX_PROCS; i++)
		t->watched[i].pidfd = -1;
	return t;
}

struct tenant_segment *tenant_segment_free(struct tenant_segment *t)
{
	if (!t)
		return NULL;
	for (int i = 0; i < CUSLICE_MAX_PROCS; i++)
		if (t->watched[i].pidfd >= 0)
			close(t->watched[i].pidfd);
	if (t->seg)
		munmap(t->seg, sizeof(*t->seg));
	if (t->fd >= 0)
		close(t->fd);
	free(t);
	return NULL;
}

struct cuslice_segment *tenant_segment_data(struct tenant_segment *t)
{
	return t->seg;
}

const char *tenant_segment_path(struct tenant_segment *t)
{
	return t->path;
}

static int start_time(pid_t pid, uint64_t *ret)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	return policy_stat_start_time(buf, ret);
}

static int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* A slot's process: watch it with a pidfd, which cannot outlive or mistake
 * it; one already gone (or whose pid now names another process) is
 * reclaimed on the spot. */
static void watch(struct tenant_segment *t, int i, pid_t pid, uint64_t start)
{
	struct watched *w = &t->watched[i];
	uint64_t now;

	if (w->pidfd >= 0 && w->pid == pid && w->start == start)
		return;
	if (w->pidfd >= 0)
		close(w->pidfd);
	*w = (struct watched){.pidfd = pidfd_open(pid), .pid = pid, .start = start};
	/* checked after the pidfd is open: the pidfd then names this very process */
	if (start_time(pid, &now) < 0 || now != start) {
		quota_proc_reclaim(t->seg, &t->seg->procs[i], pid, start);
		if (w->pidfd >= 0)
			close(w->pidfd);
		w->pidfd = -1;
	}
	/* without pidfds (old kernels) the next scan checks again */
}

static void scan(struct tenant_segment *t)
{
	for (int i = 0; i < CUSLICE_MAX_PROCS; i++) {
		struct cuslice_proc *p = &t->seg->procs[i];
		pid_t pid = __atomic_load_n(&p->pid, __ATOMIC_ACQUIRE);
		uint64_t start = __atomic_load_n(&p->start_time, __ATOMIC_ACQUIRE);
		if (pid > 0)
			watch(t, i, pid, start);
	}
}

static void reap_exited(struct tenant_segment *t, const struct pollfd *fds, const int *index, int n)
{
	for (int k = 0; k < n; k++) {
		if (!(fds[k].revents & (POLLIN | POLLHUP)))
			continue;
		struct watched *w = &t->watched[index[k]];
		quota_proc_reclaim(t->seg, &t->seg->procs[index[k]], w->pid, w->start);
		close(w->pidfd);
		w->pidfd = -1;
	}
}

int tenant_segment_wait(struct tenant_segment *t, pid_t child)
{
	static struct pollfd fds[CUSLICE_MAX_PROCS + 1];
	static int index[CUSLICE_MAX_PROCS];
	int status, child_fd = pidfd_open(child);

	for (;;) {
		pid_t r = waitpid(child, &status, WNOHANG);
		if (r == child || (r < 0 && errno != EINTR))
			break;
		scan(t);
		int n = 0;
		for (int i = 0; i < CUSLICE_MAX_PROCS; i++)
			if (t->watched[i].pidfd >= 0) {
				fds[n] = (struct pollfd){.fd = t->watched[i].pidfd,
							 .events = POLLIN};
				index[n++] = i;
			}
		fds[n] = (struct pollfd){.fd = child_fd, .events = POLLIN};
		if (poll(fds, n + 1, SCAN_MS) > 0)
			reap_exited(t, fds, index, n);
	}
	if (child_fd >= 0)
		close(child_fd);
	return status;
}
