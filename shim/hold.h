/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Holding a stream while a launch is timed (hold.c), so that the event pair
 * around it measures the kernel's GPU time and not the host submitting it.
 * Callers serialise hold_stream() and hold_pair_ns() (gate.c's samples lock);
 * hold_release() may be called from any thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "shim.h"

struct hold {
	uint32_t *word; /* NULL: not held */
	uint32_t value;
};

void hold_bind(void);

/**
 * hold_stream() - hold @stream until hold_release(@h).
 *
 * Queues on @stream a wait for a pinned host word, so that the GPU reaches
 * what is queued behind it only once the caller has queued all of it and
 * released the word. Never holds longer than HOLD_MAX_NS: a watchdog thread
 * releases it then, whatever the caller is blocked on.
 *
 * Return: true if @stream is held (@h must then be released), false if it
 * cannot be here (no stream memory operations, no pinned memory).
 */
bool hold_stream(struct hold *h, CUstream stream, bool ptsz);

/** hold_release() - let the GPU past a wait hold_stream() queued. */
void hold_release(const struct hold *h);

/**
 * hold_pair_ns() - the GPU time of two events recorded back to back behind a
 * hold: what the pair adds to a held sample. 0 until it has been measured.
 */
uint32_t hold_pair_ns(void);

struct hold_stats {
	uint64_t held;	 /* samples taken with their stream held */
	uint64_t forced; /* holds the watchdog released */
	uint32_t pair_ns;
};
void hold_stats(struct hold_stats *ret);

/* After fork: the child has no watchdog and none of the parent's memory. */
void hold_forget(void);
