// SPDX-License-Identifier: Apache-2.0
// Where and how fast a compute-bound kernel runs, for the partition tests.
//
//   smcheck START END        kernels back to back from START to END
//                            (CLOCK_MONOTONIC seconds); prints JSON: the
//                            median milliseconds per kernel, the distinct SM
//                            ids its blocks ran on, and the first error seen
//   smcheck threads N        N host threads drive the process's one context
//                            at once: each launches, copies, records events,
//                            makes and destroys streams, and checks every
//                            result; prints JSON
//   smcheck order            the legacy stream's implicit synchronisation:
//                            a kernel on a blocking stream, one on the
//                            legacy stream reading its result, and a third
//                            on the blocking stream checking that; the
//                            reverse; a synchronous copy after a kernel on
//                            the blocking stream; and, as the control that
//                            shows a missing order is seen, the first with
//                            a non-blocking stream. Prints JSON: how many of
//                            each kind's rounds were wrong
//   smcheck fault [SECONDS]  one kernel writes to an illegal address, SECONDS
//                            after CUDA is initialised (0); prints the error
//                            the synchronisation gives and the pid
//   smcheck follow SECONDS   for SECONDS, round after round: a kernel of one
//                            block per SM of the whole GPU on a created
//                            stream, then the same on the legacy stream and
//                            as a graph, each synchronised, with the SM ids
//                            they ran on; and a chain of three kernels on
//                            the created stream, each using the one
//                            before's result. Prints "following" when it
//                            starts, then JSON: when (CLOCK_MONOTONIC
//                            seconds) the SMs used changed and to how many,
//                            per kind, and how many chain results were wrong
//
// Built with -lcuda: it asks the driver how many SMs its current context has.
// The kernel: 64 blocks per SM of the whole GPU (132 on an H200), each a fixed
// chain of FMAs: many full waves on any partition, so its time is inversely
// proportional to the SMs it gets.
#include <cuda.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <thread>
#include <unistd.h>
#include <vector>

static double now_s()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__global__ void spin(unsigned *smids, float *sink, int rounds)
{
	float a = threadIdx.x * 1e-3f, b = 1.0001f;
	for (int i = 0; i < rounds; i++)
		a = fmaf(a, b, 1e-7f);
	if (threadIdx.x == 0) {
		unsigned sm;
		asm volatile("mov.u32 %0, %%smid;" : "=r"(sm));
		smids[blockIdx.x] = sm;
	}
	if (a == 12345.0f)
		sink[0] = a;
}

__global__ void fill(int *p, int n, int value)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n)
		p[i] = value + i;
}

__global__ void poke(int *p)
{
	*p = 1;
}

__global__ void where(unsigned *smids, long long cycles)
{
	long long t0 = clock64();
	while (clock64() - t0 < cycles)
		;
	unsigned sm;
	asm volatile("mov.u32 %0, %%smid;" : "=r"(sm));
	smids[blockIdx.x] = sm;
}

__global__ void slow_set(int *x, int value, long long cycles)
{
	long long t0 = clock64();
	while (clock64() - t0 < cycles)
		;
	*x = value;
}

__global__ void add_one(const int *x, int *y)
{
	*y = *x + 1;
}

__global__ void expect(const int *y, int value, int *wrong)
{
	if (*y != value)
		atomicAdd(wrong, 1);
}

static int blocks()
{
	int sms;
	cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
	return 64 * sms; /* many full waves on any partition: time ~ 1 / SMs */
}

