/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shim under real processes: a driver-API program reaches fakecuda by
 * every route a CUDA program can take, and the shim must count exactly what
 * the program issued.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

/* What driver-workload issues with N launches on T threads (see its header). */
struct expected {
	int64_t launched, captured, graph_nodes, multi, run, graphs, host_funcs;
};

static struct expected expect(int64_t n, int64_t threads)
{
	struct expected e = {
		.launched = threads * (3 * n + 1) + 3,
		.captured = 3,
		.graph_nodes = 3 * n,
		.multi = threads,
		.graphs = n,
		.host_funcs = threads * n,
	};
	e.run = e.launched - e.captured + e.graph_nodes + e.multi;
	return e;
}

/* 1 MiB + pitch 1024 x 10 + 4 KiB + 8 KiB + 16 KiB + 2 MiB + a 256x16 float array */
static const int64_t workload_bytes = (1 << 20) + 10240 + 4096 + 8192 + 16384 + (2 << 20) + 16384;

static void assert_workload(json_object *s, int64_t n, int64_t threads)
{
	struct expected e = expect(n, threads);

	assert_int_equal(harness_int(s, "kernels.launched"), e.launched);
	assert_int_equal(harness_int(s, "kernels.captured"), e.captured);
	assert_int_equal(harness_int(s, "kernels.graph_nodes"), e.graph_nodes);
	assert_int_equal(harness_int(s, "kernels.multi_device"), e.multi);
	assert_int_equal(harness_int(s, "kernels.run"), e.run);
	assert_int_equal(harness_int(s, "graphs.launched"), e.graphs);
	assert_int_equal(harness_int(s, "graphs.unknown"), 0);
	assert_int_equal(harness_int(s, "host_funcs"), e.host_funcs);
	assert_int_equal(harness_int(s, "allocations.count"), 7);
	assert_int_equal(harness_int(s, "allocations.bytes"), workload_bytes);
	assert_int_equal(harness_int(s, "allocations.frees"), 7);
	assert_int_equal(harness_int(s, "resolution.procaddr_unmatched"), 0);
}

static json_object *run_route(const char *route, int n, int threads, struct run_result *r)
{
	char launches[16], nthreads[16];

	snprintf(launches, sizeof(launches), "%d", n);
	snprintf(nthreads, sizeof(nthreads), "%d", threads);
	char *argv[] = {(char *)harness_path("DRIVER_WORKLOAD"),
			(char *)route,
			"--launches",
			launches,
			"--threads",
			nthreads,
			NULL};
	harness_run(argv, NULL, r);
	if (r->status != 0)
		fail_msg("driver-workload %s exited %d: %s", route, r->status, r->err);
	return harness_stats(r->pid);
}

static void assert_paths(json_object *s, const char *const names[], int64_t per_name)
{
	for (int i = 0; names[i]; i++) {
		char path[128];
		snprintf(path, sizeof(path), "calls.%s.calls", names[i]);
		if (harness_int(s, path) != per_name)
			fail_msg("%s counted %lld, expected %lld", names[i],
				 (long long)harness_int(s, path), (long long)per_name);
	}
}

static const char *const legacy_launch_paths[] = {"cuLaunchKernelEx", "cuLaunchCooperativeKernel",
						  "cuLaunchHostFunc", NULL};
static const char *const ptsz_launch_paths[] = {
	"cuLaunchKernelEx_ptsz", "cuLaunchCooperativeKernel_ptsz", "cuLaunchHostFunc_ptsz", NULL};

static void test_route(const char *route, bool ptsz)
{
	struct run_result r;
	json_object *s = run_route(route, 25, 1, &r);

	assert_workload(s, 25, 1);
	assert_paths(s, ptsz ? ptsz_launch_paths : legacy_launch_paths, 25);
	assert_paths(s, ptsz ? legacy_launch_paths : ptsz_launch_paths, 0);
	assert_int_equal(harness_int(s, ptsz ? "calls.cuGraphLaunch_ptsz.calls"
					     : "calls.cuGraphLaunch.calls"),
			 25);
	assert_int_equal(harness_int(s, ptsz ? "calls.cuMemAllocAsync_ptsz.bytes"
					     : "calls.cuMemAllocAsync.bytes"),
			 8192);
	assert_int_equal(harness_int(s, "calls.cuMemAlloc_v2.failed"), 1);
	json_object_put(s);
}

static void test_linked(void **state)
{
	test_route("linked", false);
}

static void test_dlsym(void **state)
{
	struct run_result r;
	test_route("dlsym", false);
	json_object *s = run_route("dlsym", 1, 1, &r);
	/* the hooked names among the ones driver-workload looks up (cuCtxSetCurrent
	 * and cuCtxSynchronize too, for partitions and faults; cuStreamCreate and
	 * cuStreamDestroy_v2, for the legacy stream's order; cuModuleLoadData, for
	 * graphs that move) */
	assert_int_equal(harness_int(s, "resolution.dlsym_hooked"), 34);
	json_object_put(s);
}

static void test_procaddr(void **state)
{
	test_route("procaddr", false);
}

/* The runtime's path: dlsym(cuGetProcAddress_v2), then the self-lookup. */
static void test_procaddr_v2_self_lookup(void **state)
{
	struct run_result r;
	test_route("procaddr-v2", false);
	json_object *s = run_route("procaddr-v2", 1, 1, &r);
	assert_int_equal(harness_int(s, "calls.cuGetProcAddress_v2.calls"),
			 harness_int(s, "resolution.procaddr_lookups"));
	assert_int_equal(harness_int(s, "calls.cuGetProcAddress.calls"), 0);
	json_object_put(s);
}

