/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What graphs run. A graph launch runs the kernel nodes of its executable
 * graph, counted once at instantiation; launches made into a stream under
 * capture are recorded into a graph instead of running. Both keep the
 * shim's "kernels run" equal to what the GPU executes.
 *
 * Executable graphs live in a fixed open-addressing table: inserts (at
 * instantiation) take a mutex, lookups (at every graph launch) take none.
 */
#include <pthread.h>
#include <stdlib.h>

#include "shim.h"
#include "stats.h"

#define SLOTS 8192 /* power of two */
#define MAX_DEPTH 8
#define TOMBSTONE ((CUgraphExec)1)

struct slot {
	CUgraphExec exec; /* published last, with release order */
	uint64_t kernels;
};

static struct slot slots[SLOTS];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;

unsigned shim_captures_active;

static struct {
	__typeof__(&cuStreamIsCapturing) is_capturing;
	__typeof__(&cuStreamIsCapturing_ptsz) is_capturing_ptsz;
	__typeof__(&cuGraphGetNodes) get_nodes;
	__typeof__(&cuGraphNodeGetType) node_type;
	__typeof__(&cuGraphChildGraphNodeGetGraph) child_graph;
} drv;

void graphs_bind(void)
{
	drv.is_capturing = (__typeof__(drv.is_capturing))shim_driver_symbol("cuStreamIsCapturing");
	drv.is_capturing_ptsz =
		(__typeof__(drv.is_capturing_ptsz))shim_driver_symbol("cuStreamIsCapturing_ptsz");
	drv.get_nodes = (__typeof__(drv.get_nodes))shim_driver_symbol("cuGraphGetNodes");
	drv.node_type = (__typeof__(drv.node_type))shim_driver_symbol("cuGraphNodeGetType");
	drv.child_graph =
		(__typeof__(drv.child_graph))shim_driver_symbol("cuGraphChildGraphNodeGetGraph");
}

void graphs_capture_begun(void)
{
	__atomic_fetch_add(&shim_captures_active, 1, __ATOMIC_RELAXED);
}

bool graphs_stream_capturing(bool ptsz, CUstream stream)
{
	__typeof__(&cuStreamIsCapturing) fn = ptsz ? drv.is_capturing_ptsz : drv.is_capturing;
	CUstreamCaptureStatus status;

	/* An error (the legacy stream during a global capture) means the
	 * launch itself will not be recorded either. */
	return fn && fn(stream, &status) == CUDA_SUCCESS &&
	       status == CU_STREAM_CAPTURE_STATUS_ACTIVE;
}

/* The counter only says whether any capture may be active; it must never
 * stay below the truth, so an end that failed counts only once the stream
 * is seen no longer capturing. */
void graphs_capture_ended(bool ptsz, CUstream stream, CUresult rc)
{
	unsigned n = __atomic_load_n(&shim_captures_active, __ATOMIC_RELAXED);

	if (rc != CUDA_SUCCESS && graphs_stream_capturing(ptsz, stream))
		return;
	while (n > 0 && !__atomic_compare_exchange_n(&shim_captures_active, &n, n - 1, false,
						     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static uint64_t count_kernels(CUgraph graph, int depth)
{
	size_t n = 0;
	uint64_t kernels = 0;

	if (depth > MAX_DEPTH || !drv.get_nodes || !drv.node_type ||
	    drv.get_nodes(graph, NULL, &n) != CUDA_SUCCESS || n == 0)
		return 0;
	CUgraphNode *nodes = calloc(n, sizeof(*nodes));
	if (!nodes || drv.get_nodes(graph, nodes, &n) != CUDA_SUCCESS)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		CUgraphNodeType type;
		CUgraph child;
		if (drv.node_type(nodes[i], &type) != CUDA_SUCCESS)
			continue;
		if (type == CU_GRAPH_NODE_TYPE_KERNEL)
			kernels++;
		else if (type == CU_GRAPH_NODE_TYPE_GRAPH && drv.child_graph &&
			 drv.child_graph(nodes[i], &child) == CUDA_SUCCESS)
			kernels += count_kernels(child, depth + 1);
	}
	free(nodes);
	return kernels;
}

static size_t slot_hash(CUgraphExec exec)
{
	return (size_t)(((uintptr_t)exec >> 4) * 0x9e3779b97f4a7c15ull >> 32) & (SLOTS - 1);
}

static struct slot *slot_find(CUgraphExec exec)
{
	for (size_t i = slot_hash(exec), probes = 0; probes < SLOTS;
	     i = (i + 1) & (SLOTS - 1), probes++) {
		CUgraphExec k = __atomic_load_n(&slots[i].exec, __ATOMIC_ACQUIRE);
		if (k == exec)
			return &slots[i];
		if (!k)
			return NULL;
	}
	return NULL;
}

void graphs_track(CUgraphExec exec, CUgraph graph)
{
	uint64_t kernels = count_kernels(graph, 0);
	struct slot *s;

	pthread_mutex_lock(&slots_lock);
	s = slot_find(exec);
	for (size_t i = slot_hash(exec), probes = 0; !s && probes < SLOTS;
	     i = (i + 1) & (SLOTS - 1), probes++)
		if (!slots[i].exec || slots[i].exec == TOMBSTONE)
			s = &slots[i];
	if (s) {
		__atomic_store_n(&s->kernels, kernels, __ATOMIC_RELAXED);
		__atomic_store_n(&s->exec, exec, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&slots_lock);
}

void graphs_track_new(CUgraphExec *exec, CUgraph graph)
{
	graphs_track(*exec, graph);
}

void graphs_forget(CUgraphExec exec)
{
	pthread_mutex_lock(&slots_lock);
	struct slot *s = slot_find(exec);
	if (s)
		__atomic_store_n(&s->exec, TOMBSTONE, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&slots_lock);
}

void graphs_launched(CUgraphExec exec)
{
	struct slot *s = slot_find(exec);

	if (s)
		stats_add(&shim_stats.graph_kernel_nodes,
			  __atomic_load_n(&s->kernels, __ATOMIC_RELAXED));
	else
		stats_add(&shim_stats.graph_unknown, 1);
}

/* After fork: the child starts with no capture of its own. */
void graphs_reset(void)
{
	shim_captures_active = 0;
}
