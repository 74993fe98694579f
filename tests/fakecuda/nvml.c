/* SPDX-License-Identifier: Apache-2.0 */
/* fakecuda's libnvidia-ml.so.1: the NVML calls nvidia-smi-like tools make. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim/nvml-abi.h"

#define EXPORT __attribute__((visibility("default")))

static struct nvmlDevice_st {
	int index;
} devices[8];
static int initialized;

static unsigned device_count(void)
{
	const char *v = getenv("FAKECUDA_DEVICES");
	unsigned n = v && *v ? (unsigned)strtoul(v, NULL, 0) : 1;
	return n >= 1 && n <= 8 ? n : 1;
}

static unsigned long long memory_total(void)
{
	const char *v = getenv("FAKECUDA_MEMORY");
	return v && *v ? strtoull(v, NULL, 0) : 80ull << 30;
}

EXPORT nvmlReturn_t nvmlInit_v2(void)
{
	initialized = 1;
	return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlShutdown(void)
{
	initialized = 0;
	return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count)
{
	if (!initialized)
		return NVML_ERROR_UNINITIALIZED;
	*count = device_count();
	return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
{
	if (!initialized)
		return NVML_ERROR_UNINITIALIZED;
	if (index >= device_count())
		return 2; /* NVML_ERROR_INVALID_ARGUMENT */
	devices[index].index = (int)index;
	*device = &devices[index];
	return NVML_SUCCESS;
}

/* The fake GPU's memory in use: what fakecuda counts in this process, if it is loaded. */
static unsigned long long memory_used(nvmlDevice_t device)
{
	uint64_t (*used)(int) = (uint64_t(*)(int))dlsym(RTLD_DEFAULT, "fakecuda_device_used");
	return used ? used(device->index) : 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory)
{
	if (!initialized)
		return NVML_ERROR_UNINITIALIZED;
	memory->total = memory_total();
	memory->used = memory_used(device);
	memory->free = memory->total - memory->used;
	return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory)
{
	if (!initialized)
		return NVML_ERROR_UNINITIALIZED;
	memory->total = memory_total();
	memory->reserved = 0;
	memory->used = memory_used(device);
	memory->free = memory->total - memory->used;
	return NVML_SUCCESS;
}

/* The same UUIDs as fakecuda's cuDeviceGetUuid_v2. */
EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length)
{
	if (!initialized)
		return NVML_ERROR_UNINITIALIZED;
	snprintf(uuid, length, "GPU-face0000-0000-0000-0000-0000000000%02x", device->index);
	return NVML_SUCCESS;
}

/* /dev/nvidiaN of device i is FAKECUDA_MINOR_BASE + i (default 0), so that
 * tests can tell a device's minor from its index. */
EXPORT nvmlReturn_t nvmlDeviceGetMinorNumber(nvmlDevice_t device, unsigned int *minor)
{
	const char *base = getenv("FAKECUDA_MINOR_BASE");

	if (!device || !minor)
		return 2; /* NVML_ERROR_INVALID_ARGUMENT */
	*minor = (unsigned)device->index + (base ? (unsigned)atoi(base) : 0);
	return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByUUID(const char *uuid, nvmlDevice_t *device)
{
	char mine[96];

	for (unsigned i = 0; i < device_count(); i++) {
		devices[i].index = (int)i;
		nvmlDeviceGetUUID(&devices[i], mine, sizeof(mine));
		if (strcmp(uuid, mine) == 0) {
			*device = &devices[i];
			return NVML_SUCCESS;
		}
	}
	return 6; /* NVML_ERROR_NOT_FOUND */
}
