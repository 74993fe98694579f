/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cusliced with real cgroups: tenants are cgroup v2 paths, identity comes from
 * the kernel, quotas set with `cuslice set` hold for the cgroup's processes,
 * survive a daemon killed with SIGKILL, and bad requests change nothing.
 * Needs root and a writable cgroup v2 hierarchy; exits 77 (skipped) without.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "policy/wire.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)

static char cgroup_root[3500]; /* the v2 mount point */
static char group[64];	       /* our test's cgroup, relative to the root: /cuslice-test-PID */
static char runtime[4096], state[4096], admin_env[4200], socket_env[4200];
static pid_t daemon_pid;
static pid_t holders[8];
static int nholders;

static void socket_address(struct sockaddr_un *addr, const char *dir, const char *name)
{
	char path[4300];

	snprintf(path, sizeof(path), "%s%s%s", dir, name ? "/" : "", name ? name : "");
	if (strlen(path) >= sizeof(addr->sun_path))
		fail_msg("socket path too long: %s", path);
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	memcpy(addr->sun_path, path, strlen(path) + 1);
}

static int find_cgroup2(char *ret, size_t size)
{
	char line[4096], mnt[3400];
	FILE *f = fopen("/proc/self/mountinfo", "re");

	while (f && fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - cgroup2 ");
		if (sep && sscanf(line, "%*s %*s %*s %*s %3399s", mnt) == 1) {
			snprintf(ret, size, "%s", mnt);
			fclose(f);
			return 0;
		}
	}
	if (f)
		fclose(f);
	return -ENOENT;
}

static void cgroup_dir(const char *leaf, char *out, size_t size)
{
	snprintf(out, size, "%s%s%s%s", cgroup_root, group, leaf ? "/" : "", leaf ? leaf : "");
}

static void tenant_of(const char *leaf, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", group, leaf);
}

static bool daemon_moves = true; /* false: started with --move-running off */

static void daemon_start(void)
{
	char sock[4200];

	snprintf(sock, sizeof(sock), "%s/admin.sock", runtime);
	unlink(sock); /* left by a daemon killed with SIGKILL */
	daemon_pid = fork();
	assert_true(daemon_pid >= 0);
	if (daemon_pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, STDERR_FILENO);
		/* moves are the default; the tests of it run without the option */
		execl(harness_path("CUSLICED"), "cusliced", "--runtime-dir", runtime, "--state",
		      state, "--no-bpf", "--mps-control", harness_path("FAKE_MPS_CONTROL"),
		      daemon_moves ? NULL : "--move-running", "off", NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && access(sock, F_OK) != 0; i++)
		usleep(10000);
	assert_int_equal(access(sock, F_OK), 0);
}

static void daemon_stop(int sig)
{
	kill(daemon_pid, sig);
	waitpid(daemon_pid, NULL, 0);
	daemon_pid = 0;
}

static void cli(char *const args[], struct run_result *r)
{
	char *env[] = {admin_env, socket_env, NULL};

	harness_cli(args, env, r);
}

/* Runs vram-workload MODE [ARG] inside cgroup `leaf`. */
static void run_in(const char *leaf, const char *mode, const char *arg, struct run_result *r)
{
	char dir[4096], script[8192];
	char *env[] = {socket_env, NULL};

	cgroup_dir(leaf, dir, sizeof(dir));
	snprintf(script, sizeof(script), "echo $$ > %s/cgroup.procs && exec %s %s %s", dir,
		 harness_path("VRAM_WORKLOAD"), mode, arg ? arg : "");
	char *argv[] = {"/bin/sh", "-c", script, NULL};
	harness_run(argv, env, r);
}

/* What the shared GPU loses at each switch of contexts (FAKECUDA_SWITCH_US), or NULL. */
static const char *spawn_switch_us;

/* Starts `prog args…` in cgroup `leaf` under the shim, on the GPU the test's
 * processes share; returns its pid, and its stdout in *ret_out. */
static pid_t spawn_in(const char *leaf, int *ret_out, char *const argv[])
{
	char dir[4096], gpu[4200];
	int out[2];

	cgroup_dir(leaf, dir, sizeof(dir));
	snprintf(gpu, sizeof(gpu), "%s/gpu", harness_tmpdir());
	assert_int_equal(pipe(out), 0);
	pid_t pid = fork();
	if (pid == 0) {
		char self[32];
		snprintf(self, sizeof(self), "%d", (int)getpid());
		strcat(dir, "/cgroup.procs");
		int fd = open(dir, O_WRONLY);
		if (fd < 0 || write(fd, self, strlen(self)) < 0)
			_exit(126);
		close(fd);
		dup2(out[1], STDOUT_FILENO);
		setenv("LD_PRELOAD", harness_path("CUSLICE_SHIM"), 1);
		setenv("LD_LIBRARY_PATH", harness_path("FAKECUDA_DIR"), 1);
		setenv("CUSLICE_SOCKET", socket_env + strlen("CUSLICE_SOCKET="), 1);
		setenv("FAKECUDA_SHARED_GPU", gpu, 1);
		if (spawn_switch_us)
			setenv("FAKECUDA_SWITCH_US", spawn_switch_us, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	*ret_out = out[0];
	return pid;
}

/* Starts vram-workload hold BYTES in cgroup `leaf`; returns once it holds them. */
static pid_t hold_in(const char *leaf, const char *bytes)
{
	char *argv[] = {(char *)harness_path("VRAM_WORKLOAD"), "hold", (char *)bytes, NULL};
	char line[32] = "";
	int out;
	pid_t pid = spawn_in(leaf, &out, argv);

	holders[nholders++ % 8] = pid;
	assert_true(read(out, line, sizeof(line) - 1) > 0);
	assert_non_null(strstr(line, "holding"));
	close(out);
	return pid;
}

/* GPU share a share-workload run got, after it exits. */
static double share_result(pid_t pid, int out)
{
	char text[256] = "";
	long kernels;
	double share = -1;
	int status;

	ssize_t n = read(out, text, sizeof(text) - 1);
	close(out);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	text[n > 0 ? n : 0] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    sscanf(text, "kernels %ld gpu_share %lf", &kernels, &share) != 2)
		fail_msg("share-workload failed: %s", text);
	return share;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Holders left by a failed test would keep the cgroups, and meson, waiting. */
static int stop_holders(void **state_)
{
	for (int i = 0; i < 8; i++)
		if (holders[i] > 0)
			stop(holders[i]);
	memset(holders, 0, sizeof(holders));
	return 0;
}

static json_object *describe(const char *leaf)
{
	struct run_result r;
	char tenant[512];

	tenant_of(leaf, tenant, sizeof(tenant));
	char *args[] = {"describe", tenant, "-o", "json", NULL};
	cli(args, &r);
	if (r.status != 0)
		fail_msg("describe %s: %s", tenant, r.err);
	json_object *j = json_tokener_parse(r.out);
	assert_non_null(j);
	return j;
}

static void set_vram(const char *leaf, const char *vram, struct run_result *r)
{
	char tenant[512];

	tenant_of(leaf, tenant, sizeof(tenant));
	char *args[] = {"set", tenant, "--vram", (char *)vram, NULL};
	cli(args, r);
}

static void test_quota_follows_the_cgroup(void **state_)
{
	struct run_result r;
	char expected[256];

	set_vram("a", "1GiB", &r);
	assert_int_equal(r.status, 0);
	run_in("a", "view", NULL, &r);
	snprintf(expected, sizeof(expected), "cuMemGetInfo %llu %llu\n", GiB, GiB);
	if (r.status != 0 || strncmp(r.out, expected, strlen(expected)) != 0)
		fail_msg("in a: %s%s", r.out, r.err);
	/* b was never configured: the whole (fake, 80 GiB) device */
	run_in("b", "view", NULL, &r);
	snprintf(expected, sizeof(expected), "cuMemGetInfo %llu %llu\n", 80 * GiB, 80 * GiB);
	if (r.status != 0 || strncmp(r.out, expected, strlen(expected)) != 0)
		fail_msg("in b: %s%s", r.out, r.err);
}

static void test_running_tenant_is_accounted(void **state_)
{
	pid_t holder = hold_in("a", "536870912");
	json_object *j = describe("a");

	assert_int_equal(harness_int(j, "tenant.processes"), 1);
	json_object *devices, *dev;
	json_object_object_get_ex(json_object_object_get(j, "tenant"), "devices", &devices);
	dev = json_object_array_get_idx(devices, 0);
	assert_int_equal(json_object_get_int64(json_object_object_get(dev, "vram_used")),
			 512 * MiB);
	json_object_put(j);

	/* a second process of a sees what the first holds */
	struct run_result r;
	char expected[256];
	run_in("a", "view", NULL, &r);
	snprintf(expected, sizeof(expected), "cuMemGetInfo %llu %llu\n", GiB - 512 * MiB, GiB);
	assert_int_equal(strncmp(r.out, expected, strlen(expected)), 0);

	/* killed with SIGKILL, the holder's 512 MiB come back through the daemon's pidfd */
	struct timespec t0, t1;
	int64_t used = -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	stop(holder);
	for (int i = 0; i < 100 && used != 0; i++) {
		j = describe("a");
		json_object_object_get_ex(json_object_object_get(j, "tenant"), "devices", &devices);
		used = json_object_get_int64(
			json_object_object_get(json_object_array_get_idx(devices, 0), "vram_used"));
		json_object_put(j);
		if (used)
			usleep(10000);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	print_message("the daemon returned a SIGKILLed process's 512 MiB within %.1f ms\n", ms);
	assert_int_equal(used, 0);
	assert_true(ms < 1000);
}

static void test_bad_set_changes_nothing(void **state_)
{
	struct run_result r;
	char before[8192], after[8192];
	FILE *f = fopen(state, "r");

	assert_non_null(f);
	before[fread(before, 1, sizeof(before) - 1, f)] = '\0';
	fclose(f);
	set_vram("a", "12GB", &r);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "unknown unit \"GB\""));
	set_vram("a", "500GiB", &r);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "larger than the device"));
	char *bad_name[] = {"set", "not-a-cgroup", "--vram", "1GiB", NULL};
	cli(bad_name, &r);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "is not a tenant"));
	f = fopen(state, "r");
	after[fread(after, 1, sizeof(after) - 1, f)] = '\0';
	fclose(f);
	assert_string_equal(before, after);
	json_object *j = describe("a");
	json_object *devices;
	json_object_object_get_ex(json_object_object_get(j, "tenant"), "devices", &devices);
	assert_int_equal(json_object_get_int64(json_object_object_get(
				 json_object_array_get_idx(devices, 0), "vram_quota")),
			 GiB);
	json_object_put(j);
}

