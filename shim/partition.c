/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Spatial partitions: the tenant's kernels run on its own SMs.
 *
 * cusliced writes, per device, which groups of the driver's SM split the
 * tenant holds (policy/segment.h); the split is deterministic, so group g is
 * the same SMs in every process. Here the shim builds a green context from
 * those groups and makes it stand in for the device's primary context:
 * cuDevicePrimaryCtxRetain hands it out, and cuCtxSetCurrent and
 * cuCtxPushCurrent of the real primary context make it current instead. The
 * CUDA runtime (and with it PyTorch, Triton, cuBLAS) makes the primary
 * context current on each thread it uses, the first time before it has
 * retained it through the public API, so that is where the primary context
 * is recognised. A green context shares the primary context's memory and modules,
 * so allocations and functions stay usable everywhere; its default stream
 * takes the place of the legacy one. Contexts the program creates itself
 * (cuCtxCreate) get green contexts of their own from the same groups.
 *
 * One green context per device is shared by the process's threads, rather
 * than one per thread: per-thread contexts would give every thread its own
 * default stream, so work that one thread queues on "the" default stream
 * (PyTorch's forward pass) would no longer be ordered before what another
 * thread queues there (its autograd engine's backward pass). The driver's
 * note that a green context is current to one thread at a time is about
 * API calls racing on the context itself; `tests/gpu/smcheck threads 16`
 * drives one shared green context from 16 threads (launches on created
 * streams and the legacy one, copies, events, streams made and destroyed)
 * and checks every result: 3200 rounds, none wrong, on the H200.
 *
 * Under MPS (spatial mode) the tenant's processes join the MPS server of the
 * daemon's choosing; its pipe directory is set before the driver loads.
 * A fatal GPU error seen by any process is written to the segment, so the
 * daemon can restart the server at once and tell which tenants it hit.
 *
 * Wherever a partition cannot be honoured (no green contexts in the driver,
 * a group the split lacks) the device's contexts are refused with one line:
 * the tenant's work never runs on the whole GPU instead.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "memory.h"
#include "moves.h"
#include "shim.h"
#include "stats.h"
#include "tenant.h"
#include "wrap.h"

#define MAX_EXTRA 64

struct green {
	CUcontext primary; /* the real primary context it stands in for */
	CUgreenCtx green;
	CUcontext ctx;			/* cuCtxFromGreenCtx(green) */
	struct cuslice_partition built; /* what it was built from */
	unsigned flags;			/* … and the split's flags */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct green primaries[CUSLICE_MAX_DEVICES]; /* by CUdevice */
static struct green extra[MAX_EXTRA];		    /* made for cuCtxCreate */

static struct {
	__typeof__(&cuDeviceGetUuid_v2) get_uuid;
	__typeof__(&cuDeviceGetDevResource) get_resource;
	__typeof__(&cuDevSmResourceSplitByCount) split;
	__typeof__(&cuDevResourceGenerateDesc) describe;
	__typeof__(&cuGreenCtxCreate) create;
	__typeof__(&cuGreenCtxDestroy) destroy;
	__typeof__(&cuCtxFromGreenCtx) as_context;
	__typeof__(&cuCtxSetCurrent) set_current;
	__typeof__(&cuDevicePrimaryCtxRelease_v2) release;
} drv;

static bool bind(void)
{
	if (drv.as_context)
		return true;
#define SYM(field, name) drv.field = (__typeof__(drv.field))shim_driver_symbol(name)
	SYM(get_uuid, "cuDeviceGetUuid_v2");
	SYM(get_resource, "cuDeviceGetDevResource");
	SYM(split, "cuDevSmResourceSplitByCount");
	SYM(describe, "cuDevResourceGenerateDesc");
	SYM(create, "cuGreenCtxCreate");
	SYM(destroy, "cuGreenCtxDestroy");
	SYM(set_current, "cuCtxSetCurrent");
	SYM(release, "cuDevicePrimaryCtxRelease_v2");
	SYM(as_context, "cuCtxFromGreenCtx");
#undef SYM
	return drv.get_uuid && drv.get_resource && drv.split && drv.describe && drv.create &&
	       drv.destroy && drv.set_current && drv.release && drv.as_context;
}

/* Whether the segment holds any partition at all. */
static bool any_partition(const struct cuslice_segment *seg)
{
	for (uint32_t i = 0; i < seg->ndevices && i < CUSLICE_MAX_DEVICES; i++)
		if (__atomic_load_n(&seg->partitions[i].groups, __ATOMIC_ACQUIRE) ||
		    __atomic_load_n(&seg->partitions[i].remainder, __ATOMIC_ACQUIRE))
			return true;
	return false;
}

/* A consistent copy of the segment's partition `i` and its split's flags:
 * the writer makes the generation odd while it changes them (a seqlock). */
static void partition_read(const struct cuslice_segment *seg, uint32_t i,
			   struct cuslice_partition *ret, unsigned *flags)
{
	const struct cuslice_partition *p = &seg->partitions[i];

	for (;;) {
		uint32_t before = __atomic_load_n(&p->generation, __ATOMIC_ACQUIRE);
		ret->groups = __atomic_load_n(&p->groups, __ATOMIC_RELAXED);
		ret->group_sms = __atomic_load_n(&p->group_sms, __ATOMIC_RELAXED);
		ret->remainder = __atomic_load_n(&p->remainder, __ATOMIC_RELAXED);
		ret->sms = __atomic_load_n(&p->sms, __ATOMIC_RELAXED);
		*flags = CUSLICE_SEGMENT_HAS_SPLIT_FLAGS(seg)
				 ? __atomic_load_n(&seg->split_flags[i], __ATOMIC_RELAXED)
				 : 0;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		ret->generation = __atomic_load_n(&p->generation, __ATOMIC_RELAXED);
		if (!(before & 1) && before == ret->generation)
			return;
		sched_yield();
	}
}

static bool partition_same(const struct green *g, const struct cuslice_partition *p, unsigned flags)
{
	return g->built.groups == p->groups && g->built.remainder == p->remainder &&
	       g->built.group_sms == p->group_sms && g->flags == flags;
}

/* The segment's partition for CUDA device `dev`, matched by UUID (under MPS
 * the process sees its GPU as device 0 whatever the daemon's index), with
 * its split's flags (CU_DEV_SM_RESOURCE_SPLIT_IGNORE_SM_COSCHEDULING for the
 * fine one). 1 and *ret when the tenant's work there is partitioned; 0 when
 * it is not; -1 when it is (or may be) but this driver cannot tell or cannot
 * honour it: then the device's contexts are refused, never run on the whole
 * GPU. */
static int partition_of(CUdevice dev, struct cuslice_partition *ret, unsigned *flags)
{
	static int said;
	struct cuslice_segment *seg = tenant_segment();
	CUuuid uuid;

	if (!seg || !CUSLICE_SEGMENT_HAS_PARTITIONS(seg) || dev < 0 || !any_partition(seg))
		return 0;
	if (!bind() || drv.get_uuid(&uuid, dev) != CUDA_SUCCESS) {
		if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
			shim_log("this tenant's kernels are held to an SM partition, and this "
				 "driver "
				 "has no green contexts (CUDA 12.4 or later); its contexts are "
				 "refused");
		return -1;
	}
	for (uint32_t i = 0; i < seg->ndevices && i < CUSLICE_MAX_DEVICES; i++) {
		if (memcmp(seg->devices[i].uuid, uuid.bytes, 16) != 0)
			continue;
		partition_read(seg, i, ret, flags);
		if (shim_config.debug)
			shim_log("debug: device %d is the segment's %u: groups %#llx, remainder %u",
				 dev, i, (unsigned long long)ret->groups, ret->remainder);
		return ret->groups || ret->remainder;
	}
	if (shim_config.debug)
		shim_log("debug: device %d matches no device of the segment", dev);
	return 0;
}

bool partition_active(CUdevice dev)
{
	struct cuslice_partition p;
	unsigned flags;
	return partition_of(dev, &p, &flags) != 0;
}

/* A green context on the partition's SMs; the reason on failure. */
static CUresult build(CUdevice dev, const struct cuslice_partition *p, unsigned flags,
		      struct green *ret)
{
	CUdevResource all, groups[64], rest, picked[65];
	CUdevResourceDesc desc;
	unsigned n = 0, k = 0;
	uint64_t mask = p->groups;
	CUresult rc = drv.get_resource(dev, &all, CU_DEV_RESOURCE_TYPE_SM);

	if (rc == CUDA_SUCCESS)
		rc = drv.split(NULL, &n, &all, NULL, flags, p->group_sms);
	if (rc == CUDA_SUCCESS && n > 64)
		n = 64;
	if (rc == CUDA_SUCCESS)
		rc = drv.split(groups, &n, &all, &rest, flags, p->group_sms);
	if (rc != CUDA_SUCCESS) {
		shim_log("cannot split device %d's SMs into groups of %u%s (CUDA error %d); its "
			 "partition cannot be honoured, so its contexts are refused",
			 dev, p->group_sms, flags ? " ignoring co-scheduling" : "", rc);
		return rc;
	}
	for (unsigned g = 0; g < 64; g++) {
		if (!(mask >> g & 1))
			continue;
		if (g >= n) {
			shim_log("device %d splits into %u groups of %u SMs; the partition names "
				 "group %u, so its contexts are refused",
				 dev, n, p->group_sms, g);
			return CUDA_ERROR_INVALID_VALUE;
		}
		picked[k++] = groups[g];
	}
	if (p->remainder && rest.sm.smCount)
		picked[k++] = rest;
	rc = drv.describe(&desc, picked, k);
	if (rc == CUDA_SUCCESS)
		rc = drv.create(&ret->green, desc, dev, CU_GREEN_CTX_DEFAULT_STREAM);
	if (rc == CUDA_SUCCESS) {
		rc = drv.as_context(&ret->ctx, ret->green);
		if (rc != CUDA_SUCCESS)
			drv.destroy(ret->green);
	}
	if (rc != CUDA_SUCCESS)
		shim_log("cannot make a green context on device %d's %u SMs (CUDA error %d); its "
			 "contexts are refused",
			 dev, p->sms, rc);
	ret->built = *p;
	ret->flags = flags;
	return rc;
}

/* ---- moving with the partition -------------------------------------------
 *
 * A change of the tenant's partitions bumps the segment's epoch and wakes
 * futex waiters on it. A thread of the shim, started with the first stand-in,
 * sleeps there; on a change it builds a green context on each partitioned
 * device's new groups, makes it the stand-in, and retires the old one
 * (moves.c), so launches on the old one's streams run on the new SMs. It
 * then acknowledges the epoch in the process's slot, which cusliced reads to
 * tell when every running process has moved. Where the tenant has no
 * partition any more (it left the MPS server, or the GPU left spatial mode),
 * a running process keeps the SMs it has: as a client of the server it
 * cannot leave, and the whole GPU would be everyone's SMs. Contexts the
 * program created itself (cuCtxCreate) keep the SMs they were made with.
 */

#define WATCH_TIMEOUT_S 1 /* looks again even without a wake-up */

static bool watching;

/* The process's acknowledgement that its kernels run under `epoch`. */
static void acknowledge(uint32_t epoch)
{
	struct cuslice_segment *seg = tenant_segment();
	struct cuslice_proc *self = tenant_self();

	if (seg && self && CUSLICE_SEGMENT_HAS_MOVES(seg))
		__atomic_store_n(&seg->partitions_held[self - seg->procs], epoch + 1,
				 __ATOMIC_RELEASE);
}

/* Follows the segment's partitions, under the lock. */
static void follow(void)
{
	for (CUdevice dev = 0; dev < CUSLICE_MAX_DEVICES; dev++) {
		struct green *g = &primaries[dev], next = {.primary = g->primary};
		struct cuslice_partition p;
		unsigned flags;
		if (!g->ctx)
			continue;
		/* none now (the tenant left the MPS server, or the GPU left spatial
		 * mode): a client of the server keeps the SMs it has */
		if (partition_of(dev, &p, &flags) <= 0 || partition_same(g, &p, flags))
			continue;
		if (build(dev, &p, flags, &next) != CUDA_SUCCESS) {
			shim_log("device %d: this process's kernels stay on the SMs they had", dev);
			continue;
		}
		if (shim_config.debug)
			shim_log("debug: device %d: launches move from %p to %p (%u SMs)", dev,
				 (void *)g->ctx, (void *)next.ctx, p.sms);
		moves_retire(g->ctx, next.ctx, next.green);
		*g = next; /* the old green context stays: the application's streams are in it */
	}
}

static void *watch(void *arg)
{
	struct cuslice_segment *seg = tenant_segment();
	uint32_t seen = (uint32_t)(uintptr_t)arg;
	struct timespec timeout = {.tv_sec = WATCH_TIMEOUT_S};

	for (;;) {
		syscall(SYS_futex, &seg->partitions_epoch, FUTEX_WAIT, seen, &timeout, NULL, 0);
		uint32_t epoch = __atomic_load_n(&seg->partitions_epoch, __ATOMIC_ACQUIRE);
		if (epoch == seen)
			continue;
		pthread_mutex_lock(&lock);
		follow();
		pthread_mutex_unlock(&lock);
		acknowledge(epoch);
		seen = epoch;
	}
	return NULL;
}

/* With the first stand-in, under the lock: `epoch` is the one it was built under. */
static void watch_start(uint32_t epoch)
{
	struct cuslice_segment *seg = tenant_segment();

	if (watching || !seg || !CUSLICE_SEGMENT_HAS_MOVES(seg))
		return;
	acknowledge(epoch);
	watching = shim_thread_start("cuslice-moves", 0, watch, (void *)(uintptr_t)epoch);
	if (!watching)
		shim_log("cannot start the thread that follows changes of this tenant's SMs: "
			 "this process keeps the ones it has");
}

/* Whether `ctx` is a device's stand-in, or was one (or, with `extras`, a
 * green context made for cuCtxCreate). */
static bool made_here(CUcontext ctx, bool extras)
{
	bool found = false;

	if (!ctx)
		return false;
	pthread_mutex_lock(&lock);
	for (int dev = 0; dev < CUSLICE_MAX_DEVICES && !found; dev++)
		found = primaries[dev].ctx == ctx;
	for (int i = 0; extras && i < MAX_EXTRA && !found; i++)
		found = extra[i].ctx == ctx;
	pthread_mutex_unlock(&lock);
	return found || moves_successor(ctx); /* retired */
}

bool partition_movable(CUcontext ctx)
{
	struct cuslice_segment *seg = tenant_segment();

	return seg && (__atomic_load_n(&seg->flags, __ATOMIC_ACQUIRE) & CUSLICE_SEGMENT_MOVES) &&
	       made_here(ctx, false);
}

/* The segment's epoch of partition changes (0 in a segment without one). */
static uint32_t epoch_now(void)
{
	struct cuslice_segment *seg = tenant_segment();

	return seg && CUSLICE_SEGMENT_HAS_MOVES(seg)
		       ? __atomic_load_n(&seg->partitions_epoch, __ATOMIC_ACQUIRE)
		       : 0;
}

CUresult partition_primary(CUcontext *pctx, CUdevice dev)
{
	struct cuslice_partition p;
	unsigned flags;
	uint32_t epoch = epoch_now(); /* before the read: a change after it is followed */
	int r = partition_of(dev, &p, &flags);
	CUresult rc = CUDA_SUCCESS;

	if (r == 0)
		return CUDA_SUCCESS;
	if (r < 0 || dev >= CUSLICE_MAX_DEVICES) {
		drv.release(dev); /* the retain that succeeded */
		return CUDA_ERROR_NOT_SUPPORTED;
	}
	pthread_mutex_lock(&lock);
	struct green *g = &primaries[dev];
	if (!g->ctx) {
		rc = build(dev, &p, flags, g);
		if (rc == CUDA_SUCCESS) {
			g->primary = *pctx;
			watch_start(epoch);
		}
	}
	if (rc == CUDA_SUCCESS)
		*pctx = g->ctx;
	pthread_mutex_unlock(&lock);
	if (shim_config.debug)
		shim_log("debug: device %d: primary context %p stands in as green context %p (%u "
			 "SMs): CUDA error %d",
			 dev, (void *)g->primary, (void *)g->ctx, p.sms, rc);
	if (rc != CUDA_SUCCESS)
		drv.release(dev); /* the retain that succeeded */
	return rc;
}

CUresult partition_new_context(CUcontext *pctx, CUdevice dev)
{
	struct cuslice_partition p;
	unsigned flags;
	struct green g = {0};
	CUresult rc;

	if (partition_of(dev, &p, &flags) <= 0)
		return CUDA_ERROR_NOT_SUPPORTED;
	pthread_mutex_lock(&lock);
	struct green *slot = extra;
	while (slot < extra + MAX_EXTRA && slot->ctx)
		slot++;
	rc = slot == extra + MAX_EXTRA ? CUDA_ERROR_OUT_OF_MEMORY : build(dev, &p, flags, &g);
	if (rc == CUDA_SUCCESS) {
		*slot = g;
		*pctx = g.ctx;
	}
	pthread_mutex_unlock(&lock);
	/* cuCtxCreate leaves the new context current */
	return rc == CUDA_SUCCESS ? drv.set_current(g.ctx) : rc;
}

bool partition_green(CUcontext ctx)
{
	return made_here(ctx, true);
}

bool partition_destroy(CUcontext ctx, CUresult *rc)
{
	bool ours = false;

	if (!ctx)
		return false;
	pthread_mutex_lock(&lock);
	for (struct green *g = extra; g < extra + MAX_EXTRA; g++) {
		if (g->ctx == ctx) {
			*rc = drv.destroy(g->green);
			memset(g, 0, sizeof(*g));
			ours = true;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return ours;
}

void partition_primary_reset(CUdevice dev)
{
	if (dev < 0 || dev >= CUSLICE_MAX_DEVICES)
		return;
	pthread_mutex_lock(&lock);
	moves_forget(primaries[dev].primary);
	moves_forget(primaries[dev].ctx);
	if (primaries[dev].green)
		drv.destroy(primaries[dev].green);
	memset(&primaries[dev], 0, sizeof(primaries[dev]));
	pthread_mutex_unlock(&lock);
}

/* Whether `ctx` is the primary context of a partitioned device; if so its
 * stand-in is made (the runtime makes the primary context current before it
 * retains it, so this is where it is first seen) and returned in *ret.
 * Contexts found not to be primary are remembered, so each costs the lookup
 * once. An error: the partition cannot be honoured. */
static CUresult find_primary(CUcontext ctx, CUcontext *ret)
{
	static CUcontext others[16];
	static unsigned nothers;
	__typeof__(&cuDeviceGetCount) get_count =
		(__typeof__(get_count))shim_driver_symbol("cuDeviceGetCount");
	int count = 0;

	*ret = NULL;
	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < nothers && i < 16; i++)
		if (others[i] == ctx) {
			pthread_mutex_unlock(&lock);
			return CUDA_SUCCESS;
		}
	for (struct green *g = extra; g < extra + MAX_EXTRA; g++)
		if (g->ctx == ctx) { /* one of ours (cuCtxCreate) */
			pthread_mutex_unlock(&lock);
			return CUDA_SUCCESS;
		}
	pthread_mutex_unlock(&lock);
	if (!get_count || get_count(&count) != CUDA_SUCCESS)
		return CUDA_SUCCESS; /* no devices: no primary context either */
	for (CUdevice dev = 0; dev < count && dev < CUSLICE_MAX_DEVICES; dev++) {
		struct cuslice_partition p;
		unsigned flags;
		int r = partition_of(dev, &p, &flags);
		CUcontext primary;
		if (r == 0)
			continue;
		if (r < 0)
			return CUDA_ERROR_NOT_SUPPORTED;
		/* Retained to compare. cuDevicePrimaryCtxGetState cannot decide it
		 * first: on the H200 it said "inactive" for the primary context the
		 * runtime had made and was setting current. */
		if (REAL(cuDevicePrimaryCtxRetain)(&primary, dev) != CUDA_SUCCESS)
			continue;
		if (primary != ctx) {
			drv.release(dev);
			continue;
		}
		CUresult rc = partition_primary(&primary, dev); /* releases on failure */
		if (rc != CUDA_SUCCESS)
			return rc;
		drv.release(dev); /* the stand-in holds the primary context itself */
		*ret = primary;
		return CUDA_SUCCESS;
	}
	pthread_mutex_lock(&lock);
	others[nothers++ % 16] = ctx;
	pthread_mutex_unlock(&lock);
	return CUDA_SUCCESS;
}

/* What to make current for `ctx`: its green stand-in if it is a partitioned
 * device's primary context, else itself. */
static CUresult stand_in(CUcontext ctx, CUcontext *ret)
{
	struct cuslice_segment *seg = tenant_segment();
	CUcontext green;

	*ret = ctx;
	if (likely(!seg) || !ctx || !CUSLICE_SEGMENT_HAS_PARTITIONS(seg))
		return CUDA_SUCCESS;
	for (int i = 0; i < CUSLICE_MAX_DEVICES; i++) {
		if (primaries[i].ctx == ctx)
			return CUDA_SUCCESS;
		if (primaries[i].primary == ctx && primaries[i].ctx) {
			*ret = primaries[i].ctx;
			return CUDA_SUCCESS;
		}
	}
	CUresult rc = find_primary(ctx, &green);
	if (shim_config.debug)
		shim_log("debug: context %p made current%s (CUDA error %d)", (void *)ctx,
			 green ? " as its green stand-in" : "", rc);
	if (green)
		*ret = green;
	return rc;
}

#define MAKE_CURRENT(sym)                                                                 \
	SHIM_EXPORT CUresult sym(CUcontext ctx)                                           \
	{                                                                                 \
		CUcontext use;                                                            \
		WRAP_RESOLVE(sym);                                                        \
		stats_count(HOOK_##sym);                                                  \
		CUresult rc = stand_in(ctx, &use);                                        \
		return wrap_result(HOOK_##sym, rc == CUDA_SUCCESS ? REAL(sym)(use) : rc); \
	}
MAKE_CURRENT(cuCtxSetCurrent)
MAKE_CURRENT(cuCtxPushCurrent)
MAKE_CURRENT(cuCtxPushCurrent_v2)

/* A program's own green contexts would escape the partition. */
SHIM_EXPORT CUresult cuGreenCtxCreate(CUgreenCtx *phCtx, CUdevResourceDesc desc, CUdevice dev,
				      unsigned int flags)
{
	WRAP_RESOLVE(cuGreenCtxCreate);
	stats_count(HOOK_cuGreenCtxCreate);
	if (partition_active(dev)) {
		static bool said;
		if (!__atomic_exchange_n(&said, true, __ATOMIC_RELAXED))
			shim_log("this tenant's work on device %d is held to its SM partition; "
				 "green contexts of the program's own are refused",
				 dev);
		return wrap_result(HOOK_cuGreenCtxCreate, CUDA_ERROR_NOT_PERMITTED);
	}
	return wrap_result(HOOK_cuGreenCtxCreate, REAL(cuGreenCtxCreate)(phCtx, desc, dev, flags));
}

void partition_join_mps(void)
{
	struct cuslice_segment *seg = tenant_segment();
	char pipe[CUSLICE_MPS_PIPE_MAX];

	if (!seg || !CUSLICE_SEGMENT_HAS_PARTITIONS(seg))
		return;
	memcpy(pipe, seg->mps_pipe, sizeof(pipe));
	pipe[sizeof(pipe) - 1] = '\0';
	if (!pipe[0])
		return;
	const char *was = getenv("CUDA_MPS_PIPE_DIRECTORY");
	if (was && strcmp(was, pipe) != 0)
		shim_log(
			"CUDA_MPS_PIPE_DIRECTORY=\"%s\" replaced by cusliced's MPS server for this "
			"tenant, \"%s\"",
			was, pipe);
	setenv("CUDA_MPS_PIPE_DIRECTORY", pipe, 1);
}

bool partition_fatal(CUresult rc)
{
	switch ((int)rc) {
	case CUDA_ERROR_ILLEGAL_ADDRESS:
	case CUDA_ERROR_HARDWARE_STACK_ERROR:
	case CUDA_ERROR_ILLEGAL_INSTRUCTION:
	case CUDA_ERROR_MISALIGNED_ADDRESS:
	case CUDA_ERROR_INVALID_ADDRESS_SPACE:
	case CUDA_ERROR_INVALID_PC:
	case CUDA_ERROR_LAUNCH_FAILED:
	case CUDA_ERROR_MPS_RPC_FAILURE:
	case CUDA_ERROR_MPS_SERVER_NOT_READY:
	case CUDA_ERROR_MPS_CLIENT_TERMINATED:
		return true;
	default:
		return false;
	}
}

static int fault_said;

void partition_fault(CUresult rc)
{
	struct cuslice_segment *seg = tenant_segment();
	struct timespec ts;

	if (!seg || !CUSLICE_SEGMENT_HAS_PARTITIONS(seg) ||
	    __atomic_exchange_n(&fault_said, 1, __ATOMIC_RELAXED))
		return; /* a context's first fatal error says who; the rest follow from it */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	__atomic_store_n(&seg->fault.pid, (int32_t)getpid(), __ATOMIC_RELAXED);
	__atomic_store_n(&seg->fault.code, (int32_t)rc, __ATOMIC_RELAXED);
	__atomic_store_n(&seg->fault.time_ns, (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec,
			 __ATOMIC_RELEASE);
}

void partition_forget_all(void)
{
	memset(primaries, 0, sizeof(primaries));
	memset(extra, 0, sizeof(extra));
	fault_said = 0;
	watching = false; /* the child has no threads but its own */
	pthread_mutex_init(&lock, NULL);
}
