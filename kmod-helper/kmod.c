/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <linux/magic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cuslice.skel.h"
#include "kmod.h"

#define LOG_SIZE (1 << 20)
#define LOG_TAIL 600 /* characters of the verifier's log kept in an error */

/* What is pinned, in this order, under the daemon's bpffs directory. */
enum pin {
	PIN_TENANTS,
	PIN_REGISTERED,
	PIN_SETTINGS,
	PIN_AUDIT,
	PIN_EVENTS, /* the last map */
	PIN_DEVCG,
	PIN_EXIT,
	PINS
};

static const char *const pin_names[PINS] = {"tenants", "registered", "settings", "audit",
					    "events",  "devcg",	     "exit"};

struct kmod {
	struct cuslice_bpf *skel; /* NULL when adopted */
	int fds[PINS];
	struct ring_buffer *rb;
	kmod_event_fn on_event;
	void *ctx;
	bool adopted;
	int audit_probes; /* uprobes on the driver's entry points */
};

static int handle(void *ctx, void *data, size_t size)
{
	struct kmod *k = ctx;

	if (size >= sizeof(struct kmod_event))
		k->on_event(k->ctx, data);
	return 0;
}

/* Every object pinned by an earlier daemon, or -ENOENT if any is missing. */
static int adopt(struct kmod *k, const char *dir)
{
	char path[4096];

	for (int i = 0; i < PINS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, pin_names[i]);
		k->fds[i] = bpf_obj_get(path);
		if (k->fds[i] < 0)
			return -errno;
	}
	k->adopted = true;
	return 0;
}

static void log_tail(const char *log, char *err, size_t errlen, int r)
{
	size_t len = strlen(log);
	const char *tail = len > LOG_TAIL ? log + len - LOG_TAIL : log;

	snprintf(err, errlen, "the kernel refused the BPF programs (%s); verifier: %s%s",
		 strerror(-r), len > LOG_TAIL ? "…" : "", tail);
}

/* Loads the programs; on failure loads them again with the verifier's log on,
 * for the error message. */
static int load(struct kmod *k, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	char *log = NULL;
	int r;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (attempt == 1) {
			log = calloc(1, LOG_SIZE);
			if (!log)
				return -ENOMEM;
			opts.kernel_log_buf = log;
			opts.kernel_log_size = LOG_SIZE;
			opts.kernel_log_level = 1;
		}
		k->skel = cuslice_bpf__open_opts(&opts);
		if (!k->skel) {
			r = -errno;
			snprintf(err, errlen, "cannot open the BPF object: %s", strerror(-r));
			break;
		}
		r = cuslice_bpf__load(k->skel);
		if (r == 0)
			break;
		cuslice_bpf__destroy(k->skel);
		k->skel = NULL;
		if (attempt == 1)
			log_tail(log, err, errlen, r);
	}
	free(log);
	return k->skel ? 0 : r;
}

/* Attaches the exit tracepoint and pins everything under `dir`. */
static int pin_all(struct kmod *k, const char *dir, char *err, size_t errlen)
{
	struct bpf_link *link = bpf_program__attach(k->skel->progs.cuslice_exit);
	char path[4096];
	int r;

	if (!link) {
		r = -errno;
		snprintf(err, errlen, "cannot attach the process-exit tracepoint: %s",
			 strerror(-r));
		return r;
	}
	k->skel->links.cuslice_exit = link;
	bpf_link__disconnect(link); /* the pin, not this daemon, keeps it attached */
	struct bpf_map *maps[] = {k->skel->maps.tenants, k->skel->maps.registered,
				  k->skel->maps.settings, k->skel->maps.audit,
				  k->skel->maps.events};
	for (int i = 0; i < PINS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, pin_names[i]);
		if (i < PIN_DEVCG) {
			r = bpf_map__pin(maps[i], path);
			k->fds[i] = bpf_map__fd(maps[i]);
		} else if (i == PIN_DEVCG) {
			r = bpf_program__pin(k->skel->progs.cuslice_devcg, path);
			k->fds[i] = bpf_program__fd(k->skel->progs.cuslice_devcg);
		} else {
			r = bpf_link__pin(link, path);
			k->fds[i] = bpf_link__fd(link);
		}
		if (r < 0) {
			snprintf(err, errlen, "cannot pin %s: %s", path, strerror(-r));
			return r;
		}
	}
	return 0;
}

