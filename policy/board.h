/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node's board: one small shared memory object that cusliced hands every
 * registered process beside its tenant's segment, for what tenants must see
 * of each other faster than the daemon's tick.
 *
 * Latency-critical tenants write on it while their requests are on the GPU:
 * each launch of such a tenant sets its word to "busy until now + a hold",
 * and a completed synchronisation (the request's result is back) brings it
 * down to now. The other tenants' gates read it while the daemon says a
 * latency-critical tenant is active (their `max_inflight` is set), and
 * launch nothing while any word is in the future: a request then waits
 * behind what was already on the GPU when it came (one kernel, by
 * `max_inflight`), not behind a kernel slipped in between each two of its
 * own. No one waits on the board longer than CUSLICE_BOARD_HOLD_MAX_NS at a
 * stretch, so a tenant that writes nonsense there, or a latency-critical
 * one that never stops, slows the others but cannot stop them.
 *
 * Tenants that all keep a GPU saturated take turns on it (policy/turns.h):
 * one section per GPU says whose turn it is and when the work admitted so far
 * is predicted to be done, so that only one tenant's work is on the GPU at a
 * time and the GPU switches contexts at a turn's end rather than every few
 * milliseconds.
 *
 * Layout rules as for the segment: `size` and `version` first, fields only
 * ever appended.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "segment.h"

#define CUSLICE_BOARD_MAGIC 0x64726f62u /* "bord" */
#define CUSLICE_BOARD_VERSION 1
#define CUSLICE_BOARD_HIGH 8 /* words; latency-critical tenants beyond share the last */

/* How long a launch of a latency-critical tenant holds the others when no
 * synchronisation says its work is done; and the most anyone waits at once. */
#define CUSLICE_BOARD_HOLD_NS 1000000ull
#define CUSLICE_BOARD_HOLD_MAX_NS 4000000ull

/* Tenants taking turns on one GPU at most: the low four bits of `free_word`
 * name the last to admit work (slot + 1). */
#define CUSLICE_TURN_SLOTS 15

struct cuslice_turn_slot {
	int64_t deficit_ns;  /* GPU time it may still admit in its turn (negative: owed) */
	uint64_t quantum_ns; /* what each turn adds: its share of a round */
	uint64_t active_ns;  /* it wants the GPU or has work on it until then */
	uint64_t syncing_ns; /* one of its processes waits for its work until then, at most */
};

/*
 * Turns on one GPU, written by cusliced when it starts or stops them and by
 * the turn takers' gates while they run (policy/turns.c). All fields are
 * read and written atomically; the daemon sets `nslots` last when it starts
 * turns and clears it first when it stops them.
 */
struct cuslice_turns {
	uint32_t nslots;    /* 0: no turns on this GPU */
	uint32_t owner;	    /* whose turn it is: a slot; futex word */
	uint64_t free_word; /* CLOCK_MONOTONIC ns, low four bits cleared, when the work
			     * admitted so far is predicted done | the slot + 1 that
			     * admitted it last */
	uint64_t rounds;    /* turns passed, for display */
	uint64_t pad[5];
	struct cuslice_turn_slot slots[CUSLICE_TURN_SLOTS];
} __attribute__((aligned(64)));

struct cuslice_board {
	uint32_t size;
	uint32_t version;
	uint32_t magic;
	uint32_t pad;
	/* CLOCK_MONOTONIC ns until which latency-critical tenant i (its segment's
	 * high_slot - 1) has work on the GPU; in one cache line */
	uint64_t high_busy_until_ns[CUSLICE_BOARD_HIGH] __attribute__((aligned(64)));
	/* appended: turns, per GPU */
	struct cuslice_turns turns[CUSLICE_MAX_DEVICES];
};

/* The size of a board before the turns were appended: still accepted. */
#define CUSLICE_BOARD_SIZE_V1 offsetof(struct cuslice_board, turns)
/* Whether a board (of `size` bytes) carries turns. */
#define CUSLICE_BOARD_HAS_TURNS(b) ((b)->size >= sizeof(struct cuslice_board))
