/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "cgroup.h"

int policy_cgroup_v2_path(const char *text, char *ret_path, size_t size)
{
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (len >= 3 && strncmp(line, "0::", 3) == 0) {
			if (len - 3 + 1 > size)
				return -ENAMETOOLONG;
			memcpy(ret_path, line + 3, len - 3);
			ret_path[len - 3] = '\0';
			return 0;
		}
		line = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

int policy_tenant_name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > 255 || name[0] != '/' || strstr(name, "/../") ||
	    (len >= 3 && strcmp(name + len - 3, "/..") == 0))
		return 0;
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
			return 0;
	return 1;
}
