/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the tenant sees of device memory: its quota as the total, the quota
 * less what the tenant holds as free (never more than the device really has
 * free). vLLM sizes its KV cache, JAX its preallocation and PyTorch its
 * caching allocator from these numbers, so they fit the quota by themselves.
 */
#include <limits.h>
#include <string.h>

#include "memory.h"
#include "policy/uuid.h"
#include "policy/quota.h"
#include "tenant.h"

static __typeof__(&cuCtxGetDevice) get_device;
static nvmlReturn_t (*nvml_get_uuid)(nvmlDevice_t, char *, unsigned int);

/* The tenant's device the current context is on, or -1. */
static int current_device(const struct cuslice_segment *seg)
{
	CUdevice dev;

	if (!get_device)
		get_device = (__typeof__(get_device))shim_driver_symbol("cuCtxGetDevice");
	if (!seg || !get_device || get_device(&dev) != CUDA_SUCCESS || dev < 0 ||
	    (uint32_t)dev >= seg->ndevices)
		return -1;
	return dev;
}

static uint64_t quota_of(const struct cuslice_segment *seg, int dev)
{
	return __atomic_load_n(&seg->devices[dev].quota, __ATOMIC_RELAXED);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

void views_mem_info(size_t *free_bytes, size_t *total)
{
	struct cuslice_segment *seg = tenant_segment();
	int dev = current_device(seg);

	if (dev < 0)
		return;
	*free_bytes = min_u64(*free_bytes, quota_free_bytes(seg, dev));
	*total = min_u64(*total, quota_of(seg, dev));
}

void views_mem_info_v1(unsigned int *free_bytes, unsigned int *total)
{
	size_t f = *free_bytes, t = *total;

	views_mem_info(&f, &t);
	*free_bytes = (unsigned int)min_u64(f, UINT_MAX);
	*total = (unsigned int)min_u64(t, UINT_MAX);
}

void views_total_mem(size_t *bytes, CUdevice dev)
{
	struct cuslice_segment *seg = tenant_segment();

	if (seg && dev >= 0 && (uint32_t)dev < seg->ndevices)
		*bytes = min_u64(*bytes, quota_of(seg, dev));
}

void views_total_mem_v1(unsigned int *bytes, CUdevice dev)
{
	size_t b = *bytes;

	views_total_mem(&b, dev);
	*bytes = (unsigned int)min_u64(b, UINT_MAX);
}

/* NVML numbers devices by the machine, not by the tenant: match UUIDs. */
static int nvml_tenant_device(const struct cuslice_segment *seg, nvmlDevice_t device)
{
	char uuid[96], mine[96];

	if (!nvml_get_uuid)
		nvml_get_uuid = (nvmlReturn_t(*)(
			nvmlDevice_t, char *, unsigned int))shim_nvml_symbol("nvmlDeviceGetUUID");
	if (!seg || !nvml_get_uuid || nvml_get_uuid(device, uuid, sizeof(uuid)) != NVML_SUCCESS)
		return -1;
	for (uint32_t i = 0; i < seg->ndevices; i++) {
		policy_uuid_string(seg->devices[i].uuid, mine, sizeof(mine));
		if (strcmp(uuid, mine) == 0)
			return (int)i;
	}
	return -1;
}

static void nvml_view(nvmlDevice_t device, unsigned long long *total, unsigned long long *free_b,
		      unsigned long long *used)
{
	struct cuslice_segment *seg = tenant_segment();
	int dev = nvml_tenant_device(seg, device);

	if (dev < 0)
		return;
	uint64_t quota = min_u64(*total, quota_of(seg, dev));
	uint64_t left = min_u64(quota_free_bytes(seg, dev), quota);
	*total = quota;
	*free_b = left;
	*used = quota - left;
}

void views_nvml_memory(nvmlDevice_t device, nvmlMemory_t *memory)
{
	nvml_view(device, &memory->total, &memory->free, &memory->used);
}

void views_nvml_memory_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory)
{
	nvml_view(device, &memory->total, &memory->free, &memory->used);
	memory->reserved = 0;
}
