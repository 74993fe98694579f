/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scheduler's loop: which tenants are launching, what share of GPU time
 * each gets (policy/shares.c), and whether a latency-critical tenant is
 * launching, in which case the others keep little work on the GPU. The shares go to the tenants'
 * segments, where their own processes pace themselves; nothing here is on the launch path, and a
 * daemon that stops leaves the last shares in force.
 */
#include "daemon.h"
#include "policy/shares.h"

#define ACTIVE_NS 100000000ull /* a tenant counts as active this long after a launch */
#define BURST_NS 4000000ull    /* how far a paced tenant may run ahead of its share */
#define YIELD_INFLIGHT 1       /* launches others may have on the GPU while a high tenant runs */

/* Counts the tenant's launches into a total that only grows: each process's
 * slot counts its own (from 0, when the process claims it) and keeps its
 * last count after the process ends, which is read once more then. */
static void count_launches(struct tenant *t)
{
	for (int i = 0; i < CUSLICE_MAX_PROCS; i++) {
		int32_t pid = __atomic_load_n(&t->seg->procs[i].pid, __ATOMIC_ACQUIRE);
		uint64_t n = __atomic_load_n(&t->seg->procs[i].launches, __ATOMIC_RELAXED);
		if (pid <= 0 && !t->slot_pid[i])
			continue;
		if (pid > 0 && (pid != t->slot_pid[i] || n < t->slot_seen[i])) {
			t->slot_pid[i] = pid; /* a new process in the slot */
			t->slot_seen[i] = 0;
		}
		if (n > t->slot_seen[i])
			t->launches_total += n - t->slot_seen[i];
		t->slot_seen[i] = n;
		if (pid <= 0)
			t->slot_pid[i] = 0; /* ended: its last count is in */
	}
}

void sched_tick(struct daemon *d, uint64_t now_ns)
{
	struct policy_share shares[DAEMON_MAX_TENANTS];
	bool high_active = false;

	for (int i = 0; i < d->ntenants; i++) {
		struct tenant *t = d->tenants[i];
		count_launches(t);
		if (t->launches_total != t->seen_launches) {
			t->seen_launches = t->launches_total;
			t->active_until_ns = now_ns + ACTIVE_NS;
		}
		bool active = now_ns < t->active_until_ns;
		/* SMs of its own (spatial and hybrid modes): it shares GPU time with no
		 * one, and waits behind no one */
		bool own_sms = false;
		for (int g = 0; g < d->ndevices; g++)
			own_sms |= t->grants[g].sms > 0;
		/* a latency-critical tenant is never paced below what it asks (only its
		 * limit holds); the others share the GPU among themselves */
		shares[i] = (struct policy_share){.weight = t->weight,
						  .limit_ppm = t->limit_ppm,
						  .active = active && !t->high && !own_sms};
		high_active |= t->high && active && !own_sms;
	}
	policy_shares(shares, d->ntenants);
	for (int i = 0; i < d->ntenants; i++)
		for (int g = 0; g < d->ndevices; g++)
			if (d->tenants[i]->grants[g].sms) /* its cap, unless a claim set it for
							   * time-slicing */
				shares[i].ret_ppm =
					d->tenants[i]->sm_claimed ? 0 : d->tenants[i]->limit_ppm;
	/* while a latency-critical tenant has work, the others keep at most one
	 * launch on the GPU, so its requests wait behind one kernel at most */
	for (int i = 0; i < d->ntenants; i++) {
		struct cuslice_sched *s = &d->tenants[i]->seg->sched;
		uint32_t cap = high_active && !d->tenants[i]->high ? YIELD_INFLIGHT : 0;
		__atomic_store_n(&s->burst_ns, BURST_NS, __ATOMIC_RELAXED);
		__atomic_store_n(&s->max_inflight, cap, __ATOMIC_RELAXED);
		__atomic_store_n(&s->share_ppm, shares[i].ret_ppm, __ATOMIC_RELEASE);
	}
}

/* A process of a latency-critical tenant registered: the others are held to
 * few launches at once from now on, before its first launch rather than a
 * tick after it. */
void sched_registered(struct daemon *d, struct tenant *t, uint64_t now_ns)
{
	if (!t->high)
		return;
	t->active_until_ns = now_ns + ACTIVE_NS;
	sched_tick(d, now_ns);
}
