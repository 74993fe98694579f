/* SPDX-License-Identifier: Apache-2.0 */
/* VRAM quotas under `cuslice run --vram`, against fakecuda. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "policy/quota.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static void test_every_path_charged_and_credited(void **state)
{
	struct run_result r;
	char *args[] = {"run",	 "--vram", "1GiB", "--", (char *)harness_path("VRAM_WORKLOAD"),
			"paths", NULL};

	harness_cli(args, NULL, &r);
	harness_expect_ok(&r);
}

static void test_driver_refusal_returns_the_reservation(void **state)
{
	struct run_result r;
	char *env[] = {"FAKECUDA_REFUSE_BYTES=943718400", "VRAM_DRIVER_REFUSES=943718400", NULL};
	char *args[] = {"run",	 "--vram", "1GiB", "--", (char *)harness_path("VRAM_WORKLOAD"),
			"paths", NULL};

	harness_cli(args, env, &r);
	harness_expect_ok(&r);
}

struct tally {
	long long held, most, refused;
};

/* Two processes of one tenant, 10 000 allocations each, never hold more than
 * the quota together, not by one byte. */
static void test_two_processes_racing(void **state)
{
	struct run_result r;
	char path[4096], tally_env[4200], script[8192];

	snprintf(path, sizeof(path), "%s/tally", harness_tmpdir());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, sizeof(struct tally)), 0);
	struct tally *t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(t != MAP_FAILED);
	close(fd);
	snprintf(tally_env, sizeof(tally_env), "RACE_TALLY=%s", path);
	snprintf(script, sizeof(script), "%s race 10000 & %s race 10000; wait $!",
		 harness_path("VRAM_WORKLOAD"), harness_path("VRAM_WORKLOAD"));
	char *env[] = {tally_env, NULL};
	char *args[] = {"run", "--vram", "48MiB", "--", "/bin/sh", "-c", script, NULL};

	harness_cli(args, env, &r);
	harness_expect_ok(&r);
	print_message("two racers: most held together %lld bytes of 48 MiB, %lld refusals\n",
		      t->most, t->refused);
	assert_true(t->most <= (long long)(48 * MiB));
	assert_true(t->most > (long long)(30 * MiB)); /* they really filled it */
	assert_true(t->refused > 0);		      /* and really contended */
	assert_int_equal(t->held, 0);
	munmap(t, sizeof(*t));
}

static void test_sigkill_returns_the_reservation(void **state)
{
	struct run_result r;
	char *args[] = {"run",	"--vram",    "1GiB", "--", (char *)harness_path("VRAM_WORKLOAD"),
			"kill", "900000000", NULL};
	double ms = -1;

	harness_cli(args, NULL, &r);
	harness_expect_ok(&r);
	assert_int_equal(sscanf(r.out, "reclaimed after %lf ms", &ms), 1);
	print_message("a SIGKILLed process's reservation came back after %.1f ms\n", ms);
	assert_true(ms < 1000);
}

static void view(const char *vram, char *const env[], struct run_result *r)
{
	char *args[] = {"run",	"--vram", (char *)vram, "--", (char *)harness_path("VRAM_WORKLOAD"),
			"view", NULL};

	harness_cli(args, env, r);
	harness_expect_ok(r);
}

static void test_applications_see_the_quota(void **state)
{
	struct run_result r;
	char expected[512];

	view("10GiB", NULL, &r);
	snprintf(expected, sizeof(expected),
		 "cuMemGetInfo %llu %llu\ncuDeviceTotalMem 0 %llu\n"
		 "nvmlDeviceGetMemoryInfo %llu %llu used 0\n",
		 10 * GiB, 10 * GiB, 10 * GiB, 10 * GiB, 10 * GiB);
	assert_string_equal(r.out, expected);
	view("50%", NULL, &r); /* of fakecuda's 80 GiB */
	assert_non_null(strstr(r.out, "cuMemGetInfo 42949672960 42949672960\n"));
}

