/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Finds cuInit the way a program that probes for CUDA does, calls it and
 * prints what it returned. Not linked with libcuda, so it also runs where no
 * driver exists at all.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>

int main(void)
{
	int (*init)(unsigned) = (int (*)(unsigned))dlsym(RTLD_DEFAULT, "cuInit");

	if (!init) {
		void *h = dlopen("libcuda.so.1", RTLD_NOW);
		init = h ? (int (*)(unsigned))dlsym(h, "cuInit") : NULL;
	}
	if (!init) {
		printf("cuInit: absent\n");
		return 0;
	}
	printf("cuInit: %d\n", init(0));
	return 0;
}
