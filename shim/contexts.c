/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What contexts cost. A context takes device memory of its own (hundreds of
 * MiB on a Hopper GPU) that no allocation call shows; the tenant is charged
 * for it. The cost is measured once per device, as the change in the
 * device's used memory (NVML) across the creation of this process's first
 * context there, and charged for every context the process holds.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "memory.h"
#include "partition.h"
#include "policy/uuid.h"
#include "policy/quota.h"
#include "tenant.h"

#define MAX_CONTEXTS 64

struct context {
	CUcontext ctx;
	CUdevice dev;
	bool primary;
	int refs;
	uint64_t charged;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct context contexts[MAX_CONTEXTS];
static uint64_t overhead[CUSLICE_MAX_DEVICES];
static bool measured[CUSLICE_MAX_DEVICES];

static struct {
	__typeof__(&cuDeviceGetUuid_v2) get_uuid;
	__typeof__(&cuCtxDestroy_v2) destroy;
	__typeof__(&cuDevicePrimaryCtxRelease_v2) release;
	nvmlReturn_t (*nvml_init)(void);
	nvmlReturn_t (*nvml_by_uuid)(const char *uuid, nvmlDevice_t *device);
} drv;

static bool in_range(CUdevice dev)
{
	struct cuslice_segment *seg = tenant_segment();
	return seg && dev >= 0 && (uint32_t)dev < seg->ndevices;
}

/* Used memory of the whole device, from NVML; 0 where NVML cannot tell. */
static uint64_t device_used(CUdevice dev)
{
	CUuuid uuid;
	char name[96];
	nvmlDevice_t device;
	nvmlMemory_t memory;

	if (!drv.get_uuid) {
		drv.get_uuid = (__typeof__(drv.get_uuid))shim_driver_symbol("cuDeviceGetUuid_v2");
		drv.destroy = (__typeof__(drv.destroy))shim_driver_symbol("cuCtxDestroy_v2");
		drv.release =
			(__typeof__(drv.release))shim_driver_symbol("cuDevicePrimaryCtxRelease_v2");
	}
	if (shim_nvml_load() < 0 || !drv.get_uuid || drv.get_uuid(&uuid, dev) != CUDA_SUCCESS)
		return 0;
	if (!drv.nvml_init) {
		drv.nvml_init = (nvmlReturn_t(*)(void))shim_nvml_symbol("nvmlInit_v2");
		drv.nvml_by_uuid = (nvmlReturn_t(*)(const char *, nvmlDevice_t *))shim_nvml_symbol(
			"nvmlDeviceGetHandleByUUID");
	}
	policy_uuid_string((const uint8_t *)uuid.bytes, name, sizeof(name));
	if (!drv.nvml_init || !drv.nvml_by_uuid || !shim_real[HOOK_nvmlDeviceGetMemoryInfo] ||
	    drv.nvml_init() != NVML_SUCCESS || drv.nvml_by_uuid(name, &device) != NVML_SUCCESS ||
	    REAL(nvmlDeviceGetMemoryInfo)(device, &memory) != NVML_SUCCESS)
		return 0;
	return memory.used;
}

uint64_t contexts_before_create(CUdevice dev)
{
	return in_range(dev) && !measured[dev] ? device_used(dev) : 0;
}

static struct context *find(CUcontext ctx)
{
	for (int i = 0; i < MAX_CONTEXTS; i++)
		if (contexts[i].refs && contexts[i].ctx == ctx)
			return &contexts[i];
	return NULL;
}

static struct context *find_primary(CUdevice dev)
{
	for (int i = 0; i < MAX_CONTEXTS; i++)
		if (contexts[i].refs && contexts[i].primary && contexts[i].dev == dev)
			return &contexts[i];
	return NULL;
}

static void undo(CUcontext ctx, CUdevice dev, bool primary)
{
	CUresult rc;

	if (primary && drv.release)
		drv.release(dev);
	else if (!primary && !partition_destroy(ctx, &rc) && drv.destroy)
		drv.destroy(ctx); /* a green context of a partition is destroyed as one */
}

static CUresult charge(CUcontext ctx, CUdevice dev, bool primary, uint64_t used_before)
{
	struct context *c = find(ctx);

	if (c) { /* the primary context, retained again */
		c->refs++;
		return CUDA_SUCCESS;
	}
	if (!measured[dev]) {
		uint64_t after = device_used(dev);
		overhead[dev] = after > used_before ? after - used_before : 0;
		measured[dev] = true;
	}
	for (c = contexts; c < contexts + MAX_CONTEXTS && c->refs; c++)
		;
	if (c == contexts + MAX_CONTEXTS || memory_hold((uint32_t)dev, overhead[dev]) < 0)
		return CUDA_ERROR_OUT_OF_MEMORY;
	*c = (struct context){
		.ctx = ctx, .dev = dev, .primary = primary, .refs = 1, .charged = overhead[dev]};
	return CUDA_SUCCESS;
}

CUresult contexts_created(CUcontext ctx, CUdevice dev, bool primary, uint64_t used_before)
{
	if (!in_range(dev))
		return CUDA_SUCCESS;
	pthread_mutex_lock(&lock);
	CUresult rc = charge(ctx, dev, primary, used_before);
	pthread_mutex_unlock(&lock);
	if (rc != CUDA_SUCCESS)
		undo(ctx, dev, primary);
	return rc;
}

/* The context is gone, and with it everything allocated in it. */
static void drop(struct context *c)
{
	CUcontext ctx = c->ctx;

	memory_unhold((uint32_t)c->dev, c->charged);
	memset(c, 0, sizeof(*c));
	memory_context_freed(ctx);
}

void contexts_destroyed(CUcontext ctx)
{
	pthread_mutex_lock(&lock);
	struct context *c = find(ctx);
	if (c && !c->primary)
		drop(c);
	pthread_mutex_unlock(&lock);
}

void contexts_primary_released(CUdevice dev)
{
	pthread_mutex_lock(&lock);
	struct context *c = find_primary(dev);
	if (c && --c->refs == 0) {
		c->refs = 1;
		drop(c);
	}
	pthread_mutex_unlock(&lock);
}

void contexts_primary_reset(CUdevice dev)
{
	pthread_mutex_lock(&lock);
	struct context *c = find_primary(dev);
	if (c)
		drop(c);
	pthread_mutex_unlock(&lock);
}

uint64_t contexts_overhead(CUdevice dev)
{
	return dev >= 0 && dev < CUSLICE_MAX_DEVICES ? overhead[dev] : 0;
}

/* After fork the child has no context, whatever its parent held. */
void contexts_forget_all(void)
{
	memset(contexts, 0, sizeof(contexts));
	pthread_mutex_init(&lock, NULL);
}
