/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-process counters of what the shim saw: the oracle that tests and
 * benchmarks compare against. Updated with relaxed atomics only (no lock, no
 * syscall), so the launch path stays a handful of instructions.
 */
#pragma once

#include "shim.h"

#define STATS_UNMATCHED_MAX 16
#define STATS_NAME_MAX 64

struct shim_stats {
	uint64_t calls[HOOK_COUNT];
	uint64_t failed[HOOK_COUNT];
	uint64_t bytes[HOOK_COUNT];
	uint64_t captured[HOOK_COUNT]; /* launches recorded into a graph, not run */
	uint64_t multi_kernels;	       /* kernels started by multi-device launches */
	uint64_t graph_kernel_nodes;   /* kernels run by graph launches */
	uint64_t graph_unknown;	       /* graph launches of an exec not seen instantiated */
	uint64_t dlsym_hooked;
	uint64_t procaddr_lookups;
	uint64_t procaddr_hooked;
	uint64_t procaddr_unmatched;
	char unmatched[STATS_UNMATCHED_MAX][STATS_NAME_MAX];
};

extern SHIM_HIDDEN struct shim_stats shim_stats;

static inline void stats_add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static inline void stats_count(enum shim_hook id)
{
	stats_add(&shim_stats.calls[id], 1);
}

static inline void stats_failed(enum shim_hook id)
{
	stats_add(&shim_stats.failed[id], 1);
}

void stats_note_unmatched(const char *name);
void stats_reset(void);
int stats_write(const char *path_template);
int stats_check_path(const char *path_template);
