/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cusliced's state: the GPUs, the tenants and their segments, the sockets.
 *
 * A tenant is a cgroup v2 path (a container, a pod, a systemd slice). Its
 * segment lives in a file under <runtime>/segments/, so a restarted daemon
 * re-adopts it with every reservation intact while running tenants keep
 * using their mapping meanwhile (fail static). Quotas set by the admin are
 * kept in the state file, written atomically.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "devices.h"
#include "policy/board.h"
#include "policy/turns.h"
#include "policy/size.h"
#include "policy/smplan.h"
#include "policy/wire.h"
#include "proc-watch.h"

#define DAEMON_MAX_TENANTS 256
#define DAEMON_MAX_CLAIMS 4096
#define DAEMON_EVENTS_KEPT 512
#define DAEMON_HISTORY 600 /* per-tenant samples, one a second: ten minutes */

struct history_sample {
	uint64_t time_ms; /* CLOCK_REALTIME */
	uint64_t vram;	  /* bytes held, all GPUs */
	uint64_t gpu_ns;  /* GPU time admitted so far */
	uint64_t launches;
};
#define DAEMON_EVENT_SUBSCRIBERS 16

struct claim {
	char id[CUSLICE_CLAIM_MAX];	       /* "claim-" and 24 random hex digits */
	char resource[8];		       /* vram, sm, gpu */
	uint32_t amounts[CUSLICE_MAX_DEVICES]; /* per GPU: GiB, percent, or 1 */
	char tenant[CUSLICE_TENANT_NAME_MAX];  /* bound to; empty until presented */
};

struct tenant {
	char name[CUSLICE_TENANT_NAME_MAX];
	int fd; /* the segment file */
	struct cuslice_segment *seg;
	bool configured;	 /* the admin set its VRAM quota; else the default applies */
	struct policy_vram vram; /* valid when configured */
	uint32_t weight;	 /* share of GPU time against the other active tenants; >= 1 */
	uint32_t limit_ppm;	 /* cap on GPU time, even alone; 0: none */
	bool high;	      /* latency-critical: the others keep little work on the GPU for it */
	uint64_t connections; /* processes that registered */
	struct proc_watch *watch; /* gives back what exiting processes held */
	uint64_t gpus;		  /* device minors it may open, when gpus_set; else all */
	bool gpus_set;
	bool enforce;		 /* only processes that registered may open GPU nodes */
	bool audit;		 /* the kernel counts its processes' calls into the driver */
	uint64_t bypasses;	 /* processes the audit found going around the shim */
	uint64_t cgroup_id;	 /* 0 until the kernel side guards its cgroup */
	uint64_t seen_launches;	 /* the scheduler's last reading of launches_total */
	uint64_t launches_total; /* since the daemon started; only grows */
	uint64_t seen_refusals[CUSLICE_MAX_DEVICES]; /* events: last readings */
	uint64_t seen_throttled_ns, throttle_event_ns;
	struct history_sample history[DAEMON_HISTORY]; /* a ring, for `cuslice report` */
	uint64_t nhistory;
	int32_t slot_pid[CUSLICE_MAX_PROCS]; /* per process slot: whose count was read */
	uint64_t slot_seen[CUSLICE_MAX_PROCS];
	uint64_t active_until_ns; /* counts as active until then */
	/* spatial and hybrid modes (daemon-spatial.c) */
	struct policy_sm_ask sm; /* SMs asked for; valid when has_sm */
	bool has_sm;
	bool isolated;	 /* never shares an MPS server: stays time-sliced */
	bool sm_claimed; /* `sm` and `limit_ppm` came from a cuslice.io/sm claim */
	struct policy_sm_grant grants[CUSLICE_MAX_DEVICES]; /* dedicated SMs per GPU */
	uint64_t seen_fault_ns;				    /* the last fault read */
	/* after an MPS fault that could have been any of several tenants: out of
	 * the server, in contexts of its own, until then (daemon-spatial.c) */
	bool probation;
	uint64_t probation_until_ns;
	uint64_t probation_fault_ns; /* the fault it is suspected of */
	int probation_gpu;
	int32_t probation_pids[CUSLICE_MAX_PROCS]; /* its processes then, clients of the server */
	/* a change of its partitions that its running processes follow: the
	 * segment's epoch they acknowledge, and since when (0: none pending) */
	uint32_t move_epoch;
	uint64_t move_started_ns;
	bool move_slow_said;
	int moves_behind;	 /* processes not yet moved, at the last look */
	int last_move_processes; /* the last move done: how many, and how long it took */
	double last_move_ms;
	/* turns (daemon-sched.c): whether it used (nearly) its whole share at
	 * the last judgement, and when and from what the next one starts */
	bool saturating;
	uint64_t judged_ns, judged_admitted_ns;
};

