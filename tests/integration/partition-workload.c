/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a process sees of its SM partition, on fakecuda.
 *
 *   partition-workload KERNELS KERNEL_US [fault | runtime]
 *
 * Retains the primary context as the runtime does, then prints, one
 * "key value" a line: the SMs and groups the current context runs on (from
 * fakecuda), the same as seen from a second thread, and from a context of
 * its own (cuCtxCreate); what cuGreenCtxCreate answers; the wall time of
 * KERNELS kernels of KERNEL_US each (on the whole GPU), launched back to
 * back and synchronised. With "fault", one more kernel fails as an illegal
 * address would, and the error the synchronisation gives is printed. With
 * "runtime", the primary context is first made current the way the CUDA
 * runtime does it: taken through the driver's private interface, set
 * current, and only then retained.
 *
 *   partition-workload KERNELS KERNEL_US order
 *
 * then asks fakecuda, pattern by pattern, whether an operation is ordered
 * after the one before it as the legacy stream's implicit synchronisation
 * orders them: a kernel on a blocking stream, then a kernel on the legacy
 * stream, a synchronous copy, an event recorded on the legacy stream; a
 * kernel on the legacy stream, then one on the blocking stream; the same
 * with the per-thread stream; and, as the control, a kernel on a
 * non-blocking stream then one on the legacy stream (0: not ordered).
 *
 *   partition-workload KERNELS KERNEL_US follow MS
 *
 * then launches for MS milliseconds, one kernel every half millisecond on
 * each of: a stream it created, the legacy stream, its per-thread stream,
 * a graph (captured on the created stream) launched there, a graph captured
 * and instantiated anew each time, and a graph whose kernel node was set
 * again (cuGraphExecKernelNodeSetParams) before it started; and a kernel
 * on the legacy stream from a new thread that retains the primary context
 * and makes it current, its stack first filled with garbage (a launch the shim need not
 * move must not act on what it finds there). It prints
 * "following" when it starts, and at the end, per kind, the groups the first
 * and the last kernel ran on and when (CLOCK_MONOTONIC milliseconds) the
 * groups first changed (0: never); whether the current context is still the
 * one retained; and what a synchronisation of each stream returns.
 */
#define _GNU_SOURCE
#include <cuda.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

unsigned fakecuda_current_sms(void);
unsigned fakecuda_current_slots(void);
unsigned fakecuda_last_slots(void);
uint64_t fakecuda_last_op(void);
int fakecuda_ordered_after(uint64_t token);
uint64_t fakecuda_calls(const char *name);
CUcontext fakecuda_runtime_primary(int dev);

