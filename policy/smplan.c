/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pace.h"
#include "smplan.h"

int policy_sm_layout(uint32_t total_sms, uint32_t group_sms, uint32_t groups,
		     struct policy_sm_layout *ret)
{
	if (!total_sms || !group_sms || !groups || groups > POLICY_SM_MAX_GROUPS ||
	    (uint64_t)groups * group_sms > total_sms)
		return -EINVAL;
	*ret = (struct policy_sm_layout){.total_sms = total_sms,
					 .group_sms = group_sms,
					 .groups = groups,
					 .remainder = total_sms - groups * group_sms};
	return 0;
}

/* SMs an ask names. */
static uint32_t wanted(const struct policy_sm_layout *l, const struct policy_sm_ask *a)
{
	return a->sms ? a->sms
		      : (uint32_t)(((uint64_t)a->ppm * l->total_sms + POLICY_PPM / 2) / POLICY_PPM);
}

/* Whole groups nearest to `sms`, at least one. */
static uint32_t groups_for(const struct policy_sm_layout *l, uint32_t sms)
{
	uint32_t g = (sms + l->group_sms / 2) / l->group_sms;
	return g ? g : 1;
}

int policy_sm_plan(const struct policy_sm_layout *l, const struct policy_sm_ask *asks, int n,
		   struct policy_sm_grant *ret, char *err, size_t errlen)
{
	int order[POLICY_SM_MAX_GROUPS + 1];
	uint32_t next_group = 0, need = 0;
	bool remainder_free = l->remainder > 0;

	if (n < 0 || n > POLICY_SM_MAX_GROUPS + 1)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		order[i] = i;
	for (int i = 1; i < n; i++) /* largest ask first; stable */
		for (int k = i;
		     k > 0 && wanted(l, &asks[order[k]]) > wanted(l, &asks[order[k - 1]]); k--) {
			int t = order[k];
			order[k] = order[k - 1];
			order[k - 1] = t;
		}
	struct policy_sm_grant g[POLICY_SM_MAX_GROUPS + 1];
	memset(g, 0, sizeof(g));
	for (int k = 0; k < n; k++) {
		int i = order[k];
		uint32_t sms = wanted(l, &asks[i]), groups = groups_for(l, sms);
		uint32_t by_groups = groups * l->group_sms;
		uint32_t off_groups = by_groups > sms ? by_groups - sms : sms - by_groups;
		uint32_t off_rest = l->remainder > sms ? l->remainder - sms : sms - l->remainder;
		if (remainder_free && off_rest < off_groups) {
			g[i].remainder = 1;
			g[i].sms = l->remainder;
			remainder_free = false;
			continue;
		}
		need += groups;
		if (next_group + groups > l->groups)
			continue; /* counted; refused below */
		for (uint32_t b = 0; b < groups; b++)
			g[i].groups |= 1ull << (next_group + b);
		next_group += groups;
		g[i].sms = by_groups;
	}
	if (need > l->groups) {
		snprintf(err, errlen,
			 "the asks need %u groups of %u SMs; the GPU has %u (and %u SMs left over, "
			 "granted whole)",
			 need, l->group_sms, l->groups, l->remainder);
		return -ENOSPC;
	}
	for (int i = 0; i < n; i++) {
		g[i].ppm = (uint32_t)((uint64_t)g[i].sms * POLICY_PPM / l->total_sms);
		ret[i] = g[i];
	}
	return 0;
}

int policy_sm_parse(const char *text, struct policy_sm_ask *ret)
{
	char *end;
	unsigned long n;

	if (!text || *text < '0' || *text > '9')
		return -EINVAL;
	if (strchr(text, '%')) {
		uint32_t ppm;
		if (policy_share_ppm(text, &ppm) < 0)
			return -EINVAL;
		*ret = (struct policy_sm_ask){.ppm = ppm};
		return 0;
	}
	n = strtoul(text, &end, 10);
	if (*end || n == 0 || n > 100000)
		return -EINVAL;
	*ret = (struct policy_sm_ask){.sms = (uint32_t)n};
	return 0;
}
