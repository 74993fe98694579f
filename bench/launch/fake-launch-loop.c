/* SPDX-License-Identifier: Apache-2.0 */
/* Calls cuLaunchKernel N times through the pointer cuGetProcAddress gives,
 * as the CUDA runtime does; for callgrind.sh against fakecuda. */
#define _GNU_SOURCE
#include <cuda.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10000;
	void *h = dlopen("libcuda.so.1", RTLD_NOW);
	__typeof__(&cuGetProcAddress_v2) get = h ? dlsym(h, "cuGetProcAddress_v2") : NULL;
	__typeof__(&cuInit) init;
	__typeof__(&cuModuleLoadData) load;
	__typeof__(&cuModuleGetFunction) function;
	__typeof__(&cuLaunchKernel) launch;
	__typeof__(&cuDevicePrimaryCtxRetain) retain;
	__typeof__(&cuCtxSetCurrent) set_current;
	CUcontext ctx;
	CUmodule module;
	CUfunction f;

	if (!get || get("cuInit", (void **)&init, 12000, 0, NULL) ||
	    get("cuModuleLoadData", (void **)&load, 12000, 0, NULL) ||
	    get("cuModuleGetFunction", (void **)&function, 12000, 0, NULL) ||
	    get("cuLaunchKernel", (void **)&launch, 12000, 0, NULL) ||
	    get("cuDevicePrimaryCtxRetain", (void **)&retain, 12000, 0, NULL) ||
	    get("cuCtxSetCurrent", (void **)&set_current, 12000, 0, NULL))
		return 1;
	if (init(0) || retain(&ctx, 0) || set_current(ctx) || load(&module, "empty 0\n") ||
	    function(&f, module, "empty"))
		return 1;
	for (int i = 0; i < n; i++)
		if (launch(f, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL))
			return 1;
	return 0;
}