static int timed(double start, double end)
{
	int n = blocks();
	unsigned *smids, *host = new unsigned[n];
	float *sink;
	cudaEvent_t a, b;
	std::vector<double> ms;
	bool seen[1024] = {};
	int first_error = 0;
	double error_at = 0;

	cudaMalloc(&smids, n * sizeof(unsigned));
	cudaMalloc(&sink, sizeof(float));
	cudaEventCreate(&a);
	cudaEventCreate(&b);
	spin<<<n, 256>>>(smids, sink, 4000); /* warm up */
	cudaDeviceSynchronize();
	while (now_s() < start)
		;
	while (now_s() < end) {
		cudaEventRecord(a);
		spin<<<n, 256>>>(smids, sink, 4000);
		cudaEventRecord(b);
		cudaError_t e = cudaEventSynchronize(b);
		if (e != cudaSuccess) {
			first_error = e;
			error_at = now_s();
			/* SMCHECK_LINGER=S: stay S seconds after an error, as a
			 * server that does not exit on a dead context would */
			if (getenv("SMCHECK_LINGER"))
				sleep(atoi(getenv("SMCHECK_LINGER")));
			break;
		}
		float t;
		cudaEventElapsedTime(&t, a, b);
		ms.push_back(t);
	}
	if (!first_error && cudaMemcpy(host, smids, n * sizeof(unsigned),
				       cudaMemcpyDeviceToHost) == cudaSuccess)
		for (int i = 0; i < n; i++)
			seen[host[i] & 1023] = true;
	int distinct = 0, lowest = -1, highest = -1;
	for (int i = 0; i < 1024; i++)
		if (seen[i]) {
			distinct++;
			lowest = lowest < 0 ? i : lowest;
			highest = i;
		}
	std::sort(ms.begin(), ms.end());
	CUcontext ctx = NULL;
	CUdevResource res = {};
	cuCtxGetCurrent(&ctx);
	if (ctx)
		cuCtxGetDevResource(ctx, &res, CU_DEV_RESOURCE_TYPE_SM);
	printf("{\"context_sms\": %u, \"ms\": %.4f, \"kernels\": %zu, \"sms_used\": %d, \"lowest_sm\": %d, "
	       "\"highest_sm\": %d, \"first_error\": %d, \"error_at\": %.3f}\n",
	       res.sm.smCount, ms.empty() ? -1.0 : ms[ms.size() / 2], ms.size(), distinct, lowest, highest,
	       first_error, error_at);
	return 0;
}

static int threads(int count)
{
	std::atomic<int> bad{0}, done{0};
	std::vector<std::thread> pool;
	const int n = 1 << 16;

	for (int t = 0; t < count; t++)
		pool.emplace_back([&, t] {
			int *dev, *host = new int[n];
			for (int round = 0; round < 200; round++) {
				cudaStream_t s;
				cudaEvent_t e;
				if (cudaStreamCreateWithFlags(&s, round % 2 ? cudaStreamNonBlocking
									    : cudaStreamDefault) ||
				    cudaEventCreate(&e) || cudaMalloc(&dev, n * sizeof(int))) {
					bad++;
					return;
				}
				int value = t * 1000003 + round;
				cudaStream_t where = round % 3 == 0 ? 0 : s; /* the legacy stream too */
				fill<<<n / 256, 256, 0, where>>>(dev, n, value);
				cudaEventRecord(e, where);
				cudaStreamWaitEvent(s, e, 0);
				cudaMemcpyAsync(host, dev, n * sizeof(int), cudaMemcpyDeviceToHost, s);
				cudaStreamSynchronize(s);
				for (int i = 0; i < n; i += 997)
					if (host[i] != value + i)
						bad++;
				cudaFree(dev);
				cudaEventDestroy(e);
				cudaStreamDestroy(s);
				done++;
			}
			delete[] host;
		});
	for (auto &th : pool)
		th.join();
	cudaError_t e = cudaDeviceSynchronize();
	printf("{\"threads\": %d, \"rounds\": %d, \"wrong\": %d, \"error\": %d}\n", count,
	       done.load(), bad.load(), (int)e);
	return bad.load() || e != cudaSuccess;
}

/* Rounds of `a`, `b`, `a` where each kernel reads the one before's result: how many were wrong. */
static int ordered(cudaStream_t a, cudaStream_t b, int *x, int *y, int *wrong, int rounds)
{
	int host = -1;

	cudaMemset(wrong, 0, sizeof(int));
	cudaDeviceSynchronize();
	for (int i = 0; i < rounds; i++) {
		slow_set<<<1, 1, 0, a>>>(x, i, 100000); /* ~50 us: long enough to be overtaken */
		add_one<<<1, 1, 0, b>>>(x, y);
		expect<<<1, 1, 0, a>>>(y, i + 1, wrong);
	}
	cudaDeviceSynchronize();
	cudaMemcpy(&host, wrong, sizeof(int), cudaMemcpyDeviceToHost);
	return host;
}

static int order(void)
{
	const int rounds = 300;
	int *x, *y, *wrong, copied_wrong = 0;
	cudaStream_t blocking, nonblocking;

	cudaMalloc(&x, sizeof(int));
	cudaMalloc(&y, sizeof(int));
	cudaMalloc(&wrong, sizeof(int));
	cudaStreamCreate(&blocking);
	cudaStreamCreateWithFlags(&nonblocking, cudaStreamNonBlocking);
	int to_legacy = ordered(blocking, 0, x, y, wrong, rounds);
	int from_legacy = ordered(0, blocking, x, y, wrong, rounds);
	for (int i = 0; i < rounds; i++) {
		int host = -1;
		slow_set<<<1, 1, 0, blocking>>>(x, i, 100000);
		cudaMemcpy(&host, x, sizeof(int), cudaMemcpyDeviceToHost);
		copied_wrong += host != i;
	}
	int control = ordered(nonblocking, 0, x, y, wrong, rounds);
	cudaError_t e = cudaDeviceSynchronize();
	printf("{\"rounds\": %d, \"blocking_legacy\": %d, \"legacy_blocking\": %d, \"copy\": %d, "
	       "\"control_nonblocking\": %d, \"error\": %d}\n",
	       rounds, to_legacy, from_legacy, copied_wrong, control, (int)e);
	return to_legacy || from_legacy || copied_wrong || e != cudaSuccess;
}

