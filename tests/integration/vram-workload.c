/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Driver-API workloads for the VRAM quota tests, run under
 * `cuslice run --vram` against fakecuda.
 *
 *   vram-workload paths            every allocation path charged and credited exactly;
 *                                  with VRAM_DRIVER_REFUSES=BYTES, also that a driver
 *                                  refusal of BYTES gives the reservation back
 *   vram-workload race N           N allocations and frees of random sizes; what is
 *                                  held is tallied in the file $RACE_TALLY, shared
 *                                  with the other racers
 *   vram-workload kill BYTES       a forked child holds BYTES and is killed with
 *                                  SIGKILL; prints how long until the parent could
 *                                  allocate BYTES itself
 *   vram-workload view             prints what cuMemGetInfo, cuDeviceTotalMem and
 *                                  NVML report, one "name free total" line each
 *   vram-workload hold BYTES       takes BYTES, says "holding", and waits to be killed
 *   vram-workload devices          per device: what cuMemGetInfo reports there, and
 *                                  whether 1 byte more than that can be allocated
 *   vram-workload future           asks for cuMemAlloc as a CUDA 13 program would,
 *                                  and for cuMemAlloc_v3 by name; prints what came back
 *
 * Exit status 0 means every expectation held; failures are printed.
 */
#define _GNU_SOURCE
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MiB (1ull << 20)

static int failures;

#define EXPECT(cond, ...)                                                \
	do {                                                             \
		if (!(cond)) {                                           \
			fprintf(stderr, "vram-workload:%d: ", __LINE__); \
			fprintf(stderr, __VA_ARGS__);                    \
			fputc('\n', stderr);                             \
			failures++;                                      \
		}                                                        \
	} while (0)

#define CHECK(call)                                                                            \
	do {                                                                                   \
		CUresult rc_ = (call);                                                         \
		if (rc_ != CUDA_SUCCESS) {                                                     \
			fprintf(stderr, "vram-workload:%d: %s returned %d\n", __LINE__, #call, \
				(int)rc_);                                                     \
			exit(1);                                                               \
		}                                                                              \
	} while (0)

static void init(void)
{
	CUcontext ctx;

	CHECK(cuInit(0));
	CHECK(cuDevicePrimaryCtxRetain(&ctx, 0));
	CHECK(cuCtxSetCurrent(ctx));
}

static size_t free_now(void)
{
	size_t free_bytes, total;

	CHECK(cuMemGetInfo_v2(&free_bytes, &total));
	return free_bytes;
}

/* Each allocation lowers what cuMemGetInfo reports free by what it charges,
 * and its free gives exactly that back. */
static void expect_charge(const char *what, size_t before, size_t charged)
{
	size_t now = free_now();
	EXPECT(before - now == charged, "%s: charged %zu bytes, expected %zu", what, before - now,
	       charged);
}

static void expect_credit(const char *what, size_t before)
{
	EXPECT(free_now() == before, "%s: free is %zu after the free, expected %zu", what,
	       free_now(), before);
}

