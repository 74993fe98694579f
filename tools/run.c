/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cuslice run: run a command with the shim preloaded into its whole process
 * tree. This is the embedded default: no daemon is needed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "devices.h"
#include "policy/pace.h"
#include "policy/size.h"
#include "profile.h"
#include "run.h"
#include "shim-path.h"
#include "stats-summary.h"
#include "policy/smplan.h"
#include "tenant-segment.h"

/* How far a paced command may run ahead of its share: a few kernels. */
#define RUN_BURST_NS 4000000ull

static const char run_usage[] =
	"Usage: cuslice run [OPTIONS] -- COMMAND [ARGS...]\n"
	"\n"
	"Run COMMAND with libcuslice.so preloaded into it and every process it starts.\n"
	"\n"
	"Options:\n"
	"      --vram SIZE      hard limit on device memory for COMMAND and every process it\n"
	"                       starts, together: 8GiB, 512MiB, 1.5GiB, a number of bytes,\n"
	"                       or 50% of the device; per device: 0=20GiB,1=10GiB (devices\n"
	"                       left out get none). Applications see SIZE as the device's\n"
	"                       memory (cudaMemGetInfo, torch.cuda.mem_get_info, NVML).\n"
	"      --device N       give COMMAND only GPU N (it sees it as device 0)\n"
	"      --limit P%       keep the GPU busy with COMMAND's kernels at most P% of the\n"
	"                       time, even when nothing else runs: launches are paced by\n"
	"                       their GPU time, measured as they run\n"
	"      --sm N|P%        run COMMAND's kernels on N SMs (or P% of them) of their own:\n"
	"                       whole groups of the driver's SM split (8 SMs on Hopper), the\n"
	"                       nearest to the ask; the 12 SMs an H200 leaves over are\n"
	"                       granted where nearer. Under MPS (CUDA_MPS_PIPE_DIRECTORY),\n"
	"                       tenants on other groups run at the same time\n"
	"      --sm-groups LIST the split's groups by number instead: 0-6, 0,2,4,\n"
	"                       7-13,remainder (to pin tenants or compare placements)\n"
	"      --profile FILE   charge COMMAND's kernels what a profile recorded by\n"
	"                       `cuslice profile` says they cost alone (never less), so\n"
	"                       that --limit holds to P% of what COMMAND does alone\n"
	"      --summary        when COMMAND exits, print what the shim saw (kernels run,\n"
	"                       graph launches, allocations, launch paths) on stderr\n"
	"      --stats-dir DIR  keep each process's counters as DIR/stats.<pid>.json\n"
	"  -h, --help           show this help\n"
	"\n"
	"The exit status is COMMAND's; 128+N if a signal N ended it; 127 if it could\n"
	"not be found, 126 if it could not be run; 2 for a usage error of cuslice's own.\n";

struct run_options {
	const char *vram;
	const char *limit;
	const char *device;
	bool summary;
	const char *stats_dir;
	const char *profile;
	const char *sm, *sm_groups;
	char **command;
};

