/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dlsym interposition. PyTorch, Triton and NVRTC reach the driver with
 * dlopen("libcuda.so.1") + dlsym; those lookups must return the wrappers.
 *
 * Every lookup of a name outside the hook table, and every RTLD_NEXT lookup,
 * is a tail call into the real dlsym (but, under a VRAM quota, an unknown
 * variant of an allocation entry point, which is refused), so glibc sees our caller's return
 * address and resolves RTLD_NEXT relative to the caller, as it would without
 * the shim. The shim is always built with optimisation for that reason, and
 * a test checks it (tests/integration: rtld-next).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>

#include "shim.h"
#include "stats.h"

typedef void *(*dlsym_fn)(void *, const char *);

static dlsym_fn real_dlsym_fn;

/* Another library's constructor may call dlsym before ours runs, so the real
 * one is found on first use. dlvsym is not interposed. */
static dlsym_fn real_dlsym(void)
{
	dlsym_fn fn = __atomic_load_n(&real_dlsym_fn, __ATOMIC_RELAXED);

	if (unlikely(!fn)) {
		fn = (dlsym_fn)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
		if (!fn)
			fn = (dlsym_fn)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
		__atomic_store_n(&real_dlsym_fn, fn, __ATOMIC_RELAXED);
	}
	return fn;
}

void *shim_real_dlsym(void *handle, const char *name)
{
	return real_dlsym()(handle, name);
}

static int library_load(enum shim_library lib)
{
	return lib == LIB_NVML ? shim_nvml_load() : shim_driver_load();
}

static void *dlsym_hooked(void *handle, const char *name, int id)
{
	const struct shim_hook_info *hook = &shim_hooks[id];
	void *p = real_dlsym()(handle, name);

	if (!p)
		return NULL;
	if (p != hook->wrapper) {
		int saved = errno;
		int r = library_load(hook->lib);
		errno = saved;
		if (r == -EBUSY)
			return p; /* the driver's own constructor, mid-load */
		/* With the driver unusable, the wrapper refuses the call: a
		 * broken setup never hands out the unwatched entry point. */
		if (r == 0 && p != shim_real[id])
			return p; /* another library's symbol of the same name */
	}
	stats_add(&shim_stats.dlsym_hooked, 1);
	return hook->wrapper;
}

SHIM_EXPORT void *dlsym(void *handle, const char *name)
{
	int id;

	if (handle == RTLD_NEXT)
		return real_dlsym()(handle, name);
	if ((id = shim_hook_find(name)) >= 0)
		return dlsym_hooked(handle, name, id);
	/* under a VRAM quota, an allocation entry point the table lacks is absent */
	if (unlikely(shim_config.segment_path) && shim_unknown_charged_variant(name))
		return NULL;
	return real_dlsym()(handle, name);
}
