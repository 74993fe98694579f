/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "quota.h"

#define LOAD(p) __atomic_load_n(p, __ATOMIC_ACQUIRE)

void quota_segment_init(struct cuslice_segment *seg, uint32_t ndevices)
{
	memset(seg, 0, sizeof(*seg));
	seg->size = sizeof(*seg);
	seg->version = CUSLICE_SEGMENT_VERSION;
	seg->magic = CUSLICE_SEGMENT_MAGIC;
	seg->ndevices = ndevices > CUSLICE_MAX_DEVICES ? CUSLICE_MAX_DEVICES : ndevices;
}

int quota_segment_check(const struct cuslice_segment *seg, uint64_t size)
{
	if (size < 2 * sizeof(uint32_t) + sizeof(uint32_t))
		return -EMSGSIZE;
	if (seg->magic != CUSLICE_SEGMENT_MAGIC || seg->version != CUSLICE_SEGMENT_VERSION)
		return -EPROTO;
	if (seg->size < CUSLICE_SEGMENT_SIZE_V1 || size < CUSLICE_SEGMENT_SIZE_V1)
		return -EMSGSIZE;
	return 0;
}

struct cuslice_proc *quota_proc_claim(struct cuslice_segment *seg, pid_t pid, uint64_t start_time)
{
	for (int i = 0; i < CUSLICE_MAX_PROCS; i++) {
		struct cuslice_proc *p = &seg->procs[i];
		int32_t expected = 0;
		if (LOAD(&p->pid) != 0)
			continue;
		if (!__atomic_compare_exchange_n(&p->pid, &expected, -1, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED))
			continue;
		memset(p->reserved, 0, sizeof(p->reserved));
		if (CUSLICE_SEGMENT_HAS_MOVES(seg)) /* it runs on no partition yet */
			__atomic_store_n(&seg->partitions_held[i], 0, __ATOMIC_RELAXED);
		p->start_time = start_time;
		/* a new process counts its own launches (the scheduler only looks
		 * for change; the audit compares them with the kernel's count) */
		__atomic_store_n(&p->launches, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&p->pid, (int32_t)pid, __ATOMIC_RELEASE);
		return p;
	}
	return NULL;
}

/* The device total first, then the process's share: should the process die
 * in between, the tenant holds a few bytes too many (fail closed), never too
 * few. */
int quota_reserve(struct cuslice_segment *seg, struct cuslice_proc *proc, uint32_t device,
		  uint64_t bytes)
{
	if (device >= seg->ndevices)
		return -ENODEV;
	struct cuslice_device_quota *d = &seg->devices[device];
	uint64_t quota = LOAD(&d->quota);
	uint64_t cur = LOAD(&d->reserved);
	do {
		if (bytes > quota || cur > quota - bytes) {
			if (LOAD(&seg->size) >=
			    CUSLICE_SEGMENT_SIZE_V2) /* a segment that counts them */
				__atomic_fetch_add(&seg->refusals[device], 1, __ATOMIC_RELAXED);
			return -ENOMEM;
		}
	} while (!__atomic_compare_exchange_n(&d->reserved, &cur, cur + bytes, true,
					      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	__atomic_fetch_add(&proc->reserved[device], bytes, __ATOMIC_RELEASE);
	return 0;
}

void quota_release(struct cuslice_segment *seg, struct cuslice_proc *proc, uint32_t device,
		   uint64_t bytes)
{
	if (device >= seg->ndevices || bytes == 0)
		return;
	__atomic_fetch_sub(&proc->reserved[device], bytes, __ATOMIC_RELEASE);
	__atomic_fetch_sub(&seg->devices[device].reserved, bytes, __ATOMIC_RELEASE);
}

uint64_t quota_proc_reclaim(struct cuslice_segment *seg, struct cuslice_proc *proc, pid_t pid,
			    uint64_t start_time)
{
	int32_t expected = (int32_t)pid;
	uint64_t total = 0;

	if (LOAD(&proc->start_time) != start_time ||
	    !__atomic_compare_exchange_n(&proc->pid, &expected, -1, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return 0;
	for (uint32_t i = 0; i < seg->ndevices; i++) {
		uint64_t held = __atomic_exchange_n(&proc->reserved[i], 0, __ATOMIC_ACQ_REL);
		__atomic_fetch_sub(&seg->devices[i].reserved, held, __ATOMIC_RELEASE);
		total += held;
	}
	proc->start_time = 0;
	if (CUSLICE_SEGMENT_HAS_MOVES(seg))
		__atomic_store_n(&seg->partitions_held[proc - seg->procs], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&proc->pid, 0, __ATOMIC_RELEASE);
	return total;
}

uint64_t quota_free_bytes(const struct cuslice_segment *seg, uint32_t device)
{
	if (device >= seg->ndevices)
		return 0;
	uint64_t quota = LOAD(&seg->devices[device].quota);
	uint64_t reserved = LOAD(&seg->devices[device].reserved);
	return reserved >= quota ? 0 : quota - reserved;
}