/* Killed with SIGKILL and restarted: quotas come back from the state file,
 * reservations from the re-adopted segment, and the running tenant never
 * lost its quota meanwhile. */
static void test_daemon_restart_loses_nothing(void **state_)
{
	pid_t holder = hold_in("a", "268435456");
	struct run_result r;
	char expected[256];

	daemon_stop(SIGKILL);
	daemon_start();
	json_object *j = describe("a");
	json_object *devices;
	json_object_object_get_ex(json_object_object_get(j, "tenant"), "devices", &devices);
	json_object *dev = json_object_array_get_idx(devices, 0);
	assert_int_equal(json_object_get_int64(json_object_object_get(dev, "vram_quota")), GiB);
	assert_int_equal(json_object_get_int64(json_object_object_get(dev, "vram_used")),
			 256 * MiB);
	json_object_put(j);
	run_in("a", "view", NULL, &r);
	snprintf(expected, sizeof(expected), "cuMemGetInfo %llu %llu\n", GiB - 256 * MiB, GiB);
	assert_int_equal(strncmp(r.out, expected, strlen(expected)), 0);
	stop(holder);
}

static void admin_raw(const char *request, char *reply, size_t size)
{
	struct sockaddr_un addr;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t len = 0;
	ssize_t n;

	socket_address(&addr, runtime, "admin.sock");
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	if (write(fd, request, strlen(request)) < 0)
		fail_msg("write: %s", strerror(errno));
	shutdown(fd, SHUT_WR);
	while (len < size - 1 && (n = read(fd, reply + len, size - 1 - len)) > 0)
		len += (size_t)n;
	reply[len] = '\0';
	close(fd);
}

static void test_malformed_requests(void **state_)
{
	char reply[4096];
	char *big = malloc(70000);

	admin_raw("garbage\n", reply, sizeof(reply));
	assert_non_null(strstr(reply, "\"ok\":false"));
	assert_non_null(strstr(reply, "not a JSON object"));
	admin_raw("{}\n", reply, sizeof(reply));
	assert_non_null(strstr(reply, "has no \\\"op\\\""));
	admin_raw("{\"op\":\"reboot\"}\n", reply, sizeof(reply));
	assert_non_null(strstr(reply, "unknown op \\\"reboot\\\""));
	memset(big, 'x', 69999);
	big[69999] = '\0';
	admin_raw(big, reply, sizeof(reply));
	assert_non_null(strstr(reply, "too large"));
	free(big);

	/* the tenant socket: three bytes are not a hello */
	struct sockaddr_un addr;
	struct cuslice_welcome w = {0};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	socket_address(&addr, runtime, "tenant.sock");
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	assert_true(read(fd, &w, sizeof(w)) >= 12);
	assert_int_equal(w.status, -EPROTO);
	close(fd);

	/* and the daemon carries on */
	admin_raw("{\"op\":\"get-tenants\"}\n", reply, sizeof(reply));
	assert_non_null(strstr(reply, "\"ok\":true"));
}

static void test_run_defers_to_the_daemon(void **state_)
{
	struct run_result r;
	char *args[] = {"run", "--vram", "1GiB", "--", "/bin/true", NULL};

	cli(args, &r);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "cusliced manages quotas on this machine"));
}

/* A daemon that does not answer: CUDA is refused, not run without quota. */
static void test_silent_daemon_fails_closed(void **state_)
{
	struct run_result r;
	char path[4200], env0[4300];
	struct sockaddr_un addr;

	/* a socket that exists but that nobody accepts on */
	snprintf(path, sizeof(path), "%s/dead.sock", runtime);
	socket_address(&addr, path, NULL);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	snprintf(env0, sizeof(env0), "CUSLICE_SOCKET=%s", path);
	char *env[] = {env0, NULL};
	char *argv[] = {(char *)harness_path("INIT_PROBE"), NULL};
	harness_run(argv, env, &r);
	assert_string_equal(r.out, "cuInit: 3\n");
	assert_int_equal(harness_lines(r.err), 1);
	assert_non_null(strstr(r.err, "cusliced does not answer"));
}

