/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A driver-API program that reaches the driver by one chosen route and
 * issues a known workload, so a test can compare what the shim counted with
 * what was issued.
 *
 *   driver-workload ROUTE [--launches N] [--threads T] [--fork] [--probe-next]
 *
 * ROUTE is how entry points are found:
 *   linked       the program's own references (linked with -lcuda)
 *   dlsym        dlopen("libcuda.so.1") + dlsym of the exported names
 *   procaddr     cuGetProcAddress (the CUDA 11.3 form)
 *   procaddr-v2  cuGetProcAddress_v2 obtained by dlsym, then asked for itself
 *                (version 12000) as the CUDA runtime does
 *   ptsz         as procaddr-v2, with the per-thread default stream flag
 *   nvml         NVML's memory queries through dlopen + dlsym
 *
 * Per thread it issues N of each launch path and one of each allocation path;
 * the main thread also captures a graph of 3 launches and replays it N times.
 * Exit status 0 means every call returned what the driver should return.
 */
#define _GNU_SOURCE
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* clang-format off */
/* field, exported symbol, base name for cuGetProcAddress */
#define API(X)                                                                          \
	X(Init, cuInit, cuInit)                                                         \
	X(DeviceGet, cuDeviceGet, cuDeviceGet)                                          \
	X(DeviceGetName, cuDeviceGetName, cuDeviceGetName)                              \
	X(DeviceTotalMem, cuDeviceTotalMem_v2, cuDeviceTotalMem)                        \
	X(PrimaryRetain, cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRetain)            \
	X(PrimaryRelease, cuDevicePrimaryCtxRelease_v2, cuDevicePrimaryCtxRelease)      \
	X(CtxSetCurrent, cuCtxSetCurrent, cuCtxSetCurrent)                              \
	X(CtxGetDevice, cuCtxGetDevice, cuCtxGetDevice)                                 \
	X(CtxSynchronize, cuCtxSynchronize, cuCtxSynchronize)                           \
	X(ModuleLoadData, cuModuleLoadData, cuModuleLoadData)                           \
	X(ModuleGetFunction, cuModuleGetFunction, cuModuleGetFunction)                  \
	X(StreamCreate, cuStreamCreate, cuStreamCreate)                                 \
	X(StreamDestroy, cuStreamDestroy_v2, cuStreamDestroy)                           \
	X(BeginCapture, cuStreamBeginCapture_v2, cuStreamBeginCapture)                  \
	X(EndCapture, cuStreamEndCapture, cuStreamEndCapture)                           \
	X(GraphInstantiate, cuGraphInstantiateWithFlags, cuGraphInstantiateWithFlags)   \
	X(GraphLaunch, cuGraphLaunch, cuGraphLaunch)                                    \
	X(GraphExecDestroy, cuGraphExecDestroy, cuGraphExecDestroy)                     \
	X(GraphDestroy, cuGraphDestroy, cuGraphDestroy)                                 \
	X(LaunchKernel, cuLaunchKernel, cuLaunchKernel)                                 \
	X(LaunchKernelEx, cuLaunchKernelEx, cuLaunchKernelEx)                           \
	X(LaunchCooperative, cuLaunchCooperativeKernel, cuLaunchCooperativeKernel)      \
	X(LaunchMulti, cuLaunchCooperativeKernelMultiDevice, cuLaunchCooperativeKernelMultiDevice) \
	X(LaunchHostFunc, cuLaunchHostFunc, cuLaunchHostFunc)                           \
	X(LaunchGrid, cuLaunchGrid, cuLaunchGrid)                                       \
	X(MemAlloc, cuMemAlloc_v2, cuMemAlloc)                                          \
	X(MemAllocPitch, cuMemAllocPitch_v2, cuMemAllocPitch)                           \
	X(MemAllocManaged, cuMemAllocManaged, cuMemAllocManaged)                        \
	X(MemAllocAsync, cuMemAllocAsync, cuMemAllocAsync)                              \
	X(MemAllocFromPool, cuMemAllocFromPoolAsync, cuMemAllocFromPoolAsync)           \
	X(MemFree, cuMemFree_v2, cuMemFree)                                             \
	X(MemFreeAsync, cuMemFreeAsync, cuMemFreeAsync)                                 \
	X(MemPoolCreate, cuMemPoolCreate, cuMemPoolCreate)                              \
	X(MemPoolDestroy, cuMemPoolDestroy, cuMemPoolDestroy)                           \
	X(MemCreate, cuMemCreate, cuMemCreate)                                          \
	X(MemRelease, cuMemRelease, cuMemRelease)                                       \
	X(ArrayCreate, cuArrayCreate_v2, cuArrayCreate)                                 \
	X(ArrayDestroy, cuArrayDestroy, cuArrayDestroy)                                 \
	X(MemGetInfo, cuMemGetInfo_v2, cuMemGetInfo)                                    \
	X(GetExportTable, cuGetExportTable, cuGetExportTable)
