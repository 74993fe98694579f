/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Spatial sharing: per-GPU modes, SM partitions and the MPS servers.
 *
 * A GPU is time-sliced (the default), spatial (every tenant on SM groups of
 * its own, all of them clients of one MPS server so that they run at once)
 * or hybrid (high-priority tenants own SM groups that no one else runs on;
 * the others share the remaining groups and take turns on them by GPU time
 * as before). A high-priority tenant is held to its own groups: measured on
 * the H200 (bench/spatial), letting it also run on the shared groups made
 * its latency no better (1.32x either way beside a matmul on 100 SMs) or
 * worse (1.11x against 1.06x with 56 SMs of its own), as its kernels then
 * wait behind the best-effort tenant's there. Plans come
 * from policy/smplan.c on the driver's split (devices.c), keep grants in
 * force where they still fit, and land in the tenants' segments, where the
 * shim builds its green contexts from them (shim/partition.c).
 *
 * cusliced runs one MPS control daemon per such GPU, in the foreground as
 * its child (pipe and log directories under the runtime directory, the GPU
 * named by UUID), and starts it again when it dies. Under MPS a fatal fault
 * in one client ends every client of the server: the shim writes the fatal
 * error each process sees to its segment; on the first report the server is
 * killed and started afresh, so that new clients are served within a tick
 * or so even while the stricken ones linger, and the fault is reported with
 * the tenants it hit.
 * Tenants marked isolated never join an MPS server: they stay time-sliced.
 *
 * Which client caused a fault MPS does not say (see fault_seen()). Where
 * only one tenant was a client, it did. Where several were, each is put on
 * probation (--fault-probation, 10 minutes by default): its new processes
 * run in contexts of their own, out of the server, its SM groups kept for
 * it. A fault there hits no one else and is its own: that tenant is named as
 * the likely cause of the MPS fault and isolated, and the other suspects
 * rejoin the server at once; otherwise they all rejoin when the probation
 * ends. So a tenant whose fault recurs (a crash-looping pod) takes down its
 * neighbours once, not every time, and is named.
 */
#define _GNU_SOURCE
#include <cuda.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "policy/uuid.h"

#define RETRY_NS 1000000000ull	/* a control daemon that died at once: wait this long */
#define COMMAND_TIMEOUT_MS 2000 /* for `echo CMD | nvidia-cuda-mps-control` */
#define QUIT_TIMEOUT_MS 3000
#define FAULT_GAP_NS 1000000000ull /* reports this close to a fault are of that fault */
#define FAULT_SETTLE_NS 20000000ull
#define MOVE_SLOW_MS 1000 /* running processes not on their new SMs by then: said */

static const char *const mode_names[] = {
	[GPU_TIMESLICE] = "timeslice",
	[GPU_SPATIAL] = "spatial",
	[GPU_HYBRID] = "hybrid",
};

const char *spatial_mode_name(enum gpu_mode mode)
{
	return mode_names[mode];
}

int spatial_mode_parse(const char *text, enum gpu_mode *ret)
{
	for (size_t i = 0; text && i < sizeof(mode_names) / sizeof(*mode_names); i++)
		if (strcmp(text, mode_names[i]) == 0) {
			*ret = (enum gpu_mode)i;
			return 0;
		}
	return -EINVAL;
}

static bool allowed(const struct tenant *t, int g)
{
	return !t->gpus_set || (t->gpus >> g & 1);
}

/* Whether GPU g's MPS server is the tenant's: the first GPU not time-sliced
 * that it may use (an MPS client sees its server's GPU only). */
static bool member(const struct daemon *d, const struct tenant *t, int g)
{
	if (t->isolated || d->gpus[g].mode == GPU_TIMESLICE || !allowed(t, g))
		return false;
	for (int k = 0; k < g; k++)
		if (d->gpus[k].mode != GPU_TIMESLICE && allowed(t, k))
			return false;
	return true;
}

/* Whether the tenant's processes join GPU g's MPS server: its server, unless
 * it is on probation after a fault. */
static bool joins(const struct daemon *d, const struct tenant *t, int g)
{
	return member(d, t, g) && !t->probation;
}

/* Whether the tenant's ask gets SMs of its own on GPU g (kept for it while
 * it is on probation). */
