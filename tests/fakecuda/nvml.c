/* SPDX-License-Identifier: Apache-2.0 */
/* fakecuda's libnvidia-ml.so.1: the NVML calls nvidia-smi-like tools make. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shim/nvml-abi.h"

#define EXPORT __attribute__((visibility("default")))

static struct nvmlDevice_st {
	int index;
} devices[8];
static int initialized;

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
	*count = 1;
	return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
{
	if (!initialized)
		return NVML_ERROR_UNINITIALIZED;
	if (index >= 1)
		return 2; /* NVML_ERROR_INVALID_ARGUMENT */
	devices[index].index = (int)index;
	*device = &devices[index];
	return NVML_SUCCESS;
}

/* What the fake GPU's memory looks like from outside: nothing in use. */
EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory)
{
	if (!initialized)
		return NVML_ERROR_UNINITIALIZED;
	memory->total = memory_total();
	memory->used = 0;
	memory->free = memory->total;
	return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory)
{
	if (!initialized)
		return NVML_ERROR_UNINITIALIZED;
	memory->total = memory_total();
	memory->reserved = 0;
	memory->used = 0;
	memory->free = memory->total;
	return NVML_SUCCESS;
}
