/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cuslice profile: run a command alone, timing its kernels, and keep what
 * each costs at full load in a profile file. A tenant started with that
 * profile is charged those costs from its first launch, and its --limit
 * holds against them: the GPU runs a lightly loaded tenant's kernels faster
 * (higher clocks), which measured costs would follow.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/cost.h"
#include "profile.h"
#include "run.h"
#include "shim-path.h"

static const char profile_usage[] =
	"Usage: cuslice profile [-o FILE] -- COMMAND [ARGS...]\n"
	"\n"
	"Run COMMAND with libcuslice.so preloaded, time its kernels, and write the GPU\n"
	"time each kernel (by name and grid size) takes to FILE. Run it alone on the\n"
	"GPU, at the load it will later run at: the figures are what the kernels cost\n"
	"then.\n"
	"\n"
	"Give the file to `cuslice run --profile FILE`, or set CUSLICE_PROFILE=FILE in\n"
	"a tenant's environment: its kernels are charged their profiled cost from the\n"
	"first launch, never less, so a --limit of P% holds the tenant to P% of what it\n"
	"does alone even when the GPU clocks up under the lighter load.\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE   where to write the profile (default: cuslice.profile)\n"
	"  -h, --help          show this help\n"
	"\n"
	"The exit status is COMMAND's; 2 for a usage error of cuslice's own; 1 if no\n"
	"kernel was timed or FILE cannot be written.\n";

struct kernel {
	struct policy_profile_entry e; /* e.name is owned */
};

struct merged {
	struct kernel *k;
	size_t n, cap;
	int processes;
};

static struct kernel *find(struct merged *m, const char *name, uint64_t grid)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->k[i].e.grid == grid && strcmp(m->k[i].e.name, name) == 0)
			return &m->k[i];
	return NULL;
}

/* Adds one process's file: a kernel seen by several processes keeps the
 * figure with the most samples behind it. */
static int merge_file(struct merged *m, const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return -errno;
	for (size_t n = 1; getline(&line, &cap, f) > 0; n++) {
		struct policy_profile_entry e;
		if (policy_profile_line(line, n, &e) != 0)
			continue; /* the header, or a line cut short by a crash */
		struct kernel *k = find(m, e.name, e.grid);
		if (k && k->e.samples >= e.samples)
			continue;
		if (!k) {
			if (m->n == m->cap) {
				m->cap = m->cap ? 2 * m->cap : 64;
				m->k = realloc(m->k, m->cap * sizeof(*m->k));
				if (!m->k)
					abort();
			}
			k = &m->k[m->n++];
		} else {
			free((char *)k->e.name);
		}
		k->e = e;
		k->e.name = strdup(e.name);
	}
	m->processes++;
	free(line);
	fclose(f);
	return 0;
}

static int by_total_time(const void *a, const void *b)
{
	const struct kernel *x = a, *y = b;
	double tx = (double)x->e.ns * x->e.samples, ty = (double)y->e.ns * y->e.samples;
	return (tx < ty) - (tx > ty);
}

static int write_profile(const struct merged *m, const char *out)
{
	char tmp[PATH_MAX + 8];

	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	FILE *f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fputs(POLICY_PROFILE_HEADER "\n", f);
	for (size_t i = 0; i < m->n; i++)
		fprintf(f, "%u %llu %u %s\n", m->k[i].e.ns, (unsigned long long)m->k[i].e.grid,
			m->k[i].e.samples, m->k[i].e.name);
	if (fclose(f) != 0 || rename(tmp, out) < 0) {
		int e = -errno;
		unlink(tmp);
		return e;
	}
	return 0;
}

/* Reads and removes the per-process files in `dir`, and the directory. */
static void collect(const char *dir, struct merged *m)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	char path[PATH_MAX + 256];

	while (d && (ent = readdir(d))) {
		if (ent->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name);
		if (!strstr(ent->d_name, ".tmp"))
			merge_file(m, path);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

int profile_check(const char *path, char *err, size_t size)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0, n = 0;
	int r = 0;

	if (!f) {
		r = -errno;
		snprintf(err, size, "%s", strerror(errno));
		return r;
	}
	while (getline(&line, &cap, f) > 0) {
		struct policy_profile_entry e;
		if (policy_profile_line(line, ++n, &e) < 0) {
			snprintf(err, size,
				 "line %zu is malformed; a profile is the line \"%s\", then lines "
				 "\"NS GRID SAMPLES NAME\", as `cuslice profile` writes them",
				 n, POLICY_PROFILE_HEADER);
			r = -EINVAL;
			break;
		}
	}
	if (n == 0) {
		snprintf(err, size,
			 "empty; record a profile with `cuslice profile -o FILE -- CMD`");
		r = -EINVAL;
	}
	free(line);
	fclose(f);
	return r;
}

int cuslice_profile(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *out = "cuslice.profile";
	char shim[PATH_MAX], dir[PATH_MAX], pattern[PATH_MAX + 16];
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:ho:", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'h':
			fputs(profile_usage, stdout);
			return 0;
		case ':':
			fprintf(stderr, "cuslice profile: %s needs a file name\n",
				argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr,
				"cuslice profile: unknown option \"%s\"; see cuslice profile "
				"--help\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "cuslice profile: no command given; use: cuslice profile "
				"[-o FILE] -- COMMAND [ARGS...]\n");
		return 2;
	}
	char **command = argv + optind;
	if ((r = shim_path_find(shim, sizeof(shim))) < 0) {
		fprintf(stderr, "cuslice profile: cannot find libcuslice.so: %s\n", strerror(-r));
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/cuslice-profile.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "cuslice profile: cannot make a directory in %s: %s\n", dir,
			strerror(errno));
		return 1;
	}
	snprintf(pattern, sizeof(pattern), "%s/%%p", dir);
	setenv("CUSLICE_PROFILE_OUT", pattern, 1);
	unsetenv("CUSLICE_PROFILE"); /* measure, do not assume */
	if (run_set_preload(shim) < 0) {
		fprintf(stderr, "cuslice profile: cannot set LD_PRELOAD: out of memory\n");
		rmdir(dir);
		return 1;
	}
	pid_t pid = run_spawn(command);
	int status = pid < 0 ? 1 : run_wait(pid, command, NULL);

	struct merged m = {0};
	collect(dir, &m);
	if (m.n == 0) {
		fprintf(stderr, "cuslice profile: no kernel was timed; %s not written\n", out);
		return status ? status : 1;
	}
	if ((r = write_profile(&m, out)) < 0) {
		fprintf(stderr, "cuslice profile: cannot write %s: %s\n", out, strerror(-r));
		return status ? status : 1;
	}
	qsort(m.k, m.n, sizeof(*m.k), by_total_time);
	fprintf(stderr,
		"cuslice profile: %zu kernels from %d process%s written to %s; most GPU time:\n",
		m.n, m.processes, m.processes == 1 ? "" : "es", out);
	for (size_t i = 0; i < m.n && i < 5; i++)
		fprintf(stderr, "  %10.3f ms  grid %-8llu %.60s\n", m.k[i].e.ns / 1e6,
			(unsigned long long)m.k[i].e.grid, m.k[i].e.name);
	for (size_t i = 0; i < m.n; i++)
		free((char *)m.k[i].e.name);
	free(m.k);
	return status;
}
