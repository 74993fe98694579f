/* SPDX-License-Identifier: Apache-2.0 */
/* The launch gate (gate.c): one pointer test on the launch path when off. */
#pragma once

#include "hold.h"
#include "legacy.h"
#include "moves.h"
#include "policy/board.h"
#include "policy/segment.h"
#include "shim.h"

struct cost;

#define GATE_SAMPLE_EVERY 64 /* a power of two */

struct gate_ticket {
	/* the four the leave tests, side by side: one word to test */
	bool sampling; /* this launch is being timed */
	bool moved;    /* it runs on a shadow stream on the tenant's new SMs: `move` */
	bool tracked;  /* its completion is tracked: in-flight launches are capped */
	bool ordered;  /* kept in order with the legacy stream: `order` */
	bool unknown;  /* its cost was never measured */
	bool ptsz;
	CUevent start, end;
	CUcontext ctx; /* the events' */
	CUstream stream;
	struct cost *cost;
	uint64_t key;
	struct hold hold; /* its stream, held while it is queued */
	struct move move;
	struct legacy_op order;
};

/* The tenant's pacing state, or NULL: nothing to do. */
extern SHIM_HIDDEN struct cuslice_sched *shim_gate;
/* This process's launch counter in the tenant's segment (the scheduler reads
 * it to see who is active), or NULL. */
extern SHIM_HIDDEN uint64_t *shim_launch_count;
extern SHIM_HIDDEN uint64_t gate_local_count; /* counts where no daemon reads them */
/* Launches that reach the slow path while unpaced: one in 64 (mask 63), or
 * all while this process records a profile (mask 0). */
extern SHIM_HIDDEN uint64_t gate_sample_mask;

/* This process's word on the node's board once it launched as a
 * latency-critical tenant; NULL until then. */
extern SHIM_HIDDEN uint64_t *gate_high_word;

/* This process's tenant's slot in the turns on its GPU, once it took a turn
 * there; NULL while it takes none. */
extern SHIM_HIDDEN struct cuslice_turn_slot *gate_turn_slot;

void gate_bind(void);
void gate_synced_slow(void);
uint64_t gate_syncing_slow(void);
void gate_sync_done(uint64_t mark);
void gate_enter_slow(struct gate_ticket *t, bool ptsz, CUstream stream, const void *what,
		     uint64_t grid, uint64_t n);
void gate_leave_slow(struct gate_ticket *t, CUresult rc);
void gate_forget_all(void);

struct gate_cost {
	uint64_t key;
	uint32_t ns, samples;
};
int gate_costs(struct gate_cost *out, int max);

/* Before a launch of `what` (a function or an executable graph) on `stream`. */
static inline void gate_enter(struct gate_ticket *t, bool ptsz, CUstream stream, const void *what,
			      uint64_t grid)
{
	if (likely(!__atomic_load_n(&shim_gate, __ATOMIC_RELAXED)))
		return;
	uint64_t *counter = shim_launch_count ? shim_launch_count : &gate_local_count;
	uint64_t n = __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
	/* paced or capped: every launch; otherwise one in 64, to keep learning costs */
	if (__atomic_load_n(&shim_gate->share_ppm, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&shim_gate->max_inflight, __ATOMIC_RELAXED) ||
	    (n & __atomic_load_n(&gate_sample_mask, __ATOMIC_RELAXED)) == 0)
		gate_enter_slow(t, ptsz, stream, what, grid, n);
}

/* Before a synchronisation that blocks. Return: a mark for gate_sync_done(), or 0. */
static inline uint64_t gate_syncing(void)
{
	if (unlikely(__atomic_load_n(&gate_turn_slot, __ATOMIC_RELAXED)))
		return gate_syncing_slow();
	return 0;
}

/* After a synchronisation that succeeded. */
static inline void gate_synced(void)
{
	if (unlikely(__atomic_load_n(&gate_high_word, __ATOMIC_RELAXED)))
		gate_synced_slow();
}

/* After the launch; also ends a move (its fence out comes after the gate's
 * own events). */
static inline bool gate_leaving(const struct gate_ticket *t)
{
	return t->sampling || t->moved || t->tracked || t->ordered;
}

static inline void gate_leave(struct gate_ticket *t, CUresult rc)
{
	if (unlikely(gate_leaving(t)))
		gate_leave_slow(t, rc);
}
