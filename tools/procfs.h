/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* The text of /proc/PID/FILE ("stat", "cgroup"), NUL-terminated, cut at
 * `size` - 1 bytes. 0, or a negative errno (-ENOENT: no such process). */
int procfs_read(pid_t pid, const char *file, char *buf, size_t size);

/* Where the cgroup v2 hierarchy is mounted (from /proc/self/mountinfo); 0 or -ENOENT. */
int procfs_cgroup2_mount(char *ret_path, size_t size);
