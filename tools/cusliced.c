/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cusliced: the node daemon. It owns the tenants' VRAM quotas and shares of
 * GPU time: every process that loads the shim registers over the tenant
 * socket and gets its tenant's segment; every 20 ms the scheduler shares GPU
 * time among the tenants that are launching; `cuslice get/set/describe` read
 * and change quotas over the admin socket; they persist in the state file.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "procfs.h"

#define TICK_MS 20
#define MAX_WATCHED 8192
#define AUDIT_TICKS 10 /* audited processes are compared with their shim every 10 ticks' time */

static const char usage[] =
	"Usage: cusliced [OPTIONS]\n"
	"\n"
	"The cuslice node daemon: tenants' VRAM quotas, the admin API.\n"
	"\n"
	"Options:\n"
	"      --runtime-dir DIR     sockets and tenant segments (default /run/cuslice)\n"
	"      --state FILE          quotas kept across restarts\n"
	"                            (default /var/lib/cuslice/state.json)\n"
	"      --admin-group GROUP   members may use the admin socket too (default: root only)\n"
	"      --default-vram SIZE   quota of tenants the admin has not configured, as for\n"
	"                            `cuslice run --vram` (default: the whole device)\n"
	"      --bpf-dir DIR         where the kernel side's programs and maps are pinned,\n"
	"                            on a bpf filesystem (default /sys/fs/bpf/cuslice); a\n"
	"                            restarted daemon adopts what it finds there\n"
	"      --no-bpf              run without the kernel side (device access control,\n"
	"                            enforce mode, exit reports, audit)\n"
	"      --metrics ADDR:PORT   serve /metrics for Prometheus there (default\n"
	"                            127.0.0.1:9464; :9464 for every address; off)\n"
	"      --mps-control PATH    the MPS control daemon cusliced runs for GPUs in spatial\n"
	"                            or hybrid mode (default: nvidia-cuda-mps-control on\n"
	"                            PATH, else /usr/local/nvidia/bin, /usr/bin)\n"
	"      --fault-probation SECONDS\n"
	"                            after a fatal fault ends an MPS server's clients,\n"
	"                            which of them caused it is unknown: each runs in\n"
	"                            contexts of its own, out of the server, this long, and\n"
	"                            one that faults again there is named as the cause and\n"
	"                            isolated (default 600; 0: the suspects rejoin at once)\n"
	"      --move-running on|off running processes follow a change of their tenant's\n"
	"                            SM partition (on, the default), or keep the SMs they\n"
	"                            started with and only new processes get the new\n"
	"                            ones (off)\n"
	"      --deny-modeset        tenants may not open /dev/nvidia-modeset (display\n"
	"                            mode setting; compute needs only nvidiactl, nvidia-uvm\n"
	"                            and their GPUs, which they may always open)\n"
	"  -h, --help                show this help\n"
	"      --version             print the version\n";

