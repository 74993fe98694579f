/* SPDX-License-Identifier: Apache-2.0 */
/* Dividing GPU time between tenants: weights, limits, work conservation. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct policy_share {
	uint32_t weight;    /* ≥ 1 */
	uint32_t limit_ppm; /* 0: no limit */
	bool active;	    /* launched lately */
	uint32_t ret_ppm;   /* out: the share to pace at; 0: not paced */
};

/**
 * policy_shares() - each active tenant's share of GPU time: proportional to
 * its weight among the active ones (an idle tenant's share goes to the
 * others), never above its limit (what a limit frees goes to the others).
 * A tenant running alone and unlimited is not paced at all, and neither is
 * an idle one unless it has a limit, which always holds.
 */
void policy_shares(struct policy_share *t, int n);