static int setup_cgroups(void)
{
	char dir[4096];

	if (geteuid() != 0 || find_cgroup2(cgroup_root, sizeof(cgroup_root)) < 0)
		return -1;
	snprintf(group, sizeof(group), "/cuslice-test-%d", (int)getpid());
	cgroup_dir(NULL, dir, sizeof(dir));
	if (mkdir(dir, 0755) < 0)
		return -1;
	cgroup_dir("a", dir, sizeof(dir));
	if (mkdir(dir, 0755) < 0)
		return -1;
	cgroup_dir("b", dir, sizeof(dir));
	if (mkdir(dir, 0755) < 0)
		return -1;
	cgroup_dir("c", dir, sizeof(dir));
	if (mkdir(dir, 0755) < 0)
		return -1;
	cgroup_dir("d", dir, sizeof(dir));
	return mkdir(dir, 0755);
}

static void teardown_cgroups(void)
{
	char dir[4096];

	cgroup_dir("a", dir, sizeof(dir));
	rmdir(dir);
	cgroup_dir("b", dir, sizeof(dir));
	rmdir(dir);
	cgroup_dir("c", dir, sizeof(dir));
	rmdir(dir);
	cgroup_dir("d", dir, sizeof(dir));
	rmdir(dir);
	cgroup_dir(NULL, dir, sizeof(dir));
	rmdir(dir);
}

static void set_vram_ok(const char *leaf, const char *vram)
{
	struct run_result r;

	set_vram(leaf, vram, &r);
	assert_int_equal(r.status, 0);
}

static void set_opt(const char *leaf, const char *opt, const char *value)
{
	struct run_result r;
	char tenant[512];

	tenant_of(leaf, tenant, sizeof(tenant));
	char *args[] = {"set", tenant, (char *)opt, (char *)value, NULL};
	cli(args, &r);
	if (r.status != 0)
		fail_msg("set %s %s %s: %s", tenant, opt, value, r.err);
}

/* Waits up to 2 s for the tenant to take turns with others, `takers` in all. */
static void wait_for_turns(const char *leaf, int takers)
{
	json_object *turns = NULL, *n;

	for (int i = 0; i < 40 && !turns; i++) {
		usleep(50000);
		json_object *j = describe(leaf), *tenant;
		if (json_object_object_get_ex(j, "tenant", &tenant) &&
		    json_object_object_get_ex(tenant, "turns", &turns) && turns)
			print_message("%s takes turns: %s\n", leaf,
				      json_object_to_json_string(turns));
		turns = turns ? json_object_get(turns) : NULL;
		json_object_put(j);
	}
	assert_non_null(turns);
	assert_true(json_object_object_get_ex(turns, "takers", &n));
	assert_int_equal(json_object_get_int(n), takers);
	json_object_put(turns);
}

/* Weights 3:7 on one (simulated) GPU, both saturating: 30/70, though the
 * GPU loses 150 µs at every switch of contexts (1 ms kernels), since the two
 * take turns rather than interleave; one alone: all of it; a limit: held
 * even alone. */
static void test_gpu_time_shares(void **state_)
{
	char *work[] = {(char *)harness_path("SHARE_WORKLOAD"), "3", "1000", NULL};
	int out_a, out_b;

	set_opt("a", "--weight", "3");
	set_opt("b", "--weight", "7");
	spawn_switch_us = "150";
	pid_t a = spawn_in("a", &out_a, work);
	pid_t b = spawn_in("b", &out_b, work);
	spawn_switch_us = NULL;
	/* saturating for a while, they take turns, as top shows */
	wait_for_turns("b", 2);
	struct run_result r;
	char *top[] = {"top", "-n", "1", NULL};
	cli(top, &r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, " 70%T "));
	double share_a = share_result(a, out_a), share_b = share_result(b, out_b);
	print_message("weights 3:7, both saturating: %.1f%% / %.1f%% of GPU time\n", 100 * share_a,
		      100 * share_b);
	/* interleaved, as before turns, they got 28.1 / 63.5 here (91.6 % in
	 * all); the first ~200 ms still are, and the ±3 point target over a
	 * steady state is the GPU benchmark's (bench/shares) */
	assert_true(share_a > 0.26 && share_a < 0.34);
	assert_true(share_b > 0.65 && share_b < 0.74);
	assert_true(share_a + share_b > 0.94);

	b = spawn_in("b", &out_b, work);
	share_b = share_result(b, out_b);
	print_message("b alone: %.1f%%\n", 100 * share_b);
	assert_true(share_b > 0.85);

	set_opt("a", "--limit", "20%");
	a = spawn_in("a", &out_a, work);
	share_a = share_result(a, out_a);
	print_message("a alone, --limit 20%%: %.1f%%\n", 100 * share_a);
	assert_true(share_a <= 0.21 && share_a > 0.15);
	set_opt("a", "--limit", "none");
	set_opt("a", "--weight", "1");
	set_opt("b", "--weight", "1");
}

/* Four tenants, weights 1:1:2:4, all saturating: 12.5/12.5/25/50. */
static void test_four_tenants(void **state_)
{
	const char *leaves[] = {"a", "b", "c", "d"}, *weights[] = {"1", "1", "2", "4"};
	const double want[] = {0.125, 0.125, 0.25, 0.5};
	char *work[] = {(char *)harness_path("SHARE_WORKLOAD"), "2", "1000", NULL};
	int out[4];
	pid_t pid[4];

	for (int i = 0; i < 4; i++)
		set_opt(leaves[i], "--weight", weights[i]);
	for (int i = 0; i < 4; i++)
		pid[i] = spawn_in(leaves[i], &out[i], work);
	for (int i = 0; i < 4; i++) {
		double got = share_result(pid[i], out[i]);
		print_message("tenant %s, weight %s: %.1f%% of GPU time (want %.1f%%)\n", leaves[i],
			      weights[i], 100 * got, 100 * want[i]);
		assert_true(got > want[i] * 0.6 && got < want[i] * 1.4);
	}
	for (int i = 0; i < 4; i++)
		set_opt(leaves[i], "--weight", "1");
}

/* A tenant's environment cannot swap its quota for one of its own making. */
static void test_env_segment_ignored(void **state_)
{
	struct run_result r;
	char dir[4096], script[8192], expected[128];
	char *env[] = {socket_env, "CUSLICE_SEGMENT=/dev/null", NULL};

	set_vram_ok("a", "1GiB");
	cgroup_dir("a", dir, sizeof(dir));
	snprintf(script, sizeof(script), "echo $$ > %s/cgroup.procs && exec %s view", dir,
		 harness_path("VRAM_WORKLOAD"));
	char *argv[] = {"/bin/sh", "-c", script, NULL};
	harness_run(argv, env, &r);
	snprintf(expected, sizeof(expected), "cuMemGetInfo %llu %llu\n", GiB, GiB);
	assert_int_equal(strncmp(r.out, expected, strlen(expected)), 0);
	assert_non_null(strstr(r.err, "CUSLICE_SEGMENT is ignored"));
}

static void test_top(void **state_)
{
	struct run_result r;
	char *args[] = {"top", "-n", "2", "--interval", "0.2", NULL};

	cli(args, &r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "TENANT"));
	assert_non_null(strstr(r.out, "LAUNCH/S"));
	char tenant[128];
	tenant_of("a", tenant, sizeof(tenant));
	assert_non_null(strstr(r.out, tenant));
	char *bad[] = {"top", "-n", "0", NULL};
	cli(bad, &r);
	assert_int_equal(r.status, 2);
}

struct latency {
	double p50, p99;
};

