/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's handle on the kernel side (cuslice.bpf.c): load it, or adopt
 * what an earlier daemon pinned, and keep its maps up to date. Does no
 * logging: errors come back as a negative errno and a message.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/types.h>

#include "cuslice-bpf.h"

struct kmod;

typedef void (*kmod_event_fn)(void *ctx, const struct kmod_event *e);

/**
 * kmod_open() - adopt the programs and maps pinned under @dir (a directory on
 * a bpf filesystem), or load them and pin them there.
 * @libcuda: the driver library whose entry points the audit probes watch
 * (attached when loading; adopted ones stay as they were), or NULL.
 * @on_event: called from kmod_consume() for every event.
 * Return: 0 and *@ret, or a negative errno with the reason in @err (a load
 * failure carries the end of the verifier's log).
 */
int kmod_open(const char *dir, const char *libcuda, kmod_event_fn on_event, void *ctx,
	      struct kmod **ret, char *err, size_t errlen);
struct kmod *kmod_free(struct kmod *k);

/* Whether kmod_open() found everything pinned already. */
bool kmod_adopted(const struct kmod *k);

/* A descriptor to poll for events; kmod_consume() handles those pending. */
int kmod_events_fd(const struct kmod *k);
int kmod_consume(struct kmod *k);

/* The dynamic major number of nvidia-uvm (0: not loaded). */
int kmod_set_uvm_major(struct kmod *k, uint32_t major);

/**
 * kmod_tenant_set() - the rule for the cgroup at @cgroup_path and everything
 * below it, and the program attached there (beside any others: a device the
 * rule does not cover is left to them). 0 or a negative errno.
 */
int kmod_tenant_set(struct kmod *k, const char *cgroup_path, const struct kmod_rule *rule);

/* Process @pid of cgroup @cgroup registered through the shim. */
int kmod_register(struct kmod *k, pid_t pid, uint64_t cgroup);

/* The id of the cgroup at @path (its inode on cgroup v2), or a negative errno. */
int64_t kmod_cgroup_id(const char *path);

/* Audit: how many uprobes watch the driver; a process's calls as the kernel
 * counted them (-ENOENT: none); marking it reported; forgetting it once gone. */
int kmod_audit_probes(const struct kmod *k);
int kmod_audit_read(struct kmod *k, uint64_t cgroup, pid_t pid, struct kmod_audit *ret);
int kmod_audit_flag(struct kmod *k, uint64_t cgroup, pid_t pid);
int kmod_audit_forget(struct kmod *k, uint64_t cgroup, pid_t pid);
