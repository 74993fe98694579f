/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/quota.h"

static struct cuslice_segment seg;

static void setup_quota(uint64_t quota)
{
	quota_segment_init(&seg, 2);
	seg.devices[0].quota = quota;
}

static void test_reserve_and_release(void **state)
{
	setup_quota(1000);
	struct cuslice_proc *p = quota_proc_claim(&seg, 42, 7);

	assert_non_null(p);
	assert_int_equal(quota_reserve(&seg, p, 0, 600), 0);
	assert_int_equal(quota_reserve(&seg, p, 0, 401), -ENOMEM);
	assert_int_equal(quota_reserve(&seg, p, 0, 400), 0);
	assert_int_equal(quota_free_bytes(&seg, 0), 0);
	assert_int_equal(quota_reserve(&seg, p, 0, 1), -ENOMEM);
	quota_release(&seg, p, 0, 600);
	assert_int_equal(quota_free_bytes(&seg, 0), 600);
	assert_int_equal(p->reserved[0], 400);
	/* device 1 exists but has no quota: nothing may be allocated there */
	assert_int_equal(quota_reserve(&seg, p, 1, 1), -ENOMEM);
	assert_int_equal(quota_reserve(&seg, p, 2, 1), -ENODEV);
	assert_int_equal(quota_reserve(&seg, p, 0, UINT64_MAX), -ENOMEM);
}

static void test_reclaim_only_the_same_process(void **state)
{
	setup_quota(1000);
	struct cuslice_proc *p = quota_proc_claim(&seg, 42, 7);

	assert_int_equal(quota_reserve(&seg, p, 0, 700), 0);
	assert_int_equal(quota_proc_reclaim(&seg, p, 42, 8), 0); /* recycled pid: other start */
	assert_int_equal(quota_proc_reclaim(&seg, p, 43, 7), 0);
	assert_int_equal(quota_free_bytes(&seg, 0), 300);
	assert_int_equal(quota_proc_reclaim(&seg, p, 42, 7), 700);
	assert_int_equal(quota_free_bytes(&seg, 0), 1000);
	assert_int_equal(p->pid, 0);
	assert_int_equal(quota_proc_reclaim(&seg, p, 42, 7), 0); /* only once */
}

static void test_slots_run_out(void **state)
{
	setup_quota(1);
	for (int i = 0; i < CUSLICE_MAX_PROCS; i++)
		assert_non_null(quota_proc_claim(&seg, 100 + i, 1));
	assert_null(quota_proc_claim(&seg, 99999, 1));
	assert_int_equal(quota_proc_reclaim(&seg, &seg.procs[3], 103, 1), 0);
	assert_ptr_equal(quota_proc_claim(&seg, 99999, 1), &seg.procs[3]);
}

static void test_segment_check(void **state)
{
	setup_quota(1);
	assert_int_equal(quota_segment_check(&seg, sizeof(seg)), 0);
	/* a segment from before `refusals` was appended is still good */
	assert_int_equal(quota_segment_check(&seg, CUSLICE_SEGMENT_SIZE_V1), 0);
	assert_int_equal(quota_segment_check(&seg, CUSLICE_SEGMENT_SIZE_V1 - 1), -EMSGSIZE);
	seg.version = 99;
	assert_int_equal(quota_segment_check(&seg, sizeof(seg)), -EPROTO);
	seg.version = CUSLICE_SEGMENT_VERSION;
	seg.magic = 0;
	assert_int_equal(quota_segment_check(&seg, sizeof(seg)), -EPROTO);
}

/* Refusals over the quota are counted, where the segment has room for it. */
static void test_refusals_counted(void **state)
{
	setup_quota(1);
	seg.devices[0].quota = 100;
	assert_int_equal(quota_reserve(&seg, &seg.procs[0], 0, 60), 0);
	assert_int_equal(quota_reserve(&seg, &seg.procs[0], 0, 60), -ENOMEM);
	assert_int_equal(quota_reserve(&seg, &seg.procs[0], 0, 200), -ENOMEM);
	assert_int_equal(seg.refusals[0], 2);
	seg.size = CUSLICE_SEGMENT_SIZE_V1; /* an older daemon's: nothing written past it */
	assert_int_equal(quota_reserve(&seg, &seg.procs[0], 0, 60), -ENOMEM);
	assert_int_equal(seg.refusals[0], 2);
}

#define THREADS 8
#define ROUNDS 20000
static uint64_t held_now, held_max, refused;

static void note_held(uint64_t bytes)
{
	uint64_t now = __atomic_add_fetch(&held_now, bytes, __ATOMIC_SEQ_CST);
	uint64_t max = __atomic_load_n(&held_max, __ATOMIC_RELAXED);

	while (now > max && !__atomic_compare_exchange_n(&held_max, &max, now, true,
							 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Each racer keeps its last 4 reservations, so together they want far more
 * than the quota. What they hold is added after a reservation succeeds and
 * taken off before it is released, as a program's allocations would be. */
static void *racer(void *arg)
{
	struct cuslice_proc *p = arg;
	unsigned seed = (unsigned)(uintptr_t)arg;
	uint64_t ring[4] = {0};

	for (int i = 0; i < ROUNDS; i++) {
		uint64_t *slot = &ring[i % 4];
		if (*slot) {
			__atomic_sub_fetch(&held_now, *slot, __ATOMIC_SEQ_CST);
			quota_release(&seg, p, 0, *slot);
			*slot = 0;
		}
		uint64_t bytes = 1 + rand_r(&seed) % 300;
		if (quota_reserve(&seg, p, 0, bytes) != 0) {
			__atomic_fetch_add(&refused, 1, __ATOMIC_RELAXED);
			continue;
		}
		note_held(bytes);
		*slot = bytes;
	}
	for (int i = 0; i < 4; i++)
		if (ring[i]) {
			__atomic_sub_fetch(&held_now, ring[i], __ATOMIC_SEQ_CST);
			quota_release(&seg, p, 0, ring[i]);
		}
	return NULL;
}

/* Many reservers at once never hold more than the quota together. */
static void test_racing_never_passes_the_quota(void **state)
{
	pthread_t t[THREADS];

	setup_quota(1000);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, racer, quota_proc_claim(&seg, 1000 + i, 1));
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	assert_true(held_max <= 1000);
	assert_true(refused > 0); /* the quota was actually contended */
	assert_int_equal(seg.devices[0].reserved, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reserve_and_release),
		cmocka_unit_test(test_reclaim_only_the_same_process),
		cmocka_unit_test(test_slots_run_out),
		cmocka_unit_test(test_segment_check),
		cmocka_unit_test(test_refusals_counted),
		cmocka_unit_test(test_racing_never_passes_the_quota),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
