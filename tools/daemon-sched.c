/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scheduler's loop: which tenants are launching, what share of GPU time
 * each gets (policy/shares.c), and whether a latency-critical tenant is
 * launching, in which case the others keep little work on the GPU and hold their launches while
 * its requests are on the GPU (the board, policy/board.h). The shares go to the tenants'
 * segments, where their own processes pace themselves; nothing here is on the launch path, and a
 * daemon that stops leaves the last shares in force.
 *
 * Where every time-sliced tenant on a GPU keeps it saturated, they take turns on it instead
 * (policy/turns.h): each is judged every SATURATION_NS by the GPU time it admitted against its
 * share; turns start on the board when all of them are saturating and stop as soon as one is
 * not, or a latency-critical tenant or a newcomer comes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "policy/pace.h"
#include "policy/shares.h"

#define ACTIVE_NS 100000000ull /* a tenant counts as active this long after a launch */
#define BURST_NS 4000000ull    /* how far a paced tenant may run ahead of its share */
#define YIELD_INFLIGHT 1       /* launches others may have on the GPU while a high tenant runs */
#define SATURATION_NS 100000000ull /* a tenant is judged saturating or not this often */

/* Counts the tenant's launches into a total that only grows: each process's
 * slot counts its own (from 0, when the process claims it) and keeps its
 * last count after the process ends, which is read once more then. */
static void count_launches(struct tenant *t)
{
	for (int i = 0; i < CUSLICE_MAX_PROCS; i++) {
		int32_t pid = __atomic_load_n(&t->seg->procs[i].pid, __ATOMIC_ACQUIRE);
		uint64_t n = __atomic_load_n(&t->seg->procs[i].launches, __ATOMIC_RELAXED);
		if (pid <= 0 && !t->slot_pid[i])
			continue;
		if (pid > 0 && (pid != t->slot_pid[i] || n < t->slot_seen[i])) {
			t->slot_pid[i] = pid; /* a new process in the slot */
			t->slot_seen[i] = 0;
		}
		if (n > t->slot_seen[i])
			t->launches_total += n - t->slot_seen[i];
		t->slot_seen[i] = n;
		if (pid <= 0)
			t->slot_pid[i] = 0; /* ended: its last count is in */
	}
}

/* A file, so that a restarted daemon hands out the board the running
 * processes already have mapped. */
int sched_board_open(struct daemon *d)
{
	char path[4096];
	struct stat st;

	d->board_fd = -1;
	snprintf(path, sizeof(path), "%s/board", d->runtime_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || fstat(fd, &st) < 0)
		goto fail;
	bool fresh = (size_t)st.st_size < sizeof(struct cuslice_board);
	if (fresh && ftruncate(fd, sizeof(struct cuslice_board)) < 0)
		goto fail;
	struct cuslice_board *b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (b == MAP_FAILED)
		goto fail;
	if (fresh || b->magic != CUSLICE_BOARD_MAGIC || b->version != CUSLICE_BOARD_VERSION) {
		memset(b, 0, sizeof(*b));
		b->size = sizeof(*b);
		b->version = CUSLICE_BOARD_VERSION;
		__atomic_store_n(&b->magic, CUSLICE_BOARD_MAGIC, __ATOMIC_RELEASE);
	}
	/* an earlier daemon's turns: this one decides afresh */
	if (CUSLICE_BOARD_HAS_TURNS(b))
		for (int g = 0; g < CUSLICE_MAX_DEVICES; g++)
			policy_turns_stop(&b->turns[g]);
	d->board = b;
	d->board_fd = fd;
	return 0;
fail:;
	int e = errno;
	if (fd >= 0)
		close(fd);
	errno = e;
	return -e;
}

/* SMs of its own (spatial and hybrid modes): it shares GPU time with no one,
 * and waits behind no one. */
static bool own_sms(const struct daemon *d, const struct tenant *t)
{
	for (int g = 0; g < d->ndevices; g++)
		if (t->grants[g].sms > 0)
			return true;
	return false;
}

/* Whether the tenant's launches write on the board: latency-critical and
 * time-sliced, where the others hold for it. */
static bool on_board(const struct daemon *d, const struct tenant *t)
{
	return t->high && d->board && CUSLICE_SEGMENT_HAS_HIGH_SLOT(t->seg) && !own_sms(d, t);
}

