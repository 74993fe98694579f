/* SPDX-License-Identifier: Apache-2.0 */
/* What the BPF programs (cuslice.bpf.c) and the daemon's loader (kmod.c) both see. */
#pragma once

#define KMOD_NVIDIA_MAJOR 195
#define KMOD_MINOR_CTL 255
#define KMOD_MINOR_MODESET 254
#define KMOD_MAX_GPUS 64 /* minors 0..63: /dev/nvidia0..63 */

enum kmod_rule_flags {
	KMOD_ENFORCE = 1 << 0,	     /* only registered processes may open GPU nodes */
	KMOD_ALLOW_CTL = 1 << 1,     /* /dev/nvidiactl */
	KMOD_ALLOW_UVM = 1 << 2,     /* /dev/nvidia-uvm, /dev/nvidia-uvm-tools */
	KMOD_ALLOW_MODESET = 1 << 3, /* /dev/nvidia-modeset */
	KMOD_AUDIT = 1 << 4	     /* count its processes' calls into libcuda.so.1 */
};

enum kmod_call_kind {
	KMOD_CALL_LAUNCH = 0, /* kernel and graph launches, as the shim gates them */
	KMOD_CALL_ALLOC = 1,
	KMOD_CALL_KINDS
};

/* audit map: (tenant cgroup, process) -> calls into the driver, by kind */
struct kmod_audit_key {
	__u64 cgroup;
	__u32 pid;
	__u32 pad;
};

struct kmod_audit {
	__u64 calls[KMOD_CALL_KINDS];
	__u32 registered; /* whether the process had registered at its first call */
	__u32 flagged;	  /* the daemon reported it already */
};

/* tenants map: cgroup id -> rule; applies to the cgroup and its descendants */
struct kmod_rule {
	__u64 gpus; /* bit N: /dev/nvidiaN may be opened */
	__u32 flags;
	__u32 pad;
};

/* registered map: tgid -> the process that registered through the shim */
struct kmod_proc {
	__u64 cgroup;
	__u64 registered_ns;
};

/* settings map, one entry */
struct kmod_config {
	__u32 uvm_major; /* dynamic: read from /proc/devices; 0 if not loaded */
	__u32 pad;
};

enum kmod_event_kind {
	KMOD_EVENT_DENIED = 1, /* a device open was refused */
	KMOD_EVENT_EXIT = 2,   /* a registered process exited */
	KMOD_EVENT_BYPASS = 3, /* an audited process that never registered called the driver */
};

enum kmod_deny_reason {
	KMOD_DENY_DEVICE = 1,	    /* not a device the tenant was given */
	KMOD_DENY_UNREGISTERED = 2, /* enforce mode, and the process did not register */
};

struct kmod_event {
	__u32 kind;
	__u32 pid; /* tgid */
	__u64 cgroup;
	__u64 time_ns; /* CLOCK_MONOTONIC */
	__u32 major, minor;
	__u32 reason;
	char comm[16];
};
