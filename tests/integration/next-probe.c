/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An interposer preloaded after libcuslice.so, as another tool's would be.
 * Its puts() finds the next definition with dlsym(RTLD_NEXT): through the
 * shim's dlsym that must still be libc's, or this recurses until the stack
 * runs out.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>

int puts(const char *s);

__attribute__((visibility("default"))) int puts(const char *s)
{
	int (*next)(const char *) = (int (*)(const char *))dlsym(RTLD_NEXT, "puts");

	if (!next || next == puts)
		return -1;
	return next(s);
}
