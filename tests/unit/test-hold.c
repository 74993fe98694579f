/* SPDX-License-Identifier: Apache-2.0 */
/* shim/hold.c against fakecuda: a held stream runs once released, and the
 * watchdog lets go of one nobody releases. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "shim/hold.h"

unsigned shim_captures_active;

void *shim_driver_symbol(const char *name)
{
	return dlsym(RTLD_DEFAULT, name);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static CUfunction kernel;

static int setup(void **state)
{
	CUcontext ctx;
	CUmodule module;

	(void)state;
	if (cuInit(0) || cuDevicePrimaryCtxRetain(&ctx, 0) || cuCtxSetCurrent(ctx) ||
	    cuModuleLoadData(&module, "work 50\n") || cuModuleGetFunction(&kernel, module, "work"))
		return -1;
	hold_bind();
	return 0;
}

/* The watchdog lets go of a hold after 2 ms: on a loaded machine the test's
 * own thread may be off the CPU that long, and then a hold is not still held
 * for a reason the test can see. */
#define PROMPT_NS 1500000

/* A pair timed behind a hold reads the kernel, however long its launch took. */
static void test_released_hold_times_the_kernel(void **state)
{
	struct hold h;
	struct hold_stats before, after;
	CUevent a, b;
	float ms;

	(void)state;
	assert_int_equal(cuEventCreate(&a, 0), CUDA_SUCCESS);
	assert_int_equal(cuEventCreate(&b, 0), CUDA_SUCCESS);
	hold_stats(&before);
	uint64_t held_at = now_ns();
	assert_true(hold_stream(&h, NULL, false));
	assert_int_equal(cuEventRecord(a, NULL), CUDA_SUCCESS);
	struct timespec slow = {0, 300000}; /* the host dawdles before the launch */
	nanosleep(&slow, NULL);
	assert_int_equal(cuLaunchKernel(kernel, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL),
			 CUDA_SUCCESS);
	assert_int_equal(cuEventRecord(b, NULL), CUDA_SUCCESS);
	bool prompt = now_ns() - held_at < PROMPT_NS;
	if (prompt)
		assert_int_equal(cuEventQuery(b), CUDA_ERROR_NOT_READY); /* still held */
	hold_release(&h);
	assert_int_equal(cuEventSynchronize(b), CUDA_SUCCESS);
	assert_int_equal(cuEventElapsedTime_v2(&ms, a, b), CUDA_SUCCESS);
	assert_in_range((long)(ms * 1e3f), 50, 60); /* 50 µs, not 350 */
	assert_true(hold_pair_ns() > 0);	    /* the empty pairs were timed too */
	hold_stats(&after);
	assert_int_equal(after.held - before.held, 1);
	if (prompt)
		assert_int_equal(after.forced - before.forced, 0);
}

/* A hold its caller never releases is let go by the watchdog. */
static void test_watchdog_releases_a_forgotten_hold(void **state)
{
	struct hold h;
	struct hold_stats before, after;

	(void)state;
	hold_stats(&before);
	assert_true(hold_stream(&h, NULL, false));
	assert_int_equal(cuLaunchKernel(kernel, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL),
			 CUDA_SUCCESS);
	uint64_t start = now_ns();
	assert_int_equal(cuCtxSynchronize(), CUDA_SUCCESS);
	uint64_t waited = now_ns() - start;
	hold_stats(&after);
	assert_int_equal(after.forced - before.forced, 1);
	assert_true(waited < 100000000);
	hold_release(&h); /* late: harmless */
	uint64_t held_at = now_ns();
	assert_true(hold_stream(&h, NULL, false));
	hold_release(&h);
	bool prompt = now_ns() - held_at < PROMPT_NS;
	assert_int_equal(cuCtxSynchronize(), CUDA_SUCCESS);
	hold_stats(&after);
	assert_int_equal(after.held - before.held, 2);
	if (prompt)
		assert_int_equal(after.forced - before.forced, 1);
}

/* While a capture may be running, nothing is held (making a word, or the
 * wait itself, could end another thread's capture). */
static void test_no_hold_during_capture(void **state)
{
	struct hold h;

	(void)state;
	shim_captures_active = 1;
	assert_false(hold_stream(&h, NULL, false));
	assert_null(h.word);
	shim_captures_active = 0;
	assert_true(hold_stream(&h, NULL, false));
	hold_release(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_released_hold_times_the_kernel),
		cmocka_unit_test(test_watchdog_releases_a_forgotten_hold),
		cmocka_unit_test(test_no_hold_during_capture),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
