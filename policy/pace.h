/* SPDX-License-Identifier: Apache-2.0 */
/* Pacing launches by GPU time (struct cuslice_sched). Lock-free. */
#pragma once

#include <stdint.h>

#include "segment.h"

#define POLICY_PPM 1000000u

/**
 * policy_pace() - admit predicted GPU time `cost_ns` (a launch's, or a lease
 * of several) at `now_ns`.
 * Return: how long the launcher must wait first, in ns (0: go now). At a
 * share of s, GPU time c takes c / s of the tenant's wall-clock allowance;
 * unused allowance piles up to `burst_ns` at most.
 */
uint64_t policy_pace(struct cuslice_sched *s, uint64_t now_ns, uint64_t cost_ns);

/** policy_share_ppm() - parse "30%" or "12.5%" into millionths; -EINVAL if not 0 < p ≤ 100%. */
int policy_share_ppm(const char *text, uint32_t *ret_ppm);
