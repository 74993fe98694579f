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

#include <stddef.h>
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
	uint64_t launches; /* kernel and graph launches, for activity and rates */
};

/*
 * GPU time. The tenant may keep the GPU busy `share_ppm` millionths of the
 * time: each launch moves `next_free_ns` on by its predicted GPU time
 * divided by the share, and a launch that would start more than `burst_ns`
 * ahead of now waits. share_ppm == 0: not paced. While a latency-critical
 * tenant has work, the others may be held to `max_inflight` launches on the
 * GPU at a time, so that its kernels wait behind one of theirs at most, and
 * the latency-critical tenant's own is CUSLICE_INFLIGHT_HIGH: no cap, but
 * every launch goes through the gate, which writes it on the node's board.
 * Written by whoever
 * schedules the tenant (cusliced, or `cuslice run --limit`); the pacing
 * itself needs no one else, so it holds while the scheduler restarts.
 */
#define CUSLICE_INFLIGHT_HIGH UINT32_MAX

struct cuslice_sched {
	uint32_t share_ppm;
	uint32_t max_inflight; /* launches this tenant may have on the GPU at once; 0: any */
	uint64_t burst_ns;
	uint64_t next_free_ns;	 /* CLOCK_MONOTONIC */
	uint64_t last_active_ns; /* last launch, to within a millisecond */
	uint64_t admitted_ns;	 /* predicted GPU time admitted */
	uint64_t throttled_ns;	 /* time launchers waited */
	uint64_t leases;	 /* allowance taken, in leases of a few launches */
};

/*
 * Where the tenant's kernels run on one device (spatial and hybrid modes):
 * groups of the driver's split of the GPU's SMs (cuDevSmResourceSplitByCount
 * with `group_sms`, the same groups in every process). The shim builds a
 * green context from them that stands in for the device's primary context.
 * groups == 0 and remainder == 0: the whole GPU.
 */
struct cuslice_partition {
	uint64_t groups;     /* bit g: group g of the split */
	uint32_t group_sms;  /* the split's granularity: 8 on Hopper */
	uint32_t remainder;  /* 1: the SMs the split leaves over, too */
	uint32_t generation; /* odd while the writer changes the fields (a seqlock) */
	uint32_t sms;	     /* SMs in all, for display */
};

/* A fatal GPU error one of the tenant's processes saw; under MPS it ends every
 * client of the server, so the daemon restarts the server and reports the
 * tenants it hit. */
struct cuslice_fault {
	int32_t pid;
	int32_t code;	  /* the CUresult */
	uint64_t time_ns; /* CLOCK_MONOTONIC; 0: none yet */
};

#define CUSLICE_MPS_PIPE_MAX 192

struct cuslice_segment {
	uint32_t size;
	uint32_t version;
	uint32_t magic;
	uint32_t ndevices;
	uint64_t flags; /* CUSLICE_SEGMENT_MOVES */
	struct cuslice_device_quota devices[CUSLICE_MAX_DEVICES];
	struct cuslice_proc procs[CUSLICE_MAX_PROCS];
	struct cuslice_sched sched;
	/* appended: allocations refused over the quota, per device (a counter) */
	uint64_t refusals[CUSLICE_MAX_DEVICES];
	/* appended: SM partitions per device, the MPS server to join
	 * (CUDA_MPS_PIPE_DIRECTORY; empty: none), the last fatal fault */
	struct cuslice_partition partitions[CUSLICE_MAX_DEVICES];
	char mps_pipe[CUSLICE_MPS_PIPE_MAX];
	struct cuslice_fault fault;
	/* appended: while the tenant is latency-critical, 1 + its word on the
	 * node's board (policy/board.h); 0: it is not */
	uint32_t high_slot;
	uint32_t pad;
	/* appended: while the tenant takes turns on a GPU with others (the node's
	 * board), 1 + its slot there, and the GPU; 0: it does not */
	uint32_t turn_slot;
	uint32_t turn_device;
	/* appended: per device, the flags of the SM split its partition's groups
	 * come from (CU_DEV_SM_RESOURCE_SPLIT_IGNORE_SM_COSCHEDULING for the fine
	 * one); written before the partition's groups */
	uint32_t split_flags[CUSLICE_MAX_DEVICES];
	/* appended: bumped after any change of `partitions`, with a FUTEX_WAKE
	 * on it, so that running processes move to their new SMs; and per
	 * process slot, 1 + the epoch whose partitions the process's kernels
	 * run on (0: it runs on none) */
	uint32_t partitions_epoch;
	uint32_t pad2;
	uint32_t partitions_held[CUSLICE_MAX_PROCS];
};

/* flags: cusliced moves the tenant's running processes to new SMs when its
 * partitions change (--move-running on), so the shim keeps what a move
 * needs: a copy of each graph, to instantiate again on the new SMs. */
#define CUSLICE_SEGMENT_MOVES (1ull << 0)

/* The size of a segment before `refusals` was appended: still accepted. */
#define CUSLICE_SEGMENT_SIZE_V1 offsetof(struct cuslice_segment, refusals)
/* … and before the partitions were. */
#define CUSLICE_SEGMENT_SIZE_V2 offsetof(struct cuslice_segment, partitions)
/* … and before `high_slot` was. */
#define CUSLICE_SEGMENT_SIZE_V3 offsetof(struct cuslice_segment, high_slot)
/* … and before the turns were. */
#define CUSLICE_SEGMENT_SIZE_V4 offsetof(struct cuslice_segment, turn_slot)
/* Whether a segment (of `size` bytes) carries partitions. */
#define CUSLICE_SEGMENT_HAS_PARTITIONS(seg) \
	((seg)->size >= offsetof(struct cuslice_segment, fault) + sizeof(struct cuslice_fault))
/* Whether it carries `high_slot`. */
#define CUSLICE_SEGMENT_HAS_HIGH_SLOT(seg) \
	((seg)->size >= offsetof(struct cuslice_segment, high_slot) + sizeof(uint32_t))
/* … and before the split flags were. */
#define CUSLICE_SEGMENT_SIZE_V5 offsetof(struct cuslice_segment, split_flags)
/* Whether it carries the turn fields. */
#define CUSLICE_SEGMENT_HAS_TURNS(seg) ((seg)->size >= CUSLICE_SEGMENT_SIZE_V5)
/* … and before the partitions' epoch was. */
#define CUSLICE_SEGMENT_SIZE_V6 offsetof(struct cuslice_segment, partitions_epoch)
/* Whether it carries the split flags. */
#define CUSLICE_SEGMENT_HAS_SPLIT_FLAGS(seg) ((seg)->size >= CUSLICE_SEGMENT_SIZE_V6)
/* … and the partitions' epoch, for moves of running processes. */
#define CUSLICE_SEGMENT_HAS_MOVES(seg) ((seg)->size >= sizeof(struct cuslice_segment))
