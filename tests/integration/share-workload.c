/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A GPU-bound loop for the GPU-time tests: launches kernels of KERNEL_US
 * back to back (synchronising every 8) for SECONDS and prints how much GPU
 * time it got: "kernels N gpu_share S" (S: kernel time / wall time).
 *
 *   share-workload SECONDS KERNEL_US
 */
#define _GNU_SOURCE
#include <cuda.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHECK(call)                                                                           \
	do {                                                                                  \
		CUresult rc_ = (call);                                                        \
		if (rc_ != CUDA_SUCCESS) {                                                    \
			fprintf(stderr, "share-workload: %s returned %d\n", #call, (int)rc_); \
			exit(1);                                                              \
		}                                                                             \
	} while (0)

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1;
	int kernel_us = argc > 2 ? atoi(argv[2]) : 1000;
	char image[64];
	CUcontext ctx;
	CUmodule module;
	CUfunction f;
	long kernels = 0;

	snprintf(image, sizeof(image), "work %d\n", kernel_us);
	CHECK(cuInit(0));
	CHECK(cuDevicePrimaryCtxRetain(&ctx, 0));
	CHECK(cuCtxSetCurrent(ctx));
	CHECK(cuModuleLoadData(&module, image));
	CHECK(cuModuleGetFunction(&f, module, "work"));
	double start = now_s(), end = start + seconds;
	while (now_s() < end) {
		for (int i = 0; i < 8; i++)
			CHECK(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL));
		CHECK(cuCtxSynchronize());
		kernels += 8;
	}
	double elapsed = now_s() - start;
	printf("kernels %ld gpu_share %.4f\n", kernels, kernels * kernel_us / 1e6 / elapsed);
	return 0;
}
