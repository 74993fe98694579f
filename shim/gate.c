/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The launch gate: paces a tenant's launches so that it keeps the GPU busy
 * no more than its share of the time (policy/pace.c), charging each launch
 * with its predicted GPU time.
 *
 * The prediction comes from a per-process cost model keyed by (function,
 * grid size): launches are timed with a pair of CUDA events, the first four
 * of each key, one in 64 after that and one in 4096 once the key has 64
 * samples (also while the tenant is not paced,
 * so a tenant that ran alone knows its costs at full load when it starts
 * sharing), and the model keeps a low envelope
 * of the samples, since a kernel timed while another context holds the GPU
 * looks longer than it is. A key never seen before is timed synchronously
 * once, so that a tenant cannot queue a burst of unknown-but-long kernels.
 * A timed launch of a kernel timed before holds its stream until it is
 * queued (hold.c), so that the pair times the GPU and not the host.
 *
 * A launching thread takes GPU time from its tenant's timeline in leases of
 * 200 µs, so that most paced launches only look up their cost and spend it
 * from the thread's own budget, with no atomic operation; only a lease reads
 * the clock, touches the tenant's shared state, and may wait. (A thread that
 * stops launching keeps what is left of its lease: at most 200 µs a thread.)
 *
 * While a latency-critical tenant is active, the daemon caps the others'
 * launches on the GPU (`max_inflight`) and they also hold every launch while
 * the node's board says one of its requests is on the GPU; the
 * latency-critical tenant's own launches (`max_inflight` is
 * CUSLICE_INFLIGHT_HIGH for it) write that on the board, and its completed
 * synchronisations take it back (policy/board.h).
 *
 * Where the daemon has saturating tenants take turns on a GPU (policy/turns.h),
 * a lease waits for the tenant's turn instead of pacing, and a blocking
 * synchronisation tells the board that the tenant still wants its turn.
 *
 * Nothing here runs unless the tenant's segment asks for pacing: the launch
 * wrappers test one pointer.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "hold.h"
#include "policy/cost.h"
#include "policy/pace.h"
#include "policy/turns.h"
#include "profile.h"
#include "tenant.h"

#define COSTS 4096	      /* direct-mapped; a power of two */
#define DEFAULT_COST_NS 20000 /* until a key is measured */
#define LEARN_SAMPLES POLICY_COST_FIRST
#define WELL_KNOWN 64 /* samples, after which a key is timed only */
#define RARELY 4096   /* one launch in this many; a power of two */
#define PENDING 32
#define LEASE_NS 200000	   /* GPU time a process takes from its tenant at a time */
#define HOLD_POLL_NS 50000 /* how often a held launch looks at the board again */

struct cost {
	uint64_t key;
	uint64_t grid;
	uint32_t ns;
	uint32_t samples;
	uint32_t floor_ns; /* the profiled cost, if any */
	bool timed;	   /* a launch of it was timed here: its module is loaded */
	char *name;	   /* the kernel's, while recording a profile */
};

struct sample {
	CUevent start, end;
	CUcontext ctx; /* the events' */
	struct cost *cost;
	uint64_t key;
	bool held; /* its stream was held: the pair's own time is subtracted */
};

struct cuslice_sched *shim_gate;
static struct cuslice_sched unpaced; /* a process that records a profile alone */
uint64_t *gate_high_word;	     /* this process's word on the board, once it wrote there */
static uint64_t high_mark;	     /* what it wrote there last */
struct cuslice_turn_slot *gate_turn_slot; /* its tenant's, while it takes turns */
static bool board_bound;		  /* the daemon handed this process the node's board */
uint64_t *shim_launch_count;

static struct cost costs[COSTS];
uint64_t gate_local_count;
uint64_t gate_sample_mask = GATE_SAMPLE_EVERY - 1;

