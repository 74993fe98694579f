/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "policy/pace.h"

#define MS 1000000ull

static void test_unpaced(void **state)
{
	struct cuslice_sched s = {0};

	for (int i = 0; i < 100; i++)
		assert_int_equal(policy_pace(&s, 1000 * MS, 50 * MS), 0);
}

/* At 25 %, a kernel of 1 ms uses 4 ms of the tenant's allowance: a burst of
 * 8 ms admits 8 ms / 4 ms = 2 beyond the first, then one every 4 ms. */
static void test_share_spaces_launches(void **state)
{
	struct cuslice_sched s = {.share_ppm = 250000, .burst_ns = 8 * MS};
	uint64_t now = 1000 * MS;

	assert_int_equal(policy_pace(&s, now, MS), 0);
	assert_int_equal(policy_pace(&s, now, MS), 0);
	assert_int_equal(policy_pace(&s, now, MS), 0);
	assert_int_equal(policy_pace(&s, now, MS), 4 * MS);
	assert_int_equal(policy_pace(&s, now, MS), 8 * MS);
	assert_int_equal(s.leases, 5);
	assert_int_equal(s.admitted_ns, 5 * MS);
}

/* Over a long run the admitted GPU time is the share of the elapsed time. */
static void test_long_run_rate(void **state)
{
	struct cuslice_sched s = {.share_ppm = 300000, .burst_ns = 5 * MS};
	uint64_t now = 1000 * MS, start = now;

	for (int i = 0; i < 10000; i++)
		now += policy_pace(&s, now, 200000); /* a launcher that waits as told */
	double rate = (double)s.admitted_ns / (double)(now - start);
	assert_true(rate > 0.299 && rate < 0.31);
}

/* Idle time earns at most the burst. */
static void test_idle_credit_is_capped(void **state)
{
	struct cuslice_sched s = {.share_ppm = 500000, .burst_ns = 4 * MS};

	policy_pace(&s, 1000 * MS, MS);
	uint64_t now = 5000 * MS; /* long idle */
	assert_int_equal(policy_pace(&s, now, MS), 0);
	assert_int_equal(policy_pace(&s, now, MS), 0);
	assert_int_equal(policy_pace(&s, now, MS), 0); /* 3 x 2 ms = 6 ms: burst spent */
	assert_int_equal(policy_pace(&s, now, MS), 2 * MS);
}

static void test_share_text(void **state)
{
	uint32_t ppm;

	assert_int_equal(policy_share_ppm("30%", &ppm), 0);
	assert_int_equal(ppm, 300000);
	assert_int_equal(policy_share_ppm("12.5%", &ppm), 0);
	assert_int_equal(ppm, 125000);
	assert_int_equal(policy_share_ppm("100%", &ppm), 0);
	assert_int_equal(ppm, 1000000);
	assert_int_equal(policy_share_ppm("0%", &ppm), -EINVAL);
	assert_int_equal(policy_share_ppm("101%", &ppm), -EINVAL);
	assert_int_equal(policy_share_ppm("30", &ppm), -EINVAL);
	assert_int_equal(policy_share_ppm("-5%", &ppm), -EINVAL);
	assert_int_equal(policy_share_ppm("x%", &ppm), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unpaced),	      cmocka_unit_test(test_share_spaces_launches),
		cmocka_unit_test(test_long_run_rate), cmocka_unit_test(test_idle_credit_is_capped),
		cmocka_unit_test(test_share_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
