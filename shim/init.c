/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Load-time setup inside the tenant's process: read the configuration once,
 * register the fork handler, write the stats at exit. Nothing here calls
 * CUDA, starts a thread or installs a signal handler.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"
#include "gate.h"
#include "legacy.h"
#include "memory.h"
#include "moves.h"
#include "partition.h"
#include "profile.h"
#include "stats.h"
#include "tenant.h"

struct shim_config shim_config;

void shim_log(const char *fmt, ...)
{
	char line[1024];
	int saved = errno;
	va_list ap;
	int n = snprintf(line, sizeof(line), "cuslice: ");

	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write, so the line is not interleaved with the host's output. */
	if (write(STDERR_FILENO, line, n) < 0) {
	}
	errno = saved;
}

static const char *env(const char *name)
{
	const char *v = secure_getenv(name);
	return v && *v ? v : NULL;
}

/* The forked child counts only what it does itself. */
static void atfork_child(void)
{
	stats_reset();
	graphs_reset();
	tenant_forget();
	memory_forget_all();
	contexts_forget_all();
	partition_forget_all();
	moves_forget_all();
	legacy_forget_all();
	gate_forget_all();
}

__attribute__((constructor)) static void shim_init(void)
{
	shim_config.real_libcuda = env("CUSLICE_REAL_LIBCUDA");
	shim_config.real_libnvml = env("CUSLICE_REAL_LIBNVML");
	shim_config.stats_path = secure_getenv("CUSLICE_STATS");
	shim_config.segment_path = env("CUSLICE_SEGMENT");
	shim_config.socket_path = env("CUSLICE_SOCKET");
	shim_config.profile_path = env("CUSLICE_PROFILE");
	shim_config.profile_out_path = env("CUSLICE_PROFILE_OUT");
	shim_config.claims_glob = env("CUSLICE_CLAIMS");
	shim_config.debug = env("CUSLICE_DEBUG") != NULL;
	pthread_atfork(NULL, NULL, atfork_child);
}

__attribute__((destructor)) static void shim_fini(void)
{
	int saved = errno;

	if (shim_config.stats_path) {
		int r = stats_write(shim_config.stats_path);
		if (r < 0)
			shim_log("CUSLICE_STATS=\"%s\": cannot write the stats: %s",
				 shim_config.stats_path, strerror(-r));
	}
	profile_write();
	tenant_detach();
	errno = saved;
}