enum gpu_mode {
	GPU_TIMESLICE, /* separate contexts taking turns; shares by GPU time */
	GPU_SPATIAL,   /* MPS, each tenant on SM groups of its own */
	GPU_HYBRID,    /* MPS; high-priority tenants own SM groups, the rest share the others */
};

/* The MPS control daemon cusliced runs for a GPU in spatial or hybrid mode. */
struct mps {
	pid_t pid; /* nvidia-cuda-mps-control -f; 0: not running */
	uint64_t started_ns, restarts, faults, retry_ns;
	uint64_t fault_ns;		 /* when the last fault handled happened */
	char pipe[CUSLICE_MPS_PIPE_MAX]; /* CUDA_MPS_PIPE_DIRECTORY */
	char log[4096];			 /* CUDA_MPS_LOG_DIRECTORY */
	char last_fault[1024];		 /* what the last fault did, for get node */
};

struct gpu_state {
	enum gpu_mode mode;
	bool fine; /* partitions come from the fine split (devices.h) */
	struct mps mps;
};

struct daemon {
	const char *runtime_dir;
	const char *state_path;
	int admin_gid; /* -1: root only */
	struct device_info devices[CUSLICE_MAX_DEVICES];
	int ndevices;
	bool has_default;
	struct policy_vram default_vram;
	struct tenant *tenants[DAEMON_MAX_TENANTS];
	int ntenants;
	char cgroup_root[4096]; /* the cgroup v2 mount; empty if none */
	struct kmod *kmod;	/* the kernel side, or NULL */
	struct {
		struct MHD_Daemon *mhd; /* NULL: /metrics off */
		uint64_t scrapes;
	} metrics;
	struct {
		char *kept[DAEMON_EVENTS_KEPT]; /* JSON lines, a ring */
		uint64_t count;
		int subscribers[DAEMON_EVENT_SUBSCRIBERS];
		int nsubscribers;
	} events;
	struct claim claims[DAEMON_MAX_CLAIMS];
	int nclaims;
	bool deny_modeset; /* tenants may not open /dev/nvidia-modeset */
	struct gpu_state gpus[CUSLICE_MAX_DEVICES];
	const char *mps_control; /* the nvidia-cuda-mps-control binary */
	uint64_t probation_ns;	 /* how long suspects of an MPS fault stay out; 0: never */
	bool move_running;	 /* running processes follow changes of their partitions */
	struct {
		char status[1200]; /* "active: …" or "off: why" */
		uint64_t denied, exits, bypasses;
	} kernel;
	int board_fd; /* the node's board (policy/board.h), handed to every process; -1: none */
	struct cuslice_board *board;
	struct {
		struct tenant *who[CUSLICE_TURN_SLOTS]; /* taking turns on the GPU, by slot */
		uint32_t share_ppm[CUSLICE_TURN_SLOTS];
		uint32_t n;	   /* 0: no turns */
		uint64_t event_ns; /* when they were last reported */
	} turns[CUSLICE_MAX_DEVICES];
};

/* A mask of every GPU the daemon serves (struct tenant's `gpus`). */
static inline uint64_t daemon_all_gpus(const struct daemon *d)
{
	return d->ndevices >= 64 ? ~0ull : (1ull << d->ndevices) - 1;
}

/* daemon-tenants.c */
struct tenant *tenants_find(struct daemon *d, const char *name);
int tenants_get(struct daemon *d, const char *name, struct tenant **ret);
void tenants_apply_quota(struct daemon *d, struct tenant *t);
void tenants_free_all(struct daemon *d);

/* daemon-sched.c: every tick, share GPU time among the active tenants. */
int sched_board_open(struct daemon *d); /* <runtime>/board, kept across restarts */
/* CLOCK_MONOTONIC, in nanoseconds: the daemon's clock. */
uint64_t daemon_now_ns(void);

void sched_tick(struct daemon *d, uint64_t now_ns);
void sched_registered(struct daemon *d, struct tenant *t, uint64_t now_ns);

