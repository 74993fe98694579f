/* SPDX-License-Identifier: Apache-2.0 */
/* Internal interfaces of libcuslice.so, shared by its modules. */
#pragma once

/* Declares every ABI variant of the driver API (`cuMemAlloc` and `cuMemAlloc_v2`,
 * `cuLaunchKernel` and `cuLaunchKernel_ptsz`, …), which the shim must define. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hooks.h"
#include "nvml-abi.h"

#define SHIM_EXPORT __attribute__((visibility("default")))
/* For the shim's own globals: the compiler then reads them straight from
 * their place (one instruction), as it cannot know that the library is
 * built with hidden visibility where it sees only the declaration. */
#define SHIM_HIDDEN __attribute__((visibility("hidden")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

static inline void shim_errno_restore(const int *saved)
{
	errno = *saved;
}
/* The slot of driver handle `h` in an open-addressed table of `slots` (a
 * power of two): Fibonacci hashing, the handle's alignment bits dropped. */
static inline size_t shim_handle_slot(const void *h, size_t slots)
{
	return (size_t)(((uintptr_t)h >> 4) * 0x9e3779b97f4a7c15ull >> 40) & (slots - 1);
}

/* The application's errno survives the shim's own system and driver calls
 * in the scope this is declared in (systemd's PROTECT_ERRNO). */
#define PROTECT_ERRNO __attribute__((cleanup(shim_errno_restore))) int saved_errno_ = errno

/* A detached helper thread of the shim, named `name`, with a small stack and
 * every signal blocked (thread.c). */
bool shim_thread_start(const char *name, size_t stack, void *(*fn)(void *), void *arg);

enum shim_hook {
#define X(sym, ...) HOOK_##sym,
	SHIM_HOOKS(X)
#undef X
		HOOK_COUNT
};

enum shim_kind {
	KIND_CUSTOM,
	KIND_LAUNCH,
	KIND_MULTI,
	KIND_HOSTFN,
	KIND_ORDERED,
	KIND_STREAM_NEW,
	KIND_STREAM_GONE,
	KIND_GRAPH,
	KIND_ALLOC,
	KIND_FREE,
	KIND_PASS,
	KIND_SYNC,
	KIND_CAPTURE,
	KIND_CAPTURE_END,
	KIND_INSTANTIATE,
	KIND_UPDATE,
	KIND_EXEC_EDIT,
	KIND_EXEC_FREE,
	KIND_MODULE,
	KIND_MODULE_GONE,
	KIND_VIEW,
	KIND_CONTEXT,
	KIND_CONTEXT_GONE,
	KIND_CONTEXT_DESTROY,
	KIND_CONTEXT_RESET,
	KIND_NVML,
};

enum shim_library {
	LIB_DRIVER,
	LIB_NVML,
};

struct shim_hook_info {
	const char *name; /* exported symbol, e.g. "cuMemAlloc_v2" */
	const char *base; /* name given to cuGetProcAddress, e.g. "cuMemAlloc" */
	void *wrapper;
	enum shim_kind kind;
	enum shim_library lib;
	bool ptsz;
};

extern SHIM_HIDDEN const struct shim_hook_info shim_hooks[HOOK_COUNT];

/* Real entry points, indexed by enum shim_hook; NULL until resolved or where
 * the driver lacks the symbol. Written once under the init guard. */
extern SHIM_HIDDEN void *shim_real[HOOK_COUNT];
#define REAL(sym) ((__typeof__(&sym))shim_real[HOOK_##sym])

/* driver.c: finding libcuda.so.1 and libnvidia-ml.so.1. */
int shim_driver_load(void);
int shim_nvml_load(void);
int shim_driver_status(void);
void *shim_driver_symbol(const char *name);
void *shim_nvml_symbol(const char *name);

/* dlsym.c */
void *shim_real_dlsym(void *handle, const char *name);

/* procaddr.c */
int shim_hook_find(const char *name);
bool shim_unknown_charged_variant(const char *name);

/* init.c: configuration read once, at load. */
struct shim_config {
	const char *real_libcuda;     /* CUSLICE_REAL_LIBCUDA, or NULL */
	const char *real_libnvml;     /* CUSLICE_REAL_LIBNVML, or NULL */
	const char *stats_path;	      /* CUSLICE_STATS, or NULL */
	const char *segment_path;     /* CUSLICE_SEGMENT: the tenant's quota, or NULL */
	const char *socket_path;      /* CUSLICE_SOCKET: cusliced's tenant socket, or NULL */
	const char *profile_path;     /* CUSLICE_PROFILE: kernel costs to charge, or NULL */
	const char *profile_out_path; /* CUSLICE_PROFILE_OUT: record them there, or NULL */
	const char *claims_glob;      /* CUSLICE_CLAIMS: claim files to present to cusliced */
	bool debug;		      /* CUSLICE_DEBUG: say what the shim decides, on stderr */
};
extern SHIM_HIDDEN struct shim_config shim_config;
void shim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Work the launch paths do only once a process needs it, one load to test:
 * moves of its launches to new SMs (moves.h), and the legacy stream's order
 * kept in green contexts (legacy.h). */
extern SHIM_HIDDEN unsigned shim_detours;
#define DETOUR_MOVES 1u
#define DETOUR_LEGACY 2u

/* graphs.c: kernel nodes per executable graph, and streams under capture. */
extern SHIM_HIDDEN unsigned shim_captures_active;
void graphs_capture_begun(void);
void graphs_capture_ended(bool ptsz, CUstream stream, CUresult rc);
bool graphs_stream_capturing(bool ptsz, CUstream stream);
/* A graph instantiated (with those flags), or updated as a whole. */
void graphs_track_new(CUgraphExec *exec, CUgraph graph, unsigned long long flags);
void graphs_updated(CUgraphExec exec, CUgraph graph);
/* Changed node by node, or refused where it moved to: it stays where it was made. */
void graphs_stay(CUgraphExec exec);
/* Before a launch of *exec, once a context was retired: *exec becomes its
 * copy in the successor where the graph moves (made now if need be). True
 * where the graph runs in a context no longer retired, so its stream moves too. */
bool graphs_moving(CUgraphExec *exec);
/* Copies kept, copies instantiated after moves, graphs that stay. */
void graphs_move_stats(uint64_t *copies, uint64_t *made, uint64_t *stayed);
void graphs_launched(CUgraphExec exec);
void graphs_forget(CUgraphExec exec);
void graphs_reset(void);
void graphs_bind(void);
