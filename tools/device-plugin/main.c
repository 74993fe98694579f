/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cuslice-device-plugin: the Kubernetes side of a node. It advertises GPU
 * slices to the kubelet (plugin.c) and turns each allocation into a claim
 * that cusliced binds to the container's cgroup, so that quotas come from the
 * node's daemon only, never from anything the container could write.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../admin.h"
#include "plugin.h"

#define HEALTH_EVERY_S 5

static const char usage[] =
	"Usage: cuslice-device-plugin [OPTIONS]\n"
	"\n"
	"Advertise GPU slices to the kubelet: cuslice.io/vram (GiB), cuslice.io/sm\n"
	"(percent of a GPU) and cuslice.io/gpu (whole GPUs), and hand each container a\n"
	"claim that cusliced binds to it. Needs cusliced running on the node.\n"
	"\n"
	"Options:\n"
	"      --dir DIR            the kubelet's device-plugin directory\n"
	"                           (default /var/lib/kubelet/device-plugins)\n"
	"      --admin-socket PATH  cusliced's admin socket (default /run/cuslice/admin.sock)\n"
	"      --tenant-socket PATH cusliced's tenant socket on the host, mounted into\n"
	"                           containers (default /run/cuslice/tenant.sock)\n"
	"      --shim PATH          libcuslice.so on the host, mounted into containers\n"
	"                           (default " CUSLICE_SHIM_INSTALLED ")\n"
	"      --claims-dir DIR     where claim files are written on the host, mounted\n"
	"                           read-only into containers (default /run/cuslice/claims)\n"
	"      --cdi                name CDI devices (cuslice.io/gpu=gpuN) instead of device\n"
	"                           nodes, for runtimes with CDI\n"
	"  -h, --help               show this help\n";

static int parse(int argc, char **argv, struct plugin_config *c)
{
	static const struct option longopts[] = {
		{"dir", required_argument, NULL, 'd'},
		{"admin-socket", required_argument, NULL, 'a'},
		{"tenant-socket", required_argument, NULL, 't'},
		{"shim", required_argument, NULL, 's'},
		{"claims-dir", required_argument, NULL, 'c'},
		{"cdi", no_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int ch;

	*c = (struct plugin_config){.dir = "/var/lib/kubelet/device-plugins",
				    .admin_socket = "/run/cuslice/admin.sock",
				    .host_tenant_socket = "/run/cuslice/tenant.sock",
				    .host_shim = CUSLICE_SHIM_INSTALLED,
				    .claims_dir = "/run/cuslice/claims"};
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			c->dir = optarg;
			break;
		case 'a':
			c->admin_socket = optarg;
			break;
		case 't':
			c->host_tenant_socket = optarg;
			break;
		case 's':
			c->host_shim = optarg;
			break;
		case 'c':
			c->claims_dir = optarg;
			break;
		case 'C':
			c->cdi = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case ':':
			fprintf(stderr, "cuslice-device-plugin: %s needs a value\n",
				argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr,
				"cuslice-device-plugin: unknown option \"%s\"; see --help\n",
				argv[optind - 1]);
			return -EINVAL;
		}
	}
	return 0;
}

/* The node's GPUs from cusliced; false if it does not answer. */
static bool read_gpus(struct plugin *p)
{
	json_object *req = json_object_new_object(), *gpus, *ok;

	json_object_object_add(req, "op", json_object_new_string("get-node"));
	json_object *resp = admin_ask(p->config.admin_socket, req);
	json_object_put(req);
	bool good = resp && json_object_object_get_ex(resp, "ok", &ok) &&
		    json_object_get_boolean(ok) && json_object_object_get_ex(resp, "gpus", &gpus);
	for (size_t i = 0; good && i < json_object_array_length(gpus) && i < PLUGIN_MAX_GPUS; i++) {
		json_object *g = json_object_array_get_idx(gpus, i), *v;
		json_object_object_get_ex(g, "vram_bytes", &v);
		p->gpus[i].vram_bytes = (uint64_t)json_object_get_int64(v);
		p->gpus[i].minor = json_object_object_get_ex(g, "minor", &v)
					   ? (uint32_t)json_object_get_int(v)
					   : (uint32_t)i;
		p->ngpus = (int)i + 1;
	}
	json_object_put(resp);
	return good;
}

/* The kubelet restarted: it made a new kubelet.sock (and removed ours). */
static bool kubelet_restarted(int inotify_fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool again = false;
	ssize_t n;

	while ((n = read(inotify_fd, buf, sizeof(buf))) > 0)
		for (char *q = buf; q < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)q;
			if (e->len && strcmp(e->name, "kubelet.sock") == 0 && (e->mask & IN_CREATE))
				again = true;
			q += sizeof(*e) + e->len;
		}
	return again;
}

int main(int argc, char **argv)
{
	static struct plugin p;
	int r = parse(argc, argv, &p.config);

	if (r != 0)
		return r > 0 ? 0 : 2;
	if (!read_gpus(&p)) {
		fprintf(stderr,
			"cuslice-device-plugin: cusliced does not answer at %s; start it "
			"first\n",
			p.config.admin_socket);
		return 1;
	}
	p.healthy = true;
	if (mkdir(p.config.claims_dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "cuslice-device-plugin: cannot make %s: %s\n", p.config.claims_dir,
			strerror(errno));
		return 1;
	}
	if ((r = plugin_start(&p)) < 0) {
		fprintf(stderr, "cuslice-device-plugin: cannot serve in %s: %s\n", p.config.dir,
			strerror(-r));
		return 1;
	}
	int inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (inotify_fd < 0 || inotify_add_watch(inotify_fd, p.config.dir, IN_CREATE) < 0)
		fprintf(stderr,
			"cuslice-device-plugin: cannot watch %s: %s; a kubelet restart "
			"will not be noticed\n",
			p.config.dir, strerror(errno));
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	fprintf(stderr, "cuslice-device-plugin: %d GPU%s; serving in %s\n", p.ngpus,
		p.ngpus == 1 ? "" : "s", p.config.dir);
	int unreached = plugin_register(&p);
	time_t last_health = time(NULL);
	for (;;) {
		struct pollfd extra[2] = {{.fd = inotify_fd, .events = POLLIN},
					  {.fd = sig_fd, .events = POLLIN}};
		/* a kubelet not listening yet is asked again soon */
		if (grpc_loop_run(p.loop, extra, 2, unreached ? 100 : 1000) < 0 ||
		    (extra[1].revents & POLLIN))
			break;
		if ((extra[0].revents & POLLIN) && kubelet_restarted(inotify_fd)) {
			fprintf(stderr, "cuslice-device-plugin: the kubelet restarted; registering "
					"again\n");
			plugin_stop(&p);
			if ((r = plugin_start(&p)) < 0) {
				fprintf(stderr, "cuslice-device-plugin: cannot serve again: %s\n",
					strerror(-r));
				return 1;
			}
		}
		unreached = plugin_register(&p); /* those the kubelet has not taken yet */
		if (time(NULL) - last_health >= HEALTH_EVERY_S) {
			last_health = time(NULL);
			plugin_set_health(&p, read_gpus(&p));
		}
	}
	plugin_stop(&p);
	fprintf(stderr, "cuslice-device-plugin: stopped\n");
	return 0;
}
