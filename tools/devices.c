/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <cuda.h>

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices.h"

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
	}
	*ret_count = count;
	return 0;
}
