/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reserving and returning VRAM against a tenant's quota, on a segment shared
 * by all of its processes. Lock-free: one compare-and-swap on the device's
 * reserved counter decides, so two processes can never jointly pass the
 * quota, not by one byte.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "segment.h"

/** quota_segment_init() - lay out a fresh segment of `ndevices` devices, no quota set. */
void quota_segment_init(struct cuslice_segment *seg, uint32_t ndevices);

/**
 * quota_segment_check() - whether `seg`, `size` bytes long, is one this code
 * understands. Return: 0, -EPROTO for a bad magic or version, -EMSGSIZE when
 * too short.
 */
int quota_segment_check(const struct cuslice_segment *seg, uint64_t size);

/** quota_proc_claim() - a free slot for (pid, start_time), or NULL if none is left. */
struct cuslice_proc *quota_proc_claim(struct cuslice_segment *seg, pid_t pid, uint64_t start_time);

/**
 * quota_reserve() - take `bytes` on `device` for `proc`.
 * Return: 0; -ENOMEM if that would pass the quota; -ENODEV for a device the
 * segment has no quota for.
 */
int quota_reserve(struct cuslice_segment *seg, struct cuslice_proc *proc, uint32_t device,
		  uint64_t bytes);

/** quota_release() - give back `bytes` on `device` that `proc` reserved. */
void quota_release(struct cuslice_segment *seg, struct cuslice_proc *proc, uint32_t device,
		   uint64_t bytes);

/**
 * quota_proc_reclaim() - return everything `proc` holds and free its slot,
 * if it still belongs to (pid, start_time). Safe against a concurrent
 * reclaim of the same slot: only one caller wins. Return: bytes returned,
 * summed over devices.
 */
uint64_t quota_proc_reclaim(struct cuslice_segment *seg, struct cuslice_proc *proc, pid_t pid,
			    uint64_t start_time);

/** quota_free_bytes() - quota minus reserved on `device` (0 when none is left). */
uint64_t quota_free_bytes(const struct cuslice_segment *seg, uint32_t device);
