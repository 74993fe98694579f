/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What graphs run. A graph launch runs the kernel nodes of its executable
 * graph, counted once at instantiation; launches made into a stream under
 * capture are recorded into a graph instead of running. Both keep the
 * shim's "kernels run" equal to what the GPU executes.
 *
 * Executable graphs live in a fixed open-addressing table: inserts (at
 * instantiation) take a mutex, lookups (at every graph launch) take none.
 *
 * Graphs also move with the tenant's partition (moves.h). A kernel node
 * runs in the context its kernel was captured (or added) in, whatever the
 * stream the graph is launched on and wherever it was instantiated; measured
 * on an H100, a node runs on another context's SMs once it names its kernel
 * as a CUkernel with that context (as the runtime's nodes can: they carry
 * both the function and the kernel) instead of as a function. So where
 * running processes are moved, each graph instantiated in a stand-in keeps a
 * copy of its graph, and its first launch after a move instantiates a copy
 * whose kernel nodes name the successor, and launches that instead, from
 * then on, on the stream's shadow; a whole-graph update (cuGraphExecUpdate)
 * replaces the copy, and the next launch makes it again. A node that names
 * only its function is given its kernel where its module was loaded as a
 * library (modules.c, which loads modules so where processes may move). A
 * graph stays where it was made if a kernel node names only a function of
 * another module, if it was changed node by node (cuGraphExec*SetParams and
 * the like), or if the driver will not instantiate it twice (with memory
 * nodes).
 */
#include <pthread.h>
#include <stdlib.h>

#include "moves.h"
#include "partition.h"
#include "shim.h"
#include "stats.h"

#define SLOTS 8192 /* power of two */
#define MAX_DEPTH 8
#define TOMBSTONE ((CUgraphExec)1)

/* The copy instantiated where a graph moved to. */
struct moved {
	CUgraphExec exec;
	CUcontext ctx;	     /* where it was instantiated; NULL: out of date */
	struct moved *older; /* for earlier moves: destroyed with the graph */
};

struct slot {
	CUgraphExec exec; /* published last, with release order */
	uint64_t kernels;
	/* for moves, under slots_lock */
	CUcontext ctx;		  /* current when it was instantiated */
	CUgraph copy;		  /* its graph, to instantiate again; NULL: it stays */
	unsigned long long flags; /* those it was instantiated with */
	struct moved *moved;	  /* latest first */
};

static struct slot slots[SLOTS];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t count_copies, count_made, count_stayed;

unsigned shim_captures_active;

