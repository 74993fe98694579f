/* SPDX-License-Identifier: Apache-2.0 */
/* SM partitions under `cuslice run --sm`, against fakecuda's simulated split
 * (an H200's: 15 groups of 8 SMs and 12 left over). */
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

/* 25 % asked: 32 SMs (4 groups) granted; every context the process uses
 * runs there (the primary's stand-in from any thread, a context of its
 * own), green contexts of its own are refused, and kernels take
 * 132/32 times as long as on the whole GPU. */
static void test_partition_holds_every_context(void **state)
{
	struct run_result r;
	char *args[] = {"run", "--sm", "25%", "--", (char *)harness_path("PARTITION_WORKLOAD"),
			"10",  "2000", NULL};

	harness_cli(args, NULL, &r);
	harness_expect_ok(&r);
	assert_int_equal((int)harness_value(r.out, "sms"), 32);
	assert_int_equal(__builtin_popcount((unsigned)harness_value(r.out, "slots")), 4);
	assert_int_equal((int)harness_value(r.out, "thread_sms"), 32);
	assert_int_equal((int)harness_value(r.out, "own_context_sms"), 32);
	assert_int_equal((int)harness_value(r.out, "green_create"),
			 800); /* CUDA_ERROR_NOT_PERMITTED */
	double wall = harness_value(r.out, "wall_ms"), expected = 10 * 2.0 * 132 / 32;
	assert_true(wall >= expected * 0.95 && wall < expected * 1.5);
	assert_non_null(strstr(r.err, "green contexts of the program's own are refused"));

	/* without a partition: the whole GPU, and its own green contexts allowed */
	char *whole[] = {"run", "--vram", "1GiB", "--", (char *)harness_path("PARTITION_WORKLOAD"),
			 "10",	"2000",	  NULL};
	harness_cli(whole, NULL, &r);
	harness_expect_ok(&r);
	assert_int_equal((int)harness_value(r.out, "sms"), 132);
	assert_int_equal((int)harness_value(r.out, "green_create"), 0);
}

/* The CUDA runtime makes the primary context current before it retains it
 * (seen on the H200): the shim recognises it there and puts its stand-in. */
static void test_runtime_order(void **state)
{
	struct run_result r;
	char *args[] = {"run", "--sm", "32",	  "--", (char *)harness_path("PARTITION_WORKLOAD"),
			"1",   "100",  "runtime", NULL};

	harness_cli(args, NULL, &r);
	harness_expect_ok(&r);
	assert_int_equal((int)harness_value(r.out, "sms_before_retain"), 32);
	assert_int_equal((int)harness_value(r.out, "sms"), 32);
	assert_int_equal((int)harness_value(r.out, "thread_sms"), 32);
}

static void test_groups_named(void **state)
{
	struct run_result r;
	char *args[] = {"run",
			"--sm-groups",
			"7-13,remainder",
			"--",
			(char *)harness_path("PARTITION_WORKLOAD"),
			"1",
			"100",
			NULL};

	harness_cli(args, NULL, &r);
	harness_expect_ok(&r);
	assert_int_equal((int)harness_value(r.out, "sms"), 7 * 8 + 12);
	assert_int_equal((unsigned)harness_value(r.out, "slots"), 0x3f80u | 1u << 16);
}

static void test_bad_values_refused(void **state)
{
	struct run_result r;
	const char *cases[][2] = {
		{"--sm", "0"},		{"--sm", "150%"},	{"--sm", "many"},
		{"--sm", "200"},	{"--sm-groups", "15"},	{"--sm-groups", "0-15"},
		{"--sm-groups", "2-1"}, {"--sm-groups", "a,b"}, {"--sm-groups", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *args[] = {"run",
				(char *)cases[i][0],
				(char *)cases[i][1],
				"--",
				(char *)harness_path("PARTITION_WORKLOAD"),
				"1",
				"1",
				NULL};
		harness_cli(args, NULL, &r);
		if (r.status != 2 && r.status != 1)
			fail_msg("%s %s: exit %d, %s", cases[i][0], cases[i][1], r.status, r.err);
		assert_non_null(strstr(r.err, cases[i][0]));
		assert_null(strstr(r.out, "sms")); /* the command never ran */
	}
}

/* Under MPS two tenants on disjoint groups run at once, each as fast as
 * alone; on the same groups, or without MPS (time-slicing), they take
 * turns. */
static double pair_wall(const char *groups_a, const char *groups_b, bool mps)
{
	struct run_result r;
	char script[2048], gpu[512], *env[3] = {gpu, NULL, NULL};
	const char *cli = harness_path("CUSLICE_CLI"), *w = harness_path("PARTITION_WORKLOAD");

	snprintf(gpu, sizeof(gpu), "FAKECUDA_SHARED_GPU=%s/gpu-%s-%s-%d", harness_tmpdir(),
		 groups_a, groups_b, mps);
	env[1] = mps ? "CUDA_MPS_PIPE_DIRECTORY=/nonexistent/mps" : "CUDA_MPS_PIPE_DIRECTORY=";
	snprintf(script, sizeof(script),
		 "%s run --sm-groups %s -- %s 40 1000 > %s/a.out & "
		 "%s run --sm-groups %s -- %s 40 1000 > %s/b.out & wait; cat %s/a.out %s/b.out",
		 cli, groups_a, w, harness_tmpdir(), cli, groups_b, w, harness_tmpdir(),
		 harness_tmpdir(), harness_tmpdir());
	char *argv[] = {"/bin/sh", "-c", script, NULL};
	harness_run(argv, env, &r);
	harness_expect_ok(&r);
	const char *second = strstr(strstr(r.out, "wall_ms") + 1, "wall_ms");
	assert_non_null(second);
	double a = harness_value(r.out, "wall_ms"), b = harness_value(second, "wall_ms");
	return a > b ? a : b;
}

static void test_disjoint_groups_run_at_once(void **state)
{
	double alone = 40 * 1.0 * 132 / 56; /* 7 groups */
	double disjoint = pair_wall("0-6", "7-13", true);
	double same = pair_wall("0-6", "0-6", true);
	double timesliced = pair_wall("0-6", "7-13", false);

	assert_true(disjoint < alone * 1.3);
	assert_true(same > alone * 1.8);
	assert_true(timesliced > alone * 1.8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_partition_holds_every_context),
		cmocka_unit_test(test_runtime_order),
		cmocka_unit_test(test_groups_named),
		cmocka_unit_test(test_bad_values_refused),
		cmocka_unit_test(test_disjoint_groups_run_at_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