static struct latency latency_result(pid_t pid, int out)
{
	char text[256] = "";
	struct latency l = {-1, -1};
	int status;

	ssize_t n = read(out, text, sizeof(text) - 1);
	close(out);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	text[n > 0 ? n : 0] = '\0';
	if (sscanf(text, "p50_us %lf p99_us %lf", &l.p50, &l.p99) != 2)
		fail_msg("latency workload failed: %s", text);
	return l;
}

/* A latency-critical tenant's requests (four 100 us kernels, launched 150 us
 * apart, as a framework launches a model's layers more slowly than the GPU
 * runs them) beside a saturating best-effort tenant (1 ms kernels): with
 * priority high, the best-effort tenant keeps one launch on the GPU and holds
 * the next while a request is on the GPU (the board), so a request waits
 * behind the one kernel that was there when it came, not behind one between
 * each two of its kernels. (Without priority, the two share by weight and
 * best effort is paced to half the GPU.) */
static void test_priority_protects_latency(void **state_)
{
	char *lc[] = {(char *)harness_path("SHARE_WORKLOAD"),
		      "latency",
		      "300",
		      "100",
		      "3000",
		      "4",
		      "150",
		      NULL};
	char *be[] = {(char *)harness_path("SHARE_WORKLOAD"), "3", "1000", NULL};
	struct latency alone, normal, high;
	int out, be_out;
	pid_t pid, be_pid;

	pid = spawn_in("c", &out, lc);
	alone = latency_result(pid, out);
	be_pid = spawn_in("d", &be_out, be);
	usleep(300000);
	pid = spawn_in("c", &out, lc);
	normal = latency_result(pid, out);
	double be_normal = share_result(be_pid, be_out);
	set_opt("c", "--priority", "high");
	be_pid = spawn_in("d", &be_out, be);
	usleep(300000);
	pid = spawn_in("c", &out, lc);
	high = latency_result(pid, out);
	json_object *c = describe("c"), *tenant, *slot;
	double be_high = share_result(be_pid, be_out);
	set_opt("c", "--priority", "normal");
	print_message("latency-critical p50/p99: alone %.0f/%.0f us; beside best effort: "
		      "%.0f/%.0f us (best effort %.1f%%), with priority high %.0f/%.0f us (best "
		      "effort %.1f%%)\n",
		      alone.p50, alone.p99, normal.p50, normal.p99, 100 * be_normal, high.p50,
		      high.p99, 100 * be_high);
	if (!json_object_object_get_ex(c, "tenant", &tenant) ||
	    !json_object_object_get_ex(tenant, "board_slot", &slot) ||
	    json_object_get_int(slot) != 1)
		fail_msg("no word on the board: %s", json_object_to_json_string(c));
	assert_int_equal(json_object_get_int(slot), 1);
	json_object_put(c);
	/* the bound priority promises: one best-effort kernel ahead at most (1 ms);
	 * without the board, one slips in between each two of the request's
	 * kernels (measured here: p50 650 us above alone, against 60-90 with it).
	 * The tail only against gross failures (requests behind whole batches of
	 * best effort, 1 ms a kernel): on two shared cores a few requests in a
	 * hundred wait for the CPU, and p99s 1.4 ms and 2.6 ms above alone were
	 * seen with the board working (p50 within 15 us of alone) */
	assert_true(high.p50 < alone.p50 + 400);
	assert_true(high.p99 < alone.p99 + 4000);
	/* and best effort keeps the GPU while no request is on it */
	assert_true(be_high > 0.5);
}

/* A paced process killed mid-run holds nothing the others of its tenant wait
 * for: the survivor goes on to use the tenant's whole share. */
static void test_dead_launcher_stalls_no_one(void **state_)
{
	char *work[] = {(char *)harness_path("SHARE_WORKLOAD"), "3", "1000", NULL};
	int out_victim, out_survivor;

	set_opt("a", "--limit", "50%");
	pid_t victim = spawn_in("a", &out_victim, work);
	pid_t survivor = spawn_in("a", &out_survivor, work);
	usleep(500000);
	kill(victim, SIGKILL);
	waitpid(victim, NULL, 0);
	close(out_victim);
	double share = share_result(survivor, out_survivor);
	print_message(
		"a 50%% tenant of two processes, one killed at 0.5 s: the survivor got %.1f%%\n",
		100 * share);
	assert_true(share > 0.35 && share <= 0.52);
	set_opt("a", "--limit", "none");
}

/* A tenant killed while taking turns, likely in its own turn: the other is
 * kept waiting no longer than the grace and goes on to use the whole GPU. */
static void test_dead_turn_taker(void **state_)
{
	char *work[] = {(char *)harness_path("SHARE_WORKLOAD"), "3", "1000", NULL};
	int out_a, out_b;

	set_opt("a", "--weight", "3");
	set_opt("b", "--weight", "7");
	pid_t a = spawn_in("a", &out_a, work);
	pid_t b = spawn_in("b", &out_b, work);
	wait_for_turns("a", 2);
	kill(b, SIGKILL);
	waitpid(b, NULL, 0);
	close(out_b);
	double share = share_result(a, out_a);
	print_message("3:7, b killed while they took turns: a got %.1f%% over 3 s\n", 100 * share);
	assert_true(share > 0.70);
	set_opt("a", "--weight", "1");
	set_opt("b", "--weight", "1");
}

/* ---- spatial and hybrid modes (fakecuda: 15 groups of 8 SMs and 12 left) ---- */

static json_object *node(void)
{
	struct run_result r;
	char *args[] = {"get", "node", "-o", "json", NULL};

	cli(args, &r);
	if (r.status != 0)
		fail_msg("get node: %s", r.err);
	return json_tokener_parse(r.out);
}

static json_object *at(json_object *o, const char *path)
{
	char key[128];
	const char *dot;

	while (o && (dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = json_object_is_type(o, json_type_array)
			    ? json_object_array_get_idx(o, (size_t)atoi(key))
			    : json_object_object_get(o, key);
		path = dot + 1;
	}
	if (o && json_object_is_type(o, json_type_array))
		return json_object_array_get_idx(o, (size_t)atoi(path));
	return o ? json_object_object_get(o, path) : NULL;
}

static void set_gpu_mode(const char *mode, int expect)
{
	struct run_result r;
	char *args[] = {"set", "gpu", "0", "--mode", (char *)mode, NULL};

	cli(args, &r);
	if (r.status != expect)
		fail_msg("set gpu 0 --mode %s: exit %d: %s", mode, r.status, r.err);
}

static int control_pid(void)
{
	char path[4300];
	int pid = 0;

	snprintf(path, sizeof(path), "%s/mps0/control.pid", runtime);
	FILE *f = fopen(path, "re");
	if (f && fscanf(f, "%d", &pid) != 1)
		pid = 0;
	if (f)
		fclose(f);
	return pid;
}

/* Waits up to `ms` for the MPS control daemon to be other than `old`. */
static int wait_control(int old, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		int pid = control_pid();
		if (pid && pid != old && kill(pid, 0) == 0)
			return pid;
		usleep(10000);
	}
	return 0;
}

/* partition-workload KERNELS 1000 [fault] in cgroup `leaf`: its output. */
static pid_t partition_in(const char *leaf, const char *kernels, bool fault, int *out)
{
	char *argv[] = {(char *)harness_path("PARTITION_WORKLOAD"), (char *)kernels, "1000",
			fault ? "fault" : NULL, NULL};
	return spawn_in(leaf, out, argv);
}

