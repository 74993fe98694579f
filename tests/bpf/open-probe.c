/* SPDX-License-Identifier: Apache-2.0 */
/*
 * open-probe [--cuda] PATH...: opens each PATH and prints "PATH ok" or
 * "PATH <errno name>"; with --cuda, calls cuInit first (through dlsym, as
 * frameworks do), so that a preloaded shim registers with cusliced.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int i = 1;

	if (argc > 1 && strcmp(argv[1], "--cuda") == 0) {
		void *cuda = dlopen("libcuda.so.1", RTLD_NOW);
		int (*init)(unsigned) = cuda ? (int (*)(unsigned))dlsym(cuda, "cuInit") : NULL;
		if (!init || init(0) != 0) {
			fprintf(stderr, "open-probe: cuInit failed\n");
			return 1;
		}
		i++;
	}
	for (; i < argc; i++) {
		int fd = open(argv[i], O_RDWR | O_CLOEXEC);
		printf("%s %s\n", argv[i], fd >= 0 ? "ok" : strerrorname_np(errno));
		if (fd >= 0)
			close(fd);
	}
	return 0;
}
