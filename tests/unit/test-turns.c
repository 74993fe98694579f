/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "policy/turns.h"

#define US 1000ull
#define MS 1000000ull

static void test_off_admits_at_once(void **state)
{
	struct cuslice_turns t;
	memset(&t, 0, sizeof(t));

	struct policy_turn_verdict v = policy_turn(&t, 0, 100 * MS, 5 * MS);
	assert_true(v.admitted);
	assert_int_equal(v.at_ns, 100 * MS);

	uint32_t shares[] = {300000, 700000};
	policy_turns_start(&t, shares, 2, 100 * MS);
	v = policy_turn(&t, 2, 100 * MS, 5 * MS); /* not among them */
	assert_true(v.admitted);
	policy_turns_stop(&t);
	v = policy_turn(&t, 1, 100 * MS, 5 * MS);
	assert_true(v.admitted);
	assert_int_equal(v.at_ns, 100 * MS);
}

/*
 * Tenants that always have work: each launches a kernel of `kernel` ns when
 * told, and is back for the next one at once. A simulated GPU runs the
 * kernels in launch order; the shares are what each got of it, and no kernel
 * of one tenant may be on the GPU while another's runs (beyond the lead).
 */
struct sim_tenant {
	uint64_t kernel, ready_at, gpu_ns;
	uint64_t busy_until; /* its last kernel's predicted end */
};

static void simulate(struct cuslice_turns *t, struct sim_tenant *ten, int n, uint64_t until,
		     uint64_t *ret_switches)
{
	uint64_t last_end = 0;
	int last = -1;

	*ret_switches = 0;
	for (;;) {
		int i = 0;
		for (int k = 1; k < n; k++)
			if (ten[k].ready_at < ten[i].ready_at)
				i = k;
		uint64_t now = ten[i].ready_at;
		if (now >= until)
			break;
		struct policy_turn_verdict v = policy_turn(t, (uint32_t)i, now, ten[i].kernel);
		if (!v.admitted) {
			assert_true(v.at_ns > now);
			ten[i].ready_at = v.at_ns;
			continue;
		}
		uint64_t start = v.ends_ns - ten[i].kernel;
		if (last >= 0 && last != i) {
			/* another tenant's work: launched only as it drains */
			assert_true(start >= last_end);
			assert_true(v.at_ns + CUSLICE_TURN_LEAD_NS >= last_end);
			(*ret_switches)++;
		}
		last = i;
		last_end = v.ends_ns;
		ten[i].gpu_ns += ten[i].kernel;
		ten[i].busy_until = v.ends_ns;
		/* a launcher that keeps at most two kernels queued */
		uint64_t next = v.at_ns > now ? v.at_ns : now;
		if (v.ends_ns > next + 2 * ten[i].kernel)
			next = v.ends_ns - 2 * ten[i].kernel;
		ten[i].ready_at = next + 1 * US;
	}
}

/* Weights 3:7, both saturating: 30/70 of the GPU, a switch of contexts twice
 * a round rather than at every kernel. */
static void test_shares_follow_quanta(void **state)
{
	struct cuslice_turns t;
	struct sim_tenant ten[2] = {{.kernel = 1400 * US}, {.kernel = 1400 * US}};
	uint32_t shares[] = {300000, 700000};
	uint64_t switches, span = 10000 * MS;

	memset(&t, 0, sizeof(t));
	policy_turns_start(&t, shares, 2, 0);
	simulate(&t, ten, 2, span, &switches);
	double a = (double)ten[0].gpu_ns / (ten[0].gpu_ns + ten[1].gpu_ns);
	print_message("3:7 -> %.3f / %.3f, %lu switches in %lu rounds\n", a, 1 - a,
		      (unsigned long)switches, (unsigned long)(span / CUSLICE_TURN_ROUND_NS));
	assert_true(a > 0.29 && a < 0.31);
	assert_true(switches <= 2 * span / CUSLICE_TURN_ROUND_NS + 2);
	/* the GPU never idled: the work admitted covers the whole span */
	assert_true(ten[0].gpu_ns + ten[1].gpu_ns >= span - 2 * MS);
}

/* Kernels of different lengths: the one that overruns its quantum owes it. */
static void test_overrun_is_owed(void **state)
{
	struct cuslice_turns t;
	struct sim_tenant ten[3] = {{.kernel = 5 * MS}, {.kernel = 300 * US}, {.kernel = 1 * MS}};
	uint32_t shares[] = {250000, 250000, 500000};
	uint64_t switches;

	memset(&t, 0, sizeof(t));
	policy_turns_start(&t, shares, 3, 0);
	simulate(&t, ten, 3, 20000 * MS, &switches);
	uint64_t sum = ten[0].gpu_ns + ten[1].gpu_ns + ten[2].gpu_ns;
	for (int i = 0; i < 3; i++) {
		double got = (double)ten[i].gpu_ns / sum, want = shares[i] / 1e6;
		print_message("tenant %d (kernels %lu us): %.3f, share %.3f\n", i,
			      (unsigned long)(ten[i].kernel / US), got, want);
		assert_true(got > want - 0.01 && got < want + 0.01);
	}
}

