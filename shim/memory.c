/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Charging device memory to the tenant's quota.
 *
 * Every allocation reserves its size on the tenant's segment before the
 * driver is called (one compare-and-swap, policy/quota.c), is corrected to
 * the real footprint once the driver says what it gave (a pitch, say), and
 * is remembered here by its handle so that the free gives back exactly what
 * was charged. A driver failure gives the reservation back at once. Each
 * context is charged what it costs on the device, measured when the first
 * one is made.
 *
 * The table of live allocations is process-local and guarded by a mutex:
 * allocation paths are not launch paths, and frameworks cache allocations.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "memory.h"
#include "policy/quota.h"
#include "tenant.h"

struct entry {
	uint64_t key; /* device pointer or handle; 0: empty */
	uint64_t bytes;
	CUcontext ctx;
	uint32_t device;
	uint8_t kind;
};

static struct {
	pthread_mutex_t lock;
	struct entry *slots;
	size_t capacity, used; /* capacity: a power of two */
} table = {.lock = PTHREAD_MUTEX_INITIALIZER};

static size_t slot_of(uint64_t key, uint8_t kind, size_t capacity)
{
	return (size_t)(((key ^ ((uint64_t)kind << 56)) * 0x9e3779b97f4a7c15ull) >> 20) &
	       (capacity - 1);
}

static struct entry *table_find(uint64_t key, uint8_t kind)
{
	for (size_t i = slot_of(key, kind, table.capacity), n = 0;
	     table.slots && n < table.capacity; i = (i + 1) & (table.capacity - 1), n++) {
		if (!table.slots[i].key)
			return NULL;
		if (table.slots[i].key == key && table.slots[i].kind == kind)
			return &table.slots[i];
	}
	return NULL;
}

static void table_place(struct entry *slots, size_t capacity, const struct entry *e)
{
	size_t i = slot_of(e->key, e->kind, capacity);

	while (slots[i].key)
		i = (i + 1) & (capacity - 1);
	slots[i] = *e;
}

static int table_grow(void)
{
	size_t capacity = table.capacity ? table.capacity * 2 : 1024;
	struct entry *slots = calloc(capacity, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < table.capacity; i++)
		if (table.slots[i].key)
			table_place(slots, capacity, &table.slots[i]);
	free(table.slots);
	table.slots = slots;
	table.capacity = capacity;
	return 0;
}

static int table_insert(const struct entry *e)
{
	if ((table.used + 1) * 2 > table.capacity && table_grow() < 0)
		return -ENOMEM;
	table_place(table.slots, table.capacity, e);
	table.used++;
	return 0;
}

/* Linear probing with backward-shift deletion: no tombstones to skip. */
static void table_remove(struct entry *e)
{
	size_t mask = table.capacity - 1, hole = (size_t)(e - table.slots);

	for (size_t i = (hole + 1) & mask; table.slots[i].key; i = (i + 1) & mask) {
		size_t home = slot_of(table.slots[i].key, table.slots[i].kind, table.capacity);
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			table.slots[hole] = table.slots[i];
			hole = i;
		}
	}
	table.slots[hole].key = 0;
	table.used--;
}

/* ---- charging ------------------------------------------------------------ */

static struct {
	__typeof__(&cuCtxGetDevice) get_device;
	__typeof__(&cuCtxGetCurrent) get_current;
	__typeof__(&cuMemFree_v2) mem_free;
	__typeof__(&cuMemRelease) mem_release;
	__typeof__(&cuArrayDestroy) array_destroy;
	__typeof__(&cuMipmappedArrayDestroy) mipmap_destroy;
} drv;

void memory_bind(void)
{
	drv.get_device = (__typeof__(drv.get_device))shim_driver_symbol("cuCtxGetDevice");
	drv.get_current = (__typeof__(drv.get_current))shim_driver_symbol("cuCtxGetCurrent");
	drv.mem_free = (__typeof__(drv.mem_free))shim_driver_symbol("cuMemFree_v2");
	drv.mem_release = (__typeof__(drv.mem_release))shim_driver_symbol("cuMemRelease");
	drv.array_destroy = (__typeof__(drv.array_destroy))shim_driver_symbol("cuArrayDestroy");
	drv.mipmap_destroy =
		(__typeof__(drv.mipmap_destroy))shim_driver_symbol("cuMipmappedArrayDestroy");
}

/* Reserve, and on refusal give back what dead processes of the tenant still
 * held before refusing for good. */
static int reserve(struct cuslice_segment *seg, uint32_t device, uint64_t bytes)
{
	struct cuslice_proc *self = tenant_self();

	if (!self)
		return -EUSERS;
	int r = quota_reserve(seg, self, device, bytes);
	if (r == -ENOMEM && tenant_reap() > 0)
		r = quota_reserve(seg, self, device, bytes);
	return r;
}

static void release(struct cuslice_segment *seg, uint32_t device, uint64_t bytes)
{
	struct cuslice_proc *self = tenant_self();

	if (self)
		quota_release(seg, self, device, bytes);
}

int memory_hold(uint32_t device, uint64_t bytes)
{
	struct cuslice_segment *seg = tenant_segment();

	return seg && bytes ? reserve(seg, device, bytes) : 0;
}

