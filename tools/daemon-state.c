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
	tenants_apply_quota(d, t);
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
		    t->enforce || t->audit)
			json_object_object_add(tenants, t->name, tenant_state(d, t));
	}
	json_object_object_add(root, "tenants", tenants);
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
