/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wrapper templates, one per kind of hook in hooks.h. Each expands to an
 * exported function with the driver's own name and prototype (cuda.h checks
 * the prototype), which counts the call and forwards it to the real entry
 * point. Launch templates stay free of syscalls, locks, allocation and
 * getenv: one relaxed atomic add, one predicted branch, an indirect call.
 */
#pragma once

#include "shim.h"
#include "gate.h"
#include "legacy.h"
#include "memory.h"
#include "moves.h"
#include "partition.h"
#include "stats.h"

#define UNPAREN(...) __VA_ARGS__

/* The first call through an entry point not yet resolved (a program linked
 * with -lcuda that skipped cuInit, say) loads the driver; the steady state
 * is one load and a predicted branch. */
CUresult wrap_unresolved(enum shim_hook id);
#define WRAP_RESOLVE(sym)                                           \
	do {                                                        \
		if (unlikely(!shim_real[HOOK_##sym])) {             \
			CUresult rc_ = wrap_unresolved(HOOK_##sym); \
			if (rc_ != CUDA_SUCCESS)                    \
				return rc_;                         \
		}                                                   \
	} while (0)

/* A failed call: counted, and a fatal GPU error reported (partition.c). */
void wrap_failed(enum shim_hook id, CUresult rc) __attribute__((cold));

static inline CUresult wrap_result(enum shim_hook id, CUresult rc)
{
	if (unlikely(rc != CUDA_SUCCESS))
		wrap_failed(id, rc);
	return rc;
}

static inline CUstream wrap_config_stream(const CUlaunchConfig *config)
{
	return config ? config->hStream : NULL;
}

/* Moves a launch whose stream can be rewritten (`slot`; NULL: it cannot);
 * the gate's leave ends the move. */
static inline void wrap_move(struct gate_ticket *t, bool ptsz, CUstream *slot)
{
	if (slot) {
		moves_enter_slow(&t->move, ptsz, slot);
		t->moved = t->move.to != NULL;
	}
}

/* A launch on `stream` once the process needs detours (shim_detours): kept
 * in order with the legacy stream, then moved; the gate's leave ends both. */
static inline void wrap_detour(struct gate_ticket *t, unsigned detours, bool ptsz, CUstream stream,
			       CUstream *slot)
{
	if (detours & DETOUR_LEGACY)
		t->ordered = legacy_before_slow(&t->order, ptsz, stream);
	if (detours & DETOUR_MOVES)
		wrap_move(t, ptsz, slot);
}

/* A moved launch that the driver refused: the gate gives back what it took
 * for it, and it is made again where it was (moves.h). */
static inline bool wrap_unmove(struct gate_ticket *t, CUresult rc, CUstream *slot)
{
	t->moved = false;
	gate_leave(t, rc);
	t->sampling = t->tracked = false; /* the gate is done with it */
	CUstream from = moves_undo(&t->move, rc);
	if (slot) /* it is: only launches with a stream are moved */
		*slot = from;
	return slot != NULL;
}

/* Where a moved launch writes its stream: a copy of the configuration,
 * which the launch then uses (the application's stays as it was). */
static inline CUstream *wrap_config_slot(const CUlaunchConfig **config, CUlaunchConfig *copy)
{
	if (!*config)
		return NULL;
	*copy = **config;
	*config = copy;
	return &copy->hStream;
}

#define WRAP_GRID(x, y, z) ((uint64_t)(x) * (uint64_t)(y) * (uint64_t)(z))

static inline uint64_t wrap_config_grid(const CUlaunchConfig *config)
{
	return config ? WRAP_GRID(config->gridDimX, config->gridDimY, config->gridDimZ) : 0;
}

/* Array footprints from their descriptors (any ABI version); NULL-safe, as
 * they are read before the driver has checked its arguments. */
size_t wrap_array_dims(size_t width, size_t height, size_t depth, CUarray_format format,
		       unsigned channels);
#define WRAP_ARRAY_BYTES(type, depth)                                                             \
	static inline size_t wrap_array_bytes_##type(const type *d)                               \
	{                                                                                         \
		return d ? wrap_array_dims(d->Width, d->Height, depth, d->Format, d->NumChannels) \
			 : 0;                                                                     \
	}
WRAP_ARRAY_BYTES(CUDA_ARRAY_DESCRIPTOR, 1)
WRAP_ARRAY_BYTES(CUDA_ARRAY_DESCRIPTOR_v1, 1)
WRAP_ARRAY_BYTES(CUDA_ARRAY3D_DESCRIPTOR, d->Depth)
WRAP_ARRAY_BYTES(CUDA_ARRAY3D_DESCRIPTOR_v1, d->Depth)
#define wrap_array_bytes(desc) \
	_Generic((desc), \
		const CUDA_ARRAY_DESCRIPTOR *: wrap_array_bytes_CUDA_ARRAY_DESCRIPTOR, \
		const CUDA_ARRAY_DESCRIPTOR_v1 *: wrap_array_bytes_CUDA_ARRAY_DESCRIPTOR_v1, \
		const CUDA_ARRAY3D_DESCRIPTOR *: wrap_array_bytes_CUDA_ARRAY3D_DESCRIPTOR, \
		const CUDA_ARRAY3D_DESCRIPTOR_v1 *: wrap_array_bytes_CUDA_ARRAY3D_DESCRIPTOR_v1)(desc)
size_t wrap_mipmap_bytes(const CUDA_ARRAY3D_DESCRIPTOR *desc, unsigned levels);

#define WRAP_CUSTOM(sym, ptsz, extra, params, args)

/* Counts the call, forwards it, and runs `on_success` when the driver succeeded;
 * sizes and handles are read only then, since out parameters (the pitch, say)
 * are unwritten on failure. */
#define WRAP_THEN(sym, params, args, on_success)    \
	SHIM_EXPORT CUresult sym params             \
	{                                           \
		WRAP_RESOLVE(sym);                  \
		stats_count(HOOK_##sym);            \
		CUresult rc = REAL(sym) args;       \
		if (likely(rc == CUDA_SUCCESS)) {   \
			on_success;                 \
		}                                   \
		return wrap_result(HOOK_##sym, rc); \
	}

#define WRAP_PASS(sym, ptsz, extra, params, args) WRAP_THEN(sym, params, args, (void)0)
/* A synchronisation: while one blocks, a tenant taking turns wants its turn
 * (gate.c); on success, the work waited for is done. */
#define WRAP_SYNC(sym, ptsz, extra, params, args)                          \
	SHIM_EXPORT CUresult sym params                                    \
	{                                                                  \
		WRAP_RESOLVE(sym);                                         \
		stats_count(HOOK_##sym);                                   \
		uint64_t turn_mark = (UNPAREN extra) ? gate_syncing() : 0; \
		CUresult rc = REAL(sym) args;                              \
		if (unlikely(turn_mark))                                   \
			gate_sync_done(turn_mark);                         \
		if (likely(rc == CUDA_SUCCESS))                            \
			gate_synced();                                     \
		return wrap_result(HOOK_##sym, rc);                        \
	}
static inline void wrap_stream_new(const CUstream *stream, unsigned flags)
{
	legacy_stream_created(*stream, flags);
}

/* An operation on a stream, in order with the legacy stream where the
 * context does not keep that itself (legacy.h). */
#define WRAP_ORDERED(sym, ptsz, extra, params, args)                       \
	SHIM_EXPORT CUresult sym params                                    \
	{                                                                  \
		struct legacy_op order;                                    \
		WRAP_RESOLVE(sym);                                         \
		stats_count(HOOK_##sym);                                   \
		bool ordered = legacy_before(&order, ptsz, UNPAREN extra); \
		CUresult rc = REAL(sym) args;                              \
		if (unlikely(ordered))                                     \
			legacy_after_slow(&order, rc);                     \
		return wrap_result(HOOK_##sym, rc);                        \
	}
#define WRAP_HOSTFN WRAP_ORDERED
#define WRAP_STREAM_NEW(sym, ptsz, extra, params, args) \
	WRAP_THEN(sym, params, args, wrap_stream_new(UNPAREN extra))
#define WRAP_STREAM_GONE(sym, ptsz, extra, params, args)        \
	SHIM_EXPORT CUresult sym params                         \
	{                                                       \
		WRAP_RESOLVE(sym);                              \
		stats_count(HOOK_##sym);                        \
		legacy_stream_destroyed(UNPAREN extra);         \
		return wrap_result(HOOK_##sym, REAL(sym) args); \
	}
#define WRAP_VIEW(sym, ptsz, extra, params, args) WRAP_THEN(sym, params, args, UNPAREN extra)
#define WRAP_CONTEXT_GONE WRAP_VIEW
/* A reset takes the partition's stand-in with it. */
#define WRAP_CONTEXT_RESET(sym, ptsz, extra, params, args) \
	SHIM_EXPORT CUresult sym params                    \
	{                                                  \
		WRAP_RESOLVE(sym);                         \
		stats_count(HOOK_##sym);                   \
		partition_primary_reset(dev);              \
		CUresult rc = REAL(sym) args;              \
		if (rc == CUDA_SUCCESS)                    \
			contexts_primary_reset(dev);       \
		return wrap_result(HOOK_##sym, rc);        \
	}
/* A context the partition made is a green context, destroyed as one. */
#define WRAP_CONTEXT_DESTROY(sym, ptsz, extra, params, args) \
	SHIM_EXPORT CUresult sym params                      \
	{                                                    \
		CUresult rc;                                 \
		WRAP_RESOLVE(sym);                           \
		stats_count(HOOK_##sym);                     \
		if (!partition_destroy(ctx, &rc))            \
			rc = REAL(sym) args;                 \
		if (rc == CUDA_SUCCESS)                      \
			contexts_destroyed(ctx);             \
		return wrap_result(HOOK_##sym, rc);          \
	}
#define WRAP_FREE(sym, ptsz, extra, params, args) \
	WRAP_THEN(sym, params, args, memory_credit(UNPAREN extra))
#define WRAP_MULTI(sym, ptsz, extra, params, args) \
	WRAP_THEN(sym, params, args, stats_add(&shim_stats.multi_kernels, UNPAREN extra))
#define WRAP_CAPTURE(sym, ptsz, extra, params, args) \
	WRAP_THEN(sym, params, args, graphs_capture_begun())
#define WRAP_INSTANTIATE(sym, ptsz, extra, params, args) \
	WRAP_THEN(sym, params, args, graphs_track_new(UNPAREN extra))
#define WRAP_UPDATE(sym, ptsz, extra, params, args) \
	WRAP_THEN(sym, params, args, graphs_updated(UNPAREN extra))
#define WRAP_EXEC_EDIT(sym, ptsz, extra, params, args) \
	WRAP_THEN(sym, params, args, graphs_stay(UNPAREN extra))
/* A module loaded as a library where the process may be moved (modules.c). */
#define WRAP_MODULE(sym, ptsz, extra, params, args) WRAP_MODULE_(sym, params, args, UNPAREN extra)
#define WRAP_MODULE_(sym, params, args, ...) WRAP_MODULE_LOADED(sym, params, args, __VA_ARGS__)
#define WRAP_MODULE_LOADED(sym, params, args, module, file, image, n_jit, options, values) \
	SHIM_EXPORT CUresult sym params                                                    \
	{                                                                                  \
		CUresult rc;                                                               \
		WRAP_RESOLVE(sym);                                                         \
		stats_count(HOOK_##sym);                                                   \
		if (!modules_load(&rc, module, file, image, n_jit, options, values))       \
			rc = REAL(sym) args;                                               \
		return wrap_result(HOOK_##sym, rc);                                        \
	}
#define WRAP_MODULE_GONE(sym, ptsz, extra, params, args) \
	SHIM_EXPORT CUresult sym params                  \
	{                                                \
		CUresult rc;                             \
		WRAP_RESOLVE(sym);                       \
		stats_count(HOOK_##sym);                 \
		if (!modules_unload(&rc, UNPAREN extra)) \
			rc = REAL(sym) args;             \
		return wrap_result(HOOK_##sym, rc);      \
	}
#define WRAP_EXEC_FREE(sym, ptsz, extra, params, args) \
	WRAP_THEN(sym, params, args, graphs_forget(UNPAREN extra))

/* Reserve the size on the quota, call the driver, then charge what it really
 * gave (read only after success) or give the reservation back. */
#define WRAP_ALLOC(sym, ptsz, extra, params, args) WRAP_ALLOC_(sym, params, args, UNPAREN extra)
#define WRAP_ALLOC_(sym, params, args, ...) WRAP_ALLOC_CHARGED(sym, params, args, __VA_ARGS__)
#define WRAP_ALLOC_CHARGED(sym, params, args, kind, device, estimate, key, exact)       \
	SHIM_EXPORT CUresult sym params                                                 \
	{                                                                               \
		struct memory_charge charge;                                            \
		WRAP_RESOLVE(sym);                                                      \
		stats_count(HOOK_##sym);                                                \
		CUresult rc = memory_reserve(&charge, kind, device, estimate);          \
		if (rc == CUDA_SUCCESS) {                                               \
			rc = REAL(sym) args;                                            \
			if (rc == CUDA_SUCCESS)                                         \
				rc = memory_commit(&charge, (uint64_t)(key), exact);    \
			else                                                            \
				memory_cancel(&charge);                                 \
			if (rc == CUDA_SUCCESS)                                         \
				stats_add(&shim_stats.bytes[HOOK_##sym], charge.bytes); \
		}                                                                       \
		return wrap_result(HOOK_##sym, rc);                                     \
	}

/* A new context is charged what a context costs; over the quota it is
 * undone and refused. On a partitioned device the primary context is
 * replaced by its green stand-in, and a created one is green itself. */
#define WRAP_CONTEXT(sym, ptsz, extra, params, args) WRAP_CONTEXT_(sym, params, args, UNPAREN extra)
#define WRAP_CONTEXT_(sym, params, args, ...) WRAP_CONTEXT_CHARGED(sym, params, args, __VA_ARGS__)
#define WRAP_CONTEXT_CHARGED(sym, params, args, pctx, dev, primary)                                \
	SHIM_EXPORT CUresult sym params                                                            \
	{                                                                                          \
		WRAP_RESOLVE(sym);                                                                 \
		stats_count(HOOK_##sym);                                                           \
		uint64_t used_before = contexts_before_create(dev);                                \
		CUresult rc = !primary && partition_active(dev) ? partition_new_context(pctx, dev) \
								: REAL(sym) args;                  \
		if (rc == CUDA_SUCCESS && primary)                                                 \
			rc = partition_primary(pctx, dev);                                         \
		if (rc == CUDA_SUCCESS)                                                            \
			rc = contexts_created(*pctx, dev, primary, used_before);                   \
		return wrap_result(HOOK_##sym, rc);                                                \
	}

/* A launch made while its stream is being captured is recorded into a graph
 * and runs only when that graph is launched; counting it apart keeps
 * "kernels run" exact, and it is neither paced nor moved. Captures are rare,
 * so the check costs one load; the gate costs one more when the tenant is
 * not paced, and moves (to the tenant's new SMs, moves.h) one more. */
#define WRAP_LAUNCH(sym, ptsz, extra, params, args) \
	WRAP_LAUNCH_(sym, ptsz, params, args, UNPAREN extra)
#define WRAP_LAUNCH_(sym, ptsz, params, args, ...) \
	WRAP_LAUNCH_GATED(sym, ptsz, params, args, __VA_ARGS__)
#define WRAP_LAUNCH_GATED(sym, ptsz, params, args, stream, what, grid, slot)                      \
	SHIM_EXPORT CUresult sym params                                                           \
	{                                                                                         \
		struct gate_ticket ticket;                                                        \
		__attribute__((unused)) CUlaunchConfig config_copy;                               \
		WRAP_RESOLVE(sym);                                                                \
		stats_count(HOOK_##sym);                                                          \
		bool captured =                                                                   \
			unlikely(__atomic_load_n(&shim_captures_active, __ATOMIC_RELAXED)) &&     \
			graphs_stream_capturing(ptsz, stream);                                    \
		ticket.sampling = ticket.moved = ticket.tracked = ticket.ordered = false;         \
		if (likely(!captured)) {                                                          \
			unsigned detours = __atomic_load_n(&shim_detours, __ATOMIC_RELAXED);      \
			if (unlikely(detours))                                                    \
				wrap_detour(&ticket, detours, ptsz, stream, slot);                \
			gate_enter(&ticket, ptsz, stream, what, grid);                            \
		}                                                                                 \
		CUresult rc = REAL(sym) args;                                                     \
		if (unlikely(gate_leaving(&ticket))) {                                            \
			if (ticket.moved && rc != CUDA_SUCCESS && wrap_unmove(&ticket, rc, slot)) \
				rc = REAL(sym) args;                                              \
			gate_leave_slow(&ticket, rc);                                             \
		}                                                                                 \
		if (unlikely(captured) && rc == CUDA_SUCCESS)                                     \
			stats_add(&shim_stats.captured[HOOK_##sym], 1);                           \
		return wrap_result(HOOK_##sym, rc);                                               \
	}

/* A graph launch runs the kernels counted when it was instantiated. Once a
 * context was retired, a graph that moves is launched as its copy in the
 * successor, on its stream's shadow there (graphs.c); where the driver
 * refuses that, the application's graph is launched where it was. */
#define WRAP_GRAPH(sym, ptsz, extra, params, args) \
	WRAP_GRAPH_(sym, ptsz, params, args, UNPAREN extra)
#define WRAP_GRAPH_(sym, ptsz, params, args, ...) \
	WRAP_GRAPH_GATED(sym, ptsz, params, args, __VA_ARGS__)
#define WRAP_GRAPH_GATED(sym, ptsz, params, args, stream, exec)                            \
	SHIM_EXPORT CUresult sym params                                                    \
	{                                                                                  \
		struct gate_ticket ticket;                                                 \
		CUgraphExec launched = exec; /* the application's */                       \
		WRAP_RESOLVE(sym);                                                         \
		stats_count(HOOK_##sym);                                                   \
		ticket.sampling = ticket.moved = ticket.tracked = ticket.ordered = false;  \
		unsigned detours = __atomic_load_n(&shim_detours, __ATOMIC_RELAXED);       \
		if (unlikely(detours))                                                     \
			wrap_detour(&ticket, detours & ~DETOUR_MOVES, ptsz, stream, NULL); \
		if (unlikely(detours & DETOUR_MOVES) && graphs_moving(&exec))              \
			wrap_move(&ticket, ptsz, &stream);                                 \
		gate_enter(&ticket, ptsz, stream, launched, 0);                            \
		CUresult rc = REAL(sym) args;                                              \
		if (unlikely(rc != CUDA_SUCCESS) && (ticket.moved || exec != launched)) {  \
			if (ticket.moved)                                                  \
				wrap_unmove(&ticket, rc, &stream);                         \
			graphs_stay(launched);                                             \
			exec = launched;                                                   \
			rc = REAL(sym) args;                                               \
		}                                                                          \
		gate_leave(&ticket, rc);                                                   \
		if (rc == CUDA_SUCCESS)                                                    \
			graphs_launched(launched);                                         \
		return wrap_result(HOOK_##sym, rc);                                        \
	}

/* Capture ends even when the driver reports the capture invalidated. */
#define WRAP_CAPTURE_END(sym, ptsz, extra, params, args)       \
	SHIM_EXPORT CUresult sym params                        \
	{                                                      \
		WRAP_RESOLVE(sym);                             \
		stats_count(HOOK_##sym);                       \
		CUresult rc = REAL(sym) args;                  \
		graphs_capture_ended(ptsz, UNPAREN extra, rc); \
		return wrap_result(HOOK_##sym, rc);            \
	}

/* NVML returns nvmlReturn_t and loads on first use, independently of CUDA;
 * a refused setup (an unusable tenant segment) refuses NVML's answers too. */
#define WRAP_NVML(sym, ptsz, extra, params, args)                             \
	SHIM_EXPORT nvmlReturn_t sym params                                   \
	{                                                                     \
		if (unlikely(!shim_real[HOOK_##sym]) && shim_nvml_load() < 0) \
			return NVML_ERROR_UNKNOWN;                            \
		if (unlikely(!shim_real[HOOK_##sym]))                         \
			return NVML_ERROR_FUNCTION_NOT_FOUND;                 \
		stats_count(HOOK_##sym);                                      \
		nvmlReturn_t rc = REAL(sym) args;                             \
		if (rc == NVML_SUCCESS)                                       \
			UNPAREN extra;                                        \
		else                                                          \
			stats_failed(HOOK_##sym);                             \
		return rc;                                                    \
	}
