/* SPDX-License-Identifier: Apache-2.0 */
/* Device memory against the tenant's quota: charges, contexts, views. */
#pragma once

#include "shim.h"

enum memory_kind {
	MEMORY_POINTER, /* freed with cuMemFree or cuMemFreeAsync */
	MEMORY_VMM,	/* cuMemCreate handle, freed with cuMemRelease */
	MEMORY_ARRAY,
	MEMORY_MIPMAP,
};

#define MEMORY_CURRENT_DEVICE (-1)
#define MEMORY_HOST (-2)

struct memory_charge {
	uint64_t bytes;
	CUcontext ctx;
	uint32_t device;
	uint8_t kind;
	bool held; /* a reservation is held on the segment */
};

/* memory.c: charging allocations. With no quota in this process these only
 * record the size. */
void memory_bind(void);
CUresult memory_reserve(struct memory_charge *c, enum memory_kind kind, int device,
			uint64_t estimate);
CUresult memory_commit(struct memory_charge *c, uint64_t key, uint64_t exact);
void memory_cancel(struct memory_charge *c);
void memory_credit(enum memory_kind kind, uint64_t key);
void memory_context_freed(CUcontext ctx);
void memory_forget_all(void);

/* contexts.c: what a context costs on the device, charged per context. */
uint64_t contexts_before_create(CUdevice dev);
CUresult contexts_created(CUcontext ctx, CUdevice dev, bool primary, uint64_t used_before);
void contexts_destroyed(CUcontext ctx);
void contexts_primary_released(CUdevice dev);
void contexts_primary_reset(CUdevice dev);
uint64_t contexts_overhead(CUdevice dev);
void contexts_forget_all(void);

/* views.c: what the tenant sees of the device's memory. */
void views_mem_info(size_t *free_bytes, size_t *total);
void views_mem_info_v1(unsigned int *free_bytes, unsigned int *total);
void views_total_mem(size_t *bytes, CUdevice dev);
void views_total_mem_v1(unsigned int *bytes, CUdevice dev);
void views_nvml_memory(nvmlDevice_t device, nvmlMemory_t *memory);
void views_nvml_memory_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory);

/* Sizes the tables in hooks.h charge. */
uint64_t memory_pitch_estimate(size_t width, size_t height);
int memory_vmm_device(const CUmemAllocationProp *prop);
int memory_node_device(const CUDA_MEM_ALLOC_NODE_PARAMS *params);
uint64_t memory_node_bytes(const CUDA_MEM_ALLOC_NODE_PARAMS *params);

/* Reserve or return bytes on the tenant's device outside any allocation
 * (a context's own memory). 0, or -ENOMEM over the quota. */
int memory_hold(uint32_t device, uint64_t bytes);
void memory_unhold(uint32_t device, uint64_t bytes);
