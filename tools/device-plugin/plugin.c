/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../admin.h"
#include "deviceplugin.pb-c.h"
#include "plugin.h"

#define API_VERSION "v1beta1"
#define GiB (1ull << 30)

static const char *const kind_names[PLUGIN_KINDS][2] = {
	{"cuslice.io/vram", "vram"},
	{"cuslice.io/sm", "sm"},
	{"cuslice.io/gpu", "gpu"},
};

/* "gpu0-vram-3", "gpu1-sm-42", "gpu0": the GPU is the number after "gpu". */
static int id_gpu(const char *id)
{
	return strncmp(id, "gpu", 3) == 0 ? atoi(id + 3) : -1;
}

static int make_ids(struct plugin *p, struct plugin_resource *r)
{
	int total = 0;

	for (int g = 0; g < p->ngpus; g++)
		total += r->kind == PLUGIN_VRAM ? (int)(p->gpus[g].vram_bytes / GiB)
			 : r->kind == PLUGIN_SM ? 100
						: 1;
	r->ids = calloc((size_t)total, sizeof(char *));
	if (!r->ids)
		return -ENOMEM;
	for (int g = 0; g < p->ngpus; g++) {
		int n = r->kind == PLUGIN_VRAM ? (int)(p->gpus[g].vram_bytes / GiB)
			: r->kind == PLUGIN_SM ? 100
					       : 1;
		for (int k = 0; k < n; k++) {
			char *id;
			if ((r->kind == PLUGIN_GPU
				     ? asprintf(&id, "gpu%d", g)
				     : asprintf(&id, "gpu%d-%s-%d", g, r->short_name, k)) < 0)
				return -ENOMEM;
			r->ids[r->nids++] = id;
		}
	}
	return 0;
}

static void reply_with(struct grpc_reply *reply, const ProtobufCMessage *msg)
{
	reply->len = protobuf_c_message_get_packed_size(msg);
	reply->msg = malloc(reply->len ? reply->len : 1);
	if (!reply->msg) {
		reply->status = GRPC_RESOURCE_EXHAUSTED;
		return;
	}
	protobuf_c_message_pack(msg, reply->msg);
}

static void options(void *ctx, const uint8_t *req, size_t len, struct grpc_reply *reply)
{
	V1beta1__DevicePluginOptions o = V1BETA1__DEVICE_PLUGIN_OPTIONS__INIT;

	o.get_preferred_allocation_available = 1;
	reply_with(reply, &o.base);
}

/* The device list as ListAndWatch sends it; NULL for out of memory. */
static uint8_t *device_list(struct plugin_resource *r, size_t *ret_len)
{
	V1beta1__ListAndWatchResponse resp = V1BETA1__LIST_AND_WATCH_RESPONSE__INIT;
	V1beta1__Device *devs = calloc((size_t)r->nids, sizeof(*devs));
	V1beta1__Device **ptrs = calloc((size_t)r->nids, sizeof(*ptrs));
	uint8_t *out = NULL;

	if (devs && ptrs) {
		for (int i = 0; i < r->nids; i++) {
			v1beta1__device__init(&devs[i]);
			devs[i].id = r->ids[i];
			devs[i].health = r->plugin->healthy ? "Healthy" : "Unhealthy";
			ptrs[i] = &devs[i];
		}
		resp.n_devices = (size_t)r->nids;
		resp.devices = ptrs;
		*ret_len = v1beta1__list_and_watch_response__get_packed_size(&resp);
		out = malloc(*ret_len ? *ret_len : 1);
		if (out)
			v1beta1__list_and_watch_response__pack(&resp, out);
	}
	free(devs);
	free(ptrs);
	return out;
}

static void list_and_watch(void *ctx, const uint8_t *req, size_t len, struct grpc_reply *reply)
{
	reply->msg = device_list(ctx, &reply->len);
	if (!reply->msg)
		reply->status = GRPC_RESOURCE_EXHAUSTED;
	reply->stream = true;
}

