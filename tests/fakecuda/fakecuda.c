/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fakecuda: a stand-in libcuda.so.1 for machines without a GPU.
 *
 * It implements the part of the driver API the tests use, with the real
 * driver's exported names and ABI variants, a cuGetProcAddress that picks
 * variants by cudaVersion and the per-thread flag as the driver does,
 * simulated device memory (FAKECUDA_MEMORY bytes per device, default 80 GiB)
 * and kernels that take simulated time: a module image is either PTX (each
 * .entry a kernel of FAKECUDA_KERNEL_US microseconds, default 5) or text,
 * one kernel a line, "name duration_us"; a synchronisation waits until the
 * simulated GPU has run everything launched before it. Memory holds no data.
 * FAKECUDA_CONTEXT_BYTES is what each context takes of the device's memory,
 * FAKECUDA_REFUSE_BYTES an allocation size the driver refuses as out of
 * memory, FAKECUDA_DEVICES the number of devices (1 to 8),
 * FAKECUDA_SWITCH_US what the GPU loses switching contexts: a kernel that
 * runs right after another process's, while that one's work kept the GPU
 * busy, takes this much longer (default 0). FAKECUDA_LAUNCH_US is what a
 * launch call takes on the host before its kernel is queued (default 0), so
 * that an event pair around a launch on an idle stream also times the host,
 * as on a real GPU. A stream runs its kernels on the SMs of its context (the
 * current one for the default streams), and a graph's kernel nodes on those
 * of the context they were captured in, or were given as a CUkernel's, as on
 * an H100. Graph nodes name a CUkernel too where the kernel's module is a
 * library's (cuLibraryLoadData), and only their function for a module loaded
 * with cuModuleLoadData, as on the H100. FAKECUDA_FUNCTIONS_STAY=1 makes a
 * launch on a stream of another context than the kernel's module was loaded
 * in fail, as a driver might, and leaves out libraries.
 *
 * SMs are simulated as an H200 has them: 132, which cuDevSmResourceSplitByCount
 * (minCount 8) splits into 15 groups of 8 and a remainder of 12, and with
 * CU_DEV_SM_RESOURCE_SPLIT_IGNORE_SM_COSCHEDULING (minCount 3 or 4) into 33
 * groups of 4 (counted, not made: 66 of 2 for minCount 1 or 2). Green
 * contexts run their kernels on their groups only, a kernel taking
 * 132 / SMs times as long as on the whole GPU. Processes that are MPS clients
 * (CUDA_MPS_PIPE_DIRECTORY set at cuInit) run at once on disjoint groups;
 * others take the whole GPU for each kernel, as contexts time-slice. A kernel
 * whose name starts with "fault" fails as an illegal address would: this
 * process's next synchronisation says CUDA_ERROR_ILLEGAL_ADDRESS and, under
 * MPS, every other client of the same shared GPU sees
 * CUDA_ERROR_MPS_CLIENT_TERMINATED.
 *
 * It counts every call it receives; fakecuda_calls("cuMemAlloc_v2") tells a
 * test what really reached the driver.
 */
#define _GNU_SOURCE
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define MAX_COUNTED 256
#define MAX_KERNELS 64
#define MAX_NODES 256

/* ---- call counting ------------------------------------------------------ */

struct counted {
	const char *name;
	uint64_t calls;
};

static struct counted counted[MAX_COUNTED];
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;

/* The counter of entry point `name`, made on its first call. */
static struct counted *counter_of(const char *name)
{
	struct counted *c = NULL;

	pthread_mutex_lock(&count_lock);
	for (int i = 0; i < MAX_COUNTED && !c; i++) {
		if (!counted[i].name)
			counted[i].name = name;
		if (strcmp(counted[i].name, name) == 0)
			c = &counted[i];
	}
	pthread_mutex_unlock(&count_lock);
	return c;
}

/* Constant cost per call, so that benchmarks against fakecuda measure the shim. */
#define COUNT()                                                                    \
	do {                                                                       \
		static struct counted *counter_;                                   \
		struct counted *c_ = __atomic_load_n(&counter_, __ATOMIC_ACQUIRE); \
		if (!c_) {                                                         \
			c_ = counter_of(__func__);                                 \
			__atomic_store_n(&counter_, c_, __ATOMIC_RELEASE);         \
		}                                                                  \
		if (c_)                                                            \
			__atomic_fetch_add(&c_->calls, 1, __ATOMIC_RELAXED);       \
	} while (0)

EXPORT uint64_t fakecuda_calls(const char *name)
{
	uint64_t n = 0;

	pthread_mutex_lock(&count_lock);
	for (int i = 0; i < MAX_COUNTED && counted[i].name; i++)
		if (strcmp(counted[i].name, name) == 0)
			n = __atomic_load_n(&counted[i].calls, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&count_lock);
	return n;
}

/* ---- state ------------------------------------------------------------- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool initialized;
static int device_count = 1;
static size_t memory_total = 80ull << 30;
static size_t memory_used[8];
static uint64_t next_address = 0x7f0000000000ull;
static size_t context_bytes; /* FAKECUDA_CONTEXT_BYTES: what a context costs */
static int primary_refs[8];
static __thread CUcontext current_ctx;

#define FAKE_SMS 132
#define FAKE_GROUP_SMS 8
#define FAKE_GROUPS 15
#define FAKE_REMAINDER_SLOT 16
#define FAKE_ALL_SLOTS (((1u << FAKE_GROUPS) - 1) | 1u << FAKE_REMAINDER_SLOT)
/* What kernels run on: units of 4 SMs, the fine split's groups; group g of
 * the coarse split is units 2g and 2g + 1, its remainder units 30 to 32. */
#define FAKE_UNIT_SMS 4
#define FAKE_UNITS 33
#define FAKE_ALL_UNITS ((1ull << FAKE_UNITS) - 1)

struct fake_ctx {
	int device;
	uint32_t slots; /* bit per group of the coarse split, bit 16 the remainder; 0: all */
	uint32_t sms;	/* 0: all */
	uint64_t units; /* 0: all */
	bool green;	/* keeps no legacy-stream implicit synchronisation */
};
static struct fake_ctx primary_ctx[8];

struct fake_kernel {
	char name[64];
	uint64_t duration_ns;
	CUcontext ctx; /* current when its module was loaded */
	struct fake_module *module;
	bool library; /* its module is a library's: graph nodes name it as a CUkernel too */
};

struct fake_module {
	int count;
	struct fake_kernel kernels[MAX_KERNELS];
};

struct fake_graph {
	int count;
	uint64_t duration_ns;
	CUcontext ctx; /* an executable graph's: current when it was instantiated */
	struct fake_node {
		CUgraphNodeType type;
		struct fake_graph *child;
		uint64_t duration_ns;
		/* a kernel node: its function, the context it runs in, and
		 * whether it also names its kernel as a CUkernel */
		struct fake_kernel *func;
		CUcontext ctx;
		bool kern;
	} nodes[MAX_NODES];
};

#define ORDER_STREAMS 64

struct fake_stream {
	struct fake_graph *capture; /* non-NULL while capturing */
	CUcontext ctx;		    /* whose SMs its kernels run on */
	/* the order of its operations: a vector clock over the first
	 * ORDER_STREAMS streams (0 the legacy one, 1 the per-thread one) */
	int id;
	bool blocking;
	uint32_t clock[ORDER_STREAMS];
};

static struct fake_stream legacy_stream = {.id = 0}, per_thread_stream = {.id = 1};

struct allocation {
	uint64_t address;
	size_t size;
	int device;
};
static struct allocation allocations[4096];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static size_t env_size(const char *name, size_t fallback)
{
	const char *v = getenv(name);
	return v && *v ? strtoull(v, NULL, 0) : fallback;
}

static int current_device(void)
{
	return current_ctx ? ((struct fake_ctx *)current_ctx)->device : 0;
}

static void gpu_attach(void);

/* ---- init, devices, contexts ------------------------------------------- */

EXPORT CUresult cuInit(unsigned int flags)
{
	COUNT();
	pthread_mutex_lock(&lock);
	device_count = (int)env_size("FAKECUDA_DEVICES", 1);
	if (device_count < 1 || device_count > 8)
		device_count = 1;
	memory_total = env_size("FAKECUDA_MEMORY", 80ull << 30);
	context_bytes = env_size("FAKECUDA_CONTEXT_BYTES", 0);
	gpu_attach();
	for (int i = 0; i < device_count; i++)
		primary_ctx[i].device = i;
	initialized = true;
	pthread_mutex_unlock(&lock);
	return flags ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
}

#define REQUIRE_INIT()                                     \
	do {                                               \
		if (!initialized)                          \
			return CUDA_ERROR_NOT_INITIALIZED; \
	} while (0)