static int parse(int argc, char **argv, struct run_options *ret)
{
	static const struct option longopts[] = {
		{"vram", required_argument, NULL, 'v'},
		{"limit", required_argument, NULL, 'l'},
		{"device", required_argument, NULL, 'D'},
		{"summary", no_argument, NULL, 's'},
		{"profile", required_argument, NULL, 'p'},
		{"sm", required_argument, NULL, 'S'},
		{"sm-groups", required_argument, NULL, 'G'},
		{"stats-dir", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct run_options o = {0};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			o.vram = optarg;
			break;
		case 'l':
			o.limit = optarg;
			break;
		case 'D':
			o.device = optarg;
			break;
		case 's':
			o.summary = true;
			break;
		case 'p':
			o.profile = optarg;
			break;
		case 'S':
			o.sm = optarg;
			break;
		case 'G':
			o.sm_groups = optarg;
			break;
		case 'd':
			o.stats_dir = optarg;
			break;
		case 'h':
			fputs(run_usage, stdout);
			return 1;
		default:
			fprintf(stderr,
				"cuslice run: unknown option \"%s\"; see cuslice run --help\n",
				argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (o.sm && o.sm_groups) {
		fprintf(stderr, "cuslice run: give --sm or --sm-groups, not both\n");
		return -EINVAL;
	}
	if (optind >= argc) {
		fprintf(stderr, "cuslice run: no command given; use: cuslice run [OPTIONS] -- "
				"COMMAND [ARGS...]\n");
		return -EINVAL;
	}
	o.command = argv + optind;
	*ret = o;
	return 0;
}

static int prepare_stats_dir(const struct run_options *o, char *dir, size_t size)
{
	if (o->stats_dir) {
		if (mkdir(o->stats_dir, 0755) < 0 && errno != EEXIST) {
			fprintf(stderr, "cuslice run: --stats-dir \"%s\": %s\n", o->stats_dir,
				strerror(errno));
			return -errno;
		}
		if (!realpath(o->stats_dir, dir)) {
			fprintf(stderr, "cuslice run: --stats-dir \"%s\": %s\n", o->stats_dir,
				strerror(errno));
			return -errno;
		}
		return 0;
	}
	snprintf(dir, size, "%s/cuslice-run.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "cuslice run: cannot make a directory for the stats in %s: %s\n",
			dir, strerror(errno));
		return -errno;
	}
	return 0;
}

/* LD_PRELOAD=<shim> in front of whatever the caller preloads already. */
int run_set_preload(const char *shim)
{
	const char *old = getenv("LD_PRELOAD");
	char *value;

	if (old && *old) {
		if (asprintf(&value, "%s %s", shim, old) < 0)
			return -ENOMEM;
	} else if (!(value = strdup(shim))) {
		return -ENOMEM;
	}
	int r = setenv("LD_PRELOAD", value, 1);
	free(value);
	return r < 0 ? -errno : 0;
}

/* CUDA_VISIBLE_DEVICES naming only GPU `index` of those this process sees. */
static int select_device(unsigned long index)
{
	const char *visible = getenv("CUDA_VISIBLE_DEVICES");
	char value[256];

	if (visible && *visible) {
		char list[1024], *save = NULL, *item;
		snprintf(list, sizeof(list), "%s", visible);
		item = strtok_r(list, ",", &save);
		for (unsigned long i = 0; item && i < index; i++)
			item = strtok_r(NULL, ",", &save);
		if (!item)
			return -ENODEV;
		snprintf(value, sizeof(value), "%s", item);
	} else {
		snprintf(value, sizeof(value), "%lu", index);
	}
	return setenv("CUDA_VISIBLE_DEVICES", value, 1) < 0 ? -errno : 0;
}

static int parse_device(const char *text, int count, unsigned long *ret)
{
	char *end;

	errno = 0;
	unsigned long n = strtoul(text, &end, 10);
	if (!*text || *end || errno || text[0] == '-' || text[0] == '+') {
		fprintf(stderr,
			"cuslice run: --device \"%s\": not a GPU index; give a number from 0 "
			"to %d\n",
			text, count - 1);
		return -EINVAL;
	}
	if (n >= (unsigned long)count) {
		fprintf(stderr,
			"cuslice run: --device \"%s\": there is no GPU %lu; this machine has "
			"%d (0 to %d)\n",
			text, n, count, count - 1);
		return -ENODEV;
	}
	*ret = n;
	return 0;
}

/* --sm, --sm-groups: the partition on each of the command's GPUs. */
static int plan_partitions(const struct run_options *o, const struct device_info *devices, int n,
			   struct cuslice_segment *seg)
{
	const char *flag = o->sm ? "--sm" : "--sm-groups", *value = o->sm ? o->sm : o->sm_groups;
	struct policy_sm_ask ask;
	char err[256];

	if (o->sm && policy_sm_parse(o->sm, &ask) < 0) {
		fprintf(stderr,
			"cuslice run: --sm \"%s\": give a number of SMs such as 32, or a share "
			"such as 25%%\n",
			o->sm);
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		struct policy_sm_layout l;
		struct policy_sm_grant g;
		if (policy_sm_layout(devices[i].sm_total, devices[i].sm_group, devices[i].sm_groups,
				     &l) < 0) {
			fprintf(stderr,
				"cuslice run: %s: GPU %d (%s) cannot be partitioned: its driver "
				"has "
				"no green contexts (CUDA 12.4 or later)\n",
				flag, i, devices[i].name);
			return -ENOTSUP;
		}
		if (o->sm && policy_sm_plan(&l, &ask, NULL, 1, &g, err, sizeof(err)) < 0) {
			fprintf(stderr, "cuslice run: --sm %s: %s\n", value, err);
			return -ENOSPC;
		}
		if (o->sm_groups && policy_sm_groups_parse(&l, o->sm_groups, &g) < 0) {
			fprintf(stderr,
				"cuslice run: --sm-groups \"%s\": GPU %d splits into groups 0 to "
				"%u of %u SMs%s; name them as 0-6, 0,2,4%s\n",
				value, i, l.groups - 1, l.group_sms,
				l.remainder ? " and a remainder" : "",
				l.remainder ? " or 7-13,remainder" : "");
			return -EINVAL;
		}
		seg->partitions[i] = (struct cuslice_partition){.groups = g.groups,
								.group_sms = l.group_sms,
								.remainder = (uint32_t)g.remainder,
								.sms = g.sms};
	}
	return 0;
}

/* --device and --vram: which GPUs the command gets, and the tenant segment
 * that holds their quotas. Everything is checked before anything runs. */
static int setup_quota(const struct run_options *o, struct tenant_segment **ret)
{
	struct device_info devices[CUSLICE_MAX_DEVICES];
	uint64_t totals[CUSLICE_MAX_DEVICES];
	struct policy_vram vram = {0};
	int count, n, r;
	char err[768];

	uint32_t limit_ppm = 0;

	*ret = NULL;
	if (o->limit && policy_share_ppm(o->limit, &limit_ppm) < 0) {
		fprintf(stderr,
			"cuslice run: --limit \"%s\": use a percentage of GPU time above 0 "
			"and at most 100%%, such as 30%% or 12.5%%\n",
			o->limit);
		return -EINVAL;
	}
	bool sm = o->sm || o->sm_groups;
	if (!o->vram && !o->device && !o->limit && !sm)
		return 0;
	if ((r = devices_query(devices, &count, err, sizeof(err))) < 0) {
		fprintf(stderr, "cuslice run: %s needs the GPU driver: %s\n",
			o->vram ? "--vram"
			: sm	? "--sm"
				: "--device",
			err);
		return r;
	}
	n = count;
	if (o->device) {
		unsigned long index;
		if ((r = parse_device(o->device, count, &index)) < 0)
			return r;
		devices[0] = devices[index];
		n = 1;
		if ((r = select_device(index)) < 0) {
			fprintf(stderr,
				"cuslice run: --device %s: cannot set CUDA_VISIBLE_DEVICES: %s\n",
				o->device, strerror(-r));
			return r;
		}
	}
	if (!o->vram && !o->limit && !sm)
		return 0;
	const char *daemon = getenv("CUSLICE_SOCKET");
	if (!daemon || !*daemon)
		daemon = "/run/cuslice/tenant.sock";
	if (access(daemon, F_OK) == 0) {
		const char *flag = o->vram ? "--vram" : o->limit ? "--limit" : "--sm";
		fprintf(stderr,
			"cuslice run: %s: cusliced manages quotas on this machine (%s); an admin "
			"sets them with `cuslice set TENANT %s VALUE`\n",
			flag, daemon, flag);
		return -EEXIST;
	}
	for (int i = 0; i < n; i++)
		vram.bytes[i] = totals[i] = devices[i].total; /* no --vram: the whole device */
	if (o->vram &&
	    (r = policy_vram_parse(o->vram, totals, (uint32_t)n, &vram, err, sizeof(err))) < 0) {
		fprintf(stderr, "cuslice run: --vram %s\n", err);
		return r;
	}
	struct tenant_segment *t = tenant_segment_new((uint32_t)n);
	if (!t) {
		fprintf(stderr, "cuslice run: cannot make the tenant's shared segment: %s\n",
			strerror(errno));
		return -ENOMEM;
	}
	struct cuslice_segment *seg = tenant_segment_data(t);
	for (int i = 0; i < n; i++) {
		seg->devices[i].quota = vram.bytes[i];
		memcpy(seg->devices[i].uuid, devices[i].uuid, sizeof(devices[i].uuid));
	}
	seg->sched.burst_ns = RUN_BURST_NS;
	seg->sched.share_ppm = limit_ppm;
	if (sm && (r = plan_partitions(o, devices, n, seg)) < 0) {
		tenant_segment_free(t);
		return r;
	}
	setenv("CUSLICE_SEGMENT", tenant_segment_path(t), 1);
	*ret = t;
	return 0;
}

/* --profile: checked here, so that a bad file is a usage error, not a
 * command whose CUDA refuses to start. */
static int setup_profile(const char *path)
{
	char err[256], full[PATH_MAX];
	int r = profile_check(path, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "cuslice run: --profile \"%s\": %s\n", path, err);
		return r;
	}
	if (!realpath(path, full) || setenv("CUSLICE_PROFILE", full, 1) < 0) {
		fprintf(stderr, "cuslice run: --profile \"%s\": %s\n", path, strerror(errno));
		return -errno;
	}
	return 0;
}

pid_t run_spawn(char **command)
{
	pid_t pid = fork();

	if (pid < 0) {
		fprintf(stderr, "cuslice: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		execvp(command[0], command);
		int e = errno;
		fprintf(stderr, "cuslice: cannot run \"%s\": %s\n", command[0], strerror(e));
		_exit(e == ENOENT ? 127 : 126);
	}
	return pid;
}

/* Waits for the command; with a quota, gives back meanwhile what each of its
 * processes held as soon as it exits. The terminal signals the whole
 * foreground group, so the command decides what an interrupt means. */
int run_wait(pid_t pid, char **command, struct tenant_segment *t)
{
	int status;

	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	if (t) {
		status = tenant_segment_wait(t, pid);
	} else {
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR)
				return 1;
	}
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	fprintf(stderr, "cuslice: \"%s\" was killed by signal %d (%s)\n", command[0],
		WTERMSIG(status), strsignal(WTERMSIG(status)));
	return 128 + WTERMSIG(status);
}

int cuslice_run(int argc, char **argv)
{
	struct run_options o;
	struct tenant_segment *tenant = NULL;
	char shim[PATH_MAX], dir[PATH_MAX], stats[PATH_MAX + 32];
	int r = parse(argc, argv, &o);

	if (r != 0)
		return r > 0 ? 0 : 2;
	if ((r = shim_path_find(shim, sizeof(shim))) < 0) {
		fprintf(stderr,
			"cuslice run: cannot find libcuslice.so (looked beside this program "
			"and at %s): %s\n",
			CUSLICE_SHIM_INSTALLED, strerror(-r));
		return 1;
	}
	if (o.profile && setup_profile(o.profile) < 0)
		return 2;
	if (setup_quota(&o, &tenant) < 0)
		return 2;
	bool counting = o.summary || o.stats_dir;
	if (counting) {
		if (prepare_stats_dir(&o, dir, sizeof(dir)) < 0)
			return 1;
		snprintf(stats, sizeof(stats), "%s/stats.%%p.json", dir);
		setenv("CUSLICE_STATS", stats, 1);
	}
	if (run_set_preload(shim) < 0) {
		fprintf(stderr, "cuslice run: cannot set LD_PRELOAD: out of memory\n");
		return 1;
	}
	pid_t pid = run_spawn(o.command);
	int status = pid < 0 ? 1 : run_wait(pid, o.command, tenant);
	tenant_segment_free(tenant);
	if (o.summary && stats_summary_print(dir, stderr) < 0)
		fprintf(stderr, "cuslice run: cannot read the stats in %s\n", dir);
	if (o.summary && !o.stats_dir)
		stats_dir_remove(dir);
	return status;
}
