/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/cost.h"
#include "policy/pathfmt.h"
#include "profile.h"
#include "shim.h"

#define PROFILE_MAX 65536 /* kernels in one profile */

bool profile_recording;
bool profile_loaded;

/* Open addressing; a power of two, at least twice the entries. */
static struct {
	uint64_t *keys;
	uint32_t *ns;
	size_t mask;
} table;

static struct {
	__typeof__(&cuFuncGetName) func;
	__typeof__(&cuKernelGetName) kernel;
} names;

static void table_insert(uint64_t key, uint32_t ns)
{
	size_t i = key & table.mask;

	while (table.keys[i] && table.keys[i] != key)
		i = (i + 1) & table.mask;
	table.keys[i] = key ? key : 1;
	table.ns[i] = ns;
}

bool profile_lookup(uint64_t key, uint32_t *ret_ns)
{
	if (!profile_loaded)
		return false;
	key = key ? key : 1;
	for (size_t i = key & table.mask; table.keys[i]; i = (i + 1) & table.mask) {
		if (table.keys[i] == key) {
			*ret_ns = table.ns[i];
			return true;
		}
	}
	return false;
}

static int profile_load(const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0, lines = 0, size = 2;
	int r = 0;

	if (!f) {
		r = -errno;
		shim_log("CUSLICE_PROFILE=\"%s\": %s; CUDA is disabled in this process", path,
			 strerror(errno));
		return r;
	}
	while (getline(&line, &cap, f) > 0)
		lines++;
	while (size < 2 * lines)
		size *= 2;
	table.keys = calloc(size, sizeof(*table.keys));
	table.ns = calloc(size, sizeof(*table.ns));
	table.mask = size - 1;
	if (!table.keys || !table.ns) {
		r = -ENOMEM;
		shim_log("CUSLICE_PROFILE=\"%s\": out of memory", path);
		goto out;
	}
	rewind(f);
	for (size_t n = 1; getline(&line, &cap, f) > 0; n++) {
		struct policy_profile_entry e;
		int kind = n > PROFILE_MAX + 1 ? -E2BIG : policy_profile_line(line, n, &e);
		if (kind < 0) {
			shim_log("CUSLICE_PROFILE=\"%s\": line %zu: %s; a profile is the line "
				 "\"%s\", then up to %d lines \"NS GRID SAMPLES NAME\", as "
				 "`cuslice profile` writes them; CUDA is disabled in this process",
				 path, n, kind == -E2BIG ? "too many kernels" : "malformed",
				 POLICY_PROFILE_HEADER, PROFILE_MAX);
			r = -EINVAL;
			goto out;
		}
		if (kind == 0)
			table_insert(policy_profile_key(e.name, e.grid), e.ns);
	}
	if (lines == 0) {
		shim_log("CUSLICE_PROFILE=\"%s\": empty; a profile starts with the line \"%s\", as "
			 "`cuslice profile` writes it; CUDA is disabled in this process",
			 path, POLICY_PROFILE_HEADER);
		r = -EINVAL;
		goto out;
	}
	profile_loaded = true;
out:
	free(line);
	fclose(f);
	return r;
}

int profile_setup(void)
{
	const char *out = shim_config.profile_out_path;
	char path[4096];
	int r;

	if (shim_config.profile_path && (r = profile_load(shim_config.profile_path)) < 0)
		return r;
	if (out) {
		r = policy_path_expand(out, getpid(), path, sizeof(path));
		if (r < 0) {
			shim_log("CUSLICE_PROFILE_OUT=\"%s\": %s; CUDA is disabled in this process",
				 out,
				 r == -EINVAL ? "malformed: %p stands for the process id, %% for %"
					      : "too long");
			return r;
		}
		profile_recording = true;
	}
	return 0;
}

/* Called once the driver is loaded. */
static void names_bind(void)
{
	names.func = (__typeof__(names.func))shim_driver_symbol("cuFuncGetName");
	names.kernel = (__typeof__(names.kernel))shim_driver_symbol("cuKernelGetName");
}

const char *profile_kernel_name(const void *what)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	const char *name = NULL;

	pthread_once(&once, names_bind);
	if (names.func && names.func(&name, (CUfunction)what) == CUDA_SUCCESS && name)
		return name;
	if (names.kernel && names.kernel(&name, (CUkernel)what) == CUDA_SUCCESS && name)
		return name;
	return NULL;
}

void profile_write(void)
{
	char path[4096], tmp[4096 + 16];

	if (!profile_recording ||
	    policy_path_expand(shim_config.profile_out_path, getpid(), path, sizeof(path)) < 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "we");
	if (!f) {
		shim_log("CUSLICE_PROFILE_OUT: cannot create \"%s\": %s", tmp, strerror(errno));
		return;
	}
	fputs(POLICY_PROFILE_HEADER "\n", f);
	gate_profile_lines(f);
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		shim_log("CUSLICE_PROFILE_OUT: cannot write \"%s\": %s", path, strerror(errno));
		unlink(tmp);
	}
}
