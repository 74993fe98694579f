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

#include "policy/quota.h"
#include "proc-watch.h"
#include "tenant-segment.h"

#define SCAN_MS 50

struct tenant_segment {
	int fd;
	struct cuslice_segment *seg;
	char path[64];
	struct proc_watch *watch;
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
	t->watch = proc_watch_new(t->seg);
	return t->watch ? t : tenant_segment_free(t);
}

struct tenant_segment *tenant_segment_free(struct tenant_segment *t)
{
	if (!t)
		return NULL;
	proc_watch_free(t->watch);
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

int tenant_segment_wait(struct tenant_segment *t, pid_t child)
{
	static struct pollfd fds[CUSLICE_MAX_PROCS + 1];
	int status, child_fd = (int)syscall(SYS_pidfd_open, child, 0);

	for (;;) {
		pid_t r = waitpid(child, &status, WNOHANG);
		if (r == child || (r < 0 && errno != EINTR))
			break;
		proc_watch_scan(t->watch);
		int n = proc_watch_fds(t->watch, fds, CUSLICE_MAX_PROCS);
		fds[n] = (struct pollfd){.fd = child_fd, .events = POLLIN};
		if (poll(fds, n + 1, SCAN_MS) > 0)
			proc_watch_reap(t->watch, fds, n);
	}
	if (child_fd >= 0)
		close(child_fd);
	return status;
}