static void test_per_thread_stream_flag(void **state)
{
	test_route("ptsz", true);
}

static void test_eight_threads(void **state)
{
	struct run_result r;
	json_object *s = run_route("procaddr-v2", 1000, 8, &r);

	assert_workload(s, 1000, 8);
	assert_int_equal(harness_int(s, "calls.cuLaunchKernel.calls"), 8 * 1000 + 3);
	json_object_put(s);
}

static void test_fork(void **state)
{
	struct run_result r;
	char *argv[] = {(char *)harness_path("DRIVER_WORKLOAD"),
			"dlsym",
			"--launches",
			"7",
			"--fork",
			NULL};

	harness_run(argv, NULL, &r);
	assert_int_equal(r.status, 0);
	json_object *parent = harness_stats(r.pid);
	assert_workload(parent, 7, 1);
	json_object_put(parent);

	/* the child wrote its own file, named by its pid, counting only its own work */
	char path[4096];
	int children = 0;
	for (pid_t pid = r.pid + 1; pid < r.pid + 64 && !children; pid++) {
		snprintf(path, sizeof(path), "%s/stats.%d.json", harness_tmpdir(), (int)pid);
		json_object *child = json_object_from_file(path);
		if (!child)
			continue;
		children++;
		assert_int_equal(harness_int(child, "kernels.launched"), 3 * 7 + 1);
		assert_int_equal(harness_int(child, "graphs.launched"), 0);
		assert_int_equal(harness_int(child, "allocations.count"), 0);
		json_object_put(child);
	}
	assert_int_equal(children, 1);
}

static void test_rtld_next_resolves_after_caller(void **state)
{
	struct run_result r;
	char preload[8192];
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s %s", harness_path("CUSLICE_SHIM"),
		 harness_path("NEXT_PROBE"));
	char *env[] = {preload, NULL};
	char *argv[] = {(char *)harness_path("DRIVER_WORKLOAD"),
			"dlsym",
			"--launches",
			"1",
			"--probe-next",
			NULL};

	harness_run(argv, env, &r);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "probe\n");
}

static void test_nvml(void **state)
{
	struct run_result r;
	char *argv[] = {(char *)harness_path("DRIVER_WORKLOAD"), "nvml", NULL};

	harness_run(argv, NULL, &r);
	assert_int_equal(r.status, 0);
	json_object *s = harness_stats(r.pid);
	assert_int_equal(harness_int(s, "calls.nvmlDeviceGetMemoryInfo.calls"), 2);
	assert_int_equal(harness_int(s, "calls.nvmlDeviceGetMemoryInfo_v2.calls"), 1);
	json_object_put(s);
}

/* A broken setup: one line on stderr, cuInit refused with the driver's own
 * code, and the host process carries on. */
static void assert_refused(char *const env[], const char *expect_out)
{
	struct run_result r;
	char *argv[] = {(char *)harness_path("INIT_PROBE"), NULL};

	harness_run(argv, env, &r);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, expect_out);
	if (harness_lines(r.err) != 1 || strncmp(r.err, "cuslice: ", 9) != 0)
		fail_msg("expected one line from cuslice on stderr, got: \"%s\"", r.err);
}

static void test_unreadable_real_libcuda(void **state)
{
	char *env[] = {"CUSLICE_REAL_LIBCUDA=/nonexistent/libcuda.so.1", NULL};
	assert_refused(env, "cuInit: 3\n"); /* CUDA_ERROR_NOT_INITIALIZED */
}

static void test_real_libcuda_is_the_shim(void **state)
{
	static char env0[4096];
	snprintf(env0, sizeof(env0), "CUSLICE_REAL_LIBCUDA=%s", harness_path("CUSLICE_SHIM"));
	char *env[] = {env0, NULL};
	assert_refused(env, "cuInit: 3\n");
}

static void test_missing_driver(void **state)
{
	char *env[] = {"LD_LIBRARY_PATH=/nonexistent", NULL};
	assert_refused(env, "cuInit: 100\n"); /* CUDA_ERROR_NO_DEVICE */
}

static void test_malformed_stats_path(void **state)
{
	char *env[] = {"CUSLICE_STATS=/tmp/stats-%q.json", NULL};
	assert_refused(env, "cuInit: 3\n");
}

static void test_unwritable_stats_path(void **state)
{
	char *env[] = {"CUSLICE_STATS=/nonexistent/dir/stats.json", NULL};
	assert_refused(env, "cuInit: 3\n");
}

static void test_healthy_setup_is_silent(void **state)
{
	struct run_result r;
	char *argv[] = {(char *)harness_path("INIT_PROBE"), NULL};

	harness_run(argv, NULL, &r);
	assert_string_equal(r.out, "cuInit: 0\n");
	assert_string_equal(r.err, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linked),
		cmocka_unit_test(test_dlsym),
		cmocka_unit_test(test_procaddr),
		cmocka_unit_test(test_procaddr_v2_self_lookup),
		cmocka_unit_test(test_per_thread_stream_flag),
		cmocka_unit_test(test_eight_threads),
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_rtld_next_resolves_after_caller),
		cmocka_unit_test(test_nvml),
		cmocka_unit_test(test_unreadable_real_libcuda),
		cmocka_unit_test(test_real_libcuda_is_the_shim),
		cmocka_unit_test(test_missing_driver),
		cmocka_unit_test(test_malformed_stats_path),
		cmocka_unit_test(test_unwritable_stats_path),
		cmocka_unit_test(test_healthy_setup_is_silent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
