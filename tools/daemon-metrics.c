/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /metrics for Prometheus (text format 0.0.4), served by libmicrohttpd from
 * the daemon's own poll loop (its epoll descriptor is polled with the rest),
 * so that a scrape reads the daemon's state without locks. Off the launch
 * path entirely: everything here reads the tenants' segments.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "daemon.h"
#include "policy/uuid.h"

/* "tenant", with \, " and newline escaped as the text format asks. */
static void put_label(FILE *f, const char *name, const char *value, bool first)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	for (const char *p = value; *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', f), fputc(*p, f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static uint64_t load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* One sample per tenant and GPU: `value(t, gpu)`. */
static void per_gpu(FILE *f, struct daemon *d, const char *name,
		    uint64_t (*value)(const struct tenant *, int))
{
	for (int i = 0; i < d->ntenants; i++)
		for (int g = 0; g < d->ndevices; g++) {
			char uuid[64], gpu[16];
			policy_uuid_string(d->devices[g].uuid, uuid, sizeof(uuid));
			snprintf(gpu, sizeof(gpu), "%d", g);
			fprintf(f, "%s{", name);
			put_label(f, "tenant", d->tenants[i]->name, true);
			put_label(f, "gpu", gpu, false);
			put_label(f, "uuid", uuid, false);
			fprintf(f, "} %llu\n", (unsigned long long)value(d->tenants[i], g));
		}
}

static uint64_t vram_used(const struct tenant *t, int g)
{
	return load(&t->seg->devices[g].reserved);
}

static uint64_t vram_limit(const struct tenant *t, int g)
{
	return load(&t->seg->devices[g].quota);
}

static uint64_t oom_events(const struct tenant *t, int g)
{
	return load(&t->seg->refusals[g]);
}

static uint64_t sm_granted(const struct tenant *t, int g)
{
	return t->grants[g].sms; /* dedicated; 0 for shared or time-sliced */
}

/* One sample per tenant, in seconds from nanoseconds or as a count. */
static void per_tenant(FILE *f, struct daemon *d, const char *name, bool seconds,
		       uint64_t (*value)(const struct tenant *))
{
	for (int i = 0; i < d->ntenants; i++) {
		uint64_t v = value(d->tenants[i]);
		fprintf(f, "%s{", name);
		put_label(f, "tenant", d->tenants[i]->name, true);
		if (seconds)
			fprintf(f, "} %.9f\n", (double)v / 1e9);
		else
			fprintf(f, "} %llu\n", (unsigned long long)v);
	}
}

static uint64_t gpu_time(const struct tenant *t)
{
	return load(&t->seg->sched.admitted_ns);
}

static uint64_t throttled(const struct tenant *t)
{
	return load(&t->seg->sched.throttled_ns);
}

static uint64_t launches(const struct tenant *t)
{
	return t->launches_total;
}

static void per_device(FILE *f, struct daemon *d, int g, const char *name, const char *extra,
		       const char *extra_value, uint64_t v)
{
	{
		char uuid[64], gpu[16];
		policy_uuid_string(d->devices[g].uuid, uuid, sizeof(uuid));
		snprintf(gpu, sizeof(gpu), "%d", g);
		fprintf(f, "%s{", name);
		put_label(f, "gpu", gpu, true);
		put_label(f, "uuid", uuid, false);
		if (extra)
			put_label(f, extra, extra_value, false);
		fprintf(f, "} %llu\n", (unsigned long long)v);
	}
}

char *metrics_render(struct daemon *d, size_t *ret_len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, ret_len);

	if (!f)
		return NULL;
	header(f, "cuslice_vram_used_bytes", "gauge",
	       "Device memory the tenant's processes hold, contexts included.");
	per_gpu(f, d, "cuslice_vram_used_bytes", vram_used);
	header(f, "cuslice_vram_limit_bytes", "gauge", "The tenant's VRAM quota.");
	per_gpu(f, d, "cuslice_vram_limit_bytes", vram_limit);
	header(f, "cuslice_oom_events_total", "counter",
	       "Allocations refused because they would pass the quota.");
	per_gpu(f, d, "cuslice_oom_events_total", oom_events);
	header(f, "cuslice_sm_granted", "gauge",
	       "SMs set aside for the tenant alone (spatial and hybrid modes; 0 when it "
	       "shares them).");
	per_gpu(f, d, "cuslice_sm_granted", sm_granted);
	header(f, "cuslice_gpu_time_seconds_total", "counter",
	       "GPU time admitted for the tenant's launches, across its GPUs.");
	per_tenant(f, d, "cuslice_gpu_time_seconds_total", true, gpu_time);
	header(f, "cuslice_launches_total", "counter", "Kernel and graph launches.");
	per_tenant(f, d, "cuslice_launches_total", false, launches);
	header(f, "cuslice_throttled_seconds_total", "counter",
	       "Time the tenant's launchers waited for their share.");
	per_tenant(f, d, "cuslice_throttled_seconds_total", true, throttled);
	header(f, "cuslice_gpu_mode", "gauge", "How the GPU is shared: 1 for its mode.");
	for (int g = 0; g < d->ndevices; g++)
		per_device(f, d, g, "cuslice_gpu_mode", "mode", spatial_mode_name(d->gpus[g].mode),
			   1);
	header(f, "cuslice_mps_restarts_total", "counter",
	       "Restarts of the GPU's MPS server (spatial and hybrid modes).");
	for (int g = 0; g < d->ndevices; g++)
		per_device(f, d, g, "cuslice_mps_restarts_total", NULL, NULL,
			   d->gpus[g].mps.restarts);
	header(f, "cuslice_mps_faults_total", "counter",
	       "Fatal faults that ended the clients of the GPU's MPS server.");
	for (int g = 0; g < d->ndevices; g++)
		per_device(f, d, g, "cuslice_mps_faults_total", NULL, NULL, d->gpus[g].mps.faults);
	header(f, "cuslice_tenants", "gauge", "Tenants cusliced knows.");
	fprintf(f, "cuslice_tenants %d\n", d->ntenants);
	return fclose(f) == 0 ? text : (free(text), NULL);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	struct daemon *d = cls;
	struct MHD_Response *r;
	unsigned status = MHD_HTTP_OK;
	size_t len = 0;
	char *text = NULL;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics") != 0) {
		status = MHD_HTTP_NOT_FOUND;
	} else {
		d->metrics.scrapes++;
		text = metrics_render(d, &len);
		if (!text)
			status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	if (status != MHD_HTTP_OK) {
		static const char *const reasons[] = {"only GET /metrics is served here\n"};
		r = MHD_create_response_from_buffer(strlen(reasons[0]), (void *)reasons[0],
						    MHD_RESPMEM_PERSISTENT);
	} else {
		r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(r, "Content-Type",
					"text/plain; version=0.0.4; charset=utf-8");
	}
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* "127.0.0.1:9464", "0.0.0.0:9464" or ":9464" (all addresses). */
static int parse_address(const char *text, struct sockaddr_in *ret)
{
	const char *colon = strrchr(text, ':');
	char host[64];
	char *end;

	if (!colon || (size_t)(colon - text) >= sizeof(host))
		return -EINVAL;
	long port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 1 || port > 65535)
		return -EINVAL;
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	*ret = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (!host[0])
		ret->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, host, &ret->sin_addr) != 1)
		return -EINVAL;
	return 0;
}