#define CHECK(call)                                                                               \
	do {                                                                                      \
		CUresult rc_ = (call);                                                            \
		if (rc_ != CUDA_SUCCESS) {                                                        \
			fprintf(stderr, "partition-workload: %s returned %d\n", #call, (int)rc_); \
			exit(1);                                                                  \
		}                                                                                 \
	} while (0)

static CUcontext primary;
static unsigned thread_sms;

static void *other_thread(void *arg)
{
	CHECK(cuCtxSetCurrent(primary));
	thread_sms = fakecuda_current_sms();
	return NULL;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A graph of one `kernel` captured on `s`, instantiated. */
static CUgraphExec captured(CUfunction kernel, CUstream s)
{
	CUgraph graph;
	CUgraphExec exec;

	CHECK(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
	CHECK(cuLaunchKernel(kernel, 1, 1, 1, 1, 1, 1, 0, s, NULL, NULL));
	CHECK(cuStreamEndCapture(s, &graph));
	CHECK(cuGraphInstantiateWithFlags(&exec, graph, 0));
	CHECK(cuGraphDestroy(graph)); /* as PyTorch does */
	return exec;
}

/* Fills this much of the stack below the caller with ones. */
static __attribute__((noinline)) void dirty_stack(void)
{
	volatile unsigned char junk[16384];

	memset((void *)junk, 0xff, sizeof(junk));
}

/* A new thread's kernel on the legacy stream: the groups it ran on. */
static void *new_thread_kernel(void *arg)
{
	static unsigned slots;

	CUcontext ctx;

	dirty_stack();
	CHECK(cuDevicePrimaryCtxRetain(&ctx, 0)); /* the stand-in of the moment */
	CHECK(cuCtxSetCurrent(ctx));
	/* (FAKECUDA_FUNCTIONS_STAY refuses it after a move: the module is the old context's) */
	slots = cuLaunchKernel((CUfunction)arg, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL) ==
				CUDA_SUCCESS
			? fakecuda_last_slots()
			: 0;
	return &slots;
}

/* Launches on a created stream, the legacy and per-thread streams and
 * graphs for `ms`, watching the groups each kernel runs on. */
static void follow(CUfunction kernel, double ms)
{
	enum { KINDS = 7 };
	static const char *const kinds[KINDS] = {"stream",    "legacy",	      "per_thread", "graph",
						 "graph_new", "graph_edited", "new_thread"};
	unsigned first[KINDS] = {0}, last[KINDS] = {0};
	double moved_at[KINDS] = {0};
	CUstream s;
	CUgraphExec exec, edited;
	CUcontext before, after;
	CUgraphNode node;
	size_t nodes = 1;
	CUgraph graph;

	CHECK(cuCtxGetCurrent(&before));
	CHECK(cuStreamCreate(&s, 0));
	exec = captured(kernel, s);
	CHECK(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
	CHECK(cuLaunchKernel(kernel, 1, 1, 1, 1, 1, 1, 0, s, NULL, NULL));
	CHECK(cuStreamEndCapture(s, &graph));
	CHECK(cuGraphInstantiateWithFlags(&edited, graph, 0));
	CHECK(cuGraphGetNodes(graph, &node, &nodes));
	CUDA_KERNEL_NODE_PARAMS params = {.func = kernel,
					  .gridDimX = 1,
					  .gridDimY = 1,
					  .gridDimZ = 1,
					  .blockDimX = 1,
					  .blockDimY = 1,
					  .blockDimZ = 1};
	CHECK(cuGraphExecKernelNodeSetParams(edited, node, &params));
	printf("following\n");
	fflush(stdout);
	for (double t0 = now_ms(); now_ms() - t0 < ms;) {
		for (int k = 0; k < KINDS; k++) {
			CUstream on = k == 1 ? NULL : k == 2 ? CU_STREAM_PER_THREAD : s;
			if (k == 3) {
				CHECK(cuGraphLaunch(exec, s));
			} else if (k == 4) {
				CUgraphExec fresh = captured(kernel, s);
				CHECK(cuGraphLaunch(fresh, s));
				CHECK(cuGraphExecDestroy(fresh));
			} else if (k == 5) {
				CHECK(cuGraphLaunch(edited, s));
			} else if (k == 6) {
				pthread_t t;
				void *slots;
				pthread_create(&t, NULL, new_thread_kernel, kernel);
				pthread_join(t, &slots);
				if (*(unsigned *)slots)
					last[k] = *(unsigned *)slots;
			} else {
				CHECK(cuLaunchKernel(kernel, 1, 1, 1, 1, 1, 1, 0, on, NULL, NULL));
			}
			if (k != 6)
				last[k] = fakecuda_last_slots();
			if (!first[k])
				first[k] = last[k];
			if (last[k] != first[k] && !moved_at[k])
				moved_at[k] = now_ms();
		}
		struct timespec pause = {.tv_nsec = 500000};
		nanosleep(&pause, NULL);
	}
	CHECK(cuCtxGetCurrent(&after));
	for (int k = 0; k < KINDS; k++)
		printf("%s_first %u\n%s_last %u\n%s_moved_at_ms %.3f\n", kinds[k], first[k],
		       kinds[k], last[k], kinds[k], moved_at[k]);
	printf("context_kept %d\n", before == after);
	printf("sync_stream %d\nsync_context %d\n", (int)cuStreamSynchronize(s),
	       (int)cuCtxSynchronize());
}

/* Whether `second` on its stream is ordered after `first` on its own. */
static int ordered(CUfunction kernel, CUstream first, CUstream second)
{
	CHECK(cuLaunchKernel(kernel, 1, 1, 1, 1, 1, 1, 0, first, NULL, NULL));
	uint64_t token = fakecuda_last_op();
	CHECK(cuLaunchKernel(kernel, 1, 1, 1, 1, 1, 1, 0, second, NULL, NULL));
	return fakecuda_ordered_after(token);
}

static void order(CUfunction kernel)
{
	CUstream blocking, nonblocking;
	CUdeviceptr d;
	CUevent e;
	int host;

	CHECK(cuStreamCreate(&blocking, 0));
	CHECK(cuStreamCreate(&nonblocking, CU_STREAM_NON_BLOCKING));
	CHECK(cuEventCreate(&e, CU_EVENT_DISABLE_TIMING));
	CHECK(cuMemAlloc(&d, sizeof(host)));
	printf("blocking_legacy %d\n", ordered(kernel, blocking, CU_STREAM_LEGACY));
	printf("legacy_blocking %d\n", ordered(kernel, NULL, blocking));
	CHECK(cuLaunchKernel(kernel, 1, 1, 1, 1, 1, 1, 0, blocking, NULL, NULL));
	uint64_t token = fakecuda_last_op();
	CHECK(cuMemcpyDtoH(&host, d, sizeof(host)));
	printf("copy %d\n", fakecuda_ordered_after(token));
	CHECK(cuLaunchKernel(kernel, 1, 1, 1, 1, 1, 1, 0, blocking, NULL, NULL));
	token = fakecuda_last_op();
	CHECK(cuEventRecord(e, NULL));
	printf("event %d\n", fakecuda_ordered_after(token));
	printf("per_thread_legacy %d\n", ordered(kernel, CU_STREAM_PER_THREAD, NULL));
	printf("legacy_per_thread %d\n", ordered(kernel, NULL, CU_STREAM_PER_THREAD));
	printf("control %d\n", ordered(kernel, nonblocking, NULL));
	CHECK(cuStreamDestroy(blocking));
	CHECK(cuStreamDestroy(nonblocking));
	printf("after_destroy %d\n", ordered(kernel, CU_STREAM_PER_THREAD, NULL));

	/* a batch on a blocking stream, then the legacy stream: events are
	 * recorded where the order changes hands, not after each launch */
	CHECK(cuStreamCreate(&blocking, 0));
	uint64_t records = fakecuda_calls("cuEventRecord");
	for (int i = 0; i < 100; i++)
		CHECK(cuLaunchKernel(kernel, 1, 1, 1, 1, 1, 1, 0, blocking, NULL, NULL));
	token = fakecuda_last_op();
	CHECK(cuLaunchKernel(kernel, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL));
	printf("batch_legacy %d\n", fakecuda_ordered_after(token));
	printf("batch_records %d\n", (int)(fakecuda_calls("cuEventRecord") - records));
	CHECK(cuStreamDestroy(blocking));
}

int main(int argc, char **argv)
{
	CUdevice dev;
	CUcontext own;
	CUmodule module;
	CUfunction kernel, fault;
	CUgreenCtx green;
	pthread_t t;
	char image[128];

	if (argc < 3) {
		fprintf(stderr, "usage: partition-workload KERNELS KERNEL_US [fault]\n");
		return 2;
	}
	int kernels = atoi(argv[1]);
	snprintf(image, sizeof(image), "kernel %s fault 1", argv[2]);

	CHECK(cuInit(0));
	CHECK(cuDeviceGet(&dev, 0));
	if (argc > 3 && strcmp(argv[3], "runtime") == 0) {
		CHECK(cuCtxSetCurrent(fakecuda_runtime_primary(0)));
		printf("sms_before_retain %u\n", fakecuda_current_sms());
	}
	CHECK(cuDevicePrimaryCtxRetain(&primary, dev));
	CHECK(cuCtxSetCurrent(primary));
	printf("sms %u\nslots %u\n", fakecuda_current_sms(), fakecuda_current_slots());
	pthread_create(&t, NULL, other_thread, NULL);
	pthread_join(t, NULL);
	printf("thread_sms %u\n", thread_sms);

	CHECK(cuCtxCreate(&own, NULL, 0, dev));
	printf("own_context_sms %u\n", fakecuda_current_sms());
	CHECK(cuCtxDestroy(own));
	CHECK(cuCtxSetCurrent(primary));

	CUdevResource all;
	CUdevResourceDesc desc;
	CHECK(cuDeviceGetDevResource(dev, &all, CU_DEV_RESOURCE_TYPE_SM));
	CHECK(cuDevResourceGenerateDesc(&desc, &all, 1));
	CUresult rc = cuGreenCtxCreate(&green, desc, dev, CU_GREEN_CTX_DEFAULT_STREAM);
	printf("green_create %d\n", (int)rc);
	if (rc == CUDA_SUCCESS)
		CHECK(cuGreenCtxDestroy(green));

	CHECK(cuModuleLoadData(&module, image));
	CHECK(cuModuleGetFunction(&kernel, module, "kernel"));
	CHECK(cuModuleGetFunction(&fault, module, "fault"));
	if (argc > 3 && strcmp(argv[3], "order") == 0) {
		order(kernel);
		fflush(stdout);
		CHECK(cuDevicePrimaryCtxRelease(dev));
		return 0;
	}
	if (argc > 4 && strcmp(argv[3], "follow") == 0) {
		follow(kernel, atof(argv[4]));
		fflush(stdout);
		CHECK(cuDevicePrimaryCtxRelease(dev));
		return 0;
	}
	double t0 = now_ms();
	for (int i = 0; i < kernels; i++)
		CHECK(cuLaunchKernel(kernel, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL));
	CHECK(cuCtxSynchronize());
	printf("wall_ms %.1f\n", now_ms() - t0);
	if (argc > 3 && strcmp(argv[3], "fault") == 0) {
		CHECK(cuLaunchKernel(fault, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL));
		printf("sync_rc %d\n", (int)cuCtxSynchronize());
	}
	fflush(stdout);
	CHECK(cuDevicePrimaryCtxRelease(dev));
	return 0;
}