/* Packs a container's IDs onto one GPU: the must-include ones first, then
 * from the GPU that already holds most of them, else the one with most free. */
static void prefer(struct plugin *p, const V1beta1__ContainerPreferredAllocationRequest *q,
		   V1beta1__ContainerPreferredAllocationResponse *out)
{
	int free_on[PLUGIN_MAX_GPUS] = {0}, must_on[PLUGIN_MAX_GPUS] = {0}, best = -1;

	for (size_t i = 0; i < q->n_available_deviceids; i++) {
		int g = id_gpu(q->available_deviceids[i]);
		if (g >= 0 && g < PLUGIN_MAX_GPUS)
			free_on[g]++;
	}
	for (size_t i = 0; i < q->n_must_include_deviceids; i++) {
		int g = id_gpu(q->must_include_deviceids[i]);
		if (g >= 0 && g < PLUGIN_MAX_GPUS)
			must_on[g]++;
	}
	for (int g = 0; g < p->ngpus && g < PLUGIN_MAX_GPUS; g++)
		if (best < 0 || must_on[g] > must_on[best] ||
		    (must_on[g] == must_on[best] && free_on[g] > free_on[best]))
			best = g;
	size_t want = q->allocation_size > 0 ? (size_t)q->allocation_size : 0, n = 0;
	out->deviceids = calloc(want + 1, sizeof(char *));
	if (!out->deviceids)
		return;
	for (size_t i = 0; i < q->n_must_include_deviceids && n < want; i++)
		out->deviceids[n++] = q->must_include_deviceids[i];
	/* then the chosen GPU's, then any */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < q->n_available_deviceids && n < want; i++) {
			char *id = q->available_deviceids[i];
			bool taken = false;
			for (size_t k = 0; k < n && !taken; k++)
				taken = strcmp(out->deviceids[k], id) == 0;
			if (!taken && (pass == 1 || id_gpu(id) == best))
				out->deviceids[n++] = id;
		}
	out->n_deviceids = n;
}

static void preferred(void *ctx, const uint8_t *req, size_t len, struct grpc_reply *reply)
{
	struct plugin_resource *r = ctx;
	V1beta1__PreferredAllocationRequest *q =
		v1beta1__preferred_allocation_request__unpack(NULL, len, req);
	V1beta1__PreferredAllocationResponse resp = V1BETA1__PREFERRED_ALLOCATION_RESPONSE__INIT;

	if (!q) {
		reply->status = GRPC_INVALID_ARGUMENT;
		snprintf(reply->error, sizeof(reply->error), "not a PreferredAllocationRequest");
		return;
	}
	size_t n = q->n_container_requests;
	V1beta1__ContainerPreferredAllocationResponse *outs = calloc(n + 1, sizeof(*outs));
	V1beta1__ContainerPreferredAllocationResponse **ptrs = calloc(n + 1, sizeof(*ptrs));
	for (size_t i = 0; outs && ptrs && i < n; i++) {
		v1beta1__container_preferred_allocation_response__init(&outs[i]);
		prefer(r->plugin, q->container_requests[i], &outs[i]);
		ptrs[i] = &outs[i];
	}
	resp.n_container_responses = outs && ptrs ? n : 0;
	resp.container_responses = ptrs;
	reply_with(reply, &resp.base);
	for (size_t i = 0; outs && i < n; i++)
		free(outs[i].deviceids);
	free(outs);
	free(ptrs);
	v1beta1__preferred_allocation_request__free_unpacked(q, NULL);
}

/* Asks cusliced for a claim on `amounts` (per GPU, in the resource's unit);
 * writes the claim file; returns the claim id in `id`. */