int metrics_start(struct daemon *d, const char *address, char *err, size_t errlen)
{
	struct sockaddr_in addr;

	if (strcmp(address, "off") == 0)
		return 0;
	if (parse_address(address, &addr) < 0) {
		snprintf(err, errlen,
			 "--metrics \"%s\": use an IPv4 address and port such as 127.0.0.1:9464 "
			 "or :9464 (every address), or off",
			 address);
		return -EINVAL;
	}
	d->metrics.mhd = MHD_start_daemon(MHD_USE_EPOLL, ntohs(addr.sin_port), NULL, NULL, answer,
					  d, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
					  MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (!d->metrics.mhd) {
		snprintf(err, errlen,
			 "--metrics %s: cannot listen there (in use, or not an address "
			 "of this host)",
			 address);
		return -EADDRINUSE;
	}
	return 0;
}

int metrics_fd(const struct daemon *d)
{
	const union MHD_DaemonInfo *info =
		d->metrics.mhd ? MHD_get_daemon_info(d->metrics.mhd, MHD_DAEMON_INFO_EPOLL_FD)
			       : NULL;
	return info ? info->epoll_fd : -1;
}

void metrics_run(struct daemon *d)
{
	if (d->metrics.mhd)
		MHD_run(d->metrics.mhd);
}

void metrics_stop(struct daemon *d)
{
	if (d->metrics.mhd)
		MHD_stop_daemon(d->metrics.mhd);
	d->metrics.mhd = NULL;
}