static void partition_result(pid_t pid, int out, char *text, size_t size)
{
	size_t n = 0;
	ssize_t r;

	while (n + 1 < size && (r = read(out, text + n, size - n - 1)) > 0)
		n += (size_t)r;
	text[n] = '\0';
	close(out);
	waitpid(pid, NULL, 0);
}

/* A fault in a client of tenant a beside a running client of b: the MPS
 * server is restarted within 5 s. a's output in `text`. */
static void fault_beside_b(char *text, size_t size)
{
	char victim_text[1024];
	int out_a, out_b;
	int old = control_pid();

	pid_t victim = partition_in("b", "400", false, &out_b);
	usleep(100000);
	pid_t culprit = partition_in("a", "1", true, &out_a);
	partition_result(culprit, out_a, text, size);
	assert_true(wait_control(old, 5000) > 0);
	partition_result(victim, out_b, victim_text, sizeof(victim_text));
}

/* partition-workload KERNELS 1000 in tenants a and b at once: their outputs. */
static void side_by_side(const char *kernels, char text[2][1024])
{
	int out[2];
	pid_t pa = partition_in("a", kernels, false, &out[0]);
	pid_t pb = partition_in("b", kernels, false, &out[1]);

	partition_result(pa, out[0], text[0], sizeof(text[0]));
	partition_result(pb, out[1], text[1], sizeof(text[1]));
}

/* Spatial mode: cusliced runs the MPS control daemon for the GPU, tenants
 * asking for SMs get disjoint groups and run at once, an ask that does not
 * fit is refused with the reason and changes nothing, tenants without an
 * ask share the groups left. */
static void test_spatial_partitions(void **state_)
{
	struct run_result r;
	char tenant[512], text[2][1024];
	int out[2];

	set_gpu_mode("spatial", 0);
	int control = wait_control(0, 3000);
	assert_true(control > 0);
	json_object *n = node();
	assert_string_equal(json_object_get_string(at(n, "gpus.0.mode")), "spatial");
	assert_int_equal(json_object_get_int(at(n, "gpus.0.sm_groups")), 15);
	assert_int_equal(json_object_get_int(at(n, "gpus.0.sm_remainder")), 12);
	assert_true(json_object_get_boolean(at(n, "gpus.0.mps.running")));
	json_object_put(n);
	char env_path[4300], env_text[8192] = "";
	snprintf(env_path, sizeof(env_path), "%s/mps0/control.env", runtime);
	FILE *f = fopen(env_path, "re");
	assert_non_null(f);
	size_t len = fread(env_text, 1, sizeof(env_text) - 1, f);
	env_text[len] = '\0';
	fclose(f);
	assert_non_null(strstr(env_text, "CUDA_VISIBLE_DEVICES=GPU-"));
	assert_non_null(strstr(env_text, "CUDA_MPS_LOG_DIRECTORY="));
	/* a tenant known before the switch joins the server at once */
	json_object *dd = describe("d");
	assert_non_null(strstr(json_object_get_string(at(dd, "tenant.sm.mps_pipe")), "/mps0"));
	json_object_put(dd);

	set_opt("a", "--sm", "56");
	set_opt("b", "--sm", "50%"); /* 66 SMs: 8 groups nearest */
	json_object *da = describe("a"), *db = describe("b");
	assert_int_equal(json_object_get_int(at(da, "tenant.sm.partitions.0.sms")), 56);
	assert_int_equal(json_object_get_int(at(db, "tenant.sm.partitions.0.sms")), 64);
	assert_true(json_object_get_boolean(at(da, "tenant.sm.partitions.0.dedicated")));
	assert_string_equal(json_object_get_string(at(da, "tenant.sm.partitions.0.groups")), "0-6");
	assert_string_equal(json_object_get_string(at(db, "tenant.sm.partitions.0.groups")),
			    "7-14");
	json_object_put(da);
	json_object_put(db);

	/* no room for 24 more SMs: refused, nothing changed */
	tenant_of("c", tenant, sizeof(tenant));
	char *over[] = {"set", tenant, "--sm", "24", NULL};
	cli(over, &r);
	assert_int_not_equal(r.status, 0);
	assert_non_null(strstr(r.err, "the asks need 18 groups of 8 SMs; the GPU has 15"));
	json_object *dc = describe("c");
	assert_string_equal(json_object_get_string(at(dc, "tenant.sm.asked")), "none");
	/* c asked for nothing: it shares what is left, the 12-SM remainder */
	assert_int_equal(json_object_get_int(at(dc, "tenant.sm.partitions.0.sms")), 12);
	json_object_put(dc);

	/* a and b at once: each on its own SMs, as fast as alone (MPS), and not
	 * paced by shares of GPU time, which they do not share */
	side_by_side("200", text);
	assert_int_equal((int)harness_value(text[0], "sms"), 56);
	assert_int_equal((int)harness_value(text[1], "sms"), 64);
	double alone_a = 200 * 1.0 * 132 / 56, alone_b = 200 * 1.0 * 132 / 64;
	assert_true(harness_value(text[0], "wall_ms") < alone_a * 1.3);
	assert_true(harness_value(text[1], "wall_ms") < alone_b * 1.3);
	assert_int_equal((int)harness_value(text[0], "green_create"), 800);
	/* launching steadily side by side, neither is paced by a share of GPU
	 * time: each keeps its SMs busy (kernels of 1 ms on the whole GPU take
	 * 132/56 ms on 56 SMs, so busy all the time is 0.42) */
	char *work[] = {(char *)harness_path("SHARE_WORKLOAD"), "1", "1000", NULL};
	pid_t pa = spawn_in("a", &out[0], work);
	pid_t pb = spawn_in("b", &out[1], work);
	double share_a = share_result(pa, out[0]), share_b = share_result(pb, out[1]);
	assert_true(share_a > 0.9 * 56 / 132);
	assert_true(share_b > 0.9 * 64 / 132);
}

static double monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Reads `out` into `text` until it holds `line` (false after 5 s). */
static bool read_until(int out, char *text, size_t size, size_t *n, const char *line)
{
	for (double end = monotonic_ms() + 5000; !strstr(text, line);) {
		struct pollfd p = {.fd = out, .events = POLLIN};
		ssize_t r;
		if (monotonic_ms() > end || poll(&p, 1, 100) < 0)
			return false;
		if (p.revents && (r = read(out, text + *n, size - *n - 1)) <= 0)
			return false;
		if (p.revents)
			text[ *n += (size_t)r] = '\0';
	}
	return true;
}

/* A running process follows its tenant's new grant: launches on a stream it
 * made and on the legacy and per-thread streams run on the new groups from
 * then on (within a tick of the daemon's, here; the GPU bench measures how
 * soon), through the same context handle, and cusliced sees every process
 * moved. Graphs move too: one instantiated before the move (as its copy,
 * instantiated again in the new context), and one instantiated after it;
 * one whose node was set again in its executable graph keeps its groups. A
 * thread started after the move runs on the new groups from the start.
 * With `functions_stay`, fakecuda refuses kernels (and graphs) in another
 * context than their module's: they are launched where they were, and
 * nothing fails.
 * With `kept`, cusliced runs with --move-running off: the process keeps its
 * groups. */
