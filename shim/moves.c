/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Moving a running process's launches to new SMs.
 *
 * Where a kernel runs is decided by the context of the stream it is launched
 * on, and a stream cannot change context: the application's streams, its
 * legacy and per-thread default streams and the context handle the CUDA
 * runtime cached all stay in the green context they were made in. So when
 * the tenant's partition changes, partition.c builds a green context on the
 * new SMs and retires the old one here, and from then on each launch on a
 * stream of a retired context runs on a shadow stream in its successor:
 *
 *	cuEventRecord(in, stream)          the application's stream so far
 *	cuStreamWaitEvent(shadow, in)
 *	launch on shadow                   (the successor current meanwhile)
 *	cuEventRecord(out, shadow)
 *	cuStreamWaitEvent(stream, out)     what comes next waits for it
 *
 * so the kernel runs after everything queued on the stream before it and
 * before everything queued after it, as it would have there, and events,
 * copies and synchronisations on the application's stream keep their
 * meaning. Memory and modules are shared by the green contexts of a device
 * (they stand in for the one primary context), so the kernel's arguments and
 * function are valid in the successor: measured on an H100, functions of a
 * module loaded in one green context, of the runtime's and of a library
 * (cuLibraryGetKernel) ran on another's SMs when launched on its stream,
 * through cuLaunchKernel and cuLaunchKernelEx. A graph's kernels run in the
 * context they were captured in, whatever the stream, so launching a graph
 * on a shadow would not move it: graphs.c launches a copy whose kernel nodes
 * name the successor instead. Launches made while their stream is captured
 * run with their graph.
 *
 * A shadow is made on the first launch on each stream after a move, keyed by
 * the stream (and, for the legacy stream, its context; the per-thread stream
 * has one per thread). Its lock is held from the fence in to the fence out,
 * so launches from several threads on one stream keep an order. The events
 * belong to the context of the stream they are recorded on, as the driver's
 * documentation asks (the H100's driver also took them across contexts).
 *
 * Nothing here runs until a context is retired: the launch wrappers test one
 * word.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "moves.h"

#define RETIRED 64  /* contexts retired, at most (a move retires one per device) */
#define SHADOWS 256 /* shadows of created streams and legacy streams; a power of two */
#define PROBE 8

struct retired {
	CUcontext from;
	CUcontext to; /* its successor (the latest, for contexts retired twice) */
	CUgreenCtx green;
};

struct shadow {
	pthread_mutex_t lock;
	CUstream stream; /* the application's: created, CU_STREAM_LEGACY or _PER_THREAD */
	CUcontext from;	 /* its context */
	CUcontext to;	 /* the shadow's */
	CUstream shadow;
	CUevent in, out; /* made in `from` and in `to` */
};

static struct {
	pthread_mutex_t lock; /* retirements, and claims of table slots */
	struct retired list[RETIRED];
	int n;
	struct shadow table[SHADOWS];
} moves = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The per-thread default stream's shadow: the thread's alone, so no lock. */
static __thread struct shadow per_thread __attribute__((tls_model("initial-exec")));

static uint64_t count_retired, count_moved, count_unmoved, count_refused, count_shadows;

static struct {
	__typeof__(&cuStreamGetCtx) stream_ctx;
	__typeof__(&cuStreamGetPriority) priority;
	__typeof__(&cuGreenCtxStreamCreate) green_create;
	__typeof__(&cuStreamDestroy_v2) destroy;
	__typeof__(&cuStreamSynchronize) synchronize;
	__typeof__(&cuStreamWaitEvent) wait;
	__typeof__(&cuEventCreate) event_create;
	__typeof__(&cuEventDestroy_v2) event_destroy;
	__typeof__(&cuEventRecord) record;
	__typeof__(&cuCtxGetCurrent) get_current;
	__typeof__(&cuCtxPushCurrent_v2) push;
	__typeof__(&cuCtxPopCurrent_v2) pop;
} drv;

static bool bind(void)
{
	if (drv.pop)
		return true;
#define SYM(field, name) drv.field = (__typeof__(drv.field))shim_driver_symbol(name)
	SYM(stream_ctx, "cuStreamGetCtx");
	SYM(priority, "cuStreamGetPriority");
	SYM(green_create, "cuGreenCtxStreamCreate");
	SYM(destroy, "cuStreamDestroy_v2");
	SYM(synchronize, "cuStreamSynchronize");
	SYM(wait, "cuStreamWaitEvent");
	SYM(event_create, "cuEventCreate");
	SYM(event_destroy, "cuEventDestroy_v2");
	SYM(record, "cuEventRecord");
	SYM(get_current, "cuCtxGetCurrent");
	SYM(push, "cuCtxPushCurrent_v2");
	SYM(pop, "cuCtxPopCurrent_v2");
#undef SYM
	return drv.stream_ctx && drv.priority && drv.green_create && drv.destroy &&
	       drv.synchronize && drv.wait && drv.event_create && drv.event_destroy && drv.record &&
	       drv.get_current && drv.push && drv.pop;
}

void moves_retire(CUcontext from, CUcontext to, CUgreenCtx to_green)
{
	if (!from || !to_green || from == to || !bind())
		return;
	pthread_mutex_lock(&moves.lock);
	int n = moves.n;
	for (int i = 0; i < n; i++) {
		struct retired *r = &moves.list[i];
		if (r->to == from) { /* retired into `from` before: follows it */
			r->green = to_green;
			__atomic_store_n(&r->to, to, __ATOMIC_RELEASE);
		}
	}
	struct retired *r = NULL;
	for (int i = 0; i < n && !r; i++)
		if (moves.list[i].from == from)
			r = &moves.list[i];
	if (!r && n < RETIRED) {
		r = &moves.list[n];
		r->from = from;
		__atomic_store_n(&moves.n, n + 1, __ATOMIC_RELEASE);
	}
	if (r) {
		r->green = to_green;
		__atomic_store_n(&r->to, to, __ATOMIC_RELEASE);
		count_retired++;
	} else {
		shim_log("more than %d contexts retired: launches on streams of %p keep its SMs",
			 RETIRED, (void *)from);
	}
	pthread_mutex_unlock(&moves.lock);
	__atomic_fetch_or(&shim_detours, DETOUR_MOVES, __ATOMIC_RELEASE);
}

void moves_forget(CUcontext ctx)
{
	pthread_mutex_lock(&moves.lock);
	for (int i = 0; i < moves.n; i++)
		if (moves.list[i].from == ctx || moves.list[i].to == ctx)
			__atomic_store_n(&moves.list[i].to, NULL, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&moves.lock);
}

/* Where launches on streams of `ctx` run now: NULL where `ctx` serves. */
static CUcontext successor(CUcontext ctx, CUgreenCtx *green)
{
	if (!ctx)
		return NULL;
	int n = __atomic_load_n(&moves.n, __ATOMIC_ACQUIRE);

	for (int i = 0; i < n; i++)
		if (moves.list[i].from == ctx) {
			CUcontext to = __atomic_load_n(&moves.list[i].to, __ATOMIC_ACQUIRE);
			*green = moves.list[i].green;
			return to;
		}
	return NULL;
}

CUcontext moves_successor(CUcontext ctx)
{
	CUgreenCtx green;

	return successor(ctx, &green);
}

/* Makes `sh` a shadow of `stream` (of context `from`) in `to`: false if the
 * driver refused any part, and then nothing of it is kept. */
static bool shadow_make(struct shadow *sh, CUstream stream, CUcontext from, CUcontext to,
			CUgreenCtx green)
{
	CUstream s = NULL;
	CUevent in = NULL, out = NULL;
	CUcontext popped;
	int priority = 0;

	if (stream != CU_STREAM_LEGACY && stream != CU_STREAM_PER_THREAD)
		drv.priority(stream, &priority); /* the default if it cannot say */
	CUresult rc = drv.push(from);
	if (rc == CUDA_SUCCESS) {
		rc = drv.event_create(&in, CU_EVENT_DISABLE_TIMING);
		drv.pop(&popped);
	}
	if (rc == CUDA_SUCCESS)
		rc = drv.push(to);
	if (rc == CUDA_SUCCESS) {
		rc = drv.event_create(&out, CU_EVENT_DISABLE_TIMING);
		if (rc == CUDA_SUCCESS)
			rc = drv.green_create(&s, green, CU_STREAM_NON_BLOCKING, priority);
		drv.pop(&popped);
	}
	if (rc != CUDA_SUCCESS) {
		static int said;
		if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
			shim_log("cannot make a stream on the tenant's new SMs (CUDA error %d): "
				 "launches stay on the old ones",
				 rc);
		if (in)
			drv.event_destroy(in);
		if (out)
			drv.event_destroy(out);
		return false;
	}
	if (sh->shadow) /* work queued there finishes first */
		drv.destroy(sh->shadow);
	if (sh->in)
		drv.event_destroy(sh->in);
	if (sh->out)
		drv.event_destroy(sh->out);
	sh->stream = stream;
	sh->from = from;
	sh->to = to;
	sh->shadow = s;
	sh->in = in;
	sh->out = out;
	__atomic_fetch_add(&count_shadows, 1, __ATOMIC_RELAXED);
	return true;
}

static uintptr_t slot_hash(CUstream stream, CUcontext ctx)
{
	uintptr_t key = (uintptr_t)stream ^ (stream == CU_STREAM_LEGACY ? (uintptr_t)ctx : 0);
	return (key * 0x9e3779b97f4a7c15ull) >> 40;
}

/* The table slot of a created stream (its context as recorded there), or of
 * the legacy stream of `ctx`; NULL if none. */
static struct shadow *slot_find(CUstream stream, CUcontext ctx)
{
	uintptr_t h = slot_hash(stream, ctx);

	for (int i = 0; i < PROBE; i++) {
		struct shadow *sh = &moves.table[(h + i) & (SHADOWS - 1)];
		CUstream s = __atomic_load_n(&sh->stream, __ATOMIC_ACQUIRE);
		if (s == stream && (stream != CU_STREAM_LEGACY || sh->from == ctx))
			return sh;
		if (!s)
			return NULL;
	}
	return NULL;
}

/* A slot for a stream not in the table yet, locked: a free one, or the
 * first of its probe sequence (whose shadow is given up). */
static struct shadow *slot_claim(CUstream stream, CUcontext ctx)
{
	uintptr_t h = slot_hash(stream, ctx);
	struct shadow *sh = &moves.table[h & (SHADOWS - 1)];

	pthread_mutex_lock(&moves.lock);
	for (int i = 0; i < PROBE; i++) {
		struct shadow *c = &moves.table[(h + i) & (SHADOWS - 1)];
		if (!c->stream ||
		    (c->stream == stream && (stream != CU_STREAM_LEGACY || c->from == ctx))) {
			sh = c;
			break;
		}
	}
	pthread_mutex_lock(&sh->lock);
	if (sh->stream != stream) { /* taken now, so no one else claims it; made below */
		sh->from = NULL;
		__atomic_store_n(&sh->stream, stream, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&moves.lock);
	return sh;
}

/* The context of a created stream: as its slot recorded it, else asked. */
static bool created_stream_context(CUstream s, CUcontext *ctx)
{
	struct shadow *sh = slot_find(s, NULL);

	if (sh && (*ctx = __atomic_load_n(&sh->from, __ATOMIC_ACQUIRE)))
		return true;
	return drv.stream_ctx(s, ctx) == CUDA_SUCCESS;
}

void moves_enter_slow(struct move *m, bool ptsz, CUstream *stream)
{
	PROTECT_ERRNO;
	CUstream s = *stream;
	CUcontext ctx = NULL, to;
	CUgreenCtx green = NULL;
	struct shadow *sh;

	m->to = NULL; /* not moved, unless said below */
	if (s == CU_STREAM_PER_THREAD || (!s && ptsz))
		s = CU_STREAM_PER_THREAD;
	else if (!s)
		s = CU_STREAM_LEGACY;
	if (s == CU_STREAM_PER_THREAD || s == CU_STREAM_LEGACY) {
		if (drv.get_current(&ctx) != CUDA_SUCCESS || !ctx)
			return;
	} else if (!created_stream_context(s, &ctx)) {
		return; /* the launch itself will say what is wrong with the stream */
	}
	to = successor(ctx, &green);
	if (!to)
		return;
	if (s == CU_STREAM_PER_THREAD) {
		sh = &per_thread;
	} else {
		sh = slot_find(s, ctx);
		if (sh)
			pthread_mutex_lock(&sh->lock);
		else
			sh = slot_claim(s, ctx);
	}
	if ((sh->stream != s || sh->from != ctx || sh->to != to || !sh->shadow) &&
	    !shadow_make(sh, s, ctx, to, green))
		goto unmoved;
	if (drv.record(sh->in, s) != CUDA_SUCCESS) {
		/* a stream destroyed and its handle reused in another context: its
		 * context is asked again next time */
		__atomic_store_n(&sh->from, NULL, __ATOMIC_RELEASE);
		goto unmoved;
	}
	if (drv.wait(sh->shadow, sh->in, 0) != CUDA_SUCCESS || drv.push(to) != CUDA_SUCCESS)
		goto unmoved;
	m->to = sh;
	m->from = s;
	*stream = sh->shadow;
	__atomic_fetch_add(&count_moved, 1, __ATOMIC_RELAXED);
	return; /* locked until moves_leave_slow() */
unmoved:
	__atomic_fetch_add(&count_unmoved, 1, __ATOMIC_RELAXED);
	if (sh != &per_thread)
		pthread_mutex_unlock(&sh->lock);
}

void moves_leave_slow(struct move *m)
{
	PROTECT_ERRNO;
	struct shadow *sh = m->to;
	CUcontext popped;

	drv.pop(&popped);
	if (drv.record(sh->out, sh->shadow) != CUDA_SUCCESS ||
	    drv.wait(m->from, sh->out, 0) != CUDA_SUCCESS)
		drv.synchronize(sh->shadow); /* the order, the slow way */
	if (sh != &per_thread)
		pthread_mutex_unlock(&sh->lock);
	m->to = NULL;
}

CUstream moves_undo(struct move *m, CUresult rc)
{
	PROTECT_ERRNO;
	static int said;
	struct shadow *sh = m->to;
	CUcontext popped;

	drv.pop(&popped);
	if (sh != &per_thread)
		pthread_mutex_unlock(&sh->lock);
	m->to = NULL;
	__atomic_fetch_sub(&count_moved, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&count_unmoved, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&count_refused, 1, __ATOMIC_RELAXED);
	if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
		shim_log("a launch on the tenant's new SMs was refused (CUDA error %d): made "
			 "again where it was, on the old ones",
			 rc);
	return m->from;
}

void moves_stats(struct moves_stats *ret)
{
	ret->retired = __atomic_load_n(&count_retired, __ATOMIC_RELAXED);
	ret->moved = __atomic_load_n(&count_moved, __ATOMIC_RELAXED);
	ret->unmoved = __atomic_load_n(&count_unmoved, __ATOMIC_RELAXED);
	ret->refused = __atomic_load_n(&count_refused, __ATOMIC_RELAXED);
	ret->shadows = __atomic_load_n(&count_shadows, __ATOMIC_RELAXED);
}

void moves_forget_all(void)
{
	memset(moves.list, 0, sizeof(moves.list));
	memset(moves.table, 0, sizeof(moves.table));
	memset(&per_thread, 0, sizeof(per_thread));
	moves.n = 0;
	shim_detours &= ~DETOUR_MOVES;
	count_retired = count_moved = count_unmoved = count_refused = count_shadows = 0;
	pthread_mutex_init(&moves.lock, NULL);
}