/* daemon-kernel.c: device access control and exit reports in eBPF, if available. */
struct kmod;
void kernel_setup(struct daemon *d, const char *bpf_dir);
int kernel_apply(struct daemon *d, struct tenant *t);
void kernel_registered(struct daemon *d, struct tenant *t, pid_t pid);
int kernel_events_fd(const struct daemon *d);
int kernel_audit_probes(const struct daemon *d);
void kernel_audit_scan(struct daemon *d); /* every few ticks */
/* The launches of `pid` the kernel counted (audited tenants); -ENOENT: none. */
int kernel_audit_launches(struct daemon *d, const struct tenant *t, pid_t pid, uint64_t *ret);
void kernel_consume(struct daemon *d);
void kernel_close(struct daemon *d);

/* daemon-events.c: what happened, as JSON lines, kept and sent to subscribers. */
void events_emit(struct daemon *d, const char *kind, const char *tenant, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void events_subscribe(struct daemon *d, int fd);      /* takes the descriptor */
void events_watch(struct daemon *d, uint64_t now_ns); /* about once a second */
void history_sample(struct daemon *d);		      /* once a second */
json_object *history_json(const struct daemon *d, unsigned seconds);

/* daemon-metrics.c: /metrics (Prometheus text format) from the poll loop. */
struct MHD_Daemon;
int metrics_start(struct daemon *d, const char *address, char *err, size_t errlen);
int metrics_fd(const struct daemon *d); /* to poll; -1 when off */
void metrics_run(struct daemon *d);
void metrics_stop(struct daemon *d);
char *metrics_render(struct daemon *d, size_t *ret_len);

/* daemon-claims.c: quotas bound to an opaque id until a cgroup presents it. */
int claims_check(const struct daemon *d, const char *resource, json_object *gpus,
		 uint32_t *ret_amounts, char *err, size_t errlen);
int claims_new(struct daemon *d, const char *resource, const uint32_t *amounts, struct claim **ret);
/* The claims a process presents: bound to its tenant, or refused (-ENOENT,
 * -EPERM) with the reason in `why`. */
int claims_present(struct daemon *d, struct tenant *t, const struct cuslice_hello *hello,
		   size_t len, char *why, size_t whylen);
json_object *claims_json(const struct daemon *d);
int claims_load(struct daemon *d, json_object *list);

/* daemon-spatial.c: per-GPU modes, SM partitions, the MPS servers. */
void spatial_setup(struct daemon *d); /* the MPS directories, at start */
const char *spatial_mode_name(enum gpu_mode mode);
int spatial_mode_parse(const char *text, enum gpu_mode *ret);
const char *spatial_split_name(const struct daemon *d, int gpu); /* "fine", "coscheduled" */
int spatial_split_parse(const char *text, bool *ret_fine);
/* Plans every GPU's partitions from the tenants' asks and writes them to the
 * segments; -ENOSPC (nothing changed) with the reason in `err` when the asks
 * do not fit. */
int spatial_replan(struct daemon *d, char *err, size_t errlen);
/* A new tenant: its place on the GPUs that are not time-sliced. */
void spatial_apply_tenant(struct daemon *d, struct tenant *t);
/* Starts, watches and restarts MPS servers; finds faults. Every tick. */
void spatial_tick(struct daemon *d, uint64_t now_ns);
/* Whether a move of running processes is under way (since no more than a
 * second): cusliced then looks every millisecond rather than every tick, so
 * that how long it took is known to the millisecond. */
bool spatial_moving(const struct daemon *d, uint64_t now_ns);
void spatial_stop_all(struct daemon *d);
json_object *spatial_gpu_json(const struct daemon *d, int gpu);
json_object *spatial_tenant_json(const struct daemon *d, const struct tenant *t);

/* daemon-state.c */
int state_load(struct daemon *d, char *err, size_t errlen);
int state_save(struct daemon *d, char *err, size_t errlen);

/* daemon-admin.c: one JSON request in, one JSON reply out (malloc'd). */
char *admin_handle(struct daemon *d, const char *request);
bool admin_is_subscription(const char *request); /* {"op": "events"} */

/* daemon-sockets.c */
int sockets_listen(const char *path, int mode, int gid);
void sockets_serve_tenant(struct daemon *d, int listen_fd);
void sockets_serve_admin(struct daemon *d, int listen_fd);
