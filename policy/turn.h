/* SPDX-License-Identifier: Apache-2.0 */
/* Tenants taking turns on the GPU (struct cuslice_sched's turn fields). Lock-free. */
#pragma once

#include <stdint.h>

#include "segment.h"

/* How far ahead of its predicted start a launch may be queued, so that the
 * GPU does not wait for the launcher between two of a tenant's kernels. */
#define POLICY_TURN_LOOKAHEAD_NS 500000ull

/**
 * policy_turn() - admit predicted GPU time `cost_ns` at `now_ns` within the
 * tenant's turns, or as policy_pace() does when it has none.
 *
 * The tenant's timeline (`next_free_ns`) is where its admitted work is
 * predicted to end. Work starts in the tenant's window: at the end of its
 * timeline if that lies in a window, else at the start of the next one. A
 * kernel that starts in the window may run past its end, and what it ran
 * past is owed: the next window's work starts that much later, so that each
 * window admits its length of work on average, whatever the kernels' sizes.
 * Return: how long the launcher must wait first, in ns.
 */
uint64_t policy_turn(struct cuslice_sched *s, uint64_t now_ns, uint64_t cost_ns);

/* The turn value for a window at `offset_us` of `len_us` in each period. */
static inline uint64_t policy_turn_pack(uint32_t offset_us, uint32_t len_us)
{
	return (uint64_t)offset_us << 32 | len_us;
}