static int fault(double delay)
{
	int *p = (int *)0x10;
	cudaFree(0);
	usleep((useconds_t)(delay * 1e6));
	poke<<<1, 1>>>(p);
	cudaError_t e = cudaDeviceSynchronize();
	printf("{\"fault_error\": %d, \"at\": %.3f, \"pid\": %d}\n", (int)e, now_s(), (int)getpid());
	return 0;
}

/* The distinct SMs in `ids`. */
static int distinct_sms(const unsigned *ids, int n)
{
	bool seen[1024] = {};
	int count = 0;
	for (int i = 0; i < n; i++)
		if (!seen[ids[i] & 1023]) {
			seen[ids[i] & 1023] = true;
			count++;
		}
	return count;
}

static int follow(double seconds)
{
	static const char *const kinds[] = {"stream", "legacy", "graph"};
	int sms, wrong_host = 0, last[3] = {0, 0, 0}, rounds = 0;
	cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
	unsigned *ids, *host = new unsigned[sms];
	int *x, *y, *wrong;
	cudaStream_t s;
	cudaGraph_t graph;
	cudaGraphExec_t exec;
	std::vector<std::pair<double, int>> changes[3];
	const long long spin_cycles = 20000; /* ~10 us: the blocks spread over the SMs */

	cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
	cudaMalloc(&ids, sms * sizeof(unsigned));
	cudaMalloc(&x, sizeof(int));
	cudaMalloc(&y, sizeof(int));
	cudaMalloc(&wrong, sizeof(int));
	cudaMemset(wrong, 0, sizeof(int));
	cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal);
	where<<<sms, 32, 0, s>>>(ids, spin_cycles);
	cudaStreamEndCapture(s, &graph);
	cudaGraphInstantiate(&exec, graph, 0);
	cudaDeviceSynchronize();
	printf("following\n");
	fflush(stdout);
	for (double end = now_s() + seconds; now_s() < end; rounds++) {
		for (int k = 0; k < 3; k++) {
			cudaStream_t on = k == 1 ? 0 : s;
			if (k == 2)
				cudaGraphLaunch(exec, s);
			else
				where<<<sms, 32, 0, on>>>(ids, spin_cycles);
			cudaStreamSynchronize(on);
			cudaMemcpy(host, ids, sms * sizeof(unsigned), cudaMemcpyDeviceToHost);
			int used = distinct_sms(host, sms);
			if (used != last[k])
				changes[k].push_back({now_s(), used});
			last[k] = used;
		}
		/* a chain across the fences: each kernel reads the one before's result */
		slow_set<<<1, 1, 0, s>>>(x, rounds, 20000);
		add_one<<<1, 1, 0, s>>>(x, y);
		expect<<<1, 1, 0, s>>>(y, rounds + 1, wrong);
	}
	cudaError_t e = cudaDeviceSynchronize();
	cudaMemcpy(&wrong_host, wrong, sizeof(int), cudaMemcpyDeviceToHost);
	printf("{");
	for (int k = 0; k < 3; k++) {
		printf("\"%s\": [", kinds[k]);
		for (size_t i = 0; i < changes[k].size(); i++)
			printf("%s[%.6f, %d]", i ? ", " : "", changes[k][i].first, changes[k][i].second);
		printf("], ");
	}
	printf("\"rounds\": %d, \"wrong\": %d, \"error\": %d}\n", rounds, wrong_host, (int)e);
	return wrong_host || e != cudaSuccess;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "follow") == 0)
		return follow(atof(argv[2]));
	if (argc >= 3 && strcmp(argv[1], "threads") == 0)
		return threads(atoi(argv[2]));
	if (argc >= 2 && strcmp(argv[1], "order") == 0)
		return order();
	if (argc >= 2 && strcmp(argv[1], "fault") == 0)
		return fault(argc >= 3 ? atof(argv[2]) : 0);
	if (argc >= 3)
		return timed(atof(argv[1]), atof(argv[2]));
	fprintf(stderr, "usage: smcheck START END | threads N | order | fault [SECONDS] | follow SECONDS\n");
	return 2;
}
