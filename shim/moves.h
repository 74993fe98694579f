/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Moving a running process's launches to new SMs (moves.c): launches on a
 * stream of a retired context run on a shadow stream in its successor,
 * fenced both ways. One load on the launch path until the first move.
 */
#pragma once

#include "shim.h"

struct shadow;

/* A launch in the move: set by moves_enter_slow(). */
struct move {
	struct shadow *to; /* NULL: the launch was not moved */
	CUstream from;	   /* the application's stream */
};

/**
 * moves_retire() - launches on streams of @from run on @to's SMs from now on.
 * @to: cuCtxFromGreenCtx(@to_green), a green context never retired before.
 *
 * @from stays valid (the application may hold it, and its streams): only
 * where its kernels run changes. Contexts that retired into @from follow to
 * @to.
 */
void moves_retire(CUcontext from, CUcontext to, CUgreenCtx to_green);

/* Before a context is destroyed (a primary context reset): nothing moves
 * from or to it any more. */
void moves_forget(CUcontext ctx);

/* Before a launch on *stream, once a context was retired: where the
 * stream's context was, *stream becomes its shadow in the successor, behind
 * everything queued on the stream so far. */
void moves_enter_slow(struct move *m, bool ptsz, CUstream *stream);

/* After it (from the gate's leave): what is queued on the application's
 * stream next waits for it. */
void moves_leave_slow(struct move *m);

/* A moved launch the driver refused (`rc`): no fence out, since nothing was
 * queued on the shadow; says so once. Return: the application's stream, for
 * the launch to be made again there. */
CUstream moves_undo(struct move *m, CUresult rc);

/* The context launches on streams of `ctx` run in now; NULL: `ctx` itself. */
CUcontext moves_successor(CUcontext ctx);

struct moves_stats {
	uint64_t retired; /* contexts retired */
	uint64_t moved;	  /* launches run on a shadow stream */
	uint64_t unmoved; /* launches that should have moved and could not */
	uint64_t refused; /* … of them, launches the driver refused on the shadow */
	uint64_t shadows; /* shadow streams made */
};
void moves_stats(struct moves_stats *ret);

/* After fork: the child has none of the parent's contexts. */
void moves_forget_all(void);

/* Instead of loading a module (from `file`, or `image` with its JIT
 * options), where the current context may be moved: loads it as a library
 * and sets *module to the library's module and *rc. False: load it as asked
 * (modules.c). */
bool modules_load(CUresult *rc, CUmodule *module, const char *file, const void *image,
		  unsigned n_jit, CUjit_option *jit_options, void **jit_values);
/* Instead of unloading `module`: false where it is no library's. */
bool modules_unload(CUresult *rc, CUmodule module);
/* The kernel `f` is the function of, where its module is a library's; else NULL. */
CUkernel modules_kernel(CUfunction f);
/* Modules loaded as libraries so far. */
uint64_t modules_libraries(void);
