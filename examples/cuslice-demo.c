/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cuslice-demo: a small CUDA program that reaches the driver the way the
 * CUDA runtime does (dlopen, dlsym of cuGetProcAddress_v2, then every entry
 * point through it), adds two vectors with a PTX kernel, replays a CUDA
 * graph, and checks the result. Run it under `cuslice run --summary` to see
 * what the shim saw; it runs on a GPU, or on fakecuda where there is none.
 *
 *   cuslice-demo [LAUNCHES]
 */
#define _GNU_SOURCE
#include <cuda.h>

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 4096
#define GRAPH_KERNELS 5
#define GRAPH_REPLAYS 10

static const char vadd_ptx[] =
	".version 7.0\n"
	".target sm_52\n"
	".address_size 64\n"
	".visible .entry vadd(.param .u64 a, .param .u64 b, .param .u64 c, .param .u32 n)\n"
	"{\n"
	"  .reg .pred p;\n"
	"  .reg .b32 r<5>;\n"
	"  .reg .f32 f<4>;\n"
	"  .reg .b64 rd<11>;\n"
	"  ld.param.u64 rd1, [a];\n"
	"  ld.param.u64 rd2, [b];\n"
	"  ld.param.u64 rd3, [c];\n"
	"  ld.param.u32 r2, [n];\n"
	"  mov.u32 r3, %ctaid.x;\n"
	"  mov.u32 r4, %ntid.x;\n"
	"  mov.u32 r1, %tid.x;\n"
	"  mad.lo.s32 r1, r3, r4, r1;\n"
	"  setp.ge.u32 p, r1, r2;\n"
	"  @p bra DONE;\n"
	"  cvta.to.global.u64 rd4, rd1;\n"
	"  cvta.to.global.u64 rd5, rd2;\n"
	"  cvta.to.global.u64 rd6, rd3;\n"
	"  mul.wide.u32 rd7, r1, 4;\n"
	"  add.s64 rd8, rd4, rd7;\n"
	"  add.s64 rd9, rd5, rd7;\n"
	"  add.s64 rd10, rd6, rd7;\n"
	"  ld.global.f32 f1, [rd8];\n"
	"  ld.global.f32 f2, [rd9];\n"
	"  add.f32 f3, f1, f2;\n"
	"  st.global.f32 [rd10], f3;\n"
	"DONE:\n"
	"  ret;\n"
	"}\n";

/* clang-format off */
#define API(X)                                                                  \
	X(Init, cuInit)                                                         \
	X(DeviceGet, cuDeviceGet)                                               \
	X(DeviceGetName, cuDeviceGetName)                                       \
	X(PrimaryRetain, cuDevicePrimaryCtxRetain)                              \
	X(PrimaryRelease, cuDevicePrimaryCtxRelease_v2)                         \
	X(CtxSetCurrent, cuCtxSetCurrent)                                       \
	X(CtxSynchronize, cuCtxSynchronize)                                     \
	X(ModuleLoadData, cuModuleLoadData)                                     \
	X(ModuleGetFunction, cuModuleGetFunction)                               \
	X(StreamCreate, cuStreamCreate)                                         \
	X(BeginCapture, cuStreamBeginCapture_v2)                                \
	X(EndCapture, cuStreamEndCapture)                                       \
	X(GraphInstantiate, cuGraphInstantiateWithFlags)                        \
	X(GraphLaunch, cuGraphLaunch)                                           \
	X(StreamSynchronize, cuStreamSynchronize)                               \
	X(LaunchKernel, cuLaunchKernel)                                         \
	X(LaunchKernelEx, cuLaunchKernelEx)                                     \
	X(MemAlloc, cuMemAlloc_v2)                                              \
	X(MemFree, cuMemFree_v2)                                                \
	X(MemcpyHtoD, cuMemcpyHtoD_v2)                                          \
	X(MemcpyDtoH, cuMemcpyDtoH_v2)                                          \
	X(GetErrorString, cuGetErrorString)
/* clang-format on */

static struct {
#define X(field, sym) __typeof__(&sym) field;
	API(X)
#undef X
} cu;

static const char *const names[] = {
#define X(field, sym) #sym,
	API(X)
#undef X
};

static void die(const char *what, CUresult rc)
{
	const char *msg = "unknown error";

	if (cu.GetErrorString)
		cu.GetErrorString(rc, &msg);
	fprintf(stderr, "cuslice-demo: %s failed: %s (%d)\n", what, msg, (int)rc);
	exit(1);
}

