/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cusliced's kernel side (kmod-helper/): device access control per tenant
 * cgroup, enforce mode, process exits reported by the kernel. Optional: where
 * BPF, BTF or cgroup v2 is missing the daemon says so once and runs without.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statfs.h>

#include "daemon.h"
#include "devices.h"

#ifdef CUSLICE_BPF
#include "kmod.h"

#define BPFFS "/sys/fs/bpf"

static struct tenant *tenant_by_cgroup(struct daemon *d, uint64_t cgroup)
{
	for (int i = 0; i < d->ntenants; i++)
		if (d->tenants[i]->cgroup_id == cgroup)
			return d->tenants[i];
	return NULL;
}

/* Registered processes of audited tenants that launched more than their shim
 * saw: the kernel counts every call into the driver, the shim's own included,
 * and the shim counts before it calls. Reported once per process. */
void kernel_audit_scan(struct daemon *d)
{
	for (int i = 0; d->kmod && i < d->ntenants; i++) {
		struct tenant *t = d->tenants[i];
		for (int k = 0; t->audit && t->cgroup_id && k < CUSLICE_MAX_PROCS; k++) {
			pid_t pid = __atomic_load_n(&t->seg->procs[k].pid, __ATOMIC_ACQUIRE);
			uint64_t shim =
				__atomic_load_n(&t->seg->procs[k].launches, __ATOMIC_ACQUIRE);
			struct kmod_audit a;
			if (pid <= 0 || kmod_audit_read(d->kmod, t->cgroup_id, pid, &a) < 0 ||
			    a.flagged || !a.registered ||
			    a.calls[KMOD_CALL_LAUNCH] <= shim + shim / 100 + 8)
				continue;
			kmod_audit_flag(d->kmod, t->cgroup_id, pid);
			d->kernel.bypasses++;
			t->bypasses++;
			fprintf(stderr,
				"cusliced: pid %d of tenant %s reaches the CUDA driver around the "
				"shim (audit): the kernel saw %llu launches, the shim %llu\n",
				(int)pid, t->name, (unsigned long long)a.calls[KMOD_CALL_LAUNCH],
				(unsigned long long)shim);
		}
	}
}

static void on_event(void *ctx, const struct kmod_event *e)
{
	struct daemon *d = ctx;
	struct tenant *t = tenant_by_cgroup(d, e->cgroup);
	char comm[sizeof(e->comm) + 1] = {0};

	memcpy(comm, e->comm, sizeof(e->comm));
	if (e->kind == KMOD_EVENT_EXIT) {
		d->kernel.exits++;
		if (t) {
			kmod_audit_forget(d->kmod, t->cgroup_id, (pid_t)e->pid);
			proc_watch_scan(t->watch); /* gives back what it held */
		}
		return;
	}
	if (e->kind == KMOD_EVENT_BYPASS) {
		d->kernel.bypasses++;
		if (t)
			t->bypasses++;
		fprintf(stderr,
			"cusliced: pid %u (%s) of tenant %s called the CUDA driver without "
			"registering through the shim (audit)\n",
			e->pid, comm, t ? t->name : "(unknown)");
		events_emit(d, "bypass", t ? t->name : "",
			    "pid %u (%s) called the CUDA driver without the shim", e->pid, comm);
		return;
	}
	if (e->kind != KMOD_EVENT_DENIED)
		return;
	d->kernel.denied++;
	/* the driver retries a refused open: one line per process and device */
	static struct kmod_event last;
	bool repeat = last.pid == e->pid && last.major == e->major && last.minor == e->minor &&
		      last.reason == e->reason;
	last = *e;
	if (repeat)
		return;
	events_emit(d, "denied-open", t ? t->name : "", "device %u:%u to pid %u (%s): %s", e->major,
		    e->minor, e->pid, comm,
		    e->reason == KMOD_DENY_UNREGISTERED ? "enforce mode, not registered"
							: "not a GPU of this tenant");
	fprintf(stderr,
		"cusliced: denied an open of device %u:%u to pid %u (%s) of tenant %s: %s\n",
		e->major, e->minor, e->pid, comm, t ? t->name : "(unknown)",
		e->reason == KMOD_DENY_UNREGISTERED
			? "enforce mode, and the process did not register through the shim"
			: "not a GPU of this tenant");
}

/* The dynamic major of nvidia-uvm, from /proc/devices; 0 if not loaded. */
static uint32_t uvm_major(void)
{
	FILE *f = fopen("/proc/devices", "re");
	char name[64];
	unsigned major = 0, m;
	char line[128];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%u %63s", &m, name) == 2 && strcmp(name, "nvidia-uvm") == 0)
			major = m;
	if (f)
		fclose(f);
	return major;
}

/* bpffs at /sys/fs/bpf, mounted here if nothing mounted it (as systemd would). */
static void mount_bpffs(const char *dir)
{
	struct statfs fs;

	if (strncmp(dir, BPFFS "/", sizeof(BPFFS)) != 0)
		return;
	if (statfs(BPFFS, &fs) == 0 && (unsigned long)fs.f_type == BPF_FS_MAGIC)
		return;
	if (mount("bpf", BPFFS, "bpf", 0, "mode=0700") == 0)
		fprintf(stderr, "cusliced: mounted a bpf filesystem at " BPFFS "\n");
}

