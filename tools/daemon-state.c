/* SPDX-License-Identifier: Apache-2.0 */
/* The admin's quotas, kept across daemon restarts in one JSON file. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "daemon.h"
#include "policy/cgroup.h"

static int load_tenant(struct daemon *d, const char *name, json_object *entry, char *err,
		       size_t errlen)
{
	json_object *vram = NULL, *weight, *limit, *priority;
	struct tenant *t;
	int r;

	bool has_vram = json_object_object_get_ex(entry, "vram", &vram);
	if (!policy_tenant_name_valid(name) ||
	    (has_vram && (!json_object_is_type(vram, json_type_array) ||
			  json_object_array_length(vram) != (size_t)d->ndevices))) {
		snprintf(err, errlen, "%s: tenant \"%s\" is malformed or made for another machine",
			 d->state_path, name);
		return -EINVAL;
	}
	if ((r = tenants_get(d, name, &t)) < 0) {
		snprintf(err, errlen, "tenant \"%s\": cannot open its segment: %s", name,
			 strerror(-r));
		return r;
	}
	t->configured = has_vram;
	t->vram.ndevices = (uint32_t)d->ndevices;
	for (int i = 0; has_vram && i < d->ndevices; i++)
		t->vram.bytes[i] =
			(uint64_t)json_object_get_int64(json_object_array_get_idx(vram, i));
	if (json_object_object_get_ex(entry, "weight", &weight))
		t->weight = (uint32_t)json_object_get_int(weight);
	if (json_object_object_get_ex(entry, "limit_ppm", &limit))
		t->limit_ppm = (uint32_t)json_object_get_int(limit);
	if (t->weight < 1)
		t->weight = 1;
	if (json_object_object_get_ex(entry, "priority", &priority))
		t->high = strcmp(json_object_get_string(priority), "high") == 0;
	json_object *gpus, *enforce;
	if (json_object_object_get_ex(entry, "gpus", &gpus)) {
		t->gpus_set = true;
		t->gpus = (uint64_t)json_object_get_int64(gpus);
	}
	if (json_object_object_get_ex(entry, "enforce", &enforce))
		t->enforce = json_object_get_boolean(enforce);
	json_object *audit;
	if (json_object_object_get_ex(entry, "audit", &audit))
		t->audit = json_object_get_boolean(audit);
	json_object *sm, *isolated, *grants;
	if (json_object_object_get_ex(entry, "sm", &sm) &&
	    policy_sm_parse(json_object_get_string(sm), &t->sm) == 0)
		t->has_sm = true;
	if (json_object_object_get_ex(entry, "isolated", &isolated))
		t->isolated = json_object_get_boolean(isolated);
	json_object *claimed;
	if (json_object_object_get_ex(entry, "sm_claimed", &claimed))
		t->sm_claimed = json_object_get_boolean(claimed);
	/* grants in force: kept by the next plan, so running processes keep their SMs */
	if (json_object_object_get_ex(entry, "grants", &grants) &&
	    json_object_is_type(grants, json_type_array))
		for (size_t i = 0; i < json_object_array_length(grants); i++) {
			json_object *e = json_object_array_get_idx(grants, i), *v;
			int g = json_object_object_get_ex(e, "gpu", &v) ? json_object_get_int(v)
									: -1;
			if (g < 0 || g >= d->ndevices)
				continue;
			if (json_object_object_get_ex(e, "groups", &v))
				t->grants[g].groups = (uint64_t)json_object_get_int64(v);
			if (json_object_object_get_ex(e, "remainder", &v))
				t->grants[g].remainder = json_object_get_boolean(v);
			if (json_object_object_get_ex(e, "sms", &v))
				t->grants[g].sms = (uint32_t)json_object_get_int(v);
		}
	tenants_apply_quota(d, t);
	return 0;
}

static int load_gpus(struct daemon *d, json_object *gpus, char *err, size_t errlen)
{
	for (size_t i = 0;
	     json_object_is_type(gpus, json_type_array) && i < json_object_array_length(gpus);
	     i++) {
		json_object *e = json_object_array_get_idx(gpus, i), *g, *mode, *split = NULL;
		enum gpu_mode m;
		bool fine = false;
		if (!json_object_object_get_ex(e, "gpu", &g) ||
		    !json_object_object_get_ex(e, "mode", &mode) ||
		    spatial_mode_parse(json_object_get_string(mode), &m) < 0 ||
		    (json_object_object_get_ex(e, "sm_split", &split) &&
		     spatial_split_parse(json_object_get_string(split), &fine) < 0) ||
		    json_object_get_int(g) < 0 || json_object_get_int(g) >= d->ndevices) {
			snprintf(err, errlen,
				 "%s: its GPU modes are malformed or made for another "
				 "machine",
				 d->state_path);
			return -EINVAL;
		}
		d->gpus[json_object_get_int(g)].mode = m;
		/* a machine whose driver lost the fine split gets the default one */
		d->gpus[json_object_get_int(g)].fine =
			fine && d->devices[json_object_get_int(g)].sm_fine_groups;
	}
	return 0;
}

