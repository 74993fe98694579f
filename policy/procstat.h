/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

/**
 * policy_stat_start_time() - the start time (field 22, clock ticks after
 * boot) in the text of /proc/PID/stat. With the pid it names one process
 * for good: a recycled pid has another start time.
 * Return: 0, or -EINVAL if the text is not a stat line.
 */
int policy_stat_start_time(const char *stat, uint64_t *ret);

/**
 * policy_stat_state() - the state letter (field 3) in the text of
 * /proc/PID/stat: 'R', 'S', 'Z' (exited, not yet waited for), …; 0 if the
 * text is not a stat line.
 */
char policy_stat_state(const char *stat);
