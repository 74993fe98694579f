/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shim-path.h"

static int usable(const char *path, char *ret_path, size_t size)
{
	if (access(path, R_OK) != 0)
		return -errno;
	if (strlen(path) + 1 > size)
		return -ENAMETOOLONG;
	strcpy(ret_path, path);
	return 0;
}

int shim_path_find(char *ret_path, size_t size)
{
	char exe[PATH_MAX], candidate[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		exe[n] = '\0';
		snprintf(candidate, sizeof(candidate), "%s/../shim/libcuslice.so", dirname(exe));
		char resolved[PATH_MAX];
		if (realpath(candidate, resolved) && usable(resolved, ret_path, size) == 0)
			return 0;
	}
	return usable(CUSLICE_SHIM_INSTALLED, ret_path, size);
}
