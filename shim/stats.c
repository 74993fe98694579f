/* SPDX-License-Identifier: Apache-2.0 */
/* The per-process counters and their JSON form (CUSLICE_STATS). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "policy/pathfmt.h"
#include "gate.h"
#include "legacy.h"
#include "moves.h"
#include "memory.h"
#include "stats.h"
#include "tenant.h"

struct shim_stats shim_stats;

static unsigned unmatched_count;

void stats_note_unmatched(const char *name)
{
	unsigned i = __atomic_fetch_add(&unmatched_count, 1, __ATOMIC_RELAXED);

	if (i < STATS_UNMATCHED_MAX)
		snprintf(shim_stats.unmatched[i], STATS_NAME_MAX, "%s", name);
}

void stats_reset(void)
{
	memset(&shim_stats, 0, sizeof(shim_stats));
	unmatched_count = 0;
}

static uint64_t load(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

struct totals {
	uint64_t launched, captured, host_funcs, graphs, alloc_count, alloc_bytes, frees;
};

static struct totals totals_sum(void)
{
	struct totals t = {0};

	for (int i = 0; i < HOOK_COUNT; i++) {
		uint64_t ok = load(&shim_stats.calls[i]) - load(&shim_stats.failed[i]);
		switch (shim_hooks[i].kind) {
		case KIND_LAUNCH:
			t.launched += ok;
			t.captured += load(&shim_stats.captured[i]);
			break;
		case KIND_HOSTFN:
			t.host_funcs += ok;
			break;
		case KIND_GRAPH:
			t.graphs += ok;
			break;
		case KIND_ALLOC:
			t.alloc_count += ok;
			t.alloc_bytes += load(&shim_stats.bytes[i]);
			break;
		case KIND_FREE:
			t.frees += ok;
			break;
		default:
			break;
		}
	}
	return t;
}

static void write_calls(FILE *f)
{
	const char *sep = "";

	fputs("  \"calls\": {", f);
	for (int i = 0; i < HOOK_COUNT; i++) {
		if (!load(&shim_stats.calls[i]))
			continue;
		fprintf(f,
			"%s\n    \"%s\": {\"calls\": %" PRIu64 ", \"failed\": %" PRIu64
			", \"captured\": %" PRIu64 ", \"bytes\": %" PRIu64 "}",
			sep, shim_hooks[i].name, load(&shim_stats.calls[i]),
			load(&shim_stats.failed[i]), load(&shim_stats.captured[i]),
			load(&shim_stats.bytes[i]));
		sep = ",";
	}
	fputs("\n  },\n", f);
}

static void write_resolution(FILE *f)
{
	unsigned n = __atomic_load_n(&unmatched_count, __ATOMIC_RELAXED);

	fprintf(f,
		"  \"resolution\": {\"dlsym_hooked\": %" PRIu64 ", \"procaddr_lookups\": %" PRIu64
		", \"procaddr_hooked\": %" PRIu64 ", \"procaddr_unmatched\": %" PRIu64
		", \"unmatched_names\": [",
		load(&shim_stats.dlsym_hooked), load(&shim_stats.procaddr_lookups),
		load(&shim_stats.procaddr_hooked), load(&shim_stats.procaddr_unmatched));
	for (unsigned i = 0; i < n && i < STATS_UNMATCHED_MAX; i++)
		fprintf(f, "%s\"%s\"", i ? ", " : "", shim_stats.unmatched[i]);
	fputs("]}\n", f);
}

/* The tenant's quota as this process leaves it, and what a context cost. */
static void write_vram(FILE *f)
{
	struct cuslice_segment *seg = tenant_segment();

	fprintf(f, "  \"vram\": {\"limited\": %s, \"devices\": [", seg ? "true" : "false");
	for (uint32_t i = 0; seg && i < seg->ndevices; i++)
		fprintf(f,
			"%s{\"quota\": %" PRIu64 ", \"tenant_reserved\": %" PRIu64
			", \"context_overhead\": %" PRIu64 "}",
			i ? ", " : "", __atomic_load_n(&seg->devices[i].quota, __ATOMIC_RELAXED),
			__atomic_load_n(&seg->devices[i].reserved, __ATOMIC_RELAXED),
			contexts_overhead((CUdevice)i));
	fputs("]},\n", f);
}

