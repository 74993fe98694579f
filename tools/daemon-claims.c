/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Claims: quotas the device plugin asked for on a container's behalf, bound
 * by an opaque id. A claim binds to the cgroup of the first process that
 * presents it (through its shim, from a file mounted read-only into its
 * container) and is refused from any other cgroup; what it grants becomes
 * that tenant's quota. Quotas never travel in anything the tenant can write.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <json-c/json.h>

#include "daemon.h"

#define GiB (1ull << 30)

static const char *const resources[] = {"vram", "sm", "gpu"};

static struct claim *claim_find(struct daemon *d, const char *id)
{
	for (int i = 0; i < d->nclaims; i++)
		if (strcmp(d->claims[i].id, id) == 0)
			return &d->claims[i];
	return NULL;
}

static bool resource_known(const char *r)
{
	for (size_t i = 0; i < sizeof(resources) / sizeof(*resources); i++)
		if (strcmp(r, resources[i]) == 0)
			return true;
	return false;
}

/* The most of `resource` one GPU has: GiB of its memory, percent, one GPU. */
static uint32_t resource_max(const struct daemon *d, const char *resource, int gpu)
{
	if (strcmp(resource, "vram") == 0)
		return (uint32_t)(d->devices[gpu].total / GiB);
	return strcmp(resource, "sm") == 0 ? 100 : 1;
}

int claims_check(const struct daemon *d, const char *resource, json_object *gpus,
		 uint32_t *ret_amounts, char *err, size_t errlen)
{
	bool any = false;

	if (!resource || !resource_known(resource)) {
		snprintf(err, errlen, "resource \"%s\": use vram, sm or gpu",
			 resource ? resource : "");
		return -EINVAL;
	}
	if (!gpus || !json_object_is_type(gpus, json_type_object)) {
		snprintf(err, errlen,
			 "gpus: give an object of GPU index to amount, such as "
			 "{\"0\": 10}");
		return -EINVAL;
	}
	memset(ret_amounts, 0, CUSLICE_MAX_DEVICES * sizeof(*ret_amounts));
	json_object_object_foreach(gpus, key, value)
	{
		char *end;
		long g = strtol(key, &end, 10);
		int64_t n = json_object_get_int64(value);
		if (*end || g < 0 || g >= d->ndevices) {
			snprintf(err, errlen, "GPU \"%s\": this node has GPUs 0 to %d", key,
				 d->ndevices - 1);
			return -ENODEV;
		}
		if (!json_object_is_type(value, json_type_int) || n < 1 ||
		    n > resource_max(d, resource, (int)g)) {
			snprintf(err, errlen, "%s on GPU %ld: %lld is not from 1 to %u", resource,
				 g, (long long)n, resource_max(d, resource, (int)g));
			return -EINVAL;
		}
		ret_amounts[g] = (uint32_t)n;
		any = true;
	}
	if (!any) {
		snprintf(err, errlen, "gpus: the claim names no GPU");
		return -EINVAL;
	}
	return 0;
}

int claims_new(struct daemon *d, const char *resource, const uint32_t *amounts, struct claim **ret)
{
	uint8_t bytes[12];

	if (d->nclaims == DAEMON_MAX_CLAIMS)
		return -EUSERS;
	if (getrandom(bytes, sizeof(bytes), 0) != sizeof(bytes))
		return -EIO;
	struct claim *c = &d->claims[d->nclaims++];
	*c = (struct claim){0};
	int n = snprintf(c->id, sizeof(c->id), "claim-");
	for (size_t i = 0; i < sizeof(bytes); i++)
		n += snprintf(c->id + n, sizeof(c->id) - (size_t)n, "%02x", bytes[i]);
	snprintf(c->resource, sizeof(c->resource), "%s", resource);
	memcpy(c->amounts, amounts, sizeof(c->amounts));
	*ret = c;
	return 0;
}

