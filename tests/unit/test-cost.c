/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policy/cost.h"

/* Feeds samples; returns the estimate. */
static uint32_t learn(uint32_t est, uint32_t *samples, uint32_t floor, const uint32_t *ns, int n)
{
	for (int i = 0; i < n; i++)
		est = policy_cost_next(est, (*samples)++, floor, ns[i]);
	return est;
}

/* The first samples keep their minimum: a cold first launch does not stick. */
static void test_first_samples_keep_the_minimum(void **state)
{
	uint32_t n = 0;
	uint32_t ns[] = {9000, 1000, 3000, 1200};

	assert_int_equal(learn(0, &n, 0, ns, 4), 1000);
}

/* Clock changes of ±10 % are followed to their mean, not their minimum. */
static void test_follows_the_mean_of_typical_samples(void **state)
{
	uint32_t n = 0, est = 0;
	uint32_t first[] = {1000000, 1000000, 1000000, 1000000};

	est = learn(est, &n, 0, first, 4);
	for (int i = 0; i < 400; i++) {
		uint32_t s = i % 2 ? 1050000 : 1150000; /* mean 1.1 ms */
		est = learn(est, &n, 0, &s, 1);
	}
	assert_in_range(est, 1080000, 1120000);
}

/* Samples timed across another tenant's time slice (2x) barely move it. */
static void test_contended_samples_barely_count(void **state)
{
	uint32_t n = 0, est = 0;
	uint32_t first[] = {1000000, 1000000, 1000000, 1000000};

	est = learn(est, &n, 0, first, 4);
	for (int i = 0; i < 20; i++) {
		uint32_t s = 2000000;
		est = learn(est, &n, 0, &s, 1);
	}
	assert_in_range(est, 1000000, 1080000);
	/* a lasting change gets through in the end */
	for (int i = 0; i < 2000; i++) {
		uint32_t s = 2000000;
		est = learn(est, &n, 0, &s, 1);
	}
	assert_in_range(est, 1900000, 2000000);
}

/* A profiled cost is a floor: a kernel sped up by idle clocks does not lower it. */
static void test_floor_holds(void **state)
{
	uint32_t n = 4, est = 1700000;

	for (int i = 0; i < 100; i++) {
		uint32_t s = 1400000;
		est = learn(est, &n, 1700000, &s, 1);
	}
	assert_int_equal(est, 1700000);
	uint32_t slower = 1800000;
	for (int i = 0; i < 100; i++)
		est = learn(est, &n, 1700000, &slower, 1);
	assert_in_range(est, 1790000, 1800000);
}

static void test_parse_line(void **state)
{
	struct policy_profile_entry e;
	char line[] = "1712000 16384 93 _Z6matmulPfS_";

	assert_int_equal(policy_profile_parse(line, &e), 0);
	assert_int_equal(e.ns, 1712000);
	assert_int_equal(e.grid, 16384);
	assert_int_equal(e.samples, 93);
	assert_string_equal(e.name, "_Z6matmulPfS_");
}

static void test_parse_rejects_malformed(void **state)
{
	const char *bad[] = {
		"",	   "1712000 16384 93",		 "0 16384 93 k",      "1712000 0 93 k",
		"x 1 1 k", "1712000 16384 93 two words", "99999999999 1 1 k", "-5 1 1 k"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[64];
		struct policy_profile_entry e;
		strcpy(line, bad[i]);
		assert_int_equal(policy_profile_parse(line, &e), -EINVAL);
	}
}

static void test_line_rules(void **state)
{
	struct policy_profile_entry e;
	char header[] = "# cuslice profile 1\n", kernel[] = "5 1 2 k\n",
	     late[] = "# cuslice profile 1";
	char other[] = "# another format\n";

	assert_int_equal(policy_profile_line(header, 1, &e), 1);
	assert_int_equal(policy_profile_line(other, 1, &e), -EINVAL);
	assert_int_equal(policy_profile_line(kernel, 2, &e), 0);
	assert_string_equal(e.name, "k");
	assert_int_equal(policy_profile_line(late, 3, &e), -EINVAL);
}

static void test_key_is_stable_and_tells_apart(void **state)
{
	assert_true(policy_profile_key("k", 8) == policy_profile_key("k", 8));
	assert_true(policy_profile_key("k", 8) != policy_profile_key("k", 16));
	assert_true(policy_profile_key("k", 8) != policy_profile_key("j", 8));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_samples_keep_the_minimum),
		cmocka_unit_test(test_follows_the_mean_of_typical_samples),
		cmocka_unit_test(test_contended_samples_barely_count),
		cmocka_unit_test(test_floor_holds),
		cmocka_unit_test(test_parse_line),
		cmocka_unit_test(test_parse_rejects_malformed),
		cmocka_unit_test(test_line_rules),
		cmocka_unit_test(test_key_is_stable_and_tells_apart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