void kernel_setup(struct daemon *d, const char *bpf_dir)
{
	char err[1024] = "";

	if (!d->cgroup_root[0]) {
		snprintf(d->kernel.status, sizeof(d->kernel.status),
			 "off: no cgroup v2 hierarchy is mounted");
	} else {
		char libcuda[4096];
		bool found = devices_driver_path(libcuda, sizeof(libcuda)) == 0;
		mount_bpffs(bpf_dir);
		int r = kmod_open(bpf_dir, found ? libcuda : NULL, on_event, d, &d->kmod, err,
				  sizeof(err));
		if (r < 0)
			snprintf(d->kernel.status, sizeof(d->kernel.status), "off: %s", err);
		else
			snprintf(d->kernel.status, sizeof(d->kernel.status), "active: %s %s",
				 kmod_adopted(d->kmod) ? "adopted from" : "loaded and pinned at",
				 bpf_dir);
	}
	fprintf(stderr, "cusliced: kernel side %s\n", d->kernel.status);
	if (!d->kmod)
		return;
	kmod_set_uvm_major(d->kmod, uvm_major());
	for (int i = 0; i < d->ntenants; i++)
		kernel_apply(d, d->tenants[i]);
}

int kernel_apply(struct daemon *d, struct tenant *t)
{
	char path[8192];

	if (!d->kmod)
		return 0;
	uint64_t gpus = t->gpus_set ? t->gpus : daemon_all_gpus(d), minors = 0;
	for (int i = 0; i < d->ndevices; i++) /* GPU indexes to /dev/nvidiaN minors */
		if (gpus >> i & 1 && d->devices[i].minor < KMOD_MAX_GPUS)
			minors |= 1ull << d->devices[i].minor;
	struct kmod_rule rule = {
		.gpus = minors,
		.flags = KMOD_ALLOW_CTL | KMOD_ALLOW_UVM |
			 (d->deny_modeset ? 0 : KMOD_ALLOW_MODESET) |
			 (t->enforce ? KMOD_ENFORCE : 0) | (t->audit ? KMOD_AUDIT : 0),
	};
	snprintf(path, sizeof(path), "%s%s", d->cgroup_root, t->name);
	int64_t id = kmod_cgroup_id(path);
	if (id < 0)
		return (int)id; /* no such cgroup yet: applied when a process of it registers */
	int r = kmod_tenant_set(d->kmod, path, &rule);
	if (r == 0)
		t->cgroup_id = (uint64_t)id;
	else
		fprintf(stderr, "cusliced: cannot guard the devices of tenant %s: %s\n", t->name,
			strerror(-r));
	return r;
}

void kernel_registered(struct daemon *d, struct tenant *t, pid_t pid)
{
	if (!d->kmod)
		return;
	if (!t->cgroup_id)
		kernel_apply(d, t);
	int r = kmod_register(d->kmod, pid, t->cgroup_id);
	if (r < 0)
		fprintf(stderr, "cusliced: cannot register pid %d with the kernel side: %s\n",
			(int)pid, strerror(-r));
}

int kernel_events_fd(const struct daemon *d)
{
	return d->kmod ? kmod_events_fd(d->kmod) : -1;
}

int kernel_audit_probes(const struct daemon *d)
{
	return d->kmod ? kmod_audit_probes(d->kmod) : 0;
}

int kernel_audit_launches(struct daemon *d, const struct tenant *t, pid_t pid, uint64_t *ret)
{
	struct kmod_audit a;

	if (!d->kmod || !t->cgroup_id || kmod_audit_read(d->kmod, t->cgroup_id, pid, &a) < 0)
		return -ENOENT;
	*ret = a.calls[KMOD_CALL_LAUNCH];
	return 0;
}

void kernel_consume(struct daemon *d)
{
	if (d->kmod)
		kmod_consume(d->kmod);
}

void kernel_close(struct daemon *d)
{
	d->kmod = kmod_free(d->kmod); /* what is pinned stays in force */
}

#else /* built without BPF */

void kernel_setup(struct daemon *d, const char *bpf_dir)
{
	snprintf(d->kernel.status, sizeof(d->kernel.status),
		 "off: cusliced was built without BPF (clang, bpftool, libbpf or BTF missing)");
	fprintf(stderr, "cusliced: kernel side %s\n", d->kernel.status);
}

int kernel_apply(struct daemon *d, struct tenant *t)
{
	return 0;
}

void kernel_registered(struct daemon *d, struct tenant *t, pid_t pid)
{
}

int kernel_events_fd(const struct daemon *d)
{
	return -1;
}

int kernel_audit_probes(const struct daemon *d)
{
	return 0;
}

void kernel_audit_scan(struct daemon *d)
{
}

int kernel_audit_launches(struct daemon *d, const struct tenant *t, pid_t pid, uint64_t *ret)
{
	return -ENOENT;
}

void kernel_consume(struct daemon *d)
{
}

void kernel_close(struct daemon *d)
{
}
#endif
