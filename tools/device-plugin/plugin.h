/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The three resources cuslice advertises to the kubelet, each its own device
 * plugin endpoint: cuslice.io/vram (one device ID per GiB of each GPU),
 * cuslice.io/sm (one per percent of each GPU) and cuslice.io/gpu (whole GPUs).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "grpc.h"

#define PLUGIN_MAX_GPUS 16

enum plugin_kind { PLUGIN_VRAM, PLUGIN_SM, PLUGIN_GPU, PLUGIN_KINDS };

struct plugin_gpu {
	uint64_t vram_bytes;
	uint32_t minor; /* of /dev/nvidiaN */
};

struct plugin_config {
	const char *dir;	  /* the kubelet's device-plugin directory */
	const char *admin_socket; /* cusliced's */
	const char *host_shim;	  /* libcuslice.so on the host */
	const char *host_tenant_socket;
	const char *claims_dir; /* where claim files are written on the host */
	bool cdi;		/* name CDI devices in Allocate */
};

struct plugin_resource {
	enum plugin_kind kind;
	const char *name;	/* "cuslice.io/vram" */
	const char *short_name; /* "vram" */
	char endpoint[64];	/* socket name in the plugin directory */
	struct grpc_server *server;
	char **ids;
	int nids;
	bool registered;
	bool registering; /* a Register call is in flight */
	struct plugin *plugin;
};

struct plugin {
	struct plugin_config config;
	struct grpc_loop *loop;
	struct plugin_gpu gpus[PLUGIN_MAX_GPUS];
	int ngpus;
	bool healthy; /* cusliced answers */
	struct plugin_resource res[PLUGIN_KINDS];
	uint64_t allocations;
	bool told_unreachable; /* said once that the kubelet does not answer */
};

/* Device IDs for the GPUs, sockets listening. 0 or a negative errno. */
int plugin_start(struct plugin *p);
void plugin_stop(struct plugin *p);

/* Registers every resource not yet registered with the kubelet (and not
 * being registered): call it again and again, since the kubelet may not
 * listen yet when its socket appears. Returns how many it could not reach. */
int plugin_register(struct plugin *p);

/* Health changed: ListAndWatch streams get the list again. */
void plugin_set_health(struct plugin *p, bool healthy);