int state_load(struct daemon *d, char *err, size_t errlen)
{
	json_object *root, *tenants;

	if (access(d->state_path, F_OK) != 0)
		return 0; /* first start */
	root = json_object_from_file(d->state_path);
	if (!root || !json_object_object_get_ex(root, "tenants", &tenants)) {
		snprintf(err, errlen, "%s: not a cusliced state file (%s)", d->state_path,
			 root ? "no \"tenants\"" : json_util_get_last_err());
		json_object_put(root);
		return -EINVAL;
	}
	int r = 0;
	json_object_object_foreach(tenants, name, entry)
	{
		if (r == 0)
			r = load_tenant(d, name, entry, err, errlen);
	}
	json_object *gpus;
	if (r == 0 && json_object_object_get_ex(root, "gpus", &gpus))
		r = load_gpus(d, gpus, err, errlen);
	json_object *claims;
	if (r == 0 && json_object_object_get_ex(root, "claims", &claims) &&
	    (!json_object_is_type(claims, json_type_array) || claims_load(d, claims) < 0)) {
		snprintf(err, errlen, "%s: its claims are malformed or made for another machine",
			 d->state_path);
		r = -EINVAL;
	}
	json_object_put(root);
	return r;
}

static json_object *tenant_state(const struct daemon *d, const struct tenant *t)
{
	json_object *entry = json_object_new_object();

	if (t->configured) {
		json_object *vram = json_object_new_array();
		for (int k = 0; k < d->ndevices; k++)
			json_object_array_add(vram,
					      json_object_new_int64((int64_t)t->vram.bytes[k]));
		json_object_object_add(entry, "vram", vram);
	}
	json_object_object_add(entry, "weight", json_object_new_int((int)t->weight));
	json_object_object_add(entry, "limit_ppm", json_object_new_int((int)t->limit_ppm));
	json_object_object_add(entry, "priority",
			       json_object_new_string(t->high ? "high" : "normal"));
	if (t->gpus_set)
		json_object_object_add(entry, "gpus", json_object_new_int64((int64_t)t->gpus));
	if (t->enforce)
		json_object_object_add(entry, "enforce", json_object_new_boolean(1));
	if (t->audit)
		json_object_object_add(entry, "audit", json_object_new_boolean(1));
	if (t->has_sm) {
		char ask[32];
		if (t->sm.sms)
			snprintf(ask, sizeof(ask), "%u", t->sm.sms);
		else
			snprintf(ask, sizeof(ask), "%u.%04u%%", t->sm.ppm / 10000,
				 t->sm.ppm % 10000);
		json_object_object_add(entry, "sm", json_object_new_string(ask));
	}
	if (t->isolated)
		json_object_object_add(entry, "isolated", json_object_new_boolean(1));
	if (t->sm_claimed)
		json_object_object_add(entry, "sm_claimed", json_object_new_boolean(1));
	json_object *grants = json_object_new_array();
	for (int g = 0; g < d->ndevices; g++) {
		if (!t->grants[g].sms)
			continue;
		json_object *e = json_object_new_object();
		json_object_object_add(e, "gpu", json_object_new_int(g));
		json_object_object_add(e, "groups",
				       json_object_new_int64((int64_t)t->grants[g].groups));
		json_object_object_add(e, "remainder",
				       json_object_new_boolean(t->grants[g].remainder));
		json_object_object_add(e, "sms", json_object_new_int((int)t->grants[g].sms));
		json_object_array_add(grants, e);
	}
	if (json_object_array_length(grants))
		json_object_object_add(entry, "grants", grants);
	else
		json_object_put(grants);
	return entry;
}

/* Only what the admin set: tenants left at the defaults are not kept. */
static json_object *state_json(const struct daemon *d)
{
	json_object *root = json_object_new_object(), *tenants = json_object_new_object();

	json_object_object_add(root, "version", json_object_new_int(1));
	for (int i = 0; i < d->ntenants; i++) {
		const struct tenant *t = d->tenants[i];
		if (t->configured || t->weight != 1 || t->limit_ppm || t->high || t->gpus_set ||
		    t->enforce || t->audit || t->has_sm || t->isolated)
			json_object_object_add(tenants, t->name, tenant_state(d, t));
	}
	json_object_object_add(root, "tenants", tenants);
	json_object *gpus = json_object_new_array();
	for (int g = 0; g < d->ndevices; g++) {
		if (d->gpus[g].mode == GPU_TIMESLICE && !d->gpus[g].fine)
			continue;
		json_object *e = json_object_new_object();
		json_object_object_add(e, "gpu", json_object_new_int(g));
		json_object_object_add(e, "mode",
				       json_object_new_string(spatial_mode_name(d->gpus[g].mode)));
		json_object_object_add(e, "sm_split",
				       json_object_new_string(spatial_split_name(d, g)));
		json_object_array_add(gpus, e);
	}
	json_object_object_add(root, "gpus", gpus);
	if (d->nclaims)
		json_object_object_add(root, "claims", claims_json(d));
	return root;
}

/* Written to a temporary file, synced, then renamed over the old one: a
 * crash leaves either the old state or the new, never half of one. */
int state_save(struct daemon *d, char *err, size_t errlen)
{
	char tmp[4096];
	json_object *root = state_json(d);
	const char *text = json_object_to_json_string_ext(
		root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	int r = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", d->state_path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(text);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    fsync(fd) < 0 || rename(tmp, d->state_path) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot write %s: %s", d->state_path, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	json_object_put(root);
	return r;
}
