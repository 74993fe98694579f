/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policy/smplan.h"

static struct policy_sm_layout h200(void)
{
	struct policy_sm_layout l;
	/* what cuDevSmResourceSplitByCount(minCount 8) gives on an H200 */
	assert_int_equal(policy_sm_layout(132, 8, 15, &l), 0);
	return l;
}

static void test_h200_layout(void **state)
{
	struct policy_sm_layout l = h200();
	assert_int_equal(l.groups, 15);
	assert_int_equal(l.remainder, 12);
	struct policy_sm_layout bad;
	assert_int_equal(policy_sm_layout(132, 8, 17, &bad), -EINVAL);
	assert_int_equal(policy_sm_layout(132, 0, 15, &bad), -EINVAL);
}

/* The example: 25 % asked, 32 SMs (4 groups) granted, 24.2 %. */
static void test_quarter_rounds_to_groups(void **state)
{
	struct policy_sm_layout l = h200();
	struct policy_sm_ask a;
	struct policy_sm_grant g;
	char err[256];

	assert_int_equal(policy_sm_parse("25%", &a), 0);
	assert_int_equal(policy_sm_plan(&l, &a, NULL, 1, &g, err, sizeof(err)), 0);
	assert_int_equal(g.sms, 32);
	assert_int_equal(__builtin_popcountll(g.groups), 4);
	assert_int_equal(g.remainder, 0);
	assert_int_equal(g.ppm / 1000, 242); /* 24.2 % */
}

/* Two tenants of 7 groups each: disjoint, 56 SMs each, the remainder unused. */
static void test_disjoint_groups(void **state)
{
	struct policy_sm_layout l = h200();
	struct policy_sm_ask a[2] = {{.sms = 56}, {.sms = 56}};
	struct policy_sm_grant g[2];
	char err[256];

	assert_int_equal(policy_sm_plan(&l, a, NULL, 2, g, err, sizeof(err)), 0);
	assert_int_equal(g[0].sms, 56);
	assert_int_equal(g[1].sms, 56);
	assert_int_equal(g[0].groups & g[1].groups, 0);
	assert_int_equal(__builtin_popcountll(g[0].groups | g[1].groups), 14);
}

/* The 12-SM remainder is grantable: an ask of 12 SMs (or 9 %) gets it whole. */
static void test_remainder_granted(void **state)
{
	struct policy_sm_layout l = h200();
	struct policy_sm_ask a[3] = {{.sms = 12}, {.sms = 64}, {.ppm = 90000}};
	struct policy_sm_grant g[3];
	char err[256];

	assert_int_equal(policy_sm_plan(&l, a, NULL, 3, g, err, sizeof(err)), 0);
	/* largest first: the 64 takes 8 groups; of the two small ones, the first
	 * in order of size gets the remainder, the other a group */
	assert_int_equal(g[1].sms, 64);
	assert_int_equal(g[0].remainder + g[2].remainder, 1);
	assert_int_equal(g[0].remainder ? g[0].sms : g[2].sms, 12);
	assert_int_equal(g[0].groups & g[1].groups, 0);
	assert_int_equal(g[2].groups & g[1].groups, 0);
}

/* Over-commit is refused with a reason, and nothing is granted. */
static void test_overcommit_refused(void **state)
{
	struct policy_sm_layout l = h200();
	struct policy_sm_ask a[3] = {{.ppm = 500000}, {.ppm = 400000}, {.ppm = 200000}};
	struct policy_sm_grant g[3] = {{.sms = 777}};
	char err[256] = "";

	assert_int_equal(policy_sm_plan(&l, a, NULL, 3, g, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "the asks need 18 groups of 8 SMs; the GPU has 15"));
	assert_int_equal(g[0].sms, 777);
}

static void test_parse(void **state)
{
	struct policy_sm_ask a;

	assert_int_equal(policy_sm_parse("32", &a), 0);
	assert_int_equal(a.sms, 32);
	assert_int_equal(policy_sm_parse("12.5%", &a), 0);
	assert_int_equal(a.ppm, 125000);
	const char *bad[] = {"", "0", "-4", "x", "30 %", "150%", "0%", "8SMs"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(policy_sm_parse(bad[i], &a), -EINVAL);
}

/* A grant in force stays put when another tenant arrives or one leaves:
 * running processes keep their SMs and the newcomer goes where nobody is. */
static void test_grants_kept(void **state)
{
	struct policy_sm_layout l = h200();
	struct policy_sm_ask a[3] = {{.sms = 16}, {.sms = 56}, {.sms = 24}};
	struct policy_sm_grant first[3], again[3], rest;
	char err[256];

	assert_int_equal(policy_sm_plan(&l, a, NULL, 2, first, err, sizeof(err)), 0);
	/* a third ask, larger than the first: the first two keep their groups */
	assert_int_equal(policy_sm_plan(&l, a, first, 3, again, err, sizeof(err)), 0);
	assert_true(again[0].groups == first[0].groups);
	assert_true(again[1].groups == first[1].groups);
	assert_int_equal(__builtin_popcountll(again[2].groups), 3);
	assert_int_equal(again[2].groups & (again[0].groups | again[1].groups), 0);
	/* the second leaves: the others stay where they are */
	struct policy_sm_ask b[2] = {a[0], a[2]};
	struct policy_sm_grant prev[2] = {again[0], again[2]}, after[2];
	assert_int_equal(policy_sm_plan(&l, b, prev, 2, after, err, sizeof(err)), 0);
	assert_true(after[0].groups == again[0].groups);
	assert_true(after[1].groups == again[2].groups);
	/* an ask that changes size is placed anew, off everyone else's groups */
	b[0].sms = 40;
	assert_int_equal(policy_sm_plan(&l, b, prev, 2, after, err, sizeof(err)), 0);
	assert_int_equal(__builtin_popcountll(after[0].groups), 5);
	assert_int_equal(after[0].groups & after[1].groups, 0);
	/* the rest: what nobody holds, the remainder included */
	rest = policy_sm_rest(&l, after, 2);
	assert_int_equal(rest.sms, (15 - 8) * 8 + 12);
	assert_int_equal(rest.groups & (after[0].groups | after[1].groups), 0);
}

static void test_groups_parse(void **state)
{
	struct policy_sm_layout l = h200();
	struct policy_sm_grant g;

	assert_int_equal(policy_sm_groups_parse(&l, "0-6", &g), 0);
	assert_true(g.groups == 0x7f);
	assert_int_equal(g.sms, 56);
	assert_int_equal(policy_sm_groups_parse(&l, "7-13,remainder", &g), 0);
	assert_true(g.groups == 0x3f80);
	assert_int_equal(g.remainder, 1);
	assert_int_equal(g.sms, 68);
	assert_int_equal(policy_sm_groups_parse(&l, "remainder", &g), 0);
	assert_int_equal(g.sms, 12);
	const char *bad[] = {"", "15", "0-15", "3-1", "a", "1,,2", "-1", "0-", "rest"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(policy_sm_groups_parse(&l, bad[i], &g), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_h200_layout),
		cmocka_unit_test(test_quarter_rounds_to_groups),
		cmocka_unit_test(test_disjoint_groups),
		cmocka_unit_test(test_remainder_granted),
		cmocka_unit_test(test_overcommit_refused),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_grants_kept),
		cmocka_unit_test(test_groups_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
