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

/* What the ask should get: the remainder (where nearer than whole groups and
 * still free), else this many groups. */
static void shape(const struct policy_sm_layout *l, const struct policy_sm_ask *a,
		  bool remainder_free, bool *ret_remainder, uint32_t *ret_groups)
{
	uint32_t sms = wanted(l, a), groups = groups_for(l, sms);
	uint32_t by_groups = groups * l->group_sms;
	uint32_t off_groups = by_groups > sms ? by_groups - sms : sms - by_groups;
	uint32_t off_rest = l->remainder > sms ? l->remainder - sms : sms - l->remainder;

	*ret_remainder = remainder_free && l->remainder && off_rest < off_groups;
	*ret_groups = groups;
}

static uint32_t popcount(uint64_t m)
{
	return (uint32_t)__builtin_popcountll(m);
}

int policy_sm_plan(const struct policy_sm_layout *l, const struct policy_sm_ask *asks,
		   const struct policy_sm_grant *prev, int n, struct policy_sm_grant *ret,
		   char *err, size_t errlen)
{
	int order[POLICY_SM_MAX_GROUPS + 1];
	uint64_t all = l->groups >= 64 ? ~0ull : (1ull << l->groups) - 1, used = 0;
	uint32_t need = 0;
	bool remainder_free = l->remainder > 0, done[POLICY_SM_MAX_GROUPS + 1] = {0};
	struct policy_sm_grant g[POLICY_SM_MAX_GROUPS + 1];

	if (n < 0 || n > POLICY_SM_MAX_GROUPS + 1)
		return -EINVAL;
	memset(g, 0, sizeof(g));
	/* A grant that still fits its ask stays where it is: running processes
	 * keep their SMs and nobody moves onto them. */
	for (int i = 0; prev && i < n; i++) {
		bool rest;
		uint32_t groups;
		shape(l, &asks[i], true, &rest, &groups);
		if (prev[i].remainder && !prev[i].groups && rest && remainder_free) {
			g[i].remainder = 1;
			remainder_free = false;
			done[i] = true;
		} else if (!prev[i].remainder && prev[i].groups && !rest &&
			   popcount(prev[i].groups) == groups && !(prev[i].groups & ~all) &&
			   !(prev[i].groups & used)) {
			g[i].groups = prev[i].groups;
			used |= prev[i].groups;
			done[i] = true;
		}
	}
	for (int i = 0; i < n; i++)
		order[i] = i;
	for (int i = 1; i < n; i++) /* largest ask first; stable */
		for (int k = i;
		     k > 0 && wanted(l, &asks[order[k]]) > wanted(l, &asks[order[k - 1]]); k--) {
			int t = order[k];
			order[k] = order[k - 1];
			order[k - 1] = t;
		}
	for (int k = 0; k < n; k++) {
		int i = order[k];
		bool rest;
		uint32_t groups;
		if (done[i]) {
			need += popcount(g[i].groups);
			continue;
		}
		shape(l, &asks[i], remainder_free, &rest, &groups);
		if (rest) {
			g[i].remainder = 1;
			remainder_free = false;
			continue;
		}
		need += groups;
		for (uint32_t b = 0; b < l->groups && popcount(g[i].groups) < groups; b++)
			if (!((used | g[i].groups) >> b & 1))
				g[i].groups |= 1ull << b;
		used |= g[i].groups;
	}
	if (need > l->groups) {
		snprintf(err, errlen,
			 "the asks need %u groups of %u SMs; the GPU has %u (and %u SMs left over, "
			 "granted whole)",
			 need, l->group_sms, l->groups, l->remainder);
		return -ENOSPC;
	}
	for (int i = 0; i < n; i++) {
		g[i].sms =
			popcount(g[i].groups) * l->group_sms + (g[i].remainder ? l->remainder : 0);
		g[i].ppm = (uint32_t)((uint64_t)g[i].sms * POLICY_PPM / l->total_sms);
		ret[i] = g[i];
	}
	return 0;
}

struct policy_sm_grant policy_sm_rest(const struct policy_sm_layout *l,
				      const struct policy_sm_grant *grants, int n)
{
	uint64_t all = l->groups >= 64 ? ~0ull : (1ull << l->groups) - 1;
	struct policy_sm_grant rest = {.groups = all, .remainder = l->remainder > 0};

	for (int i = 0; i < n; i++) {
		rest.groups &= ~grants[i].groups;
		if (grants[i].remainder)
			rest.remainder = 0;
	}
	rest.sms = popcount(rest.groups) * l->group_sms + (rest.remainder ? l->remainder : 0);
	rest.ppm = (uint32_t)((uint64_t)rest.sms * POLICY_PPM / l->total_sms);
	return rest;
}

int policy_sm_groups_parse(const struct policy_sm_layout *l, const char *text,
			   struct policy_sm_grant *ret)
{
	struct policy_sm_grant g = {0};
	char buf[256], *save = NULL;

	if (!text || !*text || strlen(text) >= sizeof(buf) || strstr(text, ",,") ||
	    text[0] == ',' || text[strlen(text) - 1] == ',')
		return -EINVAL;
	strcpy(buf, text);
	for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *end;
		if (strcmp(item, "remainder") == 0) {
			if (!l->remainder)
				return -EINVAL;
			g.remainder = 1;
			continue;
		}
		if (*item < '0' || *item > '9')
			return -EINVAL;
		unsigned long a = strtoul(item, &end, 10), b = a;
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				return -EINVAL;
			b = strtoul(end + 1, &end, 10);
		}
		if (*end || a > b || b >= l->groups)
			return -EINVAL;
		for (unsigned long i = a; i <= b; i++)
			g.groups |= 1ull << i;
	}
	if (!g.groups && !g.remainder)
		return -EINVAL;
	g.sms = popcount(g.groups) * l->group_sms + (g.remainder ? l->remainder : 0);
	g.ppm = (uint32_t)((uint64_t)g.sms * POLICY_PPM / l->total_sms);
	*ret = g;
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