struct options {
	const char *runtime_dir, *state, *admin_group, *default_vram, *bpf_dir, *metrics;
	const char *mps_control;
	unsigned long probation_s;
	bool no_bpf, deny_modeset, metrics_given, move_running;
};

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"runtime-dir", required_argument, NULL, 'r'},
		{"state", required_argument, NULL, 's'},
		{"admin-group", required_argument, NULL, 'g'},
		{"default-vram", required_argument, NULL, 'v'},
		{"bpf-dir", required_argument, NULL, 'b'},
		{"no-bpf", no_argument, NULL, 'n'},
		{"deny-modeset", no_argument, NULL, 'm'},
		{"mps-control", required_argument, NULL, 'C'},
		{"metrics", required_argument, NULL, 'M'},
		{"fault-probation", required_argument, NULL, 'P'},
		{"move-running", required_argument, NULL, 'R'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	int c;

	*o = (struct options){.runtime_dir = "/run/cuslice",
			      .state = "/var/lib/cuslice/state.json",
			      .bpf_dir = "/sys/fs/bpf/cuslice",
			      .metrics = "127.0.0.1:9464",
			      .probation_s = 600,
			      .move_running = true};
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->runtime_dir = optarg;
			break;
		case 's':
			o->state = optarg;
			break;
		case 'g':
			o->admin_group = optarg;
			break;
		case 'v':
			o->default_vram = optarg;
			break;
		case 'b':
			o->bpf_dir = optarg;
			break;
		case 'n':
			o->no_bpf = true;
			break;
		case 'm':
			o->deny_modeset = true;
			break;
		case 'C':
			o->mps_control = optarg;
			break;
		case 'M':
			o->metrics = optarg;
			o->metrics_given = true;
			break;
		case 'P': {
			char *end;
			errno = 0;
			o->probation_s = strtoul(optarg, &end, 10);
			if (!isdigit((unsigned char)*optarg) || *end || errno ||
			    o->probation_s > 7 * 24 * 3600) {
				fprintf(stderr,
					"cusliced: --fault-probation \"%s\": use a number of "
					"seconds from 0 to 604800\n",
					optarg);
				return -EINVAL;
			}
			break;
		}
		case 'R':
			if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0) {
				fprintf(stderr, "cusliced: --move-running \"%s\": use on or off\n",
					optarg);
				return -EINVAL;
			}
			o->move_running = strcmp(optarg, "on") == 0;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case 'V':
			printf("cusliced %s\n", CUSLICE_VERSION);
			return 1;
		case ':':
			fprintf(stderr, "cusliced: %s needs a value; see cusliced --help\n",
				argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr, "cusliced: unknown option \"%s\"; see cusliced --help\n",
				argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "cusliced: unexpected argument \"%s\"; see cusliced --help\n",
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* nvidia-cuda-mps-control: given, else on PATH, else where drivers put it. */
static const char *find_mps_control(const char *given)
{
	static char found[4096];
	const char *path = getenv("PATH");
	static const char *const dirs[] = {"/usr/local/nvidia/bin", "/usr/bin"};

	if (given)
		return given;
	for (const char *p = path; p && *p;) {
		size_t len = strcspn(p, ":");
		snprintf(found, sizeof(found), "%.*s/nvidia-cuda-mps-control", (int)len, p);
		if (len && access(found, X_OK) == 0)
			return found;
		p += len + (p[len] == ':');
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++) {
		snprintf(found, sizeof(found), "%s/nvidia-cuda-mps-control", dirs[i]);
		if (access(found, X_OK) == 0)
			return found;
	}
	return "nvidia-cuda-mps-control";
}

static int setup(struct daemon *d, const struct options *o)
{
	char err[768], path[4096];
	uint64_t totals[CUSLICE_MAX_DEVICES];

	d->runtime_dir = o->runtime_dir;
	d->state_path = o->state;
	d->admin_gid = -1;
	if (o->admin_group) {
		struct group *g = getgrnam(o->admin_group);
		if (!g) {
			fprintf(stderr, "cusliced: --admin-group \"%s\": no such group\n",
				o->admin_group);
			return -ENOENT;
		}
		d->admin_gid = (int)g->gr_gid;
	}
	if (devices_query(d->devices, &d->ndevices, err, sizeof(err)) < 0) {
		fprintf(stderr, "cusliced: %s\n", err);
		return -ENODEV;
	}
	for (int i = 0; i < d->ndevices; i++)
		totals[i] = d->devices[i].total;
	if (o->default_vram) {
		if (policy_vram_parse(o->default_vram, totals, (uint32_t)d->ndevices,
				      &d->default_vram, err, sizeof(err)) < 0) {
			fprintf(stderr, "cusliced: --default-vram %s\n", err);
			return -EINVAL;
		}
		d->has_default = true;
	}
	snprintf(path, sizeof(path), "%s/segments", d->runtime_dir);
	if ((mkdir(d->runtime_dir, 0755) < 0 && errno != EEXIST) ||
	    (mkdir(path, 0700) < 0 && errno != EEXIST)) {
		fprintf(stderr, "cusliced: cannot make %s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (sched_board_open(d) < 0) {
		fprintf(stderr, "cusliced: cannot make the board in %s: %s\n", d->runtime_dir,
			strerror(errno));
		return -errno;
	}
	d->mps_control = find_mps_control(o->mps_control);
	d->probation_ns = (uint64_t)o->probation_s * 1000000000ull;
	d->move_running = o->move_running;
	spatial_setup(d);
	if (state_load(d, err, sizeof(err)) < 0) {
		fprintf(stderr, "cusliced: %s\n", err);
		return -EINVAL;
	}
	if (spatial_replan(d, err, sizeof(err)) < 0) /* the partitions in force, kept */
		fprintf(stderr, "cusliced: %s; the partitions in the segments stay as they were\n",
			err);
	spatial_tick(d, daemon_now_ns()); /* MPS servers adopted or started before tenants come */
	if (procfs_cgroup2_mount(d->cgroup_root, sizeof(d->cgroup_root)) < 0)
		d->cgroup_root[0] = '\0';
	d->deny_modeset = o->deny_modeset;
	/* the default address may be taken (another daemon, a test): go on
	 * without /metrics then; an address the admin gave must work */
	int r = metrics_start(d, o->metrics, err, sizeof(err));
	if (r < 0 && (o->metrics_given || r != -EADDRINUSE)) {
		fprintf(stderr, "cusliced: %s\n", err);
		return -EINVAL;
	}
	if (r < 0)
		fprintf(stderr, "cusliced: %s; serving without /metrics\n", err);
	if (o->no_bpf)
		snprintf(d->kernel.status, sizeof(d->kernel.status), "off: --no-bpf");
	else
		kernel_setup(d, o->bpf_dir);
	return 0;
}

uint64_t daemon_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int serve(struct daemon *d)
{
	char tenant_path[4096], admin_path[4096];
	sigset_t mask;
	int r;

	snprintf(tenant_path, sizeof(tenant_path), "%s/tenant.sock", d->runtime_dir);
	snprintf(admin_path, sizeof(admin_path), "%s/admin.sock", d->runtime_dir);
	int tenant_fd = sockets_listen(tenant_path, 0666, -1);
	int admin_fd = sockets_listen(admin_path, d->admin_gid >= 0 ? 0660 : 0600, d->admin_gid);
	if (tenant_fd < 0 || admin_fd < 0) {
		fprintf(stderr, "cusliced: cannot listen on %s: %s\n",
			tenant_fd < 0 ? tenant_path : admin_path,
			strerror(-(tenant_fd < 0 ? tenant_fd : admin_fd)));
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	fprintf(stderr,
		"cusliced: serving %d GPU%s, %d configured tenant%s; tenants: %s, admin: %s\n",
		d->ndevices, d->ndevices == 1 ? "" : "s", d->ntenants, d->ntenants == 1 ? "" : "s",
		tenant_path, admin_path);
	static struct pollfd fds[5 + MAX_WATCHED];
	static int first[DAEMON_MAX_TENANTS + 1];
	uint64_t last_watch = daemon_now_ns(), last_audit = last_watch;
	for (;;) {
		int n = 5;
		fds[0] = (struct pollfd){.fd = tenant_fd, .events = POLLIN};
		fds[1] = (struct pollfd){.fd = admin_fd, .events = POLLIN};
		fds[2] = (struct pollfd){.fd = sig_fd, .events = POLLIN};
		fds[3] = (struct pollfd){.fd = kernel_events_fd(d), .events = POLLIN};
		fds[4] = (struct pollfd){.fd = metrics_fd(d), .events = POLLIN};
		/* every tenant's processes: a pidfd each, so exits are seen at once */
		for (int i = 0; i < d->ntenants; i++) {
			first[i] = n;
			proc_watch_scan(d->tenants[i]->watch);
			n += proc_watch_fds(d->tenants[i]->watch, fds + n, 5 + MAX_WATCHED - n);
		}
		first[d->ntenants] = n;
		r = poll(fds, (nfds_t)n, spatial_moving(d, daemon_now_ns()) ? 1 : TICK_MS);
		if (r < 0 && errno != EINTR)
			break;
		/* the kernel reports an exit before the pidfd turns readable: its
		 * event, which still finds the process's slot, goes first */
		kernel_consume(d);
		for (int i = 0; r > 0 && i < d->ntenants; i++)
			proc_watch_reap(d->tenants[i]->watch, fds + first[i],
					first[i + 1] - first[i]);
		if (fds[0].revents & POLLIN)
			sockets_serve_tenant(d, tenant_fd);
		if (fds[1].revents & POLLIN)
			sockets_serve_admin(d, admin_fd);
		if (fds[2].revents & POLLIN)
			break;
		metrics_run(d); /* cheap when nothing is pending; answers scrapes */
		sched_tick(d, daemon_now_ns());
		spatial_tick(d, daemon_now_ns());
		uint64_t now = daemon_now_ns();
		if (now - last_audit >= AUDIT_TICKS * TICK_MS * 1000000ull) {
			kernel_audit_scan(d);
			last_audit = now;
		}
		if (now - last_watch >= 1000000000ull) {
			events_watch(d, now);
			history_sample(d);
			last_watch = now;
		}
	}
	/* tenants keep their segments; a new daemon re-adopts them */
	unlink(tenant_path);
	unlink(admin_path);
	fprintf(stderr, "cusliced: stopped\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	static struct daemon d;
	int r = parse(argc, argv, &o);

	if (r != 0)
		return r > 0 ? 0 : 2;
	if (setup(&d, &o) < 0)
		return 1;
	r = serve(&d);
	kernel_close(&d);
	metrics_stop(&d);
	tenants_free_all(&d);
	return r;
}
