// SPDX-License-Identifier: Apache-2.0
// Host cost of an empty <<<1,1>>> launch through the CUDA runtime.
// Launches BATCH kernels back to back, times only the launch calls, then
// synchronises; prints the median ns per launch over BATCHES batches.
//
//   empty-launch [BATCHES] [BATCH]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <cuda_runtime.h>

__global__ void empty() {}

int main(int argc, char **argv)
{
	int batches = argc > 1 ? atoi(argv[1]) : 200;
	int batch = argc > 2 ? atoi(argv[2]) : 256;
	std::vector<double> per_launch;

	for (int i = 0; i < 4 * batch; i++) // warm up: module load, first-launch costs
		empty<<<1, 1>>>();
	if (cudaDeviceSynchronize() != cudaSuccess)
		return 1;
	for (int b = 0; b < batches; b++) {
		auto t0 = std::chrono::steady_clock::now();
		for (int i = 0; i < batch; i++)
			empty<<<1, 1>>>();
		auto t1 = std::chrono::steady_clock::now();
		cudaDeviceSynchronize();
		per_launch.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / batch);
	}
	if (cudaGetLastError() != cudaSuccess)
		return 1;
	std::sort(per_launch.begin(), per_launch.end());
	printf("%.1f\n", per_launch[per_launch.size() / 2]);
	return 0;
}