/* A context's own memory is charged: with 256 MiB per context, 1 GiB leaves 768. */
static void test_context_is_charged(void **state)
{
	struct run_result r;
	char *env[] = {"FAKECUDA_CONTEXT_BYTES=268435456", NULL};
	char expected[512];

	view("1GiB", env, &r);
	snprintf(expected, sizeof(expected),
		 "cuMemGetInfo %llu %llu\ncuDeviceTotalMem 0 %llu\n"
		 "nvmlDeviceGetMemoryInfo %llu %llu used %llu\n",
		 768 * MiB, GiB, GiB, 768 * MiB, GiB, 256 * MiB);
	assert_string_equal(r.out, expected);
}

/* Bad values: one line naming the value and the forms, exit 2, nothing run. */
static void assert_refused_before_running(const char *opt, const char *value, const char *says)
{
	struct run_result r;
	char marker[4096], script[4200];

	snprintf(marker, sizeof(marker), "%s/ran", harness_tmpdir());
	unlink(marker);
	snprintf(script, sizeof(script), "touch %s", marker);
	char *args[] = {"run", (char *)opt, (char *)value, "--", "/bin/sh", "-c", script, NULL};
	harness_cli(args, NULL, &r);
	assert_int_equal(r.status, 2);
	if (harness_lines(r.err) != 1 || !strstr(r.err, says))
		fail_msg("%s %s: expected one line saying \"%s\", got: %s", opt, value, says,
			 r.err);
	assert_int_equal(access(marker, F_OK), -1);
}

static void test_bad_input(void **state)
{
	assert_refused_before_running("--vram", "12GB",
				      "--vram \"12GB\": unknown unit \"GB\"; use KiB, MiB, GiB");
	assert_refused_before_running("--vram", "0", "\"0\": a quota must be more than 0 bytes");
	assert_refused_before_running("--vram", "-1", "\"-1\": not a number");
	assert_refused_before_running("--vram", "1.5.0GiB", "\"1.5.0GiB\": not a number");
	assert_refused_before_running("--vram", "200GiB",
				      "\"200GiB\": larger than the device, which has 80.0 GiB");
	assert_refused_before_running("--vram", "3=1GiB",
				      "there is no device 3; devices are 0 to 0");
	assert_refused_before_running("--device", "3", "--device \"3\": there is no GPU 3");
	assert_refused_before_running("--device", "x", "--device \"x\": not a GPU index");

	struct run_result r;
	char *args[] = {"run", "--vram", "1GiB", "--", NULL};
	harness_cli(args, NULL, &r);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "no command given"));
}

static void test_device_selects_one_gpu(void **state)
{
	struct run_result r;
	char *env[] = {"FAKECUDA_DEVICES=2", "CUDA_VISIBLE_DEVICES=", NULL};
	char *args[] = {"run", "--device", "1", "--", "/bin/sh", "-c", "echo $CUDA_VISIBLE_DEVICES",
			NULL};

	harness_cli(args, env, &r);
	harness_expect_ok(&r);
	assert_string_equal(r.out, "1\n");
}

/* The shim fails closed on a segment it cannot use: cuInit is refused. */
static void test_unusable_segment(void **state)
{
	struct run_result r;
	char path[4096], env0[4200];
	char *argv[] = {(char *)harness_path("INIT_PROBE"), NULL};

	char *missing[] = {"CUSLICE_SEGMENT=/nonexistent/segment", NULL};
	harness_run(argv, missing, &r);
	assert_string_equal(r.out, "cuInit: 3\n");
	assert_int_equal(harness_lines(r.err), 1);
	assert_non_null(strstr(r.err, "cannot map the tenant segment"));

	snprintf(path, sizeof(path), "%s/future-segment", harness_tmpdir());
	FILE *f = fopen(path, "w");
	unsigned header[4] = {200000, 99, 0x63736c63u, 1}; /* size, version 99, magic */
	fwrite(header, sizeof(header), 1, f);
	for (int i = 0; i < 200000; i++)
		fputc(0, f);
	fclose(f);
	snprintf(env0, sizeof(env0), "CUSLICE_SEGMENT=%s", path);
	char *future[] = {env0, NULL};
	harness_run(argv, future, &r);
	assert_string_equal(r.out, "cuInit: 3\n");
	assert_int_equal(harness_lines(r.err), 1);
	assert_non_null(strstr(r.err, "version this shim does not know"));
}