static void paths(void)
{
	CUdeviceptr p;
	size_t pitch, before;
	CUmemoryPool pool;
	CUmemPoolProps pool_props = {.allocType = CU_MEM_ALLOCATION_TYPE_PINNED,
				     .location = {.type = CU_MEM_LOCATION_TYPE_DEVICE}};
	CUmemAllocationProp prop = {.type = CU_MEM_ALLOCATION_TYPE_PINNED,
				    .location = {.type = CU_MEM_LOCATION_TYPE_DEVICE, .id = 0}};
	CUmemGenericAllocationHandle handle;
	CUDA_ARRAY_DESCRIPTOR desc = {
		.Width = 300, .Height = 20, .Format = CU_AD_FORMAT_FLOAT, .NumChannels = 2};
	CUDA_ARRAY3D_DESCRIPTOR desc3 = {.Width = 64,
					 .Height = 8,
					 .Depth = 4,
					 .Format = CU_AD_FORMAT_UNSIGNED_INT8,
					 .NumChannels = 1};
	CUarray array;
	CUmipmappedArray mipmap;

	init();
	before = free_now();

	CHECK(cuMemAlloc_v2(&p, 3 * MiB + 5));
	expect_charge("cuMemAlloc_v2", before, 3 * MiB + 5);
	CHECK(cuMemFree_v2(p));
	expect_credit("cuMemFree_v2", before);

	CHECK(cuMemAllocPitch_v2(&p, &pitch, 1000, 7, 4));
	expect_charge("cuMemAllocPitch_v2", before, pitch * 7);
	EXPECT(pitch == 1024, "pitch %zu", pitch);
	CHECK(cuMemFree_v2(p));
	expect_credit("cuMemAllocPitch_v2 free", before);

	CHECK(cuMemAllocManaged(&p, 5 * MiB, CU_MEM_ATTACH_GLOBAL));
	expect_charge("cuMemAllocManaged", before, 5 * MiB);
	CHECK(cuMemFree_v2(p));
	expect_credit("cuMemAllocManaged free", before);

	CHECK(cuMemAllocAsync(&p, 6 * MiB, NULL));
	expect_charge("cuMemAllocAsync", before, 6 * MiB);
	CHECK(cuMemFreeAsync(p, NULL));
	expect_credit("cuMemFreeAsync", before);

	CHECK(cuMemPoolCreate(&pool, &pool_props));
	CHECK(cuMemAllocFromPoolAsync(&p, 7 * MiB, pool, NULL));
	expect_charge("cuMemAllocFromPoolAsync", before, 7 * MiB);
	CHECK(cuMemFreeAsync(p, NULL));
	expect_credit("cuMemAllocFromPoolAsync free", before);
	CHECK(cuMemPoolTrimTo(pool, 0));
	CHECK(cuMemPoolDestroy(pool));

	/* VMM: charged by cuMemCreate, not by mapping it */
	CHECK(cuMemCreate(&handle, 8 * MiB, &prop, 0));
	expect_charge("cuMemCreate", before, 8 * MiB);
	CUdeviceptr va;
	CHECK(cuMemAddressReserve(&va, 8 * MiB, 0, 0, 0));
	CHECK(cuMemMap(va, 8 * MiB, 0, handle, 0));
	expect_charge("cuMemMap", before, 8 * MiB);
	CHECK(cuMemUnmap(va, 8 * MiB));
	CHECK(cuMemRelease(handle));
	expect_credit("cuMemRelease", before);

	CHECK(cuArrayCreate_v2(&array, &desc));
	expect_charge("cuArrayCreate_v2", before, 300 * 20 * 4 * 2);
	CHECK(cuArrayDestroy(array));
	expect_credit("cuArrayDestroy", before);

	CHECK(cuArray3DCreate_v2(&array, &desc3));
	expect_charge("cuArray3DCreate_v2", before, 64 * 8 * 4);
	CHECK(cuArrayDestroy(array));
	expect_credit("cuArray3DCreate_v2 destroy", before);

	CHECK(cuMipmappedArrayCreate(&mipmap, &desc3, 3));
	expect_charge("cuMipmappedArrayCreate", before, 64 * 8 * 4 + 32 * 4 * 2 + 16 * 2 * 1);
	CHECK(cuMipmappedArrayDestroy(mipmap));
	expect_credit("cuMipmappedArrayDestroy", before);

	/* a graph's memory node: charged when added, credited by a free node */
	CUgraph graph;
	CUgraphNode alloc_node, free_node;
	CUDA_MEM_ALLOC_NODE_PARAMS node = {
		.poolProps = {.allocType = CU_MEM_ALLOCATION_TYPE_PINNED,
			      .location = {.type = CU_MEM_LOCATION_TYPE_DEVICE, .id = 0}},
		.bytesize = 9 * MiB};
	CHECK(cuGraphCreate(&graph, 0));
	CHECK(cuGraphAddMemAllocNode(&alloc_node, graph, NULL, 0, &node));
	expect_charge("cuGraphAddMemAllocNode", before, 9 * MiB);
	CHECK(cuGraphAddMemFreeNode(&free_node, graph, &alloc_node, 1, node.dptr));
	expect_credit("cuGraphAddMemFreeNode", before);
	CHECK(cuGraphDestroy(graph));

	/* over the quota: refused with OUT_OF_MEMORY, nothing held, the process goes on */
	EXPECT(cuMemAlloc_v2(&p, before + 1) == CUDA_ERROR_OUT_OF_MEMORY, "over-quota alloc");
	EXPECT(cuMemCreate(&handle, before + 1, &prop, 0) == CUDA_ERROR_OUT_OF_MEMORY,
	       "over-quota cuMemCreate");
	expect_credit("refused allocations", before);
	if (!getenv("VRAM_DRIVER_REFUSES")) {
		CHECK(cuMemAlloc_v2(&p, before)); /* exactly the rest fits */
		EXPECT(free_now() == 0, "free after taking all: %zu", free_now());
		CHECK(cuMemFree_v2(p));
	}

	/* a failure of the driver itself returns the reservation */
	const char *refused = getenv("VRAM_DRIVER_REFUSES");
	if (refused) {
		EXPECT(cuMemAlloc_v2(&p, strtoull(refused, NULL, 0)) == CUDA_ERROR_OUT_OF_MEMORY,
		       "the driver should have refused %s bytes", refused);
		expect_credit("driver refusal", before);
	}
	/* a host-located VMM allocation is not device memory */
	prop.location.type = CU_MEM_LOCATION_TYPE_HOST;
	CHECK(cuMemCreate(&handle, 4 * MiB, &prop, 0));
	expect_credit("host cuMemCreate", before);
	CHECK(cuMemRelease(handle));
}