static bool dedicated(const struct daemon *d, const struct tenant *t, int g)
{
	return member(d, t, g) && t->has_sm && (d->gpus[g].mode == GPU_SPATIAL || t->high);
}

/* The split GPU g's partitions are made of: the default one, or the fine
 * one where the admin chose it. */
static int layout_of(const struct daemon *d, int g, struct policy_sm_layout *ret)
{
	const struct device_info *dev = &d->devices[g];

	if (d->gpus[g].fine)
		return policy_sm_layout(dev->sm_total, dev->sm_fine_group, dev->sm_fine_groups,
					ret);
	return policy_sm_layout(dev->sm_total, dev->sm_group, dev->sm_groups, ret);
}

static uint32_t split_flags(const struct daemon *d, int g)
{
	return d->gpus[g].fine ? CU_DEV_SM_RESOURCE_SPLIT_IGNORE_SM_COSCHEDULING : 0;
}

const char *spatial_split_name(const struct daemon *d, int g)
{
	return d->gpus[g].fine ? "fine" : "coscheduled";
}

int spatial_split_parse(const char *text, bool *ret_fine)
{
	if (!text || (strcmp(text, "fine") != 0 && strcmp(text, "coscheduled") != 0))
		return -EINVAL;
	*ret_fine = strcmp(text, "fine") == 0;
	return 0;
}

int spatial_replan(struct daemon *d, char *err, size_t errlen)
{
	static struct policy_sm_grant plan[DAEMON_MAX_TENANTS][CUSLICE_MAX_DEVICES];
	struct policy_sm_ask asks[POLICY_SM_MAX_GROUPS + 1];
	struct policy_sm_grant prev[POLICY_SM_MAX_GROUPS + 1], got[POLICY_SM_MAX_GROUPS + 1];
	int who[POLICY_SM_MAX_GROUPS + 1];
	char why[512];

	memset(plan, 0, sizeof(plan));
	for (int g = 0; g < d->ndevices; g++) {
		struct policy_sm_layout l;
		int n = 0;
		if (d->gpus[g].mode == GPU_TIMESLICE)
			continue;
		if (layout_of(d, g, &l) < 0) {
			snprintf(err, errlen,
				 "GPU %d cannot be partitioned: its driver has no green "
				 "contexts (CUDA 12.4 or later)",
				 g);
			return -ENOTSUP;
		}
		for (int i = 0; i < d->ntenants; i++) {
			if (!dedicated(d, d->tenants[i], g))
				continue;
			if (n == POLICY_SM_MAX_GROUPS + 1) {
				snprintf(err, errlen,
					 "GPU %d: more tenants ask for SMs than it has "
					 "groups",
					 g);
				return -ENOSPC;
			}
			asks[n] = d->tenants[i]->sm;
			prev[n] = d->tenants[i]->grants[g];
			who[n++] = i;
		}
		if (policy_sm_plan(&l, asks, prev, n, got, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "GPU %d: %s", g, why);
			return -ENOSPC;
		}
		for (int k = 0; k < n; k++)
			plan[who[k]][g] = got[k];
	}
	for (int i = 0; i < d->ntenants; i++) {
		memcpy(d->tenants[i]->grants, plan[i], sizeof(d->tenants[i]->grants));
		spatial_apply_tenant(d, d->tenants[i]);
	}
	return 0;
}

/* What the tenants with no SMs of their own share on GPU g. */
static struct policy_sm_grant shared_rest(const struct daemon *d, int g,
					  const struct policy_sm_layout *l)
{
	struct policy_sm_grant held[DAEMON_MAX_TENANTS];

	for (int i = 0; i < d->ntenants; i++)
		held[i] = d->tenants[i]->grants[g];
	return policy_sm_rest(l, held, d->ntenants);
}