static const char *const launch_calls[] = {
	"cuLaunchKernel",
	"cuLaunchKernel_ptsz",
	"cuLaunchKernelEx",
	"cuLaunchKernelEx_ptsz",
	"cuLaunchCooperativeKernel",
	"cuLaunchCooperativeKernel_ptsz",
	"cuLaunch",
	"cuLaunchGrid",
	"cuLaunchGridAsync",
	"cuGraphLaunch",
	"cuGraphLaunch_ptsz",
};
static const char *const alloc_calls[] = {
	"cuMemAlloc_v2",
	"cuMemAllocPitch_v2",
	"cuMemAllocManaged",
	"cuMemAllocAsync",
	"cuMemAllocAsync_ptsz",
	"cuMemAllocFromPoolAsync",
	"cuMemAllocFromPoolAsync_ptsz",
	"cuMemCreate",
	"cuArrayCreate_v2",
	"cuArray3DCreate_v2",
	"cuMipmappedArrayCreate",
};

/* Uprobes on the driver's launch and allocation entry points, each pinned as
 * audit-NAME; names this driver lacks are skipped. Returns how many. */
static int attach_audit(struct kmod *k, const char *dir, const char *libcuda)
{
	char path[4096];
	int n = 0;

	for (int kind = 0; kind < 2; kind++) {
		struct bpf_program *prog = kind ? k->skel->progs.cuslice_audit_alloc
						: k->skel->progs.cuslice_audit_launch;
		const char *const *names = kind ? alloc_calls : launch_calls;
		size_t count = kind ? sizeof(alloc_calls) / sizeof(*alloc_calls)
				    : sizeof(launch_calls) / sizeof(*launch_calls);
		for (size_t i = 0; i < count; i++) {
			LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = names[i]);
			struct bpf_link *link =
				bpf_program__attach_uprobe_opts(prog, -1, libcuda, 0, &opts);
			if (!link)
				continue;
			snprintf(path, sizeof(path), "%s/audit-%s", dir, names[i]);
			if (bpf_link__pin(link, path) == 0)
				n++;
			bpf_link__disconnect(link);
			bpf_link__destroy(link);
		}
	}
	return n;
}

static int count_audit_pins(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	int n = 0;

	while (d && (ent = readdir(d)))
		n += strncmp(ent->d_name, "audit-", 6) == 0;
	if (d)
		closedir(d);
	return n;
}

static void close_adopted(struct kmod *k)
{
	for (int i = 0; i < PINS; i++) {
		if (k->fds[i] >= 0)
			close(k->fds[i]);
		k->fds[i] = -1;
	}
}

/* Removes every pin in `dir`: the fixed set and the audit probes' links. */
static void unpin_all(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	char path[4096 + 256];

	while (d && (ent = readdir(d)))
		if (ent->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name);
			unlink(path);
		}
	if (d)
		closedir(d);
}

static int check_bpffs(const char *dir, char *err, size_t errlen)
{
	char parent[4096];
	struct statfs fs;

	snprintf(parent, sizeof(parent), "%s", dir);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	if (statfs(parent, &fs) < 0 || (unsigned long)fs.f_type != BPF_FS_MAGIC) {
		snprintf(err, errlen, "%s is not on a bpf filesystem (mount -t bpf bpf %s)", dir,
			 parent);
		return -ENOTDIR;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot make %s: %s", dir, strerror(errno));
		return -errno;
	}
	return 0;
}

int kmod_open(const char *dir, const char *libcuda, kmod_event_fn on_event, void *ctx,
	      struct kmod **ret, char *err, size_t errlen)
{
	struct kmod *k = calloc(1, sizeof(*k));
	int r;

	if (!k)
		return -ENOMEM;
	for (int i = 0; i < PINS; i++)
		k->fds[i] = -1;
	k->on_event = on_event;
	k->ctx = ctx;
	libbpf_set_print(NULL);
	r = check_bpffs(dir, err, errlen);
	if (r == 0 && (r = adopt(k, dir)) == -ENOENT) {
		close_adopted(k);
		unpin_all(dir); /* none, or a partial set: start over */
		r = load(k, err, errlen);
		if (r == 0)
			r = pin_all(k, dir, err, errlen);
		if (r == 0 && libcuda)
			attach_audit(k, dir, libcuda);
	} else if (r < 0 && r != -ENOTDIR && !*err) {
		snprintf(err, errlen, "cannot open what is pinned in %s: %s", dir, strerror(-r));
	}
	if (r == 0)
		k->audit_probes = count_audit_pins(dir);
	if (r == 0) {
		k->rb = ring_buffer__new(k->fds[PIN_EVENTS], handle, k, NULL);
		if (!k->rb) {
			r = -errno;
			snprintf(err, errlen, "cannot read the event ring buffer: %s",
				 strerror(-r));
		}
	}
	if (r < 0) {
		kmod_free(k);
		return r;
	}
	*ret = k;
	return 0;
}