void memory_unhold(uint32_t device, uint64_t bytes)
{
	struct cuslice_segment *seg = tenant_segment();

	if (seg && bytes)
		release(seg, device, bytes);
}

uint64_t memory_pitch_estimate(size_t width, size_t height)
{
	return (uint64_t)((width + 511) & ~(size_t)511) * height;
}

int memory_vmm_device(const CUmemAllocationProp *prop)
{
	if (!prop)
		return MEMORY_CURRENT_DEVICE;
	return prop->location.type == CU_MEM_LOCATION_TYPE_DEVICE ? prop->location.id : MEMORY_HOST;
}

/* A graph's memory node holds its memory from when it is added (the graph
 * may run at any time after) until a free node or a free of its address. */
int memory_node_device(const CUDA_MEM_ALLOC_NODE_PARAMS *params)
{
	if (!params)
		return MEMORY_CURRENT_DEVICE;
	return params->poolProps.location.type == CU_MEM_LOCATION_TYPE_DEVICE
		       ? params->poolProps.location.id
		       : MEMORY_HOST;
}

uint64_t memory_node_bytes(const CUDA_MEM_ALLOC_NODE_PARAMS *params)
{
	return params ? params->bytesize : 0;
}

CUresult memory_reserve(struct memory_charge *c, enum memory_kind kind, int device,
			uint64_t estimate)
{
	struct cuslice_segment *seg = tenant_segment();
	CUdevice current;

	*c = (struct memory_charge){.kind = kind, .bytes = estimate};
	if (!seg)
		return CUDA_SUCCESS;
	if (drv.get_current)
		drv.get_current(&c->ctx);
	if (device == MEMORY_CURRENT_DEVICE) {
		/* no current context: the driver will refuse the call itself */
		if (!drv.get_device || drv.get_device(&current) != CUDA_SUCCESS)
			return CUDA_SUCCESS;
		device = current;
	}
	if (device < 0)
		return CUDA_SUCCESS; /* host memory: not charged */
	c->device = (uint32_t)device;
	if (reserve(seg, c->device, estimate) < 0)
		return CUDA_ERROR_OUT_OF_MEMORY;
	c->held = true;
	return CUDA_SUCCESS;
}

void memory_cancel(struct memory_charge *c)
{
	if (c->held)
		release(tenant_segment(), c->device, c->bytes);
	c->held = false;
}

static void undo_allocation(enum memory_kind kind, uint64_t key)
{
	switch (kind) {
	case MEMORY_POINTER:
		if (drv.mem_free)
			drv.mem_free((CUdeviceptr)key);
		break;
	case MEMORY_VMM:
		if (drv.mem_release)
			drv.mem_release((CUmemGenericAllocationHandle)key);
		break;
	case MEMORY_ARRAY:
		if (drv.array_destroy)
			drv.array_destroy((CUarray)(uintptr_t)key);
		break;
	case MEMORY_MIPMAP:
		if (drv.mipmap_destroy)
			drv.mipmap_destroy((CUmipmappedArray)(uintptr_t)key);
		break;
	}
}

/* The driver gave the memory: charge its real size and remember it. If the
 * real size no longer fits, the allocation is undone and refused. */
CUresult memory_commit(struct memory_charge *c, uint64_t key, uint64_t exact)
{
	struct cuslice_segment *seg = tenant_segment();

	if (!c->held) {
		c->bytes = exact;
		return CUDA_SUCCESS;
	}
	if (exact > c->bytes && reserve(seg, c->device, exact - c->bytes) < 0) {
		undo_allocation(c->kind, key);
		memory_cancel(c);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	if (exact < c->bytes)
		release(seg, c->device, c->bytes - exact);
	c->bytes = exact;

	struct entry e = {
		.key = key, .bytes = exact, .ctx = c->ctx, .device = c->device, .kind = c->kind};
	pthread_mutex_lock(&table.lock);
	int r = key ? table_insert(&e) : -EINVAL;
	pthread_mutex_unlock(&table.lock);
	if (r < 0) {
		undo_allocation(c->kind, key);
		memory_cancel(c);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	return CUDA_SUCCESS;
}

void memory_credit(enum memory_kind kind, uint64_t key)
{
	struct cuslice_segment *seg = tenant_segment();
	struct entry gone = {0};

	if (!seg || !key)
		return;
	pthread_mutex_lock(&table.lock);
	struct entry *e = table_find(key, kind);
	if (e) {
		gone = *e;
		table_remove(e);
	}
	pthread_mutex_unlock(&table.lock);
	if (gone.key)
		release(seg, gone.device, gone.bytes);
}

/* A context went away and the driver freed everything allocated in it. */
void memory_context_freed(CUcontext ctx)
{
	struct cuslice_segment *seg = tenant_segment();

	if (!seg)
		return;
	pthread_mutex_lock(&table.lock);
	for (size_t i = 0; i < table.capacity;) {
		struct entry *e = &table.slots[i];
		if (e->key && e->ctx == ctx) {
			release(seg, e->device, e->bytes);
			table_remove(e); /* a later entry may have moved into slot i */
			continue;
		}
		i++;
	}
	pthread_mutex_unlock(&table.lock);
}

/* After fork the child holds none of its parent's allocations. */
void memory_forget_all(void)
{
	table.slots = NULL;
	table.capacity = table.used = 0;
	pthread_mutex_init(&table.lock, NULL);
}
