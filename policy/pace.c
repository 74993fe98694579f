/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "pace.h"

uint64_t policy_pace(struct cuslice_sched *s, uint64_t now_ns, uint64_t cost_ns)
{
	uint32_t share = __atomic_load_n(&s->share_ppm, __ATOMIC_RELAXED);
	uint64_t burst = __atomic_load_n(&s->burst_ns, __ATOMIC_RELAXED);
	uint64_t span, old, start, floor = now_ns > burst ? now_ns - burst : 0;

	if (!share)
		return 0;
	span = (uint64_t)((unsigned __int128)cost_ns * POLICY_PPM / share);
	old = __atomic_load_n(&s->next_free_ns, __ATOMIC_RELAXED);
	do {
		start = old > floor ? old : floor; /* idle time counts only up to the burst */
	} while (!__atomic_compare_exchange_n(&s->next_free_ns, &old, start + span, true,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	__atomic_fetch_add(&s->admitted_ns, cost_ns, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->leases, 1, __ATOMIC_RELAXED);
	/* the launch may run once the allowance before it is spent */
	return start > now_ns ? start - now_ns : 0;
}

int policy_share_ppm(const char *text, uint32_t *ret_ppm)
{
	char *end;
	double v;

	if (!text || !isdigit((unsigned char)*text))
		return -EINVAL;
	v = strtod(text, &end);
	if (end[0] != '%' || end[1] || v <= 0 || v > 100)
		return -EINVAL;
	*ret_ppm = (uint32_t)(v * 10000 + 0.5);
	return *ret_ppm ? 0 : -EINVAL;
}
