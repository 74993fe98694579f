/* SPDX-License-Identifier: Apache-2.0 */
#include "shares.h"
#include "pace.h"

static uint64_t weight(const struct policy_share *t)
{
	return t->weight ? t->weight : 1;
}

void policy_shares(struct policy_share *t, int n)
{
	uint64_t left = POLICY_PPM;
	int active = 0;
	bool settled[n > 0 ? n : 1];

	for (int i = 0; i < n; i++) {
		t[i].ret_ppm = t[i].active ? 0 : t[i].limit_ppm;
		settled[i] = !t[i].active;
		active += t[i].active;
	}
	/* Water-filling: share out by weight; a tenant whose portion passes its
	 * limit takes its limit, and the rest is shared out again without it. */
	for (;;) {
		uint64_t weights = 0;
		int capped = -1;
		for (int i = 0; i < n; i++)
			weights += settled[i] ? 0 : weight(&t[i]);
		for (int i = 0; i < n && capped < 0; i++)
			if (!settled[i] && t[i].limit_ppm &&
			    left * weight(&t[i]) / weights > t[i].limit_ppm)
				capped = i;
		if (capped < 0) {
			for (int i = 0; i < n; i++)
				if (!settled[i])
					t[i].ret_ppm = (uint32_t)(left * weight(&t[i]) / weights);
			break;
		}
		t[capped].ret_ppm = t[capped].limit_ppm;
		left -= t[capped].limit_ppm;
		settled[capped] = true;
	}
	/* alone and unlimited: the whole GPU, so no pacing at all */
	for (int i = 0; i < n; i++)
		if (active == 1 && t[i].active && !t[i].limit_ppm)
			t[i].ret_ppm = 0;
}
