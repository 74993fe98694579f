/* SPDX-License-Identifier: Apache-2.0 */
/* The machine's GPUs, as the CUDA driver reports them to this process. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "policy/segment.h"

struct device_info {
	uint64_t total; /* bytes of device memory */
	uint8_t uuid[16];
	char name[96];
	uint32_t minor; /* of /dev/nvidiaN, from NVML; the CUDA index where NVML cannot tell */
	/* How the driver splits its SMs for green contexts (cuDevSmResourceSplitByCount
	 * at the minimum partition size): sm_groups groups of sm_group SMs out of
	 * sm_total. All 0 where the driver has no green contexts. */
	uint32_t sm_total, sm_group, sm_groups;
	/* The finest split with CU_DEV_SM_RESOURCE_SPLIT_IGNORE_SM_COSCHEDULING that
	 * a partition's 64-bit mask can name: sm_fine_groups groups of
	 * sm_fine_group (33 of 4 on an H200, whose finest, 66 of 2, has too
	 * many). 0 where there is none finer than the default split. */
	uint32_t sm_fine_group, sm_fine_groups;
};

/* Fills `ret` (room for CUSLICE_MAX_DEVICES) and the count. 0, or a negative
 * errno with `err` saying why (no driver, no device). */
int devices_query(struct device_info *ret, int *ret_count, char *err, size_t errlen);

/* The path of the driver library devices_query() loads (libcuda.so.1, or
 * CUSLICE_REAL_LIBCUDA), as the dynamic linker found it. 0 or -ENOENT. */
int devices_driver_path(char *ret_path, size_t size);
