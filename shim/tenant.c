/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tenant's shared segment, seen from one of its processes: mapping it
 * (CUSLICE_SEGMENT names it), holding this process's slot, giving back the
 * reservations of processes that died, and this process's own at exit.
 *
 * Without CUSLICE_SEGMENT the process has no quota and nothing here runs.
 * With one that cannot be used, the shim refuses CUDA: never unlimited.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "policy/procstat.h"
#include "policy/quota.h"
#include "shim.h"
#include "tenant.h"

static pthread_once_t attach_once = PTHREAD_ONCE_INIT;
static int attach_status;
static bool from_daemon;
static struct cuslice_segment *segment;
static struct cuslice_board *board;

/* This process's slot; NULL in a forked child until it first reserves. */
static struct cuslice_proc *self;
static pid_t self_pid;
static uint64_t self_start;
static pthread_mutex_t self_lock = PTHREAD_MUTEX_INITIALIZER;

/* start time of `pid`, and whether it has exited (a zombie still has one). */
static int read_stat(pid_t pid, uint64_t *ret_start, bool *ret_exited)
{
	char path[64], buf[1024];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	*ret_exited = policy_stat_state(buf) == 'Z' || policy_stat_state(buf) == 'X';
	return policy_stat_start_time(buf, ret_start);
}

int tenant_start_time(pid_t pid, uint64_t *ret)
{
	bool exited;
	return read_stat(pid, ret, &exited);
}

/* Maps the segment behind `fd` (an open that failed: -1, errno set) and closes it. */
static int map_segment(int fd)
{
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size < 3 * sizeof(uint32_t)) {
		close(fd);
		return -EMSGSIZE;
	}
	/* An older daemon's segment maps whole too: its `size` says what may be
	 * touched, and a newer daemon that adopts it grows the file before it
	 * says more, so a running process never reads past what it mapped. */
	size_t len = (size_t)st.st_size > sizeof(struct cuslice_segment)
			     ? (size_t)st.st_size
			     : sizeof(struct cuslice_segment);
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	int r = quota_segment_check(p, st.st_size);
	if (r < 0) {
		munmap(p, len);
		return r;
	}
	segment = p;
	return 0;
}

/* The node's board, if it is one; without it, this process does not hold
 * for latency-critical tenants, nor tells others to hold for it. */
static void map_board(int fd)
{
	struct stat st;

	if (fd < 0)
		return;
	void *p = MAP_FAILED;
	/* a board without turns maps whole too: its `size` says what may be
	 * touched, and a restarted daemon grows the file before it says more */
	if (fstat(fd, &st) == 0 && (size_t)st.st_size >= CUSLICE_BOARD_SIZE_V1)
		p = mmap(NULL, sizeof(struct cuslice_board), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 0);
	close(fd);
	if (p == MAP_FAILED)
		return;
	struct cuslice_board *b = p;
	if (__atomic_load_n(&b->magic, __ATOMIC_ACQUIRE) != CUSLICE_BOARD_MAGIC ||
	    b->version != CUSLICE_BOARD_VERSION) {
		munmap(p, sizeof(*b));
		return;
	}
	board = b;
}

/* Where a daemon hands out segments, ask it; else there is no quota. */
static void attach_daemon(void)
{
	int fd, board_fd;

	attach_status = client_register(&fd, &board_fd);
	map_board(board_fd);
	if (attach_status < 0 || fd < 0)
		return;
	attach_status = map_segment(fd);
	from_daemon = attach_status == 0;
	if (attach_status < 0)
		shim_log("cannot map the segment cusliced sent: %s; CUDA is disabled",
			 strerror(-attach_status));
	else if (!tenant_self())
		attach_status = -EUSERS;
}

/* Where cusliced runs, its quotas are the ones that hold: a segment named in
 * the environment, which the tenant could make itself, is not used. */
static bool daemon_present(void)
{
	return shim_config.socket_path || access("/run/cuslice/tenant.sock", F_OK) == 0;
}

static void attach(void)
{
	const char *path = shim_config.segment_path;
	int r;

	if (daemon_present()) {
		if (path)
			shim_log("CUSLICE_SEGMENT is ignored: cusliced manages this machine's "
				 "quotas");
		attach_daemon();
		return;
	}
	if (!path)
		return;
	r = map_segment(open(path, O_RDWR | O_CLOEXEC));
	if (r == -EPROTO)
		shim_log("CUSLICE_SEGMENT=\"%s\": a tenant segment of a version this shim does not "
			 "know; CUDA is disabled rather than run without the quota",
			 path);
	else if (r < 0)
		shim_log("CUSLICE_SEGMENT=\"%s\": cannot map the tenant segment: %s; CUDA is "
			 "disabled rather than run without the quota",
			 path, strerror(-r));
	if (r == 0 && !tenant_self()) {
		shim_log("CUSLICE_SEGMENT=\"%s\": all %d process slots of the tenant are taken; "
			 "CUDA is disabled in this process",
			 path, CUSLICE_MAX_PROCS);
		r = -EUSERS;
	}
	attach_status = r;
}

int tenant_attach(void)
{
	pthread_once(&attach_once, attach);
	return attach_status;
}

struct cuslice_board *tenant_board(void)
{
	return attach_status == 0 ? board : NULL;
}

bool tenant_from_daemon(void)
{
	return attach_status == 0 && from_daemon;
}

struct cuslice_segment *tenant_segment(void)
{
	return attach_status == 0 ? segment : NULL;
}

/* No syscall once claimed: after a fork, tenant_forget() clears the slot so
 * that the child claims its own. */
struct cuslice_proc *tenant_self(void)
{
	struct cuslice_proc *p = __atomic_load_n(&self, __ATOMIC_ACQUIRE);

	if (likely(p))
		return p;
	pthread_mutex_lock(&self_lock);
	if (!self) {
		pid_t pid = getpid();
		uint64_t start = 0;
		if (tenant_start_time(pid, &start) == 0) {
			self_pid = pid;
			self_start = start;
			__atomic_store_n(&self, quota_proc_claim(segment, pid, start),
					 __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&self_lock);
	return self;
}

void tenant_forget(void)
{
	self = NULL;
	pthread_mutex_init(&self_lock, NULL);
}

static bool proc_alive(pid_t pid, uint64_t start)
{
	uint64_t now;
	bool exited;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return false;
	return read_stat(pid, &now, &exited) == 0 && now == start && !exited;
}

uint64_t tenant_reap(void)
{
	uint64_t returned = 0;

	for (int i = 0; segment && i < CUSLICE_MAX_PROCS; i++) {
		struct cuslice_proc *p = &segment->procs[i];
		pid_t pid = __atomic_load_n(&p->pid, __ATOMIC_ACQUIRE);
		uint64_t start = __atomic_load_n(&p->start_time, __ATOMIC_ACQUIRE);
		if (pid <= 0 || p == self || proc_alive(pid, start))
			continue;
		returned += quota_proc_reclaim(segment, p, pid, start);
	}
	return returned;
}

/* At exit the driver frees this process's memory; the tenant gets it back now. */
void tenant_detach(void)
{
	if (segment && self && self_pid == getpid())
		quota_proc_reclaim(segment, self, self_pid, self_start);
	self = NULL;
}