static struct {
	__typeof__(&cuStreamIsCapturing) is_capturing;
	__typeof__(&cuStreamIsCapturing_ptsz) is_capturing_ptsz;
	__typeof__(&cuGraphGetNodes) get_nodes;
	__typeof__(&cuGraphNodeGetType) node_type;
	__typeof__(&cuGraphChildGraphNodeGetGraph) child_graph;
	__typeof__(&cuGraphKernelNodeGetParams_v2) kernel_get;
	__typeof__(&cuGraphKernelNodeSetParams_v2) kernel_set;
	__typeof__(&cuCtxGetCurrent) get_current;
	__typeof__(&cuCtxPushCurrent_v2) push;
	__typeof__(&cuCtxPopCurrent_v2) pop;
	__typeof__(&cuGraphClone) clone;
	__typeof__(&cuGraphDestroy) graph_destroy;
	__typeof__(&cuGraphInstantiateWithFlags) instantiate;
	__typeof__(&cuGraphExecDestroy) exec_destroy;
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
#define SYM(field, name) drv.field = (__typeof__(drv.field))shim_driver_symbol(name)
	SYM(kernel_get, "cuGraphKernelNodeGetParams_v2");
	SYM(kernel_set, "cuGraphKernelNodeSetParams_v2");
	SYM(get_current, "cuCtxGetCurrent");
	SYM(push, "cuCtxPushCurrent_v2");
	SYM(pop, "cuCtxPopCurrent_v2");
	SYM(clone, "cuGraphClone");
	SYM(graph_destroy, "cuGraphDestroy");
	SYM(instantiate, "cuGraphInstantiateWithFlags");
	SYM(exec_destroy, "cuGraphExecDestroy");
#undef SYM
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

/* The nodes of `graph` (*n of them; free() them), or NULL. */
static CUgraphNode *nodes_of(CUgraph graph, size_t *n)
{
	CUgraphNode *nodes = NULL;

	*n = 0;
	if (!drv.get_nodes || !drv.node_type || drv.get_nodes(graph, NULL, n) != CUDA_SUCCESS)
		return NULL;
	nodes = calloc(*n ? *n : 1, sizeof(*nodes));
	if (nodes && drv.get_nodes(graph, nodes, n) != CUDA_SUCCESS) {
		free(nodes);
		nodes = NULL;
	}
	return nodes;
}

static uint64_t count_kernels(CUgraph graph, int depth)
{
	size_t n;
	uint64_t kernels = 0;
	CUgraphNode *nodes = depth <= MAX_DEPTH ? nodes_of(graph, &n) : NULL;

	for (size_t i = 0; nodes && i < n; i++) {
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

static struct slot *slot_find(CUgraphExec exec)
{
	for (size_t i = shim_handle_slot(exec, SLOTS), probes = 0; probes < SLOTS;
	     i = (i + 1) & (SLOTS - 1), probes++) {
		CUgraphExec k = __atomic_load_n(&slots[i].exec, __ATOMIC_ACQUIRE);
		if (k == exec)
			return &slots[i];
		if (!k)
			return NULL;
	}
	return NULL;
}

/* The slot of `exec`, claimed if it has none; under slots_lock. NULL: the table is full. */
static struct slot *slot_claim(CUgraphExec exec)
{
	struct slot *s = slot_find(exec);

	for (size_t i = shim_handle_slot(exec, SLOTS), probes = 0; !s && probes < SLOTS;
	     i = (i + 1) & (SLOTS - 1), probes++)
		if (!slots[i].exec || slots[i].exec == TOMBSTONE)
			s = &slots[i];
	return s;
}

/* What a slot keeps for moves, given up; under slots_lock. */
static void slot_clear(struct slot *s)
{
	if (s->copy)
		drv.graph_destroy(s->copy);
	for (struct moved *m = s->moved, *older; m; m = older) {
		older = m->older;
		drv.exec_destroy(m->exec);
		free(m);
	}
	s->copy = NULL;
	s->moved = NULL;
	s->ctx = NULL;
}

/* From now on the graph of slot `s` runs where it was made; under slots_lock. */
static void slot_stays(struct slot *s)
{
	bool moving = s->copy != NULL;

	if (s->copy)
		drv.graph_destroy(s->copy);
	s->copy = NULL;
	for (struct moved *m = s->moved; m; m = m->older) {
		moving |= m->ctx != NULL;
		m->ctx = NULL;
	}
	if (moving)
		__atomic_fetch_add(&count_stayed, 1, __ATOMIC_RELAXED);
}

/* A copy of `graph` where the process may be moved; NULL where not. */
static CUgraph copy_for_moves(CUcontext ctx, CUgraph graph)
{
	CUgraph copy = NULL;

	if (!ctx || !drv.clone || !drv.instantiate || !drv.kernel_set || !partition_movable(ctx) ||
	    drv.clone(&copy, graph) != CUDA_SUCCESS)
		return NULL;
	__atomic_fetch_add(&count_copies, 1, __ATOMIC_RELAXED);
	return copy;
}

void graphs_track_new(CUgraphExec *exec, CUgraph graph, unsigned long long flags)
{
	uint64_t kernels = count_kernels(graph, 0);
	CUcontext ctx = NULL;

	if (drv.get_current)
		drv.get_current(&ctx);
	CUgraph copy = copy_for_moves(ctx, graph);
	if (shim_config.debug && drv.clone)
		shim_log("debug: graph %p instantiated in %p, %s", (void *)*exec, (void *)ctx,
			 copy ? "a copy kept to move it" : "no copy kept: it stays there");
	pthread_mutex_lock(&slots_lock);
	struct slot *s = slot_claim(*exec);
	if (s) {
		slot_clear(s);
		s->ctx = ctx;
		s->copy = copy;
		/* made again where nothing is uploaded */
		s->flags = flags & ~(unsigned long long)CUDA_GRAPH_INSTANTIATE_FLAG_UPLOAD;
		__atomic_store_n(&s->kernels, kernels, __ATOMIC_RELAXED);
		__atomic_store_n(&s->exec, *exec, __ATOMIC_RELEASE);
	} else if (copy) {
		drv.graph_destroy(copy);
	}
	pthread_mutex_unlock(&slots_lock);
}

void graphs_updated(CUgraphExec exec, CUgraph graph)
{
	uint64_t kernels = count_kernels(graph, 0);

	pthread_mutex_lock(&slots_lock);
	struct slot *s = slot_find(exec);
	if (s) {
		__atomic_store_n(&s->kernels, kernels, __ATOMIC_RELAXED);
		if (s->copy) { /* the copy follows */
			drv.graph_destroy(s->copy);
			if (drv.clone(&s->copy, graph) != CUDA_SUCCESS)
				s->copy = NULL;
		}
		for (struct moved *m = s->moved; m; m = m->older)
			m->ctx = NULL; /* made again from the copy at its next launch */
		if (!s->copy)
			slot_stays(s);
	}
	pthread_mutex_unlock(&slots_lock);
}

void graphs_stay(CUgraphExec exec)
{
	pthread_mutex_lock(&slots_lock);
	struct slot *s = slot_find(exec);
	if (s)
		slot_stays(s);
	pthread_mutex_unlock(&slots_lock);
}

void graphs_forget(CUgraphExec exec)
{
	pthread_mutex_lock(&slots_lock);
	struct slot *s = slot_find(exec);
	if (s) {
		slot_clear(s);
		__atomic_store_n(&s->exec, TOMBSTONE, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&slots_lock);
}

/* Makes the kernel nodes of `graph`, and of the graphs in it, run in `to`:
 * false where one names no CUkernel or the driver refused. */
static bool retarget(CUgraph graph, CUcontext to, int depth)
{
	size_t n;
	CUgraphNode *nodes = depth <= MAX_DEPTH ? nodes_of(graph, &n) : NULL;
	bool ok = nodes != NULL;

	for (size_t i = 0; ok && i < n; i++) {
		CUgraphNodeType type;
		CUDA_KERNEL_NODE_PARAMS p;
		CUgraph child;
		ok = drv.node_type(nodes[i], &type) == CUDA_SUCCESS;
		if (ok && type == CU_GRAPH_NODE_TYPE_KERNEL) {
			ok = drv.kernel_get(nodes[i], &p) == CUDA_SUCCESS;
			if (ok && !p.kern) /* added by the program with its function only */
				p.kern = modules_kernel(p.func);
			ok = ok && p.kern;
			p.func = NULL; /* else the function's own context is used */
			p.ctx = to;
			ok = ok && drv.kernel_set(nodes[i], &p) == CUDA_SUCCESS;
		} else if (ok && type == CU_GRAPH_NODE_TYPE_GRAPH) {
			ok = drv.child_graph && drv.child_graph(nodes[i], &child) == CUDA_SUCCESS &&
			     retarget(child, to, depth + 1);
		}
	}
	free(nodes);
	return ok;
}

/* The copy of slot `s` instantiated in `to`, made now if need be; under
 * slots_lock. NULL: the graph stays where it was. */
static struct moved *moved_to(struct slot *s, CUcontext to)
{
	static int said;
	struct moved *m = s->moved;
	CUcontext popped;

	if (m && m->ctx == to)
		return m;
	if (!s->copy)
		return NULL;
	CUgraph there = NULL;
	m = calloc(1, sizeof(*m));
	CUresult rc = m ? drv.clone(&there, s->copy) : CUDA_ERROR_OUT_OF_MEMORY;
	if (rc == CUDA_SUCCESS && !retarget(there, to, 0))
		rc = CUDA_ERROR_NOT_SUPPORTED;
	if (rc == CUDA_SUCCESS)
		rc = drv.push(to);
	if (rc == CUDA_SUCCESS) {
		rc = drv.instantiate(&m->exec, there, s->flags);
		drv.pop(&popped);
	}
	if (there)
		drv.graph_destroy(there);
	if (rc != CUDA_SUCCESS) {
		if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
			shim_log("a CUDA graph could not be made again on the tenant's new SMs "
				 "(CUDA error %d%s): it runs on the old ones",
				 rc,
				 rc == CUDA_ERROR_NOT_SUPPORTED
					 ? ", a kernel named by its function only"
					 : "");
		free(m);
		slot_stays(s);
		return NULL;
	}
	if (shim_config.debug)
		shim_log("debug: graph %p instantiated again in %p, where it moved",
			 (void *)s->exec, (void *)to);
	m->ctx = to;
	m->older = s->moved; /* a launch on another thread may still be using it */
	s->moved = m;
	__atomic_fetch_add(&count_made, 1, __ATOMIC_RELAXED);
	return m;
}

bool graphs_moving(CUgraphExec *exec)
{
	bool moves = false;

	pthread_mutex_lock(&slots_lock);
	struct slot *s = slot_find(*exec);
	if (s && s->ctx) {
		CUcontext to = moves_successor(s->ctx);
		struct moved *m = to ? moved_to(s, to) : NULL;
		if (m)
			*exec = m->exec;
		moves = m || !to; /* made where its stream's launches now run */
	}
	pthread_mutex_unlock(&slots_lock);
	return moves;
}

void graphs_move_stats(uint64_t *copies, uint64_t *made, uint64_t *stayed)
{
	*copies = __atomic_load_n(&count_copies, __ATOMIC_RELAXED);
	*made = __atomic_load_n(&count_made, __ATOMIC_RELAXED);
	*stayed = __atomic_load_n(&count_stayed, __ATOMIC_RELAXED);
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
