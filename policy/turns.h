/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Turns: tenants that all keep one GPU saturated use it one at a time.
 *
 * Contexts of different processes on one GPU are time-sliced by the GPU
 * itself, every few milliseconds while more than one has work queued, and
 * each switch costs: on the H200, two identical matmul loops get 46 % of
 * their throughput alone each, 7 % of the GPU lost to switching. Pacing each
 * tenant to its share does not help with that, since both still have work on
 * the GPU most of the time, and the loss falls on the heavier tenant (3:7
 * weights gave 31 % / 63 %).
 *
 * So while every time-sliced tenant on a GPU is saturating, cusliced makes
 * them take turns (deficit round robin over predicted GPU time): the tenant
 * whose turn it is admits work until it has used its quantum (its share of a
 * round of CUSLICE_TURN_ROUND_NS), then passes the turn on; the next one
 * launches its first work just as the previous one's admitted work is
 * predicted done, so the GPU switches contexts twice a round, not every
 * timeslice. A tenant that overruns its quantum owes the excess; one that
 * stops wanting the GPU loses its turn after CUSLICE_TURN_GRACE_NS, so the
 * GPU never waits for it (work conservation), and a process that dies in
 * its turn stalls no one longer than that. Wanting is launching, waiting for
 * a turn, having admitted work that is predicted to be still on the GPU, or
 * waiting in a synchronisation (its work can run late against the
 * prediction; a tenant that lost its turn then would lose its quantum).
 *
 * Everything lives on the node's board (policy/board.h), lock-free, shared by
 * the processes of every tenant taking turns on the GPU.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "board.h"

#define CUSLICE_TURN_ROUND_NS 20000000ull /* a round: every tenant's turn once */
#define CUSLICE_TURN_GRACE_NS 500000ull	  /* a turn taker that wants nothing this long is idle */
#define CUSLICE_TURN_WAIT_NS 1000000ull	  /* a waiting turn taker looks again this often */
#define CUSLICE_TURN_LEAD_NS 30000ull	  /* launched this early, to be queued when the GPU frees */
#define CUSLICE_TURN_SYNC_NS                                                 \
	40000000ull /* a synchronisation counts as wanting this long at most \
		     */

struct policy_turn_verdict {
	bool admitted;	  /* the work may go: launch it at `at_ns` */
	uint64_t at_ns;	  /* when to launch, or when to ask again (CLOCK_MONOTONIC) */
	uint32_t owner;	  /* not admitted: the owner seen, to wait on `turns->owner` */
	uint64_t ends_ns; /* admitted: when the work is predicted done */
	bool passed;	  /* the turn moved: wake the waiters on `turns->owner` */
};

/**
 * policy_turn() - may slot `me` of `t` admit `need_ns` of GPU time at `now`?
 * Admitted when it is its turn (taking over from an owner idle for
 * CUSLICE_TURN_GRACE_NS, or passing the turn on when its quantum is spent);
 * the work starts when the work admitted before it is predicted done, and
 * the caller launches it at `at_ns`, a little before that if the previous
 * work was another tenant's, at once if it was its own. Not admitted: wait
 * (on `t->owner` while it is `owner`) until `at_ns` at most, then ask again.
 * Turns off (no slots, or `me` not among them): admitted at once.
 */
struct policy_turn_verdict policy_turn(struct cuslice_turns *t, uint32_t me, uint64_t now,
				       uint64_t need_ns);

/**
 * policy_turns_start() - lay out turns on one GPU for `n` tenants (at most
 * CUSLICE_TURN_SLOTS) with these shares (ppm, any scale): quanta in
 * proportion over a round, the first slot's turn first. Rewrites the whole
 * section; `nslots` last.
 */
void policy_turns_start(struct cuslice_turns *t, const uint32_t *shares_ppm, uint32_t n,
			uint64_t now);

/**
 * policy_turn_syncing() - a process of the tenant in `slot` starts waiting
 * for its work at `now`: the tenant wants the GPU until it returns, or for
 * CUSLICE_TURN_SYNC_NS. Return: the mark to hand policy_turn_synced().
 */
uint64_t policy_turn_syncing(struct cuslice_turn_slot *slot, uint64_t now);

/** policy_turn_synced() - … and returned at `now`; it launches again soon or is idle. */
void policy_turn_synced(struct cuslice_turn_slot *slot, uint64_t mark, uint64_t now);

/** policy_turns_stop() - no turns on this GPU any more; the gates pace as before. */
void policy_turns_stop(struct cuslice_turns *t);
