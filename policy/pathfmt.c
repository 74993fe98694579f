/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pathfmt.h"

int policy_path_expand(const char *template, pid_t pid, char *ret_path, size_t size)
{
	char buf[4096];
	size_t n = 0;

	if (!template || !*template)
		return -EINVAL;
	for (const char *p = template; *p; p++) {
		char pidbuf[24];
		const char *piece = p;
		size_t len = 1;
		if (*p == '%') {
			p++;
			if (*p == 'p') {
				len = (size_t)snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
				piece = pidbuf;
			} else if (*p != '%') {
				return -EINVAL;
			}
		}
		if (n + len >= sizeof(buf))
			return -ENAMETOOLONG;
		memcpy(buf + n, piece, len);
		n += len;
	}
	if (n + 1 > size)
		return -ENAMETOOLONG;
	memcpy(ret_path, buf, n);
	ret_path[n] = '\0';
	return 0;
}
