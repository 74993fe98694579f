/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin verbs of `cuslice`, speaking JSON to cusliced's admin socket:
 *
 *   cuslice get tenants [-o json]
 *   cuslice describe TENANT [-o json]
 *   cuslice set TENANT --vram SIZE
 *   cuslice set gpu N [--mode timeslice|spatial|hybrid] [--sm-split coscheduled|fine]
 *
 * Tables by default; -o json prints the daemon's reply as it is, for scripts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "admin.h"
#include "policy/size.h"

static const char admin_usage[] =
	"Usage: cuslice get tenants [-o json]\n"
	"       cuslice get node [-o json]\n"
	"       cuslice describe TENANT [-o json]\n"
	"       cuslice set TENANT [--vram SIZE] [--weight N] [--limit P%|none]\n"
	"                          [--priority high|normal] [--gpus all|N,M] [--enforce on|off]\n"
	"                          [--audit on|off] [--sm N|P%|none] [--isolated on|off]\n"
	"       cuslice set gpu N [--mode timeslice|spatial|hybrid]\n"
	"                         [--sm-split coscheduled|fine]\n"
	"\n"
	"Read and change tenants' quotas through cusliced. A tenant is a cgroup v2 path,\n"
	"such as /kubepods/pod1/ctr or /system.slice/inference.service.\n"
	"\n"
	"Options:\n"
	"      --vram SIZE    as for `cuslice run --vram`: 8GiB, 50%, 0=20GiB,1=10GiB\n"
	"      --weight N     share of GPU time against the other tenants launching at the\n"
	"                     same time, 1 to 10000 (default 1); idle tenants' time goes to\n"
	"                     the others\n"
	"      --limit P%     cap on GPU time even when alone (none: no cap)\n"
	"      --priority P   high: latency-critical; while it launches, other tenants\n"
	"                     keep one launch at a time on the GPU (default normal)\n"
	"      --gpus LIST    the GPUs the tenant's processes may open (/dev/nvidiaN), such\n"
	"                     as 0 or 0,2, or all (default); enforced in the kernel\n"
	"      --enforce on   only processes that loaded the shim may open the GPUs; others\n"
	"                     get EPERM and cusliced logs them (default off)\n"
	"      --audit on     the kernel counts the tenant's calls into libcuda.so.1 and\n"
	"                     cusliced flags processes that go around the shim (default off)\n"
	"      --sm N|P%      SMs of the tenant's own on GPUs in spatial mode (in hybrid\n"
	"                     mode, for high-priority tenants): whole groups of the\n"
	"                     driver's split (8 SMs on Hopper) nearest the ask, disjoint\n"
	"                     from every other tenant's; refused when they do not fit.\n"
	"                     Tenants without their own share the groups left (none: the\n"
	"                     default). Processes started after the change get it\n"
	"      --isolated on  never share an MPS server with other tenants (a fatal fault\n"
	"                     in one MPS client ends them all): stays time-sliced; off:\n"
	"                     shares again, and a probation after an MPS fault ends\n"
	"      --mode M       how GPU N is shared: timeslice (tenants take turns, shares by\n"
	"                     GPU time; the default), spatial (every tenant on SMs of its\n"
	"                     own, all at once under an MPS server cusliced runs), hybrid\n"
	"                     (high-priority tenants on SMs of their own, the others take\n"
	"                     turns on the rest)\n"
	"      --sm-split S   the groups GPU N's partitions are made of: coscheduled (the\n"
	"                     driver's default: 15 groups of 8 SMs and 12 left over on an\n"
	"                     H200) or fine (groups that ignore how SMs are co-scheduled:\n"
	"                     33 of 4 on an H200; kernels there cannot use large\n"
	"                     thread-block clusters). Changed only while GPU N is in\n"
	"                     timeslice mode, or with --mode in the same command\n"
	"  -o, --output FMT   table (default) or json\n"
	"      --socket PATH  the admin socket (default $CUSLICE_ADMIN_SOCKET, else\n"
	"                     /run/cuslice/admin.sock)\n"
	"  -h, --help         show this help\n";