void spatial_apply_tenant(struct daemon *d, struct tenant *t)
{
	struct cuslice_segment *seg = t->seg;
	const char *pipe = "";
	bool changed = false;

	if (!seg)
		return;
	if (d->move_running && CUSLICE_SEGMENT_HAS_MOVES(seg))
		__atomic_fetch_or(&seg->flags, CUSLICE_SEGMENT_MOVES, __ATOMIC_RELEASE);
	else
		__atomic_fetch_and(&seg->flags, ~CUSLICE_SEGMENT_MOVES, __ATOMIC_RELEASE);
	for (int g = 0; g < d->ndevices; g++) {
		struct policy_sm_layout l = {0};
		struct policy_sm_grant grant = {0};
		bool split = layout_of(d, g, &l) == 0;
		if (joins(d, t, g) && split) {
			pipe = d->gpus[g].mps.pipe;
			grant = t->grants[g].sms ? t->grants[g] : shared_rest(d, g, &l);
		}
		struct cuslice_partition *p = &seg->partitions[g];
		bool has_flags = CUSLICE_SEGMENT_HAS_SPLIT_FLAGS(seg);
		if (p->groups == grant.groups && p->remainder == (uint32_t)grant.remainder &&
		    p->group_sms == l.group_sms &&
		    (!has_flags || seg->split_flags[g] == split_flags(d, g)))
			continue;
		/* a seqlock: the generation is odd while the fields change */
		__atomic_store_n(&p->generation, p->generation | 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		if (has_flags)
			__atomic_store_n(&seg->split_flags[g], split_flags(d, g), __ATOMIC_RELAXED);
		__atomic_store_n(&p->group_sms, l.group_sms, __ATOMIC_RELAXED);
		__atomic_store_n(&p->remainder, (uint32_t)grant.remainder, __ATOMIC_RELAXED);
		__atomic_store_n(&p->sms, grant.sms, __ATOMIC_RELAXED);
		__atomic_store_n(&p->groups, grant.groups, __ATOMIC_RELAXED);
		__atomic_store_n(&p->generation, p->generation + 1, __ATOMIC_RELEASE);
		changed = true;
	}
	snprintf(seg->mps_pipe, sizeof(seg->mps_pipe), "%s", pipe);
	if (changed && d->move_running && CUSLICE_SEGMENT_HAS_MOVES(seg)) {
		/* the tenant's running processes move to their new SMs (shim/partition.c) */
		t->move_epoch = __atomic_add_fetch(&seg->partitions_epoch, 1, __ATOMIC_RELEASE);
		t->move_started_ns = daemon_now_ns();
		t->move_slow_said = false;
		syscall(SYS_futex, &seg->partitions_epoch, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	}
}

/* Whether the tenant's running processes followed the last change of its
 * partitions: each acknowledges the epoch it runs under (shim/partition.c). */
static void moves_check(struct daemon *d, struct tenant *t)
{
	int moved = 0, behind = 0;
	uint64_t now = daemon_now_ns(); /* the change may have come later than the tick began */

	if (!t->move_epoch || !t->seg)
		return;
	for (int k = 0; k < CUSLICE_MAX_PROCS; k++) {
		uint32_t held = __atomic_load_n(&t->seg->partitions_held[k], __ATOMIC_ACQUIRE);
		if (!held || __atomic_load_n(&t->seg->procs[k].pid, __ATOMIC_ACQUIRE) <= 0)
			continue; /* no process, or one that runs on no partition */
		if ((int32_t)(held - 1 - t->move_epoch) >= 0) /* 1 + the epoch it runs under */
			moved++;
		else
			behind++;
	}
	double ms = now > t->move_started_ns ? (double)(now - t->move_started_ns) / 1e6 : 0;
	t->moves_behind = behind;
	if (!behind) {
		if (moved) {
			events_emit(
				d, "sm-moved", t->name,
				"%d running process%s of %s moved to the new SMs within %.1f ms",
				moved, moved == 1 ? "" : "es", t->name, ms);
			t->last_move_processes = moved;
			t->last_move_ms = ms;
		}
		t->move_epoch = 0;
	} else if (ms > MOVE_SLOW_MS && !t->move_slow_said) {
		events_emit(d, "sm-move-slow", t->name,
			    "%d of %d running processes of %s still run on their old SMs "
			    "%.0f ms after the change",
			    behind, behind + moved, t->name, ms);
		t->move_slow_said = true;
	}
}

bool spatial_moving(const struct daemon *d, uint64_t now)
{
	for (int i = 0; i < d->ntenants; i++) {
		const struct tenant *t = d->tenants[i];
		if (t->move_epoch && now - t->move_started_ns < MOVE_SLOW_MS * 1000000ull)
			return true;
	}
	return false;
}

/* ---- the MPS control daemons ------------------------------------------ */

static void mps_env(const struct daemon *d, int g)
{
	char uuid[64];

	policy_uuid_string(d->devices[g].uuid, uuid, sizeof(uuid));
	setenv("CUDA_MPS_PIPE_DIRECTORY", d->gpus[g].mps.pipe, 1);
	setenv("CUDA_MPS_LOG_DIRECTORY", d->gpus[g].mps.log, 1);
	setenv("CUDA_VISIBLE_DEVICES", uuid, 1);
}

/* The control daemon an earlier cusliced started for this GPU, still running
 * (a daemon killed with SIGKILL leaves it, and its clients, in place): its
 * pid, from the file written when it was started, if /proc agrees. */
static pid_t running_control(const struct daemon *d, const struct mps *m)
{
	char path[4300], cmdline[4096];
	const char *base = strrchr(d->mps_control, '/');
	long pid = 0;

	snprintf(path, sizeof(path), "%s/cusliced-control.pid", m->pipe);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	int fd = pid > 1 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	ssize_t n = fd >= 0 ? read(fd, cmdline, sizeof(cmdline) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	for (ssize_t i = 0; i < n; i++) /* arguments are NUL-separated */
		cmdline[i] = cmdline[i] ? cmdline[i] : ' ';
	cmdline[n] = '\0';
	return strstr(cmdline, base ? base + 1 : d->mps_control) && strstr(cmdline, " -f")
		       ? (pid_t)pid
		       : 0;
}

void spatial_setup(struct daemon *d)
{
	for (int g = 0; g < d->ndevices; g++) {
		struct mps *m = &d->gpus[g].mps;
		snprintf(m->pipe, sizeof(m->pipe), "%s/mps%d", d->runtime_dir, g);
		snprintf(m->log, sizeof(m->log), "%s/mps%d-log", d->runtime_dir, g);
		/* made now, so that the device plugin can mount the pipe directory into
		 * containers before the GPU leaves time-slicing */
		if ((mkdir(m->pipe, 0755) < 0 && errno != EEXIST) ||
		    (mkdir(m->log, 0755) < 0 && errno != EEXIST))
			fprintf(stderr, "cusliced: cannot make %s: %s\n", m->pipe, strerror(errno));
	}
}

static int mps_start(struct daemon *d, int g, uint64_t now)
{
	struct mps *m = &d->gpus[g].mps;
	char path[4200];

	pid_t running = running_control(d, m);
	if (running > 0) { /* adopted: its clients keep running */
		m->pid = running;
		m->started_ns = now;
		fprintf(stderr,
			"cusliced: GPU %d: the MPS control daemon (pid %d) is still "
			"running; adopted\n",
			g, (int)running);
		return 0;
	}
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		snprintf(path, sizeof(path), "%s/control-stdout.log", m->log);
		int out = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		int in = open("/dev/null", O_RDONLY);
		setsid(); /* its servers die with it: kill(-pid) */
		mps_env(d, g);
		if (out >= 0 && in >= 0) {
			dup2(in, 0);
			dup2(out, 1);
			dup2(out, 2);
		}
		execl(d->mps_control, d->mps_control, "-f", (char *)NULL);
		_exit(127);
	}
	m->pid = pid;
	m->started_ns = now;
	snprintf(path, sizeof(path), "%s/cusliced-control.pid", m->pipe);
	FILE *f = fopen(path, "we");
	if (f) {
		fprintf(f, "%d\n", (int)pid);
		fclose(f);
	}
	return 0;
}

/* `echo CMD | nvidia-cuda-mps-control` for GPU g; its output in `out`. */
static int mps_command(struct daemon *d, int g, const char *cmd, char *out, size_t outlen)
{
	int to[2], from[2];
	size_t n = 0;

	if (pipe2(to, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(from, O_CLOEXEC) < 0) {
		close(to[0]);
		close(to[1]);
		return -errno;
	}
	pid_t pid = fork();
	if (pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		dup2(from[1], 2);
		mps_env(d, g);
		execl(d->mps_control, d->mps_control, (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	if (pid > 0 && write(to[1], cmd, strlen(cmd)) >= 0 && write(to[1], "\n", 1) >= 0) {
	}
	close(to[1]);
	struct pollfd p = {.fd = from[0], .events = POLLIN};
	while (pid > 0 && n + 1 < outlen && poll(&p, 1, COMMAND_TIMEOUT_MS) > 0) {
		ssize_t r = read(from[0], out + n, outlen - n - 1);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	out[n] = '\0';
	close(from[0]);
	if (pid > 0) {
		kill(pid, SIGKILL); /* done or stuck: either way it goes */
		waitpid(pid, NULL, 0);
	}
	return pid > 0 ? 0 : -ECHILD;
}

static bool gone(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == pid || (kill(pid, 0) < 0 && errno == ESRCH);
}

/* Kills GPU g's MPS servers and control daemon at once (clients of a server
 * that faulted are lost already). */
static void mps_kill(struct daemon *d, int g)
{
	struct mps *m = &d->gpus[g].mps;
	char list[512];

	if (!m->pid)
		return;
	if (mps_command(d, g, "get_server_list", list, sizeof(list)) == 0)
		for (char *p = list, *end; *p; p = end) {
			long pid = strtol(p, &end, 10);
			if (end == p) {
				end = p + 1;
				continue;
			}
			if (pid > 1)
				kill((pid_t)pid, SIGKILL);
		}
	kill(-m->pid, SIGKILL);
	kill(m->pid, SIGKILL);
	waitpid(m->pid, NULL, 0);
	m->pid = 0;
}

static void mps_stop(struct daemon *d, int g)
{
	struct mps *m = &d->gpus[g].mps;
	char reply[256];

	if (!m->pid)
		return;
	mps_command(d, g, "quit", reply, sizeof(reply));
	for (int waited = 0; waited < QUIT_TIMEOUT_MS && !gone(m->pid); waited += 20)
		usleep(20000);
	if (gone(m->pid))
		m->pid = 0;
	else
		mps_kill(d, g);
}

void spatial_stop_all(struct daemon *d)
{
	for (int g = 0; g < d->ndevices; g++)
		mps_stop(d, g);
}

/* ---- faults ------------------------------------------------------------- */

static bool has_process(const struct tenant *t)
{
	for (int i = 0; i < CUSLICE_MAX_PROCS; i++)
		if (__atomic_load_n(&t->seg->procs[i].pid, __ATOMIC_ACQUIRE))
			return true;
	return false;
}

static void probation_end(struct daemon *d, struct tenant *t)
{
	t->probation = false;
	spatial_apply_tenant(d, t);
}

/* The suspects of a fault on GPU g: out of the server until `until`. */
static void probation_start(struct daemon *d, struct tenant **suspects, int n, int g,
			    uint64_t until)
{
	for (int i = 0; i < n; i++) {
		struct tenant *t = suspects[i];
		t->probation = true;
		t->probation_until_ns = until;
		t->probation_fault_ns = d->gpus[g].mps.fault_ns;
		t->probation_gpu = g;
		for (int k = 0; k < CUSLICE_MAX_PROCS; k++)
			t->probation_pids[k] =
				__atomic_load_n(&t->seg->procs[k].pid, __ATOMIC_ACQUIRE);
		spatial_apply_tenant(d, t);
	}
}

/*
 * Who saw the fault: every tenant whose process reported it. Which of them
 * caused it is not known, and MPS does not say. Measured on the H200 (driver
 * 580), with the faulting process started first and then second: the MPS
 * server's log ("Client {PID: N} encountered a fatal GPU error") names its
 * first client either way, the kernel's Xid 31 names the bystander both
 * times, and with GPU core dumps on exception the bystander writes the dump
 * while the faulting process's synchronisation returns success. So the
 * report lists the tenants hit, and names the cause only where the server
 * had one client; several go on probation.
 */
static void fault_seen(struct daemon *d, int g, int32_t code, uint64_t now)
{
	struct mps *m = &d->gpus[g].mps;
	struct tenant *suspects[DAEMON_MAX_TENANTS];
	char hit[384] = "", cause[384];
	size_t len = 0;
	int n = 0;

	/* the clients: the tenants that reported it, and those with processes */
	for (int i = 0; i < d->ntenants; i++) {
		struct tenant *t = d->tenants[i];
		uint64_t at = __atomic_load_n(&t->seg->fault.time_ns, __ATOMIC_ACQUIRE);
		bool reported = at && at + FAULT_GAP_NS >= m->fault_ns;
		if (!joins(d, t, g) || (!reported && !has_process(t)))
			continue;
		suspects[n++] = t;
		if (reported && len < sizeof(hit))
			len += (size_t)snprintf(hit + len, sizeof(hit) - len, "%s%s (pid %d)",
						len ? ", " : "", t->name, (int)t->seg->fault.pid);
	}
	if (n == 1)
		snprintf(cause, sizeof(cause), "%s, the server's only client, caused it",
			 suspects[0]->name);
	else if (n > 1 && d->probation_ns)
		snprintf(cause, sizeof(cause),
			 "which of its %d clients caused it MPS does not say: they run in "
			 "contexts of their own for %" PRIu64 " s, and one that faults again "
			 "there is named",
			 n, (uint64_t)(d->probation_ns / 1000000000ull));
	else
		snprintf(cause, sizeof(cause), "MPS does not say which client caused it");
	if (n > 1 && d->probation_ns)
		probation_start(d, suspects, n, g, now + d->probation_ns);
	m->faults++;
	snprintf(m->last_fault, sizeof(m->last_fault),
		 "a fatal GPU error (CUDA error %d) in one of the MPS server's clients ended "
		 "them all: %s; %s; the server was restarted",
		 (int)code, len ? hit : "none known", cause);
	events_emit(d, "mps-fault", "", "GPU %d: %s", g, m->last_fault);
	fprintf(stderr, "cusliced: GPU %d: %s\n", g, m->last_fault);
	mps_kill(d, g);
	if (mps_start(d, g, now) == 0) {
		m->restarts++;
		events_emit(d, "mps-restart", "", "GPU %d: MPS server restarted after a fault", g);
	}
}

/* A report from a process of a tenant on probation that was not one of the
 * server's clients, with an error of its own rather than the server's. */
static bool own_fault(const struct tenant *t, int32_t pid, int32_t code)
{
	if (code == CUDA_ERROR_MPS_CONNECTION_FAILED || code == CUDA_ERROR_MPS_RPC_FAILURE ||
	    code == CUDA_ERROR_MPS_SERVER_NOT_READY || code == CUDA_ERROR_MPS_CLIENT_TERMINATED)
		return false;
	for (int k = 0; k < CUSLICE_MAX_PROCS; k++)
		if (t->probation_pids[k] == pid)
			return false;
	return true;
}

/* A tenant on probation faulted in a context of its own, where its fault is
 * its alone: the likely cause of the MPS fault it is suspected of. It is
 * isolated (as `--isolated on`, kept across restarts); the other suspects
 * rejoin the server. */
static void fault_cause(struct daemon *d, struct tenant *t, int32_t code)
{
	int g = t->probation_gpu;
	struct mps *m = &d->gpus[g].mps;
	char err[512];

	for (int i = 0; i < d->ntenants; i++) {
		struct tenant *o = d->tenants[i];
		if (o->probation && o->probation_fault_ns == t->probation_fault_ns)
			o->probation = false;
	}
	t->isolated = true;
	/* its SM groups go back to the others: fewer asks always fit */
	if (spatial_replan(d, err, sizeof(err)) < 0) {
		fprintf(stderr, "cusliced: %s\n", err);
		for (int i = 0; i < d->ntenants; i++)
			spatial_apply_tenant(d, d->tenants[i]);
	}
	if (state_save(d, err, sizeof(err)) < 0)
		fprintf(stderr, "cusliced: %s; %s stays isolated until cusliced restarts\n", err,
			t->name);
	size_t len = strlen(m->last_fault);
	snprintf(m->last_fault + len, sizeof(m->last_fault) - len,
		 "; likely cause: %s, which faulted again (CUDA error %d) in a context of its own",
		 t->name, (int)code);
	events_emit(d, "mps-fault-cause", t->name,
		    "GPU %d: %s faulted again (CUDA error %d) in a context of its own while on "
		    "probation after an MPS fault: the likely cause of it; isolated now "
		    "(`cuslice set %s --isolated off` lets it share a server again)",
		    g, t->name, (int)code, t->name);
	fprintf(stderr, "cusliced: GPU %d: %s faulted again on probation: the likely cause\n", g,
		t->name);
}

/* New fault reports, the earliest first per GPU: one restart per fault (the
 * other clients' reports of it come within moments of the first). A report
 * of a tenant on probation, from a process out of the server, names it. */
static void faults_check(struct daemon *d, uint64_t now)
{
	struct {
		const struct tenant *t;
		int32_t code;
		uint64_t at;
	} first[CUSLICE_MAX_DEVICES] = {0};

	for (int i = 0; i < d->ntenants; i++) {
		struct tenant *t = d->tenants[i];
		uint64_t at = __atomic_load_n(&t->seg->fault.time_ns, __ATOMIC_ACQUIRE);
		if (!at || at <= t->seen_fault_ns || now - at < FAULT_SETTLE_NS)
			continue; /* a moment for the others' reports of it to come in */
		t->seen_fault_ns = at;
		int32_t code = __atomic_load_n(&t->seg->fault.code, __ATOMIC_RELAXED);
		int32_t pid = __atomic_load_n(&t->seg->fault.pid, __ATOMIC_RELAXED);
		if (t->probation && at > t->probation_fault_ns && own_fault(t, pid, code)) {
			fault_cause(d, t, code);
			continue;
		}
		for (int g = 0; g < d->ndevices; g++) {
			struct mps *m = &d->gpus[g].mps;
			if (!joins(d, t, g) || !m->pid || at < m->fault_ns + FAULT_GAP_NS ||
			    (first[g].t && first[g].at <= at))
				continue;
			first[g].t = t;
			first[g].code = t->seg->fault.code;
			first[g].at = at;
		}
	}
	for (int g = 0; g < d->ndevices; g++)
		if (first[g].t) {
			d->gpus[g].mps.fault_ns = first[g].at;
			fault_seen(d, g, first[g].code, now);
		}
}

void spatial_tick(struct daemon *d, uint64_t now)
{
	for (int g = 0; g < d->ndevices; g++) {
		struct mps *m = &d->gpus[g].mps;
		bool wanted = d->gpus[g].mode != GPU_TIMESLICE;
		if (m->pid && gone(m->pid)) {
			bool at_once = now - m->started_ns < RETRY_NS;
			m->pid = 0;
			if (wanted) {
				m->retry_ns = at_once ? now + RETRY_NS : now;
				m->restarts++;
				events_emit(d, "mps-restart", "",
					    "GPU %d: the MPS control daemon "
					    "exited; started again",
					    g);
				fprintf(stderr,
					"cusliced: GPU %d: the MPS control daemon (%s) "
					"exited%s; starting it again\n",
					g, d->mps_control, at_once ? " at once" : "");
			}
		}
		if (!wanted && m->pid)
			mps_stop(d, g);
		if (wanted && !m->pid && now >= m->retry_ns) {
			int r = mps_start(d, g, now);
			if (r < 0) {
				m->retry_ns = now + RETRY_NS;
				fprintf(stderr, "cusliced: GPU %d: cannot start %s: %s\n", g,
					d->mps_control, strerror(-r));
			}
		}
	}
	faults_check(d, now);
	for (int i = 0; i < d->ntenants; i++)
		moves_check(d, d->tenants[i]);
	for (int i = 0; i < d->ntenants; i++)
		if (d->tenants[i]->probation && now >= d->tenants[i]->probation_until_ns) {
			probation_end(d, d->tenants[i]);
			events_emit(
				d, "mps-probation-over", d->tenants[i]->name,
				"%s rejoins the MPS server: it did not fault again on probation",
				d->tenants[i]->name);
		}
}

/* ---- for the admin API and metrics ------------------------------------ */

static void groups_text(const struct policy_sm_grant *g, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (int b = 0; b < 64 && n < size; b++) {
		if (!(g->groups >> b & 1) || (b > 0 && g->groups >> (b - 1) & 1))
			continue;
		int e = b;
		while (e < 63 && g->groups >> (e + 1) & 1)
			e++;
		n += (size_t)(e > b ? snprintf(out + n, size - n, "%s%d-%d", n ? "," : "", b, e)
				    : snprintf(out + n, size - n, "%s%d", n ? "," : "", b));
	}
	if (g->remainder && n < size)
		snprintf(out + n, size - n, "%sremainder", n ? "," : "");
}

json_object *spatial_gpu_json(const struct daemon *d, int g)
{
	json_object *o = json_object_new_object(), *mps = json_object_new_object();
	const struct mps *m = &d->gpus[g].mps;
	const struct device_info *dev = &d->devices[g];

	json_object_object_add(o, "mode", json_object_new_string(mode_names[d->gpus[g].mode]));
	struct policy_sm_layout l = {0};
	layout_of(d, g, &l);
	json_object_object_add(o, "sms", json_object_new_int((int)dev->sm_total));
	json_object_object_add(o, "sm_split", json_object_new_string(spatial_split_name(d, g)));
	json_object_object_add(o, "sm_group", json_object_new_int((int)l.group_sms));
	json_object_object_add(o, "sm_groups", json_object_new_int((int)l.groups));
	json_object_object_add(o, "sm_remainder", json_object_new_int((int)l.remainder));
	/* the fine split, in force or not (0: the driver has none finer) */
	json_object_object_add(o, "sm_fine_group", json_object_new_int((int)dev->sm_fine_group));
	json_object_object_add(o, "sm_fine_groups", json_object_new_int((int)dev->sm_fine_groups));
	json_object_object_add(mps, "running", json_object_new_boolean(m->pid > 0));
	json_object_object_add(mps, "pid", json_object_new_int(m->pid));
	json_object_object_add(mps, "pipe", json_object_new_string(m->pipe));
	json_object_object_add(mps, "restarts", json_object_new_int64((int64_t)m->restarts));
	json_object_object_add(mps, "faults", json_object_new_int64((int64_t)m->faults));
	json_object_object_add(mps, "last_fault", json_object_new_string(m->last_fault));
	json_object_object_add(o, "mps", mps);
	return o;
}

json_object *spatial_tenant_json(const struct daemon *d, const struct tenant *t)
{
	json_object *o = json_object_new_object(), *gpus = json_object_new_array();
	char asked[32] = "none";

	if (t->has_sm && t->sm.sms)
		snprintf(asked, sizeof(asked), "%u", t->sm.sms);
	else if (t->has_sm)
		snprintf(asked, sizeof(asked), "%.1f%%", t->sm.ppm / 1e4);
	json_object_object_add(o, "asked", json_object_new_string(asked));
	json_object_object_add(o, "isolated", json_object_new_boolean(t->isolated));
	json_object_object_add(o, "probation", json_object_new_boolean(t->probation));
	for (int g = 0; g < d->ndevices; g++) {
		const struct cuslice_partition *p = &t->seg->partitions[g];
		bool own = t->grants[g].sms > 0;
		struct policy_sm_grant grant =
			own ? t->grants[g]
			    : (struct policy_sm_grant){.groups = p->groups,
						       .remainder = (int)p->remainder,
						       .sms = p->sms};
		char text[160];
		if (!grant.groups && !grant.remainder)
			continue;
		groups_text(&grant, text, sizeof(text));
		json_object *e = json_object_new_object();
		json_object_object_add(e, "gpu", json_object_new_int(g));
		json_object_object_add(e, "sms", json_object_new_int((int)grant.sms));
		json_object_object_add(
			e, "percent",
			json_object_new_double(d->devices[g].sm_total
						       ? 100.0 * grant.sms / d->devices[g].sm_total
						       : 0));
		json_object_object_add(e, "groups", json_object_new_string(text));
		json_object_object_add(e, "dedicated", json_object_new_boolean(own));
		json_object_array_add(gpus, e);
	}
	json_object_object_add(o, "partitions", gpus);
	json_object_object_add(o, "mps_pipe", json_object_new_string(t->seg->mps_pipe));
	/* running processes follow changes of the partitions: how many have not
	 * yet, and how the last move went (an upper bound: read every tick) */
	json_object_object_add(o, "moving",
			       json_object_new_int(t->move_epoch ? t->moves_behind : 0));
	json_object *last = json_object_new_object();
	json_object_object_add(last, "processes", json_object_new_int(t->last_move_processes));
	json_object_object_add(last, "ms", json_object_new_double(t->last_move_ms));
	json_object_object_add(o, "last_move", last);
	return o;
}
