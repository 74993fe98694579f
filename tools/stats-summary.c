/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "policy/size.h"
#include "stats-summary.h"

#define MAX_PATHS 128

struct path_count {
	char name[64];
	int64_t calls;
};

struct summary {
	int processes;
	int64_t run, launched, captured, graph_nodes, graphs, host_funcs;
	int64_t allocs, bytes, frees, dlsym_hooked, procaddr_hooked, unmatched;
	struct path_count paths[MAX_PATHS];
	int npaths;
};

static int64_t get(json_object *root, const char *a, const char *b)
{
	json_object *node;

	if (!json_object_object_get_ex(root, a, &node))
		return 0;
	if (b && !json_object_object_get_ex(node, b, &node))
		return 0;
	return json_object_get_int64(node);
}

static void add_path(struct summary *s, const char *name, int64_t calls)
{
	int i;

	for (i = 0; i < s->npaths && strcmp(s->paths[i].name, name) != 0; i++)
		;
	if (i == s->npaths) {
		if (s->npaths == MAX_PATHS)
			return;
		snprintf(s->paths[s->npaths++].name, sizeof(s->paths[0].name), "%s", name);
	}
	s->paths[i].calls += calls;
}

static void add_file(struct summary *s, json_object *root)
{
	json_object *calls;

	s->processes++;
	s->run += get(root, "kernels", "run");
	s->launched += get(root, "kernels", "launched");
	s->captured += get(root, "kernels", "captured");
	s->graph_nodes += get(root, "kernels", "graph_nodes");
	s->graphs += get(root, "graphs", "launched");
	s->host_funcs += get(root, "host_funcs", NULL);
	s->allocs += get(root, "allocations", "count");
	s->bytes += get(root, "allocations", "bytes");
	s->frees += get(root, "allocations", "frees");
	s->dlsym_hooked += get(root, "resolution", "dlsym_hooked");
	s->procaddr_hooked += get(root, "resolution", "procaddr_hooked");
	s->unmatched += get(root, "resolution", "procaddr_unmatched");
	if (json_object_object_get_ex(root, "calls", &calls)) {
		json_object_object_foreach(calls, name, entry)
		{
			if (strncmp(name, "cuLaunch", 8) == 0 ||
			    strncmp(name, "cuGraphLaunch", 13) == 0)
				add_path(s, name, get(entry, "calls", NULL));
		}
	}
}

static int by_calls(const void *a, const void *b)
{
	int64_t x = ((const struct path_count *)a)->calls,
		y = ((const struct path_count *)b)->calls;
	return (x < y) - (x > y);
}

static void print(const struct summary *s, FILE *out)
{
	fprintf(out, "cuslice: what the shim saw in %d process%s\n", s->processes,
		s->processes == 1 ? "" : "es");
	fprintf(out,
		"  kernels run       %10" PRId64 "  (launched %" PRId64
		", captured into graphs %" PRId64 ", run by graph launches %" PRId64 ")\n",
		s->run, s->launched, s->captured, s->graph_nodes);
	fprintf(out, "  graph launches    %10" PRId64 "\n", s->graphs);
	fprintf(out, "  host functions    %10" PRId64 "\n", s->host_funcs);
	char bytes[32];
	policy_size_format((uint64_t)s->bytes, bytes, sizeof(bytes));
	fprintf(out, "  allocations       %10" PRId64 "  (%s), frees %" PRId64 "\n", s->allocs,
		bytes, s->frees);
	fprintf(out,
		"  entry points      %10" PRId64 "  wrapped via cuGetProcAddress, %" PRId64
		" via dlsym; %" PRId64 " variants unmatched\n",
		s->procaddr_hooked, s->dlsym_hooked, s->unmatched);
	if (s->npaths) {
		fprintf(out, "  launch paths     ");
		for (int i = 0; i < s->npaths && i < 6; i++)
			fprintf(out, " %s %" PRId64 "%s", s->paths[i].name, s->paths[i].calls,
				i + 1 < s->npaths && i < 5 ? "," : "");
		fputc('\n', out);
	}
}

int stats_summary_print(const char *dir, FILE *out)
{
	struct summary *s = calloc(1, sizeof(*s));
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!s || !d) {
		int r = -errno;
		free(s);
		if (d)
			closedir(d);
		return r;
	}
	while ((e = readdir(d))) {
		char path[4096];
		if (strncmp(e->d_name, "stats.", 6) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		json_object *root = json_object_from_file(path);
		if (!root)
			continue;
		add_file(s, root);
		json_object_put(root);
	}
	closedir(d);
	qsort(s->paths, s->npaths, sizeof(s->paths[0]), by_calls);
	if (s->processes)
		print(s, out);
	else
		fprintf(out, "cuslice: no process loaded the shim (a statically linked program, or "
			     "LD_PRELOAD cleared on the way?)\n");
	free(s);
	return 0;
}

void stats_dir_remove(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[4096];
		if (strncmp(e->d_name, "stats.", 6) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}