/* An allocation entry point in a variant the shim does not know would escape
 * the quota: under one it is refused; without one it passes through. */
static void test_unknown_allocation_variant(void **state)
{
	struct run_result r;
	char *env[] = {"FAKECUDA_FUTURE_VARIANTS=1", NULL};
	char *limited[] = {"run",    "--vram", "1GiB", "--", (char *)harness_path("VRAM_WORKLOAD"),
			   "future", NULL};
	char *unlimited[] = {"run", "--", (char *)harness_path("VRAM_WORKLOAD"), "future", NULL};

	harness_cli(limited, env, &r);
	harness_expect_ok(&r);
	assert_string_equal(r.out, "cuGetProcAddress: 500 null\ndlsym: null\n");
	assert_int_equal(harness_lines(r.err), 1);
	assert_non_null(strstr(r.err, "\"cuMemAlloc\" in a variant cuslice does not know"));

	harness_cli(unlimited, env, &r);
	harness_expect_ok(&r);
	assert_string_equal(r.out, "cuGetProcAddress: 0 function\ndlsym: function\n");
	assert_string_equal(r.err, "");
}

static void test_quota_per_device(void **state)
{
	struct run_result r;
	char *env[] = {"FAKECUDA_DEVICES=2", "CUDA_VISIBLE_DEVICES=", NULL};
	char *both[] = {
		"run",	   "--vram", "0=1GiB,1=512MiB", "--", (char *)harness_path("VRAM_WORKLOAD"),
		"devices", NULL};
	char *one[] = {"run",	  "--vram", "1=512MiB", "--", (char *)harness_path("VRAM_WORKLOAD"),
		       "devices", NULL};

	harness_cli(both, env, &r);
	harness_expect_ok(&r);
	assert_string_equal(r.out, "device 0: 1073741824 1073741824, one byte more: 2\n"
				   "device 1: 536870912 536870912, one byte more: 2\n");
	/* a device left out of the list gets no memory at all */
	harness_cli(one, env, &r);
	harness_expect_ok(&r);
	assert_string_equal(r.out, "device 0: 0 0, one byte more: 2\n"
				   "device 1: 536870912 536870912, one byte more: 2\n");
}

/* Without `cuslice run` watching, the tenant's own processes give back what
 * a killed one held: the next refused reservation checks the other slots. */
static void test_sigkill_without_the_watcher(void **state)
{
	struct run_result r;
	char path[4096], env0[4200];
	struct cuslice_segment *seg = calloc(1, sizeof(*seg));

	quota_segment_init(seg, 1);
	seg->devices[0].quota = GiB;
	seg->devices[0].uuid[0] = 0xfa; /* fakecuda's device 0 */
	seg->devices[0].uuid[1] = 0xce;
	snprintf(path, sizeof(path), "%s/segment", harness_tmpdir());
	FILE *f = fopen(path, "w");
	assert_int_equal(fwrite(seg, sizeof(*seg), 1, f), 1);
	fclose(f);
	free(seg);
	snprintf(env0, sizeof(env0), "CUSLICE_SEGMENT=%s", path);
	char *env[] = {env0, NULL};
	char *argv[] = {(char *)harness_path("VRAM_WORKLOAD"), "kill", "900000000", NULL};
	double ms = -1;

	harness_run(argv, env, &r);
	harness_expect_ok(&r);
	assert_int_equal(sscanf(r.out, "reclaimed after %lf ms", &ms), 1);
	print_message("without the watcher, reclaimed after %.1f ms\n", ms);
	assert_true(ms < 1000);
}

static double share_of(const struct run_result *r)
{
	long kernels;
	double share = -1;

	if (r->status != 0 || sscanf(r->out, "kernels %ld gpu_share %lf", &kernels, &share) != 2)
		fail_msg("share-workload: exit %d: %s%s", r->status, r->out, r->err);
	return share;
}

