/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The legacy stream's implicit synchronisation in the partition's green
 * contexts, which lack it (legacy.c). One load on each stream operation
 * (shim_detours) until the program makes a blocking stream in one.
 */
#pragma once

#include "shim.h"

struct lane;
struct order;

/* An operation being ordered: set by legacy_before(). */
struct legacy_op {
	struct order *order; /* the context's legacy stream */
	struct lane *lane;   /* the blocking stream it is on; NULL: the legacy stream */
};

/* After cuStreamCreate(WithPriority) succeeded in the current context. */
void legacy_stream_created(CUstream stream, unsigned flags);
/* Before cuStreamDestroy. */
void legacy_stream_destroyed(CUstream stream);

/* Before an operation on `stream` (NULL: the legacy stream, or with `ptsz`
 * the per-thread one): it waits for what the legacy stream's implicit
 * synchronisation would have it wait for. True where legacy_after() is due. */
bool legacy_before_slow(struct legacy_op *op, bool ptsz, CUstream stream);
/* After it (`rc`: what the driver said): later operations can wait for it. */
void legacy_after_slow(struct legacy_op *op, CUresult rc);

static inline bool legacy_before(struct legacy_op *op, bool ptsz, CUstream stream)
{
	return unlikely(__atomic_load_n(&shim_detours, __ATOMIC_RELAXED) & DETOUR_LEGACY) &&
	       legacy_before_slow(op, ptsz, stream);
}

struct legacy_stats {
	uint64_t streams; /* blocking streams made in green contexts */
	uint64_t waits;	  /* waits added */
	uint64_t records; /* events recorded for them */
};
void legacy_stats(struct legacy_stats *ret);

/* After fork: the child has none of the parent's streams. */
void legacy_forget_all(void);