struct tally {
	long long held, most, refused;
};

static void race(int n)
{
	const char *path = getenv("RACE_TALLY");
	int fd = path ? open(path, O_RDWR | O_CLOEXEC) : -1;
	struct tally *t =
		fd >= 0 ? mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
			: MAP_FAILED;
	CUdeviceptr ring[8] = {0};
	size_t sizes[8] = {0};
	unsigned seed = (unsigned)getpid();

	if (t == MAP_FAILED) {
		fprintf(stderr, "vram-workload: race needs RACE_TALLY, a file of %zu bytes\n",
			sizeof(*t));
		exit(1);
	}
	init();
	for (int i = 0; i < n; i++) {
		int k = i % 8;
		if (ring[k]) {
			__atomic_sub_fetch(&t->held, (long long)sizes[k], __ATOMIC_SEQ_CST);
			CHECK(cuMemFree_v2(ring[k]));
			ring[k] = 0;
		}
		size_t bytes = MiB + rand_r(&seed) % (8 * MiB);
		CUresult rc = cuMemAlloc_v2(&ring[k], bytes);
		if (rc == CUDA_ERROR_OUT_OF_MEMORY) {
			__atomic_fetch_add(&t->refused, 1, __ATOMIC_RELAXED);
			ring[k] = 0;
			continue;
		}
		CHECK(rc);
		sizes[k] = bytes;
		long long now = __atomic_add_fetch(&t->held, (long long)bytes, __ATOMIC_SEQ_CST);
		long long most = __atomic_load_n(&t->most, __ATOMIC_RELAXED);
		while (now > most &&
		       !__atomic_compare_exchange_n(&t->most, &most, now, true, __ATOMIC_RELAXED,
						    __ATOMIC_RELAXED))
			;
	}
	for (int k = 0; k < 8; k++)
		if (ring[k]) {
			__atomic_sub_fetch(&t->held, (long long)sizes[k], __ATOMIC_SEQ_CST);
			CHECK(cuMemFree_v2(ring[k]));
		}
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The child takes BYTES and is killed; the parent (which does not wait for
 * it, so it stays a zombie meanwhile) retries until the bytes are back. */
static void kill_test(size_t bytes)
{
	int ready[2];
	char c;
	CUdeviceptr p;

	if (pipe(ready) < 0)
		exit(1);
	pid_t child = fork();
	if (child == 0) {
		init();
		CHECK(cuMemAlloc_v2(&p, bytes));
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	if (read(ready[0], &c, 1) != 1)
		exit(1);
	init();
	EXPECT(cuMemAlloc_v2(&p, bytes) == CUDA_ERROR_OUT_OF_MEMORY, "the child holds the quota");
	kill(child, SIGKILL);
	double t0 = now_ms(), elapsed = 0;
	CUresult rc;
	while ((rc = cuMemAlloc_v2(&p, bytes)) == CUDA_ERROR_OUT_OF_MEMORY && elapsed < 5000) {
		usleep(1000);
		elapsed = now_ms() - t0;
	}
	EXPECT(rc == CUDA_SUCCESS, "the killed child's %zu bytes never came back", bytes);
	printf("reclaimed after %.1f ms\n", now_ms() - t0);
	waitpid(child, NULL, 0);
}

typedef int (*nvml_fn)(void *, unsigned long long *);

static void view(void)
{
	size_t free_bytes, total;
	unsigned long long mem[5] = {0};
	void *dev;

	init();
	CHECK(cuMemGetInfo_v2(&free_bytes, &total));
	printf("cuMemGetInfo %zu %zu\n", free_bytes, total);
	CHECK(cuDeviceTotalMem_v2(&total, 0));
	printf("cuDeviceTotalMem 0 %zu\n", total);
	void *h = dlopen("libnvidia-ml.so.1", RTLD_NOW);
	int (*nvml_init)(void) = h ? (int (*)(void))dlsym(h, "nvmlInit_v2") : NULL;
	int (*get)(unsigned, void **) =
		h ? (int (*)(unsigned, void **))dlsym(h, "nvmlDeviceGetHandleByIndex_v2") : NULL;
	nvml_fn info = h ? (nvml_fn)dlsym(h, "nvmlDeviceGetMemoryInfo") : NULL;
	if (!nvml_init || !get || !info || nvml_init() || get(0, &dev) || info(dev, mem)) {
		fprintf(stderr, "vram-workload: NVML unusable\n");
		exit(1);
	}
	printf("nvmlDeviceGetMemoryInfo %llu %llu used %llu\n", mem[1], mem[0], mem[2]);
}

static void hold(size_t bytes)
{
	CUdeviceptr p;

	init();
	CHECK(cuMemAlloc_v2(&p, bytes));
	printf("holding\n");
	fflush(stdout);
	pause();
}

static void devices(void)
{
	int count;

	CHECK(cuInit(0));
	CHECK(cuDeviceGetCount(&count));
	for (int d = 0; d < count; d++) {
		CUcontext ctx;
		CUdeviceptr p;
		size_t free_bytes, total;
		CHECK(cuDevicePrimaryCtxRetain(&ctx, d));
		CHECK(cuCtxSetCurrent(ctx));
		CHECK(cuMemGetInfo_v2(&free_bytes, &total));
		CUresult rc = cuMemAlloc_v2(&p, free_bytes + 1);
		printf("device %d: %zu %zu, one byte more: %d\n", d, free_bytes, total, (int)rc);
		if (rc == CUDA_SUCCESS)
			CHECK(cuMemFree_v2(p));
	}
}

static void future(void)
{
	void *h = dlopen("libcuda.so.1", RTLD_NOW);
	__typeof__(&cuGetProcAddress_v2) get = h ? dlsym(h, "cuGetProcAddress_v2") : NULL;
	CUdriverProcAddressQueryResult status;
	void *fn = NULL;

	if (!get)
		exit(1);
	CUresult rc = get("cuMemAlloc", &fn, 13000, 0, &status);
	printf("cuGetProcAddress: %d %s\n", (int)rc, fn ? "function" : "null");
	printf("dlsym: %s\n", dlsym(h, "cuMemAlloc_v3") ? "function" : "null");
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (strcmp(mode, "paths") == 0)
		paths();
	else if (strcmp(mode, "race") == 0 && argc > 2)
		race(atoi(argv[2]));
	else if (strcmp(mode, "kill") == 0 && argc > 2)
		kill_test(strtoull(argv[2], NULL, 0));
	else if (strcmp(mode, "view") == 0)
		view();
	else if (strcmp(mode, "future") == 0)
		future();
	else if (strcmp(mode, "devices") == 0)
		devices();
	else if (strcmp(mode, "hold") == 0 && argc > 2)
		hold(strtoull(argv[2], NULL, 0));
	else {
		fprintf(stderr, "usage: vram-workload paths|race N|kill BYTES|view\n");
		return 2;
	}
	return failures ? 1 : 0;
}