/* clang-format on */

static struct {
#define X(field, sym, base) __typeof__(&sym) field;
	API(X)
#undef X
} cu;

static int launches = 10;
static CUfunction kernel;

#define CHECK(call)                                                                           \
	do {                                                                                  \
		CUresult rc_ = (call);                                                        \
		if (rc_ != CUDA_SUCCESS) {                                                    \
			fprintf(stderr, "driver-workload: %s:%d: %s returned %d\n", __FILE__, \
				__LINE__, #call, (int)rc_);                                   \
			exit(1);                                                              \
		}                                                                             \
	} while (0)

static void resolve_linked(void)
{
#define X(field, sym, base) cu.field = sym;
	API(X)
#undef X
}

static void *libcuda(void)
{
	void *h = dlopen("libcuda.so.1", RTLD_NOW);
	if (!h) {
		fprintf(stderr, "driver-workload: %s\n", dlerror());
		exit(1);
	}
	return h;
}

static void resolve_dlsym(void)
{
	void *h = libcuda();
#define X(field, sym, base) cu.field = (__typeof__(cu.field))dlsym(h, #sym);
	API(X)
#undef X
}

/* The requested cudaVersion picks the ABI variant: 3.0 gets the 32-bit
 * cuMemAlloc, 3.2 and later cuMemAlloc_v2; each must come back wrapped. */
static void check_versions(__typeof__(&cuGetProcAddress) get_v1,
			   __typeof__(&cuGetProcAddress_v2) get_v2)
{
	void *old = NULL, *cur = NULL;

	if (get_v2) {
		CHECK(get_v2("cuMemAlloc", &old, 3000, 0, NULL));
		CHECK(get_v2("cuMemAlloc", &cur, 12000, 0, NULL));
	} else {
		CHECK(get_v1("cuMemAlloc", &old, 3000, 0));
		CHECK(get_v1("cuMemAlloc", &cur, 12000, 0));
	}
	if (old != dlsym(RTLD_DEFAULT, "cuMemAlloc") ||
	    cur != dlsym(RTLD_DEFAULT, "cuMemAlloc_v2") || old == cur) {
		fprintf(stderr, "driver-workload: cudaVersion did not pick the wrapped variant\n");
		exit(1);
	}
}

static void resolve_procaddr(int version, cuuint64_t flags, bool v2)
{
	void *h = libcuda();
	__typeof__(&cuGetProcAddress_v2) get_v2 = NULL;
	__typeof__(&cuGetProcAddress) get_v1 = NULL;

	if (v2) {
		/* what libcudart does: dlsym the _v2 entry, then ask it for itself */
		void *boot = dlsym(h, "cuGetProcAddress_v2");
		CUdriverProcAddressQueryResult status;
		CHECK(((__typeof__(&cuGetProcAddress_v2))boot)("cuGetProcAddress", (void **)&get_v2,
							       version, 0, &status));
		if (get_v2 != boot) {
			fprintf(stderr, "driver-workload: self-lookup returned another function\n");
			exit(1);
		}
	} else {
		get_v1 = (__typeof__(get_v1))dlsym(h, "cuGetProcAddress");
	}
	check_versions(get_v1, get_v2);
#define X(field, sym, base)                                                     \
	if (v2)                                                                 \
		CHECK(get_v2(#base, (void **)&cu.field, version, flags, NULL)); \
	else                                                                    \
		CHECK(get_v1(#base, (void **)&cu.field, version, flags));
	API(X)
#undef X
}

static void host_fn(void *data)
{
	__atomic_fetch_add((int *)data, 1, __ATOMIC_RELAXED);
}

static void launch_all(CUstream stream)
{
	static int host_calls;
	CUlaunchConfig config = {.gridDimX = 1,
				 .gridDimY = 1,
				 .gridDimZ = 1,
				 .blockDimX = 32,
				 .blockDimY = 1,
				 .blockDimZ = 1,
				 .hStream = stream};
	CUDA_LAUNCH_PARAMS multi = {.function = kernel,
				    .gridDimX = 1,
				    .gridDimY = 1,
				    .gridDimZ = 1,
				    .blockDimX = 1,
				    .blockDimY = 1,
				    .blockDimZ = 1,
				    .hStream = stream};

	for (int i = 0; i < launches; i++) {
		CHECK(cu.LaunchKernel(kernel, 1, 1, 1, 32, 1, 1, 0, stream, NULL, NULL));
		CHECK(cu.LaunchKernelEx(&config, kernel, NULL, NULL));
		CHECK(cu.LaunchCooperative(kernel, 1, 1, 1, 32, 1, 1, 0, stream, NULL));
		CHECK(cu.LaunchHostFunc(stream, host_fn, &host_calls));
	}
	CHECK(cu.LaunchMulti(&multi, 1, 0));
	CHECK(cu.LaunchGrid(kernel, 1, 1));
}

static void allocate_all(void)
{
	CUdeviceptr p;
	size_t pitch;
	CUmemoryPool pool;
	CUmemPoolProps pool_props = {.allocType = CU_MEM_ALLOCATION_TYPE_PINNED,
				     .location = {.type = CU_MEM_LOCATION_TYPE_DEVICE}};
	CUmemAllocationProp prop = {.type = CU_MEM_ALLOCATION_TYPE_PINNED,
				    .location = {.type = CU_MEM_LOCATION_TYPE_DEVICE}};
	CUmemGenericAllocationHandle handle;
	CUDA_ARRAY_DESCRIPTOR desc = {
		.Width = 256, .Height = 16, .Format = CU_AD_FORMAT_FLOAT, .NumChannels = 1};
	CUarray array;

	CHECK(cu.MemAlloc(&p, 1 << 20));
	CHECK(cu.MemFree(p));
	CHECK(cu.MemAllocPitch(&p, &pitch, 1000, 10, 4));
	CHECK(cu.MemFree(p));
	CHECK(cu.MemAllocManaged(&p, 4096, CU_MEM_ATTACH_GLOBAL));
	CHECK(cu.MemFree(p));
	CHECK(cu.MemAllocAsync(&p, 8192, NULL));
	CHECK(cu.MemFreeAsync(p, NULL));
	CHECK(cu.MemPoolCreate(&pool, &pool_props));
	CHECK(cu.MemAllocFromPool(&p, 16384, pool, NULL));
	CHECK(cu.MemFreeAsync(p, NULL));
	CHECK(cu.MemPoolDestroy(pool));
	CHECK(cu.MemCreate(&handle, 2 << 20, &prop, 0));
	CHECK(cu.MemRelease(handle));
	CHECK(cu.ArrayCreate(&array, &desc));
	CHECK(cu.ArrayDestroy(array));
	/* the driver refuses this one; the shim must count it as failed */
	if (cu.MemAlloc(&p, 0) != CUDA_ERROR_INVALID_VALUE)
		exit(1);
}

static void capture_and_replay(void)
{
	CUstream stream;
	CUgraph graph;
	CUgraphExec exec;

	CHECK(cu.StreamCreate(&stream, 0));
	CHECK(cu.BeginCapture(stream, CU_STREAM_CAPTURE_MODE_GLOBAL));
	for (int i = 0; i < 3; i++)
		CHECK(cu.LaunchKernel(kernel, 1, 1, 1, 32, 1, 1, 0, stream, NULL, NULL));
	CHECK(cu.EndCapture(stream, &graph));
	CHECK(cu.GraphInstantiate(&exec, graph, 0));
	for (int i = 0; i < launches; i++)
		CHECK(cu.GraphLaunch(exec, stream));
	CHECK(cu.GraphExecDestroy(exec));
	CHECK(cu.GraphDestroy(graph));
	CHECK(cu.StreamDestroy(stream));
}

/* Entry points outside the hook table reach the driver untouched. */
static void check_pass_through(void)
{
	char name[64];
	const void *table = NULL;
	CUuuid id = {{0}};
	CUdevice dev;

	CHECK(cu.DeviceGetName(name, sizeof(name), 0));
	CHECK(cu.GetExportTable(&table, &id));
	if (strncmp(name, "cuslice fake GPU", 16) == 0 &&
	    *(const unsigned long long *)table != 0xc051ce0fa4ec0da1ull) {
		fprintf(stderr, "driver-workload: cuGetExportTable did not reach the driver\n");
		exit(1);
	}
	CHECK(cu.CtxGetDevice(&dev));
}

static CUcontext context;

static void *thread_main(void *arg)
{
	CHECK(cu.CtxSetCurrent(context));
	launch_all(NULL);
	return NULL;
}

static int run(int threads, bool do_fork)
{
	CUdevice dev;
	CUmodule module;
	size_t free_bytes, total;

	CHECK(cu.Init(0));
	CHECK(cu.DeviceGet(&dev, 0));
	if (cu.CtxGetDevice(&dev) != CUDA_ERROR_INVALID_CONTEXT) {
		fprintf(stderr, "driver-workload: the driver's own error did not come back\n");
		return 1;
	}
	CHECK(cu.PrimaryRetain(&context, dev));
	CHECK(cu.CtxSetCurrent(context));
	CHECK(cu.ModuleLoadData(&module, "empty 1\n"));
	CHECK(cu.ModuleGetFunction(&kernel, module, "empty"));
	CHECK(cu.MemGetInfo(&free_bytes, &total));
	CHECK(cu.DeviceTotalMem(&total, dev));
	check_pass_through();
	allocate_all();
	capture_and_replay();

	pthread_t tids[64];
	for (int i = 0; i < threads; i++)
		pthread_create(&tids[i], NULL, thread_main, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	CHECK(cu.CtxSynchronize());

	if (do_fork) {
		pid_t pid = fork();
		if (pid == 0) {
			launch_all(NULL);
			exit(0);
		}
		int status;
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			return 1;
	}
	CHECK(cu.PrimaryRelease(dev));
	return 0;
}

static int query_nvml(void)
{
	void *h = dlopen("libnvidia-ml.so.1", RTLD_NOW);
	int (*init)(void) = h ? (int (*)(void))dlsym(h, "nvmlInit_v2") : NULL;
	int (*get)(unsigned, void **) =
		h ? (int (*)(unsigned, void **))dlsym(h, "nvmlDeviceGetHandleByIndex_v2") : NULL;
	int (*info)(void *, unsigned long long *) =
		h ? (int (*)(void *, unsigned long long *))dlsym(h, "nvmlDeviceGetMemoryInfo")
		  : NULL;
	int (*info_v2)(void *, unsigned long long *) =
		h ? (int (*)(void *, unsigned long long *))dlsym(h, "nvmlDeviceGetMemoryInfo_v2")
		  : NULL;
	unsigned long long memory[5] = {0};
	void *dev;

	if (!init || !get || !info || !info_v2 || init() || get(0, &dev))
		return 1;
	if (info(dev, memory) || info(dev, memory))
		return 1;
	memory[0] = 2u << 24 | 40; /* nvmlMemory_v2 version */
	return info_v2(dev, memory) ? 1 : 0;
}

int main(int argc, char **argv)
{
	int threads = 1;
	bool do_fork = false;

	if (argc < 2) {
		fprintf(stderr, "usage: driver-workload ROUTE [--launches N] [--threads T] "
				"[--fork] [--probe-next]\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--launches") == 0 && i + 1 < argc)
			launches = atoi(argv[++i]);
		else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (strcmp(argv[i], "--fork") == 0)
			do_fork = true;
		else if (strcmp(argv[i], "--probe-next") == 0)
			puts("probe");
	}
	if (threads < 0 || threads > 64)
		threads = 64;

	const char *route = argv[1];
	if (strcmp(route, "linked") == 0)
		resolve_linked();
	else if (strcmp(route, "dlsym") == 0)
		resolve_dlsym();
	else if (strcmp(route, "procaddr") == 0)
		resolve_procaddr(12000, 0, false);
	else if (strcmp(route, "procaddr-v2") == 0)
		resolve_procaddr(12000, 0, true);
	else if (strcmp(route, "ptsz") == 0)
		resolve_procaddr(12000, CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM, true);
	else if (strcmp(route, "nvml") == 0)
		return query_nvml();
	else {
		fprintf(stderr, "driver-workload: unknown route \"%s\"\n", route);
		return 2;
	}
	return run(threads, do_fork);
}
