/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cuGetProcAddress interposition. Since CUDA 11.3 the runtime resolves every
 * driver entry point through cuGetProcAddress(_v2), including that function
 * itself, so a shim that only exports symbols sees nothing of an nvcc-built
 * program.
 *
 * The real driver decides which ABI variant (`_v2`, `_ptsz`, …) a
 * (name, cudaVersion, flags) request gets; the shim then hands out the
 * wrapper of exactly that variant, found by comparing pointers with the ones
 * it resolved by exported name. A variant missing from the table passes
 * through untouched and is reported in the stats as unmatched, except, under
 * a VRAM quota, a variant of an allocation or context entry point: that one
 * is refused, since it would escape the quota.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"
#include "stats.h"
#include "wrap.h"

static pthread_once_t index_once = PTHREAD_ONCE_INIT;
static unsigned short by_name[HOOK_COUNT];

static int compare_names(const void *a, const void *b)
{
	return strcmp(shim_hooks[*(const unsigned short *)a].name,
		      shim_hooks[*(const unsigned short *)b].name);
}

static void index_build(void)
{
	for (int i = 0; i < HOOK_COUNT; i++)
		by_name[i] = i;
	qsort(by_name, HOOK_COUNT, sizeof(by_name[0]), compare_names);
}

/* Every hooked name starts with "cu" or "nvml"; most lookups stop here. */
static bool maybe_hooked(const char *name)
{
	return name && ((name[0] == 'c' && name[1] == 'u') ||
			(name[0] == 'n' && name[1] == 'v' && name[2] == 'm' && name[3] == 'l'));
}

int shim_hook_find(const char *name)
{
	if (!maybe_hooked(name))
		return -1;
	pthread_once(&index_once, index_build);
	for (int lo = 0, hi = HOOK_COUNT - 1; lo <= hi;) {
		int mid = (lo + hi) / 2;
		int c = strcmp(name, shim_hooks[by_name[mid]].name);
		if (c == 0)
			return by_name[mid];
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return -1;
}

static bool names_match(const struct shim_hook_info *hook, const char *symbol)
{
	return strcmp(hook->base, symbol) == 0 || strcmp(hook->name, symbol) == 0;
}

/* The wrapper of the driver entry point `real`, which the driver returned for
 * `symbol`; NULL when it is not hooked. A pointer names one variant exactly,
 * whatever name it was asked by ("cuGraphInstantiate" may yield
 * cuGraphInstantiateWithFlags); rows named like `symbol` are preferred only
 * so that an entry point the driver aliases is counted under the asked name.
 * *ret_named is a row named like `symbol`, or -1. */
static void *hook_for_pointer(const char *symbol, void *real, int *ret_named)
{
	int found = -1;

	*ret_named = -1;
	for (int i = 0; i < HOOK_COUNT; i++) {
		const struct shim_hook_info *hook = &shim_hooks[i];
		if (hook->lib != LIB_DRIVER)
			continue;
		bool named = names_match(hook, symbol);
		if (named && *ret_named < 0)
			*ret_named = i;
		if (shim_real[i] != real && hook->wrapper != real)
			continue;
		if (found < 0 || named)
			found = i;
	}
	return found >= 0 ? shim_hooks[found].wrapper : NULL;
}

/* Allocations and contexts are what the quota charges: a variant of one that
 * the table lacks would let memory past it. */
static bool charged(const struct shim_hook_info *hook)
{
	return hook->kind == KIND_ALLOC || hook->kind == KIND_CONTEXT;
}

static bool refuse_unwrapped(const char *symbol)
{
	static unsigned said;

	if (!shim_config.segment_path)
		return false;
	if (__atomic_fetch_add(&said, 1, __ATOMIC_RELAXED) == 0)
		shim_log("the driver offers \"%s\" in a variant cuslice does not know; it is "
			 "refused "
			 "so that no allocation escapes the VRAM quota",
			 symbol);
	return true;
}

/* "cuMemAlloc_v3", "cuMemAllocAsync_ptsz": `name` is `base` plus only ABI
 * suffixes (not "cuMemAllocHost", a different function). */
static bool variant_of(const char *name, const char *base)
{
	size_t n = strlen(base);
	const char *p = name + n;

	if (strncmp(name, base, n) != 0 || !*p)
		return false;
	if (p[0] == '_' && p[1] == 'v' && isdigit((unsigned char)p[2]))
		for (p += 2; isdigit((unsigned char)*p); p++)
			;
	return !*p || strcmp(p, "_ptsz") == 0 || strcmp(p, "_ptds") == 0;
}

bool shim_unknown_charged_variant(const char *name)
{
	for (int i = 0; i < HOOK_COUNT; i++)
		if (charged(&shim_hooks[i]) && variant_of(name, shim_hooks[i].base))
			return refuse_unwrapped(name);
	return false;
}

static CUresult procaddr_finish(const char *symbol, void **pfn, CUresult rc,
				CUdriverProcAddressQueryResult *status)
{
	int named;

	stats_add(&shim_stats.procaddr_lookups, 1);
	if (rc != CUDA_SUCCESS || !symbol || !pfn || !*pfn)
		return rc;
	void *wrapper = hook_for_pointer(symbol, *pfn, &named);
	if (wrapper) {
		*pfn = wrapper;
		stats_add(&shim_stats.procaddr_hooked, 1);
		return rc;
	}
	if (named < 0)
		return rc;
	stats_add(&shim_stats.procaddr_unmatched, 1);
	stats_note_unmatched(symbol);
	if (charged(&shim_hooks[named]) && refuse_unwrapped(symbol)) {
		*pfn = NULL;
		if (status)
			*status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
		return CUDA_ERROR_NOT_FOUND;
	}
	return rc;
}

SHIM_EXPORT CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int cudaVersion,
					 cuuint64_t flags,
					 CUdriverProcAddressQueryResult *symbolStatus)
{
	WRAP_RESOLVE(cuGetProcAddress_v2);
	stats_count(HOOK_cuGetProcAddress_v2);
	CUresult rc = REAL(cuGetProcAddress_v2)(symbol, pfn, cudaVersion, flags, symbolStatus);
	return wrap_result(HOOK_cuGetProcAddress_v2,
			   procaddr_finish(symbol, pfn, rc, symbolStatus));
}

SHIM_EXPORT CUresult cuGetProcAddress(const char *symbol, void **pfn, int cudaVersion,
				      cuuint64_t flags)
{
	WRAP_RESOLVE(cuGetProcAddress);
	stats_count(HOOK_cuGetProcAddress);
	CUresult rc = REAL(cuGetProcAddress)(symbol, pfn, cudaVersion, flags);
	return wrap_result(HOOK_cuGetProcAddress, procaddr_finish(symbol, pfn, rc, NULL));
}
