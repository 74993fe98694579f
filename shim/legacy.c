/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The legacy stream's implicit synchronisation, in the green contexts that
 * stand in for the tenant's primary context.
 *
 * In an ordinary context an operation on the legacy default stream waits for
 * everything queued before it on the context's blocking streams (those made
 * without CU_STREAM_NON_BLOCKING, and the per-thread default streams), and an
 * operation on a blocking stream waits for everything queued before it on
 * the legacy stream. A green context keeps none of that: measured on an H100
 * (driver 580), a kernel on a blocking stream, then one on the legacy stream
 * reading its result, then one on the blocking stream checking it, went
 * wrong in 275 of 300 rounds, and a synchronous copy right after a kernel on
 * a blocking stream read the old value in 300 of 300; in the primary
 * context, none. Programs written for the legacy stream (a kernel on a
 * stream of their own and then cudaMemcpy, say) would get wrong results in a
 * partition, so the shim puts the synchronisation back with events, recorded
 * only where the order changes hands:
 *
 *   - before an operation on the legacy stream, each blocking stream that had
 *     operations since the legacy stream last waited for it gets an event
 *     recorded on it now (it follows everything queued there so far), and
 *     the legacy stream waits for that event;
 *   - before an operation on a blocking stream, if the legacy stream had
 *     operations since, an event recorded on the legacy stream now, and the
 *     blocking stream waits for it.
 *
 * A program that keeps to its own streams and calls cudaMemcpy at the end of
 * each step pays two driver calls per blocking stream per step, not one per
 * operation: on an H100, 26-28 ns added to a launch on a blocking stream and
 * 42-56 ns on the legacy stream beside one, against 379-388 ns where every
 * launch hands the order over (bench/launch/order.sh). The exception is a
 * per-thread default stream: only its own thread can name it, so its event
 * is recorded after each of its operations.
 *
 * Operations are kernel launches, graph launches, copies and memsets (the
 * synchronous ones are on the legacy stream, or with _ptds on the per-thread
 * one), event records and waits, host functions, stream memory operations
 * and the like (hooks.h). Nothing of this runs until the program makes a
 * blocking stream in a green context: the frameworks that matter here
 * (PyTorch, JAX, vLLM) make theirs non-blocking, and pay one load per
 * operation. Streams under capture are left alone: their operations run with
 * their graph. Not covered: stream-ordered allocation (cuMemAllocAsync,
 * cuMemFreeAsync) and a program whose only blocking streams are per-thread
 * default streams (nvcc --default-stream per-thread) that also uses the
 * legacy stream.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "legacy.h"
#include "partition.h"

#define ORDERS 16    /* contexts whose legacy stream was used; a power of two not needed */
#define LANES 4096   /* blocking streams at once; a power of two */
#define PER_THREAD 4 /* green contexts a thread uses its per-thread stream in */
static char gone;
#define GONE ((CUstream)&gone) /* a destroyed stream's lane, and its table slot */

/* A blocking stream of a green context. */
struct lane {
	CUstream stream; /* created; CU_STREAM_PER_THREAD for a thread's own */
	bool own;	 /* CU_STREAM_PER_THREAD: recorded after each operation */
	struct order *order;
	CUevent done;	   /* follows its first `recorded` operations */
	uint64_t ops;	   /* operations queued on it (atomic) */
	uint64_t recorded; /* of them, those `done` follows */
	uint64_t taken;	   /* of them, those the legacy stream waited for */
	uint64_t seen;	   /* the legacy stream's operations it waited for */
	struct lane *next; /* in its context's list */
};

/* A context's legacy stream. */
struct order {
	CUcontext ctx;
	bool green; /* false: an ordinary context, which keeps its own */
	CUevent done;
	uint64_t ops; /* as a lane's */
	uint64_t recorded;
	struct lane *lanes;
};

/*
 * What changes (a new context, lane or table entry; a lane's unlinking; its
 * marks `recorded`, `taken`, `seen`) changes under the lock, and is
 * published with release stores; an operation reads with acquire loads and
 * takes the lock only where it has something to wait for. Lanes are never
 * freed, so a lane found or walked to stays readable.
 */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct order orders[ORDERS];
