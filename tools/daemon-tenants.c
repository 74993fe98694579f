/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "policy/quota.h"

struct tenant *tenants_find(struct daemon *d, const char *name)
{
	for (int i = 0; i < d->ntenants; i++)
		if (strcmp(d->tenants[i]->name, name) == 0)
			return d->tenants[i];
	return NULL;
}

/* The file of a tenant's segment: named by a hash of the tenant, since
 * cgroup paths are long and full of slashes. */
static void segment_path(const struct daemon *d, const char *name, char *out, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	snprintf(out, size, "%s/segments/%016llx.seg", d->runtime_dir, (unsigned long long)h);
}

/* Re-adopts a segment left by an earlier daemon (reservations intact), or
 * lays out a fresh one. */
static int segment_open(struct daemon *d, struct tenant *t)
{
	char path[4096];
	struct stat st;

	segment_path(d, t->name, path, sizeof(path));
	t->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (t->fd < 0 || fstat(t->fd, &st) < 0)
		return -errno;
	/* an older daemon's segment grows by what was appended since */
	bool older = (size_t)st.st_size == CUSLICE_SEGMENT_SIZE_V1 ||
		     (size_t)st.st_size == CUSLICE_SEGMENT_SIZE_V2 ||
		     (size_t)st.st_size == CUSLICE_SEGMENT_SIZE_V3 ||
		     (size_t)st.st_size == CUSLICE_SEGMENT_SIZE_V4 ||
		     (size_t)st.st_size == CUSLICE_SEGMENT_SIZE_V5 ||
		     (size_t)st.st_size == CUSLICE_SEGMENT_SIZE_V6;
	bool fresh = !older && (size_t)st.st_size != sizeof(struct cuslice_segment);
	if ((fresh || older) && ftruncate(t->fd, sizeof(struct cuslice_segment)) < 0)
		return -errno;
	t->seg = mmap(NULL, sizeof(*t->seg), PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
	if (t->seg == MAP_FAILED) {
		t->seg = NULL;
		return -errno;
	}
	if (older)
		t->seg->size = sizeof(*t->seg);
	if (fresh || quota_segment_check(t->seg, sizeof(*t->seg)) < 0 ||
	    t->seg->ndevices != (uint32_t)d->ndevices)
		quota_segment_init(t->seg, (uint32_t)d->ndevices);
	for (int i = 0; i < d->ndevices; i++)
		memcpy(t->seg->devices[i].uuid, d->devices[i].uuid, 16);
	t->seg->turn_slot = 0; /* an earlier daemon's turns; this one decides afresh */
	return 0;
}

/* Quotas are the admin's if set, else the daemon's default, else the whole
 * device: every tenant is accounted, only configured ones are held back. */
void tenants_apply_quota(struct daemon *d, struct tenant *t)
{
	for (int i = 0; i < d->ndevices; i++) {
		uint64_t q = d->devices[i].total;
		if (t->configured)
			q = t->vram.bytes[i];
		else if (d->has_default)
			q = d->default_vram.bytes[i];
		__atomic_store_n(&t->seg->devices[i].quota, q, __ATOMIC_RELEASE);
	}
}

int tenants_get(struct daemon *d, const char *name, struct tenant **ret)
{
	struct tenant *t = tenants_find(d, name);

	if (t) {
		*ret = t;
		return 0;
	}
	if (d->ntenants == DAEMON_MAX_TENANTS)
		return -EUSERS;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fd = -1;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->weight = 1;
	int r = segment_open(d, t);
	if (r == 0 && !(t->watch = proc_watch_new(t->seg)))
		r = -ENOMEM;
	if (r < 0) {
		if (t->seg)
			munmap(t->seg, sizeof(*t->seg));
		if (t->fd >= 0)
			close(t->fd);
		free(t);
		return r;
	}
	tenants_apply_quota(d, t);
	/* a fault an earlier daemon handled is not handled again */
	t->seen_fault_ns = __atomic_load_n(&t->seg->fault.time_ns, __ATOMIC_ACQUIRE);
	d->tenants[d->ntenants++] = t;
	spatial_apply_tenant(d, t); /* its place where GPUs are partitioned */
	*ret = t;
	return 0;
}

void tenants_free_all(struct daemon *d)
{
	for (int i = 0; i < d->ntenants; i++) {
		proc_watch_free(d->tenants[i]->watch);
		munmap(d->tenants[i]->seg, sizeof(*d->tenants[i]->seg));
		close(d->tenants[i]->fd);
		free(d->tenants[i]);
	}
	d->ntenants = 0;
}
