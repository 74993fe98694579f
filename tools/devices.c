/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <cuda.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices.h"
#include "policy/uuid.h"

static void *driver_open(void)
{
	const char *path = getenv("CUSLICE_REAL_LIBCUDA");
	return dlopen(path && *path ? path : "libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
}

int devices_driver_path(char *ret_path, size_t size)
{
	void *h = driver_open();
	struct link_map *map = NULL;
	char full[PATH_MAX];
	int r = -ENOENT;

	if (h && dlinfo(h, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name[0] &&
	    realpath(map->l_name, full) && strlen(full) < size) {
		memcpy(ret_path, full, strlen(full) + 1);
		r = 0;
	}
	if (h)
		dlclose(h);
	return r;
}

/* The minor numbers of /dev/nvidiaN, by UUID through NVML: CUDA's order of
 * the GPUs (and CUDA_VISIBLE_DEVICES) need not be the driver's. */
static void read_minors(struct device_info *devices, int count)
{
	const char *path = getenv("CUSLICE_REAL_LIBNVML");
	void *h = dlopen(path && *path ? path : "libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
	int (*init)(void) = h ? (int (*)(void))dlsym(h, "nvmlInit_v2") : NULL;
	int (*by_uuid)(const char *, void **) =
		h ? (int (*)(const char *, void **))dlsym(h, "nvmlDeviceGetHandleByUUID") : NULL;
	int (*minor)(void *, unsigned *) =
		h ? (int (*)(void *, unsigned *))dlsym(h, "nvmlDeviceGetMinorNumber") : NULL;
	bool ok = init && by_uuid && minor && init() == 0;

	for (int i = 0; i < count; i++) {
		char uuid[64];
		void *dev;
		unsigned m;
		policy_uuid_string(devices[i].uuid, uuid, sizeof(uuid));
		devices[i].minor =
			ok && by_uuid(uuid, &dev) == 0 && minor(dev, &m) == 0 ? m : (uint32_t)i;
	}
}

/* The SM split spatial partitions are made of; the same in every process. */
static void read_sm_split(void *h, CUdevice dev, struct device_info *info)
{
	__typeof__(&cuDeviceGetDevResource) get = dlsym(h, "cuDeviceGetDevResource");
	__typeof__(&cuDevSmResourceSplitByCount) split = dlsym(h, "cuDevSmResourceSplitByCount");
	CUdevResource all, groups[64], rest;
	unsigned n = 0;

	info->sm_total = info->sm_group = info->sm_groups = 0;
	if (!get || !split || get(dev, &all, CU_DEV_RESOURCE_TYPE_SM) != CUDA_SUCCESS ||
	    split(NULL, &n, &all, NULL, 0, all.sm.minSmPartitionSize) != CUDA_SUCCESS || !n)
		return;
	if (n > 64)
		n = 64;
	if (split(groups, &n, &all, &rest, 0, all.sm.minSmPartitionSize) != CUDA_SUCCESS || !n)
		return;
	info->sm_total = all.sm.smCount;
	info->sm_group = groups[0].sm.smCount;
	info->sm_groups = n;
	info->sm_fine_group = info->sm_fine_groups = 0;
	for (unsigned min = 1; min < info->sm_group; min++) {
		unsigned fine = 0;
		if (split(NULL, &fine, &all, NULL, CU_DEV_SM_RESOURCE_SPLIT_IGNORE_SM_COSCHEDULING,
			  min) != CUDA_SUCCESS ||
		    fine > 64)
			continue;
		if (fine <= n ||
		    split(groups, &fine, &all, &rest,
			  CU_DEV_SM_RESOURCE_SPLIT_IGNORE_SM_COSCHEDULING, min) != CUDA_SUCCESS)
			break; /* no finer than the default */
		info->sm_fine_group = groups[0].sm.smCount;
		info->sm_fine_groups = fine;
		break;
	}
}

int devices_query(struct device_info *ret, int *ret_count, char *err, size_t errlen)
{
	void *h = driver_open();
	int count = 0;

	if (!h) {
		snprintf(err, errlen, "cannot load the CUDA driver: %s", dlerror());
		return -ENOENT;
	}
	__typeof__(&cuInit) init = dlsym(h, "cuInit");
	__typeof__(&cuDeviceGetCount) get_count = dlsym(h, "cuDeviceGetCount");
	__typeof__(&cuDeviceGet) get = dlsym(h, "cuDeviceGet");
	__typeof__(&cuDeviceTotalMem_v2) total = dlsym(h, "cuDeviceTotalMem_v2");
	__typeof__(&cuDeviceGetUuid_v2) uuid = dlsym(h, "cuDeviceGetUuid_v2");
	__typeof__(&cuDeviceGetName) name = dlsym(h, "cuDeviceGetName");
	CUresult rc;

	if (!init || !get_count || !get || !total || !uuid || !name) {
		snprintf(err, errlen, "the CUDA driver lacks the device queries cuslice needs");
		return -ENOSYS;
	}
	if ((rc = init(0)) != CUDA_SUCCESS || (rc = get_count(&count)) != CUDA_SUCCESS) {
		snprintf(err, errlen, "the CUDA driver found no usable GPU (error %d)", (int)rc);
		return -ENODEV;
	}
	if (count > CUSLICE_MAX_DEVICES)
		count = CUSLICE_MAX_DEVICES;
	for (int i = 0; i < count; i++) {
		CUdevice dev;
		CUuuid id;
		size_t bytes;
		if (get(&dev, i) || total(&bytes, dev) || uuid(&id, dev) ||
		    name(ret[i].name, sizeof(ret[i].name), dev)) {
			snprintf(err, errlen, "cannot read the properties of GPU %d", i);
			return -EIO;
		}
		ret[i].total = bytes;
		memcpy(ret[i].uuid, id.bytes, sizeof(ret[i].uuid));
		read_sm_split(h, dev, &ret[i]);
	}
	read_minors(ret, count);
	*ret_count = count;
	return 0;
}