static int norders;
static struct lane *table[LANES]; /* created streams' lanes, by handle */
static __thread struct lane *mine[PER_THREAD] __attribute__((tls_model("initial-exec")));
static uint64_t count_streams, count_waits, count_records;

static struct {
	__typeof__(&cuCtxGetCurrent) get_current;
	__typeof__(&cuCtxPushCurrent_v2) push;
	__typeof__(&cuCtxPopCurrent_v2) pop;
	__typeof__(&cuEventCreate) event_create;
	__typeof__(&cuEventDestroy_v2) event_destroy;
	__typeof__(&cuEventRecord) record;
	__typeof__(&cuStreamWaitEvent) wait;
} drv;

static bool bind(void)
{
	if (drv.wait)
		return true;
#define SYM(field, name) drv.field = (__typeof__(drv.field))shim_driver_symbol(name)
	SYM(get_current, "cuCtxGetCurrent");
	SYM(push, "cuCtxPushCurrent_v2");
	SYM(pop, "cuCtxPopCurrent_v2");
	SYM(event_create, "cuEventCreate");
	SYM(event_destroy, "cuEventDestroy_v2");
	SYM(record, "cuEventRecord");
	SYM(wait, "cuStreamWaitEvent");
#undef SYM
	return drv.get_current && drv.push && drv.pop && drv.event_create && drv.event_destroy &&
	       drv.record && drv.wait;
}

/* An event of context `ctx`. */
static CUevent event_in(CUcontext ctx)
{
	CUevent e = NULL;
	CUcontext popped;

	if (drv.push(ctx) != CUDA_SUCCESS)
		return NULL;
	if (drv.event_create(&e, CU_EVENT_DISABLE_TIMING) != CUDA_SUCCESS)
		e = NULL;
	drv.pop(&popped);
	return e;
}

/* The legacy stream of `ctx`; NULL where it needs nothing (an ordinary
 * context) or is not followed (too many contexts). */
static struct order *order_of(CUcontext ctx)
{
	int n = __atomic_load_n(&norders, __ATOMIC_ACQUIRE);

	for (int i = 0; i < n; i++)
		if (orders[i].ctx == ctx)
			return orders[i].green ? &orders[i] : NULL;
	if (!ctx)
		return NULL;
	pthread_mutex_lock(&lock);
	struct order *o = NULL;
	for (int i = 0; i < norders && !o; i++)
		if (orders[i].ctx == ctx)
			o = &orders[i];
	if (!o && norders < ORDERS) {
		o = &orders[norders];
		*o = (struct order){.ctx = ctx, .green = partition_green(ctx)};
		if (!o->green || (o->done = event_in(ctx)))
			__atomic_store_n(&norders, norders + 1, __ATOMIC_RELEASE);
		else
			o = NULL; /* asked again next time */
	}
	pthread_mutex_unlock(&lock);
	return o && o->green ? o : NULL;
}

/* The lane of a created stream; NULL: it takes no part. */
static struct lane *lane_find(CUstream stream)
{
	struct lane *l;

	for (size_t i = shim_handle_slot(stream, LANES), n = 0;
	     n < LANES && (l = __atomic_load_n(&table[i], __ATOMIC_ACQUIRE));
	     i = (i + 1) & (LANES - 1), n++)
		if (l != (struct lane *)GONE && l->stream == stream)
			return l;
	return NULL;
}

/* A new lane of `order` on `stream`, under the lock. */
static struct lane *lane_new(struct order *order, CUstream stream)
{
	struct lane *l = calloc(1, sizeof(*l));

	if (!l || !(l->done = event_in(order->ctx))) {
		free(l);
		return NULL;
	}
	l->stream = stream;
	l->own = stream == CU_STREAM_PER_THREAD;
	l->order = order;
	l->next = order->lanes;
	__atomic_store_n(&order->lanes, l, __ATOMIC_RELEASE);
	return l;
}

