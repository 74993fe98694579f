/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Finding the real libcuda.so.1 and libnvidia-ml.so.1, once, and resolving
 * every hooked entry point from them. Loading happens on first use (the
 * cuInit, dlsym or cuGetProcAddress hooks), never from a constructor.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "policy/pathfmt.h"
#include "shim.h"
#include "gate.h"
#include "partition.h"
#include "profile.h"
#include "stats.h"
#include "tenant.h"
#include "wrap.h"

struct library {
	pthread_once_t once;
	int status; /* 0, or a negative errno saying why the library is unusable */
	void *handle;
};

static struct library driver = {.once = PTHREAD_ONCE_INIT, .status = -EAGAIN};
static struct library nvml = {.once = PTHREAD_ONCE_INIT, .status = -EAGAIN};

/* Set while this thread loads a library: the library's own constructors may
 * call dlsym, which must then pass through instead of waiting on the once. */
static __thread bool loading;

static int library_open(struct library *lib, const char *path, const char *override_env)
{
	lib->handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
	if (lib->handle)
		return 0;
	if (override_env)
		shim_log("cannot load %s=\"%s\": %s; CUDA is disabled in this process",
			 override_env, path, dlerror());
	else
		shim_log("cannot load %s: %s; no GPU driver is usable in this process", path,
			 dlerror());
	/* -ENODEV: no driver on this machine, as opposed to a broken setup */
	return override_env ? -ENOENT : -ENODEV;
}

static int library_resolve(struct library *lib, enum shim_library which)
{
	for (int i = 0; i < HOOK_COUNT; i++) {
		if (shim_hooks[i].lib != which)
			continue;
		void *p = shim_real_dlsym(lib->handle, shim_hooks[i].name);
		if (p == shim_hooks[i].wrapper) {
			shim_log("the library given as the real driver is libcuslice itself; "
				 "point CUSLICE_REAL_LIBCUDA at libcuda.so.1");
			return -ELOOP;
		}
		__atomic_store_n(&shim_real[i], p, __ATOMIC_RELEASE);
	}
	return 0;
}

/* A stats path that cannot be written is a broken setup: refuse CUDA now,
 * rather than run a test whose oracle silently goes missing. */
static int stats_path_usable(void)
{
	if (!shim_config.stats_path)
		return 0;
	int r = stats_check_path(shim_config.stats_path);
	if (r == -EINVAL)
		shim_log(
			"CUSLICE_STATS=\"%s\": malformed; use a file path where %%p stands for the "
			"process id and %%%% for a percent sign",
			shim_config.stats_path);
	else if (r < 0)
		shim_log("CUSLICE_STATS=\"%s\": cannot create the file: %s", shim_config.stats_path,
			 strerror(-r));
	if (r < 0)
		shim_config.stats_path = NULL; /* said once; nothing to write at exit */
	return r;
}

static void driver_load_once(void)
{
	const char *path = shim_config.real_libcuda ? shim_config.real_libcuda : "libcuda.so.1";
	int r;

	loading = true;
	r = stats_path_usable();
	if (r == 0)
		r = profile_setup();
	if (r == 0)
		r = tenant_attach();
	if (r == 0)
		partition_join_mps(); /* read by the driver as it loads */
	if (r == 0)
		r = library_open(&driver, path,
				 shim_config.real_libcuda ? "CUSLICE_REAL_LIBCUDA" : NULL);
	if (r == 0)
		r = library_resolve(&driver, LIB_DRIVER);
	if (r == 0) {
		graphs_bind();
		memory_bind();
		gate_bind();
	}
	loading = false;
	__atomic_store_n(&driver.status, r, __ATOMIC_RELEASE);
}

static void nvml_load_once(void)
{
	const char *path =
		shim_config.real_libnvml ? shim_config.real_libnvml : "libnvidia-ml.so.1";
	int r;

	loading = true;
	r = tenant_attach();
	if (r == 0)
		r = library_open(&nvml, path,
				 shim_config.real_libnvml ? "CUSLICE_REAL_LIBNVML" : NULL);
	if (r == 0)
		r = library_resolve(&nvml, LIB_NVML);
	loading = false;
	__atomic_store_n(&nvml.status, r, __ATOMIC_RELEASE);
}

int shim_driver_load(void)
{
	if (loading)
		return -EBUSY;
	pthread_once(&driver.once, driver_load_once);
	return __atomic_load_n(&driver.status, __ATOMIC_ACQUIRE);
}

int shim_nvml_load(void)
{
	if (loading)
		return -EBUSY;
	pthread_once(&nvml.once, nvml_load_once);
	return __atomic_load_n(&nvml.status, __ATOMIC_ACQUIRE);
}

void *shim_driver_symbol(const char *name)
{
	return driver.handle ? shim_real_dlsym(driver.handle, name) : NULL;
}

void *shim_nvml_symbol(const char *name)
{
	return nvml.handle ? shim_real_dlsym(nvml.handle, name) : NULL;
}

/* What a hooked call returns when the shim cannot forward it: the driver's
 * own code for "not initialised", or for a symbol this driver lacks. */
CUresult wrap_unresolved(enum shim_hook id)
{
	if (shim_driver_load() < 0)
		return CUDA_ERROR_NOT_INITIALIZED;
	return shim_real[id] ? CUDA_SUCCESS : CUDA_ERROR_NOT_FOUND;
}

/* cuInit is where a broken setup is refused: with no usable driver the
 * program sees what it would see on a machine without one. */
SHIM_EXPORT CUresult cuInit(unsigned int Flags)
{
	int r = shim_driver_load();

	if (r == -ENODEV)
		return CUDA_ERROR_NO_DEVICE;
	if (r < 0 || !shim_real[HOOK_cuInit])
		return CUDA_ERROR_NOT_INITIALIZED;
	stats_count(HOOK_cuInit);
	return wrap_result(HOOK_cuInit, REAL(cuInit)(Flags));
}
