/* SPDX-License-Identifier: Apache-2.0 */
/* `cuslice run`: the embedded default, its summary, and its errors. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static void test_summary_counts_the_whole_tree(void **state)
{
	struct run_result r;
	char *args[] = {"run",	 "--summary",  "--", (char *)harness_path("DRIVER_WORKLOAD"),
			"dlsym", "--launches", "5",  "--fork",
			NULL};

	harness_cli(args, NULL, &r);
	assert_int_equal(r.status, 0);
	/* parent: 3*5+1 + 3 launched - 3 captured + 15 by graphs + 1 multi-device = 32;
	 * forked child: 3*5+1 launched + 1 multi-device = 17 */
	if (!strstr(r.err, "in 2 processes") || !strstr(r.err, "kernels run               49"))
		fail_msg("unexpected summary:\n%s", r.err);
}

static void test_stats_dir_keeps_per_process_files(void **state)
{
	struct run_result r;
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/kept", harness_tmpdir());
	char *args[] = {"run",	  "--stats-dir", dir, "--", (char *)harness_path("DRIVER_WORKLOAD"),
			"linked", "--launches",	 "2", NULL};

	harness_cli(args, NULL, &r);
	assert_int_equal(r.status, 0);
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "test $(ls %s/stats.*.json | wc -l) -eq 1", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_exit_status_is_the_commands(void **state)
{
	struct run_result r;
	char *fails[] = {"run", "--", "/bin/sh", "-c", "exit 7", NULL};
	char *killed[] = {"run", "--", "/bin/sh", "-c", "kill -9 $$", NULL};

	harness_cli(fails, NULL, &r);
	assert_int_equal(r.status, 7);
	harness_cli(killed, NULL, &r);
	assert_int_equal(r.status, 128 + 9);
	assert_non_null(strstr(r.err, "killed by signal 9"));
}

static void test_bad_usage(void **state)
{
	struct run_result r;
	char *no_command[] = {"run", "--", NULL};
	char *bad_option[] = {"run", "--vram-typo", "--", "true", NULL};
	char *missing[] = {"run", "--", "/nonexistent/program", NULL};
	char *bad_verb[] = {"frobnicate", NULL};

	harness_cli(no_command, NULL, &r);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "no command given"));
	harness_cli(bad_option, NULL, &r);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "unknown option \"--vram-typo\""));
	harness_cli(missing, NULL, &r);
	assert_int_equal(r.status, 127);
	assert_non_null(strstr(r.err, "cannot run \"/nonexistent/program\""));
	harness_cli(bad_verb, NULL, &r);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "unknown command \"frobnicate\""));
}

static void test_help(void **state)
{
	struct run_result r;
	char *top[] = {"--help", NULL};
	char *run[] = {"run", "--help", NULL};

	harness_cli(top, NULL, &r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "Usage: cuslice COMMAND"));
	harness_cli(run, NULL, &r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "--summary"));
	assert_non_null(strstr(r.out, "--stats-dir"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary_counts_the_whole_tree),
		cmocka_unit_test(test_stats_dir_keeps_per_process_files),
		cmocka_unit_test(test_exit_status_is_the_commands),
		cmocka_unit_test(test_bad_usage),
		cmocka_unit_test(test_help),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