static void moves_with(bool functions_stay, bool kept)
{
	static const char *const kinds[] = {"stream",	 "legacy",	 "per_thread", "graph",
					    "graph_new", "graph_edited", "new_thread"};
	char text[4096] = "", key[64];
	size_t n = 0;
	int out;

	if (functions_stay)
		setenv("FAKECUDA_FUNCTIONS_STAY", "1", 1);
	set_opt("a", "--sm", "16");
	char *argv[] = {
		(char *)harness_path("PARTITION_WORKLOAD"), "1", "50", "follow", "1500", NULL};
	pid_t pid = spawn_in("a", &out, argv);
	unsetenv("FAKECUDA_FUNCTIONS_STAY");
	bool started = read_until(out, text, sizeof(text), &n, "following");
	usleep(200000);
	double asked = monotonic_ms();
	set_opt("a", "--sm", "40");
	double granted = monotonic_ms();
	partition_result(pid, out, text + n, sizeof(text) - n);
	json_object *da = describe("a");
	set_opt("a", "--sm", "56"); /* as the tests after this one expect */
	if (!started)
		fail_msg("partition-workload did not start following: %s", text);
	for (int k = 0; k < 7; k++) {
		snprintf(key, sizeof(key), "%s_first", kinds[k]);
		unsigned first = (unsigned)harness_value(text, key);
		snprintf(key, sizeof(key), "%s_last", kinds[k]);
		unsigned last = (unsigned)harness_value(text, key);
		snprintf(key, sizeof(key), "%s_moved_at_ms", kinds[k]);
		double at = harness_value(text, key);
		if (k == 6 && functions_stay) /* its kernel is refused in the new context */
			continue;
		if (k == 5 || functions_stay || kept) { /* edited, refused, or not moved */
			assert_int_equal(last, first);
			assert_int_equal(__builtin_popcount(first), 2);
			continue;
		}
		if (__builtin_popcount(first) != 2 || __builtin_popcount(last) != 5)
			fail_msg("%s: groups %#x before and %#x after, not 2 and 5:\n%s", kinds[k],
				 first, last, text);
		assert_true(at >= asked);
		assert_true(at < granted + 1000);
	}
	assert_int_equal((int)harness_value(text, "context_kept"), 1);
	assert_int_equal((int)harness_value(text, "sync_stream"), 0);
	assert_int_equal((int)harness_value(text, "sync_context"), 0);
	assert_int_equal(json_object_get_int(at(da, "tenant.sm.partitions.0.sms")), 40);
	assert_int_equal(json_object_get_int(at(da, "tenant.sm.moving")), 0);
	assert_int_equal(json_object_get_int(at(da, "tenant.sm.last_move.processes")),
			 kept ? 0 : 1);
	assert_true(json_object_get_double(at(da, "tenant.sm.last_move.ms")) < 1000);
	json_object_put(da);
}

static void test_running_process_moves(void **state_)
{
	moves_with(false, false);
	moves_with(true, false);
}

/* The legacy stream's implicit synchronisation in a partition. fakecuda, as
 * an H100, keeps none in a green context, so each pattern is ordered only by
 * the shim's events: a blocking stream then the legacy stream (a kernel, a
 * synchronous copy, an event record), the legacy stream then a blocking
 * stream, the per-thread stream both ways (also once the blocking streams
 * are gone). A non-blocking stream, the control, stays unordered. */
static void test_legacy_stream_order(void **state_)
{
	static const char *const ordered[] = {
		"blocking_legacy",   "legacy_blocking",	  "copy",	   "event",
		"per_thread_legacy", "legacy_per_thread", "after_destroy", "batch_legacy"};
	char text[2048];
	int out;
	char *argv[] = {(char *)harness_path("PARTITION_WORKLOAD"), "1", "50", "order", NULL};

	pid_t pid = spawn_in("a", &out, argv);
	partition_result(pid, out, text, sizeof(text));
	if (harness_value(text, "sms") != 56)
		fail_msg("not in its 56-SM partition:\n%s", text);
	for (size_t i = 0; i < sizeof(ordered) / sizeof(ordered[0]); i++)
		if (harness_value(text, ordered[i]) != 1)
			fail_msg("%s: not ordered in a partition:\n%s", ordered[i], text);
	assert_int_equal((int)harness_value(text, "control"), 0);
	/* 101 launches across one change of hands: the legacy stream's event
	 * for the blocking stream's first, the blocking stream's for the last,
	 * and the few the gate records to time kernels; not one per launch */
	if (harness_value(text, "batch_records") > 10)
		fail_msg("events recorded after each launch:\n%s", text);
}

/* cusliced --move-running off: a changed grant is for new processes only. */
static void test_running_process_kept(void **state_)
{
	daemon_stop(SIGTERM);
	daemon_moves = false;
	daemon_start();
	moves_with(false, true);
	daemon_stop(SIGTERM);
	daemon_moves = true;
	daemon_start();
}

/* The control daemon killed: started again within a tick or two. */
static void test_mps_restarted(void **state_)
{
	int old = control_pid();

	assert_true(old > 0);
	kill(old, SIGKILL);
	int pid = wait_control(old, 3000);
	assert_true(pid > 0);
	json_object *n = node();
	assert_true(json_object_get_int(at(n, "gpus.0.mps.restarts")) >= 1);
	json_object_put(n);
}

/* A fatal fault in one MPS client ends the others: cusliced restarts the
 * server, names the tenants it hit, and counts it. */
static void test_mps_fault(void **state_)
{
	char text[1024];
	json_object *n = node();
	int faults = json_object_get_int(at(n, "gpus.0.mps.faults"));
	json_object_put(n);

	fault_beside_b(text, sizeof(text));
	assert_int_equal((int)harness_value(text, "sync_rc"), 700); /* an illegal address */
	n = node();
	assert_int_equal(json_object_get_int(at(n, "gpus.0.mps.faults")), faults + 1);
	const char *last = json_object_get_string(at(n, "gpus.0.mps.last_fault"));
	char tenant[512];
	tenant_of("a", tenant, sizeof(tenant));
	assert_non_null(strstr(last, tenant));
	assert_non_null(strstr(last, "CUDA error 700"));
	assert_non_null(strstr(last, "which of its 2 clients caused it MPS does not say"));
	json_object_put(n);
	/* both suspects are out of the server; their SMs are kept for them */
	for (const char *leaf = "a"; leaf; leaf = *leaf == 'a' ? "b" : NULL) {
		json_object *dt = describe(leaf);
		assert_true(json_object_get_boolean(at(dt, "tenant.sm.probation")));
		assert_string_equal(json_object_get_string(at(dt, "tenant.sm.mps_pipe")), "");
		assert_true(json_object_get_boolean(at(dt, "tenant.sm.partitions.0.dedicated")));
		json_object_put(dt);
	}
	struct run_result r;
	char *get[] = {"get", "tenants", NULL};
	cli(get, &r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "on probation"));
}

/* A suspect that faults again in a context of its own, where its fault hits
 * no one else, is named as the likely cause and isolated; the other suspect
 * rejoins the server at once. The server's only client is the cause of its
 * fault. The admin may end a probation. */