/* Such tenants get words on the board in the order they come; past
 * CUSLICE_BOARD_HIGH they share the last. */
static void board_slots(struct daemon *d)
{
	uint32_t next = 1;

	for (int i = 0; i < d->ntenants; i++) {
		struct tenant *t = d->tenants[i];
		if (!CUSLICE_SEGMENT_HAS_HIGH_SLOT(t->seg))
			continue;
		uint32_t slot = 0;
		if (on_board(d, t)) {
			slot = next;
			next += next < CUSLICE_BOARD_HIGH;
		}
		if (__atomic_load_n(&t->seg->high_slot, __ATOMIC_RELAXED) != slot)
			__atomic_store_n(&t->seg->high_slot, slot, __ATOMIC_RELEASE);
	}
}

/* Saturating: over the last SATURATION_NS it admitted at least 80 % of its
 * share of GPU time, or half of it while it takes turns already (so that
 * noise does not start and stop them); a tenant held back by the GPU
 * rather than by its share waits in synchronisations, not in the gate, so
 * waiting is no sign. One well below its share is not, nor one that was not
 * paced. */
static void judge_saturation(struct tenant *t, uint32_t share_ppm, uint64_t now_ns)
{
	struct cuslice_sched *s = &t->seg->sched;
	uint64_t elapsed = now_ns - t->judged_ns;

	if (elapsed < SATURATION_NS)
		return;
	uint64_t admitted = __atomic_load_n(&s->admitted_ns, __ATOMIC_RELAXED);
	unsigned __int128 used = (unsigned __int128)(admitted - t->judged_admitted_ns) * POLICY_PPM;
	bool taking = CUSLICE_SEGMENT_HAS_TURNS(t->seg) &&
		      __atomic_load_n(&t->seg->turn_slot, __ATOMIC_RELAXED);
	t->saturating = share_ppm && t->judged_ns &&
			used * (taking ? 2 : 5) >=
				(unsigned __int128)share_ppm * elapsed * (taking ? 1 : 4);
	t->judged_ns = now_ns;
	t->judged_admitted_ns = admitted;
}

/* The GPU the tenant works on: the only one it holds memory on, or the only
 * one there is; -1 for several (or none of several). */
static int tenant_gpu(const struct daemon *d, const struct tenant *t)
{
	int gpu = d->ndevices == 1 ? 0 : -1;

	for (int g = 0; g < d->ndevices; g++)
		if (__atomic_load_n(&t->seg->devices[g].reserved, __ATOMIC_RELAXED)) {
			if (gpu >= 0 && gpu != g)
				return -1;
			gpu = g;
		}
	return gpu;
}

