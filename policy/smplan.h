/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Planning SM partitions (spatial mode): tenants ask for a share of a GPU's
 * SMs, as a percentage or a count; the GPU splits into groups of a fixed
 * size (what cuDevSmResourceSplitByCount gives: 15 groups of 8 SMs and a
 * remainder of 12 on an H200) and a plan gives each tenant whole groups,
 * disjoint from everyone else's, or the remainder.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define POLICY_SM_MAX_GROUPS 64

struct policy_sm_layout {
	uint32_t total_sms; /* 132 */
	uint32_t group_sms; /* 8: the split's granularity */
	uint32_t groups;    /* 15 */
	uint32_t remainder; /* SMs left over by the split: 12 */
};

/* What a tenant asks: `sms` SMs, or else `ppm` millionths of the GPU. */
struct policy_sm_ask {
	uint32_t sms;
	uint32_t ppm;
};

struct policy_sm_grant {
	uint64_t groups; /* bit g: group g of the split is the tenant's */
	int remainder;	 /* the split's remainder is the tenant's */
	uint32_t sms;	 /* SMs granted in all */
	uint32_t ppm;	 /* of the GPU's SMs */
};

/* The layout of a GPU of `total_sms` that the driver split into `groups`
 * groups of `group_sms` (not always total / group_sms: the H200's 132 SMs
 * split into 15 groups of 8 and 12 left over); -EINVAL if inconsistent. */
int policy_sm_layout(uint32_t total_sms, uint32_t group_sms, uint32_t groups,
		     struct policy_sm_layout *ret);

/**
 * policy_sm_plan() - grant each ask whole groups (the nearest number to what
 * it asked, at least one), or the remainder where that is nearer; asks are
 * served largest first so that the remainder goes where it fits best.
 * @prev: the grants in force (NULL: none). One that still fits its ask is
 * kept, so that running processes keep their SMs and nobody is planned
 * onto them; the others are placed on groups nobody holds.
 * Return: 0 and @ret, one grant per ask; -ENOSPC with the reason in @err when
 * the asks need more than the GPU has (nothing granted).
 */
int policy_sm_plan(const struct policy_sm_layout *l, const struct policy_sm_ask *asks,
		   const struct policy_sm_grant *prev, int n, struct policy_sm_grant *ret,
		   char *err, size_t errlen);

/* What no grant holds: shared by the tenants that asked for no SMs. */
struct policy_sm_grant policy_sm_rest(const struct policy_sm_layout *l,
				      const struct policy_sm_grant *grants, int n);

/* Groups named outright: "0-6", "0,2,4", "remainder", "7-13,remainder"
 * (for pinning and benchmarks); -EINVAL for anything else or a group the
 * layout lacks. */
int policy_sm_groups_parse(const struct policy_sm_layout *l, const char *text,
			   struct policy_sm_grant *ret);

/* "25%" or "32" (SMs); -EINVAL otherwise. */
int policy_sm_parse(const char *text, struct policy_sm_ask *ret);
