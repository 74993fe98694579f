/* SPDX-License-Identifier: Apache-2.0 */
#include <stdbool.h>

#include "pace.h"
#include "turn.h"

/* Where work that could start at `t` starts, for windows [base + kP, base +
 * kP + len) (base ≤ t); `owed`: t is where earlier work ends, not now. */
static uint64_t place(uint64_t t, bool owed, uint64_t base, uint64_t period, uint64_t len)
{
	uint64_t start = base + (t - base) / period * period, end = start + len;

	if (t < end)
		return t;
	uint64_t spill = owed ? t - end : 0;
	return start + period + (spill < len ? spill : len - 1);
}

uint64_t policy_turn(struct cuslice_sched *s, uint64_t now_ns, uint64_t cost_ns)
{
	uint64_t turn = __atomic_load_n(&s->turn, __ATOMIC_ACQUIRE);
	uint64_t period = (uint64_t)__atomic_load_n(&s->turn_period_us, __ATOMIC_RELAXED) * 1000;
	uint64_t len = (turn & 0xffffffffu) * 1000,
		 base = __atomic_load_n(&s->turn_epoch_ns, __ATOMIC_RELAXED);

	if (!len || !period || len > period || base > now_ns)
		return policy_pace(s, now_ns, cost_ns);
	base += (turn >> 32) * 1000 % period;
	if (base > now_ns)
		base -= period;
	uint64_t old = __atomic_load_n(&s->next_free_ns, __ATOMIC_RELAXED), start;
	do {
		bool owed = old > now_ns;
		start = place(owed ? old : now_ns, owed, base, period, len);
	} while (!__atomic_compare_exchange_n(&s->next_free_ns, &old, start + cost_ns, true,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	__atomic_fetch_add(&s->admitted_ns, cost_ns, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->leases, 1, __ATOMIC_RELAXED);
	return start > now_ns + POLICY_TURN_LOOKAHEAD_NS ? start - now_ns - POLICY_TURN_LOOKAHEAD_NS
							 : 0;
}