static void test_mps_fault_cause(void **state_)
{
	char text[1024], tenant[512];
	int out;
	json_object *n = node();
	int faults = json_object_get_int(at(n, "gpus.0.mps.faults"));
	json_object_put(n);

	pid_t p = partition_in("a", "1", true, &out);
	partition_result(p, out, text, sizeof(text));
	assert_int_equal((int)harness_value(text, "sync_rc"), 700);
	assert_int_equal((int)harness_value(text, "sms"), 132); /* the whole GPU, time-sliced */
	bool isolated = false;
	for (int i = 0; i < 250 && !isolated; i++) {
		json_object *da = describe("a");
		isolated = json_object_get_boolean(at(da, "tenant.sm.isolated"));
		json_object_put(da);
		if (!isolated)
			usleep(20000);
	}
	assert_true(isolated);
	json_object *da = describe("a"), *db = describe("b");
	assert_false(json_object_get_boolean(at(da, "tenant.sm.probation")));
	assert_false(json_object_get_boolean(at(db, "tenant.sm.probation")));
	assert_non_null(strstr(json_object_get_string(at(db, "tenant.sm.mps_pipe")), "/mps0"));
	json_object_put(da);
	json_object_put(db);
	n = node();
	assert_int_equal(json_object_get_int(at(n, "gpus.0.mps.faults")), faults); /* no new one */
	tenant_of("a", tenant, sizeof(tenant));
	const char *last = json_object_get_string(at(n, "gpus.0.mps.last_fault"));
	char cause[600];
	snprintf(cause, sizeof(cause), "likely cause: %s, which faulted again", tenant);
	assert_non_null(strstr(last, cause));
	json_object_put(n);
	set_opt("a", "--isolated", "off");
	da = describe("a");
	assert_non_null(strstr(json_object_get_string(at(da, "tenant.sm.mps_pipe")), "/mps0"));
	json_object_put(da);

	/* the server's only client: the cause, with no probation needed (a
	 * second after the last fault, whose reports a second covers) */
	usleep(1100000);
	int old = control_pid();
	p = partition_in("a", "1", true, &out);
	partition_result(p, out, text, sizeof(text));
	assert_true(wait_control(old, 5000) > 0);
	n = node();
	snprintf(cause, sizeof(cause), "%s, the server's only client, caused it", tenant);
	assert_non_null(strstr(json_object_get_string(at(n, "gpus.0.mps.last_fault")), cause));
	json_object_put(n);
	da = describe("a");
	assert_false(json_object_get_boolean(at(da, "tenant.sm.probation")));
	json_object_put(da);

	/* two clients again; the admin may end a suspect's probation */
	usleep(1100000);
	fault_beside_b(text, sizeof(text));
	db = describe("b");
	assert_true(json_object_get_boolean(at(db, "tenant.sm.probation")));
	json_object_put(db);
	set_opt("b", "--isolated", "off");
	set_opt("a", "--isolated", "off");
	da = describe("a");
	db = describe("b");
	assert_false(json_object_get_boolean(at(da, "tenant.sm.probation")));
	assert_false(json_object_get_boolean(at(db, "tenant.sm.probation")));
	assert_non_null(strstr(json_object_get_string(at(db, "tenant.sm.mps_pipe")), "/mps0"));
	json_object_put(da);
	json_object_put(db);
}

/* An isolated tenant never joins the MPS server: the whole GPU, time-sliced. */
static void test_isolated_tenant(void **state_)
{
	char text[1024];
	int out;

	set_opt("d", "--isolated", "on");
	json_object *dd = describe("d");
	assert_true(json_object_get_boolean(at(dd, "tenant.sm.isolated")));
	assert_string_equal(json_object_get_string(at(dd, "tenant.sm.mps_pipe")), "");
	assert_int_equal(json_object_array_length(at(dd, "tenant.sm.partitions")), 0);
	json_object_put(dd);
	pid_t p = partition_in("d", "1", false, &out);
	partition_result(p, out, text, sizeof(text));
	assert_int_equal((int)harness_value(text, "sms"), 132);
	set_opt("d", "--isolated", "off");
}

/* Hybrid: only high-priority tenants keep SMs of their own; the others share
 * the rest. Modes and grants survive a daemon restart. */
static void test_hybrid_and_restart(void **state_)
{
	char text[2][1024];

	set_opt("a", "--priority", "high");
	set_gpu_mode("hybrid", 0);
	json_object *da = describe("a"), *db = describe("b");
	assert_string_equal(json_object_get_string(at(da, "tenant.sm.partitions.0.groups")), "0-6");
	assert_false(json_object_get_boolean(at(db, "tenant.sm.partitions.0.dedicated")));
	assert_int_equal(json_object_get_int(at(db, "tenant.sm.partitions.0.sms")), 8 * 8 + 12);
	json_object_put(da);
	json_object_put(db);
	side_by_side("1", text);
	assert_int_equal((int)harness_value(text[0], "sms"), 56);
	assert_int_equal((int)harness_value(text[1], "sms"), 8 * 8 + 12);

	/* killed: the MPS control daemon and its clients stay, and are adopted */
	int control = control_pid();
	daemon_stop(SIGKILL);
	daemon_start();
	json_object *n = node();
	assert_string_equal(json_object_get_string(at(n, "gpus.0.mode")), "hybrid");
	assert_int_equal(json_object_get_int(at(n, "gpus.0.mps.pid")), control);
	json_object_put(n);
	usleep(300000);
	assert_int_equal(control_pid(), control); /* not restarted either */
	da = describe("a");
	assert_string_equal(json_object_get_string(at(da, "tenant.sm.partitions.0.groups")), "0-6");
	json_object_put(da);
	set_opt("a", "--priority", "normal");
}

static void test_bad_spatial_values(void **state_)
{
	struct run_result r;
	char tenant[512];

	set_gpu_mode("fast", 1);
	char *bad_gpu[] = {"set", "gpu", "7", "--mode", "spatial", NULL};
	cli(bad_gpu, &r);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "give a GPU index from 0 to 0"));
	tenant_of("a", tenant, sizeof(tenant));
	const char *cases[][2] = {{"--sm", "0"}, {"--sm", "lots"}, {"--isolated", "maybe"}};
	for (size_t i = 0; i < 3; i++) {
		char *args[] = {"set", tenant, (char *)cases[i][0], (char *)cases[i][1], NULL};
		cli(args, &r);
		assert_int_equal(r.status, 1);
		assert_non_null(strstr(r.err, cases[i][1]));
	}
	json_object *da = describe("a");
	assert_string_equal(json_object_get_string(at(da, "tenant.sm.asked")), "56");
	json_object_put(da);
	/* back to time-slicing: the server stops and the partitions go */
	int old = control_pid();
	set_gpu_mode("timeslice", 0);
	for (int i = 0; i < 300 && kill(old, 0) == 0; i++)
		usleep(10000);
	assert_int_not_equal(kill(old, 0), 0);
	da = describe("a");
	assert_int_equal(json_object_array_length(at(da, "tenant.sm.partitions")), 0);
	json_object_put(da);
	set_opt("a", "--sm", "none");
	set_opt("b", "--sm", "none");
	/* a probation that is not a number of seconds: cusliced does not start */
	char *probation[] = {(char *)harness_path("CUSLICED"), "--fault-probation", "10m", NULL};
	harness_run(probation, NULL, &r);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "--fault-probation \"10m\": use a number of seconds"));
	/* running processes follow their partitions, or not: nothing else */
	char *move[] = {(char *)harness_path("CUSLICED"), "--move-running", "yes", NULL};
	harness_run(move, NULL, &r);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "--move-running \"yes\": use on or off"));
}

/* The fine split (groups that ignore co-scheduling: 33 of 4 SMs on the
 * simulated H200): asks are granted to 4 SMs, tenants run on exactly those,
 * side by side; the split changes only while the GPU is time-sliced, and
 * survives a restart. */
