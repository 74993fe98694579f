/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "policy/shares.h"

static void test_weights(void **state)
{
	struct policy_share t[2] = {{.weight = 3, .active = true}, {.weight = 7, .active = true}};

	policy_shares(t, 2);
	assert_int_equal(t[0].ret_ppm, 300000);
	assert_int_equal(t[1].ret_ppm, 700000);
}

/* An idle tenant's share goes to the others; alone, a tenant is not paced. */
static void test_work_conserving(void **state)
{
	struct policy_share t[3] = {{.weight = 3, .active = true},
				    {.weight = 7, .active = false},
				    {.weight = 1, .active = true}};

	policy_shares(t, 3);
	assert_int_equal(t[0].ret_ppm, 750000);
	assert_int_equal(t[1].ret_ppm, 0);
	assert_int_equal(t[2].ret_ppm, 250000);
	t[2].active = false;
	policy_shares(t, 3);
	assert_int_equal(t[0].ret_ppm, 0);
}

/* A limit holds even alone; what it frees goes to the others. */
static void test_limits(void **state)
{
	struct policy_share t[3] = {{.weight = 8, .limit_ppm = 300000, .active = true},
				    {.weight = 1, .active = true},
				    {.weight = 1, .active = true}};

	policy_shares(t, 3);
	assert_int_equal(t[0].ret_ppm, 300000);
	assert_int_equal(t[1].ret_ppm, 350000);
	assert_int_equal(t[2].ret_ppm, 350000);

	struct policy_share alone[2] = {{.weight = 1, .limit_ppm = 300000, .active = true},
					{.weight = 1, .limit_ppm = 200000, .active = false}};
	policy_shares(alone, 2);
	assert_int_equal(alone[0].ret_ppm, 300000);
	assert_int_equal(alone[1].ret_ppm, 200000); /* an idle limited tenant stays limited */
}

/* Limits that leave GPU time over do not force it on anyone. */
static void test_all_limited(void **state)
{
	struct policy_share t[2] = {{.weight = 1, .limit_ppm = 200000, .active = true},
				    {.weight = 1, .limit_ppm = 100000, .active = true}};

	policy_shares(t, 2);
	assert_int_equal(t[0].ret_ppm, 200000);
	assert_int_equal(t[1].ret_ppm, 100000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_work_conserving),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_all_limited),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