struct kmod *kmod_free(struct kmod *k)
{
	if (!k)
		return NULL;
	ring_buffer__free(k->rb);
	if (k->skel) {
		/* the pins keep the programs, the maps and the exit link alive */
		cuslice_bpf__destroy(k->skel);
	} else {
		close_adopted(k);
	}
	free(k);
	return NULL;
}

bool kmod_adopted(const struct kmod *k)
{
	return k->adopted;
}

int kmod_events_fd(const struct kmod *k)
{
	return ring_buffer__epoll_fd(k->rb);
}

int kmod_consume(struct kmod *k)
{
	return ring_buffer__consume(k->rb);
}

int kmod_set_uvm_major(struct kmod *k, uint32_t major)
{
	struct kmod_config c = {.uvm_major = major};
	uint32_t key = 0;

	return bpf_map_update_elem(k->fds[PIN_SETTINGS], &key, &c, BPF_ANY) < 0 ? -errno : 0;
}

int64_t kmod_cgroup_id(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -errno : (int64_t)st.st_ino;
}

/* Whether our program is attached to the cgroup `fd` already (by us, or by
 * an earlier daemon): the kernel refuses the same program twice. */
static bool attached(struct kmod *k, int fd)
{
	struct bpf_prog_info info = {0};
	uint32_t len = sizeof(info), ids[64], count = 64, flags = 0;

	if (bpf_obj_get_info_by_fd(k->fds[PIN_DEVCG], &info, &len) < 0 ||
	    bpf_prog_query(fd, BPF_CGROUP_DEVICE, 0, &flags, ids, &count) < 0)
		return false;
	for (uint32_t i = 0; i < count; i++)
		if (ids[i] == info.id)
			return true;
	return false;
}

int kmod_tenant_set(struct kmod *k, const char *cgroup_path, const struct kmod_rule *rule)
{
	int64_t id = kmod_cgroup_id(cgroup_path);
	int fd, r = 0;

	if (id < 0)
		return (int)id;
	if (bpf_map_update_elem(k->fds[PIN_TENANTS], &id, rule, BPF_ANY) < 0)
		return -errno;
	fd = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (!attached(k, fd) &&
	    bpf_prog_attach(k->fds[PIN_DEVCG], fd, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) < 0)
		r = -errno;
	close(fd);
	return r;
}

int kmod_register(struct kmod *k, pid_t pid, uint64_t cgroup)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	struct kmod_proc p = {.cgroup = cgroup,
			      .registered_ns = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec};
	uint32_t key = (uint32_t)pid;

	return bpf_map_update_elem(k->fds[PIN_REGISTERED], &key, &p, BPF_ANY) < 0 ? -errno : 0;
}

int kmod_audit_probes(const struct kmod *k)
{
	return k->audit_probes;
}

int kmod_audit_read(struct kmod *k, uint64_t cgroup, pid_t pid, struct kmod_audit *ret)
{
	struct kmod_audit_key key = {.cgroup = cgroup, .pid = (uint32_t)pid};

	return bpf_map_lookup_elem(k->fds[PIN_AUDIT], &key, ret) < 0 ? -errno : 0;
}

int kmod_audit_flag(struct kmod *k, uint64_t cgroup, pid_t pid)
{
	struct kmod_audit_key key = {.cgroup = cgroup, .pid = (uint32_t)pid};
	struct kmod_audit a;

	if (bpf_map_lookup_elem(k->fds[PIN_AUDIT], &key, &a) < 0)
		return -errno;
	a.flagged = 1;
	return bpf_map_update_elem(k->fds[PIN_AUDIT], &key, &a, BPF_EXIST) < 0 ? -errno : 0;
}

int kmod_audit_forget(struct kmod *k, uint64_t cgroup, pid_t pid)
{
	struct kmod_audit_key key = {.cgroup = cgroup, .pid = (uint32_t)pid};

	return bpf_map_delete_elem(k->fds[PIN_AUDIT], &key) < 0 ? -errno : 0;
}