static void test_fine_split(void **state_)
{
	struct run_result r;
	char text[2][1024];
	char *both[] = {"set", "gpu", "0", "--mode", "spatial", "--sm-split", "fine", NULL};

	cli(both, &r);
	if (r.status != 0)
		fail_msg("set gpu 0 --mode spatial --sm-split fine: %s", r.err);
	assert_non_null(strstr(r.out, "33 groups of 4 and 0 left over (fine split)"));
	json_object *n = node();
	assert_string_equal(json_object_get_string(at(n, "gpus.0.sm_split")), "fine");
	assert_int_equal(json_object_get_int(at(n, "gpus.0.sm_group")), 4);
	assert_int_equal(json_object_get_int(at(n, "gpus.0.sm_groups")), 33);
	json_object_put(n);

	set_opt("a", "--sm", "12");  /* 1.5 coarse groups; 3 fine ones */
	set_opt("b", "--sm", "15%"); /* 19.8 SMs: 5 groups */
	json_object *da = describe("a"), *db = describe("b");
	assert_int_equal(json_object_get_int(at(da, "tenant.sm.partitions.0.sms")), 12);
	assert_int_equal(json_object_get_int(at(db, "tenant.sm.partitions.0.sms")), 20);
	assert_string_equal(json_object_get_string(at(da, "tenant.sm.partitions.0.groups")), "0-2");
	assert_string_equal(json_object_get_string(at(db, "tenant.sm.partitions.0.groups")), "3-7");
	json_object_put(da);
	json_object_put(db);
	side_by_side("100", text);
	assert_int_equal((int)harness_value(text[0], "sms"), 12);
	assert_int_equal((int)harness_value(text[1], "sms"), 20);
	/* on disjoint SMs at once: each as fast as alone on its own */
	assert_true(harness_value(text[0], "wall_ms") < 100 * 132.0 / 12 * 1.3);
	assert_true(harness_value(text[1], "wall_ms") < 100 * 132.0 / 20 * 1.3);

	/* not while partitions of the split are in force */
	char *coarse[] = {"set", "gpu", "0", "--sm-split", "coscheduled", NULL};
	cli(coarse, &r);
	assert_int_not_equal(r.status, 0);
	assert_non_null(strstr(r.err, "set it to timeslice first; nothing changed"));
	char *bad[] = {"set", "gpu", "0", "--sm-split", "finest", NULL};
	cli(bad, &r);
	assert_int_not_equal(r.status, 0);
	assert_non_null(strstr(r.err, "sm_split \"finest\": use coscheduled"));

	daemon_stop(SIGKILL);
	daemon_start();
	n = node();
	assert_string_equal(json_object_get_string(at(n, "gpus.0.sm_split")), "fine");
	json_object_put(n);
	da = describe("a");
	assert_int_equal(json_object_get_int(at(da, "tenant.sm.partitions.0.sms")), 12);
	json_object_put(da);

	set_opt("a", "--sm", "none");
	set_opt("b", "--sm", "none");
	char *back[] = {"set",	     "gpu",	   "0",		  "--mode",
			"timeslice", "--sm-split", "coscheduled", NULL};
	cli(back, &r);
	if (r.status != 0)
		fail_msg("back to timeslice, coscheduled: %s", r.err);
}

/* A cuslice.io/sm claim (the device plugin's) on a GPU in spatial mode: SMs of
 * the tenant's own, from the first process that presents it, not paced. */
static void test_sm_claim(void **state_)
{
	char reply[1024], path[4200], text[1024], env[4300];
	int out;

	set_gpu_mode("spatial", 0);
	admin_raw("{\"op\": \"claim\", \"resource\": \"sm\", \"gpus\": {\"0\": 30}}", reply,
		  sizeof(reply));
	json_object *j = json_tokener_parse(reply);
	const char *id = json_object_get_string(at(j, "claim"));
	assert_non_null(id);
	snprintf(path, sizeof(path), "%s/claim-c", harness_tmpdir());
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	fprintf(f, "%s\n", id);
	fclose(f);
	json_object_put(j);
	snprintf(env, sizeof(env), "%s", path);
	setenv("CUSLICE_CLAIMS", env, 1);
	pid_t p = partition_in("c", "1", false, &out);
	unsetenv("CUSLICE_CLAIMS");
	partition_result(p, out, text, sizeof(text));
	assert_int_equal((int)harness_value(text, "sms"), 40); /* 30 % of 132: 5 groups */
	json_object *dc = describe("c");
	assert_true(json_object_get_boolean(at(dc, "tenant.sm.partitions.0.dedicated")));
	json_object_put(dc);
	set_opt("c", "--sm", "none");
	set_gpu_mode("timeslice", 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_quota_follows_the_cgroup, stop_holders),
		cmocka_unit_test_teardown(test_running_tenant_is_accounted, stop_holders),
		cmocka_unit_test_teardown(test_bad_set_changes_nothing, stop_holders),
		cmocka_unit_test_teardown(test_daemon_restart_loses_nothing, stop_holders),
		cmocka_unit_test_teardown(test_malformed_requests, stop_holders),
		cmocka_unit_test_teardown(test_run_defers_to_the_daemon, stop_holders),
		cmocka_unit_test_teardown(test_silent_daemon_fails_closed, stop_holders),
		cmocka_unit_test_teardown(test_gpu_time_shares, stop_holders),
		cmocka_unit_test_teardown(test_four_tenants, stop_holders),
		cmocka_unit_test_teardown(test_env_segment_ignored, stop_holders),
		cmocka_unit_test_teardown(test_top, stop_holders),
		cmocka_unit_test_teardown(test_priority_protects_latency, stop_holders),
		cmocka_unit_test_teardown(test_dead_launcher_stalls_no_one, stop_holders),
		cmocka_unit_test_teardown(test_dead_turn_taker, stop_holders),
		cmocka_unit_test_teardown(test_spatial_partitions, stop_holders),
		cmocka_unit_test_teardown(test_running_process_moves, stop_holders),
		cmocka_unit_test(test_legacy_stream_order),
		cmocka_unit_test_teardown(test_running_process_kept, stop_holders),
		cmocka_unit_test_teardown(test_mps_restarted, stop_holders),
		cmocka_unit_test_teardown(test_mps_fault, stop_holders),
		cmocka_unit_test(test_mps_fault_cause),
		cmocka_unit_test_teardown(test_isolated_tenant, stop_holders),
		cmocka_unit_test_teardown(test_hybrid_and_restart, stop_holders),
		cmocka_unit_test_teardown(test_bad_spatial_values, stop_holders),
		cmocka_unit_test_teardown(test_sm_claim, stop_holders),
		cmocka_unit_test_teardown(test_fine_split, stop_holders),
	};

	if (setup_cgroups() < 0) {
		printf("test-daemon: needs root and a writable cgroup v2 hierarchy: skipped\n");
		teardown_cgroups();
		return 77;
	}
	snprintf(runtime, sizeof(runtime), "%s/run", harness_tmpdir());
	snprintf(state, sizeof(state), "%s/state.json", harness_tmpdir());
	snprintf(admin_env, sizeof(admin_env), "CUSLICE_ADMIN_SOCKET=%s/admin.sock", runtime);
	snprintf(socket_env, sizeof(socket_env), "CUSLICE_SOCKET=%s/tenant.sock", runtime);
	setenv("LD_LIBRARY_PATH", harness_path("FAKECUDA_DIR"), 1); /* for the daemon */
	daemon_start();
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	if (daemon_pid)
		daemon_stop(SIGTERM);
	teardown_cgroups();
	return failed;
}