void legacy_stream_created(CUstream stream, unsigned flags)
{
	PROTECT_ERRNO;
	CUcontext ctx = NULL;

	if ((flags & CU_STREAM_NON_BLOCKING) || !bind() || drv.get_current(&ctx) != CUDA_SUCCESS ||
	    !partition_green(ctx))
		return;
	struct order *order = order_of(ctx);
	pthread_mutex_lock(&lock);
	size_t i = shim_handle_slot(stream, LANES), n = 0;
	while (n < LANES && table[i] && table[i] != (struct lane *)GONE)
		i = (i + 1) & (LANES - 1), n++;
	struct lane *l = order && n < LANES ? lane_new(order, stream) : NULL;
	if (l) {
		__atomic_store_n(&table[i], l, __ATOMIC_RELEASE);
		count_streams++;
		__atomic_fetch_or(&shim_detours, DETOUR_LEGACY, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&lock);
	if (!l)
		shim_log("cannot keep a blocking stream in order with the legacy stream: "
			 "it is treated as a non-blocking one");
}

void legacy_stream_destroyed(CUstream stream)
{
	PROTECT_ERRNO;

	if (!(__atomic_load_n(&shim_detours, __ATOMIC_ACQUIRE) & DETOUR_LEGACY))
		return;
	pthread_mutex_lock(&lock);
	for (size_t i = shim_handle_slot(stream, LANES), n = 0; n < LANES && table[i];
	     i = (i + 1) & (LANES - 1), n++) {
		struct lane *l = table[i];
		if (l == (struct lane *)GONE || l->stream != stream)
			continue;
		__atomic_store_n(&table[i], (struct lane *)GONE, __ATOMIC_RELEASE);
		for (struct lane **p = &l->order->lanes; *p; p = &(*p)->next)
			if (*p == l) {
				__atomic_store_n(p, l->next, __ATOMIC_RELEASE);
				break;
			}
		drv.event_destroy(l->done); /* freed by the driver once reached */
		l->done = NULL;
		__atomic_store_n(&l->stream, GONE,
				 __ATOMIC_RELEASE); /* kept: an operation may hold it */
		break;
	}
	pthread_mutex_unlock(&lock);
}

/* This thread's per-thread stream in `order`'s context. */
static struct lane *lane_mine(struct order *order)
{
	int free_at = -1;

	for (int i = 0; i < PER_THREAD; i++) {
		if (mine[i] && mine[i]->order == order)
			return mine[i];
		if (!mine[i] && free_at < 0)
			free_at = i;
	}
	if (free_at < 0) /* a thread in more green contexts than this: its own left out */
		return NULL;
	pthread_mutex_lock(&lock);
	mine[free_at] = lane_new(order, CU_STREAM_PER_THREAD);
	pthread_mutex_unlock(&lock);
	return mine[free_at];
}

static uint64_t load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void wait_for(CUstream stream, CUevent event)
{
	if (drv.wait(stream, event, 0) == CUDA_SUCCESS)
		count_waits++;
}

static bool record(CUevent event, CUstream stream)
{
	if (drv.record(event, stream) != CUDA_SUCCESS)
		return false;
	count_records++;
	return true;
}

/* Under the lock: `l->done` follows every operation counted on it so far,
 * as far as that can be had (a stream now under capture cannot record). */
static void lane_record(struct lane *l)
{
	uint64_t ops = load(&l->ops);

	if (l->own || l->recorded == ops || l->stream == GONE)
		return; /* recorded after each of its operations, or nothing new */
	if (__atomic_load_n(&shim_captures_active, __ATOMIC_RELAXED) &&
	    graphs_stream_capturing(false, l->stream))
		return;
	if (record(l->done, l->stream))
		__atomic_store_n(&l->recorded, ops, __ATOMIC_RELEASE);
}

/* Under the lock: `order->done` follows every operation counted on the
 * legacy stream so far. */
static void order_record(struct order *order)
{
	uint64_t ops = load(&order->ops);
	CUcontext current = NULL, popped;

	if (order->recorded == ops || drv.get_current(&current) != CUDA_SUCCESS)
		return;
	/* CU_STREAM_LEGACY is the current context's legacy stream */
	if (current != order->ctx && drv.push(order->ctx) != CUDA_SUCCESS)
		return;
	if (record(order->done, CU_STREAM_LEGACY))
		__atomic_store_n(&order->recorded, ops, __ATOMIC_RELEASE);
	if (current != order->ctx)
		drv.pop(&popped);
}

/* Whether an operation on `lane` has the legacy stream's to wait for. */
static bool lane_behind(const struct lane *lane)
{
	return load(&lane->order->ops) > load(&lane->seen);
}

/* Under the lock: `lane` waits for the legacy stream's operations. */
static void lane_catch_up(struct lane *lane)
{
	struct order *order = lane->order;

	if (lane->stream == GONE) /* destroyed while this operation was on its way */
		return;
	order_record(order);
	if (order->recorded > lane->seen) {
		wait_for(lane->stream, order->done);
		__atomic_store_n(&lane->seen, order->recorded, __ATOMIC_RELEASE);
	}
}

/* Whether an operation on `order`'s legacy stream has a lane's to wait for. */
static bool order_behind(const struct order *order)
{
	for (const struct lane *l = __atomic_load_n(&order->lanes, __ATOMIC_ACQUIRE); l;
	     l = __atomic_load_n(&l->next, __ATOMIC_ACQUIRE))
		if (load(&l->ops) > load(&l->taken))
			return true;
	return false;
}

/* Under the lock: the legacy stream waits for its blocking streams. */
static void order_catch_up(struct order *order)
{
	for (struct lane *l = order->lanes; l; l = l->next) {
		if (load(&l->ops) > l->taken)
			lane_record(l);
		if (l->recorded > l->taken) {
			wait_for(CU_STREAM_LEGACY, l->done);
			__atomic_store_n(&l->taken, l->recorded, __ATOMIC_RELEASE);
		}
	}
}

bool legacy_before_slow(struct legacy_op *op, bool ptsz, CUstream stream)
{
	PROTECT_ERRNO;
	bool per_thread = stream == CU_STREAM_PER_THREAD || (!stream && ptsz);
	bool legacy = !per_thread && (!stream || stream == CU_STREAM_LEGACY);
	struct order *order = NULL;
	struct lane *lane = NULL;
	CUcontext ctx = NULL;

	if (__atomic_load_n(&shim_captures_active, __ATOMIC_RELAXED) &&
	    graphs_stream_capturing(ptsz, stream))
		return false; /* it runs with its graph */
	if (legacy || per_thread) {
		if (drv.get_current(&ctx) != CUDA_SUCCESS || !(order = order_of(ctx)))
			return false;
		if (per_thread && !(lane = lane_mine(order)))
			return false;
	} else if ((lane = lane_find(stream))) {
		order = lane->order;
	} else {
		return false;
	}
	if (lane ? lane_behind(lane) : order_behind(order)) {
		pthread_mutex_lock(&lock);
		if (lane)
			lane_catch_up(lane);
		else
			order_catch_up(order);
		pthread_mutex_unlock(&lock);
	}
	op->order = order;
	op->lane = lane;
	return true;
}

void legacy_after_slow(struct legacy_op *op, CUresult rc)
{
	PROTECT_ERRNO;
	struct lane *lane = op->lane;

	if (rc != CUDA_SUCCESS)
		return;
	if (!lane) {
		__atomic_fetch_add(&op->order->ops, 1, __ATOMIC_RELEASE);
		return;
	}
	uint64_t ops = __atomic_add_fetch(&lane->ops, 1, __ATOMIC_RELEASE);
	if (!lane->own)
		return;
	pthread_mutex_lock(&lock);
	if (record(lane->done, CU_STREAM_PER_THREAD))
		__atomic_store_n(&lane->recorded, ops, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&lock);
}

void legacy_stats(struct legacy_stats *ret)
{
	pthread_mutex_lock(&lock);
	ret->streams = count_streams;
	ret->waits = count_waits;
	ret->records = count_records;
	pthread_mutex_unlock(&lock);
}

void legacy_forget_all(void)
{
	memset(orders, 0, sizeof(orders));
	memset(table, 0, sizeof(table));
	memset(mine, 0, sizeof(mine));
	norders = 0;
	shim_detours &= ~DETOUR_LEGACY;
	count_streams = count_waits = count_records = 0;
	pthread_mutex_init(&lock, NULL);
}