struct admin_options {
	const char *vram, *weight, *limit, *priority, *gpus, *enforce, *audit, *socket, *output;
	const char *sm, *isolated, *mode, *sm_split;
	char **args;
	int nargs;
};

static int parse(int argc, char **argv, struct admin_options *o)
{
	static const struct option longopts[] = {
		{"vram", required_argument, NULL, 'v'},
		{"weight", required_argument, NULL, 'w'},
		{"limit", required_argument, NULL, 'l'},
		{"priority", required_argument, NULL, 'p'},
		{"gpus", required_argument, NULL, 'g'},
		{"enforce", required_argument, NULL, 'e'},
		{"audit", required_argument, NULL, 'a'},
		{"sm", required_argument, NULL, 'S'},
		{"isolated", required_argument, NULL, 'i'},
		{"mode", required_argument, NULL, 'm'},
		{"sm-split", required_argument, NULL, 'F'},
		{"output", required_argument, NULL, 'o'},
		{"socket", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;

	*o = (struct admin_options){.output = "table"};
	o->socket = admin_socket_default();
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			o->vram = optarg;
			break;
		case 'w':
			o->weight = optarg;
			break;
		case 'l':
			o->limit = optarg;
			break;
		case 'p':
			o->priority = optarg;
			break;
		case 'g':
			o->gpus = optarg;
			break;
		case 'e':
			o->enforce = optarg;
			break;
		case 'a':
			o->audit = optarg;
			break;
		case 'S':
			o->sm = optarg;
			break;
		case 'i':
			o->isolated = optarg;
			break;
		case 'm':
			o->mode = optarg;
			break;
		case 'F':
			o->sm_split = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 's':
			o->socket = optarg;
			break;
		case 'h':
			fputs(admin_usage, stdout);
			return 1;
		case ':':
			fprintf(stderr, "cuslice %s: %s needs a value\n", argv[0],
				argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr,
				"cuslice %s: unknown option \"%s\"; see cuslice %s --help\n",
				argv[0], argv[optind - 1], argv[0]);
			return -EINVAL;
		}
	}
	if (strcmp(o->output, "table") != 0 && strcmp(o->output, "json") != 0) {
		fprintf(stderr, "cuslice %s: -o \"%s\": use table or json\n", argv[0], o->output);
		return -EINVAL;
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
	return 0;
}

#define ADMIN_TIMEOUT_S 5

const char *admin_socket_default(void)
{
	const char *path = getenv("CUSLICE_ADMIN_SOCKET");
	return path && *path ? path : "/run/cuslice/admin.sock";
}

/* One request, one reply line. */
json_object *admin_ask(const char *socket_path, json_object *request)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	const char *text = json_object_to_json_string_ext(
		request, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	char reply[1 << 16];
	size_t len = 0;
	ssize_t n;

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval limit = {.tv_sec = ADMIN_TIMEOUT_S};
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", socket_path);
	if (fd >= 0) { /* a daemon that hangs must not hang its callers */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
	}
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fprintf(stderr,
			"cuslice: cannot reach cusliced at %s: %s (is the daemon running?)\n",
			socket_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (write(fd, text, strlen(text)) < 0 || write(fd, "\n", 1) < 0) {
		close(fd);
		return NULL;
	}
	while (len < sizeof(reply) - 1 && (n = read(fd, reply + len, sizeof(reply) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	reply[len] = '\0';
	json_object *r = json_tokener_parse(reply);
	if (!r)
		fprintf(stderr, "cuslice: cusliced sent no readable reply\n");
	return r;
}

/* A percentage from millionths, "-" for none. */
static void ppm_text(int64_t ppm, char *out, size_t size)
{
	if (ppm <= 0)
		snprintf(out, size, "-");
	else
		snprintf(out, size, "%.1f%%", (double)ppm / 1e4);
}

/* The tenant's SMs on GPU `gpu` ("-": the whole GPU, time-sliced; "on
 * probation": out of the MPS server after a fault, its SMs kept; "moving":
 * some of its running processes are not on a new grant yet). */
static void sms_text(json_object *tenant, size_t gpu, char *out, size_t size)
{
	json_object *sm, *parts, *probation, *moving;

	snprintf(out, size, "-");
	if (!json_object_object_get_ex(tenant, "sm", &sm) ||
	    !json_object_object_get_ex(sm, "partitions", &parts))
		return;
	if (json_object_object_get_ex(sm, "probation", &probation) &&
	    json_object_get_boolean(probation)) {
		snprintf(out, size, "on probation");
		return;
	}
	for (size_t i = 0; i < json_object_array_length(parts); i++) {
		json_object *e = json_object_array_get_idx(parts, i), *g, *n, *own;
		json_object_object_get_ex(e, "gpu", &g);
		json_object_object_get_ex(e, "sms", &n);
		json_object_object_get_ex(e, "dedicated", &own);
		if ((size_t)json_object_get_int(g) == gpu)
			snprintf(out, size, "%d%s%s", json_object_get_int(n),
				 json_object_get_boolean(own) ? "" : " shared",
				 json_object_object_get_ex(sm, "moving", &moving) &&
						 json_object_get_int(moving) > 0
					 ? " moving"
					 : "");
	}
}

static void print_row(json_object *tenant)
{
	json_object *name, *procs, *devices, *configured, *weight, *limit, *share;

	json_object_object_get_ex(tenant, "tenant", &name);
	json_object_object_get_ex(tenant, "processes", &procs);
	json_object_object_get_ex(tenant, "configured", &configured);
	json_object_object_get_ex(tenant, "devices", &devices);
	json_object_object_get_ex(tenant, "weight", &weight);
	json_object_object_get_ex(tenant, "limit_ppm", &limit);
	json_object_object_get_ex(tenant, "share_ppm", &share);
	for (size_t i = 0; i < json_object_array_length(devices); i++) {
		json_object *dev = json_object_array_get_idx(devices, i), *q, *u;
		char quota[32], used[32], lim[16], shr[16], sms[24];
		json_object_object_get_ex(dev, "vram_quota", &q);
		json_object_object_get_ex(dev, "vram_used", &u);
		policy_size_format((uint64_t)json_object_get_int64(q), quota, sizeof(quota));
		policy_size_format((uint64_t)json_object_get_int64(u), used, sizeof(used));
		ppm_text(json_object_get_int64(limit), lim, sizeof(lim));
		ppm_text(json_object_get_int64(share), shr, sizeof(shr));
		sms_text(tenant, i, sms, sizeof(sms));
		if (i == 0)
			printf("%-32s %3zu %11s %11s %9d %7s %6d %6s %8s %s\n",
			       json_object_get_string(name), i, used, quota,
			       json_object_get_int(procs),
			       json_object_get_boolean(configured) ? "set" : "default",
			       json_object_get_int(weight), lim, shr, sms);
		else
			printf("%-32s %3zu %11s %11s %9s %7s %6s %6s %8s %s\n", "", i, used, quota,
			       "", "", "", "", "", sms);
	}
}

static void print_node(json_object *reply)
{
	json_object *kernel, *v, *gpus;

	json_object_object_get_ex(reply, "kernel", &kernel);
	json_object_object_get_ex(reply, "gpus", &gpus);
	printf("GPUs            %zu\n", gpus ? json_object_array_length(gpus) : 0);
	json_object_object_get_ex(reply, "cgroup2", &v);
	printf("cgroup v2       %s\n",
	       *json_object_get_string(v) ? json_object_get_string(v) : "not mounted");
	json_object_object_get_ex(kernel, "status", &v);
	printf("kernel side     %s\n", json_object_get_string(v));
	static const char *const features[][2] = {
		{"device_access_control", "device access"},
		{"enforce_mode", "enforce mode"},
		{"exit_reports", "exit reports"},
	};
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		json_object_object_get_ex(kernel, features[i][0], &v);
		printf("  %-13s %s\n", features[i][1], json_object_get_boolean(v) ? "on" : "off");
	}
	json_object_object_get_ex(kernel, "denied_opens", &v);
	printf("denied opens    %lld\n", (long long)json_object_get_int64(v));
	json_object_object_get_ex(kernel, "exits_reported", &v);
	printf("exits reported  %lld\n", (long long)json_object_get_int64(v));
	json_object_object_get_ex(kernel, "audit_probes", &v);
	printf("audit probes    %d on the driver's entry points\n", json_object_get_int(v));
	json_object_object_get_ex(kernel, "bypasses_found", &v);
	printf("bypasses found  %lld\n", (long long)json_object_get_int64(v));
	for (size_t i = 0; gpus && i < json_object_array_length(gpus); i++) {
		json_object *g = json_object_array_get_idx(gpus, i), *mode, *mps, *sms, *group, *n,
			    *rem, *running, *restarts, *faults, *last;
		json_object_object_get_ex(g, "mode", &mode);
		json_object_object_get_ex(g, "sms", &sms);
		json_object_object_get_ex(g, "sm_group", &group);
		json_object_object_get_ex(g, "sm_groups", &n);
		json_object_object_get_ex(g, "sm_remainder", &rem);
		json_object_object_get_ex(g, "mps", &mps);
		json_object_object_get_ex(mps, "running", &running);
		json_object_object_get_ex(mps, "restarts", &restarts);
		json_object_object_get_ex(mps, "faults", &faults);
		json_object_object_get_ex(mps, "last_fault", &last);
		json_object *split = NULL;
		json_object_object_get_ex(g, "sm_split", &split);
		printf("GPU %zu           %s; %d SMs in %d groups of %d and %d left over (%s "
		       "split)\n",
		       i, json_object_get_string(mode), json_object_get_int(sms),
		       json_object_get_int(n), json_object_get_int(group), json_object_get_int(rem),
		       split ? json_object_get_string(split) : "coscheduled");
		if (strcmp(json_object_get_string(mode), "timeslice") != 0)
			printf("  MPS server    %s, %lld restarts, %lld faults%s%s\n",
			       json_object_get_boolean(running) ? "running" : "not running",
			       (long long)json_object_get_int64(restarts),
			       (long long)json_object_get_int64(faults),
			       *json_object_get_string(last) ? "; last: " : "",
			       json_object_get_string(last));
	}
}

static int print_reply(json_object *reply, const struct admin_options *o, const char *list_key)
{
	json_object *ok, *error, *list;

	if (!json_object_object_get_ex(reply, "ok", &ok) || !json_object_get_boolean(ok)) {
		json_object_object_get_ex(reply, "error", &error);
		fprintf(stderr, "cuslice: %s\n", error ? json_object_get_string(error) : "refused");
		return 1;
	}
	if (strcmp(o->output, "json") == 0) {
		puts(json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
		return 0;
	}
	if (strcmp(list_key, "node") == 0) {
		print_node(reply);
		return 0;
	}
	printf("%-32s %3s %11s %11s %9s %7s %6s %6s %8s %s\n", "TENANT", "GPU", "VRAM USED",
	       "VRAM QUOTA", "PROCESSES", "QUOTA", "WEIGHT", "LIMIT", "SHARE", "SMS");
	json_object_object_get_ex(reply, list_key, &list);
	if (json_object_is_type(list, json_type_array))
		for (size_t i = 0; i < json_object_array_length(list); i++)
			print_row(json_object_array_get_idx(list, i));
	else
		print_row(list);
	return 0;
}

int cuslice_admin(int argc, char **argv)
{
	struct admin_options o;
	const char *verb = argv[0], *list_key = "tenant";
	int r = parse(argc, argv, &o);

	if (r != 0)
		return r > 0 ? 0 : 2;
	json_object *req = json_object_new_object();
	if (strcmp(verb, "get") == 0 && o.nargs == 1 && strcmp(o.args[0], "tenants") == 0) {
		json_object_object_add(req, "op", json_object_new_string("get-tenants"));
		list_key = "tenants";
	} else if (strcmp(verb, "get") == 0 && o.nargs == 1 && strcmp(o.args[0], "node") == 0) {
		json_object_object_add(req, "op", json_object_new_string("get-node"));
		list_key = "node";
	} else if (strcmp(verb, "describe") == 0 && o.nargs == 1) {
		json_object_object_add(req, "op", json_object_new_string("describe"));
		json_object_object_add(req, "tenant", json_object_new_string(o.args[0]));
	} else if (strcmp(verb, "set") == 0 && o.nargs == 2 && strcmp(o.args[0], "gpu") == 0 &&
		   (o.mode || o.sm_split)) {
		char *end;
		long g = strtol(o.args[1], &end, 10);
		if (!*o.args[1] || *end || g < 0) {
			fprintf(stderr, "cuslice set gpu: \"%s\" is not a GPU index\n", o.args[1]);
			json_object_put(req);
			return 2;
		}
		json_object_object_add(req, "op", json_object_new_string("set-gpu"));
		json_object_object_add(req, "gpu", json_object_new_int((int)g));
		if (o.mode)
			json_object_object_add(req, "mode", json_object_new_string(o.mode));
		if (o.sm_split)
			json_object_object_add(req, "sm_split", json_object_new_string(o.sm_split));
		list_key = "node";
	} else if (strcmp(verb, "set") == 0 && o.nargs == 1 && !o.mode && !o.sm_split &&
		   (o.vram || o.weight || o.limit || o.priority || o.gpus || o.enforce || o.audit ||
		    o.sm || o.isolated)) {
		json_object_object_add(req, "op", json_object_new_string("set"));
		json_object_object_add(req, "tenant", json_object_new_string(o.args[0]));
		/* the options given, as the daemon checks them: strings, verbatim */
		const struct {
			const char *key, *value;
		} fields[] = {{"vram", o.vram}, {"limit", o.limit},	 {"priority", o.priority},
			      {"gpus", o.gpus}, {"enforce", o.enforce},	 {"audit", o.audit},
			      {"sm", o.sm},	{"isolated", o.isolated}};
		for (size_t i = 0; i < sizeof(fields) / sizeof(*fields); i++)
			if (fields[i].value)
				json_object_object_add(req, fields[i].key,
						       json_object_new_string(fields[i].value));
		if (o.weight) {
			char *end;
			long long w = strtoll(o.weight, &end, 10);
			if (!*o.weight || *end) {
				fprintf(stderr,
					"cuslice set: --weight \"%s\": use a whole number from 1 "
					"to 10000\n",
					o.weight);
				json_object_put(req);
				return 2;
			}
			json_object_object_add(req, "weight", json_object_new_int64(w));
		}
	} else {
		fprintf(stderr, "cuslice %s: expected %s\n", verb,
			strcmp(verb, "get") == 0 ? "`cuslice get tenants` or `cuslice get node`"
			: strcmp(verb, "set") == 0
				? "`cuslice set TENANT --vram SIZE` (or --weight, "
				  "--limit, --priority, --gpus, --enforce, --audit, "
				  "--sm, --isolated) or `cuslice set gpu N --mode "
				  "MODE` (or --sm-split)"
				: "`cuslice describe TENANT`");
		json_object_put(req);
		return 2;
	}
	json_object *reply = admin_ask(o.socket, req);
	json_object_put(req);
	if (!reply)
		return 1;
	r = print_reply(reply, &o, list_key);
	json_object_put(reply);
	return r;
}
