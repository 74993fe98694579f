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
 * through untouched and is reported in the stats as unmatched.
 */
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
 * whatever name it was asked by ("cuGraphInstantiate" yields
 * cuGraphInstantiateWithFlags); rows named like `symbol` are preferred only
 * so that an entry point the driver aliases is counted under the asked name.
 * *ret_known says whether `symbol` names a hooked entry point at all. */
static void *hook_for_pointer(const char *symbol, void *real, bool *ret_known)
{
	int found = -1;

	*ret_known = false;
	for (int i = 0; i < HOOK_COUNT; i++) {
		const struct shim_hook_info *hook = &shim_hooks[i];
		if (hook->lib != LIB_DRIVER)
			continue;
		bool named = names_match(hook, symbol);
		*ret_known |= named;
		if (shim_real[i] != real && hook->wrapper != real)
			continue;
		if (found < 0 || named)
			found = i;
	}
	if (found >= 0)
		*ret_known = true;
	return found >= 0 ? shim_hooks[found].wrapper : NULL;
}

static CUresult procaddr_finish(const char *symbol, void **pfn, CUresult rc)
{
	bool known;

	stats_add(&shim_stats.procaddr_lookups, 1);
	if (rc != CUDA_SUCCESS || !symbol || !pfn || !*pfn)
		return rc;
	void *wrapper = hook_for_pointer(symbol, *pfn, &known);
	if (wrapper) {
		*pfn = wrapper;
		stats_add(&shim_stats.procaddr_hooked, 1);
	} else if (known) {
		stats_add(&shim_stats.procaddr_unmatched, 1);
		stats_note_unmatched(symbol);
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
	return wrap_result(HOOK_cuGetProcAddress_v2, procaddr_finish(symbol, pfn, rc));
}

SHIM_EXPORT CUresult cuGetProcAddress(const char *symbol, void **pfn, int cudaVersion,
				      cuuint64_t flags)
{
	WRAP_RESOLVE(cuGetProcAddress);
	stats_count(HOOK_cuGetProcAddress);
	CUresult rc = REAL(cuGetProcAddress)(symbol, pfn, cudaVersion, flags);
	return wrap_result(HOOK_cuGetProcAddress, procaddr_finish(symbol, pfn, rc));
}
