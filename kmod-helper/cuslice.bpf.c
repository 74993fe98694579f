// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * The kernel side of cuslice. A cgroup/dev program, attached (with
 * BPF_F_ALLOW_MULTI, beside whatever the container runtime attached) to each
 * tenant's cgroup, decides the opens of NVIDIA device nodes: the tenant's own
 * GPUs, nvidiactl, nvidia-uvm and nvidia-modeset as its rule says, and in
 * enforce mode only for processes that registered through the shim. Every
 * other device is left to the other programs. A tracepoint on process exit
 * reports registered processes that end, so their reservations come back at
 * once. The maps are pinned, so the rules hold while the daemon restarts.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "cuslice-bpf.h"

#define MAX_LEVELS 32	 /* cgroup nesting looked at */
#define DEVCG_DEV_CHAR 2 /* BPF_DEVCG_DEV_CHAR, which BTF does not carry */

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct kmod_rule);
} tenants SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct kmod_proc);
} registered SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kmod_config);
} settings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct kmod_audit_key);
	__type(value, struct kmod_audit);
} audit SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} events SEC(".maps");

/* The rule of the deepest tenant cgroup the current task is in. */
static const struct kmod_rule *tenant_rule(__u64 *ret_cgroup)
{
	const struct kmod_rule *found = NULL;

	for (int level = 1; level < MAX_LEVELS; level++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);
		if (!id)
			break;
		const struct kmod_rule *r = bpf_map_lookup_elem(&tenants, &id);
		if (r) {
			found = r;
			*ret_cgroup = id;
		}
	}
	return found;
}

static bool device_allowed(const struct kmod_rule *r, __u32 minor, bool uvm)
{
	if (uvm)
		return r->flags & KMOD_ALLOW_UVM;
	if (minor == KMOD_MINOR_CTL)
		return r->flags & KMOD_ALLOW_CTL;
	if (minor == KMOD_MINOR_MODESET)
		return r->flags & KMOD_ALLOW_MODESET;
	return minor < KMOD_MAX_GPUS && (r->gpus >> minor) & 1;
}

static void report_denial(__u64 cgroup, __u32 major, __u32 minor, __u32 reason)
{
	struct kmod_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return;
	e->kind = KMOD_EVENT_DENIED;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->cgroup = cgroup;
	e->time_ns = bpf_ktime_get_ns();
	e->major = major;
	e->minor = minor;
	e->reason = reason;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
}

SEC("cgroup/dev")
int cuslice_devcg(struct bpf_cgroup_dev_ctx *ctx)
{
	/* read the context once: the verifier refuses offsets computed into it */
	__u32 access = ctx->access_type, major = ctx->major, minor = ctx->minor, key = 0;
	const struct kmod_config *cfg = bpf_map_lookup_elem(&settings, &key);
	bool uvm = cfg && cfg->uvm_major && major == cfg->uvm_major;
	__u64 cgroup = 0;

	if ((access & 0xffff) != DEVCG_DEV_CHAR || (major != KMOD_NVIDIA_MAJOR && !uvm))
		return 1; /* not ours: the other programs decide */
	const struct kmod_rule *r = tenant_rule(&cgroup);
	if (!r)
		return 1;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 reason = 0;
	if ((r->flags & KMOD_ENFORCE) && !bpf_map_lookup_elem(&registered, &tgid))
		reason = KMOD_DENY_UNREGISTERED;
	else if (!device_allowed(r, minor, uvm))
		reason = KMOD_DENY_DEVICE;
	if (!reason)
		return 1;
	report_denial(cgroup, major, minor, reason);
	return 0;
}

/* The last thread of a registered process is gone: report it once. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(cuslice_exit, struct task_struct *task)
{
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct kmod_proc *p = bpf_map_lookup_elem(&registered, &tgid);
	if (!p)
		return 0;
	struct kmod_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		__builtin_memset(e, 0, sizeof(*e));
		e->kind = KMOD_EVENT_EXIT;
		e->pid = tgid;
		e->cgroup = p->cgroup;
		e->time_ns = bpf_ktime_get_ns();
		BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&registered, &tgid);
	return 0;
}

/* Audit: a call into libcuda.so.1 by a process of an audited tenant. A
 * process that never registered through the shim is reported at its first
 * call; the daemon compares the others' counts with the shim's. */
static int audit_call(__u32 kind)
{
	__u64 cgroup = 0;
	const struct kmod_rule *r = tenant_rule(&cgroup);

	if (!r || !(r->flags & KMOD_AUDIT) || kind >= KMOD_CALL_KINDS)
		return 0;
	struct kmod_audit_key key = {.cgroup = cgroup, .pid = bpf_get_current_pid_tgid() >> 32};
	struct kmod_audit *a = bpf_map_lookup_elem(&audit, &key);
	if (!a) {
		struct kmod_audit fresh = {
			.registered = bpf_map_lookup_elem(&registered, &key.pid) != NULL};
		bpf_map_update_elem(&audit, &key, &fresh, BPF_NOEXIST);
		a = bpf_map_lookup_elem(&audit, &key);
		if (!a)
			return 0;
		if (!fresh.registered) {
			struct kmod_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
			if (e) {
				__builtin_memset(e, 0, sizeof(*e));
				e->kind = KMOD_EVENT_BYPASS;
				e->pid = key.pid;
				e->cgroup = cgroup;
				e->time_ns = bpf_ktime_get_ns();
				bpf_get_current_comm(e->comm, sizeof(e->comm));
				bpf_ringbuf_submit(e, 0);
			}
		}
	}
	__sync_fetch_and_add(&a->calls[kind], 1);
	return 0;
}

SEC("uprobe")
int cuslice_audit_launch(void *ctx)
{
	return audit_call(KMOD_CALL_LAUNCH);
}

SEC("uprobe")
int cuslice_audit_alloc(void *ctx)
{
	return audit_call(KMOD_CALL_ALLOC);
}