static int claim(struct plugin_resource *r, const unsigned *amounts, char *id, size_t size,
		 char *err, size_t errlen)
{
	struct plugin *p = r->plugin;
	json_object *req = json_object_new_object(), *gpus = json_object_new_object();

	json_object_object_add(req, "op", json_object_new_string("claim"));
	json_object_object_add(req, "resource", json_object_new_string(r->short_name));
	for (int g = 0; g < p->ngpus; g++)
		if (amounts[g]) {
			char key[16];
			snprintf(key, sizeof(key), "%d", g);
			json_object_object_add(gpus, key, json_object_new_int((int)amounts[g]));
		}
	json_object_object_add(req, "gpus", gpus);
	json_object *resp = admin_ask(p->config.admin_socket, req);
	json_object_put(req);
	json_object *ok, *v;
	if (!resp || !json_object_object_get_ex(resp, "ok", &ok) || !json_object_get_boolean(ok) ||
	    !json_object_object_get_ex(resp, "claim", &v)) {
		snprintf(err, errlen, "cusliced refused the claim: %s",
			 resp && json_object_object_get_ex(resp, "error", &v)
				 ? json_object_get_string(v)
				 : "no answer");
		json_object_put(resp);
		return -EIO;
	}
	snprintf(id, size, "%s", json_object_get_string(v));
	json_object_put(resp);

	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", p->config.claims_dir, id);
	FILE *f = fopen(path, "we");
	if (!f || fprintf(f, "%s\n", id) < 0 || fclose(f) != 0) {
		snprintf(err, errlen, "cannot write the claim file %.150s: %s", path,
			 strerror(errno));
		return -errno;
	}
	chmod(path, 0444);
	return 0;
}

static V1beta1__Mount *mount_new(const char *host, const char *container)
{
	V1beta1__Mount *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	v1beta1__mount__init(m);
	m->host_path = strdup(host);
	m->container_path = strdup(container);
	m->read_only = 1;
	return m;
}

static V1beta1__ContainerAllocateResponse__EnvsEntry *env_new(const char *key, const char *value)
{
	V1beta1__ContainerAllocateResponse__EnvsEntry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	v1beta1__container_allocate_response__envs_entry__init(e);
	e->key = strdup(key);
	e->value = strdup(value);
	return e;
}

/* What one container gets: a claim on its IDs, the shim, the tenant socket,
 * the claim file, its GPUs' device nodes (or CDI names), and their MPS pipe
 * directories (where cusliced runs the GPU's MPS server in spatial and
 * hybrid modes), at the host's path, which is the one tenants are told. */
