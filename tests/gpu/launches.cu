// SPDX-License-Identifier: Apache-2.0
// An nvcc-built program (static cudart) that launches kernels by every
// runtime path, then prints how many kernels it made the GPU run. The GPU
// test compares that with what the shim counted: they must be equal.
//
//   launches [N]      N launches of each kind (default 1000)
//
// Built twice: as is, and with --default-stream per-thread, which makes the
// runtime resolve the driver's _ptsz entry points.
#include <cstdio>
#include <cstdlib>

#include <cuda_runtime.h>

__global__ void empty_kernel(int *sink)
{
	if (sink && threadIdx.x == 1023)
		*sink = 1;
}

#define CHECK(call)                                                                         \
	do {                                                                                \
		cudaError_t e_ = (call);                                                    \
		if (e_ != cudaSuccess) {                                                    \
			fprintf(stderr, "launches: %s: %s\n", #call, cudaGetErrorString(e_)); \
			exit(1);                                                            \
		}                                                                           \
	} while (0)

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	const int graph_kernels = 4, graph_replays = n / 10;
	int *sink = nullptr;
	cudaStream_t stream;

	CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
	for (int i = 0; i < n; i++)
		empty_kernel<<<1, 32>>>(sink); // default stream: legacy or per-thread

	cudaLaunchConfig_t config = {};
	config.gridDim = dim3(1);
	config.blockDim = dim3(32);
	config.stream = stream;
	for (int i = 0; i < n; i++)
		CHECK(cudaLaunchKernelEx(&config, empty_kernel, sink));

	void *args[] = {&sink};
	for (int i = 0; i < n; i++)
		CHECK(cudaLaunchCooperativeKernel((void *)empty_kernel, dim3(1), dim3(32), args, 0,
						  stream));

	cudaGraph_t graph;
	cudaGraphExec_t exec;
	CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
	for (int i = 0; i < graph_kernels; i++)
		empty_kernel<<<1, 32, 0, stream>>>(sink);
	CHECK(cudaStreamEndCapture(stream, &graph));
	CHECK(cudaGraphInstantiate(&exec, graph, 0));
	for (int i = 0; i < graph_replays; i++)
		CHECK(cudaGraphLaunch(exec, stream));
	CHECK(cudaDeviceSynchronize());
	CHECK(cudaGetLastError());

	long run = 3L * n + (long)graph_kernels * graph_replays;
	printf("{\"kernels_run\": %ld, \"launched\": %d, \"captured\": %d, \"graph_launches\": %d, "
	       "\"graph_nodes\": %d}\n",
	       run, 3 * n + graph_kernels, graph_kernels, graph_replays,
	       graph_kernels * graph_replays);
	return 0;
}
