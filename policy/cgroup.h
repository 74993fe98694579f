/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

/**
 * policy_cgroup_v2_path() - the cgroup v2 path ("0::/kubepods/…") in the text
 * of /proc/PID/cgroup.
 * Return: 0; -ENOENT if the process is in no v2 hierarchy; -ENAMETOOLONG.
 */
int policy_cgroup_v2_path(const char *proc_cgroup, char *ret_path, size_t size);

/**
 * policy_tenant_name_valid() - whether `name` can name a tenant: a cgroup path
 * ("/…", printable, no "..", at most 255 bytes).
 */
int policy_tenant_name_valid(const char *name);
