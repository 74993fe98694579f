/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin API: one JSON object in, one JSON object out.
 *
 *   {"op": "get-tenants"}
 *   {"op": "describe", "tenant": "/kubepods/…"}
 *   {"op": "set", "tenant": "/kubepods/…", "vram": "8GiB" | "0=20GiB,1=10GiB",
 *    "weight": 3, "limit": "40%" | "none", "priority": "high" | "normal",
 *    "gpus": "0,1" | "all", "enforce": "on" | "off", "audit": "on" | "off"}
 *   (any of vram, weight, limit, priority, gpus, enforce, audit)
 *   (and "sm": "25%" | "32" | "none", "isolated": "on" | "off")
 *   {"op": "set-gpu", "gpu": 0, "mode": "timeslice" | "spatial" | "hybrid"}
 *   {"op": "get-node"}: the GPUs (mode, SM split, MPS server) and which kernel
 *    features are active
 *   {"op": "claim", "resource": "vram" | "sm" | "gpu", "gpus": {"0": 10}}: a new
 *    claim (the device plugin's); {"op": "get-claims"}
 *   {"op": "history", "minutes": 10}: per-tenant samples, one a second
 *   {"op": "events"}: the connection stays open and carries events, one JSON
 *    object per line (daemon-events.c)
 *
 * Replies carry "ok"; a refusal says why in "error" and changes nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "daemon.h"
#include "policy/cgroup.h"
#include "policy/pace.h"
#include "policy/quota.h"

static char *reply_take(json_object *reply)
{
	char *text = strdup(json_object_to_json_string_ext(
		reply, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(reply);
	return text;
}

__attribute__((format(printf, 1, 2))) static char *refuse(const char *fmt, ...)
{
	char msg[1024];
	json_object *reply = json_object_new_object();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(reply, "ok", json_object_new_boolean(0));
	json_object_object_add(reply, "error", json_object_new_string(msg));
	return reply_take(reply);
}

/* Where the tenant takes turns on a GPU with others (daemon-sched.c), or null. */
static json_object *describe_turns(const struct daemon *d, const struct tenant *t)
{
	for (int g = 0; g < d->ndevices; g++)
		for (uint32_t i = 0; i < d->turns[g].n; i++) {
			if (d->turns[g].who[i] != t)
				continue;
			const struct cuslice_turns *turns = &d->board->turns[g];
			json_object *o = json_object_new_object();
			json_object_object_add(o, "gpu", json_object_new_int(g));
			json_object_object_add(o, "slot", json_object_new_int((int)i));
			json_object_object_add(o, "takers",
					       json_object_new_int((int)d->turns[g].n));
			json_object_object_add(
				o, "quantum_ns",
				json_object_new_int64((int64_t)__atomic_load_n(
					&turns->slots[i].quantum_ns, __ATOMIC_RELAXED)));
			json_object_object_add(o, "turns_passed",
					       json_object_new_int64((int64_t)__atomic_load_n(
						       &turns->rounds, __ATOMIC_RELAXED)));
			return o;
		}
	return NULL;
}

static json_object *tenant_json(const struct daemon *d, const struct tenant *t, bool processes)
{
	json_object *o = json_object_new_object(), *devices = json_object_new_array();
	json_object *pids = json_object_new_array(), *audit = json_object_new_array();
	int nprocs = 0;

	for (int i = 0; i < CUSLICE_MAX_PROCS; i++) {
		int32_t pid = __atomic_load_n(&t->seg->procs[i].pid, __ATOMIC_ACQUIRE);
		if (pid > 0) {
			nprocs++;
			json_object_array_add(pids, json_object_new_int(pid));
			uint64_t seen;
			if (processes && t->audit &&
			    kernel_audit_launches((struct daemon *)d, t, pid, &seen) == 0) {
				json_object *p = json_object_new_object();
				json_object_object_add(p, "pid", json_object_new_int(pid));
				json_object_object_add(p, "launches_seen_by_kernel",
						       json_object_new_int64((int64_t)seen));
				json_object_object_add(
					p, "launches_seen_by_shim",
					json_object_new_int64((int64_t)__atomic_load_n(
						&t->seg->procs[i].launches, __ATOMIC_RELAXED)));
				json_object_array_add(audit, p);
			}
		}
	}
	for (int i = 0; i < d->ndevices; i++) {
		json_object *dev = json_object_new_object();
		json_object_object_add(dev, "device", json_object_new_int(i));
		json_object_object_add(dev, "vram_quota",
				       json_object_new_int64((int64_t)__atomic_load_n(
					       &t->seg->devices[i].quota, __ATOMIC_RELAXED)));
		json_object_object_add(dev, "vram_used",
				       json_object_new_int64((int64_t)__atomic_load_n(
					       &t->seg->devices[i].reserved, __ATOMIC_RELAXED)));
		json_object_array_add(devices, dev);
	}
	const struct cuslice_sched *s = &t->seg->sched;
	json_object_object_add(o, "tenant", json_object_new_string(t->name));
	json_object_object_add(o, "configured", json_object_new_boolean(t->configured));
	json_object_object_add(o, "weight", json_object_new_int((int)t->weight));
	json_object_object_add(o, "limit_ppm", json_object_new_int((int)t->limit_ppm));
	json_object_object_add(o, "priority", json_object_new_string(t->high ? "high" : "normal"));
	/* launches it may keep on the GPU (0: any); a latency-critical tenant's
	 * word on the board, where the others see its requests (0: none) */
	uint32_t cap = __atomic_load_n(&s->max_inflight, __ATOMIC_RELAXED);
	json_object_object_add(o, "max_inflight",
			       json_object_new_int(cap == CUSLICE_INFLIGHT_HIGH ? 0 : (int)cap));
	json_object_object_add(
		o, "board_slot",
		json_object_new_int(
			CUSLICE_SEGMENT_HAS_HIGH_SLOT(t->seg)
				? (int)__atomic_load_n(&t->seg->high_slot, __ATOMIC_RELAXED)
				: 0));
	json_object_object_add(
		o, "share_ppm",
		json_object_new_int((int)__atomic_load_n(&s->share_ppm, __ATOMIC_RELAXED)));
	json_object_object_add(o, "turns", describe_turns(d, t));
	json_object_object_add(o, "launches", json_object_new_int64((int64_t)t->seen_launches));
	json_object_object_add(
		o, "gpu_time_admitted_ns",
		json_object_new_int64((int64_t)__atomic_load_n(&s->admitted_ns, __ATOMIC_RELAXED)));
	json_object_object_add(o, "throttled_ns",
			       json_object_new_int64((int64_t)__atomic_load_n(&s->throttled_ns,
									      __ATOMIC_RELAXED)));
	json_object_object_add(o, "processes", json_object_new_int(nprocs));
	json_object *allowed = json_object_new_array();
	for (int i = 0; i < d->ndevices; i++)
		if (!t->gpus_set || (t->gpus >> i & 1))
			json_object_array_add(allowed, json_object_new_int(i));
	json_object_object_add(o, "gpus", allowed);
	json_object_object_add(o, "enforce", json_object_new_boolean(t->enforce));
	json_object_object_add(o, "audit", json_object_new_boolean(t->audit));
	json_object_object_add(o, "bypasses", json_object_new_int64((int64_t)t->bypasses));
	json_object_object_add(o, "sm", spatial_tenant_json(d, t));
	json_object_object_add(o, "devices", devices);
	if (processes) {
		json_object_object_add(o, "pids", pids);
		json_object_object_add(o, "audit_processes", audit);
	} else {
		json_object_put(pids);
		json_object_put(audit);
	}
	return o;
}

static char *get_tenants(struct daemon *d)
{
	json_object *reply = json_object_new_object(), *list = json_object_new_array();

	for (int i = 0; i < d->ntenants; i++)
		json_object_array_add(list, tenant_json(d, d->tenants[i], false));
	json_object_object_add(reply, "ok", json_object_new_boolean(1));
	json_object_object_add(reply, "tenants", list);
	return reply_take(reply);
}

static char *get_node(struct daemon *d)
{
	json_object *reply = json_object_new_object(), *kernel = json_object_new_object();
	json_object *gpus = json_object_new_array();

	for (int i = 0; i < d->ndevices; i++) {
		json_object *g = json_object_new_object();
		json_object_object_add(g, "gpu", json_object_new_int(i));
		json_object_object_add(g, "vram_bytes",
				       json_object_new_int64((int64_t)d->devices[i].total));
		json_object_object_add(g, "minor", json_object_new_int((int)d->devices[i].minor));
		json_object *spatial = spatial_gpu_json(d, i);
		json_object_object_foreach(spatial, key, value)
		{
			json_object_object_add(g, key, json_object_get(value));
		}
		json_object_put(spatial);
		json_object_array_add(gpus, g);
	}
	bool active = strncmp(d->kernel.status, "active", 6) == 0;
	json_object_object_add(kernel, "active", json_object_new_boolean(active));
	json_object_object_add(kernel, "status", json_object_new_string(d->kernel.status));
	json_object_object_add(kernel, "device_access_control", json_object_new_boolean(active));
	json_object_object_add(kernel, "enforce_mode", json_object_new_boolean(active));
	json_object_object_add(kernel, "exit_reports", json_object_new_boolean(active));
	json_object_object_add(kernel, "denied_opens",
			       json_object_new_int64((int64_t)d->kernel.denied));
	json_object_object_add(kernel, "exits_reported",
			       json_object_new_int64((int64_t)d->kernel.exits));
	json_object_object_add(kernel, "audit_probes", json_object_new_int(kernel_audit_probes(d)));
	json_object_object_add(kernel, "bypasses_found",
			       json_object_new_int64((int64_t)d->kernel.bypasses));
	json_object_object_add(reply, "ok", json_object_new_boolean(1));
	json_object_object_add(reply, "cgroup2", json_object_new_string(d->cgroup_root));
	json_object_object_add(reply, "gpus", gpus);
	json_object_object_add(reply, "kernel", kernel);
	return reply_take(reply);
}

static const char *field(json_object *req, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(req, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

static char *claim(struct daemon *d, json_object *req)
{
	json_object *gpus = NULL, *reply;
	uint32_t amounts[CUSLICE_MAX_DEVICES];
	struct claim *c;
	char err[512];

	json_object_object_get_ex(req, "gpus", &gpus);
	if (claims_check(d, field(req, "resource"), gpus, amounts, err, sizeof(err)) < 0)
		return refuse("%s", err);
	int r = claims_new(d, field(req, "resource"), amounts, &c);
	if (r < 0)
		return refuse("cannot make a claim: %s", strerror(-r));
	if (state_save(d, err, sizeof(err)) < 0) {
		d->nclaims--;
		return refuse("%s; no claim made", err);
	}
	reply = json_object_new_object();
	json_object_object_add(reply, "ok", json_object_new_boolean(1));
	json_object_object_add(reply, "claim", json_object_new_string(c->id));
	return reply_take(reply);
}

static char *history(struct daemon *d, json_object *req)
{
	json_object *minutes, *reply;
	int64_t m = 10;

	if (json_object_object_get_ex(req, "minutes", &minutes)) {
		m = json_object_is_type(minutes, json_type_int) ? json_object_get_int64(minutes)
								: -1;
		if (m < 1 || m > DAEMON_HISTORY / 60)
			return refuse("minutes: give a whole number from 1 to %d",
				      DAEMON_HISTORY / 60);
	}
	reply = json_object_new_object();
	json_object_object_add(reply, "ok", json_object_new_boolean(1));
	json_object_object_add(reply, "tenants", history_json(d, (unsigned)m * 60));
	return reply_take(reply);
}

static char *get_claims(struct daemon *d)
{
	json_object *reply = json_object_new_object();

	json_object_object_add(reply, "ok", json_object_new_boolean(1));
	json_object_object_add(reply, "claims", claims_json(d));
	return reply_take(reply);
}

static char *describe(struct daemon *d, const char *name)
{
	struct tenant *t = name ? tenants_find(d, name) : NULL;

	if (!t)
		return refuse("unknown tenant \"%s\"; `cuslice get tenants` lists them",
			      name ? name : "");
	json_object *reply = json_object_new_object();
	json_object_object_add(reply, "ok", json_object_new_boolean(1));
	json_object_object_add(reply, "tenant", tenant_json(d, t, true));
	return reply_take(reply);
}

struct set_request {
	const char *vram, *limit, *priority, *gpus, *enforce, *audit, *sm, *isolated;
	int64_t weight; /* 0: not given */
	bool has_weight;
};

/* Checks every value before anything changes. */
/* "all", or indexes such as "0,2": a mask of the daemon's GPUs. */
static int parse_gpus(const struct daemon *d, const char *text, uint64_t *ret)
{
	uint64_t mask = 0;

	if (strcmp(text, "all") == 0) {
		*ret = daemon_all_gpus(d);
		return 0;
	}
	for (const char *p = text;;) {
		char *end;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		unsigned long i = strtoul(p, &end, 10);
		if (i >= (unsigned long)d->ndevices || (*end && *end != ','))
			return -EINVAL;
		mask |= 1ull << i;
		if (!*end)
			break;
		p = end + 1;
	}
	*ret = mask;
	return 0;
}

static char *set_check(struct daemon *d, const char *name, const struct set_request *q,
		       struct policy_vram *vram, uint32_t *limit_ppm, uint64_t *gpus)
{
	uint64_t totals[CUSLICE_MAX_DEVICES];
	char err[768];

	if (!name || !policy_tenant_name_valid(name))
		return refuse("\"%s\" is not a tenant: tenants are cgroup paths such as "
			      "/kubepods/pod1",
			      name ? name : "");
	if (!q->vram && !q->limit && !q->has_weight && !q->priority && !q->gpus && !q->enforce &&
	    !q->audit && !q->sm && !q->isolated)
		return refuse(
			"nothing to set for \"%s\"; give vram, weight, limit, priority, gpus, "
			"enforce, audit, sm or isolated",
			name);
	if (q->isolated && strcmp(q->isolated, "on") != 0 && strcmp(q->isolated, "off") != 0)
		return refuse("isolated \"%s\": use on (never shares an MPS server: stays "
			      "time-sliced) or off",
			      q->isolated);
	struct policy_sm_ask ask;
	if (q->sm && strcmp(q->sm, "none") != 0 && policy_sm_parse(q->sm, &ask) < 0)
		return refuse("sm \"%s\": give a number of SMs such as 32, a share such as 25%%, "
			      "or none",
			      q->sm);
	if (q->audit && strcmp(q->audit, "on") != 0 && strcmp(q->audit, "off") != 0)
		return refuse("audit \"%s\": use on (the kernel counts the tenant's calls into the "
			      "driver) or off",
			      q->audit);
	if (q->enforce && strcmp(q->enforce, "on") != 0 && strcmp(q->enforce, "off") != 0)
		return refuse("enforce \"%s\": use on (only processes under the shim may open the "
			      "GPUs) or off",
			      q->enforce);
	if (q->gpus && parse_gpus(d, q->gpus, gpus) < 0)
		return refuse("gpus \"%s\": use all, or GPU indexes from 0 to %d separated by "
			      "commas, such as 0,1",
			      q->gpus, d->ndevices - 1);
	if (q->priority && strcmp(q->priority, "high") != 0 && strcmp(q->priority, "normal") != 0)
		return refuse("priority \"%s\": use high (latency-critical) or normal",
			      q->priority);
	for (int i = 0; i < d->ndevices; i++)
		totals[i] = d->devices[i].total;
	if (q->vram &&
	    policy_vram_parse(q->vram, totals, (uint32_t)d->ndevices, vram, err, sizeof(err)) < 0)
		return refuse("vram %s", err);
	if (q->has_weight && (q->weight < 1 || q->weight > 10000))
		return refuse("weight %lld: use a whole number from 1 to 10000",
			      (long long)q->weight);
	*limit_ppm = 0;
	if (q->limit && strcmp(q->limit, "none") != 0 && policy_share_ppm(q->limit, limit_ppm) < 0)
		return refuse("limit \"%s\": use a percentage of GPU time such as 30%% or 12.5%%, "
			      "or none",
			      q->limit);
	return NULL;
}

static char *set(struct daemon *d, const char *name, const struct set_request *q)
{
	struct policy_vram vram;
	uint32_t limit_ppm;
	uint64_t gpus = 0;
	char err[768];
	struct tenant *t;
	char *refused = set_check(d, name, q, &vram, &limit_ppm, &gpus);

	if (refused)
		return refused;
	int r = tenants_get(d, name, &t);
	if (r < 0)
		return refuse("tenant \"%s\": %s", name, strerror(-r));
	struct tenant was = *t;
	if (q->vram) {
		t->configured = true;
		t->vram = vram;
	}
	if (q->has_weight)
		t->weight = (uint32_t)q->weight;
	if (q->limit) {
		t->limit_ppm = limit_ppm;
		t->sm_claimed = false; /* the admin's cap now, whatever a claim said */
	}
	if (q->priority)
		t->high = strcmp(q->priority, "high") == 0;
	if (q->gpus) {
		t->gpus = gpus;
		t->gpus_set = strcmp(q->gpus, "all") != 0;
	}
	if (q->enforce)
		t->enforce = strcmp(q->enforce, "on") == 0;
	if (q->audit)
		t->audit = strcmp(q->audit, "on") == 0;
	if (q->isolated) {
		t->isolated = strcmp(q->isolated, "on") == 0;
		t->probation = false; /* the admin decided: on or off, no probation */
	}
	if (q->sm) {
		t->has_sm = strcmp(q->sm, "none") != 0;
		if (t->has_sm)
			policy_sm_parse(q->sm, &t->sm);
	}
	/* SMs: planned with the change; an ask that does not fit changes nothing */
	static struct policy_sm_grant grants[DAEMON_MAX_TENANTS][CUSLICE_MAX_DEVICES];
	for (int i = 0; i < d->ntenants; i++)
		memcpy(grants[i], d->tenants[i]->grants, sizeof(grants[i]));
	if (spatial_replan(d, err, sizeof(err)) < 0) {
		*t = was;
		return refuse("sm: %s; nothing changed", err);
	}
	if (state_save(d, err, sizeof(err)) < 0) {
		*t = was;
		for (int i = 0; i < d->ntenants; i++)
			memcpy(d->tenants[i]->grants, grants[i], sizeof(grants[i]));
		spatial_replan(d, err, sizeof(err));
		return refuse("%s; nothing changed", err);
	}
	tenants_apply_quota(d, t);
	kernel_apply(d, t);
	return describe(d, name);
}

static char *set_gpu(struct daemon *d, json_object *req)
{
	json_object *gpu;
	enum gpu_mode mode;
	char err[768];
	int g = json_object_object_get_ex(req, "gpu", &gpu) &&
				json_object_is_type(gpu, json_type_int)
			? json_object_get_int(gpu)
			: -1;

	if (g < 0 || g >= d->ndevices)
		return refuse("gpu: give a GPU index from 0 to %d", d->ndevices - 1);
	const char *split = field(req, "sm_split");
	bool fine = d->gpus[g].fine;
	if (!field(req, "mode") && !split)
		return refuse("set-gpu: give a mode, an sm_split, or both");
	if (split && spatial_split_parse(split, &fine) < 0)
		return refuse("sm_split \"%s\": use coscheduled (the driver's default groups: %u "
			      "of %u SMs on GPU %d) or fine (groups that ignore the SMs' "
			      "co-scheduling, for finer partitions without large thread-block "
			      "clusters: %u of %u)",
			      split, d->devices[g].sm_groups, d->devices[g].sm_group, g,
			      d->devices[g].sm_fine_groups, d->devices[g].sm_fine_group);
	if (fine && !d->devices[g].sm_fine_groups)
		return refuse("sm_split fine: GPU %d's driver has no split finer than its groups "
			      "of %u SMs",
			      g, d->devices[g].sm_group);
	mode = d->gpus[g].mode;
	if (field(req, "mode") && spatial_mode_parse(field(req, "mode"), &mode) < 0)
		return refuse(
			"mode \"%s\": use timeslice (tenants take turns, by GPU time), "
			"spatial (each on SMs of its own, under MPS) or hybrid (high-priority "
			"tenants on SMs of their own, the others share the rest)",
			field(req, "mode") ? field(req, "mode") : "");
	/* a partition names groups of the split in force: they change meaning */
	if (fine != d->gpus[g].fine && d->gpus[g].mode != GPU_TIMESLICE && mode != GPU_TIMESLICE)
		return refuse("sm_split %s: GPU %d is in %s mode, and running tenants hold groups "
			      "of the split in force; set it to timeslice first; nothing changed",
			      split, g, spatial_mode_name(d->gpus[g].mode));
	if (mode != GPU_TIMESLICE && access(d->mps_control, X_OK) != 0)
		return refuse("mode %s needs the MPS control daemon, and %s cannot be run (%s); "
			      "give cusliced --mps-control PATH",
			      spatial_mode_name(mode), d->mps_control, strerror(errno));
	enum gpu_mode was = d->gpus[g].mode;
	bool was_fine = d->gpus[g].fine;
	d->gpus[g].mode = mode;
	d->gpus[g].fine = fine;
	if (spatial_replan(d, err, sizeof(err)) < 0) {
		d->gpus[g].mode = was;
		d->gpus[g].fine = was_fine;
		spatial_replan(d, err, sizeof(err));
		return refuse("mode %s, %s split: %s; nothing changed", spatial_mode_name(mode),
			      fine ? "fine" : "coscheduled", err);
	}
	if (state_save(d, err, sizeof(err)) < 0) {
		d->gpus[g].mode = was;
		d->gpus[g].fine = was_fine;
		spatial_replan(d, err, sizeof(err));
		return refuse("%s; nothing changed", err);
	}
	if (mode != was)
		events_emit(d, "gpu-mode", "", "GPU %d: %s (was %s)", g, spatial_mode_name(mode),
			    spatial_mode_name(was));
	if (fine != was_fine)
		events_emit(d, "gpu-split", "", "GPU %d: partitions from the %s split", g,
			    spatial_split_name(d, g));
	spatial_tick(d, daemon_now_ns());
	return get_node(d); /* with the MPS server started, or stopped */
}

char *admin_handle(struct daemon *d, const char *request)
{
	json_object *req = json_tokener_parse(request);
	const char *op = req ? field(req, "op") : NULL;
	char *reply;

	if (!req || !json_object_is_type(req, json_type_object))
		reply = refuse("the request is not a JSON object");
	else if (!op)
		reply = refuse("the request has no \"op\"; ops: get-tenants, get-node, get-claims, "
			       "claim, describe, set, set-gpu");
	else if (strcmp(op, "get-tenants") == 0)
		reply = get_tenants(d);
	else if (strcmp(op, "get-node") == 0)
		reply = get_node(d);
	else if (strcmp(op, "claim") == 0)
		reply = claim(d, req);
	else if (strcmp(op, "get-claims") == 0)
		reply = get_claims(d);
	else if (strcmp(op, "history") == 0)
		reply = history(d, req);
	else if (strcmp(op, "set-gpu") == 0)
		reply = set_gpu(d, req);
	else if (strcmp(op, "describe") == 0)
		reply = describe(d, field(req, "tenant"));
	else if (strcmp(op, "set") == 0) {
		json_object *w;
		struct set_request q = {.vram = field(req, "vram"),
					.limit = field(req, "limit"),
					.priority = field(req, "priority"),
					.gpus = field(req, "gpus"),
					.enforce = field(req, "enforce"),
					.audit = field(req, "audit"),
					.sm = field(req, "sm"),
					.isolated = field(req, "isolated")};
		if (json_object_object_get_ex(req, "weight", &w)) {
			q.has_weight = true;
			q.weight = json_object_is_type(w, json_type_int) ? json_object_get_int64(w)
									 : -1;
		}
		reply = set(d, field(req, "tenant"), &q);
	} else
		reply = refuse("unknown op \"%s\"; ops: get-tenants, get-node, get-claims, claim, "
			       "describe, set, set-gpu",
			       op);
	json_object_put(req);
	return reply;
}

bool admin_is_subscription(const char *request)
{
	json_object *req = json_tokener_parse(request);
	const char *op =
		req && json_object_is_type(req, json_type_object) ? field(req, "op") : NULL;
	bool events = op && strcmp(op, "events") == 0;

	json_object_put(req);
	return events;
}
