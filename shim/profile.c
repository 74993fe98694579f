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

static bool table_insert(uint64_t key, uint32_t ns)
{
	size_t i = key & table.mask;

	while (table.keys[i] && table.keys[i] != key)
		i = (i + 1) & table.mask;
	table.keys[i] = key ? key : 1;
	table.ns[i] = ns;
	return true;
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
	ssize_t len;
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
	for (size_t n = 1; (len = getline(&line, &cap, f)) > 0; n++) {
		struct policy_profile_entry e;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (n == 1 && strcmp(line, POLICY_PROFILE_HEADER) == 0)
			continue;
		if (n == 1 || n > PROFILE_MAX + 1 || policy_profile_parse(line, &e) < 0) {
			shim_log("CUSLICE_PROFILE=\"%s\": line %zu: %s; a profile is the line "
				 "\"%s\", "
				 "then up to %d lines \"NS GRID SAMPLES NAME\", as `cuslice "
				 "profile` "
				 "writes them; CUDA is disabled in this process",
				 path, n, n > PROFILE_MAX + 1 ? "too many kernels" : "malformed",
				 POLICY_PROFILE_HEADER, PROFILE_MAX);
			r = -EINVAL;
			goto out;
		}
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

static const char *env(const char *name)
{
	const char *v = secure_getenv(name);
	return v && *v ? v : NULL;
}

static const char *out_template;

int profile_setup(void)
{
	const char *in = env("CUSLICE_PROFILE");
	char path[4096];
	int r;

	out_template = env("CUSLICE_PROFILE_OUT");
	if (in && (r = profile_load(in)) < 0)
		return r;
	if (out_template) {
		r = policy_path_expand(out_template, getpid(), path, sizeof(path));
		if (r < 0) {
			shim_log("CUSLICE_PROFILE_OUT=\"%s\": %s; CUDA is disabled in this process",
				 out_template,
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
	    policy_path_expand(out_template, getpid(), path, sizeof(path)) < 0)
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