static int allocate_one(struct plugin_resource *r, const V1beta1__ContainerAllocateRequest *q,
			V1beta1__ContainerAllocateResponse *out, char *err, size_t errlen)
{
	struct plugin *p = r->plugin;
	unsigned amounts[PLUGIN_MAX_GPUS] = {0};
	char id[64], dir[128], path[PATH_MAX];

	for (size_t i = 0; i < q->n_devices_ids; i++) {
		int g = id_gpu(q->devices_ids[i]);
		if (g < 0 || g >= p->ngpus) {
			snprintf(err, errlen, "unknown device ID \"%s\"", q->devices_ids[i]);
			return -EINVAL;
		}
		amounts[g]++;
	}
	int r_ = claim(r, amounts, id, sizeof(id), err, errlen);
	if (r_ < 0)
		return r_;
	snprintf(dir, sizeof(dir), "/run/cuslice/%s", r->short_name);
	out->envs = calloc(3, sizeof(*out->envs));
	out->mounts = calloc(3 + (size_t)p->ngpus, sizeof(*out->mounts));
	out->devices = calloc((size_t)p->ngpus + 2, sizeof(*out->devices));
	out->cdi_devices = calloc((size_t)p->ngpus + 1, sizeof(*out->cdi_devices));
	if (!out->envs || !out->mounts || !out->devices || !out->cdi_devices)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/libcuslice.so", dir);
	out->envs[out->n_envs++] = env_new("LD_PRELOAD", path);
	out->mounts[out->n_mounts++] = mount_new(p->config.host_shim, path);
	snprintf(path, sizeof(path), "%s/tenant.sock", dir);
	out->envs[out->n_envs++] = env_new("CUSLICE_SOCKET", path);
	out->mounts[out->n_mounts++] = mount_new(p->config.host_tenant_socket, path);
	char host_claim[PATH_MAX];
	snprintf(host_claim, sizeof(host_claim), "%s/%s", p->config.claims_dir, id);
	snprintf(path, sizeof(path), "%s/claim", dir);
	out->mounts[out->n_mounts++] = mount_new(host_claim, path);
	const char *slash = strrchr(p->config.host_tenant_socket, '/');
	for (int g = 0; g < p->ngpus; g++) {
		if (!amounts[g] || !slash)
			continue;
		snprintf(path, sizeof(path), "%.*s/mps%d",
			 (int)(slash - p->config.host_tenant_socket), p->config.host_tenant_socket,
			 g);
		V1beta1__Mount *m = mount_new(path, path);
		if (!m)
			return -ENOMEM;
		m->read_only = 0; /* clients connect to the server's sockets there */
		out->mounts[out->n_mounts++] = m;
	}
	for (int g = 0; g < p->ngpus; g++) {
		if (!amounts[g])
			continue;
		char node[32];
		snprintf(node, sizeof(node), "/dev/nvidia%u", p->gpus[g].minor);
		if (p->config.cdi) {
			V1beta1__CDIDevice *c = calloc(1, sizeof(*c));
			if (!c)
				return -ENOMEM;
			v1beta1__cdidevice__init(c);
			out->cdi_devices[out->n_cdi_devices++] = c;
			if (asprintf(&c->name, "cuslice.io/gpu=gpu%d", g) < 0)
				return -ENOMEM;
			continue;
		}
		V1beta1__DeviceSpec *d = calloc(1, sizeof(*d));
		if (!d)
			return -ENOMEM;
		v1beta1__device_spec__init(d);
		d->host_path = strdup(node);
		d->container_path = strdup(node);
		d->permissions = strdup("rw");
		out->devices[out->n_devices++] = d;
	}
	p->allocations++;
	return 0;
}

static void allocate(void *ctx, const uint8_t *req, size_t len, struct grpc_reply *reply)
{
	struct plugin_resource *r = ctx;
	V1beta1__AllocateRequest *q = v1beta1__allocate_request__unpack(NULL, len, req);
	V1beta1__AllocateResponse resp = V1BETA1__ALLOCATE_RESPONSE__INIT;

	if (!q) {
		reply->status = GRPC_INVALID_ARGUMENT;
		snprintf(reply->error, sizeof(reply->error), "not an AllocateRequest");
		return;
	}
	size_t n = q->n_container_requests;
	V1beta1__ContainerAllocateResponse **outs = calloc(n + 1, sizeof(*outs));
	for (size_t i = 0; outs && i < n && reply->status == GRPC_OK; i++) {
		outs[i] = calloc(1, sizeof(**outs));
		v1beta1__container_allocate_response__init(outs[i]);
		resp.n_container_responses = i + 1;
		if (allocate_one(r, q->container_requests[i], outs[i], reply->error,
				 sizeof(reply->error)) < 0)
			reply->status = GRPC_FAILED_PRECONDITION;
	}
	resp.container_responses = outs;
	if (reply->status == GRPC_OK)
		reply_with(reply, &resp.base);
	/* the response's own free walks every field it allocated */
	for (size_t i = 0; outs && i < resp.n_container_responses; i++)
		protobuf_c_message_free_unpacked(&outs[i]->base, NULL);
	free(outs);
	v1beta1__allocate_request__free_unpacked(q, NULL);
}

static void pre_start(void *ctx, const uint8_t *req, size_t len, struct grpc_reply *reply)
{
	V1beta1__PreStartContainerResponse resp = V1BETA1__PRE_START_CONTAINER_RESPONSE__INIT;

	reply_with(reply, &resp.base);
}