/* --limit caps GPU time even when the command is alone on the GPU. */
static void test_limit_caps_gpu_time(void **state)
{
	struct run_result r;
	char *alone[] = {"run", "--", (char *)harness_path("SHARE_WORKLOAD"), "1", "1000", NULL};
	char *limited[] = {"run", "--limit", "30%", "--", (char *)harness_path("SHARE_WORKLOAD"),
			   "1",	  "1000",    NULL};

	harness_cli(alone, NULL, &r);
	double free_share = share_of(&r);
	harness_cli(limited, NULL, &r);
	double capped = share_of(&r);
	print_message("1 ms kernels: %.1f%% of GPU time alone, %.1f%% under --limit 30%%\n",
		      100 * free_share, 100 * capped);
	assert_true(free_share > 0.85);
	assert_true(capped <= 0.31);
	assert_true(capped >= 0.20);

	char *bad[] = {"run", "--limit", "130%", "--", "/bin/true", NULL};
	harness_cli(bad, NULL, &r);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "--limit \"130%\": use a percentage of GPU time"));
}

/* A kernel much shorter than its launch is charged its GPU time, not the
 * host's time launching it: 5 µs kernels that each take 20 µs to launch keep
 * the GPU ~20 % busy and run as fast under --limit 50 % as without. Timed
 * without holding the stream, the pair read 25 µs: the command got half the
 * GPU time and waited for its pace 160 ms a second. */
static void test_small_kernels_charged_their_gpu_time(void **state)
{
	struct run_result r;
	char *env[] = {"FAKECUDA_LAUNCH_US=20", NULL};
	char *alone[] = {"run", "--", (char *)harness_path("SHARE_WORKLOAD"), "1", "5", NULL};
	char *limited[] = {"run", "--limit", "50%", "--", (char *)harness_path("SHARE_WORKLOAD"),
			   "1",	  "5",	     NULL};
	int pid;

	harness_cli(alone, env, &r);
	double free_share = share_of(&r);
	harness_cli(limited, env, &r);
	double paced = share_of(&r);
	assert_non_null(strstr(r.out, " pid "));
	assert_int_equal(sscanf(strstr(r.out, " pid ") + 5, "%d", &pid), 1);
	json_object *stats = harness_stats(pid);
	int64_t ns = harness_int(stats, "gate.costs.0.ns");
	int64_t held = harness_int(stats, "gate.held_samples");
	int64_t forced = harness_int(stats, "gate.forced_releases");
	int64_t throttled = harness_int(stats, "gate.throttled_ns");
	print_message("5 us kernels, 20 us launches: %.1f%% of GPU time alone, %.1f%% under "
		      "--limit 50%%; charged %" PRId64 " ns a kernel, %" PRId64
		      " samples held (%" PRId64 " let go by the watchdog), paced %" PRId64 " ms\n",
		      100 * free_share, 100 * paced, ns, held, forced, throttled / 1000000);
	json_object_put(stats);
	/* the share is noisy on a busy machine; the cost and the wait are not */
	assert_true(free_share > 0.05 && free_share < 0.30);
	assert_true(paced >= 0.75 * free_share);
	assert_in_range(ns, 4000, 6500);
	assert_true(held >= 4);
	assert_true(forced * 4 < held);
	assert_true(throttled < 50000000);
}

/* A process launching on two GPUs in turn times launches in both contexts;
 * each context's events go back to its own spares or are destroyed, never
 * leaked (before: one event pair leaked at every switch, ~200 live events
 * after 160 000 launches and growing with every timed launch). */
static void test_timing_events_not_leaked_across_contexts(void **state)
{
	struct run_result r;
	char *env[] = {"FAKECUDA_DEVICES=2", NULL};
	char *args[] = {"run",	   "--limit", "90%", "--", (char *)harness_path("SHARE_WORKLOAD"),
			"devices", "80000",   "5",   NULL};
	unsigned long launches, made, live;

	harness_cli(args, env, &r);
	harness_expect_ok(&r);
	assert_int_equal(sscanf(r.out, "launches %lu events_made %lu events_live %lu", &launches,
				&made, &live),
			 3);
	print_message("80 000 launches on two GPUs in turn: %lu timing events made, %lu live "
		      "at the end\n",
		      made, live);
	assert_true(made > 100); /* the contexts took turns at the timed launches */
	assert_true(live < 40);
}