/* A tenant that stops wanting the GPU loses its turn after the grace: the
 * other is never kept waiting longer than that (and a dead one neither). */
static void test_idle_owner_loses_turn(void **state)
{
	struct cuslice_turns t;
	uint32_t shares[] = {500000, 500000};
	uint64_t now = 1000 * MS;

	memset(&t, 0, sizeof(t));
	policy_turns_start(&t, shares, 2, now);
	struct policy_turn_verdict v = policy_turn(&t, 0, now, 1 * MS);
	assert_true(v.admitted);
	/* slot 1 waits while slot 0 may still come back … */
	now = 1000 * MS + CUSLICE_TURN_ROUND_NS; /* slot 1 was marked active up to here */
	v = policy_turn(&t, 1, now, 1 * MS);
	assert_false(v.admitted);
	assert_int_equal(v.owner, 0);
	assert_true(v.at_ns <= now + CUSLICE_TURN_WAIT_NS);
	/* … and takes over once slot 0 has wanted nothing for the grace */
	now += CUSLICE_TURN_GRACE_NS + 1;
	v = policy_turn(&t, 1, now, 1 * MS);
	assert_true(v.admitted);
	assert_true(v.passed);
	assert_int_equal(v.at_ns, now);
	assert_int_equal(t.owner, 1);
	/* the idle one keeps no credit from the turn it lost */
	assert_true(t.slots[0].deficit_ns <= 0);
}

/* An owner waiting in a synchronisation keeps its turn though its work runs
 * past the prediction; once it returned it has the grace to launch again. */
static void test_syncing_owner_keeps_turn(void **state)
{
	struct cuslice_turns t;
	uint32_t shares[] = {500000, 500000};
	uint64_t now = 1000 * MS;

	memset(&t, 0, sizeof(t));
	policy_turns_start(&t, shares, 2, 0);
	struct policy_turn_verdict v = policy_turn(&t, 0, now, 2 * MS);
	assert_true(v.admitted);
	uint64_t mark = policy_turn_syncing(&t.slots[0], now);
	now = v.ends_ns + 3 * CUSLICE_TURN_GRACE_NS; /* the work runs late */
	v = policy_turn(&t, 1, now, 1 * MS);
	assert_false(v.admitted);
	assert_int_equal(t.owner, 0);
	policy_turn_synced(&t.slots[0], mark, now);
	v = policy_turn(&t, 1, now + CUSLICE_TURN_GRACE_NS / 2, 1 * MS);
	assert_false(v.admitted);
	v = policy_turn(&t, 1, now + CUSLICE_TURN_GRACE_NS + 1, 1 * MS);
	assert_true(v.admitted);
	/* a synchronisation that never returns holds the turn for so long only */
	mark = policy_turn_syncing(&t.slots[1], now);
	now += CUSLICE_TURN_SYNC_NS + CUSLICE_TURN_GRACE_NS + 3 * MS;
	v = policy_turn(&t, 0, now, 1 * MS);
	assert_true(v.admitted);
}

/* Alone among the turn takers (the others idle), a tenant keeps its turn and
 * the GPU: work conservation. */
static void test_alone_keeps_the_gpu(void **state)
{
	struct cuslice_turns t;
	uint32_t shares[] = {100000, 900000};
	uint64_t now = 0, admitted = 0;

	memset(&t, 0, sizeof(t));
	policy_turns_start(&t, shares, 2, now);
	now = CUSLICE_TURN_ROUND_NS + CUSLICE_TURN_GRACE_NS + 1; /* slot 1 never came */
	for (int i = 0; i < 1000; i++) {
		struct policy_turn_verdict v = policy_turn(&t, 0, now, 1 * MS);
		assert_true(v.admitted);
		assert_true(v.at_ns <= now + 1 * MS);
		admitted += MS;
		now = v.ends_ns;
	}
	assert_int_equal(admitted, 1000 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_admits_at_once),
		cmocka_unit_test(test_shares_follow_quanta),
		cmocka_unit_test(test_overrun_is_owed),
		cmocka_unit_test(test_idle_owner_loses_turn),
		cmocka_unit_test(test_syncing_owner_keeps_turn),
		cmocka_unit_test(test_alone_keeps_the_gpu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
