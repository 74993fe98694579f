/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "policy/pathfmt.h"

static void test_pid_is_substituted(void **state)
{
	char out[64];

	assert_int_equal(policy_path_expand("/tmp/s.%p.json", 4242, out, sizeof(out)), 0);
	assert_string_equal(out, "/tmp/s.4242.json");
	assert_int_equal(policy_path_expand("%p-%p", 7, out, sizeof(out)), 0);
	assert_string_equal(out, "7-7");
}

static void test_plain_and_escaped(void **state)
{
	char out[64];

	assert_int_equal(policy_path_expand("/tmp/plain", 1, out, sizeof(out)), 0);
	assert_string_equal(out, "/tmp/plain");
	assert_int_equal(policy_path_expand("/tmp/100%%", 1, out, sizeof(out)), 0);
	assert_string_equal(out, "/tmp/100%");
}

static void test_malformed_leaves_output_alone(void **state)
{
	char out[16] = "untouched";

	assert_int_equal(policy_path_expand("/tmp/%q", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(policy_path_expand("/tmp/%", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(policy_path_expand("", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(policy_path_expand(NULL, 1, out, sizeof(out)), -EINVAL);
	assert_string_equal(out, "untouched");
}

static void test_too_long(void **state)
{
	char out[8] = "x";

	assert_int_equal(policy_path_expand("/tmp/abcdef", 1, out, sizeof(out)), -ENAMETOOLONG);
	assert_string_equal(out, "x");
	assert_int_equal(policy_path_expand("/tmp/a", 1, out, sizeof(out)), 0);
	assert_string_equal(out, "/tmp/a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pid_is_substituted),
		cmocka_unit_test(test_plain_and_escaped),
		cmocka_unit_test(test_malformed_leaves_output_alone),
		cmocka_unit_test(test_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