/* Reads the one kernel line of a profile: its cost and name. */
static void profile_line(const char *path, unsigned long *ns, char *name)
{
	char text[512];
	unsigned long grid, samples;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	if (sscanf(text, "# cuslice profile 1\n%lu %lu %lu %63s", ns, &grid, &samples, name) != 4)
		fail_msg("not a profile:\n%s", text);
	assert_int_equal(grid, 1);
	assert_true(samples >= 4);
}

/* `cuslice profile` records what the kernels cost, and a profile seeds the
 * costs a --limit paces by: a profile that says the kernel costs twice what
 * it does halves the GPU time it gets. */
static void test_profile_seeds_the_costs(void **state)
{
	struct run_result r;
	char path[4096], doubled[4096], bad[4096], name[64], cmd[8400];
	unsigned long ns;

	snprintf(path, sizeof(path), "%s/work.profile", harness_tmpdir());
	snprintf(doubled, sizeof(doubled), "%s/doubled.profile", harness_tmpdir());
	snprintf(bad, sizeof(bad), "%s/bad.profile", harness_tmpdir());
	char *record[] = {"profile", "-o",   path, "--", (char *)harness_path("SHARE_WORKLOAD"),
			  "0.5",     "1000", NULL};
	harness_cli(record, NULL, &r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "1 kernels from 1 process written to"));
	profile_line(path, &ns, name);
	assert_string_equal(name, "work");
	assert_in_range(ns, 990000, 1010000);

	snprintf(cmd, sizeof(cmd), "sed '2s/^[0-9]*/2000000/' %s > %s", path, doubled);
	assert_int_equal(system(cmd), 0);
	char *limited[] = {"run",
			   "--limit",
			   "30%",
			   "--profile",
			   doubled,
			   "--",
			   (char *)harness_path("SHARE_WORKLOAD"),
			   "1",
			   "1000",
			   NULL};
	harness_cli(limited, NULL, &r);
	double share = share_of(&r);
	print_message("--limit 30%% with a profile of twice the true cost: %.1f%% of GPU time\n",
		      100 * share);
	assert_in_range(share * 1000, 120, 160);

	snprintf(cmd, sizeof(cmd), "printf '# cuslice profile 1\\n12 x 3 work\\n' > %s", bad);
	assert_int_equal(system(cmd), 0);
	char *refused[] = {"run", "--profile", bad, "--", "/bin/true", NULL};
	harness_cli(refused, NULL, &r);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "line 2 is malformed"));
	/* given straight to the shim, CUDA is refused with one line */
	char env0[4200];
	snprintf(env0, sizeof(env0), "CUSLICE_PROFILE=%s", bad);
	char *env[] = {env0, NULL};
	char *probe[] = {(char *)harness_path("SHARE_WORKLOAD"), "0.1", "1000", NULL};
	harness_run(probe, env, &r);
	assert_int_not_equal(r.status, 0);
	assert_non_null(strstr(r.err, "line 2: malformed"));
	assert_non_null(strstr(r.err, "CUDA is disabled in this process"));

	char *nothing[] = {"profile", "-o", path, "--", "/bin/true", NULL};
	harness_cli(nothing, NULL, &r);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "no kernel was timed"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_path_charged_and_credited),
		cmocka_unit_test(test_driver_refusal_returns_the_reservation),
		cmocka_unit_test(test_two_processes_racing),
		cmocka_unit_test(test_sigkill_returns_the_reservation),
		cmocka_unit_test(test_applications_see_the_quota),
		cmocka_unit_test(test_context_is_charged),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_device_selects_one_gpu),
		cmocka_unit_test(test_unusable_segment),
		cmocka_unit_test(test_unknown_allocation_variant),
		cmocka_unit_test(test_quota_per_device),
		cmocka_unit_test(test_sigkill_without_the_watcher),
		cmocka_unit_test(test_limit_caps_gpu_time),
		cmocka_unit_test(test_profile_seeds_the_costs),
		cmocka_unit_test(test_small_kernels_charged_their_gpu_time),
		cmocka_unit_test(test_timing_events_not_leaked_across_contexts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
