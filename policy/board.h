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
 * Layout rules as for the segment: `size` and `version` first, fields only
 * ever appended.
 */
#pragma once

#include <stdint.h>

#define CUSLICE_BOARD_MAGIC 0x64726f62u /* "bord" */
#define CUSLICE_BOARD_VERSION 1
#define CUSLICE_BOARD_HIGH 8 /* words; latency-critical tenants beyond share the last */

/* How long a launch of a latency-critical tenant holds the others when no
 * synchronisation says its work is done; and the most anyone waits at once. */
#define CUSLICE_BOARD_HOLD_NS 1000000ull
#define CUSLICE_BOARD_HOLD_MAX_NS 4000000ull

struct cuslice_board {
	uint32_t size;
	uint32_t version;
	uint32_t magic;
	uint32_t pad;
	/* CLOCK_MONOTONIC ns until which latency-critical tenant i (its segment's
	 * high_slot - 1) has work on the GPU; in one cache line */
	uint64_t high_busy_until_ns[CUSLICE_BOARD_HIGH] __attribute__((aligned(64)));
};