static struct {
	pthread_mutex_t lock;
	CUcontext ctx; /* events belong to the context they were made in */
	struct sample pending[PENDING];
	int npending;
	CUevent spare[2 * PENDING];
	int nspare;
} samples = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Launches of this process still on the GPU, when its tenant's in-flight
 * work is capped: an event recorded after each, oldest first. */
#define INFLIGHT 64
static struct {
	pthread_mutex_t lock;
	CUevent ring[INFLIGHT];
	CUcontext ctx[INFLIGHT]; /* each event's */
	int head, count;
} inflight = {.lock = PTHREAD_MUTEX_INITIALIZER};

static struct {
	__typeof__(&cuEventCreate) create;
	__typeof__(&cuEventDestroy_v2) destroy;
	__typeof__(&cuEventRecord) record;
	__typeof__(&cuEventRecord_ptsz) record_ptsz;
	__typeof__(&cuEventQuery) query;
	__typeof__(&cuEventSynchronize) synchronize;
	__typeof__(&cuEventElapsedTime_v2) elapsed;
	__typeof__(&cuCtxGetCurrent) get_current;
} drv;

void gate_bind(void)
{
	struct cuslice_segment *seg = tenant_segment();

	drv.create = (__typeof__(drv.create))shim_driver_symbol("cuEventCreate");
	drv.destroy = (__typeof__(drv.destroy))shim_driver_symbol("cuEventDestroy_v2");
	drv.record = (__typeof__(drv.record))shim_driver_symbol("cuEventRecord");
	drv.record_ptsz = (__typeof__(drv.record_ptsz))shim_driver_symbol("cuEventRecord_ptsz");
	drv.query = (__typeof__(drv.query))shim_driver_symbol("cuEventQuery");
	drv.synchronize = (__typeof__(drv.synchronize))shim_driver_symbol("cuEventSynchronize");
	drv.elapsed = (__typeof__(drv.elapsed))shim_driver_symbol("cuEventElapsedTime_v2");
	if (!drv.elapsed)
		drv.elapsed = (__typeof__(drv.elapsed))shim_driver_symbol("cuEventElapsedTime");
	drv.get_current = (__typeof__(drv.get_current))shim_driver_symbol("cuCtxGetCurrent");
	hold_bind();
	/* cuslice run's pacing is fixed: unpaced there, the gate stays off, unless
	 * this process records a profile. The daemon may pace a tenant at any
	 * time, and reads its launch counts. */
	bool daemon = tenant_from_daemon();
	bool paced = seg && (daemon || __atomic_load_n(&seg->sched.share_ppm, __ATOMIC_RELAXED));
	if (!paced && !profile_recording)
		return;
	if (profile_recording)
		gate_sample_mask = 0; /* time every launch until each kernel is well known */
	struct cuslice_proc *self = daemon ? tenant_self() : NULL;
	board_bound = tenant_board() != NULL;
	shim_launch_count = self ? &self->launches : NULL;
	if (drv.create && drv.destroy && drv.record && drv.query && drv.synchronize && drv.elapsed)
		__atomic_store_n(&shim_gate, paced ? &seg->sched : &unpaced, __ATOMIC_RELEASE);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A key seen for the first time: a profiled cost if the profile names the
 * kernel, else unmeasured. */
static __attribute__((noinline, cold)) void cost_start(struct cost *c, uint64_t key,
						       const void *what, uint64_t grid)
{
	uint32_t ns = DEFAULT_COST_NS, nsamples = 0, profiled = 0;
	const char *name = NULL;

	/* grid 0: a graph launch, whose handle means nothing to another process */
	if ((profile_loaded || profile_recording) && grid)
		name = profile_kernel_name(what);
	if (name && profile_lookup(policy_profile_key(name, grid), &profiled)) {
		ns = profiled;
		nsamples = POLICY_COST_FIRST; /* known: no need to time it at once */
	}
	__atomic_store_n(&c->samples, nsamples, __ATOMIC_RELAXED);
	__atomic_store_n(&c->ns, ns, __ATOMIC_RELAXED);
	__atomic_store_n(&c->floor_ns, profiled, __ATOMIC_RELAXED);
	__atomic_store_n(&c->timed, false, __ATOMIC_RELAXED);
	__atomic_store_n(&c->grid, grid, __ATOMIC_RELAXED);
	free(__atomic_exchange_n(&c->name, name && profile_recording ? strdup(name) : NULL,
				 __ATOMIC_ACQ_REL));
	__atomic_store_n(&c->key, key, __ATOMIC_RELEASE);
}

static struct cost *cost_of(uint64_t key, const void *what, uint64_t grid)
{
	struct cost *c = &costs[(key * 0x9e3779b97f4a7c15ull) >> 52 & (COSTS - 1)];

	if (__atomic_load_n(&c->key, __ATOMIC_RELAXED) != key)
		cost_start(c, key, what, grid); /* evicts what was there */
	return c;
}

/* See policy_cost_next(): the mean of typical samples, where a sample timed
 * across another context's time slice counts for little. */
static void cost_learn(struct cost *c, uint64_t key, uint32_t ns)
{
	if (__atomic_load_n(&c->key, __ATOMIC_RELAXED) != key)
		return;
	uint32_t count = __atomic_load_n(&c->samples, __ATOMIC_RELAXED);
	uint32_t old = __atomic_load_n(&c->ns, __ATOMIC_RELAXED);
	uint32_t floor = __atomic_load_n(&c->floor_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&c->ns, policy_cost_next(old, count, floor, ns), __ATOMIC_RELAXED);
	__atomic_store_n(&c->samples, count + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&c->timed, true, __ATOMIC_RELAXED);
}

void gate_profile_lines(FILE *f)
{
	for (int i = 0; i < COSTS; i++) {
		struct cost *c = &costs[i];
		if (c->name && c->samples)
			fprintf(f, "%u %" PRIu64 " %u %s\n", c->ns, c->grid, c->samples, c->name);
	}
}

/* An event of the current context (samples.ctx once this returns), from the
 * spares if there are any. Events belong to the context they were made in,
 * so the spares are of one context: another one's are destroyed, as are
 * events coming back from a context no longer current (a process launching
 * on several GPUs in turn would otherwise leak them, or record them on a
 * stream of the wrong context). The caller holds samples.lock. */
static bool take_event(CUevent *e)
{
	CUcontext ctx = NULL;

	if (drv.get_current(&ctx) != CUDA_SUCCESS || !ctx)
		return false;
	if (samples.ctx != ctx) {
		while (samples.nspare > 0)
			drv.destroy(samples.spare[--samples.nspare]);
		samples.ctx = ctx;
	}
	if (samples.nspare > 0) {
		*e = samples.spare[--samples.nspare];
		return true;
	}
	return drv.create(e, CU_EVENT_DEFAULT) == CUDA_SUCCESS;
}

/* Gives back an event of context `ctx`. The caller holds samples.lock. */
static void spare_event(CUevent e, CUcontext ctx)
{
	if (ctx == samples.ctx && samples.nspare < 2 * PENDING)
		samples.spare[samples.nspare++] = e;
	else
		drv.destroy(e);
}

/* A sample's GPU time: a held pair reads the kernel's and its own, which
 * is subtracted once measured (never more than three quarters of it). */
static uint32_t sample_ns(uint32_t ns, bool held)
{
	uint32_t pair = held ? hold_pair_ns() : 0;

	return ns - (pair < ns - ns / 4 ? pair : ns - ns / 4);
}

/* Learns from the samples that have completed; keeps the others. */
static void harvest(bool wait_all)
{
	int kept = 0;

	for (int i = 0; i < samples.npending; i++) {
		struct sample *s = &samples.pending[i];
		float ms;
		if (wait_all)
			drv.synchronize(s->end);
		CUresult q = drv.query(s->end);
		if (q == CUDA_ERROR_NOT_READY) {
			samples.pending[kept++] = *s;
			continue;
		}
		if (q == CUDA_SUCCESS && drv.elapsed(&ms, s->start, s->end) == CUDA_SUCCESS)
			cost_learn(s->cost, s->key, sample_ns((uint32_t)(ms * 1e6f), s->held));
		spare_event(s->start, s->ctx);
		spare_event(s->end, s->ctx);
	}
	samples.npending = kept;
}

static CUresult record(CUevent e, CUstream stream, bool ptsz)
{
	return ptsz && drv.record_ptsz ? drv.record_ptsz(e, stream) : drv.record(e, stream);
}

/* GPU time this thread may still admit before it takes another lease from
 * the tenant's timeline. Initial-exec: the shim is loaded at start-up (it is
 * preloaded), and a launch must not call __tls_get_addr. */
static __thread __attribute__((tls_model("initial-exec"))) int64_t local_budget_ns;

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull),
			      .tv_nsec = (long)(ns % 1000000000ull)};
	nanosleep(&ts, NULL);
}