/* What a claim grants becomes the tenant's quota. */
static void apply(struct daemon *d, struct tenant *t, const struct claim *c)
{
	for (int g = 0; g < d->ndevices; g++) {
		if (!c->amounts[g])
			continue;
		if (strcmp(c->resource, "vram") == 0) {
			if (!t->configured) {
				t->configured = true;
				memset(&t->vram, 0, sizeof(t->vram));
				t->vram.ndevices = (uint32_t)d->ndevices;
			}
			t->vram.bytes[g] = (uint64_t)c->amounts[g] * GiB;
		} else if (strcmp(c->resource, "sm") == 0) {
			/* time-sliced: a share of GPU time; spatial, or hybrid for a
			 * high-priority tenant: SMs of its own, and then no cap */
			t->limit_ppm = c->amounts[g] * 10000;
			t->sm = (struct policy_sm_ask){.ppm = c->amounts[g] * 10000};
			t->has_sm = t->sm_claimed = true;
		} else {
			t->gpus = t->gpus_set ? t->gpus | 1ull << g : 1ull << g;
			t->gpus_set = true;
		}
	}
	tenants_apply_quota(d, t);
	kernel_apply(d, t);
	char err[512];
	if (strcmp(c->resource, "sm") == 0 && spatial_replan(d, err, sizeof(err)) < 0) {
		t->has_sm = false; /* it shares the groups left instead */
		spatial_replan(d, err, sizeof(err));
		fprintf(stderr, "cusliced: claim %s: no SMs of its own for %s: %s\n", c->id,
			t->name, err);
		events_emit(d, "claim-sm-unplaced", t->name,
			    "claim %s: %s; the tenant shares the groups nobody holds", c->id, err);
	}
}

int claims_present(struct daemon *d, struct tenant *t, const struct cuslice_hello *hello,
		   size_t len, char *why, size_t whylen)
{
	size_t have = len < sizeof(*hello) ? len : sizeof(*hello);
	bool changed = false;

	for (int i = 0; i < CUSLICE_MAX_CLAIMS; i++) {
		if (offsetof(struct cuslice_hello, claims[i + 1]) > have)
			break;
		char id[CUSLICE_CLAIM_MAX];
		memcpy(id, hello->claims[i], sizeof(id));
		id[sizeof(id) - 1] = '\0';
		if (!id[0])
			continue;
		struct claim *c = claim_find(d, id);
		if (!c) {
			snprintf(why, whylen, "claim %s is unknown to cusliced", id);
			return -ENOENT;
		}
		if (c->tenant[0] && strcmp(c->tenant, t->name) != 0) {
			snprintf(why, whylen, "claim %s belongs to another cgroup", id);
			fprintf(stderr, "cusliced: refused claim %s from %s: it is bound to %s\n",
				id, t->name, c->tenant);
			return -EPERM;
		}
		if (!c->tenant[0]) {
			snprintf(c->tenant, sizeof(c->tenant), "%s", t->name);
			apply(d, t, c);
			changed = true;
			fprintf(stderr, "cusliced: claim %s (%s) bound to %s\n", id, c->resource,
				t->name);
			events_emit(d, "claim-bound", t->name, "claim %s (%s) bound", id,
				    c->resource);
		}
	}
	if (changed) {
		char err[512];
		if (state_save(d, err, sizeof(err)) < 0)
			fprintf(stderr, "cusliced: %s\n", err);
	}
	return 0;
}

json_object *claims_json(const struct daemon *d)
{
	json_object *list = json_object_new_array();

	for (int i = 0; i < d->nclaims; i++) {
		const struct claim *c = &d->claims[i];
		json_object *o = json_object_new_object(), *gpus = json_object_new_object();
		json_object_object_add(o, "claim", json_object_new_string(c->id));
		json_object_object_add(o, "resource", json_object_new_string(c->resource));
		for (int g = 0; g < d->ndevices; g++)
			if (c->amounts[g]) {
				char key[16];
				snprintf(key, sizeof(key), "%d", g);
				json_object_object_add(gpus, key,
						       json_object_new_int((int)c->amounts[g]));
			}
		json_object_object_add(o, "gpus", gpus);
		json_object_object_add(o, "tenant", json_object_new_string(c->tenant));
		json_object_array_add(list, o);
	}
	return list;
}

int claims_load(struct daemon *d, json_object *list)
{
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *o = json_object_array_get_idx(list, i), *id, *resource, *gpus, *tenant;
		uint32_t amounts[CUSLICE_MAX_DEVICES];
		char err[256];
		struct claim *c;
		if (!json_object_object_get_ex(o, "claim", &id) ||
		    !json_object_object_get_ex(o, "resource", &resource) ||
		    !json_object_object_get_ex(o, "gpus", &gpus) ||
		    claims_check(d, json_object_get_string(resource), gpus, amounts, err,
				 sizeof(err)) < 0 ||
		    claims_new(d, json_object_get_string(resource), amounts, &c) < 0)
			return -EINVAL;
		snprintf(c->id, sizeof(c->id), "%s", json_object_get_string(id));
		if (json_object_object_get_ex(o, "tenant", &tenant))
			snprintf(c->tenant, sizeof(c->tenant), "%s",
				 json_object_get_string(tenant));
	}
	return 0;
}
