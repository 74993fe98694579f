/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "policy/turn.h"

#define US 1000ull
#define MS 1000000ull

static struct cuslice_sched turns(uint32_t offset_us, uint32_t len_us)
{
	return (struct cuslice_sched){.share_ppm = 300000,
				      .burst_ns = 4 * MS,
				      .turn_epoch_ns = 1000 * MS,
				      .turn_period_us = 20000,
				      .turn = policy_turn_pack(offset_us, len_us)};
}

/* A launcher that waits as told and launches kernels of `kernel` ns for
 * `seconds`; returns the work admitted per ns of wall clock. */
static double run(struct cuslice_sched *s, uint64_t kernel, double seconds, uint64_t *starts,
		  int nstarts)
{
	uint64_t now = 1000 * MS, start = now, end = now + (uint64_t)(seconds * 1e9);
	int i = 0;

	while (now < end) {
		now += policy_turn(s, now, kernel);
		if (i < nstarts)
			starts[i++] = __atomic_load_n(&s->next_free_ns, __ATOMIC_RELAXED) - kernel;
		now += 1000; /* the launch itself */
	}
	return (double)s->admitted_ns / (double)(now - start);
}

/* Kernels that do not divide the window still add up to its length. */
static void test_share_is_the_window(void **state)
{
	uint64_t kernels[] = {1700 * US, 200 * US, 5 * MS};

	for (int i = 0; i < 3; i++) {
		struct cuslice_sched s = turns(0, 6000);
		double share = run(&s, kernels[i], 10, NULL, 0);
		print_message("kernel %llu us: %.2f %% of the time\n",
			      (unsigned long long)(kernels[i] / US), 100 * share);
		assert_true(share > 0.295 && share < 0.305);
	}
}

/* Work starts only in the tenant's window, or where spilled work ends. */
static void test_starts_in_the_window(void **state)
{
	struct cuslice_sched s = turns(14000, 6000);
	uint64_t starts[200];

	run(&s, 1700 * US, 2, starts, 200); /* 2 s: more than 200 launches */
	for (int i = 0; i < 200; i++) {
		uint64_t phase = (starts[i] - 1000 * MS) % (20 * MS);
		/* window [14, 20) ms; a debt of at most one kernel moves the start on */
		assert_true(phase >= 14 * MS && phase < 20 * MS);
	}
}

/* Idle time earns nothing: after a pause the tenant gets its window, not more. */
static void test_idle_earns_nothing(void **state)
{
	struct cuslice_sched s = turns(0, 6000);
	uint64_t now = 1000 * MS + 500 * MS; /* first launch half a second in */
	uint64_t t0 = now;

	for (int i = 0; i < 100; i++)
		now += policy_turn(&s, now, 1 * MS) + 1000;
	/* 100 ms of work in 6 ms windows takes 16 periods and more */
	assert_true(now - t0 > 16 * 20 * MS - 20 * MS);
}

/* Two tenants with windows side by side never overlap (predicted). */
static void test_two_tenants_take_turns(void **state)
{
	struct cuslice_sched a = turns(0, 6000), b = turns(6000, 14000);
	uint64_t sa[300], sb[300];

	double share_a = run(&a, 1700 * US, 4, sa, 300); /* 4 s: more than 300 launches each */
	double share_b = run(&b, 1700 * US, 4, sb, 300);
	print_message("a %.1f %%, b %.1f %%\n", 100 * share_a, 100 * share_b);
	assert_true(share_a > 0.29 && share_a < 0.31);
	assert_true(share_b > 0.69 && share_b < 0.71);
	for (int i = 0; i < 300; i++) {
		assert_true((sa[i] - 1000 * MS) % (20 * MS) < 6 * MS);
		assert_true((sb[i] - 1000 * MS) % (20 * MS) >= 6 * MS);
	}
}

/* No turn set: plain pacing. */
static void test_no_turn_paces(void **state)
{
	struct cuslice_sched s = turns(0, 0);
	double share = run(&s, 200 * US, 2, NULL, 0);
	assert_true(share > 0.295 && share < 0.31);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_share_is_the_window),
		cmocka_unit_test(test_starts_in_the_window),
		cmocka_unit_test(test_idle_earns_nothing),
		cmocka_unit_test(test_two_tenants_take_turns),
		cmocka_unit_test(test_no_turn_paces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