static void futex_wake_all(uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static void turns_stop(struct daemon *d, int g)
{
	struct cuslice_turns *turns = &d->board->turns[g];

	for (uint32_t i = 0; i < d->turns[g].n; i++)
		if (CUSLICE_SEGMENT_HAS_TURNS(d->turns[g].who[i]->seg))
			__atomic_store_n(&d->turns[g].who[i]->seg->turn_slot, 0, __ATOMIC_RELEASE);
	policy_turns_stop(turns);
	futex_wake_all(&turns->owner);
	d->turns[g].n = 0;
}

/* Turns on GPU g for the tenants in who[] (n ≥ 2) at these shares, unless
 * they take them already. */
static void turns_start(struct daemon *d, int g, struct tenant **who, const uint32_t *share_ppm,
			uint32_t n, uint64_t now_ns)
{
	if (d->turns[g].n == n && !memcmp(d->turns[g].who, who, n * sizeof(*who)) &&
	    !memcmp(d->turns[g].share_ppm, share_ppm, n * sizeof(*share_ppm)))
		return;
	turns_stop(d, g);
	policy_turns_start(&d->board->turns[g], share_ppm, n, now_ns);
	for (uint32_t i = 0; i < n; i++) {
		__atomic_store_n(&who[i]->seg->turn_device, (uint32_t)g, __ATOMIC_RELAXED);
		__atomic_store_n(&who[i]->seg->turn_slot, i + 1, __ATOMIC_RELEASE);
	}
	memcpy(d->turns[g].who, who, n * sizeof(*who));
	memcpy(d->turns[g].share_ppm, share_ppm, n * sizeof(*share_ppm));
	d->turns[g].n = n;
	if (now_ns - d->turns[g].event_ns >= 10 * 1000000000ull) { /* not at every flap */
		events_emit(d, "turns", NULL,
			    "GPU %d: %u tenants keep it saturated; they take turns on it", g, n);
		d->turns[g].event_ns = now_ns;
	}
}

/* Turns on each time-sliced GPU where at least two tenants share GPU time and
 * all of them are saturating, and none has a limit (turns are work
 * conserving; a limit holds even alone) or is latency-critical. */
static void turns_plan(struct daemon *d, const struct policy_share *shares, bool high_active,
		       uint64_t now_ns)
{
	if (!d->board || !CUSLICE_BOARD_HAS_TURNS(d->board))
		return;
	for (int g = 0; g < d->ndevices; g++) {
		struct tenant *who[CUSLICE_TURN_SLOTS];
		uint32_t share_ppm[CUSLICE_TURN_SLOTS], n = 0;
		bool all = !high_active && d->gpus[g].mode == GPU_TIMESLICE;
		for (int i = 0; i < d->ntenants && all; i++) {
			struct tenant *t = d->tenants[i];
			int gpu = tenant_gpu(d, t);
			if (!shares[i].active || (gpu >= 0 && gpu != g))
				continue;
			if (gpu < 0 || !t->saturating || t->limit_ppm || !shares[i].ret_ppm ||
			    !CUSLICE_SEGMENT_HAS_TURNS(t->seg) || n == CUSLICE_TURN_SLOTS) {
				all = false;
				break;
			}
			who[n] = t;
			share_ppm[n++] = shares[i].ret_ppm;
		}
		if (all && n >= 2)
			turns_start(d, g, who, share_ppm, n, now_ns);
		else if (d->turns[g].n)
			turns_stop(d, g);
	}
}

void sched_tick(struct daemon *d, uint64_t now_ns)
{
	struct policy_share shares[DAEMON_MAX_TENANTS];
	bool high_active = false;

	board_slots(d);
	for (int i = 0; i < d->ntenants; i++) {
		struct tenant *t = d->tenants[i];
		count_launches(t);
		if (t->launches_total != t->seen_launches) {
			t->seen_launches = t->launches_total;
			t->active_until_ns = now_ns + ACTIVE_NS;
		}
		bool active = now_ns < t->active_until_ns, own = own_sms(d, t);
		/* a latency-critical tenant is never paced below what it asks (only its
		 * limit holds); the others share the GPU among themselves */
		shares[i] = (struct policy_share){.weight = t->weight,
						  .limit_ppm = t->limit_ppm,
						  .active = active && !t->high && !own};
		high_active |= t->high && active && !own;
	}
	policy_shares(shares, d->ntenants);
	for (int i = 0; i < d->ntenants; i++)
		if (own_sms(d, d->tenants[i])) /* its cap, unless a claim set it for time-slicing */
			shares[i].ret_ppm =
				d->tenants[i]->sm_claimed ? 0 : d->tenants[i]->limit_ppm;
	/* while a latency-critical tenant has work, the others keep at most one
	 * launch on the GPU, so its requests wait behind one kernel at most, and
	 * hold while the board says a request is on the GPU */
	for (int i = 0; i < d->ntenants; i++) {
		struct tenant *t = d->tenants[i];
		struct cuslice_sched *s = &t->seg->sched;
		uint32_t cap = on_board(d, t)		 ? CUSLICE_INFLIGHT_HIGH
			       : high_active && !t->high ? YIELD_INFLIGHT
							 : 0;
		__atomic_store_n(&s->burst_ns, BURST_NS, __ATOMIC_RELAXED);
		__atomic_store_n(&s->max_inflight, cap, __ATOMIC_RELAXED);
		__atomic_store_n(&s->share_ppm, shares[i].ret_ppm, __ATOMIC_RELEASE);
		judge_saturation(t, shares[i].active ? shares[i].ret_ppm : 0, now_ns);
	}
	turns_plan(d, shares, high_active, now_ns);
}

/* A process of a latency-critical tenant registered: the others are held to
 * few launches at once from now on, before its first launch rather than a
 * tick after it. */
void sched_registered(struct daemon *d, struct tenant *t, uint64_t now_ns)
{
	if (!t->high)
		return;
	t->active_until_ns = now_ns + ACTIVE_NS;
	sched_tick(d, now_ns);
}
