/* SPDX-License-Identifier: Apache-2.0 */
#include "turns.h"

#define SLOT_BITS 15ull /* the low bits of free_word: who admitted last */

static void raise_to(uint64_t *p, uint64_t v)
{
	uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (old < v &&
	       !__atomic_compare_exchange_n(p, &old, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static bool idle(struct cuslice_turns *t, uint32_t slot, uint64_t now)
{
	const struct cuslice_turn_slot *s = &t->slots[slot];

	return __atomic_load_n(&s->active_ns, __ATOMIC_RELAXED) + CUSLICE_TURN_GRACE_NS < now &&
	       __atomic_load_n(&s->syncing_ns, __ATOMIC_RELAXED) < now;
}

/* A turn starts: the quantum on top of what the slot owes (credit left from
 * a turn it lost while idle is not kept). */
static void credit(struct cuslice_turns *t, uint32_t slot)
{
	struct cuslice_turn_slot *s = &t->slots[slot];
	int64_t q = (int64_t)__atomic_load_n(&s->quantum_ns, __ATOMIC_RELAXED);
	int64_t old = __atomic_load_n(&s->deficit_ns, __ATOMIC_RELAXED);

	while (!__atomic_compare_exchange_n(&s->deficit_ns, &old, (old > 0 ? 0 : old) + q, true,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	__atomic_fetch_add(&t->rounds, 1, __ATOMIC_RELAXED);
}

/* Moves the turn from `from` to `to`, unless someone moved it first. */
static bool hand(struct cuslice_turns *t, uint32_t from, uint32_t to)
{
	if (!__atomic_compare_exchange_n(&t->owner, &from, to, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return false;
	credit(t, to);
	return true;
}

/* `from` spent its quantum: the turn goes to the next slot in round order
 * that wants the GPU, or back to `from` if none does. */
static bool pass_on(struct cuslice_turns *t, uint32_t n, uint32_t from, uint64_t now)
{
	uint32_t to = from;

	for (uint32_t i = 1; i < n; i++)
		if (!idle(t, (from + i) % n, now)) {
			to = (from + i) % n;
			break;
		}
	return hand(t, from, to) && to != from;
}

/* An owner that wants nothing loses its turn, and what was left of its
 * quantum with it. */
static bool take_over(struct cuslice_turns *t, uint32_t n, uint32_t owner, uint32_t me)
{
	if (!hand(t, owner, me))
		return false;
	if (owner < n) {
		int64_t *d = &t->slots[owner].deficit_ns;
		int64_t old = __atomic_load_n(d, __ATOMIC_RELAXED);
		while (old > 0 && !__atomic_compare_exchange_n(d, &old, 0, true, __ATOMIC_RELAXED,
							       __ATOMIC_RELAXED))
			;
	}
	return true;
}

struct policy_turn_verdict policy_turn(struct cuslice_turns *t, uint32_t me, uint64_t now,
				       uint64_t need_ns)
{
	struct policy_turn_verdict v = {.admitted = true, .at_ns = now, .ends_ns = now + need_ns};
	uint32_t n = __atomic_load_n(&t->nslots, __ATOMIC_ACQUIRE);

	if (!n || n > CUSLICE_TURN_SLOTS || me >= n)
		return v;
	struct cuslice_turn_slot *s = &t->slots[me];
	bool passed = false;
	raise_to(&s->active_ns, now);
	for (;;) {
		uint32_t owner = __atomic_load_n(&t->owner, __ATOMIC_ACQUIRE);
		if (owner != me) {
			if (owner < n && !idle(t, owner, now)) {
				/* it wants the GPU until it looks again */
				raise_to(&s->active_ns, now + CUSLICE_TURN_WAIT_NS);
				return (struct policy_turn_verdict){.at_ns = now +
									     CUSLICE_TURN_WAIT_NS,
								    .owner = owner,
								    .passed = passed};
			}
			passed |= take_over(t, n, owner, me);
			continue;
		}
		int64_t left = __atomic_load_n(&s->deficit_ns, __ATOMIC_RELAXED);
		if (left <= 0) {
			passed |= pass_on(t, n, me, now);
			continue;
		}
		/* its work starts once the work admitted before it is done */
		uint64_t old = __atomic_load_n(&t->free_word, __ATOMIC_ACQUIRE), start, end;
		bool mine;
		do {
			uint64_t free = old & ~SLOT_BITS;
			start = free > now ? free : now;
			end = start + need_ns;
			mine = (old & SLOT_BITS) == me + 1;
		} while (!__atomic_compare_exchange_n(&t->free_word, &old,
						      (end & ~SLOT_BITS) | (me + 1), true,
						      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
		__atomic_fetch_sub(&s->deficit_ns, (int64_t)need_ns, __ATOMIC_RELAXED);
		raise_to(&s->active_ns, end);
		/* behind its own work it queues at once; behind another tenant's it
		 * is launched just before that is done, so that the two contexts
		 * never have work on the GPU together */
		if (!mine && start > now + CUSLICE_TURN_LEAD_NS)
			v.at_ns = start - CUSLICE_TURN_LEAD_NS;
		v.ends_ns = end;
		/* spent: the next one may get ready while this work drains */
		if (left <= (int64_t)need_ns)
			passed |= pass_on(t, n, me, now);
		v.passed = passed;
		return v;
	}
}

void policy_turns_start(struct cuslice_turns *t, const uint32_t *shares_ppm, uint32_t n,
			uint64_t now)
{
	uint64_t sum = 0;

	__atomic_store_n(&t->nslots, 0, __ATOMIC_RELEASE);
	if (n > CUSLICE_TURN_SLOTS)
		n = CUSLICE_TURN_SLOTS;
	for (uint32_t i = 0; i < n; i++)
		sum += shares_ppm[i] ? shares_ppm[i] : 1;
	for (uint32_t i = 0; i < CUSLICE_TURN_SLOTS; i++) {
		struct cuslice_turn_slot *s = &t->slots[i];
		uint64_t q = i < n && sum ? CUSLICE_TURN_ROUND_NS *
						    (shares_ppm[i] ? shares_ppm[i] : 1) / sum
					  : 0;
		__atomic_store_n(&s->quantum_ns, q, __ATOMIC_RELAXED);
		__atomic_store_n(&s->deficit_ns, i == 0 ? (int64_t)q : 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s->active_ns, now + CUSLICE_TURN_ROUND_NS, __ATOMIC_RELAXED);
		__atomic_store_n(&s->syncing_ns, 0, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&t->free_word, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&t->rounds, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&t->owner, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&t->nslots, n, __ATOMIC_RELEASE);
}

uint64_t policy_turn_syncing(struct cuslice_turn_slot *slot, uint64_t now)
{
	uint64_t mark = now + CUSLICE_TURN_SYNC_NS;

	raise_to(&slot->syncing_ns, mark);
	return mark;
}

void policy_turn_synced(struct cuslice_turn_slot *slot, uint64_t mark, uint64_t now)
{
	/* unless another waiter marked it later (it still waits) */
	__atomic_compare_exchange_n(&slot->syncing_ns, &mark, now, false, __ATOMIC_RELAXED,
				    __ATOMIC_RELAXED);
	raise_to(&slot->active_ns, now);
}

void policy_turns_stop(struct cuslice_turns *t)
{
	__atomic_store_n(&t->nslots, 0, __ATOMIC_RELEASE);
	__atomic_fetch_add(&t->owner, 1, __ATOMIC_RELEASE); /* waiters see a change */
}