/* The pacing this process saw, and its most-sampled kernel costs. */
static void write_gate(FILE *f)
{
	struct gate_cost costs[5];
	int n = gate_costs(costs, 5);
	struct cuslice_sched *s = shim_gate;

	fprintf(f, "  \"gate\": {\"share_ppm\": %u, \"throttled_ns\": %" PRIu64 ", \"costs\": [",
		s ? __atomic_load_n(&s->share_ppm, __ATOMIC_RELAXED) : 0,
		s ? __atomic_load_n(&s->throttled_ns, __ATOMIC_RELAXED) : 0);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s{\"key\": %" PRIu64 ", \"ns\": %u, \"samples\": %u}", i ? ", " : "",
			costs[i].key, costs[i].ns, costs[i].samples);
	struct hold_stats h;
	hold_stats(&h);
	fprintf(f,
		"], \"held_samples\": %" PRIu64 ", \"forced_releases\": %" PRIu64
		", \"event_pair_ns\": %u},\n",
		h.held, h.forced, h.pair_ns);
}

/* Launches moved to the tenant's new SMs after its partition changed. */
static void write_moves(FILE *f)
{
	struct moves_stats m;
	uint64_t copies, made, stayed;

	moves_stats(&m);
	if (!m.retired)
		return;
	graphs_move_stats(&copies, &made, &stayed);
	fprintf(f,
		"  \"moves\": {\"retired\": %" PRIu64 ", \"moved\": %" PRIu64
		", \"unmoved\": %" PRIu64 ", \"refused\": %" PRIu64 ", \"shadows\": %" PRIu64
		", \"graph_copies\": %" PRIu64 ", \"graphs_made\": %" PRIu64
		", \"graphs_stayed\": %" PRIu64 ", \"libraries\": %" PRIu64 "},\n",
		m.retired, m.moved, m.unmoved, m.refused, m.shadows, copies, made, stayed,
		modules_libraries());
}

/* The legacy stream's implicit synchronisation, kept where green contexts lack it. */
static void write_legacy(FILE *f)
{
	struct legacy_stats l;

	legacy_stats(&l);
	if (!l.streams)
		return;
	fprintf(f,
		"  \"legacy_order\": {\"blocking_streams\": %" PRIu64 ", \"waits\": %" PRIu64
		", \"records\": %" PRIu64 "},\n",
		l.streams, l.waits, l.records);
}

static void write_json(FILE *f)
{
	struct totals t = totals_sum();
	uint64_t multi = load(&shim_stats.multi_kernels);
	uint64_t nodes = load(&shim_stats.graph_kernel_nodes);

	fprintf(f, "{\n  \"version\": 1,\n  \"pid\": %d,\n", (int)getpid());
	fprintf(f,
		"  \"kernels\": {\"run\": %" PRIu64 ", \"launched\": %" PRIu64
		", \"captured\": %" PRIu64 ", \"graph_nodes\": %" PRIu64
		", \"multi_device\": %" PRIu64 "},\n",
		t.launched - t.captured + nodes + multi, t.launched, t.captured, nodes, multi);
	fprintf(f, "  \"graphs\": {\"launched\": %" PRIu64 ", \"unknown\": %" PRIu64 "},\n",
		t.graphs, load(&shim_stats.graph_unknown));
	fprintf(f, "  \"host_funcs\": %" PRIu64 ",\n", t.host_funcs);
	fprintf(f,
		"  \"allocations\": {\"count\": %" PRIu64 ", \"bytes\": %" PRIu64
		", \"frees\": %" PRIu64 "},\n",
		t.alloc_count, t.alloc_bytes, t.frees);
	write_vram(f);
	write_gate(f);
	write_moves(f);
	write_legacy(f);
	write_calls(f);
	write_resolution(f);
	fputs("}\n", f);
}

static int stats_open(const char *path_template, int flags)
{
	char path[4096];
	int r = policy_path_expand(path_template, getpid(), path, sizeof(path));

	if (r < 0)
		return r;
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
	return fd < 0 ? -errno : fd;
}

int stats_check_path(const char *path_template)
{
	int fd = stats_open(path_template, 0);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int stats_write(const char *path_template)
{
	int fd = stats_open(path_template, O_TRUNC);

	if (fd < 0)
		return fd;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		int r = -errno;
		close(fd);
		return r;
	}
	write_json(f);
	return fclose(f) == 0 ? 0 : -errno;
}