#define CHECK(call)                      \
	do {                             \
		CUresult rc_ = (call);   \
		if (rc_ != CUDA_SUCCESS) \
			die(#call, rc_); \
	} while (0)

/* The name a program passes to cuGetProcAddress has no ABI suffix: the
 * driver picks the variant from the CUDA version asked for (12.0 here). */
static void base_name(const char *sym, char *out, size_t size)
{
	snprintf(out, size, "%s", sym);
	char *v = strstr(out, "_v2");
	if (v && v[3] == '\0')
		*v = '\0';
}

static void resolve(void)
{
	void *h = dlopen("libcuda.so.1", RTLD_NOW);
	if (!h) {
		fprintf(stderr, "cuslice-demo: no CUDA driver: %s\n", dlerror());
		exit(1);
	}
	__typeof__(&cuGetProcAddress_v2) get = dlsym(h, "cuGetProcAddress_v2");
	if (!get) {
		fprintf(stderr, "cuslice-demo: the driver has no cuGetProcAddress_v2\n");
		exit(1);
	}
	void **slots = (void **)&cu;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char base[64];
		CUdriverProcAddressQueryResult status;
		base_name(names[i], base, sizeof(base));
		CHECK(get(base, &slots[i], 12000, 0, &status));
	}
}

int main(int argc, char **argv)
{
	int launches = argc > 1 ? atoi(argv[1]) : 100;
	unsigned n = N, blocks = (N + 255) / 256;
	static float a[N], b[N], c[N];
	CUdevice dev;
	CUcontext ctx;
	CUmodule module;
	CUfunction vadd;
	CUdeviceptr da, db, dc;
	CUstream stream;
	CUgraph graph;
	CUgraphExec exec;
	char name[128];

	if (launches < 1 || launches > 1000000) {
		fprintf(stderr, "cuslice-demo: LAUNCHES must be 1..1000000, got \"%s\"\n", argv[1]);
		return 2;
	}
	resolve();
	CHECK(cu.Init(0));
	CHECK(cu.DeviceGet(&dev, 0));
	CHECK(cu.DeviceGetName(name, sizeof(name), dev));
	CHECK(cu.PrimaryRetain(&ctx, dev));
	CHECK(cu.CtxSetCurrent(ctx));
	CHECK(cu.ModuleLoadData(&module, vadd_ptx));
	CHECK(cu.ModuleGetFunction(&vadd, module, "vadd"));

	for (int i = 0; i < N; i++) {
		a[i] = (float)i;
		b[i] = 2.0f * (float)i;
	}
	CHECK(cu.MemAlloc(&da, sizeof(a)));
	CHECK(cu.MemAlloc(&db, sizeof(b)));
	CHECK(cu.MemAlloc(&dc, sizeof(c)));
	CHECK(cu.MemcpyHtoD(da, a, sizeof(a)));
	CHECK(cu.MemcpyHtoD(db, b, sizeof(b)));

	void *params[] = {&da, &db, &dc, &n};
	CHECK(cu.StreamCreate(&stream, CU_STREAM_NON_BLOCKING));
	for (int i = 0; i < launches; i++)
		CHECK(cu.LaunchKernel(vadd, blocks, 1, 1, 256, 1, 1, 0, stream, params, NULL));
	CUlaunchConfig config = {.gridDimX = blocks,
				 .gridDimY = 1,
				 .gridDimZ = 1,
				 .blockDimX = 256,
				 .blockDimY = 1,
				 .blockDimZ = 1,
				 .hStream = stream};
	for (int i = 0; i < launches / 10; i++)
		CHECK(cu.LaunchKernelEx(&config, vadd, params, NULL));

	CHECK(cu.BeginCapture(stream, CU_STREAM_CAPTURE_MODE_GLOBAL));
	for (int i = 0; i < GRAPH_KERNELS; i++)
		CHECK(cu.LaunchKernel(vadd, blocks, 1, 1, 256, 1, 1, 0, stream, params, NULL));
	CHECK(cu.EndCapture(stream, &graph));
	CHECK(cu.GraphInstantiate(&exec, graph, 0));
	for (int i = 0; i < GRAPH_REPLAYS; i++)
		CHECK(cu.GraphLaunch(exec, stream));
	CHECK(cu.StreamSynchronize(stream));
	CHECK(cu.MemcpyDtoH(c, dc, sizeof(c)));

	/* fakecuda simulates timing, not data: there is no result to check there */
	bool simulated = strstr(name, "fake") != NULL;
	int wrong = 0;
	for (int i = 0; i < N && !simulated; i++)
		wrong += c[i] != a[i] + b[i];
	printf("cuslice-demo on %s: %d + %d launches, a graph of %d kernels replayed %d times: "
	       "%d kernels run; result %s\n",
	       name, launches, launches / 10, GRAPH_KERNELS, GRAPH_REPLAYS,
	       launches + launches / 10 + GRAPH_KERNELS * GRAPH_REPLAYS,
	       simulated ? "not checked (simulated driver)"
	       : wrong	 ? "WRONG"
			 : "correct");
	CHECK(cu.MemFree(da));
	CHECK(cu.MemFree(db));
	CHECK(cu.MemFree(dc));
	CHECK(cu.PrimaryRelease(dev));
	return wrong ? 1 : 0;
}
