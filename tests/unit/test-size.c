/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "policy/size.h"

#define GiB (1ull << 30)
#define H200 (143771ull << 20)

static uint64_t parse_ok(const char *text, uint64_t total)
{
	char err[512] = "";
	uint64_t bytes = 0;

	if (policy_size_parse(text, total, &bytes, err, sizeof(err)) != 0)
		fail_msg("\"%s\" refused: %s", text, err);
	return bytes;
}

static void assert_refused(const char *text, uint64_t total, int code, const char *says)
{
	char err[512] = "";
	uint64_t bytes = 12345;

	assert_int_equal(policy_size_parse(text, total, &bytes, err, sizeof(err)), code);
	assert_int_equal(bytes, 12345); /* untouched */
	if (!strstr(err, says))
		fail_msg("error for \"%s\" is \"%s\", expected it to say \"%s\"", text, err, says);
}

static void test_units(void **state)
{
	assert_int_equal(parse_ok("8GiB", H200), 8 * GiB);
	assert_int_equal(parse_ok("512MiB", H200), 512ull << 20);
	assert_int_equal(parse_ok("64KiB", H200), 64ull << 10);
	assert_int_equal(parse_ok("1073741824", H200), GiB);
	assert_int_equal(parse_ok("4096B", H200), 4096);
	assert_int_equal(parse_ok("1.5GiB", H200), GiB + GiB / 2);
	assert_int_equal(parse_ok("0.25GiB", H200), GiB / 4);
	assert_int_equal(parse_ok("1TiB", 2ull << 40), 1ull << 40);
}

static void test_percentages(void **state)
{
	assert_int_equal(parse_ok("50%", 100 * GiB), 50 * GiB);
	assert_int_equal(parse_ok("100%", H200), H200);
	assert_int_equal(parse_ok("12.5%", 80 * GiB), 10 * GiB);
	assert_int_equal(parse_ok("0.01%", 10000), 1);
}

static void test_bad_sizes(void **state)
{
	assert_refused("12GB", H200, -EINVAL, "unknown unit \"GB\"; use KiB, MiB, GiB or TiB");
	assert_refused("0", H200, -EINVAL, "more than 0");
	assert_refused("0GiB", H200, -EINVAL, "more than 0");
	assert_refused("-1", H200, -EINVAL, "not a number");
	assert_refused("1.5.0GiB", H200, -EINVAL, "not a number");
	assert_refused("1.GiB", H200, -EINVAL, "not a number");
	assert_refused("GiB", H200, -EINVAL, "not a number");
	assert_refused("", H200, -EINVAL, "empty");
	assert_refused("1.5", H200, -EINVAL, "no fraction");
	assert_refused("101%", H200, -EINVAL, "at most 100%");
	assert_refused("0%", H200, -EINVAL, "more than 0");
	assert_refused("200GiB", H200, -ERANGE, "larger than the device, which has 140.4 GiB");
	assert_refused("99999999999999999999", H200, -ERANGE, "too large");
	assert_refused("20000000TiB", 0, -ERANGE, "too large");
	assert_refused("8 GiB", H200, -EINVAL, "unknown unit \" GiB\"");
}

static void test_vram_lists(void **state)
{
	uint64_t totals[2] = {80 * GiB, 40 * GiB};
	struct policy_vram v;
	char err[512];

	assert_int_equal(policy_vram_parse("10GiB", totals, 2, &v, err, sizeof(err)), 0);
	assert_false(v.per_device);
	assert_int_equal(v.bytes[0], 10 * GiB);
	assert_int_equal(v.bytes[1], 10 * GiB);

	assert_int_equal(policy_vram_parse("50%", totals, 2, &v, err, sizeof(err)), 0);
	assert_int_equal(v.bytes[0], 40 * GiB);
	assert_int_equal(v.bytes[1], 20 * GiB);

	assert_int_equal(policy_vram_parse("1=20GiB", totals, 2, &v, err, sizeof(err)), 0);
	assert_true(v.per_device);
	assert_int_equal(v.bytes[0], 0);
	assert_int_equal(v.bytes[1], 20 * GiB);

	assert_int_equal(policy_vram_parse("0=20GiB,1=10GiB", totals, 2, &v, err, sizeof(err)), 0);
	assert_int_equal(v.bytes[0], 20 * GiB);
	assert_int_equal(v.bytes[1], 10 * GiB);
}

static void test_bad_vram_lists(void **state)
{
	uint64_t totals[2] = {80 * GiB, 40 * GiB};
	struct policy_vram v = {.ndevices = 99};
	char err[512];

	assert_int_equal(policy_vram_parse("2=1GiB", totals, 2, &v, err, sizeof(err)), -ENODEV);
	assert_non_null(strstr(err, "there is no device 2; devices are 0 to 1"));
	assert_int_equal(policy_vram_parse("0=1GiB,0=2GiB", totals, 2, &v, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "given twice"));
	assert_int_equal(policy_vram_parse("0=1GiB,5GiB", totals, 2, &v, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "mixes"));
	assert_int_equal(policy_vram_parse("x=1GiB", totals, 2, &v, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a device index"));
	assert_int_equal(policy_vram_parse("1=50GiB", totals, 2, &v, err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "larger than the device"));
	assert_int_equal(policy_vram_parse("0=12GB", totals, 2, &v, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown unit \"GB\""));
	assert_int_equal(v.ndevices, 99); /* untouched */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),	       cmocka_unit_test(test_percentages),
		cmocka_unit_test(test_bad_sizes),      cmocka_unit_test(test_vram_lists),
		cmocka_unit_test(test_bad_vram_lists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