EXPORT CUresult cuDriverGetVersion(int *version)
{
	COUNT();
	*version = 13000;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGetCount(int *count)
{
	COUNT();
	REQUIRE_INIT();
	*count = device_count;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGet(CUdevice *dev, int ordinal)
{
	COUNT();
	REQUIRE_INIT();
	if (ordinal < 0 || ordinal >= device_count)
		return CUDA_ERROR_INVALID_DEVICE;
	*dev = ordinal;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGetName(char *name, int len, CUdevice dev)
{
	COUNT();
	REQUIRE_INIT();
	snprintf(name, len, "cuslice fake GPU %d", dev);
	return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGetAttribute(int *value, CUdevice_attribute attrib, CUdevice dev)
{
	COUNT();
	REQUIRE_INIT();
	switch (attrib) {
	case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT:
		*value = 132;
		return CUDA_SUCCESS;
	case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
		*value = 9;
		return CUDA_SUCCESS;
	case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
		*value = 0;
		return CUDA_SUCCESS;
	default:
		*value = 0;
		return CUDA_SUCCESS;
	}
}

EXPORT CUresult cuDeviceGetUuid_v2(CUuuid *uuid, CUdevice dev)
{
	COUNT();
	REQUIRE_INIT();
	if (dev < 0 || dev >= device_count)
		return CUDA_ERROR_INVALID_DEVICE;
	memset(uuid->bytes, 0, sizeof(uuid->bytes));
	uuid->bytes[0] = (char)0xfa;
	uuid->bytes[1] = (char)0xce;
	uuid->bytes[15] = (char)dev;
	return CUDA_SUCCESS;
}

/* For fakecuda's NVML: the device memory this process uses, contexts included. */
EXPORT uint64_t fakecuda_device_used(int dev)
{
	pthread_mutex_lock(&lock);
	uint64_t used = dev >= 0 && dev < 8 ? memory_used[dev] : 0;
	pthread_mutex_unlock(&lock);
	return used;
}

EXPORT CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev)
{
	COUNT();
	REQUIRE_INIT();
	*bytes = memory_total;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceTotalMem(unsigned int *bytes, CUdevice dev)
{
	COUNT();
	REQUIRE_INIT();
	*bytes = memory_total > UINT32_MAX ? UINT32_MAX : (unsigned)memory_total;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev)
{
	COUNT();
	REQUIRE_INIT();
	if (dev < 0 || dev >= device_count)
		return CUDA_ERROR_INVALID_DEVICE;
	pthread_mutex_lock(&lock);
	if (primary_refs[dev]++ == 0)
		memory_used[dev] += context_bytes;
	pthread_mutex_unlock(&lock);
	*pctx = (CUcontext)&primary_ctx[dev];
	return CUDA_SUCCESS;
}

EXPORT CUresult cuDevicePrimaryCtxGetState(CUdevice dev, unsigned int *flags, int *active)
{
	COUNT();
	REQUIRE_INIT();
	if (dev < 0 || dev >= device_count || !flags || !active)
		return CUDA_ERROR_INVALID_VALUE;
	*flags = 0;
	*active = primary_refs[dev] > 0;
	return CUDA_SUCCESS;
}

static CUresult primary_release(CUdevice dev, bool reset)
{
	REQUIRE_INIT();
	if (dev < 0 || dev >= device_count)
		return CUDA_ERROR_INVALID_DEVICE;
	pthread_mutex_lock(&lock);
	if (primary_refs[dev] > 0 && (reset || --primary_refs[dev] == 0)) {
		primary_refs[dev] = 0;
		memory_used[dev] -= context_bytes;
	}
	pthread_mutex_unlock(&lock);
	return CUDA_SUCCESS;
}

EXPORT CUresult cuDevicePrimaryCtxRelease(CUdevice dev)
{
	COUNT();
	return primary_release(dev, false);
}

EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev)
{
	COUNT();
	return primary_release(dev, false);
}

EXPORT CUresult cuDevicePrimaryCtxReset(CUdevice dev)
{
	COUNT();
	return primary_release(dev, true);
}

EXPORT CUresult cuDevicePrimaryCtxReset_v2(CUdevice dev)
{
	COUNT();
	return primary_release(dev, true);
}

static CUresult ctx_create(CUcontext *pctx, CUdevice dev)
{
	REQUIRE_INIT();
	if (dev < 0 || dev >= device_count)
		return CUDA_ERROR_INVALID_DEVICE;
	struct fake_ctx *ctx = calloc(1, sizeof(*ctx));
	ctx->device = dev;
	pthread_mutex_lock(&lock);
	memory_used[dev] += context_bytes;
	pthread_mutex_unlock(&lock);
	*pctx = current_ctx = (CUcontext)ctx;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxCreate_v2(CUcontext *pctx, unsigned int flags, CUdevice dev)
{
	COUNT();
	return ctx_create(pctx, dev);
}

EXPORT CUresult cuCtxCreate_v4(CUcontext *pctx, CUctxCreateParams *params, unsigned int flags,
			       CUdevice dev)
{
	COUNT();
	return ctx_create(pctx, dev);
}

static CUresult ctx_destroy(CUcontext ctx)
{
	REQUIRE_INIT();
	if (!ctx)
		return CUDA_ERROR_INVALID_VALUE;
	if (current_ctx == ctx)
		current_ctx = NULL;
	struct fake_ctx *c = (struct fake_ctx *)ctx;
	if (c < primary_ctx || c >= primary_ctx + 8) {
		pthread_mutex_lock(&lock);
		memory_used[c->device] -= context_bytes;
		pthread_mutex_unlock(&lock);
		free(c);
	}
	return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxDestroy_v2(CUcontext ctx)
{
	COUNT();
	return ctx_destroy(ctx);
}

EXPORT CUresult cuCtxSetCurrent(CUcontext ctx)
{
	COUNT();
	REQUIRE_INIT();
	current_ctx = ctx;
	return CUDA_SUCCESS;
}

static __thread CUcontext ctx_stack[8];
static __thread int ctx_depth;

EXPORT CUresult cuCtxPushCurrent_v2(CUcontext ctx)
{
	COUNT();
	REQUIRE_INIT();
	if (!ctx || ctx_depth == 8)
		return CUDA_ERROR_INVALID_VALUE;
	ctx_stack[ctx_depth++] = current_ctx;
	current_ctx = ctx;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxPopCurrent_v2(CUcontext *pctx)
{
	COUNT();
	REQUIRE_INIT();
	if (!ctx_depth)
		return CUDA_ERROR_INVALID_CONTEXT;
	if (pctx)
		*pctx = current_ctx;
	current_ctx = ctx_stack[--ctx_depth];
	return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxGetCurrent(CUcontext *pctx)
{
	COUNT();
	REQUIRE_INIT();
	*pctx = current_ctx;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxGetDevice(CUdevice *dev)
{
	COUNT();
	REQUIRE_INIT();
	if (!current_ctx)
		return CUDA_ERROR_INVALID_CONTEXT;
	*dev = current_device();
	return CUDA_SUCCESS;
}

/* ---- simulated time ------------------------------------------------------ */

/* The simulated GPU runs one kernel at a time on each group of SMs, in
 * submission order. With FAKECUDA_SHARED_GPU=FILE, every process naming the
 * same file shares one GPU, as processes share a real one. */
struct fake_gpu {
	uint32_t lock;
	uint32_t fault_epoch; /* bumped by a faulting MPS client */
	uint64_t busy_until[FAKE_UNITS];
	uint64_t busy_any; /* the latest of them: one load for the whole GPU */
	int32_t last_pid;  /* whose kernel ends at busy_any */
	uint32_t pad;
};
static struct fake_gpu local_gpu, *gpu = &local_gpu;
static uint64_t my_last_end_ns; /* when this process's last kernel ends */
static bool mps_client;		/* CUDA_MPS_PIPE_DIRECTORY was set at cuInit */
static uint32_t fault_epoch_seen;
static CUresult sticky;			/* this process's context failed */
static uint64_t switch_ns;		/* FAKECUDA_SWITCH_US */
static uint64_t launch_ns;		/* FAKECUDA_LAUNCH_US */
static bool functions_stay;		/* FAKECUDA_FUNCTIONS_STAY=1 */
static __thread uint64_t last_start_ns; /* when this thread's last kernel starts */

static void gpu_attach(void)
{
	const char *path = getenv("FAKECUDA_SHARED_GPU");
	int fd = path && *path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
	const char *pipe = getenv("CUDA_MPS_PIPE_DIRECTORY");

	mps_client = pipe && *pipe;
	switch_ns = env_size("FAKECUDA_SWITCH_US", 0) * 1000;
	launch_ns = env_size("FAKECUDA_LAUNCH_US", 0) * 1000;
	functions_stay = env_size("FAKECUDA_FUNCTIONS_STAY", 0) == 1;
	if (fd < 0)
		return;
	if (ftruncate(fd, sizeof(struct fake_gpu)) == 0) {
		void *p = mmap(NULL, sizeof(struct fake_gpu), PROT_READ | PROT_WRITE, MAP_SHARED,
			       fd, 0);
		if (p != MAP_FAILED)
			gpu = p;
	}
	close(fd);
	fault_epoch_seen = __atomic_load_n(&gpu->fault_epoch, __ATOMIC_ACQUIRE);
}

static void gpu_lock(void)
{
	while (__atomic_exchange_n(&gpu->lock, 1, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void gpu_unlock(void)
{
	__atomic_store_n(&gpu->lock, 0, __ATOMIC_RELEASE);
}

/* The SMs a context's kernels hold: its own under MPS, else the whole GPU
 * (contexts of different processes time-slice). */
static uint64_t held_units(CUcontext ctx)
{
	const struct fake_ctx *c = (const struct fake_ctx *)ctx;
	return mps_client && c && c->units ? c->units : FAKE_ALL_UNITS;
}

static uint64_t busy_until(uint64_t units)
{
	uint64_t busy = 0;

	if (units == FAKE_ALL_UNITS)
		return __atomic_load_n(&gpu->busy_any, __ATOMIC_RELAXED);
	for (int i = 0; i < FAKE_UNITS; i++)
		if (units >> i & 1) {
			uint64_t b = __atomic_load_n(&gpu->busy_until[i], __ATOMIC_RELAXED);
			busy = b > busy ? b : busy;
		}
	return busy;
}

static __thread uint32_t last_slots; /* the groups this thread's last kernel ran on */

/* `duration_ns` is what the work takes on the whole GPU; it runs on the SMs
 * of context `ctx`. */
static uint64_t gpu_run(uint64_t duration_ns, CUcontext ctx)
{
	const struct fake_ctx *c = (const struct fake_ctx *)ctx;
	uint64_t units = held_units(ctx);

	last_slots = c && c->slots ? c->slots : FAKE_ALL_SLOTS;
	uint64_t now = now_ns(), start, end;

	if (c && c->sms)
		duration_ns = duration_ns * FAKE_SMS / c->sms;
	gpu_lock();
	start = busy_until(units);
	/* queued behind another context's work: the GPU switches between them */
	if (units == FAKE_ALL_UNITS && start > now && gpu->last_pid != getpid() && switch_ns) {
		duration_ns += switch_ns;
	}
	start = start > now ? start : now;
	end = start + duration_ns;
	last_start_ns = start;
	for (int i = 0; i < FAKE_UNITS; i++)
		if (units >> i & 1)
			__atomic_store_n(&gpu->busy_until[i], end, __ATOMIC_RELAXED);
	if (end > gpu->busy_any) {
		__atomic_store_n(&gpu->busy_any, end, __ATOMIC_RELAXED);
		gpu->last_pid = getpid();
	}
	gpu_unlock();
	__atomic_store_n(&my_last_end_ns, end, __ATOMIC_RELAXED);
	return end;
}

/* What a synchronisation reports: this process's fault, or another MPS
 * client's, which ends every client of the server. */
static CUresult gpu_error(void)
{
	if (sticky)
		return sticky;
	if (mps_client && __atomic_load_n(&gpu->fault_epoch, __ATOMIC_ACQUIRE) != fault_epoch_seen)
		sticky = CUDA_ERROR_MPS_CLIENT_TERMINATED;
	return sticky;
}

static void gpu_fault(void)
{
	sticky = CUDA_ERROR_ILLEGAL_ADDRESS;
	if (mps_client)
		fault_epoch_seen = __atomic_add_fetch(&gpu->fault_epoch, 1, __ATOMIC_ACQ_REL);
}

static void sleep_until(uint64_t until)
{
	uint64_t now = now_ns();
	if (until > now) {
		struct timespec ts = {.tv_sec = (until - now) / 1000000000ull,
				      .tv_nsec = (until - now) % 1000000000ull};
		nanosleep(&ts, NULL);
	}
}

static void hold_wait(void);

static void gpu_wait(void)
{
	hold_wait();
	sleep_until(__atomic_load_n(&my_last_end_ns, __ATOMIC_RELAXED));
}

EXPORT CUresult cuCtxSynchronize(void)
{
	COUNT();
	REQUIRE_INIT();
	gpu_wait();
	return gpu_error();
}

/* ---- SM resources and green contexts ------------------------------------ */

/* A resource remembers its groups and units in the padding the real driver
 * keeps for itself. */
static uint32_t *resource_slots(CUdevResource *r)
{
	return (uint32_t *)(void *)r->_internal_padding;
}

static uint64_t resource_units(const CUdevResource *r)
{
	uint64_t units;
	memcpy(&units, r->_internal_padding + 8, sizeof(units));
	return units;
}

static void sm_resource(CUdevResource *r, uint32_t sms, uint32_t min, uint32_t slots,
			uint64_t units)
{
	memset(r, 0, sizeof(*r));
	r->type = CU_DEV_RESOURCE_TYPE_SM;
	r->sm.smCount = sms;
	r->sm.minSmPartitionSize = min;
	r->sm.smCoscheduledAlignment = min;
	*resource_slots(r) = slots;
	memcpy(r->_internal_padding + 8, &units, sizeof(units));
}

EXPORT CUresult cuDeviceGetDevResource(CUdevice dev, CUdevResource *r, CUdevResourceType type)
{
	COUNT();
	REQUIRE_INIT();
	if (dev < 0 || dev >= device_count)
		return CUDA_ERROR_INVALID_DEVICE;
	if (!r || type != CU_DEV_RESOURCE_TYPE_SM)
		return CUDA_ERROR_INVALID_VALUE;
	sm_resource(r, FAKE_SMS, FAKE_GROUP_SMS, FAKE_ALL_SLOTS, FAKE_ALL_UNITS);
	return CUDA_SUCCESS;
}

/* The fine split (CU_DEV_SM_RESOURCE_SPLIT_IGNORE_SM_COSCHEDULING): groups of
 * 4, one unit each; finer ones are only counted, as an H200 has them. */
static CUresult split_fine(CUdevResource *result, unsigned *nb, CUdevResource *remaining,
			   unsigned min_count)
{
	unsigned size = min_count <= 2 ? 2 : min_count <= 4 ? 4 : 8;
	unsigned groups = size == 8 ? 16 : FAKE_SMS / size;

	if (!result) {
		*nb = groups;
		return CUDA_SUCCESS;
	}
	if (size != FAKE_UNIT_SMS)
		return CUDA_ERROR_NOT_SUPPORTED; /* not simulated */
	unsigned n = *nb < groups ? *nb : groups;
	for (unsigned i = 0; i < n; i++)
		sm_resource(&result[i], FAKE_UNIT_SMS, FAKE_UNIT_SMS, 0, 1ull << i);
	if (remaining)
		sm_resource(remaining, FAKE_SMS - n * FAKE_UNIT_SMS, FAKE_UNIT_SMS, 0,
			    FAKE_ALL_UNITS & ~((1ull << n) - 1));
	*nb = n;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuDevSmResourceSplitByCount(CUdevResource *result, unsigned *nb,
					    const CUdevResource *input, CUdevResource *remaining,
					    unsigned flags, unsigned min_count)
{
	COUNT();
	REQUIRE_INIT();
	if (nb && input && input->sm.smCount == FAKE_SMS &&
	    flags == CU_DEV_SM_RESOURCE_SPLIT_IGNORE_SM_COSCHEDULING)
		return split_fine(result, nb, remaining, min_count);
	if (!nb || !input || min_count != FAKE_GROUP_SMS || input->sm.smCount != FAKE_SMS || flags)
		return CUDA_ERROR_INVALID_VALUE; /* only the whole GPU, in groups of 8 */
	if (!result) {
		*nb = FAKE_GROUPS;
		return CUDA_SUCCESS;
	}
	unsigned n = *nb < FAKE_GROUPS ? *nb : FAKE_GROUPS;
	for (unsigned i = 0; i < n; i++)
		sm_resource(&result[i], FAKE_GROUP_SMS, FAKE_GROUP_SMS, 1u << i, 3ull << (2 * i));
	if (remaining) {
		uint32_t slots = n < FAKE_GROUPS ? ((1u << FAKE_GROUPS) - 1) & ~((1u << n) - 1) : 0;
		sm_resource(remaining, FAKE_SMS - n * FAKE_GROUP_SMS, FAKE_GROUP_SMS,
			    slots | 1u << FAKE_REMAINDER_SLOT,
			    FAKE_ALL_UNITS & ~((1ull << (2 * n)) - 1));
	}
	*nb = n;
	return CUDA_SUCCESS;
}

struct fake_desc {
	uint32_t slots, sms;
	uint64_t units;
};

EXPORT CUresult cuDevResourceGenerateDesc(CUdevResourceDesc *desc, CUdevResource *r, unsigned n)
{
	COUNT();
	REQUIRE_INIT();
	if (!desc || !r || !n)
		return CUDA_ERROR_INVALID_VALUE;
	struct fake_desc *d = calloc(1, sizeof(*d));
	for (unsigned i = 0; i < n; i++) {
		if (resource_units(&r[i]) & d->units) {
			free(d);
			return CUDA_ERROR_INVALID_RESOURCE_CONFIGURATION;
		}
		d->slots |= *resource_slots(&r[i]);
		d->units |= resource_units(&r[i]);
		d->sms += r[i].sm.smCount;
	}
	*desc = (CUdevResourceDesc)d;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuGreenCtxCreate(CUgreenCtx *green, CUdevResourceDesc desc, CUdevice dev,
				 unsigned flags)
{
	COUNT();
	REQUIRE_INIT();
	const struct fake_desc *d = (const struct fake_desc *)desc;
	if (!green || !d || dev < 0 || dev >= device_count ||
	    !(flags & CU_GREEN_CTX_DEFAULT_STREAM))
		return CUDA_ERROR_INVALID_VALUE;
	struct fake_ctx *c = calloc(1, sizeof(*c));
	*c = (struct fake_ctx){
		.device = dev, .slots = d->slots, .sms = d->sms, .units = d->units, .green = true};
	*green = (CUgreenCtx)c;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxFromGreenCtx(CUcontext *ctx, CUgreenCtx green)
{
	COUNT();
	REQUIRE_INIT();
	if (!ctx || !green)
		return CUDA_ERROR_INVALID_VALUE;
	*ctx = (CUcontext)green; /* the same object: a green context is one */
	return CUDA_SUCCESS;
}

EXPORT CUresult cuGreenCtxDestroy(CUgreenCtx green)
{
	COUNT();
	REQUIRE_INIT();
	if (!green)
		return CUDA_ERROR_INVALID_VALUE;
	if (current_ctx == (CUcontext)green)
		current_ctx = NULL;
	free(green);
	return CUDA_SUCCESS;
}

/* For tests: the primary context as the CUDA runtime gets it, through the
 * driver's private interface rather than cuDevicePrimaryCtxRetain (so a shim
 * first sees it when the runtime makes it current), and, as on the H200,
 * without cuDevicePrimaryCtxGetState calling it active. */
EXPORT CUcontext fakecuda_runtime_primary(int dev)
{
	return (CUcontext)&primary_ctx[dev];
}

/* For tests: the SMs the current context's kernels run on (0: none current). */
EXPORT unsigned fakecuda_current_sms(void)
{
	const struct fake_ctx *c = (const struct fake_ctx *)current_ctx;
	return c ? (c->sms ? c->sms : FAKE_SMS) : 0;
}

/* … and which groups (bit 16: the remainder). */
EXPORT unsigned fakecuda_current_slots(void)
{
	const struct fake_ctx *c = (const struct fake_ctx *)current_ctx;
	return c ? (c->slots ? c->slots : FAKE_ALL_SLOTS) : 0;
}

/* ---- streams and capture ------------------------------------------------ */

static struct fake_stream *stream_of(CUstream s, bool ptsz)
{
	if (s == CU_STREAM_PER_THREAD || (!s && ptsz))
		return &per_thread_stream;
	if (!s || s == CU_STREAM_LEGACY)
		return &legacy_stream;
	return (struct fake_stream *)s;
}

/* The context of a stream: the current one for the default streams. */
static CUcontext stream_ctx(const struct fake_stream *fs)
{
	return fs == &per_thread_stream || fs == &legacy_stream || !fs->ctx ? current_ctx : fs->ctx;
}

/*
 * The order of stream operations (kernels, copies, event records and waits,
 * host functions, graphs), so tests can ask whether one operation is ordered
 * after another. An operation on the legacy stream comes after every earlier
 * one on the context's blocking streams (created without
 * CU_STREAM_NON_BLOCKING, and the per-thread stream), and one on those after
 * every earlier one on the legacy stream, except in a green context: as
 * measured on an H100, a green context keeps no such implicit
 * synchronisation. A stream that waits for an event comes after what the
 * event was recorded behind.
 */
static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fake_stream *order_streams[ORDER_STREAMS] = {&legacy_stream, &per_thread_stream};
static int order_count = 2;
static __thread struct fake_stream *last_op_stream;
static __thread uint32_t last_op_seq;

static void clock_merge(uint32_t *into, const uint32_t *from)
{
	for (int i = 0; i < ORDER_STREAMS; i++)
		if (from[i] > into[i])
			into[i] = from[i];
}

/* One more operation on `fs`, queued in context `ctx`. */
static void order_op(struct fake_stream *fs)
{
	const struct fake_ctx *c = (const struct fake_ctx *)stream_ctx(fs);
	bool blocking = fs == &per_thread_stream || fs->blocking;

	pthread_mutex_lock(&order_lock);
	if (!c || !c->green) {
		if (fs == &legacy_stream) {
			for (int i = 1; i < order_count; i++)
				if (order_streams[i] == &per_thread_stream ||
				    (order_streams[i]->blocking &&
				     order_streams[i]->ctx == (CUcontext)c))
					clock_merge(fs->clock, order_streams[i]->clock);
		} else if (blocking) {
			clock_merge(fs->clock, legacy_stream.clock);
		}
	}
	if (fs->id < ORDER_STREAMS)
		fs->clock[fs->id]++;
	last_op_stream = fs;
	last_op_seq = fs->id < ORDER_STREAMS ? fs->clock[fs->id] : 0;
	pthread_mutex_unlock(&order_lock);
}

/* The last operation this thread queued, as a token for fakecuda_ordered_after(). */
EXPORT uint64_t fakecuda_last_op(void)
{
	return last_op_stream ? (uint64_t)last_op_stream->id << 32 | last_op_seq : 0;
}

/* Whether the last operation this thread queued comes after operation `token`. */
EXPORT int fakecuda_ordered_after(uint64_t token)
{
	uint32_t id = token >> 32, seq = (uint32_t)token;

	pthread_mutex_lock(&order_lock);
	int after = last_op_stream && id < ORDER_STREAMS && last_op_stream->clock[id] >= seq;
	pthread_mutex_unlock(&order_lock);
	return after;
}

static CUresult stream_create(CUstream *ps, CUcontext ctx, bool blocking)
{
	REQUIRE_INIT();
	if (!ps)
		return CUDA_ERROR_INVALID_VALUE;
	struct fake_stream *fs = calloc(1, sizeof(struct fake_stream));
	fs->ctx = ctx;
	fs->blocking = blocking;
	pthread_mutex_lock(&order_lock);
	fs->id = order_count < ORDER_STREAMS ? order_count : ORDER_STREAMS;
	if (order_count < ORDER_STREAMS)
		order_streams[order_count++] = fs;
	pthread_mutex_unlock(&order_lock);
	*ps = (CUstream)fs;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamCreate(CUstream *ps, unsigned int flags)
{
	COUNT();
	return stream_create(ps, current_ctx, !(flags & CU_STREAM_NON_BLOCKING));
}

EXPORT CUresult cuStreamCreateWithPriority(CUstream *ps, unsigned int flags, int priority)
{
	COUNT();
	return stream_create(ps, current_ctx, !(flags & CU_STREAM_NON_BLOCKING));
}

EXPORT CUresult cuGreenCtxStreamCreate(CUstream *ps, CUgreenCtx green, unsigned int flags,
				       int priority)
{
	COUNT();
	if (!green || !(flags & CU_STREAM_NON_BLOCKING))
		return CUDA_ERROR_INVALID_VALUE;
	return stream_create(ps, (CUcontext)green, false);
}

EXPORT CUresult cuStreamGetCtx(CUstream s, CUcontext *pctx)
{
	COUNT();
	REQUIRE_INIT();
	*pctx = stream_ctx(stream_of(s, false));
	return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamGetPriority(CUstream s, int *priority)
{
	COUNT();
	*priority = 0;
	return CUDA_SUCCESS;
}

/* For tests: the groups this thread's last kernel ran on (bit 16: the remainder). */
EXPORT unsigned fakecuda_last_slots(void)
{
	return last_slots;
}

EXPORT CUresult cuStreamDestroy_v2(CUstream s)
{
	COUNT();
	REQUIRE_INIT();
	if (!s || s == CU_STREAM_LEGACY || s == CU_STREAM_PER_THREAD)
		return CUDA_ERROR_INVALID_HANDLE;
	/* kept: the order of the operations queued on it still counts */
	((struct fake_stream *)s)->blocking = false;
	return CUDA_SUCCESS;
}

static CUresult stream_sync(void)
{
	REQUIRE_INIT();
	gpu_wait();
	return gpu_error();
}

EXPORT CUresult cuStreamSynchronize(CUstream s)
{
	COUNT();
	return stream_sync();
}

EXPORT CUresult cuStreamSynchronize_ptsz(CUstream s)
{
	COUNT();
	return stream_sync();
}

static CUresult capture_begin(CUstream s, bool ptsz)
{
	REQUIRE_INIT();
	struct fake_stream *fs = stream_of(s, ptsz);
	if (fs == &legacy_stream)
		return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
	if (fs->capture)
		return CUDA_ERROR_ILLEGAL_STATE;
	fs->capture = calloc(1, sizeof(struct fake_graph));
	return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamBeginCapture_v2(CUstream s, CUstreamCaptureMode mode)
{
	COUNT();
	return capture_begin(s, false);
}

EXPORT CUresult cuStreamBeginCapture_v2_ptsz(CUstream s, CUstreamCaptureMode mode)
{
	COUNT();
	return capture_begin(s, true);
}

static CUresult capture_end(CUstream s, CUgraph *graph, bool ptsz)
{
	REQUIRE_INIT();
	struct fake_stream *fs = stream_of(s, ptsz);
	if (!fs->capture)
		return CUDA_ERROR_ILLEGAL_STATE;
	*graph = (CUgraph)fs->capture;
	fs->capture = NULL;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamEndCapture(CUstream s, CUgraph *graph)
{
	COUNT();
	return capture_end(s, graph, false);
}

EXPORT CUresult cuStreamEndCapture_ptsz(CUstream s, CUgraph *graph)
{
	COUNT();
	return capture_end(s, graph, true);
}

static CUresult is_capturing(CUstream s, CUstreamCaptureStatus *status, bool ptsz)
{
	REQUIRE_INIT();
	*status = stream_of(s, ptsz)->capture ? CU_STREAM_CAPTURE_STATUS_ACTIVE
					      : CU_STREAM_CAPTURE_STATUS_NONE;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamIsCapturing(CUstream s, CUstreamCaptureStatus *status)
{
	COUNT();
	return is_capturing(s, status, false);
}

EXPORT CUresult cuStreamIsCapturing_ptsz(CUstream s, CUstreamCaptureStatus *status)
{
	COUNT();
	return is_capturing(s, status, true);
}

static CUresult mem_alloc(uint64_t *dptr, size_t size);
static CUresult mem_free(uint64_t dptr);
static void hold_reached(uint64_t at_ns);

/* ---- modules and launches -------------------------------------------------- */

/* PTX gets one kernel per ".entry", each taking FAKECUDA_KERNEL_US (default 5). */
static void module_parse_ptx(struct fake_module *m, const char *ptx)
{
	uint64_t us = env_size("FAKECUDA_KERNEL_US", 5);

	for (const char *p = strstr(ptx, ".entry"); p && m->count < MAX_KERNELS;
	     p = strstr(p + 6, ".entry")) {
		struct fake_kernel *k = &m->kernels[m->count];
		if (sscanf(p + 6, " %63[A-Za-z0-9_$]", k->name) != 1)
			continue;
		k->duration_ns = us * 1000;
		m->count++;
	}
}

static void module_parse_list(struct fake_module *m, const char *p)
{
	while (*p && m->count < MAX_KERNELS) {
		struct fake_kernel *k = &m->kernels[m->count];
		unsigned long long us = 0;
		int used = 0;
		if (sscanf(p, "%63s %llu%n", k->name, &us, &used) < 2)
			break;
		k->duration_ns = us * 1000;
		m->count++;
		p += used;
	}
}

static CUresult module_load(CUmodule *module, const void *image, bool library)
{
	REQUIRE_INIT();
	if (!module || !image)
		return CUDA_ERROR_INVALID_VALUE;
	struct fake_module *m = calloc(1, sizeof(*m));
	if (strstr(image, ".entry"))
		module_parse_ptx(m, image);
	else
		module_parse_list(m, image);
	for (int i = 0; i < m->count; i++) {
		m->kernels[i].ctx = current_ctx;
		m->kernels[i].module = m;
		m->kernels[i].library = library;
	}
	*module = (CUmodule)m;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuModuleLoadData(CUmodule *module, const void *image)
{
	COUNT();
	return module_load(module, image, false);
}

EXPORT CUresult cuModuleLoadDataEx(CUmodule *module, const void *image, unsigned n,
				   CUjit_option *options, void **values)
{
	COUNT();
	return module_load(module, image, false);
}

/* A library is its module here (one per device, as the green contexts of a
 * primary context share theirs); none with FAKECUDA_FUNCTIONS_STAY=1, a
 * driver that keeps functions to their context. */
EXPORT CUresult cuLibraryLoadData(CUlibrary *library, const void *code, CUjit_option *jit_options,
				  void **jit_values, unsigned n_jit, CUlibraryOption *options,
				  void **values, unsigned n)
{
	COUNT();
	if (functions_stay)
		return CUDA_ERROR_NOT_SUPPORTED;
	return module_load((CUmodule *)library, code, true);
}

EXPORT CUresult cuLibraryGetModule(CUmodule *module, CUlibrary library)
{
	COUNT();
	*module = (CUmodule)library;
	return library ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

EXPORT CUresult cuLibraryGetKernel(CUkernel *kernel, CUlibrary library, const char *name)
{
	COUNT();
	return cuModuleGetFunction((CUfunction *)kernel, (CUmodule)library, name);
}

EXPORT CUresult cuLibraryUnload(CUlibrary library)
{
	COUNT();
	free(library);
	return CUDA_SUCCESS;
}

EXPORT CUresult cuFuncGetModule(CUmodule *module, CUfunction f)
{
	COUNT();
	if (!module || !f)
		return CUDA_ERROR_INVALID_VALUE;
	*module = (CUmodule)((struct fake_kernel *)f)->module;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuModuleUnload(CUmodule module)
{
	COUNT();
	free(module);
	return CUDA_SUCCESS;
}

EXPORT CUresult cuModuleGetFunction(CUfunction *f, CUmodule module, const char *name)
{
	COUNT();
	REQUIRE_INIT();
	struct fake_module *m = (struct fake_module *)module;
	for (int i = 0; m && i < m->count; i++) {
		if (strcmp(m->kernels[i].name, name) == 0) {
			*f = (CUfunction)&m->kernels[i];
			return CUDA_SUCCESS;
		}
	}
	return CUDA_ERROR_NOT_FOUND;
}

EXPORT CUresult cuFuncGetName(const char **name, CUfunction f)
{
	COUNT();
	REQUIRE_INIT();
	if (!name || !f)
		return CUDA_ERROR_INVALID_VALUE;
	*name = ((struct fake_kernel *)f)->name;
	return CUDA_SUCCESS;
}

static CUresult graph_add(struct fake_graph *g, CUgraphNodeType type, uint64_t ns,
			  struct fake_graph *child)
{
	if (g->count >= MAX_NODES)
		return CUDA_ERROR_OUT_OF_MEMORY;
	g->nodes[g->count++] = (struct fake_node){.type = type, .duration_ns = ns, .child = child};
	g->duration_ns += ns;
	return CUDA_SUCCESS;
}

/* A kernel node runs in the context it was captured or added in, as on an
 * H100; it names its kernel as a CUkernel too where the kernel's module is a
 * library's (as the runtime's are), and only its function otherwise (a
 * module loaded with cuModuleLoadData). */
static CUresult graph_add_kernel(struct fake_graph *g, struct fake_kernel *k, CUcontext ctx)
{
	CUresult rc = graph_add(g, CU_GRAPH_NODE_TYPE_KERNEL, k ? k->duration_ns : 0, NULL);
	if (rc == CUDA_SUCCESS) {
		struct fake_node *n = &g->nodes[g->count - 1];
		n->func = k;
		n->ctx = ctx;
		n->kern = k && k->library;
	}
	return rc;
}

static CUresult launch(CUfunction f, CUstream s, bool ptsz)
{
	REQUIRE_INIT();
	if (!f)
		return CUDA_ERROR_INVALID_HANDLE;
	struct fake_kernel *k = (struct fake_kernel *)f;
	struct fake_stream *fs = stream_of(s, ptsz);
	if (fs->capture)
		return graph_add_kernel(fs->capture, k, stream_ctx(fs));
	if (sticky)
		return sticky;
	/* FAKECUDA_FUNCTIONS_STAY=1: a kernel launches on streams of the context
	 * its module was loaded in only */
	if (functions_stay && k->ctx && stream_ctx(fs) && k->ctx != stream_ctx(fs))
		return CUDA_ERROR_INVALID_CONTEXT;
	for (uint64_t queued = launch_ns ? now_ns() + launch_ns : 0; now_ns() < queued;)
		; /* the host submitting the launch */
	order_op(fs);
	gpu_run(k->duration_ns, stream_ctx(fs));
	hold_reached(last_start_ns);
	if (strncmp(k->name, "fault", 5) == 0)
		gpu_fault();
	return CUDA_SUCCESS;
}

#define LAUNCH_KERNEL(fn, ptsz)                                                                 \
	EXPORT CUresult fn(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,    \
			   unsigned by, unsigned bz, unsigned shmem, CUstream s, void **params, \
			   void **extra)                                                        \
	{                                                                                       \
		COUNT();                                                                        \
		return launch(f, s, ptsz);                                                      \
	}
LAUNCH_KERNEL(cuLaunchKernel, false)
LAUNCH_KERNEL(cuLaunchKernel_ptsz, true)

#define LAUNCH_COOPERATIVE(fn, ptsz)                                                            \
	EXPORT CUresult fn(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,    \
			   unsigned by, unsigned bz, unsigned shmem, CUstream s, void **params) \
	{                                                                                       \
		COUNT();                                                                        \
		return launch(f, s, ptsz);                                                      \
	}
LAUNCH_COOPERATIVE(cuLaunchCooperativeKernel, false)
LAUNCH_COOPERATIVE(cuLaunchCooperativeKernel_ptsz, true)

EXPORT CUresult cuLaunchKernelEx(const CUlaunchConfig *config, CUfunction f, void **params,
				 void **extra)
{
	COUNT();
	return config ? launch(f, config->hStream, false) : CUDA_ERROR_INVALID_VALUE;
}

EXPORT CUresult cuLaunchKernelEx_ptsz(const CUlaunchConfig *config, CUfunction f, void **params,
				      void **extra)
{
	COUNT();
	return config ? launch(f, config->hStream, true) : CUDA_ERROR_INVALID_VALUE;
}

EXPORT CUresult cuLaunchCooperativeKernelMultiDevice(CUDA_LAUNCH_PARAMS *list, unsigned n,
						     unsigned flags)
{
	COUNT();
	REQUIRE_INIT();
	for (unsigned i = 0; i < n; i++) {
		CUresult rc = launch(list[i].function, list[i].hStream, false);
		if (rc != CUDA_SUCCESS)
			return rc;
	}
	return CUDA_SUCCESS;
}

EXPORT CUresult cuLaunch(CUfunction f)
{
	COUNT();
	return launch(f, NULL, false);
}

EXPORT CUresult cuLaunchGrid(CUfunction f, int w, int h)
{
	COUNT();
	return launch(f, NULL, false);
}

EXPORT CUresult cuLaunchGridAsync(CUfunction f, int w, int h, CUstream s)
{
	COUNT();
	return launch(f, s, false);
}

static CUresult host_func(CUstream s, CUhostFn fn, void *data, bool ptsz)
{
	REQUIRE_INIT();
	if (!fn)
		return CUDA_ERROR_INVALID_VALUE;
	struct fake_stream *fs = stream_of(s, ptsz);
	if (fs->capture)
		return graph_add(fs->capture, CU_GRAPH_NODE_TYPE_HOST, 0, NULL);
	order_op(fs);
	gpu_wait();
	fn(data);
	return CUDA_SUCCESS;
}

EXPORT CUresult cuLaunchHostFunc(CUstream s, CUhostFn fn, void *data)
{
	COUNT();
	return host_func(s, fn, data, false);
}

EXPORT CUresult cuLaunchHostFunc_ptsz(CUstream s, CUhostFn fn, void *data)
{
	COUNT();
	return host_func(s, fn, data, true);
}

/* ---- graphs ------------------------------------------------------------ */

EXPORT CUresult cuGraphCreate(CUgraph *graph, unsigned int flags)
{
	COUNT();
	REQUIRE_INIT();
	*graph = (CUgraph)calloc(1, sizeof(struct fake_graph));
	return CUDA_SUCCESS;
}

EXPORT CUresult cuGraphDestroy(CUgraph graph)
{
	COUNT();
	free(graph);
	return CUDA_SUCCESS;
}

EXPORT CUresult cuGraphAddKernelNode_v2(CUgraphNode *node, CUgraph graph, const CUgraphNode *deps,
					size_t ndeps, const CUDA_KERNEL_NODE_PARAMS *params)
{
	COUNT();
	REQUIRE_INIT();
	struct fake_graph *g = (struct fake_graph *)graph;
	struct fake_kernel *k = (struct fake_kernel *)params->func;
	CUresult rc = graph_add_kernel(g, k, current_ctx);
	if (rc == CUDA_SUCCESS && node)
		*node = (CUgraphNode)&g->nodes[g->count - 1];
	return rc;
}

EXPORT CUresult cuGraphAddChildGraphNode(CUgraphNode *node, CUgraph graph, const CUgraphNode *deps,
					 size_t ndeps, CUgraph child)
{
	COUNT();
	REQUIRE_INIT();
	struct fake_graph *g = (struct fake_graph *)graph, *c = (struct fake_graph *)child;
	struct fake_graph *copy = malloc(sizeof(*copy));
	*copy = *c;
	CUresult rc = graph_add(g, CU_GRAPH_NODE_TYPE_GRAPH, c->duration_ns, copy);
	if (rc == CUDA_SUCCESS && node)
		*node = (CUgraphNode)&g->nodes[g->count - 1];
	return rc;
}

EXPORT CUresult cuGraphAddMemAllocNode(CUgraphNode *node, CUgraph graph, const CUgraphNode *deps,
				       size_t ndeps, CUDA_MEM_ALLOC_NODE_PARAMS *params)
{
	COUNT();
	REQUIRE_INIT();
	if (!params)
		return CUDA_ERROR_INVALID_VALUE;
	struct fake_graph *g = (struct fake_graph *)graph;
	CUresult rc = mem_alloc((uint64_t *)&params->dptr, params->bytesize);
	if (rc == CUDA_SUCCESS)
		rc = graph_add(g, CU_GRAPH_NODE_TYPE_MEM_ALLOC, 0, NULL);
	if (rc == CUDA_SUCCESS && node)
		*node = (CUgraphNode)&g->nodes[g->count - 1];
	return rc;
}

EXPORT CUresult cuGraphAddMemFreeNode(CUgraphNode *node, CUgraph graph, const CUgraphNode *deps,
				      size_t ndeps, CUdeviceptr dptr)
{
	COUNT();
	REQUIRE_INIT();
	struct fake_graph *g = (struct fake_graph *)graph;
	CUresult rc = mem_free(dptr);
	if (rc == CUDA_SUCCESS)
		rc = graph_add(g, CU_GRAPH_NODE_TYPE_MEM_FREE, 0, NULL);
	if (rc == CUDA_SUCCESS && node)
		*node = (CUgraphNode)&g->nodes[g->count - 1];
	return rc;
}

EXPORT CUresult cuGraphGetNodes(CUgraph graph, CUgraphNode *nodes, size_t *count)
{
	COUNT();
	REQUIRE_INIT();
	struct fake_graph *g = (struct fake_graph *)graph;
	if (nodes)
		for (size_t i = 0; i < *count && i < (size_t)g->count; i++)
			nodes[i] = (CUgraphNode)&g->nodes[i];
	*count = g->count;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuGraphNodeGetType(CUgraphNode node, CUgraphNodeType *type)
{
	COUNT();
	*type = ((struct fake_node *)node)->type;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuGraphKernelNodeGetParams_v2(CUgraphNode node, CUDA_KERNEL_NODE_PARAMS *params)
{
	COUNT();
	struct fake_node *n = (struct fake_node *)node;
	if (n->type != CU_GRAPH_NODE_TYPE_KERNEL)
		return CUDA_ERROR_INVALID_VALUE;
	*params = (CUDA_KERNEL_NODE_PARAMS){.func = (CUfunction)n->func,
					    .gridDimX = 1,
					    .gridDimY = 1,
					    .gridDimZ = 1,
					    .blockDimX = 1,
					    .blockDimY = 1,
					    .blockDimZ = 1,
					    .kern = n->kern ? (CUkernel)n->func : NULL,
					    .ctx = n->ctx};
	return CUDA_SUCCESS;
}

/* As the driver: a function runs in its own context; a kernel (with no
 * function) in the context given. */
EXPORT CUresult cuGraphKernelNodeSetParams_v2(CUgraphNode node,
					      const CUDA_KERNEL_NODE_PARAMS *params)
{
	COUNT();
	struct fake_node *n = (struct fake_node *)node;
	if (n->type != CU_GRAPH_NODE_TYPE_KERNEL || !params || (!params->func && !params->kern))
		return CUDA_ERROR_INVALID_VALUE;
	if (params->func) {
		n->func = (struct fake_kernel *)params->func;
		n->ctx = n->func->ctx;
	} else {
		n->func = (struct fake_kernel *)params->kern;
		n->ctx = params->ctx ? params->ctx : current_ctx;
	}
	n->duration_ns = n->func->duration_ns;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuGraphChildGraphNodeGetGraph(CUgraphNode node, CUgraph *graph)
{
	COUNT();
	*graph = (CUgraph)((struct fake_node *)node)->child;
	return *graph ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

static CUresult instantiate(CUgraphExec *exec, CUgraph graph)
{
	REQUIRE_INIT();
	if (!exec || !graph)
		return CUDA_ERROR_INVALID_VALUE;
	struct fake_graph *copy = malloc(sizeof(*copy));
	*copy = *(struct fake_graph *)graph;
	copy->ctx = current_ctx;
	*exec = (CUgraphExec)copy;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuGraphInstantiateWithFlags(CUgraphExec *exec, CUgraph graph,
					    unsigned long long flags)
{
	COUNT();
	return instantiate(exec, graph);
}

EXPORT CUresult cuGraphInstantiateWithParams(CUgraphExec *exec, CUgraph graph,
					     CUDA_GRAPH_INSTANTIATE_PARAMS *params)
{
	COUNT();
	return instantiate(exec, graph);
}

EXPORT CUresult cuGraphClone(CUgraph *clone, CUgraph graph)
{
	COUNT();
	REQUIRE_INIT();
	if (!clone || !graph)
		return CUDA_ERROR_INVALID_VALUE;
	struct fake_graph *copy = malloc(sizeof(*copy));
	*copy = *(struct fake_graph *)graph;
	*clone = (CUgraph)copy;
	return CUDA_SUCCESS;
}

/* The executable graph takes the graph's nodes; it stays where it was instantiated. */
EXPORT CUresult cuGraphExecUpdate_v2(CUgraphExec exec, CUgraph graph,
				     CUgraphExecUpdateResultInfo *info)
{
	COUNT();
	REQUIRE_INIT();
	if (!exec || !graph)
		return CUDA_ERROR_INVALID_VALUE;
	struct fake_graph *e = (struct fake_graph *)exec;
	CUcontext ctx = e->ctx;
	*e = *(struct fake_graph *)graph;
	e->ctx = ctx;
	return CUDA_SUCCESS;
}

/* A kernel node of an executable graph takes another function (its duration). */
EXPORT CUresult cuGraphExecKernelNodeSetParams_v2(CUgraphExec exec, CUgraphNode node,
						  const CUDA_KERNEL_NODE_PARAMS *params)
{
	COUNT();
	REQUIRE_INIT();
	if (!exec || !params || !params->func)
		return CUDA_ERROR_INVALID_VALUE;
	struct fake_graph *e = (struct fake_graph *)exec;
	e->duration_ns = ((struct fake_kernel *)params->func)->duration_ns;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuGraphExecDestroy(CUgraphExec exec)
{
	COUNT();
	free(exec);
	return CUDA_SUCCESS;
}

static CUresult graph_launch(CUgraphExec exec, CUstream s, bool ptsz)
{
	REQUIRE_INIT();
	if (!exec)
		return CUDA_ERROR_INVALID_VALUE;
	struct fake_stream *fs = stream_of(s, ptsz);
	struct fake_graph *g = (struct fake_graph *)exec;
	if (fs->capture)
		return CUDA_ERROR_NOT_SUPPORTED;
	order_op(fs);
	/* as measured on an H100: a kernel node runs in its own context,
	 * whatever the stream and wherever the graph was instantiated */
	CUcontext where = g->ctx ? g->ctx : stream_ctx(fs);
	for (int i = 0; i < g->count; i++)
		if (g->nodes[i].type == CU_GRAPH_NODE_TYPE_KERNEL && g->nodes[i].ctx) {
			where = g->nodes[i].ctx;
			break;
		}
	gpu_run(g->duration_ns, where);
	return CUDA_SUCCESS;
}

EXPORT CUresult cuGraphLaunch(CUgraphExec exec, CUstream s)
{
	COUNT();
	return graph_launch(exec, s, false);
}

EXPORT CUresult cuGraphLaunch_ptsz(CUgraphExec exec, CUstream s)
{
	COUNT();
	return graph_launch(exec, s, true);
}

/* ---- memory --------------------------------------------------------------- */

static CUresult mem_alloc(uint64_t *dptr, size_t size)
{
	REQUIRE_INIT();
	if (!dptr || size == 0)
		return CUDA_ERROR_INVALID_VALUE;
	if (size == env_size("FAKECUDA_REFUSE_BYTES", 0))
		return CUDA_ERROR_OUT_OF_MEMORY; /* a driver failure, on demand */
	int dev = current_device();
	CUresult rc = CUDA_ERROR_OUT_OF_MEMORY;
	pthread_mutex_lock(&lock);
	if (memory_used[dev] + size <= memory_total) {
		for (size_t i = 0; i < sizeof(allocations) / sizeof(allocations[0]); i++) {
			if (allocations[i].address)
				continue;
			allocations[i] = (struct allocation){next_address, size, dev};
			*dptr = next_address;
			next_address += (size + 0xfffff) & ~0xfffffull;
			memory_used[dev] += size;
			rc = CUDA_SUCCESS;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

static CUresult mem_free(uint64_t dptr)
{
	REQUIRE_INIT();
	CUresult rc = CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; dptr && i < sizeof(allocations) / sizeof(allocations[0]); i++) {
		if (allocations[i].address != dptr)
			continue;
		memory_used[allocations[i].device] -= allocations[i].size;
		allocations[i].address = 0;
		rc = CUDA_SUCCESS;
		break;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t size)
{
	COUNT();
	return mem_alloc((uint64_t *)dptr, size);
}

/* A variant a future driver might add; offered by cuGetProcAddress only
 * with FAKECUDA_FUTURE_VARIANTS=1. */
EXPORT CUresult cuMemAlloc_v3(CUdeviceptr *dptr, size_t size)
{
	COUNT();
	return mem_alloc((uint64_t *)dptr, size);
}

EXPORT CUresult cuMemAlloc(CUdeviceptr_v1 *dptr, unsigned int size)
{
	COUNT();
	uint64_t p;
	CUresult rc = mem_alloc(&p, size);
	if (rc == CUDA_SUCCESS)
		*dptr = (CUdeviceptr_v1)p;
	return rc;
}

static size_t pitch_of(size_t width)
{
	return (width + 511) & ~(size_t)511;
}

EXPORT CUresult cuMemAllocPitch_v2(CUdeviceptr *dptr, size_t *pitch, size_t width, size_t height,
				   unsigned int elem)
{
	COUNT();
	if (!pitch || elem == 0)
		return CUDA_ERROR_INVALID_VALUE;
	CUresult rc = mem_alloc((uint64_t *)dptr, pitch_of(width) * height);
	if (rc == CUDA_SUCCESS)
		*pitch = pitch_of(width);
	return rc;
}

EXPORT CUresult cuMemAllocPitch(CUdeviceptr_v1 *dptr, unsigned int *pitch, unsigned int width,
				unsigned int height, unsigned int elem)
{
	COUNT();
	uint64_t p;
	if (!pitch || elem == 0)
		return CUDA_ERROR_INVALID_VALUE;
	CUresult rc = mem_alloc(&p, pitch_of(width) * height);
	if (rc == CUDA_SUCCESS) {
		*dptr = (CUdeviceptr_v1)p;
		*pitch = (unsigned)pitch_of(width);
	}
	return rc;
}

EXPORT CUresult cuMemAllocManaged(CUdeviceptr *dptr, size_t size, unsigned int flags)
{
	COUNT();
	return mem_alloc((uint64_t *)dptr, size);
}

#define ALLOC_ASYNC(fn)                                                \
	EXPORT CUresult fn(CUdeviceptr *dptr, size_t size, CUstream s) \
	{                                                              \
		COUNT();                                               \
		return mem_alloc((uint64_t *)dptr, size);              \
	}
ALLOC_ASYNC(cuMemAllocAsync)
ALLOC_ASYNC(cuMemAllocAsync_ptsz)

#define ALLOC_FROM_POOL(fn)                                                                 \
	EXPORT CUresult fn(CUdeviceptr *dptr, size_t size, CUmemoryPool pool, CUstream s)   \
	{                                                                                   \
		COUNT();                                                                    \
		return pool ? mem_alloc((uint64_t *)dptr, size) : CUDA_ERROR_INVALID_VALUE; \
	}
ALLOC_FROM_POOL(cuMemAllocFromPoolAsync)
ALLOC_FROM_POOL(cuMemAllocFromPoolAsync_ptsz)

EXPORT CUresult cuMemFree_v2(CUdeviceptr dptr)
{
	COUNT();
	return mem_free(dptr);
}

EXPORT CUresult cuMemFree(CUdeviceptr_v1 dptr)
{
	COUNT();
	return mem_free(dptr);
}

EXPORT CUresult cuMemFreeAsync(CUdeviceptr dptr, CUstream s)
{
	COUNT();
	return mem_free(dptr);
}

EXPORT CUresult cuMemFreeAsync_ptsz(CUdeviceptr dptr, CUstream s)
{
	COUNT();
	return mem_free(dptr);
}

EXPORT CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total)
{
	COUNT();
	REQUIRE_INIT();
	pthread_mutex_lock(&lock);
	*free_bytes = memory_total - memory_used[current_device()];
	*total = memory_total;
	pthread_mutex_unlock(&lock);
	return CUDA_SUCCESS;
}

EXPORT CUresult cuMemGetInfo(unsigned int *free_bytes, unsigned int *total)
{
	COUNT();
	size_t f, t;
	CUresult rc = cuMemGetInfo_v2(&f, &t);
	*free_bytes = f > UINT32_MAX ? UINT32_MAX : (unsigned)f;
	*total = t > UINT32_MAX ? UINT32_MAX : (unsigned)t;
	return rc;
}

EXPORT CUresult cuMemPoolCreate(CUmemoryPool *pool, const CUmemPoolProps *props)
{
	COUNT();
	REQUIRE_INIT();
	*pool = (CUmemoryPool)calloc(1, 16);
	return CUDA_SUCCESS;
}

EXPORT CUresult cuMemPoolDestroy(CUmemoryPool pool)
{
	COUNT();
	free(pool);
	return CUDA_SUCCESS;
}

EXPORT CUresult cuMemPoolTrimTo(CUmemoryPool pool, size_t keep)
{
	COUNT();
	return pool ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

EXPORT CUresult cuMemCreate(CUmemGenericAllocationHandle *handle, size_t size,
			    const CUmemAllocationProp *prop, unsigned long long flags)
{
	COUNT();
	return mem_alloc((uint64_t *)handle, size);
}

EXPORT CUresult cuMemRelease(CUmemGenericAllocationHandle handle)
{
	COUNT();
	return mem_free(handle);
}

EXPORT CUresult cuMemAddressReserve(CUdeviceptr *ptr, size_t size, size_t align, CUdeviceptr addr,
				    unsigned long long flags)
{
	COUNT();
	REQUIRE_INIT();
	pthread_mutex_lock(&lock);
	*ptr = next_address;
	next_address += (size + 0xfffff) & ~0xfffffull;
	pthread_mutex_unlock(&lock);
	return CUDA_SUCCESS;
}

EXPORT CUresult cuMemAddressFree(CUdeviceptr ptr, size_t size)
{
	COUNT();
	return CUDA_SUCCESS;
}

EXPORT CUresult cuMemMap(CUdeviceptr ptr, size_t size, size_t offset,
			 CUmemGenericAllocationHandle handle, unsigned long long flags)
{
	COUNT();
	REQUIRE_INIT();
	return handle ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

EXPORT CUresult cuMemUnmap(CUdeviceptr ptr, size_t size)
{
	COUNT();
	return CUDA_SUCCESS;
}

static CUresult array_create(CUarray *handle, size_t w, size_t h, size_t d, unsigned channels)
{
	uint64_t p;
	CUresult rc = mem_alloc(&p, w * (h ? h : 1) * (d ? d : 1) * 4 * (channels ? channels : 1));
	if (rc == CUDA_SUCCESS)
		*handle = (CUarray)(uintptr_t)p;
	return rc;
}

EXPORT CUresult cuArrayCreate_v2(CUarray *handle, const CUDA_ARRAY_DESCRIPTOR *desc)
{
	COUNT();
	return array_create(handle, desc->Width, desc->Height, 1, desc->NumChannels);
}

EXPORT CUresult cuArrayCreate(CUarray *handle, const CUDA_ARRAY_DESCRIPTOR_v1 *desc)
{
	COUNT();
	return array_create(handle, desc->Width, desc->Height, 1, desc->NumChannels);
}

EXPORT CUresult cuArray3DCreate_v2(CUarray *handle, const CUDA_ARRAY3D_DESCRIPTOR *desc)
{
	COUNT();
	return array_create(handle, desc->Width, desc->Height, desc->Depth, desc->NumChannels);
}

EXPORT CUresult cuArray3DCreate(CUarray *handle, const CUDA_ARRAY3D_DESCRIPTOR_v1 *desc)
{
	COUNT();
	return array_create(handle, desc->Width, desc->Height, desc->Depth, desc->NumChannels);
}

EXPORT CUresult cuArrayDestroy(CUarray handle)
{
	COUNT();
	return mem_free((uint64_t)(uintptr_t)handle);
}

EXPORT CUresult cuMipmappedArrayCreate(CUmipmappedArray *handle,
				       const CUDA_ARRAY3D_DESCRIPTOR *desc, unsigned int levels)
{
	COUNT();
	return array_create((CUarray *)handle, desc->Width * 2, desc->Height, desc->Depth,
			    desc->NumChannels);
}

EXPORT CUresult cuMipmappedArrayDestroy(CUmipmappedArray handle)
{
	COUNT();
	return mem_free((uint64_t)(uintptr_t)handle);
}

/* Synchronous copies are operations on the legacy stream. */
EXPORT CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t n)
{
	COUNT();
	REQUIRE_INIT();
	order_op(&legacy_stream);
	return CUDA_SUCCESS;
}

EXPORT CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t n)
{
	COUNT();
	REQUIRE_INIT();
	order_op(&legacy_stream);
	memset(dst, 0, n);
	return CUDA_SUCCESS;
}

/* ---- events: the simulated time at which the stream reaches them -------- */

#define EVENT_MAGIC 0x45564e54u /* "EVNT" */

struct fake_event {
	uint32_t magic; /* EVENT_MAGIC while it exists */
	uint64_t at_ns;
	CUcontext ctx;		       /* it may be recorded on streams of this context only */
	uint32_t clock[ORDER_STREAMS]; /* what it was recorded behind */
};

EXPORT CUresult cuEventCreate(CUevent *e, unsigned int flags)
{
	COUNT();
	REQUIRE_INIT();
	struct fake_event *fe = calloc(1, sizeof(struct fake_event));
	fe->magic = EVENT_MAGIC;
	fe->ctx = current_ctx;
	*e = (CUevent)fe;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuEventDestroy_v2(CUevent e)
{
	COUNT();
	if (e)
		((struct fake_event *)e)->magic = 0;
	free(e);
	return CUDA_SUCCESS;
}

/* ---- streams held on a host word ---------------------------------------- */

/* cuStreamWaitValue32 (GEQ) on a word not yet written holds the process's
 * work, as a real stream stops there: the first event recorded behind the
 * wait takes its time only once the work behind it reaches the GPU (the next
 * kernel's start, or the next event's record). Queries say not ready and
 * synchronisations wait while the word is unwritten; after 10 s a
 * synchronisation says that nothing ever wrote it and aborts. One hold at a
 * time: a later wait replaces an earlier one. */
static struct {
	pthread_mutex_t lock;
	const uint32_t *word; /* NULL: nothing held */
	uint32_t value;
	bool armed;		  /* no event recorded behind the wait yet */
	struct fake_event *event; /* the first one, until the work behind it is queued */
} hold = {.lock = PTHREAD_MUTEX_INITIALIZER};

static bool word_reached(const uint32_t *word, uint32_t value)
{
	return (int32_t)(__atomic_load_n(word, __ATOMIC_ACQUIRE) - value) >= 0;
}

/* Whether the process's work is held; drops a hold whose word was written. */
static bool held(void)
{
	pthread_mutex_lock(&hold.lock);
	if (hold.word && word_reached(hold.word, hold.value))
		hold.word = NULL;
	bool h = hold.word != NULL;
	pthread_mutex_unlock(&hold.lock);
	return h;
}

static void hold_reached(uint64_t at_ns)
{
	if (!__atomic_load_n(&hold.event, __ATOMIC_RELAXED))
		return; /* the common case: nothing held */
	pthread_mutex_lock(&hold.lock);
	if (hold.event) {
		if (hold.event->at_ns < at_ns)
			hold.event->at_ns = at_ns;
		__atomic_store_n(&hold.event, NULL, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&hold.lock);
}

static void hold_wait(void)
{
	uint64_t give_up = now_ns() + 10000000000ull;

	while (held()) {
		if (now_ns() > give_up) {
			fprintf(stderr,
				"fakecuda: a stream waits on a host word that nothing wrote "
				"in 10 s\n");
			abort();
		}
		struct timespec ts = {0, 50000};
		nanosleep(&ts, NULL);
	}
}

static CUresult wait_value(CUstream s, CUdeviceptr addr, cuuint32_t value, unsigned flags)
{
	REQUIRE_INIT();
	if (!addr || (flags & 0x3) != CU_STREAM_WAIT_VALUE_GEQ)
		return CUDA_ERROR_NOT_SUPPORTED;
	if (stream_of(s, false)->capture)
		return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED; /* not modelled */
	const uint32_t *word = (const uint32_t *)(uintptr_t)addr;
	pthread_mutex_lock(&hold.lock);
	if (!word_reached(word, value)) {
		hold.word = word;
		hold.value = value;
		hold.armed = true;
		__atomic_store_n(&hold.event, NULL, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&hold.lock);
	return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamWaitValue32_v2(CUstream s, CUdeviceptr addr, cuuint32_t value,
				       unsigned int flags)
{
	COUNT();
	return wait_value(s, addr, value, flags);
}

EXPORT CUresult cuStreamWaitValue32_v2_ptsz(CUstream s, CUdeviceptr addr, cuuint32_t value,
					    unsigned int flags)
{
	COUNT();
	return wait_value(s, addr, value, flags);
}

/* Pinned host memory: ordinary memory, mapped at the same address. */
#define MAX_HOST_ALLOCS 64
static void *host_allocs[MAX_HOST_ALLOCS];

EXPORT CUresult cuMemHostAlloc(void **pp, size_t bytes, unsigned int flags)
{
	COUNT();
	REQUIRE_INIT();
	if (!pp || !bytes)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < MAX_HOST_ALLOCS; i++)
		if (!host_allocs[i]) {
			host_allocs[i] = *pp = aligned_alloc(4096, (bytes + 4095) & ~(size_t)4095);
			if (*pp)
				memset(*pp, 0, bytes);
			pthread_mutex_unlock(&lock);
			return *pp ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
		}
	pthread_mutex_unlock(&lock);
	return CUDA_ERROR_OUT_OF_MEMORY;
}

EXPORT CUresult cuMemFreeHost(void *p)
{
	COUNT();
	pthread_mutex_lock(&lock);
	for (int i = 0; i < MAX_HOST_ALLOCS; i++)
		if (p && host_allocs[i] == p) {
			host_allocs[i] = NULL;
			free(p);
			pthread_mutex_unlock(&lock);
			return CUDA_SUCCESS;
		}
	pthread_mutex_unlock(&lock);
	return CUDA_ERROR_INVALID_VALUE;
}

EXPORT CUresult cuPointerGetAttribute(void *data, CUpointer_attribute attribute, CUdeviceptr ptr)
{
	COUNT();
	REQUIRE_INIT();
	if (!data || attribute != CU_POINTER_ATTRIBUTE_DEVICE_POINTER)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < MAX_HOST_ALLOCS; i++) {
		uintptr_t base = (uintptr_t)host_allocs[i];
		if (base && ptr >= base && ptr < base + 4096) {
			pthread_mutex_unlock(&lock);
			*(CUdeviceptr *)data = ptr;
			return CUDA_SUCCESS;
		}
	}
	pthread_mutex_unlock(&lock);
	return CUDA_ERROR_INVALID_VALUE;
}

/* A handle that is no event: the real driver crashes on one, and so do we. */
static void event_check(const char *what, CUevent e)
{
	if (e && ((const struct fake_event *)e)->magic != EVENT_MAGIC) {
		fprintf(stderr, "fakecuda: %s of %p, which is no event\n", what, (void *)e);
		abort();
	}
}

static CUresult event_record(CUevent e, CUstream s, bool ptsz)
{
	REQUIRE_INIT();
	if (!e)
		return CUDA_ERROR_INVALID_HANDLE;
	event_check("cuEventRecord", e);
	/* as the driver: the event and the stream must be of one context */
	CUcontext sctx = stream_ctx(stream_of(s, ptsz)), ectx = ((struct fake_event *)e)->ctx;
	if (sctx && ectx && sctx != ectx)
		return CUDA_ERROR_INVALID_CONTEXT;
	struct fake_stream *fs = stream_of(s, ptsz);
	order_op(fs);
	pthread_mutex_lock(&order_lock);
	memcpy(((struct fake_event *)e)->clock, fs->clock, sizeof(fs->clock));
	pthread_mutex_unlock(&order_lock);
	/* the event completes once this process's work before it is done and the
	 * GPU is free for it, as a real one completes when its context runs */
	uint64_t at = now_ns(), end = __atomic_load_n(&my_last_end_ns, __ATOMIC_RELAXED);
	uint64_t busy = busy_until(held_units(current_ctx));
	hold_reached(at); /* an event recorded earlier behind a hold */
	at = end > at ? end : at;
	((struct fake_event *)e)->at_ns = busy > at ? busy : at;
	pthread_mutex_lock(&hold.lock);
	if (hold.word && hold.armed) {
		__atomic_store_n(&hold.event, (struct fake_event *)e, __ATOMIC_RELAXED);
		hold.armed = false;
	}
	pthread_mutex_unlock(&hold.lock);
	return CUDA_SUCCESS;
}

/* A stream waiting for an event: the simulated GPU runs this process's work
 * in the order it is queued, so only the order of operations follows it (the
 * event may be of another context). */
static CUresult stream_wait(CUstream s, CUevent e, bool ptsz)
{
	REQUIRE_INIT();
	if (!e)
		return CUDA_ERROR_INVALID_HANDLE;
	event_check("cuStreamWaitEvent", e);
	struct fake_stream *fs = stream_of(s, ptsz);
	order_op(fs);
	pthread_mutex_lock(&order_lock);
	clock_merge(fs->clock, ((struct fake_event *)e)->clock);
	pthread_mutex_unlock(&order_lock);
	return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamWaitEvent(CUstream s, CUevent e, unsigned int flags)
{
	COUNT();
	return stream_wait(s, e, false);
}

EXPORT CUresult cuStreamWaitEvent_ptsz(CUstream s, CUevent e, unsigned int flags)
{
	COUNT();
	return stream_wait(s, e, true);
}

EXPORT CUresult cuEventRecord(CUevent e, CUstream s)
{
	COUNT();
	return event_record(e, s, false);
}

EXPORT CUresult cuEventRecord_ptsz(CUevent e, CUstream s)
{
	COUNT();
	return event_record(e, s, true);
}

EXPORT CUresult cuEventQuery(CUevent e)
{
	COUNT();
	REQUIRE_INIT();
	if (held())
		return CUDA_ERROR_NOT_READY;
	return now_ns() >= ((struct fake_event *)e)->at_ns ? CUDA_SUCCESS : CUDA_ERROR_NOT_READY;
}

EXPORT CUresult cuEventSynchronize(CUevent e)
{
	COUNT();
	REQUIRE_INIT();
	hold_wait();
	sleep_until(((struct fake_event *)e)->at_ns);
	return gpu_error();
}

EXPORT CUresult cuEventElapsedTime_v2(float *ms, CUevent start, CUevent end)
{
	COUNT();
	REQUIRE_INIT();
	uint64_t a = ((struct fake_event *)start)->at_ns, b = ((struct fake_event *)end)->at_ns;
	*ms = b >= a ? (float)(b - a) / 1e6f : 0;
	return CUDA_SUCCESS;
}

/* ---- errors and the export table ---------------------------------------- */

EXPORT CUresult cuGetErrorName(CUresult error, const char **str)
{
	COUNT();
	static char buf[32];
	snprintf(buf, sizeof(buf), "CUDA_ERROR_%d", (int)error);
	*str = error == CUDA_SUCCESS ? "CUDA_SUCCESS" : buf;
	return CUDA_SUCCESS;
}

EXPORT CUresult cuGetErrorString(CUresult error, const char **str)
{
	COUNT();
	return cuGetErrorName(error, str);
}

/* Tests recognise this table, proving the call reached the driver untouched. */
EXPORT const uint64_t fakecuda_export_table[2] = {0xc051ce0fa4ec0da1ull, 0};

EXPORT CUresult cuGetExportTable(const void **table, const CUuuid *id)
{
	COUNT();
	if (!table || !id)
		return CUDA_ERROR_INVALID_VALUE;
	*table = fakecuda_export_table;
	return CUDA_SUCCESS;
}

/* ---- cuGetProcAddress ------------------------------------------------------ */

/* Which exported variant a (name, cudaVersion, per-thread) request gets:
 * the newest variant introduced at or before the requested version. */
static const struct variant {
	const char *base;
	const char *symbol;
	int since;
	bool ptsz;
} variants[] = {
	{"cuMemAlloc", "cuMemAlloc", 2000, false},
	{"cuMemAlloc", "cuMemAlloc_v2", 3020, false},
	{"cuMemAllocPitch", "cuMemAllocPitch", 2000, false},
	{"cuMemAllocPitch", "cuMemAllocPitch_v2", 3020, false},
	{"cuMemFree", "cuMemFree", 2000, false},
	{"cuMemFree", "cuMemFree_v2", 3020, false},
	{"cuMemGetInfo", "cuMemGetInfo", 2000, false},
	{"cuMemGetInfo", "cuMemGetInfo_v2", 3020, false},
	{"cuDeviceTotalMem", "cuDeviceTotalMem", 2000, false},
	{"cuDeviceTotalMem", "cuDeviceTotalMem_v2", 3020, false},
	{"cuArrayCreate", "cuArrayCreate", 2000, false},
	{"cuArrayCreate", "cuArrayCreate_v2", 3020, false},
	{"cuArray3DCreate", "cuArray3DCreate", 2000, false},
	{"cuArray3DCreate", "cuArray3DCreate_v2", 3020, false},
	{"cuCtxCreate", "cuCtxCreate_v2", 3020, false},
	{"cuCtxCreate", "cuCtxCreate_v4", 12050, false},
	{"cuCtxDestroy", "cuCtxDestroy_v2", 4000, false},
	{"cuDevicePrimaryCtxRelease", "cuDevicePrimaryCtxRelease", 7000, false},
	{"cuDevicePrimaryCtxRelease", "cuDevicePrimaryCtxRelease_v2", 11000, false},
	{"cuDevicePrimaryCtxReset", "cuDevicePrimaryCtxReset", 7000, false},
	{"cuDevicePrimaryCtxReset", "cuDevicePrimaryCtxReset_v2", 11000, false},
	{"cuStreamBeginCapture", "cuStreamBeginCapture_v2", 10010, false},
	{"cuStreamBeginCapture", "cuStreamBeginCapture_v2_ptsz", 10010, true},
	{"cuStreamDestroy", "cuStreamDestroy_v2", 4000, false},
	{"cuMemcpyHtoD", "cuMemcpyHtoD_v2", 3020, false},
	{"cuMemcpyDtoH", "cuMemcpyDtoH_v2", 3020, false},
	{"cuGraphAddKernelNode", "cuGraphAddKernelNode_v2", 12000, false},
	{"cuGetProcAddress", "cuGetProcAddress", 11030, false},
	{"cuGetProcAddress", "cuGetProcAddress_v2", 12000, false},
	{"cuLaunchKernel", "cuLaunchKernel_ptsz", 7000, true},
	{"cuLaunchKernelEx", "cuLaunchKernelEx_ptsz", 11060, true},
	{"cuLaunchCooperativeKernel", "cuLaunchCooperativeKernel_ptsz", 9000, true},
	{"cuLaunchHostFunc", "cuLaunchHostFunc_ptsz", 10000, true},
	{"cuGraphLaunch", "cuGraphLaunch_ptsz", 10000, true},
	{"cuMemAllocAsync", "cuMemAllocAsync_ptsz", 11020, true},
	{"cuMemAllocFromPoolAsync", "cuMemAllocFromPoolAsync_ptsz", 11020, true},
	{"cuMemFreeAsync", "cuMemFreeAsync_ptsz", 11020, true},
	{"cuStreamEndCapture", "cuStreamEndCapture_ptsz", 10000, true},
	{"cuStreamIsCapturing", "cuStreamIsCapturing_ptsz", 10000, true},
	{"cuStreamSynchronize", "cuStreamSynchronize_ptsz", 7000, true},
};

static const char *pick_variant(const char *base, int version, bool per_thread, bool *too_old)
{
	const char *best = NULL;
	int best_since = -1;
	bool any = false;

	if (strcmp(base, "cuMemAlloc") == 0 && version >= 13000 &&
	    getenv("FAKECUDA_FUTURE_VARIANTS"))
		return "cuMemAlloc_v3";
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		const struct variant *v = &variants[i];
		if (strcmp(v->base, base) != 0 || (v->ptsz && !per_thread))
			continue;
		any = true;
		if (v->since > version)
			continue;
		/* a per-thread variant wins over the plain one when asked for */
		int rank = v->since + (v->ptsz ? 1000000 : 0);
		if (rank > best_since) {
			best = v->symbol;
			best_since = rank;
		}
	}
	*too_old = any && !best;
	return best ? best : (any ? NULL : base);
}

/* Our own exports, looked up without going through an interposed dlsym, as
 * the real driver's internal table would be. */
static void *self_symbol(const char *name)
{
	static void *self;
	static void *(*lookup)(void *, const char *);

	if (!self) {
		Dl_info info;
		dladdr((void *)self_symbol, &info);
		self = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD);
		lookup = (void *(*)(void *, const char *))dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
		if (!lookup)
			lookup = (void *(*)(void *, const char *))dlvsym(RTLD_NEXT, "dlsym",
									 "GLIBC_2.2.5");
	}
	return self && lookup ? lookup(self, name) : NULL;
}

static CUresult proc_address(const char *symbol, void **pfn, int version, cuuint64_t flags,
			     CUdriverProcAddressQueryResult *status)
{
	bool too_old;
	bool per_thread = flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM;

	if (!symbol || !pfn)
		return CUDA_ERROR_INVALID_VALUE;
	const char *name = pick_variant(symbol, version, per_thread, &too_old);
	void *p = name ? self_symbol(name) : NULL;
	*pfn = p;
	if (status)
		*status = p ? CU_GET_PROC_ADDRESS_SUCCESS
			    : (too_old ? CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT
				       : CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);
	return p ? CUDA_SUCCESS : CUDA_ERROR_NOT_FOUND;
}

EXPORT CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int version, cuuint64_t flags,
				    CUdriverProcAddressQueryResult *status)
{
	COUNT();
	return proc_address(symbol, pfn, version, flags, status);
}

EXPORT CUresult cuGetProcAddress(const char *symbol, void **pfn, int version, cuuint64_t flags)
{
	COUNT();
	return proc_address(symbol, pfn, version, flags, NULL);
}