/* The turns on the GPU this tenant takes turns on, or NULL: it paces. */
static struct cuslice_turns *turns(uint32_t *ret_slot)
{
	struct cuslice_segment *seg = tenant_segment();
	struct cuslice_board *b = tenant_board();

	if (!seg || !b || !CUSLICE_SEGMENT_HAS_TURNS(seg) || !CUSLICE_BOARD_HAS_TURNS(b))
		return NULL;
	uint32_t slot = __atomic_load_n(&seg->turn_slot, __ATOMIC_ACQUIRE);
	uint32_t dev = __atomic_load_n(&seg->turn_device, __ATOMIC_RELAXED);
	if (!slot || dev >= CUSLICE_MAX_DEVICES ||
	    __atomic_load_n(&b->turns[dev].nslots, __ATOMIC_ACQUIRE) < slot)
		return NULL; /* turns stopped since */
	*ret_slot = slot - 1;
	return &b->turns[dev];
}

/* Waits for the tenant's turn on the GPU (policy/turns.h) and admits `need`
 * in it; false if the tenant takes no turns. */
static bool take_turn(struct cuslice_sched *s, uint64_t need)
{
	uint32_t slot;
	struct cuslice_turns *t = turns(&slot);

	if (!t) {
		if (unlikely(__atomic_load_n(&gate_turn_slot, __ATOMIC_RELAXED)))
			__atomic_store_n(&gate_turn_slot, NULL, __ATOMIC_RELAXED);
		return false;
	}
	__atomic_store_n(&gate_turn_slot, &t->slots[slot], __ATOMIC_RELAXED);
	uint64_t start = now_ns(), now = start;
	for (;;) {
		struct policy_turn_verdict v = policy_turn(t, slot, now, need);
		if (v.passed)
			syscall(SYS_futex, &t->owner, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
		if (v.admitted) {
			if (v.at_ns > now)
				sleep_ns(v.at_ns - now);
			break;
		}
		struct timespec ts = {.tv_nsec = (long)(v.at_ns - now)};
		syscall(SYS_futex, &t->owner, FUTEX_WAIT, v.owner, &ts, NULL, 0);
		now = now_ns();
	}
	__atomic_fetch_add(&s->admitted_ns, need, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->leases, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->throttled_ns, now_ns() - start, __ATOMIC_RELAXED);
	return true;
}

uint64_t gate_syncing_slow(void)
{
	struct cuslice_turn_slot *slot = __atomic_load_n(&gate_turn_slot, __ATOMIC_RELAXED);

	return slot ? policy_turn_syncing(slot, now_ns()) : 0;
}

void gate_sync_done(uint64_t mark)
{
	struct cuslice_turn_slot *slot = __atomic_load_n(&gate_turn_slot, __ATOMIC_RELAXED);

	if (slot)
		policy_turn_synced(slot, mark, now_ns());
}

/* Takes enough of the tenant's allowance to cover this thread's deficit and
 * LEASE_NS more, waiting first if the tenant is ahead of its share or, while
 * it takes turns, until its turn. */
static __attribute__((noinline)) void lease(struct cuslice_sched *s)
{
	PROTECT_ERRNO;
	int64_t deficit = -local_budget_ns;
	uint64_t need = (deficit > 0 ? (uint64_t)deficit : 0) + LEASE_NS;
	uint64_t now = now_ns();
	uint64_t wait = board_bound && take_turn(s, need) ? 0 : policy_pace(s, now, need);

	if (wait) {
		sleep_ns(wait);
		__atomic_fetch_add(&s->throttled_ns, wait, __ATOMIC_RELAXED);
	}
	local_budget_ns += (int64_t)need;
	if (now - __atomic_load_n(&s->last_active_ns, __ATOMIC_RELAXED) > 1000000)
		__atomic_store_n(&s->last_active_ns, now, __ATOMIC_RELAXED);
}

/* Whether launch `n` of a key with `seen` samples is timed: timing costs
 * driver calls, so rarely once a key is well known (unless this process
 * records a profile). */
static inline bool sample_due(uint32_t seen, uint64_t n)
{
	uint64_t every = profile_recording   ? (seen < WELL_KNOWN ? 1 : GATE_SAMPLE_EVERY)
			 : seen < WELL_KNOWN ? GATE_SAMPLE_EVERY
					     : RARELY;
	return seen < LEARN_SAMPLES || !(n & (every - 1));
}

/* Starts timing this launch. Out of line, as the rest of the slow path's
 * rare parts, so that the common one saves few registers. */
static __attribute__((noinline)) void sample(struct gate_ticket *t, struct cost *c, uint64_t key,
					     bool ptsz, CUstream stream, bool paced, bool kernel)
{
	PROTECT_ERRNO;
	uint32_t seen = __atomic_load_n(&c->samples, __ATOMIC_RELAXED);

	pthread_mutex_lock(&samples.lock);
	harvest(false);
	bool got = samples.npending < PENDING && take_event(&t->start);
	if (got && !take_event(&t->end)) {
		spare_event(t->start, samples.ctx);
		got = false;
	}
	t->ctx = samples.ctx;
	/* The stream is held only for a kernel timed here before: a first launch
	 * may load its module, which can wait for the stream; nor for a graph,
	 * whose launch may upload it. */
	bool may_hold = kernel && __atomic_load_n(&c->timed, __ATOMIC_RELAXED);
	if (got && (!may_hold || !hold_stream(&t->hold, stream, ptsz)))
		t->hold.word = NULL;
	if (got && record(t->start, stream, ptsz) == CUDA_SUCCESS) {
		t->sampling = true;
		t->stream = stream;
		t->ptsz = ptsz;
		t->cost = c;
		t->key = key;
		t->unknown = seen == 0 && paced; /* unpaced, there is no hurry */
	} else if (got) {
		hold_release(&t->hold);
		spare_event(t->start, t->ctx);
		spare_event(t->end, t->ctx);
	}
	pthread_mutex_unlock(&samples.lock);
}

/* Retires launches that have completed; with `wait`, waits for the oldest. */
static void inflight_retire(bool wait)
{
	while (inflight.count > 0) {
		CUevent e = inflight.ring[inflight.head];
		CUcontext ctx = inflight.ctx[inflight.head];
		if (wait)
			drv.synchronize(e);
		else if (drv.query(e) == CUDA_ERROR_NOT_READY)
			return;
		wait = false;
		inflight.head = (inflight.head + 1) % INFLIGHT;
		inflight.count--;
		pthread_mutex_lock(&samples.lock);
		spare_event(e, ctx);
		pthread_mutex_unlock(&samples.lock);
	}
}

/* Holds the launch until fewer than `cap` of this process's launches are on
 * the GPU, so that a latency-critical tenant waits behind few of them. */
static void inflight_wait(struct cuslice_sched *s, uint32_t cap)
{
	uint64_t start = 0;

	pthread_mutex_lock(&inflight.lock);
	inflight_retire(false);
	while (inflight.count >= (int)cap) {
		if (!start)
			start = now_ns();
		inflight_retire(true);
	}
	pthread_mutex_unlock(&inflight.lock);
	if (start)
		__atomic_fetch_add(&s->throttled_ns, now_ns() - start, __ATOMIC_RELAXED);
}

static void inflight_track(CUstream stream, bool ptsz)
{
	CUevent e;

	pthread_mutex_lock(&samples.lock);
	bool got = take_event(&e);
	CUcontext ctx = samples.ctx;
	if (got && record(e, stream, ptsz) != CUDA_SUCCESS) {
		spare_event(e, ctx);
		got = false;
	}
	pthread_mutex_unlock(&samples.lock);
	if (!got)
		return;
	pthread_mutex_lock(&inflight.lock);
	if (inflight.count == INFLIGHT)
		inflight_retire(true);
	int at = (inflight.head + inflight.count++) % INFLIGHT;
	inflight.ring[at] = e;
	inflight.ctx[at] = ctx;
	pthread_mutex_unlock(&inflight.lock);
}

/* A launch of a latency-critical tenant: its work is on the GPU for a while. */
static void high_launched(void)
{
	struct cuslice_segment *seg = tenant_segment();
	struct cuslice_board *b = tenant_board();
	uint32_t slot = seg && b && CUSLICE_SEGMENT_HAS_HIGH_SLOT(seg)
				? __atomic_load_n(&seg->high_slot, __ATOMIC_RELAXED)
				: 0;

	if (!slot || slot > CUSLICE_BOARD_HIGH)
		return;
	uint64_t *word = &b->high_busy_until_ns[slot - 1];
	uint64_t until = now_ns() + CUSLICE_BOARD_HOLD_NS;
	__atomic_store_n(word, until, __ATOMIC_RELAXED);
	__atomic_store_n(&high_mark, until, __ATOMIC_RELAXED);
	__atomic_store_n(&gate_high_word, word, __ATOMIC_RELEASE);
}

/* A synchronisation of a latency-critical process returned: what it
 * launched is done, so the others need not hold for it any longer (unless
 * it, or another process of the tenant, launched since). */
void gate_synced_slow(void)
{
	uint64_t *word = __atomic_load_n(&gate_high_word, __ATOMIC_ACQUIRE);
	uint64_t mark = __atomic_load_n(&high_mark, __ATOMIC_RELAXED), now = now_ns();

	if (mark > now)
		__atomic_compare_exchange_n(word, &mark, now, false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED);
}

/* Holds while a latency-critical tenant's work is on the GPU, as the board
 * says; never longer than CUSLICE_BOARD_HOLD_MAX_NS at a stretch. */
static void hold_for_high(struct cuslice_sched *s)
{
	struct cuslice_board *b = tenant_board();
	uint64_t start = 0, now = 0;

	if (!b)
		return;
	for (;;) {
		uint64_t until = 0;
		for (int i = 0; i < CUSLICE_BOARD_HIGH; i++) {
			uint64_t u = __atomic_load_n(&b->high_busy_until_ns[i], __ATOMIC_RELAXED);
			until = u > until ? u : until;
		}
		now = now_ns();
		if (!start)
			start = now;
		if (until <= now || now - start >= CUSLICE_BOARD_HOLD_MAX_NS)
			break;
		sleep_ns(until - now < HOLD_POLL_NS ? until - now : HOLD_POLL_NS);
	}
	if (now > start)
		__atomic_fetch_add(&s->throttled_ns, now - start, __ATOMIC_RELAXED);
}

/* A launch of a tenant whose launches are capped or written on the board.
 * Returns the cap on this process's launches on the GPU (0: none). */
static __attribute__((noinline)) uint32_t capped(struct cuslice_sched *s, uint32_t cap)
{
	PROTECT_ERRNO;
	if (cap == CUSLICE_INFLIGHT_HIGH) {
		high_launched();
		return 0;
	}
	inflight_wait(s, cap);
	hold_for_high(s); /* last: a request may have come while waiting */
	return cap;
}

void gate_enter_slow(struct gate_ticket *t, bool ptsz, CUstream stream, const void *what,
		     uint64_t grid, uint64_t n)
{
	struct cuslice_sched *s = shim_gate;
	uint64_t key = (uint64_t)(uintptr_t)what * 31 + grid;
	struct cost *c = cost_of(key, what, grid);
	uint64_t cost = __atomic_load_n(&c->ns, __ATOMIC_RELAXED);
	bool paced = __atomic_load_n(&s->share_ppm, __ATOMIC_RELAXED) != 0;

	uint32_t cap = __atomic_load_n(&s->max_inflight, __ATOMIC_RELAXED);

	if (paced && (local_budget_ns -= (int64_t)cost) < 0)
		lease(s);
	if (unlikely(cap))
		cap = capped(s, cap);
	if (sample_due(__atomic_load_n(&c->samples, __ATOMIC_RELAXED), n))
		sample(t, c, key, ptsz, stream, paced, grid != 0);
	t->tracked = cap != 0;
	t->stream = stream;
	t->ptsz = ptsz;
}

/* The stream is released first of all: what follows may wait for the GPU. */
void gate_leave_slow(struct gate_ticket *t, CUresult rc)
{
	PROTECT_ERRNO;
	if (t->sampling) {
		pthread_mutex_lock(&samples.lock);
		bool ended =
			rc == CUDA_SUCCESS && record(t->end, t->stream, t->ptsz) == CUDA_SUCCESS;
		hold_release(&t->hold);
		if (ended && samples.npending < PENDING) {
			samples.pending[samples.npending++] =
				(struct sample){.start = t->start,
						.end = t->end,
						.ctx = t->ctx,
						.cost = t->cost,
						.key = t->key,
						.held = t->hold.word != NULL};
			/* never seen before: learn its cost before admitting more of it */
			if (t->unknown)
				harvest(true);
		} else {
			spare_event(t->start, t->ctx);
			spare_event(t->end, t->ctx);
		}
		pthread_mutex_unlock(&samples.lock);
	}
	if (t->tracked && rc == CUDA_SUCCESS)
		inflight_track(t->stream, t->ptsz);
	if (t->moved)
		moves_leave_slow(&t->move);
	if (t->ordered)
		legacy_after_slow(&t->order, rc);
}

/* The best-known costs, for the stats: the `max` keys with the most samples. */
int gate_costs(struct gate_cost *out, int max)
{
	int n = 0;

	for (int i = 0; i < COSTS; i++) {
		uint32_t samples_i = __atomic_load_n(&costs[i].samples, __ATOMIC_RELAXED);
		if (!samples_i)
			continue;
		int at = n < max ? n++ : max - 1;
		if (at == max - 1 && n == max && out[at].samples >= samples_i)
			continue;
		out[at] = (struct gate_cost){
			.key = costs[i].key, .ns = costs[i].ns, .samples = samples_i};
		for (; at > 0 && out[at].samples > out[at - 1].samples; at--) {
			struct gate_cost tmp = out[at];
			out[at] = out[at - 1];
			out[at - 1] = tmp;
		}
	}
	return n;
}

/* After fork: the parent's events are not the child's; the pacing stays. */
void gate_forget_all(void)
{
	gate_high_word = NULL; /* the child has launched nothing yet */
	gate_turn_slot = NULL;
	shim_launch_count = NULL; /* the parent's slot counts the parent */
	local_budget_ns = 0;	  /* the forking thread's; the child has no other */
	inflight.head = inflight.count = 0;
	pthread_mutex_init(&inflight.lock, NULL);
	samples.npending = samples.nspare = 0;
	samples.ctx = NULL;
	pthread_mutex_init(&samples.lock, NULL);
	hold_forget();
}
