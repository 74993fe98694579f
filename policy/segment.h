/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tenant segment: one shared memory object per tenant, mapped by every
 * process of the tenant (and later by cusliced). It holds the tenant's VRAM
 * quota and reservations per device and one slot per process, so that a dead
 * process's reservations can be given back.
 *
 * Layout rules (libbpf's opts pattern): `size` and `version` come first; a
 * reader takes only what `size` covers and refuses a version it does not
 * know. Fields are only ever appended.
 */
#pragma once

#include <stdint.h>

#define CUSLICE_SEGMENT_MAGIC 0x63736c63u /* "clsc" */
#define CUSLICE_SEGMENT_VERSION 1
#define CUSLICE_MAX_DEVICES 16
#define CUSLICE_MAX_PROCS 512

struct cuslice_device_quota {
	uint64_t quota;	   /* bytes the tenant may hold on this device; 0: none */
	uint64_t reserved; /* bytes held, summed over the tenant's processes */
	uint8_t uuid[16];  /* the device's UUID, so NVML handles map to it */
};

struct cuslice_proc {
	int32_t pid; /* 0: free; -1: being reclaimed */
	uint32_t pad;
	uint64_t start_time; /* clock ticks after boot (/proc/PID/stat field 22): a
			      * recycled pid never matches */
	uint64_t reserved[CUSLICE_MAX_DEVICES];
};

struct cuslice_segment {
	uint32_t size;
	uint32_t version;
	uint32_t magic;
	uint32_t ndevices;
	uint64_t flags;
	struct cuslice_device_quota devices[CUSLICE_MAX_DEVICES];
	struct cuslice_proc procs[CUSLICE_MAX_PROCS];
};
