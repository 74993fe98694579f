/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Workloads for the GPU-time tests.
 *
 *   share-workload SECONDS KERNEL_US
 *       launches kernels of KERNEL_US back to back (synchronising every 8) for
 *       SECONDS and prints how much GPU time it got: "kernels N gpu_share S pid P"
 *       (S: kernel time / wall time; P: its process id, whose stats name it)
 *   share-workload latency COUNT KERNEL_US GAP_US [KERNELS [LAUNCH_GAP_US]]
 *       COUNT requests, GAP_US apart, each KERNELS kernels (1) launched
 *       LAUNCH_GAP_US apart (0; as a framework launches a model's layers
 *       more slowly than the GPU runs them) and a synchronisation; prints
 *       "p50_us X p99_us Y" of the request latencies
 *   share-workload devices COUNT KERNEL_US
 *       COUNT launches alternating, three at a time, between the primary
 *       contexts of devices 0 and 1; prints "launches N events_made E events_live L": the
 *       cuEventCreate calls that reached the driver (fakecuda's count), and
 *       those less the cuEventDestroy calls
 */
#define _GNU_SOURCE
#include <cuda.h>

#include <dlfcn.h>
#include <stdint.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

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

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void pause_us(int us)
{
	struct timespec ts = {0, us * 1000L};
	if (us > 0)
		nanosleep(&ts, NULL);
}

static int latency(CUfunction f, int count, int gap_us, int kernels, int launch_gap_us)
{
	double *lat = calloc(count, sizeof(double));

	for (int i = 0; i < count; i++) {
		double t0 = now_s();
		for (int k = 0; k < kernels; k++) {
			if (k)
				pause_us(launch_gap_us);
			CHECK(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL));
		}
		CHECK(cuCtxSynchronize());
		lat[i] = (now_s() - t0) * 1e6;
		pause_us(gap_us);
	}
	qsort(lat, count, sizeof(double), compare);
	printf("p50_us %.0f p99_us %.0f\n", lat[count / 2], lat[count * 99 / 100]);
	free(lat);
	return 0;
}

/* Launches alternating between two devices' contexts, as a process driving
 * several GPUs from one thread does. */
static int devices(int count, int kernel_us)
{
	char image[64];
	CUcontext ctx[2];
	CUfunction f[2];

	snprintf(image, sizeof(image), "work %d\n", kernel_us);
	CHECK(cuInit(0));
	for (int d = 0; d < 2; d++) {
		CUmodule module;
		CHECK(cuDevicePrimaryCtxRetain(&ctx[d], d));
		CHECK(cuCtxSetCurrent(ctx[d]));
		CHECK(cuModuleLoadData(&module, image));
		CHECK(cuModuleGetFunction(&f[d], module, "work"));
	}
	for (int i = 0; i < count; i++) {
		int d = i / 3 & 1; /* three at a time: each device gets timed launches */
		CHECK(cuCtxSetCurrent(ctx[d]));
		CHECK(cuLaunchKernel(f[d], 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL));
		if (i % 64 == 63)
			CHECK(cuCtxSynchronize());
	}
	CHECK(cuCtxSynchronize());
	uint64_t (*calls)(const char *) =
		(uint64_t(*)(const char *))dlsym(RTLD_DEFAULT, "fakecuda_calls");
	printf("launches %d events_made %llu events_live %llu\n", count,
	       calls ? (unsigned long long)calls("cuEventCreate") : 0ull,
	       calls ? (unsigned long long)(calls("cuEventCreate") - calls("cuEventDestroy_v2"))
		     : 0ull);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 3 && strcmp(argv[1], "devices") == 0)
		return devices(atoi(argv[2]), atoi(argv[3]));
	bool lat_mode = argc > 1 && strcmp(argv[1], "latency") == 0;
	if (lat_mode) {
		argv++;
		argc--;
	}
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
	if (lat_mode)
		return latency(f, (int)seconds, argc > 3 ? atoi(argv[3]) : 2000,
			       argc > 4 ? atoi(argv[4]) : 1, argc > 5 ? atoi(argv[5]) : 0);
	double start = now_s(), end = start + seconds;
	while (now_s() < end) {
		for (int i = 0; i < 8; i++)
			CHECK(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL));
		CHECK(cuCtxSynchronize());
		kernels += 8;
	}
	double elapsed = now_s() - start;
	printf("kernels %ld gpu_share %.4f pid %d\n", kernels, kernels * kernel_us / 1e6 / elapsed,
	       (int)getpid());
	return 0;
}
