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
 * partition, so the shim puts the synchronisation back with events:
 *
 *   - after each operation on a blocking stream of a green context, or on
 *     its legacy stream, an event is recorded on that stream;
 *   - before an operation on the legacy stream, it waits for the events of
 *     the blocking streams that had operations since it last did;
 *   - before an operation on a blocking stream, it waits for the legacy
 *     stream's event if the legacy stream had operations since.
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
	struct order *order;
	CUevent done;	   /* recorded after each of its operations */
	uint64_t recorded; /* operations recorded on `done` */
	uint64_t taken;	   /* of them, those the legacy stream waited for */
	uint64_t seen;	   /* the legacy stream's `recorded` it waited for */
	struct lane *next; /* in its context's list */
};

/* A context's legacy stream. */
struct order {
	CUcontext ctx;
	bool green; /* false: an ordinary context, which keeps its own */
	CUevent done;
	uint64_t recorded;
	struct lane *lanes;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct order orders[ORDERS];
static int norders;
static struct lane *table[LANES]; /* created streams' lanes, by handle */
static __thread struct lane *mine[PER_THREAD] __attribute__((tls_model("initial-exec")));
static uint64_t count_streams, count_waits;

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

/* The legacy stream of `ctx`, under the lock; NULL where it needs nothing
 * (an ordinary context) or is not followed (too many contexts). */
static struct order *order_of(CUcontext ctx)
{
	for (int i = 0; i < norders; i++)
		if (orders[i].ctx == ctx)
			return orders[i].green ? &orders[i] : NULL;
	if (!ctx || norders == ORDERS)
		return NULL;
	struct order *o = &orders[norders];
	*o = (struct order){.ctx = ctx, .green = partition_green(ctx)};
	if (o->green && !(o->done = event_in(ctx)))
		return NULL; /* asked again next time */
	norders++;
	return o->green ? o : NULL;
}

static size_t slot_of(CUstream stream)
{
	return (size_t)(((uintptr_t)stream >> 4) * 0x9e3779b97f4a7c15ull >> 40) & (LANES - 1);
}

/* The lane of a created stream, under the lock; NULL: it takes no part. */
static struct lane *lane_find(CUstream stream)
{
	for (size_t i = slot_of(stream), n = 0; n < LANES && table[i];
	     i = (i + 1) & (LANES - 1), n++)
		if (table[i] != (struct lane *)GONE && table[i]->stream == stream)
			return table[i];
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
	l->order = order;
	l->next = order->lanes;
	order->lanes = l;
	return l;
}

void legacy_stream_created(CUstream stream, unsigned flags)
{
	PROTECT_ERRNO;
	CUcontext ctx = NULL;

	if ((flags & CU_STREAM_NON_BLOCKING) || !bind() || drv.get_current(&ctx) != CUDA_SUCCESS ||
	    !partition_green(ctx))
		return;
	pthread_mutex_lock(&lock);
	struct order *order = order_of(ctx);
	size_t i = slot_of(stream), n = 0;
	while (n < LANES && table[i] && table[i] != (struct lane *)GONE)
		i = (i + 1) & (LANES - 1), n++;
	struct lane *l = order && n < LANES ? lane_new(order, stream) : NULL;
	if (l) {
		table[i] = l;
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
	for (size_t i = slot_of(stream), n = 0; n < LANES && table[i];
	     i = (i + 1) & (LANES - 1), n++) {
		struct lane *l = table[i];
		if (l == (struct lane *)GONE || l->stream != stream)
			continue;
		table[i] = (struct lane *)GONE;
		for (struct lane **p = &l->order->lanes; *p; p = &(*p)->next)
			if (*p == l) {
				*p = l->next;
				break;
			}
		drv.event_destroy(l->done); /* freed by the driver once reached */
		l->stream = GONE;	    /* kept: an operation may still hold it */
		break;
	}
	pthread_mutex_unlock(&lock);
}

/* This thread's per-thread stream in `order`'s context, under the lock. */
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
	return mine[free_at] = lane_new(order, CU_STREAM_PER_THREAD);
}

static void wait_for(CUstream stream, CUevent event)
{
	if (drv.wait(stream, event, 0) == CUDA_SUCCESS)
		count_waits++;
}

bool legacy_before_slow(struct legacy_op *op, bool ptsz, CUstream stream)
{
	PROTECT_ERRNO;
	bool per_thread = stream == CU_STREAM_PER_THREAD || (!stream && ptsz);
	bool legacy = !per_thread && (!stream || stream == CU_STREAM_LEGACY);
	CUcontext ctx = NULL;

	if (__atomic_load_n(&shim_captures_active, __ATOMIC_RELAXED) &&
	    graphs_stream_capturing(ptsz, stream))
		return false; /* it runs with its graph */
	if ((legacy || per_thread) && drv.get_current(&ctx) != CUDA_SUCCESS)
		return false;
	pthread_mutex_lock(&lock);
	struct lane *lane = NULL;
	struct order *order = NULL;
	if (legacy || per_thread) {
		order = order_of(ctx);
		lane = order && per_thread ? lane_mine(order) : NULL;
		if (per_thread && !lane)
			order = NULL;
	} else if ((lane = lane_find(stream))) {
		order = lane->order;
	}
	if (order && lane && order->recorded > lane->seen) {
		wait_for(lane->stream, order->done);
		lane->seen = order->recorded;
	} else if (order && !lane) {
		for (struct lane *l = order->lanes; l; l = l->next)
			if (l->recorded > l->taken) {
				wait_for(CU_STREAM_LEGACY, l->done);
				l->taken = l->recorded;
			}
	}
	pthread_mutex_unlock(&lock);
	op->order = order;
	op->lane = lane;
	return order != NULL;
}

void legacy_after_slow(struct legacy_op *op, CUresult rc)
{
	PROTECT_ERRNO;
	struct lane *lane = op->lane;
	struct order *order = op->order;

	if (rc != CUDA_SUCCESS)
		return;
	pthread_mutex_lock(&lock);
	if (lane && lane->stream != GONE && drv.record(lane->done, lane->stream) == CUDA_SUCCESS)
		lane->recorded++;
	else if (!lane && drv.record(order->done, CU_STREAM_LEGACY) == CUDA_SUCCESS)
		order->recorded++;
	pthread_mutex_unlock(&lock);
}

void legacy_stats(struct legacy_stats *ret)
{
	pthread_mutex_lock(&lock);
	ret->streams = count_streams;
	ret->waits = count_waits;
	pthread_mutex_unlock(&lock);
}

void legacy_forget_all(void)
{
	memset(orders, 0, sizeof(orders));
	memset(table, 0, sizeof(table));
	memset(mine, 0, sizeof(mine));
	norders = 0;
	shim_detours &= ~DETOUR_LEGACY;
	count_streams = count_waits = 0;
	pthread_mutex_init(&lock, NULL);
}
