/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Modules loaded as libraries where the tenant's processes may be moved, so
 * that graphs of their kernels move too.
 *
 * A graph's kernel node runs on the SMs of the context it names; a node
 * that names its kernel only as a module's function (cuModuleLoadData, as
 * Triton, CuPy and XLA load theirs) runs in the context it was captured in,
 * whatever is done to it (graphs.c), so such a graph stayed on the old SMs
 * after a move. A library's module is different: measured on an H100
 * (driver 580), a module loaded with cuLibraryLoadData is one module in the
 * primary context and in each of its green contexts (one handle, one copy
 * of its globals), its functions are the library's kernels' functions, and
 * a kernel node captured from one names the kernel too, which graphs.c can
 * point at the successor: the graph then ran on the new SMs and read the
 * global the program had set through the module. So where cusliced moves
 * processes and the module is loaded in one of the partition's contexts,
 * cuModuleLoad, cuModuleLoadData(Ex) and cuModuleLoadFatBinary load a
 * library instead and hand out its module; cuModuleUnload of that module
 * unloads the library. Where a library cannot be had (an older driver, an
 * image the library loader refuses) the module is loaded as asked.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "moves.h"
#include "partition.h"

#define LIBRARIES 16384 /* modules loaded as libraries at once; a power of two */
static char gone;
#define GONE ((CUmodule)&gone) /* an unloaded library's slot */

static struct {
	pthread_mutex_t lock;
	struct {
		CUmodule module;
		CUlibrary library;
	} table[LIBRARIES];
	uint64_t loaded;
} libs = {.lock = PTHREAD_MUTEX_INITIALIZER};

static struct {
	__typeof__(&cuCtxGetCurrent) get_current;
	__typeof__(&cuLibraryLoadData) load_data;
	__typeof__(&cuLibraryLoadFromFile) load_file;
	__typeof__(&cuLibraryGetModule) get_module;
	__typeof__(&cuLibraryGetKernel) get_kernel;
	__typeof__(&cuLibraryUnload) unload;
	__typeof__(&cuFuncGetModule) func_module;
	__typeof__(&cuFuncGetName) func_name;
} drv;

static bool bound; /* every entry point above but the loaders found */

static void bind_once(void)
{
#define SYM(field, name) drv.field = (__typeof__(drv.field))shim_driver_symbol(name)
	SYM(get_current, "cuCtxGetCurrent");
	SYM(load_data, "cuLibraryLoadData");
	SYM(load_file, "cuLibraryLoadFromFile");
	SYM(get_module, "cuLibraryGetModule");
	SYM(get_kernel, "cuLibraryGetKernel");
	SYM(unload, "cuLibraryUnload");
	SYM(func_module, "cuFuncGetModule");
	SYM(func_name, "cuFuncGetName");
#undef SYM
	bound = drv.get_current && drv.get_module && drv.get_kernel && drv.unload &&
		drv.func_module && drv.func_name;
}

static bool bind(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, bind_once);
	return bound;
}

/* The library `module` is the module of, under the lock; NULL: none. With
 * `take`, its slot is given up. */
static CUlibrary library_of(CUmodule module, bool take)
{
	for (size_t i = shim_handle_slot(module, LIBRARIES), n = 0;
	     n < LIBRARIES && libs.table[i].module; i = (i + 1) & (LIBRARIES - 1), n++)
		if (libs.table[i].module == module) {
			CUlibrary lib = libs.table[i].library;
			if (take)
				libs.table[i].module = GONE;
			return lib;
		}
	return NULL;
}

/* Under the lock: false where the table is full. */
static bool remember(CUmodule module, CUlibrary library)
{
	for (size_t i = shim_handle_slot(module, LIBRARIES), n = 0; n < LIBRARIES;
	     i = (i + 1) & (LIBRARIES - 1), n++)
		if (!libs.table[i].module || libs.table[i].module == GONE) {
			libs.table[i].module = module;
			libs.table[i].library = library;
			libs.loaded++;
			return true;
		}
	return false;
}

bool modules_load(CUresult *rc, CUmodule *module, const char *file, const void *image,
		  unsigned n_jit, CUjit_option *jit_options, void **jit_values)
{
	PROTECT_ERRNO;
	CUcontext ctx = NULL;
	CUlibrary lib = NULL;
	CUmodule mod = NULL;

	if (!module || !bind() || drv.get_current(&ctx) != CUDA_SUCCESS || !partition_movable(ctx))
		return false;
	CUresult r = CUDA_ERROR_NOT_SUPPORTED;
	if (file && drv.load_file)
		r = drv.load_file(&lib, file, jit_options, jit_values, n_jit, NULL, NULL, 0);
	else if (!file && image && drv.load_data)
		r = drv.load_data(&lib, image, jit_options, jit_values, n_jit, NULL, NULL, 0);
	if (r != CUDA_SUCCESS)
		return false; /* the module loader says what is wrong, if anything */
	pthread_mutex_lock(&libs.lock);
	bool kept = drv.get_module(&mod, lib) == CUDA_SUCCESS && remember(mod, lib);
	pthread_mutex_unlock(&libs.lock);
	if (!kept) {
		drv.unload(lib);
		return false;
	}
	if (shim_config.debug)
		shim_log("debug: module %p loaded as library %p, so its graphs can move",
			 (void *)mod, (void *)lib);
	*module = mod;
	*rc = CUDA_SUCCESS;
	return true;
}

bool modules_unload(CUresult *rc, CUmodule module)
{
	PROTECT_ERRNO;

	if (!__atomic_load_n(&libs.loaded, __ATOMIC_RELAXED) || !module || module == GONE)
		return false;
	pthread_mutex_lock(&libs.lock);
	CUlibrary lib = library_of(module, true);
	pthread_mutex_unlock(&libs.lock);
	if (!lib)
		return false;
	*rc = drv.unload(lib);
	return true;
}

CUkernel modules_kernel(CUfunction f)
{
	PROTECT_ERRNO;
	CUmodule module = NULL;
	const char *name = NULL;
	CUkernel kernel = NULL;

	if (!f || !__atomic_load_n(&libs.loaded, __ATOMIC_RELAXED) ||
	    drv.func_module(&module, f) != CUDA_SUCCESS)
		return NULL;
	pthread_mutex_lock(&libs.lock);
	CUlibrary lib = library_of(module, false);
	pthread_mutex_unlock(&libs.lock);
	if (lib && drv.func_name(&name, f) == CUDA_SUCCESS && name &&
	    drv.get_kernel(&kernel, lib, name) != CUDA_SUCCESS)
		kernel = NULL;
	return kernel;
}

uint64_t modules_libraries(void)
{
	return __atomic_load_n(&libs.loaded, __ATOMIC_RELAXED);
}