static const struct grpc_method methods[] = {
	{"/v1beta1.DevicePlugin/GetDevicePluginOptions", options},
	{"/v1beta1.DevicePlugin/ListAndWatch", list_and_watch},
	{"/v1beta1.DevicePlugin/GetPreferredAllocation", preferred},
	{"/v1beta1.DevicePlugin/Allocate", allocate},
	{"/v1beta1.DevicePlugin/PreStartContainer", pre_start},
	{NULL, NULL},
};

int plugin_start(struct plugin *p)
{
	char path[PATH_MAX];

	p->loop = grpc_loop_new();
	if (!p->loop)
		return -ENOMEM;
	for (int k = 0; k < PLUGIN_KINDS; k++) {
		struct plugin_resource *r = &p->res[k];
		*r = (struct plugin_resource){.kind = (enum plugin_kind)k,
					      .name = kind_names[k][0],
					      .short_name = kind_names[k][1],
					      .plugin = p};
		snprintf(r->endpoint, sizeof(r->endpoint), "cuslice-%s.sock", r->short_name);
		snprintf(path, sizeof(path), "%s/%s", p->config.dir, r->endpoint);
		int e = make_ids(p, r);
		if (e == 0)
			e = grpc_server_listen(p->loop, path, methods, r, &r->server);
		if (e < 0)
			return e;
		/* handlers find their resource through the server's context */
	}
	return 0;
}

void plugin_stop(struct plugin *p)
{
	for (int k = 0; k < PLUGIN_KINDS; k++) {
		for (int i = 0; i < p->res[k].nids; i++)
			free(p->res[k].ids[i]);
		free(p->res[k].ids);
	}
	p->loop = grpc_loop_free(p->loop);
}

static void registered(void *ctx, enum grpc_status status, const char *message, const uint8_t *resp,
		       size_t len)
{
	struct plugin_resource *r = ctx;

	r->registering = false;
	if (status == GRPC_OK) {
		r->registered = true;
		fprintf(stderr, "cuslice-device-plugin: registered %s (%d devices)\n", r->name,
			r->nids);
	} else {
		fprintf(stderr, "cuslice-device-plugin: the kubelet refused %s: %s (status %d)\n",
			r->name, message && *message ? message : "no reason given", (int)status);
	}
}

int plugin_register(struct plugin *p)
{
	char sock[PATH_MAX];
	int unreached = 0;

	snprintf(sock, sizeof(sock), "%s/kubelet.sock", p->config.dir);
	for (int k = 0; k < PLUGIN_KINDS; k++) {
		struct plugin_resource *r = &p->res[k];
		if (r->registered || r->registering)
			continue;
		V1beta1__RegisterRequest q = V1BETA1__REGISTER_REQUEST__INIT;
		V1beta1__DevicePluginOptions o = V1BETA1__DEVICE_PLUGIN_OPTIONS__INIT;
		o.get_preferred_allocation_available = 1;
		q.version = API_VERSION;
		q.endpoint = r->endpoint;
		q.resource_name = (char *)r->name;
		q.options = &o;
		uint8_t buf[512];
		size_t n = v1beta1__register_request__pack(&q, buf);
		int e = grpc_call(p->loop, sock, "/v1beta1.Registration/Register", buf, n,
				  registered, r);
		if (e < 0) {
			fprintf(stderr,
				"cuslice-device-plugin: cannot reach the kubelet at %s: %s\n", sock,
				strerror(-e));
			unreached++;
		} else {
			r->registering = true;
		}
	}
	return unreached;
}

void plugin_set_health(struct plugin *p, bool healthy)
{
	if (p->healthy == healthy)
		return;
	p->healthy = healthy;
	for (int k = 0; k < PLUGIN_KINDS; k++) {
		size_t n;
		uint8_t *msg = device_list(&p->res[k], &n);
		if (msg)
			grpc_server_broadcast(p->loop, p->res[k].server,
					      "/v1beta1.DevicePlugin/ListAndWatch", msg, n);
		free(msg);
	}
}
